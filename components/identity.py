"""TeamIdentity: the IAM roles a team's jobs, endpoints and people act as.

One role per duty, each scoped to the team's own bucket, prefixes and key, never ``*``
on ``*`` (the policy builder refuses it). Role names are deterministic, so their ARNs are
known at plan time and other policies (key, bucket) can name them before apply. The
human role requires MFA in its trust policy; every role gets the stack's permissions
boundary when the stack config names one.

PII feature groups are read by attributes (ABAC). What IAM can and cannot express:

* online store (``sagemaker:GetRecord`` / ``BatchGetRecord`` on the feature-group
  resource): tag-based. The consumer may read a group tagged ``pii=true`` only when its
  session carries the principal tag ``pii-access=true`` (``aws:ResourceTag/pii`` and
  ``aws:PrincipalTag/pii-access``), with an explicit deny as backstop; groups tagged
  ``pii=false`` need no tag.
* offline store (S3 objects written by SageMaker, untagged): S3 object reads cannot key on
  the feature group's tag, so the PII groups' prefixes are named in the policy and gated on
  ``aws:PrincipalTag/pii-access`` alone (an allow with the condition plus a deny without it).
  Athena queries read S3 as the caller, so the same deny applies to them.
* Glue catalog metadata (tables created by SageMaker, untagged): not ABAC-capable here;
  table reads are scoped by name to the team's database. Column-level control would need
  Lake Formation, which this framework does not manage.

The session tag comes from the caller: the trust policy lets a caller pass ``pii-access``
only with the value its own principal already carries (``aws:RequestTag/pii-access`` equal
to ``${aws:PrincipalTag/pii-access}``), so nobody grants themselves PII access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import pulumi
import pulumi_aws as aws

from mlplatform.locations import CAPTURE_ROOT
from mlplatform.naming import role_name
from mlplatform.type_tokens import TEAM_IDENTITY

from .base import SpecComponent, TeamContext
from .feature_group import PII_ACCESS_TAG
from .iam import Principal, Statement, document
from .secure_bucket import BucketAccess
from .service_role import ServiceRoleArgs, ServiceTrust, grant_to_role, service_role

if TYPE_CHECKING:  # the stores are built after the identity, whose role ARNs their policies name
    from .artifact_store import ArtifactStore
    from .feature_group import FeatureStoreAccess

MFA_REQUIRED = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def human_trust_policy(*principals: str) -> str:
    """The given principals (the stack's sign-in roles, or the account root when it names
    none) may assume the role with MFA, and may pass ``pii-access`` as a session tag only
    with the value their own principal carries."""
    principal = Principal.aws(*principals)
    return document(
        Statement(("sts:AssumeRole",), (), "Allow", principal=principal, conditions=MFA_REQUIRED),
        Statement(("sts:TagSession",), (), "Allow", principal=principal, sid="PassOwnPiiAccessTagOnly", conditions={
            **MFA_REQUIRED,
            "StringEquals": {f"aws:RequestTag/{PII_ACCESS_TAG}": f"${{aws:PrincipalTag/{PII_ACCESS_TAG}}}"},
            "ForAllValues:StringEquals": {"aws:TagKeys": [PII_ACCESS_TAG]},
        }),
    )


@dataclass(frozen=True)
class Duty:
    """What a role is for, who may assume it and which parts of the team's store it uses."""

    description: str
    services: tuple[str, ...] = ()  # empty: assumed by people in the account, with MFA
    read_prefixes: tuple[str, ...] = ()
    write_prefixes: tuple[str, ...] = ()

    @property
    def read_only(self) -> bool:
        """A duty that writes nothing: every permission it gets must be Read or List."""
        return not self.write_prefixes


DUTIES: dict[str, Duty] = {
    "training": Duty("Training jobs", ("sagemaker.amazonaws.com", "ecs-tasks.amazonaws.com"),
                     read_prefixes=("datasets/", "feature-store/", "models/"), write_prefixes=("models/", "jobs/")),
    "serving": Duty("Endpoints and batch transform", ("sagemaker.amazonaws.com",),
                    read_prefixes=("models/",), write_prefixes=(CAPTURE_ROOT,)),
    "ingestion": Duty("Feature ingestion", ("sagemaker.amazonaws.com",),
                      read_prefixes=("feature-store/",), write_prefixes=("feature-store/",)),
    # feature-store/ is granted per group by grant_feature_access (PII prefixes by ABAC)
    "consumer": Duty("Read-only access for the team's people", (),
                     read_prefixes=("datasets/", "jobs/", CAPTURE_ROOT)),
}


def duty_source_arn(service: str, context: TeamContext) -> Optional[str]:
    """The resources a duty's service acts for, where the service sends ``aws:SourceArn``:
    ECS tasks of the team's account and region (SageMaker pins the account only, see
    :data:`components.service_role.SERVICE_TRUST`)."""
    if service == "ecs-tasks.amazonaws.com":
        return f"arn:aws:ecs:{context.stack.region}:{context.account_id}:*"
    return None


@dataclass(frozen=True, kw_only=True)
class TeamIdentityArgs:
    #: the team and stack (the stack names the people who may assume the human duties)
    context: TeamContext


class TeamIdentity(SpecComponent):
    """The team's roles; :attr:`role_arns` maps duty to the role ARN."""

    def __init__(self, name: str, args: TeamIdentityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context = args.context
        super().__init__(TEAM_IDENTITY, name, context.locator.at("metadata", "team"), opts)
        self._prefix = name
        self._context = context
        self.role_arns: dict[str, str] = {}
        self.roles: dict[str, aws.iam.Role] = {}
        account_root = f"arn:aws:iam::{context.account_id}:root"
        for duty_name, duty in DUTIES.items():
            physical = role_name(context.team, context.environment, duty_name)
            humans = context.stack.human_principal_arns or [account_root]
            description = f"{duty.description} of team {context.team} ({context.environment})"
            # the tag lets policies find the roles people assume (they must require MFA)
            if duty.services:
                self.roles[duty_name] = service_role(f"{name}-{duty_name}", ServiceRoleArgs(
                    name=physical, description=description, stack=context.stack,
                    trusts=tuple(ServiceTrust(service=s, source_arn=duty_source_arn(s, context)) for s in duty.services),
                    tags={"principal-type": "service"}), self.child())
            else:
                self.roles[duty_name] = aws.iam.Role(
                    f"{name}-{duty_name}",
                    name=physical,
                    description=description,
                    assume_role_policy=human_trust_policy(*humans),
                    max_session_duration=context.stack.defaults.human_role_max_session_seconds,
                    permissions_boundary=context.stack.permissions_boundary_arn,
                    tags={"principal-type": "human"},
                    opts=self.child(),
                )
            self.role_arns[duty_name] = f"arn:aws:iam::{context.account_id}:role/{physical}"
        self.register_outputs({"roleArns": self.role_arns})

    @property
    def key_user_arns(self) -> list[str]:
        """The roles a key policy lets encrypt and decrypt: those whose duty writes. Read-only duties
        decrypt through their identity policy alone (key policies delegate to IAM through the
        account-root statement), so no key policy hands them Encrypt, GenerateDataKey or ReEncrypt."""
        return sorted(self.role_arns[duty] for duty, spec in DUTIES.items() if not spec.read_only)

    def grant_store_access(self, store: "ArtifactStore") -> None:
        """Each duty reads and writes only its prefixes of the team's store, with the team's key:
        the store grants them (:meth:`ArtifactStore.grant_read_write`), the duty's role gets them."""
        for duty_name, role in self.roles.items():
            duty = DUTIES[duty_name]
            grant_to_role(f"{self._prefix}-{duty_name}-store-access", role.name,
                          store.grant_read_write(duty.read_prefixes, duty.write_prefixes), self.child())

    def grant_feature_access(self, store: "FeatureStoreAccess") -> None:
        """Feature-store permissions per duty, as the feature store grants them: ingestion writes
        records and the Glue tables, training reads everything, the consumer reads PII groups only
        by attribute."""
        if not store.groups:
            return
        grants = {"ingestion": store.grant_ingest(), "training": store.grant_read(),
                  "consumer": store.grant_read_by_attribute()}
        for duty_name, duty_statements in grants.items():
            grant_to_role(f"{self._prefix}-{duty_name}-feature-access", self.roles[duty_name].name, duty_statements,
                          self.child())


def store_statements(duty: Duty, bucket_name: str) -> list[Statement]:
    """What a duty may do in the team's bucket: the bucket's own grant for its prefixes."""
    return BucketAccess(bucket_name).grant_read_write(duty.read_prefixes, duty.write_prefixes)
