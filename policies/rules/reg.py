"""MLP-REG-*: data residency, resources only in regions allowed for the team's residency and data
classification.

The region is the resource's provider region (sent by the engine with the provider) and
the region of every ARN among its inputs (replication targets, keys, topics). The team's
residency and classification come from the team facts in the config (read from its spec
by the runner / ``mlp policy --write-config``); a resource of no known team must still be
in the stack's residency.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from mlplatform.type_tokens import AWS_PROVIDER, PROVIDER_PREFIX

from .common import MANDATORY, TEAMS_SCHEMA, UNKNOWN, Context, peek, provider_default_tags, raw_tree, rule

ARN_REGION = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(-[a-z]+)+-[0-9]):")


def _arn_regions(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        match = ARN_REGION.match(value)
        if match:
            yield match.group(1)
    elif isinstance(value, list):
        for item in value:
            yield from _arn_regions(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arn_regions(item)


def allowed_regions(ctx: Context, facts: dict) -> set[str]:
    groups = ctx.config["residencyRegions"]
    residency = facts.get("residency") or ctx.config.get("stackResidency")
    allowed = set(groups.get(residency, [])) if residency else set().union(*map(set, groups.values()))
    narrowed = ctx.config["classificationRegions"].get(facts.get("dataClassification") or "")
    if narrowed:
        allowed &= set(narrowed)
    return allowed


@rule(
    id="MLP-REG-001",
    name="Data residency",
    description="Resources (their provider's region, their own region and every region in their ARNs) stay in the "
                "regions allowed for the team's residency and data classification.",
    severity="critical",
    remediation="Deploy the team to a stack whose aws:region (and partner region) belongs to the team's "
                "residency group.",
    level=MANDATORY,
    concern="residency",
    config={
        "teams": TEAMS_SCHEMA,
        "stackResidency": {"type": ["string", "null"], "default": None},
        "residencyRegions": {
            "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": {
                "eu": ["eu-west-1", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2"],
                "uk": ["eu-west-2"],
                "us": ["us-east-1", "us-east-2", "us-west-1", "us-west-2"],
            },
        },
        "classificationRegions": {
            "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": {},
            "description": "Optional narrower region lists per data classification.",
        },
    },
)
def check_residency(ctx: Context, report) -> None:
    if ctx.type.startswith(PROVIDER_PREFIX):
        if ctx.type != AWS_PROVIDER:
            return
        regions = {peek(ctx.props, "region")}
        team = provider_default_tags(ctx.props).get("team")
        facts = dict(ctx.config.get("teams", {}).get(team or "", {}))
    else:
        # The provider's region is judged on the provider resource itself (the engine
        # analyses providers too); a resource adds its own region (pulumi-aws v7 ``region``
        # input) and the regions of the ARNs it names.
        regions = {peek(ctx.props, "region")} | set(_arn_regions(raw_tree(ctx.props)))
        facts = ctx.team_facts()
    regions.discard(None)
    regions.discard(UNKNOWN)
    allowed = allowed_regions(ctx, facts)
    for region in sorted(regions - allowed):
        who = f"team residency {facts.get('residency')}" if facts.get("residency") else \
            f"stack residency {ctx.config.get('stackResidency')}"
        report(f"region {region} is outside {who} ({facts.get('dataClassification') or 'unclassified'} data); "
               f"allowed: {', '.join(sorted(allowed)) or 'none'}")
