"""MLP-ENC-* (customer-managed encryption at rest, ``policies/rules/enc.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import base_values, case_params, check_case, res
from tests.helpers.policy_resources import KEY_ARN, LOG_GROUP, endpoint_config, feature_group, launch_template

V = base_values
# (rule, case, resources, config values, violates)
CASES = [
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
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
