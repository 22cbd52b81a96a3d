"""The service role: the one definition of an IAM role that an AWS service assumes.

Every role the estate creates for a service (SageMaker jobs and endpoints, Lambda, EventBridge,
EventBridge Scheduler, Firehose, CloudWatch Logs, S3 replication, CloudTrail, EC2 instances)
is built by :func:`service_role`, so the rules that make such a role safe are written once:

* **confused-deputy conditions** in the trust policy. A service principal alone lets the service
  assume the role on behalf of *any* account's resource that names the role; the global keys
  ``aws:SourceAccount`` and ``aws:SourceArn`` (or a service's own equivalent) pin it to our
  account and, where the ARN is known, to the one resource. Which keys a service sends when it
  assumes a role differs per service, and a key the service does not send makes ``AssumeRole``
  fail (the condition on a missing key never matches), so :data:`SERVICE_TRUST` records, per
  service, what its documentation says it supports, with the source. A service missing from it
  is an error, never a silently unconditioned trust;
* the stack's **permissions boundary**;
* the **maximum session length** (a documented, overridable default);
* a **description** (required: IAM shows it to whoever reviews the account).

No ComponentResource wraps the role: the role keeps the resource name and parent its component
gives it, so moving a component onto this primitive changes no URN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence, Union

import pulumi
import pulumi_aws as aws

from mlplatform.platform_defaults import PLATFORM_DEFAULTS
from mlplatform.stackconfig import StackConfig

from .iam import Principal, Statement, document, from_source_account

#: One hour: the IAM minimum and default. Services renew their own sessions, so a service role
#: never needs longer; a shorter window limits what a leaked session token is worth. Platform
#: default: a stack overrides it with ``mlplatform:defaults: {serviceRoleMaxSessionSeconds: ...}``.
DEFAULT_MAX_SESSION_SECONDS = PLATFORM_DEFAULTS.service_role_max_session_seconds


@dataclass(frozen=True, kw_only=True)
class ServiceTrustSupport:
    """What one AWS service sends when it assumes a role, per its documentation."""

    #: the service sets ``aws:SourceAccount`` to the account of the resource it acts for
    source_account: bool
    #: the service sets ``aws:SourceArn`` to the ARN of the resource it acts for
    source_arn: bool
    #: the service passes the account id as ``sts:ExternalId`` (its documented trust condition)
    external_id_is_account: bool = False
    #: the AWS document the entry rests on, and why a key is not used where it is not
    source: str


#: Confused-deputy support per service principal (the principal's first label; ``logs`` stands
#: for the regional ``logs.<region>.amazonaws.com``). Entries without ``aws:SourceAccount`` are
#: the documented exceptions.
SERVICE_TRUST: Mapping[str, ServiceTrustSupport] = {
    "sagemaker": ServiceTrustSupport(
        source_account=True, source_arn=False,
        source="SageMaker Developer Guide, 'Cross-service confused deputy prevention' "
               "(security-confused-deputy-prevention): aws:SourceAccount in execution-role trust "
               "policies. aws:SourceArn is documented per feature (training job, processing job, "
               "transform job, ...); our execution roles serve several features at once (jobs, "
               "endpoints, feature store, model monitor, MLflow), and a feature that does not send "
               "the ARN would fail to assume the role, so only the account is pinned."),
    "ecs-tasks": ServiceTrustSupport(
        source_account=True, source_arn=True,
        source="Amazon ECS Developer Guide, 'Task IAM role': trust policy with aws:SourceAccount and "
               "aws:SourceArn arn:aws:ecs:<region>:<account>:*."),
    "lambda": ServiceTrustSupport(
        source_account=True, source_arn=False,
        source="AWS Lambda Developer Guide, execution role; AWS's own example trust policy for "
               "lambda.amazonaws.com carries aws:SourceAccount. 'Using source function ARN' states "
               "aws:SourceArn applies only to policies where the function is the target resource, "
               "so it is not used in the execution role's trust."),
    "events": ServiceTrustSupport(
        source_account=True, source_arn=True,
        source="Amazon EventBridge User Guide, 'Cross-service confused deputy prevention': for "
               "event-bus rule targets aws:SourceArn is the rule ARN."),
    "states": ServiceTrustSupport(
        source_account=True, source_arn=True,
        source="AWS Step Functions Developer Guide, 'Creating an IAM role for your state machine', "
               "section 'Prevent cross-service confused deputy issue': the state machine role's trust "
               "carries aws:SourceAccount and aws:SourceArn (the state machine's ARN)."),
    "scheduler": ServiceTrustSupport(
        source_account=True, source_arn=True,
        source="EventBridge Scheduler User Guide, 'Confused deputy prevention': aws:SourceAccount, "
               "and aws:SourceArn must be the schedule group ARN (never a schedule's)."),
    "logs": ServiceTrustSupport(
        source_account=False, source_arn=True,
        source="CloudWatch Logs User Guide, subscription filters to Firehose: the role trusts "
               "logs.<region>.amazonaws.com with aws:SourceArn arn:aws:logs:<region>:<account>:* "
               "(StringLike), the only key it documents; the ARN names the account."),
    "firehose": ServiceTrustSupport(
        source_account=False, source_arn=False, external_id_is_account=True,
        source="Amazon Data Firehose Developer Guide, 'Allow Firehose to assume an IAM role': the "
               "documented trust condition is sts:ExternalId equal to the account id; no "
               "aws:SourceAccount/aws:SourceArn is documented for this role."),
    "s3": ServiceTrustSupport(
        source_account=True, source_arn=False,
        source="Amazon S3 User Guide, 'Setting up permissions for live replication': trust of "
               "s3.amazonaws.com; aws:SourceAccount pins the replicating bucket's account, "
               "aws:SourceArn is not documented for the replication role."),
    "cloudtrail": ServiceTrustSupport(
        source_account=False, source_arn=False,
        source="CloudTrail User Guide, 'Role policy document for CloudTrail to use CloudWatch Logs "
               "for monitoring': confused deputy prevention is not applicable to this role, "
               "aws:SourceArn and aws:SourceAccount are not supported (adding them breaks delivery, "
               "prowler-cloud/prowler#4714). The role can only write the trail's own log group."),
    "apigateway": ServiceTrustSupport(
        source_account=False, source_arn=False,
        source="API Gateway Developer Guide, 'Control access to a REST API with IAM permissions': the role an "
               "AWS service integration uses (its credentials) trusts apigateway.amazonaws.com with no "
               "condition. API Gateway does not populate aws:SourceAccount when it assumes integration "
               "credentials, so the condition denies AssumeRole and every request fails with 500 "
               "(aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws#479, "
               "confirmed with test-invoke-method); no aws:SourceArn is documented either. The role can "
               "only invoke its one SageMaker endpoint (components/front_door.py)."),
    "ec2": ServiceTrustSupport(
        source_account=False, source_arn=False,
        source="EC2 delivers instance-profile credentials without aws:SourceAccount/aws:SourceArn "
               "(IAM User Guide, 'Use an IAM role to grant permissions to applications running on "
               "Amazon EC2 instances' shows the unconditioned trust; AWS Support as quoted in "
               "prowler-cloud/prowler#2810). Who may attach the role is governed by iam:PassRole "
               "and the instance profile, not by the trust policy."),
}

_REGIONAL_SERVICE = re.compile(r"^(?P<name>[a-z0-9-]+)(\.[a-z]{2}(-[a-z]+)+-\d)?\.amazonaws\.com$")


def trust_support(service: str) -> ServiceTrustSupport:
    """The documented confused-deputy support of a service principal (``logs.eu-west-1.amazonaws.com``
    is looked up as ``logs``); an unknown service is an error, so no role is ever trusted blind."""
    match = _REGIONAL_SERVICE.match(service)
    if match is None or match["name"] not in SERVICE_TRUST:
        raise ValueError(f"no confused-deputy entry for service principal {service!r}: add it to "
                         f"components.service_role.SERVICE_TRUST with its AWS source")
    return SERVICE_TRUST[match["name"]]


@dataclass(frozen=True, kw_only=True)
class ServiceTrust:
    """One service that may assume the role, and the resource it acts for."""

    #: the service principal, e.g. ``sagemaker.amazonaws.com``
    service: str
    #: the ARN (or ARN pattern, with ``*``) of the resource the service acts for, when known, or
    #: the ARNs of the several resources it acts for (EventBridge rules sharing one role); used
    #: only where the service sends ``aws:SourceArn`` (an error where it does not). Default: none.
    source_arn: Optional[Union[str, tuple[str, ...]]] = None


def trust_statement(trust: ServiceTrust, account_id: str) -> Statement:
    """``sts:AssumeRole`` for one service, pinned to ``account_id`` (and the source ARN) as far as the
    service documents it."""
    support = trust_support(trust.service)
    conditions: dict[str, dict[str, str]] = from_source_account(account_id) if support.source_account else {}
    if support.external_id_is_account:
        conditions.setdefault("StringEquals", {})["sts:ExternalId"] = account_id
    if trust.source_arn is not None:
        if not support.source_arn:
            raise ValueError(f"{trust.service} does not send aws:SourceArn when it assumes a role; "
                             f"a condition on it would make the role unusable ({support.source})")
        arns = (trust.source_arn,) if isinstance(trust.source_arn, str) else tuple(trust.source_arn)
        if not arns:
            raise ValueError(f"{trust.service}: an empty source_arn pins nothing; pass None instead")
        operator = "ArnLike" if any("*" in arn for arn in arns) else "ArnEquals"
        conditions[operator] = {"aws:SourceArn": arns[0] if isinstance(trust.source_arn, str) else list(arns)}
    return Statement(("sts:AssumeRole",), (), "Allow", principal=Principal.service(trust.service),
                     conditions=conditions)


def service_trust_policy(trusts: tuple[ServiceTrust, ...], account_id: str) -> str:
    """The trust policy: one statement per service, since each service sends different keys."""
    if not trusts:
        raise ValueError("a service role needs at least one trusted service")
    return document(*(trust_statement(trust, account_id) for trust in trusts))


@dataclass(frozen=True, kw_only=True)
class ServiceRoleArgs:
    """Everything a service role is built from."""

    #: the role's physical name (deterministic, so policies can name its ARN at plan time)
    name: str
    #: what the role is for; IAM shows it to whoever reviews the account
    description: str
    #: the services that may assume it (one statement each)
    trusts: tuple[ServiceTrust, ...]
    #: the stack: its account pins the trust, its permissions boundary (if any) caps the role
    stack: StackConfig
    #: the longest session the role issues, in seconds. Default (None): the stack's
    #: ``defaults.service_role_max_session_seconds`` (:data:`DEFAULT_MAX_SESSION_SECONDS` unless overridden).
    max_session_duration: Optional[int] = None
    #: extra tags (the provider's default billing tags apply anyway). Default: none.
    tags: Mapping[str, str] = field(default_factory=dict)


def service_role(resource_name: str, args: ServiceRoleArgs,
                 opts: Optional[pulumi.ResourceOptions] = None) -> aws.iam.Role:
    """The IAM role of :class:`ServiceRoleArgs`, as ``resource_name`` with ``opts`` (the caller's
    parent and provider)."""
    return aws.iam.Role(
        resource_name,
        name=args.name,
        description=args.description,
        assume_role_policy=service_trust_policy(args.trusts, args.stack.account_id),
        max_session_duration=args.max_session_duration or args.stack.defaults.service_role_max_session_seconds,
        permissions_boundary=args.stack.permissions_boundary_arn,
        tags=dict(args.tags) or None,
        opts=opts,
    )


def grant_to_role(resource_name: str, role_name: pulumi.Input[str], statements: Sequence[Statement],
                  opts: Optional[pulumi.ResourceOptions] = None) -> aws.iam.RolePolicy:
    """Attach the grants ``statements`` to the role named ``role_name`` as the inline policy
    ``resource_name`` (with ``opts``: the caller's parent, so the policy's URN is the one it had
    before this primitive).

    The one place a component creates an identity policy: the statements come from the grant
    methods of the resources that own the access (:class:`components.secure_bucket.BucketAccess`,
    :class:`components.managed_key.KeyAccess`, the classes of :mod:`components.grants`, ...), and
    ``tests/test_grants_written_once.py`` fails on an ``aws.iam.RolePolicy`` built anywhere else.
    An empty list is an error: IAM rejects a policy without statements, so a caller with nothing
    to grant creates no policy (it checks first).
    """
    if not statements:
        raise ValueError(f"{resource_name}: a role policy needs at least one statement")
    return aws.iam.RolePolicy(resource_name, role=role_name, policy=document(*statements), opts=opts)
