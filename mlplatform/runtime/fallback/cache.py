"""The lastKnownGood cache table: the model's answers written, and read back when it is down.

Every answer of the model is written under the partition key
:data:`.contract.CACHE_KEY_ATTRIBUTE` = ``str(request[keyField])``, with ``body`` (binary,
the bytes the model sent), ``contentType``, ``storedAt`` and
:data:`.contract.CACHE_EXPIRY_ATTRIBUTE` (epoch seconds, ``storedAt + ttlSeconds``, the
table's TTL attribute). A failed write is logged and never fails the answer (an answer
above DynamoDB's 400 KB item limit is simply not cached). A request without the key field
is neither cached nor servable from the cache. DynamoDB's TTL deletes expired items
lazily, up to days later, so a read checks the expiry itself; a failed or malformed read
is a miss.
"""

from __future__ import annotations

import json
import logging

from .config import FallbackConfig
from .contract import (
    CACHE_BODY_ATTRIBUTE, CACHE_CONTENT_TYPE_ATTRIBUTE, CACHE_EXPIRY_ATTRIBUTE, CACHE_KEY_ATTRIBUTE,
    CACHE_STORED_ATTRIBUTE,
)
from .environment import client
from .model import ModelOutcome

log = logging.getLogger(__name__)


def cache_key(config: FallbackConfig, request: dict) -> str | None:
    """The request's key in the cache, or None when it has no ``keyField``."""
    if config.key_field is None or request.get(config.key_field) is None:
        return None
    return str(request[config.key_field])


def remember(config: FallbackConfig, key: str, outcome: ModelOutcome, now: float) -> None:
    """Write the model's answer for ``key`` (failures are logged, never raised)."""
    stored = int(now)
    try:
        client("dynamodb", config).put_item(TableName=config.cache_table, Item={
            CACHE_KEY_ATTRIBUTE: {"S": key},
            CACHE_BODY_ATTRIBUTE: {"B": outcome.body},
            CACHE_CONTENT_TYPE_ATTRIBUTE: {"S": outcome.content_type},
            CACHE_STORED_ATTRIBUTE: {"N": str(stored)},
            CACHE_EXPIRY_ATTRIBUTE: {"N": str(stored + config.ttl_seconds)},
        })
    except Exception as exc:  # noqa: BLE001 - the model answered; the cache is best effort
        log.warning("cache write for %s failed: %s: %s", config.endpoint_name, type(exc).__name__, exc)


def recall(config: FallbackConfig, key: str, now: float) -> dict | None:
    """The unexpired cache item for ``key``, or None (a read failure is logged, a miss)."""
    try:
        item = client("dynamodb", config).get_item(
            TableName=config.cache_table, Key={CACHE_KEY_ATTRIBUTE: {"S": key}}).get("Item")
    except Exception as exc:  # noqa: BLE001 - a failed read is a miss: the caller gets the 503
        log.error("cache read for %s failed: %s: %s", config.endpoint_name, type(exc).__name__, exc)
        return None
    if not item:
        return None
    try:
        if float(item[CACHE_EXPIRY_ATTRIBUTE]["N"]) <= now:
            return None  # expired, not yet deleted by TTL
        return {"body": item[CACHE_BODY_ATTRIBUTE]["B"], "storedAt": int(float(item[CACHE_STORED_ATTRIBUTE]["N"]))}
    except (KeyError, TypeError, ValueError):
        log.error("cache item %r of %s is malformed", key, config.endpoint_name)
        return None


def cached_payload(body: bytes) -> dict:
    """A cached answer as a JSON object: the object itself, or ``{"response": <answer>}``."""
    text = body.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = text
    return value if isinstance(value, dict) else {"response": value}
