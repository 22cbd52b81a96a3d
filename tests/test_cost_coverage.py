"""Every resource type the example estates create is priced or named free with a reason,
and the pricers added for the observability and registry pieces compute exact figures."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from mlplatform.capture import capture_stack
from mlplatform.cost import usage as U
from mlplatform.cost.catalogue import load_catalogue
from mlplatform.cost.attribution import load_team_contexts
from mlplatform.cost.engine import price_graph
from mlplatform.cost.pricers.registry import FREE_TYPES, PRICERS
from mlplatform.graph import ResourceGraph
from mlplatform.readers import load_graph

from .helpers.cost import covered, with_resource

FIXTURES = Path(__file__).parent / "fixtures" / "cost"
GRAPH = FIXTURES / "pricing-lab.graph.json"


def cents(value) -> str:
    return f"{value:.2f}"


@pytest.fixture(scope="module")
def staging_graph() -> ResourceGraph:
    return capture_stack("staging")


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_estate_type_is_priced_or_free(stack, request):
    graph = request.getfixturevalue(f"{stack}_graph")
    types = {r.type for r in graph if r.custom and not r.is_provider}
    assert types, "the estate is empty"
    missing = sorted(t for t in types if not covered(t))
    assert not missing, f"{stack}: types neither priced nor free: {missing}"


def test_coverage_check_catches_a_new_type():
    assert not covered("aws:rds/instance:Instance")
    assert covered("aws:glue/registry:Registry") and covered("kubernetes:core/v1:Namespace")


def test_free_types_state_their_reason():
    assert not set(PRICERS) & set(FREE_TYPES)
    for type_token, reason in FREE_TYPES.items():
        assert len(reason) > 15, type_token
    assert "first million objects" in FREE_TYPES["aws:glue/catalogDatabase:CatalogDatabase"]
    assert "monitoring schedule" in FREE_TYPES["aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"]


@pytest.mark.parametrize("expression, runs", [
    ("cron(0 * ? * * *)", Decimal(730)),                      # hourly
    ("cron(0 2 * * ? *)", Decimal(730) / 24),                 # daily
    ("cron(0 2,14 * * ? *)", Decimal(730) / 24 * 2),          # twice a day
    ("rate(30 minutes)", Decimal(1460)),
    ("rate(1 day)", Decimal(730) / 24),
    ("cron(0 3 ? * MON *)", None),                            # weekly: not read, default applies
    ("at(2026-01-01T00:00:00)", None),
    (None, None),
])
def test_schedule_runs(expression, runs):
    assert U.schedule_runs(expression)[0] == runs


def test_monitoring_usage_caps_the_run_at_the_job_runtime():
    hourly = U.monitoring_usage("cron(0 * ? * * *)", 1800)
    assert hourly.hours == Decimal(730) * 10 / 60 and "10 min per run (default)" in hourly.assumptions
    short = U.monitoring_usage("cron(0 * ? * * *)", 300)
    assert short.hours == Decimal(730) * 5 / 60 and "5 min per run (the job's max runtime)" in short.assumptions
    unread = U.monitoring_usage("cron(0 3 ? * MON *)", None)
    assert unread.runs == Decimal(730) / 24 and "one a day, default" in unread.assumptions[0]


def _price(data, region="eu-west-1"):
    graph = ResourceGraph.from_json(data)
    contexts, warnings = load_team_contexts(graph, "dev")
    return price_graph(graph, load_catalogue(), region, "dev", contexts, warnings)


def _lines(report, name):
    return [line for line in report.lines if line.resource == name]


def test_monitoring_mlflow_composite_secret_and_queue_lines():
    data = json.loads(GRAPH.read_text())
    template = "pricing-lab-endpoint-logs"
    with_resource(data, template, name="lab-dq", type="aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
          inputs={"name": "lab-scorer-dq", "stoppingCondition": {"maxRuntimeInSeconds": 1800},
                  "jobResources": {"clusterConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 2,
                                                     "volumeSizeInGb": 20}}})
    with_resource(data, template, name="lab-monitor", type="aws:sagemaker/monitoringSchedule:MonitoringSchedule",
          inputs={"monitoringScheduleConfig": {"monitoringJobDefinitionName": "lab-scorer-dq",
                                               "scheduleConfig": {"scheduleExpression": "cron(0 * ? * * *)"}}})
    with_resource(data, template, name="lab-orphan-monitor", type="aws:sagemaker/monitoringSchedule:MonitoringSchedule",
          inputs={"monitoringScheduleConfig": {"monitoringJobDefinitionName": "not-planned"}})
    with_resource(data, template, name="lab-mlflow", type="aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer",
          inputs={"trackingServerSize": "Medium"})
    with_resource(data, template, name="lab-unhealthy", type="aws:cloudwatch/compositeAlarm:CompositeAlarm",
          inputs={"alarmRule": "ALARM(a) OR ALARM(b)"})
    with_resource(data, template, name="lab-secret", type="aws:secretsmanager/secret:Secret", inputs={})
    with_resource(data, template, name="lab-queue", type="aws:sqs/queue:Queue", inputs={})
    with_resource(data, template, name="lab-registry", type="aws:glue/registry:Registry", inputs={})
    report = _price(data)

    (dq,) = _lines(report, "lab-dq")
    assert dq.status == "free"
    (monitor,) = _lines(report, "lab-monitor")
    # 730 hourly runs x 10 min x 2 instances = 243.33 h x $0.257 (eu-west-1 Processing ml.m5.xlarge)
    assert monitor.sku == "sagemaker.processing:ml.m5.xlarge" and cents(monitor.monthly) == "62.54"
    (orphan,) = _lines(report, "lab-orphan-monitor")
    assert orphan.status == "unknown-price" and orphan.monthly is None
    (mlflow,) = _lines(report, "lab-mlflow")
    assert (mlflow.sku, mlflow.quantity, mlflow.status) == ("sagemaker.mlflow:Medium", Decimal(730), "unknown-price")
    (composite,) = _lines(report, "lab-unhealthy")
    assert composite.sku == "cloudwatch.alarm.composite" and composite.monthly is None
    (secret,) = _lines(report, "lab-secret")
    assert cents(secret.monthly) == "0.40"
    (queue,) = _lines(report, "lab-queue")
    assert cents(queue.monthly) == "0.04"  # 100,000 requests x $0.40 per million
    assert [line.status for line in _lines(report, "lab-registry")] == ["free"]


def test_eu_west_1_storage_and_observability_prices():
    report = _price(json.loads(GRAPH.read_text()))
    by_sku = {}
    for line in report.lines:
        by_sku.setdefault(line.sku, []).append(line)
    logs = [line for line in report.lines if line.sku == "cloudwatch.logs.ingest"]
    assert logs and all(line.unit_usd == Decimal("0.57") for line in logs)
    assert all(line.unit_usd == Decimal("0.023") for line in by_sku["s3.storage.standard"])
    assert all(line.unit_usd == Decimal(1) for line in by_sku["kms.key"])
    assert all(line.unit_usd == Decimal("0.10") for line in by_sku["cloudwatch.alarm.standard"])


def test_shared_kueue_objects_are_billed_to_the_platform(prod_graph):
    contexts, warnings = load_team_contexts(prod_graph, "prod")
    report = price_graph(prod_graph, load_catalogue(), "eu-west-1", "prod", contexts, warnings)
    assert "(no team)" not in {line.team for line in report.lines}
    cohort = [line for line in report.lines if line.type.endswith(":Cohort")]
    assert cohort and {line.team for line in cohort} == {"platform"}


def test_management_only_trail_is_free_and_data_events_are_priced():
    data = json.loads(GRAPH.read_text())
    with_resource(data, "pricing-lab-endpoint-logs", name="lab-trail", type="aws:cloudtrail/trail:Trail", inputs={})
    report = _price(data)
    (trail,) = _lines(report, "lab-trail")
    assert trail.status == "free" and "first copy" in trail.assumptions[0]
    assert load_graph(GRAPH)  # fixture untouched
