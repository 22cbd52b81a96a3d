"""TeamIdentity: the IAM roles a team's training jobs and endpoints run as."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import role_name

from .base import SpecComponent, TeamContext
from .iam import Principal, allow, document, trust_policy

#: Services each role may be assumed by.
ROLE_SERVICES = {
    "training": ["sagemaker.amazonaws.com", "ecs-tasks.amazonaws.com"],
    "serving": ["sagemaker.amazonaws.com"],
    "ingestion": ["sagemaker.amazonaws.com"],
}


class TeamIdentity(SpecComponent):
    """One role per duty; names are deterministic so their ARNs are known at plan time."""

    def __init__(self, name: str, context: TeamContext, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlplatform:identity:TeamIdentity", name, context.locator.at("metadata", "team"), opts)
        self._prefix = name
        self.role_arns: dict[str, str] = {}
        self.roles: dict[str, aws.iam.Role] = {}
        for duty, services in ROLE_SERVICES.items():
            physical = role_name(context.team, context.environment, duty)
            self.roles[duty] = aws.iam.Role(
                f"{name}-{duty}",
                name=physical,
                description=f"{duty.capitalize()} role of team {context.team} ({context.environment})",
                assume_role_policy=trust_policy(Principal.service(*services)),
                max_session_duration=3600,
                opts=self.child(),
            )
            self.role_arns[duty] = f"arn:aws:iam::{context.account_id}:role/{physical}"
        self.register_outputs({"roleArns": self.role_arns})

    def grant_store_access(self, bucket_name: str, key_arn: pulumi.Output[str]) -> None:
        """Least-privilege access of every duty role to the team's bucket and key."""
        bucket_arn = f"arn:aws:s3:::{bucket_name}"
        for duty, role in self.roles.items():
            aws.iam.RolePolicy(
                f"{self._prefix}-{duty}-store-access",
                role=role.name,
                policy=key_arn.apply(lambda arn: document(
                    allow("s3:ListBucket", bucket_arn),
                    allow(["s3:GetObject", "s3:PutObject"], f"{bucket_arn}/*"),
                    allow(["kms:Decrypt", "kms:GenerateDataKey"], arn),
                )),
                opts=self.child(),
            )
