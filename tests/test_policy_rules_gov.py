"""MLP-GOV-* (valid exemptions, ``policies/rules/gov.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import TEAM, base_values, case_params, check_case, team_component


EXEMPTION = {"team": TEAM, "rule": "MLP-GOV-001", "resource": None, "approvedBy": "security@example.com",
             "reason": "A documented, approved reason for the exemption."}


V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-GOV-001", "valid-exemption", lambda: [team_component()],
     V(allExemptions=[{**EXEMPTION, "expires": "2027-01-31"}]), False),
    ("MLP-GOV-001", "expired-exemption", lambda: [team_component()],
     V(allExemptions=[{**EXEMPTION, "expires": "2026-11-25"}]), True),
    ("MLP-GOV-001", "exemption-without-approver", lambda: [team_component()],
     V(allExemptions=[{**EXEMPTION, "approvedBy": "", "expires": "2027-01-31"}]), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
