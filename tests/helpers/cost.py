"""Shared pieces of the cost tests: what the engine covers, and fixture-graph edits."""

from __future__ import annotations

import copy

from mlplatform.cost.attribution import KUEUE_QUEUE_MARK
from mlplatform.cost.pricers.registry import FREE_TYPES, PRICERS


def covered(type_token: str) -> bool:
    """What the engine prices or calls free (Kueue ClusterQueues are priced as queues;
    other Kubernetes objects cost only through the nodes the queues use)."""
    return (type_token in PRICERS or type_token in FREE_TYPES or type_token.startswith("kubernetes:")
            or (KUEUE_QUEUE_MARK in type_token and type_token.endswith(":ClusterQueue")))


def with_resource(data, template_name, **changes):
    """A copy of one fixture resource with a new name/type/inputs, appended to the graph."""
    base = copy.deepcopy(next(r for r in data["resources"] if r["name"] == template_name))
    name, type_ = changes.pop("name"), changes.pop("type", base["type"])
    base["urn"] = base["urn"].rsplit("$", 1)[0] + f"${type_}::{name}"
    base.update(name=name, type=type_, **changes)
    data["resources"].append(base)
