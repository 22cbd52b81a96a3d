"""Every AWS physical name of the longest-names estate fits the limit AWS enforces on it.

AWS checks name lengths on apply, never at preview, so an estate whose plan, policies and
checkov all pass can still fail ``pulumi up`` with a 40-character team. This test plans
the shipped examples with every team, feature group, queue and endpoint name stretched to
its schema maximum (:mod:`tests.helpers.longest_names`) on the prod stack, and checks each
AWS resource's physical name against the limit of the API field it is sent as:

* an explicit name (``name``, ``functionName``, ``bucket``, ...): its own length;
* a ``namePrefix``: the prefix plus the 26 characters the provider appends
  (terraform-plugin-sdk ``helper/id.PrefixedUniqueId``: a 26-digit unique suffix);
* no name at all: the autoname pulumi-aws would make, i.e. the logical name, ``-`` and 7
  random hex characters. pulumi-aws's ``provider/resources.go`` (``setAutonaming``) gives
  every resource with an input property ``name`` ``tfbridge.AutoName("name", 255, "-")``
  (some types override the property, e.g. ``aws_lambda_permission``'s
  ``AutoName("statementId", 100, "-")``), and the bridge's AutoName
  (pulumi-terraform-bridge ``pkg/tfbridge/info/autonaming.go``) appends ``Randlen: 7``
  hex characters after the separator. Its 255 is the provider's ceiling, not AWS's:
  CreateModel still rejects more than 63.

The limit is botocore's service model for that operation's field (``metadata['max']``);
where botocore states none, or a looser one than the service enforces on a bare name,
the limit the service's documentation states is used (:data:`DOCUMENTED_LIMITS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import botocore.session
import pytest
import yaml

from mlplatform.capture import capture_stack
from mlplatform.graph import ResourceGraph, is_unknown
from mlplatform.spec.models import Endpoint, TrainingQueue
from tests.helpers.longest_names import (
    DOMAIN_PREFIX_MAX,
    ENDPOINT_MAX,
    FEATURE_GROUP_MAX,
    QUEUE_MAX,
    TEAM_MAX,
    literal_values,
    write_longest_estate,
)

#: pulumi-terraform-bridge AutoName: separator plus ``Randlen: 7`` random hex characters.
AUTONAME_SUFFIX = len("-") + 7
#: terraform-plugin-sdk helper/id: a name prefix gets a 26-character unique suffix.
PREFIX_SUFFIX = 26


@dataclass(frozen=True)
class NameField:
    """Where a Pulumi input goes in the AWS API: ``service`` ``operation`` ``member`` (a path)."""

    input: str
    service: str
    operation: str
    member: tuple[str, ...]
    #: the input naming what the name is unique within (a log group, a role), if not the account
    scope: Optional[str] = None


def field(input_name: str, service: str, operation: str, *member: str, scope: Optional[str] = None) -> NameField:
    return NameField(input_name, service, operation, member, scope)


#: The physical-name input of every AWS type the estate plans, and its API field.
NAME_FIELDS: dict[str, NameField] = {
    "aws:apigateway/domainName:DomainName": field("domainName", "apigateway", "CreateDomainName", "domainName"),
    "aws:dynamodb/table:Table": field("name", "dynamodb", "CreateTable", "TableName"),
    "aws:route53/record:Record": field("name", "route53", "ChangeResourceRecordSets", "ChangeBatch", "Changes",
                                       "ResourceRecordSet", "Name", scope="zoneId"),
    "aws:wafv2/webAcl:WebAcl": field("name", "wafv2", "CreateWebACL", "Name"),
    "aws:appautoscaling/policy:Policy": field("name", "application-autoscaling", "PutScalingPolicy", "PolicyName",
                                                scope="resourceId"),
    "aws:appautoscaling/scheduledAction:ScheduledAction":
        field("name", "application-autoscaling", "PutScheduledAction", "ScheduledActionName", scope="resourceId"),
    "aws:batch/computeEnvironment:ComputeEnvironment":
        field("name", "batch", "CreateComputeEnvironment", "computeEnvironmentName"),
    "aws:batch/jobDefinition:JobDefinition": field("name", "batch", "RegisterJobDefinition", "jobDefinitionName"),
    "aws:batch/jobQueue:JobQueue": field("name", "batch", "CreateJobQueue", "jobQueueName"),
    "aws:batch/schedulingPolicy:SchedulingPolicy": field("name", "batch", "CreateSchedulingPolicy", "name"),
    "aws:budgets/budget:Budget": field("name", "budgets", "CreateBudget", "Budget", "BudgetName"),
    "aws:cloudtrail/trail:Trail": field("name", "cloudtrail", "CreateTrail", "Name"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": field("alarmName", "cloudwatch", "PutCompositeAlarm", "AlarmName"),
    "aws:cloudwatch/dashboard:Dashboard": field("dashboardName", "cloudwatch", "PutDashboard", "DashboardName"),
    "aws:cloudwatch/eventRule:EventRule": field("name", "events", "PutRule", "Name"),
    "aws:cloudwatch/eventTarget:EventTarget": field("targetId", "events", "PutTargets", "Targets", "Id", scope="rule"),
    "aws:cloudwatch/logGroup:LogGroup": field("name", "logs", "CreateLogGroup", "logGroupName"),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter":
        field("name", "logs", "PutMetricFilter", "filterName", scope="logGroupName"),
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter":
        field("name", "logs", "PutSubscriptionFilter", "filterName", scope="logGroup"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": field("name", "cloudwatch", "PutMetricAlarm", "AlarmName"),
    "aws:ec2/launchTemplate:LaunchTemplate": field("name", "ec2", "CreateLaunchTemplate", "LaunchTemplateName"),
    "aws:ecr/repository:Repository": field("name", "ecr", "CreateRepository", "repositoryName"),
    "aws:glue/catalogDatabase:CatalogDatabase": field("name", "glue", "CreateDatabase", "DatabaseInput", "Name"),
    "aws:glue/dataQualityRuleset:DataQualityRuleset": field("name", "glue", "CreateDataQualityRuleset", "Name"),
    "aws:glue/registry:Registry": field("registryName", "glue", "CreateRegistry", "RegistryName"),
    "aws:glue/schema:Schema": field("schemaName", "glue", "CreateSchema", "SchemaName"),
    "aws:iam/instanceProfile:InstanceProfile": field("name", "iam", "CreateInstanceProfile", "InstanceProfileName"),
    "aws:iam/role:Role": field("name", "iam", "CreateRole", "RoleName"),
    "aws:iam/rolePolicy:RolePolicy": field("name", "iam", "PutRolePolicy", "PolicyName", scope="role"),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        field("name", "firehose", "CreateDeliveryStream", "DeliveryStreamName"),
    "aws:kms/alias:Alias": field("name", "kms", "CreateAlias", "AliasName"),
    "aws:lambda/function:Function": field("name", "lambda", "CreateFunction", "FunctionName"),
    "aws:lambda/permission:Permission": field("statementId", "lambda", "AddPermission", "StatementId", scope="function"),
    "aws:s3/bucket:Bucket": field("bucket", "s3", "CreateBucket", "Bucket"),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition":
        field("name", "sagemaker", "CreateDataQualityJobDefinition", "JobDefinitionName"),
    "aws:sagemaker/endpoint:Endpoint": field("name", "sagemaker", "CreateEndpoint", "EndpointName"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
        field("name", "sagemaker", "CreateEndpointConfig", "EndpointConfigName"),
    "aws:sagemaker/featureGroup:FeatureGroup":
        field("featureGroupName", "sagemaker", "CreateFeatureGroup", "FeatureGroupName"),
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer":
        field("trackingServerName", "sagemaker", "CreateMlflowTrackingServer", "TrackingServerName"),
    "aws:sagemaker/model:Model": field("name", "sagemaker", "CreateModel", "ModelName"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
        field("modelPackageGroupName", "sagemaker", "CreateModelPackageGroup", "ModelPackageGroupName"),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule":
        field("name", "sagemaker", "CreateMonitoringSchedule", "MonitoringScheduleName"),
    "aws:scheduler/schedule:Schedule": field("name", "scheduler", "CreateSchedule", "Name"),
    "aws:sfn/stateMachine:StateMachine": field("name", "stepfunctions", "CreateStateMachine", "name"),
    "aws:sns/topic:Topic": field("name", "sns", "CreateTopic", "Name"),
    "aws:sqs/queue:Queue": field("name", "sqs", "CreateQueue", "QueueName"),
}

#: Limits the services document where botocore's shape has none, or a looser one (the
#: field also takes an ARN). (service, operation, member) -> (limit, where it is stated).
DOCUMENTED_LIMITS: dict[tuple[str, str, tuple[str, ...]], tuple[int, str]] = {
    ("s3", "CreateBucket", ("Bucket",)): (63, "S3 User Guide, general purpose bucket naming rules: 3 to 63"),
    ("lambda", "CreateFunction", ("FunctionName",)):
        (64, "Lambda API reference: the 140 applies to an ARN; a bare function name is limited to 64"),
    ("batch", "CreateComputeEnvironment", ("computeEnvironmentName",)): (128, "Batch API reference: up to 128"),
    ("batch", "RegisterJobDefinition", ("jobDefinitionName",)): (128, "Batch API reference: up to 128"),
    ("batch", "CreateJobQueue", ("jobQueueName",)): (128, "Batch API reference: up to 128"),
    ("batch", "CreateSchedulingPolicy", ("name",)): (128, "Batch API reference: up to 128"),
    ("cloudtrail", "CreateTrail", ("Name",)): (128, "CloudTrail API reference: 3 to 128"),
    ("cloudwatch", "PutDashboard", ("DashboardName",)): (255, "CloudWatch API reference: up to 255"),
    ("ec2", "CreateLaunchTemplate", ("LaunchTemplateName",)): (128, "EC2 API reference: 3 to 128"),
    ("sns", "CreateTopic", ("Name",)): (256, "SNS API reference: up to 256"),
    ("sqs", "CreateQueue", ("QueueName",)): (80, "SQS API reference: up to 80"),
    ("apigateway", "CreateDomainName", ("domainName",)): (253, "RFC 1035 2.3.4: a host name is at most 253 characters"),
    ("dynamodb", "CreateTable", ("TableName",)):
        (255, "DynamoDB Developer Guide, naming rules: 3 to 255 (the 1024 of botocore counts an ARN)"),
    ("route53", "ChangeResourceRecordSets", ("ChangeBatch", "Changes", "ResourceRecordSet", "Name")):
        (253, "RFC 1035 2.3.4: a host name is at most 253 characters"),
}

#: AWS types with no physical name of their own, and why nothing is checked for them.
NO_PHYSICAL_NAME: dict[str, str] = {
    "aws:appautoscaling/target:Target": "identified by its resource id (the endpoint variant), not a name",
    "aws:apigateway/restApi:RestApi": "identified by its generated id; its name is a non-unique label (no documented "
                                      "limit), bounded at 128 by mlplatform.naming.front_door_name anyway",
    **{f"aws:apigateway/{kind}": "a part of its REST API, identified by generated ids and fixed names (stage "
                                 "'live', path /invocations)" for kind in (
        "stage:Stage", "resource:Resource", "method:Method", "integration:Integration", "methodResponse:MethodResponse",
        "integrationResponse:IntegrationResponse", "deployment:Deployment", "methodSettings:MethodSettings",
        "basePathMapping:BasePathMapping")},
    **{f"aws:wafv2/{kind}": "attaches its web ACL, whose name is checked, to a resource by ARN" for kind in (
        "webAclAssociation:WebAclAssociation", "webAclLoggingConfiguration:WebAclLoggingConfiguration")},
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "a policy of its repository, which is checked",
    "aws:guardduty/detector:Detector": "GuardDuty gives the detector an id; one per account and region",
    "aws:guardduty/detectorFeature:DetectorFeature": "a feature of its detector, named from GuardDuty's enum",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "attaches a managed policy by ARN",
    "aws:kms/key:Key": "a key has an id; its alias is checked",
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": "names its group, which is checked",
    "aws:sns/topicPolicy:TopicPolicy": "a policy of its topic, which is checked",
    "aws:sns/topicSubscription:TopicSubscription": "identified by its ARN",
    **{f"aws:s3/{kind}": "configures its bucket, whose name is checked" for kind in (
        "bucketLifecycleConfiguration:BucketLifecycleConfiguration", "bucketLogging:BucketLogging",
        "bucketNotification:BucketNotification", "bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "bucketOwnershipControls:BucketOwnershipControls", "bucketPolicy:BucketPolicy",
        "bucketPublicAccessBlock:BucketPublicAccessBlock", "bucketReplicationConfig:BucketReplicationConfig",
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "bucketVersioning:BucketVersioning")},
}


def api_limit(name_field: NameField) -> tuple[int, str]:
    """The tightest stated maximum length of the field: botocore's, or the documented one."""
    shape = botocore.session.get_session().get_service_model(name_field.service) \
        .operation_model(name_field.operation).input_shape
    for member in name_field.member:
        shape = shape.members[member]
        if shape.type_name == "list":  # a name inside a list of structures (PutTargets Targets[].Id)
            shape = shape.member
    botocore_max = shape.metadata.get("max")
    documented = DOCUMENTED_LIMITS.get((name_field.service, name_field.operation, name_field.member))
    where = f"botocore {name_field.service} {name_field.operation}.{'.'.join(name_field.member)}"
    if documented and (botocore_max is None or documented[0] < botocore_max):
        return documented[0], documented[1]
    assert botocore_max is not None, f"{where} states no maximum and none is documented here"
    return int(botocore_max), where


def planned_name(resource, name_field: NameField) -> tuple[Optional[str], int, str]:
    """(name as AWS receives it or None when unknown, its length, how it was derived)."""
    inputs = resource.inputs
    value = inputs.get(name_field.input)
    if isinstance(value, str) and not is_unknown(value):
        return value, len(value), name_field.input
    prefix = inputs.get("namePrefix")
    if isinstance(prefix, str) and not is_unknown(prefix):
        return prefix + "*" * PREFIX_SUFFIX, len(prefix) + PREFIX_SUFFIX, "namePrefix + 26-character unique suffix"
    if value is None:  # pulumi-aws autonames it (``name``, and per-type overrides such as statementId)
        autoname = f"{resource.name}-{'0' * 7}"
        return autoname, len(autoname), "pulumi-aws autoname: logical name + '-' + 7 hex"
    return None, 0, f"{name_field.input} unknown at preview"


@pytest.fixture(scope="module")
def longest_graph(tmp_path_factory) -> ResourceGraph:
    folder = tmp_path_factory.mktemp("longest-names")
    write_longest_estate(folder)
    return capture_stack("prod", teams_dir=str(folder))


def aws_resources(graph: ResourceGraph):
    return [r for r in graph if r.custom and r.type.startswith("aws:")]


def test_the_estate_is_at_the_schema_maxima_and_uses_every_mode_and_backend(tmp_path):
    specs = write_longest_estate(tmp_path)
    documents = [yaml.safe_load(path.read_text()) for path in specs]
    assert {len(d["metadata"]["team"]) for d in documents} == {TEAM_MAX}
    body = [d["spec"] for d in documents]
    assert {len(g["name"]) for s in body for g in s.get("featureGroups", [])} == {FEATURE_GROUP_MAX}
    assert {len(q["name"]) for s in body for q in s["training"]["queues"]} == {QUEUE_MAX}
    assert {len(e["name"]) for s in body for e in s["endpoints"]} == {ENDPOINT_MAX}
    assert {len(e["exposure"]["domainPrefix"]) for s in body for e in s["endpoints"]
            if (e.get("exposure") or {}).get("domainPrefix")} == {DOMAIN_PREFIX_MAX}
    assert {e.get("mode", "realtime") for s in body for e in s["endpoints"]} == literal_values(Endpoint, "mode")
    assert {q.get("backend", "batch") for s in body for q in s["training"]["queues"]} == \
        literal_values(TrainingQueue, "backend")


def test_every_aws_type_is_classified(longest_graph):
    types = {r.type for r in aws_resources(longest_graph)}
    unclassified = sorted(types - set(NAME_FIELDS) - set(NO_PHYSICAL_NAME))
    assert unclassified == [], "map each new type to its API name field or say why it has none"


def test_every_physical_name_fits_its_api_limit(longest_graph):
    over, unknown = [], []
    for resource in aws_resources(longest_graph):
        name_field = NAME_FIELDS.get(resource.type)
        if name_field is None:
            continue
        name, length, how = planned_name(resource, name_field)
        if name is None:
            unknown.append(f"{resource.type} {resource.name}: {how}")
            continue
        limit, where = api_limit(name_field)
        if length > limit:
            over.append(f"{resource.type} {resource.name}: {how} '{name}' is {length} > {limit} ({where})")
    assert unknown == [], "a physical name that is unknown at preview cannot be checked"
    assert over == []


def test_long_names_stay_distinct(longest_graph):
    """Hash truncation keeps names that share a long head apart (two endpoints of a team)."""
    for type_, name_field in NAME_FIELDS.items():
        names = [(r.inputs.get(name_field.scope) if name_field.scope else None, r.inputs.get(name_field.input))
                 for r in aws_resources(longest_graph) if r.type == type_]
        names = [(scope, n) for scope, n in names if isinstance(n, str) and not is_unknown(n)]
        assert len(names) == len(set(names)), f"{type_}: duplicate physical names {sorted(names)}"


def test_endpoint_config_prefixes_are_distinct(longest_graph):
    prefixes = [r.inputs["namePrefix"] for r in aws_resources(longest_graph)
                if r.type == "aws:sagemaker/endpointConfiguration:EndpointConfiguration"]
    assert prefixes and len(prefixes) == len(set(prefixes))


def test_mlp_verify_accepts_the_longest_names_estate(tmp_path, capsys):
    """The issue's acceptance bar: ``mlp verify`` (botocore acceptance of every field, IAM
    lint, runtime flows) passes on the estate at the schema maxima, beyond its reviewed
    suppressions."""
    from mlplatform.cli import main

    write_longest_estate(tmp_path)
    code = main(["verify", "--stack", "prod", "--teams", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert " 0 failed" in out
