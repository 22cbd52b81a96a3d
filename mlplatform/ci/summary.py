"""The one Markdown summary a pull request shows, and the machine-readable files beside it."""

from __future__ import annotations

import json

from ..reports.findings import FAILED, MANDATORY, CheckResult, FindingsReport, Rule, combine_junit, combine_sarif
from .pipeline import CiOutcome

def comment_marker(stack: str) -> str:
    """Marker a CI job looks for to update its previous comment instead of adding one."""
    return f"<!-- mlp-ci-summary:{stack} -->"


def render_summary(outcome: CiOutcome) -> str:
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
        lines.append(f"| {stage.name} | {mark} {stage.headline} |")
    lines.append("")
    if outcome.validation:
        lines += ["### Spec errors", "", "```"]
        lines += [issue.format() for issue in outcome.validation]
        lines += ["```", ""]
    for stage in outcome.stages:
        if stage.markdown:
            lines += [stage.markdown.rstrip("\n"), ""]
    timing = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in outcome.timings.items())
    lines += [f"<sub>{timing}</sub>", ""]
    return "\n".join(lines)


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
