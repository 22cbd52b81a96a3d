"""The estate builder: validated team specs + stack config -> components.

It neither knows nor cares whether it runs under ``pulumi up`` or the offline capture;
both call :func:`build_estate` through the same program (``mlplatform.program``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from components.base import SpecLocator
from components.team import Team, TeamArgs

from .spec.loader import LoadedSpec
from .stackconfig import PROJECT_ROOT, StackConfig


def project_relative(file: str, project_root: Path = PROJECT_ROOT) -> str:
    """``file`` relative to the project when it lies inside it, for tags and reports."""
    path = Path(file).resolve()
    try:
        return path.relative_to(project_root).as_posix()
    except ValueError:
        return os.path.relpath(path, project_root) if path.anchor == project_root.anchor else path.as_posix()


def build_estate(
    stack: StackConfig,
    specs: list[LoadedSpec],
    only_teams: Optional[frozenset[str]] = None,
    project_root: Path = PROJECT_ROOT,
) -> dict[str, Team]:
    """One :class:`Team` component per spec, as the stack's environment deploys it.

    With ``only_teams``, only those teams' components are built (partial offline plans).
    """
    teams: dict[str, Team] = {}
    for loaded in sorted(specs, key=lambda item: item.team):
        if only_teams is not None and loaded.team not in only_teams:
            continue
        spec_file = project_relative(loaded.file, project_root)
        spec = loaded.for_environment(stack.environment)
        locator = SpecLocator(file=spec_file, line_of=loaded.line_of)
        teams[loaded.team] = Team(loaded.team, TeamArgs(spec=spec, spec_file=spec_file, locator=locator, stack=stack))
    return teams
