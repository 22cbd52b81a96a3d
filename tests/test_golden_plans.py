"""Every shipped stack plans exactly its committed golden plan (tests/helpers/golden.py):
a refactoring that changes a resource fails here, naming the resources; a change meant to
alter the estate regenerates the golden files and the review sees their diff."""

from __future__ import annotations

import pytest

from tests.helpers.golden import differences, golden_file, golden_lines


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_stack_plans_its_golden_plan(stack, request):
    graph = request.getfixturevalue(f"{stack}_graph") if stack != "staging" else _staging()
    changed = differences(stack, graph)
    assert not changed, (f"{len(changed)} resource(s) of {stack} differ from {golden_file(stack)} "
                         "(regenerate with `python -m tests.helpers.golden` if the change is meant):\n"
                         + "\n".join(changed[:40]))
    assert golden_file(stack).read_text() == "\n".join(golden_lines(graph)) + "\n"  # byte-identical


def _staging():
    from mlplatform.capture import capture_stack

    return capture_stack("staging")


def test_a_changed_input_is_named(dev_graph):
    import copy

    graph = copy.deepcopy(dev_graph)
    resource = next(r for r in graph if r.type == "aws:s3/bucket:Bucket")
    resource.inputs["forceDestroy"] = True
    graph.resources.pop(next(urn for urn, r in graph.resources.items() if r.type == "aws:sns/topic:Topic"))
    changed = differences("dev", graph)
    assert f"changed {resource.urn}" in changed and sum(line.startswith("removed") for line in changed) == 1
