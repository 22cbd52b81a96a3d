"""MLP-S3-*: S3 buckets: customer-managed encryption, no public access, TLS only, versioning, logging.

All are stack rules: a bucket's settings live in separate resources (see ``links``), so a
bucket passes only when the stack holds the setting for it.
"""

from __future__ import annotations

from typing import Any

from mlplatform.type_tokens import S3_BUCKET_OWNERSHIP_CONTROLS, S3_BUCKET_POLICY, S3_BUCKET_PUBLIC_ACCESS_BLOCK

from .common import MANDATORY, PROD, UNKNOWN, Context, as_list, defer, json_document, peek, rule
from .keys import key_problem
from .links import BUCKET_TYPES, bucket_name, s3_types, settings_of

SSE = s3_types("BucketServerSideEncryptionConfiguration")
PAB = (S3_BUCKET_PUBLIC_ACCESS_BLOCK,)
OWNERSHIP = (S3_BUCKET_OWNERSHIP_CONTROLS,)
POLICY = (S3_BUCKET_POLICY,)
VERSIONING = s3_types("BucketVersioning")
LOGGING = s3_types("BucketLogging")
PUBLIC_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


LOG_DELIVERY = "logging.s3.amazonaws.com"


def receives_access_logs(bucket: Any, ctx: Context) -> bool:
    """True for a bucket that S3 server access logs are delivered to: the ``targetBucket``
    of a logging resource in the plan, or a bucket whose own policy lets the S3 log
    delivery service write to it (a partial plan may hold the target without its sources)."""
    if settings_of(bucket, ctx, LOGGING, prop="targetBucket"):
        return True
    for policy in settings_of(bucket, ctx, POLICY):
        document = json_document(peek(policy.props, "policy"))
        for statement in as_list(peek(document, "Statement")) if isinstance(document, dict) else []:
            principal = peek(statement, "Principal", "Service")
            services = principal if isinstance(principal, list) else [principal]
            if peek(statement, "Effect") == "Allow" and LOG_DELIVERY in services:
                return True
    return False


@rule(
    id="MLP-S3-001",
    name="S3 encrypted with a customer-managed KMS key",
    description="Every S3 bucket has default encryption aws:kms with a customer-managed key (not aws/s3, not AES256) "
                "and S3 bucket keys on; server-access-log target buckets use SSE-S3, the only encryption S3 log "
                "delivery supports.",
    severity="high",
    remediation="Add a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms, kmsMasterKeyId set to "
                "the team's KMS key ARN and bucketKeyEnabled: true (the ArtifactStore component does this).",
    level=MANDATORY,
    stack=True,
    concern="s3",
)
def check_encryption(ctx: Context, report) -> None:
    """Unknown key ids pass only when the ``rules`` input depends on a KMS key resource.

    A bucket that receives S3 server access logs (the ``targetBucket`` of a logging
    resource) may use SSE-S3 (AES256) and only that: S3 log delivery cannot write to a
    bucket whose default encryption is SSE-KMS (S3 user guide, "Enabling Amazon S3 server
    access logging"), so there a customer-managed key is impossible, not omitted.
    """
    for bucket in ctx.of_type(*BUCKET_TYPES):
        found = settings_of(bucket, ctx, SSE)
        if not found:
            report("bucket has no server-side encryption configuration with a customer-managed KMS key", bucket.urn)
            continue
        log_target = receives_access_logs(bucket, ctx)
        for config in found:
            for sse_rule in as_list(peek(config.props, "rules")) or [None]:
                default = peek(sse_rule, "applyServerSideEncryptionByDefault") if sse_rule else None
                if log_target and peek(default, "sseAlgorithm") == "AES256":
                    continue
                if peek(default, "sseAlgorithm") not in ("aws:kms", "aws:kms:dsse"):
                    report(f"bucket encryption is {peek(default, 'sseAlgorithm') or 'unset'}, not aws:kms", bucket.urn)
                    continue
                problem = key_problem(peek(default, "kmsMasterKeyId"), config, "rules", "aws/s3")
                if problem:
                    report(f"bucket encryption key {problem}", bucket.urn)
                if peek(sse_rule, "bucketKeyEnabled") is not True:
                    report("S3 bucket key is not enabled (bucketKeyEnabled: true)", bucket.urn)


@rule(
    id="MLP-S3-002",
    name="S3 public access blocked",
    description="Every S3 bucket has a public access block with all four flags on and ACLs disabled "
                "(BucketOwnerEnforced); no public ACL.",
    severity="critical",
    remediation="Add a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and "
                "restrictPublicBuckets true, and BucketOwnershipControls with objectOwnership BucketOwnerEnforced.",
    level=MANDATORY,
    stack=True,
    concern="s3",
)
def check_public_access(ctx: Context, report) -> None:
    for bucket in ctx.of_type(*BUCKET_TYPES):
        found = settings_of(bucket, ctx, PAB)
        if not found:
            report("bucket has no public access block", bucket.urn)
        for block in found:
            off = [flag for flag in PUBLIC_FLAGS if peek(block.props, flag) is not True]
            if off:
                report(f"public access block leaves {', '.join(off)} off", bucket.urn)
        owners = settings_of(bucket, ctx, OWNERSHIP)
        if not any(peek(o.props, "rule", "objectOwnership") == "BucketOwnerEnforced" for o in owners):
            report("ACLs are not disabled (ownership controls BucketOwnerEnforced missing)", bucket.urn)
        acl = peek(bucket.props, "acl")
        if acl not in (None, "private"):
            report(f"bucket ACL is {acl}", bucket.urn)


def _principal_is_anyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(value == "*" or value == ["*"] for value in principal.values())
    return False


def _denies_insecure_transport(statement: dict, name: str) -> bool:
    condition = statement.get("Condition") or {}
    flag = (condition.get("Bool") or {}).get("aws:SecureTransport")
    actions = as_list(statement.get("Action"))
    resources = as_list(statement.get("Resource"))
    return (
        statement.get("Effect") == "Deny"
        and _principal_is_anyone(statement.get("Principal"))
        and str(flag).lower() == "false"
        and any(action in ("s3:*", "*") for action in actions)
        and (not name or {f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"} <= set(resources))
    )


@rule(
    id="MLP-S3-003",
    name="S3 accepts TLS only",
    description="Every S3 bucket has a bucket policy that denies all requests without TLS (aws:SecureTransport=false) "
                "and no unconditional Allow to everyone.",
    severity="high",
    remediation="Add a Deny statement for s3:* on the bucket and bucket/* to Principal '*' with condition "
                "Bool aws:SecureTransport=false.",
    level=MANDATORY,
    stack=True,
    concern="s3",
)
def check_tls_policy(ctx: Context, report) -> None:
    """A policy document unknown at preview defers the rule (the SDK reports it)."""
    deferred: list = []
    for bucket in ctx.of_type(*BUCKET_TYPES):
        found = settings_of(bucket, ctx, POLICY)
        if not found:
            report("bucket has no bucket policy denying non-TLS access", bucket.urn)
            continue
        statements = []
        for policy in found:
            if peek(policy.props, "policy") == UNKNOWN:
                deferred.append(policy)
                continue
            document = json_document(policy.props["policy"])
            statements += [s for s in as_list((document or {}).get("Statement")) if isinstance(s, dict)]
        if not statements and deferred:
            continue
        if not any(_denies_insecure_transport(s, bucket_name(bucket) or "") for s in statements):
            report("bucket policy does not deny requests without TLS (aws:SecureTransport=false) "
                   "on the bucket and its objects", bucket.urn)
        for statement in statements:
            if statement.get("Effect") == "Allow" and _principal_is_anyone(statement.get("Principal")) \
                    and not statement.get("Condition"):
                report("bucket policy allows everyone ('*') without a condition", bucket.urn)
    defer(deferred, "policy")


@rule(
    id="MLP-S3-004",
    name="S3 versioning on",
    description="Every S3 bucket has versioning enabled, so overwritten or deleted objects can be recovered.",
    severity="medium",
    remediation="Add a BucketVersioning with versioningConfiguration.status Enabled.",
    level=PROD,
    stack=True,
    concern="s3",
)
def check_versioning(ctx: Context, report) -> None:
    for bucket in ctx.of_type(*BUCKET_TYPES):
        statuses = [peek(v.props, "versioningConfiguration", "status") for v in settings_of(bucket, ctx, VERSIONING)]
        legacy = peek(bucket.props, "versioning", "enabled")
        if "Enabled" not in statuses and legacy is not True:
            report("bucket versioning is not enabled", bucket.urn)


@rule(
    id="MLP-S3-005",
    name="S3 access logging on",
    description="Every S3 bucket logs server access to a log bucket, unless it is itself a log target.",
    severity="medium",
    remediation="Add a BucketLogging with targetBucket set to the stack's access-log bucket.",
    level=PROD,
    stack=True,
    concern="s3",
)
def check_logging(ctx: Context, report) -> None:
    """A bucket that is another bucket's log target need not log itself (no loops)."""
    logging = ctx.of_type(*LOGGING)
    targets = {peek(item.props, "targetBucket") for item in logging}
    for bucket in ctx.of_type(*BUCKET_TYPES):
        name = bucket_name(bucket)
        if (name is not None and name in targets) or receives_access_logs(bucket, ctx):
            continue
        if any(
            isinstance(t := peek(item.props, "targetBucket"), str) and t
            for item in settings_of(bucket, ctx, LOGGING)
        ):
            continue
        if peek(bucket.props, "loggings") not in (None, [], UNKNOWN):
            continue
        report("bucket has no server access logging", bucket.urn)
