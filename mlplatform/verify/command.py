"""``mlp verify --stack S``: the verify checkers on the stack's resolved plan.

Exit 0 when nothing blocking is found, 1 on findings (or invalid specs), 2 on usage and
input errors: an unreadable ``--graph`` or suppression file, a resource type the AWS API
map does not know, a missing botocore model. ``--graph FILE`` checks a saved plan instead
of resolving one (best a ``mlp plan --resolve`` output; unknown values of an ordinary
plan are counted as not checked, never passed).
"""

from __future__ import annotations

import argparse

from ..reports.findings import FindingsReport

FORMATS = ("text", "json", "markdown", "sarif", "junit")


def register(commands) -> None:
    from ..cli_common import add_stack_arguments
    from .checkers import checker_names

    parser = commands.add_parser("verify", help="AWS acceptance and further checks of the stack's resolved plan")
    add_stack_arguments(parser, formats=FORMATS)
    parser.add_argument("--suppressions", metavar="FILE",
                        help="reviewed suppressions (default: policies/verify-suppressions.yaml)")
    parser.add_argument("--check", action="append", choices=checker_names(), metavar="NAME", dest="checks",
                        help=f"run only this checker ({', '.join(checker_names())}); repeatable")
    parser.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from ..cli_common import write_findings
    from ..reports.exemptions import planned_exemptions
    from ..stackconfig import load_stack_config
    from .runner import verify
    from .suppressions import load_suppressions

    suppressions = load_suppressions(args.suppressions)  # a bad file fails before the slow part
    stack = load_stack_config(args.stack, teams_dir=args.teams)
    if args.graph:
        from ..cli_common import obtain_graph

        graph = obtain_graph(args.stack, args.teams, args.graph, args.only_teams)  # --team refused there
    else:
        from ..cli_common import known_teams
        from ..errors import UsageError
        from ..progress import progress
        from .resolve import capture_resolved

        only = frozenset(args.only_teams) if args.only_teams else None
        if only and not only <= set(known_teams(args.stack, args.teams)):
            raise UsageError(f"mlp: --team {', '.join(sorted(only - set(known_teams(args.stack, args.teams))))}: "
                             f"no such team in the stack's specs")
        with progress(f"mlp: resolving stack {args.stack}") as reporter:
            graph = capture_resolved(args.stack, teams_dir=args.teams, stack_config=stack, only_teams=only,
                                     progress=reporter)
            if reporter is not None:
                reporter.finish(len(graph))
    report = verify(graph, stack, suppressions, only=args.checks, whole_stack=not args.only_teams,
                    exemptions=planned_exemptions(stack, graph))
    return write_findings(report, args.format, args.output, stats_text, stats_markdown)


def stats_text(report: FindingsReport) -> str:
    stats = report.stats
    plan = "resolved plan" if stats["resolved"] else "plan (not resolved)"
    line = (f"{plan}: {stats['resources']} resource(s), {stats['resourcesWithSimulatedValues']} with values "
            f"simulated as AWS computes them on apply")
    if stats["unknownValues"]:
        line += f"; {stats['unknownValues']} unknown value(s) not checked (use mlp plan --resolve)"
    for exemption in stats.get("unusedExemptions", []):
        line += f"\n  exemption covers no failure: {exemption}"
    return line + "\n"


def stats_markdown(report: FindingsReport) -> str:
    return "\n" + stats_text(report)
