"""Which feature groups hold PII, shared by the retention (MLP-RET-002) and feature-store
(MLP-FS-001) rules: those the team specs mark (``piiFeatureGroups`` in the team facts)
and those tagged ``pii=true``."""

from __future__ import annotations

from typing import Any

from .common import Context, peek


def marked_pii_groups(ctx: Context) -> dict[str, str]:
    """feature group name -> team, from the team facts (the spec marks PII features)."""
    return {group: team for team, facts in ctx.config["teams"].items() for group in facts.get("piiFeatureGroups", [])}


def is_pii(ctx: Context, group: Any, marked: dict[str, str]) -> bool:
    """The feature group is marked in a spec (``marked``: :func:`marked_pii_groups`) or tagged pii=true."""
    return peek(group.props, "featureGroupName") in marked or str(ctx.tags(group).get("pii")).lower() == "true"
