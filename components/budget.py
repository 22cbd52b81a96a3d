"""TeamBudget: the team's monthly cost budget, alerting its escalation topics.

The budget is filtered on the ``team`` cost-allocation tag (every taggable resource
carries it through the provider's default tags; the tag must be activated for cost
allocation in the payer account). Each threshold of ``budget.alertAtPercent`` notifies on
ACTUAL spend and on FORECASTED spend: actual spend at or past 100% is critical (budget
exceeded), everything before that is a warning, so the forecast warns ahead of the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import physical_name
from mlplatform.spec.models import Budget
from mlplatform.type_tokens import TEAM_BUDGET

from .base import SpecComponent, TeamContext


def cost_filter(team: str) -> dict:
    """AWS Budgets' filter on the user-defined cost-allocation tag ``team``."""
    return {"name": "TagKeyValue", "values": [f"user:team${team}"]}


def notification_severity(notification_type: str, percent: int) -> str:
    return "critical" if notification_type == "ACTUAL" and percent >= 100 else "warning"


def notifications(budget: Budget, topic_arns: dict[str, str]) -> list[dict]:
    return [
        {
            "comparison_operator": "GREATER_THAN",
            "threshold": percent,
            "threshold_type": "PERCENTAGE",
            "notification_type": notification_type,
            "subscriber_sns_topic_arns": [topic_arns[notification_severity(notification_type, percent)]],
        }
        for percent in sorted(set(budget.alert_at_percent))
        for notification_type in ("ACTUAL", "FORECASTED")
    ]


@dataclass(frozen=True, kw_only=True)
class TeamBudgetArgs:
    #: the team and stack
    context: TeamContext
    #: the spec's ``budget``: monthly limit in USD and the alert thresholds (percent)
    budget: Budget
    #: severity (``warning``, ``critical``) -> the team's escalation topic ARN
    topic_arns: dict[str, str]


class TeamBudget(SpecComponent):
    """An AWS Budget filtered on the team's cost-allocation tag."""

    def __init__(self, name: str, args: TeamBudgetArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context, budget, topic_arns = args.context, args.budget, args.topic_arns
        super().__init__(TEAM_BUDGET, name, context.locator.at("spec", "budget"), opts)
        self.budget_name = physical_name(context.team, context.environment, "monthly", max_length=100)
        self.budget = aws.budgets.Budget(
            f"{name}-monthly",
            name=self.budget_name,
            budget_type="COST",
            limit_amount=f"{budget.monthly_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filters=[cost_filter(context.team)],
            notifications=notifications(budget, topic_arns),
            opts=self.child(),
        )
        self.register_outputs({"monthlyUsd": budget.monthly_usd, "budgetName": self.budget_name})
