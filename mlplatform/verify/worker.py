"""The verify checkers in a process of their own, warmed up while the plans are captured.

Most of a one-team ``mlp ci``'s verify stage is start-up, not checking: importing
parliament (and its IAM reference) and loading botocore's service models for every mapped
resource type. A :class:`CheckerWorker` starts a second interpreter the moment the
pipeline knows its stack; on a machine with a second core that start-up overlaps spec
validation and the plan captures, and the stage itself only ships the resolved plan over
and gets the results back. The checkers are the very functions :mod:`.runner` calls
in-process (one registry, :mod:`.checkers`); only where they run differs.

The worker is ``python -m mlplatform.verify.worker``: a fresh interpreter (never a fork of
a process holding threads and an event loop, and, unlike a multiprocessing pool, never a
re-import of the caller's main module). It warms up, reads one pickled request on stdin
and answers with one pickled reply on stdout: the checkers' results, or the exception they
raised, which the caller raises again as if the checkers had run in its own process.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from typing import Iterable, Optional

from ..graph import ResourceGraph
from ..reports.findings import CheckResult
from ..stackconfig import StackConfig
from .checkers import checker_names, load_checker


def warm_up() -> None:
    """Import every checker and load what each reads on first use."""
    for name in checker_names():
        load_checker(name)
    from . import acceptance, iam_lint

    for token in acceptance.load_map().types:  # botocore's models, per mapped resource type
        acceptance.field_checks(token)
    iam_lint.lint_json({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::warm-up/*"}]}, iam_lint.IDENTITY)


def run_checkers(graph: ResourceGraph, stack: StackConfig,
                 names: tuple[str, ...]) -> tuple[list[CheckResult], dict[str, float]]:
    """The named checkers on ``graph``: their results and the seconds each took."""
    results: list[CheckResult] = []
    timings: dict[str, float] = {}
    for name in names:
        started = time.perf_counter()
        results.extend(load_checker(name)(graph, stack))
        timings[name] = round(time.perf_counter() - started, 3)
    return results, timings


class CheckerWorker:
    """A warming-up checker process that runs :func:`run_checkers` once; use it as a
    context manager or :meth:`close` it (the pipeline closes a worker no stage took)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE)
        #: the request sent ahead (:meth:`submit`): the graph it was for, and the checker names
        self._submitted: Optional[tuple[ResourceGraph, tuple[str, ...]]] = None

    def submit(self, graph: ResourceGraph, stack: StackConfig, names: Iterable[str]) -> None:
        """Send the one request now, so the checks run while the caller does other work
        (the ci pipeline's policy stage); :meth:`run` with the same graph collects them."""
        if self._submitted is not None:
            raise RuntimeError("a checker process answers one request")
        self._submitted = (graph, tuple(names))
        process = self._process
        assert process.stdin is not None
        try:
            pickle.dump((graph, stack, tuple(names)), process.stdin)
            process.stdin.close()
        except BrokenPipeError:
            pass  # the worker died before reading: its (empty) reply says so in run()

    def run(self, graph: ResourceGraph, stack: StackConfig,
            names: Iterable[str]) -> tuple[list[CheckResult], dict[str, float]]:
        """The checkers' results from the worker (sent now unless :meth:`submit` sent this
        very request already); their exception is raised here."""
        if self._submitted is None:
            self.submit(graph, stack, names)
        elif self._submitted[0] is not graph or self._submitted[1] != tuple(names):
            raise RuntimeError("the checker process was sent another plan or other checkers")
        process = self._process
        assert process.stdout is not None
        reply = process.stdout.read()
        process.wait()
        if not reply:
            raise RuntimeError(f"the verify checker process exited ({process.returncode}) without an answer")
        outcome, value = pickle.loads(reply)
        if outcome == "raised":
            raise value
        return value

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> "CheckerWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve() -> None:
    """The worker's side: warm up, answer one request, exit. Anything the checkers print
    goes to stderr; stdout carries only the reply."""
    reply_to = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - the same failure is raised again, in context, by the request
        pass
    try:
        request = pickle.load(sys.stdin.buffer)
    except EOFError:
        return  # closed without a request: the pipeline did not need the checks
    try:
        reply = ("returned", run_checkers(*request))
    except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises it
        reply = ("raised", exc)
    try:
        data = pickle.dumps(reply)
    except Exception:  # noqa: BLE001 - an exception that does not pickle
        data = pickle.dumps(("raised", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
    reply_to.write(data)
    reply_to.flush()


if __name__ == "__main__":
    _serve()
