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

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel


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
