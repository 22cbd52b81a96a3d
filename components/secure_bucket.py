"""SecureBucket: the one definition of an S3 bucket of the estate, and of who may use it.

Every bucket (the teams' artifact buckets and their replicas, the stack's audit and
access-log buckets, the log-forwarding backups) is built here, so the hardening is written
once:

* ``BucketOwnerEnforced`` ownership: ACLs are off, the bucket owner owns every object
  (Amazon S3 User Guide, "Controlling ownership of objects and disabling ACLs");
* a public access block with all four settings on;
* default encryption: SSE-KMS with an S3 Bucket Key under the given key, or SSE-S3 where no
  key is given (only the access-log buckets: S3 server access logging delivers only to
  buckets with SSE-S3, see :mod:`components.foundation`);
* versioning, and a lifecycle that waits for it: its noncurrent-version rules act on a
  versioned bucket only, and the provider's documentation of
  ``aws_s3_bucket_lifecycle_configuration`` (terraform-provider-aws, which pulumi-aws wraps)
  makes the lifecycle of a versioned bucket depend on its versioning resource;
* object events to EventBridge;
* a bucket policy that always starts with the TLS-only deny
  (:func:`components.iam.deny_insecure_transport`), then the caller's statements;
* server access logging where a log bucket is given.

Grants are methods of the bucket, as CDK's ``bucket.grantRead(role)`` is:
:class:`BucketAccess` returns the least-privilege IAM statements for a prefix of the bucket,
and a component that only knows a bucket's name (the endpoint, the team identity) uses
``BucketAccess(name)`` as CDK uses ``Bucket.fromBucketName``.

:class:`SecureBucket` is deliberately not a ComponentResource: a component would add a level
to every bucket's URN, and Pulumi would replace (delete and recreate) every existing bucket.
The resource names are those the components used before the primitive, so no URN changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import pulumi
import pulumi_aws as aws

from mlplatform.platform_defaults import PLATFORM_DEFAULTS, PlatformDefaults

from .iam import Statement, allow, deny_insecure_transport, document
#: What S3 does with an object when it puts or completes a multipart upload.
PUT_ACTIONS = ("s3:AbortMultipartUpload", "s3:PutObject")
#: What an owner of objects under a prefix does with them: read, write and delete (an MLflow
#: server deletes a deleted run's artifacts).
MANAGE_ACTIONS = ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject")
#: What Firehose needs on its S3 destination (Amazon Data Firehose Developer Guide, "Grant
#: Firehose access to an Amazon S3 destination"): multipart writes and the bucket's location.
FIREHOSE_DELIVERY_ACTIONS = ("s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:ListBucket",
                             "s3:ListBucketMultipartUploads", "s3:PutObject")

#: What S3 replication reads from the source's object versions (Amazon S3 User Guide, "Setting up
#: permissions for live replication": the version, its ACL and tags, and object-lock state).
REPLICATION_SOURCE_OBJECT_ACTIONS = ("s3:GetObjectLegalHold", "s3:GetObjectRetention", "s3:GetObjectVersionAcl",
                                     "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging")
#: What S3 replication writes on the destination: replicas, delete markers, tags, and the owner
#: override that makes the destination's owner own every replica.
REPLICA_WRITE_ACTIONS = ("s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateDelete", "s3:ReplicateObject",
                         "s3:ReplicateTags")


def bucket_arn(bucket_name: str) -> str:
    """The ARN of a bucket: bucket names are global, so the ARN has no region or account."""
    return f"arn:aws:s3:::{bucket_name}"


def retention_rules(days: int, defaults: PlatformDefaults = PLATFORM_DEFAULTS) -> list[dict]:
    """The lifecycle of a bucket that only keeps records: everything expires after ``days``,
    superseded versions and abandoned uploads after the stack's ``defaults``
    (``bucketNoncurrentVersionDays``, ``bucketAbortMultipartDays``); a component passes its
    stack's, the shipped values apply otherwise."""
    return [{
        "id": "retention", "status": "Enabled", "filter": {},
        "expiration": {"days": days},
        "noncurrent_version_expiration": {"noncurrent_days": defaults.bucket_noncurrent_version_days},
        "abort_incomplete_multipart_upload": {"days_after_initiation": defaults.bucket_abort_multipart_days},
    }]


def policy_document(bucket_name: str, statements: Sequence[Statement]) -> str:
    """A bucket policy: the TLS-only deny on the bucket and its objects, then ``statements``."""
    arn = bucket_arn(bucket_name)
    return document(deny_insecure_transport("s3:*", [arn, f"{arn}/*"]), *statements)


@dataclass(frozen=True)
class BucketAccess:
    """The grants of one bucket, by name: least-privilege identity-policy statements.

    Prefixes end with ``/`` (``models/``); a grant names the objects under them (``models/*``)
    and, where it lists, only keys under them (``s3:prefix``). The statements go into the
    grantee's own policy; the bucket's key is granted separately, by the key
    (:class:`components.managed_key.KeyAccess`).
    """

    #: the bucket's physical name
    bucket_name: str

    @property
    def arn(self) -> str:
        return bucket_arn(self.bucket_name)

    def objects(self, prefixes: Sequence[str]) -> list[str]:
        """The object ARNs under ``prefixes``."""
        return [f"{self.arn}/{prefix}*" for prefix in prefixes]

    def grant_list(self, *prefixes: str, sid: Optional[str] = None) -> list[Statement]:
        """``s3:ListBucket`` restricted to keys under ``prefixes``."""
        return [allow("s3:ListBucket", self.arn, sid=sid,
                      conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}})]

    def grant_read(self, *prefixes: str, sid: Optional[str] = None,
                   conditions: Optional[dict[str, dict[str, Any]]] = None) -> list[Statement]:
        """``s3:GetObject`` on the objects under ``prefixes`` (no listing), under any further
        ``conditions`` (a principal tag, for attribute-based reads)."""
        return [allow("s3:GetObject", self.objects(prefixes), sid=sid, conditions=conditions or {})] if prefixes else []

    def grant_read_keys(self, *keys: str) -> list[Statement]:
        """``s3:GetObject`` on exactly the objects ``keys`` (a baseline file, not its folder)."""
        return [allow("s3:GetObject", [f"{self.arn}/{key}" for key in keys])] if keys else []

    def grant_manage(self, *prefixes: str) -> list[Statement]:
        """Owning the objects under ``prefixes`` (:data:`MANAGE_ACTIONS`): no listing, no other prefix."""
        return [allow(list(MANAGE_ACTIONS), self.objects(prefixes))] if prefixes else []

    def grant_put(self, *prefixes: str) -> list[Statement]:
        """Writing objects under ``prefixes`` (:data:`PUT_ACTIONS`), nothing else: no read, no delete."""
        return [allow(list(PUT_ACTIONS), self.objects(prefixes))] if prefixes else []

    def grant_read_write(self, read_prefixes: Sequence[str], write_prefixes: Sequence[str]) -> list[Statement]:
        """Listing of every prefix granted, reads under ``read_prefixes``, writes under ``write_prefixes``."""
        listed = sorted(set(read_prefixes) | set(write_prefixes))
        return [*self.grant_list(*listed), *self.grant_read(*read_prefixes), *self.grant_put(*write_prefixes)]

    def grant_firehose_delivery(self) -> list[Statement]:
        """What a Firehose delivery stream's role needs on this bucket as its S3 destination
        (:data:`FIREHOSE_DELIVERY_ACTIONS`, on the bucket and its objects)."""
        return [allow(list(FIREHOSE_DELIVERY_ACTIONS), [self.arn, f"{self.arn}/*"])]

    def grant_replication_source(self) -> list[Statement]:
        """What an S3 replication role needs on this bucket as the source: its replication
        configuration and listing, and every object version with what S3 replicates alongside
        (:data:`REPLICATION_SOURCE_OBJECT_ACTIONS`)."""
        return [allow(["s3:GetReplicationConfiguration", "s3:ListBucket"], self.arn, sid="ReadReplicationConfig"),
                allow(list(REPLICATION_SOURCE_OBJECT_ACTIONS), f"{self.arn}/*", sid="ReadSourceVersions")]

    def grant_replica_writes(self) -> list[Statement]:
        """What an S3 replication role needs on this bucket as the destination
        (:data:`REPLICA_WRITE_ACTIONS` on its objects)."""
        return [allow(list(REPLICA_WRITE_ACTIONS), f"{self.arn}/*", sid="WriteReplicas")]


@dataclass(frozen=True, kw_only=True)
class SecureBucketArgs:
    """Everything a secure bucket is built from; every hardening setting is fixed, not an option."""

    #: the bucket's physical name (global, see :func:`mlplatform.naming.bucket_name`)
    bucket_name: str
    #: the KMS key for SSE-KMS with an S3 Bucket Key. Default None: SSE-S3 (AES256), which only
    #: an access-log bucket may use, since S3 server access logs cannot go to an SSE-KMS bucket
    kms_key_arn: Optional[pulumi.Input[str]] = None
    #: object lock turned on at creation (it cannot be turned on later without replacing the
    #: bucket); the caller sets the default retention. Default False
    object_lock_enabled: bool = False
    #: lifecycle rules (Pulumi's ``rules`` input). Default none: no lifecycle resource
    lifecycle_rules: Sequence[dict] = ()
    #: statements of the bucket policy after the TLS-only deny; an Output when they name
    #: something known only after apply (a key ARN). Default none: the TLS-only deny alone
    policy_statements: Union[Sequence[Statement], pulumi.Output] = ()
    #: the bucket that receives this bucket's server access logs. Default None: no logging
    access_log_bucket: Optional[pulumi.Input[str]] = None
    #: the resource name of the bucket itself. Default None: the SecureBucket's name
    #: (the artifact store names it ``<name>-bucket``, kept so its URN does not change)
    bucket_resource_name: Optional[str] = None
    #: the suffix of the logging resource's name. Default ``-access-logging`` (the foundation
    #: keeps its ``-logging``, so its URNs do not change)
    logging_suffix: str = "-access-logging"
    #: object events to EventBridge (deletions or unexpected writes can be alerted on). Default on
    eventbridge_notifications: bool = True
    #: tags of the bucket beyond the provider's default tags. Default none
    tags: dict[str, str] = field(default_factory=dict)


class SecureBucket:
    """A hardened bucket (see the module docstring) built from :class:`SecureBucketArgs`.

    ``opts`` are the bucket's own (parent, provider, protection: a bucket holds data); the
    configuration resources share its parent and provider but are never protected (they hold
    no data and are recreated in place). Every resource is named ``<name>-<part>``.
    """

    def __init__(self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions):
        self.name = args.bucket_name
        self.access = BucketAccess(args.bucket_name)
        self.arn = self.access.arn
        child = pulumi.ResourceOptions(parent=opts.parent, provider=opts.provider)
        self.bucket = aws.s3.Bucket(
            args.bucket_resource_name or name, bucket=args.bucket_name, force_destroy=False,
            object_lock_enabled=True if args.object_lock_enabled else None,
            tags=dict(args.tags) or None, opts=opts)
        aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=self.bucket.bucket,
                                       rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        aws.s3.BucketPublicAccessBlock(f"{name}-public-access-block", bucket=self.bucket.bucket,
                                       block_public_acls=True, block_public_policy=True, ignore_public_acls=True,
                                       restrict_public_buckets=True, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(f"{name}-encryption", bucket=self.bucket.bucket,
                                                       rules=[encryption_rule(args.kms_key_arn)], opts=child)
        self.versioning = aws.s3.BucketVersioning(f"{name}-versioning", bucket=self.bucket.bucket,
                                                  versioning_configuration={"status": "Enabled"}, opts=child)
        if args.lifecycle_rules:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle", bucket=self.bucket.bucket, rules=list(args.lifecycle_rules),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.versioning])))
        if args.eventbridge_notifications:
            aws.s3.BucketNotification(f"{name}-events", bucket=self.bucket.bucket, eventbridge=True, opts=child)
        statements = args.policy_statements
        policy = (statements.apply(lambda known: policy_document(args.bucket_name, known))
                  if isinstance(statements, pulumi.Output) else policy_document(args.bucket_name, statements))
        self.policy = aws.s3.BucketPolicy(f"{name}-policy", bucket=self.bucket.bucket, policy=policy, opts=child)
        if args.access_log_bucket is not None:
            # ``bucket`` from the bucket resource, so the plan records the reference (checkov
            # joins a bucket to its logging only through it)
            aws.s3.BucketLogging(
                f"{name}{args.logging_suffix}", bucket=self.bucket.bucket, target_bucket=args.access_log_bucket,
                target_prefix=f"s3/{args.bucket_name}/",
                target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
                opts=child)

    # ------------------------------------------------------------------ grants (CDK style)

    def grant_read(self, *prefixes: str) -> list[Statement]:
        return self.access.grant_read(*prefixes)

    def grant_put(self, *prefixes: str) -> list[Statement]:
        return self.access.grant_put(*prefixes)

    def grant_read_write(self, read_prefixes: Sequence[str], write_prefixes: Sequence[str]) -> list[Statement]:
        return self.access.grant_read_write(read_prefixes, write_prefixes)

    def grant_firehose_delivery(self) -> list[Statement]:
        return self.access.grant_firehose_delivery()


def encryption_rule(kms_key_arn: Optional[pulumi.Input[str]]) -> dict:
    """Default encryption: SSE-KMS under ``kms_key_arn`` with an S3 Bucket Key (fewer KMS calls,
    and the bucket ARN as encryption context), or SSE-S3 without a key."""
    if kms_key_arn is None:
        return {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
    return {"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn},
            "bucket_key_enabled": True}
