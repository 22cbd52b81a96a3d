"""Advisories are advice everywhere: never a failure in JUnit, and true when they speak.

MLP-ADV-001 ("training capacity is on-demand ... enable spot") used to fire on the
on-demand *fallback* environment of queues that already run spot first; it now reads the
job queues' order. The pack is driven over its protocol, as in tests/test_policy_rules.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from mlplatform.reports.findings import (
    ADVISORY, FAILED, MANDATORY, PASSED, CheckResult, FindingsReport, Rule, combine_junit, render_junit,
)

from tests.helpers.policy import ACCOUNT, failures, graph_of, res, run

COMPUTE = "aws:batch/computeEnvironment:ComputeEnvironment"
JOB_QUEUE = "aws:batch/jobQueue:JobQueue"
URN = "urn:pulumi:dev::mlp::aws:batch/computeEnvironment:ComputeEnvironment::fraud-gpu-on-demand"


# ---------------------------------------------------------------- JUnit

def _report() -> FindingsReport:
    spot = Rule("MLP-ADV-001", "Spot capacity for training", remediation="Enable spot in the queue's spec.")
    tls = Rule("MLP-S3-001", "S3 buckets deny non-TLS requests", remediation="add a TLS-only statement")
    return FindingsReport("mlp-policy", "dev", [
        CheckResult(spot, FAILED, ADVISORY, "training capacity is on-demand (EC2)", URN, COMPUTE,
                    "fraud-gpu-on-demand", "examples/teams/fraud.yaml", 46, "fraud"),
        CheckResult(tls, PASSED, MANDATORY, resource_name="bucket"),
    ])


def _suite(xml: str):
    return ElementTree.fromstring(xml.split("?>", 1)[1]).find("testsuite")


def test_an_advisory_is_a_passing_junit_case_that_carries_the_advice():
    suite = _suite(render_junit(_report()))
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "0", "0")
    case = suite.find("testcase[@classname='MLP-ADV-001']")
    assert case.find("failure") is None and case.find("skipped") is None
    advice = case.find("system-out").text
    assert advice.startswith("advisory: training capacity is on-demand (EC2)")
    assert "examples/teams/fraud.yaml:46" in advice and "Enable spot in the queue's spec." in advice


def test_a_mandatory_failure_still_fails_beside_an_advisory():
    report = _report()
    report.results.append(CheckResult(Rule("MLP-S3-001", "TLS"), FAILED, MANDATORY, "plain HTTP allowed",
                                       resource_name="open-bucket"))
    suite = _suite(combine_junit([report]))
    assert suite.get("failures") == "1"
    assert suite.find("testcase[@name='open-bucket']/failure").get("type") == MANDATORY
    assert suite.find("testcase[@classname='MLP-ADV-001']/failure") is None


# ---------------------------------------------------------------- MLP-ADV-001 is true

def _environment(label: str, kind: str, **tags: str):
    name = f"fraud-prod-gpu-train-{label}"
    inputs = {"name": name, "type": "MANAGED", "computeResources": {
        "type": kind, "instanceTypes": ["g5.2xlarge"], "maxVcpus": 32, "subnets": ["subnet-1"]}}
    if tags:
        inputs["tags"] = tags
    return res(COMPUTE, f"fraud-queue-gpu-ce-{label}", inputs)


def _job_queue(*labels: str):
    arn = f"arn:aws:batch:eu-west-1:{ACCOUNT}:compute-environment/fraud-prod-gpu-train"
    return res(JOB_QUEUE, "fraud-queue-gpu-job-queue", {"name": "fraud-prod-gpu-train", "state": "ENABLED", "priority": 1,
               "computeEnvironmentOrders": [{"order": order, "computeEnvironment": f"{arn}-{label}"}
                                            for order, label in enumerate(labels, start=1)]})


def _advised(*resources) -> list[str]:
    return sorted(r.resource_name for r in failures(run(graph_of(*resources)), "MLP-ADV-001"))


def test_the_on_demand_fallback_of_a_spot_first_queue_gets_no_advice():
    assert _advised(_environment("spot", "SPOT"), _environment("on-demand", "EC2"),
                    _job_queue("spot", "on-demand")) == []


def test_on_demand_without_spot_before_it_is_advised():
    # an on-demand-only queue, and a queue that tries on-demand first
    assert _advised(_environment("on-demand", "EC2"), _job_queue("on-demand")) == ["fraud-queue-gpu-ce-on-demand"]
    assert _advised(_environment("spot", "SPOT"), _environment("on-demand", "EC2"),
                    _job_queue("on-demand", "spot")) == ["fraud-queue-gpu-ce-on-demand"]
    # an environment no job queue orders proves nothing about a fallback
    assert _advised(_environment("on-demand", "EC2")) == ["fraud-queue-gpu-ce-on-demand"]


def test_a_deadline_still_silences_the_advice():
    assert _advised(_environment("on-demand", "EC2", deadline="2027-01-31"), _job_queue("on-demand")) == []


def test_the_advisory_names_the_environment_and_stays_advisory():
    report = run(graph_of(_environment("on-demand", "EC2"), _job_queue("on-demand")))
    [finding] = failures(report, "MLP-ADV-001")
    assert finding.enforcement == ADVISORY and finding not in report.blocking
    assert finding.urn.endswith("::fraud-queue-gpu-ce-on-demand")
    assert "no spot environment before it" in finding.message
