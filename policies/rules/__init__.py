"""Every rule of the pack, grouped by concern (one module each)."""

from __future__ import annotations

from . import compute, edge, encryption, governance, iam, kms, residency, s3, serving, tags
from .common import Rule, to_policy

ALL_RULES: list[Rule] = [
    *s3.RULES, *kms.RULES, *encryption.RULES, *tags.RULES, *iam.RULES, *residency.RULES,
    *compute.RULES, *serving.RULES, *edge.RULES, *governance.RULES,
]

__all__ = ["ALL_RULES", "Rule", "to_policy"]
