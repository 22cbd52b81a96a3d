"""API Gateway proxy responses (REST, payload 1.0), and how a degraded one is marked.

A response has ``statusCode``, ``headers``, ``body`` and ``isBase64Encoded`` (true for a
binary model answer, which API Gateway decodes). A degraded answer, whatever its status,
carries :data:`.contract.DEGRADED_HEADER` ``: true`` and :data:`.contract.FALLBACK_HEADER`
``: <mode>`` and, in the JSON body, ``"degraded": true`` and ``"fallback": "<mode>"``, so a
client can tell a fallback's answer from the model's by either.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .contract import DEGRADED_HEADER, FALLBACK_HEADER, JSON_CONTENT_TYPE


def json_response(status: int, payload: Any, headers: dict | None = None) -> dict[str, Any]:
    """A proxy response with a compact JSON body."""
    return {"statusCode": status, "headers": {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})},
            "body": json.dumps(payload, separators=(",", ":")), "isBase64Encoded": False}


def _is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("text/") or any(word in kind for word in ("json", "xml", "csv"))  # +json, jsonlines


def body_response(status: int, body: bytes, content_type: str, headers: dict | None = None) -> dict[str, Any]:
    """A proxy response carrying bytes: text as is, anything else base64-encoded."""
    all_headers = {"Content-Type": content_type, **(headers or {})}
    if _is_text(content_type):
        try:
            return {"statusCode": status, "headers": all_headers, "body": body.decode("utf-8"), "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"statusCode": status, "headers": all_headers, "body": base64.b64encode(body).decode("ascii"),
            "isBase64Encoded": True}


def degraded(mode: str, status: int, payload: dict, extra_headers: dict | None = None) -> dict[str, Any]:
    """A fallback's JSON answer, marked degraded in its headers and its body."""
    headers = {DEGRADED_HEADER: "true", FALLBACK_HEADER: mode, **(extra_headers or {})}
    return json_response(status, {**payload, "degraded": True, "fallback": mode}, headers)
