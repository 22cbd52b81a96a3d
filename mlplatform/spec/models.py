"""The team spec, v1: the contract between the platform and every ML team.

Field names are chosen for ML teams, not for AWS. Every field carries a description (it
becomes the JSON Schema and the editor tooltips), strict types (``"5"`` is not a number),
unknown keys are rejected, and YAML keys are camelCase. Rules that tie several fields
together live next to the data they check, as model validators; they raise
:class:`RuleViolation` naming the exact field so errors point at the right line.

The sections live one module each, next to the components they drive (:mod:`.metadata`,
:mod:`.data`, :mod:`.training`, :mod:`.serving` and :mod:`.serving_edge`,
:mod:`.governance`); this module assembles them into the envelope every spec file is, and
re-exports them so ``mlplatform.spec.models`` stays the one import of the spec's types.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import (  # noqa: F401  (re-exported: the patterns are the spec's vocabulary)
    DATE, DNS_LABEL, EC2_INSTANCE, EMAIL, FEATURE_NAME, ML_INSTANCE, NAME, PII_CLASSIFICATIONS, RULE_ID,
    DataClassification, RuleViolation, SpecModel, _unique_names,
)
from .data import Artifacts, Feature, FeatureGroup, OfflineStore, OnlineStore  # noqa: F401
from .governance import Budget, Exemption  # noqa: F401
from .metadata import Escalation, EscalationTarget, Metadata  # noqa: F401
from .partial import partial_model
from .serving import (  # noqa: F401
    SCHEDULE_EXPRESSION, Autoscaling, BatchSchedule, DataCapture, Drift, Endpoint, EndpointMonitoring, Model,
    ModelPackageRef, OffPeak, Retired, Retraining, Rollout, Serverless,
)
from .serving_edge import Exposure, Fallback, FallbackCondition, FallbackRule, RequestField, RequestSchema  # noqa: F401
from .training import Spot, Training, TrainingQueue  # noqa: F401

API_VERSION = "mlplatform/v1"
KIND = "TeamSpec"


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
