"""Cost report renderers: terminal text, JSON, and Markdown for a pull request comment.

The Markdown leads with what a reviewer needs (the change in monthly cost and the budget
verdict per team), then the changed resources with the reason for each change, and keeps
the full line-by-line breakdown, unknown prices, cost per 1,000 inferences and the
12-month forecast in collapsible sections, as Infracost's PR comments do.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Optional

from .budget import BudgetResult
from .diff import CostDiff
from .lines import CostReport, Line, money_json
from .money import usd  # noqa: F401  (the one way money is written; re-exported for the reports' callers)
from .catalogue import gap_summary
from .usage import number

D = Decimal


def usd4(value: Optional[Decimal]) -> str:
    """Small amounts (cost per 1,000 inferences) need more than cents to compare."""
    return "UNKNOWN" if value is None else f"${value:,.4f}"


def unit_price(line: Line) -> str:
    if line.status == "free":
        return "free"
    if line.unit_usd is None:
        return "UNKNOWN"
    return f"${line.unit_usd.normalize():f}"


def quantity(line: Line) -> str:
    return f"{number(line.quantity.quantize(D('0.0001')))} {line.unit}".strip()


def component_total(lines: list[Line], component: str) -> str:
    mine = [line for line in lines if line.component == component]
    known = sum((line.monthly for line in mine if line.monthly is not None), D(0))
    unknown = sum(1 for line in mine if line.monthly is None)
    return usd(known) + (f" + {unknown} unknown" if unknown else "")


def unpriced_text(line: Line) -> str:
    """An UNKNOWN line with why it has no price: the reason, and the catalogue's recorded
    gap for that SKU and region when it has one (its first sentence; the JSON has it all)."""
    gap = f" (catalogue: {gap_summary(line.gap)})" if line.gap else ""
    return f"{line.resource} ({line.type}): {line.item}: {line.reason}{gap}"


def _team_total(report: CostReport, team: str) -> str:
    unknown = len(report.unknown(team))
    total = usd(report.total(team))
    return f"{total} + {unknown} unknown" if unknown else total


# ---------------------------------------------------------------- text

def render_text(report: CostReport, budgets: list[BudgetResult], diff: Optional[CostDiff] = None) -> str:
    out = [f"Cost preview: stack {report.stack} ({report.region}, environment {report.environment}), "
           f"price catalogue {report.catalogue_version}, USD per month", ""]
    by_budget = {b.team: b for b in budgets}
    for team in report.teams():
        out.append(f"{team}")
        lines = report.team_lines(team)
        for component in sorted({line.component for line in lines}):
            out.append(f"  {component}: {component_total(lines, component)}")
            by_urn: dict[str, list[Line]] = {}
            for line in lines:
                if line.component == component:
                    by_urn.setdefault(line.urn, []).append(line)
            for resource in sorted({(line.resource, line.type, line.urn) for line in lines if line.component == component}):
                mine = by_urn[resource[2]]
                if all(line.status == "free" for line in mine):
                    continue
                out.append(f"    {resource[0]} ({resource[1]})")
                for line in mine:
                    out.append(f"      {line.item}: {quantity(line)} x {unit_price(line)} = {usd(line.monthly)}")
                    for note in line.assumptions:
                        out.append(f"        - {note}")
            free: dict[str, list[str]] = {}
            for line in lines:
                if line.component == component and line.status == "free":
                    free.setdefault(line.assumptions[0], []).append(line.resource)
            for reason, names in sorted(free.items()):
                out.append(f"    free ({reason}): {', '.join(sorted(names))}")
        result = by_budget.get(team)
        verdict = ""
        if result is not None and result.budget is not None:
            verdict = f" of {usd(result.budget)} budget ({result.percent:.1f}%): {result.status}"
        out.append(f"  total {_team_total(report, team)}{verdict}")
        out.append("")
    unknown = report.unknown()
    out.append(f"Stack total: {usd(report.total())}" + (f" + {len(unknown)} unknown line(s)" if unknown else ""))
    if unknown:
        out.append("")
        out.append("Unknown (not added to any total):")
        for line in unknown:
            out.append(f"  {line.team} {unpriced_text(line)}")
    if report.endpoints:
        out.append("")
        out.append("Cost per 1,000 inferences:")
        for metric in report.endpoints:
            per = metric.per_thousand
            out.append(f"  {metric.team}/{metric.endpoint}: {usd4(per)}"
                       f" ({number(metric.requests.quantize(D(1)))} requests/month, {usd(metric.monthly)}/month)")
    out.append("")
    out.append("12-month forecast (known lines; data growth and retraining):")
    for team in report.teams():
        values = report.forecast(team)
        out.append(f"  {team}: month 1 {usd(values[0])}, month 6 {usd(values[5])}, month 12 {usd(values[11])}, "
                   f"12-month total {usd(sum(values, D(0)))}")
    out.append("")
    out.append("Budget guard:")
    for result in budgets:
        out.append(f"  {result.team}: {result.status}")
        out.extend(f"    {message}" for message in result.messages())
    if diff is not None:
        out.append("")
        out.append(f"Change against base: {usd(diff.base_total)} -> {usd(diff.head_total)} ({usd(diff.delta, signed=True)})")
        for delta in diff.resources:
            out.append(f"  {delta.change} {delta.team} {delta.resource} ({delta.type}): "
                       f"{usd(delta.base)} -> {usd(delta.head)} ({usd(delta.delta, signed=True)})")
            out.extend(f"      {reason}" for reason in delta.reasons)
    for warning in report.warnings:
        out.append(f"warning: {warning}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- JSON

def render_json(report: CostReport, budgets: list[BudgetResult], diff: Optional[CostDiff] = None) -> str:
    data = {
        "stack": report.stack, "region": report.region, "environment": report.environment,
        "catalogueVersion": report.catalogue_version, "currency": "USD",
        "totalUsd": money_json(report.total()), "unknownLines": len(report.unknown()),
        "teams": [
            {"team": team, "totalUsd": money_json(report.total(team)), "unknownLines": len(report.unknown(team)),
             "forecastUsd": [money_json(v) for v in report.forecast(team)],
             "components": [
                 {"component": component,
                  "totalUsd": money_json(sum((l.monthly for l in report.team_lines(team)
                                              if l.component == component and l.monthly is not None), D(0))),
                  "unknownLines": sum(1 for l in report.team_lines(team) if l.component == component and l.monthly is None)}
                 for component in sorted({l.component for l in report.team_lines(team)})
             ]}
            for team in report.teams()
        ],
        "lines": [line.to_json() for line in report.lines],
        "endpoints": [
            {"team": m.team, "endpoint": m.endpoint, "requestsPerMonth": format(m.requests.quantize(D(1)), "f"),
             "monthlyUsd": money_json(m.monthly),
             "per1000InferencesUsd": format(m.per_thousand.quantize(D("0.0001")), "f") if m.per_thousand is not None else None}
            for m in report.endpoints
        ],
        "budgets": [result.to_json() for result in budgets],
        "diff": diff.to_json() if diff is not None else None,
        "warnings": report.warnings,
    }
    return json.dumps(data, indent=1) + "\n"


# ---------------------------------------------------------------- Markdown

def _cell(text: str) -> str:
    """Plain text for a Markdown table cell or list item: pipes escaped, one line, and
    angle brackets escaped so ``Mem-<n>GB`` is not taken for an HTML tag and dropped."""
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(report: CostReport, budgets: list[BudgetResult], diff: Optional[CostDiff] = None) -> str:
    over = [b for b in budgets if b.over]
    unknown = report.unknown()
    unconfirmed = [b for b in budgets if not b.confirmed]
    icon = ":x:" if over else (":warning:" if unknown or any(b.thresholds_reached for b in budgets) else ":white_check_mark:")
    out = [f"### Cost preview: stack `{report.stack}` ({report.region})", ""]
    headline = f"{icon} Monthly cost **{usd(report.total())}**"
    if diff is not None:
        headline += f" ({usd(diff.delta, signed=True)} against base {usd(diff.base_total)})"
    if unknown:
        headline += f", plus {len(unknown)} line(s) without a price"
    if unconfirmed:
        headline += (f"; the budget cannot be confirmed for {len(unconfirmed)} team(s): "
                     + ", ".join(f"`{b.team}`" for b in unconfirmed))
    out += [headline, ""]
    out += ["| team | monthly | budget | used | status |", "|---|---:|---:|---:|---|"]
    for result in budgets:
        budget = usd(result.budget) if result.budget is not None else "-"
        used = f"{result.percent:.1f}%" if result.percent is not None else "-"
        status = (":x: " if result.over else ":warning: " if result.thresholds_reached or not result.confirmed
                  else "") + result.status
        out.append(f"| {result.team} | {_team_total(report, result.team)} | {budget} | {used} | {status} |")
    out.append("")
    if diff is not None:
        if diff.resources:
            out += ["#### What changed", "", "| change | resource | before | after | difference |", "|---|---|---:|---:|---:|"]
            for delta in diff.resources:
                out.append(f"| {delta.change} | `{delta.resource}` ({delta.team}) | {usd(delta.base)} | {usd(delta.head)} "
                           f"| {usd(delta.delta, signed=True)} |")
            out.append("")
            for delta in diff.resources:
                out.append(f"- `{delta.resource}`: " + "; ".join(_cell(r) for r in delta.reasons))
            out.append("")
        else:
            out += ["No change in cost against the base plan.", ""]
    messages = [m for b in budgets for m in b.messages()]
    if messages:
        out += ["#### Budget guard", ""] + [f"- {_cell(m)}" for m in messages] + [""]
    if report.warnings:
        out += ["#### Not in the totals", ""] + [f"- :warning: {_cell(w)}" for w in report.warnings] + [""]
    out += ["<details><summary>Line items</summary>", "",
            "| team | component | resource | item | quantity | unit price | monthly | assumptions |",
            "|---|---|---|---|---:|---:|---:|---|"]
    for line in sorted(report.lines, key=lambda l: (l.team, l.component, l.resource)):
        if line.status == "free":
            continue
        out.append(f"| {line.team} | {line.component} | `{line.resource}` | {_cell(line.item)} | {quantity(line)} | {unit_price(line)} "
                   f"| {usd(line.monthly)} | {_cell('; '.join(line.assumptions))} |")
    free = sorted({(line.type, line.assumptions[0]) for line in report.lines if line.status == "free"})
    out += ["", "Free: " + ", ".join(f"`{t}` ({reason})" for t, reason in free) if free else "", "", "</details>", ""]
    if unknown:
        out += ["<details><summary>Without a price</summary>", ""]
        out += [f"- {line.team} {_cell(unpriced_text(line))}" for line in unknown]
        out += ["", "</details>", ""]
    if report.endpoints:
        out += ["<details><summary>Cost per 1,000 inferences</summary>", "",
                "| endpoint | requests/month | monthly | per 1,000 |", "|---|---:|---:|---:|"]
        for m in report.endpoints:
            per = m.per_thousand
            out.append(f"| {m.team}/{m.endpoint} | {number(m.requests.quantize(D(1)))} | {usd(m.monthly)} | "
                       f"{usd4(per)} |")
        out += ["", "</details>", ""]
    out += ["<details><summary>12-month forecast</summary>", "", "| team | month 1 | month 6 | month 12 | 12 months |",
            "|---|---:|---:|---:|---:|"]
    for team in report.teams():
        values = report.forecast(team)
        out.append(f"| {team} | {usd(values[0])} | {usd(values[5])} | {usd(values[11])} | {usd(sum(values, D(0)))} |")
    out += ["", "</details>", "", f"<sub>Prices: catalogue {report.catalogue_version}, on-demand USD list prices "
            "with sources; UNKNOWN lines are never counted as zero.</sub>", ""]
    return "\n".join(out) + "\n"
