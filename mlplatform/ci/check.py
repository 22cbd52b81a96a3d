"""``mlp check --stack S [FILES]``: is my spec ready for this stack? One verdict.

The same pipeline as ``mlp ci`` (validate, plan, then every check CI runs), scoped to the
teams of the given spec files, and reported for a person at a terminal: a line per check,
then what to fix, each with its spec file:line. Nothing is written to disk, so it can be
run as often as one edits. Exit 0 only when CI would let the change merge.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli_common import STACK_HELP, display_path
from ..errors import SpecError, UsageError
from . import STAGE_NAMES


def register(commands) -> None:
    parser = commands.add_parser("check", help="validate, plan and run every CI check for some specs: one verdict")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="team spec files in the stack's teams folder (default: every team)")
    parser.add_argument("--stack", required=True, metavar="STACK", help=STACK_HELP)
    parser.add_argument("--teams", metavar="DIR", help="team specs folder instead of the stack's")
    parser.add_argument("--skip", action="append", default=[], choices=STAGE_NAMES[1:], metavar="CHECK",
                        help=f"do not run this check ({', '.join(STAGE_NAMES[1:])}); repeatable")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="capture teams in N processes (default 1)")
    parser.set_defaults(handler=cmd_check)


def teams_of_files(files: list[str], teams_folder: Path) -> frozenset[str]:
    """Team names of ``files``, which must be spec files in ``teams_folder`` (the stack
    plans that folder; a spec elsewhere would not be what gets deployed)."""
    from ..spec.loader import load_spec_file

    teams = set()
    folder = teams_folder.resolve()
    for file in files:
        path = Path(file)
        if not path.is_file():
            raise UsageError(f"{file}: no such file")
        if path.resolve().parent != folder:
            raise UsageError(f"{file}: not in the stack's teams folder {display_path(folder)}; "
                             "move it there (or pass --teams with its folder)")
        try:
            teams.add(load_spec_file(path).team)
        except SpecError:  # the pipeline's validation reports it with everything else
            teams.add(path.stem)
    return frozenset(teams)


def cmd_check(args: argparse.Namespace) -> int:
    from ..stackconfig import load_stack_config
    from .command import default_stages
    from .pipeline import CiOptions, run_pipeline
    from .stages import EARLY, WARMUPS

    if args.jobs < 1:
        raise UsageError("mlp check: --jobs must be at least 1")
    teams_dir = str(Path(args.teams).resolve()) if args.teams else None
    stack = load_stack_config(args.stack, teams_dir=teams_dir)
    teams = teams_of_files(args.files, stack.teams_path()) if args.files else None
    options = CiOptions(stack=args.stack, teams_dir=teams_dir, skip=frozenset(args.skip), jobs=args.jobs, teams=teams)
    outcome = run_pipeline(options, default_stages(), WARMUPS, EARLY)
    sys.stdout.write(render_verdict(outcome, args.stack))
    return outcome.exit_code


def render_verdict(outcome, stack: str) -> str:
    """A line per check, then every blocking finding with its spec position and fix."""
    lines = []
    if outcome.validation:
        lines.append("validate  FAIL  the specs are invalid; nothing was planned")
        lines += [f"  {issue.format()}" for issue in outcome.validation]
    else:
        lines.append("validate  ok")
    for stage in outcome.stages:
        lines.append(f"{stage.name:<9} {'ok  ' if stage.ok else 'FAIL'}  {stage.headline}")
        if stage.findings is not None:
            for result in stage.findings.results:
                if result.blocking:
                    fix = f" Fix: {result.rule.remediation}" if result.rule.remediation else ""
                    lines.append(f"  {result.where}: {result.rule.id}: {result.message}{fix}")
    verdict = "ready" if outcome.may_merge else "NOT ready"
    lines.append(f"mlp check: {verdict} for stack {stack}")
    return "\n".join(lines) + "\n"
