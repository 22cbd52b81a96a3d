"""Partial plans equal the full plan restricted to the chosen teams, in one or many processes."""

import copy

import pytest

from mlplatform.capture import capture_stack
from mlplatform.ci.partial import capture_teams, merge_graphs, split


def _owned_by(graph, team):
    """Resources under the team's component, found through parents, as JSON."""
    team_urns = {r.urn for r in graph if r.type == "mlplatform:team:Team" and r.name == team}
    owned = {}
    for resource in graph:
        cursor = resource
        while cursor is not None and cursor.urn not in team_urns:
            cursor = graph.get(cursor.parent) if cursor.parent else None
        if cursor is not None:
            owned[resource.urn] = resource.to_json()
    return owned


def test_one_team_plan_equals_the_full_plan_for_that_team(dev_graph):
    part = capture_stack("dev", only_teams=frozenset({"recommendations"}))
    assert _owned_by(part, "recommendations") == _owned_by(dev_graph, "recommendations")
    assert not _owned_by(part, "fraud-detection")
    shared = {u for u in dev_graph.resources if not any(u in _owned_by(dev_graph, t) for t in ("fraud-detection", "recommendations", "nlp-research"))}
    assert shared <= set(part.resources)  # what the stack shares is always planned


def test_parallel_capture_equals_the_serial_one(dev_graph):
    merged = capture_teams("dev", None, ["fraud-detection", "recommendations", "nlp-research"], jobs=2)
    assert merged.to_json() == dev_graph.to_json()


def test_split_deals_teams_round_robin():
    assert split(["a", "b", "c"], 2) == [("a", "c"), ("b",)]
    assert split(["a"], 8) == [("a",)]
    assert split(["a", "b"], 0) == [("a", "b")]


def test_parts_that_disagree_on_a_shared_resource_are_an_error(dev_graph):
    other = copy.deepcopy(dev_graph)
    resource = next(iter(other))
    resource.inputs = {**resource.inputs, "tampered": True}
    with pytest.raises(RuntimeError, match="disagree"):
        merge_graphs([dev_graph, other])
