"""The fallback function's timeout is the handler's own worst case, and validate bounds the
model budget so that worst case answers within the front door's 29 seconds.

Before: the component deployed ``timeoutMs`` + 2 s (3 s for the shipped 800 ms), while the
handler's slowest complete call (model connect and read, then the cache and metric calls at
their own timeouts) takes 9 s: Lambda would kill exactly the calls the fallback exists for,
and API Gateway would answer 502 instead of the fallback."""

from __future__ import annotations

import pytest

from mlplatform.runtime.fallback.contract import FRONT_DOOR_TIMEOUT_MS
from mlplatform.runtime.fallback.environment import function_timeout_seconds, max_model_timeout_ms
from mlplatform.spec.loader import load_specs
from mlplatform.spec.schema import team_spec_schema
from mlplatform.paths import PROJECT_ROOT

LAMBDA = "aws:lambda/function:Function"
EXAMPLES = PROJECT_ROOT / "examples" / "teams"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_fallback_function_outlives_its_handlers_slowest_answer(stack, request):
    graph = request.getfixturevalue(f"{stack}_graph")
    functions = [r for r in graph.resources.values() if r.type == LAMBDA and "-fallback-" in r.name]
    assert functions
    for function in functions:
        config = _packaged_config(function)
        assert function.inputs["timeout"] >= function_timeout_seconds(config["timeoutMs"]), function.name
        assert function.inputs["timeout"] * 1000 <= FRONT_DOOR_TIMEOUT_MS, function.name


def test_the_longest_budget_validate_allows_still_answers_within_the_front_door():
    longest = max_model_timeout_ms()
    assert function_timeout_seconds(longest) * 1000 <= FRONT_DOOR_TIMEOUT_MS
    assert function_timeout_seconds(longest + 100) * 1000 > FRONT_DOOR_TIMEOUT_MS
    assert longest == 21_000  # 1 s connect + 21 s read + 6 s cache and metric + 1 s = 29 s


@pytest.mark.parametrize("budget, rejected", [(21_000, False), (21_100, True), (27_000, True)])
def test_validate_rejects_a_budget_the_fallback_cannot_answer_after(tmp_path, budget, rejected):
    """The schema bounds it, so the editor, validate and the plan agree."""
    text = (EXAMPLES / "fraud-detection.yaml").read_text().replace("timeoutMs: 800", f"timeoutMs: {budget}")
    copy = tmp_path / "fraud-detection.yaml"
    copy.write_text(text)
    result = load_specs([str(copy)])
    issues = [i for i in result.issues if i.path[-1] == "timeoutMs"]
    assert bool(issues) == rejected
    if rejected:
        assert "less than or equal to 21000" in issues[0].message
    schema_bound = team_spec_schema()["$defs"]["Fallback"]["properties"]["timeoutMs"]["maximum"]
    assert schema_bound == max_model_timeout_ms()


def _packaged_config(function) -> dict:
    import json

    assets = function.inputs["code"]["assets"]
    return json.loads(assets["fallback_config.json"]["text"])
