"""Pricing compute billed by the hour or the invocation: training queues (AWS Batch compute
environments and Kueue cluster queues, with their spot and on-demand shares), Lambda
functions and the always-on SageMaker managed MLflow tracking server.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from ...graph import GraphResource, is_unknown
from ...spec.models import TrainingQueue
from .. import usage as U
from ..attribution import TeamUsageContext
from ..lines import Line
from . import edge
from .context import Context, int_input

D = Decimal


def _queue_lines(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str,
                 queue: Optional[TrainingQueue], instance_type: Optional[str], share: Optional[str]) -> list[Line]:
    """Training lines for a queue; ``share`` limits them to "spot" or "on-demand" capacity."""
    if queue is None:
        return [Line(team.team, component, resource.urn, resource.name, resource.type, "training instance-hours",
                     D(0), "hour", None, assumptions=["no spec training queue matched: no GPU-hours to price"],
                     status="unknown-price")]
    chosen = instance_type or queue.instance_types[0]
    use = U.training_usage(queue, ctx.catalogue.gpus_per_instance(chosen), chosen)
    sku = f"ec2.ondemand:{chosen}"
    if use.instance_hours is None:
        return [ctx.line(resource, team.team, component, f"{chosen} instance-hours", D(0), "hour", None,
                         use.assumptions, reason=f"GPUs per {chosen} not in the catalogue's facts")]
    lines: list[Line] = []
    growth = queue.retrains_per_month is not None and queue.retrains_per_month > 0
    notes = list(use.assumptions)
    if growth:
        notes.append(f"{U.number(D(str(queue.retrains_per_month)))} retrains/month: GPU-hours grow with the team's data")
    spot_hours = use.instance_hours * use.spot_share
    demand_hours = use.instance_hours - spot_hours
    if share in (None, "spot") and spot_hours:
        price = ctx.catalogue.price(sku, ctx.region_of(resource))
        unit = price.usd * (1 - U.DEFAULT_SPOT_DISCOUNT) if price else None
        lines.append(ctx.line(resource, team.team, component, f"{chosen} spot instance-hours", spot_hours, "hour", sku,
                              notes, unit_usd=unit,
                              price_note=(f"spot = on-demand ${price.usd} less {U.number(U.DEFAULT_SPOT_DISCOUNT * 100)}% "
                                          "(assumed discount)") if price else None,
                              scales_with_data=growth))
    if share in (None, "on-demand") and demand_hours:
        lines.append(ctx.line(resource, team.team, component, f"{chosen} on-demand instance-hours", demand_hours, "hour",
                              sku, notes, scales_with_data=growth))
    if not lines:
        lines.append(ctx.line(resource, team.team, component, f"{chosen} instance-hours", D(0), "hour", sku,
                              notes + [f"no {share} capacity expected for this queue"]))
    return lines


def price_compute_environment(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    compute = resource.inputs.get("computeResources") or {}
    kind = str(compute.get("type", "EC2")).upper() if isinstance(compute, dict) else "EC2"
    types = compute.get("instanceTypes") if isinstance(compute, dict) else None
    instance = types[0] if isinstance(types, list) and types and isinstance(types[0], str) and not is_unknown(types[0]) else None
    siblings = ctx.queue_environments(team.team, team.entity(resource))
    kinds = {str((s.inputs.get("computeResources") or {}).get("type", "EC2")).upper() for s in siblings}
    share = None
    if "SPOT" in kinds and len(kinds) > 1:
        share = "spot" if kind == "SPOT" else "on-demand"
    return _queue_lines(ctx, resource, team, component, team.queue(resource), instance, share)


def price_kueue_queue(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return _queue_lines(ctx, resource, team, component, team.queue(resource), None, None)


def price_lambda(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    memory = D(int_input(resource.inputs.get("memorySize")) or U.DEFAULT_LAMBDA_MEMORY_MB)
    architectures = resource.inputs.get("architectures") or ["x86_64"]
    arch = "arm64" if "arm64" in architectures else "x86_64"
    front_door = edge.front_door_lambda_usage(team, resource)
    if front_door is not None:  # the fallback Lambda: every request of its endpoint invokes it
        requests, seconds, notes, endpoint = front_door
        notes = notes + [f"{U.number(memory)} MB, {arch}", "free tier not applied"]
    else:
        requests, seconds, endpoint = U.DEFAULT_LAMBDA_REQUESTS, U.DEFAULT_LAMBDA_SECONDS, None
        notes = [f"{U.number(requests)} invocations/month x {U.number(seconds)} s (default)",
                 f"{U.number(memory)} MB, {arch}", "free tier not applied"]
    gb_seconds = requests * seconds * memory / 1024
    return [
        ctx.line(resource, team.team, component, "requests", requests, "request", "lambda.requests", notes,
                 endpoint=endpoint),
        ctx.line(resource, team.team, component, f"duration ({arch})", gb_seconds, "GB-second", f"lambda.duration.{arch}",
                 [], endpoint=endpoint),
    ]


def price_mlflow(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    size = resource.inputs.get("trackingServerSize") or "Small"
    size = size if isinstance(size, str) and not is_unknown(size) else "Small"
    return [ctx.line(resource, team.team, component, f"MLflow tracking server ({size})", U.HOURS_PER_MONTH, "hour",
                     f"sagemaker.mlflow:{size}", ["always on: 730 h/month"])]

