"""MLP-FLOW-FIREHOSE-BACKUP: a Firehose delivery stream writes its S3 backup bucket (and
its key) through the role it assumes.
"""

from __future__ import annotations

from typing import Iterator

from mlplatform.graph import GraphResource
from mlplatform.type_tokens import KINESIS_FIREHOSE_DELIVERY_STREAM

from ..declarations import SAMPLE_HOUR, Flow
from ..estate import Estate, Unresolved, known
from .steps import Actor, guard, kms_steps, s3_key_context, s3_steps, sse_headers, trust_step


def firehose_flows(estate: Estate) -> Iterator[Flow]:
    for stream in estate.of_type(KINESIS_FIREHOSE_DELIVERY_STREAM):
        flow = Flow("MLP-FLOW-FIREHOSE-BACKUP", f"delivery stream {stream.inputs.get('name')} writes its backup bucket",
                    stream)
        block_name = next((n for n in ("splunkConfiguration", "httpEndpointConfiguration", "extendedS3Configuration",
                                       "elasticsearchConfiguration", "opensearchConfiguration", "redshiftConfiguration")
                           if isinstance(stream.inputs.get(n), dict)), None)
        if block_name is None:
            flow.unproven.append("the stream's destination has no S3 configuration the checker knows")
            yield flow
            continue
        block = stream.inputs[block_name]
        s3 = block if block_name == "extendedS3Configuration" else (block.get("s3Configuration") or {})
        guard(flow, lambda: _firehose_steps(estate, flow, stream, block_name, s3))
        yield flow


def _firehose_steps(estate: Estate, flow: Flow, stream: GraphResource, block_name: str, s3: dict) -> None:
    bucket_arn = s3.get("bucketArn")
    if not known(bucket_arn):
        raise Unresolved("the backup bucket ARN is unknown in this plan")
    bucket = bucket_arn.split(":::", 1)[-1]
    estate.bucket(bucket)
    role = estate.role(s3.get("roleArn"))
    prefix = s3.get("prefix") or ""
    sample = f"{prefix}{SAMPLE_HOUR}failed-record.gz"
    stream_arn = f"arn:aws:firehose:{estate.region_of(stream)}:{estate.account}:deliverystream/{stream.inputs.get('name')}"
    flow.steps.append(trust_step(estate, role, "firehose.amazonaws.com", stream_arn,
                                 {"sts:ExternalId": estate.account}))
    actor = Actor.of_role(role)
    key = None
    if known(s3.get("kmsKeyArn")) or s3.get("kmsKeyArn") is not None:
        key = estate.key_for(stream, block_name, s3.get("kmsKeyArn"))
    headers = sse_headers(estate, key) if key is not None else {}
    flow.steps.extend(s3_steps(estate, actor, bucket, ("s3:PutObject", "s3:AbortMultipartUpload"), sample, headers))
    flow.steps.extend(s3_steps(estate, actor, bucket, ("s3:GetBucketLocation", "s3:ListBucketMultipartUploads"), None))
    flow.steps.extend(s3_steps(estate, actor, bucket, ("s3:ListBucket",), None, list_prefix=prefix))
    if key is None:
        _, key, _ = estate.bucket_encryption(bucket)
    if key is not None:
        flow.steps.extend(kms_steps(estate, actor, key, ("kms:GenerateDataKey", "kms:Decrypt"),
                                    s3_key_context(estate, bucket, sample), "s3"))
