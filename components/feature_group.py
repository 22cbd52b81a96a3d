"""Feature store: a team's Glue catalog database and its versioned SageMaker feature groups.

Each group is named ``<team>-<env>-<group>-v<version>`` (:func:`mlplatform.naming.feature_group_name`,
SageMaker's 64-character limit, hash-truncated). The version is part of the name and of the
logical resource name, so bumping it or renaming the group plans a *new* group beside the
old one (the old one's delete is flagged as destroying a stateful resource), never an
in-place replacement.

Every group is tagged ``pii=true`` or ``pii=false``; the consumer role's attribute-based
access (:meth:`FeatureStoreAccess.grant_read_by_attribute`, given to the role by
:meth:`components.identity.TeamIdentity.grant_feature_access`) keys on that tag.
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
from .iam import Statement, allow, deny
from .secure_bucket import BucketAccess

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


#: The session tag a person's role carries to read PII feature groups (``pii-access=true``).
PII_ACCESS_TAG = "pii-access"
#: Reading online-store records of a group.
ONLINE_READ_ACTIONS = ("sagemaker:BatchGetRecord", "sagemaker:GetRecord")
#: Reading the groups' Glue catalog (the offline store's tables).
GLUE_READ_ACTIONS = ("glue:GetDatabase", "glue:GetPartitions", "glue:GetTable", "glue:GetTables")
#: Writing it: what SageMaker's ingestion does to the tables and their partitions.
GLUE_WRITE_ACTIONS = ("glue:BatchCreatePartition", "glue:CreatePartition", "glue:CreateTable", "glue:UpdateTable")


@dataclass(frozen=True)
class FeatureAccess:
    """What the roles need to know about one feature group."""

    arn: str
    pii: bool
    offline_prefix: Optional[str]  # None without an offline store
    table: Optional[str]


def team_resource_condition(team: str) -> dict:
    """Only resources tagged with the team (every team resource is, through the provider's default tags)."""
    return {"StringEquals": {"aws:ResourceTag/team": team}}


@dataclass(frozen=True, kw_only=True)
class FeatureStoreAccess:
    """The grants of a team's feature store, as the store gives them: its groups (by ARN and by
    the team's tag), their offline store in the team's bucket and their Glue tables.

    PII groups are read by attributes (see :mod:`components.identity` for what IAM can express):
    online records by the group's ``pii`` tag and the caller's ``pii-access`` principal tag, offline
    objects by the principal tag alone, each with an explicit deny as backstop.
    """

    #: the groups' region
    region: str
    #: the groups' account
    account_id: str
    #: the team whose tag every group carries
    team: str
    #: the team's artifact bucket (the offline store)
    bucket_name: str
    #: the Glue database of the offline store; "" when no group has one
    database: str
    #: the groups
    groups: tuple[FeatureAccess, ...]

    @property
    def glue(self) -> list[str]:
        """The catalog, the database and the groups' tables; none without a database."""
        if not self.database:
            return []
        base = f"arn:aws:glue:{self.region}:{self.account_id}"
        return [f"{base}:catalog", f"{base}:database/{self.database}",
                *(f"{base}:table/{self.database}/{g.table}" for g in self.groups if g.table)]

    @property
    def group_arns(self) -> list[str]:
        return sorted(g.arn for g in self.groups)

    def grant_ingest(self) -> list[Statement]:
        """Put records into the team's groups; write the offline store's tables (SageMaker checks
        the bucket's ACL before writing there)."""
        statements = [allow(["sagemaker:DescribeFeatureGroup", "sagemaker:PutRecord"], self.group_arns,
                            conditions=team_resource_condition(self.team))]
        if self.glue:
            statements += [allow(["s3:GetBucketAcl"], BucketAccess(self.bucket_name).arn),
                           allow([*GLUE_READ_ACTIONS, *GLUE_WRITE_ACTIONS], self.glue)]
        return statements

    def grant_read(self) -> list[Statement]:
        """Read every group's records and the catalog (training)."""
        statements = [allow(["sagemaker:DescribeFeatureGroup", *ONLINE_READ_ACTIONS], self.group_arns,
                            conditions=team_resource_condition(self.team))]
        if self.glue:
            statements.append(allow(list(GLUE_READ_ACTIONS), self.glue))
        return statements

    def grant_read_by_attribute(self) -> list[Statement]:
        """The consumer's reads: non-PII freely, PII only with ``pii-access=true``; group metadata
        only of groups tagged with the team."""
        store = BucketAccess(self.bucket_name)
        has_access = {"StringEquals": {f"aws:PrincipalTag/{PII_ACCESS_TAG}": "true"}}
        lacks_access = {"StringNotEquals": {f"aws:PrincipalTag/{PII_ACCESS_TAG}": "true"}}
        pii_tag = f"aws:ResourceTag/{PII_TAG}"
        plain = sorted(g.arn for g in self.groups if not g.pii)
        pii = sorted(g.arn for g in self.groups if g.pii)
        statements = [allow("sagemaker:DescribeFeatureGroup", sorted(plain + pii), sid="DescribeGroups",
                            conditions=team_resource_condition(self.team))]
        if self.glue:
            statements.append(allow(list(GLUE_READ_ACTIONS), self.glue, sid="ReadCatalog"))
        if plain:
            statements.append(allow(list(ONLINE_READ_ACTIONS), plain, sid="ReadNonPiiOnline",
                                    conditions={"StringEquals": {pii_tag: "false"}}))
        if pii:
            statements.append(allow(list(ONLINE_READ_ACTIONS), pii, sid="ReadPiiOnlineWithPiiAccess", conditions={
                "StringEquals": {pii_tag: "true", f"aws:PrincipalTag/{PII_ACCESS_TAG}": "true"}}))
            statements.append(deny(list(ONLINE_READ_ACTIONS), pii, sid="DenyPiiOnlineWithoutPiiAccess", conditions={
                "StringEquals": {pii_tag: "true"}, **lacks_access}))
        plain_prefixes = sorted(g.offline_prefix for g in self.groups if g.offline_prefix and not g.pii)
        pii_prefixes = sorted(g.offline_prefix for g in self.groups if g.offline_prefix and g.pii)
        if plain_prefixes or pii_prefixes:
            statements += store.grant_list(*plain_prefixes, *pii_prefixes, sid="ListOfflineStore")
        statements += store.grant_read(*plain_prefixes, sid="ReadNonPiiOffline")
        if pii_prefixes:
            statements += store.grant_read(*pii_prefixes, sid="ReadPiiOfflineWithPiiAccess", conditions=has_access)
            statements.append(deny("s3:GetObject", store.objects(pii_prefixes), sid="DenyPiiOfflineWithoutPiiAccess",
                                   conditions=lacks_access))
        return statements


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
