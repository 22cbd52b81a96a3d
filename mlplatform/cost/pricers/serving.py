"""Pricing SageMaker real-time, asynchronous and serverless inference: an endpoint
configuration's variants (production and shadow) as instance-hours within the scaling
range the plan (or spec) gives, or serverless GB-seconds; its primary variant's requests
feed the cost per 1,000 inferences.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from ...graph import GraphResource, is_unknown
from .. import usage as U
from ..attribution import TeamUsageContext
from ..lines import Line
from .context import Context, int_input

D = Decimal


def _target_for_variant(targets: list[GraphResource], variant: str, first: bool) -> Optional[GraphResource]:
    for target in targets:
        resource_id = target.inputs.get("resourceId")
        if isinstance(resource_id, str) and not is_unknown(resource_id) and resource_id.endswith(f"/variant/{variant}"):
            return target
    unnamed = [t for t in targets if not (isinstance(t.inputs.get("resourceId"), str)
                                          and "/variant/" in t.inputs.get("resourceId", ""))]
    return unnamed[0] if first and len(unnamed) == 1 else None


def price_endpoint_configuration(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    endpoint = team.endpoint(resource)
    endpoint_key = (team.team, endpoint.name if endpoint else resource.name)
    targets = ctx.targets().get((resource.source.file, resource.source.line), []) if resource.source else []
    lines: list[Line] = []
    variants = [(v, False) for v in resource.inputs.get("productionVariants") or []]
    variants += [(v, True) for v in resource.inputs.get("shadowProductionVariants") or []]
    is_async = bool(resource.inputs.get("asyncInferenceConfig")) or (endpoint is not None and endpoint.mode == "async")
    for index, (variant, shadow) in enumerate(variants):
        if not isinstance(variant, dict):
            continue
        name = str(variant.get("variantName") or f"variant-{index}")
        label = f"{'shadow ' if shadow else ''}variant {name}"
        serverless = variant.get("serverlessConfig")
        if isinstance(serverless, dict) and serverless:
            use = U.serverless_usage(endpoint, int_input(serverless.get("memorySizeInMb")))
            lines.append(ctx.line(resource, team.team, component, f"{label}: serverless compute", use.gb_seconds,
                                  "GB-second", "sagemaker.serverless.compute", use.assumptions,
                                  endpoint=endpoint_key))
            if index == 0 and not shadow:
                ctx.requests[endpoint_key] = use.requests
            continue
        instance = variant.get("instanceType")
        if not isinstance(instance, str) or is_unknown(instance):
            lines.append(Line(team.team, component, resource.urn, resource.name, resource.type, f"{label}: instances",
                              D(0), "hour", None, assumptions=["instance type unknown in the plan"],
                              status="unknown-price", endpoint=endpoint_key))
            continue
        primary = index == 0 and not shadow
        target = _target_for_variant(targets, name, first=primary)
        minimum = maximum = None
        if target is not None:
            minimum, maximum = int_input(target.inputs.get("minCapacity")), int_input(target.inputs.get("maxCapacity"))
        initial = int_input(variant.get("initialInstanceCount"))
        if primary and endpoint is not None:
            # the plan's scaling range when it has one, else the spec's; load from the spec
            use = U.endpoint_usage(endpoint, minimum, maximum, initial)
        elif target is not None and minimum is not None and maximum is not None:
            use = U.endpoint_usage(None, minimum, maximum, initial)
        else:
            use = U.endpoint_usage(None, None, None, initial)
        sku = f"sagemaker.{'async' if is_async else 'hosting'}:{instance}"
        notes = list(use.assumptions)
        if primary:
            notes.append(f"{U.number(use.requests.quantize(D(1)))} requests/month")
            ctx.requests[endpoint_key] = use.requests
        lines.append(ctx.line(resource, team.team, component, f"{label}: {instance} instance-hours", use.instance_hours,
                              "hour", sku, notes, endpoint=endpoint_key))
    return lines

