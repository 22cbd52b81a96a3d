"""Team exemptions (``spec.exemptions``): one mechanism for every checker.

A team records an approved, expiring exception to one rule in its spec: the rule id (a
policy pack rule ``MLP-…``, a checkov check ``CKV_…``, or a verify finding ``MLP-AWS-…``,
``MLP-IAM-…``, ``MLP-FLOW-…``, ``MLP-VFY-…``), optionally the logical resource it covers
(the Pulumi resource name; unset: every resource of the team), the reason, the approver
and the expiry date. The same entry means the same thing wherever the rule is judged:

* the policy pack honours it inside the pack (so ``pulumi preview``/``up`` do too) and
  reports a broken one as MLP-GOV-001;
* ``mlp scan`` and ``mlp verify`` (and their ``mlp ci`` stages) apply it to their findings
  with :func:`mlplatform.reports.exemptions.apply_exemptions` (a tool, so it lives above
  the core with the findings it rewrites): a failure it covers becomes *exempted* (it stays in every
  report with the reason, approver, expiry and spec line), and a broken exemption of a
  rule the tool judges is a mandatory MLP-GOV-001 failure at the spec line, while the
  failure it meant to cover stays a failure;
* ``mlp validate`` reports a broken exemption at the spec line (:func:`exemption_issues`),
  so the author hears of it in the editor, before any plan.

An exemption expiring today still holds today. Platform-wide exceptions are not
exemptions: they are the reviewed skip and suppression files, which name an owner
instead of an approver and do not expire.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .errors import Issue
    from .spec.loader import LoadedSpec

#: The rule that judges exemptions themselves (a broken one is a violation everywhere).
VALIDITY_RULE_ID = "MLP-GOV-001"
VALIDITY_RULE_NAME = "Exemptions valid"
VALIDITY_REMEDIATION = "Renew the exemption with a new expiry and approval, or fix the finding and delete it."


def exemption_problem(exemption: Mapping[str, Any], on: datetime.date) -> Optional[str]:
    """Why an exemption cannot be honoured on ``on``, or None when it can.

    It needs a reason, an approver and an expiry date that has not passed (an exemption
    expiring today still holds today). Takes the plain mapping the policy pack receives
    in its config as well as :meth:`SpecExemption.as_config`.
    """
    if not str(exemption.get("reason") or "").strip():
        return "has no reason"
    if not str(exemption.get("approvedBy") or "").strip():
        return "has no approver"
    try:
        expires = datetime.date.fromisoformat(str(exemption.get("expires")))
    except ValueError:
        return f"has an invalid expiry {exemption.get('expires')!r}"
    if expires < on:
        return f"expired on {expires.isoformat()}"
    return None


@dataclass(frozen=True)
class SpecExemption:
    """One ``spec.exemptions`` entry of one team, as the stack's environment deploys it."""

    team: str
    rule: str
    resource: Optional[str]
    reason: str
    approved_by: str
    expires: str
    file: str
    line: int
    index: int  # position in spec.exemptions, for the field path
    column: Optional[int] = None

    @property
    def target(self) -> str:
        return self.resource or f"every resource of team {self.team}"

    @property
    def field(self) -> str:
        return f"spec.exemptions[{self.index}]"

    def problem(self, on: datetime.date) -> Optional[str]:
        return exemption_problem(self.as_config(), on)

    def describe(self, problem: str) -> str:
        return f"exemption of team {self.team} from {self.rule} for {self.target} {problem}"

    def covers(self, rule_id: str, team: Optional[str], resource_name: Optional[str]) -> bool:
        """Whether this entry is about a finding of ``rule_id`` on that team's resource."""
        return (rule_id == self.rule and team == self.team
                and (self.resource is None or resource_name == self.resource))

    def justification(self) -> dict[str, str]:
        return {"reason": self.reason, "approvedBy": self.approved_by, "expires": self.expires,
                "exemption": f"{self.file}:{self.line}"}

    def as_config(self) -> dict[str, Any]:
        """The mapping the policy pack reads (its config has no file positions)."""
        return {"team": self.team, "rule": self.rule, "resource": self.resource, "reason": self.reason,
                "approvedBy": self.approved_by, "expires": self.expires}


def spec_exemptions(specs: Iterable["LoadedSpec"], environment: str) -> list[SpecExemption]:
    """Every team's exemptions as ``environment`` deploys them (overrides merged)."""
    from .paths import project_relative

    found = []
    for loaded in specs:
        for index, item in enumerate(loaded.for_environment(environment).spec.exemptions):
            found.append(SpecExemption(
                team=loaded.team, rule=item.rule, resource=item.resource, reason=item.reason,
                approved_by=item.approved_by, expires=item.expires, file=project_relative(loaded.file),
                line=loaded.line_of(("spec", "exemptions", index)), index=index,
                column=loaded.column_of(("spec", "exemptions", index)),
            ))
    return found


def exemption_issues(loaded: "LoadedSpec", environment: Optional[str], today: datetime.date) -> list["Issue"]:
    """``mlp validate``'s verdict on a team's exemptions on ``today``: each broken one is
    an error at its ``expires`` line (the only part the schema cannot judge)."""
    spec = loaded.for_environment(environment) if environment else loaded.spec
    issues = []
    for index, item in enumerate(spec.spec.exemptions):
        exemption = SpecExemption(loaded.team, item.rule, item.resource, item.reason, item.approved_by,
                                  item.expires, loaded.file, 0, index)
        problem = exemption.problem(today)
        if problem:
            issues.append(loaded.issue(
                ("spec", "exemptions", index, "expires"),
                f"{exemption.describe(problem)} ({VALIDITY_RULE_ID}; fix: {VALIDITY_REMEDIATION[0].lower()}{VALIDITY_REMEDIATION[1:].rstrip('.')})",
                environment,
            ))
    return issues
