"""The package works installed from a wheel (issue 15, item 7), not only from a checkout.

A wheel is built from the project and installed, without its dependencies, into a fresh
virtual environment outside the checkout; the dependencies come from the test run's own
environment through a ``.pth`` path entry (plain path: the checkout's editable-install
finder is not activated), so nothing is downloaded. ``mlp plan --stack dev`` then runs
from the project folder, as a platform team runs it in its repository, and must plan the
same estate as the checkout does, with the installed code, not the checkout's.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from mlplatform.stackconfig import PROJECT_ROOT


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv (outside the checkout) with the project's wheel installed; its python."""
    folder = tmp_path_factory.mktemp("wheel")
    assert not folder.resolve().is_relative_to(PROJECT_ROOT.resolve())
    source = folder / "source"  # built from a copy: a build writes build/ and *.egg-info beside the sources
    source.mkdir()
    for item in ("pyproject.toml", "README.md", "mlplatform", "components"):
        copy = shutil.copytree if (PROJECT_ROOT / item).is_dir() else shutil.copy2
        copy(PROJECT_ROOT / item, source / item, **({"ignore": shutil.ignore_patterns("__pycache__", "*.egg-info")}
                                                    if copy is shutil.copytree else {}))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder / "dist"),
          str(source)], cwd=folder)
    [wheel] = list((folder / "dist").glob("mlplatform-*.whl"))
    venv = folder / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=folder)
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=folder).stdout.strip())
    (purelib / "test-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], cwd=folder)
    return python


def test_the_wheel_carries_code_and_data_but_not_the_checkout(installed):
    probe = ("import json, mlplatform, components, mlplatform.catalogues.instances as c, mlplatform.spec.schema as s, "
             "mlplatform.runtime.drift_handler as d; print(json.dumps([mlplatform.__file__, components.__file__, "
             "str(c.DATA_FILE), c.DATA_FILE.exists(), s.SCHEMA_FILE.exists(), d.__file__]))")
    paths = json.loads(_run([str(installed), "-c", probe], cwd=installed.parent).stdout)
    package, components, catalogue, catalogue_exists, schema_exists, handler = paths
    venv = installed.parent.parent
    for path in (package, components, catalogue, handler):
        assert Path(path).resolve().is_relative_to(venv.resolve()), path  # the installed copy, not the checkout
    assert catalogue_exists and schema_exists


def test_mlp_plan_runs_from_the_wheel_in_the_project_folder(installed, dev_graph, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "MLP_PROJECT_ROOT")}
    out = tmp_path / "plan.json"
    mlp = installed.parent / "mlp"
    _run([str(mlp), "plan", "--stack", "dev", "--format", "json", "--output", str(out)], cwd=PROJECT_ROOT, env=env)
    plan = json.loads(out.read_text())
    assert plan["stack"] == "dev" and len(dev_graph) > 100
    assert sorted(r["urn"] for r in plan["resources"]) == sorted(dev_graph.resources)  # the estate the checkout plans
    # the drift Lambda's code is the installed handler, named by its installed path
    handlers = [path for r in plan["resources"] if r["type"] == "aws:lambda/function:Function"
                for path in [json.dumps(r["inputs"].get("code"))] if "drift_handler.py" in path]
    assert handlers and all(str(installed.parent.parent) in path for path in handlers), handlers[:1]
    # so is the fallback Lambda's package: every module of it, installed from the wheel
    packages = [r["inputs"]["code"]["assets"]["fallback"]["assets"] for r in plan["resources"]
                if r["type"] == "aws:lambda/function:Function" and r["inputs"].get("handler") == "fallback.entry.handler"]
    modules = {path.name for path in (PROJECT_ROOT / "mlplatform" / "runtime" / "fallback").glob("*.py")}
    assert packages and all(set(package) == modules for package in packages), packages[:1]
    assert all(Path(asset["path"]).is_file() and Path(asset["path"]).is_relative_to(installed.parent.parent)
               for package in packages for asset in package.values()), packages[:1]


def test_the_project_is_found_from_the_working_directory(tmp_path, monkeypatch):
    from mlplatform.stackconfig import find_project_root

    (tmp_path / "Pulumi.yaml").write_text("name: other\nruntime: python\n")
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.delenv("MLP_PROJECT_ROOT", raising=False)
    assert find_project_root(tmp_path / "a" / "b") == tmp_path.resolve()
    monkeypatch.setenv("MLP_PROJECT_ROOT", str(PROJECT_ROOT))
    assert find_project_root(tmp_path / "a" / "b") == PROJECT_ROOT.resolve()
    assert sysconfig.get_paths()["purelib"]  # the interpreter the wheel test borrows dependencies from
