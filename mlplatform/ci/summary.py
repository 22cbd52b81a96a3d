"""The one Markdown summary a pull request shows, and the machine-readable files beside it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import PurePath

from ..cost.catalogue import gap_summary
from ..cost.money import usd as money  # the one definition, shared with the cost reports
from ..reports.findings import FAILED, MANDATORY, CheckResult, FindingsReport, Rule, combine_junit, combine_sarif
from .pipeline import CiOutcome

def comment_marker(stack: str) -> str:
    """Marker a CI job looks for to update its previous comment instead of adding one."""
    return f"<!-- mlp-ci-summary:{stack} -->"


#: GitHub rejects a comment over 65,536 characters; the summary stays well below, whatever
#: the size of the change, and points at the workflow artifact for the rest.
COMMENT_LIMIT = 60_000
#: "What to fix" items shown before the rest is counted and left to the artifact.
FIX_ITEMS = 40
#: changed cost lines shown in the comment (the full report sits in the artifact)
COST_LINES = 15
#: teams listed in the change and cost tables (those needing attention first)
TEAM_ROWS = 30
ARTIFACT_NOTE = "the full reports are in the workflow's `ci-out` artifact (summary.md, ci.json, results.sarif)"


def render_summary(outcome: CiOutcome, limit: int = COMMENT_LIMIT) -> str:
    """The pull-request comment: the verdict per check and what to fix on the first screen,
    then the change per team and its cost, then every report collapsed. Sections that no
    longer fit within ``limit`` are replaced by a pointer to the artifact."""
    options = outcome.options
    verdict = ":white_check_mark: **may merge**" if outcome.may_merge else ":x: **blocked**"
    lines = [comment_marker(options.stack), f"## mlp ci — stack `{options.stack}`: {verdict}", ""]
    context = outcome.context
    if options.base_ref:
        changed = context.changed_files if context else []
        scope = "all teams (--full)" if options.full or context is None or context.scope is None \
            else (", ".join(f"`{team}`" for team in sorted(context.scope)) or "no team")
        lines += [f"Compared with `{options.base_ref}`: {len(changed)} spec file(s) changed; planned: {scope}.", ""]
    elif options.base_plan:
        lines += [f"Compared with the saved plan `{options.base_plan}`.", ""]
    lines += ["| check | result |", "|---|---|"]
    if outcome.validation:
        lines.append(f"| validate | :x: {len(outcome.validation)} error(s) |")
    else:
        teams = len(context.specs) if context else 0
        lines.append(f"| validate | :white_check_mark: {teams} spec(s) valid |")
    for stage in outcome.stages:
        mark = ":white_check_mark:" if stage.ok else ":x:"
        lines.append(f"| {stage.name} | {mark} {_cell(stage.headline)} |")
    lines.append("")
    lines += what_to_fix(outcome)
    lines += change_brief(outcome)
    lines += cost_brief(outcome)
    essential = "\n".join(lines)

    timing = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in outcome.timings.items())
    footer = f"\n<sub>{timing}</sub>\n"
    reports = [(stage.name, _details(stage.name, stage.headline, stage.markdown))
               for stage in outcome.stages if stage.markdown]
    pointers = {name: f"*{name}: the report ({len(section):,} characters) did not fit in this comment; "
                      f"{ARTIFACT_NOTE}.*\n" for name, section in reports}
    # every report is at least its pointer: reserve those first, then the first screen
    room = limit - len(footer) - sum(len(pointer) + 1 for pointer in pointers.values())
    if len(essential) + 1 > room:
        essential = _cut(essential, room - 1)
    room -= len(essential) + 1
    body = [essential]
    for name, section in reports:
        extra = len(section) - len(pointers[name])
        if extra <= room:
            body.append(section)
            room -= extra
        elif room > 2_000:  # what fits of it, cut at a line, inside its own <details>
            stage = next(stage for stage in outcome.stages if stage.name == name)
            budget = len(pointers[name]) + room
            cut = _details(name, stage.headline, _cut(stage.markdown, budget - len(_details(name, stage.headline, ""))))
            body.append(cut)
            room -= len(cut) - len(pointers[name])
        else:
            body.append(pointers[name])
    return "\n".join(body) + footer


def what_to_fix(outcome: CiOutcome) -> list[str]:
    """Every blocking problem, spec position first, with the fix: the reviewer's to-do list."""
    items: list[str] = []
    for issue in outcome.validation:
        field = f"`{issue.field}`: " if issue.path else ""
        items.append(f"- `{issue.file}:{issue.line}` {field}{_one_line(issue.message)} "
                     f"(run `mlp validate` to see it locally)")
    for stage in outcome.stages:
        if stage.findings is None:
            continue
        for result in stage.findings.blocking:
            where = f"`{result.where}`" if result.file else f"`{result.resource_name or '(stack)'}`"
            advice = result.fix or result.rule.remediation
            fix = f" **Fix:** {_one_line(advice)}" if advice else ""
            if result.spec_field:
                where += f" `{result.spec_field}`"
            resource = f" ({result.resource_name})" if result.file and result.resource_name else ""
            items.append(f"- {where} **{result.rule.id}** ({stage.name}){resource}: "
                         f"{_one_line(result.message or result.rule.name)}.{fix}")
    if not items:
        return []
    shown = items[:FIX_ITEMS]
    lines = ["### What to fix", ""] + shown
    if len(items) > len(shown):
        lines.append(f"- … and {len(items) - len(shown)} more: {ARTIFACT_NOTE}.")
    return lines + [""]


def change_brief(outcome: CiOutcome) -> list[str]:
    """Created / updated / replaced / deleted per team, stateful replacements loudly."""
    context = outcome.context
    diff = context.diff if context is not None else None
    if diff is None:
        return []
    counts: dict[str, dict[str, int]] = {}
    for action, changes in (("create", diff.created), ("update", diff.updated),
                            ("replace", diff.replaced), ("delete", diff.deleted)):
        for change in changes:
            team = _team_of(change, context)
            counts.setdefault(team, {"create": 0, "update": 0, "replace": 0, "delete": 0})[action] += 1
    lines = ["### The change", ""]
    for change in diff.stateful_replacements:
        where = f" (`{change.source.file}:{change.source.line}`)" if change.source else ""
        lines.append(f"> :warning: **REPLACES STATEFUL RESOURCE** `{change.urn.rsplit('::', 1)[-1]}`{where}: "
                     f"{change.action}; its data does not move with it.")
    if diff.stateful_replacements:
        lines.append("")
    if not counts:
        return lines + ["No resource changes.", ""]
    lines += ["| team | create | update | replace | delete |", "|---|---:|---:|---:|---:|"]
    ordered = sorted(counts, key=lambda team: (-sum(counts[team].values()), team))
    for team in ordered[:TEAM_ROWS]:
        row = counts[team]
        lines.append(f"| `{team}` | {row['create']} | {row['update']} | {row['replace']} | {row['delete']} |")
    if len(ordered) > TEAM_ROWS:
        rest = {action: sum(counts[team][action] for team in ordered[TEAM_ROWS:]) for action in counts[ordered[0]]}
        lines.append(f"| {len(ordered) - TEAM_ROWS} more teams | {rest['create']} | {rest['update']} | "
                     f"{rest['replace']} | {rest['delete']} |")
    return lines + ["", "Attribute-level changes are under **plan** below.", ""]


def cost_brief(outcome: CiOutcome) -> list[str]:
    """Each planned team's monthly cost before and after, its budget, the changed lines,
    and, for every team whose budget cannot be confirmed, the lines without a price."""
    stage = next((stage for stage in outcome.stages if stage.name == "cost"), None)
    if stage is None or not stage.data:
        return []
    data = stage.data
    diff = data.get("diff") or {}
    budgets = {item["team"]: item for item in data.get("budgets", [])}
    change_of: dict[str, Decimal] = {}
    for item in diff.get("resources", []):
        if item.get("deltaUsd") is not None:
            change_of[item["team"]] = change_of.get(item["team"], Decimal(0)) + Decimal(item["deltaUsd"])
    lines = ["### Cost", "", "| team | monthly | change | budget |", "|---|---:|---:|---|"]
    teams = data.get("teams", [])

    def settled(team: str) -> bool:  # nothing to look at: within budget, or no budget
        budget = budgets.get(team, {})
        return budget.get("status", "") in ("within budget", "no budget", "")

    attention = sorted(teams, key=lambda team: (settled(team["team"]), -abs(change_of.get(team["team"], Decimal(0))),
                                                team["team"]))
    for team in attention[:TEAM_ROWS]:
        name = team["team"]
        change = money(change_of.get(name, Decimal(0)), signed=True) if diff else "—"
        budget = budgets.get(name)
        status = (f"{budget['status']}" + (f", {budget['percent']}% of {money(Decimal(budget['budgetUsd']))}"
                  if budget.get("percent") else "")) if budget else "no budget"
        if budget and budget.get("over"):
            status = ":x: " + status
        elif budget and budget.get("confirmed") is False:
            status = ":warning: " + status
        total = money(Decimal(team["totalUsd"])) if team["totalUsd"] is not None else "unknown"
        unknown = f" ({team['unknownLines']} unpriced)" if team.get("unknownLines") else ""
        lines.append(f"| `{name}` | {total}/month{unknown} | {change} | {_cell(status)} |")
    if len(teams) > TEAM_ROWS:
        lines.append(f"| {len(teams) - TEAM_ROWS} more teams | | | under **cost** below |")
    lines += unconfirmed_brief(data)
    changed = sorted((item for item in diff.get("resources", []) if item.get("deltaUsd") not in (None, "0.00")),
                     key=lambda item: -abs(Decimal(item["deltaUsd"])))
    if changed:
        lines += ["", "Largest changes:", ""]
        for item in changed[:COST_LINES]:
            lines.append(f"- `{item['resource']}` ({item['change']}): {money(Decimal(item['deltaUsd']), signed=True)}/month")
        if len(changed) > COST_LINES:
            lines.append(f"- … {len(changed) - COST_LINES} more under **cost** below.")
    return lines + [""]


def unconfirmed_brief(data: dict) -> list[str]:
    """The budgets the guard cannot confirm, loud (blocking under ``unpricedCost: block``),
    with the unpriced lines named and why each has no price."""
    unconfirmed = [item for item in data.get("budgets", []) if item.get("confirmed") is False]
    if not unconfirmed:
        return []
    guard = data.get("guard") or {}
    blocks = guard.get("unpricedCost") == "block"
    mark = ":x:" if blocks else ":warning:"
    consequence = ("blocks this change (`mlplatform:unpricedCost: block`)" if blocks
                   else "is a warning on this stack (`mlplatform:unpricedCost: warn`)")
    lines = ["", f"> {mark} **Budget cannot be confirmed** for {len(unconfirmed)} team(s): lines without a sourced "
                 f"price are not in the projection, so it is a lower bound; this {consequence}.", ""]
    shown = 0
    for item in unconfirmed:
        for line in item.get("unpriced", []):
            if shown == COST_LINES:
                break
            gap = f" (catalogue: {gap_summary(line['catalogueGap'])})" if line.get("catalogueGap") else ""
            lines.append(f"- `{item['team']}` `{line['resource']}` {_html(line['item'])}: "
                         f"{_html(_one_line(line['reason']) + gap)}")
            shown += 1
    total = sum(len(item.get("unpriced", [])) for item in unconfirmed)
    if total > shown:
        lines.append(f"- … {total - shown} more under **cost** below (Without a price).")
    return lines


def _team_of(change, context) -> str:
    """The team a changed resource belongs to: its spec file names the team (a spec must be
    named after its team), else its ``team`` tag; shared resources say ``(stack)``."""
    if change.source is not None:
        return PurePath(change.source.file).stem
    for graph in (context.head, context.base):
        resource = graph.resources.get(change.urn) if graph is not None else None
        if resource is not None:
            return (resource.effective_tags or {}).get("team") or "(stack)"
    return "(stack)"


def _details(name: str, headline: str, markdown: str) -> str:
    return (f"<details><summary><b>{name}</b>: {_html(headline)}</summary>\n\n"
            f"{markdown.rstrip()}\n\n</details>\n")


def _cut(text: str, limit: int) -> str:
    """``text`` cut at a line end so that it, the closing of whatever the cut left open (a
    code fence, ``<details>``) and the note fit in ``limit`` characters."""
    note = f"\n\n*…cut to fit a comment; {ARTIFACT_NOTE}.*\n"
    closing_room = 200
    kept = text[: max(0, limit - len(note) - closing_room)].rsplit("\n", 1)[0]
    closing = ""
    if kept.count("```") % 2:
        closing += "\n```"
    closing += "\n</details>" * max(0, kept.count("<details>") - kept.count("</details>"))
    return kept + closing[:closing_room] + note


def _one_line(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_json(outcome: CiOutcome) -> str:
    data = {
        "stack": outcome.options.stack,
        "base": outcome.options.base_ref or outcome.options.base_plan,
        "mayMerge": outcome.may_merge,
        "validation": [issue.to_json() for issue in outcome.validation],
        "scope": sorted(outcome.context.scope) if outcome.context and outcome.context.scope is not None else None,
        "changedFiles": outcome.context.changed_files if outcome.context else [],
        "stages": {stage.name: {"ok": stage.ok, "headline": stage.headline, "data": stage.data}
                   for stage in outcome.stages},
        "timings": {name: round(seconds, 3) for name, seconds in outcome.timings.items()},
    }
    return json.dumps(data, indent=1, sort_keys=True, default=str) + "\n"


def machine_files(outcome: CiOutcome) -> dict[str, str]:
    """File name -> text for the CI system: JSON always, SARIF and JUnit of all findings."""
    reports = [stage.findings for stage in outcome.stages if stage.findings is not None]
    if outcome.validation:
        reports.insert(0, validation_report(outcome))
    return {
        "summary.md": render_summary(outcome),
        "ci.json": render_json(outcome),
        "results.sarif": combine_sarif(reports),
        "junit.xml": combine_junit(reports),
    }


SPEC_RULE = Rule("MLP-SPEC-000", "Team spec is valid", "Schema, cross-field and stack checks of a team spec.",
                 "Fix the field the message names; `mlp validate` shows the same errors locally.")


def validation_report(outcome: CiOutcome) -> FindingsReport:
    """Spec errors as findings, so code scanning marks the offending spec lines."""
    results = [
        CheckResult(SPEC_RULE, FAILED, MANDATORY, f"{issue.field}: {issue.message}" if issue.path else issue.message,
                    file=issue.file, line=issue.line)
        for issue in outcome.validation
    ]
    return FindingsReport("mlp-validate", outcome.options.stack, results)
