"""MLP-FS-*: feature groups holding PII are tagged and classified as such, and every IAM
grant of feature-store access to them carries an attribute (tag) condition."""

from __future__ import annotations

import re

from mlplatform.spec.models import PII_CLASSIFICATIONS
from mlplatform.type_tokens import IAM_POLICY, IAM_ROLE, IAM_ROLE_POLICY, SAGEMAKER_FEATURE_GROUP

from .common import MANDATORY, TEAMS_SCHEMA, UNKNOWN, Context, as_list, json_document, peek, rule
from .pii import is_pii, marked_pii_groups

POLICY_DOCUMENTS = {IAM_POLICY: "policy", IAM_ROLE_POLICY: "policy"}
FEATURE_STORE_ACTION = re.compile(r"^(sagemaker:(\*|.*FeatureGroup.*|.*Record|GetRecord|PutRecord)|\*)$", re.I)
ABAC_KEYS = ("aws:resourcetag/", "aws:principaltag/", "sagemaker:resourcetag/")


def _statements(ctx: Context):
    for resource in ctx.resources:
        key = POLICY_DOCUMENTS.get(resource.resource_type)
        documents = []
        if key:
            documents.append(peek(resource.props, key))
        elif resource.resource_type == IAM_ROLE:
            documents += [peek(p, "policy") for p in as_list(peek(resource.props, "inlinePolicies"))]
        for text in documents:
            document = json_document(text) if text != UNKNOWN else None
            for statement in as_list(document.get("Statement") if isinstance(document, dict) else None):
                if isinstance(statement, dict) and statement.get("Effect") == "Allow":
                    yield resource, statement


def _has_abac(statement: dict) -> bool:
    for values in (statement.get("Condition") or {}).values():
        if isinstance(values, dict) and any(str(k).lower().startswith(ABAC_KEYS) for k in values):
            return True
    return False


@rule(
    id="MLP-FS-001",
    name="PII feature groups tagged and access-controlled by attributes",
    description="Feature groups with PII features are tagged pii=true, classified confidential or restricted, and "
                "every IAM grant of feature-store access to them carries an attribute (tag) condition.",
    severity="high",
    remediation="Mark PII features in the spec (pii: true); grant feature-store access with aws:ResourceTag / "
                "aws:PrincipalTag conditions.",
    level=MANDATORY,
    stack=True,
    concern="pii",
    config={"teams": TEAMS_SCHEMA},
)
def check_pii_feature_groups(ctx: Context, report) -> None:
    marked = marked_pii_groups(ctx)
    groups = [g for g in ctx.of_type(SAGEMAKER_FEATURE_GROUP) if is_pii(ctx, g, marked)]
    for group in groups:
        tags = ctx.tags(group)
        if str(tags.get("pii")).lower() != "true":
            report("feature group holds PII but is not tagged pii=true", group.urn)
        if tags.get("data-classification") not in PII_CLASSIFICATIONS:
            report(f"feature group holds PII but is classified {tags.get('data-classification') or 'unclassified'}",
                   group.urn)
    if not groups:
        return
    names = [peek(g.props, "featureGroupName") for g in groups]
    for resource, statement in _statements(ctx):
        actions = [str(a) for a in as_list(statement.get("Action"))]
        if not any(FEATURE_STORE_ACTION.match(a) for a in actions):
            continue
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        touches = any(r == "*" or r.endswith(":feature-group/*")
                      or any(isinstance(n, str) and r.endswith(f":feature-group/{n}") for n in names)
                      for r in resources)
        if touches and not _has_abac(statement):
            report("grants feature-store access to PII feature groups without an attribute condition "
                   "(aws:ResourceTag/... or aws:PrincipalTag/...)", resource.urn)
