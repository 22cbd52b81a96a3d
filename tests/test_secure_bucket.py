"""components/secure_bucket.py: the one definition of a hardened bucket and of its grants, the one
TLS-only statement, and grants as methods of the resource that owns the access (issue 15, item 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi
import pytest

from components.iam import deny_insecure_transport, document
from components.managed_key import KeyAccess
from components.secure_bucket import (
    FIREHOSE_DELIVERY_ACTIONS,
    BucketAccess,
    SecureBucket,
    SecureBucketArgs,
    retention_rules,
)
from components.service_role import ServiceTrust, service_trust_policy
from mlplatform.capture import capture_program

COMPONENTS = Path(__file__).resolve().parent.parent / "components"
ACCOUNT = "111122223333"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234"


def _capture(program):
    return capture_program(program, "unit", {"aws:region": "eu-west-1"}, "unit")


def _by_type(graph) -> dict:
    found: dict = {}
    for resource in graph:
        found.setdefault(resource.type.rsplit(":", 1)[1], []).append(resource)
    return found


def _policy(resource) -> list[dict]:
    return json.loads(resource.inputs["policy"])["Statement"]


# ---------------------------------------------------------------------- the primitive's defaults


def test_every_hardening_resource_is_present_with_the_secure_values():
    def program():
        SecureBucket("b", SecureBucketArgs(bucket_name="org-b-123", kms_key_arn=KEY,
                                           lifecycle_rules=retention_rules(90), access_log_bucket="org-logs-123"),
                     pulumi.ResourceOptions(protect=True, retain_on_delete=True))

    resources = _by_type(_capture(program))
    (bucket,) = resources["Bucket"]
    assert bucket.name == "b" and bucket.inputs["bucket"] == "org-b-123"
    assert bucket.inputs["forceDestroy"] is False and "objectLockEnabled" not in bucket.inputs
    assert bucket.options["protect"] is True and bucket.options["retainOnDelete"] is True

    (ownership,) = resources["BucketOwnershipControls"]
    assert ownership.name == "b-ownership"
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    (block,) = resources["BucketPublicAccessBlock"]
    assert block.name == "b-public-access-block"
    assert all(block.inputs[flag] is True for flag in
               ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    (encryption,) = resources["BucketServerSideEncryptionConfiguration"]
    assert encryption.name == "b-encryption"
    assert encryption.inputs["rules"] == [{"applyServerSideEncryptionByDefault": {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}, "bucketKeyEnabled": True}]
    (versioning,) = resources["BucketVersioning"]
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    (lifecycle,) = resources["BucketLifecycleConfiguration"]
    assert versioning.urn in lifecycle.dependencies  # noncurrent-version rules need versioning first
    assert lifecycle.inputs["rules"][0]["expiration"] == {"days": 90}
    (events,) = resources["BucketNotification"]
    assert events.inputs["eventbridge"] is True
    (logging,) = resources["BucketLogging"]
    assert logging.name == "b-access-logging" and logging.inputs["targetBucket"] == "org-logs-123"
    assert logging.inputs["targetPrefix"] == "s3/org-b-123/"
    (policy,) = resources["BucketPolicy"]
    assert _policy(policy) == [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::org-b-123", "arn:aws:s3:::org-b-123/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    # configuration resources hold no data: never protected, same parent as the bucket
    for kind in ("BucketOwnershipControls", "BucketPublicAccessBlock", "BucketPolicy", "BucketVersioning"):
        assert resources[kind][0].options["protect"] is False, kind


def test_without_a_key_the_bucket_uses_sse_s3_and_the_caller_statements_follow_the_tls_deny():
    extra = BucketAccess("org-logs-123").grant_put("s3/")

    def program():
        SecureBucket("logs", SecureBucketArgs(bucket_name="org-logs-123", policy_statements=extra,
                                              bucket_resource_name="logs-bucket", logging_suffix="-logging",
                                              eventbridge_notifications=False),
                     pulumi.ResourceOptions())

    resources = _by_type(_capture(program))
    assert resources["Bucket"][0].name == "logs-bucket"
    assert resources["BucketServerSideEncryptionConfiguration"][0].inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    assert "BucketNotification" not in resources and "BucketLifecycleConfiguration" not in resources
    assert "BucketLogging" not in resources  # no log bucket given
    statements = _policy(resources["BucketPolicy"][0])
    assert [s.get("Sid") for s in statements] == ["DenyInsecureTransport", None]
    assert statements[1]["Action"] == ["s3:AbortMultipartUpload", "s3:PutObject"]


def test_a_policy_that_waits_for_an_apply_time_value_is_built_when_it_is_known():
    def program():
        key = pulumi.Output.from_input(KEY)
        SecureBucket("b", SecureBucketArgs(
            bucket_name="org-b-123", kms_key_arn=key,
            policy_statements=key.apply(lambda arn: BucketAccess("org-b-123").grant_read("models/"))),
            pulumi.ResourceOptions())

    statements = _policy(_by_type(_capture(program))["BucketPolicy"][0])
    assert statements[0]["Sid"] == "DenyInsecureTransport" and statements[1]["Action"] == "s3:GetObject"


# ---------------------------------------------------------------------- least-privilege grants


def test_grants_name_only_the_prefixes_asked_for():
    access = BucketAccess("b")
    [read] = [s.to_json() for s in access.grant_read("models/")]
    assert read == {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/models/*"}
    [put] = [s.to_json() for s in access.grant_put("jobs/", "models/")]
    assert put["Action"] == ["s3:AbortMultipartUpload", "s3:PutObject"]  # no read, no delete
    assert put["Resource"] == ["arn:aws:s3:::b/jobs/*", "arn:aws:s3:::b/models/*"]
    assert access.grant_read() == [] and access.grant_put() == []  # nothing asked, nothing granted


def test_read_write_lists_only_the_granted_prefixes_and_writes_only_the_write_prefixes():
    listing, read, write = [s.to_json() for s in BucketAccess("b").grant_read_write(("datasets/", "models/"),
                                                                                     ("models/",))]
    assert listing == {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
                       "Condition": {"StringLike": {"s3:prefix": ["datasets/*", "models/*"]}}}
    assert read["Resource"] == ["arn:aws:s3:::b/datasets/*", "arn:aws:s3:::b/models/*"]
    assert write["Resource"] == "arn:aws:s3:::b/models/*"
    actions = {a for s in (listing, read, write) for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not {a for a in actions if a.endswith("*") or "Delete" in a}


def test_firehose_delivery_is_the_documented_action_set_on_this_bucket_only():
    [statement] = [s.to_json() for s in BucketAccess("b").grant_firehose_delivery()]
    assert statement["Action"] == sorted(FIREHOSE_DELIVERY_ACTIONS)
    assert statement["Resource"] == ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]


def test_key_grants_name_the_key_by_alias_and_read_never_encrypts():
    key = KeyAccess("alias/team", "eu-west-1", ACCOUNT)
    decrypt, write = key.grant_decrypt().to_json(), key.grant_encrypt_decrypt().to_json()
    assert decrypt["Action"] == "kms:Decrypt"
    assert write["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    for statement in (decrypt, write):
        assert statement["Resource"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*"
        assert statement["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/team"}}
    narrowed = key.grant(["kms:Decrypt"], sid="S", conditions={"StringLike": {"k": "v"}}).to_json()
    assert set(narrowed["Condition"]) == {"ForAnyValue:StringEquals", "StringLike"}


def test_the_artifact_store_grants_its_bucket_and_key_together(dev_graph):
    """Every duty's store-access policy in the plan is exactly the store's grant: bucket
    statements for its prefixes and the key to match (read-only duties decrypt only)."""
    from components.identity import DUTIES

    policies = {r.name.rsplit("-", 3)[-3]: json.loads(r.inputs["policy"])["Statement"]
                for r in dev_graph if r.type == "aws:iam/rolePolicy:RolePolicy" and r.name.endswith("-store-access")}
    assert set(policies) >= set(DUTIES)
    for duty_name, statements in policies.items():
        key = statements[-1]
        assert key["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"].startswith("alias/")
        expected = "kms:Decrypt" if DUTIES[duty_name].read_only else ["kms:Decrypt", "kms:GenerateDataKey"]
        assert key["Action"] == expected, duty_name


# ---------------------------------------------------------------------- one TLS-only statement


def test_the_tls_only_statement_denies_plain_http_to_everyone():
    statement = json.loads(document(deny_insecure_transport("sns:Publish", "arn:aws:sns:r:1:t")))["Statement"][0]
    assert statement == {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                         "Resource": "arn:aws:sns:r:1:t", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def test_every_topic_and_bucket_policy_in_the_plan_denies_plain_http(prod_graph):
    kinds = {"aws:s3/bucketPolicy:BucketPolicy", "aws:sns/topicPolicy:TopicPolicy"}
    checked = 0
    for resource in prod_graph:
        policy = resource.inputs.get("policy")
        if resource.type not in kinds or not (isinstance(policy, str) and policy.startswith("{")):
            continue  # unknown in a preview: an artifact bucket's policy waits for its key's ARN
        checked += 1
        statements = json.loads(policy)["Statement"]
        assert any(s.get("Sid") == "DenyInsecureTransport" and s["Effect"] == "Deny"
                   and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements), resource.name
    assert checked > 5


# ---------------------------------------------------------------------- service roles

def test_a_trust_may_name_several_source_arns_and_uses_the_exact_operator_for_exact_arns():
    rules = ("arn:aws:events:eu-west-1:1:rule/b", "arn:aws:events:eu-west-1:1:rule/a")
    [statement] = json.loads(service_trust_policy((ServiceTrust(service="events.amazonaws.com", source_arn=rules),),
                                                  ACCOUNT))["Statement"]
    assert statement["Condition"]["ArnEquals"] == {"aws:SourceArn": list(rules)}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    machine = json.loads(service_trust_policy((ServiceTrust(
        service="states.amazonaws.com", source_arn="arn:aws:states:eu-west-1:1:stateMachine:m"),), ACCOUNT))
    assert machine["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    with pytest.raises(ValueError, match="empty source_arn"):
        service_trust_policy((ServiceTrust(service="events.amazonaws.com", source_arn=()),), ACCOUNT)


# ---------------------------------------------------------------------- written once

#: Where each pattern may appear, and why.
ALLOWED = {
    r"aws:SecureTransport": {"iam.py": "the one TLS-only statement, deny_insecure_transport"},
    r"aws\.s3\.BucketPublicAccessBlock\(": {"secure_bucket.py": "the one hardened bucket"},
    r"aws\.s3\.BucketOwnershipControls\(": {"secure_bucket.py": "the one hardened bucket"},
    r"aws\.s3\.Bucket\(": {"secure_bucket.py": "the one hardened bucket"},
    r"aws\.iam\.Role\(": {
        "service_role.py": "the one role an AWS service assumes",
        "identity.py": "the human (consumer) role: people assume it with MFA and a session tag, which "
                       "no service trust expresses (human_trust_policy)",
    },
}


def offenders(directory: Path) -> list[str]:
    found = []
    for path in sorted(directory.glob("*.py")):
        text = path.read_text()
        for pattern, allowed in ALLOWED.items():
            if path.name not in allowed and re.search(pattern, text):
                found.append(f"{path.name}: {pattern}")
    return found


def test_security_statements_buckets_and_roles_are_defined_once():
    """No component spells the TLS condition, hardens a bucket or creates a role itself: each has
    exactly one definition (on main this lists foundation, artifact_store, log_forwarding,
    anomaly_detection, escalation and retraining)."""
    assert offenders(COMPONENTS) == []


def test_the_meta_test_sees_a_copy(tmp_path):
    (tmp_path / "copy.py").write_text('conditions={"Bool": {"aws:SecureTransport": "false"}}\n'
                                      'aws.iam.Role("r")\naws.s3.BucketPublicAccessBlock("p")\n')
    assert offenders(tmp_path) == ["copy.py: aws:SecureTransport", "copy.py: aws\\.s3\\.BucketPublicAccessBlock\\(",
                                   "copy.py: aws\\.iam\\.Role\\("]
