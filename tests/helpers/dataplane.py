"""Helpers shared by the plan tests: resource lookups in a graph, and (for the data-plane
tests) a capture whose KMS key ARNs are known."""

from __future__ import annotations

import json
from typing import Optional

import pytest

from mlplatform import capture
from mlplatform.graph import ResourceGraph


def by_type(graph: ResourceGraph, type_token: str):
    return [r for r in graph if r.type == type_token]


def one(graph: ResourceGraph, type_token: str, name: str):
    matches = [r for r in graph if r.type == type_token and r.name == name]
    assert len(matches) == 1, f"{type_token} {name}: {len(matches)} matches"
    return matches[0]


def statements(resource, key: str = "policy") -> dict:
    """The statements of a policy input, by Sid (unnamed ones by position)."""
    document = json.loads(resource.inputs[key])
    return {s.get("Sid", str(i)): s for i, s in enumerate(document["Statement"])}


def key_arn(name: str) -> str:
    return f"arn:aws:kms:eu-west-1:111122223333:key/{name}"


class KnownKeyArnMocks(capture.PreviewMocks):
    """As a preview, except each KMS key's ARN is known (as after apply), so policies built
    from it through ``Output.apply`` can be read."""

    def new_resource(self, args):
        resource_id, outputs = super().new_resource(args)
        if args.typ == "aws:kms/key:Key":
            outputs["arn"] = key_arn(args.name)
        return resource_id, outputs


def capture_with_key_arns(stack: str, teams_dir: Optional[str] = None) -> ResourceGraph:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(capture, "PreviewMocks", KnownKeyArnMocks)
        return capture.capture_stack(stack, teams_dir=teams_dir)
