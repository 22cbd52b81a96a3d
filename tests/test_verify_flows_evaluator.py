"""The flows checker's policy evaluator on small documents: AWS's evaluation logic, KMS
delegation, and conditions that match, do not match, or cannot be evaluated (unproven)."""

from __future__ import annotations

import json

import pytest

from mlplatform.verify.flows.policy_eval import (
    ALLOWED, DENIED, UNPROVEN, Policy, PolicyDocumentError, Principal, Request, evaluate, evaluate_conditions,
    make_context,
)

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/team-prod-serving"
OTHER = f"arn:aws:iam::{ACCOUNT}:role/team-prod-consumer"
BUCKET = "arn:aws:s3:::team-prod-artifacts"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def policy(label: str, *statements: dict) -> Policy:
    return Policy.parse(label, json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def req(action, resource, context=None, principal=ROLE, service=None, complete=()):
    who = Principal(service=service) if service else Principal(arn=principal)
    base = {"aws:SecureTransport": True}
    if not service:
        base["aws:PrincipalArn"] = principal
    base.update(context or {})
    return Request(who, action, resource, make_context(base), tuple(complete))


READ = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/models/*"}


# ---------------------------------------------------------------- allow / deny

def test_identity_allow_on_matching_action_and_resource():
    decision = evaluate(req("s3:GetObject", f"{BUCKET}/models/a.tar.gz"), [policy("id", READ)])
    assert decision.outcome == ALLOWED
    assert "id statement" in decision.reason


def test_action_matching_is_case_insensitive_and_wildcards_work():
    statement = {"Effect": "Allow", "Action": "S3:Get*", "Resource": f"{BUCKET}/models/*"}
    assert evaluate(req("s3:GetObject", f"{BUCKET}/models/x"), [policy("id", statement)]).allowed


def test_resource_outside_the_prefix_is_implicitly_denied_and_says_what_is_missing():
    decision = evaluate(req("s3:GetObject", f"{BUCKET}/datasets/a.csv"), [policy("id", READ)])
    assert decision.outcome == DENIED
    assert "is not allowed s3:GetObject on arn:aws:s3:::team-prod-artifacts/datasets/a.csv" in decision.reason


def test_explicit_deny_in_the_resource_policy_wins_over_an_identity_allow():
    bucket = policy("bucket", {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                               "Resource": f"{BUCKET}/models/*",
                               "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [OTHER]}}})
    decision = evaluate(req("s3:GetObject", f"{BUCKET}/models/a"), [policy("id", READ)], bucket)
    assert decision.outcome == DENIED
    assert "explicitly denied by bucket" in decision.reason


def test_deny_whose_condition_does_not_hold_does_not_apply():
    bucket = policy("bucket", {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BUCKET}/*",
                               "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    assert evaluate(req("s3:GetObject", f"{BUCKET}/models/a"), [policy("id", READ)], bucket).allowed


def test_same_account_resource_policy_naming_the_role_allows_without_identity_policy():
    bucket = policy("bucket", {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject",
                               "Resource": f"{BUCKET}/*"})
    assert evaluate(req("s3:GetObject", f"{BUCKET}/x"), [], bucket).allowed


def test_resource_policy_naming_the_account_only_delegates_to_iam():
    bucket = policy("bucket", {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                               "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    assert evaluate(req("s3:GetObject", f"{BUCKET}/x"), [], bucket).outcome == DENIED


def test_not_action_and_not_resource():
    statement = {"Effect": "Allow", "NotAction": "s3:Delete*", "NotResource": f"{BUCKET}/secret/*"}
    ids = [policy("id", statement)]
    assert evaluate(req("s3:GetObject", f"{BUCKET}/x"), ids).allowed
    assert evaluate(req("s3:DeleteObject", f"{BUCKET}/x"), ids).outcome == DENIED
    assert evaluate(req("s3:GetObject", f"{BUCKET}/secret/x"), ids).outcome == DENIED


def test_service_principal_needs_the_resource_policy():
    bucket = policy("bucket", {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                               "Action": "s3:PutObject", "Resource": f"{BUCKET}/s3/*",
                               "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})
    ok = req("s3:PutObject", f"{BUCKET}/s3/log", {"aws:SourceAccount": ACCOUNT}, service="logging.s3.amazonaws.com")
    assert evaluate(ok, None, bucket).allowed
    other = req("s3:PutObject", f"{BUCKET}/s3/log", {"aws:SourceAccount": "999999999999"},
                service="logging.s3.amazonaws.com")
    assert evaluate(other, None, bucket).outcome == DENIED
    assert evaluate(ok, None, None).outcome == DENIED


# ---------------------------------------------------------------- KMS

ROOT = {"Sid": "AccountRoot", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*", "Resource": "*"}
IDENTITY_DECRYPT = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*"}


def test_kms_delegation_needs_the_identity_policy_as_well():
    key = policy("key", ROOT)
    assert evaluate(req("kms:Decrypt", KEY), [policy("id", IDENTITY_DECRYPT)], key, key_policy=True).allowed
    decision = evaluate(req("kms:Decrypt", KEY), [], key, key_policy=True)
    assert decision.outcome == DENIED
    assert "delegates to IAM but no identity policy allows it" in decision.reason


def test_kms_identity_policy_alone_is_not_enough():
    key = policy("key", {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "kms:*", "Resource": "*"})
    decision = evaluate(req("kms:Decrypt", KEY), [policy("id", IDENTITY_DECRYPT)], key, key_policy=True)
    assert decision.outcome == DENIED
    assert "neither names the principal nor delegates" in decision.reason


def test_kms_key_policy_naming_the_principal_allows_directly():
    key = policy("key", {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"})
    assert evaluate(req("kms:Decrypt", KEY), [], key, key_policy=True).allowed


def test_kms_grant_for_aws_resource_condition():
    slr = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    key = policy("key", ROOT, {"Effect": "Allow", "Principal": {"AWS": slr}, "Action": "kms:CreateGrant",
                               "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}})
    grant = req("kms:CreateGrant", KEY, {"kms:GrantIsForAWSResource": True}, principal=slr)
    assert evaluate(grant, [], key, key_policy=True).allowed
    not_for_aws = req("kms:CreateGrant", KEY, {"kms:GrantIsForAWSResource": False}, principal=slr)
    assert evaluate(not_for_aws, [], key, key_policy=True).outcome == DENIED


# ---------------------------------------------------------------- conditions

def test_string_like_on_encryption_context_matches_and_mismatches():
    statement = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                 "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": f"{BUCKET}/*"}}}
    ids = [policy("id", statement)]
    key = policy("key", ROOT)
    object_context = req("kms:Decrypt", KEY, {"kms:EncryptionContext:aws:s3:arn": f"{BUCKET}/models/a"})
    assert evaluate(object_context, ids, key, key_policy=True).allowed
    # with S3 Bucket Keys the context is the bucket ARN, which the pattern does not match
    bucket_context = req("kms:Decrypt", KEY, {"kms:EncryptionContext:aws:s3:arn": BUCKET})
    decision = evaluate(bucket_context, ids, key, key_policy=True)
    assert decision.outcome == DENIED
    assert "kms:EncryptionContext:aws:s3:arn" in decision.reason


def test_for_any_value_on_resource_aliases():
    conditions = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/team-prod-artifacts"}}
    assert evaluate_conditions(conditions, req("kms:Decrypt", KEY, {
        "kms:ResourceAliases": ["alias/other", "alias/team-prod-artifacts"]})).truth is True
    assert evaluate_conditions(conditions, req("kms:Decrypt", KEY, {"kms:ResourceAliases": ["alias/other"]})).truth is False
    assert evaluate_conditions(conditions, req("kms:Decrypt", KEY, {"kms:ResourceAliases": None})).truth is False


def test_for_all_values_is_true_for_a_missing_key():
    conditions = {"ForAllValues:StringEquals": {"aws:TagKeys": ["pii-access"]}}
    assert evaluate_conditions(conditions, req("sts:TagSession", ROLE, {"aws:TagKeys": None})).truth is True
    assert evaluate_conditions(conditions, req("sts:TagSession", ROLE, {"aws:TagKeys": ["pii-access", "x"]})).truth is False


def test_missing_key_makes_positive_false_negated_true_and_if_exists_true():
    absent = req("s3:PutObject", f"{BUCKET}/x", {"s3:x-amz-server-side-encryption": None})
    assert evaluate_conditions({"StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}, absent).truth is False
    assert evaluate_conditions({"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}, absent).truth is True
    assert evaluate_conditions({"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
                               absent).truth is True
    present = req("s3:PutObject", f"{BUCKET}/x", {"s3:x-amz-server-side-encryption": "AES256"})
    assert evaluate_conditions({"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
                               present).truth is True
    assert evaluate_conditions({"Null": {"s3:x-amz-server-side-encryption": "true"}}, absent).truth is True
    assert evaluate_conditions({"Null": {"s3:x-amz-server-side-encryption": "false"}}, present).truth is True


def test_negated_operator_with_several_values_is_nor():
    conditions = {"ArnNotEquals": {"aws:PrincipalArn": [ROLE, OTHER]}}
    assert evaluate_conditions(conditions, req("s3:GetObject", BUCKET)).truth is False
    stranger = f"arn:aws:iam::{ACCOUNT}:role/stranger"
    assert evaluate_conditions(conditions, req("s3:GetObject", BUCKET, principal=stranger)).truth is True


def test_arn_like_matches_per_part():
    conditions = {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::team-*"}}
    assert evaluate_conditions(conditions, req("s3:PutObject", BUCKET, {"aws:SourceArn": BUCKET})).truth is True
    assert evaluate_conditions(conditions, req("s3:PutObject", BUCKET, {
        "aws:SourceArn": "arn:aws:sns:eu-west-1:1:team-x"})).truth is False


def test_policy_variables_are_substituted_from_the_request():
    conditions = {"StringEquals": {"aws:RequestTag/pii-access": "${aws:PrincipalTag/pii-access}"}}
    same = req("sts:TagSession", ROLE, {"aws:RequestTag/pii-access": "true", "aws:PrincipalTag/pii-access": "true"})
    assert evaluate_conditions(conditions, same).truth is True
    raised = req("sts:TagSession", ROLE, {"aws:RequestTag/pii-access": "true", "aws:PrincipalTag/pii-access": "false"})
    assert evaluate_conditions(conditions, raised).truth is False


def test_numeric_operators():
    assert evaluate_conditions({"NumericLessThanEquals": {"s3:max-keys": "10"}},
                               req("s3:ListBucket", BUCKET, {"s3:max-keys": "5"})).truth is True
    assert evaluate_conditions({"NumericLessThanEquals": {"s3:max-keys": "10"}},
                               req("s3:ListBucket", BUCKET, {"s3:max-keys": "50"})).truth is False


@pytest.mark.parametrize("conditions", [
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
    {"ForAnyValue:BinaryEquals": {"x:y": "QmluYXJ5"}},
])
def test_unsupported_operator_is_unknown_never_true(conditions):
    result = evaluate_conditions(conditions, req("s3:GetObject", BUCKET, {"aws:SourceIp": "10.1.1.1",
                                                                          "aws:CurrentTime": "2026-01-01T00:00:00Z",
                                                                          "x:y": "QmluYXJ5"}))
    assert result.truth is None
    assert "is not evaluated" in result.reason


def test_unmodelled_key_makes_the_allow_unproven():
    statement = dict(READ, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    decision = evaluate(req("s3:GetObject", f"{BUCKET}/models/a"), [policy("id", statement)])
    assert decision.outcome == UNPROVEN
    assert "aws:MultiFactorAuthPresent" in decision.reason


def test_complete_namespace_makes_a_missing_key_absent():
    statement = dict(READ, Condition={"StringEquals": {"aws:PrincipalTag/pii-access": "true"}})
    decision = evaluate(req("s3:GetObject", f"{BUCKET}/models/a", complete=("aws:principaltag/",)),
                        [policy("id", statement)])
    assert decision.outcome == DENIED


def test_a_deny_that_cannot_be_decided_makes_an_allow_unproven():
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
    decision = evaluate(req("s3:GetObject", f"{BUCKET}/models/a"), [policy("id", READ, deny)])
    assert decision.outcome == UNPROVEN


def test_identity_policies_outside_the_plan_make_a_missing_allow_unproven():
    decision = evaluate(req("s3:GetObject", f"{BUCKET}/datasets/a"), None,
                        identity_note="managed policy arn:aws:iam::aws:policy/X")
    assert decision.outcome == UNPROVEN
    assert "managed policy" in decision.reason


def test_bad_documents_are_named_errors():
    with pytest.raises(PolicyDocumentError, match="bucket: not JSON"):
        Policy.parse("bucket", "{not json")
    with pytest.raises(PolicyDocumentError, match="no Allow/Deny"):
        Policy.parse("bucket", {"Statement": [{"Effect": "Maybe"}]})
