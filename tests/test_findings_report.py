"""The shared findings report: every format carries rule id, level, URN and spec line."""

import json
import xml.etree.ElementTree as ElementTree

import pytest

from mlplatform.reports.findings import (
    ADVISORY, EXEMPTED, FAILED, MANDATORY, PASSED, SKIPPED, CheckResult, FindingsReport, Rule, render_junit,
    render_markdown, render_sarif, render_text, render_json,
)

BUCKET = Rule("MLP-S3-001", "S3 buckets deny non-TLS requests", "desc", "add a TLS-only statement")
TAGS = Rule("MLP-TAG-001", "Billing tags present")
URN = "urn:pulumi:dev::mlp::mlplatform:team:Team$aws:s3/bucket:Bucket::fraud-bucket"


def _report() -> FindingsReport:
    return FindingsReport("mlp-policy", "dev", [
        CheckResult(BUCKET, FAILED, MANDATORY, "bucket policy allows plain HTTP", URN, "aws:s3/bucket:Bucket",
                    "fraud-bucket", "examples/teams/fraud.yaml", 12, "fraud"),
        CheckResult(TAGS, FAILED, ADVISORY, "tag spec missing", URN, "aws:s3/bucket:Bucket", "fraud-bucket"),
        CheckResult(TAGS, EXEMPTED, MANDATORY, "", URN, "aws:s3/bucket:Bucket", "other",
                    justification={"reason": "legacy", "approvedBy": "a@b.c", "expires": "2027-01-01"}),
        CheckResult(BUCKET, PASSED, MANDATORY, urn=URN, resource_name="ok"),
        CheckResult(BUCKET, SKIPPED, MANDATORY, resource_name="skipped-one", justification={"reason": "residency"}),
    ])


def test_blocking_is_only_mandatory_failures():
    report = _report()
    assert [r.rule.id for r in report.blocking] == ["MLP-S3-001"]
    assert report.exit_code == 1
    assert report.counts() == {PASSED: 1, FAILED: 2, SKIPPED: 1, EXEMPTED: 1}
    passing = FindingsReport("x", "dev", [r for r in report.results if not r.blocking])
    assert passing.exit_code == 0


def test_text_names_spec_line_and_rule():
    text = render_text(_report())
    assert "examples/teams/fraud.yaml:12: mandatory: MLP-S3-001: bucket policy allows plain HTTP [fraud-bucket]" in text
    assert "approvedBy: a@b.c" in text
    assert text.strip().splitlines()[-1].startswith("mlp-policy on stack dev: 1 passed, 2 failed (1 mandatory)")


def test_json_round_trip():
    data = json.loads(render_json(_report()))
    assert data["passed"] is False
    first = data["results"][0]
    assert (first["ruleId"], first["enforcement"], first["urn"], first["line"]) == ("MLP-S3-001", "mandatory", URN, 12)


def test_sarif_has_rules_levels_locations_and_suppressions():
    sarif = json.loads(render_sarif(_report()))
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0"
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["MLP-S3-001", "MLP-TAG-001"]
    levels = {(r["ruleId"], r["level"], "suppressions" in r) for r in run["results"]}
    assert ("MLP-S3-001", "error", False) in levels and ("MLP-TAG-001", "warning", False) in levels
    located = next(r for r in run["results"] if r["ruleId"] == "MLP-S3-001" and "suppressions" not in r)
    region = located["locations"][0]["physicalLocation"]
    assert region == {"artifactLocation": {"uri": "examples/teams/fraud.yaml"}, "region": {"startLine": 12}}
    assert len(run["results"]) == 4  # passes are not results


def test_junit_counts_and_failures():
    root = ElementTree.fromstring(render_junit(_report()).split("?>", 1)[1])
    suite = root.find("testsuite")
    # the advisory is a passing case with its advice in system-out (tests/test_advisories.py)
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "1", "2")
    failure = suite.find("testcase[@classname='MLP-S3-001']/failure")
    assert failure.get("type") == "mandatory" and URN in failure.text


def test_markdown_escapes_pipes_and_shows_verdict():
    report = _report()
    report.results[0].message = "a | b"
    markdown = render_markdown(report)
    assert ":x: 1 mandatory failure(s)" in markdown and "a \\| b" in markdown


def test_unknown_status_is_rejected():
    with pytest.raises(ValueError):
        CheckResult(BUCKET, "maybe")
