"""LogForwarding: the team's log groups streamed to Splunk HEC or Datadog via Firehose.

Optional per stack (``mlplatform:logForwarding``). CloudWatch Logs subscription filters
send every event of the team's log groups to a Kinesis Data Firehose stream, which
decompresses the CloudWatch envelopes, extracts the log messages and delivers them to
the Splunk HEC endpoint (``splunk``) or the Datadog HTTP intake (``datadog``). The HEC
token / API key stays in Secrets Manager: Firehose reads it with its own role, so no
credential passes through stack config or state. Records that cannot be delivered are
kept, encrypted, in a private backup bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import bucket_name, physical_name, role_name
from mlplatform.stackconfig import LogForwarding as LogForwardingConfig
from mlplatform.stackconfig import StackConfig
from mlplatform.type_tokens import LOG_FORWARDING

from .base import SpecComponent, TeamContext
from .grants import DeliveryStreamAccess, SecretAccess
from .managed_key import KeyAccess
from .secure_bucket import SecureBucket, SecureBucketArgs, retention_rules
from .service_role import ServiceRoleArgs, ServiceTrust, grant_to_role, service_role

#: Firehose's own processors for CloudWatch Logs input: gunzip, then one record per log event.
CLOUDWATCH_LOG_PROCESSING = {"enabled": True, "processors": [
    {"type": "Decompression", "parameters": [{"parameter_name": "CompressionFormat", "parameter_value": "GZIP"}]},
    {"type": "CloudWatchLogProcessing", "parameters": [{"parameter_name": "DataMessageExtraction", "parameter_value": "true"}]},
]}


@dataclass(frozen=True, kw_only=True)
class LogForwardingArgs:
    #: the team and stack
    context: TeamContext
    #: the stack's ``mlplatform:logForwarding`` (destination, format)
    config: LogForwardingConfig
    #: component key -> log group resource (subscription filters depend on them)
    log_groups: dict[str, aws.cloudwatch.LogGroup]
    #: component key -> log group name (the same keys as ``log_groups``)
    log_group_names: dict[str, str]
    #: the team's alert key, which encrypts the stream and the backup bucket
    key_arn: pulumi.Input[str]
    #: alias of that key (``alias/...``)
    key_alias: str
    #: days the backup bucket keeps forwarded records (the team's log retention)
    backup_retention_days: int
    #: the stack's server-access-log bucket, when the stack has a foundation; default None
    log_bucket: Optional[pulumi.Input[str]] = None


def forwarding_backup_bucket(stack: StackConfig, team: str) -> str:
    """Physical name of a team's failed-delivery backup bucket (the foundation names it too)."""
    return bucket_name(stack, team, stack.environment, "log-delivery-failures")


class LogForwarding(SpecComponent):
    """Firehose stream (KMS), failed-delivery backup bucket, roles and subscription filters."""

    def __init__(self, name: str, args: LogForwardingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, config = args.context, args.config
        super().__init__(LOG_FORWARDING, name, ctx.locator.at("metadata", "team"), opts)
        region, account = ctx.stack.region, ctx.account_id
        self.stream_name = physical_name(ctx.team, ctx.environment, "logs", config.destination, max_length=64)
        stream_arn = f"arn:aws:firehose:{region}:{account}:deliverystream/{self.stream_name}"
        self.backup_bucket = forwarding_backup_bucket(ctx.stack, ctx.team)
        backup_arn = f"arn:aws:s3:::{self.backup_bucket}"
        alert_key = KeyAccess(args.key_alias, region, account)

        backup = SecureBucket(f"{name}-backup", SecureBucketArgs(
            bucket_name=self.backup_bucket, kms_key_arn=args.key_arn,
            lifecycle_rules=retention_rules(args.backup_retention_days, ctx.stack.defaults), access_log_bucket=args.log_bucket,
        ), ctx.stateful(parent=self))
        bucket = backup.bucket

        firehose_role = role_name(ctx.team, ctx.environment, "log-forwarding")
        role = service_role(f"{name}-firehose-role", ServiceRoleArgs(
            name=firehose_role, description=f"Firehose log forwarding of team {ctx.team}",
            trusts=(ServiceTrust(service="firehose.amazonaws.com"),), stack=ctx.stack), self.child())
        grant_to_role(f"{name}-firehose-policy", role.name, [
            *backup.grant_firehose_delivery(),
            alert_key.grant_encrypt_decrypt(),
            SecretAccess(config.secret_arn).grant_read(),
        ], self.child())
        role_arn = f"arn:aws:iam::{account}:role/{firehose_role}"
        s3_backup = {"role_arn": role_arn, "bucket_arn": backup_arn, "kms_key_arn": args.key_arn,
                     "prefix": f"{config.destination}/", "error_output_prefix": f"{config.destination}-errors/",
                     "compression_format": "GZIP", "buffering_interval": 300}
        secret = {"enabled": True, "secret_arn": config.secret_arn, "role_arn": role_arn}
        # how long Firehose buffers and retries: the stack's logForwardingBufferSeconds / RetrySeconds
        buffer_seconds = ctx.stack.defaults.log_forwarding_buffer_seconds
        retry_seconds = ctx.stack.defaults.log_forwarding_retry_seconds
        destination: dict = {}
        if config.destination == "splunk":
            destination = {"destination": "splunk", "splunk_configuration": {
                "hec_endpoint": config.url, "hec_endpoint_type": "Event", "secrets_manager_configuration": secret,
                "s3_backup_mode": "FailedEventsOnly", "s3_configuration": s3_backup, "retry_duration": retry_seconds,
                "buffering_interval": buffer_seconds, "processing_configuration": CLOUDWATCH_LOG_PROCESSING,
            }}
        else:
            destination = {"destination": "http_endpoint", "http_endpoint_configuration": {
                "url": config.url, "name": "Datadog", "role_arn": role_arn, "secrets_manager_configuration": secret,
                "s3_backup_mode": "FailedDataOnly", "s3_configuration": s3_backup, "retry_duration": retry_seconds,
                "buffering_interval": buffer_seconds, "request_configuration": {"content_encoding": "GZIP"},
                "processing_configuration": CLOUDWATCH_LOG_PROCESSING,
            }}
        self.stream = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-stream", name=self.stream_name,
            server_side_encryption={"enabled": True, "key_type": "CUSTOMER_MANAGED_CMK", "key_arn": args.key_arn},
            opts=self.child(depends_on=[role, bucket]), **destination,
        )

        logs_role = role_name(ctx.team, ctx.environment, "logs-to-firehose")
        source = service_role(f"{name}-logs-role", ServiceRoleArgs(
            name=logs_role, description=f"CloudWatch Logs subscriptions of team {ctx.team}",
            trusts=(ServiceTrust(service=f"logs.{region}.amazonaws.com", source_arn=f"arn:aws:logs:{region}:{account}:*"),),
            stack=ctx.stack), self.child())
        grant_to_role(f"{name}-logs-policy", source.name, [DeliveryStreamAccess(stream_arn).grant_put_records()],
                      self.child())
        for key, group in args.log_groups.items():
            aws.cloudwatch.LogSubscriptionFilter(
                f"{name}-{key}", name=f"{self.stream_name}", log_group=args.log_group_names[key], filter_pattern="",
                destination_arn=stream_arn, role_arn=f"arn:aws:iam::{account}:role/{logs_role}",
                opts=self.child(depends_on=[group, self.stream, source]),
            )
        self.register_outputs({"streamName": self.stream_name, "backupBucket": self.backup_bucket,
                               "destination": config.destination})
