"""One GPU accounting: validate, MLP-CMP-002, Kueue quotas and Batch maxVcpus agree.

The issue's scenario: a team with a Kueue queue of 8 GPUs and a Batch queue of 4 against a
per-team ceiling of 16. Validate counted 12; the pack counted 20, because the ClusterQueue
gave the full maxGpus to both the spot and the on-demand flavor. Now both count 12, and
the planned quotas are what they count.
"""

from __future__ import annotations

import datetime
import itertools
import re

import pytest
import yaml

from mlplatform.catalogues.gpu_accounting import batch_gpus, capacity_split, flavor_quotas, queue_gpus, split, team_gpus
from mlplatform.catalogues.instances import max_vcpus_for_gpus, require
from components.training_kueue import cluster_queue_spec
from mlplatform.capture import capture_stack
from mlplatform.policy.runner import check
from mlplatform.stackchecks import selected_specs
from mlplatform.spec.loader import load_specs
from mlplatform.spec.models import TrainingQueue
from mlplatform.stackchecks import stack_issues
from mlplatform.stackconfig import load_stack_config
from mlplatform.reports.findings import FAILED
from policies.rules.cmp import batch_gpus as pack_batch_gpus, kueue_gpus as pack_kueue_gpus

from .conftest import EXAMPLES
from tests.helpers.policy import shared_pack

TODAY = datetime.date(2026, 11, 26)
COMPUTE_ENVIRONMENT = "aws:batch/computeEnvironment:ComputeEnvironment"
CLUSTER_QUEUE = "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"


def _queue(**fields) -> TrainingQueue:
    values = {"name": "q", "instanceTypes": ["g5.12xlarge"], "maxGpus": 8, **fields}
    return TrainingQueue.model_validate(values)


# ---------------------------------------------------------------- the issue's scenario

@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """recommendations with its Kueue queue (8 GPUs, spot with on-demand fallback) and an
    added Batch queue (4 GPUs): 12 GPUs on the dev stack."""
    teams = tmp_path_factory.mktemp("scenario") / "teams"
    teams.mkdir()
    source = (EXAMPLES / "recommendations.yaml").read_text()
    spec = yaml.safe_load(source)
    queues = spec["spec"]["training"]["queues"]
    assert [(q["backend"], q["maxGpus"]) for q in queues] == [("kueue", 8)]
    marker = "  endpoints:\n"
    added = ("      - name: batch-gpu\n        backend: batch\n        instanceTypes: [g5.2xlarge]\n"
             "        maxGpus: 4\n        spot: {enabled: true, fallbackToOnDemand: true}\n")
    (teams / "recommendations.yaml").write_text(source.replace(marker, added + marker, 1))
    stack = load_stack_config("dev", teams_dir=str(teams))
    graph = capture_stack("dev", teams_dir=str(teams))
    return stack, graph


def _specs(stack):
    return load_specs([str(stack.teams_path())]).specs


def _validate_count(stack, ceiling: int) -> list[str]:
    stack = stack.model_copy(update={"gpu_ceilings": stack.gpu_ceilings.model_copy(update={"per_team": ceiling})})
    return [issue.format() for issue in stack_issues(_specs(stack), stack, {"dev", "staging", "prod"})]


def _pack_count(stack, graph, ceiling: int) -> list[str]:
    stack = stack.model_copy(update={"gpu_ceilings": stack.gpu_ceilings.model_copy(update={"per_team": ceiling})})
    report = check(shared_pack(), graph, stack, _specs(stack), TODAY)
    return [r.message for r in report.results if r.rule.id == "MLP-CMP-002" and r.status == FAILED]


def test_validate_and_the_pack_count_the_same_twelve_gpus(scenario):
    stack, graph = scenario
    [loaded] = _specs(stack)
    assert team_gpus(loaded.for_environment("dev").spec.training.queues) == 12
    # the issue's ceiling: both accept
    assert _validate_count(stack, 16) == [] and _pack_count(stack, graph, 16) == []
    # exactly at the count: both accept; one below: both reject, naming the same 12
    assert _validate_count(stack, 12) == [] and _pack_count(stack, graph, 12) == []
    [validate_error] = _validate_count(stack, 11)
    [pack_error] = _pack_count(stack, graph, 11)
    assert "hold 12 GPUs" in validate_error and "maxGpus" in validate_error
    assert re.search(r"may hold 12 GPUs, above its ceiling of 11", pack_error)


def test_the_scenarios_planned_quotas_are_what_was_counted(scenario):
    _, graph = scenario
    [cq] = [r for r in graph if r.type == CLUSTER_QUEUE and r.inputs["metadata"]["labels"]["team"] == "recommendations"]
    assert pack_kueue_gpus(cq.inputs) == 8
    ces = [r for r in graph if r.type == COMPUTE_ENVIRONMENT and r.name.startswith("recommendations-queue-batch-gpu")]
    assert sorted(pack_batch_gpus(ce.inputs) for ce in ces) == [2, 2]
    [quota] = [r for r in graph if r.type == RESOURCE_QUOTA and r.inputs["metadata"]["namespace"] == "recommendations"]
    assert quota.inputs["spec"]["hard"]["requests.nvidia.com/gpu"] == "8"  # the Kueue queue's 8, nothing more


# ---------------------------------------------------------------- Kueue

QUEUE_SHAPES = [
    dict(instanceTypes=types, maxGpus=gpus, spot=spot, backend="kueue", borrowingLimitGpus=borrow)
    for types, gpus, spot, borrow in itertools.product(
        (["g5.12xlarge"], ["g5.2xlarge", "g5.12xlarge"], ["g5.2xlarge", "g5.12xlarge", "g5.48xlarge"]),
        (1, 2, 3, 7, 8, 16, 33),
        ({"enabled": True, "fallbackToOnDemand": True}, {"enabled": True, "fallbackToOnDemand": False},
         {"enabled": False}),
        (0, 1, 5),
    )
]


@pytest.mark.parametrize("index", range(len(QUEUE_SHAPES)))
def test_kueue_quota_summed_over_flavors_never_exceeds_max_gpus(index):
    queue = _queue(**QUEUE_SHAPES[index])
    flavors = cluster_queue_spec(queue, "team", "cohort")["resourceGroups"][0]["flavors"]
    gpu = [next(r for r in flavor["resources"] if r["name"] == "nvidia.com/gpu") for flavor in flavors]
    assert sum(r["nominalQuota"] for r in gpu) == queue.max_gpus
    assert sum(r["borrowingLimit"] for r in gpu) == queue.borrowing_limit_gpus
    assert pack_kueue_gpus({"spec": {"resourceGroups": [{"flavors": flavors}]}}) == queue_gpus(queue).total
    # spot flavors first, each capacity's share as the Batch environments get it
    capacities = [flavor.capacity for flavor in flavor_quotas(queue)]
    assert capacities == sorted(capacities, key=["spot", "on-demand"].index)
    for capacity, share in queue_gpus(queue).by_capacity.items():
        assert sum(f.nominal_gpus for f in flavor_quotas(queue) if f.capacity == capacity) == share
    for flavor, quota in zip(flavor_quotas(queue), flavors):  # cpu and memory follow the flavor's GPUs
        cpu = next(r for r in quota["resources"] if r["name"] == "cpu")
        assert cpu["nominalQuota"] == int(flavor.nominal_gpus * require(flavor.instance_type).vcpus_per_gpu)


def test_even_split_gives_the_remainder_to_the_earlier_types():
    assert split(7, 3) == [3, 2, 2] and split(2, 3) == [1, 1, 0] and split(0, 2) == [0, 0]
    assert capacity_split(7, spot=True, fallback=True) == {"spot": 4, "on-demand": 3}
    gpus = queue_gpus(_queue(maxGpus=1, spot={"enabled": True, "fallbackToOnDemand": True}, backend="kueue",
                             borrowingLimitGpus=3))
    assert gpus.by_capacity == {"spot": 1} and gpus.borrowing_by_capacity == {"spot": 3} and gpus.total == 4


def test_resource_quota_caps_the_team_at_what_the_cluster_queues_may_admit(dev_graph, prod_graph):
    for graph in (dev_graph, prod_graph):
        for quota in (r for r in graph if r.type == RESOURCE_QUOTA):
            team = quota.inputs["metadata"]["namespace"]
            admitted = sum(pack_kueue_gpus(cq.inputs) for cq in graph
                           if cq.type == CLUSTER_QUEUE and cq.inputs["metadata"]["labels"]["team"] == team)
            assert int(quota.inputs["spec"]["hard"]["requests.nvidia.com/gpu"]) == admitted


# ---------------------------------------------------------------- Batch

@pytest.mark.parametrize("types", [["g5.2xlarge"], ["g5.12xlarge"], ["g5.2xlarge", "g5.12xlarge"],
                                   ["g5.12xlarge", "g5.48xlarge"], ["p4d.24xlarge"], ["g4dn.12xlarge", "p3dn.24xlarge"]])
def test_batch_max_vcpus_correspond_to_the_gpu_count(types):
    for gpus in range(1, 65):
        assert batch_gpus(types, max_vcpus_for_gpus(types, gpus)) == gpus


def test_batch_environments_of_every_shipped_stack_hold_the_queues_max_gpus(dev_graph, prod_graph):
    for stack, graph in (("dev", dev_graph), ("prod", prod_graph)):
        specs = {loaded.team: loaded.for_environment(stack).spec for loaded in selected_specs(load_stack_config(stack))}
        for team, spec in specs.items():
            for queue in spec.training.queues:
                if queue.backend != "batch":
                    continue
                ces = {r.name.rsplit("-ce-", 1)[1]: r for r in graph if r.type == COMPUTE_ENVIRONMENT
                       and r.name.startswith(f"{team}-queue-{queue.name}-ce-")}
                held = {label: pack_batch_gpus(ce.inputs) for label, ce in ces.items()}
                assert held == queue_gpus(queue).by_capacity, (stack, team, queue.name)
                assert sum(held.values()) == queue.max_gpus


# ---------------------------------------------------------------- validate and the pack on the shipped stacks

@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_the_pack_counts_each_shipped_team_as_validate_does(stack_name, dev_graph, prod_graph):
    graph = {"dev": dev_graph, "prod": prod_graph}[stack_name]
    stack = load_stack_config(stack_name)
    for loaded in selected_specs(stack):
        counted = 0
        for resource in graph:
            if resource.type == COMPUTE_ENVIRONMENT and (resource.effective_tags or {}).get("team") == loaded.team:
                counted += pack_batch_gpus(resource.inputs)
            elif resource.type == CLUSTER_QUEUE and resource.inputs["metadata"]["labels"]["team"] == loaded.team:
                counted += pack_kueue_gpus(resource.inputs)
        assert counted == team_gpus(loaded.for_environment(stack_name).spec.training.queues), loaded.team


def test_a_fallback_share_too_small_for_any_instance_is_a_spec_error(tmp_path):
    spec = (EXAMPLES / "fraud-detection.yaml").read_text()
    # 16 GPUs on g5.12xlarge only split 8/8 fine; 4 split 2/2 and no g5.12xlarge (4 GPUs) fits either half
    path = tmp_path / "fraud-detection.yaml"
    path.write_text(spec.replace("instanceTypes: [g5.2xlarge, g5.12xlarge]\n        maxGpus: 16",
                                 "instanceTypes: [g5.12xlarge]\n        maxGpus: 4"))
    result = load_specs([str(path)])
    messages = [issue.format() for issue in result.issues]
    assert any("maxGpus (4) is split between spot and the on-demand fallback, and spot gets 2" in m
               and "raise maxGpus to at least 8" in m for m in messages), messages
