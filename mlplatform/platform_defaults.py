"""Platform defaults: the constants a platform team may tune per stack, each documented.

These are policy, not AWS facts: how long a scheduled key deletion can still be
cancelled, how long an endpoint's old fleet lingers after a blue/green deployment, how
long a service-role session lasts, what a training container gets when it asks for
nothing. Each field says its default, its unit, the range it accepts and why; where AWS
or Kubernetes bounds the value, the range is theirs (cited in the field), otherwise it is
the platform's own sanity range. AWS limits themselves (name lengths, quotas, the 29-second
API Gateway timeout, ...) are not here: no stack may override them.

A stack overrides any of them in its ``Pulumi.<stack>.yaml``::

    config:
      mlplatform:defaults:
        keyDeletionWindowDays: 14

and an out-of-range value is a one-line error at that line of the stack file, like every
other stack setting (:func:`mlplatform.stackconfig.stack_config_from_values`). The estate
builds components from :class:`~mlplatform.stackconfig.StackConfig`, which carries these
as ``stack.defaults``; components take them from the stack config their Args hold and
never read Pulumi config themselves. Shipped stacks set none, so their plans are unchanged.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from .catalogues.cloudwatch_logs import LOG_RETENTION_DAYS as CLOUDWATCH_LOG_RETENTION_DAYS
from .guardrails import LOG_RETENTION_MAX_DAYS, LOG_RETENTION_MIN_DAYS

#: The log retentions a stack may choose: values CloudWatch Logs accepts that the policy pack
#: (MLP-RET-001) and checkov (CKV_AWS_338) also pass, so no override yields a blocked plan.
PERMITTED_LOG_RETENTION_DAYS = tuple(days for days in CLOUDWATCH_LOG_RETENTION_DAYS
                                     if LOG_RETENTION_MIN_DAYS <= days <= LOG_RETENTION_MAX_DAYS)
#: Data classification -> the field that holds its log retention.
LOG_RETENTION_FIELDS = {classification: f"log_retention_days_{classification}"
                        for classification in ("public", "internal", "confidential", "restricted")}


def _log_retention_description(classification: str, default: int, why: str) -> str:
    return (f"Days the log groups of a team whose data is {classification} keep log events (CloudWatch Logs accepts "
            f"only its listed values; the platform range is those from {LOG_RETENTION_MIN_DAYS} to "
            f"{LOG_RETENTION_MAX_DAYS}, which policy MLP-RET-001 and checkov CKV_AWS_338 also pass: "
            f"{', '.join(map(str, PERMITTED_LOG_RETENTION_DAYS))}). Default {default}: {why}")


class PlatformDefaults(BaseModel):
    """Overridable platform constants (``mlplatform:defaults``); every field optional."""

    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, frozen=True)

    key_deletion_window_days: int = Field(
        default=30, ge=7, le=30,
        description="Days between scheduling a KMS key's deletion and the deletion (KMS ScheduleKeyDeletion "
                    "PendingWindowInDays: 7 to 30). Default 30, the longest: once the key is gone, everything it "
                    "encrypted is lost, so the longest window leaves the most time to cancel a mistake.",
    )
    endpoint_termination_wait_seconds: int = Field(
        default=600, ge=0, le=3600,
        description="Seconds a realtime endpoint keeps its old fleet after a blue/green deployment completes "
                    "(SageMaker BlueGreenUpdatePolicy TerminationWaitInSeconds: 0 to 3600). Default 600: ten "
                    "minutes in which a rollback alarm can still send traffic back without a cold start.",
    )
    endpoint_scale_in_cooldown_seconds: int = Field(
        default=300, ge=0, le=3600,
        description="Seconds after an endpoint scales in before it may scale in again (Application Auto Scaling "
                    "ScaleInCooldown; platform range 0 to 3600). Default 300: scale in slowly, since a removed "
                    "instance takes minutes to come back.",
    )
    endpoint_scale_out_cooldown_seconds: int = Field(
        default=60, ge=0, le=3600,
        description="Seconds after an endpoint scales out before it may scale out again (Application Auto "
                    "Scaling ScaleOutCooldown; platform range 0 to 3600). Default 60: react to load quickly.",
    )
    service_role_max_session_seconds: int = Field(
        default=3600, ge=3600, le=43200,
        description="Longest session, in seconds, a service role issues (IAM MaxSessionDuration: 3600 to 43200). "
                    "Default 3600, IAM's minimum: short-lived credentials limit what a leaked one can do.",
    )
    human_role_max_session_seconds: int = Field(
        default=3600, ge=3600, le=43200,
        description="Longest session, in seconds, of the team roles people assume (IAM MaxSessionDuration: 3600 "
                    "to 43200). Default 3600: people sign in again, with MFA, every hour.",
    )
    untagged_image_expiry_days: int = Field(
        default=14, ge=1, le=365,
        description="Days after which an untagged image in a team's ECR repository expires (lifecycle rule "
                    "sinceImagePushed; platform range 1 to 365). Default 14: superseded layers and failed pushes "
                    "cost storage and are scanned for nothing.",
    )
    kueue_default_cpu_request: int = Field(
        default=1, ge=1, le=192,
        description="CPU cores a training container requests when it names none (the team namespace's "
                    "LimitRange defaultRequest; platform range 1 to 192). Default 1.",
    )
    kueue_default_memory_request_gib: int = Field(
        default=2, ge=1, le=2048,
        description="Memory, in GiB, a training container requests when it names none (LimitRange "
                    "defaultRequest; platform range 1 to 2048). Default 2.",
    )
    kueue_default_cpu_limit: int = Field(
        default=4, ge=1, le=192,
        description="CPU cores a training container is limited to when it names no limit (LimitRange default; "
                    "platform range 1 to 192, at least the request). Default 4.",
    )
    kueue_default_memory_limit_gib: int = Field(
        default=16, ge=1, le=2048,
        description="Memory, in GiB, a training container is limited to when it names no limit (LimitRange "
                    "default; platform range 1 to 2048, at least the request). Default 16.",
    )

    endpoint_error_rate_alarm_percent: float = Field(
        default=1.0, ge=0.01, le=100,
        description="Percent of an endpoint variant's invocations that may fail with 5xx before its error alarm "
                    "warns (3 of 5 one-minute periods); platform range 0.01 to 100. Default 1.0.",
    )
    endpoint_utilisation_alarm_percent: float = Field(
        default=90.0, ge=1, le=100,
        description="Percent of each vCPU, GPU and GPU memory an endpoint instance may use before its saturation "
                    "alarms warn (SageMaker reports these metrics 0 to 100 per core or GPU, summed, so the "
                    "threshold is this times the instance's count); platform range 1 to 100. Default 90.0.",
    )
    endpoint_disk_alarm_percent: float = Field(
        default=80.0, ge=1, le=100,
        description="Percent of an endpoint instance's disk in use before its disk alarm warns (DiskUtilization, "
                    "0 to 100); platform range 1 to 100. Default 80.0: room to react before the model's "
                    "container cannot write.",
    )
    log_retention_days_public: int = Field(
        default=365, ge=LOG_RETENTION_MIN_DAYS, le=LOG_RETENTION_MAX_DAYS,
        description=_log_retention_description("public", 365, "incident investigations reach back a year."),
    )
    log_retention_days_internal: int = Field(
        default=365, ge=LOG_RETENTION_MIN_DAYS, le=LOG_RETENTION_MAX_DAYS,
        description=_log_retention_description("internal", 365, "incident investigations reach back a year."),
    )
    log_retention_days_confidential: int = Field(
        default=365, ge=LOG_RETENTION_MIN_DAYS, le=LOG_RETENTION_MAX_DAYS,
        description=_log_retention_description("confidential", 365, "incident investigations reach back a year."),
    )
    log_retention_days_restricted: int = Field(
        default=2557, ge=LOG_RETENTION_MIN_DAYS, le=LOG_RETENTION_MAX_DAYS,
        description=_log_retention_description("restricted", 2557, "seven years, the audit horizon of restricted "
                                               "data (CloudWatch's nearest value above 7 x 365)."),
    )
    bucket_abort_multipart_days: int = Field(
        default=7, ge=1, le=365,
        description="Days after which S3 removes the parts of a multipart upload that never completed, in every "
                    "bucket of the estate (lifecycle AbortIncompleteMultipartUpload DaysAfterInitiation: a positive "
                    "integer; platform range 1 to 365). Default 7: long enough for a slow upload to finish, short "
                    "enough that abandoned parts do not pile up unseen (they are billed but never listed).",
    )
    bucket_noncurrent_version_days: int = Field(
        default=30, ge=1, le=3653,
        description="Days a superseded object version is kept in the buckets that only keep records (audit trail, "
                    "access logs, log-forwarding backups; a team's artifact bucket follows its spec's "
                    "artifacts.noncurrentRetentionDays) (lifecycle NoncurrentVersionExpiration NoncurrentDays: a "
                    "non-zero positive integer; platform range 1 to 3653). Default 30: a month to notice and undo "
                    "an overwrite.",
    )
    batch_retry_attempts: int = Field(
        default=5, ge=1, le=10,
        description="Attempts an AWS Batch training job gets when spot capacity is reclaimed under it (the job "
                    "definition's retryStrategy attempts: 1 to 10, Batch API); every other failure exits at once. "
                    "Default 5.",
    )
    batch_root_volume_gib: int = Field(
        default=200, ge=64, le=16384,
        description="GiB of the encrypted gp3 root volume of every Batch training instance (EC2 accepts 1 to 65536 "
                    "GiB for gp3; platform range 64 to 16384, since a volume smaller than the AMI's snapshot is "
                    "rejected and GPU framework images alone take tens of GiB). Default 200: images, checkpoints "
                    "and a dataset cache.",
    )
    batch_share_decay_seconds: int = Field(
        default=86400, ge=600, le=604800,
        description="Seconds of past usage a Batch fair-share queue counts against a share (FairsharePolicy "
                    "shareDecaySeconds: AWS uses at least 600 and at most 604800, one week; 0 means 600, so the "
                    "platform range starts there). Default 86400: yesterday's GPU hours stop counting today.",
    )
    drift_dead_letter_retention_seconds: int = Field(
        default=1209600, ge=60, le=1209600,
        description="Seconds a failed drift-check invocation waits in its dead-letter queue for someone to look "
                    "(SQS MessageRetentionPeriod: 60 to 1209600). Default 1209600, the SQS maximum of 14 days: a "
                    "failure noticed after a holiday can still be replayed.",
    )
    front_door_throttle_headroom: float = Field(
        default=2.0, ge=1, le=10,
        description="How many times the request rate an endpoint's maximum instance count is scaled for its front "
                    "door's stage lets through, so bursts wait for autoscaling instead of failing at the door (the "
                    "burst is twice the rate); platform range 1 to 10. Default 2.0.",
    )
    front_door_min_rate_per_second: int = Field(
        default=10, ge=1, le=10000,
        description="Fewest requests per second a front door's stage lets through, however small the endpoint "
                    "(API Gateway's default account throttle is 10000 requests per second per region, the top of "
                    "the platform range 1 to 10000). Default 10.",
    )
    fallback_memory_mb: int = Field(
        default=256, ge=128, le=10240,
        description="Memory, in MB, of an endpoint's fallback Lambda function (Lambda: 128 to 10240 MB in 1 MB "
                    "steps, Lambda Developer Guide, 'Configure Lambda function memory'). Default 256: the handler "
                    "loads a small answer table, and more memory also buys CPU.",
    )
    fallback_min_concurrency: int = Field(
        default=5, ge=1, le=900,
        description="Fewest executions reserved for a fallback function, however low its front door's rate "
                    "(Lambda reserved concurrency; platform range 1 to 900, at most the maximum). Default 5.",
    )
    fallback_max_concurrency: int = Field(
        default=200, ge=1, le=900,
        description="Most executions reserved for one fallback function: a share of the account's default "
                    "concurrency of 1000, of which Lambda keeps 100 unreserved (so at most 900; platform range 1 "
                    "to 900, at least the minimum). Default 200.",
    )
    log_forwarding_buffer_seconds: int = Field(
        default=60, ge=0, le=60,
        description="Seconds Firehose buffers a team's log records before it delivers them to Splunk or Datadog "
                    "(BufferingHints IntervalInSeconds: 0 to 60 for Splunk, 0 to 900 for HTTP endpoints; one "
                    "setting serves both, so 0 to 60). Default 60: fewer, larger deliveries.",
    )
    log_forwarding_retry_seconds: int = Field(
        default=3600, ge=0, le=7200,
        description="Seconds Firehose keeps retrying a failed delivery to Splunk or Datadog before it writes the "
                    "records to the team's backup bucket (RetryOptions DurationInSeconds: 0 to 7200). Default "
                    "3600: an hour of a destination's outage is retried, not backed up.",
    )
    endpoint_async_concurrency_per_instance: int = Field(
        default=4, ge=1, le=1000,
        description="Requests an asynchronous endpoint's instance works on at once (AsyncInferenceConfig "
                    "ClientConfig MaxConcurrentInvocationsPerInstance: 1 to 1000). Default 4.",
    )

    @field_validator(*LOG_RETENTION_FIELDS.values())
    @classmethod
    def _retention_cloudwatch_accepts(cls, days: int) -> int:
        if days not in PERMITTED_LOG_RETENTION_DAYS:
            raise ValueError(f"{days} is not a retention CloudWatch Logs accepts; use one of "
                             f"{', '.join(map(str, PERMITTED_LOG_RETENTION_DAYS))}")
        return days

    @model_validator(mode="after")
    def _fallback_concurrency_bounds_ordered(self) -> "PlatformDefaults":
        if self.fallback_min_concurrency > self.fallback_max_concurrency:
            raise ValueError(f"the fallback minimum concurrency ({self.fallback_min_concurrency}) exceeds the "
                             f"maximum ({self.fallback_max_concurrency})")
        return self

    def log_retention_days(self, data_classification: str) -> int:
        """Days the log groups of a team with this data classification keep logs."""
        return getattr(self, LOG_RETENTION_FIELDS[data_classification])

    @model_validator(mode="after")
    def _requests_within_limits(self) -> "PlatformDefaults":
        """Kubernetes rejects a LimitRange whose defaultRequest exceeds its default limit."""
        for resource, request, limit in (("cpu", self.kueue_default_cpu_request, self.kueue_default_cpu_limit),
                                         ("memory", self.kueue_default_memory_request_gib,
                                          self.kueue_default_memory_limit_gib)):
            if request > limit:
                raise ValueError(f"the default {resource} request ({request}) exceeds the default {resource} limit "
                                 f"({limit}); Kubernetes rejects such a LimitRange")
        return self


#: The defaults of a stack that overrides nothing: what components use when built without a stack.
PLATFORM_DEFAULTS = PlatformDefaults()
