"""The Pulumi program: stack config + team specs -> the estate.

``__main__.py`` at the project root calls :func:`run` under the Pulumi CLI; the offline
capture calls the very same function under Pulumi's mock runtime. Invalid specs stop the
program with the one-line errors ``mlp validate`` prints, before any resource exists
(:func:`mlplatform.stackchecks.selected_specs` decides which specs the stack deploys, and the
builder's preflight, :mod:`mlplatform.estate.preflight`, checks again whatever specs it is given).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pulumi

from ..errors import InvalidSpecs, SpecError
from ..stackchecks import selected_specs
from ..stackconfig import stack_config_from_pulumi
from .builder import build_estate


def run(
    only_teams: Optional[frozenset[str]] = None,
    copied_from: Optional[tuple[Path, Path]] = None,
    specs: Optional[list] = None,
) -> None:
    """Build the stack's estate; ``only_teams`` builds just those teams' components.

    ``only_teams`` is for offline partial plans (``mlp ci`` plans only the teams a pull
    request touches); every spec is still loaded and checked, and whatever the stack
    shares is still built from all of them, so a team's resources come out exactly as
    in a full run. ``pulumi up`` never passes it, nor ``copied_from``: ``(copy, original)``
    folders when the specs are a copy from another commit, recorded at their original paths.
    """
    try:
        stack = stack_config_from_pulumi()
    except SpecError as exc:
        raise InvalidSpecs(exc.issues) from None
    if specs is None:  # offline callers that have already loaded and checked them pass them in
        specs = selected_specs(stack)
    teams = build_estate(stack, specs, only_teams=only_teams, copied_from=copied_from)
    pulumi.export("teams", sorted(teams))
