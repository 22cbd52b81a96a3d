"""Plan diff by URN: what moving from one graph to another creates, changes or destroys.

Resources are matched by URN, as the engine matches them, so a renamed team shows up the
way ``pulumi up`` would treat it: its old resources deleted, new ones created, unless a new
resource carries an alias naming the old URN (see :func:`aliased_moves`). What matters
most in a review is the destruction of data, so every delete or replace of a stateful or
protected resource is also listed in :attr:`PlanDiff.stateful_replacements`, which the
plan prints as its loud "REPLACES STATEFUL RESOURCE" marker.

A replacement is predicted offline from :mod:`mlplatform.forcenew` and the resource's own
``replaceOnChanges`` option (a missed replacement is the dangerous error, so both count).
An unknown value (not computed until apply) counts as changed, since it may be. Inputs the
resource lists in ``ignoreChanges`` are not compared, as the engine keeps their old values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from .errors import PathPart, format_path
from .forcenew import STATEFUL_TYPES, force_new_properties
from .graph import OPTION_DEFAULTS, SIG_KEY, GraphResource, ResourceGraph, SourceRef, urn_type
from .type_tokens import STACK


@dataclass
class PropertyChange:
    """One leaf value that differs, at a dotted path such as ``tags.team`` or ``rules[0].id``."""

    path: str
    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass
class ResourceChange:
    """What happens to one URN."""

    urn: str
    type: str
    action: str
    property_changes: list[PropertyChange] = field(default_factory=list)
    stateful: bool = False
    protected: bool = False
    replace_reasons: list[str] = field(default_factory=list)
    source: Optional[SourceRef] = None

    @property
    def destroys_state(self) -> bool:
        """True when applying this change deletes a resource that holds data or is protected."""
        return self.action in ("delete", "replace") and (self.stateful or self.protected)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "action": self.action,
            "propertyChanges": [change.to_json() for change in self.property_changes],
            "stateful": self.stateful,
            "protected": self.protected,
            "replaceReasons": self.replace_reasons,
            "source": self.source.to_json() if self.source else None,
        }


@dataclass
class PlanDiff:
    """All changes between two graphs, by action, each list sorted by URN."""

    created: list[ResourceChange] = field(default_factory=list)
    deleted: list[ResourceChange] = field(default_factory=list)
    updated: list[ResourceChange] = field(default_factory=list)
    replaced: list[ResourceChange] = field(default_factory=list)
    #: Deletes and replaces of stateful or protected resources (also in deleted/replaced).
    stateful_replacements: list[ResourceChange] = field(default_factory=list)

    def add(self, change: ResourceChange) -> None:
        by_action = {
            "create": self.created,
            "delete": self.deleted,
            "update": self.updated,
            "replace": self.replaced,
        }
        by_action[change.action].append(change)
        if change.destroys_state:
            self.stateful_replacements.append(change)

    def summary(self) -> dict[str, int]:
        """Counts per action, named like the ``changeSummary`` of ``pulumi preview``."""
        return {
            "create": len(self.created),
            "update": len(self.updated),
            "replace": len(self.replaced),
            "delete": len(self.deleted),
            "statefulReplacements": len(self.stateful_replacements),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "created": [change.to_json() for change in self.created],
            "updated": [change.to_json() for change in self.updated],
            "replaced": [change.to_json() for change in self.replaced],
            "deleted": [change.to_json() for change in self.deleted],
            "statefulReplacements": [change.urn for change in self.stateful_replacements],
        }


def diff_graphs(base: ResourceGraph, head: ResourceGraph) -> PlanDiff:
    """What applying ``head`` over ``base`` does to each resource."""
    moves = aliased_moves(base, head)
    moved_away = set(moves.values())
    diff = PlanDiff()
    for urn in sorted(set(base.resources) | set(head.resources)):
        if urn in moved_away:
            continue  # compared under its new URN
        change = resource_change(base.get(moves.get(urn, urn)), head.get(urn), moves)
        if change is not None:
            diff.add(change)
    return diff


def aliased_moves(base: ResourceGraph, head: ResourceGraph) -> dict[str, str]:
    """New URN -> old URN of each resource renamed or moved with an alias.

    The engine treats a new URN whose ``aliases`` name a URN of the old state as the same
    resource, so it is compared with that state instead of being created while the old one
    is deleted. Only an old URN gone from ``head`` can be taken, and only once.
    """
    moves: dict[str, str] = {}
    for resource in head:
        if resource.urn in base.resources:
            continue
        for alias in resource.options.get("aliases") or []:
            old = alias_urn(alias, resource.urn) if isinstance(alias, str) else None
            if old in base.resources and old not in head.resources and old not in moves.values():
                moves[resource.urn] = old
                break
    return moves


#: What an alias spec may give; any other key means we cannot tell what it names.
ALIAS_SPEC_KEYS = frozenset({"name", "type", "parent", "project", "stack"})


def alias_urn(alias: str, urn: str) -> Optional[str]:
    """The URN an alias of the resource now at ``urn`` names, or None if it cannot be told.

    An alias is a URN, or (as our capture writes Pulumi's alias specs) ``key=value`` pairs
    joined by ``;`` giving what differed: ``name``, ``type``, ``parent`` (a URN, or
    ``<root>`` for none), ``project`` or ``stack``; the rest is taken from ``urn``, which is
    ``urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>``.
    """
    if alias.startswith("urn:pulumi:"):
        return alias
    pairs = [part.split("=", 1) for part in alias.split(";")]
    spec = dict(pair for pair in pairs if len(pair) == 2)
    if len(spec) != len(pairs) or not set(spec) <= ALIAS_SPEC_KEYS or len(urn.split("::")) < 4:
        return None
    stack, project, qualified_type, name = urn[len("urn:pulumi:") :].split("::", 3)
    types = qualified_type.split("$")
    types[-1] = spec.get("type", types[-1])
    parent = spec.get("parent")
    if parent == "<root>":
        types = types[-1:]
    elif parent is not None:
        if not parent.startswith("urn:pulumi:") or len(parent.split("::")) < 4:
            return None
        # Children of the stack resource have no parent type in their URN.
        parent_types = [] if urn_type(parent) == STACK else parent.split("::")[2].split("$")
        types = parent_types + types[-1:]
    stack, project = spec.get("stack", stack), spec.get("project", project)
    return f"urn:pulumi:{stack}::{project}::{'$'.join(types)}::{spec.get('name', name)}"


def is_stateful(resource: GraphResource) -> bool:
    """Whether losing ``resource`` loses data: a stateful type, or one marked protect."""
    return resource.type in STATEFUL_TYPES or bool(resource.options.get("protect"))


def resource_change(
    old: Optional[GraphResource], new: Optional[GraphResource], moves: Optional[dict[str, str]] = None
) -> Optional[ResourceChange]:
    """The change from ``old`` to ``new`` (one may be absent), or None if nothing changes.

    ``moves`` (new URN -> old URN, from :func:`aliased_moves`) keeps a provider that was
    itself moved with an alias from counting as a provider change.
    """
    if old is None or new is None:
        return _lone_change(new, "create") if old is None else _lone_change(old, "delete")
    ignore = new.options.get("ignoreChanges") or []
    by_property = input_changes(_compared_inputs(old), _compared_inputs(new), ignore)
    changes = [change for group in by_property.values() for change in group]
    changes += provider_changes(old, new, moves or {}) + option_changes(old, new)
    if not changes:
        return None
    reasons = [key for key in by_property if _forces_replacement(new, key)]
    return ResourceChange(
        urn=new.urn,
        type=new.type,
        action="replace" if reasons else "update",
        property_changes=changes,
        stateful=is_stateful(old) or is_stateful(new),
        protected=bool(old.options.get("protect") or new.options.get("protect")),
        replace_reasons=reasons,
        source=new.source or old.source,
    )


def _lone_change(resource: Optional[GraphResource], action: str) -> Optional[ResourceChange]:
    """A create or delete: the URN exists on one side only."""
    if resource is None:
        return None
    return ResourceChange(
        urn=resource.urn,
        type=resource.type,
        action=action,
        stateful=is_stateful(resource),
        protected=bool(resource.options.get("protect")),
        source=resource.source,
    )


def _compared_inputs(resource: GraphResource) -> dict[str, Any]:
    """Inputs that describe infrastructure: a component's ``source`` is only a spec position."""
    if resource.custom:
        return resource.inputs
    return {key: value for key, value in resource.inputs.items() if key != "source"}


def input_changes(
    before: dict[str, Any], after: dict[str, Any], ignore_changes: Sequence[str] = ()
) -> dict[str, list[PropertyChange]]:
    """Leaf changes grouped by top-level input, the level at which replacement is decided.

    Paths in ``ignore_changes`` (the resource's ``ignoreChanges`` option) are left out: the
    engine diffs with their old values, so they neither show nor force a replacement.
    """
    ignored = [parse_property_path(path) for path in ignore_changes]
    grouped: dict[str, list[PropertyChange]] = {}
    for key in sorted(set(before) | set(after)):
        changes = value_changes((key,), before.get(key), after.get(key), ignored)
        if changes:
            grouped[key] = changes
    return grouped


def value_changes(
    path: tuple[PathPart, ...], before: Any, after: Any, ignored: Sequence[tuple[str, ...]] = ()
) -> list[PropertyChange]:
    """Leaf differences between two input values: objects by key, lists by index.

    Secrets, assets and archives are leaves: their contents are redacted or opaque. A key
    missing on one side compares as None, as the engine treats null and absent alike.
    Differences at or below an ``ignored`` path (parsed by :func:`parse_property_path`)
    are skipped; one above it (a whole object appearing, say) is still reported.
    """
    if before == after or any(_path_matches(pattern, path) for pattern in ignored):
        return []
    if _is_object(before) and _is_object(after):
        changes: list[PropertyChange] = []
        for key in sorted(set(before) | set(after)):
            changes += value_changes(path + (key,), before.get(key), after.get(key), ignored)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for index in range(max(len(before), len(after))):
            changes += value_changes(path + (index,), _item(before, index), _item(after, index), ignored)
        return changes
    return [PropertyChange(format_path(path), before, after)]


def parse_property_path(path: str) -> tuple[str, ...]:
    """``tags.owner``, ``rules[0].id`` or ``tags["a.b"]`` as its parts; ``*`` matches any one."""
    return tuple(
        quoted or bracketed or plain
        for quoted, bracketed, plain in re.findall(r'\["([^"]*)"\]|\[([^\]]*)\]|([^.\[\]]+)', path)
    )


def _path_matches(pattern: tuple[str, ...], path: tuple[PathPart, ...]) -> bool:
    return len(pattern) == len(path) and all(want in ("*", str(part)) for want, part in zip(pattern, path))


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and SIG_KEY not in value


def _item(items: list[Any], index: int) -> Any:
    return items[index] if index < len(items) else None


def provider_changes(old: GraphResource, new: GraphResource, moves: dict[str, str]) -> list[PropertyChange]:
    """A change of provider (by URN), at path ``provider``, as an update.

    Whether it replaces the resource is decided by the engine asking the provider plugin,
    which cannot be done offline; so it shows as an update for the reviewer to judge.
    """
    after = moves.get(new.provider, new.provider) if new.provider else None
    if after == old.provider:
        return []
    return [PropertyChange("provider", old.provider, new.provider)]


def option_changes(old: GraphResource, new: GraphResource) -> list[PropertyChange]:
    """Changed resource options, as ``options.<name>`` (they update state, not the cloud).

    ``aliases`` are left out: they only name where the resource was, and adding one is no
    change to the resource itself.
    """
    changes = []
    for key, default in OPTION_DEFAULTS.items():
        if key == "aliases":
            continue
        before, after = old.options.get(key, default), new.options.get(key, default)
        if before != after:
            changes.append(PropertyChange(f"options.{key}", before, after))
    return changes


def _forces_replacement(resource: GraphResource, key: str) -> bool:
    """Whether a change of top-level input ``key`` replaces ``resource``.

    Besides the provider's force-new inputs, the program can ask for replacement with the
    ``replaceOnChanges`` option (property paths, or ``*`` for all).
    """
    if key in force_new_properties(resource.type):
        return True
    paths = resource.options.get("replaceOnChanges") or []
    return any(path == "*" or re.split(r"[.\[]", path, maxsplit=1)[0] == key for path in paths)
