"""TeamObservability: everything that watches one team's estate, wired from its spec.

Builds, in order: the alert key and escalation topics; log groups (and their forwarding
when the stack asks for it); per live endpoint the alarms, drift monitoring and
retraining triggers; a freshness alarm per feature group that declares one; the failed
pipeline rule; the team dashboard; and a record per retired endpoint. Retired endpoints
never reach the endpoint components (:func:`components.retraining.live_endpoints`).
Estate layer: it decides from the spec which monitoring components the team gets and
with which arguments (the component type token stays ``mlplatform:monitoring:...``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi

from components.base import SpecComponent, TeamContext
from components.dashboard import TeamDashboard, TeamDashboardArgs, dashboard_body
from components.drift_monitor import DriftMonitor, DriftMonitorArgs
from components.endpoint_alarms import EndpointAlarms, EndpointAlarmsArgs
from components.escalation import AlertKey, AlertKeyArgs, Escalation, EscalationArgs
from components.feature_freshness import FeatureFreshness, FeatureFreshnessArgs
from components.log_forwarding import LogForwarding, LogForwardingArgs
from components.log_groups import TeamLogGroups, TeamLogGroupsArgs, log_retention_days
from components.pipeline_alarms import PipelineFailures, PipelineFailuresArgs
from components.retired_endpoint import RetiredEndpoint, RetiredEndpointArgs, retirement_tags
from components.retraining import RetrainingTrigger, RetrainingTriggerArgs, batch_queue_name, live_endpoints

from ..spec.models import TeamSpec
from ..type_tokens import TEAM_OBSERVABILITY

SERVED_MODES = ("realtime", "async", "serverless")


@dataclass(frozen=True, kw_only=True)
class TeamObservabilityArgs:
    #: the team and stack
    context: TeamContext
    #: the team's spec as the stack's environment deploys it
    spec: TeamSpec
    #: the team's artifact bucket (drift monitoring reads captures and writes reports there)
    bucket_name: str
    #: the team's artifact key (captures and drift reports are encrypted with it)
    artifact_key_arn: pulumi.Input[str]
    #: alias of the artifact key (``alias/...``)
    artifact_key_alias: str
    #: endpoint name -> the serving component's endpoint resource, when there is one: Model
    #: Monitor schedules can only be created once their endpoint exists; default none
    endpoint_resources: dict = field(default_factory=dict)
    #: the stack's server-access-log bucket (from the foundation), for the team's other buckets;
    #: default None (no foundation)
    log_bucket: Optional[pulumi.Input[str]] = None


class TeamObservability(SpecComponent):
    """The team's topics, alarms, drift monitors, logs, dashboard and lifecycle rules."""

    def __init__(self, name: str, args: TeamObservabilityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, spec = args.context, args.spec
        super().__init__(TEAM_OBSERVABILITY, name, ctx.locator.at("metadata", "escalation"), opts)
        child = self.child()
        self.alert_key = AlertKey(f"{name}-alert-key", AlertKeyArgs(context=ctx), child)
        self.escalation = Escalation(f"{name}-escalation", EscalationArgs(
            context=ctx, escalation=spec.metadata.escalation, key=self.alert_key), child)
        topics = self.escalation.topic_arns
        endpoints = live_endpoints(list(spec.spec.endpoints))
        self.logs = TeamLogGroups(f"{name}-logs", TeamLogGroupsArgs(
            context=ctx, endpoints=list(enumerate(spec.spec.endpoints)),  # retired ones' too: their logs stay
            key_arn=self.alert_key.arn,
            retired_tags={ep.name: retirement_tags(ep) for ep in spec.spec.endpoints if ep.retired is not None}), child)
        if ctx.stack.log_forwarding is not None:
            LogForwarding(f"{name}-forwarding", LogForwardingArgs(
                context=ctx, config=ctx.stack.log_forwarding, log_groups=self.logs.log_groups,
                log_group_names=self.logs.names, key_arn=self.alert_key.arn, key_alias=self.alert_key.alias,
                backup_retention_days=log_retention_days(ctx), log_bucket=args.log_bucket), child)
        self.endpoint_alarms: dict[str, EndpointAlarms] = {}
        self.drift: dict[str, DriftMonitor] = {}
        queues = {queue.name: queue for queue in spec.spec.training.queues}
        for index, ep in endpoints:
            if ep.mode in SERVED_MODES:
                self.endpoint_alarms[ep.name] = EndpointAlarms(
                    f"{name}-{ep.name}-alarms",
                    EndpointAlarmsArgs(context=ctx, endpoint=ep, index=index, topic_arns=topics), child)
            if ep.monitoring.drift is not None and ep.mode in SERVED_MODES:
                self.drift[ep.name] = DriftMonitor(f"{name}-{ep.name}-drift", DriftMonitorArgs(
                    context=ctx, endpoint=ep, index=index, bucket_name=args.bucket_name,
                    artifact_key_arn=args.artifact_key_arn, artifact_key_alias=args.artifact_key_alias,
                    alert_key_arn=self.alert_key.arn, topic_arns=topics,
                    depends_on=tuple(filter(None, [args.endpoint_resources.get(ep.name)])),
                    alert_key_alias=self.alert_key.alias), child)
            if ep.retraining is not None:
                RetrainingTrigger(f"{name}-{ep.name}-retraining", RetrainingTriggerArgs(
                    context=ctx, endpoint=ep, index=index, topic_arns=topics, queue=queues.get(ep.retraining.queue), log_key_arn=self.alert_key.arn), child)
        self.retired = {
            ep.name: RetiredEndpoint(f"{name}-{ep.name}-retired",
                                     RetiredEndpointArgs(context=ctx, endpoint=ep, index=index), child)
            for index, ep in enumerate(spec.spec.endpoints) if ep.retired is not None
        }
        for index, group in enumerate(spec.spec.feature_groups):
            if group.max_ingestion_gap_minutes is not None:
                FeatureFreshness(f"{name}-fg-{group.name}-v{group.version}-freshness",
                                 FeatureFreshnessArgs(context=ctx, group=group, index=index, topic_arns=topics), child)
        batch_queues = [q.name for q in spec.spec.training.queues if q.backend == "batch"]
        queue_arns = [f"arn:aws:batch:{ctx.stack.region}:{ctx.account_id}:job-queue/"
                      f"{batch_queue_name(ctx.team, ctx.environment, queue)}" for queue in batch_queues]
        pipelines = PipelineFailures(f"{name}-pipelines", PipelineFailuresArgs(
            context=ctx, batch_queue_arns=queue_arns, topic_arns=topics), child)
        TeamDashboard(f"{name}-dashboard", TeamDashboardArgs(context=ctx, body=dashboard_body(
            ctx, [ep for _, ep in endpoints], [q.name for q in spec.spec.training.queues], pipelines.rule_name,
            spec.spec.budget.monthly_usd, spec.spec.budget.alert_at_percent,
            {ep_name: monitor.metric_names for ep_name, monitor in self.drift.items()})), child)
        self.register_outputs({"topicArns": topics})
