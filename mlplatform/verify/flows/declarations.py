"""The estate's runtime flows, declared as data.

Each :class:`FlowKind` names who acts (a role found by component and purpose, a service, a
service-linked role), what it does (actions), on what (an exact ARN, or an S3 bucket and key
prefix, and the KMS key the data is under) and, for data paths, where the writer writes and
where each reader reads: the two must coincide. :mod:`.derive` turns each kind into concrete
flows per team, endpoint, queue, stream and bucket of the plan; :mod:`.checker` proves them.

AWS facts the declarations rest on (documentation named so a reviewer can check them):

* SageMaker data capture: objects are written to
  ``<DestinationS3Uri>/<endpoint-name>/<variant-name>/yyyy/mm/dd/hh/<file>.jsonl`` (SageMaker
  Developer Guide, "Capture data from real-time endpoint"); the endpoint's execution role
  (the model's) writes them, with the capture ``KmsKeyId``.
* EBS volumes of instances launched by Auto Scaling (AWS Batch managed compute environments)
  with a customer managed key: the key policy must let the Auto Scaling service-linked role
  use the key (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey) and create
  grants with ``kms:GrantIsForAWSResource`` (EC2 Auto Scaling User Guide, "Required AWS KMS
  key policy for use with encrypted volumes"); the service-linked roles' own policies do not
  include customer managed keys. Spot capacity is also launched under the EC2 Spot
  service-linked role, which needs the same grant (EC2 User Guide, "Service-linked role for
  Spot Instance requests", encrypted EBS with a customer managed key).
* A fair-share job queue (one with a scheduling policy) rejects SubmitJob without
  ``shareIdentifier``, and a queue without one rejects it with one (AWS Batch API reference,
  SubmitJob, as botocore's batch model documents it; ``schedulingPriorityOverride`` is
  0-9999); EventBridge's ``BatchParameters`` has no share identifier; EventBridge
  Scheduler's universal target ``arn:aws:scheduler:::aws-sdk:batch:submitJob`` and a Step
  Functions ``arn:aws:states:::batch:submitJob`` task pass the whole SubmitJob request.
* ``batch:SubmitJob`` is authorized on both the job definition and the job queue (Batch
  User Guide, "Resource: Restrict to a job queue") and supports the condition key
  ``batch:ShareIdentifier`` (Service Authorization Reference for AWS Batch, shipped as
  parliament's ``iam_definition.json``; Batch User Guide, "Resource: Use the
  batch:ShareIdentifier condition key").
* EventBridge assumes a target's role as ``events.amazonaws.com`` with aws:SourceArn = the
  rule's ARN; Step Functions assumes a state machine's role as ``states.amazonaws.com`` with
  aws:SourceArn = the machine's ARN (each service's confused-deputy guidance).
* S3 server access logs are delivered by ``logging.s3.amazonaws.com`` under the target
  bucket's policy (aws:SourceArn = source bucket, aws:SourceAccount), only to a bucket in the
  same region, and not to a bucket whose default encryption is SSE-KMS (S3 User Guide,
  "Enabling Amazon S3 server access logging").
* CloudTrail: ``s3:GetBucketAcl`` on the bucket and ``s3:PutObject`` on
  ``AWSLogs/<account>/*`` with ``s3:x-amz-acl = bucket-owner-full-control``; the key policy
  lets ``cloudtrail.amazonaws.com`` ``kms:GenerateDataKey*`` with the encryption context
  ``aws:cloudtrail:arn`` (CloudTrail User Guide, bucket and KMS key policies).
* SSE-KMS with S3 Bucket Keys: the encryption context S3 sends to KMS is the *bucket* ARN
  (S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys"); without
  Bucket Keys, the object ARN.
* Firehose assumes its role with ``sts:ExternalId`` = the account id and writes its S3
  backup with ``kms:GenerateDataKey``/``kms:Decrypt`` (Firehose Developer Guide, "Grant
  Firehose access to an Amazon S3 destination").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from mlplatform.graph import GraphResource
from mlplatform.reports.findings import Rule

from .policy_eval import Policy, Request

ALLOW, DENY = "allow", "deny"

#: Service-linked roles that launch Batch instances, by compute capacity type. Paths are
#: fixed by AWS: aws-service-role/<service principal>/<role name>.
AUTOSCALING_SLR = "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
SPOT_SLR = "aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot"
LAUNCHING_ROLES = {"EC2": (AUTOSCALING_SLR,), "SPOT": (AUTOSCALING_SLR, SPOT_SLR)}
#: What launching an instance with an encrypted EBS volume does with the key.
EBS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                   "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey")
#: The sample hour folder used for objects SageMaker writes by date.
SAMPLE_HOUR = "2026/01/01/00/"
SCHEDULER_SUBMIT_JOB = "arn:aws:scheduler:::aws-sdk:batch:submitJob"

DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"


def _rule(rule_id: str, name: str, description: str, remediation: str) -> Rule:
    return Rule(rule_id, name, description, remediation, DOCS)


@dataclass(frozen=True)
class FlowKind:
    """One kind of flow: its rule, who acts, what and where, as the derivation reads it."""

    rule: Rule
    actor: str
    actions: tuple[str, ...]
    target: str
    derive: str  # name of the function in .derive


FLOW_KINDS: tuple[FlowKind, ...] = (
    FlowKind(
        _rule("MLP-FLOW-CAPTURE", "Endpoint data capture reaches the drift Lambda and Model Monitor",
              "The endpoint's execution role writes capture under the endpoint configuration's destination "
              "plus <endpoint-name>/<variant>/yyyy/mm/dd/hh/ with the capture key; the drift Lambda (its "
              "DRIFT_BUCKET/DRIFT_CAPTURE_PREFIX and its role) and the Model Monitor role list and read exactly there.",
              "Derive the capture destination, DRIFT_CAPTURE_PREFIX and every reader policy from one function "
              "that owns the capture location."),
        actor="serving role (writer); drift Lambda role, Model Monitor role (readers)",
        actions=("s3:PutObject", "kms:GenerateDataKey", "s3:ListBucket", "s3:GetObject", "kms:Decrypt"),
        target="team artifact bucket, capture prefix, team key", derive="capture_flows"),
    FlowKind(
        _rule("MLP-FLOW-MODELS", "Training writes the model artifact that serving reads",
              "The team's training role may write the model artifact prefix a SageMaker Model serves from, and the "
              "model's execution role may list and read it and decrypt it with the bucket's key.",
              "Grant training write and serving read on the artifact prefix (models/...), in the roles, the "
              "bucket policy's model readers and the key policy."),
        actor="training role (writer), model execution role (reader)",
        actions=("s3:PutObject", "kms:GenerateDataKey", "s3:ListBucket", "s3:GetObject", "kms:Decrypt"),
        target="model artifact S3 prefix, bucket key", derive="model_flows"),
    FlowKind(
        _rule("MLP-FLOW-BATCH-KEY", "Batch can launch instances with the team key",
              "Every compute environment's launch template encrypts EBS with the team key: the Auto Scaling "
              "(and, for Spot, EC2 Spot) service-linked roles must be allowed kms:CreateGrant with "
              "kms:GrantIsForAWSResource and Encrypt/Decrypt/ReEncrypt*/GenerateDataKey*/DescribeKey by the key policy.",
              "Add the service-linked roles to the key policy (use and grant statements) of the key the launch "
              "template names."),
        actor="AWSServiceRoleForAutoScaling, AWSServiceRoleForEC2Spot",
        actions=("kms:CreateGrant", *EBS_KEY_ACTIONS), target="launch template EBS key", derive="batch_key_flows"),
    FlowKind(
        _rule("MLP-FLOW-RETRAIN", "Retraining submissions reach the training queue",
              "A retraining trigger submits to an existing job queue and job definition; a fair-share queue needs a "
              "shareIdentifier the submission carries and the queue's policy knows, and a scheduling priority; the "
              "submitting role is trusted by the invoking service and allowed batch:SubmitJob on the queue and the job "
              "definition with that batch:ShareIdentifier. Through Step Functions, the rule's role is trusted by "
              "EventBridge for that rule and may states:StartExecution the machine, whose batch:submitJob task is the "
              "request and whose role submits it.",
              "Submit through a Step Functions batch:submitJob task (or EventBridge Scheduler's batch:submitJob "
              "universal target) with ShareIdentifier and SchedulingPriorityOverride, and name a job definition the "
              "estate creates."),
        actor="rule's role (EventBridge), state machine role (Step Functions), or schedule role",
        actions=("sts:AssumeRole", "states:StartExecution", "batch:SubmitJob"),
        target="job queue and job definition", derive="retrain_flows"),
    FlowKind(
        _rule("MLP-FLOW-FIREHOSE-BACKUP", "Firehose can write failed deliveries to its backup bucket",
              "The delivery stream's role is trusted by Firehose and may put objects in the backup bucket "
              "under the stream's key, which the key policy lets it use.",
              "Grant the Firehose role S3 and KMS access to the backup bucket and key."),
        actor="Firehose role", actions=("sts:AssumeRole", "s3:PutObject", "kms:GenerateDataKey"),
        target="backup bucket and key", derive="firehose_flows"),
    FlowKind(
        _rule("MLP-FLOW-CLOUDTRAIL", "CloudTrail delivers to its bucket, key, topic and log group",
              "cloudtrail.amazonaws.com may check the bucket ACL, put log files under AWSLogs/<account>/, generate "
              "data keys with the trail's encryption context, publish to its topic, and assume the role that writes "
              "the CloudWatch log group, whose key lets CloudWatch Logs encrypt it.",
              "Fix the bucket, key, topic or role policy named in the finding."),
        actor="cloudtrail.amazonaws.com, CloudTrail logs role, logs.<region>.amazonaws.com",
        actions=("s3:GetBucketAcl", "s3:PutObject", "kms:GenerateDataKey", "sns:Publish",
                 "logs:CreateLogStream", "logs:PutLogEvents"),
        target="trail bucket, platform key, topic, log group", derive="cloudtrail_flows"),
    FlowKind(
        _rule("MLP-FLOW-ACCESS-LOGS", "S3 server access logs reach their target bucket",
              "logging.s3.amazonaws.com may put objects under the target prefix (aws:SourceArn = the source "
              "bucket), the target is in the source's region and is not encrypted with SSE-KMS.",
              "Allow the source bucket in the target's bucket policy; keep the target SSE-S3 and in the same region."),
        actor="logging.s3.amazonaws.com", actions=("s3:PutObject",), target="access-log bucket prefix",
        derive="access_log_flows"),
    FlowKind(
        _rule("MLP-FLOW-FEATURES-ABAC", "People read features by attributes",
              "The consumer role reads every non-PII feature group (online records and offline objects); it reads a "
              "PII group only when the session carries pii-access=true, and is denied without it.",
              "Keep the consumer's ABAC statements and the feature groups' pii tags in step."),
        actor="consumer role (with and without pii-access)",
        actions=("sagemaker:GetRecord", "s3:GetObject", "kms:Decrypt"), target="feature groups and offline store",
        derive="feature_flows"),
    FlowKind(
        _rule("MLP-FLOW-REPLICATION", "S3 replication reads the source and writes the replica under both keys",
              "The replication role is trusted by S3, reads source versions and decrypts them with the source key "
              "(encryption context: the source bucket ARN under Bucket Keys) and writes replicas encrypted with the "
              "replica key (context: the replica bucket ARN).",
              "Condition the replication role's KMS statements on the bucket ARN when Bucket Keys are enabled."),
        actor="replication role", actions=("s3:GetObjectVersionForReplication", "kms:Decrypt", "s3:ReplicateObject",
                                           "kms:Encrypt", "kms:GenerateDataKey"),
        target="source and replica buckets and keys", derive="replication_flows"),
    FlowKind(
        _rule("MLP-FLOW-ALARM-TOPIC", "Alarms reach their encrypted topics",
              "cloudwatch.amazonaws.com may publish to every topic an alarm notifies, and the topic's key policy "
              "lets it generate data keys and decrypt.",
              "Allow cloudwatch.amazonaws.com in the topic policy and the topic key's policy."),
        actor="cloudwatch.amazonaws.com", actions=("sns:Publish", "kms:GenerateDataKey*", "kms:Decrypt"),
        target="alarm action topics and their keys", derive="alarm_topic_flows"),
)

RULES = {kind.rule.id: kind.rule for kind in FLOW_KINDS}


@dataclass(frozen=True)
class Step:
    """One request of a flow with the policies AWS evaluates for it."""

    description: str
    request: Request
    #: identity policies of the principal (None: not all in the plan); ignored for services
    identity: Optional[tuple[Policy, ...]]
    resource_policy: Optional[Policy] = None
    key_policy: bool = False
    expect: str = ALLOW
    identity_note: str = ""


@dataclass
class Flow:
    """A concrete flow of this plan: the requests it makes and the locations that must agree."""

    rule_id: str
    title: str
    subject: GraphResource
    steps: list[Step] = field(default_factory=list)
    #: (writer label, writer location, reader label, reader location)
    locations: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: definite defects found while deriving (a missing job definition, a KMS log target...)
    problems: list[str] = field(default_factory=list)
    #: what could not be derived from this plan (a flow with any is unproven)
    unproven: list[str] = field(default_factory=list)
