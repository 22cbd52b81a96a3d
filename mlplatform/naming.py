"""Physical names: ``<team>-<env>-<purpose>``, within each service's limits.

Names are derived from the spec deterministically so a stateful resource is never
replaced by accident; when a name is too long it is truncated and suffixed with a short
hash of the full name, so two long names never collide.

S3 bucket names are global: one namespace shared by every AWS account of the partition.
:func:`bucket_name` therefore puts the stack's organisation prefix in front and its
account id at the end of every bucket name (the account id survives truncation), so
names of two stacks, two accounts or two organisations never meet.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Optional, Protocol

HASH_LENGTH = 8
#: S3 general purpose bucket names: 3 to 63 lowercase letters, digits, hyphens (and dots,
#: which we never use: they break virtual-hosted TLS). The S3 User Guide's "General
#: purpose bucket naming rules"; botocore's BucketName shape carries no length.
BUCKET_MAX_LENGTH = 63
#: SageMaker ModelName (CreateModel) and most SageMaker entity names: at most 63.
SAGEMAKER_MAX_LENGTH = 63


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def physical_name(
    *parts: Optional[str],
    max_length: int = 63,
    allowed: str = "a-z0-9-",
    separator: str = "-",
    suffix: str = "",
) -> str:
    """Join ``parts``, drop characters outside ``allowed`` and fit ``max_length``.

    A name that is too long keeps its head, then the hash of the full name; ``suffix``
    (an account id, a content hash) is appended after the hash and so is never cut.
    """
    full = separator.join(part for part in (*parts, suffix) if part)
    cleaned = _clean(full, allowed, separator)
    if len(cleaned) <= max_length:
        return cleaned
    tail = _clean(suffix, allowed, separator) if suffix else ""
    room = max_length - HASH_LENGTH - 1 - (len(tail) + 1 if tail else 0)
    if room < 1:
        raise ValueError(f"suffix '{suffix}' leaves no room for a name within {max_length} characters")
    head = _clean(separator.join(part for part in parts if part), allowed, separator)[:room].rstrip(separator)
    return separator.join(part for part in (head, _digest(full), tail) if part)


def _clean(text: str, allowed: str, separator: str) -> str:
    cleaned = re.sub(f"[^{allowed}]", separator, text.lower() if "A-Z" not in allowed else text)
    return re.sub(f"{re.escape(separator)}+", separator, cleaned).strip(separator)


class GlobalScope(Protocol):
    """What makes a globally unique name unique: the stack's organisation and account."""

    org_prefix: Optional[str]
    account_id: str


def bucket_name(scope: GlobalScope, *parts: str) -> str:
    """S3 bucket: ``<org>-<parts...>-<account id>``, 3-63 lowercase letters, digits, hyphens.

    The organisation prefix leads (it names the owner, and is kept by truncation), the
    account id closes (it is appended after the truncation hash, so it is never cut).
    """
    return physical_name(scope.org_prefix, *parts, suffix=scope.account_id, max_length=BUCKET_MAX_LENGTH)


def artifacts_component(team: str) -> str:
    """Logical name of a team's ArtifactStore component (its bucket is ``<this>-bucket``)."""
    return f"{team}-artifacts"


def artifacts_bucket_resource(team: str) -> str:
    """Logical name of a team's artifact bucket: what findings, skips and exemptions name."""
    return f"{artifacts_component(team)}-bucket"


def feature_group_name(team: str, environment: str, group: str, version: int) -> str:
    """SageMaker feature group: at most 64 characters, letters, digits and hyphens.

    Feature group names are unique per account and region; the environment keeps two
    stacks of one account (dev and staging, say) from claiming the same group."""
    return physical_name(team, environment, group, f"v{version}", max_length=64, allowed="a-zA-Z0-9-")


def role_name(team: str, environment: str, purpose: str) -> str:
    """IAM role: at most 64 characters."""
    return physical_name(team, environment, purpose, max_length=64, allowed="a-zA-Z0-9+=,.@_-")


#: The production variant callers are answered by, and the shadow variant that receives a
#: copy of the traffic (``rollout.strategy: shadow``): the endpoint configuration names its
#: variants so, and its alarms, autoscaling target and drift Lambda refer to them by name.
PRIMARY_VARIANT = "primary"
SHADOW_VARIANT = "shadow"


def variant_names(shadowed: bool) -> list[str]:
    """The endpoint's production variants, primary first (``shadowed``: a shadow rollout)."""
    return [PRIMARY_VARIANT, SHADOW_VARIANT] if shadowed else [PRIMARY_VARIANT]


def endpoint_name(team: str, environment: str, endpoint: str) -> str:
    """SageMaker endpoint (and its model, config, alarms' prefix): at most 63 characters,
    letters, digits and hyphens. The monitoring helper derives the same name from the spec."""
    return physical_name(team, environment, endpoint, max_length=63, allowed="a-zA-Z0-9-")


def sagemaker_name(team: str, environment: str, purpose: str, max_length: int = 63) -> str:
    """Other SageMaker, Batch and Scheduler names (letters, digits, hyphens; the tightest
    limits among them are 63 for models, 128 for Batch)."""
    return physical_name(team, environment, purpose, max_length=max_length, allowed="a-zA-Z0-9-")


def versioned_name(base: str, definition: Any, max_length: int = SAGEMAKER_MAX_LENGTH) -> str:
    """``<base>-<hash of definition>``: a deterministic name that changes with its content.

    For immutable resources an update replaces (a SageMaker model: every input forces a
    new one). Pulumi creates the replacement before deleting the old one, so a fixed name
    would collide with itself; a name that carries the hash of the definition is new
    exactly when the resource is, and stays within ``max_length``.
    """
    text = json.dumps(definition, sort_keys=True, default=str)
    return physical_name(base, suffix=_digest(text), max_length=max_length, allowed="a-zA-Z0-9-")


# ---------------------------------------------------------------- the serving edge (issue 16)

#: A DNS host name is at most 253 characters in text form (RFC 1035 section 2.3.4: 255
#: octets on the wire, less the length octets); each label at most 63.
HOST_NAME_MAX_LENGTH = 253
#: WAF web ACL and rule names: 1-128 of ``[A-Za-z0-9_-]`` (botocore wafv2 CreateWebACL Name).
WAF_NAME_MAX_LENGTH = 128
#: WAF delivers to CloudWatch Logs only into log groups whose name starts with this
#: (AWS WAF Developer Guide, "Sending web ACL traffic logs to an Amazon CloudWatch Logs log group").
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
#: CloudWatch Logs log group names: at most 512 (botocore logs CreateLogGroup logGroupName).
LOG_GROUP_MAX_LENGTH = 512
#: DynamoDB table names: 3-255 of ``[a-zA-Z0-9_.-]`` (DynamoDB Developer Guide, "Naming rules";
#: botocore's TableName also takes an ARN, hence its looser 1024).
TABLE_NAME_MAX_LENGTH = 255
#: Lambda function names: at most 64 (the 140 of botocore's FunctionName counts an ARN).
FUNCTION_NAME_MAX_LENGTH = 64


def front_door_name(team: str, environment: str, endpoint: str) -> str:
    """The front door of an endpoint: its REST API and its WAF web ACL (at most 128 letters,
    digits and hyphens, the web ACL's limit; a REST API name is a label, not unique)."""
    return physical_name(team, environment, endpoint, "front-door", max_length=WAF_NAME_MAX_LENGTH,
                         allowed="a-zA-Z0-9-")


def front_door_host(domain_prefix: str, domain: str) -> str:
    """``<domainPrefix>.<domain>``: the front door's custom domain (one label under the
    stack's edge domain, which its wildcard certificate covers)."""
    return f"{domain_prefix}.{domain}"


def front_door_access_log_group(team: str, environment: str, endpoint: str) -> str:
    """The stage's access log group, under ``/aws/apigateway/``."""
    return "/aws/apigateway/" + physical_name(team, environment, endpoint, "access",
                                              max_length=LOG_GROUP_MAX_LENGTH - len("/aws/apigateway/"))


def waf_log_group(team: str, environment: str, endpoint: str) -> str:
    """The web ACL's log group: WAF requires the ``aws-waf-logs-`` prefix."""
    return WAF_LOG_GROUP_PREFIX + physical_name(team, environment, endpoint,
                                                max_length=LOG_GROUP_MAX_LENGTH - len(WAF_LOG_GROUP_PREFIX))


def fallback_function_name(team: str, environment: str, endpoint: str) -> str:
    """The fallback Lambda of an endpoint (at most 64 characters)."""
    return physical_name(team, environment, endpoint, "fallback", max_length=FUNCTION_NAME_MAX_LENGTH)


def fallback_table_name(team: str, environment: str, endpoint: str) -> str:
    """The last-known-good cache table of an endpoint (at most 255 characters)."""
    return physical_name(team, environment, endpoint, "fallback-cache", max_length=TABLE_NAME_MAX_LENGTH)
