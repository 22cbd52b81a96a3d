"""What every spec model shares: the patterns its fields use, the strict camelCase base
model and the error a cross-field rule raises. The section modules (:mod:`.models`,
:mod:`.serving_edge`) build on this one and import nothing from each other's sections.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

DNS_LABEL = r"^[a-z]([a-z0-9-]*[a-z0-9])?$"
NAME = r"^[a-z]([a-z0-9-]*[a-z0-9])?$"
# SageMaker FeatureName: [a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63} (botocore sagemaker 2017-07-24 model): ends alphanumeric
FEATURE_NAME = r"^[a-z]([a-z0-9_]*[a-z0-9])?$"
EMAIL = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
#: the id of a policy rule (MLP-S3-001), a verify finding (MLP-AWS-001, MLP-IAM-MISMATCHED-TYPE) or a checkov check
RULE_ID = r"^(MLP-[A-Z0-9]+(-[A-Z0-9]+)+|CKV2?_[A-Z0-9]+_[0-9]+)$"
EC2_INSTANCE = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"
ML_INSTANCE = r"^ml\.[a-z][a-z0-9-]*\.[a-z0-9]+$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

DataClassification = Literal["public", "internal", "confidential", "restricted"]
#: Every data classification, least sensitive first (the one list the pack and the defaults use).
DATA_CLASSIFICATIONS: tuple[str, ...] = get_args(DataClassification)
PII_CLASSIFICATIONS = ("confidential", "restricted")


class RuleViolation(ValueError):
    """A cross-field rule failed; ``path`` is relative to the model that raised it."""

    def __init__(self, path: tuple, message: str):
        self.path = tuple(path)
        super().__init__(message)


class SpecModel(BaseModel):
    """Base of every spec model: strict, camelCase, closed to unknown keys."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        populate_by_name=False,
        frozen=True,
        allow_inf_nan=False,
    )


def _unique_names(items: list, section: str) -> None:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.name in seen:
            raise RuleViolation(
                (section, index, "name"),
                f"duplicate name '{item.name}' (also {section}[{seen[item.name]}])",
            )
        seen[item.name] = index
