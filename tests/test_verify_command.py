"""`mlp verify`: exit codes, report formats, reviewed suppressions, bad input, deferred policy rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlplatform.cli import main
from mlplatform.graph import GraphResource, ResourceGraph, SourceRef
from mlplatform.reports.findings import FAILED, PASSED, SKIPPED, CheckResult, FindingsReport, Rule
from mlplatform.verify.checkers import CHECKERS, load_checker
from mlplatform.policy.deferred import deferred_rules, rejudge_deferred

MODEL = "fraud-detection-endpoint-scorer-model"


def _write_graph(path: Path, name_length: int = 70, type_token: str = "aws:sagemaker/model:Model") -> Path:
    graph = ResourceGraph(stack="dev", project="ml-estate", origin="resolved")
    graph.add(GraphResource(
        urn=f"urn:pulumi:dev::ml-estate::mlplatform:serving:ModelEndpoint${type_token}::{MODEL}", type=type_token,
        name=MODEL, inputs={"name": "m" * name_length}, simulated=["name"],
        source=SourceRef("examples/teams/fraud-detection.yaml", 59)))
    path.write_text(graph.dumps())
    return path


def _suppressions(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_finding_exits_1_and_names_the_spec_line(tmp_path, capsys):
    graph = _write_graph(tmp_path / "plan.json")
    assert main(["verify", "--stack", "dev", "--graph", str(graph), "--suppressions", str(tmp_path / "none.yaml")]) == 2
    capsys.readouterr()  # a suppressions file given but missing is an I/O error
    empty = _suppressions(tmp_path / "s.yaml", "suppressions: []\n")
    assert main(["verify", "--stack", "dev", "--graph", str(graph), "--suppressions", str(empty)]) == 1
    out = capsys.readouterr().out
    assert "examples/teams/fraud-detection.yaml:59: mandatory: MLP-AWS-001:" in out
    assert "70 characters, at most 63" in out and f"[{MODEL}]" in out
    assert "resolved plan: 1 resource(s), 1 with values simulated" in out


@pytest.mark.parametrize("fmt", ["json", "markdown", "sarif", "junit"])
def test_every_findings_format_renders(tmp_path, fmt):
    graph = _write_graph(tmp_path / "plan.json")
    out = tmp_path / f"report.{fmt}"
    empty = _suppressions(tmp_path / "s.yaml", "suppressions: []\n")
    assert main(["verify", "--stack", "dev", "--graph", str(graph), "--format", fmt, "--output", str(out),
                 "--suppressions", str(empty)]) == 1
    text = out.read_text()
    assert "MLP-AWS-001" in text
    if fmt in ("json", "sarif"):
        json.loads(text)


def test_a_reviewed_suppression_turns_the_finding_into_a_justified_skip(tmp_path, capsys):
    graph = _write_graph(tmp_path / "plan.json")
    suppressions = _suppressions(tmp_path / "s.yaml", (
        "suppressions:\n"
        "  - rule: MLP-AWS-001\n"
        "    resource: 'fraud-detection-endpoint-*'\n"
        "    reason: renamed in the next release\n"
        "    owner: platform-serving@example.com\n"))
    assert main(["verify", "--stack", "dev", "--graph", str(graph), "--suppressions", str(suppressions),
                 "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    [skipped] = [r for r in report["results"] if r["status"] == SKIPPED]
    assert skipped["justification"]["owner"] == "platform-serving@example.com"
    assert skipped["justification"]["suppression"].endswith("s.yaml:2")


def test_a_suppression_that_matches_nothing_is_reported(tmp_path, capsys):
    graph = _write_graph(tmp_path / "plan.json", name_length=20)
    suppressions = _suppressions(tmp_path / "s.yaml", (
        "suppressions:\n"
        "  - rule: MLP-AWS-001\n    resource: 'nothing-*'\n    reason: old\n    owner: someone@example.com\n"))
    assert main(["verify", "--stack", "dev", "--graph", str(graph), "--suppressions", str(suppressions)]) == 0
    out = capsys.readouterr().out
    assert "advisory: MLP-VRF-000: suppression of MLP-AWS-001 for 'nothing-*' matches no finding" in out


@pytest.mark.parametrize("entry, field", [
    ("  - rule: MLP-AWS-001\n    resource: '*'\n    reason: why\n", "owner"),
    ("  - rule: MLP-AWS-001\n    resource: '*'\n    owner: who\n", "reason"),
    ("  - rule: MLP-AWS-001\n    reason: why\n    owner: who\n", "resource"),
])
def test_a_suppression_without_its_fields_is_a_usage_error(tmp_path, capsys, entry, field):
    graph = _write_graph(tmp_path / "plan.json")
    suppressions = _suppressions(tmp_path / "s.yaml", "suppressions:\n" + entry)
    assert main(["verify", "--stack", "dev", "--graph", str(graph), "--suppressions", str(suppressions)]) == 2
    err = capsys.readouterr().err
    assert "s.yaml:2:" in err and f"written {field}" in err and "Traceback" not in err


def test_an_unknown_type_or_unreadable_graph_is_a_one_line_usage_error(tmp_path, capsys):
    graph = _write_graph(tmp_path / "plan.json", type_token="aws:ec2/instance:Instance")
    assert main(["verify", "--stack", "dev", "--graph", str(graph)]) == 2
    err = capsys.readouterr().err
    assert "aws:ec2/instance:Instance" in err and len(err.strip().splitlines()) == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["verify", "--stack", "dev", "--graph", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip()


def test_the_registry_lists_acceptance_and_imports_lazily():
    assert ("acceptance", "mlplatform.verify.acceptance:check") in CHECKERS
    assert callable(load_checker("acceptance"))


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_mlp_verify_passes_on_every_shipped_stack(stack, capsys):
    """Issue 14: verify exits 0 on the shipped estate with nothing beyond the reviewed
    suppressions (no finding at all, not even an advisory about an unused entry)."""
    assert main(["verify", "--stack", stack, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r for r in report["results"] if r["status"] == FAILED] == []
    assert report["counts"]["passed"] > 100


def test_a_suppression_scoped_to_stacks_applies_and_must_be_used_only_there(tmp_path, capsys):
    graph = _write_graph(tmp_path / "plan.json")
    suppressions = _suppressions(tmp_path / "s.yaml", (
        "suppressions:\n"
        "  - rule: MLP-AWS-001\n    resource: 'fraud-detection-endpoint-*'\n    reason: prod only\n"
        "    owner: someone@example.com\n    stacks: [prod]\n"))
    # on dev the entry does not apply: the finding stands, and the entry is not "unused"
    assert main(["verify", "--stack", "dev", "--graph", str(graph), "--suppressions", str(suppressions)]) == 1
    out = capsys.readouterr().out
    assert "MLP-AWS-001" in out and "MLP-VRF-000" not in out
    assert main(["verify", "--stack", "prod", "--graph", str(graph), "--suppressions", str(suppressions)]) == 0
    bad = _suppressions(tmp_path / "bad.yaml", (
        "suppressions:\n"
        "  - rule: MLP-AWS-001\n    resource: '*'\n    reason: x\n    owner: y\n    stacks: prod\n"))
    capsys.readouterr()
    assert main(["verify", "--stack", "dev", "--graph", str(graph), "--suppressions", str(bad)]) == 2
    assert "stacks must be a non-empty list of stack names" in capsys.readouterr().err


# ---------------------------------------------------------------- deferred policy rules

def _result(rule_id: str, status: str, **extra) -> CheckResult:
    return CheckResult(rule=Rule(rule_id, rule_id), status=status, **extra)


def test_deferred_rules_take_their_verdict_from_the_resolved_plan_and_nothing_else_does():
    preview = FindingsReport("mlp-policy", "prod", [
        _result("MLP-S3-003", SKIPPED, urn="b", justification={"deferred": "value unknown during preview"}),
        _result("MLP-TAG-001", PASSED),
    ])
    resolved = FindingsReport("mlp-policy", "prod", [
        _result("MLP-S3-003", FAILED, urn="b", message="bucket policy does not deny requests without TLS"),
        _result("MLP-TAG-001", FAILED, urn="x", message="a simulated value must not decide this rule"),
    ])
    assert deferred_rules(preview) == {"MLP-S3-003"}
    merged = rejudge_deferred(preview, resolved)
    by_rule = {(r.rule.id, r.status) for r in merged.results}
    assert by_rule == {("MLP-S3-003", FAILED), ("MLP-TAG-001", PASSED)}
    [failure] = [r for r in merged.results if r.status == FAILED]
    assert "resolved plan" in failure.message
    assert merged.stats["judgedOnResolvedPlan"] == ["MLP-S3-003"]


def test_a_rule_still_unknown_on_the_resolved_plan_stays_deferred():
    deferred = {"deferred": "value unknown during preview"}
    preview = FindingsReport("mlp-policy", "prod", [_result("MLP-S3-003", SKIPPED, justification=deferred)])
    resolved = FindingsReport("mlp-policy", "prod", [_result("MLP-S3-003", SKIPPED, justification=dict(deferred))])
    merged = rejudge_deferred(preview, resolved)
    assert [r.status for r in merged.results] == [SKIPPED]


def test_unused_suppressions_are_not_reported_on_a_plan_of_some_teams(capsys):
    """A one-team plan (a pull request, --team) lacks most resources the entries cover."""
    assert main(["verify", "--stack", "dev", "--team", "recommendations", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r for r in report["results"] if r["ruleId"] == "MLP-VRF-000"] == []
