"""Applying the teams' exemptions (:mod:`mlplatform.exemptions`) to a tool's findings.

The core module says what an exemption is and whether it holds; this one, beside the
findings it rewrites, turns a covered failure into an *exempted* result and a broken
exemption into a mandatory failure, for ``mlp scan`` and ``mlp verify`` (and their
``mlp ci`` stages). It reads plans and findings, so it sits in the tools layer.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Optional

from ..exemptions import VALIDITY_REMEDIATION, VALIDITY_RULE_ID, VALIDITY_RULE_NAME, SpecExemption, spec_exemptions
from ..type_tokens import TEAM
from .findings import EXEMPTED, FAILED, MANDATORY, CheckResult, Rule

if TYPE_CHECKING:  # pragma: no cover
    from ..graph import ResourceGraph
    from ..spec.loader import LoadedSpec
    from ..stackconfig import StackConfig


@dataclass
class Applied:
    """What :func:`apply_exemptions` did: the results to report and the entries that covered nothing."""

    results: list[CheckResult]
    unused: list[SpecExemption]


def apply_exemptions(results: list[CheckResult], exemptions: Iterable[SpecExemption], today: datetime.date,
                     judges: Callable[[str], bool], graph: Optional["ResourceGraph"] = None) -> Applied:
    """Apply the teams' exemptions to one tool's results.

    ``judges(rule_id)`` says whether the tool judges that rule: only those exemptions are
    this tool's business (a checkov id is nothing to verify). A failure covered by a valid
    exemption becomes exempted; one covered only by a broken exemption stays failed and
    says why the exemption did not count. Each broken exemption of a judged rule adds one
    mandatory MLP-GOV-001 failure located at the exemption's spec line. ``graph`` gives
    a result without a team its team (the resource's ``team`` tag or Team component).
    """
    relevant = [exemption for exemption in exemptions if judges(exemption.rule)]
    problems = {exemption: exemption.problem(today) for exemption in relevant}
    used: set[SpecExemption] = set()
    for result in results:
        if result.status != FAILED or not relevant:
            continue
        team = result.team or (graph.team_of(result.urn) if graph is not None and result.urn else None)
        covering = [exemption for exemption in relevant if exemption.covers(result.rule.id, team, result.resource_name)]
        valid = next((exemption for exemption in covering if problems[exemption] is None), None)
        if valid is not None:
            used.add(valid)
            result.status = EXEMPTED
            result.team = team
            result.justification = valid.justification()
        elif covering:
            broken = covering[0]
            used.add(broken)
            result.message = f"{result.message or result.rule.name} (the {broken.field} exemption " \
                             f"{problems[broken]}, so it no longer covers this)"
    rule = Rule(VALIDITY_RULE_ID, VALIDITY_RULE_NAME,
                "Every exemption in the team specs names a reason and an approver and has not expired; an expired "
                "exemption is itself a violation.", VALIDITY_REMEDIATION)
    added = [CheckResult(rule=rule, status=FAILED, enforcement=MANDATORY, message=exemption.describe(problem),
                         file=exemption.file, line=exemption.line, column=exemption.column, team=exemption.team,
                         resource_name=exemption.resource, spec_field=exemption.field + ".expires",
                         fix=VALIDITY_REMEDIATION)
             for exemption, problem in problems.items() if problem is not None]
    unused = [exemption for exemption in relevant if exemption not in used and problems[exemption] is None]
    return Applied(results + added, unused)


def checkov_judges(rule_id: str) -> bool:
    """checkov judges its own check ids (``CKV_AWS_144``, ``CKV2_AWS_6``, ``CKV_K8S_…``)."""
    return rule_id.startswith(("CKV_", "CKV2_"))


#: The rule id families the verify checkers report (mlplatform/verify/checkers.py).
VERIFY_RULE_PREFIXES = ("MLP-AWS-", "MLP-IAM-", "MLP-FLOW-", "MLP-VFY-")


def verify_judges(rule_id: str) -> bool:
    return rule_id.startswith(VERIFY_RULE_PREFIXES)


def planned_exemptions(stack: "StackConfig", graph: "ResourceGraph",
                       specs: Optional[Iterable["LoadedSpec"]] = None) -> list[SpecExemption]:
    """The exemptions of the teams planned in ``graph`` (its Team components and ``team``
    tags, for a plan read from a file), read from
    ``specs`` or else from the stack's teams folder. A spec that does not load exempts
    nothing: its findings stay failures, and validate names what is wrong with it."""
    if specs is None:
        from ..spec.loader import load_specs

        specs = load_specs([str(stack.teams_path())]).specs
    planned = {resource.name for resource in graph.resources.values() if resource.type == TEAM}
    planned |= {(resource.effective_tags or {}).get("team") for resource in graph.resources.values()}
    return spec_exemptions([loaded for loaded in specs if loaded.team in planned], stack.environment)
