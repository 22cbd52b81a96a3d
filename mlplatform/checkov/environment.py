"""checkov in its own virtual environment, created on first use.

checkov pins versions that conflict with Pulumi's (protobuf, grpcio, ...), so it never
shares the project's environment: it lives in its own virtual environment outside the
checkout (``$MLP_CACHE_DIR``, else ``$XDG_CACHE_HOME/mlplatform``, else
``~/.cache/mlplatform``; one folder per checkov version, shared by every checkout and
worktree of the user, and running the tests never writes into the repository) and runs
as a subprocess. The first scan (or ``python -m mlplatform.checkov.environment``,
the install step) creates it with ``python -m venv`` and pip; a marker file written last
records the pinned version, so a half-built environment is never used and a version bump
rebuilds it. An exclusive file lock makes concurrent creation (parallel test workers, two
CI jobs on one checkout) wait for the first one instead of building twice. Set
``MLP_CHECKOV`` to use another checkov executable instead.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

from ..errors import UsageError
from ..paths import CACHE_DIR_ENV, cache_dir

#: The checkov release we translate for and test against (its check ids are part of our contract).
CHECKOV_VERSION = "3.3.30"
ENV_VAR = "MLP_CHECKOV"
CACHE_ENV_VAR = CACHE_DIR_ENV
MARKER = ".mlp-checkov-version"


def default_venv() -> Path:
    """The checkov environment of the pinned version (read at call time, so the cache
    location can be set per process)."""
    return cache_dir() / f"checkov-{CHECKOV_VERSION}"


def checkov_executable(venv: Optional[Path] = None, quiet: bool = False) -> str:
    """Path of the checkov to run: ``$MLP_CHECKOV``, or the cached checkov venv (built if needed)."""
    override = os.environ.get(ENV_VAR)
    if override:
        found = shutil.which(override)
        if not found:
            raise UsageError(f"{ENV_VAR}={override}: no such executable")
        return found
    return str(ensure_venv(venv, quiet=quiet) / "bin" / "checkov")


def ensure_venv(venv: Optional[Path] = None, quiet: bool = False) -> Path:
    """The checkov virtual environment at ``venv`` (default: :func:`default_venv`),
    created once under a file lock."""
    venv = venv if venv is not None else default_venv()
    if _ready(venv):
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv.with_name(venv.name + ".lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process building it: wait, then reuse
        if _ready(venv):
            return venv
        if not quiet:
            print(f"mlp scan: creating the checkov {CHECKOV_VERSION} environment in {venv} "
                  "(once; takes a few minutes)", file=sys.stderr)
        if venv.exists():
            shutil.rmtree(venv)  # half-built or another version
        log = venv.with_name(venv.name + ".log")
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             f"checkov=={CHECKOV_VERSION}"],
        ]
        with open(log, "w") as output:
            for step in steps:
                result = subprocess.run(step, stdout=output, stderr=subprocess.STDOUT, check=False)
                if result.returncode != 0:
                    raise UsageError(f"{venv}: cannot create the checkov environment "
                                     f"('{' '.join(step[-3:])}' exited {result.returncode}); see {log}")
        (venv / MARKER).write_text(CHECKOV_VERSION + "\n")
    return venv


def _ready(venv: Path) -> bool:
    marker = venv / MARKER
    try:
        return marker.read_text().strip() == CHECKOV_VERSION and (venv / "bin" / "checkov").exists()
    except OSError:
        return False


def installed_version(executable: str) -> Optional[str]:
    """``checkov --version`` of ``executable`` (None when it does not answer)."""
    try:
        result = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=120,
                                env=checkov_env(), check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None


def checkov_env() -> dict[str, str]:
    """The environment checkov runs in: no update check, nothing sent anywhere."""
    env = dict(os.environ)
    env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "true"
    env.pop("BC_API_KEY", None)
    env.pop("PRISMA_API_URL", None)
    return env


if __name__ == "__main__":  # the install step: python -m mlplatform.checkov.environment
    try:
        print(checkov_executable())
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(2)
