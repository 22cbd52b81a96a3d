"""The spec's ``budget`` and ``exemptions`` (drive components/budget.py and, for
exemptions, every checker through mlplatform/exemptions.py)."""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import Field

from .base import DATE, EMAIL, RULE_ID, SpecModel


class Budget(SpecModel):
    """Monthly spending cap."""

    monthly_usd: float = Field(gt=0, le=10_000_000, description="Monthly budget in USD.")
    alert_at_percent: list[Annotated[int, Field(ge=1, le=200)]] = Field(
        default_factory=lambda: [50, 80, 100], min_length=1, max_length=5,
        description="Alert when actual or forecasted spend reaches these percentages; at most 5 (AWS Budgets allows "
                    "10 notifications per budget: one actual and one forecasted per threshold).",
    )


class Exemption(SpecModel):
    """A reviewed, expiring exception to one rule, honoured alike by the policy pack, checkov and verify; once expired it is a violation in each and an error in mlp validate."""

    # one mechanism for every checker: mlplatform/exemptions.py

    rule: str = Field(pattern=RULE_ID, max_length=64,
                      description="Rule id: a policy rule (MLP-S3-001), a checkov check (CKV_AWS_144) or a verify "
                                  "finding (MLP-AWS-001, MLP-IAM-…, MLP-FLOW-…).")
    resource: Optional[str] = Field(default=None, max_length=256, description="Logical resource name (the Pulumi resource name findings show) it applies to; unset means every resource of the team.")
    reason: str = Field(min_length=20, max_length=2000, description="Why the rule cannot be met.")
    approved_by: str = Field(pattern=EMAIL, description="Who approved the exemption.")
    expires: str = Field(pattern=DATE, description="Date the exemption lapses (YYYY-MM-DD).")


# ---------------------------------------------------------------- envelope
