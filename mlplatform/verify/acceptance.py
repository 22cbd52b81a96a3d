"""AWS acceptance: would the AWS API accept each planned input value?

Every AWS type of the plan is mapped (``aws_api_map.json``) to the API operation that
creates it and each Pulumi input path to the API member that receives the value. Each
value is checked against botocore's service model of that member, which is AWS's own
description of its API: string length, pattern and enum, numeric range, list size. The
resolved plan makes the values concrete (autonames, ARNs); an unknown value (a plan that
was not resolved) is counted as not checked, never passed.

A type neither mapped nor listed as not checkable, a mapping that names no member of the
model, or a missing botocore service or operation stops the check with a one-line error
(exit 2): a gap in what we check is never a silent pass.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from ..errors import UsageError
from ..graph import GraphResource, ResourceGraph, is_secret, is_unknown
from ..reports.findings import FAILED, MANDATORY, PASSED, CheckResult, Rule
from ..stackconfig import StackConfig

try:  # botocore's patterns are Java regexes (\p{...} classes); `regex` reads them, `re` mostly
    import regex as _regex
except ImportError:  # pragma: no cover - regex ships with the project's environment
    _regex = None

MAP_FILE = Path(__file__).with_name("aws_api_map.json")

RULES = {
    "length": Rule("MLP-AWS-001", "AWS accepts the value's length",
                   "The value's length is within the API member's min/max in AWS's service model (botocore).",
                   "Shorten the value (a name: shorten its parts in the spec, or give the resource an explicit, "
                   "bounded name)."),
    "pattern": Rule("MLP-AWS-002", "AWS accepts the value's characters",
                    "The value matches the API member's pattern in AWS's service model (botocore).",
                    "Use only the characters the pattern allows (see the message)."),
    "enum": Rule("MLP-AWS-003", "AWS knows the value",
                 "The value is one of the API member's enum values in AWS's service model (botocore).",
                 "Use one of the values the message lists."),
    "range": Rule("MLP-AWS-004", "AWS accepts the number",
                  "The number is within the API member's min/max in AWS's service model (botocore).",
                  "Bring the number within the range the message gives."),
    "size": Rule("MLP-AWS-005", "AWS accepts the list's size",
                 "The list has at most/at least the number of items the API member allows.",
                 "Remove or add items as the message says."),
}


class AcceptanceError(UsageError):
    """The check itself cannot run as asked (exit 2): unmapped type, bad map, missing model."""


@dataclass(frozen=True)
class Constraint:
    """One API member's limits, from botocore (or documented where botocore has none)."""

    api_path: str
    type_name: str
    min: Optional[float] = None
    max: Optional[float] = None
    pattern: Optional[str] = None
    enum: tuple[str, ...] = ()
    source: str = "botocore"


@dataclass(frozen=True)
class FieldCheck:
    pulumi_path: tuple[tuple[str, str], ...]  # (key, suffix) segments; suffix "", "[]", "{}", "{key}"
    text: str
    constraint: Constraint


@dataclass
class ApiMap:
    types: dict[str, dict[str, Any]]
    unchecked: dict[str, str]
    unchecked_prefixes: dict[str, str]

    def reason_unchecked(self, type_token: str) -> Optional[str]:
        if type_token in self.unchecked:
            return self.unchecked[type_token]
        for prefix, reason in self.unchecked_prefixes.items():
            if type_token.startswith(prefix):
                return reason
        return None


@functools.lru_cache(maxsize=4)
def load_map(path: str = str(MAP_FILE)) -> ApiMap:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return ApiMap(types=data["types"], unchecked=data.get("unchecked", {}),
                      unchecked_prefixes=data.get("uncheckedPrefixes", {}))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AcceptanceError(f"{path}: error: cannot read the AWS API map: {exc}") from None


_SEGMENT = re.compile(r"^([^\[\]{}]+)(\[\]|\{\}|\{key\})?$")


def parse_path(text: str) -> tuple[tuple[str, str], ...]:
    segments = []
    for part in text.split("."):
        match = _SEGMENT.match(part)
        if not match:
            raise AcceptanceError(f"{MAP_FILE.name}: error: bad path segment {part!r} in {text!r}")
        segments.append((match.group(1), match.group(2) or ""))
    return tuple(segments)


@functools.lru_cache(maxsize=None)
def _service_model(service: str):
    import botocore.exceptions
    import botocore.session

    try:
        return botocore.session.get_session().get_service_model(service)
    except botocore.exceptions.UnknownServiceError:
        raise AcceptanceError(f"botocore has no service model '{service}' (botocore "
                              f"{_botocore_version()}): cannot check AWS acceptance") from None


def _botocore_version() -> str:
    import botocore

    return botocore.__version__


def _operation(service: str, operation: str):
    from botocore.model import OperationNotFoundError

    try:
        return _service_model(service).operation_model(operation)
    except OperationNotFoundError:
        raise AcceptanceError(f"botocore's '{service}' model has no operation '{operation}' "
                              f"(botocore {_botocore_version()})") from None


def resolve_member(service: str, default_operation: str, api_path: str) -> Constraint:
    """The botocore shape ``api_path`` names, as a :class:`Constraint`."""
    operation, _, member_path = api_path.rpartition(":")
    shape = _operation(service, operation or default_operation).input_shape
    for key, suffix in parse_path(member_path):
        if shape.type_name != "structure" or key not in shape.members:
            raise AcceptanceError(f"{MAP_FILE.name}: error: {service} {operation or default_operation}: "
                                  f"no member '{key}' on the way to {api_path!r}")
        shape = shape.members[key]
        if suffix == "[]":
            if shape.type_name != "list":
                raise AcceptanceError(f"{MAP_FILE.name}: error: {api_path!r}: '{key}' is not a list")
            shape = shape.member
        elif suffix in ("{}", "{key}"):
            if shape.type_name != "map":
                raise AcceptanceError(f"{MAP_FILE.name}: error: {api_path!r}: '{key}' is not a map")
            shape = shape.value if suffix == "{}" else shape.key
    metadata = shape.metadata
    return Constraint(api_path=f"{service}:{operation or default_operation}:{member_path}", type_name=shape.type_name,
                      min=metadata.get("min"), max=metadata.get("max"), pattern=metadata.get("pattern"),
                      enum=tuple(getattr(shape, "enum", None) or ()))


@functools.lru_cache(maxsize=None)
def field_checks(type_token: str, map_path: str = str(MAP_FILE)) -> tuple[FieldCheck, ...]:
    """Every (Pulumi path, constraint) pair of a mapped type, resolved once."""
    entry = load_map(map_path).types[type_token]
    checks = []
    for pulumi_path, api_path in sorted(entry.get("fields", {}).items()):
        constraint = resolve_member(entry["service"], entry["operation"], api_path)
        checks.append(FieldCheck(parse_path(pulumi_path), pulumi_path, constraint))
    for pulumi_path, limits in sorted(entry.get("documented", {}).items()):
        constraint = Constraint(api_path=f"{entry['service']}:{entry['operation']}:{pulumi_path}", type_name="string",
                                min=limits.get("min"), max=limits.get("max"), pattern=limits.get("pattern"),
                                enum=tuple(limits.get("enum", ())), source=limits.get("source", "documented"))
        checks.append(FieldCheck(parse_path(pulumi_path), pulumi_path, constraint))
    return tuple(checks)


def values_at(data: Any, segments: tuple[tuple[str, str], ...], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(concrete path, value)`` for every value a Pulumi path reaches in ``data``."""
    if not segments:
        yield prefix, data
        return
    (key, suffix), rest = segments[0], segments[1:]
    if not isinstance(data, dict) or key not in data or data[key] is None:
        return
    value, path = data[key], f"{prefix}.{key}" if prefix else key
    if suffix == "[]":
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from values_at(item, rest, f"{path}[{index}]") if rest else iter([(f"{path}[{index}]", item)])
    elif suffix == "{}":
        if isinstance(value, dict):
            for name, item in value.items():
                yield from values_at(item, rest, f"{path}.{name}") if rest else iter([(f"{path}.{name}", item)])
    elif suffix == "{key}":
        if isinstance(value, dict):
            for name in value:
                yield f"{path}{{{name}}}", name
    else:
        yield from values_at(value, rest, path)


#: Java pattern syntax that neither engine reads, with its Python equivalent: a surrogate
#: pair range (Java matches code points above U+FFFF through UTF-16 pairs).
_JAVA_TO_PYTHON = ((r"\uD800\uDC00-\uDBFF\uDFFF", r"\U00010000-\U0010FFFF"),)


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str):
    for java, python in _JAVA_TO_PYTHON:
        pattern = pattern.replace(java, python)
    try:
        return (_regex or re).compile(pattern)
    except Exception:  # noqa: BLE001 - a Java construct neither engine reads
        return None


def violations(value: Any, constraint: Constraint) -> list[tuple[str, str]]:
    """``(kind, text)`` for each way ``value`` breaks ``constraint`` (empty: accepted)."""
    kind = constraint.type_name
    problems: list[tuple[str, str]] = []
    if kind == "string":
        text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        if constraint.min is not None and len(text) < constraint.min:
            problems.append(("length", f"{len(text)} characters, at least {constraint.min:g} required"))
        if constraint.max is not None and len(text) > constraint.max:
            problems.append(("length", f"{len(text)} characters, at most {constraint.max:g} allowed"))
        if constraint.enum and text not in constraint.enum:
            problems.append(("enum", f"not one of {', '.join(constraint.enum[:12])}"
                                     + (" ..." if len(constraint.enum) > 12 else "")))
        if constraint.pattern and text:
            compiled = _compiled(constraint.pattern)
            if compiled is not None and compiled.fullmatch(text) is None:
                problems.append(("pattern", f"does not match {constraint.pattern}"))
    elif kind in ("integer", "long", "float", "double"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return [("range", f"not a number: {value!r}")]
        if constraint.min is not None and number < constraint.min:
            problems.append(("range", f"{number:g} is below the minimum {constraint.min:g}"))
        if constraint.max is not None and number > constraint.max:
            problems.append(("range", f"{number:g} is above the maximum {constraint.max:g}"))
    elif kind == "list" and isinstance(value, list):
        if constraint.min is not None and len(value) < constraint.min:
            problems.append(("size", f"{len(value)} item(s), at least {constraint.min:g} required"))
        if constraint.max is not None and len(value) > constraint.max:
            problems.append(("size", f"{len(value)} item(s), at most {constraint.max:g} allowed"))
    return problems


@dataclass
class AcceptanceRun:
    results: list[CheckResult] = field(default_factory=list)
    values_checked: int = 0
    unknown_values: int = 0
    unchecked_patterns: set[str] = field(default_factory=set)
    types_checked: set[str] = field(default_factory=set)


def check(graph: ResourceGraph, stack: StackConfig, map_path: str = str(MAP_FILE)) -> list[CheckResult]:
    """The acceptance checker (registered in :mod:`.checkers`)."""
    return run(graph, map_path).results


def run(graph: ResourceGraph, map_path: str = str(MAP_FILE)) -> AcceptanceRun:
    api_map = load_map(map_path)
    unmapped = sorted({r.type for r in graph.resources.values()
                       if r.type not in api_map.types and api_map.reason_unchecked(r.type) is None})
    if unmapped:
        raise AcceptanceError(f"{Path(map_path).name}: error: resource type(s) neither mapped to an AWS API "
                              f"operation nor listed as not checkable: {', '.join(unmapped)}")
    outcome = AcceptanceRun()
    failing: set[str] = set()
    for resource in graph:
        if resource.type not in api_map.types:
            continue
        outcome.types_checked.add(resource.type)
        for check_ in field_checks(resource.type, map_path):
            for path, value in values_at(resource.inputs, check_.pulumi_path):
                if value is None or is_secret(value):
                    continue
                if is_unknown(value):
                    outcome.unknown_values += 1
                    continue
                outcome.values_checked += 1
                if check_.constraint.pattern and _compiled(check_.constraint.pattern) is None:
                    outcome.unchecked_patterns.add(check_.constraint.pattern)
                for kind, text in violations(value, check_.constraint):
                    failing.add(kind)
                    outcome.results.append(_finding(resource, kind, path, value, check_, text))
    for kind, rule in RULES.items():
        if kind not in failing:
            outcome.results.append(CheckResult(rule=rule, status=PASSED, enforcement=MANDATORY))
    return outcome


def _finding(resource: GraphResource, kind: str, path: str, value: Any, check_: FieldCheck, text: str) -> CheckResult:
    shown = value if isinstance(value, str) else json.dumps(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    simulated = " (value simulated as AWS/pulumi-aws would compute it)" if _simulated(resource, path) else ""
    source = "" if check_.constraint.source == "botocore" else f" [{check_.constraint.source}]"
    message = (f"{path} = {shown!r}{simulated} -> {check_.constraint.api_path}: {text}{source}")
    return CheckResult(
        rule=RULES[kind], status=FAILED, enforcement=MANDATORY, message=message, urn=resource.urn,
        resource_type=resource.type, resource_name=resource.name,
        file=resource.source.file if resource.source else None,
        line=resource.source.line if resource.source else None,
        team=(resource.effective_tags or {}).get("team"),
    )


def _simulated(resource: GraphResource, path: str) -> bool:
    return any(path == item or path.startswith(item + ".") or path.startswith(item + "[")
               for item in resource.simulated)
