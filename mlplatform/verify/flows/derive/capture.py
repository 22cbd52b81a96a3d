"""MLP-FLOW-CAPTURE: an endpoint writes its data capture where its configuration says, and
the drift Lambda and Model Monitor list and read exactly there, under the capture key.
"""

from __future__ import annotations

from typing import Iterator

from mlplatform.graph import GraphResource
from mlplatform.type_tokens import (
    LAMBDA_FUNCTION, SAGEMAKER_DATA_QUALITY_JOB_DEFINITION, SAGEMAKER_ENDPOINT, SAGEMAKER_ENDPOINT_CONFIGURATION,
    SAGEMAKER_MODEL)

from ..declarations import SAMPLE_HOUR, Flow
from ..estate import Estate, Unresolved, known, parse_s3_uri
from .steps import Actor, guard, kms_steps, s3_key_context, s3_steps, sse_headers, trust_step


def capture_flows(estate: Estate) -> Iterator[Flow]:
    for config in estate.of_type(SAGEMAKER_ENDPOINT_CONFIGURATION):
        capture = config.inputs.get("dataCaptureConfig")
        if not isinstance(capture, dict) or capture.get("enableCapture") is False:
            continue
        writer = Flow("MLP-FLOW-CAPTURE", f"endpoint configuration {config.name} writes data capture", config)
        context = guard(writer, lambda: _capture_context(estate, config, capture))
        if context is None:
            yield writer
            continue
        endpoint_name, bucket, prefix, variants, key, serving = context
        objects = {v: f"{prefix}{endpoint_name}/{v}/" for v in variants}
        sample = {v: f"{location}{SAMPLE_HOUR}capture.jsonl" for v, location in objects.items()}
        actor = Actor.of_role(serving)
        for variant in variants:
            guard(writer, lambda: writer.steps.extend(
                s3_steps(estate, actor, bucket, ("s3:PutObject",), sample[variant], sse_headers(estate, key))))
        guard(writer, lambda: writer.steps.extend(kms_steps(
            estate, actor, key, ("kms:GenerateDataKey",), s3_key_context(estate, bucket, sample[variants[0]]), "s3")))
        guard(writer, lambda: writer.steps.append(trust_step(estate, serving, "sagemaker.amazonaws.com", None)))
        yield writer

        for function in estate.of_type(LAMBDA_FUNCTION):
            env = ((function.inputs.get("environment") or {}).get("variables") or {})
            if env.get("DRIFT_ENDPOINT") != endpoint_name:
                continue
            yield _drift_lambda_flow(estate, function, env, endpoint_name, bucket, objects, sample, key)
        for job in estate.of_type(SAGEMAKER_DATA_QUALITY_JOB_DEFINITION):
            endpoint_input = ((job.inputs.get("dataQualityJobInput") or {}).get("endpointInput") or {})
            if endpoint_input.get("endpointName") != endpoint_name:
                continue
            yield _model_monitor_flow(estate, job, endpoint_name, bucket, objects, sample, key)


def _capture_context(estate: Estate, config: GraphResource, capture: dict):
    bucket, prefix = parse_s3_uri(capture.get("destinationS3Uri"))
    prefix = prefix if prefix.endswith("/") or not prefix else prefix + "/"
    endpoints = estate.dependents(config.urn, SAGEMAKER_ENDPOINT, "endpointConfigName")
    if len(endpoints) != 1 or not known(endpoints[0].inputs.get("name")):
        raise Unresolved(f"no endpoint with a known name uses {config.name}")
    endpoint_name = endpoints[0].inputs["name"]
    variants = [v.get("variantName") for v in (config.inputs.get("productionVariants") or [])
                + (config.inputs.get("shadowProductionVariants") or [])]
    if not variants or not all(isinstance(v, str) and known(v) for v in variants):
        raise Unresolved(f"{config.name}: variant names are unknown")
    if "kmsKeyId" in capture:
        key = estate.key_for(config, "dataCaptureConfig", capture.get("kmsKeyId"))
    else:
        _, key, _ = estate.bucket_encryption(bucket)
        if key is None:
            raise Unresolved(f"{config.name}: capture is not encrypted with a key of this plan")
    models = estate.deps(config, "productionVariants", SAGEMAKER_MODEL)
    if not models:
        raise Unresolved(f"{config.name}: its model is not in this plan")
    serving = estate.role(models[0].inputs.get("executionRoleArn"))
    return endpoint_name, bucket, prefix, variants, key, serving


def _drift_lambda_flow(estate, function, env, endpoint_name, bucket, objects, sample, key) -> Flow:
    flow = Flow("MLP-FLOW-CAPTURE", f"drift Lambda {function.inputs.get('name')} reads the capture of "
                f"{endpoint_name}", function)
    reader_bucket, reader_prefix = env.get("DRIFT_BUCKET"), env.get("DRIFT_CAPTURE_PREFIX", "")
    read_variants = [v.strip() for v in env.get("DRIFT_VARIANTS", "").split(",") if v.strip()] or list(objects)
    for variant in read_variants:
        writer_location = f"s3://{bucket}/{objects[variant]}" if variant in objects else "(no such variant)"
        flow.locations.append((f"endpoint {endpoint_name} variant {variant} writes", writer_location,
                               "drift Lambda reads", f"s3://{reader_bucket}/{reader_prefix}{variant}/"))
    role = guard(flow, lambda: estate.role(function.inputs.get("role")))
    if role is None:
        return flow
    actor = Actor.of_role(role)
    for variant in read_variants:
        if variant not in sample:
            continue
        guard(flow, lambda: flow.steps.extend(s3_steps(
            estate, actor, bucket, ("s3:ListBucket",), None, list_prefix=reader_prefix, label="list the capture: ")))
        guard(flow, lambda: flow.steps.extend(s3_steps(
            estate, actor, bucket, ("s3:GetObject",), sample[variant], label="read the capture: ")))
    first = sample[read_variants[0]] if read_variants and read_variants[0] in sample else next(iter(sample.values()))
    guard(flow, lambda: flow.steps.extend(kms_steps(
        estate, actor, key, ("kms:Decrypt",), s3_key_context(estate, bucket, first), "s3")))
    function_arn = f"arn:aws:lambda:{estate.region_of(function)}:{estate.account}:function:{function.inputs.get('name')}"
    guard(flow, lambda: flow.steps.append(trust_step(estate, role, "lambda.amazonaws.com", function_arn)))
    return flow


def _model_monitor_flow(estate, job, endpoint_name, bucket, objects, sample, key) -> Flow:
    flow = Flow("MLP-FLOW-CAPTURE", f"Model Monitor job {job.inputs.get('name')} reads the capture of "
                f"{endpoint_name}", job)
    role = guard(flow, lambda: estate.role(job.inputs.get("roleArn")))
    if role is None:
        return flow
    actor = Actor.of_role(role)
    for variant, location in objects.items():
        # Model Monitor reads the capture where the endpoint's configuration puts it, hour by hour
        guard(flow, lambda: flow.steps.extend(s3_steps(
            estate, actor, bucket, ("s3:ListBucket",), None, list_prefix=f"{location}{SAMPLE_HOUR}",
            label=f"list variant {variant}: ")))
        guard(flow, lambda: flow.steps.extend(s3_steps(
            estate, actor, bucket, ("s3:GetObject",), sample[variant], label=f"read variant {variant}: ")))
    guard(flow, lambda: flow.steps.extend(kms_steps(
        estate, actor, key, ("kms:Decrypt",), s3_key_context(estate, bucket, next(iter(sample.values()))), "s3")))
    guard(flow, lambda: flow.steps.append(trust_step(estate, role, "sagemaker.amazonaws.com", None)))
    return flow
