"""Grants of the resources a component names by ARN: each class is one resource granting access
to itself, as CDK's ``table.grantReadWriteData(role)`` or ``topic.grantPublish(role)`` is.

The bucket and the key have their own primitives (:class:`components.secure_bucket.BucketAccess`,
:class:`components.managed_key.KeyAccess`); this module holds the grants of every other resource
a role of the estate is given access to, so each statement (its actions, its resource, its
condition) is written once:

* :class:`LogGroupAccess` writes a log group's streams;
* :class:`MetricNamespace` publishes metrics under one namespace (``cloudwatch:namespace``);
* :class:`EndpointAccess` invokes or describes a SageMaker endpoint;
* :class:`TableAccess` reads and writes a DynamoDB table's items;
* :class:`TopicAccess` / :class:`QueueAccess` publish to SNS topics / send to an SQS queue;
* :class:`StateMachineAccess` starts a Step Functions state machine;
* :class:`DeliveryStreamAccess` puts records into a Firehose stream;
* :class:`SecretAccess` reads a Secrets Manager secret;
* :func:`grant_xray_write` and :func:`grant_lambda_vpc_access`: what a Lambda function needs
  from services whose actions take no resource of ours.

The statements go to a role through :func:`components.service_role.grant_to_role`, the one
place an inline role policy is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Protocol, Sequence

from .iam import Principal, Statement, allow, deny_insecure_transport, document

#: Writing log events: the stream is created by the writer, then written (CloudWatch Logs API
#: reference, CreateLogStream and PutLogEvents; both take the ``log-stream`` resource).
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
#: Sending traces to X-Ray (a function with active tracing). Neither action supports
#: resource-level permissions (Service Authorization Reference, AWS X-Ray), so the resource is ``*``.
XRAY_WRITE_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
#: ... and reading the sampling rules, which a tracer that samples itself also needs (Step Functions
#: Developer Guide, "IAM policies for AWS X-Ray in Step Functions"; no resource-level permissions either).
XRAY_SAMPLING_ACTIONS = ("xray:GetSamplingRules", "xray:GetSamplingTargets")
#: Attaching a Lambda function to subnets (Lambda Developer Guide, "Giving Lambda functions
#: access to resources in an Amazon VPC", the execution role's network-interface permissions).
LAMBDA_ENI_ACTIONS = ("ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                      "ec2:UnassignPrivateIpAddresses")
#: Item reads and writes of a cache table: nothing that scans, deletes or changes the table.
TABLE_READ_WRITE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
#: Putting records into a Firehose delivery stream (one or a batch).
FIREHOSE_PUT_ACTIONS = ("firehose:PutRecord", "firehose:PutRecordBatch")


@dataclass(frozen=True)
class LogGroupAccess:
    """A CloudWatch Logs log group, by name."""

    #: the log group's region
    region: str
    #: the log group's account
    account_id: str
    #: the log group's name (``/aws/lambda/<function>``)
    name: str

    @property
    def arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{self.name}"

    def grant_write(self, streams: str = "*", sid: Optional[str] = None, create_group: bool = False) -> Statement:
        """Create streams in the group and write events to them (:data:`LOG_WRITE_ACTIONS`), on
        ``<group ARN>:<streams>``: ``*`` (every stream) or ``log-stream:*`` (the streams' own ARN
        form, as CloudTrail's delivery role is documented with). With ``create_group``, also
        ``logs:CreateLogGroup``: for a writer whose service creates the group on first use (the
        estate creates every other group itself, encrypted and retained)."""
        actions = [*LOG_WRITE_ACTIONS, *(("logs:CreateLogGroup",) if create_group else ())]
        return allow(actions, f"{self.arn}:{streams}", sid=sid)


@dataclass(frozen=True)
class MetricNamespace:
    """A CloudWatch metric namespace. ``cloudwatch:PutMetricData`` takes no resource (Service
    Authorization Reference, Amazon CloudWatch): the statement names ``*`` and the
    ``cloudwatch:namespace`` condition key narrows it to the one namespace."""

    #: the namespace (``MLPlatform/Drift``, ``aws/sagemaker/Endpoints/data-metrics``)
    namespace: str

    def grant_put_metric_data(self, sid: Optional[str] = None) -> Statement:
        """Publish metrics under this namespace only."""
        return allow("cloudwatch:PutMetricData", "*", sid=sid,
                     conditions={"StringEquals": {"cloudwatch:namespace": self.namespace}})


@dataclass(frozen=True)
class EndpointAccess:
    """A SageMaker endpoint, by physical name."""

    #: the endpoint's region
    region: str
    #: the endpoint's account
    account_id: str
    #: the endpoint's name (:func:`mlplatform.naming.endpoint_name`)
    name: str

    @property
    def arn(self) -> str:
        """SageMaker ARNs carry the resource name in lower case, whatever case it was created with."""
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:endpoint/{self.name.lower()}"

    def grant_invoke(self, sid: Optional[str] = None) -> Statement:
        """Call the model (``sagemaker:InvokeEndpoint``) and nothing else."""
        return allow("sagemaker:InvokeEndpoint", self.arn, sid=sid)

    def grant_describe(self, sid: Optional[str] = None) -> Statement:
        """Read the endpoint's description (``sagemaker:DescribeEndpoint``)."""
        return allow("sagemaker:DescribeEndpoint", self.arn, sid=sid)


@dataclass(frozen=True)
class TableAccess:
    """A DynamoDB table, by name."""

    #: the table's region
    region: str
    #: the table's account
    account_id: str
    #: the table's name
    name: str

    @property
    def arn(self) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{self.name}"

    def grant_read_write_items(self, sid: Optional[str] = None) -> Statement:
        """Get and put single items (:data:`TABLE_READ_WRITE_ACTIONS`): a cache's whole use."""
        return allow(list(TABLE_READ_WRITE_ACTIONS), self.arn, sid=sid)


@dataclass(frozen=True)
class TopicAccess:
    """SNS topics, by name (one grant covers several topics of the same account and region)."""

    #: the topics' region
    region: str
    #: the topics' account
    account_id: str
    #: the topics' names
    names: tuple[str, ...]

    @property
    def arns(self) -> list[str]:
        return [f"arn:aws:sns:{self.region}:{self.account_id}:{name}" for name in self.names]

    def grant_publish(self, sid: Optional[str] = None) -> Statement:
        """Publish to the topics (``sns:Publish``)."""
        return allow("sns:Publish", self.arns, sid=sid)


def grant_publish_to_services(topic_arn: str, sid: str, *services: str,
                              conditions: dict[str, dict[str, Any]]) -> Statement:
    """The topic's resource-policy side: AWS ``services`` may publish to it, under ``conditions``
    that pin the source (``aws:SourceAccount``/``aws:SourceArn``) against the confused deputy
    (required: a service principal alone admits any account's resources)."""
    if not conditions:
        raise ValueError(f"{sid}: a service publishing to {topic_arn} must be pinned to its source")
    return allow("sns:Publish", topic_arn, sid=sid, principal=Principal.service(*services), conditions=conditions)


def topic_policy(topic_arn: str, *statements: Statement) -> str:
    """A topic's policy: ``statements``, then the TLS-only deny on publishing
    (:func:`components.iam.deny_insecure_transport`), which every topic carries."""
    return document(*statements, deny_insecure_transport("sns:Publish", topic_arn))


@dataclass(frozen=True)
class QueueAccess:
    """An SQS queue, by name."""

    #: the queue's region
    region: str
    #: the queue's account
    account_id: str
    #: the queue's name
    name: str

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account_id}:{self.name}"

    def grant_send(self, sid: Optional[str] = None) -> Statement:
        """Send messages to the queue (``sqs:SendMessage``): a dead-letter queue's writer."""
        return allow("sqs:SendMessage", self.arn, sid=sid)


@dataclass(frozen=True)
class StateMachineAccess:
    """A Step Functions state machine, by ARN."""

    #: the state machine's ARN
    arn: str

    def grant_start_execution(self, sid: Optional[str] = None) -> Statement:
        """Start executions (``states:StartExecution``): what an EventBridge target role needs."""
        return allow("states:StartExecution", self.arn, sid=sid)


@dataclass(frozen=True)
class DeliveryStreamAccess:
    """A Firehose delivery stream, by ARN."""

    #: the stream's ARN
    arn: str

    def grant_put_records(self, sid: Optional[str] = None) -> Statement:
        """Put records into the stream (:data:`FIREHOSE_PUT_ACTIONS`): a log subscription's role."""
        return allow(list(FIREHOSE_PUT_ACTIONS), self.arn, sid=sid)


@dataclass(frozen=True)
class SecretAccess:
    """A Secrets Manager secret, by ARN."""

    #: the secret's ARN
    arn: str

    def grant_read(self, sid: Optional[str] = None) -> Statement:
        """Read the secret's value (``secretsmanager:GetSecretValue``) and nothing else."""
        return allow("secretsmanager:GetSecretValue", self.arn, sid=sid)


def grant_xray_write(sid: Optional[str] = None, sampling: bool = False) -> Statement:
    """Send trace segments and telemetry (:data:`XRAY_WRITE_ACTIONS`), for active tracing; with
    ``sampling``, read the sampling rules too (:data:`XRAY_SAMPLING_ACTIONS`, a state machine)."""
    return allow([*XRAY_WRITE_ACTIONS, *(XRAY_SAMPLING_ACTIONS if sampling else ())], "*", sid=sid)


class SubnetPlacement(Protocol):
    """The stack's network (:class:`mlplatform.stackconfig.Network`): the subnets and security groups."""

    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]


def grant_lambda_vpc_access(region: str, account_id: str, network: SubnetPlacement) -> list[Statement]:
    """What Lambda needs to attach a function to the stack's subnets: network interfaces only in
    those subnets and security groups (:data:`LAMBDA_ENI_ACTIONS`), and
    ``ec2:DescribeNetworkInterfaces``, which supports no resource-level permissions."""
    ec2 = f"arn:aws:ec2:{region}:{account_id}"
    return [
        allow("ec2:DescribeNetworkInterfaces", "*"),
        allow(list(LAMBDA_ENI_ACTIONS),
              [f"{ec2}:network-interface/*", *(f"{ec2}:subnet/{s}" for s in network.subnet_ids),
               *(f"{ec2}:security-group/{g}" for g in network.security_group_ids)]),
    ]
