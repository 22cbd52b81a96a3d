"""MLP-FLOW-CLOUDTRAIL and MLP-FLOW-ACCESS-LOGS: CloudTrail delivers log files to its bucket
(and key), announces them on its topic and writes its CloudWatch log group; S3 server
access logs reach their target bucket.
"""

from __future__ import annotations

from typing import Iterator

from mlplatform.graph import GraphResource
from mlplatform.type_tokens import CLOUDTRAIL_TRAIL, CLOUDWATCH_LOG_GROUP, S3_BUCKET, S3_BUCKET_LOGGING, SNS_TOPIC

from ..declarations import Flow
from ..estate import Estate, Unresolved, known
from .steps import Actor, guard, kms_steps, publish_steps, s3_arn, s3_steps, trust_step


# ---------------------------------------------------------------- MLP-FLOW-CLOUDTRAIL

def cloudtrail_flows(estate: Estate) -> Iterator[Flow]:
    for trail in estate.of_type(CLOUDTRAIL_TRAIL):
        name = trail.inputs.get("name")
        region = estate.region_of(trail)
        trail_arn = f"arn:aws:cloudtrail:{region}:{estate.account}:trail/{name}"
        actor = Actor.of_service(estate, "cloudtrail.amazonaws.com", trail_arn)

        delivery = Flow("MLP-FLOW-CLOUDTRAIL", f"trail {name} delivers log files to its bucket", trail)
        guard(delivery, lambda: _trail_bucket_steps(estate, delivery, trail, trail_arn, actor, region))
        yield delivery

        if trail.inputs.get("snsTopicName") is not None:
            topic_flow = Flow("MLP-FLOW-CLOUDTRAIL", f"trail {name} announces deliveries on its topic", trail)
            guard(topic_flow, lambda: publish_steps(estate, topic_flow, actor, _topic_of_trail(estate, trail)))
            yield topic_flow

        if trail.inputs.get("cloudWatchLogsRoleArn") is not None:
            logs = Flow("MLP-FLOW-CLOUDTRAIL", f"trail {name} writes its CloudWatch log group", trail)
            guard(logs, lambda: _trail_logs_steps(estate, logs, trail, trail_arn))
            yield logs


def _trail_bucket_steps(estate, flow, trail, trail_arn, actor, region) -> None:
    bucket = estate.name_via(trail, "s3BucketName", S3_BUCKET, "bucket")
    prefix = trail.inputs.get("s3KeyPrefix")
    base = f"{prefix}/" if prefix else ""
    sample = f"{base}AWSLogs/{estate.account}/CloudTrail/{region}/2026/01/01/{estate.account}_CloudTrail_{region}.json.gz"
    flow.steps.extend(s3_steps(estate, actor, bucket, ("s3:GetBucketAcl",), None))
    flow.steps.extend(s3_steps(estate, actor, bucket, ("s3:PutObject",), sample,
                               {"s3:x-amz-acl": "bucket-owner-full-control"}))
    if trail.inputs.get("kmsKeyId") is not None:
        key = estate.key_for(trail, "kmsKeyId", trail.inputs.get("kmsKeyId"))
        flow.steps.extend(kms_steps(estate, actor, key, ("kms:GenerateDataKey",),
                                    {"aws:cloudtrail:arn": trail_arn}))
        flow.steps.extend(kms_steps(estate, actor, key, ("kms:DescribeKey",)))


def _topic_of_trail(estate: Estate, trail: GraphResource) -> str:
    name = estate.name_via(trail, "snsTopicName", SNS_TOPIC, "name")
    return f"arn:aws:sns:{estate.region_of(trail)}:{estate.account}:{name}"


def _trail_logs_steps(estate, flow, trail, trail_arn) -> None:
    role = estate.role(trail.inputs.get("cloudWatchLogsRoleArn"))
    flow.steps.append(trust_step(estate, role, "cloudtrail.amazonaws.com", trail_arn))
    group_arn = trail.inputs.get("cloudWatchLogsGroupArn")
    groups = estate.deps(trail, "cloudWatchLogsGroupArn", CLOUDWATCH_LOG_GROUP)
    if not known(group_arn):
        if len(groups) != 1 or not known(groups[0].inputs.get("name")):
            raise Unresolved("the trail's log group is unknown in this plan")
        group_arn = f"arn:aws:logs:{estate.region_of(trail)}:{estate.account}:log-group:{groups[0].inputs['name']}:*"
    group = group_arn[:-2] if group_arn.endswith(":*") else group_arn
    region = estate.region_of(trail)
    stream = f"{group}:log-stream:{estate.account}_CloudTrail_{region}"
    actor = Actor.of_role(role)
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        flow.steps.append(actor.step(f"{action} on {stream}", action, stream, complete=("aws:resourcetag/",)))
    if groups and groups[0].inputs.get("kmsKeyId") is not None:
        key = estate.key_for(groups[0], "kmsKeyId", groups[0].inputs.get("kmsKeyId"))
        logs = Actor.of_service(estate, f"logs.{region}.amazonaws.com", None)
        flow.steps.extend(kms_steps(estate, logs, key, ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey",
                                                         "kms:DescribeKey"),
                                    {"aws:logs:arn": group}, label="CloudWatch Logs encrypts the group: "))


# ---------------------------------------------------------------- MLP-FLOW-ACCESS-LOGS

def access_log_flows(estate: Estate) -> Iterator[Flow]:
    for logging in estate.of_type(S3_BUCKET_LOGGING):
        flow = Flow("MLP-FLOW-ACCESS-LOGS", f"access logs of {logging.inputs.get('bucket')} reach "
                    f"{logging.inputs.get('targetBucket')}", logging)
        guard(flow, lambda: _access_log_steps(estate, flow, logging))
        yield flow


def _access_log_steps(estate: Estate, flow: Flow, logging: GraphResource) -> None:
    source = estate.name_via(logging, "bucket", S3_BUCKET, "bucket")
    target = estate.name_via(logging, "targetBucket", S3_BUCKET, "bucket")
    source_region, target_region = estate.region_of(estate.bucket(source)), estate.region_of(estate.bucket(target))
    if source_region != target_region:
        flow.problems.append(f"target bucket {target} is in {target_region}, source {source} in {source_region}: "
                             f"S3 delivers access logs only within a region")
    algorithm, _, _ = estate.bucket_encryption(target)
    if algorithm.startswith("aws:kms"):
        flow.problems.append(f"target bucket {target} is encrypted with {algorithm}: S3 server access log delivery "
                             f"supports only SSE-S3 (AES256) targets")
    sample = f"{logging.inputs.get('targetPrefix') or ''}{estate.account}/{source_region}/{source}/2026/01/01/log"
    actor = Actor.of_service(estate, "logging.s3.amazonaws.com", s3_arn(source))
    flow.steps.extend(s3_steps(estate, actor, target, ("s3:PutObject",), sample))
