"""ArtifactStore: a team's KMS key and encrypted, private, versioned, audited artifact bucket.

Object lock by sensitivity (:func:`object_lock_mode`), documented here because it is a
compliance decision, not a storage detail:

=====================================================  ==============
team metadata                                          default lock
=====================================================  ==============
``dataClassification: restricted`` or ``riskTier: high``  COMPLIANCE (nobody, not even root, shortens it)
``confidential`` or ``riskTier: medium``               GOVERNANCE (only ``s3:BypassGovernanceRetention`` may)
anything else (public/internal and low risk)           none
=====================================================  ==============

Every artifact bucket is created with object lock *enabled* (it can only be turned on at
creation, and turning it on later replaces the bucket); only the default-retention rule
depends on the table above, so a team whose classification rises keeps its bucket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from mlplatform.naming import bucket_name, role_name
from mlplatform.platform_defaults import PLATFORM_DEFAULTS, PlatformDefaults
from mlplatform.spec.models import Artifacts
from mlplatform.stackconfig import StackConfig
from mlplatform.type_tokens import ARTIFACT_STORE

from .base import SpecComponent, TeamContext
from .iam import Principal, Statement, deny
from .managed_key import KeyAccess, KeyPolicy, ManagedKey, ManagedKeyArgs
from .secure_bucket import SecureBucket, SecureBucketArgs, bucket_arn, policy_document
from .service_role import ServiceRoleArgs, ServiceTrust, grant_to_role, service_role

#: Top-level prefixes the team's roles write, each expiring after ``retentionDays``. The
#: feature store's offline prefixes get their own rules (offline retention per group).
RETAINED_PREFIXES = ("baselines/", "data-capture/", "datasets/", "jobs/", "models/")


def artifact_bucket_name(stack: StackConfig, team: str) -> str:
    """``<org>-<team>-<env>-artifacts-<account>``: bucket names are global (see :func:`bucket_name`)."""
    return bucket_name(stack, team, stack.environment, "artifacts")


def replica_bucket_name(stack: StackConfig, team: str, region: str) -> str:
    """The replica's name carries its region: bucket names are global, so moving the replica
    to another region must never reuse (and first need to free) the old name."""
    return bucket_name(stack, team, stack.environment, f"artifacts-{region}")


def object_lock_mode(data_classification: str, risk_tier: str) -> Optional[str]:
    """The default object-lock mode for a team (see the module docstring's table)."""
    if data_classification == "restricted" or risk_tier == "high":
        return "COMPLIANCE"
    if data_classification == "confidential" or risk_tier == "medium":
        return "GOVERNANCE"
    return None


def lifecycle_rules(artifacts: Artifacts, offline_retention: Mapping[str, int],
                    defaults: PlatformDefaults = PLATFORM_DEFAULTS) -> list[dict]:
    """Expiry (and optional archive) per prefix, offline feature data per group, and a
    bucket-wide rule for superseded versions, stale delete markers and abandoned uploads
    (after the stack's ``defaults.bucket_abort_multipart_days``).

    Rules never overlap in what they expire: S3 applies the shortest expiry of overlapping
    rules, which would cut a feature group's longer offline retention short.
    """
    rules = []
    for prefix in RETAINED_PREFIXES:
        rule = {
            "id": f"retain-{prefix.rstrip('/')}",
            "status": "Enabled",
            "filter": {"prefix": prefix},
            "expiration": {"days": artifacts.retention_days},
        }
        if artifacts.archive_after_days is not None:
            rule["transitions"] = [{"days": artifacts.archive_after_days, "storage_class": "GLACIER_IR"}]
        rules.append(rule)
    for prefix, days in sorted(offline_retention.items()):
        rules.append({
            "id": f"offline-{prefix.rstrip('/').rsplit('/', 1)[-1]}"[:255],
            "status": "Enabled",
            "filter": {"prefix": prefix},
            "expiration": {"days": days},
        })
    rules.append({
        "id": "versions-and-uploads",
        "status": "Enabled",
        "filter": {},
        "expiration": {"expired_object_delete_marker": True},
        "noncurrent_version_expiration": {"noncurrent_days": artifacts.noncurrent_retention_days},
        "abort_incomplete_multipart_upload": {"days_after_initiation": defaults.bucket_abort_multipart_days},
    })
    return rules


#: The encryption-context key S3 passes to KMS under SSE-KMS.
S3_ENCRYPTION_CONTEXT = "kms:EncryptionContext:aws:s3:arn"


def encryption_contexts(bucket_arn: str) -> list[str]:
    """The ``aws:s3:arn`` encryption contexts S3 uses for the objects of a bucket.

    With S3 Bucket Keys (every bucket here enables them) the context is the *bucket* ARN,
    not the object ARN (Amazon S3 User Guide, "Replicating encrypted objects", section "S3
    Bucket Keys and replication": policies must name the bucket ARN). An object written
    with the bucket key turned off for that request still carries its object ARN, so both
    forms are accepted: never more than this bucket's objects.
    """
    return [bucket_arn, f"{bucket_arn}/*"]


def bucket_policy_statements(bucket: str, key_arn: str, model_reader_arns: list[str]) -> list[Statement]:
    """Uploads only with SSE-KMS and only with the team key; models only to readers (after the
    TLS-only deny every :class:`~components.secure_bucket.SecureBucket` policy starts with)."""
    arn = bucket_arn(bucket)
    return [
        deny("s3:PutObject", f"{arn}/*", sid="DenyUploadsNotEncryptedWithKms", principal=Principal.anyone(),
             conditions={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}),
        deny("s3:PutObject", f"{arn}/*", sid="DenyUploadsWithAnotherKey", principal=Principal.anyone(),
             conditions={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}}),
        deny("s3:GetObject", f"{arn}/models/*", sid="RestrictModelDownload", principal=Principal.anyone(),
             conditions={"ArnNotEquals": {"aws:PrincipalArn": sorted(model_reader_arns)}}),
    ]


def bucket_policy(bucket: str, key_arn: str, model_reader_arns: list[str]) -> str:
    """TLS only; uploads only with SSE-KMS and only with the team key; models only to readers."""
    return policy_document(bucket, bucket_policy_statements(bucket, key_arn, model_reader_arns))


@dataclass(frozen=True, kw_only=True)
class ReplicaTarget:
    """Where the bucket replicates: a partner region of the same residency."""

    #: the partner region (the stack's ``partnerRegion``)
    region: str
    #: the team's billing tags, for the partner-region provider
    default_tags: Mapping[str, str]
    #: the stack's access-log bucket in the partner region; default None (the replica logs nowhere)
    log_bucket: Optional[pulumi.Input[str]] = None


@dataclass(frozen=True, kw_only=True)
class ArtifactStoreArgs:
    #: the team and stack
    context: TeamContext
    #: the spec's ``artifacts`` (retention, replication)
    artifacts: Artifacts
    #: role ARNs that may use the key and the bucket (the team's own roles)
    user_role_arns: list[str]
    #: the only roles that may download models (restrict model download)
    model_reader_arns: list[str]
    #: the stack's central access-log bucket (the foundation's); default None, which logs nowhere
    log_bucket: Optional[pulumi.Input[str]] = None
    #: offline feature-store prefix -> days its records are kept; default none
    offline_retention: Mapping[str, int] = field(default_factory=dict)
    #: set when the stack replicates and the team's spec allows it; default None (no replica)
    replica: Optional[ReplicaTarget] = None
    #: the Role resources of ``user_role_arns``: the keys wait for them (KMS rejects a key
    #: policy naming a principal that does not exist yet); default none
    user_roles: Sequence[pulumi.Resource] = ()
    #: service-linked roles that launch instances whose EBS volumes the key encrypts (the
    #: team's AWS Batch compute environments, see ``managed_key.batch_ebs_launcher_role_arns``);
    #: default none
    ebs_launcher_role_arns: tuple[str, ...] = ()


class ArtifactStore(SpecComponent):
    """Customer-managed key plus a bucket that only accepts TLS and that key.

    Secure by default: rotation on, 30-day deletion window, all public access blocked,
    BucketOwnerEnforced ownership (no ACLs), SSE-KMS with bucket keys, versioning, object
    lock, access logging to the stack's log bucket, EventBridge notifications, a lifecycle
    from the spec and, where the stack asks for it, replication to the partner region.

    The key (:mod:`components.managed_key`) admits the team's roles, the replication role
    (decrypt only) and, when the team has Batch queues, the service-linked roles that
    launch their instances with EBS volumes encrypted by it; it waits for every role of
    this program it names, so the replication role is created before it.

    The bucket policy pins uploads to the team key's ARN, which exists only after apply:
    it is built through ``Output.apply``, so during a preview the policy is unknown and
    the policy pack defers its checks to ``pulumi up`` (the statements themselves come
    from :func:`bucket_policy`, which tests read with a known ARN).
    """

    bucket: aws.s3.Bucket
    key: aws.kms.Key

    def __init__(self, name: str, args: ArtifactStoreArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx = args.context
        super().__init__(ARTIFACT_STORE, name, ctx.locator.at("spec", "artifacts"), opts)
        self._name, self._ctx, self._args = name, ctx, args
        self.bucket_name = artifact_bucket_name(ctx.stack, ctx.team)
        bucket_arn = f"arn:aws:s3:::{self.bucket_name}"
        self.replication_role_arn: Optional[str] = None
        self.replication_role: Optional[aws.iam.Role] = None
        if args.replica is not None:  # before the keys, whose policies name it
            self.replication_role_arn = (
                f"arn:aws:iam::{ctx.account_id}:role/{role_name(ctx.team, ctx.environment, 'replication')}")
            self.replication_role = self._replication_role(args.replica)

        self.key_alias = f"alias/{self.bucket_name}"
        #: the identity-side grants of the team key (through its alias, known at plan time)
        self.key_access = KeyAccess(self.key_alias, ctx.stack.region, ctx.account_id)
        policy = self._key_policy()
        if self.replication_role_arn:
            policy.grant_decrypt("ReplicationDecryptsSource", self.replication_role_arn)
        policy.grant_ebs_launch("EbsLaunchers", *args.ebs_launcher_role_arns)  # Batch instances' volumes
        self.key = self._key(f"{name}-key", f"Artifacts of team {ctx.team} ({ctx.environment})", policy,
                             self.key_alias, ctx.stateful(parent=self))
        readers = sorted(args.model_reader_arns)
        self.store_bucket = SecureBucket(name, SecureBucketArgs(
            bucket_name=self.bucket_name, bucket_resource_name=f"{name}-bucket", kms_key_arn=self.key.arn,
            object_lock_enabled=True,
            lifecycle_rules=lifecycle_rules(args.artifacts, args.offline_retention, ctx.stack.defaults),
            # the upload deny names the key's ARN, known only after apply
            policy_statements=self.key.arn.apply(
                lambda key_arn: bucket_policy_statements(self.bucket_name, key_arn, readers)),
            access_log_bucket=args.log_bucket or None), ctx.stateful(parent=self))
        self.bucket, self.versioning = self.store_bucket.bucket, self.store_bucket.versioning
        #: the bucket's grants (by name: known at plan time)
        self.access = self.store_bucket.access
        self.lock_mode = object_lock_mode(ctx.data_classification, ctx.risk_tier)
        if self.lock_mode is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=self.bucket.bucket,
                object_lock_enabled="Enabled",
                rule={"default_retention": {"mode": self.lock_mode, "days": args.artifacts.object_lock_days}},
                opts=self.child(depends_on=[self.versioning]),
            )
        self.replica_bucket_name: Optional[str] = None
        if args.replica is not None:
            self._replicate(args.replica)
        self.register_outputs({"bucketName": self.bucket_name, "bucketArn": bucket_arn, "keyArn": self.key.arn,
                               "objectLockMode": self.lock_mode, "replicaBucketName": self.replica_bucket_name})

    # ------------------------------------------------------------------ grants (CDK style)

    def grant_read_write(self, read_prefixes: Sequence[str], write_prefixes: Sequence[str]) -> list[Statement]:
        """A role's access to the store: listing, reads and writes of the given prefixes of the
        bucket, and the team key to match (decrypt to read, data keys to write)."""
        key = self.key_access.grant_encrypt_decrypt() if write_prefixes else self.key_access.grant_decrypt()
        return [*self.access.grant_read_write(read_prefixes, write_prefixes), key]

    # ------------------------------------------------------------------ pieces

    def _key_policy(self) -> KeyPolicy:
        """What both keys share: the platform administers, the team's roles use."""
        ctx = self._ctx
        return (KeyPolicy(ctx.account_id, administrator_arn=ctx.stack.platform_role_arn)
                .grant_encrypt_decrypt("TeamRolesUse", *self._args.user_role_arns))

    def _key(self, name: str, description: str, policy: KeyPolicy, alias: str,
             opts: pulumi.ResourceOptions) -> aws.kms.Key:
        """A key that waits for every role of this plan its policy names."""
        principals = [*self._args.user_roles, *([self.replication_role] if self.replication_role else [])]
        return ManagedKey(name, ManagedKeyArgs(description=description, policy=policy, alias=alias,
                                               principals=principals,
                                               deletion_window_in_days=self._ctx.stack.defaults.key_deletion_window_days),
                          opts).key

    def _replication_role(self, target: ReplicaTarget) -> aws.iam.Role:
        """The role S3 replicates as; its permissions are granted in :meth:`_replicate`."""
        ctx, name = self._ctx, f"{self._name}-replica"
        physical_role = role_name(ctx.team, ctx.environment, "replication")
        return service_role(f"{name}-role", ServiceRoleArgs(
            name=physical_role, description=f"S3 replication of team {ctx.team}'s artifacts to {target.region}",
            trusts=(ServiceTrust(service="s3.amazonaws.com"),), stack=ctx.stack), self.child())

    def _replicate(self, target: ReplicaTarget) -> None:
        """A replica in the partner region with its own key, and a least-privilege role
        that reads only the source's versions and writes only replicas."""
        ctx, args, name = self._ctx, self._args, f"{self._name}-replica"
        provider = aws.Provider(
            f"{name}-aws",
            region=target.region,
            allowed_account_ids=[ctx.account_id],
            default_tags={"tags": dict(target.default_tags)},
            opts=self.child(),
        )
        self.replica_bucket_name = replica_bucket_name(ctx.stack, ctx.team, target.region)
        source_arn, replica_arn = f"arn:aws:s3:::{self.bucket_name}", f"arn:aws:s3:::{self.replica_bucket_name}"
        replica_alias = f"alias/{self.replica_bucket_name}"
        replica_key = self._key(
            f"{name}-key", f"Artifact replica of team {ctx.team} ({ctx.environment}, {target.region})",
            self._key_policy().grant_s3_replica_writes("ReplicationEncryptsReplica", self.replication_role_arn),
            replica_alias, ctx.stateful(parent=self, provider=provider))
        readers = sorted(args.model_reader_arns)
        replica = SecureBucket(name, SecureBucketArgs(
            bucket_name=self.replica_bucket_name, bucket_resource_name=f"{name}-bucket", kms_key_arn=replica_key.arn,
            object_lock_enabled=True,  # S3 replicates from a lock-enabled bucket only into one
            lifecycle_rules=lifecycle_rules(args.artifacts, args.offline_retention, ctx.stack.defaults),
            policy_statements=replica_key.arn.apply(
                lambda key_arn: bucket_policy_statements(self.replica_bucket_name, key_arn, readers)),
            access_log_bucket=target.log_bucket or None), ctx.stateful(parent=self, provider=provider))
        replica_versioning = replica.versioning

        role = self.replication_role
        role_policy = grant_to_role(f"{name}-role-policy", role.name, [
            *self.access.grant_replication_source(),
            *replica.access.grant_replica_writes(),
            self.key_access.grant(["kms:Decrypt"], sid="DecryptSource",
                                  conditions={"StringLike": {S3_ENCRYPTION_CONTEXT: encryption_contexts(source_arn)}}),
            KeyAccess(replica_alias, target.region, ctx.account_id).grant(
                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], sid="EncryptReplica",
                conditions={"StringLike": {S3_ENCRYPTION_CONTEXT: encryption_contexts(replica_arn)}}),
        ], self.child())
        aws.s3.BucketReplicationConfig(
            f"{name}-config",
            bucket=self.bucket.bucket,
            role=role.arn,
            rules=[{
                "id": "partner-region",
                "status": "Enabled",
                "priority": 1,
                "filter": {},
                "delete_marker_replication": {"status": "Enabled"},
                "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                "destination": {
                    "bucket": replica_arn,
                    "storage_class": "STANDARD",
                    "encryption_configuration": {"replica_kms_key_id": replica_key.arn},
                },
            }],
            opts=self.child(depends_on=[self.versioning, replica_versioning, role_policy]),
        )
