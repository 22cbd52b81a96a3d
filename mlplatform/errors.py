"""User-facing problems: one line each, ``FILE:LINE:COL: error: field.path: message``.

Every bad input ends here instead of in a traceback, so CI logs, editors and humans can
all jump to the offending spot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence, Union

PathPart = Union[str, int]


def format_path(path: Sequence[PathPart]) -> str:
    """``("spec", "endpoints", 0, "name")`` -> ``spec.endpoints[0].name``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


@dataclass(frozen=True)
class Issue:
    """One problem at one place in one file."""

    file: str
    line: int
    column: int
    path: tuple[PathPart, ...]
    message: str
    severity: str = "error"

    @property
    def field(self) -> str:
        return format_path(self.path)

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        field = f"{self.field}: " if self.path else ""
        message = " ".join(self.message.split())  # always exactly one line
        return f"{where}: {self.severity}: {field}{message}"

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": " ".join(self.message.split()),
            "severity": self.severity,
        }


class SpecError(Exception):
    """One or more issues that make an input unusable."""

    def __init__(self, issues: Iterable[Issue]):
        self.issues = list(issues)
        super().__init__("\n".join(issue.format() for issue in self.issues))


class UsageError(Exception):
    """A problem with how a command was called or with files it cannot read (exit 2)."""
