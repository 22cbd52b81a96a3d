"""`mlp ci` runs verify as its own stage, and judges deferred policy rules on the resolved plan."""

import json

from mlplatform.ci import STAGE_NAMES
from mlplatform.cli import main

from .helpers.ci_repo import commit_change


def _ci(repo, out, *extra):
    return main(["ci", "--stack", "prod", "--teams", str(repo / "teams"), "--base", "HEAD~1",
                 "--output-dir", str(out), "--skip", "checkov", *extra])


def test_verify_is_a_stage_of_its_own_between_checkov_and_cost():
    assert STAGE_NAMES.index("checkov") < STAGE_NAMES.index("verify") < STAGE_NAMES.index("cost")


def test_a_pull_request_gets_a_verify_stage_and_the_deferred_tls_rule_judged(repo, tmp_path, capsys):
    commit_change(repo, "recommendations.yaml", "monthlyUsd: 12000", "monthlyUsd: 12500")
    out = tmp_path / "out"
    assert _ci(repo, out) == 0
    summary = capsys.readouterr().out
    assert "| verify | :white_check_mark:" in summary
    assert "Verify (resolved plan)" in summary
    data = json.loads((out / "ci.json").read_text())
    verify = data["stages"]["verify"]
    assert verify["ok"] and verify["data"]["stats"]["resolved"] is True
    assert verify["data"]["stats"]["unknownValues"] == 0
    policy = data["stages"]["policy"]["data"]
    tls = [r for r in policy["results"] if r["ruleId"] == "MLP-S3-003"]
    assert tls and all(r["status"] != "skipped" for r in tls)  # judged, no longer deferred
    assert policy["stats"]["judgedOnResolvedPlan"] == ["MLP-S3-003"]
    sarif = json.loads((out / "results.sarif").read_text())
    assert "mlp-verify" in {run["tool"]["driver"]["name"] for run in sarif["runs"]}


def test_skip_verify_leaves_the_stage_out_and_the_rule_deferred(repo, tmp_path, capsys):
    commit_change(repo, "recommendations.yaml", "monthlyUsd: 12000", "monthlyUsd: 12500")
    out = tmp_path / "out"
    assert _ci(repo, out, "--skip", "verify") == 0
    capsys.readouterr()
    data = json.loads((out / "ci.json").read_text())
    assert "verify" not in data["stages"]
    tls = [r for r in data["stages"]["policy"]["data"]["results"] if r["ruleId"] == "MLP-S3-003"]
    assert tls and all(r["status"] == "skipped" for r in tls)
