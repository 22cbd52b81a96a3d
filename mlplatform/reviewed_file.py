"""Reading the platform's reviewed-exception files, one way for all of them.

``policies/checkov-skips.yaml`` (checkov checks we choose not to meet) and
``policies/verify-suppressions.yaml`` (verify findings we accept) share one discipline:
a YAML mapping with one key holding a list of entries, each a mapping with known fields
only, a written reason and an owner, optionally limited to some stacks. This module reads
such a file and checks that shape, reporting every problem at its line; each tool adds
the checks of its own fields and builds its own entries
(:mod:`mlplatform.checkov.skips`, :mod:`mlplatform.verify.suppressions`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from .errors import Issue, UsageError
from .stackconfig import PROJECT_ROOT
from .yamlsafe import Document, load_yaml

STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass
class ReviewedFile:
    """A reviewed-exception file as read: its entries (path and mapping) and its problems."""

    file: str
    document: Optional[Document]
    key: str
    entries: list[tuple[tuple, dict[str, Any]]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def problem(self, path: tuple, message: str, prefer_key: bool = False) -> None:
        assert self.document is not None
        self.issues.append(self.document.issue(path, message, prefer_key=prefer_key))

    def line(self, path: tuple) -> int:
        assert self.document is not None
        return self.document.position(path).line

    def valid_entries(self) -> Iterator[tuple[tuple, dict[str, Any]]]:
        """The entries with no problem reported at or below their path."""
        bad = {issue.path[:2] for issue in self.issues}
        return ((where, entry) for where, entry in self.entries if where not in bad)


def read_reviewed_file(path: Union[str, Path, None], default: Path, key: str, noun: str,
                       allowed: tuple[str, ...], required: tuple[str, ...]) -> ReviewedFile:
    """Read ``path`` (``default`` when None; a missing default file is empty) as a mapping
    whose one ``key`` holds a list of ``noun`` entries, each with only ``allowed`` fields
    and a non-empty text in each ``required`` field, and a valid ``stacks`` list if given.

    Unreadable files are a :class:`UsageError`; shape problems are collected in
    :attr:`ReviewedFile.issues` for the caller to raise as its command reports them.
    """
    target = Path(path) if path is not None else default
    file = display_path(target)
    if path is None and not target.exists():
        return ReviewedFile(file, None, key)
    try:
        raw = target.read_bytes()
    except OSError as exc:
        raise UsageError(f"{target}: error: cannot read {noun}s: {exc.strerror or exc}") from None
    document = load_yaml(file, raw)
    reviewed = ReviewedFile(file, document, key)
    data = document.data
    if data is None:
        return reviewed
    if not isinstance(data, dict) or set(data) - {key}:
        reviewed.problem((), f"expected a mapping with one key, '{key}' (a list)")
        return reviewed
    entries = data.get(key)
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        reviewed.problem((key,), f"must be a list of {noun}s")
        return reviewed
    for index, entry in enumerate(entries):
        where = (key, index)
        if not isinstance(entry, dict):
            reviewed.problem(where, f"a {noun} is a mapping with {', '.join(required)}")
            continue
        reviewed.entries.append((where, entry))
        for name in entry:
            if name not in allowed:
                reviewed.problem(where + (name,), f"unknown field; allowed: {', '.join(allowed)}", prefer_key=True)
        for name in required:
            if not is_text(entry.get(name)):
                reviewed.problem(where + (name,) if name in entry else where, f"every {noun} needs a written {name}")
        stacks = entry.get("stacks")
        if "stacks" in entry and not (isinstance(stacks, list) and stacks
                                      and all(isinstance(s, str) and STACK_NAME.match(s) for s in stacks)):
            reviewed.problem(where + ("stacks",), "stacks must be a non-empty list of stack names such as [dev, staging]")
    return reviewed


def stacks_of(entry: dict[str, Any]) -> Optional[tuple[str, ...]]:
    stacks = entry.get("stacks")
    return tuple(s.strip() for s in stacks) if isinstance(stacks, list) else None


def one_line(text: str) -> str:
    """A reason as written over several YAML lines, as one line."""
    return " ".join(text.split())


def is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def display_path(path: Path) -> str:
    """``path`` relative to the project when inside it (as findings name files)."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
