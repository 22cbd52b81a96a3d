"""TeamIdentity: the IAM roles a team's jobs, endpoints and people act as.

One role per duty, each scoped to the team's own bucket, prefixes and key, never ``*``
on ``*`` (the policy builder refuses it). Role names are deterministic, so their ARNs are
known at plan time and other policies (key, bucket) can name them before apply. The
human role requires MFA in its trust policy; every role gets the stack's permissions
boundary when the stack config names one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import role_name

from .base import SpecComponent, TeamContext
from .iam import Principal, Statement, allow, document, trust_policy

MFA_REQUIRED = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


@dataclass(frozen=True)
class Duty:
    """What a role is for, who may assume it and which parts of the team's store it uses."""

    description: str
    services: tuple[str, ...] = ()  # empty: assumed by people in the account, with MFA
    read_prefixes: tuple[str, ...] = ()
    write_prefixes: tuple[str, ...] = ()


DUTIES: dict[str, Duty] = {
    "training": Duty("Training jobs", ("sagemaker.amazonaws.com", "ecs-tasks.amazonaws.com"),
                     read_prefixes=("datasets/", "feature-store/", "models/"), write_prefixes=("models/", "jobs/")),
    "serving": Duty("Endpoints and batch transform", ("sagemaker.amazonaws.com",),
                    read_prefixes=("models/",), write_prefixes=("data-capture/",)),
    "ingestion": Duty("Feature ingestion", ("sagemaker.amazonaws.com",),
                      read_prefixes=("feature-store/",), write_prefixes=("feature-store/",)),
    "consumer": Duty("Read-only access for the team's people", (),
                     read_prefixes=("datasets/", "feature-store/", "jobs/", "data-capture/")),
}


class TeamIdentity(SpecComponent):
    """The team's roles; :attr:`role_arns` maps duty to the role ARN."""

    def __init__(self, name: str, context: TeamContext, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlplatform:identity:TeamIdentity", name, context.locator.at("metadata", "team"), opts)
        self._prefix = name
        self._context = context
        self.role_arns: dict[str, str] = {}
        self.roles: dict[str, aws.iam.Role] = {}
        account_root = f"arn:aws:iam::{context.account_id}:root"
        for duty_name, duty in DUTIES.items():
            physical = role_name(context.team, context.environment, duty_name)
            trust = (trust_policy(Principal.service(*duty.services)) if duty.services
                     else trust_policy(Principal.aws(account_root), MFA_REQUIRED))
            self.roles[duty_name] = aws.iam.Role(
                f"{name}-{duty_name}",
                name=physical,
                description=f"{duty.description} of team {context.team} ({context.environment})",
                assume_role_policy=trust,
                max_session_duration=3600,
                permissions_boundary=context.stack.permissions_boundary_arn,
                opts=self.child(),
            )
            self.role_arns[duty_name] = f"arn:aws:iam::{context.account_id}:role/{physical}"
        self.register_outputs({"roleArns": self.role_arns})

    def grant_store_access(self, bucket_name: str, key_alias: str) -> None:
        """Each duty reads and writes only its prefixes of the team's bucket, with the team's key.

        The key is named through its alias (``kms:ResourceAliases``) rather than its ARN,
        which exists only after apply: the policies are then fully known at plan time, so
        the policy pack and checkov can read them.
        """
        context = self._context
        key_arns = f"arn:aws:kms:{context.stack.region}:{context.account_id}:key/*"
        for duty_name, role in self.roles.items():
            duty = DUTIES[duty_name]
            key_actions = ["kms:Decrypt", "kms:GenerateDataKey"] if duty.write_prefixes else ["kms:Decrypt"]
            aws.iam.RolePolicy(
                f"{self._prefix}-{duty_name}-store-access",
                role=role.name,
                policy=document(
                    *store_statements(duty, bucket_name),
                    allow(key_actions, key_arns,
                          conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": key_alias}}),
                ),
                opts=self.child(),
            )


def store_statements(duty: Duty, bucket_name: str) -> list[Statement]:
    bucket_arn = f"arn:aws:s3:::{bucket_name}"
    prefixes = sorted(set(duty.read_prefixes) | set(duty.write_prefixes))
    statements = [allow("s3:ListBucket", bucket_arn, conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}})]
    if duty.read_prefixes:
        statements.append(allow("s3:GetObject", [f"{bucket_arn}/{p}*" for p in duty.read_prefixes]))
    if duty.write_prefixes:
        statements.append(allow(["s3:PutObject", "s3:AbortMultipartUpload"], [f"{bucket_arn}/{p}*" for p in duty.write_prefixes]))
    return statements
