"""The flows checker on the resolved prod plan: each flow kind passes where the estate is
wired right and fails (naming the missing permission or mismatched location) on a mutated
copy; the flows the shipped estate still gets wrong fail here too (issue 14's defects)."""

from __future__ import annotations

import copy
import json

import pytest

from mlplatform.graph import UNKNOWN, ResourceGraph
from mlplatform.reports.findings import FAILED, PASSED
from mlplatform.stackconfig import load_stack_config
from mlplatform.verify.checkers import load_checker
from mlplatform.verify.flows import check
from mlplatform.verify.resolve import capture_resolved

ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def stack():
    return load_stack_config("prod")


@pytest.fixture(scope="module")
def resolved(stack) -> ResourceGraph:
    return capture_resolved("prod", stack_config=stack)


@pytest.fixture
def graph(resolved) -> ResourceGraph:
    """A private copy each test may mutate."""
    return copy.deepcopy(resolved)


def results(graph, stack, rule_id):
    return [r for r in check(graph, stack) if r.rule.id == rule_id]


def named(items, name):
    found = [r for r in items if r.resource_name == name]
    assert found, f"no result for {name}: {[r.resource_name for r in items]}"
    return found[0]


def resource(graph, name):
    """The AWS resource of that name (a component may share its child's name)."""
    return next(r for r in graph.resources.values() if r.name == name and r.custom)


def edit_policy(res, prop, change):
    document = json.loads(res.inputs[prop])
    change(document["Statement"])
    res.inputs[prop] = json.dumps(document)


def drop_sid(sid):
    return lambda statements: statements.__setitem__(slice(None), [s for s in statements if s.get("Sid") != sid])


def test_registered_in_the_verify_checker_registry():
    assert load_checker("flows") is check


# ---------------------------------------------------------------- MLP-FLOW-CAPTURE (defect 1)

def test_capture_readers_fail_on_the_shipped_estate_with_location_and_permission(graph, stack):
    capture = results(graph, stack, "MLP-FLOW-CAPTURE")
    drift = named(capture, "fraud-detection-observability-scorer-drift-fn")
    assert drift.status == FAILED
    assert ("writes s3://fraud-detection-prod-artifacts/data-capture/scorer/fraud-detection-prod-scorer/primary/ "
            "but drift Lambda reads s3://fraud-detection-prod-artifacts/data-capture/fraud-detection-prod-scorer/"
            "primary/") in drift.message
    assert drift.file == "examples/teams/fraud-detection.yaml" and drift.line
    monitor = named(capture, "fraud-detection-observability-scorer-drift-data-quality")
    assert monitor.status == FAILED
    assert "fraud-detection-prod-scorer-model-monitor is not allowed s3:ListBucket" in monitor.message
    assert named(capture, "fraud-detection-endpoint-scorer-config").status == PASSED  # the writer itself may write


def test_capture_passes_when_writer_and_readers_agree_on_one_location(graph, stack):
    for name in ("fraud-detection-endpoint-scorer-config", "recommendations-endpoint-ranker-config"):
        capture = resource(graph, name).inputs["dataCaptureConfig"]
        capture["destinationS3Uri"] = capture["destinationS3Uri"].rsplit("/data-capture/", 1)[0] + "/data-capture/"
    capture = results(graph, stack, "MLP-FLOW-CAPTURE")
    assert [r.message for r in capture if r.status != PASSED] == []
    assert len(capture) == 7  # 3 writers, 2 drift Lambdas, 2 Model Monitor jobs


def test_capture_with_an_unknown_bucket_policy_is_unproven_not_passed(graph, stack):
    resource(graph, "fraud-detection-artifacts-policy").inputs["policy"] = UNKNOWN
    writer = named(results(graph, stack, "MLP-FLOW-CAPTURE"), "fraud-detection-endpoint-scorer-config")
    assert writer.status == FAILED
    assert writer.message.startswith("unproven:")
    assert "bucket policy of fraud-detection-prod-artifacts is unknown" in writer.message


# ---------------------------------------------------------------- MLP-FLOW-MODELS

def test_models_flow_passes_for_the_serving_role(graph, stack):
    models = results(graph, stack, "MLP-FLOW-MODELS")
    assert models and all(r.status == PASSED for r in models), [r.message for r in models]


def test_models_flow_fails_when_the_model_runs_as_a_role_the_bucket_does_not_let_download(graph, stack):
    model = resource(graph, "nlp-research-endpoint-embedder-model")
    model.inputs["executionRoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/nlp-research-prod-consumer"
    result = named(results(graph, stack, "MLP-FLOW-MODELS"), "nlp-research-endpoint-embedder-model")
    assert result.status == FAILED
    assert "explicitly denied by bucket policy of nlp-research-prod-artifacts statement RestrictModelDownload" \
        in result.message


# ---------------------------------------------------------------- MLP-FLOW-BATCH-KEY (defect 3)

def test_batch_key_passes_on_the_planned_estate(graph, stack):
    """Defect 3 fixed: the artifact keys grant Batch's launching service-linked roles."""
    batch = results(graph, stack, "MLP-FLOW-BATCH-KEY")
    assert len(batch) == 4 and [r.message for r in batch if r.status != PASSED] == []


def test_batch_key_fails_without_the_service_linked_roles_in_the_key_policy(graph, stack):
    """The estate as shipped before the fix: the key only delegates to IAM."""
    for name in ("fraud-detection-artifacts-key", "nlp-research-artifacts-key"):
        for sid in ("EbsLaunchersUse", "EbsLaunchersCreateGrant"):
            edit_policy(resource(graph, name), "policy", drop_sid(sid))
    batch = results(graph, stack, "MLP-FLOW-BATCH-KEY")
    assert len(batch) == 4 and all(r.status == FAILED for r in batch)
    spot = named(batch, "fraud-detection-queue-gpu-ce-spot")
    assert "AWSServiceRoleForAutoScaling is not allowed kms:CreateGrant" in spot.message
    assert "AWSServiceRoleForEC2Spot is not allowed kms:GenerateDataKeyWithoutPlaintext" in spot.message


def test_batch_key_grant_without_the_aws_resource_condition_value_fails(graph, stack):
    slr = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    grant = [{"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": slr}, "Resource": "*",
              "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]},
             {"Sid": "Grant", "Effect": "Allow", "Principal": {"AWS": slr}, "Resource": "*",
              "Action": "kms:CreateGrant", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "false"}}}]
    key = resource(graph, "fraud-detection-artifacts-key")
    for sid in ("EbsLaunchersUse", "EbsLaunchersCreateGrant"):
        edit_policy(key, "policy", drop_sid(sid))
    edit_policy(key, "policy", lambda s: s.extend(grant))
    on_demand = named(results(graph, stack, "MLP-FLOW-BATCH-KEY"), "fraud-detection-queue-gpu-ce-on-demand")
    assert on_demand.status == FAILED
    assert "kms:CreateGrant" in on_demand.message and "kms:Encrypt" not in on_demand.message


# ---------------------------------------------------------------- MLP-FLOW-RETRAIN (defect 2)

def test_retraining_through_eventbridge_batch_target_fails(graph, stack):
    retrain = results(graph, stack, "MLP-FLOW-RETRAIN")
    assert len(retrain) == 2 and all(r.status == FAILED for r in retrain)
    assert all("fair-share" in r.message and "shareIdentifier" in r.message for r in retrain)
    assert all("job definition fraud-scorer-retrain is not created by this plan" in r.message for r in retrain)


def _scheduler_submission(graph, share, definition="fraud-detection-prod-gpu-train-job"):
    """Replace the EventBridge targets by a Scheduler universal target carrying the share."""
    for name in [r.name for r in graph.resources.values() if r.type == "aws:cloudwatch/eventTarget:EventTarget"
                 and "batchTarget" in r.inputs]:
        del graph.resources[resource(graph, name).urn]
    role = resource(graph, "fraud-detection-observability-scorer-retraining-role")
    edit_policy(role, "assumeRolePolicy", lambda s: s[0]["Principal"].update(Service="scheduler.amazonaws.com"))
    policy = resource(graph, "fraud-detection-observability-scorer-retraining-policy")
    queue = f"arn:aws:batch:eu-west-1:{ACCOUNT}:job-queue/fraud-detection-prod-gpu-train"
    job = f"arn:aws:batch:eu-west-1:{ACCOUNT}:job-definition/{definition}"
    edit_policy(policy, "policy", lambda s: s[0].update(Resource=[queue, job, f"{job}:*"]))
    template = resource(graph, "fraud-detection-endpoint-scorer-config")
    from mlplatform.graph import GraphResource
    urn = template.urn.rsplit("::", 1)[0].rsplit("$", 1)[0] + "$aws:scheduler/schedule:Schedule::retrain"
    graph.add(GraphResource(urn=urn, type="aws:scheduler/schedule:Schedule", name="retrain", inputs={
        "name": "fraud-detection-prod-scorer-retrain", "scheduleExpression": "rate(7 days)",
        "target": {"arn": "arn:aws:scheduler:::aws-sdk:batch:submitJob", "roleArn": role.inputs["arn"]
                   if "arn" in role.inputs else f"arn:aws:iam::{ACCOUNT}:role/{role.inputs['name']}",
                   "input": json.dumps({"JobName": "scorer-retrain", "JobQueue": queue,
                                        "JobDefinition": definition, "ShareIdentifier": share})}}))


def test_retraining_through_scheduler_with_the_share_identifier_passes(graph, stack):
    _scheduler_submission(graph, "fraudDetection")
    retrain = results(graph, stack, "MLP-FLOW-RETRAIN")
    assert len(retrain) == 1 and retrain[0].status == PASSED, retrain[0].message


def test_retraining_with_a_share_the_policy_does_not_know_fails(graph, stack):
    _scheduler_submission(graph, "someoneElse")
    (result,) = results(graph, stack, "MLP-FLOW-RETRAIN")
    assert result.status == FAILED
    assert "share identifier someoneElse is not in the scheduling policy's shares ['fraudDetection']" in result.message


# ---------------------------------------------------------------- MLP-FLOW-FIREHOSE-BACKUP

def test_firehose_backup_passes(graph, stack):
    firehose = results(graph, stack, "MLP-FLOW-FIREHOSE-BACKUP")
    assert len(firehose) == 3 and all(r.status == PASSED for r in firehose), [r.message for r in firehose]


def test_firehose_backup_fails_without_the_roles_kms_statement(graph, stack):
    policy = resource(graph, "fraud-detection-observability-forwarding-firehose-policy")
    edit_policy(policy, "policy", lambda s: s.__setitem__(slice(None), [x for x in s if "kms:Decrypt" not in x["Action"]]))
    result = named(results(graph, stack, "MLP-FLOW-FIREHOSE-BACKUP"), "fraud-detection-observability-forwarding-stream")
    assert result.status == FAILED
    assert "fraud-detection-prod-log-forwarding is not allowed kms:GenerateDataKey" in result.message
    assert "delegates to IAM but no identity policy allows it" in result.message


# ---------------------------------------------------------------- MLP-FLOW-CLOUDTRAIL

def test_cloudtrail_flows_pass(graph, stack):
    trail = results(graph, stack, "MLP-FLOW-CLOUDTRAIL")
    assert len(trail) == 3 and all(r.status == PASSED for r in trail), [r.message for r in trail]


def test_cloudtrail_fails_when_the_bucket_policy_loses_the_write_statement(graph, stack):
    edit_policy(resource(graph, "platform-trail-bucket-policy"), "policy", drop_sid("CloudTrailWrite"))
    trail = results(graph, stack, "MLP-FLOW-CLOUDTRAIL")
    delivery = [r for r in trail if "delivers log files" in r.message][0]
    assert delivery.status == FAILED
    assert "service cloudtrail.amazonaws.com is not allowed s3:PutObject" in delivery.message


def test_cloudtrail_fails_when_the_key_condition_names_another_trail(graph, stack):
    def other_trail(statements):
        for s in statements:
            if s.get("Sid") == "CloudTrailEncryptsLogs":
                s["Condition"]["StringEquals"]["aws:SourceArn"] = f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/x"
    edit_policy(resource(graph, "platform-key"), "policy", other_trail)
    delivery = [r for r in results(graph, stack, "MLP-FLOW-CLOUDTRAIL") if "delivers log files" in r.message][0]
    assert delivery.status == FAILED and "kms:GenerateDataKey" in delivery.message


# ---------------------------------------------------------------- MLP-FLOW-ACCESS-LOGS

def test_access_logs_pass(graph, stack):
    logs = results(graph, stack, "MLP-FLOW-ACCESS-LOGS")
    assert len(logs) == 9 and all(r.status == PASSED for r in logs), [r.message for r in logs]


def test_access_logs_fail_for_a_kms_target_and_an_unlisted_source(graph, stack):
    encryption = resource(graph, "platform-access-logs-encryption")
    encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "aws:kms"}
    edit_policy(resource(graph, "platform-access-logs-policy"), "policy", lambda s: [
        x["Condition"]["ArnLike"].update({"aws:SourceArn": ["arn:aws:s3:::someone-else"]})
        for x in s if x.get("Sid") == "S3ServerAccessLogsDelivery"])
    result = named(results(graph, stack, "MLP-FLOW-ACCESS-LOGS"), "fraud-detection-artifacts-access-logging")
    assert result.status == FAILED
    assert "supports only SSE-S3" in result.message
    assert "service logging.s3.amazonaws.com is not allowed s3:PutObject" in result.message


# ---------------------------------------------------------------- MLP-FLOW-FEATURES-ABAC

def test_feature_abac_passes(graph, stack):
    features = results(graph, stack, "MLP-FLOW-FEATURES-ABAC")
    assert len(features) == 3 and all(r.status == PASSED for r in features), [r.message for r in features]


def test_feature_abac_fails_when_a_pii_group_would_be_readable_without_pii_access(graph, stack):
    policy = resource(graph, "fraud-detection-identity-consumer-feature-access")
    edit_policy(policy, "policy", lambda s: s.__setitem__(slice(None), [
        x for x in s if x.get("Sid") not in ("DenyPiiOfflineWithoutPiiAccess",)]
        + [{"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::fraud-detection-prod-artifacts/feature-store/*"}]))
    result = named(results(graph, stack, "MLP-FLOW-FEATURES-ABAC"), "fraud-detection-fg-transactions-v2-group")
    assert result.status == FAILED
    assert "without pii-access: s3:GetObject" in result.message and "must be denied" in result.message


def test_feature_abac_fails_when_the_group_tag_disagrees_with_the_policy(graph, stack):
    group = resource(graph, "fraud-detection-fg-transactions-v2-group")
    group.inputs["tags"] = {"pii": "false"}
    group.effective_tags = dict(group.effective_tags, pii="false")
    result = named(results(graph, stack, "MLP-FLOW-FEATURES-ABAC"), "fraud-detection-fg-transactions-v2-group")
    assert result.status == FAILED
    assert "is not allowed sagemaker:GetRecord" in result.message


# ---------------------------------------------------------------- MLP-FLOW-REPLICATION (defect 7)

def test_replication_passes_while_the_key_policies_name_the_role(graph, stack):
    replication = results(graph, stack, "MLP-FLOW-REPLICATION")
    assert len(replication) == 2 and all(r.status == PASSED for r in replication), [r.message for r in replication]


def test_replication_identity_statements_alone_suffice_under_bucket_keys(graph, stack):
    """Defect 7 fixed: without the key policy's direct grant, the role's own KMS
    statements decide, and their encryption-context condition admits the bucket ARN
    that S3 Bucket Keys use."""
    edit_policy(resource(graph, "fraud-detection-artifacts-key"), "policy", drop_sid("ReplicationDecryptsSource"))
    result = named(results(graph, stack, "MLP-FLOW-REPLICATION"), "fraud-detection-artifacts-replica-config")
    assert result.status == PASSED, result.message


def _object_arn_contexts_only(statements):
    """The replication role's KMS conditions as shipped before the fix: object ARNs only."""
    for statement in statements:
        like = statement.get("Condition", {}).get("StringLike", {})
        values = like.get("kms:EncryptionContext:aws:s3:arn")
        if values is not None:
            values = [values] if isinstance(values, str) else values
            like["kms:EncryptionContext:aws:s3:arn"] = [v for v in values if v.endswith("/*")]


def test_replication_relying_on_object_arn_contexts_fails_under_bucket_keys(graph, stack):
    edit_policy(resource(graph, "fraud-detection-artifacts-key"), "policy", drop_sid("ReplicationDecryptsSource"))
    edit_policy(resource(graph, "fraud-detection-artifacts-replica-role-policy"), "policy", _object_arn_contexts_only)
    result = named(results(graph, stack, "MLP-FLOW-REPLICATION"), "fraud-detection-artifacts-replica-config")
    assert result.status == FAILED
    assert "fraud-detection-prod-replication is not allowed kms:Decrypt" in result.message
    assert "kms:EncryptionContext:aws:s3:arn" in result.message


# ---------------------------------------------------------------- MLP-FLOW-ALARM-TOPIC

def test_alarm_topics_pass(graph, stack):
    topics = results(graph, stack, "MLP-FLOW-ALARM-TOPIC")
    assert len(topics) == 6 and all(r.status == PASSED for r in topics), [r.message for r in topics]


def test_alarm_topic_fails_when_its_key_does_not_let_cloudwatch_use_it(graph, stack):
    key = resource(graph, "fraud-detection-observability-alert-key")
    edit_policy(key, "policy", lambda s: s.__setitem__(slice(None), [
        x for x in s if "cloudwatch.amazonaws.com" not in json.dumps(x.get("Principal"))]))
    topics = results(graph, stack, "MLP-FLOW-ALARM-TOPIC")
    failed = [r for r in topics if r.status == FAILED]
    assert failed and all("service cloudwatch.amazonaws.com is not allowed kms:" in r.message for r in failed)
