"""Shared helpers of the policy tests: one pack server per test session, small graphs, and
the rule cases every ``tests/test_policy_rules_<prefix>.py`` declares.

The pack is launched once (``shared_pack``) exactly as ``mlp policy`` and the Pulumi CLI
launch it; every test drives it through the analyzer protocol (Configure, Analyze,
AnalyzeStack) with the runner's own request builders, so no test calls a rule function.

A rule case is ``(rule id, case name, build, config values, violates)``: ``build()``
returns the resources of a small graph, ``violates`` says whether the rule must fail on it.
Each prefix's test file holds its cases in a list named ``CASES`` and runs them with
:func:`case_params` and :func:`check_case`; :func:`declared_cases` reads a file's table
from its source, so the meta-test gathers every file's cases without importing test
modules.
"""

from __future__ import annotations

import ast
import atexit
import datetime
import json
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from mlplatform.graph import OPTION_DEFAULTS, GraphResource, ResourceGraph, SourceRef
from mlplatform.policy.config import build_policy_config
from mlplatform.policy.runner import evaluate, findings
from mlplatform.policy.server import PackServer
from mlplatform.reports.findings import FAILED, SKIPPED, FindingsReport
from mlplatform.stackconfig import RESIDENCY_REGIONS

#: A plan that breaks many rules at once (the policy CLI and fast-path tests read it).
NONCOMPLIANT_GRAPH = Path(__file__).resolve().parent.parent / "fixtures" / "policy" / "noncompliant.graph.json"

STACK, PROJECT = "prod", "ml-estate"
TODAY = datetime.date(2026, 11, 26)
ACCOUNT = "111122223333"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/ml-team-boundary"
TEAM = "fraud"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::mlplatform:team:Team$pulumi:providers:aws::{TEAM}-aws"
SPEC_FILE = "examples/teams/fraud.yaml"

_SERVER: Optional[PackServer] = None


def shared_pack() -> PackServer:
    """The session's pack server (started on first use, stopped at exit)."""
    global _SERVER
    if _SERVER is None:
        _SERVER = PackServer(project=PROJECT, stack=STACK)
        atexit.register(_SERVER.close)
    return _SERVER


def base_values(**overrides: Any) -> dict[str, Any]:
    """Config values as the runner builds them for a production stack with one team."""
    values = {
        "environment": "prod",
        "today": TODAY.isoformat(),
        "teams": {TEAM: {"riskTier": "high", "residency": "eu", "dataClassification": "restricted",
                         "piiFeatureGroups": []}},
        "allExemptions": [],
        "permissionsBoundaryArn": BOUNDARY,
        "stackResidency": "eu",
        "residencyRegions": {k: list(v) for k, v in RESIDENCY_REGIONS.items()},
        "training": ["g5.2xlarge", "g5.12xlarge", "p4d.24xlarge"],
        "serving": ["ml.m5.large", "ml.g5.xlarge"],
        "perTeam": 16,
        "perStack": 64,
        "approvedAccounts": [ACCOUNT],
        "environments": ["prod"],
    }
    values.update(overrides)
    return values


def provider(region: str = "eu-west-1", team: str = TEAM, **tags: str) -> GraphResource:
    default_tags = {"team": team, "cost-center": "CC-1042", "environment": "prod",
                    "data-classification": "restricted", "managed-by": "mlplatform", "spec": SPEC_FILE, **tags}
    urn = PROVIDER_URN.replace(f"::{TEAM}-aws", f"::{team}-aws")
    return GraphResource(urn=urn, type="pulumi:providers:aws", name=urn.rsplit("::", 1)[-1], custom=True,
                         inputs={"region": region, "defaultTags": json.dumps({"tags": default_tags})},
                         source=SourceRef(SPEC_FILE, 5))


def res(type_: str, name: str, inputs: Optional[dict] = None, *, protect: bool = False,
        deps: Optional[dict[str, list[str]]] = None, provider_urn: Optional[str] = PROVIDER_URN,
        line: int = 10, custom: bool = True, dependencies: Optional[list[str]] = None) -> GraphResource:
    options = dict(OPTION_DEFAULTS, protect=protect)
    return GraphResource(
        urn=f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}", type=type_, name=name, custom=custom,
        provider=provider_urn if type_.startswith("aws:") else None, inputs=inputs or {}, options=options,
        property_dependencies=deps or {}, dependencies=dependencies or [], source=SourceRef(SPEC_FILE, line),
    )


def team_component(team: str = TEAM) -> GraphResource:
    return GraphResource(urn=f"urn:pulumi:{STACK}::{PROJECT}::mlplatform:team:Team::{team}",
                         type="mlplatform:team:Team", name=team, custom=False, source=SourceRef(SPEC_FILE, 5))


def graph_of(*resources: GraphResource, with_provider: bool = True) -> ResourceGraph:
    graph = ResourceGraph(stack=STACK, project=PROJECT, origin="graph")
    if with_provider and not any(r.type == "pulumi:providers:aws" for r in resources):
        graph.add(provider())
    for resource in resources:
        graph.add(resource)
    return graph


def run(graph: ResourceGraph, values: Optional[dict] = None, exemptions: Optional[list] = None,
        today: datetime.date = TODAY) -> FindingsReport:
    """Configure the shared pack for ``values`` and analyse ``graph`` over the protocol."""
    server = shared_pack()
    values = values or base_values()
    config = build_policy_config(server.info(), values)
    evaluation = evaluate(server, graph, config)
    return findings(evaluation, graph, config, exemptions or [], today)


def failures(report: FindingsReport, rule_id: Optional[str] = None) -> list:
    return [r for r in report.results if r.status == FAILED and (rule_id is None or r.rule.id == rule_id)]


# ------------------------------------------------------------------ rule cases

#: (rule id, case name, build the resources, config values, violates)
Case = tuple[str, str, Callable[[], list], dict, bool]

TESTS = Path(__file__).resolve().parent.parent
#: The test file of the rules with id prefix ``<prefix>`` (``MLP-<PREFIX>-nnn``).
CASE_FILE = "test_policy_rules_{prefix}.py"


def case_params(cases: list[Case]) -> tuple[str, list]:
    """``pytest.mark.parametrize`` arguments for ``cases``, one test id per case: rule-case."""
    return "rule_id,resources,values,violates", [
        pytest.param(rule, build, values, bad, id=f"{rule}-{name}") for rule, name, build, values, bad in cases]


def check_case(rule_id: str, resources: Callable[[], list], values: dict, violates: bool) -> None:
    """Run one case through the served pack: the rule is judged (never deferred) and fails
    (with findings at URNs of the plan) exactly when the case says it violates."""
    report = run(graph_of(*resources()), values)
    problems = failures(report, rule_id)
    deferred = [r for r in report.results if r.status == SKIPPED and r.rule.id == rule_id]
    assert not deferred, [r.message for r in deferred]
    if violates:
        assert problems, [(r.rule.id, r.status, r.message, r.resource_name) for r in report.results
                          if r.status != "passed"]
        assert all(p.urn is None or p.urn.startswith("urn:pulumi:") for p in problems)
    else:
        assert not problems, [p.message for p in problems]


def case_files() -> list[Path]:
    """Every per-prefix rule test file, by name."""
    return sorted(TESTS.glob(CASE_FILE.format(prefix="*")))


def declared_cases(path: Path) -> list[tuple[str, str, bool]]:
    """(rule id, case name, violates) of every case in the ``CASES`` table of ``path``.

    Read from the source, so a case must spell its rule id, name and verdict as literals;
    one that does not is an error naming its line, never a case silently left out.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    tables = [node.value for node in tree.body
              if isinstance(node, (ast.Assign, ast.AnnAssign))
              and any(isinstance(t, ast.Name) and t.id == "CASES"
                      for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))]
    if len(tables) != 1 or not isinstance(tables[0], ast.List):
        raise ValueError(f"{path.name}: expected one table CASES = [...], found {len(tables)}")
    cases = []
    for case in tables[0].elts:
        try:
            if not isinstance(case, ast.Tuple) or len(case.elts) != 5:
                raise ValueError
            rule_id, name, violates = (ast.literal_eval(case.elts[i]) for i in (0, 1, 4))
            if not (isinstance(rule_id, str) and isinstance(name, str) and isinstance(violates, bool)):
                raise ValueError
        except ValueError:
            raise ValueError(f"{path.name}:{case.lineno}: a case is (rule id, case name, build, values, violates) "
                             "with a literal rule id, name and verdict") from None
        cases.append((rule_id, name, violates))
    return cases

