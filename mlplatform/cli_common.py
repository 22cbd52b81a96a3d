"""What every ``mlp`` subcommand shares: exit codes, the stack arguments, the plan to work
on, and writing a report.

Kept out of :mod:`mlplatform.cli` so the modules that add a subcommand (``policy``,
``verify``, ``cost``, ``checkov``, ``ci``, ...) import these helpers from below the entry
point instead of from it: the entry point loads them by name (``COMMAND_MODULES``) and
none of them imports it back, so no import cycle runs through the CLI.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from .errors import UsageError
from .graph import ResourceGraph

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def known_stacks() -> list[str]:
    """Stacks with a config file under ``stacks/`` (``Pulumi.<stack>.yaml``)."""
    from .stackconfig import PROJECT_ROOT

    return sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml")
                  for path in (PROJECT_ROOT / "stacks").glob("Pulumi.*.yaml"))


STACK_HELP = "a stack with a file stacks/Pulumi.<STACK>.yaml: " + ", ".join(known_stacks())


def add_format_argument(parser: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    """``--format`` with its choices and default spelled out in the help."""
    parser.add_argument("--format", choices=tuple(formats), default=formats[0],
                        help=f"report format: {', '.join(formats)} (default: {formats[0]})")


def add_stack_arguments(parser: argparse.ArgumentParser, formats: Sequence[str] = ("text", "json", "markdown")) -> None:
    """The arguments every command that works on one stack's plan shares."""
    parser.add_argument("--stack", required=True, metavar="STACK", help=STACK_HELP)
    parser.add_argument("--teams", metavar="DIR", help="team specs folder instead of the stack's")
    parser.add_argument("--graph", metavar="FILE",
                        help="read the plan (ResourceGraph, preview --json or stack export) instead of capturing it")
    parser.add_argument("--team", action="append", metavar="TEAM", dest="only_teams",
                        help="plan only this team's resources (and what the stack shares); repeatable")
    add_format_argument(parser, formats)
    parser.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")


def parse_today(text: Optional[str], command: str) -> datetime.date:
    """``--today YYYY-MM-DD`` (the date exemptions are judged on), or the real date."""
    if not text:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{command}: --today: not a date (YYYY-MM-DD): {text!r}") from None


def display_path(path: Path) -> str:
    """``path`` as a user in the working directory would type it: relative when it lies
    below the working directory, absolute otherwise (``../../x`` helps nobody)."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative


def obtain_graph(stack: str, teams: Optional[str], graph_file: Optional[str],
                 only_teams: Optional[Sequence[str]] = None) -> ResourceGraph:
    """The plan to work on: read from ``graph_file`` or captured from the program.

    ``only_teams`` (``--team``) captures just those teams plus what the stack shares, as
    ``mlp ci`` does for a pull request; every spec is still loaded and checked.
    """
    if graph_file:
        if only_teams:
            raise UsageError("mlp: --team selects teams to capture; it cannot narrow a plan read with --graph")
        from .readers import load_graph

        return load_graph(graph_file)
    from .capture import capture_stack
    from .progress import progress

    options: dict = {}
    if only_teams:
        known = known_teams(stack, teams)
        unknown = sorted(set(only_teams) - set(known))
        if unknown:
            raise UsageError(f"mlp: --team {', '.join(unknown)}: no such team in the stack's specs "
                             f"(teams: {', '.join(known) or 'none'})")
        options["only_teams"] = frozenset(only_teams)
    with progress(f"mlp: planning stack {stack}") as reporter:
        graph = capture_stack(stack, teams_dir=teams, progress=reporter, **options)
        if reporter is not None:
            reporter.finish(len(graph))
    return graph


def known_teams(stack: str, teams: Optional[str]) -> list[str]:
    """Team names of the stack's specs (of ``teams`` when given)."""
    from .spec.loader import load_specs
    from .stackconfig import load_stack_config

    folder = str(Path(teams).resolve()) if teams else str(load_stack_config(stack).teams_path())
    return sorted(loaded.team for loaded in load_specs([folder]).specs)


def write_findings(report, fmt: str, output: Optional[str], stats_text, stats_markdown) -> int:
    """Render a findings report in ``fmt`` (plus the tool's own figures in text and
    Markdown), write it, and return the report's exit code: what every findings command
    (scan, verify) ends with."""
    from .reports.findings import RENDERERS

    text = RENDERERS[fmt](report)
    if fmt == "text":
        text += stats_text(report)
    elif fmt == "markdown":
        text += stats_markdown(report)
    write_output(text, output)
    return report.exit_code


def write_output(text: str, output: Optional[str]) -> None:
    """Write the whole report at once (never a partial file on failure)."""
    if not output:
        sys.stdout.write(text)
        return
    target = Path(output)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        raise UsageError(f"{output}: cannot write: {exc.strerror or exc}") from None
