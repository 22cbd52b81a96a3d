"""Pricing what watches the estate: CloudWatch alarms (metric and composite), log groups
and dashboards, the log-forwarding Firehose stream, CloudTrail trails and SageMaker model
monitoring schedules (processing instance-hours per run).
"""

from __future__ import annotations

from decimal import Decimal

from ...graph import GraphResource, is_unknown
from .. import usage as U
from ..attribution import TeamUsageContext
from ..lines import Line
from . import edge
from .context import Context, int_input

D = Decimal


def price_alarm(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    queries = resource.inputs.get("metricQueries") or []
    metrics = sum(1 for q in queries if isinstance(q, dict) and q.get("metric")) if queries else 1
    period = int_input(resource.inputs.get("period"))
    if queries:
        periods = [int_input((q.get("metric") or {}).get("period")) for q in queries if isinstance(q, dict) and q.get("metric")]
        period = min((p for p in periods if p), default=period)
    high_res = period is not None and period < 60
    anomaly = any(isinstance(q, dict) and "ANOMALY_DETECTION_BAND" in str(q.get("expression", "")) for q in queries)
    count = D(max(metrics, 1) * (3 if anomaly else 1))
    notes = [f"{U.number(count)} alarm metric(s)" + (" (anomaly detection counts 3)" if anomaly else "")]
    sku = "cloudwatch.alarm.highres" if high_res else "cloudwatch.alarm.standard"
    return [ctx.line(resource, team.team, component, f"{'high-resolution' if high_res else 'standard'} alarm", count,
                     "alarm-metric-month", sku, notes)]


def price_log_group(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    ingest, stored, notes = U.log_usage(int_input(resource.inputs.get("retentionInDays")))
    return [
        ctx.line(resource, team.team, component, "log ingestion", ingest, "GB", "cloudwatch.logs.ingest", notes),
        ctx.line(resource, team.team, component, "log storage", stored, "GB-month", "cloudwatch.logs.storage", []),
    ]


def price_firehose(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "ingestion", U.DEFAULT_FIREHOSE_GB, "GB", "firehose.ingest",
                     [f"{U.number(U.DEFAULT_FIREHOSE_GB)} GB/month (default)"])]


def price_trail(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    selectors = resource.inputs.get("eventSelectors") or []
    data = bool(resource.inputs.get("advancedEventSelectors")) or any(
        isinstance(s, dict) and s.get("dataResources") for s in selectors)
    insights = edge.insights_line(ctx, resource, team, component)
    extra = [insights] if insights is not None else []
    if not data:
        return [Line(team.team, component, resource.urn, resource.name, resource.type, "management events", D(0), "",
                     None, assumptions=["management events only: the first copy is delivered free (AWS CloudTrail "
                                        "pricing); a second trail copying them would be charged"], status="free")] + extra
    return [ctx.line(resource, team.team, component, "data events", U.DEFAULT_TRAIL_DATA_EVENTS, "event",
                     "cloudtrail.dataevents", [f"{U.number(U.DEFAULT_TRAIL_DATA_EVENTS)} data events/month (default)"])] + extra


def price_composite_alarm(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "composite alarm", D(1), "alarm-month", "cloudwatch.alarm.composite", [])]


def price_monitoring_schedule(ctx: Context, resource: GraphResource, team: TeamUsageContext,
                              component: str) -> list[Line]:
    """Processing instance-hours of the job definition a schedule runs: runs a month from
    the schedule expression x the default run length (capped at the job's max runtime)."""
    config = resource.inputs.get("monitoringScheduleConfig") or {}
    name = config.get("monitoringJobDefinitionName") if isinstance(config, dict) else None
    expression = ((config.get("scheduleConfig") or {}).get("scheduleExpression")) if isinstance(config, dict) else None
    definition = ctx.job_definition(name)
    cluster = ((definition.inputs.get("jobResources") or {}).get("clusterConfig") or {}) if definition else {}
    instance = cluster.get("instanceType") if isinstance(cluster, dict) else None
    count = D(int_input(cluster.get("instanceCount")) or 1) if isinstance(cluster, dict) else D(1)
    max_seconds = int_input(((definition.inputs.get("stoppingCondition") or {}).get("maxRuntimeInSeconds"))) if definition else None
    use = U.monitoring_usage(expression if isinstance(expression, str) else None, max_seconds)
    notes = list(use.assumptions) + [f"{U.number(count)} instance(s) per run"]
    if not isinstance(instance, str) or is_unknown(instance):
        return [Line(team.team, component, resource.urn, resource.name, resource.type, "processing instance-hours",
                     use.hours * count, "hour", None, assumptions=notes + ["job definition or its instance type not in the plan"],
                     status="unknown-price")]
    return [ctx.line(resource, team.team, component, f"{instance} processing instance-hours", use.hours * count, "hour",
                     f"sagemaker.processing:{instance}", notes)]


def price_dashboard(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "dashboard", D(1), "dashboard-month", "cloudwatch.dashboard", [])]

