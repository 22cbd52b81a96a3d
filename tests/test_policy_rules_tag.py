"""MLP-TAG-* (billing and ownership tags, ``policies/rules/tag.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import base_values, case_params, check_case, provider
from tests.helpers.policy_resources import key

V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-TAG-001", "tagged", lambda: key(), V(), False),
    ("MLP-TAG-001", "missing-cost-center", lambda: [provider(**{"cost-center": ""})] + key(), V(), True),
    ("MLP-TAG-001", "bad-classification", lambda: [provider(**{"data-classification": "secret"})] + key(), V(), True),
    ("MLP-TAG-001", "wrong-environment", lambda: key(), V(environment="dev"), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
