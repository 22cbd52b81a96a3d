"""What every rule of the pack shares: its metadata, how it becomes a pulumi-policy
Policy, how it reads properties, config, team facts and exemptions.

Rules are plain functions ``check(ctx, report)``, declared where they are written with the
keyword decorator :func:`rule` (id, name, description, severity, remediation, level ...),
which records them in :data:`REGISTRY`; each id prefix has its own module
(``MLP-S3-*`` in ``s3.py``, ``MLP-BUD-*`` in ``bud.py`` ...). :func:`to_policy` wraps a rule
into a ``ResourceValidationPolicy`` or ``StackValidationPolicy`` whose name is the rule id,
so the id is what the engine (and ``mlp policy``) see in every diagnostic.

Unknown values (computed during preview) reach rules through pulumi-policy's
unknown-checking proxy: reading one through ``ctx.props`` raises, and the SDK turns that
into an advisory "can't run during preview" diagnostic (the rule is deferred to ``pulumi
up``, never passed). A rule that only needs to know whether a value is *set* (for
example "a KMS key is configured") uses :func:`peek`, which returns :data:`UNKNOWN`
instead of raising; each rule documents what an unknown means for it.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional

from mlplatform.exemptions import exemption_problem
from mlplatform.spec.base import DATA_CLASSIFICATIONS
from mlplatform.type_tokens import TEAM
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

#: The engine's unknown marker (pulumi's ``UnknownStringValue``) as it reaches the pack.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

#: Rule levels: mandatory everywhere, mandatory in production (advisory elsewhere), advisory
#: (defined with the spec-decided guardrails, which validate judges by the same levels).
from mlplatform.guardrails import ADVISORY, MANDATORY, PROD  # noqa: E402,F401  (re-exported to the rule modules)

_SEVERITY = {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "critical": Severity.CRITICAL}

#: Config every rule accepts (the runner passes them; defaults suit a production stack).
COMMON_SCHEMA: dict[str, dict[str, Any]] = {
    "environment": {"type": "string", "default": "prod", "description": "Environment of the stack analysed."},
    "exemptions": {
        "type": "array",
        "default": [],
        "description": "Approved exemptions for this rule: team, resource (logical name, absent = whole team), "
                       "reason, approvedBy, expires (YYYY-MM-DD). Only unexpired, complete ones are honoured.",
        "items": {
            "type": "object",
            "required": ["team", "rule", "reason", "approvedBy", "expires"],
            "properties": {
                "team": {"type": "string"}, "rule": {"type": "string"}, "resource": {"type": ["string", "null"]},
                "reason": {"type": "string"}, "approvedBy": {"type": "string"}, "expires": {"type": "string"},
            },
        },
    },
    "today": {"type": "string", "description": "Date exemptions are judged on (YYYY-MM-DD); unset: the clock."},
}

#: Team facts from the specs (risk tier, residency, classification), for rules that need them.
TEAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "default": {},
    "description": "Facts of each team from its spec: riskTier, residency, dataClassification.",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "riskTier": {"enum": ["low", "medium", "high"]},
            "residency": {"type": "string"},
            "dataClassification": {"enum": list(DATA_CLASSIFICATIONS)},
        },
    },
}


#: A rule's judgement: reads the resource (or stack) through the context, calls ``report``
#: with a message (and, for stack rules, the URN at fault) for every violation.
Check = Callable[["Context", Callable[..., None]], None]


@dataclass(frozen=True)
class Rule:
    """One guardrail: stable id, metadata and the function that judges it."""

    id: str
    name: str
    description: str
    severity: str
    remediation: str
    level: str  # MANDATORY, PROD or ADVISORY
    check: Check
    stack: bool = False
    types: Optional[tuple[str, ...]] = None  # resource rules: only these type tokens
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    concern: str = ""

    @property
    def default_enforcement(self) -> EnforcementLevel:
        """Without stack config the pack is strict: P rules are mandatory (safe default)."""
        return EnforcementLevel.ADVISORY if self.level == ADVISORY else EnforcementLevel.MANDATORY

    def schema(self) -> dict[str, dict[str, Any]]:
        return {**COMMON_SCHEMA, **self.config}


#: Every rule declared with :func:`rule`, by id, in declaration order (the order the package
#: ``rules`` imports its modules in, then the order of the checks within a module).
REGISTRY: dict[str, Rule] = {}


def rule(*, id: str, name: str, description: str, severity: str, remediation: str, level: str,
         stack: bool = False, types: Optional[tuple[str, ...]] = None,
         config: Optional[dict[str, dict[str, Any]]] = None, concern: str = "") -> Callable[[Check], Check]:
    """Declare the decorated ``check(ctx, report)`` as the rule ``id`` of the pack.

    The metadata sits beside the judgement it describes, so one hop from a rule id (its
    prefix names the module) reaches both. Keyword-only, with the meanings of :class:`Rule`:
    ``name`` is the display name, ``level`` one of MANDATORY, PROD, ADVISORY; ``stack=True``
    makes a stack rule (it sees every resource at once, ``ctx.resources``), otherwise a
    resource rule judging one resource at a time, only of ``types`` when given; ``config`` is
    the rule's own config schema (added to :data:`COMMON_SCHEMA`); ``concern`` tags it.
    The check is returned unchanged. A second rule with the same id, an unknown severity or
    level, or ``types`` on a stack rule is a programming error, raised when the module loads.
    """
    if severity not in _SEVERITY:
        raise ValueError(f"rule {id}: severity {severity!r} is not one of {', '.join(_SEVERITY)}")
    if level not in (MANDATORY, PROD, ADVISORY):
        raise ValueError(f"rule {id}: level {level!r} is not one of {MANDATORY}, {PROD}, {ADVISORY}")
    if stack and types:
        raise ValueError(f"rule {id}: a stack rule sees every resource; types apply to resource rules only")

    def register(check: Check) -> Check:
        if id in REGISTRY:
            raise ValueError(f"rule {id} is declared twice: by {REGISTRY[id].check.__module__}."
                             f"{REGISTRY[id].check.__name__} and {check.__module__}.{check.__name__}")
        REGISTRY[id] = Rule(id=id, name=name, description=description, severity=severity, remediation=remediation,
                            level=level, check=check, stack=stack, types=types, config=dict(config or {}),
                            concern=concern)
        return check

    return register


def peek(value: Any, *path: Any) -> Any:
    """Follow ``path`` through raw (or proxied) data without tripping the unknown check.

    Returns :data:`UNKNOWN` when an unknown value is met on the way and ``None`` when the
    path does not exist.
    """
    current = _raw(value)
    for key in path:
        if current == UNKNOWN:
            return UNKNOWN
        if isinstance(key, int):
            if not isinstance(current, list) or key >= len(current):
                return None
        elif not isinstance(current, Mapping) or key not in current:
            return None
        current = _raw(current[key])
    return current


def _raw(value: Any) -> Any:
    try:
        return value["__target"] if type(value).__name__ in ("_DictProxy", "_ListProxy") else value
    except (KeyError, TypeError):  # pragma: no cover - defensive
        return value


def raw_tree(value: Any) -> Any:
    """A plain copy of proxied data (unknowns stay as the marker string)."""
    value = _raw(value)
    if isinstance(value, list):
        return [raw_tree(item) for item in value]
    if isinstance(value, Mapping):
        return {key: raw_tree(item) for key, item in value.items()}
    return value


def as_list(value: Any) -> list:
    value = _raw(value)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def json_document(value: Any) -> Any:
    """A policy document input: JSON text or an object; unknown stays unknown."""
    value = _raw(value)
    if isinstance(value, str) and value != UNKNOWN:
        try:
            return json.loads(value)
        except ValueError:
            return None
    return raw_tree(value)


def provider_default_tags(provider_props: Any) -> dict[str, Any]:
    """``defaultTags.tags`` of an AWS provider (provider inputs travel JSON-encoded)."""
    default_tags = peek(provider_props, "defaultTags")
    if isinstance(default_tags, str) and default_tags != UNKNOWN:
        return dict(_decoded_tags(default_tags))
    tags = default_tags.get("tags") if isinstance(default_tags, Mapping) else None
    return dict(tags) if isinstance(tags, Mapping) else {}


@functools.lru_cache(maxsize=1024)
def _decoded_tags(text: str) -> tuple:
    """Decoded once per distinct provider (every resource of a team shares its provider)."""
    try:
        tags = json.loads(text).get("tags")
    except (ValueError, AttributeError):
        return ()
    return tuple(tags.items()) if isinstance(tags, Mapping) else ()


def effective_tags(props: Any, provider_props: Any) -> dict[str, Any]:
    """Tags the resource will carry: provider default tags overlaid by its own ``tags``."""
    tags = provider_default_tags(provider_props)
    own = peek(props, "tags")
    if isinstance(own, Mapping):
        tags.update(own)
    return tags


@dataclass
class Context:
    """What a check sees: the resource (or stack), config with defaults, team facts."""

    config: dict[str, Any]
    resource: Any = None  # ResourceValidationArgs or PolicyResource
    resources: list = field(default_factory=list)  # stack rules
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per context. A stack rule's context lives for one AnalyzeStack
        call, so lookups built here (resources by type, settings by bucket) are built once
        per rule instead of once per resource the rule looks at."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    # resource helpers -------------------------------------------------------------
    @property
    def type(self) -> str:
        return self.resource.resource_type

    @property
    def props(self) -> Any:
        return self.resource.props

    @property
    def urn(self) -> str:
        return self.resource.urn

    def tags(self, resource: Any = None) -> dict[str, Any]:
        resource = resource or self.resource
        provider = resource.provider.props if resource.provider is not None else None
        return effective_tags(resource.props, provider)

    def team(self, resource: Any = None) -> Optional[str]:
        """The team owning a resource: its ``team`` tag (own or the team provider's default)."""
        team = self.tags(resource).get("team")
        return team if isinstance(team, str) else None

    def team_facts(self, resource: Any = None) -> dict[str, Any]:
        return dict(self.config.get("teams", {}).get(self.team(resource) or "", {}))

    @property
    def environment(self) -> str:
        return str(self.config.get("environment", "prod"))

    def of_type(self, *types: str) -> list:
        """The stack's resources of ``types``, in plan order (shared: do not modify)."""
        return self.memo(("of_type", types), lambda: [r for r in self.resources if r.resource_type in types])


def team_urn(ctx: Context, team: str) -> Optional[str]:
    """The URN of ``team``'s component in the stack (where team-level findings point), if any."""
    for resource in ctx.of_type(TEAM):
        if resource.name == team:
            return resource.urn
    return None


def today(config: Mapping[str, Any]) -> datetime.date:
    text = config.get("today")
    return datetime.date.fromisoformat(text) if text else datetime.date.today()


def _exempted(config: Mapping[str, Any], rule_id: str, team: Optional[str], name: str) -> bool:
    on = today(config)
    for exemption in config.get("exemptions", []):
        if exemption.get("rule") != rule_id or exemption.get("team") != team:
            continue
        if exemption.get("resource") not in (None, name):
            continue
        if exemption_problem(exemption, on) is None:
            return True
    return False


_WHOLE_FLOAT = re.compile(r"\b(\d+)\.0\b")


def _clean(message: str) -> str:
    """Numbers cross the wire as doubles (protobuf Struct); print whole ones as integers."""
    return _WHOLE_FLOAT.sub(r"\1", message)


def _with_defaults(defaults: Mapping[str, Any], config: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    values = dict(defaults)
    values.update(config or {})
    return values


def to_policy(rule: Rule):
    """The pulumi-policy Policy for ``rule`` (name = rule id)."""
    schema = PolicyConfigSchema(properties=rule.schema())
    defaults = {key: prop["default"] for key, prop in rule.schema().items() if "default" in prop}
    common = dict(
        name=rule.id,
        description=rule.description,
        enforcement_level=rule.default_enforcement,
        config_schema=schema,
        display_name=rule.name,
        severity=_SEVERITY[rule.severity],
        tags=[rule.concern, f"level:{rule.level}"],
        remediation_steps=rule.remediation,
    )
    if rule.stack:
        def validate_stack(args, report_violation):
            ctx = Context(config=_with_defaults(defaults, args.get_config()), resources=list(args.resources))
            resources = {r.urn: r for r in ctx.resources}

            def report(message: str, urn: Optional[str] = None) -> None:
                name = urn.rsplit("::", 1)[-1] if urn else ""
                team = ctx.team(resources[urn]) if urn in resources else None
                if urn and ctx.config.get("exemptions") and _exempted(ctx.config, rule.id, team, name):
                    return
                report_violation(_clean(message), urn)

            rule.check(ctx, report)

        return StackValidationPolicy(validate=validate_stack, **common)

    types = frozenset(rule.types or ())

    def validate_resource(args, report_violation):
        if types and args.resource_type not in types:
            return
        ctx = Context(config=_with_defaults(defaults, args.get_config()), resource=args)

        def report(message: str, urn: Optional[str] = None) -> None:
            if _exempted(ctx.config, rule.id, ctx.team(), args.name):
                return
            report_violation(_clean(message), urn)

        rule.check(ctx, report)

    return ResourceValidationPolicy(validate=validate_resource, **common)


def defer(resources: list, prop: str) -> None:
    """After reporting what is known, read an unknown value through the SDK's proxy so the
    SDK reports the rule as not evaluable during preview (deferred, never passed)."""
    for resource in resources:
        resource.props[prop]


def by_urn(resources: Iterable) -> dict[str, Any]:
    return {r.urn: r for r in resources}
