"""Findings speak the spec (issue 17, item 2): a finding on a team resource names the
spec field the author changes and the spec-level fix, in text, Markdown, JSON, SARIF,
JUnit and the CI summary's "What to fix" list, not the AWS property behind it."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from mlplatform.capture import capture_stack
from mlplatform.graph import GraphResource, ResourceGraph, SourceRef
from mlplatform.guardrails import spec_field
from mlplatform.policy.runner import check
from mlplatform.reports.findings import (FAILED, MANDATORY, CheckResult, FindingsReport, Rule, attach_spec,
                                         render_json, render_junit, render_markdown, render_sarif, render_text)
from mlplatform.spec.loader import load_specs
from mlplatform.stackconfig import load_stack_config

from tests.helpers.policy import shared_pack

TEAMS = Path(__file__).parent / "fixtures" / "spec_verdict" / "new_team"


@pytest.fixture(scope="module")
def report():
    """The pack on the issue's new team, planned in prod although validate rejects it."""
    stack = load_stack_config("prod", teams_dir=str(TEAMS))
    specs = load_specs([str(TEAMS)]).specs
    graph = capture_stack("prod", teams_dir=str(TEAMS), specs=specs)
    return check(shared_pack(), graph, stack, specs, datetime.date(2026, 11, 26))


def _capture_finding(report):
    return next(r for r in report.blocking if r.rule.id == "MLP-SM-002" and "scorer" in (r.resource_name or ""))


def test_every_blocking_finding_names_a_spec_field_and_fix(report):
    assert report.blocking
    for result in report.blocking:
        assert result.spec_field and result.spec_field.startswith("spec.endpoints[") and result.fix, result
    finding = _capture_finding(report)
    assert finding.spec_field == "spec.endpoints[scorer].dataCapture"
    assert "dataCaptureConfig" not in finding.message and "samplePercent" in finding.fix


def test_every_format_carries_the_field_and_the_fix(report):
    field, fix = "spec.endpoints[scorer].dataCapture", "set dataCapture: {samplePercent: 1-100}"
    for render in (render_text, render_markdown, render_junit):
        text = render(report)
        assert field in text and fix in text, render.__name__
    [item] = [r for r in json.loads(render_json(report))["results"]
              if r["ruleId"] == "MLP-SM-002" and "scorer" in r["resourceName"]]
    assert item["specField"] == field and fix in item["fix"]
    sarif = json.loads(render_sarif(report))
    [result] = [r for r in sarif["runs"][0]["results"]
                if r["ruleId"] == "MLP-SM-002" and "scorer" in r["properties"]["urn"]]
    assert fix in result["message"]["text"] and field in result["message"]["text"]
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("churn.yaml")
    assert location["physicalLocation"]["region"]["startLine"] > 1
    assert location["logicalLocations"][0]["fullyQualifiedName"] == field


def test_the_ci_summary_lists_the_spec_field_and_fix(report):
    from mlplatform.ci.summary import what_to_fix

    class Stage:
        name, findings = "policy", report

    class Outcome:
        validation, stages = [], [Stage()]

    lines = "\n".join(what_to_fix(Outcome()))
    assert "`spec.endpoints[scorer].dataCapture`" in lines and "set dataCapture: {samplePercent: 1-100}" in lines


@pytest.mark.parametrize("rule, source, expected", [
    ("CKV_AWS_98", "spec.endpoints[scorer]", "spec.endpoints[scorer].instanceType"),
    ("CKV_AWS_144", "spec.artifacts", "spec.artifacts.replication"),
    ("MLP-SM-003", "spec.endpoints[scorer].monitoring", "spec.endpoints[scorer].monitoring.drift"),
    ("MLP-CMP-002", "metadata.team", "spec.training.queues"),
    ("MLP-SM-002", "spec.featureGroups[users]", "spec.featureGroups[users]"),  # not an endpoint: its own source
    ("CKV_AWS_999", "spec.budget", "spec.budget"),
])
def test_the_spec_field_table(rule, source, expected):
    assert spec_field(rule, source) == expected


def test_checkov_findings_on_team_resources_get_the_table_fix():
    graph = ResourceGraph(stack="prod", project="mlplatform")
    urn = "urn:pulumi:prod::mlplatform::aws:sagemaker/endpointConfiguration:EndpointConfiguration::t-endpoint-s-config"
    graph.add(GraphResource(urn=urn, type="aws:sagemaker/endpointConfiguration:EndpointConfiguration",
                            name="t-endpoint-s-config", source=SourceRef("teams/t.yaml", 30, "spec.endpoints[s]")))
    result = CheckResult(Rule("CKV_AWS_98", "Ensure all data stored in the Sagemaker Endpoint is encrypted at rest"),
                         FAILED, MANDATORY, urn=urn, file="teams/t.yaml", line=30)
    report = FindingsReport("checkov", "prod", [result])
    attach_spec(report.results, graph)
    assert result.spec_field == "spec.endpoints[s].instanceType" and "local NVMe" in result.fix
    assert "spec.endpoints[s].instanceType: serve on an instance type with local NVMe" in render_text(report)


def test_findings_name_file_line_and_column_as_validate_does(report):
    """The finding points where validate would: the endpoint's item in the spec, with its column."""
    finding = _capture_finding(report)
    [loaded] = load_specs([str(TEAMS)]).specs
    index = next(i for i, e in enumerate(loaded.spec.spec.endpoints) if e.name == "scorer")
    line, column = loaded.line_of(("spec", "endpoints", index)), loaded.column_of(("spec", "endpoints", index))
    assert (finding.line, finding.column) == (line, column) and column > 1
    assert finding.where.endswith(f"new-team.yaml:{line}:{column}") or finding.where.endswith(f":{line}:{column}")
    assert f":{line}:{column}: mandatory: MLP-SM-002" in render_text(report)
    [result] = [r for r in json.loads(render_sarif(report))["runs"][0]["results"]
                if r["ruleId"] == "MLP-SM-002" and "scorer" in r["properties"]["urn"]]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": line, "startColumn": column}
