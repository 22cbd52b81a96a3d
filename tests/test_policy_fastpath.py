"""``policies/analyzer_fastpath.py``: pulumi-policy's analyzer answers exactly the same with it.

The pack normally runs with the fast path; ``MLP_POLICY_FASTPATH=0`` starts it with the
library untouched. Both are driven through the analyzer protocol on the example estates
and the non-compliant fixture estate, and every finding must match. The memoisation's own
contract (identity, not equality; per call only) is tested in process.
"""

from __future__ import annotations

import datetime
import importlib.util
import threading
from pathlib import Path

import pytest

from mlplatform.policy import wire
from mlplatform.policy.config import build_policy_config
from mlplatform.policy.runner import check
from mlplatform.policy.server import PackServer
from mlplatform.stackchecks import selected_specs
from mlplatform.readers import load_graph
from mlplatform.stackconfig import load_stack_config

from tests.helpers.policy import NONCOMPLIANT_GRAPH as FIXTURE

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.date(2026, 11, 26)


def _fastpath_module():
    spec = importlib.util.spec_from_file_location("analyzer_fastpath_under_test",
                                                  ROOT / "policies" / "analyzer_fastpath.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def packs():
    """Two pack processes for prod: the shipped one (fast path) and the library untouched."""
    import os

    fast = PackServer(project="ml-estate", stack="prod")
    previous = os.environ.get("MLP_POLICY_FASTPATH")
    os.environ["MLP_POLICY_FASTPATH"] = "0"
    try:
        plain = PackServer(project="ml-estate", stack="prod")
    finally:
        if previous is None:
            del os.environ["MLP_POLICY_FASTPATH"]
        else:
            os.environ["MLP_POLICY_FASTPATH"] = previous
    yield fast, plain
    fast.close()
    plain.close()


def _results(report) -> list[tuple]:
    return sorted((r.rule.id, r.status, r.enforcement, r.urn or "", r.message) for r in report.results)


@pytest.mark.parametrize("estate", ["prod-examples", "noncompliant-fixture"])
def test_same_findings_with_and_without_the_fast_path(estate, packs, prod_graph):
    graph = prod_graph if estate == "prod-examples" else load_graph(FIXTURE)
    stack = load_stack_config("prod")
    specs = selected_specs(stack)
    fast, plain = (_results(check(pack, graph, stack, specs, TODAY)) for pack in packs)
    assert fast == plain
    if estate == "noncompliant-fixture":
        assert any(status == "failed" for _, status, *_ in fast)  # the comparison covers violations


def test_remediate_answers_the_same_with_and_without_a_remediating_policy(packs, prod_graph):
    """No policy at ``remediate``: both answer an empty response. One configured at
    ``remediate`` (a resource rule that implements no remediation): both report it not
    applicable."""
    resource = next(r for r in prod_graph if r.type == "aws:s3/bucket:Bucket")
    request = wire.Encoder(prod_graph).analyze_request(resource)
    fast, plain = packs
    for levels in ({}, {"MLP-TAG-001": {"enforcementLevel": "remediate"}}):
        answers = []
        for pack in packs:
            config = build_policy_config(pack.info(), {})
            for name, values in levels.items():
                config[name] = {**config.get(name, {}), **values}
            pack.configure(config)
            answers.append(pack.stub.Remediate(request))
        assert answers[0] == answers[1]
        assert bool(answers[0].not_applicable) == bool(levels)


def test_memoised_values_are_per_object_and_per_call():
    fastpath = _fastpath_module()
    calls = []

    def decode(message, flag=False):
        calls.append((id(message), flag))
        return {"decoded": dict(message), "flag": flag}

    memoised = fastpath._memoised(decode, name="decode")
    first, equal_twin = {"a": 1}, {"a": 1}

    memoised(first)
    memoised(first)
    assert len(calls) == 2, "outside a gRPC call nothing is cached"

    @fastpath._call_scoped
    def one_call(_self, _request, _context):
        a = memoised(first)
        assert memoised(first) is a
        assert memoised(equal_twin) is not a, "an equal but different message is decoded itself"
        assert memoised(first, True) is not a, "other arguments are another key"
        return a

    calls.clear()
    one_call(None, None, None)
    assert len(calls) == 3
    one_call(None, None, None)
    assert len(calls) == 6, "the cache is dropped when the call returns"


def test_call_caches_are_per_thread():
    fastpath = _fastpath_module()
    seen = []
    memoised = fastpath._memoised(lambda message: object(), name="decode")
    message = {"a": 1}
    barrier = threading.Barrier(2)

    @fastpath._call_scoped
    def one_call(_self, _request, _context):
        value = memoised(message)
        barrier.wait(timeout=10)
        seen.append(value)

    threads = [threading.Thread(target=one_call, args=(None, None, None)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 2 and seen[0] is not seen[1]


def test_runtime_settings_are_applied_again_when_the_environment_changes(monkeypatch):
    fastpath = _fastpath_module()
    applied = []
    configure = fastpath._configured_once(lambda self: applied.append(dict(stack=__import__("os").environ["PULUMI_STACK"])))
    monkeypatch.setenv("PULUMI_STACK", "dev")
    configure(None)
    configure(None)
    monkeypatch.setenv("PULUMI_STACK", "prod")
    configure(None)
    assert applied == [{"stack": "dev"}, {"stack": "prod"}]


def _fake_library(*, missing: str = ""):
    """A stand-in for ``pulumi_policy.policy`` with what the fast path patches."""
    import types

    def method(self, *args):
        return "original"

    names = ("Analyze", "AnalyzeStack", "Remediate", "_configure_runtime_settings", "_get_resource_options",
             "_get_provider_resource", "_get_enforcement_level")
    servicer = type("_PolicyAnalyzerServicer", (), {name: method for name in names if name != missing})
    return types.SimpleNamespace(_PolicyAnalyzerServicer=servicer, json_format=types.SimpleNamespace(MessageToDict=dict),
                                 deserialize_properties=dict, unknown_checking_proxy=dict)


def test_install_patches_once_and_leaves_an_unfamiliar_library_alone(monkeypatch):
    fastpath = _fastpath_module()
    library = _fake_library()
    monkeypatch.setattr(fastpath, "_policy_module", library)
    assert fastpath.install() and fastpath.installed()
    analyze = library._PolicyAnalyzerServicer.Analyze
    assert fastpath.install() and library._PolicyAnalyzerServicer.Analyze is analyze, "installing twice wraps once"

    unfamiliar = _fake_library(missing="_get_provider_resource")
    monkeypatch.setattr(fastpath, "_policy_module", unfamiliar)
    original = unfamiliar._PolicyAnalyzerServicer.Analyze
    assert not fastpath.install() and not fastpath.installed()
    assert unfamiliar._PolicyAnalyzerServicer.Analyze is original and unfamiliar.deserialize_properties is dict
