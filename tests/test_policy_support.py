"""Shared helpers of the policy tests: one pack server per test session, small graphs.

The pack is launched once (``shared_pack``) exactly as ``mlp policy`` and the Pulumi CLI
launch it; every test drives it through the analyzer protocol (Configure, Analyze,
AnalyzeStack) with the runner's own request builders, so no test calls a rule function.
"""

from __future__ import annotations

import atexit
import datetime
import json
from typing import Any, Optional

from mlplatform.graph import OPTION_DEFAULTS, GraphResource, ResourceGraph, SourceRef
from mlplatform.policy.config import build_policy_config
from mlplatform.policy.runner import evaluate, findings
from mlplatform.policy.server import PackServer
from mlplatform.reports.findings import FAILED, FindingsReport
from mlplatform.stackconfig import RESIDENCY_REGIONS

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
