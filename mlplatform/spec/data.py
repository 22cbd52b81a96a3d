"""The spec's data sections: ``artifacts`` (the team's bucket, drives
components/artifact_store.py) and ``featureGroups`` (drives components/feature_group.py)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from .base import FEATURE_NAME, NAME, RuleViolation, SpecModel, _unique_names


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
