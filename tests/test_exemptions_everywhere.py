"""One exemption mechanism (issue 17, item 3): ``spec.exemptions`` mean the same to the
policy pack, checkov and verify, and an expired one is a violation in each of them and
an error in ``mlp validate``.

checkov's verdicts are synthesised (the record shape of its JSON output), as in
tests/test_platform_skips.py; tests/test_stacks_green.py runs the real checkov on the
shipped stacks, where the nlp-research bucket is covered by its spec exemption alone
(the hand-mirrored platform skip is gone).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from mlplatform.checkov.runner import build_report, translate
from mlplatform.cli import main
from mlplatform.exemptions import SpecExemption, spec_exemptions
from mlplatform.reports.exemptions import apply_exemptions, checkov_judges, verify_judges
from mlplatform.graph import GraphResource, ResourceGraph, SourceRef
from mlplatform.reports.findings import EXEMPTED, FAILED, CheckResult, Rule, render_junit, render_sarif
from mlplatform.spec.loader import load_spec_file
from mlplatform.stackconfig import PROJECT_ROOT, load_stack_config
from tests.helpers.policy import graph_of, res

BUCKET = "aws:s3/bucket:Bucket"
TODAY = datetime.date(2026, 11, 30)
EXAMPLE = PROJECT_ROOT / "examples" / "teams" / "fraud-detection.yaml"


def _exemption(rule: str = "CKV_AWS_144", resource: str | None = "fraud-detection-artifacts-bucket",
               expires: str = "2027-01-31", team: str = "fraud-detection") -> SpecExemption:
    return SpecExemption(team=team, rule=rule, resource=resource, reason="Reproducible from source data, reviewed.",
                         approved_by="security@example.com", expires=expires,
                         file="teams/fraud-detection.yaml", line=70, index=0)


def _team_bucket(name: str, team: str = "fraud-detection") -> GraphResource:
    bucket = res(BUCKET, name, {"bucket": name})
    bucket.effective_tags = {"team": team}
    return bucket


def _checkov(resources: list[GraphResource], exemptions: list[SpecExemption], today: datetime.date = TODAY,
             check: str = "CKV_AWS_144"):
    """checkov failing ``check`` on every resource, with no platform skips, then the exemptions."""
    graph = graph_of(*resources)
    translation = translate(graph)
    records = [{"check_id": check, "check_name": "Ensure cross-region replication", "resource_address": address,
                "resource": address} for address in translation.plan.resources]
    return build_report(graph, translation, [{"check_type": "terraform_plan", "results": {"failed_checks": records}}],
                        [], load_stack_config("prod"), exemptions, today)


def _by_rule(report) -> dict[tuple[str, str | None], CheckResult]:
    return {(result.rule.id, result.resource_name): result for result in report.results}


# ---------------------------------------------------------------- checkov

def test_a_valid_exemption_exempts_the_checkov_failure_it_names_and_nothing_else():
    report = _checkov([_team_bucket("fraud-detection-artifacts-bucket"), _team_bucket("fraud-detection-logs"),
                       _team_bucket("nlp-research-artifacts-bucket", team="nlp-research")], [_exemption()])
    results = _by_rule(report)
    exempted = results[("CKV_AWS_144", "fraud-detection-artifacts-bucket")]
    assert exempted.status == EXEMPTED and not exempted.blocking
    assert exempted.justification == {"reason": "Reproducible from source data, reviewed.",
                                      "approvedBy": "security@example.com", "expires": "2027-01-31",
                                      "exemption": "teams/fraud-detection.yaml:70"}
    # another resource of the same team, and the same name in another team, still fail
    assert results[("CKV_AWS_144", "fraud-detection-logs")].status == FAILED
    assert results[("CKV_AWS_144", "nlp-research-artifacts-bucket")].status == FAILED
    assert report.stats["unusedExemptions"] == []


def test_an_exemption_without_a_resource_covers_every_resource_of_the_team():
    report = _checkov([_team_bucket("fraud-detection-artifacts-bucket"), _team_bucket("fraud-detection-logs"),
                       _team_bucket("nlp-research-artifacts-bucket", team="nlp-research")],
                      [_exemption(resource=None)])
    statuses = {name: result.status for (_, name), result in _by_rule(report).items()}
    assert statuses == {"fraud-detection-artifacts-bucket": EXEMPTED, "fraud-detection-logs": EXEMPTED,
                        "nlp-research-artifacts-bucket": FAILED}


def test_an_expired_exemption_is_a_checkov_violation_and_covers_nothing():
    report = _checkov([_team_bucket("fraud-detection-artifacts-bucket")], [_exemption(expires="2026-11-29")])
    results = _by_rule(report)
    finding = results[("CKV_AWS_144", "fraud-detection-artifacts-bucket")]
    assert finding.status == FAILED and finding.blocking
    assert "spec.exemptions[0] exemption expired on 2026-11-29" in finding.message
    violation = results[("MLP-GOV-001", "fraud-detection-artifacts-bucket")]
    assert violation.blocking and violation.where == "teams/fraud-detection.yaml:70"
    assert violation.spec_field == "spec.exemptions[0].expires"
    assert "expired on 2026-11-29" in violation.message and "Renew" in violation.fix
    assert report.stats["unusedExemptions"] == []


def test_an_expired_exemption_is_a_violation_even_when_nothing_fails_any_more():
    report = _checkov([], [_exemption(expires="2026-01-01")])
    assert [(r.rule.id, r.status) for r in report.results] == [("MLP-GOV-001", FAILED)]


def test_an_exemption_holds_on_its_expiry_day_and_lapses_the_day_after():
    bucket = "fraud-detection-artifacts-bucket"
    on_the_day = _checkov([_team_bucket(bucket)], [_exemption(expires="2026-11-30")])
    day_after = _checkov([_team_bucket(bucket)], [_exemption(expires="2026-11-30")],
                         today=datetime.date(2026, 12, 1))
    assert _by_rule(on_the_day)[("CKV_AWS_144", bucket)].status == EXEMPTED
    assert _by_rule(day_after)[("CKV_AWS_144", bucket)].status == FAILED
    assert ("MLP-GOV-001", bucket) in _by_rule(day_after)


def test_checkov_leaves_exemptions_of_other_tools_to_them():
    """An expired policy or verify exemption is the pack's and verify's violation to report."""
    report = _checkov([_team_bucket("fraud-detection-artifacts-bucket")],
                      [_exemption(rule="MLP-S3-002", expires="2026-01-01"),
                       _exemption(rule="MLP-AWS-001", expires="2026-01-01")])
    assert {r.rule.id for r in report.results} == {"CKV_AWS_144"}
    assert checkov_judges("CKV2_AWS_62") and not checkov_judges("MLP-S3-002")
    assert verify_judges("MLP-FLOW-CAPTURE") and verify_judges("MLP-IAM-MISMATCHED-TYPE")
    assert not verify_judges("MLP-S3-002") and not verify_judges("CKV_AWS_144")


def test_an_exemption_that_covers_nothing_is_listed_as_unused():
    report = _checkov([_team_bucket("fraud-detection-logs")], [_exemption()])
    assert report.stats["unusedExemptions"] == [
        "teams/fraud-detection.yaml:70: CKV_AWS_144 for fraud-detection-artifacts-bucket"]


def test_exempted_and_expired_results_render_as_such_in_sarif_and_junit():
    report = _checkov([_team_bucket("fraud-detection-artifacts-bucket"), _team_bucket("fraud-detection-logs")],
                      [_exemption(), _exemption(resource="fraud-detection-logs", expires="2025-12-31")])
    sarif = render_sarif(report)
    assert '"kind": "external"' in sarif or '"suppressions"' in sarif  # the exempted one is suppressed, not failed
    junit = render_junit(report)
    assert junit.count("<failure") == 2  # the logs bucket's failure and the expired exemption itself


# ---------------------------------------------------------------- verify

def _long_model_graph(team: str = "fraud-detection") -> ResourceGraph:
    name = "fraud-detection-endpoint-scorer-model"
    graph = ResourceGraph(stack="dev", project="ml-estate", origin="resolved")
    graph.add(GraphResource(
        urn=f"urn:pulumi:dev::ml-estate::aws:sagemaker/model:Model::{name}", type="aws:sagemaker/model:Model",
        name=name, inputs={"name": "m" * 70}, simulated=["name"], effective_tags={"team": team},
        source=SourceRef("examples/teams/fraud-detection.yaml", 59)))
    return graph


def _teams_with_exemption(folder: Path, rule: str, resource: str, expires: str) -> Path:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["spec"]["exemptions"] = [{"rule": rule, "resource": resource, "expires": expires,
                                       "reason": "The name is shortened in the next release, tracked in ML-1234.",
                                       "approvedBy": "security-review@example.com"}]
    folder.mkdir()
    (folder / "fraud-detection.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


@pytest.mark.parametrize("expires, exit_code, status", [("2999-01-01", 0, "exempted"), ("2020-01-01", 1, "failed")])
def test_verify_honours_a_spec_exemption_and_fails_an_expired_one(tmp_path, capsys, expires, exit_code, status):
    graph = tmp_path / "plan.json"
    graph.write_text(_long_model_graph().dumps())
    teams = _teams_with_exemption(tmp_path / "teams", "MLP-AWS-001", "fraud-detection-endpoint-scorer-model", expires)
    suppressions = tmp_path / "s.yaml"
    suppressions.write_text("suppressions: []\n")
    code = main(["verify", "--stack", "dev", "--graph", str(graph), "--teams", str(teams),
                 "--suppressions", str(suppressions), "--format", "json"])
    out = capsys.readouterr().out
    assert code == exit_code
    import json

    results = json.loads(out)["results"]
    model = [r for r in results if r["ruleId"] == "MLP-AWS-001"]
    assert model and {r["status"] for r in model} == {status}
    governance = [r for r in results if r["ruleId"] == "MLP-GOV-001"]
    assert bool(governance) == (status == "failed")
    if governance:
        assert governance[0]["specField"] == "spec.exemptions[0].expires" and governance[0]["file"].endswith(
            "fraud-detection.yaml")


def test_verify_exemptions_match_the_team_by_tag():
    results = [CheckResult(rule=Rule("MLP-AWS-001", "length"), status=FAILED, urn=urn, resource_name="x")
               for urn in ("urn:a", "urn:b")]
    graph = ResourceGraph(stack="dev", project="p")
    graph.add(GraphResource(urn="urn:a", type="aws:sagemaker/model:Model", name="x",
                            effective_tags={"team": "fraud-detection"}))
    graph.add(GraphResource(urn="urn:b", type="aws:sagemaker/model:Model", name="x",
                            effective_tags={"team": "nlp-research"}))
    applied = apply_exemptions(results, [_exemption("MLP-AWS-001", "x")], TODAY, verify_judges, graph)
    assert [r.status for r in applied.results] == [EXEMPTED, FAILED]


# ---------------------------------------------------------------- validate

def test_validate_reports_an_expired_exemption_at_its_expiry_line(tmp_path, capsys):
    teams = _teams_with_exemption(tmp_path / "teams", "CKV_AWS_144", "fraud-detection-artifacts-bucket", "2026-11-29")
    assert main(["validate", str(teams), "--today", "2026-11-29"]) == 0  # still holds on its last day
    capsys.readouterr()
    assert main(["validate", str(teams), "--today", "2026-11-30"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    loaded = load_spec_file(teams / "fraud-detection.yaml")
    line = loaded.line_of(("spec", "exemptions", 0, "expires"))
    assert out[0].startswith(f"{teams / 'fraud-detection.yaml'}:{line}:".replace(str(Path.cwd()) + "/", ""))
    assert "error: spec.exemptions[0].expires: exemption of team fraud-detection from CKV_AWS_144" in out[0]
    assert "expired on 2026-11-29 (MLP-GOV-001; fix: renew the exemption" in out[0]


def test_validate_judges_the_exemptions_the_stacks_environment_deploys(tmp_path, capsys):
    """An override in environments.prod replaces the list: the expired base entry is not deployed to prod."""
    teams = _teams_with_exemption(tmp_path / "teams", "CKV_AWS_144", "fraud-detection-artifacts-bucket", "2020-01-01")
    path = teams / "fraud-detection.yaml"
    document = yaml.safe_load(path.read_text())
    document["spec"].setdefault("environments", {}).setdefault("prod", {})["exemptions"] = []
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    assert main(["validate", "--stack", "prod", "--teams", str(teams)]) == 0
    assert main(["validate", "--stack", "dev", "--teams", str(teams)]) == 1
    assert "expired on 2020-01-01" in capsys.readouterr().out


def test_validate_rejects_a_malformed_today(capsys):
    assert main(["validate", str(EXAMPLE), "--today", "tomorrow"]) == 2
    assert "--today: not a date" in capsys.readouterr().err


def test_exemption_rule_ids_of_every_checker_are_accepted_by_the_schema(tmp_path):
    for rule in ("MLP-S3-002", "CKV2_AWS_62", "MLP-AWS-001", "MLP-IAM-MISMATCHED-TYPE", "MLP-FLOW-CAPTURE"):
        teams = _teams_with_exemption(tmp_path / rule, rule, "x", "2999-01-01")
        assert main(["validate", str(teams)]) == 0, rule
    teams = _teams_with_exemption(tmp_path / "bad", "mlp-s3-002", "x", "2999-01-01")
    assert main(["validate", str(teams)]) == 1


def test_spec_exemptions_name_files_as_findings_do():
    loaded = load_spec_file(PROJECT_ROOT / "examples" / "teams" / "nlp-research.yaml")
    [item] = spec_exemptions([loaded], "prod")
    assert item.file == "examples/teams/nlp-research.yaml" and item.rule == "CKV_AWS_144"
