"""Budget guard: projected monthly cost per team against the spec's ``budget``.

The projection is the sum of the team's priced lines. When some lines are UNKNOWN the
projection is a lower bound: a team whose lower bound already exceeds its budget is over
budget for certain, so the guard fails; otherwise it says that the figure is incomplete
rather than pretending the team is within budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

from .engine import CostReport, money_json


@dataclass
class BudgetResult:
    team: str
    projected: Decimal
    budget: Optional[Decimal]
    unknown_lines: int
    thresholds_reached: list[int] = field(default_factory=list)

    @property
    def percent(self) -> Optional[Decimal]:
        return self.projected / self.budget * 100 if self.budget else None

    @property
    def over(self) -> bool:
        return self.budget is not None and self.projected > self.budget

    @property
    def status(self) -> str:
        if self.budget is None:
            return "no budget"
        if self.over:
            return "over budget"
        incomplete = f" ({self.unknown_lines} unpriced)" if self.unknown_lines else ""
        if self.thresholds_reached:
            return f"warning: reached {self.thresholds_reached[-1]}%{incomplete}"
        return f"within budget{incomplete}"

    def messages(self) -> list[str]:
        if self.budget is None:
            return []
        lower = " at least" if self.unknown_lines else ""
        out = [f"{self.team}: projected{lower} ${self.projected:,.2f}/month reaches {percent}% of the "
               f"${self.budget:,.2f} budget" for percent in self.thresholds_reached]
        if self.over:
            out.append(f"{self.team}: projected{lower} ${self.projected:,.2f}/month exceeds the budget of "
                       f"${self.budget:,.2f} by ${self.projected - self.budget:,.2f}")
        if self.unknown_lines:
            out.append(f"{self.team}: {self.unknown_lines} line(s) without a price; the projection is a lower bound")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "team": self.team, "projectedUsd": money_json(self.projected),
            "budgetUsd": money_json(self.budget), "percent": f"{self.percent:.1f}" if self.percent is not None else None,
            "unknownLines": self.unknown_lines, "thresholdsReached": self.thresholds_reached,
            "status": self.status, "over": self.over,
        }


def check_budgets(report: CostReport) -> list[BudgetResult]:
    results = []
    for team in report.teams():
        budget = report.budgets.get(team)
        projected = report.total(team)
        limit = Decimal(str(budget.monthly_usd)) if budget is not None else None
        reached = []
        if budget is not None:
            reached = [p for p in sorted(set(budget.alert_at_percent)) if projected >= limit * p / 100]
        results.append(BudgetResult(team, projected, limit, len(report.unknown(team)), reached))
    return results
