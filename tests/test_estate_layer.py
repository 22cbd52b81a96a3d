"""The estate layer owns what the stack shares and everything read from spec and stack
files; components take it all in their arguments (issue 15, "hidden state")."""

from __future__ import annotations

import ast

from mlplatform.stackconfig import setting_source

from .conftest import PROJECT_ROOT

#: Names through which code reads a stack file, a stack's config or the team specs itself.
FILE_READERS = {"config_values_from_stack_file", "load_stack_config", "stack_file", "setting_source",
                "stack_config_from_pulumi", "stack_config_from_values", "load_specs", "selected_specs"}


def test_components_keep_no_program_state_and_read_no_stack_or_spec_file():
    """No component keeps a per-program singleton (a context variable) or reads the stack
    file or the specs on its own: the estate builder does, and passes the result in."""
    found = []
    for module in sorted((PROJECT_ROOT / "components").glob("*.py")):
        tree = ast.parse(module.read_text(), filename=str(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {node.module or ""} | {alias.name for alias in node.names}
            else:
                continue
            for name in sorted(names & ({"contextvars"} | FILE_READERS)):
                found.append(f"components/{module.name}:{node.lineno}: {name}")
    assert not found, "\n".join(found)


def test_setting_source_names_the_stack_file_and_the_settings_line(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.x.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  mlplatform:kubernetes:\n    name: c\n")
    assert setting_source("x", "kubernetes", tmp_path) == {"file": "stacks/Pulumi.x.yaml", "line": 3}
    # a stack configured without a file (pulumi config set) points at line 1
    assert setting_source("absent", "kubernetes", tmp_path) == {"file": "stacks/Pulumi.absent.yaml", "line": 1}


def test_the_shipped_dev_stack_records_its_kueue_cluster_at_the_kubernetes_setting():
    source = setting_source("dev", "kubernetes")
    lines = (PROJECT_ROOT / source["file"]).read_text().splitlines()
    assert lines[source["line"] - 1].strip() == "mlplatform:kubernetes:"
