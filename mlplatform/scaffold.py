"""``mlp new team NAME``: a commented starter spec that validates as written.

``mlp schema`` is 88 KB of JSON: nobody starts a spec from it. The starter holds the
fields every team needs (metadata, artifacts, budget) with safe values, and the optional
sections (feature groups, training queues, endpoints) as commented examples that use the
stack's own allowed instance types, so uncommenting one keeps the spec valid there. It is
written only after it has been validated, never over an existing file.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import SpecError, UsageError

SCHEMA_FILE = Path(__file__).resolve().parent / "spec" / "teamspec.schema.json"

TEMPLATE = """\
# yaml-language-server: $schema={schema}
# Team spec of {team}. Every field is described in the schema above (hover in your editor);
# check it with: mlp validate {display}{stack_flag}
apiVersion: mlplatform/v1
kind: TeamSpec
metadata:
  team: {team}
  costCenter: {cost_center}          # the cost center that pays (CC- and 3-6 digits)
  owners: [{owner}]   # accountable owners: they review changes to this file
  dataClassification: internal     # public | internal | confidential | restricted
  residency: {residency}                    # region group the stack deploys into
  riskTier: low                    # low | medium | high: drives review and object lock
  escalation:
    critical: [email:{owner}]   # also pagerduty:<service>, slack:<channel>, https://<webhook>
spec:
  artifacts: {{retentionDays: 365}}   # the team's KMS-encrypted bucket; objects expire after this
  budget: {{monthlyUsd: {budget}, alertAtPercent: [50, 80, 100]}}
  # featureGroups:                   # SageMaker Feature Store groups
  #   - name: customers
  #     recordIdentifier: customer_id
  #     eventTime: event_time
  #     features:
  #       - {{name: customer_id, type: string}}
  #       - {{name: event_time, type: string}}
  #       - {{name: age_band, type: integral}}   # pii: true needs dataClassification confidential+
  # training:
  #   queues:                        # GPU training on AWS Batch (backend: batch) or Kueue
  #     - name: gpu
  #       instanceTypes: [{training_type}]
  #       maxGpus: 4
  #       spot: {{enabled: true, fallbackToOnDemand: true}}
  # endpoints:
  #   - name: scorer
  #     mode: realtime               # realtime | async | serverless | batch
  #     model: {{framework: pytorch, frameworkVersion: "2.3", artifact: models/scorer/}}
  #     instanceType: {serving_type}
  #     autoscaling: {{min: 1, max: 2}}
"""


def register(commands) -> None:
    parser = commands.add_parser("new", help="start something new: mlp new team NAME writes a starter spec")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", parser_class=type(parser))
    kinds.required = True
    team = kinds.add_parser("team", help="write a commented starter team spec that validates")
    team.add_argument("name", metavar="NAME", help="team name: lowercase letters, digits and dashes")
    team.add_argument("--stack", metavar="STACK",
                      help="write into this stack's teams folder and use its residency and instance types")
    team.add_argument("--dir", metavar="DIR", help="folder to write NAME.yaml into (default: the stack's teams "
                      "folder with --stack, else the working directory)")
    team.add_argument("--owner", metavar="EMAIL", help="accountable owner (default: NAME@example.com; change it)")
    team.add_argument("--cost-center", metavar="CC", default="CC-0000",
                      help="cost center, CC- and 3-6 digits (default: CC-0000; change it)")
    team.add_argument("--budget", metavar="USD", type=int, default=1000, help="monthly budget in USD (default: 1000)")
    team.set_defaults(handler=cmd_new_team)


def starter_spec(team: str, *, owner: str, cost_center: str, budget: int, residency: str,
                 training_type: str, serving_type: str, schema: str, display: str, stack_flag: str) -> str:
    return TEMPLATE.format(team=team, owner=owner, cost_center=cost_center, budget=budget, residency=residency,
                           training_type=training_type, serving_type=serving_type, schema=schema,
                           display=display, stack_flag=stack_flag)


def cmd_new_team(args: argparse.Namespace) -> int:
    from .cli_common import EXIT_INVALID, EXIT_OK, display_path
    from .spec.loader import load_spec_bytes
    from .stackconfig import load_stack_config

    stack = load_stack_config(args.stack) if args.stack else None
    folder = Path(args.dir) if args.dir else (stack.teams_path() if stack else Path.cwd())
    if not folder.is_dir():
        raise UsageError(f"mlp new team: {args.dir or folder}: no such folder")
    target = folder / f"{args.name}.yaml"
    shown = display_path(target.resolve())
    if target.exists():
        raise UsageError(f"mlp new team: {shown} already exists; edit it, or choose another name")
    training_type, serving_type = _instance_types(stack)
    text = starter_spec(
        args.name, owner=args.owner or f"{args.name}@example.com", cost_center=args.cost_center,
        budget=args.budget, residency=stack.residency if stack else "eu",
        training_type=training_type, serving_type=serving_type,
        schema=schema_reference(folder.resolve()),
        display=shown, stack_flag=f" --stack {args.stack}" if args.stack else "",
    )
    try:  # the starter must be valid as written: the name, owner and cost center are the user's
        loaded = load_spec_bytes(shown, text.encode("utf-8"))
    except SpecError as exc:
        for issue in exc.issues:
            print(f"mlp new team: {issue.field}: {' '.join(issue.message.split())}", file=sys.stderr)
        return EXIT_INVALID
    if stack is not None:
        from .stackchecks import stack_issues

        issues = stack_issues([loaded], stack)
        if issues:
            for issue in issues:
                print(f"mlp new team: {issue.field}: {' '.join(issue.message.split())}", file=sys.stderr)
            return EXIT_INVALID
    with open(target, "x", encoding="utf-8") as handle:  # never over a file that appeared meanwhile
        handle.write(text)
    print(f"mlp new team: wrote {shown}; set owners and costCenter, then run: "
          f"mlp validate {shown}{' --stack ' + args.stack if args.stack else ''}", file=sys.stderr)
    return EXIT_OK


def schema_reference(folder: Path) -> str:
    """How a spec in ``folder`` names the schema for the YAML language server: relative
    inside the project (the committed examples do so, and it survives a move of the
    checkout), absolute for a folder elsewhere."""
    from .stackconfig import PROJECT_ROOT

    if folder.is_relative_to(PROJECT_ROOT.resolve()) and SCHEMA_FILE.is_relative_to(PROJECT_ROOT.resolve()):
        return Path(os.path.relpath(SCHEMA_FILE, folder)).as_posix()
    return SCHEMA_FILE.as_posix()


def _instance_types(stack) -> tuple[str, str]:
    """The first allowed training and serving types of the stack (what a commented
    example may use there), or the framework's usual defaults without a stack."""
    if stack is None:
        return "g5.2xlarge", "ml.m5.large"
    return stack.allowed_instance_types.training[0], stack.allowed_instance_types.serving[0]
