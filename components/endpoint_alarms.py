"""EndpointAlarms: the health and saturation alarms of one served endpoint.

Every alarm here routes to the escalation topic of its severity (``components/escalation``):
signals that need someone now (an endpoint unhealthy) go to ``critical``; symptoms and
saturation that need a look go to ``warning``. Individual endpoint alarms are warnings and
the per-endpoint composite "unhealthy" alarm is the one page, so one outage does not page
once per symptom. Periods and metric names are module constants so the tests and the
dashboard (``components/dashboard``) read the same values the alarms use; the thresholds
are platform defaults a stack may tune (``endpointErrorRateAlarmPercent``,
``endpointUtilisationAlarmPercent``, ``endpointDiskAlarmPercent`` in
:class:`mlplatform.platform_defaults.PlatformDefaults`), read from the stack config the
context carries.

CloudWatch units to remember: ``ModelLatency`` is in microseconds (the spec's
``latencyP99Ms`` is multiplied by 1000), and the instance metrics in
``/aws/sagemaker/Endpoints`` are summed over cores/GPUs (0-100 per vCPU or GPU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.catalogues.instances import require
from mlplatform.naming import endpoint_name, variant_names
from mlplatform.spec.models import Endpoint
from mlplatform.type_tokens import ENDPOINT_ALARMS

from .alarm_names import alarm_name
from .base import SpecComponent, TeamContext

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"

ERROR_PERIOD_SECONDS = 60
ERROR_EVALUATION = (5, 3)       # 3 of the last 5 minutes
LATENCY_PERIOD_SECONDS = 300
LATENCY_EVALUATION = (3, 3)
SATURATION_PERIOD_SECONDS = 300
SATURATION_EVALUATION = (3, 3)
TRAFFIC_PERIOD_SECONDS = 300
TRAFFIC_EVALUATION = (3, 3)
TRAFFIC_BAND_WIDTH = 2          # standard deviations of the anomaly-detection band

def variants(endpoint: Endpoint) -> list[str]:
    """Production variants of an endpoint, as the serving components name them."""
    return variant_names(endpoint.rollout.strategy == "shadow")


def vcpus(instance_type: str) -> int:
    """vCPUs of an ml.* instance, from the instance catalogue (the one source of instance facts)."""
    return require(instance_type).vcpus


def gpus(instance_type: str) -> int:
    """GPUs of an ml.* instance (0 for CPU families), from the instance catalogue."""
    return require(instance_type).gpus



@dataclass(frozen=True, kw_only=True)
class EndpointAlarmsArgs:
    #: the team and stack
    context: TeamContext
    #: the spec endpoint (a served mode: realtime, async or serverless)
    endpoint: Endpoint
    #: the endpoint's position in ``spec.endpoints`` (the recorded spec source)
    index: int
    #: severity -> the team's escalation topic ARN (``warning`` per symptom, ``critical`` for the composite)
    topic_arns: dict[str, str]


class EndpointAlarms(SpecComponent):
    """Per variant: 5xx rate, p99 latency, CPU/GPU/disk saturation, traffic collapse;
    per endpoint: the composite "unhealthy" alarm that pages."""

    def __init__(self, name: str, args: EndpointAlarmsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, ep = args.context, args.endpoint
        error_rate_percent = ctx.stack.defaults.endpoint_error_rate_alarm_percent  # 5xx share of invocations
        super().__init__(ENDPOINT_ALARMS, name,
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
                alarm_description=f"More than {error_rate_percent}% of invocations of {variant} fail with 5xx",
                metric_queries=[
                    _query("errors", SAGEMAKER_NAMESPACE, "Invocation5XXErrors", dims, ERROR_PERIOD_SECONDS, "Sum"),
                    _query("invocations", SAGEMAKER_NAMESPACE, "Invocations", dims, ERROR_PERIOD_SECONDS, "Sum"),
                    {"id": "error_rate", "expression": "IF(invocations > 0, 100 * errors / invocations, 0)",
                     "label": "5xx error rate (%)", "return_data": True},
                ],
                comparison_operator="GreaterThanThreshold", threshold=error_rate_percent,
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
        defaults = self._ctx.stack.defaults
        utilisation = defaults.endpoint_utilisation_alarm_percent  # per vCPU / per GPU
        checks = [("cpu", "CPUUtilization", utilisation * vcpus(instance_type)),
                  ("disk", "DiskUtilization", defaults.endpoint_disk_alarm_percent)]
        gpu_count = gpus(instance_type)
        if gpu_count:
            checks += [("gpu", "GPUUtilization", utilisation * gpu_count),
                       ("gpu-memory", "GPUMemoryUtilization", utilisation * gpu_count)]
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
