"""MLP-VFY-PRINCIPAL: every resource policy waits for the IAM principals it names.

IAM, KMS, S3, SNS, SQS, ECR, SageMaker and the other services that take a resource-based
policy check each principal it names when the policy is set: a role or user that does not
exist (yet) makes the call fail ("Invalid principal in policy";
``MalformedPolicyDocumentException`` from KMS). Pulumi creates resources in parallel,
ordered only by their dependencies, so a policy that names a role created in the same
``pulumi up`` by its ARN *string* races that role and can fail on the first deployment.
The fix is to make the policy depend on the role: build it from the role's ``arn`` output
(an implicit dependency) or add the role to ``depends_on``.

This check reads the plan's dependency edges (``dependencies`` and
``propertyDependencies``, transitively; a dependency on a component means one on all its
resources, as the Pulumi engine treats it) and reports every resource policy that names an
IAM role or user *created in the same plan* without depending on it. Principals the plan
does not create (roles from the stack config, service-linked roles, account roots,
service principals) are outside what the plan can order and are not findings.

A policy whose text is unknown (a preview before apply) cannot be judged and is reported
as skipped; a policy that is not JSON is a finding.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional

from mlplatform.graph import GraphResource, ResourceGraph, is_secret, is_unknown
from mlplatform.reports.findings import FAILED, MANDATORY, PASSED, SKIPPED, CheckResult, Rule
from mlplatform.type_tokens import (
    BACKUP_VAULT_POLICY, CLOUDWATCH_EVENT_BUS_POLICY, ECR_REGISTRY_POLICY, ECR_REPOSITORY_POLICY,
    EFS_FILE_SYSTEM_POLICY, GLUE_RESOURCE_POLICY, IAM_ROLE, IAM_USER, KMS_GRANT, KMS_KEY, KMS_KEY_POLICY,
    KMS_REPLICA_KEY, LAMBDA_PERMISSION, OPENSEARCH_DOMAIN_POLICY, S3_ACCESS_POINT_POLICY, S3_BUCKET_POLICY,
    SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY, SECRETSMANAGER_SECRET, SECRETSMANAGER_SECRET_POLICY, SNS_TOPIC,
    SNS_TOPIC_POLICY, SQS_QUEUE, SQS_QUEUE_POLICY)

RULE = Rule(
    id="MLP-VFY-PRINCIPAL",
    name="Resource policies depend on the IAM principals they name",
    description=(
        "A resource policy that names a role or user created in the same plan must depend on it; "
        "otherwise the first `pulumi up` can set the policy before the principal exists and AWS "
        "rejects it as an invalid principal."),
    remediation=(
        "Build the policy from the role's `arn` output, or pass the role resource in `depends_on` "
        "of the resource that carries the policy (create the role first)."),
)

#: Pulumi type -> input properties that hold a resource-based policy document (JSON text).
#: Trust policies of roles are included: a trust policy naming another role of the plan
#: fails the same way.
POLICY_DOCUMENT_INPUTS: dict[str, tuple[str, ...]] = {
    KMS_KEY: ("policy",),
    KMS_KEY_POLICY: ("policy",),
    KMS_REPLICA_KEY: ("policy",),
    S3_BUCKET_POLICY: ("policy",),
    S3_ACCESS_POINT_POLICY: ("policy",),
    SNS_TOPIC: ("policy",),
    SNS_TOPIC_POLICY: ("policy",),
    SQS_QUEUE: ("policy",),
    SQS_QUEUE_POLICY: ("policy",),
    ECR_REPOSITORY_POLICY: ("policy",),
    ECR_REGISTRY_POLICY: ("policy",),
    SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY: ("resourcePolicy",),
    SECRETSMANAGER_SECRET: ("policy",),
    SECRETSMANAGER_SECRET_POLICY: ("policy",),
    GLUE_RESOURCE_POLICY: ("policy",),
    CLOUDWATCH_EVENT_BUS_POLICY: ("policy",),
    EFS_FILE_SYSTEM_POLICY: ("policy",),
    BACKUP_VAULT_POLICY: ("policy",),
    OPENSEARCH_DOMAIN_POLICY: ("accessPolicies",),
    IAM_ROLE: ("assumeRolePolicy",),
}

#: Pulumi type -> input properties that hold one principal (an ARN string), not a document.
PRINCIPAL_INPUTS: dict[str, tuple[str, ...]] = {
    KMS_GRANT: ("granteePrincipal", "retiringPrincipal"),
    LAMBDA_PERMISSION: ("principal",),
}

#: IAM principals a plan can create, by the ARN resource kind that names them.
PRINCIPAL_TYPES = {IAM_ROLE: "role", IAM_USER: "user"}

_IAM_ARN = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):(role|user)(/.*)$")


@dataclass(frozen=True)
class PrincipalRef:
    """An IAM principal by what its ARN says: account, kind and ``/path/name``."""

    account: str
    kind: str
    path_and_name: str

    @classmethod
    def from_arn(cls, arn: str) -> Optional["PrincipalRef"]:
        match = _IAM_ARN.match(arn)
        return cls(match.group(1), match.group(2), match.group(3)) if match else None


def check(graph: ResourceGraph, stack: Any = None) -> list[CheckResult]:
    """One result per resource policy of ``graph``: passed, failed (names the principals it
    does not wait for) or skipped (its text is unknown until apply).

    ``stack`` (a StackConfig, or None) gives the account of principals whose provider does
    not pin one (``allowedAccountIds``)."""
    default_account = getattr(stack, "account_id", None)
    principals = _plan_principals(graph, default_account)
    children = _children(graph)
    results = []
    for resource in graph:
        properties = POLICY_DOCUMENT_INPUTS.get(resource.type, ()) + PRINCIPAL_INPUTS.get(resource.type, ())
        present = [p for p in properties if resource.inputs.get(p) not in (None, "")]
        if not present:
            continue
        results.append(_judge(graph, resource, present, principals, children))
    return results


def _judge(graph: ResourceGraph, resource: GraphResource, properties: list[str],
           principals: dict[PrincipalRef, GraphResource], children: dict[str, list[str]]) -> CheckResult:
    named: dict[str, GraphResource] = {}
    unknown: list[str] = []
    for prop in properties:
        value = resource.inputs[prop]
        if is_unknown(value) or is_secret(value):
            unknown.append(prop)
            continue
        try:
            arns = list(_principal_arns(resource.type, prop, value))
        except ValueError as error:
            return _result(graph, resource, FAILED, f"{prop}: {error}")
        for arn in arns:
            ref = PrincipalRef.from_arn(arn)
            if ref is not None and ref in principals:
                named[arn] = principals[ref]
    if not named and unknown:
        return _result(graph, resource, SKIPPED,
                       f"{', '.join(unknown)} unknown until apply: run on a resolved plan to judge it")
    reachable = _dependencies(graph, resource, children)
    missing = sorted(arn for arn, role in named.items() if role.urn not in reachable)
    if missing:
        names = ", ".join(f"{arn} (resource {named[arn].name})" for arn in missing)
        return _result(graph, resource, FAILED,
                       f"names {names} created in this plan but does not depend on it: the first "
                       f"apply can fail with an invalid principal")
    return _result(graph, resource, PASSED, "")


def _principal_arns(resource_type: str, prop: str, value: Any) -> Iterator[str]:
    """Every AWS principal string ``value`` names (a document's ``Principal``/``NotPrincipal``
    AWS entries, or the single principal of a grant or permission)."""
    if prop in PRINCIPAL_INPUTS.get(resource_type, ()):
        if isinstance(value, str):
            yield value
        return
    document = value
    if isinstance(value, str):
        try:
            document = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(f"policy document is not JSON ({error.msg} at character {error.pos})") from None
    if not isinstance(document, dict):
        raise ValueError("policy document is not a JSON object")
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise ValueError("policy document's Statement is neither an object nor a list")
    for statement in statements:
        if not isinstance(statement, dict):
            raise ValueError("policy document has a statement that is not an object")
        for element in ("Principal", "NotPrincipal"):
            yield from _aws_values(statement.get(element))


def _aws_values(principal: Any) -> Iterator[str]:
    if isinstance(principal, dict):
        values = principal.get("AWS", [])
        for value in [values] if isinstance(values, str) else values if isinstance(values, list) else []:
            if isinstance(value, str):
                yield value


def _plan_principals(graph: ResourceGraph, default_account: Optional[str]) -> dict[PrincipalRef, GraphResource]:
    """The IAM roles and users the plan creates, by the ARN they will have.

    A principal without an explicit name gets a random one on apply: no policy can name it
    by a literal ARN, so it cannot be named without a dependency and is left out."""
    found: dict[PrincipalRef, GraphResource] = {}
    for resource in graph:
        kind = PRINCIPAL_TYPES.get(resource.type)
        name = resource.inputs.get("name")
        if kind is None or not isinstance(name, str) or is_unknown(name):
            continue
        account = _account_of(graph, resource) or default_account
        if account is None:
            continue
        path = resource.inputs.get("path")
        path = path if isinstance(path, str) and path.startswith("/") and path.endswith("/") else "/"
        found[PrincipalRef(account, kind, f"{path}{name}")] = resource
    return found


def _account_of(graph: ResourceGraph, resource: GraphResource) -> Optional[str]:
    """The account the resource's provider is pinned to (``allowedAccountIds`` of one account)."""
    provider = graph.get(resource.provider) if resource.provider else None
    accounts = provider.inputs.get("allowedAccountIds") if provider else None
    if isinstance(accounts, str):  # provider inputs that are lists travel JSON-encoded
        try:
            accounts = json.loads(accounts)
        except ValueError:
            return None
    if isinstance(accounts, list) and len(accounts) == 1 and isinstance(accounts[0], str):
        return accounts[0]
    return None


def _children(graph: ResourceGraph) -> dict[str, list[str]]:
    children: dict[str, list[str]] = defaultdict(list)
    for resource in graph:
        if resource.parent:
            children[resource.parent].append(resource.urn)
    return children


def _dependencies(graph: ResourceGraph, resource: GraphResource, children: dict[str, list[str]]) -> set[str]:
    """Every URN ``resource`` waits for, transitively; a component stands for all it holds."""
    seen: set[str] = set()
    stack = list(_direct(resource))
    while stack:
        urn = stack.pop()
        if urn in seen:
            continue
        seen.add(urn)
        dependency = graph.get(urn)
        if dependency is None:
            continue
        stack.extend(_direct(dependency))
        if not dependency.custom:
            stack.extend(children.get(urn, ()))
    return seen


def _direct(resource: GraphResource) -> Iterable[str]:
    yield from resource.dependencies
    for urns in resource.property_dependencies.values():
        yield from urns


def _result(graph: ResourceGraph, resource: GraphResource, status: str, message: str) -> CheckResult:
    source = resource.source
    return CheckResult(
        rule=RULE, status=status, enforcement=MANDATORY, message=message, urn=resource.urn,
        resource_type=resource.type, resource_name=resource.name,
        file=source.file if source else None, line=source.line if source else None,
        team=_team(graph, resource),
    )


def _team(graph: ResourceGraph, resource: Optional[GraphResource]) -> Optional[str]:
    return graph.team_of(resource)
