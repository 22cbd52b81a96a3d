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

#: Force-new inputs per type token.
FORCE_NEW: dict[str, frozenset[str]] = {
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    "aws:kms/key:Key": frozenset(
        {"customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId", "customKeyStoreId"}
    ),
    "aws:kms/alias:Alias": frozenset({"name"}),
    "aws:sagemaker/featureGroup:FeatureGroup": frozenset(
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
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": frozenset({"modelPackageGroupName"}),
    "aws:ecr/repository:Repository": frozenset({"name"}),
    "aws:glue/registry:Registry": frozenset({"registryName"}),
    "aws:glue/schema:Schema": frozenset({"schemaName", "registryArn"}),
    "aws:dynamodb/table:Table": frozenset({"name", "hashKey", "rangeKey", "localSecondaryIndexes"}),
    "aws:efs/fileSystem:FileSystem": frozenset({"creationToken", "encrypted", "kmsKeyId", "performanceMode"}),
}

#: Types whose deletion or replacement destroys data (objects, keys, features, images,
#: schemas, model versions, items, files). An alias is listed in FORCE_NEW but holds nothing.
STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        "aws:s3/bucket:Bucket",
        "aws:kms/key:Key",
        "aws:sagemaker/featureGroup:FeatureGroup",
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
        "aws:ecr/repository:Repository",
        "aws:glue/registry:Registry",
        "aws:glue/schema:Schema",
        "aws:dynamodb/table:Table",
        "aws:efs/fileSystem:FileSystem",
    }
)


def force_new_properties(type_token: str) -> frozenset[str]:
    """The top-level inputs of ``type_token`` whose change replaces the resource."""
    return FORCE_NEW.get(type_token, frozenset())
