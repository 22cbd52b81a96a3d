"""What every pricer is given: the :class:`Context` (the region a resource is priced in, the
catalogue look-up that makes a priced or UNKNOWN line, and cross-references into the plan
such as a variant's scaling target or a schedule's job definition), the :data:`Pricer`
signature, and :func:`int_input` for reading integer plan inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable, Optional

from ...graph import GraphResource, ResourceGraph, is_unknown
from ...type_tokens import APPAUTOSCALING_TARGET, BATCH_COMPUTE_ENVIRONMENT
from ..attribution import TeamUsageContext, team_and_component
from ..catalogue import Catalogue
from ..lines import Line


@dataclass
class Context:
    """One pricing run over one graph: shared by every pricer, built by the engine."""

    #: region the stack's own resources are priced in (the stack's, or ``--region``)
    region: str
    catalogue: Catalogue
    graph: ResourceGraph
    teams: dict[str, TeamUsageContext]
    #: the stack's deployment region: resources whose provider is there are priced in
    #: :attr:`region` (so ``--region`` can price the stack elsewhere); None = :attr:`region`
    home_region: Optional[str] = None
    #: requests a month per endpoint (team, endpoint), for cost per 1,000 inferences
    requests: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    _targets: Optional[dict] = None
    _environments: Optional[dict] = None
    _job_definitions: Optional[dict] = None
    _provider_regions: dict[str, str] = field(default_factory=dict)

    def region_of(self, resource: GraphResource) -> str:
        """The region ``resource`` is deployed in, hence priced in: its provider's
        ``region`` input (pulumi-aws providers take it as an input), else the stack's."""
        reference = resource.provider
        if not reference:
            return self.region
        if reference not in self._provider_regions:
            # a provider reference is its URN, or "URN::ID" in previews and exports
            provider = self.graph.get(reference) or self.graph.get(reference.rsplit("::", 1)[0])
            found = provider.inputs.get("region") if provider is not None else None
            if not isinstance(found, str) or not found or is_unknown(found) or found == (self.home_region or self.region):
                found = self.region
            self._provider_regions[reference] = found
        return self._provider_regions[reference]

    def targets(self) -> dict[tuple[str, int], list[GraphResource]]:
        if self._targets is None:
            self._targets = _by_source(self.graph, APPAUTOSCALING_TARGET)
        return self._targets

    def queue_environments(self, team: str, entry: Optional[tuple[str, int]]) -> list[GraphResource]:
        """The compute environments built for one team's training queue (spot and on-demand)."""
        if self._environments is None:
            groups: dict[tuple[str, Optional[tuple[str, int]]], list[GraphResource]] = {}
            for resource in self.graph:
                if resource.type == BATCH_COMPUTE_ENVIRONMENT:
                    name = team_and_component(self.graph, resource)[0]
                    context = self.teams.get(name)
                    if context is not None:
                        groups.setdefault((name, context.entity(resource)), []).append(resource)
            self._environments = groups
        return self._environments.get((team, entry), []) if entry is not None else []

    def job_definition(self, name: Any) -> Optional[GraphResource]:
        """A SageMaker monitoring job definition by the name a schedule refers to it by."""
        if self._job_definitions is None:
            self._job_definitions = {
                str(r.inputs.get("name") or r.name): r for r in self.graph
                if r.type.startswith("aws:sagemaker/") and r.type.endswith("JobDefinition")}
        return self._job_definitions.get(name) if isinstance(name, str) else None

    def line(self, resource: GraphResource, team: str, component: str, item: str, quantity: Decimal, unit: str,
             sku: Optional[str], assumptions: Iterable[str] = (), unit_usd: Optional[Decimal] = None,
             price_note: Optional[str] = None, reason: Optional[str] = None, **extra: Any) -> Line:
        """A line priced at the catalogue's price for ``sku`` in the resource's region, or
        UNKNOWN with the reason (``reason`` when there is no SKU to look up)."""
        region = self.region_of(resource)
        price = self.catalogue.price(sku, region) if sku else None
        notes = list(assumptions)
        gap = None
        if price is not None:
            if unit_usd is None:
                unit_usd = price.usd
            if price_note:
                notes.append(price_note)
            status = "priced"
        else:
            unit_usd = None
            status = "unknown-price"
            reason = f"no sourced price for {sku} in {region}" if sku else (reason or "nothing to price it by")
            gap = self.catalogue.gap(sku, region) if sku else None
            notes.append(reason)
        return Line(team, component, resource.urn, resource.name, resource.type, item, quantity, unit, sku, price,
                    unit_usd, notes, status, region=region, reason=reason if status != "priced" else None, gap=gap,
                    **extra)


Pricer = Callable[[Context, GraphResource, TeamUsageContext, str], list[Line]]


def int_input(value: Any) -> Optional[int]:
    """An integer plan input (a count, a size, a period), or None when it is absent,
    unknown at plan time or not a whole number."""
    if isinstance(value, bool) or is_unknown(value):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _by_source(graph: ResourceGraph, type_token: str) -> dict[tuple[str, int], list[GraphResource]]:
    """Resources of one type grouped by the spec position they were built from."""
    found: dict[tuple[str, int], list[GraphResource]] = {}
    for resource in graph:
        if resource.type == type_token and resource.source is not None:
            found.setdefault((resource.source.file, resource.source.line), []).append(resource)
    return found

