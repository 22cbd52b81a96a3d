"""The serving fallback Lambda (issue 16): answers for the model when the model cannot.

The front door of an ``mtls`` endpoint with a ``fallback`` integrates this function
(API Gateway REST, Lambda proxy integration, payload 1.0) instead of the endpoint. It
validates the request, invokes the SageMaker endpoint with a short timeout and, when the
model is down, answers from the fallback, marks the answer degraded and counts it. Only
the standard library and boto3 are used (the Lambda python3.12 runtime provides both), so
the deployment package is this file plus its config file.

Deployment package: this file as ``fallback_handler.py`` plus ``fallback_config.json``
(:data:`CONFIG_FILE`) beside it, written by the component from the spec (the rule table
can exceed Lambda's 4 KB environment limit, so it is a file, not variables). The
environment variable :data:`CONFIG_ENV` may name another path (tests). Its keys:

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

The file is read once per cold start; an unusable file answers 500 (logged, naming the
key) and is read again on the next call.

Event: API Gateway REST proxy integration (payload 1.0); response ``statusCode``,
``headers``, ``body`` (``isBase64Encoded`` for a binary model answer). A degraded answer
carries :data:`DEGRADED_HEADER` ``: true`` and :data:`FALLBACK_HEADER` ``: <mode>`` and,
in the JSON body, ``"degraded": true`` and ``"fallback": "<mode>"``.

What a call answers
-------------------
* **400** the body is not (base64 of) UTF-8 JSON, not an object, lacks a required field,
  or a field has the wrong JSON type: ``{"error": ..., "field": ...}``. Fields not in
  ``requestFields`` are allowed and passed on. ``integer`` accepts whole numbers written
  with a fraction (``3.0``: JSON Schema's meaning); an optional field set to ``null`` is
  treated as absent; ``NaN``/``Infinity`` are not JSON and are refused.
* **200, the model's answer** (its body and content type) when InvokeEndpoint succeeds.
  In ``lastKnownGood`` mode the answer is also written to the cache table: partition key
  :data:`CACHE_KEY_ATTRIBUTE` = ``str(request[keyField])``, ``body`` (binary, the bytes
  the model sent), ``contentType``, ``storedAt`` and :data:`CACHE_EXPIRY_ATTRIBUTE`
  (epoch seconds, ``storedAt + ttlSeconds``, the table's TTL attribute). A failed cache
  write is logged and never fails the answer (an answer above DynamoDB's 400 KB item limit
  is simply not cached). A request without the key field is neither cached nor servable
  from the cache.
* **the model's 4xx** when InvokeEndpoint reports a ``ModelError`` whose
  ``OriginalStatusCode`` is 4xx: the model refused this request, which the caller must
  fix; its status is passed through with ``{"error": <the model's message>}``, no fallback.
* **the fallback** when the model is down, which is every other failure of the call:
  a read or connect timeout or a dropped connection; throttling (``ThrottlingException``,
  HTTP 429, ``ModelNotReadyException``); a ``ModelError`` whose original status is 5xx (or
  absent); ``ServiceUnavailable``, ``InternalFailure``, ``InternalDependencyException``
  or any 5xx of the runtime API. ``ValidationError`` (HTTP 400 of the runtime API, e.g.
  "Endpoint ... not found" while the endpoint is deleted, recreated or misnamed) also
  falls back: the body reached the API unchanged after passing the schema above, so what
  the API rejects is the endpoint or the call, which the caller can neither cause nor
  fix; the same holds for the remaining 4xx of the API (``AccessDeniedException`` of a
  broken role). Each of these is logged at ERROR with the reason and counted in
  :data:`METRIC_MODEL_FAILURES`, so a misconfiguration is paged, not hidden. (The error
  list is botocore's service model ``sagemaker-runtime/2017-05-13``: InternalFailure 500,
  ServiceUnavailable 503, ValidationError 400, ModelError 424 with OriginalStatusCode,
  InternalDependencyException 530, ModelNotReadyException 429.)

The fallback answers
--------------------
* ``lastKnownGood``: the cached answer for the request's key if its
  :data:`CACHE_EXPIRY_ATTRIBUTE` is still in the future (DynamoDB's TTL deletes expired
  items lazily, up to days later, so expiry is checked here); a JSON object answer gets
  the degraded fields added, any other answer is wrapped as ``{"response": <answer>}``;
  :data:`CACHED_AT_HEADER` gives the epoch second it was stored. No usable item: **503**.
* ``rules``: the first rule whose conditions all hold answers its response; no match
  answers ``default``, or **503** without one. A condition on a field absent from the
  request does not hold; ``lt``/``le``/``gt``/``ge`` hold only between numbers; equality
  (``eq``, ``ne``, ``in``) compares numbers as numbers (``1 == 1.0``) and never equates
  values of different JSON types (``true`` is not ``1``, ``"1"`` is not ``1``).
* ``static``: the response.

A 503 is degraded too: ``{"error": ..., "degraded": true, "fallback": <mode>}``. Every
degraded answer publishes :data:`METRIC_FALLBACK_ANSWERS` (and
:data:`METRIC_MODEL_FAILURES`), Count, dimensions :data:`DIMENSIONS`, in
:data:`NAMESPACE`; a failed PutMetricData is logged and never fails the answer.

Retries: the endpoint is invoked once (botocore standard mode, ``total_max_attempts``
1). A retried read timeout would take twice ``timeoutMs`` before the caller hears
anything, and retried throttling adds load to an endpoint that is already overloaded;
the fallback is the designed answer to a failed call. The usual reason for a spurious
single failure, a pooled connection the server has closed, is already handled below
botocore (urllib3 discards a pooled connection the peer closed before reusing it).
``read_timeout`` bounds each wait for the model's bytes (not the total transfer of a
trickling answer); ``connect_timeout`` is at most :data:`CONNECT_TIMEOUT_SECONDS`. The
function's own timeout must exceed ``timeoutMs`` plus the DynamoDB and CloudWatch calls
(:data:`AUX_TIMEOUT_SECONDS` to connect and to read, :data:`AUX_ATTEMPTS`):
:func:`function_timeout_seconds` gives the figure for the component. Clients honour
``AWS_ENDPOINT_URL`` and the per-service ``AWS_ENDPOINT_URL_<SERVICE>`` variables
(botocore's configured endpoint URLs), which the tests use to stay on loopback.

Permissions the function's role needs (:data:`IAM_ACTIONS`, for the component):
``sagemaker:InvokeEndpoint`` on the one endpoint; ``dynamodb:GetItem`` and
``dynamodb:PutItem`` on the cache table (lastKnownGood only); ``cloudwatch:PutMetricData``
(resource ``*``; restrict it with the condition key ``cloudwatch:namespace`` =
:data:`NAMESPACE`, which CloudWatch documents for exactly this); plus the usual log-group
writes of a Lambda.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Any

#: CloudWatch namespace and metrics the handler publishes (dimensions: Team, Endpoint).
NAMESPACE = "MLPlatform/Serving"
METRIC_FALLBACK_ANSWERS = "FallbackAnswers"
METRIC_MODEL_FAILURES = "ModelFailures"
DIMENSIONS = ("Team", "Endpoint")
#: Response headers of a degraded answer.
DEGRADED_HEADER = "X-Model-Degraded"
FALLBACK_HEADER = "X-Model-Fallback"
#: Response header of a lastKnownGood answer: epoch second the cached answer was stored.
CACHED_AT_HEADER = "X-Model-Cached-At"
#: The config file in the deployment package, and the variable that may point elsewhere (tests).
CONFIG_FILE = "fallback_config.json"
CONFIG_ENV = "FALLBACK_CONFIG"
#: The cache table: partition key (string) and the DynamoDB TTL attribute (epoch seconds).
CACHE_KEY_ATTRIBUTE = "requestKey"
CACHE_EXPIRY_ATTRIBUTE = "expiresAt"
#: Other attributes of a cache item.
CACHE_BODY_ATTRIBUTE = "body"
CACHE_CONTENT_TYPE_ATTRIBUTE = "contentType"
CACHE_STORED_ATTRIBUTE = "storedAt"

#: The API actions the handler calls, by what they are for (the component grants these only).
IAM_ACTIONS = {
    "model": ("sagemaker:InvokeEndpoint",),
    "cache": ("dynamodb:GetItem", "dynamodb:PutItem"),
    "metrics": ("cloudwatch:PutMetricData",),
}

MODES = ("lastKnownGood", "rules", "static")
FIELD_TYPES = ("string", "number", "integer", "boolean")
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in")
#: Upper bound of the TCP connect wait to the runtime API (a healthy in-region connect takes ms).
CONNECT_TIMEOUT_SECONDS = 1.0
#: Connect and read timeout of the DynamoDB and CloudWatch calls, which sit on the answer's path,
#: and their attempts: a cache read decides the answer (one retry), a metric does not (none).
AUX_TIMEOUT_SECONDS = 1.0
AUX_ATTEMPTS = {"dynamodb": 2, "cloudwatch": 1}
#: Error codes of the runtime API that mean "too many requests" (the model is saturated).
THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException",
                              "ModelNotReadyException"})
JSON_CONTENT_TYPE = "application/json"

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)


def function_timeout_seconds(timeout_ms: int) -> int:
    """Lambda timeout that lets the slowest complete call still answer: the model's connect
    and read timeouts, then the DynamoDB call (read on a failure, write on success) and the
    metric, each at their worst, and a second for the rest."""
    model = min(CONNECT_TIMEOUT_SECONDS, timeout_ms / 1000) + timeout_ms / 1000
    auxiliary = sum(attempts * 2 * AUX_TIMEOUT_SECONDS for attempts in AUX_ATTEMPTS.values())
    return math.ceil(model + auxiliary + 1)


class FallbackConfigurationError(RuntimeError):
    """The config file is missing or unusable: every call answers 500 until it is fixed."""


class BadRequest(ValueError):
    """The caller's request breaks the request schema (answered 400)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class RequestField:
    name: str
    type: str
    required: bool = True


@dataclass(frozen=True)
class FallbackConfig:
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
    return os.environ.get(CONFIG_ENV) or os.path.join(os.path.dirname(os.path.abspath(__file__)), CONFIG_FILE)


def load_config(path: str | None = None) -> FallbackConfig:
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


# Module state of one execution environment: the config and the clients are made on the
# first call and reused by every later call of the same environment (warm starts).
_config: FallbackConfig | None = None
_clients: dict[str, Any] = {}


def reset() -> None:
    """Forget the config and clients (tests change the config and endpoints between calls)."""
    global _config
    _config = None
    _clients.clear()


def current_config() -> FallbackConfig:
    global _config
    if _config is None:
        _config = load_config()
    return _config


def _client(service: str, config: FallbackConfig) -> Any:
    client = _clients.get(service)
    if client is None:
        import boto3  # provided by the Lambda runtime
        from botocore.config import Config

        if service == "sagemaker-runtime":
            read = config.timeout_ms / 1000
            settings = Config(read_timeout=read, connect_timeout=min(CONNECT_TIMEOUT_SECONDS, read),
                              retries={"mode": "standard", "total_max_attempts": 1})
        else:
            settings = Config(read_timeout=AUX_TIMEOUT_SECONDS, connect_timeout=AUX_TIMEOUT_SECONDS,
                              retries={"mode": "standard", "total_max_attempts": AUX_ATTEMPTS[service]})
        client = _clients[service] = boto3.client(service, config=settings)
    return client


# ---------------------------------------------------------------- the request


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


def _json_type(value: Any) -> str:
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


def _fits(value: Any, kind: str) -> bool:
    actual = _json_type(value)
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
        raise BadRequest(f"the request body must be a JSON object, not {_json_type(request)}")
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
            raise BadRequest(f"field '{spec.name}' must be a {spec.type}, not {_json_type(value)}", spec.name)
        if spec.type == "integer" and isinstance(value, float):
            request[spec.name] = int(value)  # 3.0 is the integer 3 (the cache key reads "3")
    return request


# ---------------------------------------------------------------- rules


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(left: Any, right: Any) -> bool:
    """JSON equality: numbers as numbers, otherwise only values of one JSON type."""
    if _is_number(left) and _is_number(right):
        return left == right
    return _json_type(left) == _json_type(right) and left == right


def condition_holds(condition: dict, request: dict) -> bool:
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
    if not (_is_number(actual) and _is_number(expected)):
        return False
    return {"lt": actual < expected, "le": actual <= expected,
            "gt": actual > expected, "ge": actual >= expected}[op]


def matching_rule(rules: tuple[dict, ...], request: dict) -> dict | None:
    """The first rule all of whose conditions hold, or None."""
    for rule in rules:
        if all(condition_holds(condition, request) for condition in rule["when"]):
            return rule
    return None


# ---------------------------------------------------------------- responses


def _json_response(status: int, payload: Any, headers: dict | None = None) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})},
            "body": json.dumps(payload, separators=(",", ":")), "isBase64Encoded": False}


def _is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("text/") or any(word in kind for word in ("json", "xml", "csv"))  # +json, jsonlines


def _body_response(status: int, body: bytes, content_type: str, headers: dict | None = None) -> dict[str, Any]:
    """A proxy response carrying bytes: text as is, anything else base64-encoded."""
    all_headers = {"Content-Type": content_type, **(headers or {})}
    if _is_text(content_type):
        try:
            return {"statusCode": status, "headers": all_headers, "body": body.decode("utf-8"), "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"statusCode": status, "headers": all_headers, "body": base64.b64encode(body).decode("ascii"),
            "isBase64Encoded": True}


def _degraded(mode: str, status: int, payload: dict, extra_headers: dict | None = None) -> dict[str, Any]:
    headers = {DEGRADED_HEADER: "true", FALLBACK_HEADER: mode, **(extra_headers or {})}
    return _json_response(status, {**payload, "degraded": True, "fallback": mode}, headers)


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class ModelOutcome:
    """What the call to the endpoint gave: an answer, a 4xx refusal, or a failure."""

    kind: str  # "answer" | "refused" | "down"
    status: int = 200
    body: bytes = b""
    content_type: str = JSON_CONTENT_TYPE
    reason: str = ""


def classify_error(exc: Exception) -> ModelOutcome:
    """Refused (a 4xx ModelError: the caller's problem) or down (everything else)."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):  # timeouts, refused or dropped connections
        return ModelOutcome("down", reason=f"{type(exc).__name__}: {exc}")
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code == "ModelError":
        original = exc.response.get("OriginalStatusCode")
        message = exc.response.get("OriginalMessage") or error.get("Message") or "the model refused the request"
        if isinstance(original, int) and 400 <= original < 500:
            return ModelOutcome("refused", status=original, body=message.encode("utf-8"))
        return ModelOutcome("down", reason=f"ModelError (model status {original}): {message}"[:500])
    if code in THROTTLING_CODES or status == 429:
        return ModelOutcome("down", reason=f"throttled ({code or status})")
    return ModelOutcome("down", reason=f"{code or 'HTTP ' + str(status)} ({status}): {error.get('Message', '')}"[:500])


def invoke_model(config: FallbackConfig, body: bytes) -> ModelOutcome:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = _client("sagemaker-runtime", config).invoke_endpoint(
            EndpointName=config.endpoint_name, ContentType=JSON_CONTENT_TYPE, Body=body)
        data = answer["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        return classify_error(exc)
    return ModelOutcome("answer", body=data, content_type=answer.get("ContentType") or JSON_CONTENT_TYPE)


# ---------------------------------------------------------------- the cache


def cache_key(config: FallbackConfig, request: dict) -> str | None:
    if config.key_field is None or request.get(config.key_field) is None:
        return None
    return str(request[config.key_field])


def remember(config: FallbackConfig, key: str, outcome: ModelOutcome, now: float) -> None:
    """Write the model's answer for ``key`` (failures are logged, never raised)."""
    stored = int(now)
    try:
        _client("dynamodb", config).put_item(TableName=config.cache_table, Item={
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
        item = _client("dynamodb", config).get_item(
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


def _cached_payload(body: bytes) -> dict:
    """A cached answer as a JSON object: the object itself, or ``{"response": <answer>}``."""
    text = body.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = text
    return value if isinstance(value, dict) else {"response": value}


# ---------------------------------------------------------------- fallback and metrics


def fallback_answer(config: FallbackConfig, request: dict, now: float) -> dict[str, Any]:
    mode = config.mode
    if mode == "static":
        return _degraded(mode, 200, config.response)
    if mode == "rules":
        rule = matching_rule(config.rules, request)
        if rule is not None:
            return _degraded(mode, 200, rule["response"])
        if config.default is not None:
            return _degraded(mode, 200, config.default)
        return _degraded(mode, 503, {"error": "the model is unavailable and no fallback rule matches the request"})
    key = cache_key(config, request)
    cached = recall(config, key, now) if key is not None else None
    if cached is None:
        return _degraded(mode, 503, {"error": "the model is unavailable and no recent answer is cached for "
                                              f"{config.key_field}"})
    return _degraded(mode, 200, _cached_payload(cached["body"]), {CACHED_AT_HEADER: str(cached["storedAt"])})


def publish_degraded(config: FallbackConfig, model_failed: bool) -> None:
    """Count one degraded answer (and the model failure behind it); never raises."""
    dimensions = [{"Name": "Team", "Value": config.team}, {"Name": "Endpoint", "Value": config.endpoint_name}]
    names = [METRIC_FALLBACK_ANSWERS] + ([METRIC_MODEL_FAILURES] if model_failed else [])
    try:
        _client("cloudwatch", config).put_metric_data(Namespace=NAMESPACE, MetricData=[
            {"MetricName": name, "Dimensions": dimensions, "Value": 1.0, "Unit": "Count"} for name in names])
    except Exception as exc:  # noqa: BLE001 - the answer matters more than its count
        log.error("metric publication for %s failed: %s: %s", config.endpoint_name, type(exc).__name__, exc)


# ---------------------------------------------------------------- entry point


def answer(event: Any, config: FallbackConfig) -> dict[str, Any]:
    try:
        body = read_body(event)
        request = parse_request(body, config.request_fields)
    except BadRequest as exc:
        payload = {"error": str(exc)}
        if exc.field is not None:
            payload["field"] = exc.field
        return _json_response(400, payload)
    outcome = invoke_model(config, body)
    now = time.time()
    if outcome.kind == "answer":
        if config.mode == "lastKnownGood":
            key = cache_key(config, request)
            if key is not None:
                remember(config, key, outcome, now)
        return _body_response(200, outcome.body, outcome.content_type)
    if outcome.kind == "refused":
        return _json_response(outcome.status, {"error": outcome.body.decode("utf-8", errors="replace")})
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
        return _json_response(500, {"error": "internal error"})


__all__ = [
    "FallbackConfig",
    "FallbackConfigurationError",
    "condition_holds",
    "handler",
    "load_config",
    "matching_rule",
    "parse_request",
    "reset",
]
