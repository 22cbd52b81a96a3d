"""TeamDashboard: one CloudWatch dashboard per team and stack (endpoints, training, drift, budget).

The endpoint widgets read the metric names and variants the alarms use
(``components/endpoint_alarms``), so the dashboard shows what the alarms watch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from mlplatform.naming import endpoint_name, physical_name
from mlplatform.runtime.drift_handler import NAMESPACE as DRIFT_NAMESPACE
from mlplatform.spec.models import Endpoint
from mlplatform.type_tokens import TEAM_DASHBOARD

from .base import SpecComponent, TeamContext
from .endpoint_alarms import SAGEMAKER_NAMESPACE, variants


def dashboard_body(context: TeamContext, endpoints: Sequence[Endpoint], queue_names: Sequence[str],
                   failed_jobs_rule: str, budget_usd: float, alert_at_percent: Sequence[int],
                   drift_metrics: dict[str, list[str]]) -> str:
    """The team's CloudWatch dashboard: endpoints, training queues, drift and budget."""
    region = context.stack.region
    widgets: list[dict] = []

    def metric_widget(title: str, metrics: list, stat: str = "Sum", period: int = 300) -> None:
        widgets.append({"type": "metric", "width": 12, "height": 6, "properties": {
            "title": title, "region": region, "stat": stat, "period": period, "view": "timeSeries", "metrics": metrics}})

    for ep in endpoints:
        if ep.mode == "batch":
            continue
        physical = endpoint_name(context.team, context.environment, ep.name)
        per_variant = [(v, ["EndpointName", physical, "VariantName", v]) for v in variants(ep)]
        metric_widget(f"{ep.name}: invocations and 5xx",
                      [[SAGEMAKER_NAMESPACE, "Invocations", *d, {"label": f"{v} invocations"}] for v, d in per_variant]
                      + [[SAGEMAKER_NAMESPACE, "Invocation5XXErrors", *d, {"label": f"{v} 5xx"}] for v, d in per_variant])
        latency = [[SAGEMAKER_NAMESPACE, "ModelLatency", *d, {"stat": "p99", "label": f"{v} p99 (us)"}] for v, d in per_variant]
        widget_annotations = {}
        if ep.monitoring.latency_p99_ms is not None:
            widget_annotations = {"horizontal": [{"label": "p99 objective", "value": ep.monitoring.latency_p99_ms * 1000}]}
        metric_widget(f"{ep.name}: model latency", latency, stat="p99")
        if widget_annotations:
            widgets[-1]["properties"]["annotations"] = widget_annotations
        if drift_metrics.get(ep.name):
            metric_widget(f"{ep.name}: prediction drift",
                          [[DRIFT_NAMESPACE, metric, "Team", context.team, "EndpointName", physical]
                           for metric in drift_metrics[ep.name]],
                          stat="Maximum", period=3600)
    if queue_names or failed_jobs_rule:
        metric_widget("Training: failed Batch, Glue and SageMaker jobs",
                      [["AWS/Events", "TriggeredRules", "RuleName", failed_jobs_rule, {"label": "failed jobs"}]])
    widgets.append({"type": "text", "width": 24, "height": 3, "properties": {"markdown": (
        f"## Budget\nMonthly budget **{budget_usd:,.0f} USD** for team `{context.team}` ({context.environment}); "
        f"alerts at {', '.join(f'{p}%' for p in sorted(set(alert_at_percent)))} of actual and forecasted spend. "
        f"Training queues: {', '.join(queue_names) or 'none'}."
    )}})
    return json.dumps({"widgets": widgets}, sort_keys=True)


@dataclass(frozen=True, kw_only=True)
class TeamDashboardArgs:
    #: the team and stack
    context: TeamContext
    #: the dashboard body, JSON (:func:`dashboard_body`)
    body: str


class TeamDashboard(SpecComponent):
    """One CloudWatch dashboard per team and stack."""

    def __init__(self, name: str, args: TeamDashboardArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context, body = args.context, args.body
        super().__init__(TEAM_DASHBOARD, name, context.locator.at("metadata", "team"), opts)
        self.dashboard_name = physical_name(context.team, context.environment, max_length=255)
        aws.cloudwatch.Dashboard(f"{name}-dashboard", dashboard_name=self.dashboard_name, dashboard_body=body,
                                 opts=self.child())
        self.register_outputs({"dashboardName": self.dashboard_name})
