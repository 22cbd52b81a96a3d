"""ModelEndpoint: one spec endpoint on SageMaker, in its mode (realtime, async, serverless, batch).

* realtime: model (image from the spec or resolved offline by the SageMaker SDK; VPC and
  network isolation when the stack gives subnets), endpoint configuration (volume KMS
  where the instance type allows it, data capture to the team's bucket with the team's
  key at :func:`mlplatform.locations.capture_destination_uri`, a ``shadow`` variant for
  shadow rollouts), an endpoint whose blue/green deployment shifts traffic by canary or
  linear steps and rolls back automatically on the 5xx and p99-latency alarms created
  here, and autoscaling (invocations per instance, GPU utilisation when asked, a lower
  minimum off-peak).
* async: the same plus async output in the team's bucket (KMS) with SNS success and
  error topics, and scaling on backlog per instance.
* serverless: memory and max concurrency; no instances to scale.
* batch: the model plus an EventBridge Scheduler schedule that starts a batch transform.

Variant names are fixed: ``primary`` and ``shadow`` (the monitoring component builds
its alarms on them), and the endpoint's name is :func:`mlplatform.naming.endpoint_name`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.locations import capture_destination_uri
from mlplatform.naming import (
    PRIMARY_VARIANT, SHADOW_VARIANT, endpoint_name, physical_name, sagemaker_name, variant_names, versioned_name,
)
from mlplatform.spec.models import Endpoint
from mlplatform.stackconfig import Network

from .base import SpecComponent, TeamContext
from .grants import TopicAccess
from .iam import allow
from .managed_key import KeyAccess, via_service
from .secure_bucket import BucketAccess
from .service_role import ServiceRoleArgs, ServiceTrust, grant_to_role, service_role
from mlplatform.catalogues.instances import lookup
from mlplatform.platform_defaults import PLATFORM_DEFAULTS
from .model_registry import package_arn, package_group_name
from mlplatform.catalogues.serving_images import resolve_image
from mlplatform.type_tokens import MODEL_ENDPOINT

#: variant names, from their one definition
PRIMARY, SHADOW = PRIMARY_VARIANT, SHADOW_VARIANT
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
#: Platform defaults (:class:`mlplatform.platform_defaults.PlatformDefaults`); a stack overrides them
#: under ``mlplatform:defaults`` and the component reads the stack's values from its context.
TERMINATION_WAIT_SECONDS = PLATFORM_DEFAULTS.endpoint_termination_wait_seconds
#: Endpoint configuration names are at most 63 characters (botocore: CreateEndpointConfig
#: EndpointConfigName) and the provider appends a 26-character unique suffix to a name
#: prefix (terraform-plugin-sdk helper/id PrefixedUniqueId): 36 characters and a hyphen remain.
CONFIG_PREFIX_LENGTH = 36
SCALE_IN_COOLDOWN = PLATFORM_DEFAULTS.endpoint_scale_in_cooldown_seconds
SCALE_OUT_COOLDOWN = PLATFORM_DEFAULTS.endpoint_scale_out_cooldown_seconds
ASYNC_CONCURRENCY_PER_INSTANCE = PLATFORM_DEFAULTS.endpoint_async_concurrency_per_instance
TRANSFORM_TARGET = "arn:aws:scheduler:::aws-sdk:sagemaker:createTransformJob"
#: EventBridge Scheduler substitutes this per run, so every transform job name is unique.
EXECUTION_ID = "<aws.scheduler.execution-id>"


@dataclass(frozen=True, kw_only=True)
class ModelEndpointArgs:
    #: the team and stack
    context: TeamContext
    #: the spec endpoint (live, not retired)
    endpoint: Endpoint
    #: the endpoint's position in ``spec.endpoints`` (the recorded spec source)
    index: int
    #: the team's artifact bucket: model artifacts, captured data, async outputs
    bucket_name: str
    #: the team's artifact key: volumes, capture, outputs
    key_arn: pulumi.Input[str]
    #: grants on that key by its alias (known at plan time), e.g. ``ArtifactStore.key_access``
    key_access: KeyAccess
    #: ARN of the team's serving role, which SageMaker assumes to serve the model
    serving_role_arn: str
    #: name of that role (inline policies attach to it by name)
    serving_role_name: str
    #: this endpoint's group in the model registry
    package_group_name: str
    #: key of the SNS topics SageMaker publishes to (the team's notification key)
    notification_key_arn: pulumi.Input[str]
    #: the stack's VPC subnets and security groups; default None (no VPC configuration)
    network: Optional[Network] = None


def deployment_window(endpoint: Endpoint, termination_wait_seconds: int = TERMINATION_WAIT_SECONDS) -> int:
    """Seconds a blue/green deployment may take: every traffic step plus its bake time, plus the
    old fleet's ``termination_wait_seconds`` (the stack's ``defaults.endpoint_termination_wait_seconds``)."""
    rollout = endpoint.rollout
    wait = rollout.bake_minutes * 60
    steps = 1 if rollout.strategy != "linear" else math.ceil(100 / (rollout.canary_percent or 100))
    return min(14400, max(600, (steps + 1) * wait + termination_wait_seconds))


class ModelEndpoint(SpecComponent):
    """A served model: :attr:`endpoint_name` and :attr:`variant_names` are its physical names."""

    def __init__(self, name: str, args: ModelEndpointArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, ep = args.context, args.endpoint
        super().__init__(MODEL_ENDPOINT, name, ctx.locator.at("spec", "endpoints", args.index), opts)
        self._name, self._args = name, args
        self.endpoint_name = endpoint_name(ctx.team, ctx.environment, ep.name)
        self.variant_names = variant_names(ep.rollout.strategy == "shadow")
        self.alarm_names: list[str] = []
        self.endpoint: Optional[aws.sagemaker.Endpoint] = None
        self.image = self._image()
        self.model = self._model("model", ep.model.artifact)
        self.shadow_model = (self._model("shadow-model", ep.rollout.shadow_artifact)
                             if ep.rollout.strategy == "shadow" else None)
        if ep.mode == "batch":
            self._batch_schedule()
        else:
            self._endpoint()
            if ep.mode in ("realtime", "async"):
                self._autoscaling()
        self.register_outputs({
            "endpointName": self.endpoint_name if ep.mode != "batch" else None,
            "variantNames": self.variant_names if ep.mode != "batch" else [],
            "alarmNames": self.alarm_names,
            "image": self.image,
        })

    # ------------------------------------------------------------------ model

    def _image(self) -> Optional[str]:
        ep, ctx = self._args.endpoint, self._args.context
        if ep.model.image:
            return ep.model.image
        if ep.model.package:
            return None  # the approved package names its own image
        # resolvable: the builder's preflight (mlplatform.stackchecks._serving_image_issues, which
        # mlp validate --stack runs too) rejects every endpoint whose image the region lacks
        return resolve_image(ep.model.framework, ep.model.framework_version, ctx.stack.region,
                             ep.instance_type, ep.model.format)

    def _model(self, suffix: str, artifact: Optional[str]) -> aws.sagemaker.Model:
        args, ctx, ep = self._args, self._args.context, self._args.endpoint
        if ep.model.package is not None and suffix == "model":
            group = args.package_group_name if ep.model.package.group in (None, ep.name) else \
                package_group_name(ctx.team, ctx.environment, ep.model.package.group)
            container = {"model_package_name": package_arn(ctx.stack.region, ctx.account_id, group, ep.model.package.version)}
        else:
            uri = f"s3://{args.bucket_name}/{artifact}"
            container = {"image": self.image}
            if uri.endswith(".tar.gz"):
                container["model_data_url"] = uri
            else:
                container["model_data_source"] = {"s3_data_sources": [{
                    "s3_uri": uri if uri.endswith("/") else uri + "/",
                    "s3_data_type": "S3Prefix", "compression_type": "None"}]}
            if ep.model.format == "onnx":
                container["environment"] = {"SAGEMAKER_TRITON_DEFAULT_MODEL_NAME": ep.name}
        network = args.network
        definition = {
            "execution_role_arn": args.serving_role_arn,
            "primary_container": container,
            "enable_network_isolation": network is not None,
            "vpc_config": {"subnets": list(network.subnet_ids), "security_group_ids": list(network.security_group_ids)}
            if network else None,
        }
        # An explicit name: the provider's autoname (logical name + 7 random characters)
        # overflows CreateModel's 63 characters for long team and endpoint names. Every input
        # of a model forces a new one, so the name carries the hash of the definition.
        return aws.sagemaker.Model(
            f"{self._name}-{suffix}",
            name=versioned_name(f"{self.endpoint_name}-{suffix}", definition),
            opts=self.child(),
            **definition,
        )

    # ------------------------------------------------------------------ endpoint

    def _variant(self, variant: str, model: aws.sagemaker.Model, weight: float) -> dict:
        ep = self._args.endpoint
        spec = {"variant_name": variant, "model_name": model.name, "initial_variant_weight": weight}
        if ep.mode == "serverless":
            spec["serverless_config"] = {"memory_size_in_mb": ep.serverless.memory_mb,
                                         "max_concurrency": ep.serverless.max_concurrency}
        else:
            spec.update(instance_type=ep.instance_type, initial_instance_count=max(ep.autoscaling.min, 1))
        return spec

    def _endpoint(self) -> None:
        args, ctx, ep = self._args, self._args.context, self._args.endpoint
        bucket = f"s3://{args.bucket_name}"
        config: dict = {"production_variants": [self._variant(PRIMARY, self.model, 1.0)]}
        entry = lookup(ep.instance_type) if ep.instance_type else None
        # SageMaker rejects a volume key on instance types with local NVMe storage (their
        # instance store is encrypted by the hardware), and serverless has no volume.
        if ep.mode != "serverless" and not (entry and entry.local_nvme):
            config["kms_key_arn"] = args.key_arn
        if self.shadow_model is not None:
            config["shadow_production_variants"] = [
                self._variant(SHADOW, self.shadow_model, round(ep.rollout.shadow_percent / 100, 2))]
        if ep.data_capture is not None:
            # SageMaker appends <endpoint name>/<variant>/yyyy/mm/dd/hh/ below the destination;
            # the drift readers take their prefix from the same module (mlplatform.locations)
            config["data_capture_config"] = {
                "enable_capture": True,
                "initial_sampling_percentage": ep.data_capture.sample_percent,
                "destination_s3_uri": capture_destination_uri(args.bucket_name),
                "kms_key_id": args.key_arn,
                "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
                "capture_content_type_header": {"json_content_types": ["application/json"],
                                                "csv_content_types": ["text/csv"]},
            }
        if ep.mode == "async":
            self.success_topic, self.error_topic = (
                aws.sns.Topic(f"{self._name}-async-{kind}",
                              name=sagemaker_name(ctx.team, ctx.environment, f"{ep.name}-async-{kind}", max_length=256),
                              kms_master_key_id=args.notification_key_arn, opts=self.child())
                for kind in ("success", "error"))
            config["async_inference_config"] = {
                "output_config": {
                    "s3_output_path": f"{bucket}/async-output/{ep.name}/",
                    "s3_failure_path": f"{bucket}/async-output/{ep.name}/failures/",
                    "kms_key_id": args.key_arn,
                    "notification_config": {
                        "success_topic": self.success_topic.arn, "error_topic": self.error_topic.arn,
                        "include_inference_response_ins": ["SUCCESS_NOTIFICATION_TOPIC", "ERROR_NOTIFICATION_TOPIC"],
                    },
                },
                "client_config": {"max_concurrent_invocations_per_instance":
                                  ctx.stack.defaults.endpoint_async_concurrency_per_instance},
            }
        self.endpoint_config = aws.sagemaker.EndpointConfiguration(
            f"{self._name}-config", name_prefix=config_name_prefix(self.endpoint_name), opts=self.child(), **config)

        deployment = None
        if ep.mode == "realtime":
            alarms = self._rollback_alarms()
            deployment = {
                "blue_green_update_policy": {
                    "traffic_routing_configuration": self._traffic_routing(),
                    "termination_wait_in_seconds": ctx.stack.defaults.endpoint_termination_wait_seconds,
                    "maximum_execution_timeout_in_seconds": deployment_window(
                        ep, ctx.stack.defaults.endpoint_termination_wait_seconds),
                },
                "auto_rollback_configuration": {"alarms": [{"alarm_name": alarm.name} for alarm in alarms]},
            }
        self.endpoint = aws.sagemaker.Endpoint(
            f"{self._name}-endpoint",
            name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.name,
            deployment_config=deployment,
            opts=self.child(),
        )
        self._serving_permissions()

    def _traffic_routing(self) -> dict:
        rollout = self._args.endpoint.rollout
        wait = rollout.bake_minutes * 60
        if rollout.strategy == "canary":
            return {"type": "CANARY", "wait_interval_in_seconds": wait,
                    "canary_size": {"type": "CAPACITY_PERCENT", "value": rollout.canary_percent}}
        if rollout.strategy == "linear":
            return {"type": "LINEAR", "wait_interval_in_seconds": wait,
                    "linear_step_size": {"type": "CAPACITY_PERCENT", "value": rollout.canary_percent}}
        return {"type": "ALL_AT_ONCE", "wait_interval_in_seconds": min(wait, 3600)}

    def _rollback_alarms(self) -> list[aws.cloudwatch.MetricAlarm]:
        """Alarms SageMaker watches during a deployment: it rolls back only on alarms that exist."""
        ep = self._args.endpoint
        dimensions = {"EndpointName": self.endpoint_name, "VariantName": PRIMARY}
        alarms = [aws.cloudwatch.MetricAlarm(
            f"{self._name}-alarm-5xx",
            name=f"{self.endpoint_name}-5xx",
            alarm_description=f"5xx errors on endpoint {self.endpoint_name}: rolls a deployment back",
            namespace="AWS/SageMaker", metric_name="Invocation5XXErrors", dimensions=dimensions,
            statistic="Sum", period=60, evaluation_periods=2, datapoints_to_alarm=2,
            threshold=1, comparison_operator="GreaterThanOrEqualToThreshold", treat_missing_data="notBreaching",
            opts=self.child(),
        )]
        if ep.monitoring.latency_p99_ms is not None:
            alarms.append(aws.cloudwatch.MetricAlarm(
                f"{self._name}-alarm-p99-latency",
                name=f"{self.endpoint_name}-p99-latency",
                alarm_description=f"p99 model latency of {self.endpoint_name} above {ep.monitoring.latency_p99_ms} ms",
                namespace="AWS/SageMaker", metric_name="ModelLatency", dimensions=dimensions,
                extended_statistic="p99", period=60, evaluation_periods=3, datapoints_to_alarm=3,
                threshold=ep.monitoring.latency_p99_ms * 1000,  # ModelLatency is in microseconds
                comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
                opts=self.child(),
            ))
        self.alarm_names = [f"{self.endpoint_name}-5xx"] + (
            [f"{self.endpoint_name}-p99-latency"] if ep.monitoring.latency_p99_ms is not None else [])
        return alarms

    def _serving_permissions(self) -> None:
        """What the serving role needs beyond the team's store access, for this endpoint only."""
        args, ctx, ep = self._args, self._args.context, self._args.endpoint
        region, account = ctx.stack.region, ctx.account_id
        statements = []
        if self.alarm_names:
            statements.append(allow("cloudwatch:DescribeAlarms",
                                    [f"arn:aws:cloudwatch:{region}:{account}:alarm:{n}" for n in self.alarm_names]))
        if ep.mode == "async":
            statements += BucketAccess(args.bucket_name).grant_put(f"async-output/{ep.name}/")
            topics = [sagemaker_name(ctx.team, ctx.environment, f"{ep.name}-async-{k}", max_length=256)
                      for k in ("success", "error")]
            statements.append(TopicAccess(region, account, tuple(topics)).grant_publish())
        if statements:
            grant_to_role(f"{self._name}-serving", args.serving_role_name, statements, self.child())

    # ------------------------------------------------------------------ scaling

    def _autoscaling(self) -> None:
        ep = self._args.endpoint
        scaling = ep.autoscaling
        resource_id = f"endpoint/{self.endpoint_name}/variant/{PRIMARY}"
        target = aws.appautoscaling.Target(
            f"{self._name}-scaling-target",
            service_namespace="sagemaker", scalable_dimension=VARIANT_DIMENSION, resource_id=resource_id,
            min_capacity=scaling.min, max_capacity=scaling.max,
            opts=self.child(depends_on=[self.endpoint]),
        )
        common = {"service_namespace": "sagemaker", "scalable_dimension": VARIANT_DIMENSION, "resource_id": resource_id}
        defaults = self._args.context.stack.defaults
        tracking = {"scale_in_cooldown": defaults.endpoint_scale_in_cooldown_seconds,
                    "scale_out_cooldown": defaults.endpoint_scale_out_cooldown_seconds}
        if ep.mode == "async":
            aws.appautoscaling.Policy(
                f"{self._name}-scale-backlog", name=f"{self.endpoint_name}-backlog", policy_type="TargetTrackingScaling",
                target_tracking_scaling_policy_configuration={**tracking, "target_value": scaling.target_backlog_per_instance,
                    "customized_metric_specification": {
                        "metric_name": "ApproximateBacklogSizePerInstance", "namespace": "AWS/SageMaker",
                        "dimensions": [{"name": "EndpointName", "value": self.endpoint_name}], "statistic": "Average"}},
                opts=self.child(depends_on=[target]), **common)
            if scaling.min == 0:
                self._scale_from_zero(target, common)
        else:
            aws.appautoscaling.Policy(
                f"{self._name}-scale-invocations", name=f"{self.endpoint_name}-invocations",
                policy_type="TargetTrackingScaling",
                target_tracking_scaling_policy_configuration={**tracking,
                    "target_value": scaling.target_invocations_per_instance,
                    "predefined_metric_specification": {"predefined_metric_type": "SageMakerVariantInvocationsPerInstance"}},
                opts=self.child(depends_on=[target]), **common)
        if scaling.target_gpu_utilization_percent is not None:
            aws.appautoscaling.Policy(
                f"{self._name}-scale-gpu", name=f"{self.endpoint_name}-gpu", policy_type="TargetTrackingScaling",
                target_tracking_scaling_policy_configuration={**tracking,
                    "target_value": scaling.target_gpu_utilization_percent,
                    "customized_metric_specification": {
                        "metric_name": "GPUUtilization", "namespace": "/aws/sagemaker/Endpoints",
                        "dimensions": [{"name": "EndpointName", "value": self.endpoint_name},
                                       {"name": "VariantName", "value": PRIMARY}],
                        "statistic": "Average", "unit": "Percent"}},
                opts=self.child(depends_on=[target]), **common)
        if scaling.off_peak is not None:
            window = scaling.off_peak
            for label, hour, low in (("off-peak-start", window.start_hour, window.min), ("off-peak-end", window.end_hour, scaling.min)):
                aws.appautoscaling.ScheduledAction(
                    f"{self._name}-{label}", name=f"{self.endpoint_name}-{label}",
                    schedule=f"cron(0 {hour} * * ? *)", timezone=window.timezone,
                    scalable_target_action={"min_capacity": low, "max_capacity": scaling.max},
                    opts=self.child(depends_on=[target]), **common)

    def _scale_from_zero(self, target: aws.appautoscaling.Target, common: dict) -> None:
        """Backlog per instance is undefined at zero instances, so target tracking alone
        never wakes a scaled-in async endpoint: a step policy adds one instance when
        ``HasBacklogWithoutCapacity`` says requests wait with no instance to serve them."""
        step = aws.appautoscaling.Policy(
            f"{self._name}-scale-from-zero", name=f"{self.endpoint_name}-from-zero", policy_type="StepScaling",
            step_scaling_policy_configuration={
                "adjustment_type": "ChangeInCapacity", "cooldown": self._args.context.stack.defaults.endpoint_scale_in_cooldown_seconds, "metric_aggregation_type": "Average",
                "step_adjustments": [{"metric_interval_lower_bound": "0", "scaling_adjustment": 1}]},
            opts=self.child(depends_on=[target]), **common)
        aws.cloudwatch.MetricAlarm(
            f"{self._name}-alarm-backlog-without-capacity",
            name=f"{self.endpoint_name}-backlog-without-capacity",
            alarm_description=f"Requests wait at {self.endpoint_name} with no instance: scale out from zero",
            namespace="AWS/SageMaker", metric_name="HasBacklogWithoutCapacity",
            dimensions={"EndpointName": self.endpoint_name}, statistic="Average", period=60,
            evaluation_periods=2, datapoints_to_alarm=2, threshold=1, comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="missing", alarm_actions=[step.arn],
            opts=self.child(),
        )

    # ------------------------------------------------------------------ batch

    def _batch_schedule(self) -> None:
        args, ctx, ep = self._args, self._args.context, self._args.endpoint
        batch = ep.batch
        region, account = ctx.stack.region, ctx.account_id
        # TransformJobName: at most 63 = this prefix, a hyphen and the 36-character execution id
        job_prefix = physical_name(self.endpoint_name, max_length=26, allowed="a-zA-Z0-9-")
        role_name = sagemaker_name(ctx.team, ctx.environment, f"{ep.name}-schedule", max_length=64)
        role = service_role(f"{self._name}-schedule-role", ServiceRoleArgs(
            name=role_name, description=f"EventBridge Scheduler starting batch transforms of {self.endpoint_name}",
            # the schedule below sets no group: it lives in the account's "default" schedule group
            trusts=(ServiceTrust(service="scheduler.amazonaws.com",
                                 source_arn=f"arn:aws:scheduler:{region}:{account}:schedule-group/default"),),
            stack=ctx.stack), self.child())
        grant_to_role(f"{self._name}-schedule-policy", role.name, [
            allow("sagemaker:CreateTransformJob", f"arn:aws:sagemaker:{region}:{account}:transform-job/{job_prefix.lower()}-*"),
            allow("iam:PassRole", args.serving_role_arn,
                  conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
            # the schedule's target input is encrypted with the team key: the scheduler decrypts
            # it as this role, and only through EventBridge Scheduler
            args.key_access.grant(("kms:Decrypt",), conditions=via_service("scheduler", region)),
        ], self.child())
        request = pulumi.Output.all(self.model.name, args.key_arn).apply(lambda values: json.dumps(
            transform_request(job_prefix, values[0], args.bucket_name, ep, values[1]), sort_keys=True))
        self.schedule = aws.scheduler.Schedule(
            f"{self._name}-schedule",
            name=sagemaker_name(ctx.team, ctx.environment, f"{ep.name}-transform", max_length=64),
            description=f"Batch transform of {datasets(batch.input_prefix)} with {ep.name}",
            schedule_expression=batch.schedule,
            flexible_time_window={"mode": "OFF"},
            kms_key_arn=args.key_arn,  # the request names the team's bucket and model: encrypted at rest
            target={"arn": TRANSFORM_TARGET, "role_arn": role.arn, "input": request,
                    "retry_policy": {"maximum_retry_attempts": 2}},
            opts=self.child(),
        )
        bucket = BucketAccess(args.bucket_name)
        grant_to_role(f"{self._name}-serving", args.serving_role_name,
                      [*bucket.grant_read(batch.input_prefix), *bucket.grant_put(f"jobs/batch/{ep.name}/")],
                      self.child())


def config_name_prefix(endpoint: str) -> str:
    """Name prefix of an endpoint's configurations: a configuration is immutable, so each
    change creates a new one (prefix + the provider's unique suffix) before the endpoint
    moves to it. Hash-truncated, so two long endpoints of a team never share a prefix."""
    return physical_name(endpoint, max_length=CONFIG_PREFIX_LENGTH, allowed="a-zA-Z0-9-") + "-"


def transform_request(job_prefix: str, model_name: str, bucket_name: str, endpoint: Endpoint,
                      key_arn: str) -> dict:
    """The SageMaker ``CreateTransformJob`` request the schedule sends on every run.

    The job name ends with the scheduler's execution id, substituted per run, so runs never
    collide; input and output stay in the team's bucket and the output is encrypted with
    the team's key.
    """
    batch = endpoint.batch
    bucket = f"s3://{bucket_name}"
    return {
        "TransformJobName": f"{job_prefix}-{EXECUTION_ID}",
        "ModelName": model_name,
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                           "S3Uri": f"{bucket}/{batch.input_prefix}"}},
                           "ContentType": batch.content_type},
        "TransformOutput": {"S3OutputPath": f"{bucket}/jobs/batch/{endpoint.name}/", "KmsKeyId": key_arn},
        "TransformResources": {"InstanceType": endpoint.instance_type, "InstanceCount": batch.instance_count,
                               "VolumeKmsKeyId": key_arn},
    }


def datasets(prefix: str) -> str:
    return prefix.rstrip("/") or "datasets"
