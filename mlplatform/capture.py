"""Offline capture: run the real Pulumi program under Pulumi's mock runtime and record it.

No CLI and no cloud: the program (``mlplatform.estate.program.run``) executes in process against
a mock resource monitor in preview mode, exactly as Pulumi's unit-testing guide sets it
up. Our monitor subclasses the SDK's ``MockMonitor`` and records each
``RegisterResourceRequest`` as the engine would receive it: type, name, parent,
dependencies and property dependencies, provider reference, inputs (unknowns as Pulumi's
unknown marker, secrets redacted) and resource options. Stack transforms are not run by
the mock monitor; the framework does not use them (tags come from provider defaultTags),
so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from pathlib import Path
from typing import Any, Callable, Optional

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks, set_mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .gctune import quiet_collector
from .graph import (
    OPTION_DEFAULTS,
    SECRET_SIG,
    SIG_KEY,
    GraphResource,
    ResourceGraph,
    resolve_effective_tags,
    resolve_sources,
    secret_marker,
)
from .stackconfig import NAMESPACE, PROJECT_ROOT, config_values_from_stack_file, stack_file
from .type_tokens import STACK
from .yamlsafe import load_yaml


class PreviewMocks(Mocks):
    """Answers the monitor as the engine does during a preview of a new stack.

    A resource to be created has no ID yet and its outputs are its inputs; everything
    else it will compute (ARNs, IDs) is unknown until apply. Invokes have no data offline;
    the framework's program makes none.
    """

    def new_resource(self, args: MockResourceArgs) -> tuple[Optional[str], dict]:
        return "", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, plus a faithful record of every registration."""

    #: how often (in resources) :attr:`on_progress` hears of the count so far
    PROGRESS_EVERY = 200

    def __init__(self, mocks: Mocks):
        super().__init__(mocks)
        self.recorded: list[GraphResource] = []
        self._lock = threading.Lock()
        #: called with the number of resources recorded so far (a terminal's progress line)
        self.on_progress: Optional[Callable[[int], None]] = None

    def finish(self, graph: ResourceGraph) -> None:
        """Hook run on the finished graph (sources and tags resolved); nothing to add here."""

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        if request.type != STACK:
            resource = self._record(request, response.urn)
            with self._lock:
                self.recorded.append(resource)
                count = len(self.recorded)
            if self.on_progress is not None and count % self.PROGRESS_EVERY == 0:
                self.on_progress(count)
        return response

    @staticmethod
    def _record(request, urn: str) -> GraphResource:
        options = dict(OPTION_DEFAULTS)
        options.update(
            protect=request.protect if request.HasField("protect") else False,
            retainOnDelete=request.retainOnDelete if request.HasField("retainOnDelete") else False,
            deleteBeforeReplace=request.deleteBeforeReplace,
            aliases=sorted(set(request.aliasURNs) | {_alias_text(alias) for alias in request.aliases}),
            ignoreChanges=list(request.ignoreChanges),
            replaceOnChanges=list(request.replaceOnChanges),
            additionalSecretOutputs=list(request.additionalSecretOutputs),
            deletedWith=request.deletedWith or None,
        )
        return GraphResource(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=request.custom,
            parent=request.parent or None,
            dependencies=list(request.dependencies),
            property_dependencies={key: list(deps.urns) for key, deps in request.propertyDependencies.items()},
            provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
            inputs=_struct_to_json(request.object),
            options=options,
        )


def _alias_text(alias) -> str:
    if alias.urn:
        return alias.urn
    spec = alias.spec
    parts = {"name": spec.name, "type": spec.type, "project": spec.project, "stack": spec.stack, "parent": spec.parentUrn}
    if spec.noParent:
        parts["parent"] = "<root>"
    return ";".join(f"{key}={value}" for key, value in parts.items() if value)


def _struct_to_json(struct) -> dict[str, Any]:
    return {key: _value_to_json(value) for key, value in struct.fields.items()}


def _value_to_json(value) -> Any:
    """One protobuf ``Value`` as plain JSON, keeping Pulumi's markers and redacting secrets."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        fields = value.struct_value.fields
        if SIG_KEY in fields and fields[SIG_KEY].string_value == SECRET_SIG:
            return secret_marker()
        return {key: _value_to_json(item) for key, item in fields.items()}
    if kind == "list_value":
        return [_value_to_json(item) for item in value.list_value.values]
    return None


def project_name(project_root: Path = PROJECT_ROOT) -> str:
    path = project_root / "Pulumi.yaml"
    document = load_yaml(str(path), path.read_bytes())
    return str(document.data["name"])


def capture_program(
    program: Callable[[], None],
    stack: str,
    config: dict[str, str],
    project: str,
    monitor_factory: Optional[Callable[[], RecordingMonitor]] = None,
    preview: bool = True,
    origin: str = "capture",
    progress: Optional[Callable[[int], None]] = None,
) -> ResourceGraph:
    """Run ``program`` under the recording mock monitor and return what it registered.

    Each capture runs in a fresh ``contextvars`` context: the SDK keeps its settings,
    config and root stack in context variables, so captures never see each other's state.
    ``monitor_factory``, ``preview`` and ``origin`` let another mode reuse the capture
    with its own mocks (``mlplatform.verify.resolve``: apply-time values, preview off);
    the monitor's :meth:`RecordingMonitor.finish` sees the finished graph. ``progress``
    hears the count of resources registered so far, every few hundred.
    """

    def run() -> ResourceGraph:
        pulumi.runtime.set_all_config(dict(config))
        monitor = monitor_factory() if monitor_factory is not None else RecordingMonitor(PreviewMocks())
        monitor.on_progress = progress
        set_mocks(monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        _sync_await(run_pulumi_func(program))
        graph = ResourceGraph(stack=stack, project=project, origin=origin)
        for resource in monitor.recorded:
            graph.add(resource)
        resolve_sources(graph)
        resolve_effective_tags(graph)
        monitor.finish(graph)
        return graph

    # A private event loop per capture, closed afterwards, so no loop outlives the
    # capture and interpreter shutdown has nothing half-open to clean up.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with quiet_collector():
            return contextvars.Context().run(run)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def capture_stack(
    stack: str,
    teams_dir: Optional[str] = None,
    project_root: Path = PROJECT_ROOT,
    only_teams: Optional[frozenset[str]] = None,
    copied_from: Optional[tuple[Path, Path]] = None,
    specs: Optional[list] = None,
    **capture_options: Any,
) -> ResourceGraph:
    """The offline plan of ``stack``: its config from the stack file, the real program.

    ``only_teams`` restricts the plan to those teams' resources plus what the stack
    shares (see :func:`mlplatform.estate.program.run`). ``copied_from`` is ``(copy, original)``
    when the specs are a copy (e.g. exported from another git commit): spec paths are then
    recorded as they are under ``original``. ``specs``: the stack's specs, already
    loaded and checked by the caller, so the program does not read them again.
    ``capture_options`` go to :func:`capture_program` (another mode's monitor).
    """
    from .estate.program import run

    config, _ = config_values_from_stack_file(stack_file(stack, project_root))
    if teams_dir is not None:
        config[f"{NAMESPACE}:teamsDir"] = str(Path(teams_dir).resolve())
    options = {}
    if only_teams is not None:
        options["only_teams"] = frozenset(only_teams)
    if copied_from is not None:
        options["copied_from"] = (Path(copied_from[0]), Path(copied_from[1]))
    if specs is not None:
        options["specs"] = specs
    program = functools.partial(run, **options) if options else run
    return capture_program(program, stack, config, project_name(project_root), **capture_options)
