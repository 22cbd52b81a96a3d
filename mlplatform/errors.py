"""User-facing problems: one line each, ``FILE:LINE:COL: error: field.path: message``.

Every bad input ends here instead of in a traceback, so CI logs, editors and humans can
all jump to the offending spot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence, Union

PathPart = Union[str, int]


def format_path(path: Sequence[PathPart], labels: Sequence[Optional[str]] = ()) -> str:
    """``("spec", "endpoints", 0, "name")`` -> ``spec.endpoints[0].name``.

    ``labels`` runs parallel to ``path``: a label given for a list index is shown instead
    of the index (``spec.endpoints[scorer].rollout``), since authors know their endpoints,
    queues and features by name, not by position.
    """
    text = ""
    for position, part in enumerate(path):
        if isinstance(part, int):
            label = labels[position] if position < len(labels) else None
            text += f"[{label if label is not None else part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def item_labels(data: Any, path: Sequence[PathPart]) -> tuple[Optional[str], ...]:
    """Labels for :func:`format_path`: the ``name`` of each list item along ``path`` in
    ``data``, where the item has a name that no sibling shares (else None: the index)."""
    labels: list[Optional[str]] = []
    node = data
    for part in path:
        label = None
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            name = node[part].get("name") if isinstance(node[part], dict) else None
            if isinstance(name, str) and name and sum(
                    isinstance(item, dict) and item.get("name") == name for item in node) == 1:
                label = name
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict):
            node = node.get(part)
        else:
            node = None
        labels.append(label)
    return tuple(labels)


@dataclass(frozen=True)
class Issue:
    """One problem at one place in one file."""

    file: str
    line: int
    column: int
    path: tuple[PathPart, ...]
    message: str
    severity: str = "error"
    #: list items' names along ``path`` (see :func:`item_labels`); empty: show indexes
    labels: tuple[Optional[str], ...] = ()

    @property
    def field(self) -> str:
        return format_path(self.path, self.labels)

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


def _invalid_specs_class() -> type:
    """Define :class:`InvalidSpecs` on first use: its base ``pulumi.RunError`` costs the
    whole Pulumi SDK import (about half a second), which ``mlp validate`` never needs."""
    import pulumi

    class InvalidSpecs(SpecError, pulumi.RunError):
        """Raised instead of deploying anything when specs or stack config are invalid.

        A ``RunError`` so the Pulumi CLI prints the issues without a traceback, and a
        ``SpecError`` so ``mlp`` reports them like ``mlp validate`` does. The program raises it
        for invalid specs or stack config, and the estate builder's preflight
        (:mod:`mlplatform.estate.preflight`) for every problem no component could be built
        from, before the first resource; components themselves never raise it.
        """

    InvalidSpecs.__module__, InvalidSpecs.__qualname__ = __name__, "InvalidSpecs"
    return InvalidSpecs


def __getattr__(name: str) -> Any:
    """Module attributes made on demand (PEP 562): ``InvalidSpecs``, defined once."""
    if name == "InvalidSpecs":
        cls = globals()["InvalidSpecs"] = _invalid_specs_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
