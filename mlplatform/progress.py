"""Progress on long work, for a person at a terminal and nobody else.

A plan of a big stack takes minutes; silence for that long reads as a hang. Progress goes
to stderr, and only when stderr is a terminal: piped output, CI logs and ``--output``
files never contain it, so reports stay byte-for-byte the same whoever runs them.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, TextIO


class TerminalProgress:
    """One line rewritten in place while counting, then a closing line with the time."""

    def __init__(self, label: str, stream: TextIO):
        self.label, self.stream = label, stream
        self.started = time.perf_counter()
        self.count = 0
        self.done = False

    def __call__(self, count: int) -> None:
        self.count = count
        self.stream.write(f"\r{self.label}: {count:,} resources")
        self.stream.flush()

    def finish(self, total: Optional[int] = None) -> None:
        seconds = time.perf_counter() - self.started
        total = self.count if total is None else total
        self.stream.write(f"\r{self.label}: {total:,} resources in {seconds:.1f} s\n")
        self.stream.flush()
        self.done = True


@contextmanager
def progress(label: str, stream: Optional[TextIO] = None) -> Iterator[Optional[Callable[[int], None]]]:
    """A progress callback for ``capture_program(progress=...)``, or None off a terminal.

    The caller reports the final count with ``reporter.finish(n)``; if it does not (an
    error), the line is ended so the error starts on a fresh line.
    """
    stream = stream or sys.stderr
    if not stream.isatty():
        yield None
        return
    reporter = TerminalProgress(label, stream)
    try:
        yield reporter
    finally:
        if reporter.count and not reporter.done:
            stream.write("\n")
            stream.flush()
