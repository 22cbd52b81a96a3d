"""A ResourceGraph as the Terraform plan JSON checkov reads (``terraform show -json``, 1.2).

checkov takes resources from ``planned_values`` (values) and ``resource_changes`` (actions,
unknowns), and builds its graph edges *only* from
``configuration.root_module.resources[].expressions.<attr>.references``: without them
every check that joins split resources (a bucket and its public-access block, encryption,
policy, versioning ...) fails on a plan. Pulumi records which resources each input
property came from (``propertyDependencies``), which is exactly what Terraform's
``references`` say, so each dependency becomes a reference at the attribute that holds the
dependency's value: an unknown leaf (an ARN computed at apply time) or a leaf equal to one
of the dependency's own inputs (a bucket name). Like Terraform, an unknown attribute is
left out of ``values``, listed in ``after_unknown``, and checkov reads the reference in
its place.

Kubernetes resources are not part of the plan: :mod:`.manifests` writes them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from ..graph import GraphResource, ResourceGraph, is_secret, is_unknown
from ..type_tokens import AWS_PROVIDER
from .tfnames import BLOCK, BLOCK_LIST, MAP, Field, UnmappableType, fields_of, guess_field, resource_class, terraform_type

FORMAT_VERSION = "1.2"
#: The Terraform release whose plan format we write; checkov needs the key to be present.
TERRAFORM_VERSION = "1.9.8"
PROVIDER_NAME = "registry.terraform.io/hashicorp/aws"
KUBERNETES_PREFIX = "kubernetes:"
SENSITIVE_PLACEHOLDER = "(sensitive)"

_OMIT = object()


@dataclass
class PlanResource:
    """One translated resource: where it is in the plan and where it came from."""

    address: str
    terraform_type: str
    name: str
    graph_resource: GraphResource


@dataclass
class TerraformPlan:
    """The plan document plus the way back from plan addresses to URNs."""

    document: dict[str, Any]
    resources: dict[str, PlanResource] = field(default_factory=dict)  # by address
    #: Custom resources that have no Terraform twin and are not Kubernetes objects.
    unmapped: list[GraphResource] = field(default_factory=list)
    #: provider config key (``aws.<alias>``) -> URN of the Pulumi provider resource
    providers: dict[str, str] = field(default_factory=dict)


def is_translatable(resource: GraphResource) -> bool:
    """Custom resources of a package with a Terraform twin (not providers, not Kubernetes)."""
    return resource.custom and not resource.is_provider and not resource.type.startswith(KUBERNETES_PREFIX)


def to_terraform_plan(graph: ResourceGraph, strict: bool = False) -> TerraformPlan:
    """Translate every non-Kubernetes custom resource of ``graph``.

    With ``strict`` an unmappable type raises :class:`UnmappableType`; otherwise it is
    collected in ``unmapped`` so the caller can report it.
    """
    plan = TerraformPlan(document={})
    names: dict[str, set[str]] = {}
    address_of: dict[str, str] = {}
    mapped: list[tuple[GraphResource, str]] = []
    for resource in graph:
        if not is_translatable(resource):
            continue
        try:
            tf_type = terraform_type(resource.type)
        except UnmappableType:
            if strict:
                raise
            plan.unmapped.append(resource)
            continue
        name = _unique_name(resource, names.setdefault(tf_type, set()))
        address = f"{tf_type}.{name}"
        address_of[resource.urn] = address
        plan.resources[address] = PlanResource(address, tf_type, name, resource)
        mapped.append((resource, tf_type))

    providers = _provider_configs(graph)
    plan.providers = {item["key"]: urn for urn, item in providers.items()}
    planned, changes, configured = [], [], []
    for resource, tf_type in mapped:
        address = address_of[resource.urn]
        name = plan.resources[address].name
        translated = _translate(resource, tf_type, graph, address_of)
        provider_key = providers.get(resource.provider or "", {}).get("key", "aws")
        planned.append({
            "address": address, "mode": "managed", "type": tf_type, "name": name,
            "provider_name": PROVIDER_NAME, "schema_version": 0,
            "values": translated.values, "sensitive_values": translated.sensitive,
        })
        changes.append({
            "address": address, "mode": "managed", "type": tf_type, "name": name,
            "provider_name": PROVIDER_NAME,
            "change": {
                "actions": ["create"], "before": None, "after": translated.values,
                "after_unknown": translated.unknown, "before_sensitive": False,
                "after_sensitive": translated.sensitive,
            },
        })
        configured.append({
            "address": address, "mode": "managed", "type": tf_type, "name": name,
            "provider_config_key": provider_key, "expressions": translated.expressions, "schema_version": 0,
        })
    plan.document = {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {item["key"]: item["config"] for item in providers.values()},
            "root_module": {"resources": configured},
        },
    }
    return plan


def _unique_name(resource: GraphResource, taken: set[str]) -> str:
    """A Terraform resource name (letters, digits, ``_``, ``-``) unique within its type."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", resource.name) or "resource"
    if not re.match(r"[A-Za-z_]", name):
        name = f"r_{name}"
    if name in taken:
        name = f"{name}_{hashlib.sha1(resource.urn.encode()).hexdigest()[:8]}"
    taken.add(name)
    return name


def _provider_configs(graph: ResourceGraph) -> dict[str, dict[str, Any]]:
    """One ``provider_config`` entry per explicit Pulumi AWS provider (an alias each)."""
    configs: dict[str, dict[str, Any]] = {}
    for resource in graph:
        if resource.type != AWS_PROVIDER:
            continue
        alias = re.sub(r"[^A-Za-z0-9_-]", "_", resource.name)
        expressions = {}
        for key in ("region", "profile", "accessKey", "secretKey", "token"):
            value = resource.inputs.get(key)
            if isinstance(value, str) and not is_unknown(value):
                expressions[_snake_key(key)] = {"constant_value": value}
            elif is_secret(value):
                expressions[_snake_key(key)] = {"constant_value": SENSITIVE_PLACEHOLDER}
        key = f"aws.{alias}"
        configs[resource.urn] = {"key": key, "config": {
            "name": "aws", "full_name": PROVIDER_NAME, "alias": alias, "expressions": expressions}}
    return configs


def _snake_key(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


# ---------------------------------------------------------------- values

@dataclass
class _Translated:
    values: dict[str, Any]
    unknown: dict[str, Any]
    sensitive: dict[str, Any]
    expressions: dict[str, Any]


def _translate(resource: GraphResource, tf_type: str, graph: ResourceGraph, address_of: dict[str, str]) -> _Translated:
    schema = fields_of(resource_class(resource.type), tf_type)
    inputs = {key: value for key, value in resource.inputs.items() if key != "source" or key in schema}
    values, unknown, sensitive, expressions = _object(inputs, schema)
    if resource.effective_tags is not None and "tags_all" not in values:
        values["tags_all"] = dict(resource.effective_tags)
    for prop, urns in sorted(resource.property_dependencies.items()):
        targets = [(urn, address_of[urn]) for urn in urns if urn in address_of]
        if not targets or prop not in inputs:
            continue
        prop_field = schema.get(prop) or guess_field(prop, inputs[prop])
        _add_references(prop_field.terraform_name, inputs[prop], expressions, targets, graph)
    return _Translated(values, unknown, sensitive, expressions)


def _object(inputs: dict[str, Any], schema: dict[str, Field]) -> tuple[dict, dict, dict, dict]:
    values: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    sensitive: dict[str, Any] = {}
    expressions: dict[str, Any] = {}
    for key, raw in sorted(inputs.items()):
        prop_field = schema.get(key) or guess_field(key, raw)
        value, unknown_part, sensitive_part, expression = _value(raw, prop_field)
        name = prop_field.terraform_name
        if value is not _OMIT:
            values[name] = value
        if unknown_part:
            unknown[name] = unknown_part
        if sensitive_part:
            sensitive[name] = sensitive_part
        expressions[name] = expression
    return values, unknown, sensitive, expressions


def _value(raw: Any, prop_field: Field) -> tuple[Any, Any, Any, Any]:
    """(value, after_unknown part, sensitive part, expression) of one property value."""
    if is_unknown(raw):
        return _OMIT, True, None, {}
    if is_secret(raw):
        return SENSITIVE_PLACEHOLDER, None, True, {}
    if prop_field.kind == BLOCK and isinstance(raw, dict):
        sub = _object(raw, fields_of(prop_field.element) if prop_field.element else {})
        return [sub[0]], ([sub[1]] if sub[1] else None), ([sub[2]] if sub[2] else None), [sub[3]]
    if prop_field.kind == BLOCK_LIST and isinstance(raw, list):
        schema = fields_of(prop_field.element) if prop_field.element else {}
        values, unknown, sensitive, expressions = [], [], [], []
        for item in raw:
            if isinstance(item, dict):
                sub = _object(item, schema)
                values.append(sub[0])
                unknown.append(sub[1])
                sensitive.append(sub[2])
                expressions.append(sub[3])
            else:
                values.append(None)
                unknown.append(is_unknown(item))
                sensitive.append(is_secret(item))
                expressions.append({})
        return values, (unknown if any(unknown) else None), (sensitive if any(sensitive) else None), expressions
    if prop_field.kind == MAP and isinstance(raw, dict):
        values = {k: (SENSITIVE_PLACEHOLDER if is_secret(v) else v) for k, v in raw.items() if not is_unknown(v)}
        unknown = {k: True for k, v in raw.items() if is_unknown(v)}
        sensitive = {k: True for k, v in raw.items() if is_secret(v)}
        return values, (unknown or None), (sensitive or None), {"constant_value": values}
    if isinstance(raw, list):
        values = [None if is_unknown(item) else (SENSITIVE_PLACEHOLDER if is_secret(item) else item) for item in raw]
        unknown = [is_unknown(item) for item in raw]
        sensitive = [is_secret(item) for item in raw]
        return values, (unknown if any(unknown) else None), (sensitive if any(sensitive) else None), {"constant_value": values}
    return raw, None, None, {"constant_value": raw}


# ---------------------------------------------------------------- references

def _add_references(
    tf_name: str, raw: Any, expressions: dict[str, Any], targets: list[tuple[str, str]], graph: ResourceGraph
) -> None:
    """Write each dependency of one property as ``references`` where its value sits.

    A dependency's value sits at an unknown leaf (computed at apply) or at a leaf equal to
    one of the dependency's own string inputs. With several dependencies and several
    unknown leaves, a leaf goes to the dependency whose Terraform type's last word occurs
    in the leaf's name (``kms_key_id`` -> ``aws_kms_key``); leaves no name decides get all
    of them, as Terraform lists every reference of an expression.
    """
    leaves = list(_leaves(raw, expressions[tf_name], tf_name))
    placed: set[str] = set()
    identities = {address: _identities(graph.get(urn)) for urn, address in targets}
    unknown_leaves: list[tuple[dict, str]] = []
    for leaf_value, holder, leaf_name in leaves:
        if is_unknown(leaf_value):
            unknown_leaves.append((holder, leaf_name))
            continue
        for _urn, address in targets:
            attribute = identities[address].get(leaf_value) if isinstance(leaf_value, str) else None
            if attribute:
                _reference(holder, [f"{address}.{attribute}", address])
                placed.add(address)
    for holder, leaf_name in unknown_leaves:
        named = [address for _urn, address in targets if _affinity(address, leaf_name)]
        chosen = named or [address for _urn, address in targets]
        attribute = "arn" if ("arn" in leaf_name or "kms" in leaf_name) else "id"
        refs: list[str] = []
        for address in chosen:
            refs += [f"{address}.{attribute}", address]
            placed.add(address)
        _reference(holder, refs)
    leftover = [address for _urn, address in targets if address not in placed]
    top = expressions.get(tf_name)
    if leftover and isinstance(top, dict):
        refs = []
        for address in leftover:
            refs += [f"{address}.id", address]
        _reference(top, refs)


def _reference(holder: dict[str, Any], refs: list[str]) -> None:
    existing = holder.setdefault("references", [])
    existing.extend(ref for ref in refs if ref not in existing)
    holder.pop("constant_value", None)  # Terraform writes one or the other


def _leaves(raw: Any, expression: Any, name: str) -> Iterable[tuple[Any, dict, str]]:
    """(value, expression dict to annotate, attribute name) for every scalar leaf."""
    if isinstance(raw, dict) and not is_secret(raw) and isinstance(expression, list) and expression:
        # a block: its expressions are a one-element list of per-attribute expressions
        # (the field names inside were translated; walk them in the same sorted order)
        yield from _block_leaves(raw, expression[0])
    elif isinstance(raw, list) and isinstance(expression, list):
        for item, item_expression in zip(raw, expression):
            if isinstance(item, dict):
                yield from _block_leaves(item, item_expression)
            elif isinstance(item_expression, dict):
                yield item, item_expression, name
    elif isinstance(expression, dict):
        if isinstance(raw, list):
            for item in raw:
                yield item, expression, name
        else:
            yield raw, expression, name


def _block_leaves(raw: dict[str, Any], expressions: dict[str, Any]) -> Iterable[tuple[Any, dict, str]]:
    # translated names follow the sorted order of the raw keys, see _object
    for (key, value), (tf_name, expression) in zip(sorted(raw.items()), expressions.items()):
        yield from _leaves(value, expression, tf_name)


def _affinity(address: str, leaf_name: str) -> bool:
    last_word = address.split(".", 1)[0].rsplit("_", 1)[-1]
    return last_word in leaf_name.split("_")


def _identities(resource: Optional[GraphResource]) -> dict[str, str]:
    """String inputs of ``resource`` that another resource may carry to point at it."""
    if resource is None:
        return {}
    try:
        schema = fields_of(resource_class(resource.type), terraform_type(resource.type))
    except UnmappableType:
        schema = {}
    found: dict[str, str] = {}
    for key, value in resource.inputs.items():
        if isinstance(value, str) and len(value) >= 3 and not is_unknown(value) and value[:1] not in "{[":
            found.setdefault(value, (schema.get(key) or guess_field(key, value)).terraform_name)
    return found


def split_plan(document: dict[str, Any], max_resources: int = 300) -> list[dict[str, Any]]:
    """``document`` as several plan documents of at most about ``max_resources`` each.

    checkov matches every planned resource to its configuration by a linear search, so one
    plan of thousands of resources costs quadratic time, and it skips files over its size
    limit. Resources joined by references always land in the same document (whole
    connected groups are packed), so no graph edge is lost.
    """
    config = document["configuration"]["root_module"]["resources"]
    if len(config) <= max_resources:
        return [document]
    parent: dict[str, str] = {item["address"]: item["address"] for item in config}

    def find(address: str) -> str:
        while parent[address] != address:
            parent[address] = parent[parent[address]]
            address = parent[address]
        return address

    for item in config:
        for target in _referenced_addresses(item["expressions"]):
            if target in parent:
                parent[find(item["address"])] = find(target)
    groups: dict[str, list[str]] = {}
    for item in config:
        groups.setdefault(find(item["address"]), []).append(item["address"])
    batches: list[set[str]] = [set()]
    for members in groups.values():
        if batches[-1] and len(batches[-1]) + len(members) > max_resources:
            batches.append(set())
        batches[-1].update(members)
    planned = document["planned_values"]["root_module"]["resources"]
    changes = document["resource_changes"]
    parts = []
    written: set[str] = set()
    for batch in batches:
        part = dict(document)
        part["planned_values"] = {"root_module": {"resources": [r for r in planned if r["address"] in batch]}}
        part["resource_changes"] = [r for r in changes if r["address"] in batch]
        configured = [r for r in config if r["address"] in batch]
        used = {r.get("provider_config_key") for r in configured}
        part["configuration"] = {  # each provider once, in the part that uses it (checkov checks providers too)
            "provider_config": {key: value for key, value in document["configuration"]["provider_config"].items()
                                if key in used and key not in written},
            "root_module": {"resources": configured},
        }
        written |= used
        parts.append(part)
    for key, value in document["configuration"]["provider_config"].items():
        if key not in written:  # a provider no resource uses is still checked, once
            parts[0]["configuration"]["provider_config"][key] = value
    return parts


def _referenced_addresses(expression: Any) -> Iterable[str]:
    if isinstance(expression, dict):
        for ref in expression.get("references", []):
            yield ref
        for key, value in expression.items():
            if key != "references":
                yield from _referenced_addresses(value)
    elif isinstance(expression, list):
        for item in expression:
            yield from _referenced_addresses(item)
