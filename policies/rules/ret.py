"""MLP-RET-*: retention. Log groups keep logs within the bounds of their data
classification; feature groups holding PII keep records no longer than the PII maximums
(online TTL, offline-store object expiry)."""

from __future__ import annotations

from mlplatform.guardrails import (LOG_RETENTION_MAX_DAYS, LOG_RETENTION_MIN_DAYS, PII_MAX_ONLINE_TTL_HOURS,
                                   PII_MAX_RETENTION_DAYS, offline_retention_problem, online_ttl_problem)
from mlplatform.type_tokens import CLOUDWATCH_LOG_GROUP, SAGEMAKER_FEATURE_GROUP

from .common import MANDATORY, TEAMS_SCHEMA, UNKNOWN, Context, as_list, peek, rule
from .links import BUCKET_TYPES, s3_types, settings_of
from .pii import is_pii, marked_pii_groups

LIFECYCLE = s3_types("BucketLifecycleConfiguration")


@rule(
    id="MLP-RET-001",
    name="Log retention within classification bounds",
    description="CloudWatch log groups keep logs for a bounded number of days within the range allowed for the data "
                "classification of their team (never forever).",
    severity="medium",
    remediation="Set retentionInDays within the bounds for the classification.",
    level=MANDATORY,
    types=(CLOUDWATCH_LOG_GROUP,),
    concern="retention",
    config={"bounds": {"type": "object", "default": {
        # a year at least for every class (checkov CKV_AWS_338), at most ten years: the same bounds
        # a stack's log retention defaults (mlplatform.platform_defaults) are validated against
        classification: {"min": LOG_RETENTION_MIN_DAYS, "max": LOG_RETENTION_MAX_DAYS}
        for classification in ("public", "internal", "confidential", "restricted")}}},
)
def check_log_retention(ctx: Context, report) -> None:
    classification = ctx.tags().get("data-classification") or "internal"
    bounds = ctx.config["bounds"].get(classification, ctx.config["bounds"]["internal"])
    days = peek(ctx.props, "retentionInDays")
    if days == UNKNOWN:
        ctx.props["retentionInDays"]
    if not isinstance(days, (int, float)) or days == 0:
        report(f"log group keeps logs forever; {classification} logs need {bounds['min']}-{bounds['max']} days")
    elif not bounds["min"] <= days <= bounds["max"]:
        report(f"log retention {days} days is outside {bounds['min']}-{bounds['max']} days for {classification} data")


@rule(
    id="MLP-RET-002",
    name="PII retention bounded",
    description="Feature groups holding PII keep online records no longer than the configured TTL and their offline "
                "store's objects expire within the configured number of days.",
    severity="high",
    remediation="Set online.ttlHours and keep the artifact bucket's retentionDays within the PII maximum.",
    level=MANDATORY,
    stack=True,
    concern="retention",
    config={"teams": TEAMS_SCHEMA,
            "maxRetentionDays": {"type": "integer", "minimum": 1, "default": PII_MAX_RETENTION_DAYS},
            "maxOnlineTtlHours": {"type": "integer", "minimum": 1, "default": PII_MAX_ONLINE_TTL_HOURS}},
)
def check_pii_retention(ctx: Context, report) -> None:
    marked = marked_pii_groups(ctx)
    buckets = {peek(b.props, "bucket"): b for b in ctx.of_type(*BUCKET_TYPES)}
    max_days, max_hours = ctx.config["maxRetentionDays"], ctx.config["maxOnlineTtlHours"]
    for group in ctx.of_type(SAGEMAKER_FEATURE_GROUP):
        if not is_pii(ctx, group, marked):
            continue
        online = peek(group.props, "onlineStoreConfig")
        if online not in (None, UNKNOWN) and peek(online, "enableOnlineStore") is True:
            ttl = peek(online, "ttlDuration")
            hours = peek(ttl, "value")
            unit = {"Seconds": 1 / 3600, "Minutes": 1 / 60, "Hours": 1, "Days": 24, "Weeks": 168}.get(peek(ttl, "unit"))
            problem = online_ttl_problem(hours * unit if isinstance(hours, (int, float)) and unit else None, max_hours)
            if problem:
                report(problem, group.urn)
        uri = peek(group.props, "offlineStoreConfig", "s3StorageConfig", "s3Uri")
        if isinstance(uri, str) and uri.startswith("s3://"):
            name, _, prefix = uri[5:].partition("/")
            bucket = buckets.get(name)
            expiry = _expiry_days(settings_of(bucket, ctx, LIFECYCLE) if bucket is not None else [], prefix)
            problem = offline_retention_problem(expiry, max_days)
            if problem:
                report(f"{problem} (s3://{name}/{prefix})", group.urn)


def _expiry_days(lifecycles: list, prefix: str):
    """Shortest expiry of an enabled lifecycle rule covering the offline store. The store's
    objects live *under* its URI (SageMaker appends ``/<account>/sagemaker/...``), so the URI
    is matched as a folder: ``feature-store/g`` is covered by a rule on ``feature-store/g/``."""
    prefix = prefix.rstrip("/") + "/"
    best = None
    for lifecycle in lifecycles:
        for lifecycle_rule in as_list(peek(lifecycle.props, "rules")):
            if peek(lifecycle_rule, "status") != "Enabled":
                continue
            rule_prefix = peek(lifecycle_rule, "filter", "prefix") or peek(lifecycle_rule, "prefix") or ""
            if not prefix.startswith(rule_prefix):
                continue
            days = peek(lifecycle_rule, "expiration", "days")
            if isinstance(days, (int, float)):
                best = days if best is None else min(best, days)
    return best
