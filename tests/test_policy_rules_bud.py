"""MLP-BUD-* (team budgets, ``policies/rules/bud.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import TEAM, base_values, case_params, check_case, res, team_component


def budget(**changes) -> list:
    inputs = {"budgetType": "COST", "limitAmount": "25000.00", "limitUnit": "USD", "timeUnit": "MONTHLY",
              "costFilters": [{"name": "TagKeyValue", "values": [f"user:team${TEAM}"]}],
              "notifications": [{"comparisonOperator": "GREATER_THAN", "threshold": 80, "thresholdType": "PERCENTAGE",
                                 "notificationType": "ACTUAL", "subscriberEmailAddresses": ["ml@example.com"]}]}
    inputs.update(changes)
    return [team_component(), res("aws:budgets/budget:Budget", "fraud-budget", inputs)]


V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-BUD-001", "budget", lambda: budget(), V(), False),
    ("MLP-BUD-001", "no-budget", lambda: [team_component()], V(), True),
    ("MLP-BUD-001", "budget-alerts-nobody", lambda: budget(notifications=[]), V(), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
