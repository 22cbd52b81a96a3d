"""Which teams a pull request touches: spec files changed between a base git ref and now.

``mlp ci`` plans, checks and prices only these teams. The base side is read from git
itself (``git archive`` of the base's teams folder), so the comparison needs nothing but
the repository: no saved plan, no cloud credentials.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError

SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass
class SpecChanges:
    """Spec files under the teams folder that differ between the base ref and the work tree."""

    base_ref: str
    added: list[str] = field(default_factory=list)  # repository-relative paths
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def head_files(self) -> list[str]:
        return sorted(self.added + self.modified)

    @property
    def base_files(self) -> list[str]:
        return sorted(self.modified + self.deleted)

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.deleted)


def _git(repo: Path, *args: str) -> bytes:
    try:
        completed = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("mlp: git is not installed; --base REF needs it") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {' '.join(args[:2])}: {message[-1] if message else 'failed'}")
    return completed.stdout


def repository_root(path: Path) -> Path:
    return Path(_git(path, "rev-parse", "--show-toplevel").decode().strip())


def resolve_ref(repo: Path, ref: str) -> str:
    """The commit ``ref`` names; a one-line usage error when it names nothing."""
    if ref.startswith("-"):
        raise UsageError(f"mlp: --base {ref!r} is not a git ref")
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except UsageError:
        raise UsageError(f"mlp: --base {ref}: no such commit in this repository; {_fetch_hint(ref)}") from None


def _fetch_hint(ref: str) -> str:
    """How to get ``ref``: CI checkouts are often shallow and hold no other branch."""
    remote, _, branch = ref.partition("/")
    if branch and remote in ("origin", "upstream"):
        return (f"fetch it first: git fetch {remote} {branch}:refs/remotes/{remote}/{branch} "
                "(in GitHub Actions: actions/checkout with fetch-depth: 0)")
    return f"fetch it first (git fetch origin {ref}) or pass a branch, tag or commit that exists"


def spec_changes(repo: Path, base_ref: str, teams_dir: Path) -> SpecChanges:
    """Spec files added, modified or deleted under ``teams_dir`` since ``base_ref``.

    Compares the base commit with the work tree (committed or not) and counts untracked
    spec files as added, so a local run sees exactly what CI will see after a commit.
    A rename is a deletion plus an addition: the team behind each path is what matters.
    """
    commit = resolve_ref(repo, base_ref)
    relative = teams_dir.resolve().relative_to(repo.resolve()).as_posix()
    changes = SpecChanges(base_ref=base_ref)
    raw = _git(repo, "diff", "--name-status", "--no-renames", "-z", commit, "--", relative)
    fields = raw.decode("utf-8").split("\0")
    for status, path in zip(fields[0::2], fields[1::2]):
        if not path.endswith(SPEC_SUFFIXES):
            continue
        {"A": changes.added, "D": changes.deleted}.get(status[:1], changes.modified).append(path)
    untracked = _git(repo, "ls-files", "--others", "--exclude-standard", "-z", "--", relative)
    changes.added += [p for p in untracked.decode("utf-8").split("\0") if p.endswith(SPEC_SUFFIXES)]
    for bucket in (changes.added, changes.modified, changes.deleted):
        bucket.sort()
    return changes


def export_tree(repo: Path, ref: str, folder: str, destination: Path) -> Path:
    """Write ``folder`` as it is at ``ref`` under ``destination``; returns its path there."""
    commit = resolve_ref(repo, ref)
    listing = _git(repo, "ls-tree", "-d", "--name-only", commit, "--", folder).decode().strip()
    target = destination / folder
    if not listing:
        target.mkdir(parents=True, exist_ok=True)  # the folder did not exist at the base
        return target
    archive = _git(repo, "archive", "--format=tar", commit, "--", folder)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    return target
