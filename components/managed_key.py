"""ManagedKey: the one definition of a customer-managed KMS key and of who may use it.

Every key of the estate (the platform audit key, each team's artifact, replica, alert and
notification keys) is built here, so the admin action list, the account-root statement,
rotation and the deletion window are written once, and every grant is a method of the
key's policy (:class:`KeyPolicy`), as CDK's ``key.grantDecrypt(role)`` is.

What every key gets:

* ``AccountRootForIamDelegation``: the account root may use the key, which lets IAM
  policies in the account grant access to it (KMS's default key policy; without it only
  the key policy could, and a broken policy would lock the key out for good);
* ``PlatformAdministers`` (where the caller names an administrator): the platform role
  manages the key (:data:`KEY_ADMIN_ACTIONS`) but never uses it on data;
* automatic rotation on, and a deletion window of :data:`DEFAULT_DELETION_WINDOW_DAYS`
  (KMS accepts 7 to 30 days; the longest window leaves the most time to cancel a mistaken
  deletion, after which every object the key encrypted is lost).

Grants name the principals they admit. KMS rejects a policy naming a role that does not
exist yet (``MalformedPolicyDocumentException``), so a key whose policy names roles created
in the same plan must wait for them: pass those Role resources as
``ManagedKeyArgs.principals`` (``mlp verify`` checks it, rule MLP-VFY-PRINCIPAL).

:class:`ManagedKey` is deliberately not a ComponentResource: a component would add a level
to every key's URN, and Pulumi would replace (delete and recreate) every existing key, and
with it the ability to decrypt what it encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from mlplatform.platform_defaults import PLATFORM_DEFAULTS

from .iam import Principal, Statement, allow, document, from_source_account

#: Actions that manage a key without using it on data (KMS's "key administrators").
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:Create*", "kms:Describe*", "kms:Disable*", "kms:Enable*", "kms:Get*",
    "kms:List*", "kms:Put*", "kms:Revoke*", "kms:ScheduleKeyDeletion", "kms:TagResource",
    "kms:UntagResource", "kms:Update*",
)
#: Using a symmetric key on data: read and write (KMS's "key users", without grants).
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
#: Reading what the key encrypted.
KEY_DECRYPT_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
#: What S3 replication needs on the replica's key when the replica bucket uses S3 Bucket
#: Keys: it generates the bucket key and decrypts it to verify its integrity before use
#: (Amazon S3 User Guide, "Replicating encrypted objects", section "S3 Bucket Keys and
#: replication").
S3_REPLICA_WRITE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*")
#: Service principals that publish to an encrypted SNS topic need only these.
PUBLISH_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")
#: Platform default (:class:`mlplatform.platform_defaults.PlatformDefaults`); a stack overrides it with
#: ``mlplatform:defaults: {keyDeletionWindowDays: ...}`` (7 to 30 days), which the callers pass on.
DEFAULT_DELETION_WINDOW_DAYS = PLATFORM_DEFAULTS.key_deletion_window_days


def service_linked_role_arn(account_id: str, service: str, role_name: str) -> str:
    """The ARN of an AWS service-linked role: path ``/aws-service-role/<service>/``."""
    return f"arn:aws:iam::{account_id}:role/aws-service-role/{service}/{role_name}"


def auto_scaling_role_arn(account_id: str) -> str:
    """AWSServiceRoleForAutoScaling: the role EC2 Auto Scaling launches instances as."""
    return service_linked_role_arn(account_id, "autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling")


def spot_fleet_role_arn(account_id: str) -> str:
    """AWSServiceRoleForEC2SpotFleet: the role a Spot Fleet request launches instances as."""
    return service_linked_role_arn(account_id, "spotfleet.amazonaws.com", "AWSServiceRoleForEC2SpotFleet")


def spot_role_arn(account_id: str) -> str:
    """AWSServiceRoleForEC2Spot: the role EC2 launches and manages Spot Instances as."""
    return service_linked_role_arn(account_id, "spot.amazonaws.com", "AWSServiceRoleForEC2Spot")


def batch_ebs_launcher_role_arns(account_id: str, spot: bool) -> tuple[str, ...]:
    """The service-linked roles that launch a managed AWS Batch EC2 compute environment's
    instances, and so create their (encrypted) EBS volumes.

    AWS Batch's own service-linked role (policy ``BatchServiceRolePolicy``) creates Auto
    Scaling groups named ``AWSBatch*`` for its capacity, requests Spot Fleets
    (``ec2:RequestSpotFleet``) and may create exactly the service-linked roles of
    ``autoscaling``, ``spotfleet`` and ``spot``; it holds no ``ec2:CreateFleet``, so EC2
    Fleet is not used. Auto Scaling launches as AWSServiceRoleForAutoScaling; a Spot Fleet
    as AWSServiceRoleForEC2SpotFleet and EC2 Spot as AWSServiceRoleForEC2Spot (Amazon EC2
    User Guide, "Spot Fleet permissions": grant these access to a customer managed key used
    for encrypted EBS). On-demand environments launch through Auto Scaling only.

    These roles are not created by the estate (a service-linked role is one per account,
    made by its service on first use), yet KMS rejects a key policy naming a role that does
    not exist: an account that has never used EC2 Auto Scaling or Spot creates them once,
    before the first ``pulumi up``, with ``aws iam create-service-linked-role
    --aws-service-name`` ``autoscaling.amazonaws.com`` (and ``spotfleet.amazonaws.com``,
    ``spot.amazonaws.com`` for spot queues).
    """
    roles = [auto_scaling_role_arn(account_id)]
    if spot:
        roles += [spot_fleet_role_arn(account_id), spot_role_arn(account_id)]
    return tuple(roles)


def via_service(service: str, region: str, also_equal: Optional[Mapping[str, str]] = None) -> dict[str, dict[str, str]]:
    """The condition that a key is used only through ``service`` in ``region``, on the caller's
    behalf (``kms:ViaService``, e.g. ``dynamodb.<region>.amazonaws.com``: AWS KMS Developer Guide,
    "kms:ViaService"), plus any further ``StringEquals`` entries ``also_equal``."""
    return {"StringEquals": {**(also_equal or {}), "kms:ViaService": f"{service}.{region}.amazonaws.com"}}


#: What a role needs, through its own policy, to read data under a key (S3 SSE-KMS objects).
IDENTITY_DECRYPT_ACTIONS = ("kms:Decrypt",)
#: ... and to write it: S3 asks KMS for a data key on every SSE-KMS upload.
IDENTITY_ENCRYPT_DECRYPT_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


@dataclass(frozen=True)
class KeyAccess:
    """The identity-side grants of a key named by its alias: statements for the grantee's own
    policy (the key policy admits them through ``AccountRootForIamDelegation``).

    The key is named through its alias (``kms:ResourceAliases``) rather than its ARN, which
    exists only after apply: the statements are fully known at plan time, so the policy pack
    and checkov can read them. The resource is every key of the account and region; the
    condition narrows it to the one key that carries the alias.
    """

    #: the key's alias (``alias/...``)
    alias: str
    #: the key's region
    region: str
    #: the key's account
    account_id: str

    @property
    def key_arns(self) -> str:
        return f"arn:aws:kms:{self.region}:{self.account_id}:key/*"

    def grant(self, actions: Sequence[str], sid: Optional[str] = None,
              conditions: Optional[dict[str, dict[str, Any]]] = None) -> Statement:
        """``actions`` on the key, and only on it (plus any further ``conditions``)."""
        only_this_key = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": self.alias}}
        return allow(list(actions), self.key_arns, sid=sid, conditions={**only_this_key, **(conditions or {})})

    def grant_decrypt(self) -> Statement:
        """Read data under the key (:data:`IDENTITY_DECRYPT_ACTIONS`)."""
        return self.grant(IDENTITY_DECRYPT_ACTIONS)

    def grant_encrypt_decrypt(self) -> Statement:
        """Read and write data under the key (:data:`IDENTITY_ENCRYPT_DECRYPT_ACTIONS`)."""
        return self.grant(IDENTITY_ENCRYPT_DECRYPT_ACTIONS)


class KeyPolicy:
    """A key policy under construction: the account-root and administrator statements,
    then one statement per grant, in the order granted (the policy text is stable)."""

    def __init__(self, account_id: str, administrator_arn: Optional[str] = None):
        #: the account whose root may delegate use of the key to IAM policies
        self.account_id = account_id
        self._statements: list[Statement] = [
            allow("kms:*", "*", sid="AccountRootForIamDelegation",
                  principal=Principal.aws(f"arn:aws:iam::{account_id}:root")),
        ]
        if administrator_arn:
            self._statements.append(allow(KEY_ADMIN_ACTIONS, "*", sid="PlatformAdministers",
                                          principal=Principal.aws(administrator_arn)))

    # ----------------------------------------------------------------- grants to IAM principals

    def grant(self, sid: str, actions: Sequence[str], *principal_arns: str,
              conditions: Optional[dict[str, dict[str, Any]]] = None) -> "KeyPolicy":
        """``actions`` on the key for the given IAM principals (nothing when none are given)."""
        arns = [arn for arn in principal_arns if arn]
        if arns:
            self._statements.append(allow(list(actions), "*", sid=sid, principal=Principal.aws(*arns),
                                          conditions=conditions or {}))
        return self

    def grant_encrypt_decrypt(self, sid: str, *principal_arns: str) -> "KeyPolicy":
        """Read and write data under the key (:data:`KEY_USE_ACTIONS`)."""
        return self.grant(sid, KEY_USE_ACTIONS, *principal_arns)

    def grant_decrypt(self, sid: str, *principal_arns: str) -> "KeyPolicy":
        """Read data under the key (:data:`KEY_DECRYPT_ACTIONS`)."""
        return self.grant(sid, KEY_DECRYPT_ACTIONS, *principal_arns)

    def grant_s3_replica_writes(self, sid: str, *principal_arns: str) -> "KeyPolicy":
        """What an S3 replication role needs on the replica bucket's key
        (:data:`S3_REPLICA_WRITE_ACTIONS`)."""
        return self.grant(sid, S3_REPLICA_WRITE_ACTIONS, *principal_arns)

    def grant_ebs_launch(self, sid: str, *launcher_arns: str) -> "KeyPolicy":
        """Let services launch instances with EBS volumes encrypted by the key.

        The two statements the Amazon EC2 Auto Scaling User Guide requires ("Required AWS
        KMS key policy for use with encrypted volumes"): the key-use actions, and
        ``kms:CreateGrant`` only for grants to AWS resources (``kms:GrantIsForAWSResource``),
        which EBS creates to attach the volume to the instance.
        """
        self.grant(f"{sid}Use", KEY_USE_ACTIONS, *launcher_arns)
        return self.grant(f"{sid}CreateGrant", ("kms:CreateGrant",), *launcher_arns,
                          conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}})

    def grant_ebs_for_auto_scaling(self, sid: str = "AutoScalingLaunchesEncryptedVolumes") -> "KeyPolicy":
        """:meth:`grant_ebs_launch` for the account's default Auto Scaling service-linked role."""
        return self.grant_ebs_launch(sid, auto_scaling_role_arn(self.account_id))

    # ----------------------------------------------------------------- grants to AWS services

    def grant_to_service(self, sid: str, actions: Sequence[str], *services: str,
                         conditions: Optional[dict[str, dict[str, Any]]] = None) -> "KeyPolicy":
        """``actions`` for service principals; ``conditions`` should pin the source
        (``aws:SourceAccount``/``aws:SourceArn``) against the confused deputy."""
        self._statements.append(allow(list(actions), "*", sid=sid, principal=Principal.service(*services),
                                      conditions=conditions or {}))
        return self

    def grant_publishers(self, sid: str, *services: str) -> "KeyPolicy":
        """Services of this account that publish to topics encrypted with the key."""
        return self.grant_to_service(sid, PUBLISH_ACTIONS, *services,
                                     conditions=from_source_account(self.account_id))

    def grant_cloudwatch_logs(self, sid: str, region: str, log_group_arn: str) -> "KeyPolicy":
        """CloudWatch Logs encrypts the log group(s) ``log_group_arn`` names (a pattern with
        ``*`` names several), as its user guide's key policy for log-group encryption does."""
        operator = "ArnLike" if "*" in log_group_arn else "ArnEquals"
        return self.grant_to_service(sid, KEY_USE_ACTIONS, f"logs.{region}.amazonaws.com",
                                     conditions={operator: {"kms:EncryptionContext:aws:logs:arn": log_group_arn}})

    def to_json(self) -> str:
        return document(*self._statements)


@dataclass(frozen=True, kw_only=True)
class ManagedKeyArgs:
    #: what the key protects (the key's description)
    description: str
    #: who may administer and use the key
    policy: KeyPolicy
    #: alias name (``alias/...``); default None, which creates no alias
    alias: Optional[str] = None
    #: days between scheduling deletion and deletion (KMS: 7 to 30); default 30
    #: (:data:`DEFAULT_DELETION_WINDOW_DAYS`); the estate's keys pass the stack's ``defaults.key_deletion_window_days``
    deletion_window_in_days: int = DEFAULT_DELETION_WINDOW_DAYS
    #: yearly automatic rotation of the key material; default on
    enable_key_rotation: bool = True
    #: the IAM roles and users created in this program that the policy names: the key waits
    #: for them, since KMS rejects a policy naming a principal that does not exist yet; default none
    principals: Sequence[pulumi.Resource] = ()


class ManagedKey:
    """A customer-managed symmetric key (and its alias) built from :class:`ManagedKeyArgs`.

    ``opts`` are the key's (parent, provider, protection); the alias shares its parent and
    provider but is never protected (an alias holds no data and may be renamed).
    """

    def __init__(self, name: str, args: ManagedKeyArgs, opts: pulumi.ResourceOptions):
        # the stack's mlplatform:defaults.keyDeletionWindowDays is validated 7..30 (PlatformDefaults), as KMS requires
        assert 7 <= args.deletion_window_in_days <= 30, f"key {name}: deletion window outside KMS's 7..30 days"
        key_opts = opts
        if args.principals:
            key_opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(args.principals)))
        self.key = aws.kms.Key(
            name,
            description=args.description,
            enable_key_rotation=args.enable_key_rotation,
            deletion_window_in_days=args.deletion_window_in_days,
            policy=args.policy.to_json(),
            opts=key_opts,
        )
        self.arn: pulumi.Output[str] = self.key.arn
        self.key_id: pulumi.Output[str] = self.key.key_id
        self.alias = args.alias
        if args.alias:
            aws.kms.Alias(f"{name}-alias", name=args.alias, target_key_id=self.key.key_id,
                          opts=pulumi.ResourceOptions(parent=opts.parent, provider=opts.provider))
