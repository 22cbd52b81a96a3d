"""The synthetic benchmark specs are valid and fit the dev stack (no timing here)."""

from __future__ import annotations

import sys
from pathlib import Path

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
