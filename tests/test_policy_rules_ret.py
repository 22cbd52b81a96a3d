"""MLP-RET-* (log and PII retention, ``policies/rules/ret.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import base_values, case_params, check_case, res
from tests.helpers.policy_resources import FG_NAME, KEY_ARN, LOG_GROUP, PII_FACTS, bucket_set, feature_group

V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-RET-001", "bounded", lambda: [res(LOG_GROUP, "lg", {"kmsKeyId": KEY_ARN, "retentionInDays": 400})], V(), False),
    ("MLP-RET-001", "forever", lambda: [res(LOG_GROUP, "lg", {"kmsKeyId": KEY_ARN})], V(), True),
    ("MLP-RET-001", "too-short-for-restricted", lambda: [res(LOG_GROUP, "lg", {"kmsKeyId": KEY_ARN,
                                                                               "retentionInDays": 30})], V(), True),
    ("MLP-RET-002", "bounded-pii", lambda: feature_group() + bucket_set()[1:], V(**PII_FACTS), False),
    ("MLP-RET-002", "pii-without-ttl", lambda: feature_group(ttl=None) + bucket_set()[1:], V(**PII_FACTS), True),
    # the offline store's objects live under its URI: a rule on that folder covers them
    ("MLP-RET-002", "pii-expired-by-folder-rule", lambda: feature_group() + bucket_set(lifecycle={"rules": [
        {"id": "r", "status": "Enabled", "filter": {"prefix": f"feature-store/{FG_NAME}/"},
         "expiration": {"days": 365}}]})[1:], V(**PII_FACTS), False),
    ("MLP-RET-002", "pii-rule-on-another-folder", lambda: feature_group() + bucket_set(lifecycle={"rules": [
        {"id": "r", "status": "Enabled", "filter": {"prefix": f"feature-store/{FG_NAME}-v2/"},
         "expiration": {"days": 365}}]})[1:], V(**PII_FACTS), True),
    ("MLP-RET-002", "pii-kept-too-long", lambda: feature_group() + bucket_set(lifecycle={"rules": [
        {"id": "r", "status": "Enabled", "filter": {}, "expiration": {"days": 4000}}]})[1:], V(**PII_FACTS), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
