"""TeamBudget: the team's monthly cost budget with alerts at the spec's thresholds."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import physical_name
from mlplatform.spec.models import Budget

from .base import SpecComponent, TeamContext


class TeamBudget(SpecComponent):
    """An AWS Budget filtered on the team's cost-allocation tag."""

    def __init__(self, name: str, context: TeamContext, budget: Budget, owners: list[str],
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlplatform:budget:TeamBudget", name, context.locator.at("spec", "budget"), opts)
        self.budget = aws.budgets.Budget(
            f"{name}-monthly",
            name=physical_name(context.team, context.environment, "monthly", max_length=100),
            budget_type="COST",
            limit_amount=f"{budget.monthly_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filters=[{"name": "TagKeyValue", "values": [f"user:team${context.team}"]}],
            notifications=[
                {
                    "comparison_operator": "GREATER_THAN",
                    "threshold": percent,
                    "threshold_type": "PERCENTAGE",
                    "notification_type": "ACTUAL",
                    "subscriber_email_addresses": sorted(owners),
                }
                for percent in sorted(set(budget.alert_at_percent))
            ],
            opts=self.child(),
        )
        self.register_outputs({"monthlyUsd": budget.monthly_usd})
