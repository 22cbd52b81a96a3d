"""Cost difference between a base plan and the proposed one, per resource and in total.

Both plans are priced with the same catalogue and the same team specs' usage (as
Infracost applies one usage file to both sides), so a difference comes from the plan
itself: an added or removed resource, another instance type or count, a new range.
Each changed resource keeps its lines on both sides so the report can say *why*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

from .lines import CostReport, Line, money_json
from .usage import number

D = Decimal


@dataclass
class ResourceDelta:
    urn: str
    team: str
    resource: str
    type: str
    change: str  # "added", "removed", "changed"
    base: Optional[Decimal]
    head: Optional[Decimal]
    reasons: list[str] = field(default_factory=list)

    @property
    def delta(self) -> Optional[Decimal]:
        if self.base is None or self.head is None:
            return None
        return self.head - self.base

    def to_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "team": self.team, "resource": self.resource, "type": self.type, "change": self.change,
                "baseUsd": money_json(self.base), "headUsd": money_json(self.head),
                "deltaUsd": money_json(self.delta), "reasons": self.reasons}


@dataclass
class CostDiff:
    resources: list[ResourceDelta]
    base_total: Decimal
    head_total: Decimal

    @property
    def delta(self) -> Decimal:
        return self.head_total - self.base_total

    def to_json(self) -> dict[str, Any]:
        return {"baseUsd": money_json(self.base_total), "headUsd": money_json(self.head_total),
                "deltaUsd": money_json(self.delta), "resources": [r.to_json() for r in self.resources]}


def _sum(lines: list[Line]) -> Optional[Decimal]:
    if any(line.monthly is None for line in lines):
        return None
    return sum((line.monthly for line in lines), D(0))


def _describe(line: Line) -> str:
    if line.monthly is None:
        return f"{line.item}: {number(line.quantity.quantize(D('0.0001')))} {line.unit} x UNKNOWN"
    return f"{line.item}: {number(line.quantity.quantize(D('0.0001')))} {line.unit} x ${line.unit_usd.normalize():f}"


def diff_reports(base: CostReport, head: CostReport) -> CostDiff:
    def group(report: CostReport) -> dict[str, list[Line]]:
        out: dict[str, list[Line]] = {}
        for line in report.lines:
            if line.status != "free":
                out.setdefault(line.urn, []).append(line)
        return out

    before, after = group(base), group(head)
    deltas = []
    for urn in sorted(set(before) | set(after)):
        old, new = before.get(urn, []), after.get(urn, [])
        sample = (new or old)[0]
        if not old:
            deltas.append(ResourceDelta(urn, sample.team, sample.resource, sample.type, "added", D(0), _sum(new),
                                        [f"+ {_describe(line)}" for line in new]))
            continue
        if not new:
            deltas.append(ResourceDelta(urn, sample.team, sample.resource, sample.type, "removed", _sum(old), D(0),
                                        [f"- {_describe(line)}" for line in old]))
            continue
        old_text, new_text = [_describe(l) for l in old], [_describe(l) for l in new]
        if old_text == new_text:
            continue
        reasons = [f"- {text}" for text in old_text if text not in new_text]
        reasons += [f"+ {text}" for text in new_text if text not in old_text]
        deltas.append(ResourceDelta(urn, sample.team, sample.resource, sample.type, "changed", _sum(old), _sum(new),
                                    reasons))
    return CostDiff(deltas, base.total(), head.total())
