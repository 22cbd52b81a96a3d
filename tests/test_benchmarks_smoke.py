"""The synthetic benchmark specs are valid and fit the dev stack (no timing here)."""

from __future__ import annotations

import gc
import sys
import threading
from pathlib import Path

import pytest

from mlplatform.spec.loader import load_specs
from mlplatform.stackchecks import stack_issues
from mlplatform.stackconfig import load_stack_config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from synthetic import write_teams  # noqa: E402


def test_synthetic_teams_load_without_issues_and_fit_the_dev_stack(tmp_path: Path):
    paths = write_teams(tmp_path, 5)
    assert [p.name for p in paths] == [f"team-000{i}.yaml" for i in range(1, 6)]

    result = load_specs([str(tmp_path)])
    assert [issue.format() for issue in result.issues] == []
    assert sorted(spec.team for spec in result.specs) == [f"team-000{i}" for i in range(1, 6)]
    for loaded in result.specs:
        assert 1 <= len(loaded.spec.spec.feature_groups) <= 3
        assert all(4 <= len(group.features) <= 12 for group in loaded.spec.spec.feature_groups)
        assert "dev" in loaded.spec.spec.environments

    stack = load_stack_config("dev", teams_dir=str(tmp_path))
    assert [issue.format() for issue in stack_issues(result.specs, stack)] == []


def test_synthetic_teams_are_deterministic_and_distinct(tmp_path: Path):
    first = [p.read_text() for p in write_teams(tmp_path / "a", 5)]
    again = [p.read_text() for p in write_teams(tmp_path / "b", 5)]
    assert first == again
    assert len(set(first)) == 5


def _collect_executor_thread_loops() -> None:
    """Finalise, inside this test, the event loops the SDK's mock monitor leaves behind.

    ``MockMonitor.RegisterResource`` gives each executor thread an event loop it never
    closes; when the cyclic collector finalises one, the loop's ``__del__`` can find its
    self-pipe already closed and raises an ignored ValueError. Joining the finished
    executor threads and collecting here keeps that noise in this test (filtered below)
    instead of at a random later point.
    """
    for thread in threading.enumerate():
        if thread.name.startswith("asyncio_"):
            thread.join(timeout=10)
    gc.collect()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tree_baseline_replays_the_captured_urns(tmp_path: Path):
    """The bench's primary baseline registers exactly the captured resources, GC tuned or not."""
    from bench_plan import replay, tree_payload, urn_check, warmup_rows

    from mlplatform.capture import capture_stack

    write_teams(tmp_path, 3)
    graph = capture_stack("dev", teams_dir=str(tmp_path))
    payload = tree_payload(graph)
    rows = payload["resources"]
    assert {row[0] for row in rows} == set(graph.resources)
    position = {row[0]: i for i, row in enumerate(rows)}
    for urn, _type, _name, _custom, parent, provider, _inputs in rows:
        assert all(position[dep] < position[urn] for dep in (parent, provider) if dep)

    for quiet in (False, True):
        assert urn_check(payload, replay(payload, rows, "tree", quiet)) == "ok"
    warm = warmup_rows(rows)
    assert 0 < len(warm) < len(rows)
    assert urn_check({"resources": warm}, replay(payload, warm, "tree")) == "ok"
    flat = replay(payload, rows, "flat")
    assert len(flat.resources) == sum(1 for row in rows if row[3])
    _collect_executor_thread_loops()


def test_a_500_team_synthetic_estate_passes_the_dev_stack_checks(tmp_path: Path):
    """The benchmarks plan 500 synthetic teams: every one must pass `mlp validate --stack
    dev` (guardrails included), or the benchmark stops at the spec check."""
    write_teams(tmp_path, 500)
    result = load_specs([str(tmp_path)])
    stack = load_stack_config("dev", teams_dir=str(tmp_path))
    assert [issue.format() for issue in list(result.issues) + stack_issues(result.specs, stack)] == []
