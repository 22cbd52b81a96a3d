"""MLP-GOV-*: the exemptions in the team specs are themselves valid (reason, approver,
not expired); an invalid one is a violation."""

from __future__ import annotations

from .common import MANDATORY, Context, exemption_problem, rule, team_urn, today


@rule(
    id="MLP-GOV-001",
    name="Exemptions valid",
    description="Every exemption in the team specs names a reason and an approver and has not expired; an expired "
                "exemption is itself a violation.",
    severity="medium",
    remediation="Renew the exemption with a new expiry and approval, or fix the finding and delete it.",
    level=MANDATORY,
    stack=True,
    concern="governance",
    config={"allExemptions": {"type": "array", "default": [], "items": {"type": "object"}}},
)
def check_exemptions(ctx: Context, report) -> None:
    on = today(ctx.config)
    for exemption in ctx.config["allExemptions"]:
        problem = exemption_problem(exemption, on)
        if problem:
            target = exemption.get("resource") or "the whole team"
            report(f"exemption of team {exemption.get('team')} from {exemption.get('rule')} for {target} {problem}",
                   team_urn(ctx, str(exemption.get("team"))))
