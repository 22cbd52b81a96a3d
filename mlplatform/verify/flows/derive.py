"""Concrete flows of one plan, from the declarations in :mod:`.declarations`.

Each ``*_flows`` function finds the resources of its kind in the plan and builds, per team,
endpoint, queue, stream or bucket, the requests the flow makes (with the request context AWS
would send) and the locations writer and readers use. Anything it cannot find or read in
the plan becomes an *unproven* note on the flow, never a silent skip.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator, Optional

from mlplatform.graph import GraphResource
from mlplatform.naming import role_name

from .declarations import (
    ALLOW, DENY, EBS_KEY_ACTIONS, FIRST_REVISION, LAUNCHING_ROLES, SAMPLE_HOUR, SCHEDULER_SUBMIT_JOB, Flow, Step,
)
from .estate import Estate, RoleView, Unresolved, known, parse_s3_uri
from .policy_eval import Policy, Principal, Request, make_context

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
MODEL = "aws:sagemaker/model:Model"
FUNCTION = "aws:lambda/function:Function"
DATA_QUALITY = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
COMPUTE_ENVIRONMENT = "aws:batch/computeEnvironment:ComputeEnvironment"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SCHEDULE = "aws:scheduler/schedule:Schedule"
JOB_QUEUE = "aws:batch/jobQueue:JobQueue"
JOB_DEFINITION = "aws:batch/jobDefinition:JobDefinition"
SCHEDULING_POLICY = "aws:batch/schedulingPolicy:SchedulingPolicy"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
PII_ACCESS_TAG = "pii-access"


# ---------------------------------------------------------------- request builders

def _s3_arn(bucket: str, key: Optional[str] = None) -> str:
    return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def role_context(role: RoleView, session_tags: Optional[dict[str, Optional[str]]] = None) -> dict:
    """What every request of a role's session carries: its ARN, account and principal tags
    (the role's tags, overridden by session tags; a session tag of None removes it)."""
    tags = dict(role.tags)
    for key, value in (session_tags or {}).items():
        if value is None:
            tags.pop(key, None)
        else:
            tags[key] = value
    values: dict[str, Any] = {"aws:PrincipalArn": role.arn, "aws:PrincipalAccount": role.arn.split(":")[4],
                              "aws:PrincipalType": "AssumedRole", "aws:SecureTransport": True}
    values.update({f"aws:PrincipalTag/{k}": v for k, v in tags.items()})
    return values


def service_context(estate: Estate, source_arn: Optional[str]) -> dict:
    values: dict[str, Any] = {"aws:SourceAccount": estate.account, "aws:SecureTransport": True,
                              "aws:PrincipalArn": None, "aws:PrincipalAccount": None}
    if source_arn:
        values["aws:SourceArn"] = source_arn
    return values


class Actor:
    """The acting principal of a step: a role of the plan, a service, or a service-linked role."""

    def __init__(self, principal: Principal, base: dict, identity: Optional[tuple[Policy, ...]],
                 note: str = "", complete: tuple[str, ...] = ("aws:principaltag/",)):
        self.principal, self.base, self.identity, self.note, self.complete = principal, base, identity, note, complete

    @classmethod
    def of_role(cls, role: RoleView, session_tags: Optional[dict[str, Optional[str]]] = None) -> "Actor":
        return cls(Principal(arn=role.arn), role_context(role, session_tags), role.identity(), role.identity_note())

    @classmethod
    def of_service(cls, estate: Estate, service: str, source_arn: Optional[str] = None) -> "Actor":
        return cls(Principal(service=service), service_context(estate, source_arn), None)

    @classmethod
    def of_service_linked_role(cls, estate: Estate, path_and_name: str) -> "Actor":
        """A service-linked role: its AWS-managed policy grants no customer managed key, so
        as far as our keys go its identity policies are empty (see declarations)."""
        arn = f"arn:aws:iam::{estate.account}:role/{path_and_name}"
        base = {"aws:PrincipalArn": arn, "aws:PrincipalAccount": estate.account, "aws:SecureTransport": True}
        return cls(Principal(arn=arn), base, (), "service-linked role: its managed policy grants no customer managed key")

    def step(self, description: str, action: str, resource: str, extra: Optional[dict] = None,
             resource_policy: Optional[Policy] = None, key_policy: bool = False, expect: str = ALLOW,
             complete: tuple[str, ...] = ()) -> Step:
        request = Request(self.principal, action, resource, make_context({**self.base, **(extra or {})}),
                          tuple(dict.fromkeys(self.complete + complete)))
        return Step(description, request, self.identity, resource_policy, key_policy, expect, self.note)


def s3_steps(estate: Estate, actor: Actor, bucket: str, actions: tuple[str, ...], key: Optional[str],
             headers: Optional[dict] = None, list_prefix: Optional[str] = None, expect: str = ALLOW,
             label: str = "") -> list[Step]:
    """Object requests (and ListBucket with ``s3:prefix``) under the bucket's policy. Request
    headers that are not given are not sent (``s3:x-amz-*`` keys absent)."""
    policy = estate.bucket_policy(bucket)
    steps = []
    complete = ("s3:x-amz-", "aws:resourcetag/", "s3:existingobjecttag/")
    for action in actions:
        if action in ("s3:ListBucket", "s3:GetBucketAcl", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads",
                      "s3:GetReplicationConfiguration"):
            extra = {"s3:prefix": list_prefix} if action == "s3:ListBucket" and list_prefix is not None else {}
            resource = _s3_arn(bucket)
        else:
            extra = dict(headers or {}) if action == "s3:PutObject" else {}
            resource = _s3_arn(bucket, key)
        steps.append(actor.step(f"{label}{action} on {resource}", action, resource, extra, policy,
                                expect=expect, complete=complete + (("s3:prefix",) if action != "s3:ListBucket" else ())))
    return steps


def kms_steps(estate: Estate, actor: Actor, key: GraphResource, actions: tuple[str, ...],
              encryption_context: Optional[dict[str, str]] = None, via: Optional[str] = None,
              extra: Optional[dict] = None, expect: str = ALLOW, label: str = "") -> list[Step]:
    """Requests to the key, under its key policy, with the context KMS would see."""
    policy = estate.key_policy(key)
    region = estate.region_of(key)
    context: dict[str, Any] = {"kms:CallerAccount": estate.account,
                               "kms:ResourceAliases": list(estate.key_aliases(key)),
                               "kms:ViaService": f"{via}.{region}.amazonaws.com" if via else None}
    for name, value in (encryption_context or {}).items():
        context[f"kms:EncryptionContext:{name}"] = value
    context["kms:EncryptionContextKeys"] = sorted(encryption_context or {}) or None
    context.update({f"aws:ResourceTag/{k}": v for k, v in (key.effective_tags or {}).items()})
    context.update(extra or {})
    arn = estate.key_arn(key)
    complete = ("kms:encryptioncontext:", "aws:resourcetag/", "kms:grant")
    return [actor.step(f"{label}{action} on key {key.name}", action, arn, context, policy, key_policy=True,
                       expect=expect, complete=complete) for action in actions]


def s3_key_context(estate: Estate, bucket: str, key: str) -> dict[str, str]:
    """The encryption context S3 sends KMS: the bucket ARN under Bucket Keys, else the object's."""
    _, _, bucket_key = estate.bucket_encryption(bucket)
    return {"aws:s3:arn": _s3_arn(bucket) if bucket_key else _s3_arn(bucket, key)}


def sse_headers(estate: Estate, key: GraphResource) -> dict:
    return {"s3:x-amz-server-side-encryption": "aws:kms",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": estate.key_arn(key)}


def trust_step(estate: Estate, role: RoleView, service: str, source_arn: Optional[str],
               extra: Optional[dict] = None) -> Step:
    """The service assumes the role: the role's trust policy must allow it."""
    actor = Actor.of_service(estate, service, source_arn)
    return actor.step(f"{service} assumes {role.name}", "sts:AssumeRole", role.arn, extra,
                      estate.trust_policy(role))


def _guard(flow: Flow, build: Callable[[], Any]) -> Any:
    """Run one part of a derivation; what the plan does not say makes the flow unproven."""
    try:
        return build()
    except Unresolved as exc:
        flow.unproven.append(str(exc))
        return None


# ---------------------------------------------------------------- MLP-FLOW-CAPTURE

def capture_flows(estate: Estate) -> Iterator[Flow]:
    for config in estate.of_type(ENDPOINT_CONFIG):
        capture = config.inputs.get("dataCaptureConfig")
        if not isinstance(capture, dict) or capture.get("enableCapture") is False:
            continue
        writer = Flow("MLP-FLOW-CAPTURE", f"endpoint configuration {config.name} writes data capture", config)
        context = _guard(writer, lambda: _capture_context(estate, config, capture))
        if context is None:
            yield writer
            continue
        endpoint_name, bucket, prefix, variants, key, serving = context
        objects = {v: f"{prefix}{endpoint_name}/{v}/" for v in variants}
        sample = {v: f"{location}{SAMPLE_HOUR}capture.jsonl" for v, location in objects.items()}
        actor = Actor.of_role(serving)
        for variant in variants:
            _guard(writer, lambda: writer.steps.extend(
                s3_steps(estate, actor, bucket, ("s3:PutObject",), sample[variant], sse_headers(estate, key))))
        _guard(writer, lambda: writer.steps.extend(kms_steps(
            estate, actor, key, ("kms:GenerateDataKey",), s3_key_context(estate, bucket, sample[variants[0]]), "s3")))
        _guard(writer, lambda: writer.steps.append(trust_step(estate, serving, "sagemaker.amazonaws.com", None)))
        yield writer

        for function in estate.of_type(FUNCTION):
            env = ((function.inputs.get("environment") or {}).get("variables") or {})
            if env.get("DRIFT_ENDPOINT") != endpoint_name:
                continue
            yield _drift_lambda_flow(estate, function, env, endpoint_name, bucket, objects, sample, key)
        for job in estate.of_type(DATA_QUALITY):
            endpoint_input = ((job.inputs.get("dataQualityJobInput") or {}).get("endpointInput") or {})
            if endpoint_input.get("endpointName") != endpoint_name:
                continue
            yield _model_monitor_flow(estate, job, endpoint_name, bucket, objects, sample, key)


def _capture_context(estate: Estate, config: GraphResource, capture: dict):
    bucket, prefix = parse_s3_uri(capture.get("destinationS3Uri"))
    prefix = prefix if prefix.endswith("/") or not prefix else prefix + "/"
    endpoints = estate.dependents(config.urn, ENDPOINT, "endpointConfigName")
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
    models = estate.deps(config, "productionVariants", MODEL)
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
    role = _guard(flow, lambda: estate.role(function.inputs.get("role")))
    if role is None:
        return flow
    actor = Actor.of_role(role)
    for variant in read_variants:
        if variant not in sample:
            continue
        _guard(flow, lambda: flow.steps.extend(s3_steps(
            estate, actor, bucket, ("s3:ListBucket",), None, list_prefix=reader_prefix, label="list the capture: ")))
        _guard(flow, lambda: flow.steps.extend(s3_steps(
            estate, actor, bucket, ("s3:GetObject",), sample[variant], label="read the capture: ")))
    first = sample[read_variants[0]] if read_variants and read_variants[0] in sample else next(iter(sample.values()))
    _guard(flow, lambda: flow.steps.extend(kms_steps(
        estate, actor, key, ("kms:Decrypt",), s3_key_context(estate, bucket, first), "s3")))
    function_arn = f"arn:aws:lambda:{estate.region_of(function)}:{estate.account}:function:{function.inputs.get('name')}"
    _guard(flow, lambda: flow.steps.append(trust_step(estate, role, "lambda.amazonaws.com", function_arn)))
    return flow


def _model_monitor_flow(estate, job, endpoint_name, bucket, objects, sample, key) -> Flow:
    flow = Flow("MLP-FLOW-CAPTURE", f"Model Monitor job {job.inputs.get('name')} reads the capture of "
                f"{endpoint_name}", job)
    role = _guard(flow, lambda: estate.role(job.inputs.get("roleArn")))
    if role is None:
        return flow
    actor = Actor.of_role(role)
    for variant, location in objects.items():
        # Model Monitor reads the capture where the endpoint's configuration puts it, hour by hour
        _guard(flow, lambda: flow.steps.extend(s3_steps(
            estate, actor, bucket, ("s3:ListBucket",), None, list_prefix=f"{location}{SAMPLE_HOUR}",
            label=f"list variant {variant}: ")))
        _guard(flow, lambda: flow.steps.extend(s3_steps(
            estate, actor, bucket, ("s3:GetObject",), sample[variant], label=f"read variant {variant}: ")))
    _guard(flow, lambda: flow.steps.extend(kms_steps(
        estate, actor, key, ("kms:Decrypt",), s3_key_context(estate, bucket, next(iter(sample.values()))), "s3")))
    _guard(flow, lambda: flow.steps.append(trust_step(estate, role, "sagemaker.amazonaws.com", None)))
    return flow


# ---------------------------------------------------------------- MLP-FLOW-MODELS

def model_flows(estate: Estate) -> Iterator[Flow]:
    for model in estate.of_type(MODEL):
        containers = [model.inputs.get("primaryContainer")] + list(model.inputs.get("containers") or [])
        for container in filter(None, containers):
            uri, is_prefix = container.get("modelDataUrl"), False
            source = (container.get("modelDataSource") or {}).get("s3DataSources") or []
            if source:
                uri, is_prefix = source[0].get("s3Uri"), source[0].get("s3DataType") == "S3Prefix"
            if uri is None:
                continue  # a model package or an image-only container: no artifact to read
            flow = Flow("MLP-FLOW-MODELS", f"model {model.name} serves the artifact training writes", model)
            parsed = _guard(flow, lambda: parse_s3_uri(uri))
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
    training = _guard(flow, lambda: estate.role_named(role_name(team or "", estate.stack.environment, "training")))
    if training is not None:
        writer = Actor.of_role(training)
        flow.locations.append(("training writes", f"s3://{bucket}/{path}", "serving reads", f"s3://{bucket}/{path}"))
        # a training job whose output names the team key uploads with SSE-KMS headers (the
        # artifact bucket's policy denies any other upload)
        _guard(flow, lambda: flow.steps.extend(s3_steps(estate, writer, bucket, ("s3:PutObject",), sample,
                                                        sse_headers(estate, key), label="training writes: ")))
        _guard(flow, lambda: flow.steps.extend(kms_steps(estate, writer, key, ("kms:GenerateDataKey",), context, "s3",
                                                         label="training encrypts: ")))
    serving = _guard(flow, lambda: estate.role(model.inputs.get("executionRoleArn")))
    if serving is not None:
        reader = Actor.of_role(serving)
        actions = ("s3:ListBucket", "s3:GetObject") if is_prefix else ("s3:GetObject",)
        _guard(flow, lambda: flow.steps.extend(s3_steps(estate, reader, bucket, actions, sample, list_prefix=path,
                                                        label="serving reads: ")))
        _guard(flow, lambda: flow.steps.extend(kms_steps(estate, reader, key, ("kms:Decrypt",), context, "s3",
                                                         label="serving decrypts: ")))


# ---------------------------------------------------------------- MLP-FLOW-BATCH-KEY

def batch_key_flows(estate: Estate) -> Iterator[Flow]:
    for template in estate.of_type(LAUNCH_TEMPLATE):
        mappings = template.inputs.get("blockDeviceMappings") or []
        encrypted = [m for m in mappings if isinstance(m, dict) and "kmsKeyId" in (m.get("ebs") or {})]
        if not encrypted:
            continue
        environments = estate.dependents(template.urn, COMPUTE_ENVIRONMENT, "computeResources")
        for environment in environments:
            capacity = ((environment.inputs.get("computeResources") or {}).get("type")) or "EC2"
            flow = Flow("MLP-FLOW-BATCH-KEY", f"compute environment {environment.inputs.get('name')} launches "
                        f"{capacity} instances with the key of {template.name}", environment)
            key = _guard(flow, lambda: estate.key_for(template, "blockDeviceMappings",
                                                      encrypted[0]["ebs"].get("kmsKeyId")))
            if key is not None:
                for slr in LAUNCHING_ROLES.get(capacity, LAUNCHING_ROLES["EC2"]):
                    actor = Actor.of_service_linked_role(estate, slr)
                    _guard(flow, lambda: flow.steps.extend(kms_steps(
                        estate, actor, key, ("kms:CreateGrant",), via="ec2",
                        extra={"kms:GrantIsForAWSResource": True}, label=f"{slr.rsplit('/', 1)[-1]}: ")))
                    _guard(flow, lambda: flow.steps.extend(kms_steps(
                        estate, actor, key, EBS_KEY_ACTIONS, via="ec2", label=f"{slr.rsplit('/', 1)[-1]}: ")))
            yield flow


# ---------------------------------------------------------------- MLP-FLOW-RETRAIN

def retrain_flows(estate: Estate) -> Iterator[Flow]:
    for target in estate.of_type(EVENT_TARGET):
        arn = target.inputs.get("arn")
        if isinstance(arn, str) and ":job-queue/" in arn:
            flow = Flow("MLP-FLOW-RETRAIN", f"event target {target.name} submits to {arn.rsplit('/', 1)[-1]}", target)
            rule = target.inputs.get("rule")
            source = f"arn:aws:events:{estate.region_of(target)}:{estate.account}:rule/{rule}"
            batch = target.inputs.get("batchTarget") or {}
            _submission(estate, flow, arn, batch.get("jobDefinition"), share=None, share_supported=False,
                        role_arn=target.inputs.get("roleArn"), service="events.amazonaws.com", source_arn=source,
                        via="EventBridge batchTarget (BatchParameters has no shareIdentifier)")
            yield flow
        elif isinstance(arn, str) and arn.startswith("arn:aws:states:"):
            flow = Flow("MLP-FLOW-RETRAIN", f"event target {target.name} starts a state machine", target)
            flow.unproven.append("submission through Step Functions is not modelled by the flows checker")
            yield flow
    for schedule in estate.of_type(SCHEDULE):
        target = schedule.inputs.get("target") or {}
        if target.get("arn") != SCHEDULER_SUBMIT_JOB:
            continue
        flow = Flow("MLP-FLOW-RETRAIN", f"schedule {schedule.inputs.get('name')} submits a Batch job", schedule)
        request = _guard(flow, lambda: _scheduler_input(target))
        if request is not None:
            queue = request.get("JobQueue", "")
            queue_arn = queue if queue.startswith("arn:") else \
                f"arn:aws:batch:{estate.region_of(schedule)}:{estate.account}:job-queue/{queue}"
            source = f"arn:aws:scheduler:{estate.region_of(schedule)}:{estate.account}:schedule/" \
                     f"{schedule.inputs.get('groupName') or 'default'}/{schedule.inputs.get('name')}"
            _submission(estate, flow, queue_arn, request.get("JobDefinition"), share=request.get("ShareIdentifier"),
                        share_supported=True, role_arn=target.get("roleArn"), service="scheduler.amazonaws.com",
                        source_arn=source, via="EventBridge Scheduler batch:submitJob")
        yield flow


def _scheduler_input(target: dict) -> dict:
    text = target.get("input")
    if not known(text):
        raise Unresolved("the schedule's SubmitJob input is unknown in this plan")
    try:
        request = json.loads(text)
    except ValueError:
        raise Unresolved("the schedule's SubmitJob input is not JSON") from None
    if not isinstance(request, dict):
        raise Unresolved("the schedule's SubmitJob input is not an object")
    return request


def _submission(estate: Estate, flow: Flow, queue_arn: str, definition: Any, share: Optional[str],
                share_supported: bool, role_arn: Any, service: str, source_arn: str, via: str) -> None:
    region = queue_arn.split(":")[3] or estate.region
    queue_name = queue_arn.rsplit("/", 1)[-1]
    queues = [q for q in estate.of_type(JOB_QUEUE) if q.inputs.get("name") == queue_name]
    if not queues:
        flow.problems.append(f"job queue {queue_name} is not created by this plan")
    elif queues[0].inputs.get("schedulingPolicyArn") is not None:
        if not share_supported:
            flow.problems.append(f"job queue {queue_name} is fair-share (it has a scheduling policy) and Batch rejects "
                                 f"jobs without shareIdentifier, which {via} cannot carry")
        elif not share:
            flow.problems.append(f"job queue {queue_name} is fair-share but the submission has no ShareIdentifier")
        else:
            _check_share(estate, flow, queues[0], share)
    definition_name = str(definition or "")
    if definition_name.startswith("arn:"):
        definition_name = definition_name.rsplit("/", 1)[-1]
    name, _, revision = definition_name.partition(":")
    if not name:
        flow.problems.append("the submission names no job definition")
    elif not any(d.inputs.get("name") == name for d in estate.of_type(JOB_DEFINITION)):
        flow.problems.append(f"job definition {name} is not created by this plan")
    role = _guard(flow, lambda: estate.role(role_arn))
    if role is None:
        return
    _guard(flow, lambda: flow.steps.append(trust_step(estate, role, service, source_arn)))
    actor = Actor.of_role(role)
    definition_arn = f"arn:aws:batch:{region}:{estate.account}:job-definition/{name}:{revision or FIRST_REVISION}"
    for resource in (queue_arn, definition_arn):
        flow.steps.append(actor.step(f"batch:SubmitJob on {resource}", "batch:SubmitJob", resource,
                                     complete=("batch:", "aws:resourcetag/")))


def _check_share(estate: Estate, flow: Flow, queue: GraphResource, share: str) -> None:
    policies = estate.deps(queue, "schedulingPolicyArn", SCHEDULING_POLICY)
    if not policies:
        flow.unproven.append(f"the scheduling policy of {queue.inputs.get('name')} is not in this plan")
        return
    distributions = ((policies[0].inputs.get("fairSharePolicy") or {}).get("shareDistributions") or [])
    identifiers = [d.get("shareIdentifier", "") for d in distributions]
    if not any(i == share or (i.endswith("*") and share.startswith(i[:-1])) for i in identifiers):
        flow.problems.append(f"share identifier {share} is not in the scheduling policy's shares {identifiers}")


# ---------------------------------------------------------------- MLP-FLOW-FIREHOSE-BACKUP

def firehose_flows(estate: Estate) -> Iterator[Flow]:
    for stream in estate.of_type(FIREHOSE):
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
        _guard(flow, lambda: _firehose_steps(estate, flow, stream, block_name, s3))
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


# ---------------------------------------------------------------- MLP-FLOW-CLOUDTRAIL

def cloudtrail_flows(estate: Estate) -> Iterator[Flow]:
    for trail in estate.of_type(TRAIL):
        name = trail.inputs.get("name")
        region = estate.region_of(trail)
        trail_arn = f"arn:aws:cloudtrail:{region}:{estate.account}:trail/{name}"
        actor = Actor.of_service(estate, "cloudtrail.amazonaws.com", trail_arn)

        delivery = Flow("MLP-FLOW-CLOUDTRAIL", f"trail {name} delivers log files to its bucket", trail)
        _guard(delivery, lambda: _trail_bucket_steps(estate, delivery, trail, trail_arn, actor, region))
        yield delivery

        if trail.inputs.get("snsTopicName") is not None:
            topic_flow = Flow("MLP-FLOW-CLOUDTRAIL", f"trail {name} announces deliveries on its topic", trail)
            _guard(topic_flow, lambda: _publish_steps(estate, topic_flow, actor, _topic_of_trail(estate, trail)))
            yield topic_flow

        if trail.inputs.get("cloudWatchLogsRoleArn") is not None:
            logs = Flow("MLP-FLOW-CLOUDTRAIL", f"trail {name} writes its CloudWatch log group", trail)
            _guard(logs, lambda: _trail_logs_steps(estate, logs, trail, trail_arn))
            yield logs


def _trail_bucket_steps(estate, flow, trail, trail_arn, actor, region) -> None:
    bucket = estate.name_via(trail, "s3BucketName", "aws:s3/bucket:Bucket", "bucket")
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
    name = estate.name_via(trail, "snsTopicName", "aws:sns/topic:Topic", "name")
    return f"arn:aws:sns:{estate.region_of(trail)}:{estate.account}:{name}"


def _publish_steps(estate: Estate, flow: Flow, actor: Actor, topic_arn: str) -> None:
    """A service publishes to a topic: the topic policy, and the topic key's policy for the
    data key SNS generates on the publisher's behalf."""
    topic = estate.topic_by_arn(topic_arn)
    flow.steps.append(actor.step(f"sns:Publish on {topic_arn}", "sns:Publish", topic_arn, {},
                                 estate.topic_policy(topic, topic_arn), complete=("sns:",)))
    if topic.inputs.get("kmsMasterKeyId") is not None:
        key = estate.key_for(topic, "kmsMasterKeyId", topic.inputs.get("kmsMasterKeyId"))
        flow.steps.extend(kms_steps(estate, actor, key, ("kms:GenerateDataKey", "kms:Decrypt"), via="sns",
                                    label="the topic's key: "))


def _trail_logs_steps(estate, flow, trail, trail_arn) -> None:
    role = estate.role(trail.inputs.get("cloudWatchLogsRoleArn"))
    flow.steps.append(trust_step(estate, role, "cloudtrail.amazonaws.com", trail_arn))
    group_arn = trail.inputs.get("cloudWatchLogsGroupArn")
    groups = estate.deps(trail, "cloudWatchLogsGroupArn", "aws:cloudwatch/logGroup:LogGroup")
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
    for logging in estate.of_type(BUCKET_LOGGING):
        flow = Flow("MLP-FLOW-ACCESS-LOGS", f"access logs of {logging.inputs.get('bucket')} reach "
                    f"{logging.inputs.get('targetBucket')}", logging)
        _guard(flow, lambda: _access_log_steps(estate, flow, logging))
        yield flow


def _access_log_steps(estate: Estate, flow: Flow, logging: GraphResource) -> None:
    source = estate.name_via(logging, "bucket", "aws:s3/bucket:Bucket", "bucket")
    target = estate.name_via(logging, "targetBucket", "aws:s3/bucket:Bucket", "bucket")
    source_region, target_region = estate.region_of(estate.bucket(source)), estate.region_of(estate.bucket(target))
    if source_region != target_region:
        flow.problems.append(f"target bucket {target} is in {target_region}, source {source} in {source_region}: "
                             f"S3 delivers access logs only within a region")
    algorithm, _, _ = estate.bucket_encryption(target)
    if algorithm.startswith("aws:kms"):
        flow.problems.append(f"target bucket {target} is encrypted with {algorithm}: S3 server access log delivery "
                             f"supports only SSE-S3 (AES256) targets")
    sample = f"{logging.inputs.get('targetPrefix') or ''}{estate.account}/{source_region}/{source}/2026/01/01/log"
    actor = Actor.of_service(estate, "logging.s3.amazonaws.com", _s3_arn(source))
    flow.steps.extend(s3_steps(estate, actor, target, ("s3:PutObject",), sample))


# ---------------------------------------------------------------- MLP-FLOW-FEATURES-ABAC

def feature_flows(estate: Estate) -> Iterator[Flow]:
    for group in estate.of_type(FEATURE_GROUP):
        name = group.inputs.get("featureGroupName")
        flow = Flow("MLP-FLOW-FEATURES-ABAC", f"people read feature group {name} by attributes", group)
        _guard(flow, lambda: _feature_steps(estate, flow, group, str(name)))
        yield flow


def _feature_steps(estate: Estate, flow: Flow, group: GraphResource, name: str) -> None:
    team = estate.team_of(group)
    consumer = estate.role_named(role_name(team or "", estate.stack.environment, "consumer"))
    region = estate.region_of(group)
    arn = f"arn:aws:sagemaker:{region}:{estate.account}:feature-group/{name.lower()}"
    tags = dict(group.effective_tags or {})
    if isinstance(group.inputs.get("tags"), dict):
        tags.update(group.inputs["tags"])
    pii = tags.get("pii") == "true"
    resource_tags = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
    sessions = [("with pii-access=true", "true", ALLOW), ("without pii-access", None, DENY if pii else ALLOW)]
    offline = (group.inputs.get("offlineStoreConfig") or {}).get("s3StorageConfig") or {}
    for label, value, expect in sessions:
        actor = Actor.of_role(consumer, {PII_ACCESS_TAG: value})
        flow.steps.append(actor.step(f"{label}: sagemaker:GetRecord on {arn}", "sagemaker:GetRecord", arn,
                                     resource_tags, expect=expect, complete=("aws:resourcetag/", "sagemaker:")))
        if offline:
            bucket, prefix = parse_s3_uri(offline.get("s3Uri"))
            sample = (f"{prefix.rstrip('/')}/{estate.account}/sagemaker/{region}/offline-store/{name}-1767225600/"
                      f"data/year=2026/month=01/day=01/hour=00/sample.parquet")
            flow.steps.extend(s3_steps(estate, actor, bucket, ("s3:GetObject",), sample, expect=expect,
                                       label=f"{label}: "))
            if expect == ALLOW:
                key = estate.key_for(group, "offlineStoreConfig", offline.get("kmsKeyId"))
                flow.steps.extend(kms_steps(estate, actor, key, ("kms:Decrypt",),
                                            s3_key_context(estate, bucket, sample), "s3", label=f"{label}: "))


# ---------------------------------------------------------------- MLP-FLOW-REPLICATION

def replication_flows(estate: Estate) -> Iterator[Flow]:
    for config in estate.of_type(REPLICATION):
        flow = Flow("MLP-FLOW-REPLICATION", f"replication {config.name} copies {config.inputs.get('bucket')}", config)
        _guard(flow, lambda: _replication_steps(estate, flow, config))
        yield flow


def _replication_steps(estate: Estate, flow: Flow, config: GraphResource) -> None:
    source = estate.name_via(config, "bucket", "aws:s3/bucket:Bucket", "bucket")
    role_arn = config.inputs.get("role")
    if not known(role_arn):
        roles = estate.deps(config, "role", "aws:iam/role:Role")
        role_arn = estate.role_arn(roles[0]) if len(roles) == 1 else role_arn
    role = estate.role(role_arn)
    flow.steps.append(trust_step(estate, role, "s3.amazonaws.com", _s3_arn(source)))
    actor = Actor.of_role(role)
    sample = f"models/{SAMPLE_HOUR}model.tar.gz"
    flow.steps.extend(s3_steps(estate, actor, source, ("s3:GetReplicationConfiguration", "s3:ListBucket"), None,
                               list_prefix=""))
    flow.steps.extend(s3_steps(estate, actor, source, ("s3:GetObjectVersionForReplication",), sample))
    _, source_key, _ = estate.bucket_encryption(source)
    if source_key is not None:
        flow.steps.extend(kms_steps(estate, actor, source_key, ("kms:Decrypt",),
                                    s3_key_context(estate, source, sample), "s3", label="decrypt the source: "))
    for rule in config.inputs.get("rules") or []:
        destination = rule.get("destination") or {}
        replica = str(destination.get("bucket", "")).split(":::", 1)[-1]
        if not replica:
            raise Unresolved("the replication destination is unknown in this plan")
        flow.steps.extend(s3_steps(estate, actor, replica, ("s3:ReplicateObject",), sample))
        encryption = destination.get("encryptionConfiguration") or {}
        if "replicaKmsKeyId" in encryption:
            key = estate.key_for(config, "rules", encryption.get("replicaKmsKeyId"))
            flow.steps.extend(kms_steps(estate, actor, key, ("kms:Encrypt", "kms:GenerateDataKey"),
                                        s3_key_context(estate, replica, sample), "s3", label="encrypt the replica: "))


# ---------------------------------------------------------------- MLP-FLOW-ALARM-TOPIC

def alarm_topic_flows(estate: Estate) -> Iterator[Flow]:
    notified: dict[str, list[GraphResource]] = {}
    for alarm in estate.of_type(METRIC_ALARM) + estate.of_type(COMPOSITE_ALARM):
        for field_name in ("alarmActions", "okActions", "insufficientDataActions"):
            for action in alarm.inputs.get(field_name) or []:
                if isinstance(action, str) and action.startswith("arn:aws:sns:"):
                    notified.setdefault(action, []).append(alarm)
    for topic_arn, alarms in sorted(notified.items()):
        subject = alarms[0]
        flow = Flow("MLP-FLOW-ALARM-TOPIC", f"{len(alarms)} alarm(s) notify {topic_arn.rsplit(':', 1)[-1]}", subject)
        region = topic_arn.split(":")[3]
        alarm_arn = f"arn:aws:cloudwatch:{region}:{estate.account}:alarm:{subject.inputs.get('name')}"
        actor = Actor.of_service(estate, "cloudwatch.amazonaws.com", alarm_arn)
        _guard(flow, lambda: _publish_steps(estate, flow, actor, topic_arn))
        yield flow


DERIVATIONS: dict[str, Callable[[Estate], Iterator[Flow]]] = {
    "capture_flows": capture_flows,
    "model_flows": model_flows,
    "batch_key_flows": batch_key_flows,
    "retrain_flows": retrain_flows,
    "firehose_flows": firehose_flows,
    "cloudtrail_flows": cloudtrail_flows,
    "access_log_flows": access_log_flows,
    "feature_flows": feature_flows,
    "replication_flows": replication_flows,
    "alarm_topic_flows": alarm_topic_flows,
}
