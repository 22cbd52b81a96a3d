"""The flows checker: prove every derived flow and report one result per flow.

A flow passes only when every request it makes has the outcome it expects (allowed, or
for the ABAC negative cases denied) and every writer location equals its reader's. A
request whose outcome cannot be decided, or a part of the flow the plan does not say,
makes the flow *unproven*: a failed result whose message starts with ``unproven:``.
"""

from __future__ import annotations

from mlplatform.graph import ResourceGraph
from mlplatform.reports.findings import FAILED, MANDATORY, PASSED, CheckResult
from mlplatform.stackconfig import StackConfig

from .declarations import ALLOW, FLOW_KINDS, RULES, Flow
from .derive import DERIVATIONS
from .estate import Estate
from .policy_eval import ALLOWED, DENIED, evaluate


def derive_flows(graph: ResourceGraph, stack: StackConfig) -> list[Flow]:
    estate = Estate(graph, stack)
    flows: list[Flow] = []
    for kind in FLOW_KINDS:
        flows.extend(DERIVATIONS[kind.derive](estate))
    return flows


def check(graph: ResourceGraph, stack: StackConfig) -> list[CheckResult]:
    """One CheckResult per flow of the plan."""
    estate = Estate(graph, stack)
    results = []
    for kind in FLOW_KINDS:
        for flow in DERIVATIONS[kind.derive](estate):
            results.append(judge(flow, estate))
    return results


def judge(flow: Flow, estate: Estate) -> CheckResult:
    failures = list(flow.problems)
    unproven = list(flow.unproven)
    for writer_label, writer, reader_label, reader in flow.locations:
        if writer != reader:
            failures.append(f"{writer_label} {writer} but {reader_label} {reader}")
    allowed = 0
    for step in flow.steps:
        decision = evaluate(step.request, step.identity, step.resource_policy, key_policy=step.key_policy,
                            identity_note=step.identity_note)
        if step.expect == ALLOW:
            if decision.outcome == ALLOWED:
                allowed += 1
            elif decision.outcome == DENIED:
                failures.append(decision.reason)
            else:
                unproven.append(f"{step.description}: {decision.reason}")
        else:
            if decision.outcome == DENIED:
                allowed += 1
            elif decision.outcome == ALLOWED:
                failures.append(f"{step.description} must be denied but is {decision.reason}")
            else:
                unproven.append(f"{step.description} (must be denied): {decision.reason}")
    subject = flow.subject
    if failures:
        status, message = FAILED, f"{flow.title}: " + "; ".join(dict.fromkeys(failures))
        if unproven:
            message += "; also unproven: " + "; ".join(dict.fromkeys(unproven))
    elif unproven:
        status, message = FAILED, f"unproven: {flow.title}: " + "; ".join(dict.fromkeys(unproven))
    elif not flow.steps and not flow.locations:
        status, message = FAILED, f"unproven: {flow.title}: no request of the flow could be derived"
    else:
        status = PASSED
        message = f"{flow.title}: {allowed} request(s) decided as expected" + (
            f", {len(flow.locations)} location(s) coincide" if flow.locations else "")
    return CheckResult(
        rule=RULES[flow.rule_id], status=status, enforcement=MANDATORY, message=message,
        urn=subject.urn, resource_type=subject.type, resource_name=subject.name,
        file=subject.source.file if subject.source else None, line=subject.source.line if subject.source else None,
        team=estate.team_of(subject),
    )
