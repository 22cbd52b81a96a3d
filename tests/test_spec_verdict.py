"""One verdict from the editor to CI (issue 17, item 1): what ``mlp validate --stack S``
accepts, the policy pack accepts, for every rule the spec and stack config decide.

The issue's new team (GPU endpoints on g4dn/g5, an async endpoint, a PII feature group,
a Kueue and a Batch queue) passed validate and then failed four pack rules in prod. Here
validate must reject it with the same rules, counted per rule, at the spec fields; the
fixed spec must pass validate and the pack; and a team of edge cases (shadow rollout, no
bake time, wide linear steps, 0% capture, a serverless artifact model, PII retention over
the bounds) must get the same verdict, rule by rule, from both sides.
"""

from __future__ import annotations

import collections
import datetime
from pathlib import Path

import pytest

from mlplatform.capture import capture_stack
from mlplatform.guardrails import SPEC_FIELDS, mandatory_in, rollout_problem, capture_problem
from mlplatform.policy.runner import check
from mlplatform.spec.loader import load_specs
from mlplatform.stackchecks import stack_issues
from mlplatform.stackconfig import load_stack_config

from tests.helpers.policy import shared_pack

FIXTURES = Path(__file__).parent / "fixtures" / "spec_verdict"
TODAY = datetime.date(2026, 11, 26)
ENVIRONMENTS = {"dev", "staging", "prod"}


def _verdicts(folder: str, stack_name: str = "prod"):
    """(validate issues, pack blocking results) for the teams in ``folder`` on ``stack_name``."""
    teams = str(FIXTURES / folder)
    stack = load_stack_config(stack_name, teams_dir=teams)
    specs = load_specs([teams]).specs
    issues = stack_issues(specs, stack, ENVIRONMENTS)
    graph = capture_stack(stack_name, teams_dir=teams, specs=specs)  # plan it anyway, as before this check
    report = check(shared_pack(), graph, stack, specs, TODAY)
    return issues, report.blocking


def _rule_of(issue) -> str:
    return next(rule for rule in SPEC_FIELDS if f"({rule};" in issue.message)


@pytest.fixture(scope="module")
def new_team():
    return _verdicts("new_team")


def test_the_new_team_fails_validate_with_every_rule_the_pack_would_block(new_team):
    issues, blocking = new_team
    assert blocking, "the scenario must still be one the pack blocks"
    assert collections.Counter(_rule_of(i) for i in issues) == collections.Counter(r.rule.id for r in blocking)
    fields = {issue.field for issue in issues}
    assert {"spec.endpoints[scorer].dataCapture", "spec.endpoints[ranker].monitoring.drift",
            "spec.endpoints[batchy].model.package", "spec.endpoints[scorer].rollout.strategy"} <= fields
    assert all(issue.file.endswith("churn.yaml") and issue.line > 1 for issue in issues)


def test_the_fixed_new_team_passes_validate_and_the_pack():
    issues, blocking = _verdicts("new_team_fixed")
    assert issues == [] and blocking == []


def test_edge_cases_get_the_same_verdict_from_validate_and_the_pack():
    issues, blocking = _verdicts("edges")
    by_validate = collections.Counter(_rule_of(i) for i in issues)
    assert by_validate == collections.Counter(r.rule.id for r in blocking)
    assert by_validate == {"MLP-SM-001": 3, "MLP-SM-002": 1, "MLP-SM-004": 2, "MLP-RET-002": 3}


def test_outside_production_the_serving_rules_do_not_block_and_validate_stays_quiet():
    teams = str(FIXTURES / "new_team")
    stack = load_stack_config("staging", teams_dir=teams)
    issues = stack_issues(load_specs([teams]).specs, stack, ENVIRONMENTS)
    assert not [i for i in issues if "MLP-SM-" in i.message]
    assert not mandatory_in("P", "staging") and mandatory_in("P", "prod") and mandatory_in("M", "dev")


@pytest.mark.parametrize("strategy, step, bake, expected", [
    ("canary", 10, 60, None), ("linear", 5, 60, None), ("canary", 4, 60, "capacity steps"),
    ("linear", 11, 60, "capacity steps"), ("all-at-once", None, 60, "all-at-once"), ("shadow", None, 60, "shadow"),
    ("canary", 10, 0, "no bake time"), (None, None, None, "all-at-once"),
])
def test_the_one_rollout_judgement(strategy, step, bake, expected):
    problem = rollout_problem(strategy, step, bake)
    assert (problem is None) if expected is None else (expected in problem)


def test_the_one_capture_judgement():
    assert capture_problem(None) == "data capture is off"
    assert "below 1%" in capture_problem(0) and capture_problem(1) is None
