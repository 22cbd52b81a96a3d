"""Run the registered checkers on a (resolved) plan and gather one findings report."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Iterable, Optional

from ..exemptions import SpecExemption
from ..reports.exemptions import apply_exemptions, verify_judges
from ..graph import RESOLVED, ResourceGraph, is_unknown
from ..reports.findings import FindingsReport, attach_spec
from ..stackconfig import StackConfig
from .checkers import checker_names
from .suppressions import Suppression, apply_suppressions
from .worker import run_checkers

if TYPE_CHECKING:
    from .worker import CheckerWorker

TOOL = "mlp-verify"


def verify(graph: ResourceGraph, stack: StackConfig, suppressions: list[Suppression],
           only: Optional[Iterable[str]] = None, whole_stack: bool = True,
           exemptions: Iterable[SpecExemption] = (), today: Optional[datetime.date] = None,
           worker: Optional["CheckerWorker"] = None) -> FindingsReport:
    """Every checker (or those named in ``only``) on ``graph``, the platform's reviewed
    suppressions applied, then the planned teams' ``exemptions`` (judged on ``today``) to
    what still fails: the mechanism the policy pack and checkov use too.

    ``whole_stack`` is False for a plan of some teams (``--team``, a pull request's
    changed teams, ``--check``): an entry that matches nothing there may well match
    elsewhere, so unused entries are reported only on whole-stack runs of every checker.

    ``worker``: a :class:`~mlplatform.verify.worker.CheckerWorker` already warmed up (the
    ci pipeline starts one while it captures); the checkers then run there, the same way.

    A plan that was not resolved (a saved ordinary plan, a ``pulumi preview --json``)
    still runs; its unknown values are counted in ``stats`` as not checked.
    """
    names = list(only) if only is not None else list(checker_names())
    if worker is not None:
        results, timings = worker.run(graph, stack, names)
    else:
        results, timings = run_checkers(graph, stack, tuple(names))
    report = FindingsReport(tool=TOOL, stack=graph.stack or stack.stack)
    report.results = apply_suppressions(results, suppressions, stack=stack.stack,
                                        report_unused=whole_stack and only is None)
    applied = apply_exemptions(report.results, exemptions, today or datetime.date.today(), verify_judges, graph)
    report.results = applied.results
    attach_spec(report.results, graph)  # findings speak the spec: field and fix
    report.stats = {
        "resources": len(graph),
        "resolved": graph.origin == RESOLVED,
        "resourcesWithSimulatedValues": sum(1 for resource in graph.resources.values() if resource.simulated),
        "unknownValues": sum(_unknowns(resource.inputs) for resource in graph.resources.values()),
        "checkers": names,
        "seconds": timings,
        "unusedExemptions": [f"{item.file}:{item.line}: {item.rule} for {item.target}" for item in applied.unused
                             if only is None],
    }
    return report


def _unknowns(value) -> int:
    if isinstance(value, dict):
        return sum(_unknowns(item) for item in value.values())
    if isinstance(value, list):
        return sum(_unknowns(item) for item in value)
    return 1 if is_unknown(value) else 0
