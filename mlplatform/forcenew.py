"""Which input changes make AWS replace a resource, and which resources hold data.

A plan diff must say "this replaces the feature store" before anyone runs ``pulumi up``.
The truth lives in the Terraform AWS provider schema (``ForceNew`` on an attribute), but
pulumi-aws does not ship that flag in its Python SDK: the generated classes and their
docstrings carry no trace of it, and the Pulumi package schema has no equivalent for
bridged providers. So this module keeps a small explicit table, limited to the types whose
replacement loses data, each entry taken from the Terraform AWS provider documentation or
resource schema (attribute names converted to Pulumi's camelCase input names).

Only top-level inputs are listed: a change anywhere below one of them counts, which errs on
the side of announcing a replacement.
"""

from __future__ import annotations

from .type_tokens import (
    DYNAMODB_TABLE, ECR_REPOSITORY, EFS_FILE_SYSTEM, GLUE_REGISTRY, GLUE_SCHEMA, KMS_ALIAS, KMS_KEY, S3_BUCKET,
    SAGEMAKER_FEATURE_GROUP, SAGEMAKER_MODEL_PACKAGE_GROUP)

#: Force-new inputs per type token.
FORCE_NEW: dict[str, frozenset[str]] = {
    S3_BUCKET: frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    KMS_KEY: frozenset(
        {"customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId", "customKeyStoreId"}
    ),
    KMS_ALIAS: frozenset({"name"}),
    SAGEMAKER_FEATURE_GROUP: frozenset(
        {
            "featureGroupName",
            "recordIdentifierFeatureName",
            "eventTimeFeatureName",
            "featureDefinitions",
            "offlineStoreConfig",
            "roleArn",
            "description",
        }
    ),
    SAGEMAKER_MODEL_PACKAGE_GROUP: frozenset({"modelPackageGroupName"}),
    ECR_REPOSITORY: frozenset({"name"}),
    GLUE_REGISTRY: frozenset({"registryName"}),
    GLUE_SCHEMA: frozenset({"schemaName", "registryArn"}),
    DYNAMODB_TABLE: frozenset({"name", "hashKey", "rangeKey", "localSecondaryIndexes"}),
    EFS_FILE_SYSTEM: frozenset({"creationToken", "encrypted", "kmsKeyId", "performanceMode"}),
}

#: Types whose deletion or replacement destroys data (objects, keys, features, images,
#: schemas, model versions, items, files). An alias is listed in FORCE_NEW but holds nothing.
STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        S3_BUCKET,
        KMS_KEY,
        SAGEMAKER_FEATURE_GROUP,
        SAGEMAKER_MODEL_PACKAGE_GROUP,
        ECR_REPOSITORY,
        GLUE_REGISTRY,
        GLUE_SCHEMA,
        DYNAMODB_TABLE,
        EFS_FILE_SYSTEM,
    }
)


def force_new_properties(type_token: str) -> frozenset[str]:
    """The top-level inputs of ``type_token`` whose change replaces the resource."""
    return FORCE_NEW.get(type_token, frozenset())
