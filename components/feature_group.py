"""Feature store: a team's Glue catalog database and its versioned SageMaker feature groups.

Each group is named ``<team>-<env>-<group>-v<version>`` (:func:`mlplatform.naming.feature_group_name`,
SageMaker's 64-character limit, hash-truncated). The version is part of the name and of the
logical resource name, so bumping it or renaming the group plans a *new* group beside the
old one (the old one's delete is flagged as destroying a stateful resource), never an
in-place replacement.

Every group is tagged ``pii=true`` or ``pii=false``; the consumer role's attribute-based
access (see :meth:`components.identity.TeamIdentity.grant_feature_access`) keys on that tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import feature_group_name, physical_name
from mlplatform.spec.models import FeatureGroup as FeatureGroupSpec
from mlplatform.type_tokens import FEATURE_CATALOG, FEATURE_GROUP

from .base import SpecComponent, TeamContext

FEATURE_TYPES = {"string": "String", "integral": "Integral", "fractional": "Fractional"}
OFFLINE_ROOT = "feature-store/"
PII_TAG = "pii"


def catalog_database_name(team: str, environment: str) -> str:
    """Glue database: lowercase letters, digits and underscores, at most 255 characters."""
    return physical_name(team, environment, "features", max_length=255, allowed="a-z0-9_", separator="_")


def catalog_table_name(team: str, environment: str, group: str, version: int) -> str:
    """The group's Glue table: its group name in Glue's charset."""
    return physical_name(feature_group_name(team, environment, group, version), max_length=255, allowed="a-z0-9_",
                         separator="_")


def offline_prefix(team: str, environment: str, group: str, version: int) -> str:
    """Where the group's offline records live in the team bucket (SageMaker adds its own path below)."""
    return f"{OFFLINE_ROOT}{feature_group_name(team, environment, group, version)}/"


def feature_group_arn(region: str, account_id: str, group_name: str) -> str:
    """SageMaker ARNs carry the name in lowercase."""
    return f"arn:aws:sagemaker:{region}:{account_id}:feature-group/{group_name.lower()}"


@dataclass(frozen=True, kw_only=True)
class FeatureCatalogArgs:
    #: the team and stack
    context: TeamContext


class FeatureCatalog(SpecComponent):
    """The team's Glue database; SageMaker creates each group's Iceberg table in it."""

    def __init__(self, name: str, args: FeatureCatalogArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context = args.context
        super().__init__(FEATURE_CATALOG, name, context.locator.at("spec", "featureGroups"), opts)
        self.database_name = catalog_database_name(context.team, context.environment)
        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=self.database_name,
            description=f"Offline feature store tables of team {context.team} ({context.environment})",
            # dropping the database drops the groups' Iceberg tables: stateful
            opts=context.stateful(parent=self),
        )
        self.register_outputs({"databaseName": self.database_name})


@dataclass(frozen=True, kw_only=True)
class FeatureGroupArgs:
    #: the team and stack
    context: TeamContext
    #: the spec feature group (features, online and offline stores)
    group: FeatureGroupSpec
    #: the group's position in ``spec.featureGroups`` (the recorded spec source)
    index: int
    #: the team's artifact bucket, which holds the offline store
    bucket_name: str
    #: the team's artifact key, which encrypts both stores
    key_arn: pulumi.Output[str]
    #: the team's ingestion role, which SageMaker assumes to write the offline store
    ingestion_role_arn: str
    #: the team's catalog; required when the group has an offline store; default None
    catalog: Optional[FeatureCatalog] = None


class FeatureGroup(SpecComponent):
    """Typed definitions from the spec, KMS-encrypted online (with TTL) and offline (Iceberg) stores."""

    def __init__(self, name: str, args: FeatureGroupArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, group = args.context, args.group
        super().__init__(FEATURE_GROUP, name, ctx.locator.at("spec", "featureGroups", args.index), opts)
        self.group_name = feature_group_name(ctx.team, ctx.environment, group.name, group.version)
        self.arn = feature_group_arn(ctx.stack.region, ctx.account_id, self.group_name)
        self.pii = group.has_pii
        self.offline_prefix = offline_prefix(ctx.team, ctx.environment, group.name, group.version) if group.offline.enabled else None
        self.table_name: Optional[str] = None
        online = None
        if group.online.enabled:
            online = {"enable_online_store": True, "security_config": {"kms_key_id": args.key_arn}}
            if group.online.ttl_hours is not None:
                online["ttl_duration"] = {"unit": "Hours", "value": group.online.ttl_hours}
        offline = None
        depends_on = []
        if group.offline.enabled:
            # the team builds its catalog whenever any of its groups has an offline store
            assert args.catalog is not None, f"feature group {self.group_name} has an offline store but no catalog"
            self.table_name = catalog_table_name(ctx.team, ctx.environment, group.name, group.version)
            offline = {
                "s3_storage_config": {
                    "s3_uri": f"s3://{args.bucket_name}/{self.offline_prefix.rstrip('/')}",
                    "kms_key_id": args.key_arn,
                },
                "table_format": "Iceberg",
                "disable_glue_table_creation": False,
                "data_catalog_config": {
                    "catalog": "AwsDataCatalog",
                    "database": args.catalog.database_name,
                    "table_name": self.table_name,
                },
            }
            depends_on.append(args.catalog.database)
        self.feature_group = aws.sagemaker.FeatureGroup(
            f"{name}-group",
            feature_group_name=self.group_name,
            description=group.description or None,
            record_identifier_feature_name=group.record_identifier,
            event_time_feature_name=group.event_time,
            role_arn=args.ingestion_role_arn,
            feature_definitions=[
                {"feature_name": feature.name, "feature_type": FEATURE_TYPES[feature.type]} for feature in group.features
            ],
            online_store_config=online,
            offline_store_config=offline,
            tags={PII_TAG: "true" if self.pii else "false"},
            opts=ctx.stateful(parent=self, depends_on=depends_on),
        )
        self.register_outputs({"featureGroupName": self.group_name, "pii": self.pii})
