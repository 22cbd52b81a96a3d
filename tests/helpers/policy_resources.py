"""Compliant resources the policy rule cases start from (a KMS key, a bucket with every
setting, an endpoint config, a feature group ...), shared by the per-prefix test files
``tests/test_policy_rules_<prefix>.py``. Each builder returns fresh resources; keyword
changes replace inputs, so a case states only what it breaks."""

from __future__ import annotations

import json

from mlplatform.graph import UNKNOWN

from tests.helpers.policy import ACCOUNT, TEAM, res

KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"
NAME = "fraud-prod-artifacts"
ARN = f"arn:aws:s3:::{NAME}"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
DOC = "2012-10-17"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": DOC, "Statement": list(statements)})


def key(protect: bool = True, **changes) -> list:
    inputs = {"enableKeyRotation": True, "deletionWindowInDays": 30, "policy": policy(
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
         "Resource": "*"})}
    inputs.update(changes)
    return [res(KEY, "fraud-key", {k: v for k, v in inputs.items() if v is not None}, protect=protect)]


KEY_URN = key()[0].urn
TLS = {"Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [ARN, f"{ARN}/*"],
       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def bucket_set(drop: tuple = (), **changes) -> list:
    """A compliant bucket with every setting; ``drop`` removes settings, ``changes`` replaces inputs."""
    parts = {
        "bucket": res(BUCKET, "fraud-bucket", {"bucket": NAME, "forceDestroy": False}, protect=True),
        "sse": res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                   "fraud-sse", {"bucket": NAME, "rules": [{"applyServerSideEncryptionByDefault": {
                       "sseAlgorithm": "aws:kms", "kmsMasterKeyId": UNKNOWN}, "bucketKeyEnabled": True}]},
                   deps={"rules": [KEY_URN]}),
        "pab": res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "fraud-pab", {
            "bucket": NAME, "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
            "restrictPublicBuckets": True}),
        "ownership": res("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "fraud-ownership",
                         {"bucket": NAME, "rule": {"objectOwnership": "BucketOwnerEnforced"}}),
        "policy": res("aws:s3/bucketPolicy:BucketPolicy", "fraud-policy", {"bucket": NAME, "policy": policy(TLS)}),
        "versioning": res("aws:s3/bucketVersioning:BucketVersioning", "fraud-versioning",
                          {"bucket": NAME, "versioningConfiguration": {"status": "Enabled"}}),
        "logging": res("aws:s3/bucketLogging:BucketLogging", "fraud-logging",
                       {"bucket": NAME, "targetBucket": "estate-prod-access-logs", "targetPrefix": f"{NAME}/"}),
        "lifecycle": res("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "fraud-lifecycle",
                         {"bucket": NAME, "rules": [{"id": "r", "status": "Enabled", "filter": {},
                                                     "expiration": {"days": 730}}]}),
    }
    for part, inputs in changes.items():
        parts[part].inputs.update(inputs)
    return key() + [value for part, value in parts.items() if part not in drop]


def role_policy(*statements: dict) -> list:
    return [res("aws:iam/rolePolicy:RolePolicy", "fraud-role-policy", {"role": "fraud-role", "policy": policy(*statements)})]


ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
CAPTURE = {"enableCapture": True, "initialSamplingPercentage": 20, "destinationS3Uri": f"s3://{NAME}/data-capture",
           "kmsKeyId": KEY_ARN, "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}]}


def endpoint_config(instance: str = "ml.g5.xlarge", **changes) -> list:
    inputs = {"name": "fraud-scorer-config", "kmsKeyArn": KEY_ARN, "dataCaptureConfig": CAPTURE,
              "productionVariants": [{"variantName": "main", "instanceType": instance, "initialInstanceCount": 2,
                                      "modelName": "fraud-scorer-model"}]}
    inputs.update(changes)
    return [res(ENDPOINT_CONFIG, "fraud-scorer-config", {k: v for k, v in inputs.items() if v is not None})]


COMPUTE = "aws:batch/computeEnvironment:ComputeEnvironment"


def compute_env(types=("g5.12xlarge",), vcpus=96, kind="SPOT", name="fraud-gpu") -> list:
    return [res(COMPUTE, name, {"type": "MANAGED", "computeResources": {
        "type": kind, "instanceTypes": list(types), "maxVcpus": vcpus, "subnets": ["subnet-1"]}})]


def launch_template(**changes) -> list:
    inputs = {"instanceType": "g5.2xlarge", "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2},
              "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY_ARN}}]}
    inputs.update(changes)
    return [res("aws:ec2/launchTemplate:LaunchTemplate", "fraud-lt", inputs)]


LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FG = "aws:sagemaker/featureGroup:FeatureGroup"
FG_NAME = "fraud-transactions-v2"
PII_FACTS = {"teams": {TEAM: {"riskTier": "high", "residency": "eu", "dataClassification": "restricted",
                              "piiFeatureGroups": [FG_NAME]}}}


def feature_group(ttl=48, tags=None, online_key=UNKNOWN, deps=None) -> list:
    online = {"enableOnlineStore": True, "securityConfig": {"kmsKeyId": online_key}}
    if ttl is not None:
        online["ttlDuration"] = {"unit": "Hours", "value": ttl}
    return key() + [res(FG, "fraud-fg", {
        "featureGroupName": FG_NAME, "recordIdentifierFeatureName": "id", "eventTimeFeatureName": "ts",
        "onlineStoreConfig": online,
        "offlineStoreConfig": {"s3StorageConfig": {"s3Uri": f"s3://{NAME}/feature-store/{FG_NAME}", "kmsKeyId": UNKNOWN}},
        **({"tags": tags} if tags is not None else {"tags": {"pii": "true"}})},
        protect=True, deps=deps if deps is not None else {"onlineStoreConfig": [KEY_URN], "offlineStoreConfig": [KEY_URN]})]
