"""The fallback's config file: what the component wrote from the spec, checked once.

``components/serving_fallback.py`` writes :data:`.contract.CONFIG_FILE` into the deployment
package, at its root beside the ``fallback/`` folder (the rule table can exceed Lambda's 4 KB
environment limit, so it is a file, not variables). The environment variable
:data:`.contract.CONFIG_ENV` may name another path (tests). Its keys:

``endpointName``  SageMaker endpoint invoked (its physical name)
``team``          team name (metric dimension)
``mode``          ``lastKnownGood`` | ``rules`` | ``static``
``timeoutMs``     model call read timeout before the fallback answers
``requestFields`` ``[{"name", "type": string|number|integer|boolean, "required"}]`` (absent or
                  empty: any JSON object is accepted, as for an endpoint without ``request``)
``cache``         lastKnownGood: ``{"table", "keyField", "ttlSeconds"}``
``rules``         rules: ``[{"when": [{"field", "op": eq|ne|lt|le|gt|ge|in, "value"}], "response": {...}}]``
``default``       rules: response when no rule matches (absent: 503)
``response``      static: the response

Every key the handler relies on is checked here, when the file is read, so a bad file
fails the first call with a message naming the key (:class:`FallbackConfigurationError`,
answered 500 and logged by :mod:`.entry`) instead of failing some later call halfway.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from .contract import CONFIG_ENV, CONFIG_FILE, FIELD_TYPES, MODES, OPERATORS


class FallbackConfigurationError(RuntimeError):
    """The config file is missing or unusable: every call answers 500 until it is fixed."""


@dataclass(frozen=True)
class RequestField:
    """One declared field of the request (``requestFields``)."""

    name: str
    type: str
    required: bool = True


@dataclass(frozen=True)
class FallbackConfig:
    """The config file, checked; the settings of the other modes keep their defaults."""

    endpoint_name: str
    team: str
    mode: str
    timeout_ms: int
    request_fields: tuple[RequestField, ...]
    cache_table: str | None = None
    key_field: str | None = None
    ttl_seconds: int = 3600
    rules: tuple[dict, ...] = ()
    default: dict | None = None
    response: dict | None = None

    @classmethod
    def from_dict(cls, raw: Any) -> FallbackConfig:
        """Checks every key the handler relies on; an error names the key."""
        if not isinstance(raw, dict):
            raise FallbackConfigurationError("config is not a JSON object")

        def need(key: str, kind: type | tuple, where: dict = raw, prefix: str = "") -> Any:
            value = where.get(key)
            if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
                raise FallbackConfigurationError(f"config key {prefix}{key} is missing or not a {getattr(kind, '__name__', kind)}")
            return value

        mode = need("mode", str)
        if mode not in MODES:
            raise FallbackConfigurationError(f"config key mode is {mode!r}, not one of {', '.join(MODES)}")
        timeout_ms = need("timeoutMs", int)
        if timeout_ms <= 0:
            raise FallbackConfigurationError("config key timeoutMs must be positive")
        fields = []
        declared = raw.get("requestFields", [])
        if not isinstance(declared, list):
            raise FallbackConfigurationError("config key requestFields is not a list")
        for index, item in enumerate(declared):
            if not isinstance(item, dict):
                raise FallbackConfigurationError(f"config key requestFields[{index}] is not an object")
            name = need("name", str, item, f"requestFields[{index}].")
            kind = need("type", str, item, f"requestFields[{index}].")
            if kind not in FIELD_TYPES:
                raise FallbackConfigurationError(f"config key requestFields[{index}].type is {kind!r}")
            fields.append(RequestField(name, kind, bool(item.get("required", True))))
        settings: dict[str, Any] = {}
        if mode == "lastKnownGood":
            cache = need("cache", dict)
            settings = {"cache_table": need("table", str, cache, "cache."),
                        "key_field": need("keyField", str, cache, "cache."),
                        "ttl_seconds": need("ttlSeconds", int, cache, "cache.")}
            if settings["ttl_seconds"] <= 0:
                raise FallbackConfigurationError("config key cache.ttlSeconds must be positive")
        elif mode == "rules":
            rules = need("rules", list)
            for index, rule in enumerate(rules):
                _check_rule(rule, f"rules[{index}]")
            default = raw.get("default")
            if default is not None and not isinstance(default, dict):
                raise FallbackConfigurationError("config key default is not an object")
            settings = {"rules": tuple(rules), "default": default}
        else:
            settings = {"response": need("response", dict)}
        return cls(endpoint_name=need("endpointName", str), team=need("team", str), mode=mode,
                   timeout_ms=timeout_ms, request_fields=tuple(fields), **settings)


def _check_rule(rule: Any, where: str) -> None:
    """One entry of ``rules``: a response and a non-empty list of well-formed conditions."""
    if not isinstance(rule, dict) or not isinstance(rule.get("response"), dict):
        raise FallbackConfigurationError(f"config key {where}.response is missing or not an object")
    conditions = rule.get("when")
    if not isinstance(conditions, list) or not conditions:
        raise FallbackConfigurationError(f"config key {where}.when is missing or empty")
    for index, condition in enumerate(conditions):
        at = f"{where}.when[{index}]"
        if not isinstance(condition, dict) or not isinstance(condition.get("field"), str) or "value" not in condition:
            raise FallbackConfigurationError(f"config key {at} needs field, op and value")
        if condition.get("op") not in OPERATORS:
            raise FallbackConfigurationError(f"config key {at}.op is {condition.get('op')!r}, not one of {', '.join(OPERATORS)}")
        if (condition["op"] == "in") != isinstance(condition["value"], list):
            raise FallbackConfigurationError(f"config key {at}.value must be a list exactly when op is in")


def config_path() -> str:
    """:data:`.contract.CONFIG_ENV` if set, else the config file at the package root: the
    folder holding this package's folder (``/var/task`` in Lambda)."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.environ.get(CONFIG_ENV) or os.path.join(package_root, CONFIG_FILE)


def load_config(path: str | None = None) -> FallbackConfig:
    """Read and check the config file; any problem is a :class:`FallbackConfigurationError`
    naming the file (and the key)."""
    path = path or config_path()
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        raise FallbackConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise FallbackConfigurationError(f"{path} is not JSON: {exc}") from None
    try:
        return FallbackConfig.from_dict(raw)
    except FallbackConfigurationError as exc:
        raise FallbackConfigurationError(f"{path}: {exc}") from None
