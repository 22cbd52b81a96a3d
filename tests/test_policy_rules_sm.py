"""MLP-SM-* (production real-time endpoints, ``policies/rules/sm.py``): compliant and violating cases
through the analyzer protocol of the served pack (:func:`tests.helpers.policy.check_case`)."""

from __future__ import annotations

import pytest

from tests.helpers.policy import ACCOUNT, TEAM, base_values, case_params, check_case, res
from tests.helpers.policy_resources import CAPTURE, KEY_ARN, NAME, endpoint_config


CANARY = {"blueGreenUpdatePolicy": {"trafficRoutingConfiguration": {
    "type": "CANARY", "canarySize": {"type": "CAPACITY_PERCENT", "value": 10}, "waitIntervalInSeconds": 1800}},
    "autoRollbackConfiguration": {"alarms": [{"alarmName": "fraud-scorer-5xx"}]}}


def endpoint(deployment=CANARY, **config_changes) -> list:
    return endpoint_config(**config_changes) + [res("aws:sagemaker/endpoint:Endpoint", "fraud-scorer", {
        "name": "fraud-scorer", "endpointConfigName": "fraud-scorer-config",
        **({"deploymentConfig": deployment} if deployment else {})})]


MONITOR = res("aws:sagemaker/monitoringSchedule:MonitoringSchedule", "fraud-scorer-drift", {
    "name": "fraud-scorer-drift", "monitoringScheduleConfig": {
        "monitoringJobDefinitionName": "fraud-scorer-dq", "monitoringType": "DataQuality",
        "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"}}})
DQ_JOB = res("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", "fraud-scorer-dq", {
    "name": "fraud-scorer-dq", "dataQualityJobInput": {"endpointInput": {"endpointName": "fraud-scorer"}}})


def model(**primary) -> list:
    return [res("aws:sagemaker/model:Model", "fraud-scorer-model", {"primaryContainer": primary,
                                                                    "enableNetworkIsolation": True})]


PACKAGE = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/fraud-scorer/3"


V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-SM-001", "canary", lambda: endpoint(), V(), False),
    ("MLP-SM-001", "all-at-once", lambda: endpoint(deployment=None), V(), True),
    ("MLP-SM-001", "canary-too-big", lambda: endpoint(deployment={**CANARY, "blueGreenUpdatePolicy": {
        "trafficRoutingConfiguration": {"type": "CANARY", "canarySize": {"type": "CAPACITY_PERCENT", "value": 25},
                                        "waitIntervalInSeconds": 600}}}), V(), True),
    ("MLP-SM-001", "no-rollback-alarms", lambda: endpoint(deployment={**CANARY, "autoRollbackConfiguration": {}}),
     V(), True),
    ("MLP-SM-001", "low-risk-team", lambda: endpoint(deployment=None),
     V(teams={TEAM: {"riskTier": "low", "residency": "eu", "dataClassification": "internal"}}), False),
    ("MLP-SM-001", "not-production", lambda: endpoint(deployment=None), V(environment="dev"), False),
    ("MLP-SM-001", "async-endpoint", lambda: endpoint(deployment=None, asyncInferenceConfig={
        "outputConfig": {"s3OutputPath": f"s3://{NAME}/async", "kmsKeyId": KEY_ARN}}), V(), False),
    ("MLP-SM-002", "capture-on", lambda: endpoint_config(), V(), False),
    ("MLP-SM-002", "capture-off", lambda: endpoint_config(dataCaptureConfig=None), V(), True),
    ("MLP-SM-002", "input-only", lambda: endpoint_config(dataCaptureConfig={
        **CAPTURE, "captureOptions": [{"captureMode": "Input"}]}), V(), True),
    ("MLP-SM-003", "monitored", lambda: endpoint() + [MONITOR, DQ_JOB], V(), False),
    ("MLP-SM-003", "unmonitored", lambda: endpoint(), V(), True),
    ("MLP-SM-004", "registry-package", lambda: model(modelPackageName=PACKAGE), V(), False),
    ("MLP-SM-004", "raw-image", lambda: model(image=f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/fraud:1"), V(), True),
    ("MLP-SM-004", "foreign-registry", lambda: model(modelPackageName=PACKAGE.replace(ACCOUNT, "999988887777")),
     V(), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)
