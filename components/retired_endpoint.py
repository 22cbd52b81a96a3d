"""RetiredEndpoint: the plan's record of a retired endpoint, and the tags on what it leaves behind.

Retirement (``endpoints[].retired``): the builder drops a retired endpoint before any
serving or monitoring component sees it (:func:`components.retraining.live_endpoints`), so
``mlp plan --base`` shows its endpoint, alarms and drift jobs deleted. What stays (the model
package group, the artifacts under ``models/``, its log group) is kept and carries
:func:`retirement_tags`; the :class:`RetiredEndpoint` record makes the retirement itself a
visible line of the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from mlplatform.spec.models import Endpoint
from mlplatform.type_tokens import RETIRED_ENDPOINT

from .base import SpecComponent, TeamContext


def retirement_tags(endpoint: Endpoint) -> dict[str, str]:
    """Tags on what a retired endpoint leaves behind (model package group, artifacts)."""
    assert endpoint.retired is not None  # called for retired endpoints only
    tags = {"lifecycle": "retired", "retired-reason": endpoint.retired.reason[:256]}
    if endpoint.retired.successor:
        tags["retired-successor"] = endpoint.retired.successor
    return tags


@dataclass(frozen=True, kw_only=True)
class RetiredEndpointArgs:
    #: the team and stack
    context: TeamContext
    #: the spec endpoint (its ``retired`` is set)
    endpoint: Endpoint
    #: the endpoint's position in ``spec.endpoints`` (the recorded spec source)
    index: int


class RetiredEndpoint(SpecComponent):
    """The plan's record of a retired endpoint: its reason, successor and the tags on what stays."""

    def __init__(self, name: str, args: RetiredEndpointArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context, endpoint, index = args.context, args.endpoint, args.index
        self.tags = retirement_tags(endpoint)
        # The reason and successor are the component's inputs, so the plan (and its diff
        # against a base) shows them; SpecComponent would record only the source.
        pulumi.ComponentResource.__init__(
            self, RETIRED_ENDPOINT, name,
            {"source": context.locator.at("spec", "endpoints", index, "retired"), "endpoint": endpoint.name,
             "reason": endpoint.retired.reason, "successor": endpoint.retired.successor, "tags": self.tags},
            opts,
        )
        self.register_outputs({"endpoint": endpoint.name, "tags": self.tags})
