"""A small typed builder for IAM policy documents.

Components describe permissions as :class:`Statement` objects instead of hand-written
JSON strings, so the rules every document must follow are enforced in one place: no
statement may allow a ``*`` action on a ``*`` resource, every statement names at least
one action and one resource (or principal, for resource policies), and the output is
deterministic (sorted, de-duplicated) so plans do not churn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Optional, Union

Values = Union[str, Iterable[str]]


class PolicyError(ValueError):
    """A policy statement that breaks the framework's least-privilege rules."""


def _as_list(values: Optional[Values]) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    return sorted(set(values))


def _compact(values: list[str]) -> Union[str, list[str]]:
    return values[0] if len(values) == 1 else values


@dataclass(frozen=True)
class Principal:
    """Who a resource policy or trust policy applies to."""

    kind: Literal["AWS", "Service", "Federated", "*"]
    values: tuple[str, ...] = ()

    @classmethod
    def aws(cls, *arns: str) -> "Principal":
        return cls("AWS", tuple(sorted(set(arns))))

    @classmethod
    def service(cls, *services: str) -> "Principal":
        return cls("Service", tuple(sorted(set(services))))

    @classmethod
    def anyone(cls) -> "Principal":
        return cls("*")

    def to_json(self) -> Union[str, dict[str, Any]]:
        if self.kind == "*":
            return "*"
        return {self.kind: _compact(list(self.values))}


@dataclass(frozen=True)
class Statement:
    """One IAM statement; ``conditions`` is ``{operator: {key: value(s)}}``."""

    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    effect: Literal["Allow", "Deny"] = "Allow"
    sid: Optional[str] = None
    principal: Optional[Principal] = None
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.actions:
            raise PolicyError(f"statement {self.sid or ''} names no action")
        if not self.resources and self.principal is None:
            raise PolicyError(f"statement {self.sid or ''} names no resource")
        if self.effect == "Allow" and "*" in self.actions and "*" in self.resources:
            raise PolicyError(f"statement {self.sid or ''} allows every action on every resource")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"Effect": self.effect, "Action": _compact(sorted(set(self.actions)))}
        if self.sid:
            data["Sid"] = self.sid
        if self.principal is not None:
            data["Principal"] = self.principal.to_json()
        if self.resources:  # trust policies have none: AWS rejects a Resource there
            data["Resource"] = _compact(sorted(set(self.resources)))
        if self.conditions:
            data["Condition"] = {
                operator: {key: value for key, value in sorted(entries.items())}
                for operator, entries in sorted(self.conditions.items())
            }
        return data


def allow(actions: Values, resources: Optional[Values] = None, **kwargs: Any) -> Statement:
    return Statement(tuple(_as_list(actions)), tuple(_as_list(resources)), "Allow", **kwargs)


def deny(actions: Values, resources: Optional[Values] = None, **kwargs: Any) -> Statement:
    return Statement(tuple(_as_list(actions)), tuple(_as_list(resources)), "Deny", **kwargs)


def deny_insecure_transport(actions: Values, resources: Values) -> Statement:
    """The one TLS-only statement every bucket and topic policy starts with: deny ``actions``
    on ``resources`` to anyone whose request did not arrive over TLS.

    ``aws:SecureTransport`` is a global condition key that is ``false`` when a request was
    sent in plain HTTP (IAM User Guide, "AWS global condition context keys"); the ``Bool``
    operator on it is the pattern the S3 User Guide's "Security best practices" and the SNS
    Developer Guide give for enforcing encryption in transit, and what the policy pack's
    rule MLP-S3-003 (``policies/rules/s3.py``) looks for.
    """
    return deny(actions, resources, sid="DenyInsecureTransport", principal=Principal.anyone(),
                conditions={"Bool": {"aws:SecureTransport": "false"}})


def from_source_account(account_id: str) -> dict[str, dict[str, Any]]:
    """The confused-deputy condition of a service principal: only requests the service makes on
    behalf of a resource of ``account_id`` (``aws:SourceAccount``, IAM User Guide, "The confused
    deputy problem"). A fresh dict each time: callers add their ``aws:SourceArn`` operator to it."""
    return {"StringEquals": {"aws:SourceAccount": account_id}}


def document(*statements: Statement) -> str:
    """The policy document as the JSON text AWS APIs take (stable key order)."""
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [statement.to_json() for statement in statements]},
        sort_keys=True,
    )

