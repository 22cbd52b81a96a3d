"""Turn what the Pulumi CLI writes into a ResourceGraph.

Two real-world sources complement our offline capture: ``pulumi stack export`` (what is
deployed) and ``pulumi preview --json`` (what the next ``up`` would deploy). Both carry
resources as the engine's ``ResourceV3`` records, so one conversion,
:func:`resource_from_state`, serves both, and :func:`load_graph` accepts any of the three
files so every command can be pointed at whichever the user has.

Both readers leave out what our capture never records: the root ``pulumi:pulumi:Stack``
resource, states that are only waiting to be deleted, and the Terraform bridge's
``__defaults`` bookkeeping in inputs. Secret values never enter the graph; only the secret
marker does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Union

from .graph import (
    OPTION_DEFAULTS,
    SIG_KEY,
    GraphFormatError,
    GraphResource,
    ResourceGraph,
    element_context,
    is_secret,
    resolve_effective_tags,
    resolve_sources,
    secret_marker,
    urn_name,
)
from .type_tokens import STACK

#: ``preview --json`` writes every secret as this string (the CLI's ``MassageSecrets``).
PREVIEW_SECRET = "[secret]"

#: Key the Terraform bridge adds to inputs (at any depth) to record which values it defaulted.
BRIDGE_DEFAULTS_KEY = "__defaults"

#: Preview steps whose resource is gone from the stack once the plan is applied.
REMOVING_OPS = frozenset({"delete", "delete-replaced", "discard", "discard-replaced", "read-discard"})


def resource_from_state(state: dict[str, Any]) -> GraphResource:
    """One ``ResourceV3`` record (a checkpoint resource or a preview step's state)."""
    urn = state["urn"]
    return GraphResource(
        urn=urn,
        type=state["type"],
        name=urn_name(urn),
        custom=bool(state.get("custom", False)),  # the CLI always writes it; absent reads as a component
        parent=state.get("parent") or None,
        dependencies=list(state.get("dependencies") or []),
        property_dependencies={
            key: list(urns or []) for key, urns in (state.get("propertyDependencies") or {}).items()
        },
        provider=provider_urn(state.get("provider")),
        inputs=redact_secrets(strip_bridge_defaults(state.get("inputs") or {})),
        options=_options(state),
        effective_tags=_tags_all(state.get("outputs")),
    )


def provider_urn(reference: Optional[str]) -> Optional[str]:
    """The URN of a provider reference ``<provider URN>::<provider id>``.

    The id changes whenever the provider is replaced and is unknown while a new one is
    previewed, so only the URN identifies the provider across graphs.
    """
    return reference.rsplit("::", 1)[0] if reference else None


def strip_bridge_defaults(value: Any) -> Any:
    """``value`` without the bridge's ``__defaults`` keys, at every nesting level.

    They are bookkeeping of the Terraform bridge, not properties of the resource, and our
    offline capture never has them: kept, every capture-vs-export diff would show them.
    Secrets, assets and archives are left alone (their contents are not inputs).
    """
    if isinstance(value, dict):
        if SIG_KEY in value:
            return value
        return {key: strip_bridge_defaults(item) for key, item in value.items() if key != BRIDGE_DEFAULTS_KEY}
    if isinstance(value, list):
        return [strip_bridge_defaults(item) for item in value]
    return value


def redact_secrets(value: Any) -> Any:
    """``value`` with each secret (ciphertext or plaintext) replaced by the bare marker.

    Assets and archives share the signature key but are not secrets; they are kept whole.
    """
    if isinstance(value, dict):
        if is_secret(value):
            return secret_marker()
        if SIG_KEY in value:
            return value
        return {key: redact_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    return value


def _options(state: dict[str, Any]) -> dict[str, Any]:
    """Resource options as recorded in the state; the engine omits those left at default."""
    options: dict[str, Any] = {}
    for key, default in OPTION_DEFAULTS.items():
        value = state.get(key)
        if value is None or value == "":
            value = default
        options[key] = list(value) if isinstance(default, list) else value
    return options


def _tags_all(outputs: Any) -> Optional[dict[str, Any]]:
    """``tagsAll`` as AWS reported it: the tags the resource really carries."""
    tags = outputs.get("tagsAll") if isinstance(outputs, dict) else None
    return redact_secrets(tags) if isinstance(tags, dict) else None


def read_stack_export(data: dict[str, Any], stack: str = "", project: str = "") -> ResourceGraph:
    """The graph of a deployed stack, from ``pulumi stack export`` output."""
    deployment = data.get("deployment")
    if not isinstance(deployment, dict):
        raise GraphFormatError("not a stack export: no deployment object")
    states = deployment.get("resources") or []  # omitted for a stack with no resources
    if not isinstance(states, list):
        raise GraphFormatError("not a stack export: deployment.resources is not a list")
    labelled = [("deployment.resources", index, state) for index, state in enumerate(states)]
    return _build_graph(labelled, _first_urn(states), stack, project, origin="export")


def read_preview(data: dict[str, Any], stack: str = "", project: str = "") -> ResourceGraph:
    """The planned graph, from ``pulumi preview --json`` output.

    Each step's ``newState`` is the resource as it will be; steps that remove a resource
    contribute nothing. The CLI lists unchanged resources only with ``--show-sames``, so a
    preview taken without it yields just the changed part of the stack.
    """
    steps = data.get("steps") or []
    if not isinstance(steps, list):
        raise GraphFormatError("not a preview: steps is not a list")
    states = []
    for index, step in enumerate(steps):
        with element_context("steps", index, step):
            state = _planned_state(step)
            if state is not None:
                state["urn"] = state.get("urn") or step["urn"]
                states.append(("steps", index, state))
    return _build_graph(states, _first_urn(steps), stack, project, origin="preview")


def _planned_state(step: dict[str, Any]) -> Optional[dict[str, Any]]:
    """A step's ``newState`` in checkpoint form, or None if the step removes the resource."""
    new_state = step.get("newState")
    if step.get("op") in REMOVING_OPS or not isinstance(new_state, dict):
        return None
    state = dict(new_state)
    state["inputs"] = _unblind(new_state.get("inputs") or {})
    state["outputs"] = _unblind(new_state.get("outputs") or {})
    state["provider"] = new_state.get("provider") or step.get("provider")
    return state


def _unblind(value: Any) -> Any:
    """Turn preview's ``"[secret]"`` strings back into the secret marker.

    Without this a blinded secret would look like an ordinary string to the policies that
    check an input is kept secret.
    """
    if value == PREVIEW_SECRET:
        return secret_marker()
    if isinstance(value, dict):
        return {key: _unblind(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unblind(item) for item in value]
    return value


def _first_urn(items: Iterable[Any]) -> Optional[str]:
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("urn"), str):
            return item["urn"]
    return None


def _build_graph(
    states: list[tuple[str, int, Any]], first_urn: Optional[str], stack: str, project: str, origin: str
) -> ResourceGraph:
    """``states``: (collection, index, state) as they sit in the file, so a malformed one is named."""
    if first_urn and not (stack and project):
        urn_stack, urn_project = stack_and_project(first_urn)
        stack, project = stack or urn_stack, project or urn_project
    graph = ResourceGraph(stack=stack, project=project, origin=origin)
    for collection, index, state in states:
        with element_context(collection, index, state):
            if state.get("type") == STACK or state.get("delete"):
                continue
            graph.add(resource_from_state(state))
    resolve_sources(graph)
    resolve_effective_tags(graph)
    return graph


def stack_and_project(urn: str) -> tuple[str, str]:
    """Stack and project names from ``urn:pulumi:<stack>::<project>::<type>::<name>``."""
    parts = urn.split("::")
    if not parts[0].startswith("urn:pulumi:") or len(parts) < 4:
        raise GraphFormatError(f"not a Pulumi URN: {urn!r}")
    return parts[0][len("urn:pulumi:") :], parts[1]


Reader = Callable[[dict[str, Any]], ResourceGraph]


def _detect(data: Any) -> Optional[tuple[str, Reader]]:
    """Which format ``data`` is in, by the top-level key only that format has."""
    if not isinstance(data, dict):
        return None
    if "resources" in data:
        return "ResourceGraph", ResourceGraph.from_json
    if "deployment" in data:
        return "stack export", read_stack_export
    if "steps" in data or "changeSummary" in data:  # "steps" is omitted when empty
        return "preview", read_preview
    return None


def load_graph(path: Union[str, Path]) -> ResourceGraph:
    """Read our graph, a stack export or a preview from ``path``, whichever it holds.

    Every failure is a :class:`GraphFormatError` with a one-line ``FILE:LINE:COL: error:``
    message, like the spec errors, so the CLI can print it as is.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise GraphFormatError(f"{path}: error: cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise GraphFormatError(f"{path}: error: not UTF-8 text: {exc.reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphFormatError(f"{path}:{exc.lineno}:{exc.colno}: error: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise GraphFormatError(f"{path}:1:1: error: JSON nested too deeply to be a plan "
                               f"(more than {sys.getrecursionlimit()} levels)") from None
    detected = _detect(data)
    if detected is None:
        raise GraphFormatError(f"{path}:1:1: error: not a ResourceGraph, stack export or preview JSON")
    kind, reader = detected
    try:
        return reader(data)
    except GraphFormatError as exc:
        raise GraphFormatError(f"{path}:1:1: error: {exc}") from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise GraphFormatError(f"{path}:1:1: error: malformed {kind}: {type(exc).__name__}: {exc}") from None
