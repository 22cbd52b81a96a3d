"""The team spec, v1: the contract between the platform and every ML team.

Field names are chosen for ML teams, not for AWS. Every field carries a description (it
becomes the JSON Schema and the editor tooltips), strict types (``"5"`` is not a number),
unknown keys are rejected, and YAML keys are camelCase. Rules that tie several fields
together live next to the data they check, as model validators; they raise
:class:`RuleViolation` naming the exact field so errors point at the right line.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field, model_validator

from .partial import partial_model

API_VERSION = "mlplatform/v1"
KIND = "TeamSpec"

from .base import (  # noqa: F401  (re-exported: the patterns are the spec's vocabulary)
    DATE, DNS_LABEL, EC2_INSTANCE, EMAIL, FEATURE_NAME, ML_INSTANCE, NAME, PII_CLASSIFICATIONS, RULE_ID,
    DataClassification, RuleViolation, SpecModel, _unique_names,
)
from .serving_edge import Exposure, Fallback, RequestSchema, edge_problems


# ---------------------------------------------------------------- metadata

EscalationTarget = Annotated[
    str,
    Field(
        pattern=r"^(pagerduty:[A-Za-z0-9_-]+|email:[^@\s]+@[^@\s]+\.[A-Za-z]{2,}|https://\S+|slack:#?[a-z0-9_-]+)$",
        description="Where to send an alert: email:<address>, https://<webhook> (must confirm the SNS subscription), "
                    "pagerduty:<service> (subscribed at the stack's pagerDutyIntegrationUrl) or slack:<channel> "
                    "(through the stack's slackWebhookUrl relay).",
    ),
]


class Escalation(SpecModel):
    """Who is told, per alert severity."""

    critical: list[EscalationTarget] = Field(
        min_length=1, description="Targets paged for critical alerts (endpoint down, budget exceeded)."
    )
    warning: list[EscalationTarget] = Field(
        default_factory=list, description="Targets told of warnings (drift, failed jobs). Defaults to none."
    )
    info: list[EscalationTarget] = Field(
        default_factory=list, description="Targets told of informational events. Defaults to none."
    )


class Metadata(SpecModel):
    """Who owns the team's estate and how sensitive its data is."""

    team: str = Field(
        pattern=DNS_LABEL,
        min_length=2,
        max_length=40,
        description="Team name, DNS-label style (lowercase letters, digits, '-'); unique; the spec file must be named <team>.yaml.",
    )
    cost_center: str = Field(
        pattern=r"^CC-[0-9]{3,6}$", description="Cost center that pays for the team's resources, e.g. CC-1042."
    )
    owners: list[Annotated[str, Field(pattern=EMAIL)]] = Field(
        min_length=1, description="E-mail addresses of the accountable owners; they review changes to this spec."
    )
    data_classification: DataClassification = Field(
        description="Most sensitive class of data the team handles; drives encryption, retention and PII rules."
    )
    residency: Literal["eu", "uk", "us"] = Field(
        description="Region group the team's data must stay in; the stack's region must belong to it."
    )
    risk_tier: Literal["low", "medium", "high"] = Field(
        default="medium", description="Model risk tier; drives approval gates and object lock. Defaults to medium."
    )
    escalation: Escalation = Field(description="Alert routing per severity.")


# ---------------------------------------------------------------- data

class Artifacts(SpecModel):
    """The team's artifact bucket (models, datasets, job outputs)."""

    retention_days: int = Field(
        default=365, ge=1, le=3650, description="Days current objects are kept before expiry. Defaults to 365."
    )
    noncurrent_retention_days: int = Field(
        default=90, ge=1, le=3650, description="Days superseded object versions are kept. Defaults to 90."
    )
    archive_after_days: Optional[int] = Field(
        default=None, ge=1, le=3650,
        description="Days after which current objects move to Glacier Instant Retrieval; must be under "
                    "retentionDays. Unset keeps them in S3 Standard until they expire.",
    )
    object_lock_days: int = Field(
        default=30, ge=1, le=3650,
        description="Days each new object version is write-protected where object lock applies (restricted data or "
                    "high risk: compliance mode; confidential data or medium risk: governance mode). Defaults to 30.",
    )
    replication: bool = Field(
        default=True,
        description="Replicate the bucket to the stack's partner region when the stack replicates. Defaults to true.",
    )
    storage_gb: Optional[float] = Field(
        default=None, ge=0, le=10_000_000,
        description="Data held in the artifact bucket today, in GB, for cost previews; unset uses the documented default.",
    )
    monthly_growth_gb: float = Field(
        default=0, ge=0, le=1_000_000,
        description="GB the artifact bucket grows by each month, for the 12-month cost forecast. Defaults to 0.",
    )

    @model_validator(mode="after")
    def _archive_before_expiry(self) -> "Artifacts":
        if self.archive_after_days is not None and self.archive_after_days >= self.retention_days:
            raise RuleViolation(
                ("archiveAfterDays",),
                f"archiveAfterDays ({self.archive_after_days}) must be less than retentionDays ({self.retention_days})",
            )
        return self


class Feature(SpecModel):
    """One typed feature of a feature group."""

    name: str = Field(pattern=FEATURE_NAME, max_length=64, description="Feature name (snake_case).")
    type: Literal["string", "integral", "fractional"] = Field(description="Feature value type.")
    pii: bool = Field(default=False, description="True when the feature holds personal data. Defaults to false.")
    description: str = Field(default="", max_length=512, description="What the feature means.")
    nullable: bool = Field(
        default=True,
        description="Whether records may omit the feature; the record identifier and event time never may. Defaults to true.",
    )
    min: Optional[float] = Field(
        default=None, allow_inf_nan=False, description="Smallest valid value (integral and fractional features); checked by the data-quality ruleset."
    )
    max: Optional[float] = Field(
        default=None, allow_inf_nan=False, description="Largest valid value (integral and fractional features); checked by the data-quality ruleset."
    )

    @model_validator(mode="after")
    def _range(self) -> "Feature":
        bounds = [("min", self.min), ("max", self.max)]
        for alias, value in bounds:
            if value is not None and self.type == "string":
                raise RuleViolation((alias,), f"{alias} applies to integral and fractional features, not string")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise RuleViolation(("min",), f"min ({self.min:g}) is greater than max ({self.max:g})")
        return self


class OnlineStore(SpecModel):
    """Low-latency store for serving-time lookups."""

    enabled: bool = Field(default=False, description="Provision an online store. Defaults to false.")
    ttl_hours: Optional[int] = Field(
        default=None, ge=1, le=8760, description="Hours a record stays readable online; unset keeps records."
    )

    @model_validator(mode="after")
    def _ttl_needs_store(self) -> "OnlineStore":
        if self.ttl_hours is not None and not self.enabled:
            raise RuleViolation(("ttlHours",), "ttlHours needs online.enabled: true")
        return self


class OfflineStore(SpecModel):
    """Historical store in the team's bucket, queryable through the Glue catalog."""

    enabled: bool = Field(default=True, description="Provision an offline store. Defaults to true.")
    retention_days: Optional[int] = Field(
        default=None, ge=1, le=3650, description="Days offline records are kept; unset follows artifacts.retentionDays."
    )


class FeatureGroup(SpecModel):
    """A versioned SageMaker feature group."""

    name: str = Field(pattern=NAME, max_length=40, description="Group name; with team and version it names the group.")
    version: int = Field(default=1, ge=1, le=999, description="Schema version; bump it for an incompatible change. Defaults to 1.")
    description: str = Field(default="", max_length=512, description="What the group holds.")
    record_identifier: str = Field(description="Feature that identifies a record; must be one of features.")
    event_time: str = Field(description="Feature holding the event time; must be one of features.")
    online: OnlineStore = Field(default_factory=OnlineStore, description="Online store settings.")
    offline: OfflineStore = Field(default_factory=OfflineStore, description="Offline store settings.")
    streaming: bool = Field(
        default=False, description="True when producers stream records; registers a schema for them. Defaults to false."
    )
    max_ingestion_gap_minutes: Optional[int] = Field(
        default=None, ge=5, le=1440,
        description="Alarm (warning) when no record has been ingested for this many minutes, 5-1440; unset disables the freshness alarm.",
    )
    features: list[Feature] = Field(min_length=1, max_length=2500, description="Typed features of the group.")
    expected_writes_per_second: Optional[float] = Field(
        default=None, ge=0, le=1_000_000,
        description="Average records written per second, for cost previews; unset uses the documented default.",
    )
    expected_reads_per_second: Optional[float] = Field(
        default=None, ge=0, le=1_000_000,
        description="Average online-store reads per second, for cost previews; unset uses the documented default.",
    )
    storage_gb: Optional[float] = Field(
        default=None, ge=0, le=10_000_000,
        description="Data held by the group (online and offline store each), in GB, for cost previews; unset uses the documented default.",
    )

    @model_validator(mode="after")
    def _keys_are_features(self) -> "FeatureGroup":
        _unique_names(self.features, "features")
        names = {feature.name for feature in self.features}
        for field, alias in (("record_identifier", "recordIdentifier"), ("event_time", "eventTime")):
            value = getattr(self, field)
            if value not in names:
                raise RuleViolation((alias,), f"'{value}' is not among the group's features")
        if not (self.online.enabled or self.offline.enabled):
            raise RuleViolation(("offline", "enabled"), "a feature group needs an online or an offline store")
        return self

    @property
    def has_pii(self) -> bool:
        return any(feature.pii for feature in self.features)


# ---------------------------------------------------------------- training

class Spot(SpecModel):
    """Spot capacity for training."""

    enabled: bool = Field(default=True, description="Prefer spot capacity. Defaults to true.")
    fallback_to_on_demand: bool = Field(
        default=True, description="Fall back to on-demand capacity when spot is unavailable. Defaults to true."
    )


class TrainingQueue(SpecModel):
    """A GPU training queue on AWS Batch or on Kubernetes with Kueue."""

    name: str = Field(pattern=NAME, max_length=32, description="Queue name.")
    backend: Literal["batch", "kueue"] = Field(
        default="batch", description="batch (AWS Batch) or kueue (Kueue on the stack's Kubernetes cluster). Defaults to batch."
    )
    instance_types: list[Annotated[str, Field(pattern=EC2_INSTANCE)]] = Field(
        min_length=1, description="EC2 GPU instance types the queue may launch; must be allowed by the stack."
    )
    max_gpus: int = Field(
        ge=1, le=4096,
        description="Most GPUs the queue may hold at once; with borrowingLimitGpus it counts against the stack's "
                    "ceilings. With spot and fallbackToOnDemand, spot gets the larger half (maxGpus - maxGpus // 2) "
                    "and on-demand the rest, since both can run at once; otherwise the one capacity gets all of it. "
                    "Kueue divides each share evenly over the queue's instance types.",
    )
    spot: Spot = Field(default_factory=Spot, description="Spot capacity settings.")
    timeout_hours: int = Field(default=24, ge=1, le=336, description="Longest a job may run. Defaults to 24.")
    share_weight: int = Field(
        default=1, ge=1, le=100, description="Fair-share weight against other teams' queues. Defaults to 1."
    )
    expected_gpu_hours_per_month: Optional[float] = Field(
        default=None, ge=0, description="Expected GPU-hours per month, for cost previews; unset uses the documented default."
    )
    retrains_per_month: Optional[float] = Field(
        default=None, ge=0, le=1000,
        description="Full retraining runs per month over the team's growing data, for the 12-month cost forecast; "
                    "unset keeps GPU-hours flat.",
    )
    borrowing_limit_gpus: int = Field(
        default=0, ge=0, le=4096,
        description="GPUs a kueue queue may borrow beyond maxGpus from idle quota in the platform cohort. Defaults to 0.",
    )
    scheduling_priority: int = Field(
        default=50, ge=0, le=9999,
        description="Default scheduling priority of the queue's jobs (higher runs first within the team's share). Defaults to 50.",
    )

    @model_validator(mode="after")
    def _unique_instance_types(self) -> "TrainingQueue":
        if len(set(self.instance_types)) != len(self.instance_types):
            raise RuleViolation(("instanceTypes",), "instance types are listed more than once")
        if self.borrowing_limit_gpus and self.backend != "kueue":
            raise RuleViolation(("borrowingLimitGpus",), "borrowingLimitGpus applies to backend kueue, not batch")
        from mlplatform.catalogues.instances import gpu_instance_problem, launchable_types, require  # the one source of instance facts

        for index, instance_type in enumerate(self.instance_types):
            problem = gpu_instance_problem(instance_type)
            if problem:
                raise RuleViolation(("instanceTypes", index), problem)
        if self.backend == "batch":
            from mlplatform.catalogues.gpu_accounting import queue_gpus  # the one GPU accounting rule

            smallest = min(self.instance_types, key=lambda name: require(name).gpus)
            one = require(smallest).gpus
            if not launchable_types(list(self.instance_types), self.max_gpus):
                raise RuleViolation(("maxGpus",), f"maxGpus ({self.max_gpus}) is below one instance of any listed "
                                    f"type ({smallest} has {one} GPUs): the queue could never start an instance")
            for capacity, gpus in queue_gpus(self).by_capacity.items():
                if launchable_types(list(self.instance_types), gpus):
                    continue
                raise RuleViolation(("maxGpus",), f"maxGpus ({self.max_gpus}) is split between spot and the on-demand "
                                    f"fallback, and {capacity} gets {gpus}, below one instance of any listed type "
                                    f"({smallest} has {one} GPUs): raise maxGpus to at least {2 * one} or turn the "
                                    "fallback off")
        return self


class Training(SpecModel):
    """Where the team trains."""

    queues: list[TrainingQueue] = Field(default_factory=list, description="Training queues.")
    experiment_tracking: bool = Field(
        default=False, description="Provision a managed MLflow tracking server for the team. Defaults to false."
    )
    tracking_server_size: Literal["Small", "Medium", "Large"] = Field(
        default="Small", description="Size of the MLflow tracking server (Small, Medium, Large). Defaults to Small."
    )

    @model_validator(mode="after")
    def _unique(self) -> "Training":
        _unique_names(self.queues, "queues")
        return self


# ---------------------------------------------------------------- serving

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

class Budget(SpecModel):
    """Monthly spending cap."""

    monthly_usd: float = Field(gt=0, le=10_000_000, description="Monthly budget in USD.")
    alert_at_percent: list[Annotated[int, Field(ge=1, le=200)]] = Field(
        default_factory=lambda: [50, 80, 100], min_length=1, max_length=5,
        description="Alert when actual or forecasted spend reaches these percentages; at most 5 (AWS Budgets allows "
                    "10 notifications per budget: one actual and one forecasted per threshold).",
    )


class Exemption(SpecModel):
    """A reviewed, expiring exception to one rule, honoured alike by the policy pack, checkov and verify; once expired it is a violation in each and an error in mlp validate."""

    # one mechanism for every checker: mlplatform/exemptions.py

    rule: str = Field(pattern=RULE_ID, max_length=64,
                      description="Rule id: a policy rule (MLP-S3-001), a checkov check (CKV_AWS_144) or a verify "
                                  "finding (MLP-AWS-001, MLP-IAM-…, MLP-FLOW-…).")
    resource: Optional[str] = Field(default=None, max_length=256, description="Logical resource name (the Pulumi resource name findings show) it applies to; unset means every resource of the team.")
    reason: str = Field(min_length=20, max_length=2000, description="Why the rule cannot be met.")
    approved_by: str = Field(pattern=EMAIL, description="Who approved the exemption.")
    expires: str = Field(pattern=DATE, description="Date the exemption lapses (YYYY-MM-DD).")


# ---------------------------------------------------------------- envelope

class SpecSections(SpecModel):
    """What the team needs provisioned (the sections an environment may override)."""

    artifacts: Artifacts = Field(default_factory=Artifacts, description="Artifact bucket settings.")
    feature_groups: list[FeatureGroup] = Field(default_factory=list, description="Feature groups.")
    training: Training = Field(default_factory=Training, description="Training queues.")
    endpoints: list[Endpoint] = Field(default_factory=list, description="Serving endpoints.")
    budget: Budget = Field(description="Monthly budget.")
    exemptions: list[Exemption] = Field(default_factory=list, description="Approved, expiring exemptions from policy, checkov and verify rules.")

    @model_validator(mode="after")
    def _unique(self) -> "SpecSections":
        _unique_names(self.feature_groups, "featureGroups")
        _unique_names(self.endpoints, "endpoints")
        _lifecycle_references(self)
        return self


def _lifecycle_references(sections: "SpecSections") -> None:
    """A successor is a live endpoint of the team; a retraining queue is one of its Batch queues."""
    live = {endpoint.name for endpoint in sections.endpoints if endpoint.retired is None}
    batch_queues = {queue.name for queue in sections.training.queues if queue.backend == "batch"}
    for index, endpoint in enumerate(sections.endpoints):
        if endpoint.retired is not None and endpoint.retired.successor is not None and endpoint.retired.successor not in live:
            raise RuleViolation(("endpoints", index, "retired", "successor"),
                                f"successor '{endpoint.retired.successor}' is not a live endpoint of the team")
        queue = endpoint.retraining.queue if endpoint.retraining is not None else None
        if queue is not None and queue not in batch_queues:
            raise RuleViolation(("endpoints", index, "retraining", "queue"),
                                f"'{queue}' is not a batch training queue of the team (known: {', '.join(sorted(batch_queues)) or 'none'})")


SpecOverride = partial_model(SpecSections, "SpecOverride")


def _environment_keys_schema(schema: dict) -> None:
    """Express the environment-name rule as JSON Schema's ``propertyNames``.

    pydantic renders a constrained dict key as ``patternProperties``, which lets any
    key that misses the pattern through unchecked; editors must reject it like we do.
    """
    (pattern, value_schema), = schema.pop("patternProperties").items()
    schema["propertyNames"] = {**schema.get("propertyNames", {}), "pattern": pattern}
    schema["additionalProperties"] = value_schema


class SpecBody(SpecSections):
    """What the team needs provisioned, plus per-environment overrides."""

    environments: dict[Annotated[str, Field(pattern=NAME, max_length=16)], SpecOverride] = Field(
        default_factory=dict,
        description="Overrides per stack environment (dev, staging, prod, ...); lists of named items merge by name.",
        json_schema_extra=_environment_keys_schema,
    )


class TeamSpec(SpecModel):
    """One ML team's estate: an apiVersion/kind envelope, metadata and spec."""

    api_version: Literal["mlplatform/v1"] = Field(description="Spec format version; mlplatform/v1.")
    kind: Literal["TeamSpec"] = Field(description="Always TeamSpec.")
    metadata: Metadata = Field(description="Ownership, classification and escalation.")
    spec: SpecBody = Field(description="The team's resources.")

    @model_validator(mode="after")
    def _pii_needs_classification(self) -> "TeamSpec":
        if self.metadata.data_classification in PII_CLASSIFICATIONS:
            return self
        for g, group in enumerate(self.spec.feature_groups):
            for f, feature in enumerate(group.features):
                if feature.pii:
                    raise RuleViolation(
                        ("spec", "featureGroups", g, "features", f, "pii"),
                        f"PII feature '{feature.name}' needs metadata.dataClassification confidential or restricted, "
                        f"not {self.metadata.data_classification}",
                    )
        return self
