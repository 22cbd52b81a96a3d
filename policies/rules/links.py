"""Joining split resources in stack rules (a bucket and its encryption, policy, ...).

pulumi-aws splits a bucket's settings into separate resources that name the bucket in
their ``bucket`` input. A setting belongs to a bucket when that input equals the bucket's
name, or (when the name is unknown at preview) when the input depends on the bucket
resource: the engine sends property dependencies with AnalyzeStack for exactly this.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from .common import UNKNOWN, peek

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")


def s3_types(*names: str) -> tuple[str, ...]:
    """pulumi-aws v7 token plus the v6 ``...V2`` one for each split bucket resource."""
    tokens = []
    for name in names:
        lower = name[0].lower() + name[1:]
        tokens += [f"aws:s3/{lower}:{name}", f"aws:s3/{lower}V2:{name}V2"]
    return tuple(tokens)


def depends_on(resource: Any, prop: str, urn: str) -> bool:
    return any(dep.urn == urn for dep in (resource.property_dependencies or {}).get(prop, []))


def dependency_types(resource: Any, prop: str) -> set[str]:
    return {dep.resource_type for dep in (resource.property_dependencies or {}).get(prop, [])}


def bucket_name(bucket: Any) -> Optional[str]:
    name = peek(bucket.props, "bucket")
    return name if isinstance(name, str) and name != UNKNOWN else None


def settings_of(bucket: Any, candidates: Iterable[Any], prop: str = "bucket") -> list:
    """The split resources among ``candidates`` that configure ``bucket``."""
    name = bucket_name(bucket)
    found = []
    for resource in candidates:
        value = peek(resource.props, prop)
        if (name is not None and value == name) or depends_on(resource, prop, bucket.urn):
            found.append(resource)
    return found
