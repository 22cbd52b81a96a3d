"""The caller's request: the proxy event's body, decoded and checked against ``requestFields``.

A request that breaks the schema is the caller's to fix, so it is answered **400**
(``{"error": ..., "field": ...}``) before the model is called: the body is not (base64 of)
UTF-8 JSON, not an object, lacks a required field, or a field has the wrong JSON type.
Fields not in ``requestFields`` are allowed and passed on. ``integer`` accepts whole
numbers written with a fraction (``3.0``: JSON Schema's meaning); an optional field set to
``null`` is treated as absent; ``NaN``/``Infinity`` are not JSON and are refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .config import RequestField
from .json_types import json_type


class BadRequest(ValueError):
    """The caller's request breaks the request schema (answered 400)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_body(event: Any) -> bytes:
    """The request body's bytes (decoded from base64 when API Gateway encoded it)."""
    if not isinstance(event, dict):
        raise BadRequest("the event is not an API Gateway proxy request")
    body = event.get("body")
    if body is None or body == "":
        raise BadRequest("the request body is empty; send a JSON object")
    if not isinstance(body, str):
        raise BadRequest("the request body is not text")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the request body is not valid base64") from None
    return body.encode("utf-8")


def _fits(value: Any, kind: str) -> bool:
    actual = json_type(value)
    if kind == "number":
        return actual in ("integer", "number")
    if kind == "integer":
        return actual == "integer" or actual == "number" and float(value).is_integer()
    return actual == kind


def parse_request(raw: bytes, fields: tuple[RequestField, ...]) -> dict[str, Any]:
    """The request object, checked against ``requestFields`` (BadRequest names the field)."""
    try:
        request = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 text") from None
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None
    except ValueError as exc:
        raise BadRequest(f"the request body is not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise BadRequest(f"the request body must be a JSON object, not {json_type(request)}")
    for spec in fields:
        value = request.get(spec.name)
        if value is None:
            if spec.name in request and spec.required:
                raise BadRequest(f"field '{spec.name}' must be a {spec.type}, not null", spec.name)
            if spec.required:
                raise BadRequest(f"required field '{spec.name}' is missing", spec.name)
            request.pop(spec.name, None)  # an optional null is an absent field
            continue
        if not _fits(value, spec.type):
            raise BadRequest(f"field '{spec.name}' must be a {spec.type}, not {json_type(value)}", spec.name)
        if spec.type == "integer" and isinstance(value, float):
            request[spec.name] = int(value)  # 3.0 is the integer 3 (the cache key reads "3")
    return request
