"""The checkov venv: created once, safely under concurrency, rebuilt on a version change."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mlplatform.checkov import environment
from mlplatform.errors import UsageError


class FakeBuild:
    """Stands in for ``python -m venv`` + pip: slow, and counts how often it ran."""

    def __init__(self, fail_pip: bool = False):
        self.calls: list[list[str]] = []
        self.fail_pip = fail_pip
        self.lock = threading.Lock()

    def __call__(self, step, stdout=None, stderr=None, check=False):
        with self.lock:
            self.calls.append(step)
        time.sleep(0.05)
        venv = Path(step[-1]) if step[1:3] == ["-m", "venv"] else None
        if venv is not None:
            (venv / "bin").mkdir(parents=True)
        elif not self.fail_pip:
            bin_dir = Path(step[0]).parent
            (bin_dir / "checkov").write_text("#!/bin/sh\n")
        return type("Result", (), {"returncode": 1 if (self.fail_pip and venv is None) else 0})()


def test_concurrent_creation_builds_once(tmp_path, monkeypatch):
    build = FakeBuild()
    monkeypatch.setattr(environment.subprocess, "run", build)
    venv = tmp_path / ".venv-checkov"
    results = []
    threads = [threading.Thread(target=lambda: results.append(environment.ensure_venv(venv, quiet=True)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [venv] * 4
    assert len(build.calls) == 2  # one venv, one pip install
    assert build.calls[1][-1] == f"checkov=={environment.CHECKOV_VERSION}"
    assert (venv / environment.MARKER).read_text().strip() == environment.CHECKOV_VERSION
    environment.ensure_venv(venv, quiet=True)
    assert len(build.calls) == 2  # idempotent


def test_other_version_or_half_built_venv_is_rebuilt(tmp_path, monkeypatch):
    build = FakeBuild()
    monkeypatch.setattr(environment.subprocess, "run", build)
    venv = tmp_path / "v"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "checkov").write_text("old")
    (venv / environment.MARKER).write_text("2.0.0\n")
    environment.ensure_venv(venv, quiet=True)
    assert len(build.calls) == 2 and (venv / environment.MARKER).read_text().strip() == environment.CHECKOV_VERSION


def test_failed_install_is_one_line_error_and_leaves_no_marker(tmp_path, monkeypatch):
    monkeypatch.setattr(environment.subprocess, "run", FakeBuild(fail_pip=True))
    venv = tmp_path / "v"
    with pytest.raises(UsageError) as caught:
        environment.ensure_venv(venv, quiet=True)
    assert "cannot create the checkov environment" in str(caught.value) and "\n" not in str(caught.value)
    assert not (venv / environment.MARKER).exists()


def test_env_var_overrides_the_executable(tmp_path, monkeypatch):
    fake = tmp_path / "my-checkov"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv(environment.ENV_VAR, str(fake))
    assert environment.checkov_executable(tmp_path / "never-built") == str(fake)
    assert not (tmp_path / "never-built").exists()


def test_the_environment_lives_outside_the_checkout(tmp_path, monkeypatch):
    """Running scans or tests never writes into the repository (issue 15, item 6)."""
    from mlplatform.stackconfig import PROJECT_ROOT

    monkeypatch.delenv(environment.CACHE_ENV_VAR, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    default = environment.default_venv()
    assert not default.resolve().is_relative_to(PROJECT_ROOT.resolve())
    assert default.name == f"checkov-{environment.CHECKOV_VERSION}"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert environment.default_venv() == tmp_path / "xdg" / "mlplatform" / f"checkov-{environment.CHECKOV_VERSION}"
    monkeypatch.setenv(environment.CACHE_ENV_VAR, str(tmp_path / "cache"))
    assert environment.default_venv().parent == tmp_path / "cache"
    build = FakeBuild()
    monkeypatch.setattr(environment.subprocess, "run", build)
    monkeypatch.delenv(environment.ENV_VAR, raising=False)
    assert environment.checkov_executable(quiet=True) == str(tmp_path / "cache" / f"checkov-{environment.CHECKOV_VERSION}"
                                                             / "bin" / "checkov")
