"""``mlp policy --stack S``: the policy pack on the stack's offline plan.

Exit 0 when no mandatory rule fails, 1 on any mandatory violation (or invalid specs), 2
on usage errors. ``--write-config FILE`` writes the pack's config for the stack (the
``--policy-pack-config`` file for ``pulumi preview --policy-pack policies``) and exits.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os

from ..cli_common import EXIT_OK, add_stack_arguments, obtain_graph, write_output
from ..errors import UsageError

FORMATS = ("text", "json", "markdown", "sarif", "junit")
AUTO_JOBS_FROM = 2000
MAX_AUTO_JOBS = 4


def default_jobs(resources: int) -> int:
    """One pack process for small plans (start-up dominates); several for large ones."""
    if resources < AUTO_JOBS_FROM:
        return 1
    return max(1, min(MAX_AUTO_JOBS, os.cpu_count() or 1))


def register(commands) -> None:
    parser = commands.add_parser("policy", help="run the policy pack on a stack's offline plan")
    add_stack_arguments(parser, formats=FORMATS)
    parser.add_argument("--today", metavar="YYYY-MM-DD", help="judge exemption expiry on this date (default: today)")
    parser.add_argument("--write-config", metavar="FILE",
                        help="write the pack's policy config for the stack (for pulumi --policy-pack-config) and exit")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="run N processes of the pack and spread the Analyze calls over them "
                             f"(default: 1, or up to {MAX_AUTO_JOBS} on a multi-core machine for plans of "
                             f"{AUTO_JOBS_FROM} resources or more)")
    parser.add_argument("--resolve", action="store_true",
                        help="judge the rules deferred at preview (values unknown until apply) on the resolved plan "
                             "(mlp plan --resolve); every other rule keeps its verdict on the ordinary plan")
    parser.set_defaults(handler=cmd_policy)


def _today(text: str | None) -> datetime.date:
    from ..cli_common import parse_today

    return parse_today(text, "mlp policy")


def cmd_policy(args: argparse.Namespace) -> int:
    from ..stackchecks import selected_specs
    from ..reports.findings import RENDERERS
    from ..stackconfig import config_values_from_stack_file, load_stack_config, stack_file
    from .config import build_policy_config, stack_values
    from .runner import check
    from .server import PackPool, PackServer

    today = _today(args.today)
    stack = load_stack_config(args.stack, teams_dir=args.teams)
    specs = selected_specs(stack)
    stack_values_text, _ = config_values_from_stack_file(stack_file(args.stack))
    if args.write_config:
        values = stack_values(stack, specs, today)
        if not args.today:
            values.pop("today")  # under the CLI the pack judges exemptions on the day it runs
        with PackServer(project="", stack=args.stack) as server:
            config = build_policy_config(server.info(), values)
        write_output(json.dumps(config, indent=1, sort_keys=True) + "\n", args.write_config)
        return EXIT_OK
    if args.resolve and args.graph:
        raise UsageError("mlp policy: --resolve captures the plans itself; it cannot be combined with --graph")
    graph = obtain_graph(args.stack, args.teams, args.graph, args.only_teams)
    jobs = default_jobs(len(graph)) if args.jobs is None else args.jobs
    if jobs < 1:
        raise UsageError("mlp policy: --jobs must be at least 1")
    kwargs = dict(project=graph.project, stack=graph.stack or args.stack, config=stack_values_text)
    with (PackServer(**kwargs) if jobs == 1 else PackPool(jobs, **kwargs)) as server:
        report = check(server, graph, stack, specs, today, stack_config=stack_values_text)
        if args.resolve:
            from .deferred import deferred_rules, judge_deferred_on_resolved
            from ..verify.resolve import capture_resolved

            if deferred_rules(report):
                resolved = capture_resolved(args.stack, teams_dir=args.teams, specs=specs, stack_config=stack)
                report = judge_deferred_on_resolved(server, report, resolved, stack, specs, today,
                                                    stack_config=stack_values_text)
    write_output(RENDERERS[args.format](report), args.output)
    return report.exit_code
