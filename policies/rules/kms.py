"""MLP-KMS-*: KMS keys: rotation, deletion window, explicit key policy without public principals."""

from __future__ import annotations

from mlplatform.type_tokens import KMS_KEY

from .common import MANDATORY, UNKNOWN, Context, as_list, json_document, peek, rule

KEY = (KMS_KEY,)


@rule(
    id="MLP-KMS-001",
    name="KMS key rotation on",
    description="Every symmetric KMS key rotates automatically (at most yearly) and has a deletion window of at least "
                "the configured days.",
    severity="high",
    remediation="Set enableKeyRotation: true and deletionWindowInDays >= 30 on the key.",
    level=MANDATORY,
    types=KEY,
    concern="kms",
    config={
        "minDeletionWindowDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 30},
        "maxRotationDays": {"type": "integer", "minimum": 90, "maximum": 2560, "default": 365},
    },
)
def check_rotation(ctx: Context, report) -> None:
    """Asymmetric and HMAC keys cannot rotate; every symmetric key must."""
    spec = peek(ctx.props, "customerMasterKeySpec") or peek(ctx.props, "keySpec") or "SYMMETRIC_DEFAULT"
    if spec == "SYMMETRIC_DEFAULT" and peek(ctx.props, "enableKeyRotation") is not True:
        report("key rotation is off (enableKeyRotation: true)")
    period = peek(ctx.props, "rotationPeriodInDays")
    if isinstance(period, (int, float)) and period > ctx.config["maxRotationDays"]:
        report(f"rotation period {period} days exceeds {ctx.config['maxRotationDays']}")
    window = peek(ctx.props, "deletionWindowInDays")
    minimum = ctx.config["minDeletionWindowDays"]
    if window == UNKNOWN:
        return
    if (window if isinstance(window, (int, float)) else 30) < minimum:
        report(f"deletion window {window} days is shorter than {minimum}")


def _anyone(principal) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and any(v == "*" or v == ["*"] for v in principal.values())


@rule(
    id="MLP-KMS-002",
    name="KMS key policy explicit and not public",
    description="Every KMS key has an explicit key policy and no statement allows everyone ('*') without a condition.",
    severity="critical",
    remediation="Give the key a policy naming its administrators and users; never Principal '*'.",
    level=MANDATORY,
    types=KEY,
    concern="kms",
)
def check_key_policy(ctx: Context, report) -> None:
    """An unknown policy defers the rule (the SDK reports it during preview)."""
    if peek(ctx.props, "policy") in (None, ""):
        report("key has no explicit key policy (the default grants the whole account)")
        return
    document = json_document(ctx.props["policy"])
    if not isinstance(document, dict):
        report("key policy is not a JSON policy document")
        return
    for statement in as_list(document.get("Statement")):
        if isinstance(statement, dict) and statement.get("Effect") == "Allow" \
                and _anyone(statement.get("Principal")) and not statement.get("Condition"):
            report(f"key policy statement {statement.get('Sid') or ''} allows everyone ('*')".replace("  ", " "))
