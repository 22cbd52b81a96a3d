"""``mlp policy``: the example estate on every stack, the non-compliant fixture estate,
report formats, exit codes and the written policy config."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ElementTree

import pytest

from mlplatform.capture import capture_stack
from mlplatform.cli import main
from mlplatform.stackchecks import selected_specs
from mlplatform.policy.runner import check
from mlplatform.reports.findings import EXEMPTED, FAILED, MANDATORY, PASSED
from mlplatform.stackconfig import load_stack_config

from tests.helpers.policy import NONCOMPLIANT_GRAPH as FIXTURE
from tests.helpers.policy import shared_pack

TODAY = datetime.date(2026, 11, 26)

#: Mandatory findings the current example estate is known to have, each waiting on work
#: outside this pack (the lead reconciles after merging):
#: * MLP-S3-005 (prod only): bucket access logging is built by the data-plane issue;
#: * MLP-RET-002: examples/teams/recommendations.yaml's PII group "user-profile" has an
#:   online store without online.ttlHours, so its PII is kept without bound.
KNOWN_GAPS: set = set()

#: What the fixture estate breaks (see tests/fixtures/policy/README.md).
FIXTURE_VIOLATIONS = {
    "MLP-BUD-001", "MLP-ECR-001", "MLP-FS-001", "MLP-IAM-001", "MLP-IAM-003", "MLP-IAM-005", "MLP-KMS-001",
    "MLP-PROT-001", "MLP-REG-001", "MLP-S3-001", "MLP-S3-002", "MLP-S3-003", "MLP-TAG-001",
    "MLP-EDGE-005",  # a prod plan without GuardDuty and trail insights (stack-wide: located at the stack file)
}


@pytest.fixture(scope="module")
def staging_graph():
    return capture_stack("staging")


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_example_estate_passes_every_mandatory_rule(stack, dev_graph, prod_graph, staging_graph):
    graph = {"dev": dev_graph, "staging": staging_graph, "prod": prod_graph}[stack]
    config = load_stack_config(stack)
    report = check(shared_pack(), graph, config, selected_specs(config), TODAY)
    blocking = {result.rule.id for result in report.blocking}
    assert blocking <= KNOWN_GAPS, [(r.rule.id, r.resource_name, r.message) for r in report.blocking]
    # Only the TLS rule may wait: the artifact bucket policies name the team key's ARN, which a
    # preview cannot know (test_dataplane_storage); the rule then defers to preview/up, and
    # test_bucket_policies_pass_once_key_arns_are_known shows it passes on the applied values.
    deferred = [r for r in report.results if r.status == "skipped"]
    assert {r.rule.id for r in deferred} <= {"MLP-S3-003"}
    assert all("deferred" in (r.justification or {}) for r in deferred)
    assert len(report.results) > 20


def test_bucket_policies_pass_once_key_arns_are_known():
    from .helpers.dataplane import capture_with_key_arns

    config = load_stack_config("prod")
    report = check(shared_pack(), capture_with_key_arns("prod"), config, selected_specs(config), TODAY)
    tls = [r for r in report.results if r.rule.id == "MLP-S3-003"]
    assert tls and {r.status for r in tls} == {PASSED}, [(r.status, r.resource_name, r.message) for r in tls]
    assert not report.blocking, [(r.rule.id, r.resource_name, r.message) for r in report.blocking]


def _json_report(capsys, *args: str) -> tuple[int, dict]:
    code = main(["policy", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_noncompliant_estate_fails_with_the_expected_rules(capsys):
    code, report = _json_report(capsys, "--stack", "prod", "--graph", str(FIXTURE), "--today", "2026-11-26")
    assert code == 1 and report["passed"] is False
    failed = {r["ruleId"] for r in report["results"] if r["status"] == FAILED and r["enforcement"] == MANDATORY}
    assert failed - KNOWN_GAPS == FIXTURE_VIOLATIONS
    for result in report["results"]:
        if result["status"] == FAILED and result["ruleId"] != "MLP-EDGE-005":
            assert result["urn"].startswith("urn:pulumi:prod::ml-estate::")
            assert result["file"].startswith("examples/teams/") and result["line"] >= 1
    rotation = next(r for r in report["results"] if r["ruleId"] == "MLP-KMS-001")
    assert rotation["resourceName"] == "fraud-detection-artifacts-key" and rotation["team"] == "fraud-detection"


def test_exemptions_show_in_the_report(tmp_path, teams_copy, capsys):
    spec = teams_copy / "recommendations.yaml"
    spec.write_text(spec.read_text() + (
        "  exemptions:\n"
        "    - rule: MLP-ECR-001\n"
        "      resource: recommendations-images-repository\n"
        "      reason: Legacy image pipeline overwrites tags; migration tracked in PLAT-42.\n"
        "      approvedBy: security-review@example.com\n"
        '      expires: "2027-01-31"\n'))
    code, report = _json_report(capsys, "--stack", "prod", "--teams", str(teams_copy), "--graph", str(FIXTURE),
                                "--today", "2026-11-26")
    assert code == 1
    assert "MLP-ECR-001" not in {r["ruleId"] for r in report["results"] if r["status"] == FAILED}
    [exempted] = [r for r in report["results"] if r["status"] == EXEMPTED]
    assert exempted["resourceName"] == "recommendations-images-repository"
    assert exempted["justification"]["approvedBy"] == "security-review@example.com"
    for fmt, marker in (("text", "exempted: MLP-ECR-001"), ("sarif", '"suppressions"'), ("junit", "<skipped"),
                        ("markdown", "| exempted | `MLP-ECR-001` |")):
        main(["policy", "--stack", "prod", "--teams", str(teams_copy), "--graph", str(FIXTURE),
              "--today", "2026-11-26", "--format", fmt])
        out = capsys.readouterr().out
        assert marker in out and "security-review@example.com" in out, fmt
    # a month later the exemption has expired: the finding is back and the expiry is itself a violation
    code, later = _json_report(capsys, "--stack", "prod", "--teams", str(teams_copy), "--graph", str(FIXTURE),
                               "--today", "2027-02-01")
    failed = {r["ruleId"] for r in later["results"] if r["status"] == FAILED}
    assert {"MLP-ECR-001", "MLP-GOV-001"} <= failed
    assert not [r for r in later["results"] if r["status"] == EXEMPTED]


@pytest.mark.parametrize("fmt", ["text", "markdown", "sarif", "junit"])
def test_formats(fmt, tmp_path, capsys):
    output = tmp_path / f"report.{fmt}"
    code = main(["policy", "--stack", "prod", "--graph", str(FIXTURE), "--format", fmt, "--output", str(output)])
    assert code == 1 and capsys.readouterr().out == ""
    text = output.read_text()
    if fmt == "sarif":
        run = json.loads(text)["runs"][0]
        assert {r["ruleId"] for r in run["results"]} >= FIXTURE_VIOLATIONS
        # team findings at their spec, stack-wide ones at the stack's config file (code scanning needs a file)
        uris = {r["ruleId"]: r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
        assert uris.pop("MLP-EDGE-005") == "stacks/Pulumi.prod.yaml"
        assert all(uri.startswith("examples/teams/") for uri in uris.values())
    elif fmt == "junit":
        suite = ElementTree.fromstring(text).find("testsuite")
        assert int(suite.get("failures")) >= len(FIXTURE_VIOLATIONS)
    elif fmt == "markdown":
        assert "| mandatory | `MLP-KMS-001` |" in text
    else:
        assert "mandatory: MLP-KMS-001: key rotation is off" in text
        assert text.rstrip().splitlines()[-1].startswith("mlp-policy on stack prod:")


def test_clean_estate_exits_zero_and_plan_of_another_stack_fails(tmp_path, teams_copy, dev_graph, capsys):
    # no --graph: the plan is captured from the specs, as in CI; one queue turned to on-demand only
    spec = teams_copy / "nlp-research.yaml"
    spec.write_text(spec.read_text().replace("maxGpus: 32\n        spot: {enabled: true, fallbackToOnDemand: true}",
                                             "maxGpus: 32\n        spot: {enabled: false}", 1))
    code = main(["policy", "--stack", "dev", "--teams", str(teams_copy), "--format", "text"])
    out = capsys.readouterr().out
    assert code == 0, out
    # advisories still print (on-demand training without a deadline), but do not fail the run; the
    # on-demand fallback of a spot-first queue (fraud-detection, recommendations) gets none
    assert ": mandatory: " not in out and ": advisory: MLP-ADV-001:" in out
    assert [line for line in out.splitlines() if "MLP-ADV-001" in line] == [
        line for line in out.splitlines() if "MLP-ADV-001" in line and "nlp-research-queue-pretrain-ce-on-demand" in line]
    # dev's plan judged as staging's: wrong environment tag and no permissions boundary
    saved = tmp_path / "dev.graph.json"
    saved.write_text(dev_graph.dumps())
    code, report = _json_report(capsys, "--stack", "staging", "--graph", str(saved))
    failed = {r["ruleId"] for r in report["results"] if r["status"] == FAILED and r["enforcement"] == MANDATORY}
    assert code == 1 and {"MLP-TAG-001", "MLP-IAM-005"} <= failed


def test_write_config_sets_enforcement_per_stack(tmp_path):
    levels = {}
    for stack in ("dev", "prod"):
        target = tmp_path / f"{stack}.json"
        assert main(["policy", "--stack", stack, "--write-config", str(target)]) == 0
        config = json.loads(target.read_text())
        levels[stack] = {name: value["enforcementLevel"] for name, value in config.items()}
        assert config["MLP-CMP-002"]["perTeam"] == (16 if stack == "dev" else 48)
        assert config["MLP-IAM-005"].get("permissionsBoundaryArn") == (
            None if stack == "dev" else load_stack_config(stack).permissions_boundary_arn)
        assert set(config["MLP-REG-001"]["teams"]) == {"fraud-detection", "nlp-research", "recommendations"}
        assert "today" not in config["MLP-GOV-001"]  # the pack uses its clock under the CLI
    assert levels["prod"]["MLP-S3-004"] == "mandatory" and levels["dev"]["MLP-S3-004"] == "advisory"
    assert levels["dev"]["MLP-S3-001"] == levels["prod"]["MLP-S3-001"] == "mandatory"
    assert levels["dev"]["MLP-ADV-001"] == "advisory"


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["policy", "--stack", "prod", "--today", "26/11/2026", "--graph", str(FIXTURE)]) == 2
    assert "--today" in capsys.readouterr().err
    assert main(["policy", "--stack", "prod", "--graph", str(tmp_path / "missing.json")]) == 2
    assert main(["policy", "--stack", "nope"]) == 2
    assert main(["policy", "--stack", "prod", "--format", "html"]) == 2


def test_a_pack_that_does_not_start_is_a_one_line_error(tmp_path):
    from mlplatform.policy.server import PackError, PackServer

    with pytest.raises(PackError, match="not a policy pack"):
        PackServer(pack_dir=tmp_path)
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack')\n")
    with pytest.raises(PackError, match="did not start: broken pack"):
        PackServer(pack_dir=tmp_path)


def test_several_pack_processes_give_the_same_findings(capsys):
    results = []
    for jobs in ("1", "2"):
        code, report = _json_report(capsys, "--stack", "prod", "--graph", str(FIXTURE), "--jobs", jobs)
        assert code == 1
        results.append(report["results"])
    assert results[0] == results[1]
    assert main(["policy", "--stack", "prod", "--graph", str(FIXTURE), "--jobs", "0"]) == 2
