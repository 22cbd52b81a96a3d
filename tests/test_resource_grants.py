"""The grant methods of the resources (components/grants.py, and the bucket's and key's additions):
each grants exactly its actions on exactly its resource, with exactly its condition."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from components.grants import (DeliveryStreamAccess, EndpointAccess, LogGroupAccess, MetricNamespace, QueueAccess,
                               SecretAccess, StateMachineAccess, TableAccess, TopicAccess, grant_lambda_vpc_access,
                               grant_publish_to_services, grant_xray_write, topic_policy)
from components.iam import Statement, allow, document, from_source_account
from components.managed_key import KeyAccess, via_service
from components.secure_bucket import BucketAccess
from components.service_role import grant_to_role

REGION, ACCOUNT = "eu-west-1", "111122223333"


def as_json(statement: Statement) -> dict:
    return statement.to_json()


def test_log_group_grants_writing_its_streams_only():
    group = LogGroupAccess(REGION, ACCOUNT, "/aws/lambda/fn")
    assert group.arn == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/fn"
    assert as_json(group.grant_write(sid="WriteOwnLogs")) == {
        "Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{group.arn}:*"}
    assert as_json(group.grant_write(streams="log-stream:*"))["Resource"] == f"{group.arn}:log-stream:*"
    assert as_json(group.grant_write(create_group=True))["Action"] == [
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]


def test_metric_namespace_grants_put_metric_data_under_it_only():
    assert as_json(MetricNamespace("MLPlatform/Drift").grant_put_metric_data()) == {
        "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
        "Condition": {"StringEquals": {"cloudwatch:namespace": "MLPlatform/Drift"}}}


def test_endpoint_grants_invoke_and_describe_on_its_lower_case_arn():
    endpoint = EndpointAccess(REGION, ACCOUNT, "Team-Prod-Scorer")
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/team-prod-scorer"
    assert as_json(endpoint.grant_invoke(sid="Invoke")) == {
        "Sid": "Invoke", "Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": arn}
    assert as_json(endpoint.grant_describe()) == {"Effect": "Allow", "Action": "sagemaker:DescribeEndpoint",
                                                  "Resource": arn}


def test_table_grants_item_reads_and_writes_only():
    assert as_json(TableAccess(REGION, ACCOUNT, "cache").grant_read_write_items()) == {
        "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
        "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/cache"}


def test_topic_queue_state_machine_stream_and_secret_grant_their_one_action():
    assert as_json(TopicAccess(REGION, ACCOUNT, ("b", "a")).grant_publish()) == {
        "Effect": "Allow", "Action": "sns:Publish",
        "Resource": [f"arn:aws:sns:{REGION}:{ACCOUNT}:a", f"arn:aws:sns:{REGION}:{ACCOUNT}:b"]}
    assert as_json(QueueAccess(REGION, ACCOUNT, "dlq").grant_send()) == {
        "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:m"
    assert as_json(StateMachineAccess(machine).grant_start_execution()) == {
        "Effect": "Allow", "Action": "states:StartExecution", "Resource": machine}
    stream = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/s"
    assert as_json(DeliveryStreamAccess(stream).grant_put_records()) == {
        "Effect": "Allow", "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"], "Resource": stream}
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:hec-AbCdEf"
    assert as_json(SecretAccess(secret).grant_read()) == {
        "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}


def test_xray_grants_writing_traces_and_sampling_only_when_asked():
    assert as_json(grant_xray_write(sid="SendTraces")) == {
        "Sid": "SendTraces", "Effect": "Allow", "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        "Resource": "*"}
    assert as_json(grant_xray_write(sampling=True))["Action"] == [
        "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def test_lambda_vpc_access_names_only_the_stack_subnets_and_groups():
    network = SimpleNamespace(subnet_ids=["subnet-0a1b2c3d"], security_group_ids=["sg-0a1b2c3d"])
    describe, attach = (as_json(s) for s in grant_lambda_vpc_access(REGION, ACCOUNT, network))
    ec2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    assert describe == {"Effect": "Allow", "Action": "ec2:DescribeNetworkInterfaces", "Resource": "*"}
    assert attach == {"Effect": "Allow",
                      "Action": ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface",
                                 "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"],
                      "Resource": [f"{ec2}:network-interface/*", f"{ec2}:security-group/sg-0a1b2c3d",
                                   f"{ec2}:subnet/subnet-0a1b2c3d"]}


def test_topic_policy_ends_with_the_tls_deny_and_publishers_must_be_pinned():
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
    pinned = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    statements = json.loads(topic_policy(topic, grant_publish_to_services(
        topic, "AlertServicesPublish", "events.amazonaws.com", conditions=pinned)))["Statement"]
    assert statements[0] == {"Sid": "AlertServicesPublish", "Effect": "Allow", "Action": "sns:Publish",
                             "Principal": {"Service": "events.amazonaws.com"}, "Resource": topic,
                             "Condition": pinned}
    assert statements[1] == {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Action": "sns:Publish",
                             "Principal": "*", "Resource": topic,
                             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    with pytest.raises(ValueError, match="pinned"):
        grant_publish_to_services(topic, "Unpinned", "events.amazonaws.com", conditions={})


def test_bucket_grants_replication_source_and_replica_writes():
    source, replica = BucketAccess("src"), BucketAccess("dst")
    assert [as_json(s) for s in source.grant_replication_source()] == [
        {"Sid": "ReadReplicationConfig", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": "arn:aws:s3:::src"},
        {"Sid": "ReadSourceVersions", "Effect": "Allow",
         "Action": ["s3:GetObjectLegalHold", "s3:GetObjectRetention", "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
         "Resource": "arn:aws:s3:::src/*"}]
    assert [as_json(s) for s in replica.grant_replica_writes()] == [
        {"Sid": "WriteReplicas", "Effect": "Allow",
         "Action": ["s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateDelete", "s3:ReplicateObject",
                    "s3:ReplicateTags"], "Resource": "arn:aws:s3:::dst/*"}]


def test_bucket_list_and_read_take_a_sid_and_read_a_condition():
    bucket = BucketAccess("b")
    [listing] = bucket.grant_list("a/", "b/", sid="List")
    assert as_json(listing) == {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket",
                                "Resource": "arn:aws:s3:::b",
                                "Condition": {"StringLike": {"s3:prefix": ["a/*", "b/*"]}}}
    tagged = {"StringEquals": {"aws:PrincipalTag/pii-access": "true"}}
    [read] = bucket.grant_read("pii/", sid="ReadPii", conditions=tagged)
    assert as_json(read) == {"Sid": "ReadPii", "Effect": "Allow", "Action": "s3:GetObject",
                             "Resource": "arn:aws:s3:::b/pii/*", "Condition": tagged}
    assert bucket.grant_read(sid="Nothing") == []


def test_key_used_through_a_service_only():
    assert via_service("dynamodb", REGION) == {"StringEquals": {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com"}}
    assert via_service("sns", REGION, also_equal={"aws:SourceArn": "arn:t"}) == {
        "StringEquals": {"aws:SourceArn": "arn:t", "kms:ViaService": f"sns.{REGION}.amazonaws.com"}}
    statement = as_json(KeyAccess("alias/k", REGION, ACCOUNT).grant(["kms:Decrypt"], conditions=via_service("s3", REGION)))
    assert statement["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/k"},
                                      "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}


def test_source_account_condition_is_fresh_each_time():
    first = from_source_account(ACCOUNT)
    assert first == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    first["ArnLike"] = {"aws:SourceArn": "arn:x"}
    assert from_source_account(ACCOUNT) == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_grant_to_role_refuses_an_empty_policy():
    with pytest.raises(ValueError, match="at least one statement"):
        grant_to_role("nothing", "role", [])


def test_grant_to_role_attaches_the_document_of_its_statements(monkeypatch):
    made = {}

    class FakeRolePolicy:
        def __init__(self, name, **kwargs):
            made.update(name=name, **kwargs)

    monkeypatch.setattr("components.service_role.aws.iam.RolePolicy", FakeRolePolicy)
    statement = allow("s3:GetObject", "arn:aws:s3:::b/*")
    grant_to_role("p", "role-name", [statement])
    assert made == {"name": "p", "role": "role-name", "policy": document(statement), "opts": None}


def feature_store(**changes):
    from components.feature_group import FeatureAccess, FeatureStoreAccess

    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:feature-group"
    groups = (FeatureAccess(f"{arn}/plain", False, "feature-store/plain/", "plain_t"),
              FeatureAccess(f"{arn}/pii", True, "feature-store/pii/", "pii_t"))
    values = dict(region=REGION, account_id=ACCOUNT, team="t", bucket_name="b", database="db", groups=groups)
    return FeatureStoreAccess(**{**values, **changes})


def test_feature_store_grants_ingestion_and_training_only_the_team_groups_and_tables():
    store = feature_store()
    glue = [f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog", f"arn:aws:glue:{REGION}:{ACCOUNT}:database/db",
            f"arn:aws:glue:{REGION}:{ACCOUNT}:table/db/plain_t", f"arn:aws:glue:{REGION}:{ACCOUNT}:table/db/pii_t"]
    assert store.glue == glue
    own = {"StringEquals": {"aws:ResourceTag/team": "t"}}
    ingest = [as_json(s) for s in store.grant_ingest()]
    assert ingest[0] == {"Effect": "Allow", "Action": ["sagemaker:DescribeFeatureGroup", "sagemaker:PutRecord"],
                         "Resource": store.group_arns, "Condition": own}
    assert ingest[1] == {"Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::b"}
    assert ingest[2]["Resource"] == sorted(glue) and "glue:CreateTable" in ingest[2]["Action"]
    read = [as_json(s) for s in store.grant_read()]
    assert read[0]["Action"] == ["sagemaker:BatchGetRecord", "sagemaker:DescribeFeatureGroup", "sagemaker:GetRecord"]
    assert all(not a.startswith("glue:Create") for s in read for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert len(feature_store(database="").grant_read()) == 1  # no catalog, nothing to name


def test_feature_store_consumer_reads_pii_only_with_the_principal_tag():
    by_sid = {s.sid: as_json(s) for s in feature_store().grant_read_by_attribute()}
    assert set(by_sid) == {"DescribeGroups", "ReadCatalog", "ReadNonPiiOnline", "ReadPiiOnlineWithPiiAccess",
                           "DenyPiiOnlineWithoutPiiAccess", "ListOfflineStore", "ReadNonPiiOffline",
                           "ReadPiiOfflineWithPiiAccess", "DenyPiiOfflineWithoutPiiAccess"}
    assert by_sid["ReadPiiOfflineWithPiiAccess"] == {
        "Sid": "ReadPiiOfflineWithPiiAccess", "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/feature-store/pii/*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/pii-access": "true"}}}
    assert by_sid["DenyPiiOfflineWithoutPiiAccess"]["Effect"] == "Deny"
    assert by_sid["DenyPiiOfflineWithoutPiiAccess"]["Condition"] == {
        "StringNotEquals": {"aws:PrincipalTag/pii-access": "true"}}
    assert by_sid["ReadNonPiiOnline"]["Resource"].endswith("/plain")
    assert by_sid["ReadNonPiiOffline"]["Resource"] == "arn:aws:s3:::b/feature-store/plain/*"


def test_bucket_grants_exact_keys_and_ownership_of_a_prefix():
    bucket = BucketAccess("b")
    [read] = bucket.grant_read_keys("baselines/x/predictions.json")
    assert as_json(read) == {"Effect": "Allow", "Action": "s3:GetObject",
                             "Resource": "arn:aws:s3:::b/baselines/x/predictions.json"}
    [manage] = bucket.grant_manage("mlflow/")
    assert as_json(manage) == {"Effect": "Allow", "Resource": "arn:aws:s3:::b/mlflow/*",
                               "Action": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]}
    assert bucket.grant_read_keys() == [] and bucket.grant_manage() == []
