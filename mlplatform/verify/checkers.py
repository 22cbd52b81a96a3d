"""The registry of ``mlp verify``'s checkers.

A checker is ``check(graph: ResourceGraph, stack: StackConfig) -> list[CheckResult]``,
judging the resolved plan. Each is listed once here as ``(name, "module:function")`` and
imported only when it runs, so the CLI's start-up imports none of them and a checker
module can bring its own dependencies. To add one, add one line.
"""

from __future__ import annotations

import importlib
from typing import Callable

from ..graph import ResourceGraph
from ..reports.findings import CheckResult
from ..stackconfig import StackConfig

Checker = Callable[[ResourceGraph, StackConfig], list[CheckResult]]

CHECKERS: tuple[tuple[str, str], ...] = (
    ("acceptance", "mlplatform.verify.acceptance:check"),
    ("iam", "mlplatform.verify.iam_lint:check"),
    ("principals", "mlplatform.verify.principal_order:check"),
    ("flows", "mlplatform.verify.flows:check"),
)


def checker_names() -> tuple[str, ...]:
    return tuple(name for name, _ in CHECKERS)


def load_checker(name: str) -> Checker:
    """The checker function registered under ``name`` (imported now)."""
    target = dict(CHECKERS)[name]
    module_name, _, function_name = target.partition(":")
    return getattr(importlib.import_module(module_name), function_name)
