"""MLP-ADV-*: advisories on cost. Training capacity uses spot unless it is the on-demand
fallback after spot (or has a deadline); endpoints that keep several instances scale in
off-peak."""

from __future__ import annotations

from mlplatform.type_tokens import (
    APPAUTOSCALING_SCHEDULED_ACTION, APPAUTOSCALING_TARGET, BATCH_COMPUTE_ENVIRONMENT, BATCH_JOB_QUEUE)

from .common import ADVISORY, UNKNOWN, Context, as_list, peek, rule
from .links import links

SPOT_KINDS, ON_DEMAND_KINDS = ("SPOT", "FARGATE_SPOT"), ("EC2", "FARGATE")


@rule(
    id="MLP-ADV-001",
    name="Spot capacity for training",
    description="Training compute environments without a deadline use spot capacity; an on-demand environment that "
                "its job queues use only after a spot one (the fallback) is fine.",
    severity="low",
    remediation="Enable spot in the queue's spec (spot.enabled: true, keeping fallbackToOnDemand if you like) or "
                "tag the queue with its deadline.",
    level=ADVISORY,
    stack=True,
    concern="cost",
)
def check_spot(ctx: Context, report) -> None:
    """On-demand training capacity without a deadline, unless it is a fallback: an
    environment every job queue that uses it tries only after a spot environment (the
    queue runs spot first, and on-demand only when spot is unavailable)."""
    fallbacks = _spot_fallbacks(ctx)
    for environment in ctx.of_type(BATCH_COMPUTE_ENVIRONMENT):
        kind = peek(environment.props, "computeResources", "type")
        if kind not in ON_DEMAND_KINDS or ctx.tags(environment).get("deadline") or environment.urn in fallbacks:
            continue
        report(f"training capacity is on-demand ({kind}) with no spot environment before it in its job queue; "
               "without a deadline, spot capacity costs up to 90% less", environment.urn)


def _spot_fallbacks(ctx: Context) -> set[str]:
    """URNs of on-demand environments that every job queue using them orders after a spot one.

    Job queues name their environments by ARN (``...:compute-environment/<name>``); an
    environment is matched by its ``name``. An order that cannot be read (unknown at
    preview) proves nothing, so its on-demand environments stay reportable."""
    by_name = {}
    for environment in ctx.of_type(BATCH_COMPUTE_ENVIRONMENT):
        name = peek(environment.props, "name")
        if isinstance(name, str) and name != UNKNOWN:
            by_name[name] = environment
    after_spot: dict[str, bool] = {}
    for queue in ctx.of_type(BATCH_JOB_QUEUE):
        orders = [o for o in as_list(peek(queue.props, "computeEnvironmentOrders")) if o not in (None, UNKNOWN)]
        orders.sort(key=lambda o: peek(o, "order") if isinstance(peek(o, "order"), (int, float)) else 0)
        spot_seen = False
        for order in orders:
            arn = peek(order, "computeEnvironment")
            environment = by_name.get(arn.rsplit("compute-environment/", 1)[-1]) if isinstance(arn, str) else None
            if environment is None:
                continue
            kind = peek(environment.props, "computeResources", "type")
            if kind in SPOT_KINDS:
                spot_seen = True
            elif kind in ON_DEMAND_KINDS:
                after_spot[environment.urn] = after_spot.get(environment.urn, True) and spot_seen
    return {urn for urn, fallback in after_spot.items() if fallback}


@rule(
    id="MLP-ADV-002",
    name="Off-peak scaling",
    description="Endpoints that keep more than one instance have a scheduled scale-in for off-peak hours.",
    severity="low",
    remediation="Set offPeakHoursPerDay on the endpoint in the spec.",
    level=ADVISORY,
    stack=True,
    concern="cost",
)
def check_off_peak(ctx: Context, report) -> None:
    for target in ctx.of_type(APPAUTOSCALING_TARGET):
        if peek(target.props, "serviceNamespace") != "sagemaker":
            continue
        minimum = peek(target.props, "minCapacity")
        if not isinstance(minimum, (int, float)) or minimum <= 1:
            continue
        resource_id = peek(target.props, "resourceId")
        if not links(ctx, (APPAUTOSCALING_SCHEDULED_ACTION,), "resourceId").find(target.urn, resource_id):
            report(f"endpoint keeps {minimum} instances around the clock; add a scheduled off-peak scale-in",
                   target.urn)
