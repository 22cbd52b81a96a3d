"""``--team`` narrows plan, policy, scan and cost to one team's resources (issue 18)."""

from __future__ import annotations

import json

import pytest

from mlplatform import cli


def _teams_of(plan: dict) -> set[str]:
    return {resource["effectiveTags"]["team"] for resource in plan["resources"]
            if (resource.get("effectiveTags") or {}).get("team")}


def test_plan_of_one_team_holds_that_team_and_what_the_stack_shares(capsys):
    assert cli.main(["plan", "--stack", "dev", "--team", "recommendations", "--format", "json"]) == 0
    teams = _teams_of(json.loads(capsys.readouterr().out))
    assert teams == {"recommendations", "platform"}


@pytest.mark.parametrize("command", ["plan", "policy", "scan", "cost"])
def test_an_unknown_team_is_a_usage_error_naming_the_teams(command, capsys):
    assert cli.main([command, "--stack", "dev", "--team", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mlp: --team nope: no such team in the stack's specs "
                   "(teams: fraud-detection, nlp-research, recommendations)"]


def test_team_cannot_narrow_a_plan_file(tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"version": 1, "stack": "dev", "project": "mlplatform", "resources": []}))
    assert cli.main(["plan", "--stack", "dev", "--graph", str(plan), "--team", "recommendations"]) == 2
    assert "cannot narrow a plan read with --graph" in capsys.readouterr().err
