"""DriftMonitor: feature drift (SageMaker Model Monitor) and prediction drift/bias (a Lambda).

Feature drift: a data-quality job definition and a monitoring schedule compare the
endpoint's captured requests with the baseline statistics and constraints under the
spec's ``monitoring.drift.baseline`` (``statistics.json``/``constraints.json``, as the
Model Monitor baselining job writes them), on the spec's schedule.

Prediction drift and bias: ``mlplatform/runtime/drift_handler.py`` packaged as a Lambda
function, run by an EventBridge schedule a few minutes after each window, reads the
captured responses and publishes the metrics that the alarms here watch (their names come
from the handler module itself, so alarm and publisher cannot drift apart). The baseline
predictions are ``<baseline>predictions.json``.

Data capture: :mod:`mlplatform.locations` owns where it lands. The endpoint configuration
writes to :func:`~mlplatform.locations.capture_destination_uri` and SageMaker appends
``<endpoint name>/<variant>/yyyy/mm/dd/hh/``; the Lambda's ``DRIFT_CAPTURE_PREFIX`` and
both roles here read :func:`~mlplatform.locations.capture_prefix` of the endpoint's
physical name, which is exactly that folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.locations import capture_prefix as endpoint_capture_prefix
from mlplatform.naming import endpoint_name, physical_name, role_name, PRIMARY_VARIANT
from mlplatform.runtime import drift_handler
from mlplatform.spec.models import Endpoint
from mlplatform.stackconfig import package_file
from mlplatform.type_tokens import DRIFT_MONITOR

from .alarm_names import alarm_name
from .base import SpecComponent, TeamContext
from .grants import (EndpointAccess, LogGroupAccess, MetricNamespace, QueueAccess, grant_lambda_vpc_access,
                     grant_xray_write)
from .iam import allow
from .log_groups import lambda_log_group
from .managed_key import KeyAccess
from .secure_bucket import BucketAccess
from .service_role import ServiceRoleArgs, ServiceTrust, grant_to_role, service_role

#: The handler's source, named relative to the project when the package lies inside it (a
#: checkout: stable plans) and by its installed location otherwise (a wheel): the Pulumi
#: engine reads the asset from there either way.
HANDLER_FILE = package_file(drift_handler.__file__)
LAMBDA_RUNTIME = "python3.12"
WINDOW_MINUTES = {"hourly": 60, "daily": 1440}
#: Runs a few minutes after the window closes, so the last capture files are flushed.
LAMBDA_SCHEDULE = {"hourly": "cron(10 * * * ? *)", "daily": "cron(20 0 * * ? *)"}
MODEL_MONITOR_SCHEDULE = {"hourly": "cron(0 * ? * * *)", "daily": "cron(0 0 ? * * *)"}
MONITOR_INSTANCE_TYPE = "ml.m5.xlarge"
MONITOR_MAX_RUNTIME_SECONDS = 1800  # below the hourly schedule's one-hour limit
#: Where Model Monitor's data-quality jobs publish their metrics (``publish_cloudwatch_metrics``).
MODEL_MONITOR_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
#: Model Monitor analyzer image registry per region (SageMaker SDK image_uri_config/model-monitor.json).
MODEL_MONITOR_REGISTRIES = {
    "eu-west-1": "468650794304", "eu-west-2": "749857270468", "eu-west-3": "680080141114",
    "eu-central-1": "048819808253", "eu-north-1": "895015795356", "eu-south-1": "933208885752",
    "eu-south-2": "437450045455", "us-east-1": "156813124566", "us-east-2": "777275614652",
    "us-west-1": "890145073186", "us-west-2": "159807026194",
}


def model_monitor_image(region: str) -> str:
    # every region a residency group allows has an entry (tests/test_preflight.py), and the preflight
    # keeps a team off a stack outside its residency
    assert region in MODEL_MONITOR_REGISTRIES, f"no Model Monitor analyzer image known for region {region}"
    account = MODEL_MONITOR_REGISTRIES[region]
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer:latest"


def drift_alarm_name(team: str, environment: str, endpoint: str) -> str:
    """Name of the prediction-drift alarm (retraining rules react to its state changes)."""
    return alarm_name(team, environment, endpoint, "prediction-drift")


def baseline_prefix(endpoint: Endpoint) -> str:
    drift = endpoint.monitoring.drift
    prefix = drift.baseline if drift is not None and drift.baseline else f"baselines/{endpoint.name}/"
    return prefix if prefix.endswith("/") else prefix + "/"


@dataclass(frozen=True, kw_only=True)
class DriftMonitorArgs:
    #: the team and stack
    context: TeamContext
    #: the spec endpoint (its ``monitoring.drift`` and ``dataCapture`` are set)
    endpoint: Endpoint
    #: the endpoint's position in ``spec.endpoints`` (the recorded spec source)
    index: int
    #: the team's artifact bucket: captured data in, baselines and reports out
    bucket_name: str
    #: the team's artifact key, which encrypts captures and reports
    artifact_key_arn: pulumi.Input[str]
    #: alias of that key (``alias/...``)
    artifact_key_alias: str
    #: the team's alert key, which encrypts the drift Lambda's log group
    alert_key_arn: pulumi.Input[str]
    #: severity -> the team's escalation topic ARN
    topic_arns: dict[str, str]
    #: the endpoint resource when the serving components built it (Model Monitor needs it to
    #: exist); default none
    depends_on: tuple = ()
    #: alias of the alert key, which also encrypts the drift Lambda's dead-letter queue;
    #: default "" (none given)
    alert_key_alias: str = ""


class DriftMonitor(SpecComponent):
    """Model Monitor data-quality schedule, the drift Lambda, its schedule and its alarms."""

    def __init__(self, name: str, args: DriftMonitorArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, ep = args.context, args.endpoint
        drift = ep.monitoring.drift
        assert drift is not None  # the estate builds a drift monitor only for an endpoint with monitoring.drift
        super().__init__(DRIFT_MONITOR, name,
                         ctx.locator.at("spec", "endpoints", args.index, "monitoring", "drift"), opts)
        region, account = ctx.stack.region, ctx.account_id
        bucket, store = args.bucket_name, BucketAccess(args.bucket_name)
        self.endpoint_name = endpoint_name(ctx.team, ctx.environment, ep.name)
        capture_prefix = endpoint_capture_prefix(self.endpoint_name)
        baseline = baseline_prefix(ep)
        artifact_key = KeyAccess(args.artifact_key_alias, region, account)
        alert_key = KeyAccess(args.alert_key_alias, region, account)
        dlq_name = physical_name(ctx.team, ctx.environment, ep.name, "drift-dlq", max_length=80)

        # ---- feature drift: Model Monitor
        monitor_role = role_name(ctx.team, ctx.environment, f"{ep.name}-model-monitor")
        role = service_role(f"{name}-monitor-role", ServiceRoleArgs(
            name=monitor_role, description=f"Model Monitor data-quality jobs of {self.endpoint_name}",
            trusts=(ServiceTrust(service="sagemaker.amazonaws.com"),), stack=ctx.stack), self.child())
        output_prefix = f"monitoring/{self.endpoint_name}/data-quality/"
        grant_to_role(f"{name}-monitor-policy", role.name, [
            *store.grant_list(capture_prefix, baseline, output_prefix),
            *store.grant_read(capture_prefix, baseline),
            *store.grant_put(output_prefix),
            artifact_key.grant_encrypt_decrypt(),
            EndpointAccess(region, account, self.endpoint_name).grant_describe(),
            MetricNamespace(MODEL_MONITOR_NAMESPACE).grant_put_metric_data(),
            LogGroupAccess(region, account, "/aws/sagemaker/ProcessingJobs").grant_write(create_group=True),
            allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                  f"arn:aws:ecr:{region}:{MODEL_MONITOR_REGISTRIES.get(region, account)}:repository/sagemaker-model-monitor-analyzer"),
            allow("ecr:GetAuthorizationToken", "*"),
        ], self.child())
        self.job_definition_name = physical_name(ctx.team, ctx.environment, ep.name, "data-quality", max_length=63)
        job_definition = aws.sagemaker.DataQualityJobDefinition(
            f"{name}-data-quality",
            name=self.job_definition_name,
            role_arn=f"arn:aws:iam::{account}:role/{monitor_role}",
            data_quality_app_specification={
                "image_uri": model_monitor_image(region),
                "environment": {"publish_cloudwatch_metrics": "Enabled"},
            },
            data_quality_baseline_config={
                "constraints_resource": {"s3_uri": f"s3://{bucket}/{baseline}constraints.json"},
                "statistics_resource": {"s3_uri": f"s3://{bucket}/{baseline}statistics.json"},
            },
            data_quality_job_input={"endpoint_input": {
                "endpoint_name": self.endpoint_name, "local_path": "/opt/ml/processing/input/endpoint",
                "s3_data_distribution_type": "FullyReplicated", "s3_input_mode": "File",
            }},
            data_quality_job_output_config={
                "kms_key_id": args.artifact_key_arn,
                "monitoring_outputs": {"s3_output": {
                    "s3_uri": f"s3://{bucket}/{output_prefix.rstrip('/')}", "local_path": "/opt/ml/processing/output",
                    "s3_upload_mode": "EndOfJob",
                }},
            },
            job_resources={"cluster_config": {
                "instance_count": 1, "instance_type": MONITOR_INSTANCE_TYPE, "volume_size_in_gb": 20,
                "volume_kms_key_id": args.artifact_key_arn,
            }},
            network_config={"enable_inter_container_traffic_encryption": True, "enable_network_isolation": True},
            stopping_condition={"max_runtime_in_seconds": MONITOR_MAX_RUNTIME_SECONDS},
            opts=self.child(depends_on=[role, *args.depends_on]),
        )
        self.schedule_name = physical_name(ctx.team, ctx.environment, ep.name, "feature-drift", max_length=63)
        aws.sagemaker.MonitoringSchedule(
            f"{name}-schedule",
            name=self.schedule_name,
            monitoring_schedule_config={
                "monitoring_job_definition_name": job_definition.name,
                "monitoring_type": "DataQuality",
                "schedule_config": {"schedule_expression": MODEL_MONITOR_SCHEDULE[drift.schedule]},
            },
            opts=self.child(),
        )

        # ---- prediction drift and bias: the Lambda
        self.function_name = physical_name(ctx.team, ctx.environment, ep.name, "drift", max_length=64)
        lambda_role = role_name(ctx.team, ctx.environment, f"{ep.name}-drift-fn")
        log_group = lambda_log_group(f"{name}-logs", ctx, self.function_name, args.alert_key_arn, self)
        fn_role = service_role(f"{name}-fn-role", ServiceRoleArgs(
            name=lambda_role, description=f"Drift Lambda of {self.endpoint_name}",
            trusts=(ServiceTrust(service="lambda.amazonaws.com"),), stack=ctx.stack), self.child())
        baseline_key = f"{baseline}predictions.json"
        grant_to_role(f"{name}-fn-policy", fn_role.name, [
            *store.grant_list(capture_prefix),
            *store.grant_read(capture_prefix),
            *store.grant_read_keys(baseline_key),
            artifact_key.grant_decrypt(),
            MetricNamespace(drift_handler.NAMESPACE).grant_put_metric_data(),
            LogGroupAccess(region, account, f"/aws/lambda/{self.function_name}").grant_write(),
            QueueAccess(region, account, dlq_name).grant_send(),
            alert_key.grant_encrypt_decrypt(),
            grant_xray_write(),
            *(grant_lambda_vpc_access(region, account, ctx.stack.network) if ctx.stack.network else []),
        ], self.child())
        self.environment = {
            "DRIFT_BUCKET": bucket,
            "DRIFT_CAPTURE_PREFIX": capture_prefix,
            "DRIFT_BASELINE_KEY": baseline_key,
            "DRIFT_TEAM": ctx.team,
            "DRIFT_ENDPOINT": self.endpoint_name,
            "DRIFT_WINDOW_MINUTES": str(WINDOW_MINUTES[drift.schedule]),
            "DRIFT_POSITIVE_SCORE": repr(drift.positive_score),
            "DRIFT_VARIANTS": PRIMARY_VARIANT,  # the variant whose answers callers receive (not a shadow)
        }
        if drift.group_attribute:
            self.environment["DRIFT_GROUP_ATTRIBUTE"] = drift.group_attribute
        # Failed asynchronous invocations (the schedule's) land in an encrypted queue instead of vanishing.
        dead_letters = aws.sqs.Queue(
            f"{name}-fn-dlq", name=dlq_name,
            kms_master_key_id=args.alert_key_arn, kms_data_key_reuse_period_seconds=300,
            # how long a failed run waits for a look: the stack's driftDeadLetterRetentionSeconds
            message_retention_seconds=ctx.stack.defaults.drift_dead_letter_retention_seconds, opts=self.child(),
        )
        network = ctx.stack.network
        function = aws.lambda_.Function(
            f"{name}-fn",
            name=self.function_name,
            description=f"Prediction drift and bias of {self.endpoint_name}",
            role=f"arn:aws:iam::{account}:role/{lambda_role}",
            runtime=LAMBDA_RUNTIME,
            handler="drift_handler.handler",
            code=pulumi.AssetArchive({"drift_handler.py": pulumi.FileAsset(HANDLER_FILE)}),
            timeout=300,
            memory_size=512,
            reserved_concurrent_executions=1,
            environment={"variables": self.environment},
            kms_key_arn=args.alert_key_arn,
            logging_config={"log_format": "Text", "log_group": log_group.name},
            dead_letter_config={"target_arn": dead_letters.arn},
            tracing_config={"mode": "Active"},
            vpc_config={"subnet_ids": list(network.subnet_ids), "security_group_ids": list(network.security_group_ids)}
            if network else None,
            opts=self.child(depends_on=[fn_role, log_group]),
        )
        self.rule_name = physical_name(ctx.team, ctx.environment, ep.name, "drift-schedule", max_length=64)
        rule = aws.cloudwatch.EventRule(
            f"{name}-fn-schedule", name=self.rule_name,
            description=f"Measure prediction drift of {self.endpoint_name} ({drift.schedule})",
            schedule_expression=LAMBDA_SCHEDULE[drift.schedule], opts=self.child(),
        )
        aws.cloudwatch.EventTarget(f"{name}-fn-target", rule=rule.name, arn=function.arn, target_id="drift-lambda",
                                   opts=self.child())
        aws.lambda_.Permission(
            f"{name}-fn-invoke", action="lambda:InvokeFunction", function=function.name,
            # explicit: the provider's autoname (logical name + 7 characters) overflows AddPermission's 100
            statement_id="AllowDriftSchedule", principal="events.amazonaws.com",
            source_arn=f"arn:aws:events:{region}:{account}:rule/{self.rule_name}", opts=self.child(),
        )

        # ---- alarms on what the Lambda publishes
        dims = {"Team": ctx.team, "EndpointName": self.endpoint_name}
        period = WINDOW_MINUTES[drift.schedule] * 60
        warning = [args.topic_arns["warning"]]
        self.metric_names = [drift_handler.METRIC_FOR_TEST[drift.test]]
        self.alarm_names = {"prediction-drift": drift_alarm_name(ctx.team, ctx.environment, ep.name)}
        aws.cloudwatch.MetricAlarm(
            f"{name}-drift-alarm", name=self.alarm_names["prediction-drift"],
            alarm_description=f"{drift.test.upper()} statistic of {self.endpoint_name}'s predictions above {drift.threshold}",
            namespace=drift_handler.NAMESPACE, metric_name=drift_handler.METRIC_FOR_TEST[drift.test], dimensions=dims,
            statistic="Maximum", period=period, evaluation_periods=1, datapoints_to_alarm=1,
            comparison_operator="GreaterThanThreshold", threshold=drift.threshold, treat_missing_data="notBreaching",
            alarm_actions=warning, opts=self.child(),
        )
        if drift.group_attribute:
            self.metric_names.append(drift_handler.METRIC_PARITY)
            self.alarm_names["parity"] = alarm_name(ctx.team, ctx.environment, ep.name, "demographic-parity")
            aws.cloudwatch.MetricAlarm(
                f"{name}-parity-alarm", name=self.alarm_names["parity"],
                alarm_description=(f"Demographic parity difference over '{drift.group_attribute}' of "
                                   f"{self.endpoint_name} above {drift.parity_threshold}"),
                namespace=drift_handler.NAMESPACE, metric_name=drift_handler.METRIC_PARITY, dimensions=dims,
                statistic="Maximum", period=period, evaluation_periods=1, datapoints_to_alarm=1,
                comparison_operator="GreaterThanThreshold", threshold=drift.parity_threshold,
                treat_missing_data="notBreaching", alarm_actions=warning, opts=self.child(),
            )
        self.metric_names.append(drift_handler.METRIC_MALFORMED)
        self.alarm_names["lambda-errors"] = alarm_name(ctx.team, ctx.environment, ep.name, "drift-fn-errors")
        aws.cloudwatch.MetricAlarm(
            f"{name}-fn-errors", name=self.alarm_names["lambda-errors"],
            alarm_description=f"The drift Lambda of {self.endpoint_name} failed (baseline or configuration)",
            namespace="AWS/Lambda", metric_name="Errors", dimensions={"FunctionName": self.function_name},
            statistic="Sum", period=period, evaluation_periods=1, datapoints_to_alarm=1,
            comparison_operator="GreaterThanOrEqualToThreshold", threshold=1, treat_missing_data="notBreaching",
            alarm_actions=warning, opts=self.child(),
        )
        self.register_outputs({"functionName": self.function_name, "alarmNames": self.alarm_names,
                               "monitoringSchedule": self.schedule_name})
