"""Foundation: what every team of a stack shares, built once per stack before the teams.

* the central S3 server-access-log bucket (and one in the partner region when the stack
  replicates: S3 delivers access logs only to a bucket in the source bucket's region);
* the platform KMS key, for the audit trail, its bucket and its log group;
* the CloudTrail trail: multi-region, log file validation, KMS, linked to CloudWatch Logs,
  management events plus S3 data events on every team's artifact bucket (all writes, and
  reads under ``models/``, i.e. every model download), in its own bucket; with anomaly
  detection on (:attr:`StackConfig.anomaly_detection_enabled`), CloudTrail Insights for
  unusual management API call rates and error rates (:data:`INSIGHT_TYPES`), and a platform
  key that lets EventBridge and CloudWatch publish to the security topic it encrypts
  (:mod:`components.anomaly_detection`).

Foundation resources are billed to the platform through their own provider's
``defaultTags`` (team ``platform``, the stack's ``platformCostCenter``). The teams' bucket
names are derived from their specs, so the trail's selectors and the log bucket's policy
name them at plan time, before any team resource exists.

The access-log bucket is encrypted with SSE-S3 (AES256), not KMS: S3 server access log
delivery does not support SSE-KMS destination buckets. It is the only such bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.guardrails import INSIGHT_TYPES
from mlplatform.naming import bucket_name, physical_name
from mlplatform.stackconfig import StackConfig, stack_file_name
from mlplatform.tagging import MANAGED_BY
from mlplatform.type_tokens import FOUNDATION

from .base import SpecComponent
from .grants import LogGroupAccess, grant_publish_to_services, topic_policy
from .iam import Principal, Statement, allow, from_source_account
from .managed_key import KeyPolicy, ManagedKey, ManagedKeyArgs, via_service
from .secure_bucket import SecureBucket, SecureBucketArgs, bucket_arn, retention_rules
from .service_role import ServiceRoleArgs, ServiceTrust, grant_to_role, service_role

PLATFORM_TEAM = "platform"
#: Source buckets the access-log bucket policy names one by one (a bucket policy holds 20 KB).
MAX_NAMED_LOG_SOURCES = 100
#: CloudTrail allows at most 500 values across all conditions of a trail's advanced selectors.
MAX_SELECTOR_VALUES = 500
#: CloudTrail Insights types: :data:`mlplatform.guardrails.INSIGHT_TYPES` (CloudTrail API reference,
#: InsightSelector: ApiCallRateInsight and ApiErrorRateInsight, the only two). Insights analyse the
#: trail's management events, which the trail logs (:func:`data_event_selectors`), and deliver to
#: the trail's bucket.
#: Services that publish to the platform security topic (GuardDuty finding rules, model-download alarms).
SECURITY_PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


def insight_selectors(stack: StackConfig) -> Optional[list[dict]]:
    """The trail's Insights selectors: both types with anomaly detection on, none (unset) off."""
    if not stack.anomaly_detection_enabled:
        return None
    return [{"insight_type": insight} for insight in INSIGHT_TYPES]


def platform_tags(stack: StackConfig) -> dict[str, str]:
    """Billing tags of the foundation: the platform pays for what every team shares."""
    return {
        "team": PLATFORM_TEAM,
        "cost-center": stack.platform_cost_center,
        "environment": stack.environment,
        "data-classification": "restricted",  # audit records and access logs
        "managed-by": MANAGED_BY,
        "spec": stack_file_name(stack.stack),
    }


def platform_name(stack: StackConfig, purpose: str) -> str:
    """``<org>-mlplatform-<stack>-<purpose>-<account>``: a foundation bucket, never a team's name.

    Globally unique like every bucket name (:func:`mlplatform.naming.bucket_name`). Named
    after the stack, not the environment, so shard stacks of one environment
    (``mlplatform:teams``) never claim the same names."""
    return bucket_name(stack, "mlplatform", stack.stack, purpose)


def data_event_selectors(artifact_buckets: list[str]) -> list[dict]:
    """Advanced event selectors: management events, every write to an artifact bucket, and
    every read under its ``models/`` prefix (model download is what the bucket policy restricts).

    A trail's selectors hold at most :data:`MAX_SELECTOR_VALUES` values; past that, every S3
    object event is audited instead, never fewer than asked for.
    """
    buckets = sorted(set(artifact_buckets))
    selectors: list[dict] = [
        {"name": "Management events", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]},
    ]
    if not buckets:
        return selectors
    if 2 * len(buckets) + 8 > MAX_SELECTOR_VALUES:
        # Too many buckets to name: audit every S3 object event of the account instead (a
        # superset, at a higher CloudTrail cost). Sharding the stack (mlplatform:teams) avoids it.
        selectors.append({
            "name": "All S3 object events",
            "field_selectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
            ],
        })
        return selectors
    selectors += [
        {
            "name": "Artifact object writes",
            "field_selectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                {"field": "readOnly", "equals": ["false"]},
                {"field": "resources.ARN", "starts_withs": [f"arn:aws:s3:::{b}/" for b in buckets]},
            ],
        },
        {
            "name": "Model downloads",
            "field_selectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                {"field": "readOnly", "equals": ["true"]},
                {"field": "resources.ARN", "starts_withs": [f"arn:aws:s3:::{b}/models/" for b in buckets]},
            ],
        },
    ]
    return selectors


@dataclass(frozen=True, kw_only=True)
class FoundationArgs:
    #: the stack (account, region, partner region, protection)
    stack: StackConfig
    #: physical names of every team's artifact bucket in the stack (audited, may log)
    artifact_buckets: list[str]
    #: physical names of the replica buckets in the partner region (may log there); default none
    replica_buckets: tuple[str, ...] = ()
    #: physical names of other team buckets that deliver access logs here (log-forwarding
    #: backups); default none
    logged_buckets: tuple[str, ...] = ()


class Foundation(SpecComponent):
    """The stack's shared audit and logging estate; teams read :attr:`access_log_bucket_name`
    (and :attr:`replica_access_log_bucket_name` for replicas) from it."""

    def __init__(self, name: str, args: FoundationArgs, opts: Optional[pulumi.ResourceOptions] = None):
        stack = self.stack = args.stack
        super().__init__(FOUNDATION, name, {"file": stack_file_name(stack.stack), "line": 1}, opts)
        self._prefix = name
        self.tags = platform_tags(stack)
        self.provider = aws.Provider(
            f"{name}-aws",
            region=stack.region,
            allowed_account_ids=[stack.account_id],
            default_tags={"tags": self.tags},
            opts=self.child(),
        )
        self.artifact_buckets = sorted(set(args.artifact_buckets))
        #: other team buckets that log to the access-log bucket (log-forwarding backups)
        self.logged_buckets = sorted(set(args.logged_buckets))
        self.replica_buckets = sorted(set(args.replica_buckets))
        self.account_root = f"arn:aws:iam::{stack.account_id}:root"
        self.trail_name = physical_name("mlplatform", stack.stack, "audit", max_length=128)
        self.trail_arn = f"arn:aws:cloudtrail:{stack.region}:{stack.account_id}:trail/{self.trail_name}"

        self.key = self._platform_key()
        self.access_log_bucket_name = platform_name(stack, "access-logs")
        self.access_log_bucket = self._access_log_bucket(
            f"{name}-access-logs", self.access_log_bucket_name, self.provider, stack.region)
        self.replica_access_log_bucket_name: Optional[str] = None
        self.replica_access_log_bucket: Optional[aws.s3.Bucket] = None
        if stack.replication and stack.partner_region:
            self.partner_provider = aws.Provider(
                f"{name}-partner-aws",
                region=stack.partner_region,
                allowed_account_ids=[stack.account_id],
                default_tags={"tags": self.tags},
                opts=self.child(),
            )
            self.replica_access_log_bucket_name = platform_name(stack, f"access-logs-{stack.partner_region}")
            self.replica_access_log_bucket = self._access_log_bucket(
                f"{name}-partner-access-logs", self.replica_access_log_bucket_name,
                self.partner_provider, stack.partner_region)
        self.trail_bucket_name = platform_name(stack, "cloudtrail")
        self.trail = self._trail()
        self.register_outputs({
            "accessLogBucket": self.access_log_bucket_name,
            "trailArn": self.trail_arn,
            "keyArn": self.key.arn,
        })

    # ------------------------------------------------------------------ pieces

    def _opts(self, stateful: bool = False, provider: Optional[aws.Provider] = None, **kwargs) -> pulumi.ResourceOptions:
        protect = stateful and self.stack.protect_stateful
        return pulumi.ResourceOptions(parent=self, provider=provider or self.provider,
                                      protect=protect, retain_on_delete=protect, **kwargs)

    def _platform_key(self) -> aws.kms.Key:
        stack = self.stack
        log_group_arn = f"arn:aws:logs:{stack.region}:{stack.account_id}:log-group:/mlplatform/{stack.stack}/cloudtrail"
        trail_source = {"aws:SourceArn": self.trail_arn}
        policy = (
            KeyPolicy(stack.account_id, administrator_arn=stack.platform_role_arn)
            .grant_to_service("CloudTrailEncryptsLogs", ["kms:GenerateDataKey*"], "cloudtrail.amazonaws.com",
                              conditions={"StringEquals": trail_source,
                                          "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                                         f"arn:aws:cloudtrail:*:{stack.account_id}:trail/*"}})
            .grant_to_service("CloudTrailPublishesToEncryptedTopic", ["kms:Decrypt", "kms:GenerateDataKey*"],
                              "cloudtrail.amazonaws.com",
                              conditions=via_service("sns", stack.region, also_equal=trail_source))
            .grant_to_service("CloudTrailDescribesKey", ["kms:DescribeKey"], "cloudtrail.amazonaws.com",
                              conditions={"StringEquals": trail_source})
            .grant_cloudwatch_logs("CloudWatchLogsEncryptsTrailLogGroup", stack.region, log_group_arn)
            .grant("AuditorsReadTrailLogs", ["kms:Decrypt"], stack.platform_role_arn,
                   conditions={"Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}})
        )
        if stack.anomaly_detection_enabled:
            policy = policy.grant_publishers("SecurityTopicPublishers", *SECURITY_PUBLISHERS)
        return ManagedKey(
            f"{self._prefix}-key",
            ManagedKeyArgs(description=f"Platform audit key of stack {stack.stack}", policy=policy,
                           alias=f"alias/mlplatform-{stack.stack}-platform",
                           deletion_window_in_days=stack.defaults.key_deletion_window_days),
            self._opts(stateful=True),
        ).key

    def _private_bucket(self, name: str, bucket: str, provider: aws.Provider, kms_key_arn: Optional[pulumi.Input[str]],
                        retention_days: int, statements: list[Statement], log_to: Optional[str]) -> SecureBucket:
        """A :class:`SecureBucket` that keeps records for ``retention_days``, with ``statements``
        in its policy after the TLS-only deny."""
        return SecureBucket(name, SecureBucketArgs(
            bucket_name=bucket, kms_key_arn=kms_key_arn, lifecycle_rules=retention_rules(retention_days, self.stack.defaults),
            policy_statements=statements, access_log_bucket=log_to, logging_suffix="-logging",
        ), self._opts(stateful=True, provider=provider))

    def _access_log_bucket(self, name: str, bucket: str, provider: aws.Provider, region: str) -> aws.s3.Bucket:
        if region == self.stack.region:
            sources = [*self.artifact_buckets, *self.logged_buckets, platform_name(self.stack, "cloudtrail")]
        else:
            sources = list(self.replica_buckets)
        statements = []
        if sources:
            conditions = from_source_account(self.stack.account_id)
            if len(sources) <= MAX_NAMED_LOG_SOURCES:  # beyond, the 20 KB policy limit nears: account only
                conditions["ArnLike"] = {"aws:SourceArn": sorted(f"arn:aws:s3:::{b}" for b in sources)}
            statements.append(allow(
                "s3:PutObject", f"{bucket_arn(bucket)}/s3/*", sid="S3ServerAccessLogsDelivery",
                principal=Principal.service("logging.s3.amazonaws.com"), conditions=conditions,
            ))
        # SSE-S3: S3 server access log delivery does not support SSE-KMS destination buckets
        return self._private_bucket(name, bucket, provider, None, self.stack.access_log_retention_days,
                                    statements, log_to=None).bucket

    def _trail(self) -> aws.cloudtrail.Trail:
        stack, name = self.stack, self._prefix
        arn = f"arn:aws:s3:::{self.trail_bucket_name}"
        source = {"StringEquals": {"aws:SourceArn": self.trail_arn}}
        statements = [
            allow("s3:GetBucketAcl", arn, sid="CloudTrailAclCheck",
                  principal=Principal.service("cloudtrail.amazonaws.com"), conditions=source),
            allow("s3:PutObject", f"{arn}/AWSLogs/{stack.account_id}/*", sid="CloudTrailWrite",
                  principal=Principal.service("cloudtrail.amazonaws.com"),
                  conditions={"StringEquals": {"aws:SourceArn": self.trail_arn,
                                               "s3:x-amz-acl": "bucket-owner-full-control"}}),
        ]
        trail_bucket = self._private_bucket(f"{name}-trail-bucket", self.trail_bucket_name, self.provider, self.key.arn,
                                            stack.audit_log_retention_days, statements,
                                            log_to=self.access_log_bucket_name)
        bucket, bucket_policy = trail_bucket.bucket, trail_bucket.policy
        log_group_name = self.trail_log_group_name = f"/mlplatform/{stack.stack}/cloudtrail"
        log_group = self.trail_log_group = aws.cloudwatch.LogGroup(
            f"{name}-trail-logs", name=log_group_name, retention_in_days=_log_retention(stack.audit_log_retention_days),
            kms_key_id=self.key.arn, opts=self._opts(stateful=True),
        )
        role_name = physical_name("mlplatform", stack.stack, "cloudtrail-logs", max_length=64)
        role = service_role(f"{name}-trail-logs-role", ServiceRoleArgs(
            name=role_name, description=f"CloudTrail delivery to CloudWatch Logs (stack {stack.stack})",
            trusts=(ServiceTrust(service="cloudtrail.amazonaws.com"),), stack=stack), self._opts())
        # CloudTrail User Guide, "Role policy document for CloudTrail to use CloudWatch Logs for monitoring"
        policy_resource = grant_to_role(
            f"{name}-trail-logs-delivery", role.name,
            [LogGroupAccess(stack.region, stack.account_id, log_group_name).grant_write(streams="log-stream:*")],
            self._opts())
        # CloudTrail announces every delivered log file: consumers (SIEM ingestion) learn of new files
        topic_name = physical_name("mlplatform", stack.stack, "audit-deliveries", max_length=256)
        topic_arn = f"arn:aws:sns:{stack.region}:{stack.account_id}:{topic_name}"
        topic = aws.sns.Topic(f"{name}-trail-topic", name=topic_name, kms_master_key_id=self.key.arn, opts=self._opts())
        aws.sns.TopicPolicy(f"{name}-trail-topic-policy", arn=topic.arn, policy=topic_policy(
            topic_arn, grant_publish_to_services(topic_arn, "CloudTrailPublishes", "cloudtrail.amazonaws.com",
                                                 conditions=source)), opts=self._opts())
        return aws.cloudtrail.Trail(
            f"{name}-trail",
            name=self.trail_name,
            s3_bucket_name=bucket.bucket,
            sns_topic_name=topic.name,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=self.key.arn,
            # from the log group resource, so the plan records the link (checkov CKV2_AWS_10 follows it)
            cloud_watch_logs_group_arn=log_group.name.apply(
                lambda group: f"arn:aws:logs:{stack.region}:{stack.account_id}:log-group:{group}:*"),
            cloud_watch_logs_role_arn=f"arn:aws:iam::{stack.account_id}:role/{role_name}",
            advanced_event_selectors=data_event_selectors(self.artifact_buckets),
            insight_selectors=insight_selectors(stack),
            opts=self._opts(stateful=True, depends_on=[log_group, policy_resource, bucket_policy, topic]),
        )


#: Retention values CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)


def _log_retention(days: int) -> int:
    """The smallest retention CloudWatch Logs accepts that keeps logs at least ``days``."""
    return next(value for value in LOG_RETENTION_DAYS if value >= days)
