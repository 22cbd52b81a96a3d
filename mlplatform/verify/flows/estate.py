"""The plan seen as AWS will see it once applied: roles with their policies, buckets with
their policies and default keys, keys with their policies, aliases and ARNs.

Everything is read from the ResourceGraph. References between resources are followed
through property dependencies when the referenced value is unknown (an ordinary preview),
and through the value itself when it is known (the resolved plan), so the same code serves
both. A value that stays unknown is reported as such: a flow that needs it is unproven.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from mlplatform.graph import GraphResource, ResourceGraph, is_secret, is_unknown
from mlplatform.stackconfig import StackConfig
from mlplatform.type_tokens import (
    IAM_ROLE, IAM_ROLE_POLICY, IAM_ROLE_POLICY_ATTACHMENT, KMS_ALIAS, KMS_KEY, S3_BUCKET, S3_BUCKET_POLICY,
    S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION, SNS_TOPIC, SNS_TOPIC_POLICY)

from .policy_eval import Policy, PolicyDocumentError

_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$")


class Unresolved(Exception):
    """A value a flow needs is unknown in this plan (or missing); the flow is unproven."""


def known(value: Any) -> bool:
    """A value that is neither Pulumi's unknown marker nor a redacted secret, nor absent."""
    return value is not None and not is_unknown(value) and not is_secret(value)


@dataclass(frozen=True)
class RoleView:
    """A role, its ARN and every identity policy the plan gives it."""

    resource: GraphResource
    name: str
    arn: str
    policies: tuple[Policy, ...]
    #: managed policies attached from outside the plan; their statements are not seen
    external_policies: tuple[str, ...]
    #: inline policies whose document is unknown in this plan
    unknown_policies: tuple[str, ...]

    def identity(self) -> Optional[tuple[Policy, ...]]:
        """The identity policies, or None when some are not visible (allows then unproven)."""
        return None if self.external_policies or self.unknown_policies else self.policies

    def identity_note(self) -> str:
        hidden = [*self.external_policies, *(f"unknown document of {p}" for p in self.unknown_policies)]
        return f"not in the plan: {', '.join(hidden)}" if hidden else ""

    @property
    def tags(self) -> dict[str, str]:
        tags = dict(self.resource.effective_tags or {})
        if isinstance(self.resource.inputs.get("tags"), dict):
            tags.update({k: v for k, v in self.resource.inputs["tags"].items() if isinstance(v, str)})
        return tags


class Estate:
    """Indexes over one plan for the flow derivations."""

    def __init__(self, graph: ResourceGraph, stack: StackConfig):
        self.graph, self.stack = graph, stack
        self.account, self.region = stack.account_id, stack.region
        self._by_type: dict[str, list[GraphResource]] = {}
        for resource in graph:
            self._by_type.setdefault(resource.type, []).append(resource)
        self._roles: Optional[dict[str, RoleView]] = None
        self._resolved_key_arns: Optional[dict[str, str]] = None

    # ------------------------------------------------------------ generic

    def of_type(self, type_token: str) -> list[GraphResource]:
        return list(self._by_type.get(type_token, ()))

    def deps(self, resource: GraphResource, prop: str, type_token: Optional[str] = None) -> list[GraphResource]:
        """Resources an input depends on (optionally of one type)."""
        found = []
        for urn in resource.property_dependencies.get(prop, ()):
            target = self.graph.get(urn)
            if target is not None and (type_token is None or target.type == type_token):
                found.append(target)
        return found

    def dependents(self, urn: str, type_token: str, prop: Optional[str] = None) -> list[GraphResource]:
        """Resources of ``type_token`` whose input (``prop`` or any) depends on ``urn``."""
        out = []
        for resource in self._by_type.get(type_token, ()):
            props = [prop] if prop else list(resource.property_dependencies)
            if any(urn in resource.property_dependencies.get(p, ()) for p in props):
                out.append(resource)
        return out

    def region_of(self, resource: GraphResource) -> str:
        provider = self.graph.get(resource.provider) if resource.provider else None
        region = provider.inputs.get("region") if provider is not None else None
        return region if isinstance(region, str) and known(region) else self.region

    def team_of(self, resource: GraphResource) -> Optional[str]:
        return self.graph.team_of(resource)

    def name_via(self, resource: GraphResource, prop: str, target_type: str, target_prop: str) -> str:
        """A name input (``bucket``, ``role``...) taken from the value when known, else from
        the resource it depends on."""
        value = resource.inputs.get(prop)
        if isinstance(value, str) and known(value):
            return value
        for target in self.deps(resource, prop, target_type):
            name = target.inputs.get(target_prop)
            if isinstance(name, str) and known(name):
                return name
        raise Unresolved(f"{resource.name}: {prop} is unknown in this plan")

    # ------------------------------------------------------------ IAM roles

    def role_arn(self, role: GraphResource) -> str:
        name = role.inputs.get("name")
        if not isinstance(name, str) or not known(name):
            raise Unresolved(f"role {role.name} has no known name")
        path = role.inputs.get("path") if isinstance(role.inputs.get("path"), str) else "/"
        return f"arn:aws:iam::{self.account}:role{path}{name}"

    @property
    def roles(self) -> dict[str, RoleView]:
        """Roles by ARN, with their inline policies (RolePolicy resources and inlinePolicies)."""
        if self._roles is None:
            inline: dict[str, list[tuple[str, Any]]] = {}
            external: dict[str, list[str]] = {}
            for policy in self.of_type(IAM_ROLE_POLICY):
                try:
                    role = self.name_via(policy, "role", IAM_ROLE, "name")
                except Unresolved:
                    continue
                inline.setdefault(role, []).append((f"role policy {policy.name}", policy.inputs.get("policy")))
            for attachment in self.of_type(IAM_ROLE_POLICY_ATTACHMENT):
                try:
                    role = self.name_via(attachment, "role", IAM_ROLE, "name")
                except Unresolved:
                    continue
                external.setdefault(role, []).append(f"managed policy {attachment.inputs.get('policyArn')}")
            roles = {}
            for resource in self.of_type(IAM_ROLE):
                try:
                    arn = self.role_arn(resource)
                except Unresolved:
                    continue
                name = resource.inputs["name"]
                documents = list(inline.get(name, ()))
                for item in resource.inputs.get("inlinePolicies") or ():
                    if isinstance(item, dict):
                        documents.append((f"inline policy {item.get('name')} of {name}", item.get("policy")))
                parsed, unknown = [], []
                for label, document in documents:
                    if not known(document):
                        unknown.append(label)
                        continue
                    try:
                        parsed.append(Policy.parse(label, document))
                    except PolicyDocumentError:
                        unknown.append(label)
                hidden = list(external.get(name, ()))
                hidden += [f"managed policy {arn_}" for arn_ in resource.inputs.get("managedPolicyArns") or ()]
                roles[arn] = RoleView(resource, name, arn, tuple(parsed), tuple(hidden), tuple(unknown))
            self._roles = roles
        return self._roles

    def role(self, arn: Any) -> RoleView:
        if not isinstance(arn, str) or not known(arn):
            raise Unresolved("the role ARN is unknown in this plan")
        view = self.roles.get(arn)
        if view is None:
            raise Unresolved(f"role {arn} is not created by this plan")
        return view

    def role_named(self, name: str) -> RoleView:
        return self.role(f"arn:aws:iam::{self.account}:role/{name}")

    def trust_policy(self, view: RoleView) -> Policy:
        return self.policy_of(view.resource, "assumeRolePolicy", f"trust policy of {view.name}")

    # ------------------------------------------------------------ documents

    @staticmethod
    def policy_of(resource: GraphResource, prop: str, label: str) -> Policy:
        document = resource.inputs.get(prop)
        if not known(document):
            raise Unresolved(f"{label} is unknown in this plan")
        try:
            return Policy.parse(label, document)
        except PolicyDocumentError as exc:
            raise Unresolved(str(exc)) from None

    # ------------------------------------------------------------ S3

    def bucket(self, name: str) -> GraphResource:
        for resource in self.of_type(S3_BUCKET):
            if resource.inputs.get("bucket") == name:
                return resource
        raise Unresolved(f"bucket {name} is not created by this plan")

    def bucket_policy(self, name: str) -> Optional[Policy]:
        """The bucket's policy, None when it has none; Unresolved when it is unknown."""
        for resource in self.of_type(S3_BUCKET_POLICY):
            try:
                bucket = self.name_via(resource, "bucket", S3_BUCKET, "bucket")
            except Unresolved:
                continue
            if bucket == name:
                return self.policy_of(resource, "policy", f"bucket policy of {name}")
        return None

    def bucket_encryption(self, name: str) -> tuple[str, Optional[GraphResource], bool]:
        """(algorithm, KMS key resource or None, bucket key enabled) of the bucket's default encryption."""
        for resource in self.of_type(S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION):
            try:
                bucket = self.name_via(resource, "bucket", S3_BUCKET, "bucket")
            except Unresolved:
                continue
            if bucket != name:
                continue
            rules = resource.inputs.get("rules") or []
            rule = rules[0] if rules and isinstance(rules[0], dict) else {}
            default = rule.get("applyServerSideEncryptionByDefault") or {}
            keys = self.deps(resource, "rules", KMS_KEY)
            key = keys[0] if len(keys) == 1 else self.key_by_arn(default.get("kmsMasterKeyId"))
            return str(default.get("sseAlgorithm", "AES256")), key, bool(rule.get("bucketKeyEnabled"))
        return "AES256", None, False  # S3's default since 2023: SSE-S3

    # ------------------------------------------------------------ KMS

    def key_policy(self, key: GraphResource) -> Policy:
        return self.policy_of(key, "policy", f"key policy of {key.name}")

    def key_aliases(self, key: GraphResource) -> tuple[str, ...]:
        """Alias names of the key (``alias/...``), as ``kms:ResourceAliases`` carries them."""
        aliases = []
        for alias in self.dependents(key.urn, KMS_ALIAS, "targetKeyId"):
            name = alias.inputs.get("name")
            if isinstance(name, str) and known(name):
                aliases.append(name)
        return tuple(sorted(aliases))

    def key_arn(self, key: GraphResource) -> str:
        """The key's ARN: as the resolved plan records it wherever another resource names the
        key alone; in an ordinary preview a placeholder in the key's region (its key id is
        not knowable, and the estate's policies name keys by ``key/*`` and aliases)."""
        if self._resolved_key_arns is None:
            self._resolved_key_arns = {}
            for resource in self.graph:
                for prop, urns in resource.property_dependencies.items():
                    if len(urns) == 1 and urns[0] not in self._resolved_key_arns:
                        arn = _find_kms_arn(resource.inputs.get(prop))
                        if arn:
                            self._resolved_key_arns[urns[0]] = arn
        arn = self._resolved_key_arns.get(key.urn)
        return arn or f"arn:aws:kms:{self.region_of(key)}:{self.account}:key/unresolved-{key.name}"

    def key_by_arn(self, arn: Any) -> Optional[GraphResource]:
        """The key a reference names: its ARN, an alias name (``alias/x``) or an alias ARN."""
        if not isinstance(arn, str) or not known(arn):
            return None
        if arn.startswith("alias/") or ":alias/" in arn:
            name = arn[arn.index("alias/"):]
            for alias in self.of_type(KMS_ALIAS):
                if alias.inputs.get("name") == name:
                    targets = self.deps(alias, "targetKeyId", KMS_KEY)
                    return targets[0] if len(targets) == 1 else self.key_by_arn(alias.inputs.get("targetKeyId"))
            return None
        for key in self.of_type(KMS_KEY):
            if self.key_arn(key) == arn or arn.endswith(f":key/{key.inputs.get('keyId', '-')}"):
                return key
        return None

    def key_for(self, resource: GraphResource, prop: str, value: Any = None) -> GraphResource:
        """The one KMS key an input names (by dependency, or by its resolved ARN)."""
        keys = self.deps(resource, prop, KMS_KEY)
        if len(keys) == 1:
            return keys[0]
        by_value = self.key_by_arn(value)
        if by_value is not None:
            return by_value
        raise Unresolved(f"{resource.name}: the KMS key of {prop} is not a key of this plan")

    # ------------------------------------------------------------ SNS

    def topic_by_arn(self, arn: str) -> GraphResource:
        name = arn.rsplit(":", 1)[-1]
        for topic in self.of_type(SNS_TOPIC):
            if topic.inputs.get("name") == name:
                return topic
        raise Unresolved(f"topic {arn} is not created by this plan")

    def topic_policy(self, topic: GraphResource, arn: str) -> Optional[Policy]:
        for resource in self.of_type(SNS_TOPIC_POLICY):
            value = resource.inputs.get("arn")
            if value == arn or topic.urn in resource.property_dependencies.get("arn", ()):
                return self.policy_of(resource, "policy", f"topic policy of {topic.inputs.get('name')}")
        return None


def _find_kms_arn(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value if _KMS_KEY_ARN.match(value) else None
    if isinstance(value, dict):
        items: Iterator = iter(value.values())
    elif isinstance(value, list):
        items = iter(value)
    else:
        return None
    for item in items:
        found = _find_kms_arn(item)
        if found:
            return found
    return None


def parse_s3_uri(uri: Any) -> tuple[str, str]:
    """(bucket, key prefix) of an ``s3://`` URI."""
    if not isinstance(uri, str) or not known(uri) or not uri.startswith("s3://"):
        raise Unresolved(f"S3 location {uri!r} is unknown or not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key
