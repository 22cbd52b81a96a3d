"""Monitoring: endpoint alarms, log groups, freshness and pipeline-failure alerts, the dashboard.

Every alarm here routes to the escalation topic of its severity (``components/escalation``):
signals that need someone now (an endpoint unhealthy) go to ``critical``; symptoms and
saturation that need a look go to ``warning``. Individual endpoint alarms are warnings and
the per-endpoint composite "unhealthy" alarm is the one page, so one outage does not page
once per symptom. Thresholds, periods and metric names are module constants so the tests
and the dashboard read the same values the alarms use.

CloudWatch units to remember: ``ModelLatency`` is in microseconds (the spec's
``latencyP99Ms`` is multiplied by 1000), and the instance metrics in
``/aws/sagemaker/Endpoints`` are summed over cores/GPUs (0-100 per vCPU or GPU).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from mlplatform.naming import endpoint_name, feature_group_name, physical_name
from mlplatform.runtime.drift_handler import NAMESPACE as DRIFT_NAMESPACE
from mlplatform.spec.models import Endpoint, FeatureGroup

from .base import SpecComponent, TeamContext
from mlplatform.catalogues.instances import require

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"

ERROR_RATE_PERCENT = 1.0        # 5xx share of invocations
ERROR_PERIOD_SECONDS = 60
ERROR_EVALUATION = (5, 3)       # 3 of the last 5 minutes
LATENCY_PERIOD_SECONDS = 300
LATENCY_EVALUATION = (3, 3)
UTILISATION_PERCENT = 90.0      # per vCPU / per GPU
DISK_PERCENT = 80.0
SATURATION_PERIOD_SECONDS = 300
SATURATION_EVALUATION = (3, 3)
TRAFFIC_PERIOD_SECONDS = 300
TRAFFIC_EVALUATION = (3, 3)
TRAFFIC_BAND_WIDTH = 2          # standard deviations of the anomaly-detection band

#: Days log events are kept, by the team's data classification (valid CloudWatch values).
#: At least a year for every class (CIS / checkov CKV_AWS_338: incident investigations reach
#: back that far); restricted data keeps its seven-year audit horizon.
LOG_RETENTION_DAYS = {"public": 365, "internal": 365, "confidential": 365, "restricted": 2557}

def variants(endpoint: Endpoint) -> list[str]:
    """Production variants of an endpoint, as the serving components name them."""
    return ["primary", "shadow"] if endpoint.rollout.strategy == "shadow" else ["primary"]


def vcpus(instance_type: str) -> int:
    """vCPUs of an ml.* instance, from the instance catalogue (the one source of instance facts)."""
    return require(instance_type).vcpus


def gpus(instance_type: str) -> int:
    """GPUs of an ml.* instance (0 for CPU families), from the instance catalogue."""
    return require(instance_type).gpus


def alarm_name(team: str, environment: str, *parts: str) -> str:
    """CloudWatch alarm: at most 255 characters."""
    return physical_name(team, environment, *parts, max_length=255)


def alarm_arn(context: TeamContext, name: str) -> str:
    return f"arn:aws:cloudwatch:{context.stack.region}:{context.account_id}:alarm:{name}"


# ---------------------------------------------------------------- endpoint alarms


@dataclass(frozen=True)
class EndpointAlarmsArgs:
    context: TeamContext
    endpoint: Endpoint
    index: int
    topic_arns: dict[str, str]


class EndpointAlarms(SpecComponent):
    """Per variant: 5xx rate, p99 latency, CPU/GPU/disk saturation, traffic collapse;
    per endpoint: the composite "unhealthy" alarm that pages."""

    def __init__(self, name: str, args: EndpointAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, ep = args.context, args.endpoint
        super().__init__("mlplatform:monitoring:EndpointAlarms", name,
                         ctx.locator.at("spec", "endpoints", args.index, "monitoring"), opts)
        self._ctx, self._name = ctx, name
        self.endpoint_name = endpoint_name(ctx.team, ctx.environment, ep.name)
        warning, critical = [args.topic_arns["warning"]], [args.topic_arns["critical"]]
        self.alarm_names: dict[str, str] = {}
        self._ep_name = ep.name
        health: list[aws.cloudwatch.MetricAlarm] = []
        for variant in variants(ep):
            dims = {"EndpointName": self.endpoint_name, "VariantName": variant}
            health.append(self._alarm(
                f"{variant}-5xx", dims, warning,
                alarm_description=f"More than {ERROR_RATE_PERCENT}% of invocations of {variant} fail with 5xx",
                metric_queries=[
                    _query("errors", SAGEMAKER_NAMESPACE, "Invocation5XXErrors", dims, ERROR_PERIOD_SECONDS, "Sum"),
                    _query("invocations", SAGEMAKER_NAMESPACE, "Invocations", dims, ERROR_PERIOD_SECONDS, "Sum"),
                    {"id": "error_rate", "expression": "IF(invocations > 0, 100 * errors / invocations, 0)",
                     "label": "5xx error rate (%)", "return_data": True},
                ],
                comparison_operator="GreaterThanThreshold", threshold=ERROR_RATE_PERCENT,
                evaluation_periods=ERROR_EVALUATION[0], datapoints_to_alarm=ERROR_EVALUATION[1],
                treat_missing_data="notBreaching",
            ))
            if ep.monitoring.latency_p99_ms is not None:
                health.append(self._alarm(
                    f"{variant}-latency-p99", dims, warning,
                    alarm_description=f"p99 model latency of {variant} above the {ep.monitoring.latency_p99_ms} ms objective",
                    namespace=SAGEMAKER_NAMESPACE, metric_name="ModelLatency", dimensions=dims,
                    extended_statistic="p99", period=LATENCY_PERIOD_SECONDS, unit="Microseconds",
                    comparison_operator="GreaterThanThreshold", threshold=ep.monitoring.latency_p99_ms * 1000,
                    evaluation_periods=LATENCY_EVALUATION[0], datapoints_to_alarm=LATENCY_EVALUATION[1],
                    treat_missing_data="notBreaching",
                ))
            health.append(self._alarm(
                f"{variant}-traffic-collapse", dims, warning,
                alarm_description=f"Invocations of {variant} fell below the anomaly-detection band (traffic collapse)",
                metric_queries=[
                    {**_query("invocations", SAGEMAKER_NAMESPACE, "Invocations", dims, TRAFFIC_PERIOD_SECONDS, "Sum"),
                     "return_data": True},
                    {"id": "band", "expression": f"ANOMALY_DETECTION_BAND(invocations, {TRAFFIC_BAND_WIDTH})",
                     "label": "expected invocations", "return_data": True},
                ],
                threshold_metric_id="band", comparison_operator="LessThanLowerThreshold",
                evaluation_periods=TRAFFIC_EVALUATION[0], datapoints_to_alarm=TRAFFIC_EVALUATION[1],
                # a realtime endpoint that receives nothing has collapsed; async ones idle by design
                treat_missing_data="breaching" if ep.mode == "realtime" else "notBreaching",
            ))
            if ep.instance_type is not None:
                self._saturation(variant, dims, ep.instance_type, warning)
        self.health_alarm_names = [self.alarm_names[key] for key in self.alarm_names
                                   if key.endswith(("-5xx", "-latency-p99", "-traffic-collapse"))]
        self.composite_name = alarm_name(ctx.team, ctx.environment, ep.name, "unhealthy")
        self.composite = aws.cloudwatch.CompositeAlarm(
            f"{name}-unhealthy",
            alarm_name=self.composite_name,
            alarm_description=f"Endpoint {self.endpoint_name} is unhealthy: errors, latency or traffic collapse",
            alarm_rule=" OR ".join(f'ALARM("{name_}")' for name_ in self.health_alarm_names),
            alarm_actions=critical,
            ok_actions=critical,
            opts=self.child(depends_on=health),
        )
        self.register_outputs({"alarmNames": self.alarm_names})

    def _saturation(self, variant: str, dims: dict, instance_type: str, actions: list[str]) -> None:
        checks = [("cpu", "CPUUtilization", UTILISATION_PERCENT * vcpus(instance_type)),
                  ("disk", "DiskUtilization", DISK_PERCENT)]
        gpu_count = gpus(instance_type)
        if gpu_count:
            checks += [("gpu", "GPUUtilization", UTILISATION_PERCENT * gpu_count),
                       ("gpu-memory", "GPUMemoryUtilization", UTILISATION_PERCENT * gpu_count)]
        for key, metric, threshold in checks:
            self._alarm(
                f"{variant}-{key}", dims, actions,
                alarm_description=f"{metric} of {variant} above {threshold:g} ({instance_type})",
                namespace=INSTANCE_NAMESPACE, metric_name=metric, dimensions=dims, statistic="Average",
                period=SATURATION_PERIOD_SECONDS, comparison_operator="GreaterThanThreshold", threshold=threshold,
                evaluation_periods=SATURATION_EVALUATION[0], datapoints_to_alarm=SATURATION_EVALUATION[1],
                treat_missing_data="notBreaching",
            )

    def _alarm(self, key: str, dims: dict, actions: list[str], **kwargs) -> aws.cloudwatch.MetricAlarm:
        ctx = self._ctx
        physical = alarm_name(ctx.team, ctx.environment, self._ep_name, key)
        self.alarm_names[key] = physical
        return aws.cloudwatch.MetricAlarm(
            f"{self._name}-{key}", name=physical, alarm_actions=actions, opts=self.child(), **kwargs
        )


def _query(query_id: str, namespace: str, metric: str, dims: dict, period: int, stat: str) -> dict:
    return {"id": query_id, "return_data": False,
            "metric": {"namespace": namespace, "metric_name": metric, "dimensions": dims, "period": period, "stat": stat}}


# ---------------------------------------------------------------- log groups


def log_retention_days(data_classification: str) -> int:
    return LOG_RETENTION_DAYS[data_classification]


class TeamLogGroups(SpecComponent):
    """Log groups of the team's endpoints and jobs, created before the services create them
    unencrypted and kept forever: retention by data classification, the team's alert key.

    A retired endpoint's log group stays (its logs are records, like its artifacts) and
    carries the tags in ``retired_tags``.
    """

    def __init__(self, name: str, context: TeamContext, endpoints: Sequence[tuple[int, Endpoint]],
                 key_arn: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None,
                 retired_tags: Optional[dict[str, dict[str, str]]] = None):
        super().__init__("mlplatform:monitoring:TeamLogGroups", name, context.locator.at("metadata", "dataClassification"), opts)
        retention = log_retention_days(context.data_classification)
        self.jobs_log_group = f"/mlplatform/{context.team}/{context.environment}/jobs"
        groups = {"jobs": self.jobs_log_group}
        tags: dict[str, dict[str, str]] = {}
        for _, ep in endpoints:
            if ep.mode != "batch":
                key = f"endpoint-{ep.name}"
                groups[key] = f"/aws/sagemaker/Endpoints/{endpoint_name(context.team, context.environment, ep.name)}"
                if retired_tags and ep.name in retired_tags:
                    tags[key] = retired_tags[ep.name]
        self.log_groups: dict[str, aws.cloudwatch.LogGroup] = {
            key: aws.cloudwatch.LogGroup(
                f"{name}-{key}", name=group, retention_in_days=retention, kms_key_id=key_arn, tags=tags.get(key),
                opts=context.stateful(parent=self),  # logs are records: protected in production
            )
            for key, group in groups.items()
        }
        self.names = dict(groups)
        self.register_outputs({"logGroups": sorted(groups.values()), "retentionDays": retention})


def lambda_log_group(name: str, context: TeamContext, function_name: str, key_arn: pulumi.Input[str],
                     parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
    """The log group a Lambda function writes to, encrypted and retained like the team's others.

    Protected like the team's other log groups where the stack protects state: its records
    (which windows drifted, which runs failed) are evidence an audit may ask for after the
    function is gone, so a retired endpoint leaves them behind (retained) rather than deleting them.
    """
    return aws.cloudwatch.LogGroup(
        name, name=f"/aws/lambda/{function_name}", retention_in_days=log_retention_days(context.data_classification),
        kms_key_id=key_arn, opts=context.stateful(parent=parent),
    )


# ---------------------------------------------------------------- freshness and pipelines

FRESHNESS_METRIC = ("AWS/SageMaker", "Invocations")
FRESHNESS_OPERATION = "PutRecord"


@dataclass(frozen=True)
class FreshnessArgs:
    context: TeamContext
    group: FeatureGroup
    index: int
    topic_arns: dict[str, str]


class FeatureFreshness(SpecComponent):
    """Warns when a feature group has ingested nothing for ``maxIngestionGapMinutes``:
    no PutRecord call in one period of that length (missing data counts as none)."""

    def __init__(self, name: str, args: FreshnessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, group = args.context, args.group
        super().__init__("mlplatform:monitoring:FeatureFreshness", name,
                         ctx.locator.at("spec", "featureGroups", args.index, "maxIngestionGapMinutes"), opts)
        gap = group.max_ingestion_gap_minutes
        assert gap is not None  # the estate builds it only for a group with maxIngestionGapMinutes
        group_name = feature_group_name(ctx.team, ctx.environment, group.name, group.version)
        self.alarm_name = alarm_name(ctx.team, ctx.environment, "fg", group.name, f"v{group.version}", "stale")
        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-stale",
            name=self.alarm_name,
            alarm_description=f"No record ingested into {group_name} for {gap} minutes",
            namespace=FRESHNESS_METRIC[0], metric_name=FRESHNESS_METRIC[1],
            dimensions={"FeatureGroupName": group_name, "OperationName": FRESHNESS_OPERATION},
            statistic="Sum", period=gap * 60, evaluation_periods=1, datapoints_to_alarm=1,
            comparison_operator="LessThanThreshold", threshold=1, treat_missing_data="breaching",
            alarm_actions=[args.topic_arns["warning"]],
            opts=self.child(),
        )
        self.register_outputs({"alarmName": self.alarm_name})


def failed_jobs_pattern(team: str, environment: str, batch_queue_arns: Sequence[str]) -> dict:
    """EventBridge pattern: a job of the team failed. Batch jobs are matched by the team's
    queues; Glue jobs and SageMaker training and batch-transform jobs by the team's
    ``<team>-<env>-`` name prefix, the platform's naming rule."""
    prefix = [{"prefix": f"{team}-{environment}-"}]
    patterns = [
        {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
         "detail": {"state": ["FAILED", "TIMEOUT", "ERROR"], "jobName": prefix}},
        {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"],
         "detail": {"TrainingJobStatus": ["Failed"], "TrainingJobName": prefix}},
        {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Transform Job State Change"],
         "detail": {"TransformJobStatus": ["Failed"], "TransformJobName": prefix}},
    ]
    if batch_queue_arns:
        patterns.insert(0, {"source": ["aws.batch"], "detail-type": ["Batch Job State Change"],
                            "detail": {"status": ["FAILED"], "jobQueue": sorted(batch_queue_arns)}})
    return {"$or": patterns}


class PipelineFailures(SpecComponent):
    """An EventBridge rule on the team's failed Batch, Glue and SageMaker jobs, to the warning topic."""

    def __init__(self, name: str, context: TeamContext, batch_queue_arns: Sequence[str], topic_arns: dict[str, str],
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlplatform:monitoring:PipelineFailures", name, context.locator.at("spec", "training"), opts)
        pattern = failed_jobs_pattern(context.team, context.environment, batch_queue_arns)
        self.rule_name = physical_name(context.team, context.environment, "failed-jobs", max_length=64)
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule", name=self.rule_name, description=f"Failed Batch, Glue and SageMaker jobs of team {context.team}",
            event_pattern=json.dumps(pattern, sort_keys=True), opts=self.child(),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-to-warning", rule=self.rule.name, arn=topic_arns["warning"], target_id="warning-topic",
            opts=self.child(),
        )
        self.register_outputs({"ruleName": self.rule_name})


# ---------------------------------------------------------------- dashboard


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


class TeamDashboard(SpecComponent):
    """One CloudWatch dashboard per team and stack."""

    def __init__(self, name: str, context: TeamContext, body: str, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlplatform:monitoring:TeamDashboard", name, context.locator.at("metadata", "team"), opts)
        self.dashboard_name = physical_name(context.team, context.environment, max_length=255)
        aws.cloudwatch.Dashboard(f"{name}-dashboard", dashboard_name=self.dashboard_name, dashboard_body=body,
                                 opts=self.child())
        self.register_outputs({"dashboardName": self.dashboard_name})
