"""Every IAM policy document a plan carries, found by resource type and made lintable.

A plan holds IAM documents in three roles, and AWS reads each role differently:

* **identity** policies (role, user, group and managed policies) grant their holder actions
  on the resources they name;
* **trust** policies (a role's ``assumeRolePolicy``) say who may assume the role. They have
  no ``Resource`` element: the resource is the role itself (IAM User Guide, "Roles terms and
  concepts" and the policy grammar, where a trust policy's statement has a Principal and no
  Resource);
* **resource** policies (bucket, key, topic, queue, repository, secret, model package group,
  function permission, ...) are attached to the resource and name the principals they let
  in.

:data:`DOCUMENT_FIELDS` says, per Pulumi type, which input holds a document and in which
role; :data:`NOT_IAM_FIELDS` lists, with a reason, the inputs whose name says "policy" but
that hold no IAM document (scaling, lifecycle, fair-share policies, ARNs of policies
defined elsewhere). A test keeps the two complete for every type of the shipped estate, so
a new policy-bearing type cannot slip past the lint.

A Lambda permission has no document in the plan: AWS writes one statement into the
function's resource policy on ``AddPermission``; :func:`lambda_permission_statement` builds
that statement from the permission's inputs the way the Lambda developer guide shows it
(Principal from ``principal``, ``Condition`` ``ArnLike aws:SourceArn`` /
``StringEquals aws:SourceAccount`` / ``aws:PrincipalOrgID`` / ``lambda:FunctionUrlAuthType``
/ ``lambda:EventSourceToken`` from the matching inputs).

This module only finds and shapes documents; :mod:`mlplatform.verify.iam_lint` lints them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from ..graph import UNKNOWN, GraphResource, ResourceGraph, is_secret, is_unknown
from ..stackconfig import StackConfig
from ..type_tokens import (
    APIGATEWAY_DOMAIN_NAME, APIGATEWAY_REST_API, APIGATEWAY_REST_API_POLICY, APPAUTOSCALING_POLICY, BACKUP_VAULT_POLICY,
    BATCH_COMPUTE_ENVIRONMENT, BATCH_JOB_QUEUE, BATCH_SCHEDULING_POLICY, CLOUDWATCH_EVENT_BUS_POLICY,
    CLOUDWATCH_EVENT_TARGET, CLOUDWATCH_LOG_DESTINATION_POLICY, CLOUDWATCH_LOG_RESOURCE_POLICY,
    DYNAMODB_RESOURCE_POLICY, ECR_LIFECYCLE_POLICY, ECR_REGISTRY_POLICY, ECR_REPOSITORY_POLICY, EFS_FILE_SYSTEM_POLICY,
    GLUE_RESOURCE_POLICY, IAM_GROUP_POLICY, IAM_POLICY, IAM_ROLE, IAM_ROLE_POLICY, IAM_ROLE_POLICY_ATTACHMENT,
    IAM_USER_POLICY, KINESIS_RESOURCE_POLICY, KMS_KEY, KMS_KEY_POLICY, LAMBDA_PERMISSION, OPENSEARCH_DOMAIN,
    OPENSEARCH_DOMAIN_POLICY, S3_ACCESS_POINT, S3_BUCKET, S3_BUCKET_POLICY, S3_BUCKET_PUBLIC_ACCESS_BLOCK,
    ROUTE53_RECORD, SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY, SECRETSMANAGER_SECRET_POLICY, SNS_TOPIC, SNS_TOPIC_POLICY,
    SNS_TOPIC_SUBSCRIPTION, SQS_QUEUE, SQS_QUEUE_POLICY, SSOADMIN_PERMISSION_SET_INLINE_POLICY)
from .apply_values import partition_of

IDENTITY, TRUST, RESOURCE = "identity", "trust", "resource"

#: Field name of documents synthesised rather than read from an input (the Lambda API call that writes them).
SYNTHESISED = "AddPermission"


@dataclass(frozen=True)
class DocumentField:
    """One input of one Pulumi type that holds an IAM policy document."""

    field: str  # camelCase input name as it appears in the graph
    role: str  # IDENTITY, TRUST or RESOURCE
    what: str  # how a finding names it, e.g. "key policy"
    #: the input is a list of {name, policy} objects (a role's inline policies)
    inline_list: bool = False


def _identity(field: str = "policy", what: str = "identity policy") -> tuple[DocumentField, ...]:
    return (DocumentField(field, IDENTITY, what),)


def _resource(field: str, what: str) -> tuple[DocumentField, ...]:
    return (DocumentField(field, RESOURCE, what),)


KMS_KEY_TYPES = (KMS_KEY, KMS_KEY_POLICY)

#: Pulumi type -> the inputs that hold IAM documents (pulumi-aws v7 input names).
DOCUMENT_FIELDS: dict[str, tuple[DocumentField, ...]] = {
    # identity policies
    IAM_POLICY: _identity(what="managed policy"),
    IAM_ROLE_POLICY: _identity(what="role policy"),
    IAM_USER_POLICY: _identity(what="user policy"),
    IAM_GROUP_POLICY: _identity(what="group policy"),
    IAM_ROLE: (
        DocumentField("assumeRolePolicy", TRUST, "trust policy"),
        DocumentField("inlinePolicies", IDENTITY, "inline policy", inline_list=True),
    ),
    SSOADMIN_PERMISSION_SET_INLINE_POLICY:
        _identity("inlinePolicy", "permission set policy"),
    # resource policies
    KMS_KEY: _resource("policy", "key policy"),
    KMS_KEY_POLICY: _resource("policy", "key policy"),
    S3_BUCKET: _resource("policy", "bucket policy"),
    S3_BUCKET_POLICY: _resource("policy", "bucket policy"),
    S3_ACCESS_POINT: _resource("policy", "access point policy"),
    SNS_TOPIC: _resource("policy", "topic policy"),
    SNS_TOPIC_POLICY: _resource("policy", "topic policy"),
    SQS_QUEUE: _resource("policy", "queue policy"),
    SQS_QUEUE_POLICY: _resource("policy", "queue policy"),
    ECR_REPOSITORY_POLICY: _resource("policy", "repository policy"),
    ECR_REGISTRY_POLICY: _resource("policy", "registry policy"),
    SECRETSMANAGER_SECRET_POLICY: _resource("policy", "secret policy"),
    SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY:
        _resource("resourcePolicy", "model package group policy"),
    GLUE_RESOURCE_POLICY: _resource("policy", "Glue catalog policy"),
    CLOUDWATCH_LOG_RESOURCE_POLICY: _resource("policyDocument", "log resource policy"),
    CLOUDWATCH_LOG_DESTINATION_POLICY: _resource("accessPolicy", "log destination policy"),
    CLOUDWATCH_EVENT_BUS_POLICY: _resource("policy", "event bus policy"),
    BACKUP_VAULT_POLICY: _resource("policy", "backup vault policy"),
    EFS_FILE_SYSTEM_POLICY: _resource("policy", "file system policy"),
    KINESIS_RESOURCE_POLICY: _resource("policy", "stream policy"),
    DYNAMODB_RESOURCE_POLICY: _resource("policy", "table policy"),
    OPENSEARCH_DOMAIN_POLICY: _resource("accessPolicies", "domain access policy"),
    OPENSEARCH_DOMAIN: _resource("accessPolicies", "domain access policy"),
    APIGATEWAY_REST_API_POLICY: _resource("policy", "API policy"),
    APIGATEWAY_REST_API: _resource("policy", "API policy"),
    APIGATEWAY_DOMAIN_NAME: _resource("policy", "private custom domain policy"),
    LAMBDA_PERMISSION: _resource(SYNTHESISED, "function policy statement"),
}

#: (type, input) pairs whose name says "polic(y|ies)" but that hold no IAM document.
NOT_IAM_FIELDS: dict[tuple[str, str], str] = {
    (IAM_ROLE, "managedPolicyArns"): "ARNs of managed policies; their documents are linted where they are defined",
    (IAM_ROLE, "permissionsBoundary"): "ARN of the boundary policy, defined outside the plan (the stack config)",
    (IAM_ROLE, "forceDetachPolicies"): "a boolean delete option",
    (IAM_ROLE_POLICY_ATTACHMENT, "policyArn"):
        "ARN of an attached policy; its document is linted where it is defined (AWS managed ones are AWS's)",
    (KMS_KEY, "bypassPolicyLockoutSafetyCheck"): "a boolean API option",
    (S3_BUCKET_PUBLIC_ACCESS_BLOCK, "blockPublicPolicy"): "a boolean S3 setting",
    (ECR_LIFECYCLE_POLICY, "policy"): "ECR image lifecycle rules (JSON), not an IAM document",
    (BATCH_JOB_QUEUE, "schedulingPolicyArn"): "ARN of a Batch fair-share scheduling policy",
    (BATCH_SCHEDULING_POLICY, "fairSharePolicy"): "Batch fair-share weights, not IAM",
    (BATCH_COMPUTE_ENVIRONMENT, "updatePolicy"): "compute environment update settings",
    (APPAUTOSCALING_POLICY, "policyType"): "Application Auto Scaling policy type, not IAM",
    (APPAUTOSCALING_POLICY, "targetTrackingScalingPolicyConfiguration"): "scaling settings, not IAM",
    (APPAUTOSCALING_POLICY, "stepScalingPolicyConfiguration"): "scaling settings, not IAM",
    (APPAUTOSCALING_POLICY, "predictiveScalingPolicyConfiguration"): "scaling settings, not IAM",
    (CLOUDWATCH_EVENT_TARGET, "retryPolicy"): "EventBridge retry settings, not IAM",
    (SNS_TOPIC, "deliveryPolicy"): "SNS HTTP delivery retry policy (JSON), not IAM",
    (SNS_TOPIC, "archivePolicy"): "SNS FIFO message archive settings (JSON), not IAM",
    (SNS_TOPIC_SUBSCRIPTION, "deliveryPolicy"): "SNS HTTP delivery retry policy, not IAM",
    (SNS_TOPIC_SUBSCRIPTION, "filterPolicy"): "SNS message filter (JSON), not IAM",
    (SNS_TOPIC_SUBSCRIPTION, "filterPolicyScope"): "SNS message filter scope, not IAM",
    (SNS_TOPIC_SUBSCRIPTION, "redrivePolicy"): "SNS dead-letter settings, not IAM",
    (SNS_TOPIC_SUBSCRIPTION, "replayPolicy"): "SNS FIFO replay settings, not IAM",
    (SQS_QUEUE, "redrivePolicy"): "SQS dead-letter settings (JSON), not IAM",
    (SQS_QUEUE, "redriveAllowPolicy"): "SQS dead-letter source settings (JSON), not IAM",
    (APIGATEWAY_DOMAIN_NAME, "securityPolicy"): "TLS security policy name (TLS_1_2), not IAM",
    (APIGATEWAY_REST_API, "securityPolicy"): "TLS security policy name, not IAM",
    **{(ROUTE53_RECORD, field): "DNS routing settings, not IAM" for field in (
        "cidrRoutingPolicy", "failoverRoutingPolicies", "geolocationRoutingPolicies", "geoproximityRoutingPolicy",
        "latencyRoutingPolicies", "multivalueAnswerRoutingPolicy", "weightedRoutingPolicies")},
}


@dataclass
class PolicyDocument:
    """One document to lint, with where it came from.

    ``text`` is the document as the plan holds it (a JSON string, or ``None`` when it
    holds something else); ``value`` is the raw input value, for the findings that say why
    it cannot be linted.
    """

    resource: GraphResource
    field: str
    role: str
    what: str
    value: Any
    #: a structured document built by us (Lambda permission) instead of read from an input
    synthesised: Optional[dict[str, Any]] = None
    #: what the lint puts in a statement without Resource (the role a trust policy guards)
    implicit_resource: Optional[str] = None
    #: True for KMS key policies, whose Resource "*" means "this key"
    key_policy: bool = False

    @property
    def label(self) -> str:
        """``trust policy (assumeRolePolicy)``: what a finding calls the document."""
        return f"{self.what} ({self.field})"


def iter_documents(graph: ResourceGraph, stack: StackConfig) -> Iterator[PolicyDocument]:
    """Every IAM document of ``graph``, in URN order.

    A document input that is absent or ``None`` is not a document; one that is unknown,
    secret, not a string, or not JSON still is, and the lint reports why it cannot read it.
    """
    for resource in graph:
        fields = DOCUMENT_FIELDS.get(resource.type)
        if not fields:
            continue
        for spec in fields:
            if spec.field == SYNTHESISED:
                yield _lambda_permission_document(graph, resource, stack, spec)
                continue
            value = resource.inputs.get(spec.field)
            if value is None:
                continue
            if spec.inline_list:
                yield from _inline_policies(resource, spec, value)
                continue
            yield PolicyDocument(
                resource=resource, field=spec.field, role=spec.role, what=spec.what, value=value,
                implicit_resource=_role_arn(graph, resource, stack) if spec.role == TRUST else None,
                key_policy=resource.type in KMS_KEY_TYPES,
            )


def _inline_policies(resource: GraphResource, spec: DocumentField, value: Any) -> Iterator[PolicyDocument]:
    if not isinstance(value, list):
        yield PolicyDocument(resource, spec.field, spec.role, spec.what, value)
        return
    for index, item in enumerate(value):
        policy = item.get("policy") if isinstance(item, dict) else item
        name = item.get("name") if isinstance(item, dict) else None
        if policy is None and isinstance(item, dict):
            continue  # an empty inline-policy block is how pulumi-aws removes them all
        label = f"{spec.field}[{name if isinstance(name, str) and not is_unknown(name) else index}]"
        yield PolicyDocument(resource, label, spec.role, spec.what, policy)


# ----------------------------------------------------------------- ARNs the lint needs




def region_of(graph: ResourceGraph, resource: GraphResource, stack: StackConfig) -> str:
    """The region a resource is created in: its provider's ``region``, else the stack's."""
    provider = graph.get(resource.provider) if resource.provider else None
    region = provider.inputs.get("region") if provider is not None else None
    if isinstance(region, str) and region and not is_unknown(region):
        return region
    own = resource.inputs.get("region")
    return own if isinstance(own, str) and own and not is_unknown(own) else stack.region


def _known_text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value and not is_unknown(value) else None


def _role_arn(graph: ResourceGraph, role: GraphResource, stack: StackConfig) -> str:
    """The ARN of the role a trust policy guards: the Resource the trust statement acts on.

    Only its form matters to the lint (``arn:<partition>:iam::<account>:role/<path><name>``,
    the role resource type of the Service Authorization Reference for ``sts:AssumeRole``);
    an autoname not yet known becomes ``*`` within that form.
    """
    partition = partition_of(region_of(graph, role, stack))
    path = _known_text(role.inputs.get("path")) or "/"
    name = _known_text(role.inputs.get("name")) or "*"
    return f"arn:{partition}:iam::{stack.account_id}:role{path}{name}"


# ------------------------------------------------------------- Lambda permission statement

_ACCOUNT = re.compile(r"^\d{12}$")


def _principal_element(principal: str) -> Any:
    """AddPermission's ``Principal`` as the statement holds it (Lambda developer guide)."""
    if principal == "*":
        return "*"
    if _ACCOUNT.match(principal) or principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}


def lambda_permission_statement(inputs: dict[str, Any], function_arn: str) -> dict[str, Any]:
    """The statement Lambda's ``AddPermission`` writes into the function policy.

    Values are copied as they are (an unknown input stays the unknown marker, which the
    lint reports); absent optional inputs add no condition.
    """
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": _principal_element(inputs["principal"]) if isinstance(inputs.get("principal"), str)
        and not is_unknown(inputs.get("principal")) else inputs.get("principal"),
        "Action": inputs.get("action"),
        "Resource": function_arn,
    }
    statement_id = inputs.get("statementId")
    if isinstance(statement_id, str) and not is_unknown(statement_id):
        statement["Sid"] = statement_id
    condition: dict[str, dict[str, Any]] = {}
    for field, operator, key in (
        ("sourceArn", "ArnLike", "AWS:SourceArn"),
        ("sourceAccount", "StringEquals", "AWS:SourceAccount"),
        ("principalOrgId", "StringEquals", "aws:PrincipalOrgID"),
        ("functionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType"),
        ("eventSourceToken", "StringEquals", "lambda:EventSourceToken"),
    ):
        if inputs.get(field) is not None:
            condition.setdefault(operator, {})[key] = inputs[field]
    if condition:
        statement["Condition"] = condition
    return statement


def _function_arn(graph: ResourceGraph, permission: GraphResource, stack: StackConfig) -> Any:
    """The ARN the permission's statement names: ``function`` as given when it is an ARN,
    else ``arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]``."""
    function = permission.inputs.get("function")
    if not isinstance(function, str) or is_unknown(function):
        return function
    if function.startswith("arn:"):
        arn = function
    else:
        region = region_of(graph, permission, stack)
        arn = f"arn:{partition_of(region)}:lambda:{region}:{stack.account_id}:function:{function}"
    qualifier = permission.inputs.get("qualifier")
    if isinstance(qualifier, str) and qualifier:
        arn = f"{arn}:{qualifier}"
    return arn


def _lambda_permission_document(graph: ResourceGraph, resource: GraphResource, stack: StackConfig,
                                spec: DocumentField) -> PolicyDocument:
    statement = lambda_permission_statement(resource.inputs, _function_arn(graph, resource, stack))
    document = {"Version": "2012-10-17", "Statement": [statement]}
    return PolicyDocument(resource=resource, field=spec.field, role=spec.role, what=spec.what,
                          value=document, synthesised=document)


# ----------------------------------------------------------------- reading the document


class UnreadableDocument(ValueError):
    """A document the lint cannot read: why, in one line."""


def parse_document(document: PolicyDocument) -> dict[str, Any]:
    """The document as a JSON object, or :class:`UnreadableDocument` saying why not.

    JSON is parsed strictly (Python's ``json``): IAM accepts only RFC 8259 JSON, while the
    parser parliament uses (jsoncfg) also accepts comments and unquoted keys.
    """
    if document.synthesised is not None:
        return document.synthesised
    value = document.value
    if is_unknown(value):
        raise UnreadableDocument("unknown until apply (Pulumi's unknown marker): it cannot be linted offline")
    if is_secret(value):
        raise UnreadableDocument("a secret value (redacted in the plan): it cannot be linted")
    if isinstance(value, dict):
        parsed: Any = value  # a preview or export may hold the document as an object
    elif isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise UnreadableDocument(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    else:
        raise UnreadableDocument(f"expected a JSON policy document, found a {type(value).__name__}")
    if not isinstance(parsed, dict):
        raise UnreadableDocument(f"expected a JSON object, found a JSON {type(parsed).__name__}")
    return parsed


def unknown_paths(value: Any, path: str = "") -> list[str]:
    """JSON paths (``Statement[2].Resource[0]``) of every unknown marker inside ``value``.

    A string that merely contains the marker (an ARN built from an unknown id) counts too.
    """
    if isinstance(value, str):
        return [path or "(document)"] if UNKNOWN in value else []
    if isinstance(value, dict):
        if is_secret(value):
            return [f"{path or '(document)'} (secret)"]
        found: list[str] = []
        for key, item in value.items():
            found += unknown_paths(item, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(value, list):
        found = []
        for index, item in enumerate(value):
            found += unknown_paths(item, f"{path}[{index}]")
        return found
    return []
