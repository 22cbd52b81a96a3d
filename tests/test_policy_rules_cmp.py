"""MLP-CMP-* (compute, ``policies/rules/cmp.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import TEAM, base_values, case_params, check_case, res, team_component
from tests.helpers.policy_resources import compute_env, endpoint_config, launch_template


def cluster_queue(gpus: int) -> list:
    return [res("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "fraud-cq", {
        "metadata": {"name": "fraud-gpu", "labels": {"team": TEAM}},
        "spec": {"resourceGroups": [{"coveredResources": ["nvidia.com/gpu"], "flavors": [
            {"name": "g5", "resources": [{"name": "nvidia.com/gpu", "nominalQuota": gpus}]}]}]}})]


V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-CMP-001", "allowed-serving", lambda: endpoint_config(), V(), False),
    ("MLP-CMP-001", "disallowed-serving", lambda: endpoint_config("ml.p4d.24xlarge"), V(), True),
    ("MLP-CMP-001", "disallowed-training", lambda: compute_env(types=("p3.2xlarge",)), V(), True),
    ("MLP-CMP-002", "within-ceiling", lambda: [team_component()] + compute_env(vcpus=96), V(), False),
    ("MLP-CMP-002", "team-over-ceiling", lambda: [team_component()] + compute_env(vcpus=480), V(), True),
    ("MLP-CMP-002", "stack-over-ceiling", lambda: cluster_queue(12) + compute_env(vcpus=96), V(perStack=16), True),
    ("MLP-CMP-003", "imdsv2", lambda: launch_template(), V(), False),
    ("MLP-CMP-003", "imdsv1", lambda: launch_template(metadataOptions={"httpTokens": "optional"}), V(), True),
    ("MLP-CMP-003", "public-ip", lambda: launch_template(networkInterfaces=[{"associatePublicIpAddress": "true"}]),
     V(), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
