"""MLP-REG-* (data residency, ``policies/rules/reg.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import base_values, case_params, check_case, provider, res
from tests.helpers.policy_resources import KEY_ARN, key

V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-REG-001", "eu-region", lambda: key(), V(), False),
    ("MLP-REG-001", "us-provider", lambda: [provider(region="us-east-1")] + key(), V(), True),
    ("MLP-REG-001", "arn-elsewhere", lambda: [res("aws:sns/topic:Topic", "t", {
        "kmsMasterKeyId": KEY_ARN.replace("eu-west-1", "us-west-2")})], V(), True),
    ("MLP-REG-001", "narrowed-by-classification", lambda: [provider(region="eu-central-1")] + key(),
     V(classificationRegions={"restricted": ["eu-west-1"]}), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
