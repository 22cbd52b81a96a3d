"""MLP-CMP-*: compute, allowed instance types per stack, GPU ceilings, hardened launch templates.

GPU capacity is counted where it is declared, by the platform's one GPU accounting rule
(``mlplatform/catalogues/gpu_accounting.py``, GPU and vCPU facts from the instance catalogue), the
rule ``mlp validate --stack S`` counts the specs by and the components size queues by:

* AWS Batch compute environments: ``computeResources.maxVcpus`` converted to GPUs at the
  fewest vCPUs per GPU among its instance types (:func:`batch_gpus`, an upper bound: the
  environment can never hold more);
* Kueue ClusterQueues: ``nominalQuota`` plus ``borrowingLimit`` of ``nvidia.com/gpu``,
  summed over flavors.

The owning team of a Batch environment is its ``team`` tag; of a Kueue object its
``team`` label (``metadata.labels``).
"""

from __future__ import annotations

from typing import Any, Optional

from mlplatform.catalogues.gpu_accounting import batch_gpus as gpus_for_vcpus
from mlplatform.type_tokens import (
    BATCH_COMPUTE_ENVIRONMENT, EC2_LAUNCH_TEMPLATE, KUEUE_RESOURCE_FLAVOR_V1BETA1, KUEUE_RESOURCE_FLAVOR_V1BETA2,
    SAGEMAKER_ENDPOINT_CONFIGURATION)

from .common import MANDATORY, UNKNOWN, Context, as_list, peek, rule, team_urn

CLUSTER_QUEUE_SUFFIX = ":ClusterQueue"
KUEUE_GROUP = "kubernetes:kueue.x-k8s.io/"

GPU_RESOURCE = "nvidia.com/gpu"


def _serving_types(props: Any) -> list[str]:
    types = []
    for key in ("productionVariants", "shadowProductionVariants"):
        for variant in as_list(peek(props, key)):
            value = peek(variant, "instanceType")
            if isinstance(value, str) and value != UNKNOWN:
                types.append(value)
    return types


def _training_types(ctx: Context) -> list[str]:
    if ctx.type == BATCH_COMPUTE_ENVIRONMENT:
        values = as_list(peek(ctx.props, "computeResources", "instanceTypes"))
    elif ctx.type == EC2_LAUNCH_TEMPLATE:
        values = [peek(ctx.props, "instanceType")]
    else:  # Kueue ResourceFlavor
        values = [peek(ctx.props, "spec", "nodeLabels", "node.kubernetes.io/instance-type")]
    return [v for v in values if isinstance(v, str) and v != UNKNOWN]


@rule(
    id="MLP-CMP-001",
    name="Allowed instance types",
    description="Endpoint configs use only the stack's allowed serving instance types; Batch compute environments, "
                "launch templates and Kueue resource flavors only its allowed training types.",
    severity="medium",
    remediation="Pick an instance type from the stack's mlplatform:allowedInstanceTypes.",
    level=MANDATORY,
    concern="compute",
    types=(SAGEMAKER_ENDPOINT_CONFIGURATION, BATCH_COMPUTE_ENVIRONMENT, EC2_LAUNCH_TEMPLATE,
           KUEUE_RESOURCE_FLAVOR_V1BETA1, KUEUE_RESOURCE_FLAVOR_V1BETA2),
    config={
        "training": {"type": ["array", "null"], "items": {"type": "string"}, "default": None},
        "serving": {"type": ["array", "null"], "items": {"type": "string"}, "default": None},
    },
)
def check_instance_types(ctx: Context, report) -> None:
    if ctx.type == SAGEMAKER_ENDPOINT_CONFIGURATION:
        allowed, kind, found = ctx.config["serving"], "serving", _serving_types(ctx.props)
    else:
        allowed, kind, found = ctx.config["training"], "training", _training_types(ctx)
    if allowed is None:
        return
    for value in found:
        if value not in allowed:
            report(f"{kind} instance type {value} is not allowed in this stack (allowed: {', '.join(allowed)})")


def batch_gpus(props: Any) -> Optional[int]:
    """GPUs a compute environment may hold; None when its capacity is unknown at preview."""
    resources = peek(props, "computeResources")
    vcpus = peek(resources, "maxVcpus")
    types = [t for t in as_list(peek(resources, "instanceTypes")) if isinstance(t, str)]
    if vcpus == UNKNOWN or resources == UNKNOWN:
        return None
    if not isinstance(vcpus, (int, float)):
        return 0
    return gpus_for_vcpus(types, int(vcpus))


def kueue_gpus(props: Any) -> int:
    total = 0
    for group in as_list(peek(props, "spec", "resourceGroups")):
        for flavor in as_list(peek(group, "flavors")):
            for resource in as_list(peek(flavor, "resources")):
                if peek(resource, "name") == GPU_RESOURCE:
                    for key in ("nominalQuota", "borrowingLimit"):
                        value = peek(resource, key)
                        if isinstance(value, str) and value.isdigit():
                            value = int(value)
                        if isinstance(value, (int, float)):
                            total += int(value)
    return total


@rule(
    id="MLP-CMP-002",
    name="GPU ceilings",
    description="The GPUs a team's training queues may hold (Batch maxVcpus converted at the fewest vCPUs per GPU of "
                "its instance types, Kueue nvidia.com/gpu quota plus borrowing summed over flavors) stay within the "
                "per-team ceiling, and the whole stack within the per-stack ceiling; the count is the one validate "
                "makes.",
    severity="high",
    remediation="Lower the queues' maxGpus (or borrowingLimitGpus) in the team spec or ask for a larger ceiling "
                "in the stack config.",
    level=MANDATORY,
    stack=True,
    concern="compute",
    config={
        "perTeam": {"type": "integer", "minimum": 0, "default": 0},
        "perStack": {"type": "integer", "minimum": 0, "default": 0},
        "teamCeilings": {"type": "object", "additionalProperties": {"type": "integer"}, "default": {}},
    },
)
def check_gpu_ceilings(ctx: Context, report) -> None:
    per_team: dict[str, int] = {}
    unknown = []
    stack_total = 0
    for resource in ctx.resources:
        kind = resource.resource_type
        if kind == BATCH_COMPUTE_ENVIRONMENT:
            gpus = batch_gpus(resource.props)
            team = ctx.team(resource)
        elif kind.startswith(KUEUE_GROUP) and kind.endswith(CLUSTER_QUEUE_SUFFIX):
            gpus = kueue_gpus(resource.props)
            team = peek(resource.props, "metadata", "labels", "team")
        else:
            continue
        if gpus is None:
            unknown.append(resource)
            continue
        stack_total += gpus
        if isinstance(team, str):
            per_team[team] = per_team.get(team, 0) + gpus
    ceilings = ctx.config.get("teamCeilings", {})
    for team, gpus in sorted(per_team.items()):
        ceiling = ceilings.get(team, ctx.config["perTeam"])
        if gpus > ceiling:
            report(f"team {team} may hold {gpus} GPUs, above its ceiling of {ceiling}",
                   team_urn(ctx, team))
    if stack_total > ctx.config["perStack"]:
        report(f"the stack's queues may hold {stack_total} GPUs, above the stack ceiling of {ctx.config['perStack']}")
    for resource in unknown:  # capacity unknown at preview: defer (the proxy raises)
        resource.props["computeResources"]
        resource.props["computeResources"]["maxVcpus"]


@rule(
    id="MLP-CMP-003",
    name="Hardened launch templates",
    description="Launch templates require IMDSv2 (httpTokens required) with a small hop limit and give no public IP.",
    severity="high",
    remediation="Set metadataOptions {httpTokens: required, httpPutResponseHopLimit: 2} and "
                "associatePublicIpAddress false.",
    level=MANDATORY,
    types=(EC2_LAUNCH_TEMPLATE,),
    concern="compute",
    config={"maxHopLimit": {"type": "integer", "minimum": 1, "maximum": 64, "default": 2,
                            "description": "2 lets containers on the instance (Batch jobs) reach IMDSv2."}},
)
def check_launch_template(ctx: Context, report) -> None:
    metadata = peek(ctx.props, "metadataOptions")
    if peek(metadata, "httpTokens") != "required":
        report("instance metadata v1 is allowed (metadataOptions.httpTokens must be 'required')")
    hops = peek(metadata, "httpPutResponseHopLimit")
    if isinstance(hops, (int, float)) and hops > ctx.config["maxHopLimit"]:
        report(f"metadata hop limit {hops} is above {ctx.config['maxHopLimit']}")
    for interface in as_list(peek(ctx.props, "networkInterfaces")):
        if str(peek(interface, "associatePublicIpAddress")).lower() == "true":
            report("network interface gets a public IP address")
