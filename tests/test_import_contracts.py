"""The layers of the codebase hold: import-linter's contracts (``.importlinter``) pass, they
name every module, they would catch a breach, and the Lambda handlers import nothing
the Lambda runtime lacks."""

from __future__ import annotations

import ast
import configparser
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import PROJECT_ROOT

CONTRACTS = PROJECT_ROOT / ".importlinter"
PACKAGES = ("mlplatform", "components", "policies")
#: What the Lambda Python runtime provides besides the standard library.
LAMBDA_RUNTIME_PACKAGES = {"boto3", "botocore"}


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports --no-cache`` in ``root`` (the flag keeps it from writing a cache
    there); it puts its working directory first on the import path, so it reads
    ``root``'s packages."""
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else [shutil.which("lint-imports") or "lint-imports"]
    return subprocess.run([*command, "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300)


def layers() -> list[list[str]]:
    """The modules of each layer of the layers contract, top layer first."""
    parser = configparser.ConfigParser()
    parser.read(CONTRACTS)
    [section] = [name for name in parser.sections() if parser[name].get("type") == "layers"]
    rows = [row for row in parser[section]["layers"].splitlines() if row.strip()]
    return [[module.strip() for module in row.replace("|", ":").split(":")] for row in rows]


def test_the_import_contracts_hold():
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, f"lint-imports failed:\n{result.stdout}\n{result.stderr}"
    assert "0 broken" in result.stdout


def test_every_module_of_the_project_sits_in_a_layer():
    """A module left out of the layers contract would escape it: every top-level module
    and package of ``mlplatform`` is named (or lies inside one named), and so are
    ``components`` and ``policies``."""
    named = {module for layer in layers() for module in layer}
    children = {f"mlplatform.{path.stem}" for path in (PROJECT_ROOT / "mlplatform").glob("*.py")
                if path.name != "__init__.py"}
    children |= {f"mlplatform.{path.parent.name}" for path in (PROJECT_ROOT / "mlplatform").glob("*/__init__.py")}
    missing = sorted(child for child in children | {"components", "policies"}
                     if not any(module == child or module.startswith(child + ".") for module in named))
    assert not missing, f"add these to a layer in .importlinter: {', '.join(missing)}"


def test_the_layers_run_tools_estate_components_core_runtime():
    top, estate, components, core, runtime = layers()
    assert {"mlplatform.cli", "mlplatform.capture", "mlplatform.policy", "policies"} <= set(top)
    assert estate == ["mlplatform.estate"] and components == ["components"]
    assert {"mlplatform.spec", "mlplatform.naming", "mlplatform.stackconfig", "mlplatform.errors"} <= set(core)
    assert all(module.startswith("mlplatform.runtime.") for module in runtime)


def test_a_component_importing_the_estate_breaks_the_contracts(tmp_path):
    """The contracts catch the cycle this layering removed: a component that imports the
    program (as ``components/endpoint.py`` once did for ``InvalidSpecs``)."""
    for package in PACKAGES:
        shutil.copytree(PROJECT_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(CONTRACTS, tmp_path / ".importlinter")
    endpoint = tmp_path / "components" / "endpoint.py"
    endpoint.write_text(endpoint.read_text() + "\nfrom mlplatform.estate.program import run  # noqa: E402,F401\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "components is not allowed to import mlplatform.estate" in result.stdout
    assert "components.endpoint -> mlplatform.estate.program" in result.stdout


def test_the_lambda_handlers_import_only_the_standard_library_and_boto3():
    """Each handler ships as a single file to a runtime that has the standard library and
    boto3: an import of anything else (the project included) fails there, not here."""
    for handler in sorted((PROJECT_ROOT / "mlplatform" / "runtime").glob("*.py")):
        tree = ast.parse(handler.read_text(), filename=str(handler))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{handler.name}:{node.lineno}: relative import"
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in LAMBDA_RUNTIME_PACKAGES or top == "__future__", \
                    f"{handler.name}:{node.lineno}: imports {name}, which the Lambda runtime does not provide"


def test_ci_lints_before_it_tests():
    """``.ci/run`` runs ruff and the import contracts, then the test suite."""
    lines = [line.strip() for line in (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()]
    ruff = lines.index(".venv/bin/ruff check .")
    contracts = lines.index(".venv/bin/lint-imports --no-cache")
    tests = next(index for index, line in enumerate(lines) if line.endswith("-m pytest"))
    assert ruff < tests and contracts < tests


def test_no_test_module_imports_another_test_module():
    """Shared test code lives in tests/helpers/ (issue 15): a test module imports helpers and
    fixtures, never another test module, so each test file can change on its own."""
    import ast

    tests = Path(__file__).resolve().parent
    offenders = []
    for path in sorted(tests.rglob("*.py")):
        if "fixtures" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names if node.level and not node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.rsplit(".", 1)[-1].startswith("test_"):
                    offenders.append(f"{path.relative_to(tests)}:{node.lineno}: {name}")
    assert not offenders, offenders
