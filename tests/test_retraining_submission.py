"""Every retraining submission in the plan is one AWS Batch accepts.

The team's Batch queues are fair-share queues (they carry a scheduling policy), and Batch
rejects a ``SubmitJob`` to such a queue without a ``shareIdentifier`` (Batch API reference,
SubmitJob: "If the job queue has a fair-share scheduling policy, then this parameter must
be specified"). EventBridge's Batch target (``BatchParameters``: JobDefinition, JobName,
ArrayProperties, RetryStrategy) cannot carry one, so a rule targeting a queue directly
never submits anything. These tests find every way the plan submits a Batch job (a rule's
Batch target, a Step Functions task, an EventBridge Scheduler universal target) and check
each against the plan itself: the queue exists, the share identifier is one of that
queue's scheduling-policy shares, and the job definition is created by the estate.
"""

from __future__ import annotations

import json
import re

from mlplatform.capture import capture_stack
from mlplatform.graph import is_unknown
from mlplatform.spec.models import Endpoint

from .helpers.dataplane import by_type

SUBMIT_TASK = re.compile(r"^arn:aws:states:::batch:submitJob(\.sync)?$")
SDK_SUBMIT = "arn:aws:scheduler:::aws-sdk:batch:submitJob"
QUEUE_ARN = re.compile(r"^arn:aws:batch:[a-z0-9-]+:\d{12}:job-queue/(?P<name>.+)$")


def _queue_name(value: str) -> str:
    match = QUEUE_ARN.match(value)
    return match.group("name") if match else value


def _definition_name(value: str) -> str:
    """``name``, ``name:revision`` or the ARN of either -> the name."""
    if value.startswith("arn:"):
        value = value.split(":job-definition/", 1)[1]
    return value.split(":", 1)[0]


def _task_states(definition: dict):
    for state in definition.get("States", {}).values():
        yield state
        for branch in state.get("Branches", []):
            yield from _task_states(branch)
        if "Iterator" in state:
            yield from _task_states(state["Iterator"])
        if "ItemProcessor" in state:
            yield from _task_states(state["ItemProcessor"])


def submissions(graph) -> list[tuple[str, dict]]:
    """(where, SubmitJob request in the API's own casing) for every submission in the plan."""
    found: list[tuple[str, dict]] = []
    for target in by_type(graph, "aws:cloudwatch/eventTarget:EventTarget"):
        batch = target.inputs.get("batchTarget")
        if batch:  # EventBridge's Batch target: BatchParameters has no share identifier
            found.append((target.name, {"jobQueue": target.inputs["arn"], "jobDefinition": batch.get("jobDefinition"),
                                        "jobName": batch.get("jobName")}))
    for machine in by_type(graph, "aws:sfn/stateMachine:StateMachine"):
        definition = machine.inputs["definition"]
        assert not is_unknown(definition), f"{machine.name}: definition unknown at plan time"
        for state in _task_states(json.loads(definition)):
            if state.get("Type") == "Task" and SUBMIT_TASK.match(state.get("Resource", "")):
                params = state.get("Parameters") or state.get("Arguments") or {}
                found.append((machine.name, {key[:1].lower() + key[1:]: value for key, value in params.items()}))
    for schedule in by_type(graph, "aws:scheduler/schedule:Schedule"):
        target = schedule.inputs["target"]
        if target["arn"] == SDK_SUBMIT:
            found.append((schedule.name, json.loads(target["input"])))
    return found


def plan_facts(graph):
    """Queue name -> share identifiers of its scheduling policy (None: no policy, FIFO);
    job definition name -> inputs."""
    policies = {p.urn: p for p in by_type(graph, "aws:batch/schedulingPolicy:SchedulingPolicy")}
    queues = {}
    for queue in by_type(graph, "aws:batch/jobQueue:JobQueue"):
        urns = queue.property_dependencies.get("schedulingPolicyArn", [])
        shares = None
        if urns:
            policy = policies[urns[0]].inputs["fairSharePolicy"]
            shares = {d["shareIdentifier"] for d in policy.get("shareDistributions", [])}
        queues[queue.inputs["name"]] = shares
    definitions = {}
    for definition in by_type(graph, "aws:batch/jobDefinition:JobDefinition"):
        assert definition.inputs["name"] not in definitions, f"two job definitions named {definition.inputs['name']}"
        definitions[definition.inputs["name"]] = definition.inputs
    return queues, definitions


def submission_problems(graph) -> list[str]:
    queues, definitions = plan_facts(graph)
    problems = []
    for where, request in submissions(graph):
        queue = _queue_name(request["jobQueue"])
        if queue not in queues:
            problems.append(f"{where}: job queue {queue} is not in the plan")
            continue
        definition = _definition_name(request["jobDefinition"])
        if definition not in definitions:
            problems.append(f"{where}: job definition {definition} is not created by the estate")
        shares = queues[queue]
        if shares is not None:  # a fair-share queue
            if request.get("shareIdentifier") not in shares:
                problems.append(f"{where}: share identifier {request.get('shareIdentifier')!r} is not one of "
                                f"{sorted(shares)} of fair-share queue {queue}: Batch rejects the job")
            if not isinstance(request.get("schedulingPriorityOverride"), int):
                problems.append(f"{where}: no scheduling priority")
        if not request.get("jobName"):
            problems.append(f"{where}: no job name")
    return problems


def test_every_retraining_submission_names_a_queue_definition_and_share_that_exist(prod_graph):
    assert submissions(prod_graph), "the prod plan submits no Batch job (fraud-detection's scorer retrains on its gpu queue)"
    assert not submission_problems(prod_graph)


def test_every_submitting_retraining_trigger_reaches_a_submission(prod_graph):
    """Each rule of an endpoint that retrains on a queue (schedule and drift alike) starts
    something that submits; none targets the queue directly."""
    machines = {m.inputs["name"]: m for m in by_type(prod_graph, "aws:sfn/stateMachine:StateMachine")}
    targets = [t for t in by_type(prod_graph, "aws:cloudwatch/eventTarget:EventTarget")
               if t.name.startswith("fraud-detection-") and "-scorer-retraining-" in t.name]
    assert {t.name.rsplit("-retraining-", 1)[1] for t in targets} == {"schedule-target", "on-drift-target"}
    for target in targets:
        arn = target.inputs["arn"]
        assert arn.startswith("arn:aws:states:") and ":stateMachine:" in arn, (target.name, arn)
        assert arn.rsplit(":", 1)[1] in machines, (target.name, arn)


def test_retraining_definitions_are_created_once_and_revisions_pass_through(teams_copy):
    """A second endpoint retraining with the same definition (pinned to a revision, on a
    schedule only) adds a submission but no second definition of that name."""
    spec = teams_copy / "fraud-detection.yaml"
    text = spec.read_text()
    anchor = "      expectedRequestsPerSecond: 20\n"
    assert anchor in text
    spec.write_text(text.replace(anchor, anchor + (
        "    - name: scorer-b\n"
        "      mode: realtime\n"
        "      model: {framework: xgboost, frameworkVersion: \"1.7\", artifact: models/scorer-b/}\n"
        "      instanceType: ml.m5.large\n"
        "      retraining: {schedule: rate(7 days), queue: gpu, jobDefinition: \"fraud-scorer-retrain:2\"}\n"), 1))
    graph = capture_stack("dev", teams_dir=str(teams_copy))
    assert not submission_problems(graph)
    requests = {where: request for where, request in submissions(graph)}
    assert requests["fraud-detection-observability-scorer-b-retraining-sfn"]["jobDefinition"] == \
        "fraud-detection-dev-fraud-scorer-retrain:2"
    named = [d for d in by_type(graph, "aws:batch/jobDefinition:JobDefinition")
             if d.inputs["name"] == "fraud-detection-dev-fraud-scorer-retrain"]
    assert len(named) == 1


def test_definition_owners_skip_retired_endpoints_and_share_names_across_queues():
    from components.retraining import retraining_job_definitions

    def endpoint(name, queue, definition, retired=False):
        data = {"name": name, "mode": "realtime", "instanceType": "ml.m5.large",
                "model": {"framework": "xgboost", "frameworkVersion": "1.7", "artifact": f"models/{name}/"},
                "retraining": {"schedule": "rate(7 days)", "queue": queue, "jobDefinition": definition}}
        if retired:
            data["retired"] = {"reason": "replaced by a better model"}
        return Endpoint.model_validate(data)

    owners = retraining_job_definitions([
        endpoint("a", "gpu", "retrain:3"), endpoint("b", "big", "retrain"), endpoint("c", "big", "other"),
        endpoint("d", "gpu", "gone", retired=True)])
    assert owners == {"gpu": ("retrain",), "big": ("other",)}
