"""ImageRegistry: the team's ECR repository for training and serving images."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import physical_name
from mlplatform.platform_defaults import PLATFORM_DEFAULTS
from mlplatform.type_tokens import IMAGE_REGISTRY

from .base import SpecComponent, TeamContext

#: Platform default; a stack overrides it with ``mlplatform:defaults: {untaggedImageExpiryDays: ...}``.
UNTAGGED_IMAGE_DAYS = PLATFORM_DEFAULTS.untagged_image_expiry_days


def lifecycle_policy(untagged_days: int = UNTAGGED_IMAGE_DAYS) -> str:
    """ECR lifecycle policy: untagged images (superseded layers, failed pushes) expire."""
    return json.dumps({
        "rules": [{
            "rulePriority": 1,
            "description": f"Expire untagged images after {untagged_days} days",
            "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                          "countUnit": "days", "countNumber": untagged_days},
            "action": {"type": "expire"},
        }]
    }, sort_keys=True)


@dataclass(frozen=True, kw_only=True)
class ImageRegistryArgs:
    #: the team and stack
    context: TeamContext
    #: the team's artifact key, which encrypts the images
    key_arn: pulumi.Input[str]


class ImageRegistry(SpecComponent):
    """Immutable tags (a deployed tag always means the same image), scan on push, and the
    team's KMS key; untagged images expire so the registry does not grow without bound."""

    def __init__(self, name: str, args: ImageRegistryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context, key_arn = args.context, args.key_arn
        super().__init__(IMAGE_REGISTRY, name, context.locator.at("metadata", "team"), opts)
        self.repository_name = physical_name(
            context.team, context.environment, "images", max_length=256, allowed="a-z0-9._/-"
        )
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=self.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": key_arn}],
            force_delete=False,
            opts=context.stateful(parent=self),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=lifecycle_policy(context.stack.defaults.untagged_image_expiry_days),
            opts=self.child(),
        )
        self.register_outputs({"repositoryName": self.repository_name})
