"""The pack as a whole, through the analyzer protocol of the served pack: every served rule
has compliant and violating cases (each id prefix in its own file,
``tests/test_policy_rules_<prefix>.py``, its rules in ``policies/rules/<prefix>.py``), the
metadata every rule carries, and what the protocol does for every rule alike (enforcement
per environment, unknown and secret values, findings' locations, exemptions)."""

from __future__ import annotations

import datetime
import re

import pytest
from pulumi.runtime.proto import analyzer_pb2

from mlplatform.graph import UNKNOWN, secret_marker
from mlplatform.reports.findings import ADVISORY, EXEMPTED, MANDATORY, SKIPPED
from policies.rules import ALL_RULES

from tests.helpers.policy import (CASE_FILE, TEAM, base_values, case_files, declared_cases, failures, graph_of,
                                  provider, res, run, shared_pack, team_component)
from tests.helpers.policy_resources import KEY_ARN, KEY_URN, bucket_set, key

V = base_values


def _prefix(rule_id: str) -> str:
    return rule_id.split("-")[1].lower()


def test_every_served_rule_has_compliant_and_violating_cases():
    """Gathered from the CASES tables of every per-prefix test file."""
    served = {policy.name for policy in shared_pack().info().policies}
    cases = [case for path in case_files() for case in declared_cases(path)]
    good = {rule for rule, _, bad in cases if not bad}
    bad = {rule for rule, _, bad in cases if bad}
    assert served == good == bad, {"no compliant case": served - good, "no violating case": served - bad,
                                   "cases of rules not served": (good | bad) - served}


def test_each_prefix_has_its_rule_module_and_its_case_file():
    """One hop from a rule id: ``MLP-<PREFIX>-nnn`` is declared in ``policies/rules/<prefix>.py``
    and its cases are in ``tests/test_policy_rules_<prefix>.py``, which holds no other prefix's."""
    declared_in = {rule.id: rule.check.__module__.rsplit(".", 1)[-1] for rule in ALL_RULES}
    assert {rule_id: module for rule_id, module in declared_in.items() if module != _prefix(rule_id)} == {}
    files = {path.name: declared_cases(path) for path in case_files()}
    expected = {CASE_FILE.format(prefix=_prefix(rule_id)) for rule_id in declared_in}
    assert set(files) == expected
    for name, cases in files.items():
        assert {CASE_FILE.format(prefix=_prefix(rule)) for rule, _, _ in cases} == {name}


def test_case_names_are_unique_per_rule():
    cases = [(rule, name) for path in case_files() for rule, name, _ in declared_cases(path)]
    assert len(cases) == len(set(cases))


def test_declared_cases_refuse_a_case_they_cannot_read(tmp_path):
    """The meta-test reads the tables from source; a case it cannot read is an error naming
    the line, not a case silently left uncounted."""
    path = tmp_path / "test_policy_rules_x.py"
    path.write_text('CASES = [\n    ("MLP-X-001", "ok", lambda: [], {}, False),\n    (RULE, "bad", lambda: [], {}, True),\n]\n')
    with pytest.raises(ValueError, match=r"test_policy_rules_x.py:3: "):
        declared_cases(path)
    path.write_text("CASES = [] + []\n")
    with pytest.raises(ValueError, match="expected one table"):
        declared_cases(path)
    path.write_text('CASES = [\n    ("MLP-X-001", "ok", lambda: [], {}, False),\n]\n')
    assert declared_cases(path) == [("MLP-X-001", "ok", False)]


def test_analyzer_info_lists_every_rule_with_metadata():
    info = shared_pack().info()
    assert info.name == "mlplatform-guardrails" and info.supportsConfig
    assert len(info.policies) >= 27
    for policy in info.policies:
        assert re.fullmatch(r"MLP-[A-Z0-9]+-[0-9]{3}", policy.name)
        assert policy.description and policy.displayName and policy.remediation_steps
        assert policy.enforcementLevel in (analyzer_pb2.MANDATORY, analyzer_pb2.ADVISORY)
        assert policy.severity != analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED
        assert "environment" in policy.configSchema.properties
        level = next(tag for tag in policy.tags if tag.startswith("level:"))
        expected = analyzer_pb2.ADVISORY if level == "level:A" else analyzer_pb2.MANDATORY
        assert policy.enforcementLevel == expected
    names = {policy.name for policy in info.policies}
    assert {"MLP-S3-001", "MLP-ENC-001", "MLP-TAG-001", "MLP-IAM-001", "MLP-REG-001", "MLP-CMP-002",
            "MLP-SM-001", "MLP-BUD-001", "MLP-PROT-001", "MLP-GOV-001", "MLP-ADV-001"} <= names


# ------------------------------------------------------------------ protocol details

def test_prod_only_rule_is_advisory_outside_production():
    graph = graph_of(*bucket_set(drop=("versioning",)))
    assert {p.enforcement for p in failures(run(graph, V(environment="prod")), "MLP-S3-004")} == {MANDATORY}
    assert {p.enforcement for p in failures(run(graph, V(environment="dev")), "MLP-S3-004")} == {ADVISORY}


def test_unknown_policy_document_is_deferred_not_passed():
    graph = graph_of(*[res("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "policy": UNKNOWN})])
    report = run(graph)
    skipped = [r for r in report.results if r.status == SKIPPED and r.rule.id == "MLP-IAM-001"]
    assert skipped and "during preview" in skipped[0].message
    assert skipped[0].justification["deferred"]
    assert not [r for r in report.results if r.rule.id == "MLP-IAM-001" and r.status == "passed"]


def test_secret_values_cross_the_wire_as_secrets():
    graph = graph_of(res("aws:sns/topic:Topic", "t", {"kmsMasterKeyId": KEY_ARN, "deliveryPolicy": secret_marker()}))
    report = run(graph)
    assert not failures(report, "MLP-ENC-001") and not failures(report, "MLP-TAG-001")


def test_findings_point_at_urn_and_spec_line():
    graph = graph_of(*key(enableKeyRotation=False))
    [problem] = failures(run(graph), "MLP-KMS-001")
    assert problem.urn == KEY_URN and problem.file == "examples/teams/fraud.yaml" and problem.line == 10
    assert problem.team == TEAM and problem.rule.remediation


# ------------------------------------------------------------------ exemptions

def _ecr_exemption(expires: str) -> dict:
    return {"team": TEAM, "rule": "MLP-ECR-001", "resource": "r", "reason": "Legacy image pipeline, migration planned.",
            "approvedBy": "security@example.com", "expires": expires, "file": "examples/teams/fraud.yaml", "line": 40}


MUTABLE = [res("aws:ecr/repository:Repository", "r", {"imageTagMutability": "MUTABLE",
                                                     "imageScanningConfiguration": {"scanOnPush": True}}),
           team_component()]


def test_valid_exemption_is_honoured_and_reported():
    exemption = _ecr_exemption("2027-03-01")
    values = V(allExemptions=[{k: v for k, v in exemption.items() if k not in ("file", "line")}])
    report = run(graph_of(*MUTABLE), values, exemptions=[exemption])
    assert not failures(report, "MLP-ECR-001") and not failures(report, "MLP-GOV-001")
    [exempted] = [r for r in report.results if r.status == EXEMPTED]
    assert exempted.rule.id == "MLP-ECR-001" and exempted.resource_name == "r"
    assert exempted.justification == {"reason": exemption["reason"], "approvedBy": "security@example.com",
                                      "expires": "2027-03-01"}


def test_expired_exemption_is_not_honoured_and_is_a_violation():
    exemption = _ecr_exemption("2026-11-01")
    values = V(allExemptions=[{k: v for k, v in exemption.items() if k not in ("file", "line")}])
    report = run(graph_of(*MUTABLE), values, exemptions=[exemption])
    assert failures(report, "MLP-ECR-001") and failures(report, "MLP-GOV-001")
    assert not [r for r in report.results if r.status == EXEMPTED]


def test_exemption_expiry_follows_the_injected_date():
    exemption = _ecr_exemption("2026-12-31")
    values = V(allExemptions=[{k: v for k, v in exemption.items() if k not in ("file", "line")}])
    before = run(graph_of(*MUTABLE), values, exemptions=[exemption], today=datetime.date(2026, 12, 31))
    after = run(graph_of(*MUTABLE), {**values, "today": "2027-01-01"}, exemptions=[exemption],
                today=datetime.date(2027, 1, 1))
    assert not failures(before, "MLP-ECR-001") and failures(after, "MLP-ECR-001")


def test_exemption_for_another_resource_does_not_apply():
    exemption = {**_ecr_exemption("2027-03-01"), "resource": "other"}
    values = V(allExemptions=[{k: v for k, v in exemption.items() if k not in ("file", "line")}])
    assert failures(run(graph_of(*MUTABLE), values, exemptions=[exemption]), "MLP-ECR-001")


def test_concurrent_first_analysis_still_sees_taggable_types():
    """The pack serves Analyze calls on several threads; the first calls for many types at
    once (pulumi-aws modules imported concurrently) must still judge tags."""
    from mlplatform.policy.config import build_policy_config
    from mlplatform.policy.runner import evaluate, findings
    from mlplatform.policy.server import PackServer

    types = ["aws:sns/topic:Topic", "aws:cloudwatch/logGroup:LogGroup", "aws:ecr/repository:Repository",
             "aws:kms/key:Key", "aws:sagemaker/model:Model", "aws:batch/computeEnvironment:ComputeEnvironment",
             "aws:ec2/launchTemplate:LaunchTemplate", "aws:sagemaker/endpoint:Endpoint"]
    graph = graph_of(provider(**{"cost-center": ""}),
                     *[res(kind, f"r{index}-{n}", {}) for index, kind in enumerate(types) for n in range(8)])
    with PackServer() as server:
        config = build_policy_config(server.info(), base_values())
        report = findings(evaluate(server, graph, config), graph, config, [], datetime.date(2026, 11, 26))
    flagged = {r.resource_type for r in failures(report, "MLP-TAG-001")}
    assert flagged == set(types)
