"""Evaluate the policy pack on a ResourceGraph over the analyzer protocol.

The order of calls is the engine's: GetAnalyzerInfo, Configure (policy config with
enforcement levels), ConfigureStack, then per resource (custom, component and provider
resources alike) Remediate and Analyze on the remediated properties, and one
AnalyzeStack with every resource. Diagnostics come back
with the policy name (our rule id), the enforcement level the pack applied and, for
stack rules, the URN the rule named; a resource rule's diagnostic belongs to the resource
it was asked about. Each is mapped to the team spec file and line that produced the
resource (``GraphResource.source``).

A diagnostic the SDK raises because a rule read a value unknown during preview ("can't
run policy ... during preview") is reported as *skipped* with that reason: deferred to
``pulumi up``, never counted as a pass. Valid exemptions are honoured inside the pack (it
does not report exempted violations); the runner lists them all as *exempted* results so
every report shows them, and the pack's MLP-GOV-001 reports expired ones.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import grpc

from ..graph import ResourceGraph
from ..reports.findings import (ADVISORY, EXEMPTED, FAILED, MANDATORY, PASSED, SKIPPED, CheckResult, attach_spec,
                                FindingsReport, Rule)
from . import wire
from ..stackconfig import StackConfig
from .config import build_policy_config, exemptions as spec_exemptions, stack_values
from ..exemptions import exemption_problem
from ..type_tokens import TEAM
from .server import LEVEL_NAMES, PackError, PackServer

TOOL = "mlp-policy"
DEFERRED_PREFIX = "can't run policy"


@dataclass
class Evaluation:
    """Raw outcome of one run: diagnostics per (rule, urn) plus what the pack declared."""

    info: Any
    diagnostics: list[tuple[Any, Optional[str]]] = field(default_factory=list)  # (diagnostic, urn)
    seconds: float = 0.0


def evaluate(server: PackServer, graph: ResourceGraph, policy_config: dict[str, dict[str, Any]],
             stack_config: Optional[dict[str, str]] = None, stack_tags: Optional[dict[str, str]] = None) -> Evaluation:
    """Send the engine's requests for ``graph`` and collect every diagnostic.

    A rule that raises makes the pack answer with an error, as it would under the CLI; it
    becomes a one-line :class:`PackError` (exit 2), never a traceback.
    """
    try:
        return _evaluate(server, graph, policy_config, stack_config, stack_tags)
    except grpc.RpcError as exc:
        details = " ".join(str(exc.details() or exc.code()).split()) if hasattr(exc, "details") else str(exc)
        raise PackError(f"policy pack failed: {details}") from None


def _evaluate(server, graph, policy_config, stack_config, stack_tags) -> Evaluation:
    started = time.perf_counter()
    server.handshake()
    info = server.info()
    server.configure(policy_config)
    server.configure_stack(graph.stack, graph.project, stack_config or {}, stack_tags or {})
    result = Evaluation(info=info)
    resources = list(graph)
    encoder = wire.Encoder(graph)
    stack_resources = (encoder.stack_resource(resource) for resource in resources)
    # AnalyzeStack overlaps the per-resource calls only when a pack process of its own serves
    # it: inside one Python process two CPU-bound calls just take turns on the GIL (measured:
    # the pack's CPU time doubled), so a single pack gets it after the per-resource calls.
    stack_call = server.analyze_stack_async(stack_resources) if server.stack_has_own_process else None
    # The engine's two passes per resource: Remediate (a remediation policy may rewrite the
    # properties), then Analyze on the properties as remediated.
    requests = [encoder.analyze_request(resource) for resource in resources]
    for request, response in zip(requests, server.analyze_many(requests, method="Remediate")):
        for remediation in response.remediations:
            if remediation.HasField("properties"):
                request.properties.CopyFrom(remediation.properties)
    for resource, response in zip(resources, server.analyze_many(requests)):
        for diagnostic in response.diagnostics:
            # like the engine, a resource policy's finding belongs to the resource analysed
            result.diagnostics.append((diagnostic, resource.urn))
    stack_response = stack_call.result() if stack_call is not None else server.analyze_stack(stack_resources)
    for diagnostic in stack_response.diagnostics:
        result.diagnostics.append((diagnostic, diagnostic.urn or None))
    result.seconds = time.perf_counter() - started
    return result


def rules_of(info) -> dict[str, Rule]:
    return {
        policy.name: Rule(id=policy.name, name=policy.displayName or policy.name,
                          description=policy.description, remediation=policy.remediation_steps)
        for policy in info.policies
    }


def _message(diagnostic) -> str:
    """The pack prefixes the rule description to each message; keep the specific part."""
    text = diagnostic.message
    if diagnostic.description and text.startswith(diagnostic.description):
        text = text[len(diagnostic.description):].strip() or diagnostic.description
    return text


def _team(graph: ResourceGraph, urn: Optional[str]) -> Optional[str]:
    return graph.team_of(urn) if urn else None


def _located(rule: Rule, status: str, graph: ResourceGraph, urn: Optional[str], *, enforcement: str,
             message: str = "", justification: Optional[dict[str, str]] = None, file: Optional[str] = None,
             line: Optional[int] = None, team: Optional[str] = None) -> CheckResult:
    """A result placed at the resource's spec position (or the given one when the plan
    does not hold the resource)."""
    resource = graph.get(urn) if urn else None
    source = resource.source if resource else None
    return CheckResult(
        rule=rule, status=status, enforcement=enforcement, message=message, urn=urn,
        resource_type=resource.type if resource else None,
        resource_name=resource.name if resource else (urn.rsplit("::", 1)[-1] if urn else None),
        file=source.file if source else file,
        line=source.line if source else line,
        team=_team(graph, urn) or team,
        justification=justification or {},
    )


def _exempted(rules: dict[str, Rule], graph: ResourceGraph, exemption_list: list[dict[str, Any]],
              today: datetime.date) -> list[CheckResult]:
    """One result per honoured exemption of a pack rule and resource it covers."""
    results = []
    for item in exemption_list:
        rule = rules.get(item["rule"])
        if rule is None or exemption_problem(item, today) is not None:
            continue  # checkov's rules are the scanner's; broken exemptions are MLP-GOV-001's
        justification = {"reason": item["reason"], "approvedBy": item["approvedBy"], "expires": item["expires"]}
        wanted = item.get("resource")
        matches = [r.urn for r in graph if (r.name == wanted if wanted else
                                              (r.type == TEAM and r.name == item["team"]))
                   and (_team(graph, r.urn) in (item["team"], None))]
        for urn in matches or [None]:
            result = _located(rule, EXEMPTED, graph, urn, enforcement=MANDATORY, justification=dict(justification),
                              message=f"exempted for {wanted or 'team ' + item['team']}"
                                      + ("" if matches else " (no such resource in this plan)"),
                              file=item.get("file"), line=item.get("line"), team=item["team"])
            results.append(result)
    return results


def findings(evaluation: Evaluation, graph: ResourceGraph, policy_config: dict[str, dict[str, Any]],
             exemption_list: list[dict[str, Any]], today: datetime.date) -> FindingsReport:
    """Map diagnostics (and honoured exemptions) to a FindingsReport."""
    rules = rules_of(evaluation.info)
    report = FindingsReport(tool=TOOL, stack=graph.stack, tool_version=evaluation.info.version)
    failing: set[str] = set()
    seen: set[tuple] = set()
    for diagnostic, urn in evaluation.diagnostics:
        rule = rules.get(diagnostic.policyName) or Rule(diagnostic.policyName, diagnostic.policyName)
        message = _message(diagnostic)
        key = (rule.id, urn, message)
        if key in seen:
            continue
        seen.add(key)
        if message.startswith(DEFERRED_PREFIX):
            report.results.append(_located(rule, SKIPPED, graph, urn, enforcement=ADVISORY, message=message,
                                           justification={"deferred": "value unknown during preview; "
                                                                      "checked by pulumi preview/up"}))
            failing.add(rule.id)  # not judged everywhere: no pass for the rule
            continue
        level = LEVEL_NAMES.get(diagnostic.enforcementLevel, "advisory")
        report.results.append(_located(rule, FAILED, graph, urn, enforcement=level, message=message))
        failing.add(rule.id)
    report.results.extend(_exempted(rules, graph, exemption_list, today))
    for rule_id, rule in sorted(rules.items()):
        level = policy_config.get(rule_id, {}).get("enforcementLevel", MANDATORY)
        if rule_id not in failing and level != "disabled":
            report.results.append(CheckResult(rule=rule, status=PASSED, enforcement=level))
    report.stats = {
        "resources": len(graph),
        "rules": len(rules),
        "seconds": round(evaluation.seconds, 3),
        "pack": f"{evaluation.info.name}@{evaluation.info.version}",
    }
    attach_spec(report.results, graph)  # findings speak the spec: field and fix
    return report


def check(server: PackServer, graph: ResourceGraph, stack: StackConfig, specs: list, today: datetime.date,
          stack_config: Optional[dict[str, str]] = None) -> FindingsReport:
    """The whole offline policy run for one stack on an already running pack."""
    values = stack_values(stack, specs, today)
    policy_config = build_policy_config(server.info(), values)
    evaluation = evaluate(server, graph, policy_config, stack_config=stack_config,
                          stack_tags={"mlplatform:environment": stack.environment})
    return findings(evaluation, graph, policy_config, spec_exemptions(specs, stack.environment), today)
