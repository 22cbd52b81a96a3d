"""MLP-PROT-*: in production, stateful resources are protected and cannot be
force-deleted with their contents."""

from __future__ import annotations

from mlplatform.type_tokens import (
    CLOUDTRAIL_TRAIL, CLOUDWATCH_LOG_GROUP, DYNAMODB_TABLE, ECR_REPOSITORY, GLUE_REGISTRY, GLUE_SCHEMA, KMS_KEY,
    SAGEMAKER_FEATURE_GROUP, SAGEMAKER_MODEL_PACKAGE_GROUP)

from .common import PROD, Context, peek, rule
from .links import BUCKET_TYPES

STATEFUL = (*BUCKET_TYPES, KMS_KEY, SAGEMAKER_FEATURE_GROUP,
            ECR_REPOSITORY, CLOUDWATCH_LOG_GROUP,
            GLUE_REGISTRY, GLUE_SCHEMA, CLOUDTRAIL_TRAIL,
            DYNAMODB_TABLE, SAGEMAKER_MODEL_PACKAGE_GROUP)


@rule(
    id="MLP-PROT-001",
    name="Stateful resources protected",
    description="In production, buckets, keys, feature groups, registries, log groups and other stateful resources "
                "are protected and cannot be force-deleted with their contents.",
    severity="high",
    remediation="Set mlplatform:protectStateful: true on the stack; never set forceDestroy/forceDelete.",
    level=PROD,
    types=STATEFUL,
    concern="protection",
    config={"environments": {"type": "array", "items": {"type": "string"}, "default": ["prod"]}},
)
def check_protected(ctx: Context, report) -> None:
    if ctx.environment not in ctx.config["environments"]:
        return
    if not ctx.resource.opts.protect:
        report("stateful resource is not protected (resource option protect)")
    if peek(ctx.props, "forceDestroy") is True or peek(ctx.props, "forceDelete") is True:
        report("stateful resource can be deleted with its contents (forceDestroy/forceDelete)")
