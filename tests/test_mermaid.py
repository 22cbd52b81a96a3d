"""The change diagram draws changed resources under their components, coloured by action."""

import copy

from mlplatform.diff import diff_graphs
from mlplatform.reports.mermaid import render_change_diagram


def _bucket(graph):
    return next(r for r in graph if r.type.startswith("aws:s3/bucketVersioning") and r.name.startswith("fraud-detection"))


def test_no_changes_no_diagram(dev_graph):
    assert render_change_diagram(diff_graphs(dev_graph, dev_graph), dev_graph, dev_graph) == ""


def test_update_is_drawn_under_its_component_chain(dev_graph):
    head = copy.deepcopy(dev_graph)
    changed = _bucket(head)
    changed.inputs = {**changed.inputs, "expectedBucketOwner": "999999999999"}
    text = render_change_diagram(diff_graphs(dev_graph, head), dev_graph, head)
    assert text.startswith("flowchart LR\n")
    update_nodes = [line for line in text.splitlines() if line.endswith(":::update")]
    assert len(update_nodes) == 1 and changed.name in update_nodes[0]
    assert any(":::context" in line and "Team" in line for line in text.splitlines())
    assert " --> " in text


def test_deleted_resources_come_from_the_base_and_large_changes_are_cut(dev_graph):
    head = copy.deepcopy(dev_graph)
    team_urns = [urn for urn in head.resources if "fraud-detection" in urn]
    for urn in team_urns:
        del head.resources[urn]
    diff = diff_graphs(dev_graph, head)
    text = render_change_diagram(diff, dev_graph, head, max_nodes=5)
    drawn = sum(line.endswith(":::delete") for line in text.splitlines())
    omitted = int(text.split("… ", 1)[1].split(" ", 1)[0])
    assert drawn >= 1 and drawn + omitted == len(diff.deleted)
