"""Lifecycle: retraining triggers and the record of retired endpoints.

Retraining (``endpoints[].retraining``): an EventBridge schedule and/or a rule on the
endpoint's prediction-drift alarm entering ALARM. With a queue and job definition the
target submits an AWS Batch job to the team's queue (EventBridge's Batch target, with a
role that may submit only that job definition to that queue); without them the target is
the team's info topic, for teams that retrain elsewhere.

Retirement (``endpoints[].retired``): the builder drops a retired endpoint before any
serving or monitoring component sees it, so ``mlp plan --base`` shows its endpoint,
alarms and drift jobs deleted. What stays (the model package group and the artifacts
under ``models/``) is kept and carries :func:`retirement_tags`; the
:class:`RetiredEndpoint` record makes the retirement itself a visible line of the plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import physical_name, role_name
from mlplatform.spec.models import Endpoint

from .base import SpecComponent, TeamContext
from .drift_monitor import drift_alarm_name
from .iam import Principal, allow, document, trust_policy
from .monitoring import alarm_arn
from .training_batch import job_queue_name


def batch_queue_name(team: str, environment: str, queue: str) -> str:
    """AWS Batch job queue of a spec queue, named as the training component names it."""
    return job_queue_name(team, environment, queue)


def retirement_tags(endpoint: Endpoint) -> dict[str, str]:
    """Tags on what a retired endpoint leaves behind (model package group, artifacts)."""
    assert endpoint.retired is not None
    tags = {"lifecycle": "retired", "retired-reason": endpoint.retired.reason[:256]}
    if endpoint.retired.successor:
        tags["retired-successor"] = endpoint.retired.successor
    return tags


def live_endpoints(endpoints: list[Endpoint]) -> list[tuple[int, Endpoint]]:
    """(spec index, endpoint) of every endpoint that is not retired: what gets built."""
    return [(index, endpoint) for index, endpoint in enumerate(endpoints) if endpoint.retired is None]


def drift_alarm_pattern(alarm_arn_: str) -> dict:
    return {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
            "resources": [alarm_arn_], "detail": {"state": {"value": ["ALARM"]}}}


@dataclass(frozen=True)
class RetrainingArgs:
    context: TeamContext
    endpoint: Endpoint
    index: int
    topic_arns: dict[str, str]


class RetrainingTrigger(SpecComponent):
    """Schedule and/or drift rule -> Batch job submission or a notification."""

    def __init__(self, name: str, args: RetrainingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, ep = args.context, args.endpoint
        spec = ep.retraining
        assert spec is not None
        super().__init__("mlplatform:lifecycle:RetrainingTrigger", name,
                         ctx.locator.at("spec", "endpoints", args.index, "retraining"), opts)
        region, account = ctx.stack.region, ctx.account_id
        submit = spec.queue is not None
        target: dict = {}
        if submit:
            queue_arn = f"arn:aws:batch:{region}:{account}:job-queue/{batch_queue_name(ctx.team, ctx.environment, spec.queue)}"
            definition = spec.job_definition.split(":")[0]
            definition_arn = f"arn:aws:batch:{region}:{account}:job-definition/{definition}"
            role = role_name(ctx.team, ctx.environment, f"{ep.name}-retrain-events")
            events_role = aws.iam.Role(
                f"{name}-role", name=role, description=f"EventBridge submits retraining of {ep.name}",
                assume_role_policy=trust_policy(Principal.service("events.amazonaws.com")),
                max_session_duration=3600, permissions_boundary=ctx.stack.permissions_boundary_arn,
                opts=self.child(),
            )
            aws.iam.RolePolicy(
                f"{name}-policy", role=events_role.name,
                policy=document(allow("batch:SubmitJob", [queue_arn, definition_arn, f"{definition_arn}:*"])),
                opts=self.child(),
            )
            target = {"arn": queue_arn, "role_arn": f"arn:aws:iam::{account}:role/{role}",
                      "batch_target": {"job_definition": spec.job_definition,
                                       "job_name": physical_name(ep.name, "retrain", max_length=128),
                                       "job_attempts": 1}}
            depends = [events_role]
        else:
            target = {"arn": args.topic_arns["info"],
                      "input": json.dumps({"team": ctx.team, "endpoint": ep.name, "environment": ctx.environment,
                                           "message": f"Retraining of {ep.name} is due"}, sort_keys=True)}
            depends = []
        self.rule_names: list[str] = []
        triggers: list[tuple[str, dict]] = []
        if spec.schedule is not None:
            triggers.append(("schedule", {"schedule_expression": spec.schedule}))
        if spec.on_drift:
            drift_arn = alarm_arn(ctx, drift_alarm_name(ctx.team, ctx.environment, ep.name))
            triggers.append(("on-drift", {"event_pattern": json.dumps(drift_alarm_pattern(drift_arn), sort_keys=True)}))
        for key, trigger in triggers:
            rule_name = physical_name(ctx.team, ctx.environment, ep.name, f"retrain-{key}", max_length=64)
            self.rule_names.append(rule_name)
            rule = aws.cloudwatch.EventRule(
                f"{name}-{key}", name=rule_name,
                description=f"{'Submit' if submit else 'Announce'} retraining of {ep.name} ({key})",
                opts=self.child(), **trigger,
            )
            aws.cloudwatch.EventTarget(f"{name}-{key}-target", rule=rule.name, target_id="retrain",
                                       opts=self.child(depends_on=depends), **target)
        self.register_outputs({"rules": self.rule_names, "submitsJob": submit})


class RetiredEndpoint(SpecComponent):
    """The plan's record of a retired endpoint: its reason, successor and the tags on what stays."""

    def __init__(self, name: str, context: TeamContext, endpoint: Endpoint, index: int,
                 opts: Optional[pulumi.ResourceOptions] = None):
        self.tags = retirement_tags(endpoint)
        # The reason and successor are the component's inputs, so the plan (and its diff
        # against a base) shows them; SpecComponent would record only the source.
        pulumi.ComponentResource.__init__(
            self, "mlplatform:lifecycle:RetiredEndpoint", name,
            {"source": context.locator.at("spec", "endpoints", index, "retired"), "endpoint": endpoint.name,
             "reason": endpoint.retired.reason, "successor": endpoint.retired.successor, "tags": self.tags},
            opts,
        )
        self.register_outputs({"endpoint": endpoint.name, "tags": self.tags})
