"""Training queues: AWS Batch and Kueue inputs, as the offline plan records them."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from components.artifact_store import artifact_bucket_name
from mlplatform.catalogues.instances import gpu_instance_problem, lookup, max_vcpus_for_gpus, source
from components.training_batch import (
    SPOT_RECLAIM_STATUS_REASON,
    share_identifier,
    submit_job,
    submit_job_request,
    weight_factor,
)
from mlplatform.stackconfig import load_stack_config

from .conftest import PROJECT_ROOT
from .helpers.dataplane import by_type, one


def children_of(graph, parent_type, parent_name):
    parent = one(graph, parent_type, parent_name)
    return [r for r in graph if r.parent == parent.urn]


# ---------------------------------------------------------------- catalogue

def test_catalogue_has_its_source_and_every_allowed_type():
    assert "aws.amazon.com/ec2/instance-types" in source()["ec2"]
    for stack in ("dev", "staging", "prod"):
        config = load_stack_config(stack)
        for name in config.allowed_instance_types.training + config.allowed_instance_types.serving:
            assert lookup(name) is not None, name
    assert (lookup("g5.12xlarge").vcpus, lookup("g5.12xlarge").gpus) == (48, 4)
    assert lookup("ml.m5.large").gpus == 0


def test_max_vcpus_never_lets_the_queue_exceed_its_gpus():
    assert max_vcpus_for_gpus(["g5.12xlarge"], 8) == 96  # 2 instances x 48 vCPUs
    # mixed: 8 vCPUs per GPU on g5.2xlarge is the leanest, so 16 GPUs -> 128 vCPUs
    assert max_vcpus_for_gpus(["g5.2xlarge", "g5.12xlarge"], 16) == 128
    assert max_vcpus_for_gpus(["p4d.24xlarge"], 16) == 192
    with pytest.raises(KeyError):
        max_vcpus_for_gpus(["g9.xlarge"], 1)


def test_fallback_environments_share_the_queue_ceiling():
    from mlplatform.catalogues.gpu_accounting import capacity_split  # the one rule Batch and Kueue share

    assert capacity_split(16, spot=True, fallback=True) == {"spot": 8, "on-demand": 8}
    assert capacity_split(5, spot=True, fallback=True) == {"spot": 3, "on-demand": 2}
    assert capacity_split(1, spot=True, fallback=True) == {"spot": 1, "on-demand": 0}  # no on-demand environment then
    assert capacity_split(8, spot=False, fallback=True) == {"on-demand": 8}


def test_launchable_types_fit_one_instance_under_the_cap():
    from mlplatform.catalogues.instances import launchable_types

    # 4 GPUs at 8 vCPUs each: 32 vCPUs, a g5.12xlarge (48) never starts, g5.2xlarge does
    assert launchable_types(["g5.2xlarge", "g5.12xlarge"], 4) == ["g5.2xlarge"]
    assert launchable_types(["g5.2xlarge", "g5.12xlarge"], 16) == ["g5.2xlarge", "g5.12xlarge"]
    assert launchable_types(["g5.12xlarge"], 2) == []


def test_gpu_instance_problems():
    assert gpu_instance_problem("g5.2xlarge") is None
    assert "no entry in the instance catalogue" in gpu_instance_problem("g9.xlarge")
    assert "has no GPU" in gpu_instance_problem("ml.m5.large")


# ---------------------------------------------------------------- batch

def test_batch_queue_orders_spot_then_on_demand(dev_graph, prod_graph):
    for graph, env in ((dev_graph, "dev"), (prod_graph, "prod")):
        account = load_stack_config(env).account_id
        queue = one(graph, "aws:batch/jobQueue:JobQueue", "nlp-research-queue-pretrain-job-queue")
        spot = one(graph, "aws:batch/computeEnvironment:ComputeEnvironment", "nlp-research-queue-pretrain-ce-spot")
        on_demand = one(graph, "aws:batch/computeEnvironment:ComputeEnvironment", "nlp-research-queue-pretrain-ce-on-demand")
        orders = sorted(queue.inputs["computeEnvironmentOrders"], key=lambda o: o["order"])
        assert [o["order"] for o in orders] == [1, 2]
        arn = f"arn:aws:batch:eu-west-1:{account}:compute-environment/nlp-research-{env}-pretrain-train"
        assert [o["computeEnvironment"] for o in orders] == [f"{arn}-spot", f"{arn}-on-demand"]
        assert spot.inputs["name"] == f"nlp-research-{env}-pretrain-train-spot"
        assert {spot.urn, on_demand.urn} <= set(queue.dependencies)  # created before the queue
        assert spot.inputs["computeResources"]["type"] == "SPOT"
        assert spot.inputs["computeResources"]["allocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
        assert on_demand.inputs["computeResources"]["type"] == "EC2"
        assert queue.inputs["name"] == f"nlp-research-{env}-pretrain-train"


def test_batch_queue_without_fallback_has_only_spot(dev_graph, prod_graph):
    # fraud-detection's dev override turns the fallback off; prod keeps it
    dev = [r.name for r in children_of(dev_graph, "mlplatform:training:BatchQueue", "fraud-detection-queue-gpu")
           if r.type == "aws:batch/computeEnvironment:ComputeEnvironment"]
    prod = [r.name for r in children_of(prod_graph, "mlplatform:training:BatchQueue", "fraud-detection-queue-gpu")
            if r.type == "aws:batch/computeEnvironment:ComputeEnvironment"]
    assert dev == ["fraud-detection-queue-gpu-ce-spot"]
    assert sorted(prod) == ["fraud-detection-queue-gpu-ce-on-demand", "fraud-detection-queue-gpu-ce-spot"]
    queue = one(dev_graph, "aws:batch/jobQueue:JobQueue", "fraud-detection-queue-gpu-job-queue")
    assert len(queue.inputs["computeEnvironmentOrders"]) == 1


def test_batch_max_vcpus_come_from_the_catalogue(dev_graph, prod_graph):
    # fraud gpu: g5.2xlarge + g5.12xlarge, maxGpus 4 in dev, 16 in prod; 8 vCPUs per GPU at leanest
    dev = one(dev_graph, "aws:batch/computeEnvironment:ComputeEnvironment", "fraud-detection-queue-gpu-ce-spot")
    prod = one(prod_graph, "aws:batch/computeEnvironment:ComputeEnvironment", "fraud-detection-queue-gpu-ce-spot")
    assert dev.inputs["computeResources"]["maxVcpus"] == 4 * 8  # dev: spot only, the whole ceiling
    # prod falls back to on-demand: the two environments share the 16 GPUs (Batch fills both at once)
    on_demand = one(prod_graph, "aws:batch/computeEnvironment:ComputeEnvironment", "fraud-detection-queue-gpu-ce-on-demand")
    assert prod.inputs["computeResources"]["maxVcpus"] == 8 * 8
    assert on_demand.inputs["computeResources"]["maxVcpus"] == 8 * 8
    assert dev.inputs["computeResources"]["minVcpus"] == 0
    assert dev.inputs["computeResources"]["instanceTypes"] == ["g5.2xlarge", "g5.12xlarge"]
    config = load_stack_config("dev")
    assert dev.inputs["computeResources"]["subnets"] == config.network.subnet_ids
    assert dev.inputs["computeResources"]["securityGroupIds"] == config.network.security_group_ids


def test_fair_share_policy_and_job_definition(dev_graph):
    policy = one(dev_graph, "aws:batch/schedulingPolicy:SchedulingPolicy", "fraud-detection-queue-gpu-fair-share")
    shares = policy.inputs["fairSharePolicy"]["shareDistributions"]
    assert shares == [{"shareIdentifier": "fraudDetection", "weightFactor": weight_factor(3)}]
    queue = one(dev_graph, "aws:batch/jobQueue:JobQueue", "fraud-detection-queue-gpu-job-queue")
    assert queue.property_dependencies["schedulingPolicyArn"] == [policy.urn]

    job = one(dev_graph, "aws:batch/jobDefinition:JobDefinition", "fraud-detection-queue-gpu-job-definition")
    assert job.inputs["schedulingPriority"] == 70
    assert job.inputs["timeout"] == {"attemptDurationSeconds": 12 * 3600}
    exits = job.inputs["retryStrategy"]["evaluateOnExits"]
    assert exits[0] == {"onStatusReason": SPOT_RECLAIM_STATUS_REASON, "action": "RETRY"}
    assert exits[-1] == {"onReason": "*", "action": "EXIT"}  # application errors end the job
    container = json.loads(job.inputs["containerProperties"])
    assert container["jobRoleArn"] == "arn:aws:iam::111122223333:role/fraud-detection-dev-training"
    assert not container["privileged"]


def test_weight_factor_is_inverse_of_share_weight():
    assert weight_factor(1) == 1.0 and weight_factor(4) == 0.25
    assert weight_factor(3) < weight_factor(2)  # more weight, more capacity
    assert share_identifier("fraud-detection") == "fraudDetection"
    assert share_identifier("nlp-research-2") == "nlpResearch2" and share_identifier("recsys") == "recsys"
    assert all(share_identifier(t).isalnum() for t in ("a-b-c", "x1-y2", "team"))


def test_launch_template_encrypts_with_the_team_key_and_requires_imdsv2(dev_graph):
    template = one(dev_graph, "aws:ec2/launchTemplate:LaunchTemplate", "fraud-detection-queue-gpu-launch-template")
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    assert template.inputs["metadataOptions"]["httpEndpoint"] == "enabled"
    ebs = template.inputs["blockDeviceMappings"][0]["ebs"]
    assert ebs["encrypted"] == "true"
    key = one(dev_graph, "aws:kms/key:Key", "fraud-detection-artifacts-key")
    assert template.property_dependencies["blockDeviceMappings"] == [key.urn]
    spot = one(dev_graph, "aws:batch/computeEnvironment:ComputeEnvironment", "fraud-detection-queue-gpu-ce-spot")
    assert template.urn in spot.property_dependencies["computeResources"]


def test_batch_resources_are_parented_and_tagged(dev_graph):
    for resource in children_of(dev_graph, "mlplatform:training:BatchQueue", "nlp-research-queue-pretrain"):
        if resource.effective_tags is not None:
            assert resource.effective_tags["team"] == "nlp-research"
            assert resource.effective_tags["cost-center"] == "CC-3300"
    component = one(dev_graph, "mlplatform:training:BatchQueue", "nlp-research-queue-pretrain")
    assert component.parent == one(dev_graph, "mlplatform:team:Team", "nlp-research").urn
    assert component.source.line == 17


def test_submit_request_carries_share_identifier_and_priority():
    request = submit_job_request("train-1", "q", "jd", "fraudDetection", scheduling_priority=90, command=["python", "t.py"])
    assert request["shareIdentifier"] == "fraudDetection"
    assert request["schedulingPriorityOverride"] == 90
    assert request["containerOverrides"] == {"command": ["python", "t.py"]}
    assert "schedulingPriorityOverride" not in submit_job_request("t", "q", "jd", "s")


def test_submit_job_sends_a_request_the_batch_api_accepts():
    import boto3

    client = boto3.client("batch", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:  # validates the request against Batch's API model, no network
        stub.add_response("submit_job", {"jobArn": "arn:aws:batch:eu-west-1:111122223333:job/1", "jobName": "t",
                                         "jobId": "1"},
                          {"jobName": "t", "jobQueue": "q", "jobDefinition": "jd", "shareIdentifier": "teamA",
                           "schedulingPriorityOverride": 10})
        assert submit_job(client, job_name="t", job_queue="q", job_definition="jd", share_identifier="teamA",
                          scheduling_priority=10) == "1"


# ---------------------------------------------------------------- kueue

def cluster_queue(graph, name):
    return one(graph, "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue", name)


def test_cluster_queue_quota_cohort_borrowing_and_flavor_order(dev_graph, prod_graph):
    cq = cluster_queue(dev_graph, "recommendations-kueue-cq-kueue-gpu")
    spec = cq.inputs["spec"]
    assert spec["cohortName"] == "ml-platform"
    group = spec["resourceGroups"][0]
    assert group["coveredResources"] == ["cpu", "memory", "nvidia.com/gpu"]
    assert [f["name"] for f in group["flavors"]] == ["g5-12xlarge-spot", "g5-12xlarge-on-demand"]
    # maxGpus 8 with an on-demand fallback: spot 4 and on-demand 4, never 8 each (one GPU accounting)
    for flavor in group["flavors"]:
        gpu = flavor["resources"][2]
        assert gpu == {"name": "nvidia.com/gpu", "nominalQuota": 4, "borrowingLimit": 0}
        assert flavor["resources"][0] == {"name": "cpu", "nominalQuota": 4 * 12}
    assert spec["preemption"]["reclaimWithinCohort"] == "Any"
    assert spec["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "recommendations"}}

    finetune = cluster_queue(prod_graph, "nlp-research-kueue-cq-finetune").inputs["spec"]
    flavors = finetune["resourceGroups"][0]["flavors"]
    assert [f["name"] for f in flavors] == ["g5-2xlarge-on-demand"]  # spot disabled
    assert flavors[0]["resources"][2] == {"name": "nvidia.com/gpu", "nominalQuota": 4, "borrowingLimit": 4}


def test_flavors_are_shared_per_stack_with_node_labels_and_tolerations(dev_graph):
    flavors = by_type(dev_graph, "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor")
    names = sorted(f.inputs["metadata"]["name"] for f in flavors)
    assert names == ["g5-12xlarge-on-demand", "g5-12xlarge-spot", "g5-2xlarge-on-demand"]
    cluster = one(dev_graph, "mlplatform:training:KueueCluster", "kueue-ml-training-dev")
    assert cluster.parent is None or "Stack" in cluster.parent  # at the stack root, not under a team
    stack_lines = (PROJECT_ROOT / "stacks" / "Pulumi.dev.yaml").read_text().splitlines()
    assert cluster.source.file == "stacks/Pulumi.dev.yaml"
    assert stack_lines[cluster.source.line - 1].strip() == "mlplatform:kubernetes:"
    spot = next(f for f in flavors if f.inputs["metadata"]["name"] == "g5-12xlarge-spot")
    assert spot.parent == cluster.urn
    assert spot.inputs["spec"]["nodeLabels"] == {"node.kubernetes.io/instance-type": "g5.12xlarge",
                                                 "karpenter.sh/capacity-type": "spot"}
    keys = [t["key"] for t in spot.inputs["spec"]["tolerations"]]
    assert keys == ["nvidia.com/gpu", "karpenter.sh/capacity-type"]
    provider = one(dev_graph, "pulumi:providers:kubernetes", "kueue-ml-training-dev-provider")
    assert provider.inputs["context"] == "ml-training-dev"
    assert spot.provider == provider.urn


def test_team_namespace_guardrails(dev_graph):
    kids = {r.type.split(":")[-1]: r for r in children_of(dev_graph, "mlplatform:training:KueueQueues", "recommendations-kueue")
            if r.type.startswith("kubernetes:core") or r.type.startswith("kubernetes:rbac") or "LocalQueue" in r.type}
    ns = kids["Namespace"].inputs["metadata"]
    assert ns["name"] == "recommendations"
    assert {k: ns["labels"][k] for k in ("team", "cost-center", "environment", "managed-by")} == {
        "team": "recommendations", "cost-center": "CC-2210", "environment": "dev", "managed-by": "mlplatform"}
    assert kids["ResourceQuota"].inputs["spec"]["hard"]["requests.nvidia.com/gpu"] == "8"
    binding = kids["RoleBinding"].inputs
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ml-team:recommendations"}]
    assert binding["roleRef"]["name"] == "edit"
    local = kids["LocalQueue"].inputs
    assert local["metadata"]["namespace"] == "recommendations"
    assert local["spec"] == {"clusterQueue": "recommendations-kueue-gpu"}
    policies = [r.inputs for r in dev_graph if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
                and r.inputs["metadata"]["namespace"] == "recommendations"]
    deny = next(p for p in policies if p["metadata"]["name"] == "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_stateful_training_resources_are_protected_in_prod_only(dev_graph, prod_graph):
    for graph, protected in ((dev_graph, False), (prod_graph, True)):
        server = one(graph, "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer", "fraud-detection-mlflow-server")
        assert server.options["protect"] is protected


def test_mlflow_server_artifacts_size_and_access(prod_graph):
    server = one(prod_graph, "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer", "fraud-detection-mlflow-server")
    assert server.inputs["trackingServerSize"] == "Medium"
    assert server.inputs["artifactStoreUri"] == f"s3://{artifact_bucket_name(load_stack_config('prod'), 'fraud-detection')}/mlflow/"
    access = [r for r in prod_graph if r.type == "aws:iam/rolePolicy:RolePolicy" and r.name.startswith("fraud-detection-mlflow-")
              and r.name.endswith("-access")]
    assert sorted(r.inputs["role"] for r in access) == ["fraud-detection-prod-consumer", "fraud-detection-prod-training"]
    for policy in access:
        statement = json.loads(policy.inputs["policy"])["Statement"][0]
        assert statement["Resource"].endswith(":mlflow-tracking-server/fraud-detection-prod-mlflow")
    assert not any(r.name == "recommendations-mlflow-server" for r in prod_graph)  # not asked for


def test_batch_queue_needs_the_stacks_network_and_kueue_its_cluster():
    from mlplatform.spec.loader import load_spec_file
    from mlplatform.stackchecks import stack_issues

    from .conftest import EXAMPLES

    loaded = load_spec_file(str(EXAMPLES / "nlp-research.yaml"))
    stack = load_stack_config("dev")
    assert stack_issues([loaded], stack, {"dev", "staging", "prod"}) == []
    bare = stack.model_copy(update={"network": None, "kubernetes": None})
    messages = sorted(issue.format() for issue in stack_issues([loaded], bare, {"dev", "staging", "prod"}))
    assert len(messages) == 2
    assert any("backend batch needs subnets and security groups" in m and "queues[pretrain].backend" in m for m in messages)
    assert any("backend kueue needs a Kubernetes cluster" in m and "queues[finetune].backend" in m for m in messages)
