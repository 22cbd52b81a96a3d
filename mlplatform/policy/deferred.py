"""Policy rules deferred at preview, judged on the resolved plan.

At preview the policy pack cannot judge a rule that reads a value unknown until apply
(MLP-S3-003 reads bucket policies that name KMS key ARNs): the runner reports it skipped,
"deferred". The resolved plan has those values, simulated the way AWS forms them, so the
same pack can judge such a rule offline. Only the deferred rules take their verdict from
the resolved plan; every other rule keeps its verdict on the ordinary plan, where nothing
is simulated (a simulated autoname must never make a naming rule pass).
"""

from __future__ import annotations

import datetime
from typing import Optional

from ..graph import ResourceGraph
from ..reports.findings import PASSED, SKIPPED, CheckResult, FindingsReport
from ..stackconfig import StackConfig

RESOLVED_NOTE = "judged on the resolved plan (apply-time values simulated)"


def deferred_rules(report: FindingsReport) -> set[str]:
    """Rule ids the runner deferred (skipped because a value was unknown at preview)."""
    return {result.rule.id for result in report.results
            if result.status == SKIPPED and "deferred" in result.justification}


def rejudge_deferred(report: FindingsReport, resolved: FindingsReport) -> FindingsReport:
    """``report`` with each deferred rule's results replaced by its results on the
    resolved plan (a pass, failures, exemptions), each message saying so."""
    rules = deferred_rules(report)
    if not rules:
        return report
    kept = [result for result in report.results if result.rule.id not in rules]
    taken: list[CheckResult] = []
    for result in resolved.results:
        if result.rule.id not in rules:
            continue
        if result.status == SKIPPED and "deferred" in result.justification:
            taken.append(result)  # still unknown even resolved: stays deferred, never a pass
            continue
        note = RESOLVED_NOTE if result.status != PASSED else ""
        result.message = f"{result.message} ({note})" if result.message and note else (result.message or note)
        result.justification = {**result.justification, "resolved": RESOLVED_NOTE} \
            if result.status != PASSED else result.justification
        taken.append(result)
    report.results = kept + taken
    report.stats = {**report.stats, "judgedOnResolvedPlan": sorted(rules)}
    return report


def judge_deferred_on_resolved(server, report: FindingsReport, resolved: ResourceGraph, stack: StackConfig,
                               specs: list, today: datetime.date,
                               stack_config: Optional[dict[str, str]] = None) -> FindingsReport:
    """Run the pack (already running as ``server``) on ``resolved`` when ``report`` has
    deferred rules, and merge those rules' verdicts into ``report``."""
    if not deferred_rules(report):
        return report
    from .runner import check

    resolved_report = check(server, resolved, stack, specs, today, stack_config=stack_config)
    return rejudge_deferred(report, resolved_report)
