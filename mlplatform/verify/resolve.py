"""The resolved plan: the same program, with the values AWS computes on apply filled in.

An ordinary capture runs in preview mode, so every ARN, id and autoname is Pulumi's
unknown marker and every policy document that mentions one is unknown as a whole. Here
the very same capture (:func:`mlplatform.capture.capture_stack`) runs with preview off
under :class:`ApplyMocks`, which answers each registration the way the provider answers a
create: the autonames pulumi-aws would pick (:mod:`.autonaming`), the id and ARN AWS would
return in each service's documented format (:mod:`.apply_values`), with partition, region
and account taken from the resource's provider and the stack config. The SDK then resolves
outputs as on ``pulumi up``, so dependent inputs (key ARNs in bucket policies, model names
in endpoint configs, ...) become concrete.

Everything fabricated is deterministic (derived from URNs) and marked: each resource lists
in ``simulated`` the input paths holding a fabricated value (its own autoname, or a
string containing an id, ARN or name computed for a resource it depends on). The marking
errs towards "simulated": a string the program built itself that happens to equal a
dependency's fabricated ARN (a bucket ARN formed from the bucket's name) is marked too.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Optional

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from ..capture import RecordingMonitor
from ..graph import RESOLVED, ResourceGraph
from ..stackconfig import PROJECT_ROOT, StackConfig, load_stack_config
from ..type_tokens import PROVIDER_PREFIX
from .apply_values import fabricate, partition_of, urn_uuid
from .autonaming import autonames

#: Fabricated strings shorter than this are not traced into dependents' inputs ("1" as a
#: version number would match everywhere); every id and ARN is longer.
MIN_TRACED = 6


class ApplyMocks(Mocks):
    """Answers registrations as the provider answers a create on ``pulumi up``."""

    def __init__(self, stack: StackConfig):
        self.stack = stack
        self._local = threading.local()
        self._lock = threading.Lock()
        self.provider_regions: dict[str, str] = {}
        #: URN -> autonamed input properties, added to the recorded inputs afterwards
        self.autonamed: dict[str, dict[str, str]] = {}
        #: URN -> strings fabricated for that resource (ids, ARNs, names)
        self.fabricated: dict[str, frozenset[str]] = {}

    def begin(self, urn: str) -> None:
        """The URN of the registration this thread is about to answer."""
        self._local.urn = urn

    def new_resource(self, args: MockResourceArgs) -> tuple[Optional[str], dict]:
        urn = self._local.urn
        inputs = dict(args.inputs)
        if not args.custom:
            return "", inputs
        if args.typ.startswith(PROVIDER_PREFIX):
            region = inputs.get("region")
            with self._lock:
                self.provider_regions[urn] = region if isinstance(region, str) and region else self.stack.region
            return urn_uuid(urn), inputs
        names = autonames(args.typ, args.name, urn, inputs)
        inputs.update(names)
        region = inputs.get("region") if isinstance(inputs.get("region"), str) else None
        region = region or self._provider_region(args.provider)
        resource_id, outputs = fabricate(args.typ, urn, inputs, partition=partition_of(region), region=region,
                                         account=self.stack.account_id)
        given = {value for value in args.inputs.values() if isinstance(value, str)}
        made = {value for value in [resource_id, *names.values(), *outputs.values()]
                if isinstance(value, str) and len(value) >= MIN_TRACED and value not in given}
        with self._lock:
            if names:
                self.autonamed[urn] = names
            self.fabricated[urn] = frozenset(made)
        return resource_id, {**inputs, **outputs}

    def _provider_region(self, reference: Optional[str]) -> str:
        if reference:
            provider_urn = reference.rsplit("::", 1)[0]
            region = self.provider_regions.get(provider_urn)
            if region:
                return region
        return self.stack.region

    def call(self, args: MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        return {}, None


class ResolvingMonitor(RecordingMonitor):
    """The recording monitor, telling the mocks which URN each registration gets and,
    at the end, writing autonames into the inputs and marking simulated paths."""

    mocks: ApplyMocks

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        self.mocks.begin(self.make_urn(request.parent, request.type, request.name))
        return super().RegisterResource(request)

    def finish(self, graph: ResourceGraph) -> None:
        mark_simulated(graph, self.mocks.autonamed, self.mocks.fabricated)


def mark_simulated(graph: ResourceGraph, autonamed: dict[str, dict[str, str]],
                   fabricated: dict[str, frozenset[str]]) -> None:
    """Add each resource's autonames to its inputs and list every simulated input path."""
    for resource in graph.resources.values():
        paths: list[str] = []
        for prop, name in autonamed.get(resource.urn, {}).items():
            resource.inputs[prop] = name
            paths.append(prop)
        for prop, dependencies in resource.property_dependencies.items():
            made = [value for dependency in dependencies for value in fabricated.get(dependency, ())]
            if made and prop in resource.inputs:
                _trace(resource.inputs[prop], prop, made, paths)
        if paths:
            resource.simulated = sorted(set(paths))


def _trace(value: Any, path: str, made: list[str], paths: list[str]) -> None:
    if isinstance(value, str):
        if any(item in value for item in made):
            paths.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _trace(item, f"{path}.{key}", made, paths)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _trace(item, f"{path}[{index}]", made, paths)


def capture_resolved(
    stack: str,
    teams_dir: Optional[str] = None,
    project_root: Path = PROJECT_ROOT,
    only_teams: Optional[frozenset[str]] = None,
    specs: Optional[list] = None,
    stack_config: Optional[StackConfig] = None,
    progress: Optional[Callable[[int], None]] = None,
) -> ResourceGraph:
    """The resolved plan of ``stack``: :func:`mlplatform.capture.capture_stack` with
    preview off under :class:`ApplyMocks`; its ``origin`` is ``"resolved"``."""
    from ..capture import capture_stack

    config = stack_config or load_stack_config(stack, project_root, teams_dir=teams_dir)
    return capture_stack(
        stack, teams_dir=teams_dir, project_root=project_root, only_teams=only_teams, specs=specs,
        monitor_factory=lambda: ResolvingMonitor(ApplyMocks(config)), preview=False, origin=RESOLVED,
        progress=progress,
    )
