"""Preflight: every spec and stack problem the estate cannot be built from, found before
anything is created and reported once.

A component that finds a problem halfway through construction stops the program after
some resources are registered and reports only the first problem. The builder instead
runs :func:`preflight` over every team of the stack (not only those a partial plan
builds) before it registers the first resource, and raises
:class:`~mlplatform.errors.InvalidSpecs` with all the issues, each naming the spec file,
line and field as ``mlp validate`` does. The checks themselves have one definition,
:func:`mlplatform.stackchecks.team_construction_issues`, which ``mlp validate --stack``
runs too; the components only assert what it guarantees.
"""

from __future__ import annotations

from ..errors import Issue
from ..spec.loader import LoadedSpec
from ..stackchecks import construction_issues
from ..stackconfig import StackConfig


def preflight_issues(stack: StackConfig, specs: list[LoadedSpec]) -> list[Issue]:
    """Every issue that would stop the estate's construction, for every team."""
    return construction_issues(sorted(specs, key=lambda loaded: loaded.team), stack)


def preflight(stack: StackConfig, specs: list[LoadedSpec]) -> None:
    """Raise :class:`~mlplatform.errors.InvalidSpecs` with every issue, or return when there is none."""
    issues = preflight_issues(stack, specs)
    if issues:
        from ..errors import InvalidSpecs  # a pulumi.RunError: the program stops without a traceback

        raise InvalidSpecs(issues)
