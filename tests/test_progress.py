"""Progress shows on a terminal only (issue 18): never in piped output, CI logs or files."""

from __future__ import annotations

import io

from mlplatform.capture import capture_stack
from mlplatform.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_is_reported_off_a_terminal():
    with progress("mlp: planning", io.StringIO()) as reporter:
        assert reporter is None


def test_a_capture_reports_counts_then_the_total_on_a_terminal():
    screen = Terminal()
    with progress("mlp: planning stack dev", screen) as reporter:
        graph = capture_stack("dev", progress=reporter)
        reporter.finish(len(graph))
    text = screen.getvalue()
    assert text.startswith("\rmlp: planning stack dev: 200 resources")
    assert text.endswith(f"\rmlp: planning stack dev: {len(graph):,} resources in "
                         f"{text.rsplit(' in ', 1)[1].split(' s')[0]} s\n")


def test_an_interrupted_capture_ends_its_line():
    screen = Terminal()
    try:
        with progress("mlp: planning", screen) as reporter:
            reporter(200)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert screen.getvalue() == "\rmlp: planning: 200 resources\n"
