"""ArtifactStore under the mock runtime: the security-relevant inputs, not just existence."""

from __future__ import annotations

import json

import pytest

from components.artifact_store import artifact_bucket_name, lifecycle_rules, object_lock_mode, replica_bucket_name
from components.foundation import platform_name
from mlplatform.graph import UNKNOWN
from mlplatform.spec.models import Artifacts
from mlplatform.stackconfig import RESIDENCY_REGIONS, load_stack_config

from .helpers.dataplane import by_type, capture_with_key_arns, key_arn, one, statements

BUCKET = "aws:s3/bucket:Bucket"
TEAMS = ("fraud-detection", "nlp-research", "recommendations")
DEV, PROD = load_stack_config("dev"), load_stack_config("prod")
PROD_ACCOUNT = PROD.account_id
FRAUD_PROD = artifact_bucket_name(PROD, "fraud-detection")
FRAUD_REPLICA = replica_bucket_name(PROD, "fraud-detection", "eu-central-1")


@pytest.fixture(scope="module")
def known_prod():
    return capture_with_key_arns("prod")


def test_bucket_policy_denies_plain_http_unencrypted_and_wrong_key_uploads(known_prod):
    policy = statements(one(known_prod, "aws:s3/bucketPolicy:BucketPolicy", "fraud-detection-artifacts-policy"))
    bucket = f"arn:aws:s3:::{FRAUD_PROD}"
    tls = policy["DenyInsecureTransport"]
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", "*", "s3:*")
    assert tls["Resource"] == [bucket, f"{bucket}/*"]
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    unencrypted = policy["DenyUploadsNotEncryptedWithKms"]
    assert (unencrypted["Effect"], unencrypted["Action"], unencrypted["Resource"]) == ("Deny", "s3:PutObject", f"{bucket}/*")
    assert unencrypted["Condition"] == {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}
    wrong_key = policy["DenyUploadsWithAnotherKey"]
    assert (wrong_key["Effect"], wrong_key["Principal"], wrong_key["Action"]) == ("Deny", "*", "s3:PutObject")
    assert wrong_key["Condition"] == {"StringNotEqualsIfExists": {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn("fraud-detection-artifacts-key")}}
    models = policy["RestrictModelDownload"]
    assert models["Resource"] == f"{bucket}/models/*"
    assert models["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [
        f"arn:aws:iam::{PROD_ACCOUNT}:role/fraud-detection-prod-serving",
        f"arn:aws:iam::{PROD_ACCOUNT}:role/fraud-detection-prod-training"]}}
    assert not any(s["Effect"] == "Allow" for s in policy.values())


def test_bucket_policy_waits_for_the_key_arn_in_a_preview(dev_graph):
    """The ARN exists only after apply: the policy is unknown during a preview, never a guess."""
    policy = one(dev_graph, "aws:s3/bucketPolicy:BucketPolicy", "fraud-detection-artifacts-policy")
    assert policy.inputs["policy"] == UNKNOWN
    key = one(dev_graph, "aws:kms/key:Key", "fraud-detection-artifacts-key")
    assert key.urn in policy.property_dependencies["policy"]


def test_every_bucket_logs_to_the_central_log_bucket_and_emits_events(dev_graph):
    for team in TEAMS:
        logging = one(dev_graph, "aws:s3/bucketLogging:BucketLogging", f"{team}-artifacts-access-logging")
        assert logging.inputs["bucket"] == artifact_bucket_name(DEV, team)
        assert logging.inputs["targetBucket"] == platform_name(DEV, "access-logs")
        assert logging.inputs["targetPrefix"] == f"s3/{artifact_bucket_name(DEV, team)}/"
        events = one(dev_graph, "aws:s3/bucketNotification:BucketNotification", f"{team}-artifacts-events")
        assert events.inputs["eventbridge"] is True
    logged = {r.inputs["bucket"] for r in by_type(dev_graph, "aws:s3/bucketLogging:BucketLogging")}
    buckets = {r.inputs["bucket"] for r in by_type(dev_graph, BUCKET)}
    assert buckets - logged == {platform_name(DEV, "access-logs")}  # the log target itself


def test_lifecycle_days_come_from_the_spec(dev_graph):
    rules = {r["id"]: r for r in one(dev_graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                                     "fraud-detection-artifacts-lifecycle").inputs["rules"]}
    for prefix in ("models", "datasets", "jobs", "data-capture", "baselines"):
        assert rules[f"retain-{prefix}"]["filter"] == {"prefix": f"{prefix}/"}
        assert rules[f"retain-{prefix}"]["expiration"] == {"days": 730}  # artifacts.retentionDays
        assert rules[f"retain-{prefix}"]["transitions"] == [{"days": 90, "storageClass": "GLACIER_IR"}]
    offline = rules["offline-fraud-detection-dev-transactions-v2"]
    assert offline["filter"] == {"prefix": "feature-store/fraud-detection-dev-transactions-v2/"}
    assert offline["expiration"] == {"days": 2555}  # offline.retentionDays, longer than the bucket's
    wide = rules["versions-and-uploads"]
    assert wide["filter"] == {} and wide["expiration"] == {"expiredObjectDeleteMarker": True}
    assert wide["noncurrentVersionExpiration"] == {"noncurrentDays": 180}
    assert wide["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    recs = {r["id"]: r for r in one(dev_graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                                    "recommendations-artifacts-lifecycle").inputs["rules"]}
    assert recs["offline-recommendations-dev-user-profile-v1"]["expiration"] == {"days": 365}  # unset: retentionDays
    assert "transitions" not in recs["retain-models"]
    assert recs["versions-and-uploads"]["noncurrentVersionExpiration"] == {"noncurrentDays": 90}  # default


def test_expiry_rules_never_overlap():
    rules = lifecycle_rules(Artifacts.model_validate({"retentionDays": 30}), {"feature-store/a-v1/": 400, "feature-store/b-v1/": 10})
    expiring = [r["filter"].get("prefix") for r in rules if "days" in r.get("expiration", {})]
    assert len(expiring) == len(set(expiring))
    assert not any(a != b and b.startswith(a) for a in expiring for b in expiring)


@pytest.mark.parametrize("classification,risk,mode", [
    ("restricted", "low", "COMPLIANCE"), ("public", "high", "COMPLIANCE"), ("confidential", "high", "COMPLIANCE"),
    ("confidential", "low", "GOVERNANCE"), ("internal", "medium", "GOVERNANCE"),
    ("internal", "low", None), ("public", "low", None),
])
def test_object_lock_mode_mapping(classification, risk, mode):
    assert object_lock_mode(classification, risk) == mode


def test_object_lock_per_team_classification(dev_graph):
    locks = {r.inputs["bucket"]: r for r in by_type(dev_graph, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")}
    fraud = locks.pop(artifact_bucket_name(DEV, "fraud-detection"))  # restricted, high risk
    assert fraud.inputs["rule"] == {"defaultRetention": {"mode": "COMPLIANCE", "days": 365}}  # objectLockDays
    recs = locks.pop(artifact_bucket_name(DEV, "recommendations"))  # confidential, medium
    assert recs.inputs["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 30}}  # default
    assert locks == {}  # nlp-research: internal, low risk
    for team in TEAMS:  # enabled at creation everywhere, so a change of tier never replaces a bucket
        assert one(dev_graph, BUCKET, f"{team}-artifacts-bucket").inputs["objectLockEnabled"] is True


def test_replication_only_when_the_stack_and_spec_ask(dev_graph, prod_graph):
    assert not by_type(dev_graph, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")  # dev: replication false
    configs = {r.name: r for r in by_type(prod_graph, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")}
    assert set(configs) == {"fraud-detection-artifacts-replica-config", "recommendations-artifacts-replica-config"}
    assert not [r for r in prod_graph if r.name.startswith("nlp-research-artifacts-replica")]  # spec opts out


def test_replica_lives_in_the_partner_region_of_the_same_residency(prod_graph):
    stack = load_stack_config("prod")
    replica = one(prod_graph, BUCKET, "fraud-detection-artifacts-replica-bucket")
    provider = next(r for r in prod_graph if r.urn == replica.provider)
    assert provider.inputs["region"] == stack.partner_region == "eu-central-1"
    assert stack.partner_region in RESIDENCY_REGIONS[stack.residency] and stack.partner_region != stack.region
    assert replica.inputs["bucket"] == FRAUD_REPLICA
    assert replica.options["protect"] and replica.options["retainOnDelete"]
    key = one(prod_graph, "aws:kms/key:Key", "fraud-detection-artifacts-replica-key")
    assert key.provider == provider.urn and key.inputs["enableKeyRotation"] is True
    encryption = one(prod_graph, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                     "fraud-detection-artifacts-replica-encryption")
    assert key.urn in encryption.property_dependencies["rules"]
    for side in ("fraud-detection-artifacts-versioning", "fraud-detection-artifacts-replica-versioning"):
        assert one(prod_graph, "aws:s3/bucketVersioning:BucketVersioning", side).inputs["versioningConfiguration"] == {
            "status": "Enabled"}
    logging = one(prod_graph, "aws:s3/bucketLogging:BucketLogging", "fraud-detection-artifacts-replica-access-logging")
    assert logging.provider == provider.urn
    assert logging.inputs["targetBucket"] == platform_name(PROD, "access-logs-eu-central-1")
    assert provider.inputs["defaultTags"]  # the team's billing tags, in the partner region too


def test_replication_rule_and_role_are_least_privilege(prod_graph):
    config = one(prod_graph, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "fraud-detection-artifacts-replica-config")
    rule = config.inputs["rules"][0]
    assert rule["destination"]["bucket"] == f"arn:aws:s3:::{FRAUD_REPLICA}"
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    replica_key = one(prod_graph, "aws:kms/key:Key", "fraud-detection-artifacts-replica-key")
    assert replica_key.urn in config.property_dependencies["rules"]
    role = one(prod_graph, "aws:iam/role:Role", "fraud-detection-artifacts-replica-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": PROD_ACCOUNT}}
    assert role.inputs["permissionsBoundary"] == PROD.permissions_boundary_arn
    policy = statements(one(prod_graph, "aws:iam/rolePolicy:RolePolicy", "fraud-detection-artifacts-replica-role-policy"))
    assert policy["ReadSourceVersions"]["Resource"] == f"arn:aws:s3:::{FRAUD_PROD}/*"
    assert policy["WriteReplicas"]["Resource"] == f"arn:aws:s3:::{FRAUD_REPLICA}/*"
    assert not any("s3:PutObject" in s["Action"] or "s3:DeleteObject" in s["Action"] for s in policy.values())
    assert policy["DecryptSource"]["Action"] == "kms:Decrypt"
    assert policy["DecryptSource"]["Resource"] == f"arn:aws:kms:eu-west-1:{PROD_ACCOUNT}:key/*"
    assert policy["DecryptSource"]["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": f"alias/{FRAUD_PROD}"}
    assert policy["EncryptReplica"]["Resource"] == f"arn:aws:kms:eu-central-1:{PROD_ACCOUNT}:key/*"
    key_policy = statements(one(prod_graph, "aws:kms/key:Key", "fraud-detection-artifacts-key"))
    assert key_policy["ReplicationDecryptsSource"]["Principal"] == {
        "AWS": f"arn:aws:iam::{PROD_ACCOUNT}:role/fraud-detection-prod-replication"}
    assert "kms:Encrypt" not in key_policy["ReplicationDecryptsSource"]["Action"]


def test_partner_region_outside_the_residency_is_refused(tmp_path):
    from mlplatform.stackchecks import stack_issues
    from mlplatform.spec.loader import load_specs
    from mlplatform.stackconfig import stack_config_from_values, config_values_from_stack_file, stack_file

    values, _ = config_values_from_stack_file(stack_file("prod"))
    values["mlplatform:partnerRegion"] = "us-east-1"
    stack = stack_config_from_values("prod", values, "stacks/Pulumi.prod.yaml")
    issues = stack_issues(load_specs([str(stack.teams_path())]).specs, stack)
    assert any("us-east-1" in issue.message for issue in issues)


def test_key_policy_principals(dev_graph):
    policy = statements(one(dev_graph, "aws:kms/key:Key", "fraud-detection-artifacts-key"))
    assert policy["AccountRootForIamDelegation"]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert policy["PlatformAdministers"]["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/ml-platform-admin"}
    assert "kms:Decrypt" not in policy["PlatformAdministers"]["Action"]  # administers, never reads data
    assert policy["TeamRolesUse"]["Principal"]["AWS"] == [
        f"arn:aws:iam::111122223333:role/fraud-detection-dev-{duty}" for duty in ("ingestion", "serving", "training")]
    # the read-only consumer decrypts through its identity policy (IAM delegation), never encrypts
    assert "ReplicationDecryptsSource" not in policy  # dev does not replicate
    assert not any(s["Principal"] == "*" for s in policy.values())


STATEFUL = {"aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:sagemaker/featureGroup:FeatureGroup",
            "aws:ecr/repository:Repository", "aws:glue/registry:Registry", "aws:glue/schema:Schema",
            "aws:glue/catalogDatabase:CatalogDatabase", "aws:cloudtrail/trail:Trail", "aws:cloudwatch/logGroup:LogGroup",
            "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
            "aws:dynamodb/table:Table"}  # the fallback's lastKnownGood cache


def test_stateful_data_plane_resources_are_protected_and_retained_in_prod(prod_graph, dev_graph):
    from mlplatform.forcenew import STATEFUL_TYPES

    # a Lambda's own log group too: its records outlive a retired function (components/log_groups.py)
    stateful = [r for r in prod_graph if r.type in STATEFUL | STATEFUL_TYPES]
    assert {r.type for r in stateful} == STATEFUL
    for resource in stateful:
        assert resource.options["protect"] and resource.options["retainOnDelete"], resource.urn
        if "forceDestroy" in resource.inputs:
            assert resource.inputs["forceDestroy"] is False
    assert not any(r.options["protect"] for r in dev_graph)


@pytest.mark.parametrize("change,key,message", [
    ({"mlplatform:partnerRegion": None}, "mlplatform:replication", "replication needs mlplatform:partnerRegion"),
    ({"mlplatform:partnerRegion": "eu-west-1"}, "mlplatform:partnerRegion", "must differ from the stack's region"),
])
def test_replication_settings_are_checked_with_the_stack_file_line(change, key, message):
    from mlplatform.errors import SpecError
    from mlplatform.stackconfig import config_values_from_stack_file, stack_config_from_values, stack_file

    values, document = config_values_from_stack_file(stack_file("prod"))
    for name, value in change.items():
        if value is None:
            values.pop(name)
        else:
            values[name] = value
    with pytest.raises(SpecError) as caught:
        stack_config_from_values("prod", values, "stacks/Pulumi.prod.yaml", document)
    issue = caught.value.issues[0]
    assert issue.field == f"config.{key}" and message in issue.message
    assert issue.line == document.position(("config", key)).line > 1
