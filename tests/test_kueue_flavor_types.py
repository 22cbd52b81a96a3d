"""MLP-CMP-001 judges the ResourceFlavors the platform creates (kueue.x-k8s.io/v1beta2)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import failures, graph_of, res, run


def _flavor(version: str, instance_type: str):
    return res(f"kubernetes:kueue.x-k8s.io/{version}:ResourceFlavor", f"flavor-{instance_type}", {
        "metadata": {"name": instance_type.replace(".", "-") + "-spot"},
        "spec": {"nodeLabels": {"node.kubernetes.io/instance-type": instance_type,
                                "karpenter.sh/capacity-type": "spot"}}})


@pytest.mark.parametrize("version", ["v1beta1", "v1beta2"])
def test_a_flavor_of_a_type_the_stack_does_not_allow_violates(version):
    assert failures(run(graph_of(_flavor(version, "p5.48xlarge"))), "MLP-CMP-001")
    assert not failures(run(graph_of(_flavor(version, "g5.2xlarge"))), "MLP-CMP-001")
