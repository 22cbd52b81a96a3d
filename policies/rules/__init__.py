"""Every rule of the pack: one module per rule-id prefix (``MLP-S3-*`` in ``s3.py``, ...).

Each module declares its rules with :func:`~.common.rule` beside their checks; importing
the modules fills :data:`~.common.REGISTRY`, and the import order below is the order the
pack serves its rules in.
"""

from __future__ import annotations

# in the order the pack serves them (each module registers its rules as it is imported)
from . import s3, kms, enc, tag, iam, reg, cmp, sm, edge, bud, ret, fs, prot, ecr, adv, gov  # noqa: F401
from .common import REGISTRY, Rule, rule, to_policy

ALL_RULES: list[Rule] = list(REGISTRY.values())

__all__ = ["ALL_RULES", "Rule", "rule", "to_policy"]
