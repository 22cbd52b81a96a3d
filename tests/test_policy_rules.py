"""Every rule, compliant and violating, through the analyzer protocol of the served pack."""

from __future__ import annotations

import datetime
import json
import re
from typing import Callable

import pytest
from pulumi.runtime.proto import analyzer_pb2

from mlplatform.graph import UNKNOWN, secret_marker
from mlplatform.reports.findings import ADVISORY, EXEMPTED, MANDATORY, SKIPPED

from .test_policy_support import (ACCOUNT, BOUNDARY, TEAM, base_values, failures, graph_of, provider, res, run,
                                  shared_pack, team_component)

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


def without_dependencies(resources: list, name: str) -> list:
    for resource in resources:
        if resource.name == name:
            resource.property_dependencies = {}
    return resources


def role(trust: dict, **inputs) -> list:
    return [res("aws:iam/role:Role", "fraud-role", {"assumeRolePolicy": policy(trust), "maxSessionDuration": 3600,
                                                    "permissionsBoundary": BOUNDARY, **inputs})]


HUMAN = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
SERVICE = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}


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


CANARY = {"blueGreenUpdatePolicy": {"trafficRoutingConfiguration": {
    "type": "CANARY", "canarySize": {"type": "CAPACITY_PERCENT", "value": 10}, "waitIntervalInSeconds": 1800}},
    "autoRollbackConfiguration": {"alarms": [{"alarmName": "fraud-scorer-5xx"}]}}


def endpoint(deployment=CANARY, **config_changes) -> list:
    return endpoint_config(**config_changes) + [res("aws:sagemaker/endpoint:Endpoint", "fraud-scorer", {
        "name": "fraud-scorer", "endpointConfigName": "fraud-scorer-config",
        **({"deploymentConfig": deployment} if deployment else {})})]


MONITOR = res("aws:sagemaker/monitoringSchedule:MonitoringSchedule", "fraud-scorer-drift", {
    "name": "fraud-scorer-drift", "monitoringScheduleConfig": {
        "monitoringJobDefinitionName": "fraud-scorer-dq", "monitoringType": "DataQuality",
        "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"}}})
DQ_JOB = res("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", "fraud-scorer-dq", {
    "name": "fraud-scorer-dq", "dataQualityJobInput": {"endpointInput": {"endpointName": "fraud-scorer"}}})


def model(**primary) -> list:
    return [res("aws:sagemaker/model:Model", "fraud-scorer-model", {"primaryContainer": primary,
                                                                    "enableNetworkIsolation": True})]


PACKAGE = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/fraud-scorer/3"
COMPUTE = "aws:batch/computeEnvironment:ComputeEnvironment"


def compute_env(types=("g5.12xlarge",), vcpus=96, kind="SPOT", name="fraud-gpu") -> list:
    return [res(COMPUTE, name, {"type": "MANAGED", "computeResources": {
        "type": kind, "instanceTypes": list(types), "maxVcpus": vcpus, "subnets": ["subnet-1"]}})]


def cluster_queue(gpus: int) -> list:
    return [res("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "fraud-cq", {
        "metadata": {"name": "fraud-gpu", "labels": {"team": TEAM}},
        "spec": {"resourceGroups": [{"coveredResources": ["nvidia.com/gpu"], "flavors": [
            {"name": "g5", "resources": [{"name": "nvidia.com/gpu", "nominalQuota": gpus}]}]}]}})]


def launch_template(**changes) -> list:
    inputs = {"instanceType": "g5.2xlarge", "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2},
              "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY_ARN}}]}
    inputs.update(changes)
    return [res("aws:ec2/launchTemplate:LaunchTemplate", "fraud-lt", inputs)]


def budget(**changes) -> list:
    inputs = {"budgetType": "COST", "limitAmount": "25000.00", "limitUnit": "USD", "timeUnit": "MONTHLY",
              "costFilters": [{"name": "TagKeyValue", "values": [f"user:team${TEAM}"]}],
              "notifications": [{"comparisonOperator": "GREATER_THAN", "threshold": 80, "thresholdType": "PERCENTAGE",
                                 "notificationType": "ACTUAL", "subscriberEmailAddresses": ["ml@example.com"]}]}
    inputs.update(changes)
    return [team_component(), res("aws:budgets/budget:Budget", "fraud-budget", inputs)]


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


def scaling(with_schedule: bool) -> list:
    target = res("aws:appautoscaling/target:Target", "fraud-scorer-scaling", {
        "serviceNamespace": "sagemaker", "resourceId": "endpoint/fraud-scorer/variant/main",
        "scalableDimension": "sagemaker:variant:DesiredInstanceCount", "minCapacity": 2, "maxCapacity": 10})
    action = res("aws:appautoscaling/scheduledAction:ScheduledAction", "fraud-scorer-night", {
        "serviceNamespace": "sagemaker", "resourceId": "endpoint/fraud-scorer/variant/main",
        "scalableDimension": "sagemaker:variant:DesiredInstanceCount", "schedule": "cron(0 22 * * ? *)",
        "scalableTargetAction": {"minCapacity": 1, "maxCapacity": 2}})
    return [target, action] if with_schedule else [target]


EXEMPTION = {"team": TEAM, "rule": "MLP-GOV-001", "resource": None, "approvedBy": "security@example.com",
             "reason": "A documented, approved reason for the exemption."}

V = base_values
# (rule, resources, config values, violates)
CASES: list[tuple[str, str, Callable[[], list], dict, bool]] = [
    ("MLP-S3-001", "kms-key-from-stack", lambda: bucket_set(), V(), False),
    ("MLP-S3-001", "literal-cmk-arn", lambda: bucket_set(sse={"rules": [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}, "bucketKeyEnabled": True}]}), V(), False),
    ("MLP-S3-001", "aes256", lambda: bucket_set(sse={"rules": [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "AES256"}}]}), V(), True),
    ("MLP-S3-001", "aws-managed-key", lambda: bucket_set(sse={"rules": [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": "alias/aws/s3"}, "bucketKeyEnabled": True}]}), V(), True),
    ("MLP-S3-001", "unknown-key-not-from-kms", lambda: without_dependencies(bucket_set(), "fraud-sse"), V(), True),
    ("MLP-S3-001", "no-encryption", lambda: bucket_set(drop=("sse",)), V(), True),
    # S3 log delivery writes only to SSE-S3 buckets: a log target may (only) use AES256
    ("MLP-S3-001", "access-log-target-sse-s3", lambda: bucket_set(sse={"rules": [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "AES256"}}]}) + [res("aws:s3/bucketLogging:BucketLogging", "other-logging", {
            "bucket": "other-bucket", "targetBucket": NAME, "targetPrefix": "s3/other-bucket/"})], V(), False),
    # ... also when the plan holds the target but none of its sources (a partial plan):
    # its own policy letting S3 log delivery write makes it a log target
    ("MLP-S3-001", "log-delivery-policy-sse-s3", lambda: bucket_set(
        sse={"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        policy={"policy": policy(TLS, {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                                       "Action": "s3:PutObject", "Resource": f"{ARN}/*"})}), V(), False),
    ("MLP-S3-001", "other-service-policy-sse-s3", lambda: bucket_set(
        sse={"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        policy={"policy": policy(TLS, {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                       "Action": "s3:PutObject", "Resource": f"{ARN}/*"})}), V(), True),
    ("MLP-S3-002", "all-blocked", lambda: bucket_set(), V(), False),
    ("MLP-S3-002", "flag-off", lambda: bucket_set(pab={"ignorePublicAcls": False}), V(), True),
    ("MLP-S3-002", "acls-enabled", lambda: bucket_set(drop=("ownership",)), V(), True),
    ("MLP-S3-003", "tls-only", lambda: bucket_set(), V(), False),
    ("MLP-S3-003", "no-tls-deny", lambda: bucket_set(policy={"policy": policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": ARN})}), V(), True),
    ("MLP-S3-003", "public-allow", lambda: bucket_set(policy={"policy": policy(
        TLS, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{ARN}/*"})}), V(), True),
    ("MLP-S3-004", "versioned", lambda: bucket_set(), V(), False),
    ("MLP-S3-004", "unversioned", lambda: bucket_set(drop=("versioning",)), V(), True),
    ("MLP-S3-005", "logged", lambda: bucket_set(), V(), False),
    ("MLP-S3-005", "unlogged", lambda: bucket_set(drop=("logging",)), V(), True),
    ("MLP-S3-005", "log-target-itself", lambda: bucket_set(drop=("logging",)) + [res(
        "aws:s3/bucketLogging:BucketLogging", "other-logging", {"bucket": "other", "targetBucket": NAME})], V(), False),
    ("MLP-S3-005", "log-delivery-policy-itself", lambda: bucket_set(drop=("logging",), policy={"policy": policy(
        TLS, {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
              "Resource": f"{ARN}/*"})}), V(), False),
    ("MLP-KMS-001", "rotating", lambda: key(), V(), False),
    ("MLP-KMS-001", "no-rotation", lambda: key(enableKeyRotation=False), V(), True),
    ("MLP-KMS-001", "short-deletion-window", lambda: key(deletionWindowInDays=7), V(), True),
    ("MLP-KMS-002", "explicit-policy", lambda: key(), V(), False),
    ("MLP-KMS-002", "no-policy", lambda: key(policy=None), V(), True),
    ("MLP-KMS-002", "public-principal", lambda: key(policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"})), V(), True),
    ("MLP-ENC-001", "feature-group-key-from-stack", lambda: feature_group(), V(), False),
    ("MLP-ENC-001", "feature-group-key-unknown-origin", lambda: feature_group(deps={}), V(), True),
    ("MLP-ENC-001", "feature-group-online-no-key", lambda: feature_group(online_key=None), V(), True),
    ("MLP-ENC-001", "endpoint-config-cmk", lambda: endpoint_config(), V(), False),
    ("MLP-ENC-001", "endpoint-config-no-key", lambda: endpoint_config("ml.m5.xlarge", kmsKeyArn=None), V(), True),
    # SageMaker takes no volume key where there is no volume: local NVMe instance storage, serverless
    ("MLP-ENC-001", "endpoint-config-nvme-without-volume-key", lambda: endpoint_config(kmsKeyArn=None), V(), False),
    ("MLP-ENC-001", "endpoint-config-serverless-without-volume-key", lambda: endpoint_config(
        kmsKeyArn=None, productionVariants=[{"variantName": "main", "modelName": "fraud-scorer-model",
                                             "serverlessConfig": {"memorySizeInMb": 2048, "maxConcurrency": 5}}]),
     V(), False),
    ("MLP-ENC-001", "endpoint-config-unknown-type-without-key", lambda: endpoint_config("ml.x9.huge", kmsKeyArn=None),
     V(), True),
    # a CPU variant beside a local-NVMe shadow: SageMaker rejects any KmsKeyId (one definition with checkov's skip)
    ("MLP-ENC-001", "endpoint-config-mixed-nvme-without-volume-key", lambda: endpoint_config(
        "ml.m5.xlarge", kmsKeyArn=None, shadowProductionVariants=[
            {"variantName": "shadow", "instanceType": "ml.g5.xlarge", "initialInstanceCount": 1,
             "modelName": "fraud-scorer-model"}]), V(), False),
    ("MLP-ENC-001", "topic-cmk", lambda: [res("aws:sns/topic:Topic", "t", {"kmsMasterKeyId": KEY_ARN})], V(), False),
    ("MLP-ENC-001", "topic-aws-managed", lambda: [res("aws:sns/topic:Topic", "t", {"kmsMasterKeyId": "alias/aws/sns"})],
     V(), True),
    ("MLP-ENC-001", "log-group-cmk", lambda: [res(LOG_GROUP, "lg", {"kmsKeyId": KEY_ARN, "retentionInDays": 400})],
     V(), False),
    ("MLP-ENC-001", "log-group-no-key", lambda: [res(LOG_GROUP, "lg", {"retentionInDays": 400})], V(), True),
    ("MLP-ENC-001", "ecr-aes256", lambda: [res("aws:ecr/repository:Repository", "r", {
        "encryptionConfigurations": [{"encryptionType": "AES256"}]})], V(), True),
    ("MLP-ENC-001", "launch-template-encrypted", lambda: launch_template(), V(), False),
    ("MLP-ENC-001", "launch-template-unencrypted", lambda: launch_template(
        blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]), V(), True),
    ("MLP-TAG-001", "tagged", lambda: key(), V(), False),
    ("MLP-TAG-001", "missing-cost-center", lambda: [provider(**{"cost-center": ""})] + key(), V(), True),
    ("MLP-TAG-001", "bad-classification", lambda: [provider(**{"data-classification": "secret"})] + key(), V(), True),
    ("MLP-TAG-001", "wrong-environment", lambda: key(), V(environment="dev"), True),
    ("MLP-IAM-001", "scoped", lambda: role_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{ARN}/*"}),
     V(), False),
    ("MLP-IAM-001", "star-on-star", lambda: role_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}), V(), True),
    ("MLP-IAM-001", "service-star-on-star", lambda: role_policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
     V(), True),
    ("MLP-IAM-001", "admin-attachment", lambda: [res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {
        "role": "fraud-role", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})], V(), True),
    ("MLP-IAM-003", "human-with-mfa", lambda: role(HUMAN), V(), False),
    ("MLP-IAM-003", "service-role", lambda: role(SERVICE), V(), False),
    ("MLP-IAM-003", "human-without-mfa", lambda: role({**HUMAN, "Condition": {}}), V(), True),
    ("MLP-IAM-003", "long-sessions", lambda: role(HUMAN, maxSessionDuration=43200), V(), True),
    ("MLP-IAM-005", "boundary", lambda: role(SERVICE), V(), False),
    ("MLP-IAM-005", "no-boundary", lambda: role(SERVICE, permissionsBoundary=None), V(), True),
    ("MLP-IAM-005", "stack-without-boundary", lambda: role(SERVICE, permissionsBoundary=None),
     V(permissionsBoundaryArn=None), False),
    ("MLP-REG-001", "eu-region", lambda: key(), V(), False),
    ("MLP-REG-001", "us-provider", lambda: [provider(region="us-east-1")] + key(), V(), True),
    ("MLP-REG-001", "arn-elsewhere", lambda: [res("aws:sns/topic:Topic", "t", {
        "kmsMasterKeyId": KEY_ARN.replace("eu-west-1", "us-west-2")})], V(), True),
    ("MLP-REG-001", "narrowed-by-classification", lambda: [provider(region="eu-central-1")] + key(),
     V(classificationRegions={"restricted": ["eu-west-1"]}), True),
    ("MLP-CMP-001", "allowed-serving", lambda: endpoint_config(), V(), False),
    ("MLP-CMP-001", "disallowed-serving", lambda: endpoint_config("ml.p4d.24xlarge"), V(), True),
    ("MLP-CMP-001", "disallowed-training", lambda: compute_env(types=("p3.2xlarge",)), V(), True),
    ("MLP-CMP-002", "within-ceiling", lambda: [team_component()] + compute_env(vcpus=96), V(), False),
    ("MLP-CMP-002", "team-over-ceiling", lambda: [team_component()] + compute_env(vcpus=480), V(), True),
    ("MLP-CMP-002", "stack-over-ceiling", lambda: cluster_queue(12) + compute_env(vcpus=96), V(perStack=16), True),
    ("MLP-CMP-003", "imdsv2", lambda: launch_template(), V(), False),
    ("MLP-CMP-003", "imdsv1", lambda: launch_template(metadataOptions={"httpTokens": "optional"}), V(), True),
    ("MLP-CMP-003", "public-ip", lambda: launch_template(networkInterfaces=[{"associatePublicIpAddress": "true"}]),
     V(), True),
    ("MLP-SM-001", "canary", lambda: endpoint(), V(), False),
    ("MLP-SM-001", "all-at-once", lambda: endpoint(deployment=None), V(), True),
    ("MLP-SM-001", "canary-too-big", lambda: endpoint(deployment={**CANARY, "blueGreenUpdatePolicy": {
        "trafficRoutingConfiguration": {"type": "CANARY", "canarySize": {"type": "CAPACITY_PERCENT", "value": 25},
                                        "waitIntervalInSeconds": 600}}}), V(), True),
    ("MLP-SM-001", "no-rollback-alarms", lambda: endpoint(deployment={**CANARY, "autoRollbackConfiguration": {}}),
     V(), True),
    ("MLP-SM-001", "low-risk-team", lambda: endpoint(deployment=None),
     V(teams={TEAM: {"riskTier": "low", "residency": "eu", "dataClassification": "internal"}}), False),
    ("MLP-SM-001", "not-production", lambda: endpoint(deployment=None), V(environment="dev"), False),
    ("MLP-SM-001", "async-endpoint", lambda: endpoint(deployment=None, asyncInferenceConfig={
        "outputConfig": {"s3OutputPath": f"s3://{NAME}/async", "kmsKeyId": KEY_ARN}}), V(), False),
    ("MLP-SM-002", "capture-on", lambda: endpoint_config(), V(), False),
    ("MLP-SM-002", "capture-off", lambda: endpoint_config(dataCaptureConfig=None), V(), True),
    ("MLP-SM-002", "input-only", lambda: endpoint_config(dataCaptureConfig={
        **CAPTURE, "captureOptions": [{"captureMode": "Input"}]}), V(), True),
    ("MLP-SM-003", "monitored", lambda: endpoint() + [MONITOR, DQ_JOB], V(), False),
    ("MLP-SM-003", "unmonitored", lambda: endpoint(), V(), True),
    ("MLP-SM-004", "registry-package", lambda: model(modelPackageName=PACKAGE), V(), False),
    ("MLP-SM-004", "raw-image", lambda: model(image=f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/fraud:1"), V(), True),
    ("MLP-SM-004", "foreign-registry", lambda: model(modelPackageName=PACKAGE.replace(ACCOUNT, "999988887777")),
     V(), True),
    ("MLP-ADV-002", "off-peak-schedule", lambda: scaling(True), V(), False),
    ("MLP-ADV-002", "always-on", lambda: scaling(False), V(), True),
    ("MLP-BUD-001", "budget", lambda: budget(), V(), False),
    ("MLP-BUD-001", "no-budget", lambda: [team_component()], V(), True),
    ("MLP-BUD-001", "budget-alerts-nobody", lambda: budget(notifications=[]), V(), True),
    ("MLP-RET-001", "bounded", lambda: [res(LOG_GROUP, "lg", {"kmsKeyId": KEY_ARN, "retentionInDays": 400})], V(), False),
    ("MLP-RET-001", "forever", lambda: [res(LOG_GROUP, "lg", {"kmsKeyId": KEY_ARN})], V(), True),
    ("MLP-RET-001", "too-short-for-restricted", lambda: [res(LOG_GROUP, "lg", {"kmsKeyId": KEY_ARN,
                                                                               "retentionInDays": 30})], V(), True),
    ("MLP-RET-002", "bounded-pii", lambda: feature_group() + bucket_set()[1:], V(**PII_FACTS), False),
    ("MLP-RET-002", "pii-without-ttl", lambda: feature_group(ttl=None) + bucket_set()[1:], V(**PII_FACTS), True),
    # the offline store's objects live under its URI: a rule on that folder covers them
    ("MLP-RET-002", "pii-expired-by-folder-rule", lambda: feature_group() + bucket_set(lifecycle={"rules": [
        {"id": "r", "status": "Enabled", "filter": {"prefix": f"feature-store/{FG_NAME}/"},
         "expiration": {"days": 365}}]})[1:], V(**PII_FACTS), False),
    ("MLP-RET-002", "pii-rule-on-another-folder", lambda: feature_group() + bucket_set(lifecycle={"rules": [
        {"id": "r", "status": "Enabled", "filter": {"prefix": f"feature-store/{FG_NAME}-v2/"},
         "expiration": {"days": 365}}]})[1:], V(**PII_FACTS), True),
    ("MLP-RET-002", "pii-kept-too-long", lambda: feature_group() + bucket_set(lifecycle={"rules": [
        {"id": "r", "status": "Enabled", "filter": {}, "expiration": {"days": 4000}}]})[1:], V(**PII_FACTS), True),
    ("MLP-FS-001", "tagged-pii", lambda: feature_group(), V(**PII_FACTS), False),
    ("MLP-FS-001", "untagged-pii", lambda: feature_group(tags={}), V(**PII_FACTS), True),
    ("MLP-FS-001", "access-by-attributes", lambda: feature_group() + role_policy({
        "Effect": "Allow", "Action": ["sagemaker:GetRecord"], "Resource": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:feature-group/*",
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}), V(**PII_FACTS), False),
    ("MLP-FS-001", "access-without-attributes", lambda: feature_group() + role_policy({
        "Effect": "Allow", "Action": ["sagemaker:GetRecord"],
        "Resource": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:feature-group/{FG_NAME}"}), V(**PII_FACTS), True),
    ("MLP-PROT-001", "protected", lambda: bucket_set(), V(), False),
    ("MLP-PROT-001", "unprotected", lambda: key(protect=False), V(), True),
    ("MLP-PROT-001", "force-destroy", lambda: bucket_set(bucket={"forceDestroy": True}), V(), True),
    ("MLP-PROT-001", "not-production", lambda: key(protect=False), V(environment="dev", environments=["prod"]),
     False),
    ("MLP-ECR-001", "immutable-scanned", lambda: [res("aws:ecr/repository:Repository", "r", {
        "imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}})], V(), False),
    ("MLP-ECR-001", "mutable", lambda: [res("aws:ecr/repository:Repository", "r", {
        "imageTagMutability": "MUTABLE", "imageScanningConfiguration": {"scanOnPush": True}})], V(), True),
    ("MLP-ECR-001", "unscanned", lambda: [res("aws:ecr/repository:Repository", "r", {
        "imageTagMutability": "IMMUTABLE"})], V(), True),
    ("MLP-ADV-001", "spot", lambda: compute_env(kind="SPOT"), V(), False),
    ("MLP-ADV-001", "on-demand", lambda: compute_env(kind="EC2"), V(), True),
    ("MLP-GOV-001", "valid-exemption", lambda: [team_component()],
     V(allExemptions=[{**EXEMPTION, "expires": "2027-01-31"}]), False),
    ("MLP-GOV-001", "expired-exemption", lambda: [team_component()],
     V(allExemptions=[{**EXEMPTION, "expires": "2026-11-25"}]), True),
    ("MLP-GOV-001", "exemption-without-approver", lambda: [team_component()],
     V(allExemptions=[{**EXEMPTION, "approvedBy": "", "expires": "2027-01-31"}]), True),
]


@pytest.mark.parametrize("rule_id,resources,values,violates",
                         [pytest.param(rule, build, values, bad, id=f"{rule}-{name}") for rule, name, build, values, bad in CASES])
def test_rule(rule_id, resources, values, violates):
    report = run(graph_of(*resources()), values)
    problems = failures(report, rule_id)
    deferred = [r for r in report.results if r.status == SKIPPED and r.rule.id == rule_id]
    assert not deferred, deferred
    if violates:
        assert problems, [(r.rule.id, r.status, r.message, r.resource_name) for r in report.results
                          if r.status != "passed"]
        assert all(p.urn is None or p.urn.startswith("urn:pulumi:") for p in problems)
    else:
        assert not problems, [p.message for p in problems]


def test_every_served_rule_has_compliant_and_violating_cases():
    """Counted over this module's cases and those of the rule modules tested on their own
    (the serving edge, tests/test_policy_edge.py)."""
    from .test_policy_edge import EDGE_CASES

    served = {policy.name for policy in shared_pack().info().policies}
    good = {rule for rule, _, _, _, bad in CASES + EDGE_CASES if not bad}
    bad = {rule for rule, _, _, _, bad in CASES + EDGE_CASES if bad}
    assert served == good == bad


def test_analyzer_info_lists_every_rule_with_metadata():
    info = shared_pack().info()
    assert info.name == "mlplatform-guardrails" and info.supportsConfig
    assert len(info.policies) >= 27
    for policy in info.policies:
        assert re.fullmatch(r"MLP-[A-Z0-9]+-[0-9]{3}", policy.name)
        assert policy.description and policy.displayName and policy.remediation_steps
        assert policy.enforcementLevel in (analyzer_pb2.MANDATORY, analyzer_pb2.ADVISORY)
        assert policy.severity != analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED
        assert "environment" in policy.configSchema.properties
        level = next(tag for tag in policy.tags if tag.startswith("level:"))
        expected = analyzer_pb2.ADVISORY if level == "level:A" else analyzer_pb2.MANDATORY
        assert policy.enforcementLevel == expected
    names = {policy.name for policy in info.policies}
    assert {"MLP-S3-001", "MLP-ENC-001", "MLP-TAG-001", "MLP-IAM-001", "MLP-REG-001", "MLP-CMP-002",
            "MLP-SM-001", "MLP-BUD-001", "MLP-PROT-001", "MLP-GOV-001", "MLP-ADV-001"} <= names


# ------------------------------------------------------------------ protocol details

def test_prod_only_rule_is_advisory_outside_production():
    graph = graph_of(*bucket_set(drop=("versioning",)))
    assert {p.enforcement for p in failures(run(graph, V(environment="prod")), "MLP-S3-004")} == {MANDATORY}
    assert {p.enforcement for p in failures(run(graph, V(environment="dev")), "MLP-S3-004")} == {ADVISORY}


def test_unknown_policy_document_is_deferred_not_passed():
    graph = graph_of(*[res("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r", "policy": UNKNOWN})])
    report = run(graph)
    skipped = [r for r in report.results if r.status == SKIPPED and r.rule.id == "MLP-IAM-001"]
    assert skipped and "during preview" in skipped[0].message
    assert skipped[0].justification["deferred"]
    assert not [r for r in report.results if r.rule.id == "MLP-IAM-001" and r.status == "passed"]


def test_secret_values_cross_the_wire_as_secrets():
    graph = graph_of(res("aws:sns/topic:Topic", "t", {"kmsMasterKeyId": KEY_ARN, "deliveryPolicy": secret_marker()}))
    report = run(graph)
    assert not failures(report, "MLP-ENC-001") and not failures(report, "MLP-TAG-001")


def test_findings_point_at_urn_and_spec_line():
    graph = graph_of(*key(enableKeyRotation=False))
    [problem] = failures(run(graph), "MLP-KMS-001")
    assert problem.urn == KEY_URN and problem.file == "examples/teams/fraud.yaml" and problem.line == 10
    assert problem.team == TEAM and problem.rule.remediation


# ------------------------------------------------------------------ exemptions

def _ecr_exemption(expires: str) -> dict:
    return {"team": TEAM, "rule": "MLP-ECR-001", "resource": "r", "reason": "Legacy image pipeline, migration planned.",
            "approvedBy": "security@example.com", "expires": expires, "file": "examples/teams/fraud.yaml", "line": 40}


MUTABLE = [res("aws:ecr/repository:Repository", "r", {"imageTagMutability": "MUTABLE",
                                                     "imageScanningConfiguration": {"scanOnPush": True}}),
           team_component()]


def test_valid_exemption_is_honoured_and_reported():
    exemption = _ecr_exemption("2027-03-01")
    values = V(allExemptions=[{k: v for k, v in exemption.items() if k not in ("file", "line")}])
    report = run(graph_of(*MUTABLE), values, exemptions=[exemption])
    assert not failures(report, "MLP-ECR-001") and not failures(report, "MLP-GOV-001")
    [exempted] = [r for r in report.results if r.status == EXEMPTED]
    assert exempted.rule.id == "MLP-ECR-001" and exempted.resource_name == "r"
    assert exempted.justification == {"reason": exemption["reason"], "approvedBy": "security@example.com",
                                      "expires": "2027-03-01"}


def test_expired_exemption_is_not_honoured_and_is_a_violation():
    exemption = _ecr_exemption("2026-11-01")
    values = V(allExemptions=[{k: v for k, v in exemption.items() if k not in ("file", "line")}])
    report = run(graph_of(*MUTABLE), values, exemptions=[exemption])
    assert failures(report, "MLP-ECR-001") and failures(report, "MLP-GOV-001")
    assert not [r for r in report.results if r.status == EXEMPTED]


def test_exemption_expiry_follows_the_injected_date():
    exemption = _ecr_exemption("2026-12-31")
    values = V(allExemptions=[{k: v for k, v in exemption.items() if k not in ("file", "line")}])
    before = run(graph_of(*MUTABLE), values, exemptions=[exemption], today=datetime.date(2026, 12, 31))
    after = run(graph_of(*MUTABLE), {**values, "today": "2027-01-01"}, exemptions=[exemption],
                today=datetime.date(2027, 1, 1))
    assert not failures(before, "MLP-ECR-001") and failures(after, "MLP-ECR-001")


def test_exemption_for_another_resource_does_not_apply():
    exemption = {**_ecr_exemption("2027-03-01"), "resource": "other"}
    values = V(allExemptions=[{k: v for k, v in exemption.items() if k not in ("file", "line")}])
    assert failures(run(graph_of(*MUTABLE), values, exemptions=[exemption]), "MLP-ECR-001")


def test_concurrent_first_analysis_still_sees_taggable_types():
    """The pack serves Analyze calls on several threads; the first calls for many types at
    once (pulumi-aws modules imported concurrently) must still judge tags."""
    from mlplatform.policy.config import build_policy_config
    from mlplatform.policy.runner import evaluate, findings
    from mlplatform.policy.server import PackServer

    types = ["aws:sns/topic:Topic", "aws:cloudwatch/logGroup:LogGroup", "aws:ecr/repository:Repository",
             "aws:kms/key:Key", "aws:sagemaker/model:Model", "aws:batch/computeEnvironment:ComputeEnvironment",
             "aws:ec2/launchTemplate:LaunchTemplate", "aws:sagemaker/endpoint:Endpoint"]
    graph = graph_of(provider(**{"cost-center": ""}),
                     *[res(kind, f"r{index}-{n}", {}) for index, kind in enumerate(types) for n in range(8)])
    with PackServer() as server:
        config = build_policy_config(server.info(), base_values())
        report = findings(evaluate(server, graph, config), graph, config, [], datetime.date(2026, 11, 26))
    flagged = {r.resource_type for r in failures(report, "MLP-TAG-001")}
    assert flagged == set(types)
