"""A throwaway git repository of the example specs, for the ``mlp ci`` tests: a base commit
and a head commit that changes one spec."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

GIT = ["-c", "user.email=ci@example.com", "-c", "user.name=ci"]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *GIT, *args], check=True, capture_output=True)


def make_repo(tmp_path: Path, examples: Path) -> Path:
    """A repository whose base commit holds the example specs."""
    root = tmp_path / "repo"
    shutil.copytree(examples, root / "teams")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    return root


def commit_change(repo: Path, file: str, old: str, new: str) -> None:
    path = repo / "teams" / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    git(repo, "commit", "-qam", "head")
