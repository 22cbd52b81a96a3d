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
from components.dashboard import TeamDashboard, dashboard_body
from components.drift_monitor import DriftMonitor, DriftMonitorArgs
from components.endpoint_alarms import EndpointAlarms, EndpointAlarmsArgs
from components.escalation import AlertKey, Escalation, EscalationArgs
from components.feature_freshness import FeatureFreshness, FreshnessArgs
from components.log_forwarding import LogForwarding, LogForwardingArgs
from components.log_groups import TeamLogGroups, log_retention_days
from components.pipeline_alarms import PipelineFailures
from components.retired_endpoint import RetiredEndpoint, retirement_tags
from components.retraining import RetrainingArgs, RetrainingTrigger, batch_queue_name, live_endpoints

from ..spec.models import TeamSpec

SERVED_MODES = ("realtime", "async", "serverless")


@dataclass(frozen=True)
class TeamObservabilityArgs:
    context: TeamContext
    spec: TeamSpec
    bucket_name: str
    artifact_key_arn: pulumi.Input[str]
    artifact_key_alias: str
    #: endpoint name -> the serving component's endpoint resource, when there is one: Model
    #: Monitor schedules can only be created once their endpoint exists
    endpoint_resources: dict = field(default_factory=dict)
    #: the stack's server-access-log bucket (from the foundation), for the team's other buckets
    log_bucket: Optional[pulumi.Input[str]] = None


class TeamObservability(SpecComponent):
    """The team's topics, alarms, drift monitors, logs, dashboard and lifecycle rules."""

    def __init__(self, name: str, args: TeamObservabilityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, spec = args.context, args.spec
        super().__init__("mlplatform:monitoring:TeamObservability", name, ctx.locator.at("metadata", "escalation"), opts)
        child = self.child()
        self.alert_key = AlertKey(f"{name}-alert-key", ctx, child)
        self.escalation = Escalation(f"{name}-escalation", EscalationArgs(ctx, spec.metadata.escalation, self.alert_key), child)
        topics = self.escalation.topic_arns
        endpoints = live_endpoints(list(spec.spec.endpoints))
        self.logs = TeamLogGroups(  # every endpoint's, retired ones' included: their logs stay
            f"{name}-logs", ctx, list(enumerate(spec.spec.endpoints)), self.alert_key.arn, child,
            retired_tags={ep.name: retirement_tags(ep) for ep in spec.spec.endpoints if ep.retired is not None})
        if ctx.stack.log_forwarding is not None:
            LogForwarding(f"{name}-forwarding", LogForwardingArgs(
                ctx, ctx.stack.log_forwarding, self.logs.log_groups, self.logs.names, self.alert_key.arn,
                self.alert_key.alias, log_retention_days(ctx.data_classification), log_bucket=args.log_bucket), child)
        self.endpoint_alarms: dict[str, EndpointAlarms] = {}
        self.drift: dict[str, DriftMonitor] = {}
        queues = {queue.name: queue for queue in spec.spec.training.queues}
        for index, ep in endpoints:
            if ep.mode in SERVED_MODES:
                self.endpoint_alarms[ep.name] = EndpointAlarms(
                    f"{name}-{ep.name}-alarms", EndpointAlarmsArgs(ctx, ep, index, topics), child)
            if ep.monitoring.drift is not None and ep.mode in SERVED_MODES:
                self.drift[ep.name] = DriftMonitor(f"{name}-{ep.name}-drift", DriftMonitorArgs(
                    ctx, ep, index, args.bucket_name, args.artifact_key_arn, args.artifact_key_alias,
                    self.alert_key.arn, topics,
                    depends_on=tuple(filter(None, [args.endpoint_resources.get(ep.name)])),
                    alert_key_alias=self.alert_key.alias), child)
            if ep.retraining is not None:
                RetrainingTrigger(f"{name}-{ep.name}-retraining", RetrainingArgs(
                    ctx, ep, index, topics, queue=queues.get(ep.retraining.queue), log_key_arn=self.alert_key.arn), child)
        self.retired = {
            ep.name: RetiredEndpoint(f"{name}-{ep.name}-retired", ctx, ep, index, child)
            for index, ep in enumerate(spec.spec.endpoints) if ep.retired is not None
        }
        for index, group in enumerate(spec.spec.feature_groups):
            if group.max_ingestion_gap_minutes is not None:
                FeatureFreshness(f"{name}-fg-{group.name}-v{group.version}-freshness",
                                 FreshnessArgs(ctx, group, index, topics), child)
        batch_queues = [q.name for q in spec.spec.training.queues if q.backend == "batch"]
        queue_arns = [f"arn:aws:batch:{ctx.stack.region}:{ctx.account_id}:job-queue/"
                      f"{batch_queue_name(ctx.team, ctx.environment, queue)}" for queue in batch_queues]
        pipelines = PipelineFailures(f"{name}-pipelines", ctx, queue_arns, topics, child)
        TeamDashboard(f"{name}-dashboard", ctx, dashboard_body(
            ctx, [ep for _, ep in endpoints], [q.name for q in spec.spec.training.queues], pipelines.rule_name,
            spec.spec.budget.monthly_usd, spec.spec.budget.alert_at_percent,
            {ep_name: monitor.metric_names for ep_name, monitor in self.drift.items()}), child)
        self.register_outputs({"topicArns": topics})
