"""MLP-KMS-* (KMS keys, ``policies/rules/kms.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import base_values, case_params, check_case
from tests.helpers.policy_resources import key, policy

V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-KMS-001", "rotating", lambda: key(), V(), False),
    ("MLP-KMS-001", "no-rotation", lambda: key(enableKeyRotation=False), V(), True),
    ("MLP-KMS-001", "short-deletion-window", lambda: key(deletionWindowInDays=7), V(), True),
    ("MLP-KMS-002", "explicit-policy", lambda: key(), V(), False),
    ("MLP-KMS-002", "no-policy", lambda: key(policy=None), V(), True),
    ("MLP-KMS-002", "public-principal", lambda: key(policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"})), V(), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
