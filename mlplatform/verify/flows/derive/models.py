"""MLP-FLOW-MODELS: training writes a model artifact under the bucket's key and the serving
role of every model of the plan reads it from the same location.
"""

from __future__ import annotations

from typing import Iterator

from mlplatform.graph import GraphResource
from mlplatform.naming import role_name
from mlplatform.type_tokens import SAGEMAKER_MODEL

from ..declarations import Flow
from ..estate import Estate, parse_s3_uri
from .steps import Actor, guard, kms_steps, s3_key_context, s3_steps, sse_headers


def model_flows(estate: Estate) -> Iterator[Flow]:
    for model in estate.of_type(SAGEMAKER_MODEL):
        containers = [model.inputs.get("primaryContainer")] + list(model.inputs.get("containers") or [])
        for container in filter(None, containers):
            uri, is_prefix = container.get("modelDataUrl"), False
            source = (container.get("modelDataSource") or {}).get("s3DataSources") or []
            if source:
                uri, is_prefix = source[0].get("s3Uri"), source[0].get("s3DataType") == "S3Prefix"
            if uri is None:
                continue  # a model package or an image-only container: no artifact to read
            flow = Flow("MLP-FLOW-MODELS", f"model {model.name} serves the artifact training writes", model)
            parsed = guard(flow, lambda: parse_s3_uri(uri))
            if parsed is not None:
                _model_steps(estate, flow, model, parsed[0], parsed[1], is_prefix)
            yield flow


def _model_steps(estate: Estate, flow: Flow, model: GraphResource, bucket: str, path: str, is_prefix: bool) -> None:
    sample = f"{path}model.tar.gz" if is_prefix else path
    team = estate.team_of(model)
    _, key, _ = estate.bucket_encryption(bucket)
    if key is None:
        flow.unproven.append(f"bucket {bucket} is not encrypted with a key of this plan")
        return
    context = s3_key_context(estate, bucket, sample)
    training = guard(flow, lambda: estate.role_named(role_name(team or "", estate.stack.environment, "training")))
    if training is not None:
        writer = Actor.of_role(training)
        flow.locations.append(("training writes", f"s3://{bucket}/{path}", "serving reads", f"s3://{bucket}/{path}"))
        # a training job whose output names the team key uploads with SSE-KMS headers (the
        # artifact bucket's policy denies any other upload)
        guard(flow, lambda: flow.steps.extend(s3_steps(estate, writer, bucket, ("s3:PutObject",), sample,
                                                        sse_headers(estate, key), label="training writes: ")))
        guard(flow, lambda: flow.steps.extend(kms_steps(estate, writer, key, ("kms:GenerateDataKey",), context, "s3",
                                                         label="training encrypts: ")))
    serving = guard(flow, lambda: estate.role(model.inputs.get("executionRoleArn")))
    if serving is not None:
        reader = Actor.of_role(serving)
        actions = ("s3:ListBucket", "s3:GetObject") if is_prefix else ("s3:GetObject",)
        guard(flow, lambda: flow.steps.extend(s3_steps(estate, reader, bucket, actions, sample, list_prefix=path,
                                                        label="serving reads: ")))
        guard(flow, lambda: flow.steps.extend(kms_steps(estate, reader, key, ("kms:Decrypt",), context, "s3",
                                                         label="serving decrypts: ")))
