"""Judging a KMS key reference (customer-managed or not), shared by encryption rules."""

from __future__ import annotations

import re
from typing import Any, Optional

from mlplatform.type_tokens import KMS_ALIAS, KMS_KEY, KMS_REPLICA_KEY, STACK_REFERENCE

from .common import UNKNOWN
from .links import dependency_types

KEY_TYPES = {KMS_KEY, KMS_ALIAS, KMS_REPLICA_KEY}
#: A key from another stack (the foundation stack's keys) arrives through a stack reference.
REFERENCE_TYPES = {STACK_REFERENCE}
KEY_ID = re.compile(r"^(mrk-)?[0-9a-f]{8}-?[0-9a-f-]{27,}$")
KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]+|alias/.+)$")


def key_problem(value: Any, resource: Any, prop: str, managed_alias: str) -> Optional[str]:
    """Why ``value`` (a key id/ARN input of ``resource``'s ``prop``) is not a customer-managed key.

    An unknown value (the key's ARN is computed at apply) is accepted when the stack shows
    where it comes from: the input depends on a KMS key or alias of this stack, or on a
    stack reference (shared keys of the foundation stack). Otherwise the rule cannot tell
    the key is customer-managed, and says so.
    """
    if value is None or value == "":
        return "is not set (AWS-managed or no encryption)"
    if value == UNKNOWN:
        sources = dependency_types(resource, prop) if hasattr(resource, "property_dependencies") else set()
        if sources & (KEY_TYPES | REFERENCE_TYPES):
            return None
        origin = ", ".join(sorted(sources)) or "no resource of the stack"
        return f"is computed from {origin}, not from a customer-managed KMS key"
    if not isinstance(value, str):
        return f"has an unexpected value {value!r}"
    if value.endswith(f"alias/{managed_alias}") or "alias/aws/" in value:
        return f"is the AWS-managed key {value}"
    if KEY_ARN.match(value) or KEY_ID.match(value) or value.startswith("alias/"):
        return None
    return f"{value!r} is not a KMS key ARN or alias"
