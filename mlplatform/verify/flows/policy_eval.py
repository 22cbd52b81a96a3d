"""AWS's documented policy evaluation logic for one request, with three-valued answers.

Why our own evaluator: the Python packages that exist do not evaluate requests the way a
proof needs. moto's ``IAMPolicyStatement`` (moto.iam.access_control) knows only
``StringEquals`` and *ignores* every other condition operator (an unknown operator counts
as satisfied), which would turn what we cannot evaluate into a pass; ``policyuniverse`` and
``iampoliciesgonewild`` expand actions but evaluate no request; ``iam-ape`` computes
effective permission sets from an account's authorization details, not a request with its
context; the one complete simulator (cloud-copilot ``iam-simulate``) is a Node library.
So this module implements the part of the logic the estate uses, and says *unknown*
whenever it meets anything else. Unknown is never allowed.

The logic (IAM User Guide, "Policy evaluation logic", "Condition operators", "Conditions
with multiple context keys or values"; KMS Developer Guide, "Key policies"):

* an explicit ``Deny`` in any applicable policy wins;
* same account: allowed when an identity policy *or* the resource policy allows. A
  resource-policy statement whose principal is the *account* (``arn:aws:iam::ACCOUNT:root``
  or the bare account id) delegates to IAM: it allows only together with an identity policy;
* KMS: the key policy must allow, either naming the principal, or by delegating to the
  account (then an identity policy must allow as well); an identity policy alone never does;
* a service principal (``logging.s3.amazonaws.com``) has no identity policy: only a resource
  policy naming it allows;
* conditions: operators in a statement AND; keys under an operator AND; values of a key OR
  (NOR for negated operators); a key missing from the request makes a positive operator
  false and a negated one true, except ``...IfExists`` (true when missing) and ``Null``;
  ``ForAnyValue:`` / ``ForAllValues:`` for multivalued keys (ForAllValues is true for a
  missing key, ForAnyValue false). ``ArnEquals`` and ``ArnLike`` both match per ARN part
  with wildcards. Policy variables ``${key}`` are substituted from the request.

A request context maps lower-cased key names to a tuple of values, or to ``None`` when the
key is known to be absent. A key the request neither carries nor declares absent (and that
no declared-complete namespace covers) is *not modelled*: a condition on it is unknown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

ALLOWED, DENIED, UNPROVEN = "allowed", "denied", "unproven"

#: Three-valued truth: True, False or None (unknown).
Truth = Optional[bool]

SUPPORTED_BASE_OPERATORS = frozenset({
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Bool",
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "Null",
})
NEGATED = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
                     "ArnNotLike", "NumericNotEquals"})


class PolicyDocumentError(ValueError):
    """A policy document that is not JSON or not shaped like an IAM policy."""


# ---------------------------------------------------------------- the request

@dataclass(frozen=True)
class Principal:
    """Who makes the request: an IAM role (``arn``) or an AWS service (``service``)."""

    arn: Optional[str] = None
    service: Optional[str] = None

    @property
    def account(self) -> Optional[str]:
        if self.arn:
            parts = self.arn.split(":")
            return parts[4] if len(parts) > 4 else None
        return None

    def __str__(self) -> str:
        return self.arn or f"service {self.service}"


@dataclass(frozen=True)
class Request:
    """One API request: principal, action, resource ARN and request context."""

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, Optional[tuple[str, ...]]] = field(default_factory=dict)
    #: lower-cased key prefixes whose keys the request carries completely: a key under one
    #: of them that is not in ``context`` is absent, not unknown (e.g. "aws:principaltag/")
    complete_prefixes: tuple[str, ...] = ()

    def lookup(self, key: str) -> tuple[str, Optional[tuple[str, ...]]]:
        """("present"|"absent"|"unknown", values) for a condition key."""
        name = key.lower()
        if name in self.context:
            values = self.context[name]
            return ("absent", None) if values is None else ("present", values)
        if any(name.startswith(prefix) for prefix in self.complete_prefixes):
            return "absent", None
        return "unknown", None


def make_context(values: Mapping[str, Union[None, str, bool, int, Sequence[str]]]) -> dict[str, Optional[tuple[str, ...]]]:
    """Normalise a context: lower-case key names, values as tuples of strings, None for absent."""
    out: dict[str, Optional[tuple[str, ...]]] = {}
    for key, value in values.items():
        if value is None:
            out[key.lower()] = None
        elif isinstance(value, bool):
            out[key.lower()] = ("true" if value else "false",)
        elif isinstance(value, (str, int)):
            out[key.lower()] = (str(value),)
        else:
            out[key.lower()] = tuple(str(item) for item in value)
    return out


# ---------------------------------------------------------------- documents

@dataclass(frozen=True)
class Policy:
    """A parsed policy document and where it came from (for messages)."""

    label: str
    statements: tuple[dict, ...]

    @classmethod
    def parse(cls, label: str, document: Union[str, Mapping[str, Any]]) -> "Policy":
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except ValueError as exc:
                raise PolicyDocumentError(f"{label}: not JSON ({exc})") from None
        if not isinstance(document, Mapping) or "Statement" not in document:
            raise PolicyDocumentError(f"{label}: no Statement")
        statements = document["Statement"]
        if isinstance(statements, Mapping):
            statements = [statements]
        if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
            raise PolicyDocumentError(f"{label}: Statement is not a list of objects")
        for statement in statements:
            if statement.get("Effect") not in ("Allow", "Deny"):
                raise PolicyDocumentError(f"{label}: statement {statement.get('Sid', '')} has no Allow/Deny effect")
        return cls(label, tuple(dict(s) for s in statements))


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _wildcard(pattern: str, text: str, ignore_case: bool = False) -> bool:
    """IAM wildcard match: ``*`` any run, ``?`` one character, nothing else special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _statement_names(statement: Mapping, element: str, value: str, ignore_case: bool) -> Optional[bool]:
    """Does Action/Resource (or their Not* form) of the statement cover ``value``? None if absent."""
    if element in statement:
        return any(_wildcard(p, value, ignore_case) for p in _as_list(statement[element]))
    negated = "Not" + element
    if negated in statement:
        return not any(_wildcard(p, value, ignore_case) for p in _as_list(statement[negated]))
    return None


# ---------------------------------------------------------------- principals

DIRECT, ACCOUNT, NONE = "direct", "account", "none"


def _principal_match(statement: Mapping, principal: Principal) -> str:
    """How a resource-policy statement's principal covers the request's: directly, through
    the account (delegation to IAM), or not at all."""
    if "Principal" in statement:
        return _principal_entries_match(statement["Principal"], principal)
    if "NotPrincipal" in statement:
        return NONE if _principal_entries_match(statement["NotPrincipal"], principal) != NONE else DIRECT
    return NONE


def _principal_entries_match(entries: Any, principal: Principal) -> str:
    if entries == "*":
        return DIRECT
    if not isinstance(entries, Mapping):
        return NONE
    best = NONE
    if principal.service:
        if any(_wildcard(v, principal.service) if v == "*" else v == principal.service
               for v in _as_list(entries.get("Service"))):
            return DIRECT
        return NONE
    for value in _as_list(entries.get("AWS")):
        if value == "*" or value == principal.arn:
            return DIRECT
        account = principal.account
        if account and value in (account, f"arn:aws:iam::{account}:root"):
            best = ACCOUNT
    return best


# ---------------------------------------------------------------- conditions

@dataclass(frozen=True)
class ConditionResult:
    truth: Truth
    reason: str = ""  # why unknown, or which clause failed


def evaluate_conditions(conditions: Mapping[str, Any], request: Request) -> ConditionResult:
    """AND over operators and keys; the first false clause decides, unknown otherwise."""
    unknown: Optional[str] = None
    for operator, entries in conditions.items():
        if not isinstance(entries, Mapping):
            return ConditionResult(None, f"condition operator {operator} has no key map")
        for key, policy_values in entries.items():
            result = _evaluate_clause(operator, key, _as_list(policy_values), request)
            if result.truth is False:
                return result
            if result.truth is None and unknown is None:
                unknown = result.reason
    return ConditionResult(None, unknown) if unknown else ConditionResult(True)


def _evaluate_clause(operator: str, key: str, policy_values: list, request: Request) -> ConditionResult:
    qualifier, _, base = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        return ConditionResult(None, f"condition operator {operator} is not evaluated")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in SUPPORTED_BASE_OPERATORS or (base == "Null" and (if_exists or qualifier)):
        return ConditionResult(None, f"condition operator {operator} is not evaluated")
    state, values = request.lookup(key)
    if state == "unknown":
        return ConditionResult(None, f"condition key {key} ({operator}) is not modelled for this request")
    clause = f"{operator} {key} {policy_values}"
    if base == "Null":
        wants_absent = str(policy_values[0]).lower() == "true" if policy_values else True
        return ConditionResult((state == "absent") == wants_absent, clause)
    if state == "absent" or not values:
        if qualifier == "ForAllValues":
            return ConditionResult(True)
        if qualifier == "ForAnyValue":
            return ConditionResult(False, f"{clause}: key absent")
        if if_exists:
            return ConditionResult(True)
        return ConditionResult(base in NEGATED, f"{clause}: key absent")
    resolved = []
    for value in policy_values:
        substituted = _substitute(str(value) if not isinstance(value, bool) else str(value).lower(), request)
        if substituted is None:
            return ConditionResult(None, f"policy variable in {value!r} is not modelled for this request")
        resolved.append(substituted)
    try:
        if qualifier == "ForAnyValue":
            truth = any(_single(base, v, resolved) for v in values)
        elif qualifier == "ForAllValues":
            truth = all(_single(base, v, resolved) for v in values)
        else:
            if len(values) > 1:
                return ConditionResult(None, f"{key} has several values; {operator} needs ForAnyValue/ForAllValues")
            truth = _single(base, values[0], resolved)
    except ValueError as exc:
        return ConditionResult(None, f"{clause}: {exc}")
    return ConditionResult(truth, clause if not truth else "")


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _substitute(value: str, request: Request) -> Optional[str]:
    """Replace ``${key}`` with the request's value; ``${*}``, ``${?}``, ``${$}`` are escapes."""
    failed = False

    def replace(match: re.Match) -> str:
        nonlocal failed
        name = match.group(1)
        if name in ("*", "?", "$"):
            return name
        state, values = request.lookup(name)
        if state != "present" or len(values) != 1:
            failed = True
            return ""
        return values[0]

    out = _VARIABLE.sub(replace, value)
    return None if failed else out


def _single(base: str, actual: str, policy_values: list[str]) -> bool:
    """One request value against the statement's values (OR; NOR for negated operators)."""
    positive = base.replace("Not", "", 1)
    matched = any(_match_value(positive, actual, value) for value in policy_values)
    return not matched if base in NEGATED else matched


def _match_value(base: str, actual: str, expected: str) -> bool:
    if base == "StringEquals":
        return actual == expected
    if base == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if base == "StringLike":
        return _wildcard(expected, actual)
    if base in ("ArnEquals", "ArnLike"):
        expected_parts, actual_parts = expected.split(":", 5), actual.split(":", 5)
        return (len(expected_parts) == 6 == len(actual_parts)
                and all(_wildcard(e, a) for e, a in zip(expected_parts, actual_parts)))
    if base == "Bool":
        return actual.lower() == expected.lower()
    if base.startswith("Numeric"):
        left, right = float(actual), float(expected)
        return {
            "NumericEquals": left == right, "NumericLessThan": left < right,
            "NumericLessThanEquals": left <= right, "NumericGreaterThan": left > right,
            "NumericGreaterThanEquals": left >= right,
        }[base]
    raise ValueError(f"operator {base} is not evaluated")


# ---------------------------------------------------------------- statements and decisions

@dataclass(frozen=True)
class StatementHit:
    """A statement that applies to the request (truth None: it might, we cannot tell)."""

    policy: str
    sid: str
    effect: str
    truth: Truth
    reason: str = ""
    principal_match: str = DIRECT

    def describe(self) -> str:
        return f"{self.policy} statement {self.sid or '(no Sid)'}"


def _statement_hits(policy: Policy, request: Request, resource_policy: bool) -> tuple[list[StatementHit], list[str]]:
    """Statements of ``policy`` that match action, resource and principal; the conditions'
    verdict is the hit's truth. Also the reasons statements for this action did not apply."""
    hits: list[StatementHit] = []
    misses: list[str] = []
    for statement in policy.statements:
        sid = str(statement.get("Sid", ""))
        if not _statement_names(statement, "Action", request.action, ignore_case=True):
            continue
        covers = _statement_names(statement, "Resource", request.resource, ignore_case=False)
        if covers is False or (covers is None and not resource_policy):
            misses.append(f"{policy.label} {sid or 'statement'}: resource does not cover {request.resource}")
            continue
        match = DIRECT
        if resource_policy:
            match = _principal_match(statement, request.principal)
            if match == NONE:
                continue
        result = evaluate_conditions(statement.get("Condition") or {}, request)
        if result.truth is False:
            misses.append(f"{policy.label} {sid or 'statement'}: condition {result.reason} does not hold")
        hits.append(StatementHit(policy.label, sid, statement["Effect"], result.truth, result.reason, match))
    return hits, misses


@dataclass(frozen=True)
class Decision:
    """The outcome of one request with the statements that decided it and, when it is not
    allowed, what is missing."""

    outcome: str
    reason: str
    granted_by: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED


def _any(truths: Iterable[Truth]) -> Truth:
    values = list(truths)
    if any(value is True for value in values):
        return True
    return None if any(value is None for value in values) else False


def evaluate(
    request: Request,
    identity_policies: Optional[Sequence[Policy]],
    resource_policy: Optional[Policy] = None,
    *,
    key_policy: bool = False,
    identity_note: str = "",
) -> Decision:
    """Decide ``request``.

    ``identity_policies``: every identity policy of the principal; ``None`` when they are
    not all in the plan (an allow then cannot rest on them, a missing allow is unproven).
    ``resource_policy``: the bucket/topic/trust policy, or the key policy with
    ``key_policy=True`` (which then *must* allow, directly or by delegation).
    """
    identity_hits: list[StatementHit] = []
    resource_hits: list[StatementHit] = []
    misses: list[str] = []
    is_service = request.principal.service is not None
    for policy in identity_policies or ():
        if is_service:
            break
        hits, missed = _statement_hits(policy, request, resource_policy=False)
        identity_hits += hits
        misses += missed
    if resource_policy is not None:
        hits, missed = _statement_hits(resource_policy, request, resource_policy=True)
        resource_hits += hits
        misses += missed
    denies = [hit for hit in identity_hits + resource_hits if hit.effect == "Deny"]
    sure_deny = [hit for hit in denies if hit.truth is True]
    if sure_deny:
        return Decision(DENIED, f"explicitly denied by {sure_deny[0].describe()}")

    identity_allows = [hit for hit in identity_hits if hit.effect == "Allow"]
    direct = [hit for hit in resource_hits if hit.effect == "Allow" and hit.principal_match == DIRECT]
    delegated = [hit for hit in resource_hits if hit.effect == "Allow" and hit.principal_match == ACCOUNT]
    identity_truth: Truth = _any(hit.truth for hit in identity_allows)
    if identity_policies is None and not is_service and identity_truth is not True:
        identity_truth = None  # policies outside the plan might allow
    direct_truth = _any(hit.truth for hit in direct)
    delegated_truth = _any(hit.truth for hit in delegated)
    if key_policy:
        allow_truth = _or(direct_truth, _and(delegated_truth, identity_truth))
    elif is_service:
        allow_truth = direct_truth
    else:
        allow_truth = _or(identity_truth, direct_truth)

    granted = tuple(hit.describe() for hit in identity_allows + direct + delegated if hit.truth is True)
    unsure_deny = [hit for hit in denies if hit.truth is None]
    if allow_truth is False:
        return Decision(DENIED, _missing(request, key_policy, is_service, direct_truth, delegated_truth,
                                         identity_truth, misses, identity_note))
    if allow_truth is None:
        reasons = [hit.reason for hit in identity_allows + direct + delegated if hit.truth is None and hit.reason]
        if identity_policies is None and not reasons:
            reasons = [identity_note or "the principal's identity policies are not all in the plan"]
        return Decision(UNPROVEN, "; ".join(dict.fromkeys(reasons)) or "cannot be decided")
    if unsure_deny:
        return Decision(UNPROVEN, f"{unsure_deny[0].describe()} may deny: {unsure_deny[0].reason}", granted)
    return Decision(ALLOWED, "allowed by " + ", ".join(dict.fromkeys(granted)), granted)


def _or(a: Truth, b: Truth) -> Truth:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _and(a: Truth, b: Truth) -> Truth:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _missing(request: Request, key_policy: bool, is_service: bool, direct: Truth, delegated: Truth,
             identity: Truth, misses: list[str], identity_note: str) -> str:
    what = f"{request.principal} is not allowed {request.action} on {request.resource}"
    if key_policy:
        if direct is False and delegated is False:
            why = "the key policy neither names the principal nor delegates to the account"
        elif identity is False:
            why = "the key policy delegates to IAM but no identity policy allows it"
        else:
            why = "no statement allows it"
    elif is_service:
        why = "no resource-policy statement allows the service"
    else:
        why = "no identity or resource policy allows it"
    detail = f" ({'; '.join(dict.fromkeys(misses))})" if misses else ""
    note = f" [{identity_note}]" if identity_note else ""
    return f"{what}: {why}{detail}{note}"

