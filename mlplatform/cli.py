"""``mlp``: the command line of the ML estate framework.

Exit codes follow the CLI contract in DESIGN.md: 0 success, 1 invalid input (specs,
findings), 2 usage or I/O errors. Problems print as one line each
(``FILE:LINE:COL: error: field.path: message``); a traceback reaching a user is a bug,
so the entry point turns any unexpected exception into a one-line internal error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from .cli_common import (
    EXIT_INVALID, EXIT_OK, EXIT_USAGE, STACK_HELP, add_format_argument, add_stack_arguments, display_path,
    obtain_graph, parse_today, write_output,
)
from .errors import Issue, SpecError, UsageError
from .graph import GraphFormatError

class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 (argparse's own code)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mlp", description="Validate, plan and check the ML estate defined by team specs.",
                     epilog="Run 'mlp COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"mlp {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    validate = commands.add_parser("validate", help="check team spec files or folders")
    validate.add_argument("paths", nargs="*", metavar="PATH", help="spec files or folders (default: the stack's teams folder)")
    validate.add_argument("--stack", metavar="STACK", help=f"also check the specs against this stack's config ({STACK_HELP})")
    validate.add_argument("--teams", metavar="DIR", help="with --stack and no PATH: this folder instead of the stack's")
    validate.add_argument("--today", metavar="YYYY-MM-DD", help="judge exemption expiry on this date (default: today)")
    add_format_argument(validate, ("text", "json", "markdown"))
    validate.set_defaults(handler=cmd_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of the team spec")
    schema.set_defaults(handler=cmd_schema)

    plan = commands.add_parser("plan", help="offline plan of a stack: resource tree, counts, diff vs --base")
    add_stack_arguments(plan)
    plan.add_argument("--base", metavar="FILE", help="plan to compare against (same formats as --graph)")
    plan.add_argument("--resolve", action="store_true",
                      help="fill in what AWS computes on apply (ids, ARNs, autonames), marked as simulated")
    plan.set_defaults(handler=cmd_plan)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


#: Modules that add one subcommand each through ``register(commands)``; a checker's CLI
#: lives next to the checker, and this file only lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "mlplatform.scaffold",
    "mlplatform.codeowners",
    "mlplatform.docs.command",
    "mlplatform.ci.command",
    "mlplatform.ci.check",
    "mlplatform.cost.cli",
    "mlplatform.checkov.command",
    "mlplatform.policy.cli",
    "mlplatform.verify.command",
)


def package_version() -> str:
    """The installed distribution's version (``mlp --version``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlplatform")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


# ---------------------------------------------------------------- commands

def cmd_validate(args: argparse.Namespace) -> int:
    from .exemptions import exemption_issues
    from .spec.loader import load_specs
    from .stackchecks import stack_issues
    from .stackconfig import load_stack_config

    teams = str(Path(args.teams).resolve()) if args.teams else None  # the user's path: from where they are
    stack = load_stack_config(args.stack, teams_dir=teams) if args.stack else None
    # errors name files as the user would type them: relative to the working directory
    paths = args.paths or ([args.teams or display_path(stack.teams_path())] if stack else [])
    if not paths:
        raise UsageError("mlp validate: give spec files or folders, or --stack to use the stack's teams folder")
    today = parse_today(args.today, "mlp validate")
    result = load_specs(paths, require_specs=True)
    issues = list(result.issues)
    if stack is not None:
        issues.extend(stack_issues(result.specs, stack, today=today))
    for loaded in result.specs:  # an expired exemption fails every checker: say so first
        issues.extend(exemption_issues(loaded, stack.environment if stack else None, today))
    if args.format == "json":
        print(json.dumps({
            "valid": not issues,
            "files": result.files,
            "teams": sorted(spec.team for spec in result.specs),
            "stack": args.stack,
            "issues": [issue.to_json() for issue in issues],
        }, indent=1))
    elif args.format == "markdown":
        print(validation_markdown(result.files, issues))
    else:
        for issue in issues:
            print(issue.format())
        verdict = "valid" if not issues else f"{len(issues)} error(s)"
        print(f"mlp validate: {len(result.files)} spec file(s), {verdict}", file=sys.stderr)
    return EXIT_OK if not issues else EXIT_INVALID


def validation_markdown(files: list[str], issues: list[Issue]) -> str:
    if not issues:
        return f"### Spec validation\n\n:white_check_mark: {len(files)} spec file(s) valid.\n"
    lines = [f"### Spec validation\n\n:x: {len(issues)} error(s) in {len(files)} spec file(s)\n",
             "| file | line | field | message |", "|---|---:|---|---|"]
    for issue in issues:
        message = issue.to_json()["message"].replace("|", "\\|")
        lines.append(f"| `{issue.file}` | {issue.line} | `{issue.field}` | {message} |")
    return "\n".join(lines) + "\n"


def cmd_schema(args: argparse.Namespace) -> int:
    from .spec.schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from .diff import diff_graphs
    from .readers import load_graph
    from .reports import plan as report

    if args.resolve and args.graph:
        raise UsageError("mlp plan: --resolve captures the plan; it cannot be combined with --graph")
    if args.resolve:
        from .verify.resolve import capture_resolved

        graph = capture_resolved(args.stack, teams_dir=args.teams)
    else:
        graph = obtain_graph(args.stack, args.teams, args.graph, args.only_teams)
    diff = diff_graphs(load_graph(args.base), graph) if args.base else None
    render = {"text": report.render_text, "json": report.render_json, "markdown": report.render_markdown}[args.format]
    write_output(render(graph, diff), args.output)
    return EXIT_OK


# ---------------------------------------------------------------- entry point

def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "handler", None) is None:  # `mlp` alone: say what there is to run
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return args.handler(args)
    except SpecError as exc:
        _print_issues(exc.issues)
        return EXIT_INVALID
    except (UsageError, GraphFormatError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mlp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader (e.g. `head`) went away: stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("MLP_DEBUG"):
            raise
        print(f"mlp: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
              "(this is a bug; set MLP_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_USAGE


def _print_issues(issues: list[Issue]) -> None:
    for issue in issues:
        print(issue.format())


if __name__ == "__main__":
    sys.exit(main())
