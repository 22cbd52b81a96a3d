"""The serving edge of an endpoint (issue 16): who may call it from outside AWS, what a
caller gets when the model is down, and the request shape both depend on.

* ``request`` names the fields of the JSON object callers send. Fallback rules and the
  last-known-good cache key refer to these fields, so a typo is a spec error, not a rule
  that silently never matches.
* ``exposure`` is ``private`` (default: SigV4 ``InvokeEndpoint`` inside the account, as
  before) or ``mtls``: a front door on API Gateway with a custom domain whose mutual-TLS
  truststore is an object in the team's KMS-encrypted bucket (``truststores/…pem``), a
  TLS 1.2 security policy, the default execute-api endpoint disabled, WAF with AWS managed
  rule groups and a rate limit, and access logs to an encrypted log group. The stack
  names the hosted zone and certificate (``mlplatform:edge``).
* ``fallback`` (only behind an ``mtls`` front door, which serves it through a Lambda in
  front of the endpoint) answers when the model times out, throttles or fails with a 5xx:
  ``lastKnownGood`` from a cache of recent answers keyed by one request field,
  ``rules`` from a small ordered rule table, or ``static`` with a fixed response. Every
  fallback answer is marked degraded and counted; the count pages the team's critical
  route above ``alarmThreshold`` answers in five minutes.

Rules that need the endpoint's mode (mtls only for realtime, no fallback on batch) are
checked by :class:`mlplatform.spec.models.Endpoint`, which calls :func:`edge_problems`.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import Field, model_validator

from ..runtime.fallback.environment import max_model_timeout_ms
from .base import NAME, RuleViolation, SpecModel

#: A request field name as JSON callers send it: letters, digits and underscores.
REQUEST_FIELD = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
#: A truststore: a PEM bundle under truststores/ in the team's artifact bucket (no other bucket).
TRUSTSTORE_KEY = r"^truststores/[A-Za-z0-9._/-]+\.pem$"
#: Comparison operators of a fallback rule condition.
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in")

JsonScalar = Union[str, int, float, bool]


class RequestField(SpecModel):
    """One field of the JSON object a caller sends."""

    name: str = Field(pattern=REQUEST_FIELD, description="Field name as callers send it.")
    type: Literal["string", "number", "integer", "boolean"] = Field(description="JSON type of the value.")
    required: bool = Field(default=True, description="Whether every request carries the field. Defaults to true.")


class RequestSchema(SpecModel):
    """The shape of a request body (a JSON object)."""

    fields: list[RequestField] = Field(min_length=1, max_length=200, description="Fields of the request object.")

    @model_validator(mode="after")
    def _unique(self) -> "RequestSchema":
        seen: set[str] = set()
        for index, item in enumerate(self.fields):
            if item.name in seen:
                raise RuleViolation(("fields", index, "name"), f"field '{item.name}' is listed twice")
            seen.add(item.name)
        return self

    def field_names(self) -> list[str]:
        return [item.name for item in self.fields]


class Exposure(SpecModel):
    """How callers reach the endpoint."""

    mode: Literal["private", "mtls"] = Field(
        default="private",
        description="private: SigV4 InvokeEndpoint inside the account only (default); mtls: an API Gateway front "
                    "door on <domainPrefix>.<stack edge domain> that requires a client certificate.",
    )
    domain_prefix: Optional[str] = Field(
        default=None, pattern=NAME, max_length=63,
        description="First label of the front door's host name; required with mode mtls.",
    )
    truststore: Optional[str] = Field(
        default=None, pattern=TRUSTSTORE_KEY, max_length=512,
        description="Object key of the PEM bundle of trusted client CAs in the team's artifact bucket "
                    "(truststores/....pem); required with mode mtls.",
    )
    rate_limit_per_five_minutes: int = Field(
        default=2000, ge=100, le=2_000_000_000,
        description="WAF rate limit: requests one client IP may send in five minutes before it is blocked. "
                    "Defaults to 2000.",
    )

    @model_validator(mode="after")
    def _mtls_settings(self) -> "Exposure":
        if self.mode == "mtls":
            for field, alias in (("domain_prefix", "domainPrefix"), ("truststore", "truststore")):
                if getattr(self, field) is None:
                    raise RuleViolation((alias,), f"exposure mode mtls needs {alias}")
        else:
            for field, alias in (("domain_prefix", "domainPrefix"), ("truststore", "truststore"),
                                 ("rate_limit_per_five_minutes", "rateLimitPerFiveMinutes")):
                if field in self.model_fields_set:
                    raise RuleViolation((alias,), f"{alias} applies to exposure mode mtls, not {self.mode}")
        return self


class FallbackCondition(SpecModel):
    """One test of a request field; a rule matches when all of its conditions hold."""

    field: str = Field(pattern=REQUEST_FIELD, description="Request field tested (one of request.fields).")
    op: Literal["eq", "ne", "lt", "le", "gt", "ge", "in"] = Field(
        description="eq, ne, lt, le, gt, ge, or in (value is a list)."
    )
    value: Union[JsonScalar, list[JsonScalar]] = Field(description="Value compared with; a list for in.")

    @model_validator(mode="after")
    def _value_fits_op(self) -> "FallbackCondition":
        if (self.op == "in") != isinstance(self.value, list):
            raise RuleViolation(("value",), "op in takes a list of values" if self.op == "in"
                                else f"op {self.op} takes one value, not a list")
        if self.op in ("lt", "le", "gt", "ge") and (isinstance(self.value, bool) or not isinstance(self.value, (int, float))):
            raise RuleViolation(("value",), f"op {self.op} compares numbers; {self.value!r} is not a number")
        return self


class FallbackRule(SpecModel):
    """A row of the rule table: when every condition holds, answer ``response``."""

    when: list[FallbackCondition] = Field(min_length=1, max_length=20, description="Conditions, all of which must hold.")
    response: dict[str, Any] = Field(description="JSON object answered when the rule matches.")


class Fallback(SpecModel):
    """What a caller gets when the model times out, throttles or fails with a 5xx."""

    mode: Literal["lastKnownGood", "rules", "static"] = Field(
        description="lastKnownGood (recent answer for the same key), rules (first matching rule) or static."
    )
    key_field: Optional[str] = Field(
        default=None, pattern=REQUEST_FIELD,
        description="lastKnownGood: request field whose value keys the cache of answers (one of request.fields).",
    )
    ttl_minutes: int = Field(
        default=60, ge=1, le=10080,
        description="lastKnownGood: how long a cached answer may be served, in minutes (at most a week). Defaults to 60.",
    )
    rules: list[FallbackRule] = Field(
        default_factory=list, max_length=50, description="rules: the rule table, evaluated in order; first match answers."
    )
    default: Optional[dict[str, Any]] = Field(
        default=None, description="rules: JSON object answered when no rule matches; unset answers 503.",
    )
    response: Optional[dict[str, Any]] = Field(default=None, description="static: the JSON object always answered.")
    timeout_ms: int = Field(
        default=2000, ge=100, le=max_model_timeout_ms(),
        description=(f"How long the model may take before the fallback answers, in ms. Defaults to 2000. At most "
                     f"{max_model_timeout_ms()}: after the model's wait the fallback still reads its cache and "
                     "counts the answer, and all of it must fit API Gateway's 29-second integration timeout."),
    )
    alarm_threshold: int = Field(
        default=10, ge=1, le=1_000_000,
        description="Fallback answers in five minutes that page the team's critical route. Defaults to 10.",
    )

    @model_validator(mode="after")
    def _mode_settings(self) -> "Fallback":
        own = {"lastKnownGood": {"key_field", "ttl_minutes"}, "rules": {"rules", "default"}, "static": {"response"}}
        aliases = {"key_field": "keyField", "ttl_minutes": "ttlMinutes", "rules": "rules", "default": "default",
                   "response": "response"}
        for mode, fields in own.items():
            if mode == self.mode:
                continue
            for field in sorted(fields & self.model_fields_set):
                raise RuleViolation((aliases[field],), f"{aliases[field]} applies to fallback mode {mode}, not {self.mode}")
        if self.mode == "lastKnownGood" and self.key_field is None:
            raise RuleViolation(("keyField",), "fallback mode lastKnownGood needs keyField (the request field that keys the cache)")
        if self.mode == "rules" and not self.rules:
            raise RuleViolation(("rules",), "fallback mode rules needs at least one rule")
        if self.mode == "static" and self.response is None:
            raise RuleViolation(("response",), "fallback mode static needs response")
        return self

    def request_fields_used(self) -> list[tuple[tuple[Any, ...], str]]:
        """(path below ``fallback``, field name) of every request field the fallback reads."""
        used: list[tuple[tuple[Any, ...], str]] = []
        if self.key_field is not None:
            used.append((("keyField",), self.key_field))
        for rule_index, rule in enumerate(self.rules):
            for condition_index, condition in enumerate(rule.when):
                used.append((("rules", rule_index, "when", condition_index, "field"), condition.field))
        return used


def edge_problems(mode: str, request: Optional[RequestSchema], exposure: Exposure,
                  fallback: Optional[Fallback]) -> Optional[RuleViolation]:
    """The first serving-edge rule an endpoint of ``mode`` breaks, or None."""
    if exposure.mode == "mtls" and mode != "realtime":
        return RuleViolation(("exposure", "mode"),
                             f"exposure mtls fronts realtime endpoints; a {mode} endpoint is reached with SigV4 only")
    if fallback is None:
        return None
    if mode == "batch":
        return RuleViolation(("fallback",), "a batch endpoint answers no caller, so it takes no fallback")
    if exposure.mode != "mtls":
        return RuleViolation(("fallback",), "the fallback is served by the front door: set exposure.mode: mtls")
    used = fallback.request_fields_used()
    if used and request is None:
        path, _ = used[0]
        return RuleViolation(("fallback", *path), f"fallback mode {fallback.mode} reads request fields: "
                                                  "declare them in request.fields")
    known = request.field_names() if request is not None else []
    for path, name in used:
        if name not in known:
            return RuleViolation(("fallback", *path),
                                 f"'{name}' is not a field of request.fields (fields: {', '.join(known)})")
    return None
