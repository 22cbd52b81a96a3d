"""MLP-ADV-* (cost advisories, ``policies/rules/adv.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import base_values, case_params, check_case, res
from tests.helpers.policy_resources import compute_env


def scaling(with_schedule: bool) -> list:
    target = res("aws:appautoscaling/target:Target", "fraud-scorer-scaling", {
        "serviceNamespace": "sagemaker", "resourceId": "endpoint/fraud-scorer/variant/main",
        "scalableDimension": "sagemaker:variant:DesiredInstanceCount", "minCapacity": 2, "maxCapacity": 10})
    action = res("aws:appautoscaling/scheduledAction:ScheduledAction", "fraud-scorer-night", {
        "serviceNamespace": "sagemaker", "resourceId": "endpoint/fraud-scorer/variant/main",
        "scalableDimension": "sagemaker:variant:DesiredInstanceCount", "schedule": "cron(0 22 * * ? *)",
        "scalableTargetAction": {"minCapacity": 1, "maxCapacity": 2}})
    return [target, action] if with_schedule else [target]


V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-ADV-001", "spot", lambda: compute_env(kind="SPOT"), V(), False),
    ("MLP-ADV-001", "on-demand", lambda: compute_env(kind="EC2"), V(), True),
    ("MLP-ADV-002", "off-peak-schedule", lambda: scaling(True), V(), False),
    ("MLP-ADV-002", "always-on", lambda: scaling(False), V(), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
