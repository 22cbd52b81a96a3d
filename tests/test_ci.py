"""End to end: `mlp ci` on a throwaway git repository with a base and a head commit."""

import json
from pathlib import Path


from mlplatform.cli import main

from .helpers.ci_repo import commit_change, git

def _run(repo: Path, out: Path, *extra: str, checkov: bool = False) -> int:
    """``mlp ci`` against the previous commit; checkov (slow to start) only where a test needs it."""
    skip = [] if checkov else ["--skip", "checkov"]
    # prod: the stack whose plan must pass every guardrail, checkov included
    return main(["ci", "--stack", "prod", "--teams", str(repo / "teams"), "--base", "HEAD~1",
                 "--output-dir", str(out), *skip, *extra])


def test_a_budget_change_plans_only_that_team_and_may_merge(repo, tmp_path, capsys, checkov_exe, monkeypatch):
    monkeypatch.setenv("MLP_CHECKOV", checkov_exe)  # the checkov the other checkov tests use
    commit_change(repo, "recommendations.yaml", "monthlyUsd: 12000", "monthlyUsd: 12500")
    out = tmp_path / "out"
    assert _run(repo, out, checkov=True) == 0
    summary = capsys.readouterr().out
    assert summary == (out / "summary.md").read_text()
    assert "**may merge**" in summary
    assert "planned: `recommendations`." in summary
    plan = json.loads((out / "ci.json").read_text())["stages"]["plan"]["data"]
    assert (plan["summary"]["create"], plan["summary"]["replace"], plan["summary"]["delete"]) == (0, 0, 0)
    assert any("aws:budgets/budget:Budget" in change["urn"] for change in plan["updated"])
    assert "```mermaid" in summary and "limitAmount" in summary
    report = json.loads((out / "ci.json").read_text())
    assert report["mayMerge"] is True and report["scope"] == ["recommendations"]
    assert report["changedFiles"] == ["teams/recommendations.yaml"]
    sarif = json.loads((out / "results.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    # nothing blocking: every error-level result is a suppressed (skipped or exempted) one
    assert all(result["level"] != "error" or result.get("suppressions")
               for run in sarif["runs"] for result in run["results"])


def test_an_invalid_spec_blocks_with_its_line_in_the_summary_and_sarif(repo, tmp_path, capsys):
    commit_change(repo, "fraud-detection.yaml", "maxGpus: 16", "maxGpus: many")
    out = tmp_path / "out"
    assert _run(repo, out) == 1
    summary = capsys.readouterr().out
    assert "**blocked**" in summary and "| validate | :x: 1 error(s) |" in summary
    assert "fraud-detection.yaml:" in summary and "maxGpus" in summary
    sarif = json.loads((out / "results.sarif").read_text())
    [result] = [r for run in sarif["runs"] for r in run["results"]]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("fraud-detection.yaml") and location["region"]["startLine"] > 1
    junit = (out / "junit.xml").read_text()
    assert 'failures="1"' in junit


def test_renaming_a_feature_group_shows_new_beside_old_and_flags_lost_state(repo, tmp_path, capsys):
    commit_change(repo, "fraud-detection.yaml", "version: 2", "version: 3")
    out = tmp_path / "out"
    _run(repo, out)
    summary = capsys.readouterr().out
    assert "fraud-detection-fg-transactions-v3" in summary
    assert "STATEFUL" in summary and "fraud-detection-fg-transactions-v2" in summary


def test_incremental_equals_full_for_the_changed_team(repo, tmp_path, capsys):
    commit_change(repo, "recommendations.yaml", "monthlyUsd: 12000", "monthlyUsd: 12500")
    _run(repo, tmp_path / "incremental")
    _run(repo, tmp_path / "full", "--full")
    incremental = json.loads((tmp_path / "incremental" / "ci.json").read_text())
    full = json.loads((tmp_path / "full" / "ci.json").read_text())
    assert full["scope"] is None and incremental["scope"] == ["recommendations"]
    stages = incremental["stages"]
    assert set(stages) == set(full["stages"]) == {"plan", "policy", "verify", "cost"}
    assert stages["plan"]["data"] == full["stages"]["plan"]["data"]  # the diff is the changed team's alone
    # checks and prices of the changed team and of what the stack shares are identical
    # (stack-wide totals such as per-stack GPU ceilings are checked on every spec by validate)
    for stage, key in (("policy", "results"), ("verify", "results"), ("cost", "lines")):
        def mine(report):
            return [item for item in report["stages"][stage]["data"][key]
                    if item.get("team") in ("recommendations", "platform")]
        assert mine(incremental) == mine(full), stage
    assert any(line["team"] == "recommendations" for line in incremental["stages"]["cost"]["data"]["lines"])


def test_no_spec_change_plans_nothing(repo, tmp_path, capsys):
    (repo / "README.md").write_text("docs\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "docs only")
    assert _run(repo, tmp_path / "out") == 0
    assert "planned: no team." in capsys.readouterr().out


def test_usage_errors(repo, tmp_path, capsys):
    assert main(["ci", "--stack", "dev", "--full"]) == 2
    assert main(["ci", "--stack", "dev", "--jobs", "0"]) == 2
    assert main(["ci", "--stack", "dev", "--skip", "nonsense"]) == 2
    assert main(["ci", "--stack", "nope", "--output-dir", str(tmp_path / "o")]) == 2
    assert main(["ci", "--stack", "dev", "--teams", str(repo / "teams"), "--base", "nope",
                 "--output-dir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == ("mlp: --base nope: no such commit in this repository; fetch it first "
                       "(git fetch origin nope) or pass a branch, tag or commit that exists")
    assert not (tmp_path / "o").exists()
