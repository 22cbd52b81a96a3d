"""The ResourceGraph: the one intermediate form every checker reads.

A plan reaches us three ways (our offline capture, `pulumi preview --json`, `pulumi stack
export`); all three become this structure, so policies, checkov, cost and diff are written
once. Its JSON form is versioned, sorted and stable so two plans can be diffed as text.

Values inside ``inputs`` follow Pulumi's own wire conventions, so nothing is lost in
translation and the policy runner can hand them to the analyzer unchanged:

* an unknown value (computed during preview) is the string :data:`UNKNOWN`;
* a secret is an object whose :data:`SIG_KEY` is :data:`SECRET_SIG`; we never write the
  plaintext, the object carries only the signature (the value is redacted).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from .type_tokens import PROVIDER_PREFIX, TEAM

GRAPH_VERSION = 1

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

#: Origin of a plan captured with apply-time values simulated (``mlp plan --resolve``).
RESOLVED = "resolved"

#: Resource options recorded for every resource, with the value the engine assumes when a
#: program does not set them. Keeping the full set (not only the ones set) makes diffs of
#: options exact and the JSON shape uniform.
OPTION_DEFAULTS: dict[str, Any] = {
    "protect": False,
    "retainOnDelete": False,
    "deleteBeforeReplace": False,
    "aliases": [],
    "ignoreChanges": [],
    "replaceOnChanges": [],
    "additionalSecretOutputs": [],
    "deletedWith": None,
}


def is_unknown(value: Any) -> bool:
    """True when ``value`` is Pulumi's unknown-during-preview marker."""
    return value == UNKNOWN


def is_secret(value: Any) -> bool:
    """True when ``value`` is a (redacted) Pulumi secret marker."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def secret_marker() -> dict[str, str]:
    """The redacted secret marker written in place of a secret value."""
    return {SIG_KEY: SECRET_SIG}


def urn_name(urn: str) -> str:
    """The logical name of a resource from its URN (the part after the last ``::``)."""
    return urn.rsplit("::", 1)[-1]


def urn_type(urn: str) -> str:
    """The resource type token from a URN (the last segment of the qualified type)."""
    return urn.split("::")[2].split("$")[-1]


@dataclass
class SourceRef:
    """Where in a team spec a resource came from."""

    file: str
    line: int
    #: the spec field path the component was built from, as validate names it
    field: Optional[str] = None
    #: 1-based column of the value at ``line`` (unset in plans recorded before columns were)
    column: Optional[int] = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file": self.file, "line": self.line}
        if self.column:
            data["column"] = self.column
        if self.field:
            data["field"] = self.field
        return data

    @classmethod
    def from_json(cls, source: Any) -> Optional["SourceRef"]:
        """The source recorded as a component's ``source`` input or in a saved graph; None
        when ``source`` does not have its shape."""
        if not (isinstance(source, dict) and isinstance(source.get("file"), str)
                and isinstance(source.get("line"), int)):
            return None
        field, column = source.get("field"), source.get("column")
        return cls(source["file"], source["line"], field if isinstance(field, str) else None,
                   column if isinstance(column, int) and not isinstance(column, bool) else None)


@dataclass
class GraphResource:
    """One resource of a plan, with everything a checker may need to judge it."""

    urn: str
    type: str
    name: str
    custom: bool = True
    parent: Optional[str] = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    provider: Optional[str] = None
    inputs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=lambda: dict(OPTION_DEFAULTS))
    effective_tags: Optional[dict[str, str]] = None
    source: Optional[SourceRef] = None
    #: Input paths (``a.b[0].c``) whose values a resolved plan fabricated the way AWS and
    #: pulumi-aws compute them on apply (ARNs, ids, autonames); empty in ordinary plans.
    simulated: list[str] = field(default_factory=list)

    @property
    def is_provider(self) -> bool:
        return self.type.startswith(PROVIDER_PREFIX)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "dependencies": sorted(set(self.dependencies)),
            "propertyDependencies": {
                key: sorted(set(urns)) for key, urns in sorted(self.property_dependencies.items())
            },
            "provider": self.provider,
            "inputs": self.inputs,
            "options": {key: self.options.get(key, default) for key, default in OPTION_DEFAULTS.items()},
            "source": self.source.to_json() if self.source else None,
        }
        if self.effective_tags is not None:
            data["effectiveTags"] = dict(sorted(self.effective_tags.items()))
        if self.simulated:  # only resolved plans have it, so ordinary plans stay byte-identical
            data["simulated"] = sorted(set(self.simulated))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "GraphResource":
        source = data.get("source")
        return cls(
            urn=data["urn"],
            type=data["type"],
            name=data["name"],
            custom=data.get("custom", True),
            parent=data.get("parent"),
            dependencies=list(data.get("dependencies", [])),
            property_dependencies={k: list(v) for k, v in data.get("propertyDependencies", {}).items()},
            provider=data.get("provider"),
            inputs=data.get("inputs", {}),
            options={**OPTION_DEFAULTS, **data.get("options", {})},
            effective_tags=data.get("effectiveTags"),
            source=SourceRef.from_json(source) if source else None,
            simulated=list(data.get("simulated", [])),
        )


class GraphFormatError(ValueError):
    """A file that claims to be a ResourceGraph but does not have its shape."""


@contextmanager
def element_context(collection: str, index: int, item: Any) -> Iterator[None]:
    """Turn a shape error while reading ``collection[index]`` into a message that names the
    element (and its URN when it has one) and what is wrong with it, instead of a bare
    ``KeyError: 'urn'``."""
    where = f"{collection}[{index}]"
    if isinstance(item, dict) and isinstance(item.get("urn"), str):
        where += f" ({item['urn']})"
    if not isinstance(item, dict):
        raise GraphFormatError(f"{where}: expected an object, found {type(item).__name__}")
    try:
        yield
    except GraphFormatError as exc:
        raise GraphFormatError(f"{where}: {exc}") from None
    except KeyError as exc:
        raise GraphFormatError(f"{where}: missing field {exc.args[0]!r}") from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise GraphFormatError(f"{where}: malformed: {' '.join(str(exc).split())}") from None


@dataclass
class ResourceGraph:
    """All resources of one stack's plan, keyed by URN."""

    stack: str
    project: str
    resources: dict[str, GraphResource] = field(default_factory=dict)
    #: Where the graph came from: "capture", "resolved" (capture with apply-time values
    #: simulated), "preview", "export" or "graph".
    origin: str = "capture"

    def add(self, resource: GraphResource) -> None:
        self.resources[resource.urn] = resource

    def __iter__(self) -> Iterator[GraphResource]:
        return iter(self.resources[urn] for urn in sorted(self.resources))

    def __len__(self) -> int:
        return len(self.resources)

    def get(self, urn: str) -> Optional[GraphResource]:
        return self.resources.get(urn)

    def children(self, urn: str) -> list[GraphResource]:
        return [r for r in self if r.parent == urn]

    def team_of(self, resource: "GraphResource | str | None") -> Optional[str]:
        """The team a resource (or URN) belongs to: its ``team`` tag, its nearest Team
        component, or its provider's default ``team`` tag (for untaggable resources),
        looking up the parent chain. None for platform resources.

        Every checker attributes findings to teams this one way, so an exemption or a
        CODEOWNERS route finds the same team whichever tool reported the finding."""
        from .tagging import provider_default_tags

        current = self.get(resource) if isinstance(resource, str) else resource
        while current is not None:
            tags = current.effective_tags or {}
            if tags.get("team"):
                return tags["team"]
            if current.type == TEAM:
                return current.name
            provider = self.get(current.provider) if current.provider else None
            if provider is not None:
                team = provider_default_tags(provider.inputs).get("team")
                if team:
                    return team
            current = self.get(current.parent) if current.parent else None
        return None

    def count_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for resource in self.resources.values():
            counts[resource.type] = counts.get(resource.type, 0) + 1
        return dict(sorted(counts.items()))

    def to_json(self) -> dict[str, Any]:
        data = {
            "version": GRAPH_VERSION,
            "stack": self.stack,
            "project": self.project,
            "resources": [resource.to_json() for resource in self],
        }
        if self.origin == RESOLVED:  # a saved resolved plan says so; ordinary plans are unchanged
            data["origin"] = RESOLVED
        return data

    def dumps(self) -> str:
        """Stable text: sorted keys and resources, so plans diff cleanly."""
        return json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ResourceGraph":
        if not isinstance(data, dict) or data.get("version") != GRAPH_VERSION or "resources" not in data:
            raise GraphFormatError(f"not a version {GRAPH_VERSION} ResourceGraph")
        origin = RESOLVED if data.get("origin") == RESOLVED else "graph"
        graph = cls(stack=data.get("stack", ""), project=data.get("project", ""), origin=origin)
        if not isinstance(data["resources"], list):
            raise GraphFormatError("resources is not a list")
        for index, item in enumerate(data["resources"]):
            with element_context("resources", index, item):
                graph.add(GraphResource.from_json(item))
        return graph


def resolve_sources(graph: ResourceGraph) -> None:
    """Give each resource the spec position of its nearest ancestor component.

    Our components register their spec position as a ``source`` input (see
    ``components.base``), so it is present in a capture, a preview and an export alike.
    """
    cache: dict[str, Optional[SourceRef]] = {}

    def lookup(urn: Optional[str]) -> Optional[SourceRef]:
        chain: list[str] = []
        found: Optional[SourceRef] = None
        while urn is not None:
            if urn in cache:
                found = cache[urn]
                break
            resource = graph.get(urn)
            if resource is None:
                break
            chain.append(urn)
            found = resource.source or _source_from_inputs(resource.inputs)
            if found is not None:
                break
            urn = resource.parent
        for item in chain:
            cache[item] = found
        return found

    for resource in graph.resources.values():
        if resource.source is None:
            resource.source = lookup(resource.urn)


def _source_from_inputs(inputs: dict[str, Any]) -> Optional[SourceRef]:
    return SourceRef.from_json(inputs.get("source") if isinstance(inputs, dict) else None)


def resolve_effective_tags(graph: ResourceGraph) -> None:
    """Fill ``effective_tags`` for taggable resources that do not have them yet."""
    from .tagging import effective_tags

    for resource in graph.resources.values():
        if resource.effective_tags is not None or not resource.custom:
            continue
        provider = graph.get(resource.provider) if resource.provider else None
        resource.effective_tags = effective_tags(
            resource.type, resource.inputs, provider.inputs if provider else None
        )
