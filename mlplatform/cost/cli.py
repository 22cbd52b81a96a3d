"""``mlp cost`` and ``mlp prices refresh``: the cost preview and its price catalogue.

``mlp cost`` exits 0 when every team is within budget and 1 when a team's projected
monthly cost exceeds its ``budget.monthlyUsd`` (the budget guard); alert thresholds are
warnings in the report. A team with unpriced lines cannot be confirmed within budget: that
is a warning, or exit 1 on a stack whose ``mlplatform:unpricedCost`` is ``block``, as in
``mlp ci``. Usage and I/O errors exit 2, as everywhere in ``mlp``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from ..cli_common import EXIT_INVALID, EXIT_OK, add_format_argument, add_stack_arguments, obtain_graph, write_output
from ..stackconfig import load_stack_config
from .pricers.edge import SKUS as EDGE_SKUS


def register(commands) -> None:
    cost = commands.add_parser("cost", help="monthly cost per team and resource, diff vs --base, budget guard")
    add_stack_arguments(cost)
    cost.add_argument("--base", metavar="FILE", help="plan to compare against (same formats as --graph)")
    cost.add_argument("--prices", metavar="FILE", help="price catalogue instead of the packaged one")
    cost.add_argument("--region", help="price in this region instead of the stack's (to compare regions)")
    cost.set_defaults(handler=cmd_cost)

    prices = commands.add_parser("prices", help="the price catalogue")
    actions = prices.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    refresh = actions.add_parser("refresh", help="rebuild a region's prices from the AWS Price List API (needs credentials)")
    refresh.add_argument("--region", required=True, help="region whose prices to rebuild, e.g. eu-west-1")
    refresh.add_argument("--output", metavar="FILE", help="catalogue to write (default: the packaged catalogue)")
    refresh.add_argument("--prices", metavar="FILE", help="catalogue to start from (default: the packaged one)")
    refresh.set_defaults(handler=cmd_refresh)
    show = actions.add_parser("show", help="every SKU the estate uses, with its price, source and date or UNKNOWN")
    show.add_argument("--region", required=True, metavar="REGION", help="AWS region whose prices to show, e.g. eu-west-1")
    show.add_argument("--prices", metavar="FILE", help="catalogue to read (default: the packaged one)")
    add_format_argument(show, ("text", "json"))
    show.set_defaults(handler=cmd_show)


def cost_report(stack_name: str, teams: Optional[str], graph_file: Optional[str], prices: Optional[str],
                region: Optional[str] = None, only_teams: Optional[list[str]] = None):
    """Price the stack's plan; returns (report, stack config, catalogue, region)."""
    from .catalogue import load_catalogue
    from .attribution import load_team_contexts
    from .engine import price_graph

    stack = load_stack_config(stack_name, teams_dir=teams)
    catalogue = load_catalogue(prices)
    graph = obtain_graph(stack_name, teams, graph_file, only_teams)
    contexts, warnings = load_team_contexts(graph, stack.environment, teams)
    region = region or stack.region
    report = price_graph(graph, catalogue, region, stack.environment, contexts, warnings, stack_region=stack.region)
    return report, stack, catalogue, region


def cmd_cost(args: argparse.Namespace) -> int:
    from ..readers import load_graph
    from . import report as render
    from .budget import UNPRICED_BLOCK, check_budgets, guard_verdict
    from .diff import diff_reports
    from .attribution import load_team_contexts
    from .engine import price_graph

    report, stack, catalogue, region = cost_report(args.stack, args.teams, args.graph, args.prices, args.region,
                                                  args.only_teams)
    diff = None
    if args.base:
        base_graph = load_graph(args.base)
        contexts, warnings = load_team_contexts(base_graph, stack.environment, args.teams)
        base = price_graph(base_graph, catalogue, region, stack.environment, contexts, warnings,
                           stack_region=stack.region)
        diff = diff_reports(base, report)
    budgets = check_budgets(report)
    renderer = {"text": render.render_text, "json": render.render_json, "markdown": render.render_markdown}[args.format]
    write_output(renderer(report, budgets, diff), args.output)
    verdict = guard_verdict(budgets, stack.unpriced_cost)
    blocks_unconfirmed = verdict.unpriced_policy == UNPRICED_BLOCK
    for result in budgets:
        for message in result.messages():
            error = (result.over and "exceeds" in message) or (blocks_unconfirmed and not result.confirmed)
            print(f"mlp cost: {'error' if error else 'warning'}: {message}", file=sys.stderr)
    if verdict.unconfirmed:
        print(f"mlp cost: {'error' if blocks_unconfirmed else 'warning'}: {verdict.unconfirmed_message()}",
              file=sys.stderr)
    return EXIT_INVALID if verdict.blocking else EXIT_OK


def cmd_refresh(args: argparse.Namespace) -> int:
    from .catalogue import DEFAULT_CATALOGUE, load_catalogue
    from .refresh import refresh_region

    catalogue = load_catalogue(args.prices)
    result = refresh_region(catalogue, args.region)
    write_output(result.catalogue.dumps(), args.output or str(DEFAULT_CATALOGUE))
    print(f"mlp prices refresh: {args.region}: {len(result.updated)} price(s) from the AWS Price List API, "
          f"{len(result.unresolved)} unresolved", file=sys.stderr)
    for sku, reason in result.unresolved:
        print(f"mlp prices refresh: warning: {sku}: {reason}", file=sys.stderr)
    return EXIT_OK


#: SKUs the engine prices other than instance types (those come from the stacks' lists).
ENGINE_SKUS = (
    "s3.storage.standard", "kms.key", "cloudwatch.alarm.standard", "cloudwatch.alarm.highres",
    "cloudwatch.logs.ingest", "cloudwatch.logs.storage", "cloudwatch.dashboard", "ecr.storage", "lambda.requests",
    "lambda.duration.x86_64", "lambda.duration.arm64", "featurestore.online.storage", "featurestore.write",
    "featurestore.read", "sagemaker.serverless.compute", "firehose.ingest", "cloudtrail.management",
    "cloudtrail.dataevents", "sns.requests", *EDGE_SKUS,
)


def cmd_show(args: argparse.Namespace) -> int:
    import json

    from .catalogue import gap_summary, load_catalogue
    from .refresh import stack_instance_types

    catalogue = load_catalogue(args.prices)
    skus = set(ENGINE_SKUS) | {sku for sku, _ in catalogue.prices}
    for instance in stack_instance_types():
        if instance.startswith("ml."):
            skus |= {f"sagemaker.hosting:{instance}", f"sagemaker.async:{instance}"}
        else:
            skus.add(f"ec2.ondemand:{instance}")
    rows = []
    for sku in sorted(skus):
        price = catalogue.price(sku, args.region)
        rows.append(price.to_json() if price else {"sku": sku, "region": args.region, "usd": None,
                                                   "gap": catalogue.gap(sku, args.region)})
    if args.format == "json":
        sys.stdout.write(json.dumps({"catalogueVersion": catalogue.version, "region": args.region, "prices": rows},
                                    indent=1) + "\n")
    else:
        for row in rows:
            if row["usd"] is None:
                gap = f"  ({gap_summary(row['gap'])})" if row.get("gap") else ""
                print(f"{row['sku']:<40} UNKNOWN{gap}")
            else:
                print(f"{row['sku']:<40} ${row['usd']}/{row['unit']}  {row['source']} ({row['asOf']})")
        known = sum(1 for row in rows if row["usd"] is not None)
        print(f"mlp prices show: {args.region}: {known} of {len(rows)} SKU(s) priced", file=sys.stderr)
    return EXIT_OK
