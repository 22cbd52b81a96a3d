"""MLP-PROT-* (protected stateful resources, ``policies/rules/prot.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import base_values, case_params, check_case
from tests.helpers.policy_resources import bucket_set, key

V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-PROT-001", "protected", lambda: bucket_set(), V(), False),
    ("MLP-PROT-001", "unprotected", lambda: key(protect=False), V(), True),
    ("MLP-PROT-001", "force-destroy", lambda: bucket_set(bucket={"forceDestroy": True}), V(), True),
    ("MLP-PROT-001", "not-production", lambda: key(protect=False), V(environment="dev", environments=["prod"]),
     False),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
