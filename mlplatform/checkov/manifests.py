"""Kubernetes resources of a ResourceGraph as YAML manifests for checkov.

pulumi-kubernetes resources already are Kubernetes objects: the type token
``kubernetes:<group>/<version>:<Kind>`` gives ``apiVersion`` and ``kind`` (the core group
is written ``v1``), and the inputs are the object's fields (``metadata``, ``spec``, ...)
in Kubernetes' own spelling. Each resource is written to its own file so that a finding
(checkov reports the file) leads back to exactly one URN. Objects the server would name
get the Pulumi name, as the provider does before it adds its random suffix. Helm releases,
``...Patch`` and ``...List`` resources are not whole objects and are reported as unmapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import yaml

from ..graph import GraphResource, ResourceGraph, is_secret, is_unknown
from .tfplan import KUBERNETES_PREFIX, SENSITIVE_PLACEHOLDER

_TOKEN = re.compile(r"^kubernetes:(?P<group>[a-z0-9.-]+)/(?P<version>v\d+[a-z0-9]*):(?P<kind>[A-Z][A-Za-z0-9]*)$")
UNKNOWN_PLACEHOLDER = "(known after apply)"


@dataclass
class Manifest:
    file: str  # relative path inside the output folder
    urn: str
    kind: str
    name: str
    namespace: Optional[str]
    document: dict[str, Any]


@dataclass
class ManifestSet:
    manifests: list[Manifest] = field(default_factory=list)
    unmapped: list[GraphResource] = field(default_factory=list)

    def by_file(self) -> dict[str, Manifest]:
        return {manifest.file: manifest for manifest in self.manifests}


def api_version_and_kind(token: str) -> Optional[tuple[str, str]]:
    """``kubernetes:networking.k8s.io/v1:NetworkPolicy`` -> ``("networking.k8s.io/v1", "NetworkPolicy")``."""
    match = _TOKEN.match(token)
    if not match:
        return None
    group, version, kind = match["group"], match["version"], match["kind"]
    if group == "helm.sh" or kind.endswith(("Patch", "List")):
        return None
    return (version if group == "core" else f"{group}/{version}"), kind


def is_kubernetes(resource: GraphResource) -> bool:
    return resource.custom and resource.type.startswith(KUBERNETES_PREFIX)


def to_manifests(graph: ResourceGraph) -> ManifestSet:
    result = ManifestSet()
    for index, resource in enumerate(r for r in graph if is_kubernetes(r)):
        mapped = api_version_and_kind(resource.type)
        if mapped is None:
            result.unmapped.append(resource)
            continue
        api_version, kind = mapped
        body = _clean({key: value for key, value in resource.inputs.items() if key not in ("apiVersion", "kind")})
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        metadata.setdefault("name", resource.name)
        document = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
        document.update({key: value for key, value in body.items() if key != "metadata"})
        name = str(metadata["name"])
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        file = f"k8s/{index:05d}-{kind.lower()}-{safe}.yaml"
        result.manifests.append(Manifest(file, resource.urn, kind, name, metadata.get("namespace"), document))
    return result


def render(manifest: Manifest) -> str:
    return yaml.safe_dump(manifest.document, sort_keys=False, default_flow_style=False)


def _clean(value: Any) -> Any:
    """Inputs as plain YAML data: unknowns and secrets become visible placeholders."""
    if is_unknown(value):
        return UNKNOWN_PLACEHOLDER
    if is_secret(value):
        return SENSITIVE_PLACEHOLDER
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value
