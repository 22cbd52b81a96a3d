"""ResourceGraph resources as the engine puts them on the analyzer wire.

The engine marshals resource properties into a protobuf ``Struct`` keeping unknowns (the
string ``04da6b54-...``) and secrets (an object ``{4dabf18...: 1b47061..., value: ...}``);
the graph already stores both markers. The graph never holds a secret's plaintext, so the
secret object goes out with the value ``[secret]``: a rule sees that a value is secret,
never what it is (the real engine would send the plaintext to the pack).

Resource options travel in ``AnalyzerResourceOptions`` (protect, ignoreChanges,
deleteBeforeReplace, additionalSecretOutputs, aliases as URNs, parent); the provider as
``AnalyzerProviderResource`` with the provider's own inputs.
"""

from __future__ import annotations

from typing import Any, Optional

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from ..graph import SIG_KEY, GraphResource, ResourceGraph, is_secret

REDACTED = "[secret]"


def wire_value(value: Any) -> Any:
    """Graph JSON -> the JSON the engine would marshal (secrets carry a value)."""
    if is_secret(value):
        return {SIG_KEY: value[SIG_KEY], "value": REDACTED}
    if isinstance(value, dict):
        return {key: wire_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire_value(item) for item in value]
    return value


def struct(properties: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(wire_value({k: v for k, v in properties.items() if v is not None}))
    return message


def alias_urns(resource: GraphResource) -> list[str]:
    """Aliases as the engine sends them: URNs. A spec alias recorded as ``type=T`` (or
    ``name=N``) is resolved against the resource's own URN, as the engine resolves it."""
    urns = []
    for alias in resource.options.get("aliases", []):
        if alias.startswith("urn:pulumi:"):
            urns.append(alias)
            continue
        parts = dict(item.split("=", 1) for item in alias.split(";") if "=" in item)
        prefix, _, name = resource.urn.rpartition("::")
        head, _, qualified = prefix.rpartition("::")
        types = qualified.split("$")
        if "type" in parts:
            types[-1] = parts["type"]
        urns.append(f"{head}::{'$'.join(types)}::{parts.get('name', name)}")
    return urns


def options(resource: GraphResource) -> analyzer_pb2.AnalyzerResourceOptions:
    opts = resource.options
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(opts.get("protect")),
        ignoreChanges=list(opts.get("ignoreChanges", [])),
        deleteBeforeReplace=bool(opts.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined=bool(opts.get("deleteBeforeReplace")),
        additionalSecretOutputs=list(opts.get("additionalSecretOutputs", [])),
        aliases=alias_urns(resource),
        parent=resource.parent or "",
    )


class Encoder:
    """Builds the engine's requests for one graph; each provider is encoded once."""

    def __init__(self, graph: ResourceGraph):
        self.graph = graph
        self._providers: dict[str, analyzer_pb2.AnalyzerProviderResource] = {}

    def provider(self, resource: GraphResource) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
        if not resource.provider:
            return None
        if resource.provider not in self._providers:
            urn = resource.provider
            found = self.graph.get(urn)
            type_token = urn.split("::")[2].split("$")[-1] if urn.count("::") >= 3 else ""
            self._providers[urn] = analyzer_pb2.AnalyzerProviderResource(
                type=found.type if found else type_token,
                properties=struct(found.inputs if found else {}),
                urn=urn,
                name=urn.rsplit("::", 1)[-1],
            )
        return self._providers[resource.provider]

    def _fields(self, resource: GraphResource) -> dict[str, Any]:
        """What the engine sends of a resource in both Analyze and AnalyzeStack."""
        return dict(
            type=resource.type,
            properties=struct(resource.inputs),
            urn=resource.urn,
            name=resource.name,
            options=options(resource),
            provider=self.provider(resource),
        )

    def analyze_request(self, resource: GraphResource) -> analyzer_pb2.AnalyzeRequest:
        return analyzer_pb2.AnalyzeRequest(**self._fields(resource))

    def stack_resource(self, resource: GraphResource) -> analyzer_pb2.AnalyzerResource:
        """During preview the engine sends each resource's planned state: for a create, its inputs."""
        return analyzer_pb2.AnalyzerResource(
            **self._fields(resource),
            parent=resource.parent or "",
            dependencies=list(resource.dependencies),
            propertyDependencies={
                key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
                for key, urns in resource.property_dependencies.items()
            },
        )
