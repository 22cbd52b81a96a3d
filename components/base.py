"""What every mlplatform component shares.

Each component registers the spec position it was built from as its ``source`` input.
That input travels with the component into the offline capture, ``pulumi preview
--json`` and ``pulumi stack export`` alike, so every checker can point a finding at the
team spec line that caused it, whichever way the plan was produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import pulumi

from mlplatform.stackconfig import StackConfig


@dataclass(frozen=True)
class SpecLocator:
    """Turns a spec field path into the ``{file, line, field}`` a component records.

    ``field`` is the path as ``mlp validate`` names it (``spec.endpoints[scorer]``), so a
    finding on any resource of the component can name the spec field to change; it is
    recorded only when the locator can name list items (``field_of`` given)."""

    file: str
    line_of: Callable[[tuple], int]
    field_of: Optional[Callable[[tuple], str]] = None
    #: the column of the value at the path (findings name file:line:col, as validate does)
    column_of: Optional[Callable[[tuple], int]] = None

    def at(self, *path: Any) -> dict[str, Any]:
        where: dict[str, Any] = {"file": self.file, "line": self.line_of(tuple(path))}
        if self.column_of is not None:
            where["column"] = self.column_of(tuple(path))
        if self.field_of is not None:
            where["field"] = self.field_of(tuple(path))
        return where


@dataclass(frozen=True)
class TeamContext:
    """What a capability component needs to know about its team and stack."""

    team: str
    stack: StackConfig
    locator: SpecLocator
    data_classification: str
    risk_tier: str

    @property
    def environment(self) -> str:
        return self.stack.environment

    @property
    def account_id(self) -> str:
        return self.stack.account_id

    def stateful(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for stateful resources: protected, and retained if ever deleted, where the
        stack says so (production): a mistaken delete neither runs nor loses data."""
        protect = self.stack.protect_stateful
        return pulumi.ResourceOptions(protect=protect, retain_on_delete=protect, **kwargs)


class SpecComponent(pulumi.ComponentResource):
    """A component built from one part of a team spec."""

    def __init__(
        self,
        type_token: str,
        name: str,
        source: Optional[dict[str, Any]],
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(type_token, name, {"source": source} if source else {}, opts)

    def child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a child of this component."""
        return pulumi.ResourceOptions(parent=self, **kwargs)
