"""What the cost engine produces: one :class:`Line` per priced (or unpriceable) quantity of
one resource, the per-endpoint :class:`EndpointMetric`, and the :class:`CostReport` that
totals, groups and forecasts them. Budgets, diffs and the renderers read these; the
pricers (:mod:`mlplatform.cost.pricers`) create the lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

from .catalogue import Price

D = Decimal
CENT = D("0.01")


@dataclass
class Line:
    """One priced (or unpriceable) quantity of one resource."""

    team: str
    component: str
    urn: str
    resource: str
    type: str
    item: str
    quantity: Decimal
    unit: str
    sku: Optional[str]
    price: Optional[Price] = None
    unit_usd: Optional[Decimal] = None
    assumptions: list[str] = field(default_factory=list)
    #: "priced", "unknown-price", "unknown-type", "free"
    status: str = "priced"
    #: month-on-month quantity growth, and whether the quantity scales with the team's data
    growth_per_month: Decimal = D(0)
    scales_with_data: bool = False
    #: endpoint key (team, endpoint name) this line belongs to, for cost per 1,000 inferences
    endpoint: Optional[tuple[str, str]] = None
    #: region the line is priced in (its resource's provider region, else the stack's)
    region: Optional[str] = None
    #: why an UNKNOWN line has no price ("no sourced price for SKU in REGION", ...)
    reason: Optional[str] = None
    #: the catalogue's recorded reason for a missing price (its ``gaps``), when it has one
    gap: Optional[str] = None

    def __post_init__(self) -> None:
        if self.status.startswith("unknown") and self.reason is None:
            # an unpriced line always says why; the pricers record it as their last note
            self.reason = self.assumptions[-1] if self.assumptions else "not priced"

    @property
    def monthly(self) -> Optional[Decimal]:
        if self.status == "free":
            return D(0)
        if self.unit_usd is None:
            return None
        return self.quantity * self.unit_usd

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.urn, self.item, self.sku or "")

    def to_json(self) -> dict[str, Any]:
        monthly = self.monthly
        return {
            "team": self.team, "component": self.component, "urn": self.urn, "resource": self.resource,
            "type": self.type, "item": self.item, "quantity": format(self.quantity.normalize(), "f"), "unit": self.unit,
            "sku": self.sku, "unitUsd": format(self.unit_usd, "f") if self.unit_usd is not None else None,
            "monthlyUsd": money_json(monthly), "status": self.status, "assumptions": self.assumptions,
            "price": self.price.to_json() if self.price else None, "region": self.region,
            "unpricedReason": self.reason, "catalogueGap": self.gap,
        }

    def describe_unpriced(self) -> str:
        """One line naming what has no price and why: ``RESOURCE ITEM: REASON (catalogue: GAP)``."""
        from .catalogue import gap_summary

        gap = f" (catalogue: {gap_summary(self.gap)})" if self.gap else ""
        return f"{self.resource} {self.item}: {self.reason}{gap}"


def money_json(value: Optional[Decimal]) -> Optional[str]:
    return None if value is None else format(value.quantize(CENT), "f")


@dataclass
class EndpointMetric:
    team: str
    endpoint: str
    requests: Decimal
    monthly: Optional[Decimal]
    unknown_lines: int

    @property
    def per_thousand(self) -> Optional[Decimal]:
        if self.monthly is None or not self.requests:
            return None
        return self.monthly / self.requests * 1000



@dataclass
class CostReport:
    stack: str
    region: str
    environment: str
    catalogue_version: str
    lines: list[Line]
    budgets: dict[str, Any]
    endpoints: list[EndpointMetric]
    data_growth: dict[str, tuple[Decimal, Decimal]]
    warnings: list[str] = field(default_factory=list)

    def teams(self) -> list[str]:
        return sorted(set(self._by_team()) | set(self.budgets))

    def team_lines(self, team: str) -> list[Line]:
        return self._by_team().get(team, [])

    def _by_team(self) -> dict[str, list[Line]]:
        # built once: reports ask per team many times, and estates have hundreds of teams
        index = self.__dict__.get("_team_index")
        if index is None or index[0] != len(self.lines):
            grouped: dict[str, list[Line]] = {}
            for line in self.lines:
                grouped.setdefault(line.team, []).append(line)
            index = (len(self.lines), grouped)
            self.__dict__["_team_index"] = index
        return index[1]

    def total(self, team: Optional[str] = None) -> Decimal:
        lines = self.lines if team is None else self.team_lines(team)
        return sum((line.monthly for line in lines if line.monthly is not None), D(0))

    def unknown(self, team: Optional[str] = None) -> list[Line]:
        lines = self.lines if team is None else self.team_lines(team)
        return [line for line in lines if line.status.startswith("unknown")]

    def forecast(self, team: Optional[str] = None, months: int = 12) -> list[Decimal]:
        """Known monthly cost for months 1..``months`` (month 1 is today's plan) from data
        growth (storage lines grow linearly) and retraining (GPU-hours of queues that
        retrain scale with the team's artifact data)."""
        lines = self.lines if team is None else self.team_lines(team)
        result = []
        for month in range(months):
            total = D(0)
            for line in lines:
                if line.monthly is None:
                    continue
                quantity = line.quantity + line.growth_per_month * month
                if line.scales_with_data:
                    start, growth = self.data_growth.get(line.team, (D(0), D(0)))
                    if start:
                        quantity = quantity * (start + growth * month) / start
                total += quantity * (line.unit_usd or D(0))
            result.append(total)
        return result

