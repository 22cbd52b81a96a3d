"""Cost engine on a fixture graph: hand-computed figures to the cent.

The fixture (tests/fixtures/cost/pricing-lab.graph.json) is a saved ResourceGraph built
from tests/fixtures/cost/teams/pricing-lab.yaml; prices are the packaged catalogue's
us-east-1 entries (sourced), so every expected figure below is worked out by hand from
those prices and the spec's usage.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from mlplatform.cost.budget import check_budgets
from mlplatform.cost.catalogue import catalogue_from_json, load_catalogue
from mlplatform.cost.diff import diff_reports
from mlplatform.cost.attribution import load_team_contexts
from mlplatform.cost.engine import price_graph
from mlplatform.cost.pricers.registry import FREE_TYPES, PRICERS
from mlplatform.errors import UsageError
from mlplatform.graph import ResourceGraph
from mlplatform.readers import load_graph

from .helpers.cost import with_resource

FIXTURES = Path(__file__).parent / "fixtures" / "cost"
GRAPH = FIXTURES / "pricing-lab.graph.json"


def cents(value) -> str:
    return f"{value:.2f}"


def price(graph: ResourceGraph, catalogue=None, region="us-east-1", environment="dev"):
    contexts, warnings = load_team_contexts(graph, environment)
    return price_graph(graph, catalogue or load_catalogue(), region, environment, contexts, warnings)


@pytest.fixture(scope="module")
def report():
    return price(load_graph(GRAPH))


def lines_of(report, resource):
    return [line for line in report.lines if line.resource == resource]


def test_endpoint_with_autoscaling_and_off_peak(report):
    # min 2, max 10 -> average 6 (midpoint, no request rate); 6 off-peak h/day at min 2:
    # 6 x 730 x 18/24 + 2 x 730 x 6/24 = 3,285 + 365 = 3,650 h x $0.23 = $839.50
    (line,) = lines_of(report, "pricing-lab-scorer-config")
    assert line.quantity == Decimal(3650)
    assert line.unit_usd == Decimal("0.23")
    assert cents(line.monthly) == "839.50"
    assert line.price.source == "sm-us-east-1-constants"
    assert any("midpoint" in note for note in line.assumptions)
    assert any("6 off-peak h/day" in note for note in line.assumptions)


def test_endpoint_instances_from_request_rate(report):
    # 20 req/s x 60 / 600 per instance per minute = 2 instances, within 1-4: 2 x 730 = 1,460 h x $0.204
    (line,) = lines_of(report, "pricing-lab-ranker-config")
    assert line.quantity == Decimal(1460)
    assert cents(line.monthly) == "297.84"


def test_cost_per_thousand_inferences(report):
    metrics = {m.endpoint: m for m in report.endpoints}
    # ranker: 20 req/s x 3,600 x 730 = 52,560,000 requests; $297.84 / 52,560 = $0.0056667
    assert metrics["ranker"].requests == Decimal(52_560_000)
    assert f"{metrics['ranker'].per_thousand:.4f}" == "0.0057"
    # scorer: 6 instances x 100/min x 60 x 547.5 h = 19,710,000 requests; $839.50 / 19,710
    assert metrics["scorer"].requests == Decimal(19_710_000)
    assert f"{metrics['scorer'].per_thousand:.4f}" == "0.0426"


def test_spot_training_queue_with_fallback(report):
    # 400 GPU-h / 4 GPUs per g5.12xlarge = 100 instance-h; 80% spot at $5.672 x 0.4 = $2.2688, 20% on-demand
    (spot,) = lines_of(report, "pricing-lab-queue-gpu-spot")
    (demand,) = lines_of(report, "pricing-lab-queue-gpu-on-demand")
    assert (spot.quantity, spot.unit_usd, cents(spot.monthly)) == (Decimal(80), Decimal("2.2688"), "181.50")
    assert (demand.quantity, demand.unit_usd, cents(demand.monthly)) == (Decimal(20), Decimal("5.672"), "113.44")
    assert cents(spot.monthly + demand.monthly) == "294.94"


def test_single_compute_environment_carries_both_shares():
    data = json.loads(GRAPH.read_text())
    data["resources"] = [r for r in data["resources"] if r["name"] != "pricing-lab-queue-gpu-on-demand"]
    (spot, demand) = lines_of(price(ResourceGraph.from_json(data)), "pricing-lab-queue-gpu-spot")
    assert cents(spot.monthly) == "181.50" and cents(demand.monthly) == "113.44"


def test_queue_without_spot_is_on_demand_only(tmp_path):
    spec = (FIXTURES / "teams" / "pricing-lab.yaml").read_text()
    spec = spec.replace("spot: {enabled: true, fallbackToOnDemand: true}", "spot: {enabled: false}")
    teams = tmp_path / "teams"
    teams.mkdir()
    (teams / "pricing-lab.yaml").write_text(spec)
    graph = load_graph(GRAPH)
    contexts, _ = load_team_contexts(graph, "dev", str(teams))
    result = price_graph(graph, load_catalogue(), "us-east-1", "dev", contexts)
    (idle,) = lines_of(result, "pricing-lab-queue-gpu-spot")
    assert idle.quantity == 0 and cents(idle.monthly) == "0.00"
    (demand,) = lines_of(result, "pricing-lab-queue-gpu-on-demand")
    assert cents(demand.monthly) == "567.20"  # 100 h x $5.672


def test_feature_group_lines(report):
    lines = {line.item: line for line in lines_of(report, "pricing-lab-fg-events-v1-group")}
    # 10 writes/s and 50 reads/s over 730 h (2,628,000 s), one unit each; no sourced Feature Store price
    assert lines["write units"].quantity == Decimal(26_280_000)
    assert lines["online store read units"].quantity == Decimal(131_400_000)
    for item in ("write units", "online store read units", "online store storage"):
        assert lines[item].status == "unknown-price" and lines[item].monthly is None
    assert cents(lines["offline store (S3 Standard)"].monthly) == "0.46"  # 20 GB x $0.023


def test_feature_group_arithmetic_with_prices():
    catalogue = catalogue_from_json(json.loads((FIXTURES / "test-prices.json").read_text()))
    lines = {line.item: line for line in lines_of(price(load_graph(GRAPH), catalogue), "pricing-lab-fg-events-v1-group")}
    assert cents(lines["online store storage"].monthly) == "9.00"  # 20 GB x $0.45
    assert cents(lines["write units"].monthly) == "32.85"  # 26,280,000 x $0.00000125
    assert cents(lines["online store read units"].monthly) == "32.85"  # 131,400,000 x $0.00000025


def test_storage_and_observability_lines(report):
    def monthly(resource):
        return [cents(line.monthly) for line in lines_of(report, resource)]

    assert monthly("pricing-lab-artifacts-bucket") == ["23.00"]  # 1,000 GB x $0.023
    assert monthly("pricing-lab-artifacts-key") == ["1.00"]
    assert monthly("pricing-lab-images-repository") == ["2.00"]  # 20 GB (default) x $0.10
    assert monthly("pricing-lab-scorer-latency") == ["0.10"]
    # 5 GB x $0.50 ingested; 5 GB x 30 days / 30.4167 days = 4.9315 GB-month x $0.03 = $0.148
    assert monthly("pricing-lab-endpoint-logs") == ["2.50", "0.15"]
    # 100,000 x $0.0000002 = $0.02; 100,000 x 1 s x 0.25 GB = 25,000 GB-s x $0.0000166667 = $0.4167
    assert monthly("pricing-lab-drift-check") == ["0.02", "0.42"]


def test_team_total_budget_and_forecast(report):
    assert cents(report.total("pricing-lab")) == "1461.93"
    (budget,) = check_budgets(report)
    assert budget.thresholds_reached == [50] and not budget.over
    assert budget.unknown_lines == 3
    forecast = report.forecast("pricing-lab")
    assert forecast[0] == report.total("pricing-lab")  # month 1 is the plan as it stands
    # month 12: bucket 1,000 + 11 x 100 GB = 2,100 GB x $0.023 = $48.30 (+$25.30); training
    # scales with data 2,100/1,000: $294.944 x 2.1 = $619.3824 (+$324.4384)
    assert cents(forecast[11] - report.total("pricing-lab")) == cents(Decimal("25.30") + Decimal("324.4384"))
    assert forecast[0] < forecast[5] < forecast[11]


def test_free_and_unknown_types(report):
    free = {line.type for line in report.lines if line.status == "free"}
    assert {"aws:iam/role:Role", "aws:sagemaker/endpoint:Endpoint", "aws:batch/jobQueue:JobQueue"} <= free
    data = json.loads(GRAPH.read_text())
    odd = copy.deepcopy(next(r for r in data["resources"] if r["name"] == "pricing-lab-artifacts-key"))
    odd.update(urn=odd["urn"].replace("aws:kms/key:Key::pricing-lab-artifacts-key", "aws:rds/instance:Instance::db"),
               type="aws:rds/instance:Instance", name="db")
    data["resources"].append(odd)
    result = price(ResourceGraph.from_json(data))
    (line,) = lines_of(result, "db")
    assert line.status == "unknown-type" and line.monthly is None
    assert cents(result.total("pricing-lab")) == "1461.93"  # unknowns never count as zero... nor as anything


def test_unknown_price_in_region_is_never_zero():
    result = price(load_graph(GRAPH), region="eu-west-1")
    (scorer,) = lines_of(result, "pricing-lab-scorer-config")
    assert cents(scorer.monthly) == "938.05"  # ml.m5.xlarge has a sourced eu-west-1 price: 3,650 h x $0.257
    (ranker,) = lines_of(result, "pricing-lab-ranker-config")  # ml.c5.xlarge has none there
    assert ranker.status == "unknown-price" and ranker.monthly is None and ranker.unit_usd is None
    assert "no sourced price for sagemaker.hosting:ml.c5.xlarge in eu-west-1" in ranker.assumptions
    assert ranker not in [line for line in result.lines if line.monthly is not None]


def test_doubling_endpoint_instances_diff():
    base = load_graph(GRAPH)
    data = json.loads(GRAPH.read_text())
    for resource in data["resources"]:
        if resource["name"] == "pricing-lab-scorer-scaling":
            resource["inputs"].update(minCapacity=4, maxCapacity=20)
        if resource["name"] == "pricing-lab-scorer-config":
            resource["inputs"]["productionVariants"][0]["initialInstanceCount"] = 4
    diff = diff_reports(price(base), price(ResourceGraph.from_json(data)))
    (change,) = diff.resources
    # 12 x 547.5 + 4 x 182.5 = 7,300 h x $0.23 = $1,679.00
    assert (change.resource, change.change) == ("pricing-lab-scorer-config", "changed")
    assert (cents(change.base), cents(change.head), cents(change.delta)) == ("839.50", "1679.00", "839.50")
    assert cents(diff.delta) == "839.50"
    assert any("3,650 hour" in reason for reason in change.reasons)
    assert any("7,300 hour" in reason for reason in change.reasons)


def test_every_brief_type_is_priced_or_free():
    priced = {
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration", "aws:batch/computeEnvironment:ComputeEnvironment",
        "aws:sagemaker/featureGroup:FeatureGroup", "aws:s3/bucketV2:BucketV2", "aws:s3/bucket:Bucket", "aws:kms/key:Key",
        "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/logGroup:LogGroup", "aws:ecr/repository:Repository",
        "aws:lambda/function:Function", "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        "aws:cloudtrail/trail:Trail", "aws:sns/topic:Topic",
    }
    assert priced <= set(PRICERS)
    assert {"aws:sagemaker/model:Model", "aws:sagemaker/endpoint:Endpoint", "aws:appautoscaling/target:Target",
            "aws:batch/jobQueue:JobQueue"} <= set(FREE_TYPES)
    assert not set(PRICERS) & set(FREE_TYPES)


def test_catalogue_rejects_unsourced_prices(tmp_path):
    data = json.loads((FIXTURES / "test-prices.json").read_text())
    del data["prices"][0]["source"]
    with pytest.raises(UsageError, match=r"prices\[0\]: missing source"):
        catalogue_from_json(data, "x.json")
    data = json.loads((FIXTURES / "test-prices.json").read_text())
    data["prices"][0]["source"] = "nowhere"
    with pytest.raises(UsageError, match="not among the catalogue's sources"):
        catalogue_from_json(data, "x.json")
    data["prices"][0].update(source="test", usd="-1")
    with pytest.raises(UsageError, match="is not a price"):
        catalogue_from_json(data, "x.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(UsageError, match=r"bad.json:1:2: error: not JSON"):
        load_catalogue(bad)


def test_packaged_catalogue_entries_all_have_source_and_date():
    catalogue = load_catalogue()
    assert {region for _, region in catalogue.prices} == {"us-east-1", "eu-west-1", "eu-central-1"}
    for entry in catalogue.prices.values():
        assert entry.source in catalogue.sources and entry.as_of[:4].isdigit() and entry.usd > 0


def test_spec_entry_found_by_name_when_the_component_records_another_line():
    data = json.loads(GRAPH.read_text())
    for resource in data["resources"]:
        if resource["name"].startswith(("pricing-lab-scorer", "pricing-lab-queue-gpu")):
            resource["source"]["line"] = 2  # not an entry's line
    result = price(ResourceGraph.from_json(data))
    (scorer,) = lines_of(result, "pricing-lab-scorer-config")
    assert cents(scorer.monthly) == "839.50" and any("6 off-peak h/day" in n for n in scorer.assumptions)
    (spot,) = lines_of(result, "pricing-lab-queue-gpu-spot")
    assert cents(spot.monthly) == "181.50"


def test_variants_serverless_and_other_observability_types():
    data = json.loads(GRAPH.read_text())
    config = next(r for r in data["resources"] if r["name"] == "pricing-lab-scorer-config")
    config["inputs"]["productionVariants"].append(
        {"variantName": "canary", "instanceType": "ml.m5.xlarge", "initialInstanceCount": 1})
    config["inputs"]["shadowProductionVariants"] = [
        {"variantName": "shadow", "instanceType": "ml.c5.xlarge", "initialInstanceCount": 1}]
    with_resource(data, "pricing-lab-ranker-config", name="pricing-lab-similar-config", inputs={"productionVariants": [
        {"variantName": "primary", "serverlessConfig": {"memorySizeInMb": 2048, "maxConcurrency": 5}}]},
          source={"file": "tests/fixtures/cost/teams/pricing-lab.yaml", "line": 2},
          parent="urn:pulumi:lab::ml-estate::mlplatform:team:Team::pricing-lab")  # no spec entry: defaults
    with_resource(data, "pricing-lab-scorer-latency", name="pricing-lab-fast-alarm", inputs={"period": 10, "metricName": "x"})
    with_resource(data, "pricing-lab-scorer-latency", name="pricing-lab-anomaly-alarm", inputs={"metricQueries": [
        {"id": "m1", "metric": {"metricName": "Invocations", "namespace": "AWS/SageMaker", "period": 300, "stat": "Sum"}},
        {"id": "ad1", "expression": "ANOMALY_DETECTION_BAND(m1, 2)"}], "thresholdMetricId": "ad1"})
    with_resource(data, "pricing-lab-endpoint-logs", name="pricing-lab-forever-logs", inputs={"name": "/forever"})
    with_resource(data, "pricing-lab-endpoint-logs", name="pricing-lab-capture-stream",
          type="aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", inputs={"destination": "extended_s3"})
    with_resource(data, "pricing-lab-endpoint-logs", name="pricing-lab-trail", type="aws:cloudtrail/trail:Trail",
          inputs={"eventSelectors": [{"dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::b/"]}]}]})
    with_resource(data, "pricing-lab-endpoint-logs", name="pricing-lab-alerts", type="aws:sns/topic:Topic", inputs={})
    result = price(ResourceGraph.from_json(data))
    scorer = {line.item: line for line in lines_of(result, "pricing-lab-scorer-config")}
    assert cents(scorer["variant primary: ml.m5.xlarge instance-hours"].monthly) == "839.50"
    assert cents(scorer["variant canary: ml.m5.xlarge instance-hours"].monthly) == "167.90"  # 1 x 730 h x $0.23
    assert cents(scorer["shadow variant shadow: ml.c5.xlarge instance-hours"].monthly) == "148.92"  # 730 x $0.204
    (serverless,) = lines_of(result, "pricing-lab-similar-config")
    # 1 req/s (default) x 2,628,000 s x 0.2 s x 2 GB = 1,051,200 GB-s; no sourced serverless price
    assert serverless.quantity == Decimal(1_051_200) and serverless.status == "unknown-price"
    assert [cents(l.monthly) for l in lines_of(result, "pricing-lab-fast-alarm")] == ["0.30"]
    assert [cents(l.monthly) for l in lines_of(result, "pricing-lab-anomaly-alarm")] == ["0.30"]  # counts 3
    assert [cents(l.monthly) for l in lines_of(result, "pricing-lab-forever-logs")] == ["2.50", "1.80"]  # 60 GB-mo
    for name, sku in (("pricing-lab-capture-stream", "firehose.ingest"), ("pricing-lab-alerts", "sns.requests")):
        (line,) = lines_of(result, name)
        assert (line.sku, line.status, line.monthly) == (sku, "unknown-price", None)
    (trail,) = lines_of(result, "pricing-lab-trail")
    assert (trail.sku, cents(trail.monthly)) == ("cloudtrail.dataevents", "1.00")  # 1,000,000 x $0.10/100,000
    metric = next(m for m in result.endpoints if m.endpoint == "pricing-lab-similar-config")
    assert metric.per_thousand is None  # an unknown line makes the per-1,000 figure unknown, not cheaper


def test_kueue_cluster_queue_is_priced_as_the_spec_queue():
    data = json.loads(GRAPH.read_text())
    data["resources"] = [r for r in data["resources"] if r["type"] != "aws:batch/computeEnvironment:ComputeEnvironment"]
    with_resource(data, "pricing-lab-queue-gpu-queue", name="pricing-lab-gpu-cluster-queue",
          type="kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", inputs={"spec": {"namespaceSelector": {}}})
    with_resource(data, "pricing-lab-queue-gpu-queue", name="pricing-lab-gpu-local-queue",
          type="kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue", inputs={})
    result = price(ResourceGraph.from_json(data))
    assert [cents(l.monthly) for l in lines_of(result, "pricing-lab-gpu-cluster-queue")] == ["181.50", "113.44"]
    assert [l.status for l in lines_of(result, "pricing-lab-gpu-local-queue")] == ["free"]


def test_packaged_catalogue_is_in_canonical_form():
    """The file is written as Catalogue.dumps() writes it, so a refresh diffs cleanly."""
    from mlplatform.cost.catalogue import DEFAULT_CATALOGUE

    assert DEFAULT_CATALOGUE.read_text() == load_catalogue().dumps()


def test_spec_entries_without_planned_resources_are_reported(report):
    assert not [w for w in report.warnings if "has no priced resource" in w]
    data = json.loads(GRAPH.read_text())
    data["resources"] = [r for r in data["resources"] if r["name"] != "pricing-lab-ranker-config"]
    result = price(ResourceGraph.from_json(data))
    assert result.warnings == [
        "pricing-lab: endpoint ranker has no priced resource in the plan; its cost is not included"]
