"""Serving: endpoints per mode, rollout, rollback alarms, capture, scaling, registry."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.artifact_store import artifact_bucket_name
from components.base import SpecLocator, TeamContext
from components.endpoint import EXECUTION_ID, PRIMARY, SHADOW, deployment_window, transform_request
from components.model_registry import ModelRegistry, ModelRegistryArgs
from mlplatform.catalogues.serving_images import ImageResolutionError, resolve_image
from mlplatform import cli
from mlplatform.capture import capture_program, capture_stack
from mlplatform.graph import UNKNOWN
from mlplatform.naming import endpoint_name
from mlplatform.spec.models import Endpoint
from mlplatform.stackconfig import load_stack_config

from .conftest import EXAMPLES
from .helpers.dataplane import by_type, one

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROD, STAGING = load_stack_config("prod"), load_stack_config("staging")


def component(graph, name):
    return one(graph, "mlplatform:serving:ModelEndpoint", name)


def kids(graph, name, type_token=None):
    parent = component(graph, name)
    return [r for r in graph if r.parent == parent.urn and (type_token is None or r.type == type_token)]


def only(graph, name, type_token):
    found = kids(graph, name, type_token)
    assert len(found) == 1, (name, type_token, [r.name for r in found])
    return found[0]


ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
POLICY = "aws:appautoscaling/policy:Policy"


# ---------------------------------------------------------------- names

def test_endpoint_name_is_the_shared_derivation(prod_graph):
    endpoint = only(prod_graph, "fraud-detection-endpoint-scorer", ENDPOINT)
    assert endpoint.inputs["name"] == endpoint_name("fraud-detection", "prod", "scorer") == "fraud-detection-prod-scorer"
    long = endpoint_name("t" * 40, "staging", "e" * 32)
    assert len(long) <= 63 and long != endpoint_name("t" * 40, "staging", "e" * 31 + "f")


# ---------------------------------------------------------------- rollout

def test_canary_size_wait_and_rollback_alarms_created_here(prod_graph):
    endpoint = only(prod_graph, "fraud-detection-endpoint-scorer", ENDPOINT)
    policy = endpoint.inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    routing = policy["trafficRoutingConfiguration"]
    assert routing["type"] == "CANARY"
    assert routing["canarySize"] == {"type": "CAPACITY_PERCENT", "value": 10}
    assert routing["waitIntervalInSeconds"] == 30 * 60
    assert policy["maximumExecutionTimeoutInSeconds"] > routing["waitIntervalInSeconds"]
    rollback = [a["alarmName"] for a in endpoint.inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]]
    alarms = {a.inputs["name"]: a for a in kids(prod_graph, "fraud-detection-endpoint-scorer", ALARM)}
    assert rollback == ["fraud-detection-prod-scorer-5xx", "fraud-detection-prod-scorer-p99-latency"]
    assert set(rollback) == set(alarms)
    # the endpoint waits for the alarms it names
    assert {a.urn for a in alarms.values()} <= set(endpoint.property_dependencies["deploymentConfig"])
    latency = alarms["fraud-detection-prod-scorer-p99-latency"].inputs
    assert (latency["metricName"], latency["extendedStatistic"], latency["threshold"]) == ("ModelLatency", "p99", 120_000)
    assert latency["dimensions"] == {"EndpointName": "fraud-detection-prod-scorer", "VariantName": PRIMARY}
    errors = alarms["fraud-detection-prod-scorer-5xx"].inputs
    assert errors["metricName"] == "Invocation5XXErrors"


def test_serving_role_can_read_the_rollback_alarms(prod_graph):
    policy = only(prod_graph, "fraud-detection-endpoint-scorer", "aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs["role"] == "fraud-detection-prod-serving"
    statement = json.loads(policy.inputs["policy"])["Statement"][0]
    assert statement["Action"] == "cloudwatch:DescribeAlarms"
    assert sorted(statement["Resource"]) == [
        f"arn:aws:cloudwatch:eu-west-1:{PROD.account_id}:alarm:fraud-detection-prod-scorer-5xx",
        f"arn:aws:cloudwatch:eu-west-1:{PROD.account_id}:alarm:fraud-detection-prod-scorer-p99-latency",
    ]


def test_linear_rollout_in_staging():
    graph = capture_stack("staging")
    endpoint = only(graph, "fraud-detection-endpoint-scorer", ENDPOINT)
    routing = endpoint.inputs["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing == {"type": "LINEAR", "waitIntervalInSeconds": 600,
                       "linearStepSize": {"type": "CAPACITY_PERCENT", "value": 50}}


def test_deployment_window_covers_every_step():
    spec = {"name": "e", "model": {"framework": "pytorch", "frameworkVersion": "2.3", "artifact": "models/e/"},
            "instanceType": "ml.m5.large", "monitoring": {"latencyP99Ms": 100}}
    linear = Endpoint.model_validate({**spec, "rollout": {"strategy": "linear", "canaryPercent": 10, "bakeMinutes": 60}},
                                     by_alias=True)
    assert deployment_window(linear) == 14400  # 11 x 3600 s exceeds SageMaker's 4-hour cap
    canary = Endpoint.model_validate({**spec, "rollout": {"strategy": "canary", "canaryPercent": 5, "bakeMinutes": 5}},
                                     by_alias=True)
    assert deployment_window(canary) == 2 * 300 + 600


# ---------------------------------------------------------------- configuration

@pytest.fixture(scope="module")
def staging_graph():
    return capture_stack("staging")


def test_shadow_variant_share_and_capture(staging_graph):
    """Staging shadows the ranker's candidate; production rolls it out by canary from the registry."""
    prod_graph = staging_graph
    config = only(prod_graph, "recommendations-endpoint-ranker", CONFIG).inputs
    assert [v["variantName"] for v in config["productionVariants"]] == [PRIMARY]
    shadow = config["shadowProductionVariants"]
    assert [v["variantName"] for v in shadow] == [SHADOW]
    assert shadow[0]["initialVariantWeight"] == 0.25 and config["productionVariants"][0]["initialVariantWeight"] == 1
    capture = config["dataCaptureConfig"]
    assert capture["initialSamplingPercentage"] == 5
    # the team-wide root: SageMaker appends <endpoint name>/<variant>/ (mlplatform.locations)
    assert capture["destinationS3Uri"] == f"s3://{artifact_bucket_name(STAGING, 'recommendations')}/data-capture/"
    key = one(prod_graph, "aws:kms/key:Key", "recommendations-artifacts-key")
    config_resource = only(prod_graph, "recommendations-endpoint-ranker", CONFIG)
    assert config_resource.property_dependencies["dataCaptureConfig"] == [key.urn]
    assert config["kmsKeyArn"] == UNKNOWN and key.urn in config_resource.property_dependencies["kmsKeyArn"]
    models = kids(prod_graph, "recommendations-endpoint-ranker", MODEL)
    sources = sorted(m.inputs["primaryContainer"]["modelDataSource"]["s3DataSources"][0]["s3Uri"] for m in models)
    assert sources == [f"s3://{artifact_bucket_name(STAGING, 'recommendations')}/models/ranker-candidate/",
                       f"s3://{artifact_bucket_name(STAGING, 'recommendations')}/models/ranker/"]
    assert "shadowProductionVariants" not in only(capture_dev(), "recommendations-endpoint-ranker", CONFIG).inputs


_DEV = {}


def capture_dev():
    if "graph" not in _DEV:
        _DEV["graph"] = capture_stack("dev")
    return _DEV["graph"]


def test_config_name_prefix_leaves_room_for_the_unique_suffix(prod_graph):
    for config in by_type(prod_graph, CONFIG):
        assert len(config.inputs["namePrefix"]) + 26 <= 63, config.inputs["namePrefix"]


def test_volume_key_only_where_sagemaker_accepts_it(prod_graph):
    # ml.g5 has local NVMe: SageMaker rejects a volume key there; ml.c5 takes the team key
    scorer = only(prod_graph, "fraud-detection-endpoint-scorer", CONFIG).inputs
    assert "kmsKeyArn" not in scorer and scorer["dataCaptureConfig"]["kmsKeyId"] == UNKNOWN
    assert "kmsKeyArn" in only(prod_graph, "recommendations-endpoint-ranker", CONFIG).inputs


def test_model_vpc_isolation_and_package(prod_graph):
    model = only(prod_graph, "fraud-detection-endpoint-scorer", MODEL).inputs
    assert model["primaryContainer"] == {
        "modelPackageName": f"arn:aws:sagemaker:eu-west-1:{PROD.account_id}:model-package/fraud-detection-prod-scorer/3"}
    assert model["enableNetworkIsolation"] is True
    config = load_stack_config("prod")
    assert model["vpcConfig"] == {"subnets": config.network.subnet_ids, "securityGroupIds": config.network.security_group_ids}
    assert model["executionRoleArn"] == f"arn:aws:iam::{PROD.account_id}:role/fraud-detection-prod-serving"


def test_image_resolved_from_framework_version_region_and_instance():
    model = only(capture_dev(), "fraud-detection-endpoint-scorer", MODEL).inputs
    assert model["primaryContainer"]["image"] == "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.3-cpu-py311"
    assert resolve_image("pytorch", "2.3", "eu-west-1", "ml.g5.xlarge", "framework-native") == \
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.3-gpu-py311"
    assert resolve_image("xgboost", "1.7", "eu-central-1", "ml.m5.large", "framework-native") == \
        "492215442770.dkr.ecr.eu-central-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert resolve_image("pytorch", "2.3", "eu-west-1", "ml.g5.xlarge", "onnx").endswith("/sagemaker-tritonserver:24.09-py3")
    with pytest.raises(ImageResolutionError, match="no SageMaker serving image for pytorch 9.9"):
        resolve_image("pytorch", "9.9", "eu-west-1", "ml.g5.xlarge", "framework-native")


def test_image_from_spec_wins(dev_graph):
    model = only(dev_graph, "nlp-research-endpoint-embedder", MODEL).inputs
    assert model["primaryContainer"]["image"].endswith("/sagemaker-tritonserver:24.09-py3")
    assert model["primaryContainer"]["modelDataUrl"] == f"s3://{artifact_bucket_name(load_stack_config('dev'), 'nlp-research')}/models/embedder/model.tar.gz"
    assert model["primaryContainer"]["environment"] == {"SAGEMAKER_TRITON_DEFAULT_MODEL_NAME": "embedder"}


def test_unknown_framework_version_is_a_one_line_plan_error(teams_copy, capsys, monkeypatch):
    path = teams_copy / "recommendations.yaml"
    text = path.read_text()
    path.write_text(text.replace('framework: sklearn, frameworkVersion: "1.2"', 'framework: sklearn, frameworkVersion: "0.1"'))
    monkeypatch.chdir(PROJECT_ROOT)
    code = cli.main(["plan", "--stack", "dev", "--teams", str(teams_copy)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "Traceback" not in out + err
    lines = [line for line in (out + err).splitlines() if "error:" in line]
    assert len(lines) == 1
    assert "recommendations.yaml:" in lines[0]
    # reported by the stack checks (as `mlp validate --stack` does) before the program runs
    assert "spec.endpoints[similar-items].model.frameworkVersion: no SageMaker serving image for sklearn 0.1" in lines[0]


# ---------------------------------------------------------------- modes

def test_async_output_topics_and_backlog_scaling(prod_graph):
    name = "nlp-research-endpoint-summariser-eval"
    config = only(prod_graph, name, CONFIG)
    output = config.inputs["asyncInferenceConfig"]["outputConfig"]
    assert output["s3OutputPath"] == f"s3://{artifact_bucket_name(PROD, 'nlp-research')}/async-output/summariser-eval/"
    assert output["kmsKeyId"] == UNKNOWN
    topics = {t.name: t for t in kids(prod_graph, name, "aws:sns/topic:Topic")}
    assert sorted(topics) == [f"{name}-async-error", f"{name}-async-success"]
    assert set(config.property_dependencies["asyncInferenceConfig"]) >= {t.urn for t in topics.values()}
    for topic in topics.values():
        assert topic.inputs["kmsMasterKeyId"] == UNKNOWN  # the notifications key's ARN
    policies = {p.inputs["policyType"]: p for p in kids(prod_graph, name, POLICY)}
    tracking = policies["TargetTrackingScaling"].inputs["targetTrackingScalingPolicyConfiguration"]
    assert tracking["customizedMetricSpecification"]["metricName"] == "ApproximateBacklogSizePerInstance"
    assert tracking["targetValue"] == 10
    # min 0: a step policy wakes the endpoint when requests wait with no instance
    step = policies["StepScaling"]
    assert step.inputs["stepScalingPolicyConfiguration"]["stepAdjustments"] == [
        {"metricIntervalLowerBound": "0", "scalingAdjustment": 1}]
    wake = one(prod_graph, ALARM, f"{name}-alarm-backlog-without-capacity")
    assert wake.inputs["metricName"] == "HasBacklogWithoutCapacity"
    assert wake.property_dependencies["alarmActions"] == [step.urn]
    target = only(prod_graph, name, "aws:appautoscaling/target:Target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (0, 2)


def test_realtime_scaling_bounds_policies_and_off_peak(prod_graph):
    name = "fraud-detection-endpoint-scorer"
    target = only(prod_graph, name, "aws:appautoscaling/target:Target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 10)
    assert target["resourceId"] == "endpoint/fraud-detection-prod-scorer/variant/primary"
    assert target["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    configs = {p.name: p.inputs["targetTrackingScalingPolicyConfiguration"] for p in kids(prod_graph, name, POLICY)}
    invocations = configs[f"{name}-scale-invocations"]
    assert invocations["targetValue"] == 200
    assert invocations["predefinedMetricSpecification"] == {"predefinedMetricType": "SageMakerVariantInvocationsPerInstance"}
    gpu = configs[f"{name}-scale-gpu"]
    assert (gpu["customizedMetricSpecification"]["metricName"], gpu["targetValue"]) == ("GPUUtilization", 70)

    actions = {a.name: a.inputs for a in kids(prod_graph, "recommendations-endpoint-ranker",
                                             "aws:appautoscaling/scheduledAction:ScheduledAction")}
    start = actions["recommendations-endpoint-ranker-off-peak-start"]
    end = actions["recommendations-endpoint-ranker-off-peak-end"]
    assert (start["schedule"], start["scalableTargetAction"]) == ("cron(0 0 * * ? *)", {"minCapacity": 1, "maxCapacity": 6})
    assert (end["schedule"], end["scalableTargetAction"]) == ("cron(0 6 * * ? *)", {"minCapacity": 2, "maxCapacity": 6})
    # dev overrides the window away
    assert not kids(capture_dev(), "recommendations-endpoint-ranker", "aws:appautoscaling/scheduledAction:ScheduledAction")


def test_serverless_memory_and_concurrency(prod_graph):
    config = only(prod_graph, "recommendations-endpoint-similar-items", CONFIG).inputs
    variant = config["productionVariants"][0]
    assert variant["serverlessConfig"] == {"memorySizeInMb": 2048, "maxConcurrency": 20}
    assert "instanceType" not in variant and "kmsKeyArn" not in config
    assert not kids(prod_graph, "recommendations-endpoint-similar-items", "aws:appautoscaling/target:Target")
    assert "deploymentConfig" not in only(prod_graph, "recommendations-endpoint-similar-items", ENDPOINT).inputs


def test_batch_mode_schedules_a_transform(prod_graph):
    name = "recommendations-endpoint-batch-scores"
    assert not kids(prod_graph, name, ENDPOINT)
    schedule = only(prod_graph, name, "aws:scheduler/schedule:Schedule").inputs
    assert schedule["scheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["target"]["arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createTransformJob"
    model = only(prod_graph, name, MODEL).inputs
    # prod serves the ranker's approved package
    assert model["primaryContainer"]["modelPackageName"].endswith(":model-package/recommendations-prod-ranker/12")


def test_transform_request_is_a_valid_create_transform_job_call():
    endpoint = Endpoint.model_validate({
        "name": "batch-scores", "mode": "batch", "instanceType": "ml.m5.xlarge",
        "model": {"framework": "xgboost", "frameworkVersion": "1.7", "artifact": "models/ranker/"},
        "batch": {"schedule": "rate(1 day)", "inputPrefix": "datasets/daily/", "instanceCount": 2},
    }, by_alias=True)
    request = transform_request("recommendations-prod-batch", "model-1", "bucket", endpoint, "arn:aws:kms:eu-west-1:1:key/k")
    assert request["TransformJobName"] == f"recommendations-prod-batch-{EXECUTION_ID}"
    assert request["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://bucket/datasets/daily/"
    assert request["TransformResources"] == {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2,
                                             "VolumeKmsKeyId": "arn:aws:kms:eu-west-1:1:key/k"}
    model = botocore.session.get_session().get_service_model("sagemaker")
    report = ParamValidator().validate(request, model.operation_model("CreateTransformJob").input_shape)
    assert not report.has_errors(), report.generate_report()
    del request["TransformResources"]
    assert ParamValidator().validate(request, model.operation_model("CreateTransformJob").input_shape).has_errors()


# ---------------------------------------------------------------- registry and parents

def test_registry_groups_policies_rule_and_protection(dev_graph, prod_graph):
    for graph, protected in ((dev_graph, False), (prod_graph, True)):
        group = one(graph, "aws:sagemaker/modelPackageGroup:ModelPackageGroup", "fraud-detection-registry-scorer")
        assert group.options["protect"] is protected
    env = "prod"
    policy = one(prod_graph, "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
                 "fraud-detection-registry-scorer-policy")
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["resourcePolicy"])["Statement"]}
    assert statements["TeamTrainingRegisters"]["Principal"] == {"AWS": f"arn:aws:iam::{PROD.account_id}:role/fraud-detection-{env}-training"}
    assert "sagemaker:CreateModelPackage" not in statements["TeamServingReads"]["Action"]
    rule = one(prod_graph, "aws:cloudwatch/eventRule:EventRule", "fraud-detection-registry-approvals")
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["detail-type"] == ["SageMaker Model Package State Change"]
    assert pattern["detail"]["ModelPackageGroupName"] == ["fraud-detection-prod-scorer"]
    target = one(prod_graph, "aws:cloudwatch/eventTarget:EventTarget", "fraud-detection-registry-approvals-notify")
    topic = one(prod_graph, "aws:sns/topic:Topic", "fraud-detection-notifications-topic")
    assert target.property_dependencies["arn"] == [topic.urn]
    assert topic.property_dependencies["kmsMasterKeyId"] == [
        one(prod_graph, "aws:kms/key:Key", "fraud-detection-notifications-key").urn]


def test_registry_notifies_a_topic_passed_in():
    stack = load_stack_config("dev")
    context = TeamContext("team-a", stack, SpecLocator("teams/team-a.yaml", lambda path: 3), "internal", "low")
    arn = "arn:aws:sns:eu-west-1:111122223333:team-a-dev-critical"

    def program():
        ModelRegistry("team-a-registry", ModelRegistryArgs(
            context=context, endpoint_names=["scorer"], registrar_role_arn="arn:aws:iam::111122223333:role/t",
            reader_role_arns=["arn:aws:iam::111122223333:role/s"], notification_topic_arn=arn))

    graph = capture_program(program, "dev", {"aws:region": "eu-west-1"}, "ml-estate")
    assert one(graph, "aws:cloudwatch/eventTarget:EventTarget", "team-a-registry-approvals-notify").inputs["arn"] == arn


def test_endpoint_components_are_parented_tagged_and_sourced(dev_graph):
    team = one(dev_graph, "mlplatform:team:Team", "recommendations")
    lines = (EXAMPLES / "recommendations.yaml").read_text().splitlines()
    first = lines.index("  endpoints:")  # spec.endpoints, not the environments' overrides
    for name, spec_name in (("recommendations-endpoint-ranker", "ranker"),
                            ("recommendations-endpoint-batch-scores", "batch-scores"),
                            ("recommendations-endpoint-similar-items", "similar-items")):
        line = lines.index(f"    - name: {spec_name}", first) + 1
        endpoint = component(dev_graph, name)
        assert endpoint.parent == team.urn
        assert endpoint.source.line == line
        for child in kids(dev_graph, name):
            assert child.provider and child.provider.endswith("::recommendations-aws")
            if child.effective_tags is not None:
                assert child.effective_tags["team"] == "recommendations"
                assert child.effective_tags["cost-center"] == "CC-2210"
    modes = {r.name for r in by_type(dev_graph, ENDPOINT)}
    assert len(modes) == 5  # realtime x3, async, serverless; batch has none


def test_no_nested_input_is_left_in_python_case(dev_graph, prod_graph):
    """A nested dict key pulumi-aws does not know travels through unchanged (snake_case):
    the provider would then ignore it. Every key of every input must have been translated."""
    # maps whose keys are data, not property names (an asset archive's keys are file names)
    free_form = {"environment", "tags", "labels", "annotations", "source", "nodeLabels", "matchLabels", "hard",
                 "assets"}
    leftovers = []

    def walk(value, path, resource):
        if isinstance(value, dict):
            for key, item in value.items():
                if "_" in key and (not path or path[-1] not in free_form) and not key.isupper():
                    leftovers.append((resource.name, ".".join(path + (key,))))
                walk(item, path + (key,), resource)
        elif isinstance(value, list):
            for item in value:
                walk(item, path, resource)

    for graph in (dev_graph, prod_graph):
        for resource in graph:
            walk(resource.inputs, (), resource)
    assert leftovers == []
