"""The Lambda entry point (handler setting ``fallback.entry.handler``): model or fallback.

For each call: a request that breaks the schema is answered 400 (:mod:`.request`); else
the model is invoked (:mod:`.model`). Its answer is returned with status 200 (and, in
``lastKnownGood`` mode, written to the cache, :mod:`.cache`); its 4xx refusal is passed
through; when it is down, the reason is logged at ERROR, the fallback answers
(:mod:`.answers`) and the degraded answer is counted (:mod:`.metrics`). The handler never
raises: anything unexpected, an unusable config file included, is logged with its
traceback and answered ``500 {"error": "internal error"}``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .answers import fallback_answer
from .cache import cache_key, remember
from .config import FallbackConfig
from .environment import current_config
from .metrics import publish_degraded
from .model import invoke_model
from .request import BadRequest, parse_request, read_body
from .responses import body_response, json_response

log = logging.getLogger(__name__)


def answer(event: Any, config: FallbackConfig) -> dict[str, Any]:
    """The proxy response to one event under ``config``."""
    try:
        body = read_body(event)
        request = parse_request(body, config.request_fields)
    except BadRequest as exc:
        payload = {"error": str(exc)}
        if exc.field is not None:
            payload["field"] = exc.field
        return json_response(400, payload)
    outcome = invoke_model(config, body)
    now = time.time()
    if outcome.kind == "answer":
        if config.mode == "lastKnownGood":
            key = cache_key(config, request)
            if key is not None:
                remember(config, key, outcome, now)
        return body_response(200, outcome.body, outcome.content_type)
    if outcome.kind == "refused":
        return json_response(outcome.status, {"error": outcome.body.decode("utf-8", errors="replace")})
    log.error("model %s is down, answering from %s: %s", config.endpoint_name, config.mode, outcome.reason)
    response = fallback_answer(config, request, now)
    publish_degraded(config, model_failed=True)
    return response


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry point (API Gateway proxy integration); never raises."""
    try:
        return answer(event, current_config())
    except Exception:  # any failure: the caller gets a JSON 500, the log the traceback
        log.exception("fallback handler failed")
        return json_response(500, {"error": "internal error"})
