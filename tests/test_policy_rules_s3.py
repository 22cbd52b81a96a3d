"""MLP-S3-* (S3 buckets, ``policies/rules/s3.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import base_values, case_params, check_case, res
from tests.helpers.policy_resources import ARN, KEY_ARN, NAME, TLS, bucket_set, policy


def without_dependencies(resources: list, name: str) -> list:
    for resource in resources:
        if resource.name == name:
            resource.property_dependencies = {}
    return resources


V = base_values
# (rule, case, resources, config values, violates)
CASES = [
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
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
