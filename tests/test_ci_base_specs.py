"""The base side of a pull request reuses the head's parsed specs for files the change did
not touch and reads only the changed files from the base commit (issue 14's one-team
pull request benchmark): the result must be exactly the base's specs."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlplatform.changes import export_tree, repository_root, spec_changes
from mlplatform.ci.pipeline import _base_specs
from mlplatform.spec.loader import load_specs
from mlplatform.stackconfig import load_stack_config
from tests.helpers.ci_repo import git


def _change_three_ways(repo: Path) -> None:
    """Modify one team, delete another, add a third (and leave a git-ignored spec at the head)."""
    teams = repo / "teams"
    fraud = teams / "fraud-detection.yaml"
    fraud.write_text(fraud.read_text().replace("monthlyUsd: 25000", "monthlyUsd: 26000", 1))
    (teams / "nlp-research.yaml").unlink()
    recommendations = (teams / "recommendations.yaml").read_text()
    (teams / "new-team.yaml").write_text(recommendations.replace("team: recommendations", "team: new-team", 1))
    (repo / ".gitignore").write_text("teams/scratch-team.yaml\n")
    (teams / "scratch-team.yaml").write_text(recommendations.replace("team: recommendations", "team: scratch-team", 1))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "head")


def _budget(loaded) -> float:
    return loaded.spec.spec.budget.monthly_usd


def test_base_specs_are_the_base_commits_specs(repo):
    _change_three_ways(repo)
    stack = load_stack_config("dev", teams_dir=str(repo / "teams"))
    head = load_specs([str(repo / "teams")]).specs
    root = repository_root(repo / "teams")
    changes = spec_changes(root, "HEAD~1", repo / "teams")
    with tempfile.TemporaryDirectory() as scratch:
        base_dir = export_tree(root, "HEAD~1", "teams", Path(scratch))
        base = _base_specs(head, changes, root, Path(scratch), base_dir, stack)
        expected = load_specs([str(base_dir)]).specs
        by_team = {loaded.team: loaded for loaded in base}

        assert sorted(by_team) == sorted(loaded.team for loaded in expected) == [
            "fraud-detection", "nlp-research", "recommendations"]
        assert _budget(by_team["fraud-detection"]) == 25000  # the base's value, read from the base
        assert Path(by_team["fraud-detection"].file).is_relative_to(Path(scratch))
        assert Path(by_team["nlp-research"].file).is_relative_to(Path(scratch))  # deleted at the head
        head_recommendations = next(loaded for loaded in head if loaded.team == "recommendations")
        assert by_team["recommendations"] is head_recommendations  # untouched: parsed once, reused
        for loaded in expected:
            assert by_team[loaded.team].spec == loaded.spec


def test_a_shard_keeps_only_its_teams_at_the_base(repo):
    _change_three_ways(repo)
    stack = load_stack_config("dev", teams_dir=str(repo / "teams"))
    stack = stack.model_copy(update={"teams": ["fraud-detection", "recommendations"]})
    head = [loaded for loaded in load_specs([str(repo / "teams")]).specs if loaded.team in stack.teams]
    root = repository_root(repo / "teams")
    changes = spec_changes(root, "HEAD~1", repo / "teams")
    with tempfile.TemporaryDirectory() as scratch:
        base_dir = export_tree(root, "HEAD~1", "teams", Path(scratch))
        base = _base_specs(head, changes, root, Path(scratch), base_dir, stack)
        assert sorted(loaded.team for loaded in base) == ["fraud-detection", "recommendations"]
