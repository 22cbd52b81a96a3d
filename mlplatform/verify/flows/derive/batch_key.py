"""MLP-FLOW-BATCH-KEY: the service-linked roles that launch a Batch compute environment's
instances may use the launch template's EBS key (CreateGrant and the EBS key actions).
"""

from __future__ import annotations

from typing import Iterator

from mlplatform.type_tokens import BATCH_COMPUTE_ENVIRONMENT, EC2_LAUNCH_TEMPLATE

from ..declarations import EBS_KEY_ACTIONS, LAUNCHING_ROLES, Flow
from ..estate import Estate
from .steps import Actor, guard, kms_steps


def batch_key_flows(estate: Estate) -> Iterator[Flow]:
    for template in estate.of_type(EC2_LAUNCH_TEMPLATE):
        mappings = template.inputs.get("blockDeviceMappings") or []
        encrypted = [m for m in mappings if isinstance(m, dict) and "kmsKeyId" in (m.get("ebs") or {})]
        if not encrypted:
            continue
        environments = estate.dependents(template.urn, BATCH_COMPUTE_ENVIRONMENT, "computeResources")
        for environment in environments:
            capacity = ((environment.inputs.get("computeResources") or {}).get("type")) or "EC2"
            flow = Flow("MLP-FLOW-BATCH-KEY", f"compute environment {environment.inputs.get('name')} launches "
                        f"{capacity} instances with the key of {template.name}", environment)
            key = guard(flow, lambda: estate.key_for(template, "blockDeviceMappings",
                                                      encrypted[0]["ebs"].get("kmsKeyId")))
            if key is not None:
                for slr in LAUNCHING_ROLES.get(capacity, LAUNCHING_ROLES["EC2"]):
                    actor = Actor.of_service_linked_role(estate, slr)
                    guard(flow, lambda: flow.steps.extend(kms_steps(
                        estate, actor, key, ("kms:CreateGrant",), via="ec2",
                        extra={"kms:GrantIsForAWSResource": True}, label=f"{slr.rsplit('/', 1)[-1]}: ")))
                    guard(flow, lambda: flow.steps.extend(kms_steps(
                        estate, actor, key, EBS_KEY_ACTIONS, via="ec2", label=f"{slr.rsplit('/', 1)[-1]}: ")))
            yield flow
