"""The IAM service authorization reference, as parliament ships it, for the plan tests: which
privileges an action (wildcards included) stands for, their access level (List, Read, Write,
Permissions management, Tagging) and the resource types each takes, and which statements of
a plan grant something to a given principal."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import parliament

from mlplatform.graph import UNKNOWN, ResourceGraph

_SERVICES = {service["prefix"]: service for service in parliament.iam_definition}


@dataclass(frozen=True)
class Privilege:
    """One IAM action of the reference."""

    prefix: str
    name: str
    access_level: str
    #: ARN formats of the resource types the action takes; empty: it takes none (only "*")
    resource_formats: tuple[str, ...]

    @property
    def action(self) -> str:
        return f"{self.prefix}:{self.name}"


def _privilege(prefix: str, entry: dict) -> Privilege:
    service = _SERVICES[prefix]
    formats = {resource["resource"]: resource["arn"] for resource in service["resources"]}
    types = [t["resource_type"].rstrip("*") for t in entry["resource_types"] if t["resource_type"]]
    return Privilege(prefix, entry["privilege"], entry["access_level"], tuple(formats[t] for t in types if t in formats))


def expand(action: str) -> list[Privilege]:
    """Every privilege ``action`` matches (``kms:GenerateDataKey*`` is four); an action the
    reference does not know raises, so a typo can never pass as harmless."""
    return [_privilege(match["service"], next(p for p in _SERVICES[match["service"]]["privileges"]
                                              if p["privilege"] == match["action"]))
            for match in parliament.expand_action(action)]


def service_privileges(prefix: str) -> list[Privilege]:
    return [_privilege(prefix, entry) for entry in _SERVICES[prefix]["privileges"]]


def arn_matches(arn_format: str, resource: str) -> bool:
    """Whether ``resource`` (an ARN or ARN pattern) can name a resource of ``arn_format`` (the
    reference's ``arn:${Partition}:...`` form, whose variables match anything, as parliament reads it)."""
    return parliament.is_arn_match("", re.sub(r"\$\{.*?\}", "*", arn_format), resource)


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Grant:
    """One Allow statement that reaches a principal, and where it comes from."""

    origin: str
    statement: dict


def _document(resource, key: str) -> Optional[dict]:
    value = resource.inputs.get(key)
    if value == UNKNOWN:
        raise AssertionError(f"{resource.type} {resource.name}: {key} unknown in the plan, cannot be checked")
    if not isinstance(value, str) or '"Statement"' not in value:
        return None
    return json.loads(value)


def _allows(document: dict) -> Iterator[dict]:
    for statement in as_list(document.get("Statement", [])):
        if statement.get("Effect") == "Allow":
            yield statement


def grants_to_role(graph: ResourceGraph, role_name: str, role_arn: str) -> list[Grant]:
    """Every Allow that gives the role something: its inline policies (``RolePolicy`` and the
    role's own ``inlinePolicies``), managed policies attached to it (the estate's own ``Policy``
    documents; an AWS managed policy cannot be read offline and fails), and statements of any
    resource policy (key, bucket, topic, queue, registry, ...) that name the role's ARN."""
    grants: list[Grant] = []
    own_policies = {r.inputs.get("arn") or r.inputs.get("name"): r for r in graph if r.type == "aws:iam/policy:Policy"}
    for resource in graph:
        origin = f"{resource.type} {resource.name}"
        if resource.type == "aws:iam/rolePolicy:RolePolicy" and resource.inputs.get("role") == role_name:
            grants += [Grant(origin, s) for s in _allows(_document(resource, "policy"))]
        elif resource.type == "aws:iam/role:Role" and resource.inputs.get("name") == role_name:
            for inline in resource.inputs.get("inlinePolicies") or []:
                grants += [Grant(origin, s) for s in _allows(json.loads(inline["policy"]))]
            for arn in resource.inputs.get("managedPolicyArns") or []:
                grants.append(Grant(origin, {"Action": f"managed policy {arn}", "Resource": "?"}))
        elif resource.type in ("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                               "aws:iam/policyAttachment:PolicyAttachment"):
            roles = as_list(resource.inputs.get("role") or resource.inputs.get("roles") or [])
            if role_name in roles:
                arn = resource.inputs.get("policyArn")
                policy = next((p for key, p in own_policies.items() if key and key in str(arn)), None)
                if policy is None:
                    grants.append(Grant(origin, {"Action": f"managed policy {arn}", "Resource": "?"}))
                else:
                    grants += [Grant(f"{origin} -> {policy.name}", s) for s in _allows(_document(policy, "policy"))]
        elif not resource.type.startswith("aws:iam/"):
            for key in resource.inputs:
                document = _document(resource, key) if key == "policy" or key.endswith("Policy") else None
                for statement in _allows(document or {}):
                    principal = statement.get("Principal")
                    named = as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []
                    if principal == "*" or role_arn in named:
                        grants.append(Grant(f"{origin} ({key})", statement))
    return grants
