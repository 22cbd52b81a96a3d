"""MLP-IAM-*: no wildcard admin, MFA for roles people assume, the stack's permissions boundary.

Policy documents are read through the SDK's proxy: a document unknown at preview defers
the rule for that resource (advisory "can't run during preview"), never passes it.
"""

from __future__ import annotations

from typing import Any, Iterator

from mlplatform.type_tokens import (
    IAM_GROUP_POLICY, IAM_GROUP_POLICY_ATTACHMENT, IAM_POLICY, IAM_POLICY_ATTACHMENT, IAM_ROLE, IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT, IAM_USER_POLICY, IAM_USER_POLICY_ATTACHMENT)

from .common import MANDATORY, Context, as_list, json_document, peek, rule

POLICY_TYPES = {
    IAM_POLICY: "policy",
    IAM_ROLE_POLICY: "policy",
    IAM_USER_POLICY: "policy",
    IAM_GROUP_POLICY: "policy",
}
ATTACHMENTS = (IAM_ROLE_POLICY_ATTACHMENT, IAM_POLICY_ATTACHMENT,
               IAM_USER_POLICY_ATTACHMENT, IAM_GROUP_POLICY_ATTACHMENT)
ADMIN_POLICIES = ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess")
MFA_KEYS = ("aws:MultiFactorAuthPresent",)


def _documents(ctx: Context) -> Iterator[tuple[str, Any]]:
    kind = ctx.type
    if kind in POLICY_TYPES:
        yield "policy", json_document(ctx.props[POLICY_TYPES[kind]])
    elif kind == IAM_ROLE:
        for index, inline in enumerate(as_list(peek(ctx.props, "inlinePolicies"))):
            if peek(inline, "policy") is not None:
                yield f"inline policy {peek(inline, 'name') or index}", json_document(ctx.props["inlinePolicies"][index]["policy"])


@rule(
    id="MLP-IAM-001",
    name="No wildcard administrator permissions",
    description="No IAM policy allows '*' or 'service:*' actions on every resource ('*'), Allow with NotAction, or "
                "attaches AdministratorAccess / IAMFullAccess.",
    severity="critical",
    remediation="Name the actions and resources the duty needs (components/iam.py builds such policies).",
    level=MANDATORY,
    types=(*POLICY_TYPES, IAM_ROLE, *ATTACHMENTS),
    concern="iam",
)
def check_wildcards(ctx: Context, report) -> None:
    if ctx.type in ATTACHMENTS:
        arn = peek(ctx.props, "policyArn")
        if arn in ADMIN_POLICIES:
            report(f"attaches {arn}")
        return
    for what, document in _documents(ctx):
        for statement in as_list((document or {}).get("Statement") if isinstance(document, dict) else None):
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            resources = as_list(statement.get("Resource"))
            if "NotAction" in statement:
                report(f"{what}: Allow with NotAction grants almost everything")
                continue
            actions = as_list(statement.get("Action"))
            if "*" in resources and any(a == "*" or str(a).endswith(":*") for a in actions):
                wild = ", ".join(str(a) for a in actions if a == "*" or str(a).endswith(":*"))
                report(f"{what}: allows {wild} on every resource ('*')")


def _trust_statements(ctx: Context) -> list[dict]:
    document = json_document(ctx.props["assumeRolePolicy"])
    return [s for s in as_list((document or {}).get("Statement") if isinstance(document, dict) else None)
            if isinstance(s, dict) and s.get("Effect") == "Allow"]


def _requires_mfa(statement: dict) -> bool:
    for operator, values in (statement.get("Condition") or {}).items():
        if operator in ("Bool", "BoolIfExists") and isinstance(values, dict):
            if any(str(values.get(key)).lower() == "true" for key in MFA_KEYS):
                return operator == "Bool"
    return False


@rule(
    id="MLP-IAM-003",
    name="Roles people assume require MFA",
    description="A role whose trust policy admits AWS principals (people) requires MFA in the trust condition and "
                "limits the session length.",
    severity="high",
    remediation="Add Condition {Bool: {aws:MultiFactorAuthPresent: 'true'}} to the trust statement and "
                "maxSessionDuration <= 3600.",
    level=MANDATORY,
    types=(IAM_ROLE,),
    concern="iam",
    config={"maxSessionSeconds": {"type": "integer", "minimum": 900, "maximum": 43200, "default": 3600}},
)
def check_mfa(ctx: Context, report) -> None:
    """A role people assume is one trusted by AWS principals (accounts, users, roles);
    service principals and SAML/OIDC federation (MFA enforced by the identity provider)
    are not."""
    human = False
    for statement in _trust_statements(ctx):
        principal = statement.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "AWS" in principal):
            human = True
            if not _requires_mfa(statement):
                report("trust policy lets people assume the role without MFA "
                       "(Condition Bool aws:MultiFactorAuthPresent: 'true')")
    duration = peek(ctx.props, "maxSessionDuration")
    if human and isinstance(duration, (int, float)) and duration > ctx.config["maxSessionSeconds"]:
        report(f"people's sessions may last {duration}s, more than {ctx.config['maxSessionSeconds']}s")


@rule(
    id="MLP-IAM-005",
    name="Permissions boundary on every role",
    description="When the stack sets a permissions boundary, every IAM role carries exactly that boundary.",
    severity="high",
    remediation="Set permissionsBoundary to the stack's mlplatform:permissionsBoundaryArn.",
    level=MANDATORY,
    types=(IAM_ROLE,),
    concern="iam",
    config={"permissionsBoundaryArn": {"type": ["string", "null"], "default": None}},
)
def check_boundary(ctx: Context, report) -> None:
    wanted = ctx.config.get("permissionsBoundaryArn")
    if not wanted:
        return
    actual = peek(ctx.props, "permissionsBoundary")
    if actual != wanted:
        report(f"role has permissions boundary {actual or 'none'}, the stack requires {wanted}")
