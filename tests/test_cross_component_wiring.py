"""Components built apart must address each other by the names the other really uses.

Observability, retraining and serving derive names of resources another component
creates (Batch queues, SNS topics, endpoints). These tests join the two sides in the
production plan, so a renamed resource cannot leave a rule or alarm pointing at nothing.
"""

import json
import re

from mlplatform.graph import is_unknown

from .helpers.dataplane import by_type

ARN_NAME = re.compile(r"^arn:aws:[a-z0-9-]+:[a-z0-9-]+:\d{12}:(?:job-queue/)?(?P<name>[^:/]+)$")


def _names(graph, type_token, key="name"):
    return {resource.inputs.get(key) for resource in by_type(graph, type_token)}


def _arn_name(arn: str) -> str:
    match = ARN_NAME.match(arn)
    assert match, arn
    return match.group("name")


def test_retraining_submissions_and_failed_job_rules_name_real_batch_queues(prod_graph):
    queues = _names(prod_graph, "aws:batch/jobQueue:JobQueue")
    machines = by_type(prod_graph, "aws:sfn/stateMachine:StateMachine")
    assert machines
    for machine in machines:  # the retraining submission (tests/test_retraining_submission.py checks all of it)
        for state in json.loads(machine.inputs["definition"])["States"].values():
            assert _arn_name(state["Parameters"]["JobQueue"]) in queues, machine.name
    assert not [r for r in by_type(prod_graph, "aws:cloudwatch/eventTarget:EventTarget") if "batchTarget" in r.inputs]
    rules = [r for r in by_type(prod_graph, "aws:cloudwatch/eventRule:EventRule") if "jobQueue" in r.inputs.get("eventPattern", "")]
    assert rules
    for rule in rules:
        pattern = json.loads(rule.inputs["eventPattern"])
        arns = [arn for part in pattern["$or"] for arn in part["detail"].get("jobQueue", [])]
        assert arns and all(_arn_name(arn) in queues for arn in arns), rule.name


def test_every_alarm_action_is_a_topic_of_the_plan(prod_graph):
    topics = _names(prod_graph, "aws:sns/topic:Topic")
    alarms = by_type(prod_graph, "aws:cloudwatch/metricAlarm:MetricAlarm") + by_type(
        prod_graph, "aws:cloudwatch/compositeAlarm:CompositeAlarm")
    assert alarms
    for alarm in alarms:
        for key in ("alarmActions", "okActions", "insufficientDataActions"):
            for arn in alarm.inputs.get(key) or []:
                if is_unknown(arn):  # a topic of this plan passed by reference: wired by the engine
                    continue
                assert _arn_name(arn) in topics, (alarm.name, key, arn)


def test_a_retired_endpoint_keeps_its_model_package_group_tagged_with_reason_and_successor(prod_graph):
    groups = {r.inputs["modelPackageGroupName"]: r for r in by_type(prod_graph, "aws:sagemaker/modelPackageGroup:ModelPackageGroup")}
    retired = [g for g in groups.values() if (g.inputs.get("tags") or {}).get("lifecycle") == "retired"]
    assert [g.name for g in retired] == ["nlp-research-registry-summariser-v1"]
    assert retired[0].inputs["tags"]["retired-successor"] == "summariser-eval"
    assert retired[0].options["protect"]  # its model versions are records
    assert not [r for r in by_type(prod_graph, "aws:sagemaker/endpoint:Endpoint") if "summariser-v1" in r.name]
    live = [g for g in groups.values() if "summariser-eval" in g.name]
    assert live and "lifecycle" not in (live[0].inputs.get("tags") or {})
