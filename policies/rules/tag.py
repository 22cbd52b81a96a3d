"""MLP-TAG-*: billing and ownership tags on every taggable resource.

Tags are judged as the resource will carry them: the team provider's ``defaultTags``
(sent by the engine with the provider) overlaid by the resource's own ``tags``. Whether a
type can be tagged is read from pulumi-aws itself (``mlplatform.tagging.is_taggable``).
A tag whose value is unknown at preview counts as present; its format is checked at
``pulumi up``.
"""

from __future__ import annotations

import re
import threading

from mlplatform.tagging import MANAGED_BY, REQUIRED_TAG_KEYS, is_taggable

from .common import MANDATORY, UNKNOWN, Context, rule

FORMATS = {
    "team": (re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$"), "a DNS label"),
    "cost-center": (re.compile(r"^CC-[0-9]{3,6}$"), "CC-<digits>"),
    "data-classification": (re.compile(r"^(public|internal|confidential|restricted)$"),
                            "public, internal, confidential or restricted"),
    "spec": (re.compile(r"^[^\s]+\.ya?ml$"), "a spec file path"),
}


_TAGGABLE: dict[str, bool] = {}
_IMPORTING = threading.Lock()


def taggable(type_token: str) -> bool:
    """``is_taggable`` under a lock: the pack's gRPC server analyses resources on several
    threads, and a pulumi-aws module imported by two threads at once is seen half
    initialised by one of them (which would cache "not taggable" for the type)."""
    if type_token not in _TAGGABLE:
        with _IMPORTING:
            _TAGGABLE[type_token] = is_taggable(type_token)
    return _TAGGABLE[type_token]


@rule(
    id="MLP-TAG-001",
    name="Billing and ownership tags",
    description="Every taggable AWS resource carries the tags team, cost-center, environment, data-classification, "
                "managed-by and spec, well-formed and matching the stack's environment.",
    severity="medium",
    remediation="Create the resource with the team's AWS provider (its defaultTags carry the tags) or set "
                "the missing tags on the resource.",
    level=MANDATORY,
    concern="tags",
    config={"requiredKeys": {"type": "array", "items": {"type": "string"}, "default": list(REQUIRED_TAG_KEYS)}},
)
def check_tags(ctx: Context, report) -> None:
    if not taggable(ctx.type):
        return
    tags = ctx.tags()
    missing = [key for key in ctx.config["requiredKeys"] if not tags.get(key)]
    if missing:
        report(f"missing required tags: {', '.join(missing)}")
    for key, (pattern, what) in FORMATS.items():
        value = tags.get(key)
        if value and value != UNKNOWN and not pattern.match(str(value)):
            report(f"tag {key}={value!r} is not {what}")
    environment = tags.get("environment")
    if environment and environment != UNKNOWN and environment != ctx.environment:
        report(f"tag environment={environment!r} but the stack's environment is {ctx.environment!r}")
    managed = tags.get("managed-by")
    if managed and managed != UNKNOWN and managed != MANAGED_BY:
        report(f"tag managed-by={managed!r}, expected {MANAGED_BY!r}")
