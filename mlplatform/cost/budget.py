"""Budget guard: projected monthly cost per team against the spec's ``budget``.

The projection is the sum of the team's priced lines. When some lines are UNKNOWN the
projection is a lower bound: a team whose lower bound already exceeds its budget is over
budget for certain, so the guard fails. A team under its budget with unpriced lines is
*not* within budget: the guard cannot confirm it, says so, and names every unpriced line
with its reason. What an unconfirmed budget does to a verdict is the stack's choice
(``mlplatform:unpricedCost``): ``warn`` passes with a warning, ``block`` fails, in
``mlp cost`` and in the cost stage of ``mlp ci`` alike (:func:`guard_verdict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

from .lines import CostReport, Line, money_json
from .money import usd

#: the stack settings of ``mlplatform:unpricedCost``
UNPRICED_WARN = "warn"
UNPRICED_BLOCK = "block"


@dataclass
class BudgetResult:
    team: str
    projected: Decimal
    budget: Optional[Decimal]
    unknown_lines: int
    thresholds_reached: list[int] = field(default_factory=list)
    #: the team's lines without a price, each with its reason
    unpriced: list[Line] = field(default_factory=list)

    @property
    def percent(self) -> Optional[Decimal]:
        return self.projected / self.budget * 100 if self.budget else None

    @property
    def over(self) -> bool:
        return self.budget is not None and self.projected > self.budget

    @property
    def confirmed(self) -> bool:
        """Whether the guard can state the verdict: no budget (nothing to confirm), over
        budget (the lower bound already exceeds it), or every line priced."""
        return self.budget is None or self.over or not self.unknown_lines

    @property
    def status(self) -> str:
        if self.budget is None:
            return "no budget"
        if self.over:
            return "over budget"
        reached = f"warning: reached {self.thresholds_reached[-1]}%" if self.thresholds_reached else ""
        if not self.confirmed:
            return (f"{reached}; " if reached else "") + f"budget cannot be confirmed ({self.unknown_lines} unpriced)"
        return reached or "within budget"

    def messages(self) -> list[str]:
        if self.budget is None:
            return []
        lower = " at least" if self.unknown_lines else ""
        out = [f"{self.team}: projected{lower} {usd(self.projected)}/month reaches {percent}% of the "
               f"{usd(self.budget)} budget" for percent in self.thresholds_reached]
        if self.over:
            out.append(f"{self.team}: projected{lower} {usd(self.projected)}/month exceeds the budget of "
                       f"{usd(self.budget)} by {usd(self.projected - self.budget)}")
            if self.unknown_lines:
                out.append(f"{self.team}: {self.unknown_lines} line(s) without a price; the projection is a lower bound")
        elif self.unknown_lines:
            out.append(f"{self.team}: budget cannot be confirmed: projected at least {usd(self.projected)}/month of the "
                       f"{usd(self.budget)} budget, but {self.unknown_lines} line(s) have no price")
        out.extend(f"{self.team}: unpriced: {line.describe_unpriced()}" for line in self.unpriced)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "team": self.team, "projectedUsd": money_json(self.projected),
            "budgetUsd": money_json(self.budget), "percent": f"{self.percent:.1f}" if self.percent is not None else None,
            "unknownLines": self.unknown_lines, "thresholdsReached": self.thresholds_reached,
            "status": self.status, "over": self.over, "confirmed": self.confirmed,
            "unpriced": [{"resource": line.resource, "type": line.type, "item": line.item, "sku": line.sku,
                          "region": line.region, "reason": line.reason, "catalogueGap": line.gap}
                         for line in self.unpriced],
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
        unknown = report.unknown(team)
        results.append(BudgetResult(team, projected, limit, len(unknown), reached, unknown))
    return results


@dataclass
class GuardVerdict:
    """The budget guard's verdict on a stack: which teams are over budget, which cannot be
    confirmed, and whether that blocks under the stack's ``unpricedCost`` setting."""

    over: list[BudgetResult]
    unconfirmed: list[BudgetResult]
    unpriced_policy: str = UNPRICED_WARN

    @property
    def blocking(self) -> bool:
        return bool(self.over) or (bool(self.unconfirmed) and self.unpriced_policy == UNPRICED_BLOCK)

    def unconfirmed_message(self) -> Optional[str]:
        """One line naming the teams whose budget cannot be confirmed and their unpriced lines."""
        if not self.unconfirmed:
            return None
        lines = sum(result.unknown_lines for result in self.unconfirmed)
        teams = ", ".join(result.team for result in self.unconfirmed)
        return (f"budget cannot be confirmed for {len(self.unconfirmed)} team(s) ({teams}): {lines} unpriced line(s) "
                f"(mlplatform:unpricedCost: {self.unpriced_policy})")


def guard_verdict(budgets: list[BudgetResult], unpriced_policy: str = UNPRICED_WARN) -> GuardVerdict:
    return GuardVerdict([result for result in budgets if result.over],
                        [result for result in budgets if not result.confirmed], unpriced_policy)
