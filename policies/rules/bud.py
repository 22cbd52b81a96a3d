"""MLP-BUD-*: every team has a monthly cost budget that alerts someone in time."""

from __future__ import annotations

from typing import Any

from mlplatform.guardrails import budget_alerts_in_time
from mlplatform.type_tokens import BUDGETS_BUDGET, TEAM

from .common import MANDATORY, TEAMS_SCHEMA, Context, as_list, peek, rule, team_urn


def _budget_team(ctx: Context, budget: Any):
    for item in as_list(peek(budget.props, "costFilters")):
        if peek(item, "name") == "TagKeyValue":
            for value in as_list(peek(item, "values")):
                if isinstance(value, str) and value.startswith("user:team$"):
                    return value.split("$", 1)[1]
    return None


@rule(
    id="MLP-BUD-001",
    name="Every team has a budget",
    description="Every team of the stack has a monthly COST budget filtered on its team tag that alerts someone at or "
                "below 100%.",
    severity="medium",
    remediation="Set spec.budget in the team spec (the TeamBudget component creates it).",
    level=MANDATORY,
    stack=True,
    concern="cost",
    config={"teams": TEAMS_SCHEMA},
)
def check_budgets(ctx: Context, report) -> None:
    teams = set(ctx.config["teams"]) | {r.name for r in ctx.of_type(TEAM)}
    covered = set()
    for budget in ctx.of_type(BUDGETS_BUDGET):
        team = _budget_team(ctx, budget)
        alerting = any(
            (as_list(peek(n, "subscriberEmailAddresses")) or as_list(peek(n, "subscriberSnsTopicArns")))
            and budget_alerts_in_time([peek(n, "threshold")])
            for n in as_list(peek(budget.props, "notifications"))
        )
        if peek(budget.props, "budgetType") != "COST":
            continue
        if team and alerting:
            covered.add(team)
        elif team:
            report(f"budget of team {team} notifies nobody at or below 100%", budget.urn)
    for team in sorted(teams - covered):
        report(f"team {team} has no monthly cost budget filtered on its team tag with alerts", team_urn(ctx, team))
