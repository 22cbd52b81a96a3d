"""Cost engine: price every resource of a ResourceGraph, line by line.

Each billable resource becomes one or more :class:`Line` objects, ``quantity x unit
price``, found by its pulumi-aws type token. Quantities come from the plan's inputs
(instance types and counts, autoscaling ranges, retention) and, for load, from the team
spec the resource was built from (matched through the resource's ``source`` position, so
a saved graph, a ``pulumi preview --json`` or a stack export is priced the same way as a
fresh capture). Prices come from the catalogue, for the region the resource is deployed
in: its provider's ``region`` input (a replica bucket on the partner-region provider is
priced at the partner region's rates), else the stack's region. A price the catalogue
lacks for that region leaves the line UNKNOWN with the reason (and the catalogue's
recorded gap, when it has one): it is shown and counted, never added as zero and never
borrowed from another region. Resources that cost nothing
are named in :data:`.pricers.registry.FREE_TYPES` with the reason; a type that is neither priced nor free
is reported as an unknown type.

The pieces: :mod:`.attribution` (whose cost a resource is, and its spec entry),
:mod:`.pricers` (one pricer per resource type, by service family, and the registry),
:mod:`.lines` (the lines and the report). This module walks the graph and assembles the
report.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from ..graph import ResourceGraph
from . import usage as U
from .attribution import KUEUE_QUEUE_MARK, SECTION_OF_TYPE, TeamUsageContext, team_and_component
from .catalogue import Catalogue
from .lines import CostReport, EndpointMetric, Line
from .pricers.compute import price_kueue_queue
from .pricers.context import Context
from .pricers.registry import FREE_TYPES, PRICERS

D = Decimal


def price_graph(graph: ResourceGraph, catalogue: Catalogue, region: str, environment: str,
                contexts: dict[str, TeamUsageContext], warnings: Optional[list[str]] = None,
                stack_region: Optional[str] = None) -> CostReport:
    """Every billable resource of ``graph`` as lines, with budgets and endpoint metrics.

    ``region`` prices the stack's own resources; ``stack_region`` is where the stack
    deploys (when ``region`` differs, e.g. ``mlp cost --region``, resources there are
    priced in ``region`` instead). Resources on a provider for another region (the
    partner region's replicas) are priced in that region."""
    ctx = Context(region, catalogue, graph, contexts, home_region=stack_region)
    for context in contexts.values():
        context.graph = graph
    lines: list[Line] = []
    matched: set[tuple[str, tuple[str, int]]] = set()
    for resource in graph:
        if not resource.custom or resource.is_provider:
            continue
        team_name, component = team_and_component(graph, resource)
        team = contexts.get(team_name) or TeamUsageContext(team_name, None)
        pricer = PRICERS.get(resource.type)
        if pricer is None and KUEUE_QUEUE_MARK in resource.type and resource.type.endswith(":ClusterQueue"):
            pricer = price_kueue_queue
        if pricer is not None:
            lines.extend(pricer(ctx, resource, team, component))
            if resource.type in SECTION_OF_TYPE or pricer is price_kueue_queue:
                entry = team.entity(resource)
                if entry is not None:
                    matched.add((team_name, entry))
        elif resource.type in FREE_TYPES:
            lines.append(Line(team_name, component, resource.urn, resource.name, resource.type, "free", D(0), "",
                              None, assumptions=[FREE_TYPES[resource.type]], status="free"))
        elif resource.type.startswith("kubernetes:"):
            lines.append(Line(team_name, component, resource.urn, resource.name, resource.type, "free", D(0), "", None,
                              assumptions=["a Kubernetes object; node compute is priced on the training queue"],
                              status="free"))
        else:
            lines.append(Line(team_name, component, resource.urn, resource.name, resource.type, "not priced", D(0), "",
                              None, assumptions=["type neither priced nor known to be free"], status="unknown-type"))
    budgets = {name: team.spec.spec.budget for name, team in contexts.items() if team.spec is not None}
    growth = {}
    for name, team in contexts.items():
        if team.spec is not None:
            start, _ = U.artifact_gb(team.spec.spec.artifacts)
            growth[name] = (start, D(str(team.spec.spec.artifacts.monthly_growth_gb)))
    endpoints = []
    by_endpoint: dict[tuple[str, str], list[Line]] = {}
    for line in lines:
        if line.endpoint is not None:
            by_endpoint.setdefault(line.endpoint, []).append(line)
    for key, requests in sorted(ctx.requests.items()):
        mine = by_endpoint.get(key, [])
        unknown = sum(1 for line in mine if line.monthly is None)
        total = sum((line.monthly for line in mine if line.monthly is not None), D(0))
        endpoints.append(EndpointMetric(key[0], key[1], requests, None if unknown else total, unknown))
    notes = list(warnings or [])
    notes.extend(unplanned_entries(contexts, matched))
    for priced_region in sorted({region} | {line.region for line in lines if line.region}):
        missing_region = region_warning(catalogue, priced_region)
        if missing_region:
            notes.append(missing_region)
    return CostReport(graph.stack, region, environment, catalogue.version, lines, budgets, endpoints, growth, notes)


def unplanned_entries(contexts: dict[str, TeamUsageContext], matched: set) -> list[str]:
    """Spec entries with usage (endpoints, training queues, feature groups) that no
    resource of the plan carries: their cost is missing from the totals, so say so."""
    out = []
    for name, context in sorted(contexts.items()):
        if context.spec is None:
            continue
        body = context.spec.spec
        for section, entries, label in (("endpoints", body.endpoints, "endpoint"),
                                        ("queues", body.training.queues, "training queue"),
                                        ("featureGroups", body.feature_groups, "feature group")):
            for index, entry in enumerate(entries):
                if section == "endpoints" and entry.mode == "batch":
                    continue  # batch transform jobs are started by pipelines, not planned resources
                if section == "endpoints" and entry.retired is not None:
                    continue  # a retired endpoint leaves the plan by design: nothing serves, nothing to price
                if (name, (section, index)) not in matched:
                    out.append(f"{name}: {label} {entry.name} has no priced resource in the plan; its cost is not included")
    return out


def region_warning(catalogue: Catalogue, region: str) -> Optional[str]:
    """A warning when the catalogue holds no price at all for ``region``."""
    if any(r == region for _, r in catalogue.prices):
        return None
    return f"the price catalogue has no prices for {region}; run `mlp prices refresh --region {region}`"
