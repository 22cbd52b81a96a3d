"""Confused deputy (issue 14 defect 5): every IAM role an AWS service assumes in the planned prod
estate is pinned to our account (and, where its ARN is known, to the resource it acts for) by
the condition keys the service documents, or is a documented exception."""

from __future__ import annotations

import json

from mlplatform.stackconfig import load_stack_config

from .helpers.dataplane import by_type

ACCOUNT = load_stack_config("prod").account_id
#: Services whose documentation gives no aws:SourceAccount for an assumed role, and what pins
#: them instead (None: nothing can). Written out here, not read from components.service_role, so
#: a change of the primitive's exceptions has to change this test too (and each exception's
#: source is recorded in components.service_role.SERVICE_TRUST).
DOCUMENTED_EXCEPTIONS = {
    "logs": "aws:SourceArn",       # CloudWatch Logs documents aws:SourceArn (which names the account)
    "firehose": "sts:ExternalId",  # Firehose documents sts:ExternalId = account id
    "cloudtrail": None,            # CloudTrail -> CloudWatch Logs role: not supported
    "ec2": None,                   # instance-profile credentials carry no source keys
    "apigateway": None,            # integration credentials: API Gateway sends no aws:SourceAccount
}
#: Services whose trust must also name the resource (aws:SourceArn), its ARN being known.
SOURCE_ARN_REQUIRED = {"ecs-tasks", "events", "scheduler", "logs", "states"}


def service_name(principal: str) -> str:
    return principal.split(".")[0]


def service_statements(role):
    document = json.loads(role.inputs["assumeRolePolicy"])
    for statement in document["Statement"]:
        principal = statement.get("Principal")
        if isinstance(principal, dict) and "Service" in principal:
            services = principal["Service"]
            yield ([services] if isinstance(services, str) else services), statement.get("Condition", {})


def condition_value(conditions: dict, key: str):
    """The value of ``key`` under any operator (IAM condition keys are case-insensitive)."""
    for entries in conditions.values():
        for name, value in entries.items():
            if name.lower() == key.lower():
                return value
    return None


def names_account(source_arn, account: str) -> bool:
    """An ``aws:SourceArn`` value (one ARN, or the ARNs of several resources the role acts for,
    e.g. an EventBridge role shared by two rules) that names only resources of ``account``."""
    arns = [source_arn] if isinstance(source_arn, str) else source_arn
    return isinstance(arns, list) and bool(arns) and all(
        isinstance(arn, str) and f":{account}:" in arn for arn in arns)


def confused_deputy_findings(role, account: str) -> list[str]:
    findings = []
    for services, conditions in service_statements(role):
        for service in services:
            name = service_name(service)
            source_account = condition_value(conditions, "aws:SourceAccount")
            source_arn = condition_value(conditions, "aws:SourceArn")
            if name in DOCUMENTED_EXCEPTIONS:
                pin = DOCUMENTED_EXCEPTIONS[name]
                if pin == "aws:SourceArn" and not (isinstance(source_arn, str) and f":{account}:" in source_arn):
                    findings.append(f"{role.name}: {service} without aws:SourceArn in account {account}")
                if pin == "sts:ExternalId" and condition_value(conditions, "sts:ExternalId") != account:
                    findings.append(f"{role.name}: {service} without sts:ExternalId {account}")
                continue
            if source_account != account:
                findings.append(f"{role.name}: {service} without aws:SourceAccount {account}")
            if name in SOURCE_ARN_REQUIRED and not names_account(source_arn, account):
                findings.append(f"{role.name}: {service} without aws:SourceArn of its resource")
    return findings


def service_roles(graph):
    return [r for r in by_type(graph, "aws:iam/role:Role") if any(True for _ in service_statements(r))]


def test_every_service_role_in_the_prod_plan_is_pinned_against_the_confused_deputy(prod_graph):
    roles = service_roles(prod_graph)
    assert len(roles) > 20
    assert any(r.name.endswith("-retraining-role") for r in roles)  # the retraining roles are checked too
    findings = [finding for role in roles for finding in confused_deputy_findings(role, ACCOUNT)]
    assert findings == []


def test_every_service_role_has_the_boundary_and_a_bounded_session(prod_graph):
    for role in service_roles(prod_graph):
        assert role.inputs.get("permissionsBoundary"), role.name
        assert role.inputs.get("maxSessionDuration") == 3600, role.name
        assert role.inputs.get("description"), role.name
