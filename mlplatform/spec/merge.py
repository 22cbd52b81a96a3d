"""Merging an environment's override into the base spec.

Mappings merge key by key, lists of named items (feature groups, features, queues,
endpoints) merge item by item on ``name``, and any other value (including other lists)
is replaced. An override may only refine items that exist in the base: naming an
unknown item is an error, because a typo there would otherwise deploy something nobody
reviewed. The merge also records, for every value it took from the override, where that
value sits in the file, so errors in the merged spec point at the override's line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import PathPart

Path = tuple[PathPart, ...]


class UnknownOverrideItem(Exception):
    """An override names an item the base spec does not have."""

    def __init__(self, path: Path, message: str):
        self.path = path
        super().__init__(message)


@dataclass
class MergeResult:
    data: dict[str, Any]
    #: merged path -> path in the file, for every subtree that came from the override
    origins: dict[Path, Path] = field(default_factory=dict)

    def file_path(self, merged_path: Path) -> Path:
        """Where ``merged_path`` of the merged spec is written in the file."""
        for end in range(len(merged_path), -1, -1):
            prefix = tuple(merged_path[:end])
            if prefix in self.origins:
                return self.origins[prefix] + tuple(merged_path[end:])
        return tuple(merged_path)


def merge_environment(document_data: dict[str, Any], environment: str) -> MergeResult:
    """The team spec as ``environment`` deploys it, without the ``environments`` block.

    Raises :class:`UnknownOverrideItem` when the override names an item that is not in
    the base spec.
    """
    spec = dict(document_data.get("spec") or {})
    overrides = spec.pop("environments", None) or {}
    result = MergeResult(data={**document_data, "spec": spec})
    override = overrides.get(environment)
    if override:
        result.data["spec"] = _merge_mapping(
            spec, override, ("spec",), ("spec", "environments", environment), result.origins
        )
    return result


def _merge_mapping(base: dict, override: dict, at: Path, source: Path, origins: dict[Path, Path]) -> dict:
    merged = dict(base)
    for key, value in override.items():
        here, there = at + (key,), source + (key,)
        current = base.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = _merge_mapping(current, value, here, there, origins)
        elif _is_named_list(value) and (current is None or isinstance(current, list)):
            # an override refines named items; it never adds one the base does not declare
            merged[key] = _merge_named_list(current or [], value, here, there, origins)
        else:
            merged[key] = value
            origins[here] = there
    return merged


def _is_named_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) and "name" in item for item in value)


def _merge_named_list(base: list, override: list, at: Path, source: Path, origins: dict[Path, Path]) -> list:
    merged = list(base)
    index_by_name = {item.get("name"): i for i, item in enumerate(base) if isinstance(item, dict)}
    for o_index, item in enumerate(override):
        name = item["name"]
        if name not in index_by_name:
            known = ", ".join(sorted(str(n) for n in index_by_name)) or "none"
            raise UnknownOverrideItem(
                source + (o_index, "name"),
                f"no item named '{name}' in {'.'.join(str(p) for p in at)} to override (known: {known})",
            )
        b_index = index_by_name[name]
        merged[b_index] = _merge_mapping(base[b_index], item, at + (b_index,), source + (o_index,), origins)
    return merged
