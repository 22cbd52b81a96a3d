"""Billing and ownership tags, and which resource types can carry them.

Every taggable AWS resource carries the tags in :data:`REQUIRED_TAG_KEYS`. They are set
once per team as the AWS provider's ``defaultTags``; the engine merges them into each
resource's own ``tags``. :func:`effective_tags` performs that merge offline so the plan
shows the tags a resource will really carry.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
from typing import TYPE_CHECKING, Any, Mapping, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .spec.models import TeamSpec

REQUIRED_TAG_KEYS = ("team", "cost-center", "environment", "data-classification", "managed-by", "spec")
MANAGED_BY = "mlplatform"


def billing_tags(spec: "TeamSpec", environment: str, spec_file: str) -> dict[str, str]:
    """The billing and ownership tags (:data:`REQUIRED_TAG_KEYS`) every taggable resource
    of the team carries, with the values its spec gives them in ``environment``."""
    metadata = spec.metadata
    return {
        "team": metadata.team,
        "cost-center": metadata.cost_center,
        "environment": environment,
        "data-classification": metadata.data_classification,
        "managed-by": MANAGED_BY,
        "spec": spec_file,
    }


@functools.lru_cache(maxsize=None)
def is_taggable(type_token: str) -> bool:
    """Whether a resource type accepts ``tags``, read from the pulumi-aws class itself.

    The Python class generated for each Terraform-bridged type takes ``tags`` exactly when
    the provider schema declares them, so the SDK is the source of truth, not a list of ours.
    Only ``aws:`` types carry AWS tags; anything else (Kubernetes, components) is not taggable.
    """
    cls = _aws_resource_class(type_token)
    if cls is None:
        return False
    init = getattr(cls, "_internal_init", None) or cls.__init__
    return "tags" in inspect.signature(init).parameters


def _aws_resource_class(type_token: str) -> Optional[type]:
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "aws":
        return None
    module_path, class_name = parts[1], parts[2]
    package = module_path.split("/")[0]
    for candidate in (package, package + "_"):  # "lambda" is "lambda_" in Python
        try:
            module = importlib.import_module(f"pulumi_aws.{candidate}")
        except ImportError:
            continue
        cls = getattr(module, class_name, None)
        if isinstance(cls, type):
            return cls
    return None


def provider_default_tags(provider_inputs: Mapping[str, Any]) -> dict[str, str]:
    """The ``defaultTags.tags`` of an AWS provider's inputs.

    Provider inputs that are objects travel JSON-encoded (pulumi-aws encodes them before
    registration), so both the encoded string and the decoded object are accepted.
    """
    default_tags = provider_inputs.get("defaultTags")
    if isinstance(default_tags, str):
        try:
            default_tags = json.loads(default_tags)
        except ValueError:
            return {}
    if not isinstance(default_tags, Mapping):
        return {}
    tags = default_tags.get("tags")
    return {str(k): v for k, v in tags.items()} if isinstance(tags, Mapping) else {}


def effective_tags(
    type_token: str, inputs: Mapping[str, Any], provider_inputs: Optional[Mapping[str, Any]]
) -> Optional[dict[str, Any]]:
    """Tags the resource will carry: the provider's default tags overlaid by its own.

    ``None`` for types that cannot be tagged, so "no tags" and "not taggable" differ.
    """
    if not is_taggable(type_token):
        return None
    merged: dict[str, Any] = dict(provider_default_tags(provider_inputs or {}))
    own = inputs.get("tags")
    if isinstance(own, Mapping):
        merged.update(own)
    return merged
