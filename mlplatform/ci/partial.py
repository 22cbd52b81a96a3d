"""Partial plans: capture only some teams, optionally across processes.

Teams are independent (each owns its provider, components and names), so a plan of a
few teams is the full plan restricted to them, and several captures can run in parallel
processes and be merged. Resources the stack shares appear in every part and must come
out identical; a mismatch means a team is not independent after all, and is an error.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterable, Optional

from ..graph import ResourceGraph


def _capture_part(stack: str, teams_dir: Optional[str], teams: tuple[str, ...], copied_from: Optional[tuple]) -> str:
    from ..capture import capture_stack

    # ResourceGraph JSON crosses the process boundary; it is the graph's stable form.
    return capture_stack(stack, teams_dir=teams_dir, only_teams=frozenset(teams), copied_from=copied_from).dumps()


def split(teams: list[str], parts: int) -> list[tuple[str, ...]]:
    """``teams`` dealt round-robin into at most ``parts`` non-empty groups."""
    parts = max(1, min(parts, len(teams)))
    return [tuple(teams[index::parts]) for index in range(parts) if teams[index::parts]]


def merge_graphs(parts: Iterable[ResourceGraph]) -> ResourceGraph:
    merged: Optional[ResourceGraph] = None
    for part in parts:
        if merged is None:
            merged = ResourceGraph(stack=part.stack, project=part.project, origin=part.origin)
        for resource in part:
            existing = merged.get(resource.urn)
            if existing is not None and existing.to_json() != resource.to_json():
                raise RuntimeError(f"partial plans disagree on shared resource {resource.urn}")
            merged.add(resource)
    if merged is None:
        raise ValueError("no partial plans to merge")
    return merged


def capture_teams(
    stack: str,
    teams_dir: Optional[str],
    teams: Iterable[str],
    jobs: int = 1,
    copied_from: Optional[tuple[Path, Path]] = None,
    specs: Optional[list] = None,
) -> ResourceGraph:
    """The plan of ``teams`` (plus shared resources), captured by ``jobs`` processes.

    ``copied_from`` and ``specs`` as in :func:`mlplatform.capture.capture_stack` (``specs``
    only helps in-process: worker processes load the specs themselves).
    """
    from ..capture import capture_stack

    wanted = sorted(set(teams))
    groups = split(wanted, jobs)
    if len(groups) <= 1:
        return capture_stack(stack, teams_dir=teams_dir, only_teams=frozenset(wanted), copied_from=copied_from,
                             specs=specs)
    # forkserver: workers fork from a clean process that has imported the SDKs once,
    # never from this one (which may hold threads and a used event loop).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["mlplatform.capture", "pulumi_aws"])
    with ProcessPoolExecutor(max_workers=len(groups), mp_context=context) as pool:
        count = len(groups)
        texts = list(pool.map(_capture_part, [stack] * count, [teams_dir] * count, groups, [copied_from] * count))
    import json

    return merge_graphs(ResourceGraph.from_json(json.loads(text)) for text in texts)
