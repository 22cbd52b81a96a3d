"""A spec estate whose every name is as long as the schema allows.

AWS enforces name limits on apply, not at preview: a physical name built from spec names
that fits with ``fraud-detection`` can overflow with a 40-character team. This module
rewrites the shipped example specs (``examples/teams/``, so every feature they exercise
is exercised here too) so that every team, feature group, training queue and endpoint
name sits at its schema maximum (and every feature group version at its largest), then
writes them into a folder that ``capture_stack(stack, teams_dir=folder)`` plans.

The maxima are read from the spec models, not repeated here, so the estate follows the
schema when a limit changes. Every cross-reference the specs make by name (a retraining
queue, a retired endpoint's successor, a model-registry group, environment overrides,
an exemption's logical resource) is renamed with its target, so the estate stays valid.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any, Callable

import yaml

from mlplatform.spec.models import Endpoint, FeatureGroup, Metadata, TrainingQueue
from mlplatform.spec.serving_edge import Exposure

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = PROJECT_ROOT / "examples" / "teams"
FILLER = "x"


def schema_limit(model: type, field: str, key: str = "maxLength") -> int:
    """``key`` (maxLength, maximum) of ``field`` in ``model``'s JSON Schema."""
    schema = model.model_json_schema(by_alias=True)["properties"][field]
    for option in schema.get("anyOf", [schema]):  # an optional field: its non-null form
        if key in option:
            return int(option[key])
    raise KeyError(f"{model.__name__}.{field} has no {key}")


TEAM_MAX = schema_limit(Metadata, "team")
FEATURE_GROUP_MAX = schema_limit(FeatureGroup, "name")
FEATURE_GROUP_VERSION_MAX = schema_limit(FeatureGroup, "version", "maximum")
QUEUE_MAX = schema_limit(TrainingQueue, "name")
ENDPOINT_MAX = schema_limit(Endpoint, "name")
DOMAIN_PREFIX_MAX = schema_limit(Exposure, "domainPrefix")


def stretched(name: str, length: int) -> str:
    """``name`` padded with ``-xxx...`` to exactly ``length`` characters (a valid DNS label).

    The original name stays at the front, so stretched names of one kind still differ
    early and the truncation of long physical names is exercised on realistic prefixes.
    """
    if len(name) >= length:
        return name[:length].rstrip("-").ljust(length, FILLER)
    return (name + "-").ljust(length, FILLER) if len(name) + 1 < length else name + FILLER


class _Renamer:
    """Old name -> stretched name, per kind of thing a spec names."""

    def __init__(self, length: int):
        self.length, self.names = length, {}

    def __call__(self, name: str) -> str:
        return self.names.setdefault(name, stretched(name, self.length))


def _rename_items(items: Any, rename: Callable[[str], str]) -> None:
    for item in items or []:
        if isinstance(item, dict) and "name" in item:
            item["name"] = rename(item["name"])


def _rename_sections(sections: dict, queues: _Renamer, endpoints: _Renamer, groups: _Renamer, base: bool) -> None:
    """Rename the named items of a spec body (or one environment override) and their references."""
    _rename_items(sections.get("featureGroups"), groups)
    if base:
        for group in sections.get("featureGroups") or []:
            group["version"] = FEATURE_GROUP_VERSION_MAX
    _rename_items((sections.get("training") or {}).get("queues"), queues)
    _rename_items(sections.get("endpoints"), endpoints)
    for endpoint in sections.get("endpoints") or []:
        retraining = endpoint.get("retraining") or {}
        if retraining.get("queue"):
            retraining["queue"] = queues(retraining["queue"])
        retired = endpoint.get("retired") or {}
        if retired.get("successor"):
            retired["successor"] = endpoints(retired["successor"])
        exposure = endpoint.get("exposure") or {}
        if exposure.get("domainPrefix"):  # each endpoint's own: two long prefixes still differ early
            exposure["domainPrefix"] = stretched(exposure["domainPrefix"], DOMAIN_PREFIX_MAX)
        package = (endpoint.get("model") or {}).get("package") or {}
        if package.get("group"):
            package["group"] = endpoints(package["group"])


def longest_spec(document: dict) -> dict:
    """One example spec (parsed YAML) with every name stretched to its schema maximum."""
    metadata, spec = document["metadata"], document["spec"]
    team, long_team = metadata["team"], stretched(metadata["team"], TEAM_MAX)
    metadata["team"] = long_team
    queues, endpoints, groups = _Renamer(QUEUE_MAX), _Renamer(ENDPOINT_MAX), _Renamer(FEATURE_GROUP_MAX)
    _rename_sections(spec, queues, endpoints, groups, base=True)
    for override in (spec.get("environments") or {}).values():
        _rename_sections(override or {}, queues, endpoints, groups, base=False)
    for exemption in spec.get("exemptions") or []:
        resource = exemption.get("resource")
        if resource and resource.startswith(f"{team}-"):
            exemption["resource"] = long_team + resource[len(team):]
    return document


def write_longest_estate(folder: Path, examples: Path = EXAMPLES) -> list[Path]:
    """Write every example spec, names stretched, into ``folder`` as ``<team>.yaml``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(examples.glob("*.yaml")):
        document = longest_spec(yaml.safe_load(source.read_text()))
        target = folder / f"{document['metadata']['team']}.yaml"
        target.write_text(yaml.safe_dump(document, sort_keys=False))
        written.append(target)
    return written


def literal_values(model: type, field: str) -> set[str]:
    """Every value a ``Literal`` field of ``model`` allows (modes, backends, strategies)."""
    annotation = model.model_fields[field].annotation
    return set(typing.get_args(annotation))
