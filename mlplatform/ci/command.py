"""``mlp ci``: the command CI runs on every pull request."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ..cli_common import STACK_HELP
from ..errors import UsageError
from . import STAGE_NAMES


def default_stages():
    """The checkers in the order the summary shows them."""
    from . import stages

    return [(name, getattr(stages, f"{name}_stage")) for name in stages.STAGE_NAMES]


def register(commands) -> None:
    parser = commands.add_parser("ci", help="validate, plan, check and price a pull request; one summary")
    parser.add_argument("--stack", required=True, metavar="STACK", help=STACK_HELP)
    parser.add_argument("--teams", metavar="DIR", help="team specs folder instead of the stack's")
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--base", metavar="REF", help="git ref to compare with (plans only the teams whose specs changed)")
    base.add_argument("--base-plan", metavar="FILE", help="saved plan to compare with (plans every team)")
    parser.add_argument("--full", action="store_true", help="with --base: plan every team, not only the changed ones")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="capture teams in N processes (default 1)")
    parser.add_argument("--skip", action="append", default=[], choices=STAGE_NAMES[1:], metavar="CHECK",
                        help=f"do not run this check ({', '.join(STAGE_NAMES[1:])}); repeatable")
    parser.add_argument("--output-dir", metavar="DIR", default="ci-out",
                        help="where summary.md, ci.json, results.sarif and junit.xml go (default: ci-out)")
    parser.set_defaults(handler=cmd_ci)


def cmd_ci(args: argparse.Namespace) -> int:
    from .pipeline import CiOptions, run_pipeline
    from .summary import machine_files

    if args.jobs < 1:
        raise UsageError("mlp ci: --jobs must be at least 1")
    if args.full and not args.base:
        raise UsageError("mlp ci: --full only makes sense with --base REF")
    options = CiOptions(stack=args.stack, teams_dir=args.teams, base_ref=args.base, base_plan=args.base_plan,
                        full=args.full, jobs=args.jobs, skip=frozenset(args.skip))
    from .stages import EARLY, WARMUPS

    outcome = run_pipeline(options, default_stages(), WARMUPS, EARLY)
    files = machine_files(outcome)
    write_all(files, Path(args.output_dir))
    sys.stdout.write(files["summary.md"])
    return outcome.exit_code


def write_all(files: dict[str, str], folder: Path) -> None:
    """Write every file or none: each goes to a temporary name first, then all are renamed."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staged = []
        for name, text in files.items():
            handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            staged.append((temporary, folder / name))
        for temporary, target in staged:
            os.replace(temporary, target)
    except OSError as exc:
        raise UsageError(f"{folder}: cannot write CI files: {exc.strerror or exc}") from None
