"""Joining split resources in stack rules (a bucket and its encryption, policy, ...).

pulumi-aws splits a bucket's settings into separate resources that name the bucket in
their ``bucket`` input. A setting belongs to a bucket when that input equals the bucket's
name, or (when the name is unknown at preview) when the input depends on the bucket
resource: the engine sends property dependencies with AnalyzeStack for exactly this.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from mlplatform.type_tokens import S3_BUCKET, S3_BUCKET_V2

from .common import UNKNOWN, Context, peek

BUCKET_TYPES = (S3_BUCKET, S3_BUCKET_V2)


def s3_types(*names: str) -> tuple[str, ...]:
    """pulumi-aws v7 token plus the v6 ``...V2`` one for each split bucket resource."""
    tokens = []
    for name in names:
        lower = name[0].lower() + name[1:]
        tokens += [f"aws:s3/{lower}:{name}", f"aws:s3/{lower}V2:{name}V2"]
    return tuple(tokens)


def dependency_types(resource: Any, prop: str) -> set[str]:
    return {dep.resource_type for dep in (resource.property_dependencies or {}).get(prop, [])}


def bucket_name(bucket: Any) -> Optional[str]:
    name = peek(bucket.props, "bucket")
    return name if isinstance(name, str) and name != UNKNOWN else None


_ABSENT = object()


class Links:
    """``candidates`` indexed by what their ``prop`` input names: its value, and the
    resources it depends on (the link when the value is unknown at preview).

    Looking a bucket's settings up here instead of scanning every candidate for every bucket
    keeps stack rules linear in the plan size (the scan was quadratic in the number of
    buckets). :meth:`find` returns what the scan returned, in candidate order.
    """

    def __init__(self, candidates: Iterable[Any], prop: str):
        self._by_value: dict[Any, list] = {}
        self._by_dependency: dict[str, list] = {}
        for position, resource in enumerate(candidates):
            value = peek(resource.props, prop)
            try:
                self._by_value.setdefault(value, []).append((position, resource))
            except TypeError:  # a list or object names no single resource
                pass
            for dependency in (resource.property_dependencies or {}).get(prop, []):
                self._by_dependency.setdefault(dependency.urn, []).append((position, resource))

    def find(self, urn: Optional[str], value: Any = _ABSENT) -> list:
        """Candidates whose input equals ``value`` (when given) or depends on ``urn`` (when given)."""
        hits = dict(self._by_dependency.get(urn, ())) if urn is not None else {}
        if value is not _ABSENT:
            try:
                hits.update(self._by_value.get(value, ()))
            except TypeError:
                pass
        return [resource for _, resource in sorted(hits.items(), key=lambda hit: hit[0])]


def links(ctx: Context, types: tuple[str, ...], prop: str) -> Links:
    """The :class:`Links` of the stack's resources of ``types`` by ``prop``, built once per rule."""
    return ctx.memo(("links", types, prop), lambda: Links(ctx.of_type(*types), prop))


def settings_of(bucket: Any, ctx: Context, types: tuple[str, ...], prop: str = "bucket") -> list:
    """The split resources of ``types`` that configure ``bucket``: their ``prop`` names the
    bucket, or depends on the bucket resource."""
    name = bucket_name(bucket)
    return links(ctx, types, prop).find(bucket.urn, _ABSENT if name is None else name)
