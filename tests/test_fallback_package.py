"""The fallback Lambda's deployment package works on its own, as Lambda runs it.

The handler is a package (``mlplatform/runtime/fallback/``) shipped as the folder
``fallback/`` beside its config file. A module missing from the archive, an import of the
project (``mlplatform``) or a config file looked for in the wrong place would pass every
test that imports the handler from the checkout and fail only in AWS. So the archive the
component plans for a function is unpacked into an empty folder and run there by a fresh
interpreter that has neither the checkout nor the project's installed packages on its path:
``python -I -S -B`` (no site, so no editable-install finder; no bytecode written), with the
folder first on ``sys.path`` as Lambda puts ``/var/task``, and the site-packages folder
appended by hand for boto3 (which Lambda provides). The handler setting is resolved the way Lambda's
bootstrap does it (``module.path.function``, split at the last dot).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from mlplatform.stackconfig import PROJECT_ROOT

FUNCTION = "aws:lambda/function:Function"

#: Runs in the isolated interpreter: argv = package root, site-packages, handler setting, event.
BOOTSTRAP = """
import importlib, json, sys
root, site_packages, setting, event = sys.argv[1:5]
sys.path.insert(0, root)
sys.path.append(site_packages)
try:
    import mlplatform
except ImportError:
    project_visible = False
else:
    project_visible = True
module, function = setting.rsplit(".", 1)
handler = getattr(importlib.import_module(module.replace("/", ".")), function)
response = handler(json.loads(event), None)
print(json.dumps({"response": response, "project_visible": project_visible,
                  "module_file": sys.modules[module].__file__,
                  "project_modules": sorted(name for name in sys.modules if name.split(".")[0] in ("mlplatform", "components"))}))
"""


def fallback_function(graph, name: str):
    [function] = [r for r in graph if r.type == FUNCTION and r.name == name]
    return function


def unpack(archive: dict, folder: Path) -> None:
    """Write a captured AssetArchive into ``folder``: file assets copied from their path
    (project-relative in a checkout), string assets written, nested archives as sub-folders."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, item in archive["assets"].items():
        target = folder / name
        if "assets" in item:
            unpack(item, target)
        elif "text" in item:
            target.write_text(item["text"], encoding="utf-8")
        else:
            source = Path(item["path"])
            shutil.copyfile(source if source.is_absolute() else PROJECT_ROOT / source, target)


def run_alone(root: Path, setting: str, event: dict, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The package in ``root`` run by an interpreter that sees only it, the standard library and
    boto3 (the test run's site-packages, added without its ``.pth`` files)."""
    clean = {key: value for key, value in os.environ.items()
             if not key.startswith(("PYTHON", "AWS_", "FALLBACK_")) and key != "MLP_PROJECT_ROOT"}
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", BOOTSTRAP, str(root), sysconfig.get_paths()["purelib"], setting,
         json.dumps(event)],
        cwd=root, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120)


def answered(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def rules_package(dev_graph, tmp_path_factory):
    """The rules-mode function's package, unpacked; its handler setting."""
    function = fallback_function(dev_graph, "fraud-detection-fallback-scorer-fn")
    root = tmp_path_factory.mktemp("fallback-rules")
    unpack(function.inputs["code"], root)
    return root, function.inputs["handler"]


def test_the_unpacked_archive_alone_imports_the_handler_and_reads_its_config(rules_package):
    root, setting = rules_package
    # the spec's request schema requires amount: a 400 naming it proves the handler found the
    # config file of the archive (without it every call answers 500), with no AWS call made
    out = answered(run_alone(root, setting, {"body": json.dumps({"transaction_id": "t-1"})}))
    assert out["response"]["statusCode"] == 400, out
    assert json.loads(out["response"]["body"]) == {"error": "required field 'amount' is missing", "field": "amount"}
    assert Path(out["module_file"]).resolve().is_relative_to(root.resolve())
    assert not out["project_visible"] and out["project_modules"] == []


def test_the_unpacked_archive_answers_from_its_fallback_with_the_runtime_boto3(dev_graph, tmp_path):
    """The whole path, boto3 included: the model is unreachable (a closed loopback port), so
    the static fallback answers, degraded; the metric call fails too and is only logged."""
    function = fallback_function(dev_graph, "nlp-research-fallback-embedder-fn")
    unpack(function.inputs["code"], tmp_path)
    nowhere = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}
    out = answered(run_alone(tmp_path, function.inputs["handler"], {"body": json.dumps({"text": "hello"})}, nowhere))
    response = out["response"]
    assert response["statusCode"] == 200, response
    assert response["headers"]["X-Model-Degraded"] == "true"
    assert json.loads(response["body"]) == {"embedding": None, "retryAfterSeconds": 60, "degraded": True,
                                            "fallback": "static"}


def test_the_archive_ships_every_module_of_the_package(rules_package):
    root, _ = rules_package
    package = PROJECT_ROOT / "mlplatform" / "runtime" / "fallback"
    assert sorted(p.name for p in (root / "fallback").iterdir()) == sorted(p.name for p in package.glob("*.py"))


def _modules() -> list[str]:
    # __init__.py is left out of this check: without it ``fallback`` is a namespace package,
    # which imports as well (it only sets the package logger's level)
    return sorted(p.name for p in (PROJECT_ROOT / "mlplatform" / "runtime" / "fallback").glob("*.py")
                  if p.name != "__init__.py")


@pytest.mark.parametrize("module", _modules())
def test_an_archive_missing_a_module_fails_to_import(rules_package, module, tmp_path):
    """The check above has teeth: the same package without any one module cannot be loaded."""
    root, setting = rules_package
    shutil.copytree(root, tmp_path / "package")
    (tmp_path / "package" / "fallback" / module).unlink()
    result = run_alone(tmp_path / "package", setting, {"body": "{}"})
    assert result.returncode != 0
    assert f"No module named 'fallback.{module.removesuffix('.py')}'" in result.stderr, result.stderr[-2000:]
