"""Attribution: whose cost a resource is, and which spec entry its usage comes from.

A resource belongs to the team whose ``mlplatform:team:Team`` component it sits under (or
the ``team`` tag), to the platform when it sits under the stack's shared estate, else to
no team; its component is the nearest named component above it. Its usage (load,
instance ranges, storage) comes from the spec entry it was built from, matched through
the ``source`` position its component records, else by the entry's name in the
resource's name. :func:`load_team_contexts` finds and reads each team's spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..errors import SpecError
from ..graph import GraphResource, ResourceGraph
from ..spec.loader import LoadedSpec, load_spec_file
from ..spec.models import Endpoint, FeatureGroup, TeamSpec, TrainingQueue
from ..stackconfig import PROJECT_ROOT
from ..type_tokens import (
    ANOMALY_DETECTION, BATCH_COMPUTE_ENVIRONMENT, FOUNDATION, KUEUE_CLUSTER, SAGEMAKER_ENDPOINT_CONFIGURATION,
    SAGEMAKER_FEATURE_GROUP, TEAM)

#: components that hold the stack's shared estate outside any team (the foundation, the stack's
#: anomaly detection and the Kueue cluster, one each per stack): billed to the platform
PLATFORM_COMPONENTS = {FOUNDATION, ANOMALY_DETECTION, KUEUE_CLUSTER}
UNASSIGNED = "(no team)"

KUEUE_QUEUE_MARK = "kueue.x-k8s.io"
#: which spec section a resource type's usage comes from, when matched by name
SECTION_OF_TYPE = {
    SAGEMAKER_ENDPOINT_CONFIGURATION: "endpoints",
    BATCH_COMPUTE_ENVIRONMENT: "queues",
    SAGEMAKER_FEATURE_GROUP: "featureGroups",
}



@dataclass
class TeamUsageContext:
    """What the engine knows about one team: its spec as this environment deploys it."""

    team: str
    spec: Optional[TeamSpec]
    entity_at_line: dict[int, tuple[str, int]] = field(default_factory=dict)

    #: the graph, to read a resource's parent component names (set by price_graph)
    graph: Optional[ResourceGraph] = None

    def entity(self, resource: GraphResource) -> Optional[tuple[str, int]]:
        """The spec entry a resource was built from: by the spec line its component
        records, else by the entry's name appearing in the resource's or its component's
        name (for components that record a more specific line)."""
        if resource.source is not None and resource.source.line in self.entity_at_line:
            return self.entity_at_line[resource.source.line]
        return self._by_name(resource)

    def _by_name(self, resource: GraphResource) -> Optional[tuple[str, int]]:
        if self.spec is None:
            return None
        section = SECTION_OF_TYPE.get(resource.type)
        if section is None and KUEUE_QUEUE_MARK in resource.type:
            section = "queues"
        if section is None:
            return None
        entries = {"endpoints": self.spec.spec.endpoints, "featureGroups": self.spec.spec.feature_groups,
                   "queues": self.spec.spec.training.queues}[section]
        names = [resource.name]
        parent = self.graph.get(resource.parent) if self.graph is not None and resource.parent else None
        if parent is not None and not parent.custom:
            names.append(parent.name)
        found = None
        for index, entry in enumerate(entries):
            pattern = re.compile(rf"(^|-){re.escape(entry.name)}(-|$)")
            if any(pattern.search(name) for name in names):
                if found is None or len(entry.name) > len(entries[found].name):
                    found = index
        return (section, found) if found is not None else None

    def endpoint(self, resource: GraphResource) -> Optional[Endpoint]:
        found = self.entity(resource)
        if self.spec is None or not found or found[0] != "endpoints":
            return None
        return self.spec.spec.endpoints[found[1]]

    def feature_group(self, resource: GraphResource) -> Optional[FeatureGroup]:
        found = self.entity(resource)
        if self.spec is None or not found or found[0] != "featureGroups":
            return None
        return self.spec.spec.feature_groups[found[1]]

    def queue(self, resource: GraphResource) -> Optional[TrainingQueue]:
        found = self.entity(resource)
        if self.spec is None or not found or found[0] != "queues":
            return None
        return self.spec.spec.training.queues[found[1]]

    def is_artifacts(self, resource: GraphResource) -> bool:
        found = self.entity(resource)
        return bool(found and found[0] == "artifacts")


def spec_context(loaded: LoadedSpec, environment: str) -> TeamUsageContext:
    """Map the spec lines components record as ``source`` back to the spec entries."""
    spec = loaded.for_environment(environment)
    lines: dict[int, tuple[str, int]] = {}
    base = loaded.spec.spec
    for index in range(len(base.endpoints)):
        lines[loaded.line_of(("spec", "endpoints", index))] = ("endpoints", index)
    for index in range(len(base.feature_groups)):
        lines[loaded.line_of(("spec", "featureGroups", index))] = ("featureGroups", index)
    for index in range(len(base.training.queues)):
        lines[loaded.line_of(("spec", "training", "queues", index))] = ("queues", index)
    # ArtifactStore records ("spec", "artifacts"): the section's line, or the nearest
    # written ancestor when the spec leaves the section out, exactly as the component does
    lines.setdefault(loaded.line_of(("spec", "artifacts")), ("artifacts", 0))
    return TeamUsageContext(loaded.team, spec, lines)



def team_and_component(graph: ResourceGraph, resource: GraphResource) -> tuple[str, str]:
    team = (resource.effective_tags or {}).get("team")
    component = None
    urn = resource.parent
    while urn is not None:
        parent = graph.get(urn)
        if parent is None:
            break
        if parent.type == TEAM:
            team = team or parent.name
            break
        if parent.type in PLATFORM_COMPONENTS:  # the stack's shared estate, billed to the platform
            from components.foundation import PLATFORM_TEAM

            team = team or PLATFORM_TEAM
            component = component or parent.name
            break
        if component is None and not parent.custom:
            component = parent.name
        urn = parent.parent
    team = team or UNASSIGNED
    return team, component or team


def load_team_contexts(graph: ResourceGraph, environment: str, teams_dir: Optional[str] = None,
                       project_root: Path = PROJECT_ROOT) -> tuple[dict[str, TeamUsageContext], list[str]]:
    """Specs of the teams in ``graph``, found through the ``spec`` tag / source file of
    their resources (project-relative), or in ``teams_dir`` when given."""
    warnings: list[str] = []
    # Team components name their spec; resources outside any team (the stack's shared
    # foundation, tagged with the stack file) have no team spec to read usage from.
    files: dict[str, str] = {
        resource.name: resource.source.file
        for resource in graph.resources.values()
        if resource.type == TEAM and resource.source is not None
    }
    if not files:  # a graph without components (e.g. a trimmed export): fall back to tags
        for resource in graph.resources.values():
            tags = resource.effective_tags or {}
            file = tags.get("spec") or (resource.source.file if resource.source else None)
            if tags.get("team") and file:
                files.setdefault(tags["team"], file)
    contexts: dict[str, TeamUsageContext] = {}
    loaded_by_team: dict[str, LoadedSpec] = {}
    if teams_dir:
        from ..spec.loader import load_specs

        result = load_specs([teams_dir])
        if result.issues:
            raise SpecError(result.issues)
        loaded_by_team = {loaded.team: loaded for loaded in result.specs}
    for team, file in sorted(files.items()):
        loaded = loaded_by_team.get(team)
        if loaded is None:
            path = Path(file) if Path(file).is_absolute() else project_root / file
            if not path.is_file():
                warnings.append(f"{team}: spec {file} not found; usage defaults apply")
                contexts[team] = TeamUsageContext(team, None)
                continue
            loaded = load_spec_file(path)
        contexts[team] = spec_context(loaded, environment)
    return contexts, warnings

