"""A Mermaid diagram of the changed part of a plan, for pull-request summaries.

Only changed resources and the components above them are drawn (the whole estate would
be unreadable); edges are parent-child links, colours say the action. Large changes are
cut at ``max_nodes`` with a node saying how many were left out.
"""

from __future__ import annotations

from typing import Optional

from ..diff import PlanDiff
from ..graph import ResourceGraph
from ..type_tokens import STACK

_STYLES = {
    "create": "fill:#d4f8d4,stroke:#1a7f37",
    "update": "fill:#ddf4ff,stroke:#0969da",
    "replace": "fill:#fff1c2,stroke:#9a6700",
    "delete": "fill:#ffd8d3,stroke:#cf222e",
    "context": "fill:#f6f8fa,stroke:#8c959f",
}


def _label(type_token: str, name: str) -> str:
    kind = type_token.rsplit(":", 1)[-1]
    text = f"{kind}<br/>{name}"
    return text.replace('"', "'")


def render_change_diagram(diff: PlanDiff, base: Optional[ResourceGraph], head: ResourceGraph,
                          max_nodes: int = 60) -> str:
    """Mermaid ``flowchart`` text (without the code fence); empty when nothing changed."""
    changes = diff.replaced + diff.deleted + diff.updated + diff.created
    if not changes:
        return ""
    action_of = {change.urn: change.action for change in changes}
    graphs = [graph for graph in (head, base) if graph is not None]

    def lookup(urn: str):
        for graph in graphs:
            resource = graph.get(urn)
            if resource is not None:
                return resource
        return None

    nodes: dict[str, tuple[str, str]] = {}  # urn -> (label, class)
    edges: set[tuple[str, str]] = set()
    omitted = 0
    for change in changes:
        if change.urn in nodes:
            continue  # already drawn as the parent of an earlier change
        if len(nodes) >= max_nodes:
            omitted += 1
            continue
        urn = change.urn
        resource = lookup(urn)
        nodes[urn] = (_label(change.type, resource.name if resource else urn.rsplit("::", 1)[-1]), change.action)
        # walk up to the team component so the reader sees where the change sits
        while resource is not None and resource.parent:
            parent = lookup(resource.parent)
            if parent is None or parent.type == STACK:
                break
            edges.add((parent.urn, resource.urn))
            if parent.urn not in nodes:
                nodes[parent.urn] = (_label(parent.type, parent.name), action_of.get(parent.urn, "context"))
            resource = parent
    ids = {urn: f"n{index}" for index, urn in enumerate(sorted(nodes))}
    lines = ["flowchart LR"]
    for urn in sorted(nodes):
        label, css = nodes[urn]
        lines.append(f'  {ids[urn]}["{label}"]:::{css}')
    for parent, child in sorted(edges):
        lines.append(f"  {ids[parent]} --> {ids[child]}")
    if omitted:
        lines.append(f'  more["… {omitted} more change(s) not drawn"]:::context')
    for css, style in _STYLES.items():
        lines.append(f"  classDef {css} {style}")
    return "\n".join(lines) + "\n"
