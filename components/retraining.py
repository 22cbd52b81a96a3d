"""Lifecycle: retraining triggers (the record of retired endpoints: ``components/retired_endpoint``).

Retraining (``endpoints[].retraining``): an EventBridge rule on a schedule and/or on the
endpoint's prediction-drift alarm entering ALARM. With a queue and job definition both
rules start one Step Functions state machine whose only task submits the retraining job
to the team's Batch queue (:func:`submission_definition`); without them the rules tell
the team's info topic, for teams that retrain elsewhere.

Why a state machine: the team's queues are fair-share queues (they carry a scheduling
policy), and Batch rejects ``SubmitJob`` to such a queue without a ``shareIdentifier``
(Batch API reference, SubmitJob). EventBridge's own Batch target cannot send one: its
``BatchParameters`` hold only JobDefinition, JobName, ArrayProperties and RetryStrategy
(EventBridge API reference). The Step Functions Batch integration
(``arn:aws:states:::batch:submitJob``) passes SubmitJob's parameters in PascalCase,
``ShareIdentifier`` and ``SchedulingPriorityOverride`` included (in use on fair-share
queues since 2022, e.g. ASFHyP3/hyp3 pull requests 790 and 802). One machine serves both
triggers, so there is one submission request, one role that may submit it, one execution
history of every retraining started, and one alarm when a submission fails.

The request names the queue (:func:`components.training_batch.job_queue_name`), the
team's share identifier (:func:`components.training_batch.share_identifier`), the queue's
scheduling priority, and the job definition the estate creates for it
(:func:`components.training_batch.job_definition_name` of ``retraining.jobDefinition``,
created by the queue's component: :func:`retraining_job_definitions`). The machine's role
may submit only that definition to that queue, and only with that share identifier
(``batch:ShareIdentifier``); the rules' role may start only that machine. The machine logs
every execution, with its input, to a log group encrypted with the team's alert key and
traces with X-Ray.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import physical_name, role_name
from mlplatform.spec.models import Endpoint, TrainingQueue
from mlplatform.type_tokens import RETRAINING_TRIGGER

from .alarm_names import alarm_arn, alarm_name
from .base import SpecComponent, TeamContext
from .drift_monitor import drift_alarm_name
from .grants import StateMachineAccess, grant_xray_write
from .iam import allow
from .log_groups import log_retention_days
from .service_role import ServiceRoleArgs, ServiceTrust, grant_to_role, service_role
from .training_batch import job_definition_name, job_queue_name, share_identifier

#: Step Functions' optimized Batch integration, request-response: the execution ends once
#: Batch has accepted the job (its failures are watched on the queue, see PipelineFailures).
SUBMIT_JOB_TASK = "arn:aws:states:::batch:submitJob"
#: Batch's server-side error as the integration names it; client errors (a bad request) fail at once.
RETRIED_ERRORS = ("Batch.ServerException",)
#: Step Functions state machine names: 1-80 characters.
STATE_MACHINE_NAME_LENGTH = 80


def batch_queue_name(team: str, environment: str, queue: str) -> str:
    """AWS Batch job queue of a spec queue, named as the training component names it."""
    return job_queue_name(team, environment, queue)


def live_endpoints(endpoints: list[Endpoint]) -> list[tuple[int, Endpoint]]:
    """(spec index, endpoint) of every endpoint that is not retired: what gets built."""
    return [(index, endpoint) for index, endpoint in enumerate(endpoints) if endpoint.retired is None]


def drift_alarm_pattern(alarm_arn_: str) -> dict:
    return {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
            "resources": [alarm_arn_], "detail": {"state": {"value": ["ALARM"]}}}


def split_job_definition(value: str) -> tuple[str, Optional[str]]:
    """``retraining.jobDefinition`` -> (name, revision or None)."""
    name, _, revision = value.partition(":")
    return name, revision or None


def retraining_job_definitions(endpoints: list[Endpoint]) -> dict[str, tuple[str, ...]]:
    """Queue name -> the retraining job definition names (spec form, no revision) its
    component creates. A definition is not tied to a queue in Batch, so a name that several
    queues' retraining use is created once, by the first queue (in endpoint order) naming it."""
    owner: dict[str, str] = {}
    for _, endpoint in live_endpoints(endpoints):
        spec = endpoint.retraining
        if spec is not None and spec.queue is not None and spec.job_definition is not None:
            owner.setdefault(split_job_definition(spec.job_definition)[0], spec.queue)
    by_queue: dict[str, list[str]] = {}
    for definition, queue in owner.items():
        by_queue.setdefault(queue, []).append(definition)
    return {queue: tuple(names) for queue, names in by_queue.items()}


def state_machine_name(team: str, environment: str, endpoint: str) -> str:
    return physical_name(team, environment, endpoint, "retrain", max_length=STATE_MACHINE_NAME_LENGTH)


def state_machine_arn(context: TeamContext, name: str) -> str:
    return f"arn:aws:states:{context.stack.region}:{context.account_id}:stateMachine:{name}"


@dataclass(frozen=True)
class Submission:
    """The Batch ``SubmitJob`` request of one endpoint's retraining, as plan-time strings."""

    job_name: str
    queue_arn: str
    job_definition: str  # physical name, with the spec's revision when it pins one
    job_definition_arn: str  # without revision (the role's resource; revisions below it)
    share_identifier: str
    scheduling_priority: int
    endpoint: str

    def parameters(self) -> dict:
        """The task's parameters: SubmitJob's fields in Step Functions' PascalCase."""
        return {
            "JobName": self.job_name,
            "JobQueue": self.queue_arn,
            "JobDefinition": self.job_definition,
            "ShareIdentifier": self.share_identifier,
            "SchedulingPriorityOverride": self.scheduling_priority,
            "ContainerOverrides": {"Environment": [
                {"Name": "RETRAIN_ENDPOINT", "Value": self.endpoint},
                # the execution that submitted the job, to find why it ran (schedule or drift)
                {"Name": "RETRAIN_EXECUTION", "Value.$": "$$.Execution.Id"},
            ]},
        }


def submission(context: TeamContext, endpoint: Endpoint, queue: TrainingQueue) -> Submission:
    spec = endpoint.retraining
    assert spec is not None and spec.job_definition is not None  # the spec requires jobDefinition with queue
    region, account = context.stack.region, context.account_id
    name, revision = split_job_definition(spec.job_definition)
    physical = job_definition_name(context.team, context.environment, name)
    return Submission(
        job_name=physical_name(endpoint.name, "retrain", max_length=128),
        queue_arn=f"arn:aws:batch:{region}:{account}:job-queue/{job_queue_name(context.team, context.environment, queue.name)}",
        job_definition=f"{physical}:{revision}" if revision else physical,
        job_definition_arn=f"arn:aws:batch:{region}:{account}:job-definition/{physical}",
        share_identifier=share_identifier(context.team),
        scheduling_priority=queue.scheduling_priority,
        endpoint=endpoint.name,
    )


def submission_definition(request: Submission, queue_name: str) -> dict:
    """The state machine (Amazon States Language): one task that submits the job."""
    return {
        "Comment": f"Submit the retraining job of {request.endpoint} to Batch queue {queue_name} "
                   f"(share {request.share_identifier})",
        "StartAt": "SubmitRetrainingJob",
        "States": {"SubmitRetrainingJob": {
            "Type": "Task",
            "Resource": SUBMIT_JOB_TASK,
            "Parameters": request.parameters(),
            "Retry": [{"ErrorEquals": list(RETRIED_ERRORS), "IntervalSeconds": 30, "MaxAttempts": 3,
                       "BackoffRate": 2.0}],
            "End": True,
        }},
    }


@dataclass(frozen=True, kw_only=True)
class RetrainingTriggerArgs:
    #: the team and stack
    context: TeamContext
    #: the spec endpoint (its ``retraining`` is set)
    endpoint: Endpoint
    #: the endpoint's position in ``spec.endpoints`` (the recorded spec source)
    index: int
    #: severity -> the team's escalation topic ARN (``info`` announces, ``warning`` on a failed submission)
    topic_arns: dict[str, str]
    #: the spec queue ``retraining.queue`` names (required when it names one); default None
    queue: Optional[TrainingQueue] = None
    #: key of the submission's log group (the team's alert key, which lets CloudWatch Logs use
    #: it; required with a queue); default None
    log_key_arn: Optional[pulumi.Input[str]] = None


class RetrainingTrigger(SpecComponent):
    """Schedule and/or drift rule -> a state machine that submits the Batch job, or a notification."""

    def __init__(self, name: str, args: RetrainingTriggerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, ep = args.context, args.endpoint
        spec = ep.retraining
        assert spec is not None  # the estate builds a trigger only for an endpoint with retraining
        super().__init__(RETRAINING_TRIGGER, name,
                         ctx.locator.at("spec", "endpoints", args.index, "retraining"), opts)
        self._name, self._args = name, args
        region, account = ctx.stack.region, ctx.account_id
        submit = spec.queue is not None
        self.rule_names = [physical_name(ctx.team, ctx.environment, ep.name, f"retrain-{key}", max_length=64)
                           for key, _ in self._triggers()]
        self.state_machine_name: Optional[str] = None
        if submit:
            # the spec (TeamSpec's cross-section rule) makes retraining.queue one of the team's batch
            # queues, and the estate passes that queue and the log key
            assert args.queue is not None and args.queue.name == spec.queue and args.log_key_arn is not None, (
                f"retraining of {ep.name} submits to queue {spec.queue}: RetrainingTriggerArgs needs that queue and the log key")
            machine = self._state_machine(submission(ctx, ep, args.queue))
            role = role_name(ctx.team, ctx.environment, f"{ep.name}-retrain-events")
            rule_arns = [f"arn:aws:events:{region}:{account}:rule/{rule}" for rule in self.rule_names]
            events_role = service_role(f"{name}-role", ServiceRoleArgs(
                name=role, description=f"EventBridge starts the retraining of {ep.name}",
                trusts=(ServiceTrust(service="events.amazonaws.com", source_arn=tuple(rule_arns)),),
                stack=ctx.stack), self.child())
            grant_to_role(f"{name}-policy", events_role.name,
                          [StateMachineAccess(state_machine_arn(ctx, self.state_machine_name)).grant_start_execution()],
                          self.child())
            target: dict = {"arn": state_machine_arn(ctx, self.state_machine_name),
                            "role_arn": f"arn:aws:iam::{account}:role/{role}"}
            depends = [events_role, machine]
        else:
            target = {"arn": args.topic_arns["info"],
                      "input": json.dumps({"team": ctx.team, "endpoint": ep.name, "environment": ctx.environment,
                                           "message": f"Retraining of {ep.name} is due"}, sort_keys=True)}
            depends = []
        for (key, trigger), rule_name in zip(self._triggers(), self.rule_names):
            rule = aws.cloudwatch.EventRule(
                f"{name}-{key}", name=rule_name,
                description=f"{'Submit' if submit else 'Announce'} retraining of {ep.name} ({key})",
                opts=self.child(), **trigger,
            )
            aws.cloudwatch.EventTarget(f"{name}-{key}-target", rule=rule.name, target_id="retrain",
                                       opts=self.child(depends_on=depends), **target)
        self.register_outputs({"rules": self.rule_names, "submitsJob": submit,
                               "stateMachine": self.state_machine_name})

    def _triggers(self) -> list[tuple[str, dict]]:
        ctx, ep = self._args.context, self._args.endpoint
        spec = ep.retraining
        triggers: list[tuple[str, dict]] = []
        if spec.schedule is not None:
            triggers.append(("schedule", {"schedule_expression": spec.schedule}))
        if spec.on_drift:
            drift_arn = alarm_arn(ctx, drift_alarm_name(ctx.team, ctx.environment, ep.name))
            triggers.append(("on-drift", {"event_pattern": json.dumps(drift_alarm_pattern(drift_arn), sort_keys=True)}))
        return triggers

    def _state_machine(self, request: Submission) -> aws.sfn.StateMachine:
        """The submitting state machine, its role, its encrypted log group and its failure alarm."""
        name, args = self._name, self._args
        ctx, ep = args.context, args.endpoint
        region, account = ctx.stack.region, ctx.account_id
        self.state_machine_name = state_machine_name(ctx.team, ctx.environment, ep.name)
        machine_arn = state_machine_arn(ctx, self.state_machine_name)
        role = role_name(ctx.team, ctx.environment, f"{ep.name}-retrain-sfn")
        machine_role = service_role(f"{name}-sfn-role", ServiceRoleArgs(
            name=role, description=f"Step Functions submits the retraining job of {ep.name}",
            trusts=(ServiceTrust(service="states.amazonaws.com", source_arn=machine_arn),),
            stack=ctx.stack), self.child())
        policy = grant_to_role(f"{name}-sfn-policy", machine_role.name, [
            allow("batch:SubmitJob", [request.queue_arn, request.job_definition_arn, f"{request.job_definition_arn}:*"],
                  conditions={"StringEquals": {"batch:ShareIdentifier": request.share_identifier}}),
            # vended log delivery: CloudWatch Logs has no resource-level permissions for these
            # (Step Functions developer guide, logging execution history to CloudWatch Logs)
            allow(["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups",
                   "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries",
                   "logs:PutResourcePolicy", "logs:UpdateLogDelivery"], "*"),
            grant_xray_write(sampling=True),
        ], self.child())
        log_group_name = f"/aws/vendedlogs/states/{self.state_machine_name}"
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-sfn-logs", name=log_group_name,
            retention_in_days=log_retention_days(ctx), kms_key_id=args.log_key_arn,
            opts=ctx.stateful(parent=self),  # the record of every retraining started is evidence
        )
        queue_name = request.queue_arn.rsplit("/", 1)[1]
        machine = aws.sfn.StateMachine(
            f"{name}-sfn", name=self.state_machine_name, type="STANDARD",
            role_arn=f"arn:aws:iam::{account}:role/{role}",
            definition=json.dumps(submission_definition(request, queue_name), sort_keys=True),
            logging_configuration={"log_destination": f"arn:aws:logs:{region}:{account}:log-group:{log_group_name}:*",
                                   "include_execution_data": True, "level": "ALL"},
            tracing_configuration={"enabled": True},
            opts=self.child(depends_on=[machine_role, policy, log_group]),
        )
        aws.cloudwatch.MetricAlarm(
            f"{name}-sfn-failed", name=alarm_name(ctx.team, ctx.environment, ep.name, "retrain-submission-failed"),
            alarm_description=f"The retraining of {ep.name} was not submitted to Batch queue {queue_name}",
            namespace="AWS/States", metric_name="ExecutionsFailed", dimensions={"StateMachineArn": machine_arn},
            statistic="Sum", period=300, evaluation_periods=1, datapoints_to_alarm=1, threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold", treat_missing_data="notBreaching",
            alarm_actions=[args.topic_arns["warning"]], opts=self.child(),
        )
        return machine
