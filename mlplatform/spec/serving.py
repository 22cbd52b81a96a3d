"""The spec's ``endpoints``: model, capacity, rollout, capture, monitoring, retraining
and retirement of each serving endpoint (drives components/endpoint.py,
components/drift_monitor.py and components/retraining.py); its serving edge (exposure
and fallback) is :mod:`.serving_edge`."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from .base import FEATURE_NAME, ML_INSTANCE, NAME, RuleViolation, SpecModel
from .serving_edge import Exposure, Fallback, RequestSchema, edge_problems


class ModelPackageRef(SpecModel):
    """An approved version in the team's model registry (the production path)."""

    group: Optional[str] = Field(
        default=None, pattern=NAME, max_length=32,
        description="Model package group, by the endpoint name that owns it; unset means this endpoint's group.",
    )
    version: int = Field(ge=1, le=100000, description="Model package version to serve.")


class Model(SpecModel):
    """The model an endpoint serves: an approved registry package, or an artifact path (fine for dev)."""

    framework: Literal["pytorch", "tensorflow", "xgboost", "sklearn", "huggingface"] = Field(
        description="Framework of the serving container."
    )
    framework_version: str = Field(pattern=r"^[0-9]+(\.[0-9]+){0,2}$", description="Framework version, e.g. \"2.3\".")
    artifact: Optional[str] = Field(
        default=None,
        pattern=r"^models/[A-Za-z0-9._/-]*$",
        description="Model artifact location under the team's bucket; must start with models/. Exactly one of artifact and package.",
    )
    package: Optional[ModelPackageRef] = Field(
        default=None, description="Approved model package to serve instead of an artifact path. Exactly one of artifact and package."
    )
    format: Literal["framework-native", "torchscript", "onnx"] = Field(
        default="framework-native",
        description="Serialisation of the model; picks the serving container (onnx is served by Triton). Defaults to framework-native.",
    )
    image: Optional[str] = Field(
        default=None,
        pattern=r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$",
        description="Serving image in ECR; unset resolves the framework's SageMaker image for the region and instance type.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> "Model":
        if (self.artifact is None) == (self.package is None):
            raise RuleViolation(("artifact",), "name the model by exactly one of artifact and package")
        if self.format == "torchscript" and self.framework != "pytorch":
            raise RuleViolation(("format",), f"format torchscript needs framework pytorch, not {self.framework}")
        return self


class Serverless(SpecModel):
    """Serverless inference capacity."""

    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = Field(description="Memory per invocation, in MB.")
    max_concurrency: int = Field(default=5, ge=1, le=200, description="Most concurrent invocations. Defaults to 5.")


class OffPeak(SpecModel):
    """A daily window in which the endpoint runs fewer instances."""

    start_hour: int = Field(ge=0, le=23, description="Hour (0-23) the off-peak window starts, in timezone.")
    end_hour: int = Field(ge=0, le=23, description="Hour (0-23) the window ends and normal capacity returns.")
    timezone: str = Field(default="UTC", pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$", description="IANA time zone. Defaults to UTC.")
    min: int = Field(default=1, ge=0, le=100, description="Fewest instances during the window (0 only for async). Defaults to 1.")

    @model_validator(mode="after")
    def _not_empty(self) -> "OffPeak":
        if self.start_hour == self.end_hour:
            raise RuleViolation(("endHour",), "the off-peak window starts and ends at the same hour")
        return self


class BatchSchedule(SpecModel):
    """A recurring batch transform over a prefix of the team's bucket (mode batch)."""

    schedule: str = Field(
        pattern=r"^(cron\([^)]+\)|rate\([0-9]+ (minute|minutes|hour|hours|day|days)\))$",
        description="EventBridge Scheduler expression, e.g. cron(0 2 * * ? *) or rate(1 day).",
    )
    input_prefix: str = Field(
        pattern=r"^datasets/[A-Za-z0-9._/-]*$", description="Input records under the team's bucket; must start with datasets/."
    )
    content_type: str = Field(default="text/csv", max_length=256, description="MIME type of the input. Defaults to text/csv.")
    instance_count: int = Field(default=1, ge=1, le=100, description="Instances per transform job. Defaults to 1.")


class Autoscaling(SpecModel):
    """Instance count range and the scaling target."""

    min: int = Field(default=1, ge=0, le=100, description="Fewest instances. Defaults to 1.")
    max: int = Field(default=1, ge=1, le=100, description="Most instances. Defaults to 1.")
    target_invocations_per_instance: int = Field(
        default=100, ge=1, le=100000, description="Invocations per instance per minute that scaling aims for. Defaults to 100."
    )
    target_gpu_utilization_percent: Optional[int] = Field(
        default=None, ge=1, le=100,
        description="Also scale on GPU utilisation, aiming for this percent (GPU instances); unset does not.",
    )
    target_backlog_per_instance: int = Field(
        default=5, ge=1, le=10000, description="Queued requests per instance that async scaling aims for (mode async). Defaults to 5."
    )
    off_peak: Optional[OffPeak] = Field(
        default=None, description="A daily window with lower capacity (idle cost); unset keeps min all day."
    )

    @model_validator(mode="after")
    def _min_le_max(self) -> "Autoscaling":
        if self.min > self.max:
            raise RuleViolation(("min",), f"min ({self.min}) is greater than max ({self.max})")
        if self.off_peak is not None and self.off_peak.min > self.min:
            raise RuleViolation(("offPeak", "min"), f"off-peak min ({self.off_peak.min}) is above min ({self.min})")
        return self


class Rollout(SpecModel):
    """How a new model version reaches traffic."""

    strategy: Literal["all-at-once", "canary", "linear", "shadow"] = Field(
        default="all-at-once", description="Deployment strategy. Defaults to all-at-once."
    )
    canary_percent: Optional[int] = Field(
        default=None, ge=1, le=50, description="Traffic share of the canary, 1-50 (canary and linear)."
    )
    shadow_percent: Optional[int] = Field(
        default=None, ge=1, le=100, description="Share of traffic mirrored to the shadow variant, 1-100 (shadow)."
    )
    bake_minutes: int = Field(default=30, ge=0, le=1440, description="Minutes to watch alarms before shifting on. Defaults to 30.")
    shadow_artifact: Optional[str] = Field(
        default=None, pattern=r"^models/[A-Za-z0-9._/-]*$",
        description="Candidate model the shadow variant serves (same framework), under the team's bucket (shadow).",
    )

    @model_validator(mode="after")
    def _strategy_fields(self) -> "Rollout":
        needs_canary = self.strategy in ("canary", "linear")
        if needs_canary and self.canary_percent is None:
            raise RuleViolation(("canaryPercent",), f"strategy {self.strategy} needs canaryPercent (1-50)")
        if not needs_canary and self.canary_percent is not None:
            raise RuleViolation(("canaryPercent",), f"canaryPercent applies to canary and linear, not {self.strategy}")
        if self.strategy == "shadow" and self.shadow_percent is None:
            raise RuleViolation(("shadowPercent",), "strategy shadow needs shadowPercent (1-100)")
        if self.strategy != "shadow" and self.shadow_percent is not None:
            raise RuleViolation(("shadowPercent",), f"shadowPercent applies to shadow, not {self.strategy}")
        if (self.strategy == "shadow") != (self.shadow_artifact is not None):
            raise RuleViolation(("shadowArtifact",), "strategy shadow needs shadowArtifact" if self.strategy == "shadow"
                                else f"shadowArtifact applies to shadow, not {self.strategy}")
        if needs_canary and self.bake_minutes > 60:
            raise RuleViolation(("bakeMinutes",), f"bakeMinutes ({self.bake_minutes}) is over 60; SageMaker waits at most "
                                "3600 s between traffic steps")
        return self


class DataCapture(SpecModel):
    """Request and response capture for monitoring."""

    sample_percent: int = Field(ge=0, le=100, description="Share of requests captured, 0-100.")


class Drift(SpecModel):
    """Prediction and feature drift checks."""

    test: Literal["ks", "psi"] = Field(default="ks", description="Statistic: ks (Kolmogorov-Smirnov) or psi. Defaults to ks.")
    threshold: float = Field(gt=0, le=1, description="Alarm when the statistic exceeds this value.")
    schedule: Literal["hourly", "daily"] = Field(default="daily", description="How often drift is measured. Defaults to daily.")
    baseline: Optional[str] = Field(
        default=None, pattern=r"^baselines/[A-Za-z0-9._/-]*$", description="Baseline statistics under the team's bucket."
    )
    group_attribute: Optional[str] = Field(
        default=None, pattern=FEATURE_NAME, description="Attribute for the demographic parity check; unset skips it."
    )
    parity_threshold: float = Field(
        default=0.1, gt=0, le=1,
        description="Alarm when the demographic parity difference between groups exceeds this value (needs groupAttribute). Defaults to 0.1.",
    )
    positive_score: float = Field(
        default=0.5, ge=0, le=1,
        description="Prediction score at or above which a prediction counts as positive, for the parity check. Defaults to 0.5.",
    )

    @model_validator(mode="after")
    def _parity_needs_group(self) -> "Drift":
        if self.group_attribute is None:
            for field, alias in (("parity_threshold", "parityThreshold"), ("positive_score", "positiveScore")):
                if field in self.model_fields_set:
                    raise RuleViolation((alias,), f"{alias} applies to the parity check, which needs groupAttribute")
        return self


class EndpointMonitoring(SpecModel):
    """What is watched on an endpoint."""

    latency_p99_ms: Optional[int] = Field(default=None, ge=1, le=600000, description="p99 model latency objective in ms.")
    drift: Optional[Drift] = Field(default=None, description="Drift checks; unset disables them.")


SCHEDULE_EXPRESSION = r"^(rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\)|cron\([0-9*?,/ LW#A-Z-]+\))$"


class Retraining(SpecModel):
    """When the endpoint's model is retrained: on a schedule and/or when drift alarms.

    With ``queue`` and ``jobDefinition`` a job is submitted to the team's Batch queue;
    with neither, the team is notified (info topic) and retrains elsewhere.
    """

    schedule: Optional[str] = Field(
        default=None, pattern=SCHEDULE_EXPRESSION,
        description="EventBridge schedule expression, e.g. rate(7 days) or cron(0 3 ? * MON *); unset: no scheduled retraining.",
    )
    on_drift: bool = Field(
        default=False, description="Retrain when the endpoint's prediction drift alarm enters ALARM (needs monitoring.drift). Defaults to false."
    )
    queue: Optional[str] = Field(
        default=None, pattern=NAME, description="Training queue (backend batch) the retraining job is submitted to; unset notifies instead."
    )
    job_definition: Optional[str] = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{1,128}(:[0-9]+)?$",
        description="AWS Batch job definition (name or name:revision) of the retraining job; required with queue.",
    )

    @model_validator(mode="after")
    def _trigger_and_target(self) -> "Retraining":
        if self.schedule is None and not self.on_drift:
            raise RuleViolation(("schedule",), "retraining needs a schedule, onDrift: true, or both")
        if (self.queue is None) != (self.job_definition is None):
            missing = "jobDefinition" if self.job_definition is None else "queue"
            raise RuleViolation((missing,), "queue and jobDefinition go together (set both to submit a job, neither to notify)")
        return self


class Retired(SpecModel):
    """Marks an endpoint as retired: it leaves the plan, its model package group and artifacts stay."""

    reason: str = Field(min_length=10, max_length=256, description="Why the endpoint was retired (recorded as a tag on what stays).")
    successor: Optional[str] = Field(
        default=None, pattern=NAME, max_length=32, description="Endpoint of this team that replaces it; unset when there is none."
    )


class Endpoint(SpecModel):
    """A model serving endpoint."""

    name: str = Field(pattern=NAME, max_length=32, description="Endpoint name.")
    mode: Literal["realtime", "async", "serverless", "batch"] = Field(
        default="realtime", description="realtime, async, serverless or batch. Defaults to realtime."
    )
    model: Model = Field(description="The served model.")
    instance_type: Optional[str] = Field(
        default=None, pattern=ML_INSTANCE, description="SageMaker instance type (ml.*); required unless mode is serverless."
    )
    serverless: Optional[Serverless] = Field(default=None, description="Serverless capacity; only with mode serverless.")
    autoscaling: Autoscaling = Field(default_factory=Autoscaling, description="Instance count range.")
    rollout: Rollout = Field(default_factory=Rollout, description="Deployment strategy.")
    data_capture: Optional[DataCapture] = Field(default=None, description="Request/response capture; unset disables it.")
    monitoring: EndpointMonitoring = Field(default_factory=EndpointMonitoring, description="Monitoring settings.")
    off_peak_hours_per_day: int = Field(
        default=0, ge=0, le=24, description="Hours per day scaled to zero or minimum (for cost). Defaults to 0."
    )
    expected_requests_per_second: Optional[float] = Field(
        default=None, ge=0, le=10_000_000,
        description="Average requests per second outside the off-peak window, for cost previews (instances needed "
                    "and cost per 1,000 inferences); unset assumes the midpoint of the autoscaling range.",
    )
    retraining: Optional[Retraining] = Field(default=None, description="Retraining triggers; unset: no automated retraining.")
    retired: Optional[Retired] = Field(
        default=None, description="Retire the endpoint: removed from the plan, its model package group and artifacts kept and tagged."
    )
    batch: Optional[BatchSchedule] = Field(default=None, description="Transform schedule; required with mode batch.")
    request: Optional[RequestSchema] = Field(
        default=None, description="Fields of the JSON object callers send; needed by fallback rules and lastKnownGood.",
    )
    exposure: Exposure = Field(
        default_factory=Exposure, description="How callers reach the endpoint: private (SigV4, default) or mtls (front door).",
    )
    fallback: Optional[Fallback] = Field(
        default=None, description="Answer when the model is down (served by the mtls front door); unset: callers get the error.",
    )

    @model_validator(mode="after")
    def _serving_edge(self) -> "Endpoint":
        problem = edge_problems(self.mode, self.request, self.exposure, self.fallback)
        if problem is not None:
            raise problem
        return self

    @model_validator(mode="after")
    def _capacity(self) -> "Endpoint":
        if self.mode == "serverless":
            if self.serverless is None:
                raise RuleViolation(("serverless",), "mode serverless needs serverless settings")
            if self.instance_type is not None:
                raise RuleViolation(("instanceType",), "mode serverless takes no instanceType")
        else:
            if self.instance_type is None:
                raise RuleViolation(("instanceType",), f"mode {self.mode} needs an instanceType")
            if self.serverless is not None:
                raise RuleViolation(("serverless",), f"serverless settings need mode serverless, not {self.mode}")
        if (self.mode == "batch") != (self.batch is not None):
            raise RuleViolation(("batch",), "mode batch needs batch settings" if self.mode == "batch"
                                else f"batch settings need mode batch, not {self.mode}")
        if self.rollout.strategy != "all-at-once" and self.mode != "realtime":
            raise RuleViolation(("rollout", "strategy"),
                                f"strategy {self.rollout.strategy} needs mode realtime; SageMaker deploys {self.mode} all at once")
        if self.rollout.strategy in ("canary", "linear") and self.monitoring.latency_p99_ms is None:
            raise RuleViolation(("monitoring", "latencyP99Ms"),
                                f"strategy {self.rollout.strategy} needs monitoring.latencyP99Ms for its rollback alarm")
        if self.mode == "realtime" and (self.autoscaling.min < 1 or (self.autoscaling.off_peak and self.autoscaling.off_peak.min < 1)):
            path = ("autoscaling", "offPeak", "min") if self.autoscaling.min >= 1 else ("autoscaling", "min")
            raise RuleViolation(path, "a realtime endpoint keeps at least 1 instance; use mode async to scale to zero")
        if self.autoscaling.target_gpu_utilization_percent is not None:
            from mlplatform.catalogues.instances import lookup  # the one source of instance facts

            entry = lookup(self.instance_type) if self.instance_type else None
            if entry is None or entry.gpus == 0:
                raise RuleViolation(("autoscaling", "targetGpuUtilizationPercent"),
                                    f"GPU scaling needs a GPU instance type, not {self.instance_type or 'serverless'}")
        if self.data_capture is not None and self.mode in ("serverless", "batch"):
            raise RuleViolation(("dataCapture",), f"dataCapture works with realtime and async endpoints, not {self.mode}")
        if self.monitoring.drift is not None and self.data_capture is None:
            raise RuleViolation(("monitoring", "drift"), "drift monitoring needs dataCapture to read predictions from")
        if self.retraining is not None and self.retraining.on_drift and self.monitoring.drift is None:
            raise RuleViolation(("retraining", "onDrift"), "onDrift needs monitoring.drift to raise the drift alarm")
        if self.retired is not None and self.retired.successor == self.name:
            raise RuleViolation(("retired", "successor"), "an endpoint cannot succeed itself")
        return self


# ---------------------------------------------------------------- budget and exemptions
