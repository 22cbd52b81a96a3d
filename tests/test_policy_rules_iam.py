"""MLP-IAM-* (IAM, ``policies/rules/iam.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import ACCOUNT, BOUNDARY, base_values, case_params, check_case, res
from tests.helpers.policy_resources import ARN, policy, role_policy


HUMAN = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
SERVICE = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "sagemaker.amazonaws.com"}}


def role(trust: dict, **inputs) -> list:
    return [res("aws:iam/role:Role", "fraud-role", {"assumeRolePolicy": policy(trust), "maxSessionDuration": 3600,
                                                    "permissionsBoundary": BOUNDARY, **inputs})]


V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-IAM-001", "scoped", lambda: role_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{ARN}/*"}),
     V(), False),
    ("MLP-IAM-001", "star-on-star", lambda: role_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}), V(), True),
    ("MLP-IAM-001", "service-star-on-star", lambda: role_policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
     V(), True),
    ("MLP-IAM-001", "admin-attachment", lambda: [res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {
        "role": "fraud-role", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})], V(), True),
    ("MLP-IAM-003", "human-with-mfa", lambda: role(HUMAN), V(), False),
    ("MLP-IAM-003", "service-role", lambda: role(SERVICE), V(), False),
    ("MLP-IAM-003", "human-without-mfa", lambda: role({**HUMAN, "Condition": {}}), V(), True),
    ("MLP-IAM-003", "long-sessions", lambda: role(HUMAN, maxSessionDuration=43200), V(), True),
    ("MLP-IAM-005", "boundary", lambda: role(SERVICE), V(), False),
    ("MLP-IAM-005", "no-boundary", lambda: role(SERVICE, permissionsBoundary=None), V(), True),
    ("MLP-IAM-005", "stack-without-boundary", lambda: role(SERVICE, permissionsBoundary=None),
     V(permissionsBoundaryArn=None), False),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
