"""The verify checkers give the same verdict in their warmed-up process as in the caller's
(the ci pipeline runs them there so their start-up overlaps the plan captures)."""

from __future__ import annotations

import time

import pytest

from mlplatform.stackconfig import load_stack_config
from mlplatform.verify.checkers import checker_names
from mlplatform.verify.resolve import capture_resolved
from mlplatform.verify.worker import CheckerWorker, run_checkers


@pytest.fixture(scope="module")
def resolved_team():
    stack = load_stack_config("dev")
    return capture_resolved("dev", only_teams=frozenset({"fraud-detection"})), stack


def _key(result):
    return (result.rule.id, result.status, result.urn or "", result.message)


def test_the_worker_returns_what_the_checkers_return_in_process(resolved_team):
    graph, stack = resolved_team
    expected, _ = run_checkers(graph, stack, checker_names())
    with CheckerWorker() as worker:
        results, timings = worker.run(graph, stack, checker_names())
    assert [_key(result) for result in results] == [_key(result) for result in expected]
    assert results == expected  # every field, spec location and justification included
    assert set(timings) == set(checker_names())
    assert any(result.status == "failed" or result.status == "passed" for result in results)


def test_a_checker_error_is_raised_in_the_caller(resolved_team):
    graph, stack = resolved_team
    with CheckerWorker() as worker, pytest.raises(KeyError, match="no-such-checker"):
        worker.run(graph, stack, ("no-such-checker",))


def test_an_unused_worker_is_stopped_on_close():
    worker = CheckerWorker()
    started = time.perf_counter()
    worker.close()
    assert worker._process.returncode is not None
    assert time.perf_counter() - started < 30


def test_a_request_sent_ahead_is_collected_by_run(resolved_team):
    graph, stack = resolved_team
    expected, _ = run_checkers(graph, stack, ("principals",))
    with CheckerWorker() as worker:
        worker.submit(graph, stack, ("principals",))
        results, _ = worker.run(graph, stack, ("principals",))
    assert results == expected


def test_run_refuses_a_different_plan_than_the_one_sent_ahead(resolved_team):
    graph, stack = resolved_team
    with CheckerWorker() as worker:
        worker.submit(graph, stack, ("principals",))
        with pytest.raises(RuntimeError, match="another plan"):
            worker.run(graph, stack, ("flows",))
