"""Conditions a platform skip can be limited to (``when:`` in ``policies/checkov-skips.yaml``).

A skip is a reasoned rule, not a list of resources: "CKV_AWS_98 does not apply where
SageMaker rejects a storage key" holds for every team's endpoint config that meets the
condition, today's and tomorrow's, and for none that does not. Each condition is decided
from one source of facts: the stack config (what the platform team set for the stack) or
the resource's own planned inputs read against the instance catalogue. A condition that
cannot be decided (no stack config, an input unknown at preview) does not hold, so a skip
never hides a failure on a guess.

Stack conditions say whether a skip is in force on a stack at all; a skip out of force is
not reported as unused there (``dev``'s replication skip is idle on ``prod`` by design).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from mlplatform.catalogues.instances import takes_volume_key
from mlplatform.type_tokens import SAGEMAKER_ENDPOINT_CONFIGURATION

from ..graph import UNKNOWN, GraphResource
from ..stackconfig import StackConfig

VARIANT_KEYS = ("productionVariants", "shadowProductionVariants")


@dataclass(frozen=True)
class Condition:
    name: str
    #: what the condition means, shown next to the skip's reason in every report
    meaning: str
    #: decided from the stack alone (True) or per resource (False)
    stack_level: bool
    holds: Callable[[Optional[GraphResource], Optional[StackConfig]], bool]


def _stack_does_not_replicate(resource: Optional[GraphResource], stack: Optional[StackConfig]) -> bool:
    return stack is not None and not stack.replication


def _storage_takes_no_key(resource: Optional[GraphResource], stack: Optional[StackConfig]) -> bool:
    if resource is None or resource.type != SAGEMAKER_ENDPOINT_CONFIGURATION:
        return False
    variants = []
    for key in VARIANT_KEYS:
        value = resource.inputs.get(key)
        if value in (None, UNKNOWN):
            continue
        if not isinstance(value, list):
            return False
        variants.extend(value)
    instance_types: list[Optional[str]] = []
    for variant in variants:
        if not isinstance(variant, dict):
            return False
        if variant.get("serverlessConfig") not in (None, UNKNOWN):
            instance_types.append(None)
            continue
        instance_type = variant.get("instanceType")
        if not isinstance(instance_type, str) or instance_type == UNKNOWN:
            return False  # not known at preview: the check stays in force
        instance_types.append(instance_type)
    return bool(instance_types) and not takes_volume_key(instance_types)


CONDITIONS: dict[str, Condition] = {
    condition.name: condition
    for condition in (
        Condition(
            "stack-does-not-replicate",
            "the stack config turns replication off (mlplatform:replication: false)",
            True, _stack_does_not_replicate),
        Condition(
            "endpoint-storage-takes-no-key",
            "SageMaker rejects a storage key on this endpoint config: a variant runs on an instance type with "
            "local NVMe storage, or every variant is serverless (instance catalogue, localNvme)",
            False, _storage_takes_no_key),
    )
}

