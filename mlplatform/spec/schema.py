"""The JSON Schema of the team spec, generated from the pydantic models.

The models are the single source of truth; the schema is derived from them, committed
next to this module (``teamspec.schema.json``) so editors can complete fields through
the ``yaml-language-server`` comment at the top of each spec, and a test keeps the
committed copy current.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Optional

from .models import TeamSpec

SCHEMA_FILE = Path(__file__).with_name("teamspec.schema.json")
SCHEMA_ID = "https://mlplatform.dev/schemas/teamspec.v1.json"


@functools.lru_cache(maxsize=1)
def team_spec_schema() -> dict[str, Any]:
    schema = TeamSpec.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def schema_text() -> str:
    return json.dumps(team_spec_schema(), indent=2, sort_keys=True) + "\n"


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            options = [option for option in node["anyOf"] if option.get("type") != "null"]
            node = options[0] if options else {}
        else:
            return node


def field_schema(path: tuple) -> Optional[dict]:
    """The JSON Schema of the value at ``path`` (None when the schema has no such field)."""
    schema = team_spec_schema()
    node = _resolve(schema, schema)
    for part in path:
        if isinstance(part, int):
            node = _resolve(schema, node.get("items", {}))
        elif part in node.get("properties", {}):
            node = _resolve(schema, node["properties"][part])
        elif isinstance(node.get("additionalProperties"), dict):
            node = _resolve(schema, node["additionalProperties"])
        else:
            return None
    return node


def allowed_keys(path: tuple) -> list[str]:
    """Keys the schema accepts in the mapping at ``path`` (empty when unknown)."""
    node = field_schema(path)
    return list(node.get("properties", {})) if node else []


def nested_homes(path: tuple, key: str) -> list[str]:
    """Where below the mapping at ``path`` the schema does accept ``key``: the names of
    child fields (lists or mappings) whose items take it, e.g. ``features`` for ``pii``
    written on a feature group instead of on one of its features."""
    homes = []
    for child in allowed_keys(path):
        for inner in ((child,), (child, 0)):
            if key in allowed_keys(path + inner):
                homes.append(child)
                break
    return homes

