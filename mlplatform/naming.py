"""Physical names: ``<team>-<env>-<purpose>``, within each service's limits.

Names are derived from the spec deterministically so a stateful resource is never
replaced by accident; when a name is too long it is truncated and suffixed with a short
hash of the full name, so two long names never collide.
"""

from __future__ import annotations

import hashlib
import re

HASH_LENGTH = 8


def physical_name(*parts: str, max_length: int = 63, allowed: str = "a-z0-9-", separator: str = "-") -> str:
    """Join ``parts``, drop characters outside ``allowed`` and fit ``max_length``."""
    full = separator.join(part for part in parts if part)
    cleaned = re.sub(f"[^{allowed}]", separator, full.lower() if "A-Z" not in allowed else full)
    cleaned = re.sub(f"{re.escape(separator)}+", separator, cleaned).strip(separator)
    if len(cleaned) <= max_length:
        return cleaned
    digest = hashlib.sha256(full.encode()).hexdigest()[:HASH_LENGTH]
    head = cleaned[: max_length - HASH_LENGTH - 1].rstrip(separator)
    return f"{head}{separator}{digest}"


def bucket_name(team: str, environment: str, purpose: str) -> str:
    """S3: 3-63 characters, lowercase letters, digits and hyphens."""
    return physical_name(team, environment, purpose, max_length=63)


def feature_group_name(team: str, group: str, version: int) -> str:
    """SageMaker feature group: at most 64 characters, letters, digits and hyphens."""
    return physical_name(team, group, f"v{version}", max_length=64, allowed="a-zA-Z0-9-")


def role_name(team: str, environment: str, purpose: str) -> str:
    """IAM role: at most 64 characters."""
    return physical_name(team, environment, purpose, max_length=64, allowed="a-zA-Z0-9+=,.@_-")


def endpoint_name(team: str, environment: str, endpoint: str) -> str:
    """SageMaker endpoint (and its model, config, alarms' prefix): at most 63 characters,
    letters, digits and hyphens. The monitoring helper derives the same name from the spec."""
    return physical_name(team, environment, endpoint, max_length=63, allowed="a-zA-Z0-9-")


def sagemaker_name(team: str, environment: str, purpose: str, max_length: int = 63) -> str:
    """Other SageMaker, Batch and Scheduler names (letters, digits, hyphens; the tightest
    limits among them are 63 for models, 128 for Batch)."""
    return physical_name(team, environment, purpose, max_length=max_length, allowed="a-zA-Z0-9-")
