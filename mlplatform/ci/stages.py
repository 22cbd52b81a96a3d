"""The checkers ``mlp ci`` runs after planning, each as a :data:`~.pipeline.Stage`."""

from __future__ import annotations

from ..reports import plan as plan_report
from ..reports.mermaid import render_change_diagram
from .pipeline import CiContext, StageResult

#: Stages in summary order; each is the function ``<name>_stage`` of this module.
STAGE_NAMES: tuple[str, ...] = ("plan",)


def plan_stage(context: CiContext) -> StageResult:
    """What the change does to the estate; informative, never blocking on its own.

    Deleting or replacing a stateful resource is called out at the top of the summary;
    in production stacks such resources are also protected, so ``pulumi up`` refuses to
    destroy them until someone lifts the protection deliberately.
    """
    diff = context.diff
    head = context.head
    if diff is None:
        headline = f"{len(head)} resource(s) planned (no base to compare with)"
        return StageResult("plan", True, headline, plan_report.render_markdown(head), {"resources": len(head)})
    summary = diff.summary()
    headline = (f"{summary['create']} to create, {summary['update']} to update, "
                f"{summary['replace']} to replace, {summary['delete']} to delete")
    if diff.stateful_replacements:
        headline += f" — :warning: {len(diff.stateful_replacements)} stateful resource(s) destroyed"
    sections = ["### Plan changes", ""]
    diagram = render_change_diagram(diff, context.base, head)
    if diagram:
        sections += ["```mermaid", diagram.rstrip("\n"), "```", ""]
    sections += plan_report.diff_markdown(diff)
    return StageResult("plan", True, headline, "\n".join(sections), diff.to_json())
