"""The platform defaults agree with what documents and judges them: the README (its table of
settings and its observability section say what the code does) and the checkers (every log
retention a stack may choose passes the policy pack's MLP-RET-001 and checkov's CKV_AWS_338,
so no override yields a plan that CI blocks), and AWS (every range's ends give a plan that
botocore's service models accept)."""

from __future__ import annotations

import json
import re

import pulumi
import pulumi_aws as aws
import pytest
from pydantic.alias_generators import to_camel

from mlplatform.capture import capture_program, project_name
from mlplatform.checkov.runner import scan
from mlplatform.estate.program import run
from mlplatform.platform_defaults import PERMITTED_LOG_RETENTION_DAYS, PLATFORM_DEFAULTS, PlatformDefaults
from mlplatform.reports.findings import FAILED, PASSED
from mlplatform.stackconfig import PROJECT_ROOT, config_values_from_stack_file, stack_file
from mlplatform.verify import acceptance
from policies.rules import ALL_RULES
from tests.helpers.policy import base_values, check_case, res
from tests.helpers.policy_resources import KEY_ARN, LOG_GROUP

README = (PROJECT_ROOT / "README.md").read_text()
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")


def _bounds(name: str) -> tuple[float, float]:
    metadata = PlatformDefaults.model_fields[name].metadata
    low = next(item.ge for item in metadata if type(item).__name__ == "Ge")
    high = next(item.le for item in metadata if type(item).__name__ == "Le")
    return low, high


def _number(value: float) -> str:
    """A bound as the README writes it: 30, 0.01, 1209600."""
    return str(int(value)) if value == int(value) else str(value)


def _table_rows() -> dict[str, list[str]]:
    """setting -> its cells in the README's table of platform defaults."""
    rows = {}
    for line in README.splitlines():
        match = re.match(r"^\| `([A-Za-z0-9]+)` \|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


@pytest.mark.parametrize("name", list(PlatformDefaults.model_fields))
def test_the_readme_table_gives_each_settings_default_and_range(name):
    rows = _table_rows()
    setting = to_camel(name)
    assert setting in rows, f"README's platform defaults table has no row for {setting}"
    default, accepted = rows[setting][0], rows[setting][1]
    number = re.match(r"^([0-9]+(?:\.[0-9]+)?)", default)
    assert number and float(number.group(1)) == getattr(PLATFORM_DEFAULTS, name), (setting, default)
    low, high = _bounds(name)
    assert f"{_number(low)}..{_number(high)}" in accepted, (setting, accepted)


def test_the_readme_observability_section_gives_the_log_retention_the_code_uses():
    match = re.search(r"retention by data classification \(public (\d+), internal (\d+), confidential (\d+),\s+"
                      r"restricted (\d+) days", README)
    assert match, "the README's observability section no longer states the log retention by classification"
    stated = dict(zip(CLASSIFICATIONS, map(int, match.groups())))
    assert stated == {c: PLATFORM_DEFAULTS.log_retention_days(c) for c in CLASSIFICATIONS}


def test_the_pack_accepts_every_retention_a_stack_may_choose():
    """MLP-RET-001's default bounds (what CI runs) contain every permitted value, for every class."""
    (ret001,) = [r for r in ALL_RULES if r.id == "MLP-RET-001"]
    bounds = ret001.config["bounds"]["default"]
    assert set(bounds) == set(CLASSIFICATIONS)
    for classification in CLASSIFICATIONS:
        assert bounds[classification]["min"] <= min(PERMITTED_LOG_RETENTION_DAYS), classification
        assert max(PERMITTED_LOG_RETENTION_DAYS) <= bounds[classification]["max"], classification
    low, high = _bounds("log_retention_days_restricted")
    assert (low, high) == (min(PERMITTED_LOG_RETENTION_DAYS), max(PERMITTED_LOG_RETENTION_DAYS))


@pytest.mark.parametrize("days", [min(PERMITTED_LOG_RETENTION_DAYS), max(PERMITTED_LOG_RETENTION_DAYS)])
def test_the_served_pack_passes_a_log_group_at_either_end_of_the_range(days):
    check_case("MLP-RET-001", lambda: [res(LOG_GROUP, "lg", {"kmsKeyId": KEY_ARN, "retentionInDays": days})],
               base_values(), False)


def test_checkov_passes_every_retention_a_stack_may_choose_and_fails_one_below(checkov_exe):
    """CKV_AWS_338 (a year at least) on log groups with each permitted retention, and on one
    with the largest CloudWatch value below the range, which it must fail (so the scan sees them)."""
    below = 180

    def program():
        for days in (*PERMITTED_LOG_RETENTION_DAYS, below):
            aws.cloudwatch.LogGroup(f"lg-{days}", name=f"/test/{days}", retention_in_days=days, kms_key_id=KEY_ARN,
                                    opts=pulumi.ResourceOptions())

    report = scan(capture_program(program, "retention", {}, "retention-range"), executable=checkov_exe)
    verdicts = {r.resource_name: r.status for r in report.results if r.rule.id == "CKV_AWS_338"}
    assert verdicts[f"lg-{below}"] == FAILED
    assert {verdicts[f"lg-{days}"] for days in PERMITTED_LOG_RETENTION_DAYS} == {PASSED}


@pytest.mark.parametrize("end", ["low", "high"])
def test_every_default_at_either_end_of_its_range_gives_a_plan_aws_accepts(end):
    """The prod plan (it forwards logs to Splunk, whose Firehose buffering range is the narrower
    one, and has every kind of endpoint) with every default at its lowest, then its highest,
    accepted value passes AWS acceptance (botocore's service-model ranges of the fields the
    type map checks: Firehose buffering and retry, Lambda memory, SageMaker async concurrency,
    ...). A range wider than AWS's (a Splunk buffer of 900 s) fails here."""
    values = {to_camel(name): _bounds(name)[0 if end == "low" else 1] for name in PlatformDefaults.model_fields}
    config, _ = config_values_from_stack_file(stack_file("prod"))
    config["mlplatform:defaults"] = json.dumps(values)
    outcome = acceptance.run(capture_program(run, "prod", config, project_name()))
    assert outcome.values_checked > 1000
    assert [r for r in outcome.results if r.status == FAILED] == []
