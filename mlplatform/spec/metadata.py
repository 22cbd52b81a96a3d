"""The spec's ``metadata``: who owns the team, how its data is classified, where it may
live and whom alerts reach (drives tagging, key policies, residency checks and the
escalation topics)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import DNS_LABEL, EMAIL, DataClassification, SpecModel


EscalationTarget = Annotated[
    str,
    Field(
        pattern=r"^(pagerduty:[A-Za-z0-9_-]+|email:[^@\s]+@[^@\s]+\.[A-Za-z]{2,}|https://\S+|slack:#?[a-z0-9_-]+)$",
        description="Where to send an alert: email:<address>, https://<webhook> (must confirm the SNS subscription), "
                    "pagerduty:<service> (subscribed at the stack's pagerDutyIntegrationUrl) or slack:<channel> "
                    "(through the stack's slackWebhookUrl relay).",
    ),
]


class Escalation(SpecModel):
    """Who is told, per alert severity."""

    critical: list[EscalationTarget] = Field(
        min_length=1, description="Targets paged for critical alerts (endpoint down, budget exceeded)."
    )
    warning: list[EscalationTarget] = Field(
        default_factory=list, description="Targets told of warnings (drift, failed jobs). Defaults to none."
    )
    info: list[EscalationTarget] = Field(
        default_factory=list, description="Targets told of informational events. Defaults to none."
    )


class Metadata(SpecModel):
    """Who owns the team's estate and how sensitive its data is."""

    team: str = Field(
        pattern=DNS_LABEL,
        min_length=2,
        max_length=40,
        description="Team name, DNS-label style (lowercase letters, digits, '-'); unique; the spec file must be named <team>.yaml.",
    )
    cost_center: str = Field(
        pattern=r"^CC-[0-9]{3,6}$", description="Cost center that pays for the team's resources, e.g. CC-1042."
    )
    owners: list[Annotated[str, Field(pattern=EMAIL)]] = Field(
        min_length=1, description="E-mail addresses of the accountable owners; they review changes to this spec."
    )
    data_classification: DataClassification = Field(
        description="Most sensitive class of data the team handles; drives encryption, retention and PII rules."
    )
    residency: Literal["eu", "uk", "us"] = Field(
        description="Region group the team's data must stay in; the stack's region must belong to it."
    )
    risk_tier: Literal["low", "medium", "high"] = Field(
        default="medium", description="Model risk tier; drives approval gates and object lock. Defaults to medium."
    )
    escalation: Escalation = Field(description="Alert routing per severity.")
