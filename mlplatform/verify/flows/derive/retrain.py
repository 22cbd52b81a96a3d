"""MLP-FLOW-RETRAIN: retraining submits to the team's Batch queue, by an EventBridge target,
a state machine it starts, or an EventBridge Scheduler schedule: the trust and permission
steps of each leg, and whether Batch would accept the SubmitJob request it sends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from mlplatform.graph import GraphResource
from mlplatform.type_tokens import (
    BATCH_JOB_DEFINITION, BATCH_JOB_QUEUE, BATCH_SCHEDULING_POLICY, CLOUDWATCH_EVENT_RULE, CLOUDWATCH_EVENT_TARGET,
    SCHEDULER_SCHEDULE, SFN_STATE_MACHINE)

from ..declarations import SCHEDULER_SUBMIT_JOB, Flow
from ..estate import Estate, Unresolved, known
from ..states import RUN_A_JOB, DefinitionError, parse_definition, submit_job_tasks
from .steps import Actor, guard, trust_step

_STATE_MACHINE_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[^:]+(:[^:]+)?$")
#: SubmitJob fields a proof needs to read in the request (the rest do not decide acceptance)
_DECISIVE_FIELDS = ("JobName", "JobQueue", "JobDefinition", "ShareIdentifier", "SchedulingPriorityOverride", "Tags")
#: Batch's bounds for schedulingPriorityOverride (botocore batch SubmitJob documentation)
PRIORITY_RANGE = (0, 9999)
#: the rule Step Functions manages to learn when a .sync Batch job ends (Step Functions
#: Developer Guide, "IAM policies for calling AWS Batch", Run a Job)
BATCH_SYNC_RULE = "StepFunctionsGetEventsForBatchJobsRule"


@dataclass(frozen=True)
class SubmitRequest:
    """A SubmitJob request as a trigger sends it, read from the plan."""

    via: str
    queue: Any
    definition: Any
    share: Any = None
    priority: Any = None
    tags: Any = None
    #: False when the path cannot send shareIdentifier at all (EventBridge's batchTarget)
    carries_share: bool = True
    #: the path sends SubmitJob's own request (Scheduler, Step Functions): JobName is ours to give
    whole_request: bool = True
    job_name: Any = None


def retrain_flows(estate: Estate) -> Iterator[Flow]:
    for target in estate.of_type(CLOUDWATCH_EVENT_TARGET):
        arn = target.inputs.get("arn")
        if isinstance(arn, str) and ":job-queue/" in arn:
            flow = Flow("MLP-FLOW-RETRAIN", f"event target {target.name} submits to {arn.rsplit('/', 1)[-1]}", target)
            batch = target.inputs.get("batchTarget") or {}
            request = SubmitRequest("EventBridge batchTarget (BatchParameters has no shareIdentifier)", arn,
                                    batch.get("jobDefinition"), carries_share=False, whole_request=False)
            rule_arn = guard(flow, lambda: _rule_arn(estate, flow, target))
            if rule_arn is not None:
                _submission(estate, flow, request, estate.region_of(target), target.inputs.get("roleArn"),
                            "events.amazonaws.com", rule_arn)
            yield flow
        elif isinstance(arn, str) and _STATE_MACHINE_ARN.match(arn):
            machine = _state_machine(estate, target, arn)
            if machine is None and not _under_retraining(estate, target):
                continue  # a state machine of the plan's, not a retraining submission
            flow = Flow("MLP-FLOW-RETRAIN", f"event target {target.name} starts state machine "
                        f"{arn.split(':')[6]}", target)
            submits = guard(flow, lambda: _state_machine_path(estate, flow, target, arn, machine))
            if submits is False and not _under_retraining(estate, target):
                continue  # its machine submits no Batch job: another kind of flow
            yield flow
    for schedule in estate.of_type(SCHEDULER_SCHEDULE):
        target = schedule.inputs.get("target") or {}
        if target.get("arn") != SCHEDULER_SUBMIT_JOB:
            continue
        flow = Flow("MLP-FLOW-RETRAIN", f"schedule {schedule.inputs.get('name')} submits a Batch job", schedule)
        fields = guard(flow, lambda: _scheduler_input(target))
        if fields is not None:
            source = f"arn:aws:scheduler:{estate.region_of(schedule)}:{estate.account}:schedule/" \
                     f"{schedule.inputs.get('groupName') or 'default'}/{schedule.inputs.get('name')}"
            request = SubmitRequest("EventBridge Scheduler batch:submitJob", fields.get("JobQueue"),
                                    fields.get("JobDefinition"), fields.get("ShareIdentifier"),
                                    fields.get("SchedulingPriorityOverride"), fields.get("Tags"),
                                    job_name=fields.get("JobName"))
            _submission(estate, flow, request, estate.region_of(schedule), target.get("roleArn"),
                        "scheduler.amazonaws.com", source)
        yield flow


def _scheduler_input(target: dict) -> dict:
    text = target.get("input")
    if not known(text):
        raise Unresolved("the schedule's SubmitJob input is unknown in this plan")
    try:
        request = json.loads(text)
    except ValueError:
        raise Unresolved("the schedule's SubmitJob input is not JSON") from None
    if not isinstance(request, dict):
        raise Unresolved("the schedule's SubmitJob input is not an object")
    return request


def _rule_arn(estate: Estate, flow: Flow, target: GraphResource) -> str:
    """The ARN of the target's rule, which EventBridge sends as aws:SourceArn when it assumes
    the target's role (rule/<name> on the default bus, rule/<bus>/<name> on another)."""
    name = estate.name_via(target, "rule", CLOUDWATCH_EVENT_RULE, "name")
    bus = target.inputs.get("eventBusName")
    path = f"{bus}/{name}" if isinstance(bus, str) and bus not in ("", "default") else name
    for rule in estate.of_type(CLOUDWATCH_EVENT_RULE):
        if rule.inputs.get("name") == name and (rule.inputs.get("state") == "DISABLED"
                                                or rule.inputs.get("isEnabled") is False):
            flow.problems.append(f"rule {name} is disabled")
    return f"arn:aws:events:{estate.region_of(target)}:{estate.account}:rule/{path}"


def _state_machine(estate: Estate, target: GraphResource, arn: str) -> Optional[GraphResource]:
    name = arn.split(":")[6]
    for machine in estate.of_type(SFN_STATE_MACHINE):
        if machine.inputs.get("name") == name:
            return machine
    by_dependency = estate.deps(target, "arn", SFN_STATE_MACHINE)
    return by_dependency[0] if len(by_dependency) == 1 else None


def _under_retraining(estate: Estate, resource: GraphResource) -> bool:
    """Is the resource part of a retraining trigger component (whose target must submit)?"""
    urn = resource.parent
    while urn:
        parent = estate.graph.get(urn)
        if parent is None:
            return False
        if parent.type.endswith(":RetrainingTrigger"):
            return True
        urn = parent.parent
    return False


def _state_machine_path(estate: Estate, flow: Flow, target: GraphResource, arn: str,
                        machine: Optional[GraphResource]) -> bool:
    """EventBridge -> state machine -> Batch. Returns whether the machine submits a Batch job.

    EventBridge leg: the target's role is assumed by ``events.amazonaws.com`` with
    aws:SourceAccount and aws:SourceArn = the rule's ARN (EventBridge User Guide, "Using
    resource-based policies / IAM roles for sending events to targets", confused deputy),
    and must be allowed ``states:StartExecution`` on the machine's ARN (Service Authorization
    Reference, Step Functions: resource type stateMachine, condition key
    states:StateMachineQualifier, absent for an unqualified ARN).
    Step Functions leg: the machine's role is assumed by ``states.amazonaws.com`` with
    aws:SourceArn = the machine's ARN, and every ``batch:submitJob`` task is a SubmitJob
    request proved like any other (:func:`_submission`).
    """
    rule_arn = _rule_arn(estate, flow, target)
    parts = arn.split(":")
    name, qualifier = parts[6], (parts[7] if len(parts) > 7 else None)
    role_arn = target.inputs.get("roleArn")
    if role_arn is None:
        flow.problems.append("the target has no role: EventBridge starts a state machine only with one")
    else:
        role = guard(flow, lambda: estate.role(role_arn))
        if role is not None:
            guard(flow, lambda: flow.steps.append(trust_step(estate, role, "events.amazonaws.com", rule_arn)))
            context = {"states:StateMachineQualifier": qualifier, **_resource_tag_context(machine)}
            flow.steps.append(Actor.of_role(role).step(
                f"states:StartExecution on {arn}", "states:StartExecution", arn, context,
                complete=("states:", "aws:resourcetag/")))
    if machine is None:
        flow.problems.append(f"state machine {name} is not created by this plan")
        return False
    machine_name = machine.inputs.get("name")
    region = estate.region_of(machine)
    machine_arn = f"arn:aws:states:{region}:{estate.account}:stateMachine:{machine_name}"
    definition = machine.inputs.get("definition")
    if not known(definition):
        raise Unresolved(f"the definition of state machine {machine_name} is unknown in this plan")
    try:
        tasks = submit_job_tasks(parse_definition(definition))
    except DefinitionError as exc:
        flow.problems.append(f"the definition of state machine {machine_name} is not valid: {exc}")
        return False
    if not tasks:
        flow.problems.append(f"state machine {machine_name} has no batch:submitJob task")
        return False
    machine_role = guard(flow, lambda: estate.role(machine.inputs.get("roleArn")))
    if machine_role is not None:
        guard(flow, lambda: flow.steps.append(trust_step(estate, machine_role, "states.amazonaws.com",
                                                          machine_arn)))
    for task in tasks:
        via = f"state machine {machine_name} task {task.path}"
        dynamic = [field_name for field_name in task.dynamic
                   if field_name in _DECISIVE_FIELDS or field_name == "(all arguments)"]
        if dynamic:
            flow.unproven.append(f"{via}: {', '.join(dynamic)} computed at run time")
        fields = task.fields
        request = SubmitRequest(via, fields.get("JobQueue"), fields.get("JobDefinition"), fields.get("ShareIdentifier"),
                                fields.get("SchedulingPriorityOverride"), fields.get("Tags"),
                                job_name=fields.get("JobName", "(computed)" if "JobName" in task.dynamic else None))
        checked = _check_request(estate, flow, request, region)
        if machine_role is None:
            continue
        if checked is not None:
            _submit_job_steps(flow, Actor.of_role(machine_role), request, *checked, label=f"{via}: ")
        if task.pattern == RUN_A_JOB:
            _sync_steps(estate, flow, Actor.of_role(machine_role), region, label=f"{via}: ")
    return True


def _sync_steps(estate: Estate, flow: Flow, actor: "Actor", region: str, label: str) -> None:
    """What a .sync Batch task does besides submitting: it describes and may terminate the
    job, and manages the rule through which it learns the job ended."""
    job = f"arn:aws:batch:{region}:{estate.account}:job/00000000-0000-0000-0000-000000000000"
    flow.steps.append(actor.step(f"{label}batch:DescribeJobs", "batch:DescribeJobs", "*"))
    flow.steps.append(actor.step(f"{label}batch:TerminateJob on {job}", "batch:TerminateJob", job,
                                 complete=("aws:resourcetag/",)))
    rule = f"arn:aws:events:{region}:{estate.account}:rule/{BATCH_SYNC_RULE}"
    for action in ("events:PutRule", "events:PutTargets", "events:DescribeRule"):
        flow.steps.append(actor.step(f"{label}{action} on {rule}", action, rule))


def _submission(estate: Estate, flow: Flow, request: SubmitRequest, region: str, role_arn: Any, service: str,
                source_arn: str) -> None:
    """A service assumes ``role_arn`` (aws:SourceArn = ``source_arn``) and submits ``request``."""
    checked = _check_request(estate, flow, request, region)
    role = guard(flow, lambda: estate.role(role_arn))
    if role is None:
        return
    guard(flow, lambda: flow.steps.append(trust_step(estate, role, service, source_arn)))
    if checked is not None:
        _submit_job_steps(flow, Actor.of_role(role), request, *checked)


def _check_request(estate: Estate, flow: Flow, request: SubmitRequest, region: str
                   ) -> Optional[tuple[str, str, Optional[GraphResource], Optional[GraphResource]]]:
    """Would Batch accept the request (AWS Batch API reference, SubmitJob, as botocore's model
    documents it): JobName, a queue and a job definition that exist, shareIdentifier exactly
    when the queue is fair-share, a share its scheduling policy knows, and (our rule for
    fair-share queues) the priority the submission runs at, within 0-9999. Returns (queue
    ARN, job definition ARN, queue, job definition) for the permission steps, None when the
    request names no queue or no definition."""
    prefix = f"{request.via}: " if request.via.startswith("state machine") else ""
    problems = []
    if request.whole_request and not request.job_name:
        problems.append("the submission has no JobName, which SubmitJob requires")
    queue_ref = request.queue if isinstance(request.queue, str) else ""
    definition_ref = request.definition if isinstance(request.definition, str) else ""
    if not queue_ref:
        problems.append("the submission names no job queue")
    if not definition_ref:
        problems.append("the submission names no job definition")
    queue_name = queue_ref.rsplit("/", 1)[-1]
    queue = next((q for q in estate.of_type(BATCH_JOB_QUEUE) if q.inputs.get("name") == queue_name), None)
    share = request.share if isinstance(request.share, str) and request.share else None
    if queue_ref and queue is None:
        problems.append(f"job queue {queue_name} is not created by this plan")
    elif queue is not None:
        if queue.inputs.get("state") == "DISABLED":
            problems.append(f"job queue {queue_name} is DISABLED: Batch accepts no new jobs")
        if queue.inputs.get("schedulingPolicyArn") is not None:
            if not request.carries_share:
                problems.append(f"job queue {queue_name} is fair-share (it has a scheduling policy) and Batch "
                                f"rejects jobs without shareIdentifier, which {request.via} cannot carry")
            elif share is None:
                problems.append(f"job queue {queue_name} is fair-share but the submission has no ShareIdentifier")
            else:
                problems.extend(_share_problems(estate, flow, queue, share))
            if request.carries_share:
                problems.extend(_priority_problems(queue_name, request.priority))
        elif share is not None:
            problems.append(f"job queue {queue_name} has no scheduling policy but the submission sends "
                            f"ShareIdentifier {share}, which Batch rejects")
    name, revision = _job_definition_parts(definition_ref)
    definition = next((d for d in estate.of_type(BATCH_JOB_DEFINITION) if d.inputs.get("name") == name), None)
    if name and definition is None:
        problems.append(f"job definition {name} is not created by this plan")
    flow.problems.extend(prefix + problem for problem in problems)
    if not queue_ref or not name:
        return None
    queue_arn = queue_ref if queue_ref.startswith("arn:") else \
        f"arn:aws:batch:{region}:{estate.account}:job-queue/{queue_ref}"
    definition_arn = definition_ref if definition_ref.startswith("arn:") else \
        f"arn:aws:batch:{region}:{estate.account}:job-definition/{name}" + (f":{revision}" if revision else "")
    return queue_arn, definition_arn, queue, definition


def _job_definition_parts(reference: str) -> tuple[str, Optional[str]]:
    """(name, revision or None) of ``name``, ``name:revision`` or a job definition ARN with
    or without its revision."""
    text = reference.rsplit("job-definition/", 1)[-1] if reference.startswith("arn:") else reference
    name, _, revision = text.partition(":")
    return name, revision or None


def _share_problems(estate: Estate, flow: Flow, queue: GraphResource, share: str) -> list[str]:
    policies = estate.deps(queue, "schedulingPolicyArn", BATCH_SCHEDULING_POLICY)
    policy_arn = queue.inputs.get("schedulingPolicyArn")
    if not policies and isinstance(policy_arn, str) and known(policy_arn):
        policy_name = policy_arn.rsplit("/", 1)[-1]
        policies = [p for p in estate.of_type(BATCH_SCHEDULING_POLICY) if p.inputs.get("name") == policy_name]
    if not policies:
        flow.unproven.append(f"the scheduling policy of {queue.inputs.get('name')} is not in this plan")
        return []
    distributions = ((policies[0].inputs.get("fairSharePolicy") or {}).get("shareDistributions") or [])
    identifiers = [d.get("shareIdentifier", "") for d in distributions]
    if any(i == share or (i.endswith("*") and share.startswith(i[:-1])) for i in identifiers):
        return []
    return [f"share identifier {share} is not in the scheduling policy's shares {identifiers}"]


def _priority_problems(queue_name: str, priority: Any) -> list[str]:
    if priority is None:
        return [f"job queue {queue_name} is fair-share but the submission has no SchedulingPriorityOverride"]
    low, high = PRIORITY_RANGE
    if isinstance(priority, bool) or not isinstance(priority, int) or not low <= priority <= high:
        return [f"SchedulingPriorityOverride {priority!r} is not an integer in {low}-{high}"]
    return []


def _submit_job_steps(flow: Flow, actor: "Actor", request: SubmitRequest, queue_arn: str, definition_arn: str,
                      queue: Optional[GraphResource], definition: Optional[GraphResource], label: str = "") -> None:
    """``batch:SubmitJob`` is authorized on the job definition and on the job queue (Batch User
    Guide, "Resource: Restrict to a job queue": both resource types must be allowed), with the
    request's ``batch:ShareIdentifier`` (Service Authorization Reference for AWS Batch, as
    parliament's iam_definition.json ships it: SubmitJob supports batch:ShareIdentifier,
    batch:EKSImage, batch:EKSNamespace, aws:RequestTag/*, aws:TagKeys). The job definition is
    authorized in the form the request names it: ``job-definition/<name>`` without a revision
    (aws/aws-sdk-js#4280 shows the denied resource without one), ``<name>:<revision>`` with
    one (udondan/iam-floyd#431)."""
    tags = request.tags if isinstance(request.tags, dict) else {}
    context: dict[str, Any] = {"batch:ShareIdentifier": request.share if isinstance(request.share, str) else None,
                               "aws:TagKeys": sorted(tags) or None}
    context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
    for resource_arn, resource in ((definition_arn, definition), (queue_arn, queue)):
        flow.steps.append(actor.step(f"{label}batch:SubmitJob on {resource_arn}", "batch:SubmitJob", resource_arn,
                                     {**context, **_resource_tag_context(resource)},
                                     complete=("batch:", "aws:resourcetag/", "aws:requesttag/")))


def _resource_tag_context(resource: Optional[GraphResource]) -> dict[str, str]:
    """aws:ResourceTag/* of a resource of the plan (its tags and the provider's default tags)."""
    if resource is None:
        return {}
    tags = dict(resource.effective_tags or {})
    if isinstance(resource.inputs.get("tags"), dict):
        tags.update({k: v for k, v in resource.inputs["tags"].items() if isinstance(v, str)})
    return {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
