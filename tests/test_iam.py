"""The typed IAM policy builder: least-privilege rules enforced where documents are made."""

from __future__ import annotations

import json

import pytest

from components.iam import PolicyError, Principal, Statement, allow, deny, document


def test_document_is_deterministic_and_compact():
    text = document(allow(["s3:PutObject", "s3:GetObject", "s3:GetObject"], "arn:aws:s3:::b/*", sid="Rw"))
    assert json.loads(text) == {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Rw", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                       "Resource": "arn:aws:s3:::b/*"}],
    }
    assert text == document(allow(["s3:GetObject", "s3:PutObject"], ["arn:aws:s3:::b/*"], sid="Rw"))


def test_star_action_on_star_resource_is_refused():
    with pytest.raises(PolicyError, match="every action on every resource"):
        allow("*", "*")
    deny("*", "*")  # denying everything is fine


def test_identity_statements_need_a_resource():
    with pytest.raises(PolicyError, match="names no resource"):
        allow("s3:GetObject")
    with pytest.raises(PolicyError, match="names no action"):
        allow([], "arn:aws:s3:::b")


def trust_statement(principal: Principal, conditions=None) -> dict:
    """A trust statement as the service role and the human roles build it (no resource)."""
    return json.loads(document(Statement(("sts:AssumeRole",), (), "Allow", principal=principal,
                                         conditions=conditions or {})))["Statement"][0]


def test_trust_statement_has_no_resource_and_carries_conditions():
    statement = trust_statement(Principal.aws("arn:aws:iam::111122223333:root"),
                                {"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    assert "Resource" not in statement
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    service = trust_statement(Principal.service("sagemaker.amazonaws.com", "ecs-tasks.amazonaws.com"))
    assert service["Principal"] == {"Service": ["ecs-tasks.amazonaws.com", "sagemaker.amazonaws.com"]}


def test_resource_policy_principal_anyone():
    statement = json.loads(document(deny("s3:*", ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], principal=Principal.anyone(),
                                         conditions={"Bool": {"aws:SecureTransport": "false"}})))["Statement"][0]
    assert statement["Principal"] == "*" and statement["Effect"] == "Deny"


def test_human_roles_trust_the_named_sign_in_roles_or_else_the_account():
    from components.identity import human_trust_policy

    sso = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Member_0a1b"
    named = json.loads(human_trust_policy(sso))["Statement"]
    assert {s["Principal"]["AWS"] for s in named} == {sso}
    assert all(s["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"} for s in named)
    fallback = json.loads(human_trust_policy("arn:aws:iam::111122223333:root"))["Statement"]
    assert {s["Principal"]["AWS"] for s in fallback} == {"arn:aws:iam::111122223333:root"}
