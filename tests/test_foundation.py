"""The stack's Foundation: central access logs, platform key and the CloudTrail trail."""

from __future__ import annotations

import json

import pytest

from components.artifact_store import artifact_bucket_name, replica_bucket_name
from components.foundation import MAX_SELECTOR_VALUES, _log_retention, data_event_selectors, platform_name
from mlplatform.graph import UNKNOWN
from mlplatform.stackconfig import load_stack_config
from mlplatform.tagging import REQUIRED_TAG_KEYS, is_taggable

from .helpers.dataplane import by_type, capture_with_key_arns, key_arn, one, statements

DEV = load_stack_config("dev")
LOG_BUCKET = platform_name(DEV, "access-logs")
TRAIL_BUCKET = platform_name(DEV, "cloudtrail")
TRAIL_ARN = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/mlplatform-dev-audit"
ARTIFACT_BUCKETS = [artifact_bucket_name(DEV, team) for team in ("fraud-detection", "nlp-research", "recommendations")]


def test_one_foundation_per_stack_built_before_the_teams(dev_graph):
    foundations = by_type(dev_graph, "mlplatform:platform:Foundation")
    assert [f.name for f in foundations] == ["platform"]
    assert foundations[0].source.file == "stacks/Pulumi.dev.yaml"
    log_bucket = one(dev_graph, "aws:s3/bucket:Bucket", "platform-access-logs")
    for team in ("fraud-detection", "nlp-research", "recommendations"):  # teams are handed the foundation
        logging = one(dev_graph, "aws:s3/bucketLogging:BucketLogging", f"{team}-artifacts-access-logging")
        assert logging.property_dependencies["targetBucket"] == [log_bucket.urn]
    trail = one(dev_graph, "aws:cloudtrail/trail:Trail", "platform-trail")
    assert trail.parent == foundations[0].urn


def test_foundation_resources_are_billed_to_the_platform(dev_graph, prod_graph):
    for graph, environment in ((dev_graph, "dev"), (prod_graph, "prod")):
        provider = one(graph, "pulumi:providers:aws", "platform-aws")
        tagged = [r for r in graph if r.custom and is_taggable(r.type) and r.provider == provider.urn]
        assert len(tagged) >= 6
        for resource in tagged:
            tags = resource.effective_tags
            assert set(REQUIRED_TAG_KEYS) <= set(tags), resource.urn
            assert tags["team"] == "platform" and tags["cost-center"] == "CC-0100"
            assert tags["environment"] == environment and tags["spec"] == f"stacks/Pulumi.{environment}.yaml"


def test_every_taggable_resource_in_prod_carries_the_billing_tags(prod_graph):
    tagged = [r for r in prod_graph if r.custom and is_taggable(r.type)]
    assert any(r.type == "aws:cloudtrail/trail:Trail" for r in tagged)
    assert any(r.name.endswith("-replica-bucket") for r in tagged)
    for resource in tagged:
        assert set(REQUIRED_TAG_KEYS) <= set(resource.effective_tags or {}), resource.urn
        assert all(value for value in resource.effective_tags.values()), resource.urn


def test_access_log_bucket_accepts_only_s3_log_delivery_from_this_account(dev_graph):
    bucket = one(dev_graph, "aws:s3/bucket:Bucket", "platform-access-logs")
    assert bucket.inputs["bucket"] == LOG_BUCKET and bucket.inputs["forceDestroy"] is False
    policy = statements(one(dev_graph, "aws:s3/bucketPolicy:BucketPolicy", "platform-access-logs-policy"))
    delivery = policy["S3ServerAccessLogsDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert (delivery["Effect"], delivery["Action"]) == ("Allow", "s3:PutObject")
    assert delivery["Resource"] == f"arn:aws:s3:::{LOG_BUCKET}/s3/*"
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": "111122223333"}
    assert delivery["Condition"]["ArnLike"]["aws:SourceArn"] == sorted(
        [f"arn:aws:s3:::{b}" for b in ARTIFACT_BUCKETS] + [f"arn:aws:s3:::{TRAIL_BUCKET}"])
    assert policy["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    encryption = one(dev_graph, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                     "platform-access-logs-encryption").inputs["rules"][0]
    # S3 delivers server access logs only to SSE-S3 buckets
    assert encryption["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    block = one(dev_graph, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "platform-access-logs-public-access-block")
    assert all(block.inputs[flag] is True for flag in
               ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    ownership = one(dev_graph, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "platform-access-logs-ownership")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    lifecycle = one(dev_graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                    "platform-access-logs-lifecycle").inputs["rules"][0]
    assert lifecycle["expiration"] == {"days": 90}  # mlplatform:accessLogRetentionDays in dev


def test_partner_region_log_bucket_only_when_the_stack_replicates(dev_graph, prod_graph):
    assert not [r for r in dev_graph if r.name.startswith("platform-partner")]
    bucket = one(prod_graph, "aws:s3/bucket:Bucket", "platform-partner-access-logs")
    provider = next(r for r in prod_graph if r.urn == bucket.provider)
    assert provider.inputs["region"] == "eu-central-1"
    delivery = statements(one(prod_graph, "aws:s3/bucketPolicy:BucketPolicy", "platform-partner-access-logs-policy"))
    prod = load_stack_config("prod")
    assert delivery["S3ServerAccessLogsDelivery"]["Condition"]["ArnLike"]["aws:SourceArn"] == [
        f"arn:aws:s3:::{replica_bucket_name(prod, team, 'eu-central-1')}" for team in ("fraud-detection", "recommendations")]


def test_trail_is_multi_region_validated_encrypted_and_linked_to_logs(dev_graph):
    trail = one(dev_graph, "aws:cloudtrail/trail:Trail", "platform-trail")
    inputs = trail.inputs
    assert inputs["isMultiRegionTrail"] is True and inputs["enableLogFileValidation"] is True
    assert inputs["includeGlobalServiceEvents"] is True and inputs["enableLogging"] is True
    assert inputs["s3BucketName"] == TRAIL_BUCKET
    key = one(dev_graph, "aws:kms/key:Key", "platform-key")
    assert inputs["kmsKeyId"] == UNKNOWN and key.urn in trail.property_dependencies["kmsKeyId"]
    assert inputs["cloudWatchLogsGroupArn"] == "arn:aws:logs:eu-west-1:111122223333:log-group:/mlplatform/dev/cloudtrail:*"
    log_group = one(dev_graph, "aws:cloudwatch/logGroup:LogGroup", "platform-trail-logs")
    assert log_group.inputs["retentionInDays"] == 365 and key.urn in log_group.property_dependencies["kmsKeyId"]
    policy = one(dev_graph, "aws:s3/bucketPolicy:BucketPolicy", "platform-trail-bucket-policy")
    assert policy.urn in trail.dependencies and log_group.urn in trail.dependencies  # CloudTrail checks both at creation
    role = one(dev_graph, "aws:iam/role:Role", "platform-trail-logs-role")
    assert inputs["cloudWatchLogsRoleArn"] == "arn:aws:iam::111122223333:role/" + role.inputs["name"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    # CloudTrail sends no aws:SourceArn/aws:SourceAccount when it assumes its CloudWatch Logs role:
    # a condition on them would stop delivery (see components.service_role.SERVICE_TRUST)
    assert "Condition" not in trust
    delivery = json.loads(one(dev_graph, "aws:iam/rolePolicy:RolePolicy", "platform-trail-logs-delivery").inputs["policy"])
    assert delivery["Statement"][0]["Resource"].startswith("arn:aws:logs:eu-west-1:111122223333:log-group:/mlplatform/dev/")


def test_trail_selectors_cover_every_artifact_bucket_and_model_prefix(dev_graph):
    selectors = {s["name"]: s["fieldSelectors"] for s in
                 one(dev_graph, "aws:cloudtrail/trail:Trail", "platform-trail").inputs["advancedEventSelectors"]}
    assert selectors["Management events"] == [{"field": "eventCategory", "equals": ["Management"]}]
    writes = {f["field"]: f for f in selectors["Artifact object writes"]}
    assert writes["eventCategory"]["equals"] == ["Data"] and writes["readOnly"]["equals"] == ["false"]
    assert writes["resources.type"]["equals"] == ["AWS::S3::Object"]
    assert writes["resources.ARN"]["startsWiths"] == [f"arn:aws:s3:::{b}/" for b in ARTIFACT_BUCKETS]
    reads = {f["field"]: f for f in selectors["Model downloads"]}
    assert reads["readOnly"]["equals"] == ["true"]
    assert reads["resources.ARN"]["startsWiths"] == [f"arn:aws:s3:::{b}/models/" for b in ARTIFACT_BUCKETS]


def test_selectors_fall_back_to_every_object_event_past_the_trail_limit():
    assert len(data_event_selectors([f"b{i}" for i in range(10)])) == 3
    assert data_event_selectors([]) == [data_event_selectors(["x"])[0]]  # management events only
    fits = data_event_selectors([f"bucket-{i}" for i in range(MAX_SELECTOR_VALUES // 2 - 4)])
    assert sum(len(f.get("starts_withs", [])) + len(f.get("equals", [])) for s in fits for f in s["field_selectors"]) \
        <= MAX_SELECTOR_VALUES
    too_many = data_event_selectors([f"bucket-{i}" for i in range(MAX_SELECTOR_VALUES // 2)])
    assert [s["name"] for s in too_many] == ["Management events", "All S3 object events"]
    assert too_many[1]["field_selectors"] == [{"field": "eventCategory", "equals": ["Data"]},
                                              {"field": "resources.type", "equals": ["AWS::S3::Object"]}]


def test_trail_bucket_policy_admits_cloudtrail_for_this_trail_only(dev_graph):
    policy = statements(one(dev_graph, "aws:s3/bucketPolicy:BucketPolicy", "platform-trail-bucket-policy"))
    acl = policy["CloudTrailAclCheck"]
    assert acl["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and acl["Action"] == "s3:GetBucketAcl"
    assert acl["Resource"] == f"arn:aws:s3:::{TRAIL_BUCKET}"
    assert acl["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
    write = policy["CloudTrailWrite"]
    assert write["Resource"] == f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/111122223333/*"
    assert write["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN, "s3:x-amz-acl": "bucket-owner-full-control"}}
    logging = one(dev_graph, "aws:s3/bucketLogging:BucketLogging", "platform-trail-bucket-logging")
    assert logging.inputs["targetBucket"] == LOG_BUCKET
    lifecycle = one(dev_graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                    "platform-trail-bucket-lifecycle").inputs["rules"][0]
    assert lifecycle["expiration"] == {"days": 365}  # mlplatform:auditLogRetentionDays in dev


def test_trail_bucket_is_encrypted_with_the_platform_key():
    graph = capture_with_key_arns("dev")
    encryption = one(graph, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                     "platform-trail-bucket-encryption").inputs["rules"][0]
    assert encryption["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms",
                                                                "kmsMasterKeyId": key_arn("platform-key")}
    assert one(graph, "aws:cloudtrail/trail:Trail", "platform-trail").inputs["kmsKeyId"] == key_arn("platform-key")


def test_platform_key_policy_principals(dev_graph):
    key = one(dev_graph, "aws:kms/key:Key", "platform-key")
    assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] == 30
    policy = statements(key)
    assert policy["PlatformAdministers"]["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/ml-platform-admin"}
    trail = policy["CloudTrailEncryptsLogs"]
    assert trail["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and trail["Action"] == "kms:GenerateDataKey*"
    assert trail["Condition"]["StringEquals"] == {"aws:SourceArn": TRAIL_ARN}
    logs = policy["CloudWatchLogsEncryptsTrailLogGroup"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn":
                                               "arn:aws:logs:eu-west-1:111122223333:log-group:/mlplatform/dev/cloudtrail"}}
    assert not any(s["Principal"] == "*" for s in policy.values())


def test_foundation_stateful_resources_are_protected_in_prod_only(dev_graph, prod_graph):
    names = ("platform-key", "platform-access-logs", "platform-trail-bucket", "platform-trail", "platform-trail-logs")
    for graph, expected in ((dev_graph, False), (prod_graph, True)):
        for resource in graph:
            if resource.name in names:
                assert resource.options["protect"] is expected and resource.options["retainOnDelete"] is expected
    assert not one(prod_graph, "aws:s3/bucketPolicy:BucketPolicy", "platform-trail-bucket-policy").options["protect"]


@pytest.mark.parametrize("days,retention", [(1, 1), (90, 90), (365, 365), (366, 400), (2557, 2557), (3650, 3653)])
def test_log_group_retention_rounds_up_to_an_accepted_value(days, retention):
    assert _log_retention(days) == retention


def test_a_large_stack_keeps_the_log_bucket_policy_small():
    from components.foundation import MAX_NAMED_LOG_SOURCES, Foundation, FoundationArgs
    from mlplatform.capture import capture_program
    from mlplatform.stackconfig import load_stack_config

    stack = load_stack_config("dev")
    many = [f"team-{i:03d}-dev-artifacts" for i in range(MAX_NAMED_LOG_SOURCES + 1)]
    graph = capture_program(lambda: Foundation("platform", FoundationArgs(stack=stack, artifact_buckets=many)),
                            "dev", {}, "ml-estate")
    policy = one(graph, "aws:s3/bucketPolicy:BucketPolicy", "platform-access-logs-policy")
    delivery = statements(policy)["S3ServerAccessLogsDelivery"]
    assert delivery["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}
    assert len(policy.inputs["policy"]) < 20_000
    selectors = one(graph, "aws:cloudtrail/trail:Trail", "platform-trail").inputs["advancedEventSelectors"]
    assert len(selectors[1]["fieldSelectors"][3]["startsWiths"]) == len(many)  # still named: under 500 values
