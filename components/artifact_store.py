"""ArtifactStore: a team's KMS key and encrypted, private, versioned artifact bucket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import bucket_name
from mlplatform.spec.models import Artifacts

from .base import SpecComponent, TeamContext
from .iam import Principal, allow, deny, document

KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:Create*", "kms:Describe*", "kms:Disable*", "kms:Enable*", "kms:Get*",
    "kms:List*", "kms:Put*", "kms:Revoke*", "kms:ScheduleKeyDeletion", "kms:TagResource",
    "kms:UntagResource", "kms:Update*",
)
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")


@dataclass(frozen=True)
class ArtifactStoreArgs:
    context: TeamContext
    artifacts: Artifacts
    #: role ARNs that may use the key and the bucket (the team's own roles)
    user_role_arns: list[str]
    #: the only roles that may download models (restrict model download)
    model_reader_arns: list[str]


class ArtifactStore(SpecComponent):
    """Customer-managed key plus a bucket that only accepts TLS and that key.

    Secure by default: rotation on, 30-day deletion window, all public access blocked,
    BucketOwnerEnforced ownership (no ACLs), SSE-KMS with bucket keys, versioning, and a
    lifecycle from the spec's retention. Access logging, object lock, replication and
    event notifications are added by the data-plane issue.
    """

    bucket: aws.s3.Bucket
    key: aws.kms.Key

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx = args.context
        super().__init__("mlplatform:storage:ArtifactStore", name, ctx.locator.at("spec", "artifacts"), opts)
        self.bucket_name = bucket_name(ctx.team, ctx.environment, "artifacts")
        bucket_arn = f"arn:aws:s3:::{self.bucket_name}"
        account_root = f"arn:aws:iam::{ctx.account_id}:root"

        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Artifacts of team {ctx.team} ({ctx.environment})",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=document(
                allow("kms:*", "*", sid="AccountRootForIamDelegation", principal=Principal.aws(account_root)),
                allow(KEY_ADMIN_ACTIONS, "*", sid="PlatformAdministers", principal=Principal.aws(ctx.stack.platform_role_arn)),
                allow(KEY_USE_ACTIONS, "*", sid="TeamRolesUse", principal=Principal.aws(*args.user_role_arns)),
            ),
            opts=ctx.stateful(parent=self),
        )
        self.key_alias = f"alias/{self.bucket_name}"
        aws.kms.Alias(
            f"{name}-key-alias",
            name=self.key_alias,
            target_key_id=self.key.key_id,
            opts=self.child(),
        )
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=self.bucket_name,
            force_destroy=False,
            opts=ctx.stateful(parent=self),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.bucket,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=self.child(),
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self.child(),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.bucket,
            rules=[{
                "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": self.key.arn},
                "bucket_key_enabled": True,
            }],
            opts=self.child(),
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.bucket,
            versioning_configuration={"status": "Enabled"},
            opts=self.child(),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.bucket,
            rules=[{
                "id": "retention",
                "status": "Enabled",
                "filter": {},
                "expiration": {"days": args.artifacts.retention_days},
                "noncurrent_version_expiration": {"noncurrent_days": args.artifacts.noncurrent_retention_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }],
            opts=self.child(),
        )
        # The policy is built from deterministic names only, so it is known at preview
        # time and the policy pack can read it; pinning uploads to this key's ARN (known
        # only after apply) is left to the data-plane issue.
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.bucket,
            policy=document(
                deny("s3:*", [bucket_arn, f"{bucket_arn}/*"], sid="DenyInsecureTransport", principal=Principal.anyone(),
                     conditions={"Bool": {"aws:SecureTransport": "false"}}),
                deny("s3:PutObject", f"{bucket_arn}/*", sid="DenyUploadsNotEncryptedWithKms", principal=Principal.anyone(),
                     conditions={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}),
                deny("s3:GetObject", f"{bucket_arn}/models/*", sid="RestrictModelDownload", principal=Principal.anyone(),
                     conditions={"ArnNotEquals": {"aws:PrincipalArn": sorted(args.model_reader_arns)}}),
            ),
            opts=self.child(),
        )
        self.register_outputs({"bucketName": self.bucket_name, "bucketArn": bucket_arn, "keyArn": self.key.arn})
