"""The checkers ``mlp ci`` runs after planning, each as a :data:`~.pipeline.Stage`."""

from __future__ import annotations

import json

from ..reports import plan as plan_report
from ..reports.mermaid import render_change_diagram
from ..stackconfig import StackConfig
from ..type_tokens import TEAM
from .pipeline import CiContext, StageResult

#: Stages in summary order; each is the function ``<name>_stage`` of this module.
from . import STAGE_NAMES  # noqa: F401  (re-exported: the stages below, in this order)


#: nodes of the change diagram in a pull-request comment: more is not read, only scrolled
DIAGRAM_NODES = 25


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
    diagram = render_change_diagram(diff, context.base, head, max_nodes=DIAGRAM_NODES)
    if diagram:
        sections += ["```mermaid", diagram.rstrip("\n"), "```", ""]
    sections += plan_report.diff_markdown(diff)
    return StageResult("plan", True, headline, "\n".join(sections), diff.to_json())


def start_policy_pack(stack: StackConfig):
    """The policy pack process, launched as the Pulumi CLI launches it (takes seconds to boot)."""
    from ..capture import project_name
    from ..policy.server import PackServer
    from ..stackconfig import config_values_from_stack_file, stack_file

    stack_values, _ = config_values_from_stack_file(stack_file(stack.stack))
    return PackServer(project=project_name(), stack=stack.stack, config=stack_values)


def start_checker_worker(stack: StackConfig):
    """The verify checkers' own process, importing parliament and botocore's models meanwhile."""
    from ..verify.worker import CheckerWorker

    return CheckerWorker()


#: Slow start-ups to begin while the specs are validated and the plans captured, by stage name.
WARMUPS = {"policy": start_policy_pack, "verify": start_checker_worker}


def submit_verify(context: CiContext, worker) -> None:
    """Send the verify checkers their plan (the head's resolved plan, which the policy stage
    needs too for the rules it defers) as soon as the plans are captured: they then run in
    their process while the policy pack runs in its own."""
    from ..verify.checkers import checker_names

    worker.submit(context.resolved_head(), context.stack, checker_names())


#: Work to hand a warmed-up resource once the plans are captured, before the stages run.
EARLY = {"verify": submit_verify}


def policy_stage(context: CiContext) -> StageResult:
    """The policy pack over the planned resources, served as ``pulumi preview`` serves it."""
    import datetime

    from ..policy.runner import check
    from ..reports.findings import render_json, render_markdown
    from ..stackconfig import config_values_from_stack_file, stack_file
    from ..policy.deferred import deferred_rules, judge_deferred_on_resolved

    stack_values, _ = config_values_from_stack_file(stack_file(context.options.stack))
    # team facts and stack-wide rules (every team has a budget, ...) cover the planned teams
    planned = {resource.name for resource in context.head if resource.type == TEAM}
    specs = [loaded for loaded in context.specs if loaded.team in planned]
    server = context.prepared("policy") or start_policy_pack(context.stack)
    today = datetime.date.today()
    with server:
        report = check(server, context.head, context.stack, specs, today, stack_config=stack_values)
        if "verify" not in context.options.skip and deferred_rules(report):
            # rules the pack deferred (values unknown until apply) are judged on the resolved
            # plan the verify stage checks too; with --skip verify they stay deferred
            report = judge_deferred_on_resolved(server, report, context.resolved_head(), context.stack, specs,
                                                today, stack_config=stack_values)
    return _findings_result("policy", report, render_markdown(report, title="Policy pack"), json.loads(render_json(report)))


def checkov_stage(context: CiContext) -> StageResult:
    """checkov over the planned resources as Terraform plan JSON and Kubernetes manifests."""
    from ..checkov.command import stats_markdown
    from ..checkov.runner import scan
    from ..checkov.skips import load_skips
    from ..reports.exemptions import planned_exemptions
    from ..reports.findings import render_json, render_markdown

    report = scan(context.head, load_skips(), stack=context.stack,
                  exemptions=planned_exemptions(context.stack, context.head, context.specs))
    markdown = render_markdown(report, title="checkov") + stats_markdown(report)
    return _findings_result("checkov", report, markdown, json.loads(render_json(report)))


def verify_stage(context: CiContext) -> StageResult:
    """AWS acceptance (and every registered verify checker) on the head's resolved plan,
    with the reviewed suppressions."""
    from ..reports.findings import render_json, render_markdown
    from ..verify.command import stats_markdown
    from ..verify.runner import verify
    from ..verify.suppressions import load_suppressions
    from ..reports.exemptions import planned_exemptions

    resolved = context.resolved_head()
    worker = context.prepared("verify")
    try:
        report = verify(resolved, context.stack, load_suppressions(), whole_stack=context.scope is None,
                        exemptions=planned_exemptions(context.stack, resolved, context.specs), worker=worker)
    finally:
        if worker is not None:
            worker.close()
    markdown = render_markdown(report, title="Verify (resolved plan)") + stats_markdown(report)
    return _findings_result("verify", report, markdown, json.loads(render_json(report)))


def cost_stage(context: CiContext) -> StageResult:
    """Monthly cost of the planned teams, the change against the base, and the budget guard.

    A team over budget fails the stage. A team whose budget cannot be confirmed (lines
    without a sourced price) fails it on a stack with ``mlplatform:unpricedCost: block``
    and passes with a visible warning under ``warn`` (the default); either way the
    headline says so and the summary names the unpriced lines."""
    from ..cost import report as render
    from ..cost.budget import check_budgets, guard_verdict
    from ..cost.catalogue import load_catalogue
    from ..cost.diff import diff_reports
    from ..cost.attribution import spec_context
    from ..cost.engine import price_graph
    from ..cost.money import usd

    stack = context.stack
    catalogue = load_catalogue()

    def price(graph, specs):
        # usage comes from the specs already loaded for this side, not from files again
        planned = {resource.name for resource in graph if resource.type == TEAM}
        contexts = {loaded.team: spec_context(loaded, stack.environment) for loaded in specs if loaded.team in planned}
        return price_graph(graph, catalogue, stack.region, stack.environment, contexts, [], stack_region=stack.region)

    head = price(context.head, context.specs)
    diff = None
    if context.base is not None:
        diff = diff_reports(price(context.base, context.base_specs if context.base_ref_used else context.specs), head)
    budgets = check_budgets(head)
    verdict = guard_verdict(budgets, stack.unpriced_cost)
    data = json.loads(render.render_json(head, budgets, diff))
    data["guard"] = {"unpricedCost": verdict.unpriced_policy, "blocking": verdict.blocking,
                     "over": [result.team for result in verdict.over],
                     "unconfirmed": [result.team for result in verdict.unconfirmed]}
    headline = f"{usd(head.total())}/month planned" + (
        f", change {usd(diff.delta, signed=True)}/month" if diff is not None else "")
    if verdict.over:
        headline += f"; {len(verdict.over)} team(s) over budget"
    if verdict.unconfirmed:
        mark = ":x:" if verdict.unpriced_policy == "block" else ":warning:"
        headline += f"; {mark} {verdict.unconfirmed_message()}"
    elif not verdict.over:
        headline += "; budgets ok"
    return StageResult("cost", not verdict.blocking, headline, render.render_markdown(head, budgets, diff), data)


def _findings_result(name: str, report, markdown: str, data: dict) -> StageResult:
    counts = report.counts()
    blocking = len(report.blocking)
    headline = (f"{counts['passed']} passed, {counts['failed']} failed ({blocking} blocking), "
                f"{counts['skipped']} skipped, {counts['exempted']} exempted")
    return StageResult(name, not blocking, headline, markdown, data, report)
