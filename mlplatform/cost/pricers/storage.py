"""Pricing data at rest: S3 buckets (the team's artifacts and other buckets), SageMaker
Feature Store groups, ECR image repositories, KMS keys and Secrets Manager secrets.
"""

from __future__ import annotations

from decimal import Decimal

from ...graph import GraphResource
from .. import usage as U
from ..attribution import TeamUsageContext
from ..lines import Line
from .context import Context

D = Decimal


def price_feature_group(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    group = team.feature_group(resource)
    use = U.feature_usage(group)
    online = resource.inputs.get("onlineStoreConfig") or {}
    offline = resource.inputs.get("offlineStoreConfig") or {}
    lines = []
    if isinstance(online, dict) and online.get("enableOnlineStore"):
        lines.append(ctx.line(resource, team.team, component, "online store storage", use.storage_gb, "GB-month",
                              "featurestore.online.storage", use.assumptions))
        lines.append(ctx.line(resource, team.team, component, "online store read units", use.read_units, "read unit",
                              "featurestore.read", []))
    lines.append(ctx.line(resource, team.team, component, "write units", use.write_units, "write unit",
                          "featurestore.write", [] if lines else use.assumptions))
    if isinstance(offline, dict) and offline:
        lines.append(ctx.line(resource, team.team, component, "offline store (S3 Standard)", use.storage_gb, "GB-month",
                              "s3.storage.standard", ["offline store data in the team's bucket"]))
    return lines


def price_bucket(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    if team.is_artifacts(resource):
        gigabytes, notes = U.artifact_gb(team.spec.spec.artifacts if team.spec else None)
        growth = D(str(team.spec.spec.artifacts.monthly_growth_gb)) if team.spec else D(0)
        if growth:
            notes = notes + [f"grows {U.number(growth)} GB/month (artifacts.monthlyGrowthGb)"]
    else:
        gigabytes, notes, growth = U.DEFAULT_OTHER_BUCKET_GB, [f"{U.number(U.DEFAULT_OTHER_BUCKET_GB)} GB (default)"], D(0)
    notes.append("requests not modelled (no request volume in the spec)")
    return [ctx.line(resource, team.team, component, "Standard storage", gigabytes, "GB-month", "s3.storage.standard",
                     notes, growth_per_month=growth)]


def price_kms_key(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    notes = ["requests within the 20,000/month free tier (default)"]
    if resource.inputs.get("enableKeyRotation"):
        notes.append("yearly rotation adds $1/month per rotated version after the first year")
    return [ctx.line(resource, team.team, component, "customer managed key", D(1), "key-month", "kms.key", notes)]


def price_repository(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "image storage", U.DEFAULT_IMAGE_GB, "GB-month", "ecr.storage",
                     [f"{U.number(U.DEFAULT_IMAGE_GB)} GB of images (default)"])]


def price_secret(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "secret", D(1), "secret-month", "secretsmanager.secret",
                     ["API requests not modelled (no request volume in the spec)"])]

