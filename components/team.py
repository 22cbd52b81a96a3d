"""Team: the root component of one team's estate, with its own tagged AWS provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.spec.models import TeamSpec
from mlplatform.stackconfig import StackConfig
from mlplatform.tagging import MANAGED_BY

from .artifact_store import ArtifactStore, ArtifactStoreArgs
from .base import SpecComponent, SpecLocator, TeamContext
from .budget import TeamBudget
from .compute_wiring import build_compute
from .feature_group import FeatureGroup, FeatureGroupArgs
from .identity import TeamIdentity
from .image_registry import ImageRegistry


@dataclass(frozen=True)
class TeamArgs:
    spec: TeamSpec  # as the stack's environment deploys it (overrides merged)
    spec_file: str  # project-relative path, recorded in the `spec` tag
    locator: SpecLocator
    stack: StackConfig


def billing_tags(spec: TeamSpec, environment: str, spec_file: str) -> dict[str, str]:
    """The billing and ownership tags every taggable resource of the team carries."""
    metadata = spec.metadata
    return {
        "team": metadata.team,
        "cost-center": metadata.cost_center,
        "environment": environment,
        "data-classification": metadata.data_classification,
        "managed-by": MANAGED_BY,
        "spec": spec_file,
    }


class Team(SpecComponent):
    """Everything one team owns in one stack.

    Tags are applied through the team's AWS provider ``defaultTags`` rather than a stack
    transform: the engine merges them into every resource the provider manages, and the
    offline capture sees the provider's inputs, so the plan shows the real tags.
    """

    def __init__(self, name: str, args: TeamArgs, opts: Optional[pulumi.ResourceOptions] = None):
        spec, stack = args.spec, args.stack
        super().__init__("mlplatform:team:Team", name, args.locator.at("metadata", "team"), opts)
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
        self.identity = TeamIdentity(f"{name}-identity", context, under_team)
        self.artifacts = ArtifactStore(
            f"{name}-artifacts",
            ArtifactStoreArgs(
                context, spec.spec.artifacts, sorted(self.identity.role_arns.values()),
                model_reader_arns=[self.identity.role_arns["training"], self.identity.role_arns["serving"]],
            ),
            under_team,
        )
        self.identity.grant_store_access(self.artifacts.bucket_name, self.artifacts.key_alias)
        self.images = ImageRegistry(f"{name}-images", context, self.artifacts.key.arn, under_team)
        self.feature_groups = [
            FeatureGroup(
                f"{name}-fg-{group.name}-v{group.version}",
                FeatureGroupArgs(
                    context, group, index, self.artifacts.bucket_name, self.artifacts.key.arn,
                    self.identity.role_arns["ingestion"],
                ),
                under_team,
            )
            for index, group in enumerate(spec.spec.feature_groups)
        ]
        self.compute = build_compute(name, context, spec, args.spec_file, self.identity, self.artifacts, under_team)
        self.budget = TeamBudget(f"{name}-budget", context, spec.spec.budget, spec.metadata.owners, under_team)
        self.register_outputs({"bucketName": self.artifacts.bucket_name})
