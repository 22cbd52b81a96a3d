"""What the fallback answers when the model is down, in each mode.

* ``lastKnownGood``: the cached answer for the request's key if it has not expired
  (:mod:`.cache`); a JSON object answer gets the degraded fields added, any other answer
  is wrapped as ``{"response": <answer>}``; :data:`.contract.CACHED_AT_HEADER` gives the
  epoch second it was stored. No usable item: **503**.
* ``rules``: the response of the first matching rule (:mod:`.rules`); no match answers
  ``default``, or **503** without one.
* ``static``: the response.

Every answer here is degraded (:func:`.responses.degraded`), a 503 too:
``{"error": ..., "degraded": true, "fallback": <mode>}``.
"""

from __future__ import annotations

from typing import Any

from .cache import cache_key, cached_payload, recall
from .config import FallbackConfig
from .contract import CACHED_AT_HEADER
from .responses import degraded
from .rules import matching_rule


def fallback_answer(config: FallbackConfig, request: dict, now: float) -> dict[str, Any]:
    """The degraded proxy response of ``config.mode`` for this request."""
    mode = config.mode
    if mode == "static":
        return degraded(mode, 200, config.response)
    if mode == "rules":
        rule = matching_rule(config.rules, request)
        if rule is not None:
            return degraded(mode, 200, rule["response"])
        if config.default is not None:
            return degraded(mode, 200, config.default)
        return degraded(mode, 503, {"error": "the model is unavailable and no fallback rule matches the request"})
    key = cache_key(config, request)
    cached = recall(config, key, now) if key is not None else None
    if cached is None:
        return degraded(mode, 503, {"error": "the model is unavailable and no recent answer is cached for "
                                             f"{config.key_field}"})
    return degraded(mode, 200, cached_payload(cached["body"]), {CACHED_AT_HEADER: str(cached["storedAt"])})
