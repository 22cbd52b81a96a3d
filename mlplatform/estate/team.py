"""Team: the root component of one team's estate, with its own tagged AWS provider.

Estate layer: it maps the team's spec to the arguments of every component the team gets
(data plane here, training and serving in :mod:`.compute_wiring`, observability in
:mod:`.observability_wiring`), and takes what the stack shares (the foundation, the Kueue
cluster) from the builder in :class:`TeamArgs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.artifact_store import ArtifactStore, ArtifactStoreArgs, ReplicaTarget
from components.base import SpecComponent, SpecLocator, TeamContext
from components.budget import TeamBudget, TeamBudgetArgs
from components.feature_group import (FeatureAccess, FeatureCatalog, FeatureCatalogArgs, FeatureGroup, FeatureGroupArgs,
                                      FeatureStoreAccess, offline_prefix)
from components.foundation import Foundation
from components.identity import TeamIdentity, TeamIdentityArgs
from components.image_registry import ImageRegistry, ImageRegistryArgs
from components.managed_key import batch_ebs_launcher_role_arns
from components.schema_registry import GroupTable, SchemaRegistry, SchemaRegistryArgs
from components.training_kueue import KueueCluster

from ..naming import artifacts_component
from ..spec.models import TeamSpec
from ..stackconfig import StackConfig
from ..tagging import billing_tags
from ..type_tokens import TEAM
from .compute_wiring import build_compute, build_edge
from .observability_wiring import TeamObservability, TeamObservabilityArgs


@dataclass(frozen=True, kw_only=True)
class TeamArgs:
    #: the team's spec as the stack's environment deploys it (overrides merged)
    spec: TeamSpec
    #: the spec's project-relative path, recorded in the ``spec`` tag
    spec_file: str
    #: spec path -> file and line, which every component records as its source
    locator: SpecLocator
    #: the stack (account, region, environment, network, protection)
    stack: StackConfig
    #: the stack's shared log bucket and audit trail; default None (no foundation: buckets log nowhere)
    foundation: Optional[Foundation] = None
    #: the stack's Kueue cluster (provider, cohort, flavors), built once by the builder;
    #: default None, when no team of the stack trains on Kueue
    kueue_cluster: Optional[KueueCluster] = None


def batch_launchers(spec: TeamSpec, account_id: str) -> tuple[str, ...]:
    """Service-linked roles that launch the team's Batch instances, whose EBS volumes the
    artifact key encrypts (the launch templates name it): none without a Batch queue."""
    queues = [q for q in spec.spec.training.queues if q.backend == "batch"]
    if not queues:
        return ()
    return batch_ebs_launcher_role_arns(account_id, spot=any(q.spot.enabled for q in queues))


class Team(SpecComponent):
    """Everything one team owns in one stack.

    Tags are applied through the team's AWS provider ``defaultTags`` rather than a stack
    transform: the engine merges them into every resource the provider manages, and the
    offline capture sees the provider's inputs, so the plan shows the real tags.
    """

    def __init__(self, name: str, args: TeamArgs, opts: Optional[pulumi.ResourceOptions] = None):
        spec, stack = args.spec, args.stack
        super().__init__(TEAM, name, args.locator.at("metadata", "team"), opts)
        self.provider = aws.Provider(
            f"{name}-aws",
            region=stack.region,
            allowed_account_ids=[stack.account_id],
            default_tags={"tags": billing_tags(spec, stack.environment, args.spec_file)},
            opts=self.child(),
        )
        context = TeamContext(
            team=spec.metadata.team,
            stack=stack,
            locator=args.locator,
            data_classification=spec.metadata.data_classification,
            risk_tier=spec.metadata.risk_tier,
        )
        under_team = self.child(providers={"aws": self.provider})
        self.identity = TeamIdentity(f"{name}-identity", TeamIdentityArgs(context=context), under_team)
        self._data_plane(name, args, context, under_team)
        self.compute = build_compute(name, ctx=context, spec=spec, spec_file=args.spec_file, identity=self.identity,
                                     artifacts=self.artifacts, opts=under_team, kueue_cluster=args.kueue_cluster)
        self.observability = TeamObservability(f"{name}-observability", TeamObservabilityArgs(
            context=context, spec=spec, bucket_name=self.artifacts.bucket_name,
            artifact_key_arn=self.artifacts.key.arn, artifact_key_alias=self.artifacts.key_alias,
            endpoint_resources=dict(self.compute.endpoints),
            log_bucket=args.foundation.access_log_bucket.bucket if args.foundation else None), under_team)
        self.edge = build_edge(name, ctx=context, spec=spec, artifacts=self.artifacts, compute=self.compute,
                               log_key_arn=self.observability.alert_key.arn, opts=under_team)
        self.budget = TeamBudget(f"{name}-budget", TeamBudgetArgs(
            context=context, budget=spec.spec.budget, topic_arns=self.observability.escalation.topic_arns), under_team)
        self.register_outputs({"bucketName": self.artifacts.bucket_name})

    def _data_plane(self, name: str, args: TeamArgs, context: TeamContext, under_team: pulumi.ResourceOptions) -> None:
        """Artifact store, image registry, feature store and schema registry of the team."""
        spec, stack, foundation = args.spec, args.stack, args.foundation
        groups = spec.spec.feature_groups
        artifacts = spec.spec.artifacts
        replica = None
        if stack.replication and stack.partner_region and artifacts.replication:
            replica = ReplicaTarget(
                region=stack.partner_region,
                default_tags=billing_tags(spec, stack.environment, args.spec_file),
                log_bucket=foundation.replica_access_log_bucket.bucket
                if foundation and foundation.replica_access_log_bucket else None,
            )
        self.artifacts = ArtifactStore(
            artifacts_component(name),
            ArtifactStoreArgs(
                context=context, artifacts=artifacts, user_role_arns=self.identity.key_user_arns,
                model_reader_arns=[self.identity.role_arns["training"], self.identity.role_arns["serving"]],
                log_bucket=foundation.access_log_bucket.bucket if foundation else None,
                offline_retention={
                    offline_prefix(context.team, context.environment, g.name, g.version): g.offline.retention_days or artifacts.retention_days
                    for g in groups if g.offline.enabled
                },
                replica=replica,
                user_roles=[self.identity.roles[duty] for duty in sorted(self.identity.roles)],
                ebs_launcher_role_arns=batch_launchers(spec, stack.account_id),
            ),
            under_team,
        )
        self.identity.grant_store_access(self.artifacts)
        self.images = ImageRegistry(f"{name}-images", ImageRegistryArgs(context=context, key_arn=self.artifacts.key.arn),
                                    under_team)
        catalog = (FeatureCatalog(f"{name}-features", FeatureCatalogArgs(context=context), under_team)
                   if any(g.offline.enabled for g in groups) else None)
        self.feature_groups = [
            FeatureGroup(
                f"{name}-fg-{group.name}-v{group.version}",
                FeatureGroupArgs(
                    context=context, group=group, index=index, bucket_name=self.artifacts.bucket_name,
                    key_arn=self.artifacts.key.arn, ingestion_role_arn=self.identity.role_arns["ingestion"],
                    catalog=catalog,
                ),
                under_team,
            )
            for index, group in enumerate(groups)
        ]
        if groups:
            self.identity.grant_feature_access(FeatureStoreAccess(
                region=context.stack.region, account_id=context.account_id, team=context.team,
                bucket_name=self.artifacts.bucket_name, database=catalog.database_name if catalog else "",
                groups=tuple(FeatureAccess(fg.arn, fg.pii, fg.offline_prefix, fg.table_name)
                             for fg in self.feature_groups),
            ))
        if groups:
            self.schemas = SchemaRegistry(
                f"{name}-schemas",
                SchemaRegistryArgs(context=context, groups=[
                    GroupTable(index=index, group=group, database=catalog.database_name if catalog else None,
                               table=fg.table_name, depends_on=fg.feature_group)
                    for index, (group, fg) in enumerate(zip(groups, self.feature_groups))]),
                under_team,
            )
