"""MLP-FS-* (PII feature groups, ``policies/rules/fs.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import ACCOUNT, base_values, case_params, check_case
from tests.helpers.policy_resources import FG_NAME, PII_FACTS, feature_group, role_policy

V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-FS-001", "tagged-pii", lambda: feature_group(), V(**PII_FACTS), False),
    ("MLP-FS-001", "untagged-pii", lambda: feature_group(tags={}), V(**PII_FACTS), True),
    ("MLP-FS-001", "access-by-attributes", lambda: feature_group() + role_policy({
        "Effect": "Allow", "Action": ["sagemaker:GetRecord"], "Resource": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:feature-group/*",
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}}), V(**PII_FACTS), False),
    ("MLP-FS-001", "access-without-attributes", lambda: feature_group() + role_policy({
        "Effect": "Allow", "Action": ["sagemaker:GetRecord"],
        "Resource": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:feature-group/{FG_NAME}"}), V(**PII_FACTS), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
