"""Rendering an offline plan: the resource tree, counts by type and the diff vs a base.

Text is for terminals and CI logs, Markdown for pull-request comments, JSON for machines
(the ResourceGraph itself, plus the diff when there is a base, so the output can be fed
back to ``--graph`` or ``--base``).
"""

from __future__ import annotations

import json
from typing import Any, Optional

from ..diff import PlanDiff, ResourceChange
from ..graph import GraphResource, ResourceGraph
from ..type_tokens import TEAM

STATEFUL_MARKER = "!! REPLACES STATEFUL RESOURCE"
ACTION_SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def _label(resource: GraphResource) -> str:
    return f"{resource.type} {resource.name}"


def _where(source) -> str:
    return f"  ({source.file}:{source.line})" if source else ""


def tree_lines(graph: ResourceGraph) -> list[str]:
    """The component/resource hierarchy, children sorted by type then name."""
    children: dict[Optional[str], list[GraphResource]] = {}
    for resource in graph:
        parent = resource.parent if resource.parent in graph.resources else None
        children.setdefault(parent, []).append(resource)
    for items in children.values():
        items.sort(key=lambda r: (r.custom, r.type, r.name))
    lines: list[str] = []

    def walk(urn: Optional[str], prefix: str) -> None:
        items = children.get(urn, [])
        for index, resource in enumerate(items):
            last = index == len(items) - 1
            branch = "└─ " if last else "├─ "
            protect = " [protected]" if resource.options.get("protect") else ""
            source = _where(resource.source) if not resource.custom else ""
            lines.append(f"{prefix}{branch}{_label(resource)}{protect}{source}")
            walk(resource.urn, prefix + ("   " if last else "│  "))

    walk(None, "")
    return lines


def _teams(graph: ResourceGraph) -> list[str]:
    return sorted(r.name for r in graph if r.type == TEAM)


def _change_lines(change: ResourceChange) -> list[str]:
    symbol = ACTION_SYMBOLS[change.action]
    marker = f"  {STATEFUL_MARKER}" if change.destroys_state else ""
    reasons = f" (forced by {', '.join(change.replace_reasons)})" if change.replace_reasons else ""
    lines = [f"{symbol} {change.action} {change.type} {urn_label(change.urn)}{reasons}{_where(change.source)}{marker}"]
    for prop in change.property_changes:
        lines.append(f"      {prop.path}: {_short(prop.before)} -> {_short(prop.after)}")
    return lines


def urn_label(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def diff_lines(diff: PlanDiff) -> list[str]:
    summary = diff.summary()
    lines = [
        "Changes against base: "
        f"{summary['create']} to create, {summary['update']} to update, "
        f"{summary['replace']} to replace, {summary['delete']} to delete"
    ]
    if diff.stateful_replacements:
        lines.append(f"{STATEFUL_MARKER}: {len(diff.stateful_replacements)} stateful or protected resource(s) "
                     "would be deleted or replaced; data may be lost")
    for change in diff.replaced + diff.deleted + diff.updated + diff.created:
        lines.extend(_change_lines(change))
    if len(lines) == 1:
        lines.append("No changes.")
    return lines


def diff_markdown(diff: PlanDiff) -> list[str]:
    """The change counts, a caution for destroyed state, and the changes in a fold."""
    summary = diff.summary()
    lines: list[str] = []
    lines += ["| create | update | replace | delete |", "|---:|---:|---:|---:|",
              f"| {summary['create']} | {summary['update']} | {summary['replace']} | {summary['delete']} |", ""]
    if diff.stateful_replacements:
        lines += ["> [!CAUTION]", f"> **{STATEFUL_MARKER}**: data may be lost", ""]
        for change in diff.stateful_replacements:
            lines.append(f"> - `{change.action}` `{change.type}` `{urn_label(change.urn)}`{_where(change.source)}")
        lines.append("")
    lines += ["<details><summary>Changes</summary>", "", "```diff"]
    lines += diff_lines(diff)[1:]
    lines += ["```", "</details>", ""]
    return lines


def render_text(graph: ResourceGraph, diff: Optional[PlanDiff] = None) -> str:
    teams = _teams(graph)
    lines = [
        f"Stack {graph.stack} (project {graph.project}): {len(graph)} resources"
        + (f", {len(teams)} team(s): {', '.join(teams)}" if teams else ""),
        "",
    ]
    lines.extend(tree_lines(graph))
    lines.extend(["", "Resources by type:"])
    for type_token, count in graph.count_by_type().items():
        lines.append(f"  {count:5d}  {type_token}")
    if diff is not None:
        lines.append("")
        lines.extend(diff_lines(diff))
    return "\n".join(lines) + "\n"


def render_markdown(graph: ResourceGraph, diff: Optional[PlanDiff] = None) -> str:
    teams = _teams(graph)
    lines = [f"## Plan of stack `{graph.stack}`", "",
             f"{len(graph)} resources across {len(teams)} team(s): {', '.join(f'`{t}`' for t in teams)}", ""]
    if diff is not None:
        lines += diff_markdown(diff)
    lines += ["<details><summary>Resources by type</summary>", "", "| type | count |", "|---|---:|"]
    lines += [f"| `{t}` | {c} |" for t, c in graph.count_by_type().items()]
    lines += ["", "</details>", "", "<details><summary>Resource tree</summary>", "", "```"]
    lines += tree_lines(graph)
    lines += ["```", "</details>", ""]
    return "\n".join(lines)


def render_json(graph: ResourceGraph, diff: Optional[PlanDiff] = None) -> str:
    data = graph.to_json()
    if diff is not None:
        data["diff"] = diff.to_json()
    return json.dumps(data, indent=1, sort_keys=True) + "\n"
