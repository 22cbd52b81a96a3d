"""Every grant is written once (issue 15): no component builds an IAM policy of its own, and every
security condition key and every resource grant's action has exactly one definition.

Read from the components' source with ``ast`` (docstrings and comments may name a key; only code
counts), so a component that writes ``aws.iam.RolePolicy(...)`` or spells ``kms:ResourceAliases``
itself fails here with the file and line to fix.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

import pytest

from .conftest import PROJECT_ROOT

COMPONENTS = PROJECT_ROOT / "components"

#: The constructors of identity policies, and the one function allowed to call them.
POLICY_CONSTRUCTORS = ("RolePolicy", "Policy", "UserPolicy", "GroupPolicy")
GRANT_PRIMITIVE = ("service_role.py", "grant_to_role")

#: A literal (a condition key, or the action a resource grants) -> its one definition: the module
#: and the function or method (dotted) whose code alone may spell it.
ONE_DEFINITION: dict[str, tuple[str, str]] = {
    # condition keys
    "kms:ResourceAliases": ("managed_key.py", "KeyAccess.grant"),
    "aws:SecureTransport": ("iam.py", "deny_insecure_transport"),
    "aws:SourceAccount": ("iam.py", "from_source_account"),
    "kms:ViaService": ("managed_key.py", "via_service"),
    "cloudwatch:namespace": ("grants.py", "MetricNamespace.grant_put_metric_data"),
    "s3:prefix": ("secure_bucket.py", "BucketAccess.grant_list"),
    # actions of resource grants
    "sagemaker:InvokeEndpoint": ("grants.py", "EndpointAccess.grant_invoke"),
    "sagemaker:DescribeEndpoint": ("grants.py", "EndpointAccess.grant_describe"),
    "dynamodb:PutItem": ("grants.py", ""),
    "sqs:SendMessage": ("grants.py", "QueueAccess.grant_send"),
    "states:StartExecution": ("grants.py", "StateMachineAccess.grant_start_execution"),
    "firehose:PutRecord": ("grants.py", ""),
    "secretsmanager:GetSecretValue": ("grants.py", "SecretAccess.grant_read"),
    "xray:PutTraceSegments": ("grants.py", ""),
    "ec2:CreateNetworkInterface": ("grants.py", ""),
    "logs:PutLogEvents": ("grants.py", ""),
    "logs:CreateLogGroup": ("grants.py", "LogGroupAccess.grant_write"),
    "sns:Publish": ("grants.py", ""),
    "s3:GetObjectVersionForReplication": ("secure_bucket.py", ""),
    "s3:ReplicateObject": ("secure_bucket.py", ""),
}
#: (file, literal) pairs allowed outside the definition, with the reason; none today.
EXCEPTIONS: dict[tuple[str, str], str] = {}


def docstring_nodes(tree: ast.AST) -> set[int]:
    """The string constants that are statements of their own (docstrings, attribute docs)."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def code_strings(tree: ast.AST) -> Iterator[tuple[str, ast.Constant]]:
    """The string constants that are code, with the dotted scope around each: not docstrings, and
    not prose (a string with a space, such as the AWS sources quoted in service_role.SERVICE_TRUST);
    a condition key or an action is one word, alone or inside an f-string's parts."""
    docs = docstring_nodes(tree)
    for scope, node in scopes(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                and " " not in node.value):
            yield scope, node


def scopes(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Every node with the dotted name of the innermost function or class around it."""
    def walk(node: ast.AST, scope: str) -> Iterator[tuple[str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = f"{scope}.{child.name}" if scope else child.name
            yield inner, child
            yield from walk(child, inner)
    yield from walk(tree, "")


def called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def violations(components: Path) -> list[str]:
    """Every policy constructed outside the grant primitive, and every listed literal outside its
    one definition, as ``file:line: what``."""
    found = []
    for path in sorted(components.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for scope, node in scopes(tree):
            if isinstance(node, ast.Call) and called_name(node) in POLICY_CONSTRUCTORS:
                text = ast.unparse(node.func)
                if (text.startswith(("aws.iam.", "iam.")) or text in POLICY_CONSTRUCTORS) and \
                        (path.name, scope) != GRANT_PRIMITIVE:
                    found.append(f"components/{path.name}:{node.lineno}: {text}(...) outside "
                                 f"{GRANT_PRIMITIVE[0]}:{GRANT_PRIMITIVE[1]}")
        for scope, node in code_strings(tree):
            for literal, (module, owner) in ONE_DEFINITION.items():
                if literal not in node.value or (path.name, literal) in EXCEPTIONS:
                    continue
                if path.name != module or (owner and scope != owner and not scope.startswith(f"{owner}.")):
                    found.append(f"components/{path.name}:{node.lineno}: {literal!r} outside its definition "
                                 f"{module}:{owner or '*'}")
    return found


def test_no_component_builds_a_policy_or_spells_a_grant_outside_its_definition():
    assert violations(COMPONENTS) == []


def test_every_listed_literal_has_its_definition():
    """The table is not stale: each literal still appears where it says (a rename would otherwise
    let a copy elsewhere pass unnoticed)."""
    present: dict[str, set[str]] = {}
    for path in COMPONENTS.glob("*.py"):
        for scope, node in code_strings(ast.parse(path.read_text())):
            for literal in ONE_DEFINITION:
                if literal in node.value:
                    present.setdefault(literal, set()).add(f"{path.name}:{scope}")
    for literal, (module, owner) in ONE_DEFINITION.items():
        assert any(site.startswith(f"{module}:{owner}") for site in present.get(literal, ())), literal


@pytest.mark.parametrize("source, expected", [
    ("import pulumi_aws as aws\naws.iam.RolePolicy('p', role='r', policy='{}')\n", "aws.iam.RolePolicy(...)"),
    ("from pulumi_aws import iam\niam.Policy('p', policy='{}')\n", "iam.Policy(...)"),
    ("x = {'ForAnyValue:StringEquals': {'kms:ResourceAliases': 'alias/a'}}\n", "'kms:ResourceAliases' outside"),
    ("def f(team):\n    return f'{team}' + 'aws:SecureTransport'\n", "'aws:SecureTransport' outside"),
    ("def pin(account):\n    return {'StringEquals': {'aws:SourceAccount': account}}\n", "'aws:SourceAccount' outside"),
    ("def arn(r, a):\n    return f'arn:aws:logs:{r}:{a}:*'\nA = ['logs:PutLogEvents']\n", "'logs:PutLogEvents' outside"),
])
def test_a_copy_is_caught(tmp_path, source, expected):
    (tmp_path / "rogue.py").write_text(source)
    [finding] = violations(tmp_path)
    assert finding.startswith("components/rogue.py:") and expected in finding


def test_docstrings_and_prose_may_name_a_key(tmp_path):
    (tmp_path / "doc.py").write_text('"""Uses ``kms:ResourceAliases``."""\n\ndef f():\n    """aws:SecureTransport"""\n'
                                     'SOURCE = "the trust carries aws:SourceAccount (AWS docs)"\n')
    assert violations(tmp_path) == []
