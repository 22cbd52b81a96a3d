"""Plan diff by URN: what moving from one graph to another creates, changes or destroys.

Resources are matched by URN, as the engine matches them, so a renamed team shows up the
way ``pulumi up`` would treat it: its old resources deleted, new ones created. What matters
most in a review is the destruction of data, so every delete or replace of a stateful or
protected resource is also listed in :attr:`PlanDiff.stateful_replacements`, which the
plan prints as its loud "REPLACES STATEFUL RESOURCE" marker.

A replacement is predicted offline from :mod:`mlplatform.forcenew` and the resource's own
``replaceOnChanges`` option (a missed replacement is the dangerous error, so both count).
An unknown value (not computed until apply) counts as changed, since it may be.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from .errors import PathPart, format_path
from .forcenew import STATEFUL_TYPES, force_new_properties
from .graph import OPTION_DEFAULTS, SIG_KEY, GraphResource, ResourceGraph, SourceRef


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
    diff = PlanDiff()
    for urn in sorted(set(base.resources) | set(head.resources)):
        change = resource_change(base.get(urn), head.get(urn))
        if change is not None:
            diff.add(change)
    return diff


def is_stateful(resource: GraphResource) -> bool:
    """Whether losing ``resource`` loses data: a stateful type, or one marked protect."""
    return resource.type in STATEFUL_TYPES or bool(resource.options.get("protect"))


def resource_change(old: Optional[GraphResource], new: Optional[GraphResource]) -> Optional[ResourceChange]:
    """The change from ``old`` to ``new`` (one may be absent), or None if nothing changes."""
    if old is None or new is None:
        return _lone_change(new, "create") if old is None else _lone_change(old, "delete")
    by_property = input_changes(_compared_inputs(old), _compared_inputs(new))
    changes = [change for group in by_property.values() for change in group] + option_changes(old, new)
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


def input_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[PropertyChange]]:
    """Leaf changes grouped by top-level input, the level at which replacement is decided."""
    grouped: dict[str, list[PropertyChange]] = {}
    for key in sorted(set(before) | set(after)):
        changes = value_changes((key,), before.get(key), after.get(key))
        if changes:
            grouped[key] = changes
    return grouped


def value_changes(path: tuple[PathPart, ...], before: Any, after: Any) -> list[PropertyChange]:
    """Leaf differences between two input values: objects by key, lists by index.

    Secrets, assets and archives are leaves: their contents are redacted or opaque. A key
    missing on one side compares as None, as the engine treats null and absent alike.
    """
    if before == after:
        return []
    if _is_object(before) and _is_object(after):
        changes: list[PropertyChange] = []
        for key in sorted(set(before) | set(after)):
            changes += value_changes(path + (key,), before.get(key), after.get(key))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for index in range(max(len(before), len(after))):
            changes += value_changes(path + (index,), _item(before, index), _item(after, index))
        return changes
    return [PropertyChange(format_path(path), before, after)]


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and SIG_KEY not in value


def _item(items: list[Any], index: int) -> Any:
    return items[index] if index < len(items) else None


def option_changes(old: GraphResource, new: GraphResource) -> list[PropertyChange]:
    """Changed resource options, as ``options.<name>`` (they update state, not the cloud)."""
    changes = []
    for key, default in OPTION_DEFAULTS.items():
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
