"""Make pulumi-policy's analyzer do once what it repeats, without changing what it answers.

Why: the analyzer servicer the Pulumi CLI talks to (``pulumi_policy.policy.
_PolicyAnalyzerServicer``) repeats work whose result cannot change, and on a large plan that
repetition, not our rules, is nearly all of the pack's time:

1. **Decoding per policy.** It turns protobuf properties into Python values
   (``deserialize_properties(json_format.MessageToDict(message))``, then
   ``unknown_checking_proxy``, the resource options and the provider) *inside* its loop over
   policies: for ``Analyze`` once per resource policy, for ``AnalyzeStack`` every resource of
   the stack once per stack policy. With this pack's 29 rules that is ~30 identical
   decodings per resource. Here the five calls are memoised for the duration of one gRPC
   call, keyed on the identity of the object decoded.
2. **Runtime settings per call.** Every call re-reads ``PULUMI_CONFIG`` and rebuilds the SDK's
   runtime ``Settings`` from the environment (``inspect.signature`` included). The inputs are
   environment variables the engine sets when it launches the pack; here the settings are
   applied again only when one of them changed.
3. **Remediate without remediations.** ``Remediate`` decodes the resource before its loop
   even when no policy has the ``remediate`` enforcement level, and then answers with an
   empty response. Here such a call answers the same empty response without decoding.

What stays the same: the servicer's loops, enforcement levels, unknown-value handling, the
``ResourceValidationArgs``/``PolicyResource`` objects each policy gets, the diagnostics and
the rules. The decoded values are shared by the policies of one call, so rules must treat
``args.props`` as read-only (pulumi-policy hands them out as read-only ``Mapping`` proxies).
``tests/test_policy_fastpath.py`` runs the pack with and without this module over the
analyzer protocol and compares every diagnostic. Outside a gRPC call every patched function
behaves exactly as the original. ``MLP_POLICY_FASTPATH=0`` leaves the library untouched, and
so does a pulumi-policy release that no longer has one of the pieces patched here.

Correctness of the identity key: each cache entry holds a strong reference to the object it
was computed from and is used only when that very object is passed again (``is``), so a
recycled ``id()`` can never return another message's values. The cache lives in a
thread-local (gRPC serves calls on a thread pool, and runners pipeline calls) and is
dropped when the call returns.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any, Callable

import pulumi_policy.policy as _policy_module
from pulumi.runtime.proto import analyzer_pb2

# The environment ``_configure_runtime_settings`` reads (see pulumi.runtime.get_config_env).
_SETTINGS_ENVIRONMENT = ("PULUMI_CONFIG", "PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN",
                         "PULUMI_ORGANIZATION")

_CALL_METHODS = ("Analyze", "AnalyzeStack", "Remediate")
_state = threading.local()


def _call_cache() -> dict | None:
    return getattr(_state, "cache", None)


def _memoised(function: Callable[..., Any], *, name: str) -> Callable[..., Any]:
    """``function(obj, *rest)`` computed once per (obj identity, rest) within one call."""

    @functools.wraps(function)
    def wrapper(obj: Any, *rest: Any) -> Any:
        cache = _call_cache()
        if cache is None:
            return function(obj, *rest)
        key = (name, id(obj), rest)
        entry = cache.get(key)
        if entry is not None and entry[0] is obj:
            return entry[1]
        value = function(obj, *rest)
        cache[key] = (obj, value)
        return value

    return wrapper


class _JsonFormatOnce:
    """Stands in for ``google.protobuf.json_format`` inside ``pulumi_policy.policy`` only."""

    def __init__(self, json_format: Any) -> None:
        self._json_format = json_format
        self.MessageToDict = _memoised(json_format.MessageToDict, name="MessageToDict")

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._json_format, attribute)


def _call_scoped(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: Any) -> Any:
        outer = _call_cache()
        _state.cache = {}
        try:
            return method(self, request, context)
        finally:
            _state.cache = outer

    wrapper.__fastpath__ = True  # type: ignore[attr-defined]
    return wrapper


def _memoised_method(method: Callable[..., Any], *, name: str) -> Callable[..., Any]:
    """A servicer method ``method(self, request)`` computed once per request within one call."""
    memoised = _memoised(lambda request, servicer: method(servicer, request), name=name)

    @functools.wraps(method)
    def wrapper(self: Any, request: Any) -> Any:
        return memoised(request, self)

    return wrapper


def _configured_once(method: Callable[..., Any]) -> Callable[..., Any]:
    """Apply the runtime settings again only when the environment they come from changed."""
    applied: dict[str, Any] = {}
    lock = threading.Lock()

    @functools.wraps(method)
    def wrapper(self: Any) -> None:
        environment = tuple(os.environ.get(name) for name in _SETTINGS_ENVIRONMENT)
        with lock:
            if applied.get("environment") == environment:
                return
            method(self)
            applied["environment"] = environment

    return wrapper


def _skip_without_remediations(method: Callable[..., Any]) -> Callable[..., Any]:
    """``Remediate`` answers an empty response at once when no policy would remediate."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: Any) -> Any:
        policies = getattr(self, "_PolicyAnalyzerServicer__policies", None)
        if policies is not None and not any(
                isinstance(policy, _policy_module.ResourceValidationPolicy)
                and self._get_enforcement_level(policy) == _policy_module.EnforcementLevel.REMEDIATE
                for policy in policies):
            return analyzer_pb2.RemediateResponse()
        return method(self, request, context)

    return wrapper


#: What the patches replace; a pulumi-policy without one of them is left untouched (the fast
#: path only saves time, so the pack still works, just slower).
_PATCHED_SERVICER = _CALL_METHODS + ("_configure_runtime_settings", "_get_resource_options",
                                     "_get_provider_resource", "_get_enforcement_level")
_PATCHED_MODULE = ("json_format", "deserialize_properties", "unknown_checking_proxy")


def install() -> bool:
    """Patch pulumi-policy's analyzer module (idempotent; call before building the PolicyPack).
    Returns whether the fast path is in place."""
    servicer = getattr(_policy_module, "_PolicyAnalyzerServicer", None)
    if servicer is None or not all(hasattr(servicer, name) for name in _PATCHED_SERVICER) \
            or not all(hasattr(_policy_module, name) for name in _PATCHED_MODULE):
        return False
    if installed():
        return True
    servicer._configure_runtime_settings = _configured_once(servicer._configure_runtime_settings)
    for method in _CALL_METHODS:
        setattr(servicer, method, _call_scoped(getattr(servicer, method)))
    servicer.Remediate = _skip_without_remediations(servicer.Remediate)
    # The options and the provider of a request are read-only objects built from the request alone.
    for method, name in (("_get_resource_options", "options"), ("_get_provider_resource", "provider")):
        setattr(servicer, method, _memoised_method(getattr(servicer, method), name=name))
    _policy_module.json_format = _JsonFormatOnce(_policy_module.json_format)
    for function in ("deserialize_properties", "unknown_checking_proxy"):
        setattr(_policy_module, function, _memoised(getattr(_policy_module, function), name=function))
    return True


def installed() -> bool:
    servicer = getattr(_policy_module, "_PolicyAnalyzerServicer", None)
    return bool(getattr(getattr(servicer, "Analyze", None), "__fastpath__", False))
