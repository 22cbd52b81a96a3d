"""MLP-ECR-* (image registries, ``policies/rules/ecr.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import base_values, case_params, check_case, res

V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-ECR-001", "immutable-scanned", lambda: [res("aws:ecr/repository:Repository", "r", {
        "imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}})], V(), False),
    ("MLP-ECR-001", "mutable", lambda: [res("aws:ecr/repository:Repository", "r", {
        "imageTagMutability": "MUTABLE", "imageScanningConfiguration": {"scanOnPush": True}})], V(), True),
    ("MLP-ECR-001", "unscanned", lambda: [res("aws:ecr/repository:Repository", "r", {
        "imageTagMutability": "IMMUTABLE"})], V(), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
