"""One source per fact: every Pulumi type token the tools use is spelled once, in
mlplatform/type_tokens.py, and the tools (graph, cost, policy, checkov, verify, ci, reports)
import it from there.

The components (their URN types) and the estate layer import it too. The scan reads each
module's syntax tree, so a token in a comment or inside a longer docstring is fine; a string
literal equal to a defined token is not. runtime/ is not scanned: the Lambda handlers ship
alone and import nothing of the project.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from mlplatform import type_tokens

ROOT = Path(__file__).resolve().parent.parent
SCANNED = (ROOT / "mlplatform", ROOT / "policies" / "rules", ROOT / "components")
NOT_SCANNED = {
    Path("mlplatform/type_tokens.py"),
    Path("mlplatform/runtime"),
}
#: ``<package>:<module>:<type>`` (a provider's type is ``pulumi:providers:<package>``).
TOKEN = re.compile(r"^(aws|kubernetes|mlplatform|pulumi):[A-Za-z0-9/._-]+:[A-Za-z0-9]+$")


def defined_tokens() -> dict[str, str]:
    """Token (or token prefix) -> the constant that defines it."""
    return {value: name for name, value in vars(type_tokens).items()
            if name.isupper() and isinstance(value, str)}


def spelled_tokens(source: str, tokens: dict[str, str]) -> list[tuple[int, str]]:
    """(line, token) of every string literal in ``source`` equal to one of ``tokens``."""
    return sorted((node.lineno, node.value) for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in tokens)


def scanned_modules() -> list[Path]:
    modules = []
    for root in SCANNED:
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(ROOT)
            if not any(relative == skip or skip in relative.parents for skip in NOT_SCANNED):
                modules.append(path)
    return modules


def test_the_scan_covers_the_tools_and_skips_the_excluded_modules():
    modules = {path.relative_to(ROOT).as_posix() for path in scanned_modules()}
    for tool in ("mlplatform/graph.py", "mlplatform/cost/attribution.py", "mlplatform/cost/pricers/registry.py",
                 "mlplatform/verify/iam_documents.py", "mlplatform/checkov/tfnames.py", "mlplatform/ci/pipeline.py",
                 "mlplatform/reports/plan.py", "policies/rules/edge.py", "policies/rules/common.py",
                 "mlplatform/estate/team.py", "components/endpoint.py", "components/foundation.py"):
        assert tool in modules
    assert "mlplatform/type_tokens.py" not in modules
    assert not any(module.startswith("mlplatform/runtime/") for module in modules)


def test_the_scan_finds_a_spelled_token_and_ignores_comments_and_prose():
    tokens = defined_tokens()
    source = ('"""Reads ``aws:s3/bucket:Bucket`` resources."""\n'
              '# aws:kms/key:Key\n'
              'X = "aws:s3/bucket:Bucket"\n'
              'Y = {"mlplatform:team:Team": 1}\n'
              'Z = "aws:s3/bucket:Bucket is prose"\n')
    assert spelled_tokens(source, tokens) == [(3, "aws:s3/bucket:Bucket"), (4, "mlplatform:team:Team")]


@pytest.mark.parametrize("path", scanned_modules(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_tool_module_spells_a_token_the_shared_module_defines(path: Path):
    tokens = defined_tokens()
    spelled = spelled_tokens(path.read_text(encoding="utf-8"), tokens)
    assert not spelled, "import these from mlplatform/type_tokens.py instead of spelling them: " + ", ".join(
        f"line {line}: {token!r} ({tokens[token]})" for line, token in spelled)


def test_the_shared_module_defines_each_token_once_and_imports_nothing():
    tree = ast.parse((ROOT / "mlplatform" / "type_tokens.py").read_text(encoding="utf-8"))
    assert not [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert ast.get_docstring(tree)
    tokens = [value for name, value in vars(type_tokens).items() if name.isupper()]
    assert len(tokens) == len(set(tokens)), "two constants name the same token"
    for name, value in vars(type_tokens).items():
        if name.isupper() and name != "PROVIDER_PREFIX":
            assert TOKEN.match(value), f"{name} = {value!r} is not a type token"
    assert type_tokens.AWS_PROVIDER.startswith(type_tokens.PROVIDER_PREFIX)


def test_every_component_token_is_a_type_the_shipped_stacks_plan():
    """The component tokens are the URN types components/* register; checking them against
    the committed golden plans catches a renamed component, which would otherwise leave cost
    attribution, the policy rules and the reports silently matching nothing."""
    planned = set()
    for golden in (ROOT / "tests" / "golden").glob("*.jsonl"):
        planned |= {json.loads(line)["type"] for line in golden.read_text(encoding="utf-8").splitlines() if line}
    components = {name: value for name, value in vars(type_tokens).items()
                  if name.isupper() and value.startswith("mlplatform:")}
    assert {"TEAM", "FOUNDATION", "ARTIFACT_STORE"} <= set(components)
    assert {name: value for name, value in components.items() if value not in planned} == {}
