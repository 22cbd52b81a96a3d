"""Concrete flows of one plan, from the declarations in :mod:`.declarations`.

Each ``*_flows`` function finds the resources of its kind in the plan and builds, per team,
endpoint, queue, stream or bucket, the requests the flow makes (with the request context AWS
would send) and the locations writer and readers use. Anything it cannot find or read in
the plan becomes an *unproven* note on the flow, never a silent skip.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from mlplatform.graph import GraphResource
from mlplatform.naming import role_name

from .declarations import (
    ALLOW, DENY, EBS_KEY_ACTIONS, LAUNCHING_ROLES, SAMPLE_HOUR, SCHEDULER_SUBMIT_JOB, Flow, Step,
)
from .estate import Estate, RoleView, Unresolved, known, parse_s3_uri
from .policy_eval import Policy, Principal, Request, make_context
from .states import RUN_A_JOB, DefinitionError, parse_definition, submit_job_tasks

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
MODEL = "aws:sagemaker/model:Model"
FUNCTION = "aws:lambda/function:Function"
DATA_QUALITY = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
COMPUTE_ENVIRONMENT = "aws:batch/computeEnvironment:ComputeEnvironment"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
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

_STATE_MACHINE_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[^:]+(:[^:]+)?$")
#: SubmitJob fields a proof needs to read in the request (the rest do not decide acceptance)
_DECISIVE_FIELDS = ("JobName", "JobQueue", "JobDefinition", "ShareIdentifier", "SchedulingPriorityOverride", "Tags")
#: Batch's bounds for schedulingPriorityOverride (botocore batch SubmitJob documentation)
PRIORITY_RANGE = (0, 9999)
#: the rule Step Functions manages to learn when a .sync Batch job ends (Step Functions
#: Developer Guide, "IAM policies for calling AWS Batch", Run a Job)
BATCH_SYNC_RULE = "StepFunctionsGetEventsForBatchJobsRule"


@dataclass(frozen=True)
class SubmitRequest:
    """A SubmitJob request as a trigger sends it, read from the plan."""

    via: str
    queue: Any
    definition: Any
    share: Any = None
    priority: Any = None
    tags: Any = None
    #: False when the path cannot send shareIdentifier at all (EventBridge's batchTarget)
    carries_share: bool = True
    #: the path sends SubmitJob's own request (Scheduler, Step Functions): JobName is ours to give
    whole_request: bool = True
    job_name: Any = None


def retrain_flows(estate: Estate) -> Iterator[Flow]:
    for target in estate.of_type(EVENT_TARGET):
        arn = target.inputs.get("arn")
        if isinstance(arn, str) and ":job-queue/" in arn:
            flow = Flow("MLP-FLOW-RETRAIN", f"event target {target.name} submits to {arn.rsplit('/', 1)[-1]}", target)
            batch = target.inputs.get("batchTarget") or {}
            request = SubmitRequest("EventBridge batchTarget (BatchParameters has no shareIdentifier)", arn,
                                    batch.get("jobDefinition"), carries_share=False, whole_request=False)
            rule_arn = _guard(flow, lambda: _rule_arn(estate, flow, target))
            if rule_arn is not None:
                _submission(estate, flow, request, estate.region_of(target), target.inputs.get("roleArn"),
                            "events.amazonaws.com", rule_arn)
            yield flow
        elif isinstance(arn, str) and _STATE_MACHINE_ARN.match(arn):
            machine = _state_machine(estate, target, arn)
            if machine is None and not _under_retraining(estate, target):
                continue  # a state machine of the plan's, not a retraining submission
            flow = Flow("MLP-FLOW-RETRAIN", f"event target {target.name} starts state machine "
                        f"{arn.split(':')[6]}", target)
            submits = _guard(flow, lambda: _state_machine_path(estate, flow, target, arn, machine))
            if submits is False and not _under_retraining(estate, target):
                continue  # its machine submits no Batch job: another kind of flow
            yield flow
    for schedule in estate.of_type(SCHEDULE):
        target = schedule.inputs.get("target") or {}
        if target.get("arn") != SCHEDULER_SUBMIT_JOB:
            continue
        flow = Flow("MLP-FLOW-RETRAIN", f"schedule {schedule.inputs.get('name')} submits a Batch job", schedule)
        fields = _guard(flow, lambda: _scheduler_input(target))
        if fields is not None:
            source = f"arn:aws:scheduler:{estate.region_of(schedule)}:{estate.account}:schedule/" \
                     f"{schedule.inputs.get('groupName') or 'default'}/{schedule.inputs.get('name')}"
            request = SubmitRequest("EventBridge Scheduler batch:submitJob", fields.get("JobQueue"),
                                    fields.get("JobDefinition"), fields.get("ShareIdentifier"),
                                    fields.get("SchedulingPriorityOverride"), fields.get("Tags"),
                                    job_name=fields.get("JobName"))
            _submission(estate, flow, request, estate.region_of(schedule), target.get("roleArn"),
                        "scheduler.amazonaws.com", source)
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


def _rule_arn(estate: Estate, flow: Flow, target: GraphResource) -> str:
    """The ARN of the target's rule, which EventBridge sends as aws:SourceArn when it assumes
    the target's role (rule/<name> on the default bus, rule/<bus>/<name> on another)."""
    name = estate.name_via(target, "rule", EVENT_RULE, "name")
    bus = target.inputs.get("eventBusName")
    path = f"{bus}/{name}" if isinstance(bus, str) and bus not in ("", "default") else name
    for rule in estate.of_type(EVENT_RULE):
        if rule.inputs.get("name") == name and (rule.inputs.get("state") == "DISABLED"
                                                or rule.inputs.get("isEnabled") is False):
            flow.problems.append(f"rule {name} is disabled")
    return f"arn:aws:events:{estate.region_of(target)}:{estate.account}:rule/{path}"


def _state_machine(estate: Estate, target: GraphResource, arn: str) -> Optional[GraphResource]:
    name = arn.split(":")[6]
    for machine in estate.of_type(STATE_MACHINE):
        if machine.inputs.get("name") == name:
            return machine
    by_dependency = estate.deps(target, "arn", STATE_MACHINE)
    return by_dependency[0] if len(by_dependency) == 1 else None


def _under_retraining(estate: Estate, resource: GraphResource) -> bool:
    """Is the resource part of a retraining trigger component (whose target must submit)?"""
    urn = resource.parent
    while urn:
        parent = estate.graph.get(urn)
        if parent is None:
            return False
        if parent.type.endswith(":RetrainingTrigger"):
            return True
        urn = parent.parent
    return False


def _state_machine_path(estate: Estate, flow: Flow, target: GraphResource, arn: str,
                        machine: Optional[GraphResource]) -> bool:
    """EventBridge -> state machine -> Batch. Returns whether the machine submits a Batch job.

    EventBridge leg: the target's role is assumed by ``events.amazonaws.com`` with
    aws:SourceAccount and aws:SourceArn = the rule's ARN (EventBridge User Guide, "Using
    resource-based policies / IAM roles for sending events to targets", confused deputy),
    and must be allowed ``states:StartExecution`` on the machine's ARN (Service Authorization
    Reference, Step Functions: resource type stateMachine, condition key
    states:StateMachineQualifier, absent for an unqualified ARN).
    Step Functions leg: the machine's role is assumed by ``states.amazonaws.com`` with
    aws:SourceArn = the machine's ARN, and every ``batch:submitJob`` task is a SubmitJob
    request proved like any other (:func:`_submission`).
    """
    rule_arn = _rule_arn(estate, flow, target)
    parts = arn.split(":")
    name, qualifier = parts[6], (parts[7] if len(parts) > 7 else None)
    role_arn = target.inputs.get("roleArn")
    if role_arn is None:
        flow.problems.append("the target has no role: EventBridge starts a state machine only with one")
    else:
        role = _guard(flow, lambda: estate.role(role_arn))
        if role is not None:
            _guard(flow, lambda: flow.steps.append(trust_step(estate, role, "events.amazonaws.com", rule_arn)))
            context = {"states:StateMachineQualifier": qualifier, **_resource_tag_context(machine)}
            flow.steps.append(Actor.of_role(role).step(
                f"states:StartExecution on {arn}", "states:StartExecution", arn, context,
                complete=("states:", "aws:resourcetag/")))
    if machine is None:
        flow.problems.append(f"state machine {name} is not created by this plan")
        return False
    machine_name = machine.inputs.get("name")
    region = estate.region_of(machine)
    machine_arn = f"arn:aws:states:{region}:{estate.account}:stateMachine:{machine_name}"
    definition = machine.inputs.get("definition")
    if not known(definition):
        raise Unresolved(f"the definition of state machine {machine_name} is unknown in this plan")
    try:
        tasks = submit_job_tasks(parse_definition(definition))
    except DefinitionError as exc:
        flow.problems.append(f"the definition of state machine {machine_name} is not valid: {exc}")
        return False
    if not tasks:
        flow.problems.append(f"state machine {machine_name} has no batch:submitJob task")
        return False
    machine_role = _guard(flow, lambda: estate.role(machine.inputs.get("roleArn")))
    if machine_role is not None:
        _guard(flow, lambda: flow.steps.append(trust_step(estate, machine_role, "states.amazonaws.com",
                                                          machine_arn)))
    for task in tasks:
        via = f"state machine {machine_name} task {task.path}"
        dynamic = [field_name for field_name in task.dynamic
                   if field_name in _DECISIVE_FIELDS or field_name == "(all arguments)"]
        if dynamic:
            flow.unproven.append(f"{via}: {', '.join(dynamic)} computed at run time")
        fields = task.fields
        request = SubmitRequest(via, fields.get("JobQueue"), fields.get("JobDefinition"), fields.get("ShareIdentifier"),
                                fields.get("SchedulingPriorityOverride"), fields.get("Tags"),
                                job_name=fields.get("JobName", "(computed)" if "JobName" in task.dynamic else None))
        checked = _check_request(estate, flow, request, region)
        if machine_role is None:
            continue
        if checked is not None:
            _submit_job_steps(flow, Actor.of_role(machine_role), request, *checked, label=f"{via}: ")
        if task.pattern == RUN_A_JOB:
            _sync_steps(estate, flow, Actor.of_role(machine_role), region, label=f"{via}: ")
    return True


def _sync_steps(estate: Estate, flow: Flow, actor: "Actor", region: str, label: str) -> None:
    """What a .sync Batch task does besides submitting: it describes and may terminate the
    job, and manages the rule through which it learns the job ended."""
    job = f"arn:aws:batch:{region}:{estate.account}:job/00000000-0000-0000-0000-000000000000"
    flow.steps.append(actor.step(f"{label}batch:DescribeJobs", "batch:DescribeJobs", "*"))
    flow.steps.append(actor.step(f"{label}batch:TerminateJob on {job}", "batch:TerminateJob", job,
                                 complete=("aws:resourcetag/",)))
    rule = f"arn:aws:events:{region}:{estate.account}:rule/{BATCH_SYNC_RULE}"
    for action in ("events:PutRule", "events:PutTargets", "events:DescribeRule"):
        flow.steps.append(actor.step(f"{label}{action} on {rule}", action, rule))


def _submission(estate: Estate, flow: Flow, request: SubmitRequest, region: str, role_arn: Any, service: str,
                source_arn: str) -> None:
    """A service assumes ``role_arn`` (aws:SourceArn = ``source_arn``) and submits ``request``."""
    checked = _check_request(estate, flow, request, region)
    role = _guard(flow, lambda: estate.role(role_arn))
    if role is None:
        return
    _guard(flow, lambda: flow.steps.append(trust_step(estate, role, service, source_arn)))
    if checked is not None:
        _submit_job_steps(flow, Actor.of_role(role), request, *checked)


def _check_request(estate: Estate, flow: Flow, request: SubmitRequest, region: str
                   ) -> Optional[tuple[str, str, Optional[GraphResource], Optional[GraphResource]]]:
    """Would Batch accept the request (AWS Batch API reference, SubmitJob, as botocore's model
    documents it): JobName, a queue and a job definition that exist, shareIdentifier exactly
    when the queue is fair-share, a share its scheduling policy knows, and (our rule for
    fair-share queues) the priority the submission runs at, within 0-9999. Returns (queue
    ARN, job definition ARN, queue, job definition) for the permission steps, None when the
    request names no queue or no definition."""
    prefix = f"{request.via}: " if request.via.startswith("state machine") else ""
    problems = []
    if request.whole_request and not request.job_name:
        problems.append("the submission has no JobName, which SubmitJob requires")
    queue_ref = request.queue if isinstance(request.queue, str) else ""
    definition_ref = request.definition if isinstance(request.definition, str) else ""
    if not queue_ref:
        problems.append("the submission names no job queue")
    if not definition_ref:
        problems.append("the submission names no job definition")
    queue_name = queue_ref.rsplit("/", 1)[-1]
    queue = next((q for q in estate.of_type(JOB_QUEUE) if q.inputs.get("name") == queue_name), None)
    share = request.share if isinstance(request.share, str) and request.share else None
    if queue_ref and queue is None:
        problems.append(f"job queue {queue_name} is not created by this plan")
    elif queue is not None:
        if queue.inputs.get("state") == "DISABLED":
            problems.append(f"job queue {queue_name} is DISABLED: Batch accepts no new jobs")
        if queue.inputs.get("schedulingPolicyArn") is not None:
            if not request.carries_share:
                problems.append(f"job queue {queue_name} is fair-share (it has a scheduling policy) and Batch "
                                f"rejects jobs without shareIdentifier, which {request.via} cannot carry")
            elif share is None:
                problems.append(f"job queue {queue_name} is fair-share but the submission has no ShareIdentifier")
            else:
                problems.extend(_share_problems(estate, flow, queue, share))
            if request.carries_share:
                problems.extend(_priority_problems(queue_name, request.priority))
        elif share is not None:
            problems.append(f"job queue {queue_name} has no scheduling policy but the submission sends "
                            f"ShareIdentifier {share}, which Batch rejects")
    name, revision = _job_definition_parts(definition_ref)
    definition = next((d for d in estate.of_type(JOB_DEFINITION) if d.inputs.get("name") == name), None)
    if name and definition is None:
        problems.append(f"job definition {name} is not created by this plan")
    flow.problems.extend(prefix + problem for problem in problems)
    if not queue_ref or not name:
        return None
    queue_arn = queue_ref if queue_ref.startswith("arn:") else \
        f"arn:aws:batch:{region}:{estate.account}:job-queue/{queue_ref}"
    definition_arn = definition_ref if definition_ref.startswith("arn:") else \
        f"arn:aws:batch:{region}:{estate.account}:job-definition/{name}" + (f":{revision}" if revision else "")
    return queue_arn, definition_arn, queue, definition


def _job_definition_parts(reference: str) -> tuple[str, Optional[str]]:
    """(name, revision or None) of ``name``, ``name:revision`` or a job definition ARN with
    or without its revision."""
    text = reference.rsplit("job-definition/", 1)[-1] if reference.startswith("arn:") else reference
    name, _, revision = text.partition(":")
    return name, revision or None


def _share_problems(estate: Estate, flow: Flow, queue: GraphResource, share: str) -> list[str]:
    policies = estate.deps(queue, "schedulingPolicyArn", SCHEDULING_POLICY)
    policy_arn = queue.inputs.get("schedulingPolicyArn")
    if not policies and isinstance(policy_arn, str) and known(policy_arn):
        policies = [p for p in estate.of_type(SCHEDULING_POLICY) if p.inputs.get("name") == policy_arn.rsplit("/", 1)[-1]]
    if not policies:
        flow.unproven.append(f"the scheduling policy of {queue.inputs.get('name')} is not in this plan")
        return []
    distributions = ((policies[0].inputs.get("fairSharePolicy") or {}).get("shareDistributions") or [])
    identifiers = [d.get("shareIdentifier", "") for d in distributions]
    if any(i == share or (i.endswith("*") and share.startswith(i[:-1])) for i in identifiers):
        return []
    return [f"share identifier {share} is not in the scheduling policy's shares {identifiers}"]


def _priority_problems(queue_name: str, priority: Any) -> list[str]:
    if priority is None:
        return [f"job queue {queue_name} is fair-share but the submission has no SchedulingPriorityOverride"]
    low, high = PRIORITY_RANGE
    if isinstance(priority, bool) or not isinstance(priority, int) or not low <= priority <= high:
        return [f"SchedulingPriorityOverride {priority!r} is not an integer in {low}-{high}"]
    return []


def _submit_job_steps(flow: Flow, actor: "Actor", request: SubmitRequest, queue_arn: str, definition_arn: str,
                      queue: Optional[GraphResource], definition: Optional[GraphResource], label: str = "") -> None:
    """``batch:SubmitJob`` is authorized on the job definition and on the job queue (Batch User
    Guide, "Resource: Restrict to a job queue": both resource types must be allowed), with the
    request's ``batch:ShareIdentifier`` (Service Authorization Reference for AWS Batch, as
    parliament's iam_definition.json ships it: SubmitJob supports batch:ShareIdentifier,
    batch:EKSImage, batch:EKSNamespace, aws:RequestTag/*, aws:TagKeys). The job definition is
    authorized in the form the request names it: ``job-definition/<name>`` without a revision
    (aws/aws-sdk-js#4280 shows the denied resource without one), ``<name>:<revision>`` with
    one (udondan/iam-floyd#431)."""
    tags = request.tags if isinstance(request.tags, dict) else {}
    context: dict[str, Any] = {"batch:ShareIdentifier": request.share if isinstance(request.share, str) else None,
                               "aws:TagKeys": sorted(tags) or None}
    context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
    for resource_arn, resource in ((definition_arn, definition), (queue_arn, queue)):
        flow.steps.append(actor.step(f"{label}batch:SubmitJob on {resource_arn}", "batch:SubmitJob", resource_arn,
                                     {**context, **_resource_tag_context(resource)},
                                     complete=("batch:", "aws:resourcetag/", "aws:requesttag/")))


def _resource_tag_context(resource: Optional[GraphResource]) -> dict[str, str]:
    """aws:ResourceTag/* of a resource of the plan (its tags and the provider's default tags)."""
    if resource is None:
        return {}
    tags = dict(resource.effective_tags or {})
    if isinstance(resource.inputs.get("tags"), dict):
        tags.update({k: v for k, v in resource.inputs["tags"].items() if isinstance(v, str)})
    return {f"aws:ResourceTag/{k}": v for k, v in tags.items()}


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
