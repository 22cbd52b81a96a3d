"""The estate builder: validated team specs + stack config -> components.

It neither knows nor cares whether it runs under ``pulumi up`` or the offline capture;
both call :func:`build_estate` through the same program (``mlplatform.program``).
"""

from __future__ import annotations

import os
from pathlib import Path

from components.artifact_store import artifact_bucket_name, replica_bucket_name
from components.base import SpecLocator
from components.foundation import Foundation, FoundationArgs
from components.team import Team, TeamArgs

from .spec.loader import LoadedSpec
from .stackconfig import PROJECT_ROOT, StackConfig


def project_relative(file: str, project_root: Path = PROJECT_ROOT) -> str:
    """``file`` relative to the project when it lies inside it, for tags and reports."""
    path = Path(file).resolve()
    try:
        return path.relative_to(project_root).as_posix()
    except ValueError:
        return os.path.relpath(path, project_root) if path.anchor == project_root.anchor else path.as_posix()


def build_foundation(stack: StackConfig, specs: list[LoadedSpec]) -> Foundation:
    """The stack's shared audit and logging estate, told every team bucket it serves.

    Bucket names are derived from the specs, as the teams derive them, so the trail's data
    event selectors and the log bucket's policy are known before any team resource exists.
    """
    teams = sorted(specs, key=lambda item: item.team)
    replicas = []
    if stack.replication and stack.partner_region:
        replicas = [
            replica_bucket_name(loaded.team, stack.environment, stack.partner_region)
            for loaded in teams if loaded.for_environment(stack.environment).spec.artifacts.replication
        ]
    return Foundation("platform", FoundationArgs(
        stack=stack,
        artifact_buckets=[artifact_bucket_name(loaded.team, stack.environment) for loaded in teams],
        replica_buckets=tuple(replicas),
    ))


def build_estate(stack: StackConfig, specs: list[LoadedSpec]) -> dict[str, Team]:
    """The foundation, then one :class:`Team` component per spec, as the stack's environment deploys it."""
    foundation = build_foundation(stack, specs)
    teams: dict[str, Team] = {}
    for loaded in sorted(specs, key=lambda item: item.team):
        spec_file = project_relative(loaded.file)
        spec = loaded.for_environment(stack.environment)
        locator = SpecLocator(file=spec_file, line_of=loaded.line_of)
        teams[loaded.team] = Team(loaded.team, TeamArgs(spec=spec, spec_file=spec_file, locator=locator, stack=stack,
                                                        foundation=foundation))
    return teams
