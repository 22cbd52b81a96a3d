"""``mlp scan --stack S``: checkov on the stack's plan; exit 1 when a check fails.

Reuses the CLI's stack arguments (``--teams``, ``--graph`` for a saved graph, a
``pulumi preview --json`` or a ``pulumi stack export``) and the shared findings renderers.
Text and Markdown end with how many checks passed and how many resources of each type
were scanned, JSON carries the same figures under ``stats``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..reports.findings import FindingsReport

FORMATS = ("text", "json", "markdown", "sarif", "junit")


def register(commands) -> None:
    from ..cli_common import add_stack_arguments

    parser = commands.add_parser("scan", help="checkov on the stack's plan (Terraform plan JSON + Kubernetes manifests)")
    add_stack_arguments(parser, formats=FORMATS)
    parser.add_argument("--skips", metavar="FILE", help="justified skips (default: policies/checkov-skips.yaml)")
    parser.add_argument("--keep", metavar="DIR", help="also write the translated plan and manifests to DIR")
    parser.set_defaults(handler=cmd_scan)


def cmd_scan(args: argparse.Namespace) -> int:
    from ..cli_common import obtain_graph, write_findings
    from ..reports.exemptions import planned_exemptions
    from ..stackconfig import load_stack_config
    from .runner import scan
    from .skips import load_skips

    skips = load_skips(args.skips)  # a bad skips file fails before the slow part
    stack = load_stack_config(args.stack, teams_dir=args.teams)  # skips may depend on the stack's config
    graph = obtain_graph(args.stack, args.teams, args.graph, args.only_teams)
    report = scan(graph, skips, keep=Path(args.keep) if args.keep else None, stack=stack,
                  exemptions=planned_exemptions(stack, graph))
    return write_findings(report, args.format, args.output, stats_text, stats_markdown)


def stats_text(report: FindingsReport) -> str:
    stats = report.stats
    lines = [f"checkov {report.tool_version}: {stats['checksPassed']} check(s) passed on "
             f"{stats['resourcesScanned']} resource(s) scanned"]
    for type_token, count in stats["resourcesScannedByType"].items():
        counts = stats["checksByType"].get(type_token, {})
        lines.append(f"  {count:5d}  {type_token}  ({_counts(counts)})")
    for type_token in stats["unmappedTypes"]:
        lines.append(f"  not scanned (no Terraform/Kubernetes form): {type_token}")
    for skip in stats["unusedSkips"]:
        lines.append(f"  unused skip: {skip}")
    for exemption in stats.get("unusedExemptions", []):
        lines.append(f"  exemption covers no failure: {exemption}")
    return "\n".join(lines) + "\n"


def stats_markdown(report: FindingsReport) -> str:
    stats = report.stats
    lines = ["", "<details><summary>Resources scanned by type "
             f"({stats['resourcesScanned']} resources, {stats['checksPassed']} checks passed)</summary>", "",
             "| type | resources | passed | failed | skipped |", "|---|---:|---:|---:|---:|"]
    for type_token, count in stats["resourcesScannedByType"].items():
        counts = stats["checksByType"].get(type_token, {})
        lines.append(f"| `{type_token}` | {count} | {counts.get('passed', 0)} | {counts.get('failed', 0)} | "
                     f"{counts.get('skipped', 0)} |")
    lines += ["", "</details>", ""]
    if stats["unmappedTypes"]:
        lines += ["Not scanned (no Terraform/Kubernetes form): " + ", ".join(f"`{t}`" for t in stats["unmappedTypes"]), ""]
    return "\n".join(lines)


def _counts(counts: dict[str, int]) -> str:
    if not counts:
        return "no applicable checks"
    return ", ".join(f"{counts[key]} {key}" for key in ("passed", "failed", "skipped") if counts.get(key))
