"""What AWS (and pulumi-aws) compute on apply, per resource type: ids, ARNs, key ids.

The ARN formats are those of the Service Authorization Reference ("Resource types defined
by <service>") and of each service's API reference; the ids are the Terraform AWS
provider's resource ids (what ``resource.id`` holds under Pulumi). Values are derived from
the resource's name inputs and from a hash of its URN, never random, so a resolution is
reproducible. Partition and region come from the resource's provider (or its own
``region`` input), the account from the stack config.

Types absent from :data:`APPLY_VALUES` get an id derived from their URN and, when the SDK
class has an ``arn`` output, a generic ``arn:<partition>:<service>:<region>:<account>:
<type>/<name>``: still concrete and marked simulated, but an acceptance finding on such a
value names a format we have not written down.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

from ..type_tokens import (
    APIGATEWAY_BASE_PATH_MAPPING, APIGATEWAY_DEPLOYMENT, APIGATEWAY_DOMAIN_NAME, APIGATEWAY_INTEGRATION,
    APIGATEWAY_INTEGRATION_RESPONSE, APIGATEWAY_METHOD, APIGATEWAY_METHOD_RESPONSE, APIGATEWAY_METHOD_SETTINGS,
    APIGATEWAY_RESOURCE, APIGATEWAY_REST_API, APIGATEWAY_STAGE, APPAUTOSCALING_POLICY, APPAUTOSCALING_SCHEDULED_ACTION,
    APPAUTOSCALING_TARGET, BATCH_COMPUTE_ENVIRONMENT, BATCH_JOB_DEFINITION, BATCH_JOB_QUEUE, BATCH_SCHEDULING_POLICY,
    BUDGETS_BUDGET, CLOUDTRAIL_TRAIL, CLOUDWATCH_COMPOSITE_ALARM, CLOUDWATCH_DASHBOARD, CLOUDWATCH_EVENT_RULE,
    CLOUDWATCH_EVENT_TARGET, CLOUDWATCH_LOG_GROUP, CLOUDWATCH_LOG_SUBSCRIPTION_FILTER, CLOUDWATCH_METRIC_ALARM,
    DYNAMODB_TABLE, EC2_LAUNCH_TEMPLATE, ECR_LIFECYCLE_POLICY, ECR_REPOSITORY, GLUE_CATALOG_DATABASE,
    GLUE_DATA_QUALITY_RULESET, GLUE_REGISTRY, GLUE_SCHEMA, IAM_INSTANCE_PROFILE, IAM_POLICY, IAM_ROLE, IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT, KINESIS_FIREHOSE_DELIVERY_STREAM, KMS_ALIAS, KMS_KEY, LAMBDA_FUNCTION,
    LAMBDA_PERMISSION, ROUTE53_RECORD, S3_BUCKET, SAGEMAKER_DATA_QUALITY_JOB_DEFINITION, SAGEMAKER_ENDPOINT,
    SAGEMAKER_ENDPOINT_CONFIGURATION, SAGEMAKER_FEATURE_GROUP, SAGEMAKER_MLFLOW_TRACKING_SERVER, SAGEMAKER_MODEL,
    SAGEMAKER_MODEL_PACKAGE_GROUP, SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY, SAGEMAKER_MONITORING_SCHEDULE,
    SCHEDULER_SCHEDULE, SNS_TOPIC, SNS_TOPIC_POLICY, SNS_TOPIC_SUBSCRIPTION, SQS_QUEUE, WAFV2_WEB_ACL,
    WAFV2_WEB_ACL_ASSOCIATION, WAFV2_WEB_ACL_LOGGING_CONFIGURATION)

R = "arn:{partition}:{service}:{region}:{account}:"


@dataclass(frozen=True)
class ApplyValues:
    """How one type's apply-time values are formed (``str.format`` templates)."""

    name: str = "name"  # input property that holds the resource's AWS name
    arn: Optional[str] = None
    id: str = "{name}"
    #: further computed outputs the program may read, by property name
    extra: dict[str, str] = field(default_factory=dict)
    service: str = ""


def _arn(service: str, rest: str, regional: bool = True, account: bool = True) -> str:
    region = "{region}" if regional else ""
    acct = "{account}" if account else ""
    return f"arn:{{partition}}:{service}:{region}:{acct}:{rest}"


APPLY_VALUES: dict[str, ApplyValues] = {
    # S3: bucket ARNs carry neither region nor account; sub-resources are ids by bucket name.
    S3_BUCKET: ApplyValues(
        name="bucket", arn=_arn("s3", "{name}", regional=False, account=False),
        extra={"bucketDomainName": "{name}.s3.amazonaws.com",
               "bucketRegionalDomainName": "{name}.s3.{region}.amazonaws.com", "region": "{region}"}),
    IAM_ROLE: ApplyValues(
        arn=_arn("iam", "role{path}{name}", regional=False), extra={"uniqueId": "AROA{upper17}"}),
    IAM_INSTANCE_PROFILE: ApplyValues(
        arn=_arn("iam", "instance-profile{path}{name}", regional=False), extra={"uniqueId": "AIPA{upper17}"}),
    IAM_POLICY: ApplyValues(arn=_arn("iam", "policy{path}{name}", regional=False), id="{arn}"),
    IAM_ROLE_POLICY: ApplyValues(id="{role}:{name}"),
    IAM_ROLE_POLICY_ATTACHMENT: ApplyValues(id="{role}-{hex20}"),
    KMS_KEY: ApplyValues(arn=_arn("kms", "key/{uuid}"), id="{uuid}", extra={"keyId": "{uuid}"}),
    KMS_ALIAS: ApplyValues(
        arn=_arn("kms", "{name}"), extra={"targetKeyArn": "{target_key_arn}"}),
    SNS_TOPIC: ApplyValues(arn=_arn("sns", "{name}"), id="{arn}"),
    SNS_TOPIC_POLICY: ApplyValues(id="{arn_input}"),
    SNS_TOPIC_SUBSCRIPTION: ApplyValues(arn="{topic}:{uuid}", id="{arn}"),
    SQS_QUEUE: ApplyValues(
        arn=_arn("sqs", "{name}"), id="https://sqs.{region}.amazonaws.com/{account}/{name}",
        extra={"url": "https://sqs.{region}.amazonaws.com/{account}/{name}"}),
    LAMBDA_FUNCTION: ApplyValues(
        arn=_arn("lambda", "function:{name}"),
        extra={"qualifiedArn": R.replace("{service}", "lambda") + "function:{name}:1", "version": "1",
               "invokeArn": "arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/"
                            + R.replace("{service}", "lambda") + "function:{name}/invocations"}),
    LAMBDA_PERMISSION: ApplyValues(name="statementId"),
    CLOUDWATCH_LOG_GROUP: ApplyValues(arn=_arn("logs", "log-group:{name}")),
    CLOUDWATCH_LOG_SUBSCRIPTION_FILTER: ApplyValues(id="cwlsf-{digits10}"),
    CLOUDWATCH_EVENT_RULE: ApplyValues(arn=_arn("events", "rule/{name}")),
    CLOUDWATCH_EVENT_TARGET: ApplyValues(name="targetId", id="{rule}-{name}"),
    CLOUDWATCH_METRIC_ALARM: ApplyValues(arn=_arn("cloudwatch", "alarm:{name}")),
    CLOUDWATCH_COMPOSITE_ALARM: ApplyValues(
        name="alarmName", arn=_arn("cloudwatch", "alarm:{name}")),
    CLOUDWATCH_DASHBOARD: ApplyValues(
        name="dashboardName", arn=_arn("cloudwatch", "dashboard/{name}", regional=False)),
    BATCH_COMPUTE_ENVIRONMENT: ApplyValues(
        arn=_arn("batch", "compute-environment/{name}"),
        extra={"ecsClusterArn": _arn("ecs", "cluster/AWSBatch-{name}-{uuid}")}),
    BATCH_JOB_QUEUE: ApplyValues(arn=_arn("batch", "job-queue/{name}"), id="{arn}"),
    BATCH_JOB_DEFINITION: ApplyValues(
        arn=_arn("batch", "job-definition/{name}:1"), id="{arn}",
        extra={"arnPrefix": _arn("batch", "job-definition/{name}"), "revision": "1"}),
    BATCH_SCHEDULING_POLICY: ApplyValues(
        arn=_arn("batch", "scheduling-policy/{name}"), id="{arn}"),
    EC2_LAUNCH_TEMPLATE: ApplyValues(
        arn=_arn("ec2", "launch-template/lt-{hex17}"), id="lt-{hex17}",
        extra={"latestVersion": "1", "defaultVersion": "1"}),
    ECR_REPOSITORY: ApplyValues(
        arn=_arn("ecr", "repository/{name}"),
        extra={"registryId": "{account}", "repositoryUrl": "{account}.dkr.ecr.{region}.amazonaws.com/{name}"}),
    ECR_LIFECYCLE_POLICY: ApplyValues(name="repository", extra={"registryId": "{account}"}),
    GLUE_CATALOG_DATABASE: ApplyValues(
        arn=_arn("glue", "database/{name}"), id="{account}:{name}", extra={"catalogId": "{account}"}),
    GLUE_REGISTRY: ApplyValues(name="registryName", arn=_arn("glue", "registry/{name}"), id="{arn}"),
    GLUE_SCHEMA: ApplyValues(
        name="schemaName", arn=_arn("glue", "schema/{registry_name}/{name}"), id="{arn}",
        extra={"schemaCheckpoint": "1", "latestSchemaVersion": "1", "nextSchemaVersion": "2"}),
    GLUE_DATA_QUALITY_RULESET: ApplyValues(arn=_arn("glue", "dataQualityRuleset/{name}")),
    KINESIS_FIREHOSE_DELIVERY_STREAM: ApplyValues(
        arn=_arn("firehose", "deliverystream/{name}"), id="{arn}"),
    # SageMaker ARNs hold the resource name in lower case (the API lower-cases it).
    SAGEMAKER_MODEL: ApplyValues(arn=_arn("sagemaker", "model/{lname}")),
    SAGEMAKER_ENDPOINT_CONFIGURATION: ApplyValues(
        arn=_arn("sagemaker", "endpoint-config/{lname}")),
    SAGEMAKER_ENDPOINT: ApplyValues(arn=_arn("sagemaker", "endpoint/{lname}")),
    SAGEMAKER_FEATURE_GROUP: ApplyValues(
        name="featureGroupName", arn=_arn("sagemaker", "feature-group/{lname}")),
    SAGEMAKER_MLFLOW_TRACKING_SERVER: ApplyValues(
        name="trackingServerName", arn=_arn("sagemaker", "mlflow-tracking-server/{lname}"),
        extra={"trackingServerUrl": "https://t-{hex12}.{region}.experiments.sagemaker.aws"}),
    SAGEMAKER_MODEL_PACKAGE_GROUP: ApplyValues(
        name="modelPackageGroupName", arn=_arn("sagemaker", "model-package-group/{lname}")),
    SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY: ApplyValues(name="modelPackageGroupName"),
    SAGEMAKER_MONITORING_SCHEDULE: ApplyValues(
        arn=_arn("sagemaker", "monitoring-schedule/{lname}")),
    SAGEMAKER_DATA_QUALITY_JOB_DEFINITION: ApplyValues(
        arn=_arn("sagemaker", "data-quality-job-definition/{lname}")),
    SCHEDULER_SCHEDULE: ApplyValues(
        arn=_arn("scheduler", "schedule/{group}/{name}"), id="{group}/{name}"),
    CLOUDTRAIL_TRAIL: ApplyValues(
        arn=_arn("cloudtrail", "trail/{name}"), id="{arn}", extra={"homeRegion": "{region}"}),
    BUDGETS_BUDGET: ApplyValues(
        arn=_arn("budgets", "budget/{name}", regional=False), id="{account}:{name}"),
    APPAUTOSCALING_TARGET: ApplyValues(
        name="resourceId", arn=_arn("application-autoscaling", "scalable-target/{hex20}"), id="{name}"),
    APPAUTOSCALING_POLICY: ApplyValues(
        arn=_arn("autoscaling", "scalingPolicy:{uuid}:resource/{service_namespace}/{resource_id}:policyName/{name}")),
    APPAUTOSCALING_SCHEDULED_ACTION: ApplyValues(
        arn=_arn("autoscaling", "scheduledAction:{uuid}:resource/{service_namespace}/{resource_id}"
                                ":scheduledActionName/{name}")),
    # The serving edge (issue 16). API Gateway ARNs carry no account ("Resource types defined by
    # Amazon API Gateway Management"); ids are 10 lowercase letters and digits (REST API) or 6
    # (resource). execute-api ARNs carry the account; WAFv2 ARNs end with <name>/<id>.
    APIGATEWAY_REST_API: ApplyValues(
        arn="arn:{partition}:apigateway:{region}::/restapis/{hex10}", id="{hex10}",
        extra={"rootResourceId": "{hex6}", "executionArn": "arn:{partition}:execute-api:{region}:{account}:{hex10}",
               "createdDate": "2025-01-01T00:00:00Z"}),
    APIGATEWAY_RESOURCE: ApplyValues(id="{hex6}", extra={"path": "/{path_part}"}),
    APIGATEWAY_METHOD: ApplyValues(id="agm-{rest_api}-{resource_id_input}-{http_method}"),
    APIGATEWAY_INTEGRATION: ApplyValues(id="agi-{rest_api}-{resource_id_input}-{http_method}"),
    APIGATEWAY_METHOD_RESPONSE: ApplyValues(
        id="agmr-{rest_api}-{resource_id_input}-{http_method}-{status_code}"),
    APIGATEWAY_INTEGRATION_RESPONSE: ApplyValues(
        id="agir-{rest_api}-{resource_id_input}-{http_method}-{status_code}"),
    APIGATEWAY_DEPLOYMENT: ApplyValues(id="{hex6}", extra={"createdDate": "2025-01-01T00:00:00Z"}),
    APIGATEWAY_STAGE: ApplyValues(
        name="stageName", arn="arn:{partition}:apigateway:{region}::/restapis/{rest_api}/stages/{name}",
        id="ags-{rest_api}-{name}",
        extra={"executionArn": "arn:{partition}:execute-api:{region}:{account}:{rest_api}/{name}",
               "invokeUrl": "https://{rest_api}.execute-api.{region}.amazonaws.com/{name}"}),
    APIGATEWAY_METHOD_SETTINGS: ApplyValues(id="{rest_api}-{stage_name}-{method_path}"),
    APIGATEWAY_DOMAIN_NAME: ApplyValues(
        name="domainName", arn="arn:{partition}:apigateway:{region}::/domainnames/{name}", id="{name}",
        extra={"regionalDomainName": "d-{hex10}.execute-api.{region}.amazonaws.com",
               "regionalZoneId": "Z2FDTNDATAQYW2", "domainNameId": "{hex10}"}),
    APIGATEWAY_BASE_PATH_MAPPING: ApplyValues(id="{domain_name}/"),
    ROUTE53_RECORD: ApplyValues(id="{zone_id}_{name}_{record_type}", extra={"fqdn": "{name}"}),
    WAFV2_WEB_ACL: ApplyValues(
        arn=_arn("wafv2", "regional/webacl/{name}/{uuid}"), id="{uuid}", extra={"lockToken": "{uuid}"}),
    WAFV2_WEB_ACL_ASSOCIATION: ApplyValues(id="{web_acl_arn},{resource_arn}"),
    WAFV2_WEB_ACL_LOGGING_CONFIGURATION: ApplyValues(id="{resource_arn}"),
    DYNAMODB_TABLE: ApplyValues(arn=_arn("dynamodb", "table/{name}")),
}

#: S3 bucket sub-resources: the id is the bucket name (as the Terraform provider sets it).
for _sub in ("bucketLifecycleConfiguration", "bucketLogging", "bucketNotification", "bucketObjectLockConfiguration",
             "bucketOwnershipControls", "bucketPolicy", "bucketPublicAccessBlock", "bucketReplicationConfig",
             "bucketServerSideEncryptionConfiguration", "bucketVersioning"):
    _class = _sub[0].upper() + _sub[1:]
    APPLY_VALUES[f"aws:s3/{_sub}:{_class}"] = ApplyValues(name="bucket")

#: The ARN service name of each pulumi-aws module where the two differ (generic fallback).
SERVICE_OF_MODULE = {"cloudwatch": "cloudwatch", "kinesis": "firehose", "appautoscaling": "application-autoscaling"}


def partition_of(region: str) -> str:
    """The ARN partition of a region (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@functools.lru_cache(maxsize=None)
def has_output(type_token: str, prop: str) -> bool:
    """Whether the pulumi-aws SDK class of ``type_token`` declares the output ``prop``."""
    package, module_path, class_name = type_token.split(":")
    if package != "aws":
        return False
    try:
        cls = getattr(importlib.import_module("pulumi_aws." + module_path.split("/")[0]), class_name)
    except (ImportError, AttributeError):
        return False
    python_name = "".join("_" + c.lower() if c.isupper() else c for c in prop)
    return isinstance(getattr(cls, python_name, None), property)


class _Fields(dict):
    """Template fields; a missing one reads as an empty string (a template names only
    what its type has)."""

    def __missing__(self, key: str) -> str:
        return ""


def _digest(seed: str) -> bytes:
    return hashlib.sha256(seed.encode()).digest()


def urn_uuid(urn: str) -> str:
    """A uuid-shaped id derived from the URN (KMS key ids, provider ids)."""
    return str(uuid.UUID(bytes=_digest(urn)[:16], version=4))


def fabricate(type_token: str, urn: str, inputs: dict[str, Any], *, partition: str, region: str,
              account: str) -> tuple[str, dict[str, Any]]:
    """``(id, computed outputs)`` for one resource: what the provider returns on create.

    ``inputs`` already holds the autonames. Outputs the inputs already give are not
    repeated; only values AWS computes are returned.
    """
    spec = APPLY_VALUES.get(type_token)
    digest = _digest(urn)
    hexes = hashlib.sha256(digest).hexdigest()
    name = inputs.get(spec.name if spec else "name")
    name = name if isinstance(name, str) and name else urn.rsplit("::", 1)[-1]
    path = inputs.get("path") if isinstance(inputs.get("path"), str) else "/"
    fields = _Fields(
        partition=partition, region=region, account=account, name=name, lname=name.lower(), path=path,
        uuid=urn_uuid(urn), hex17=hexes[:17], hex12=hexes[:12], hex20=hexes[:20],
        upper17=hexes[:17].upper(), digits10=str(int(hexes[:12], 16))[:10],
        service=type_token.split(":")[1].split("/")[0],
        role=_text(inputs.get("role")), rule=_text(inputs.get("rule")), topic=_text(inputs.get("topic")),
        arn_input=_text(inputs.get("arn")), group=_text(inputs.get("groupName")) or "default",
        registry_name=_registry_name(inputs.get("registryArn")),
        service_namespace=_text(inputs.get("serviceNamespace")), resource_id=_text(inputs.get("resourceId")),
        target_key_arn=_key_arn(inputs.get("targetKeyId"), partition, region, account),
        hex10=_lower_alnum(digest, 10), hex6=_lower_alnum(digest[10:], 6),
        rest_api=_text(inputs.get("restApi")), resource_id_input=_text(inputs.get("resourceId")),
        http_method=_text(inputs.get("httpMethod")), status_code=_text(inputs.get("statusCode")),
        stage_name=_text(inputs.get("stageName")), method_path=_text(inputs.get("methodPath")),
        path_part=_text(inputs.get("pathPart")), domain_name=_text(inputs.get("domainName")),
        zone_id=_text(inputs.get("zoneId")), record_type=_text(inputs.get("type")),
        web_acl_arn=_text(inputs.get("webAclArn")), resource_arn=_text(inputs.get("resourceArn")),
    )
    outputs: dict[str, Any] = {}
    arn_template = spec.arn if spec else None
    if arn_template is None and spec is None and has_output(type_token, "arn"):
        service = SERVICE_OF_MODULE.get(fields["service"], fields["service"])
        arn_template = f"arn:{{partition}}:{service}:{{region}}:{{account}}:{type_token.rsplit(':', 1)[-1].lower()}/{{name}}"
    if arn_template and "arn" not in inputs:
        outputs["arn"] = arn_template.format_map(fields)
        fields["arn"] = outputs["arn"]
    elif isinstance(inputs.get("arn"), str):
        fields["arn"] = inputs["arn"]
    for prop, template in (spec.extra if spec else {}).items():
        if prop not in inputs and template:
            outputs[prop] = template.format_map(fields)
    resource_id = (spec.id if spec else "{name}").format_map(fields) or fields["uuid"]
    return resource_id, outputs


def _lower_alnum(digest: bytes, length: int) -> str:
    """``length`` lowercase letters and digits from ``digest`` (API Gateway's id alphabet)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _registry_name(arn: Any) -> str:
    return arn.rsplit("/", 1)[-1] if isinstance(arn, str) else ""


def _key_arn(key: Any, partition: str, region: str, account: str) -> str:
    if not isinstance(key, str) or not key:
        return ""
    if key.startswith("arn:"):
        return key
    return f"arn:{partition}:kms:{region}:{account}:key/{key}"
