"""JSON types of decoded values, as JSON Schema names them.

The request schema (:mod:`.request`) and the rule table (:mod:`.rules`) both reason in
JSON's types, not Python's: ``true`` is a boolean and not the integer 1, ``3`` is an
integer and ``3.5`` a number. One definition keeps the two from disagreeing.
"""

from __future__ import annotations

from typing import Any


def json_type(value: Any) -> str:
    """The JSON type of a value :func:`json.loads` returned (bool before int: it is one in Python)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def is_number(value: Any) -> bool:
    """An integer or a number, not a boolean."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
