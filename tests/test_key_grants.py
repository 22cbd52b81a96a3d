"""Key grants the runtime needs (issue 14): Batch instances launch with EBS encrypted by the
team key (defect 3), and S3 replication can use both keys under S3 Bucket Keys (defect 7)."""

from __future__ import annotations

import json

import pytest

from components.artifact_store import artifact_bucket_name, replica_bucket_name
from mlplatform.stackconfig import load_stack_config
from tests.helpers.dataplane import by_type, capture_with_key_arns, one, statements
from tests.helpers.dataplane import key_arn as mocked_key_arn

PROD = load_stack_config("prod")
ACCOUNT = PROD.account_id
AUTO_SCALING = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
SPOT_FLEET = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/spotfleet.amazonaws.com/AWSServiceRoleForEC2SpotFleet"
SPOT = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot"
#: What the EC2 Auto Scaling User Guide's key policy for encrypted volumes allows the role.
EBS_USE = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}


@pytest.fixture(scope="module")
def prod_with_key_arns():
    return capture_with_key_arns("prod")


def as_list(value):
    return [value] if isinstance(value, str) else list(value)


def allowed(policy: dict, principal: str, action: str) -> list[dict]:
    """The Allow statements of ``policy`` granting ``action`` (exactly or by a trailing
    wildcard) to the AWS principal ``principal``."""
    found = []
    for statement in policy.values():
        if statement["Effect"] != "Allow" or principal not in as_list(statement.get("Principal", {}).get("AWS", [])):
            continue
        if any(granted == action or (granted.endswith("*") and action.startswith(granted[:-1]))
               for granted in as_list(statement["Action"])):
            found.append(statement)
    return found


def test_every_launch_template_key_lets_batch_launchers_use_it(prod_with_key_arns):
    graph = prod_with_key_arns
    keys = {key.urn: key for key in by_type(graph, "aws:kms/key:Key")}
    arn_to_key = {mocked_key_arn(key.name): key for key in keys.values()}  # the ARNs the mocks give keys
    templates = by_type(graph, "aws:ec2/launchTemplate:LaunchTemplate")
    assert templates, "the prod estate has Batch queues"
    spot_queues = {ce.parent for ce in by_type(graph, "aws:batch/computeEnvironment:ComputeEnvironment")
                   if ce.inputs["computeResources"]["type"] == "SPOT"}
    for template in templates:
        key_arn = template.inputs["blockDeviceMappings"][0]["ebs"]["kmsKeyId"]
        policy = statements(arn_to_key[key_arn])
        launchers = [AUTO_SCALING] + ([SPOT_FLEET, SPOT] if template.parent in spot_queues else [])
        for launcher in launchers:
            for action in EBS_USE:
                assert allowed(policy, launcher, action), f"{template.name}: {launcher} lacks {action}"
            grants = allowed(policy, launcher, "kms:CreateGrant")
            assert grants and all(g["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}} for g in grants)


def test_batch_launchers_get_no_more_than_the_documented_use(prod_with_key_arns):
    policy = statements(one(prod_with_key_arns, "aws:kms/key:Key", "fraud-detection-artifacts-key"))
    granted = {action for statement in policy.values()
               if AUTO_SCALING in as_list(statement["Principal"].get("AWS", []))
               for action in as_list(statement["Action"])}
    assert granted == EBS_USE | {"kms:CreateGrant"}


def test_team_without_batch_queue_grants_no_launcher(prod_with_key_arns):
    queues = {r.name for r in by_type(prod_with_key_arns, "mlplatform:training:BatchQueue")}
    assert not any(name.startswith("recommendations-") for name in queues)
    policy = statements(one(prod_with_key_arns, "aws:kms/key:Key", "recommendations-artifacts-key"))
    assert not allowed(policy, AUTO_SCALING, "kms:Decrypt")


def _condition_values(statement: dict, key: str) -> list[str]:
    for operator, entries in statement.get("Condition", {}).items():
        if key in entries:
            return as_list(entries[key])
    return []


@pytest.mark.parametrize("sid, bucket", [
    ("DecryptSource", artifact_bucket_name(PROD, "fraud-detection")),
    ("EncryptReplica", replica_bucket_name(PROD, "fraud-detection", "eu-central-1")),
])
def test_replication_kms_statements_match_the_bucket_key_encryption_context(prod_with_key_arns, sid, bucket):
    """Both buckets use S3 Bucket Keys, so S3 asks KMS with the *bucket* ARN as
    ``aws:s3:arn`` encryption context; a condition on the object ARN pattern never matches."""
    policy = statements(one(prod_with_key_arns, "aws:iam/rolePolicy:RolePolicy", "fraud-detection-artifacts-replica-role-policy"))
    statement = policy[sid]
    patterns = _condition_values(statement, "kms:EncryptionContext:aws:s3:arn")
    operator = next(op for op, entries in statement["Condition"].items() if "kms:EncryptionContext:aws:s3:arn" in entries)
    assert operator in ("StringLike", "StringEquals", "ArnLike", "ArnEquals")
    context = f"arn:aws:s3:::{bucket}"
    assert any(pattern == context or (pattern.endswith("*") and context.startswith(pattern[:-1]))
               for pattern in patterns), patterns
    assert all(pattern.startswith(context) for pattern in patterns)  # never another bucket's objects


def test_replica_key_and_role_allow_the_decrypt_bucket_keys_need(prod_with_key_arns):
    """S3 decrypts a bucket key to verify it before encrypting replicas with it, so the
    replica key's policy and the role's policy must allow kms:Decrypt on the replica key."""
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/fraud-detection-prod-replication"
    replica_key = statements(one(prod_with_key_arns, "aws:kms/key:Key", "fraud-detection-artifacts-replica-key"))
    for action in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"):
        assert allowed(replica_key, role_arn, action), action
    role_policy = statements(one(prod_with_key_arns, "aws:iam/rolePolicy:RolePolicy",
                                 "fraud-detection-artifacts-replica-role-policy"))
    assert "kms:Decrypt" in as_list(role_policy["EncryptReplica"]["Action"])
    source_key = statements(one(prod_with_key_arns, "aws:kms/key:Key", "fraud-detection-artifacts-key"))
    assert not allowed(source_key, role_arn, "kms:Encrypt")  # reads the source, never writes it
    assert json.loads(one(prod_with_key_arns, "aws:iam/role:Role", "fraud-detection-artifacts-replica-role")
                      .inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
