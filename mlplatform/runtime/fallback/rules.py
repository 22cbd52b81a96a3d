"""The rule table of ``rules`` mode: which rule answers a request.

The first rule whose conditions all hold answers its response (:mod:`.answers` falls back
to ``default``, or 503, when none does). A condition on a field absent from the request
does not hold; ``lt``/``le``/``gt``/``ge`` hold only between numbers; equality (``eq``,
``ne``, ``in``) compares numbers as numbers (``1 == 1.0``) and never equates values of
different JSON types (``true`` is not ``1``, ``"1"`` is not ``1``). The table's shape is
checked when the config is read (:mod:`.config`), so evaluation here trusts it.
"""

from __future__ import annotations

from typing import Any

from .json_types import is_number, json_type


def _same(left: Any, right: Any) -> bool:
    """JSON equality: numbers as numbers, otherwise only values of one JSON type."""
    if is_number(left) and is_number(right):
        return left == right
    return json_type(left) == json_type(right) and left == right


def condition_holds(condition: dict, request: dict) -> bool:
    """One ``{"field", "op", "value"}`` condition against the request."""
    name, op, expected = condition["field"], condition["op"], condition["value"]
    if name not in request:
        return False
    actual = request[name]
    if op == "eq":
        return _same(actual, expected)
    if op == "ne":
        return not _same(actual, expected)
    if op == "in":
        return any(_same(actual, item) for item in expected)
    if not (is_number(actual) and is_number(expected)):
        return False
    return {"lt": actual < expected, "le": actual <= expected,
            "gt": actual > expected, "ge": actual >= expected}[op]


def matching_rule(rules: tuple[dict, ...], request: dict) -> dict | None:
    """The first rule all of whose conditions hold, or None."""
    for rule in rules:
        if all(condition_holds(condition, request) for condition in rule["when"]):
            return rule
    return None
