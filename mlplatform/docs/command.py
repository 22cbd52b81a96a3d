"""``mlp docs``: write model cards and data provenance reports for a stack's teams.

All documents are rendered in memory first and then moved into place together, so a
failure (an invalid spec, an unwritable folder) never leaves a half-updated set behind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from mlplatform.cli_common import STACK_HELP
from mlplatform.errors import UsageError


def render_documents(stack_name: str, teams_dir: str | None = None) -> dict[str, str]:
    """``{relative path: Markdown}`` for every endpoint and team of the stack."""
    from mlplatform.errors import InvalidSpecs
    from mlplatform.stackchecks import selected_specs
    from mlplatform.stackconfig import project_relative
    from mlplatform.stackconfig import load_stack_config

    from .model_card import render_model_card
    from .provenance import render_provenance

    stack = load_stack_config(stack_name, teams_dir=teams_dir)
    try:
        specs = selected_specs(stack)
    except InvalidSpecs as exc:
        from mlplatform.errors import SpecError

        raise SpecError(exc.issues) from None
    documents: dict[str, str] = {}
    for loaded in sorted(specs, key=lambda item: item.team):
        spec_file = project_relative(loaded.file)
        spec = loaded.for_environment(stack.environment)
        documents[f"provenance/{loaded.team}.md"] = render_provenance(spec, stack, spec_file)
        base_endpoints = [endpoint.name for endpoint in loaded.spec.spec.endpoints]
        for endpoint in spec.spec.endpoints:
            index = base_endpoints.index(endpoint.name) if endpoint.name in base_endpoints else 0
            line = loaded.line_of(("spec", "endpoints", index, "name"))
            documents[f"model-cards/{loaded.team}--{endpoint.name}.md"] = render_model_card(
                spec, endpoint, stack, spec_file, line)
    return documents


def write_documents(documents: dict[str, str], output_dir: Path) -> None:
    """Replace ``output_dir``'s generated subfolders with ``documents`` in one step each."""
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".mlp-docs-", dir=output_dir))
    try:
        for relative, text in documents.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for folder in ("model-cards", "provenance"):
            (staging / folder).mkdir(exist_ok=True)
            final = output_dir / folder
            retired = output_dir / f".{folder}.old"
            if final.exists():
                os.replace(final, retired)
            os.replace(staging / folder, final)
            shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def register(commands) -> None:
    parser = commands.add_parser("docs", help="write model cards and data provenance reports from the specs")
    parser.add_argument("--stack", required=True, metavar="STACK", help=STACK_HELP)
    parser.add_argument("--teams", metavar="DIR", help="team specs folder instead of the stack's")
    parser.add_argument("--output-dir", metavar="DIR", default="docs/generated",
                        help="folder for model-cards/ and provenance/ (default: docs/generated)")
    parser.set_defaults(handler=cmd_docs)


def cmd_docs(args: argparse.Namespace) -> int:
    documents = render_documents(args.stack, args.teams)
    try:
        write_documents(documents, Path(args.output_dir))
    except OSError as exc:
        raise UsageError(f"{args.output_dir}: cannot write documents: {exc.strerror or exc}") from None
    cards = sum(1 for path in documents if path.startswith("model-cards/"))
    print(f"mlp docs: {cards} model card(s) and {len(documents) - cards} provenance report(s) in {args.output_dir}")
    return 0
