"""Where the Pulumi project is, and how files in it are named in plans, tags and findings.

Core layer, importing nothing of the project: the stack config, the exemptions, the
components' Lambda assets and every tool name files the same way through it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

#: Names the project folder explicitly (else it is found from the working directory).
PROJECT_ROOT_ENV = "MLP_PROJECT_ROOT"


def find_project_root(start: Optional[Path] = None) -> Path:
    """The Pulumi project the tools work on: ``$MLP_PROJECT_ROOT``, else the nearest folder
    at or above the working directory holding ``Pulumi.yaml`` (as the Pulumi CLI finds
    its project), else the folder this package sits in (a source checkout).

    Never the installed package's location alone: installed from a wheel, the code lives
    in site-packages while the stacks, team specs and policies live in the user's project.
    """
    configured = os.environ.get(PROJECT_ROOT_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return Path(__file__).resolve().parent.parent


PROJECT_ROOT = find_project_root()

#: Names the folder for per-user caches (tool environments, resolved lookups) explicitly.
CACHE_DIR_ENV = "MLP_CACHE_DIR"


def cache_dir() -> Path:
    """Where mlplatform keeps per-user caches: ``$MLP_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/mlplatform``, else ``~/.cache/mlplatform``. Never inside a checkout,
    so running the tools or the tests never writes into the repository; read at call time,
    so a process (a test) can point it elsewhere."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "mlplatform"


def package_file(file: str, project_root: Optional[Path] = None) -> str:
    """A file shipped in the package (a Lambda handler), as a Pulumi asset names it:
    relative to the project in a source checkout (plans stay the same on every machine),
    its absolute installed path otherwise (a wheel in site-packages)."""
    path = Path(file).resolve()
    root = (project_root or PROJECT_ROOT).resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def project_relative(file: str, project_root: Path = PROJECT_ROOT) -> str:
    """``file`` relative to the project when it lies inside it: how tags, plans and
    findings name spec files, whichever way the file was found."""
    path = Path(file).resolve()
    try:
        return path.relative_to(project_root).as_posix()
    except ValueError:
        return os.path.relpath(path, project_root) if path.anchor == project_root.anchor else path.as_posix()
