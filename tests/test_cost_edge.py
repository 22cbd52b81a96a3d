"""The serving edge priced (issue 16, item 4): API Gateway, WAF, the fallback Lambda and its
DynamoDB cache from the fronted endpoint's request volume, CloudTrail Insights, GuardDuty
as an explicit UNKNOWN with the catalogue's reason, Route 53 aliases free, and every
resource type the edge branches create priced or named free."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from mlplatform.cost import usage as U
from mlplatform.cost.catalogue import load_catalogue
from mlplatform.cost.attribution import spec_context
from mlplatform.cost.engine import price_graph
from mlplatform.cost.pricers.registry import FREE_TYPES, PRICERS
from mlplatform.graph import GraphResource, ResourceGraph, SourceRef
from mlplatform.spec.loader import load_spec_file

from .helpers.cost import covered

TEAM = "edge-lab"
PROJECT, STACK = "ml-estate", "lab"
TEAM_URN = f"urn:pulumi:{STACK}::{PROJECT}::mlplatform:team:Team::{TEAM}"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:aws::{TEAM}-aws"

SPEC = """\
apiVersion: mlplatform/v1
kind: TeamSpec
metadata:
  team: edge-lab
  costCenter: CC-9001
  owners: [edge-lab@example.com]
  dataClassification: internal
  residency: eu
  riskTier: low
  escalation:
    critical: [email:edge-lab@example.com]
spec:
  endpoints:
    - name: scorer
      mode: realtime
      model: {framework: xgboost, frameworkVersion: "1.7", artifact: models/scorer/}
      instanceType: ml.m5.xlarge
      autoscaling: {min: 1, max: 4, targetInvocationsPerInstance: 600}
      expectedRequestsPerSecond: 10
      request:
        fields:
          - {name: customer_id, type: string}
      exposure: {mode: mtls, domainPrefix: scorer, truststore: truststores/clients.pem}
      fallback: {mode: lastKnownGood, keyField: customer_id, ttlMinutes: 60, timeoutMs: 500}
  budget: {monthlyUsd: 2000, alertAtPercent: [50, 80, 100]}
"""

#: 10 req/s x 3600 s x 730 h (no off-peak window)
REQUESTS = Decimal(10 * 3600 * 730)

#: Every resource type the edge branches create (the shared brief of issue 16).
EDGE_TYPES = (
    "aws:apigateway/restApi:RestApi", "aws:apigateway/resource:Resource", "aws:apigateway/method:Method",
    "aws:apigateway/integration:Integration", "aws:apigateway/deployment:Deployment", "aws:apigateway/stage:Stage",
    "aws:cloudwatch/logGroup:LogGroup", "aws:apigateway/methodSettings:MethodSettings",
    "aws:apigateway/domainName:DomainName", "aws:apigateway/basePathMapping:BasePathMapping",
    "aws:route53/record:Record", "aws:wafv2/webAcl:WebAcl", "aws:wafv2/webAclAssociation:WebAclAssociation",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "aws:iam/role:Role",
    "aws:lambda/function:Function", "aws:lambda/permission:Permission", "aws:dynamodb/table:Table",
    "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:guardduty/detector:Detector",
    "aws:guardduty/detectorFeature:DetectorFeature", "aws:cloudtrail/trail:Trail", "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/eventTarget:EventTarget", "aws:sns/topic:Topic", "aws:cloudwatch/logMetricFilter:LogMetricFilter",
)


@pytest.mark.parametrize("type_token", EDGE_TYPES)
def test_every_edge_type_is_priced_or_free(type_token):
    assert covered(type_token), type_token


def test_free_edge_types_say_why():
    for type_token in EDGE_TYPES:
        if type_token in FREE_TYPES:
            assert len(FREE_TYPES[type_token]) > 15 and type_token not in PRICERS


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("edge") / "edge-lab.yaml"
    path.write_text(SPEC)
    return path


def _resource(type_: str, name: str, inputs: dict, field: str | None = "spec.endpoints[scorer].exposure",
              line: int = 13) -> GraphResource:
    return GraphResource(urn=f"urn:pulumi:{STACK}::{PROJECT}::mlplatform:team:Team${type_}::{name}", type=type_,
                         name=name, custom=True, provider=PROVIDER_URN, parent=TEAM_URN, inputs=inputs,
                         source=SourceRef("edge-lab.yaml", line, field))


def _report(spec_file: Path, *resources: GraphResource, region: str = "eu-west-1"):
    graph = ResourceGraph(stack=STACK, project=PROJECT, origin="graph")
    graph.add(GraphResource(urn=PROVIDER_URN, type="pulumi:providers:aws", name=f"{TEAM}-aws", custom=True,
                            inputs={"region": region}))
    graph.add(GraphResource(urn=TEAM_URN, type="mlplatform:team:Team", name=TEAM, custom=False,
                            source=SourceRef(str(spec_file), 5)))
    for resource in resources:
        graph.add(resource)
    contexts = {TEAM: spec_context(load_spec_file(spec_file), "prod")}
    return price_graph(graph, load_catalogue(), region, "prod", contexts, [])


def _lines(report, name: str) -> dict:
    return {line.item: line for line in report.lines if line.resource == name}


RULES = [{"name": f"r{i}", "priority": i, "statement": {}, "visibilityConfig": {}} for i in range(4)]


def test_api_gateway_and_waf_follow_the_endpoints_requests(spec_file):
    report = _report(spec_file,
                     _resource("aws:apigateway/restApi:RestApi", "edge-lab-scorer-api", {"name": "edge-lab-scorer"}),
                     _resource("aws:wafv2/webAcl:WebAcl", "edge-lab-scorer-waf", {"scope": "REGIONAL", "rules": RULES}))
    api = _lines(report, "edge-lab-scorer-api")["API calls"]
    assert api.quantity == REQUESTS and api.unit_usd == Decimal("0.0000035")
    assert f"{api.monthly:.2f}" == "91.98"  # 26.28M requests x $3.50 per million
    assert any("expectedRequestsPerSecond 10 of endpoint scorer" in note for note in api.assumptions)
    assert api.endpoint == (TEAM, "scorer")
    waf = _lines(report, "edge-lab-scorer-waf")
    assert (waf["web ACL"].monthly, waf["rules"].quantity, waf["rules"].monthly) == (Decimal(5), 4, Decimal(4))
    assert waf["requests inspected"].quantity == REQUESTS
    assert f"{waf['requests inspected'].monthly:.2f}" == "15.77"  # 26.28M x $0.60 per million



def test_front_door_counts_in_the_cost_per_thousand_inferences(spec_file):
    line = next(line for line, entry in spec_context(load_spec_file(spec_file), "prod").entity_at_line.items()
                if entry == ("endpoints", 0))
    config = _resource("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "edge-lab-scorer-config",
                       {"productionVariants": [{"variantName": "primary", "instanceType": "ml.m5.xlarge",
                                                "initialInstanceCount": 1}]}, field="spec.endpoints[scorer]", line=line)
    api = _resource("aws:apigateway/restApi:RestApi", "edge-lab-scorer-api", {"name": "edge-lab-scorer"})
    alone = next(m for m in _report(spec_file, config).endpoints if m.endpoint == "scorer")
    fronted = next(m for m in _report(spec_file, config, api).endpoints if m.endpoint == "scorer")
    assert fronted.requests == alone.requests == REQUESTS  # the endpoint's and its front door's volume agree
    assert fronted.monthly - alone.monthly == REQUESTS * Decimal("0.0000035")


def test_waf_rules_from_api_json_and_unknown_rules(spec_file):
    from mlplatform.graph import UNKNOWN

    report = _report(spec_file,
                     _resource("aws:wafv2/webAcl:WebAcl", "a", {"ruleJson": json.dumps([{"Name": "x"}, {"Name": "y"}])}),
                     _resource("aws:wafv2/webAcl:WebAcl", "b", {"rules": UNKNOWN}))
    assert _lines(report, "a")["rules"].quantity == 2
    unknown = _lines(report, "b")["rules"]
    assert unknown.status == "unknown-price" and unknown.monthly is None and "rules unknown" in unknown.reason


def test_fallback_lambda_and_cache_follow_the_endpoint(spec_file):
    report = _report(spec_file,
                     _resource("aws:lambda/function:Function", "edge-lab-scorer-fallback", {"memorySize": 256},
                               field="spec.endpoints[scorer].fallback"),
                     _resource("aws:lambda/function:Function", "edge-lab-scorer-drift-fn", {"memorySize": 256},
                               field="spec.endpoints[scorer].monitoring.drift"),
                     _resource("aws:dynamodb/table:Table", "edge-lab-scorer-cache", {
                         "billingMode": "PAY_PER_REQUEST", "pointInTimeRecovery": {"enabled": True}},
                         field="spec.endpoints[scorer].fallback"))
    fallback = _lines(report, "edge-lab-scorer-fallback")
    assert fallback["requests"].quantity == REQUESTS
    # every call waits at most the fallback's timeoutMs (0.5 s) at 256 MB
    assert fallback["duration (x86_64)"].quantity == REQUESTS * Decimal("0.5") * 256 / 1024
    assert any("timeoutMs" in note for note in fallback["requests"].assumptions)
    drift = _lines(report, "edge-lab-scorer-drift-fn")  # not on the request path: the default load
    assert drift["requests"].quantity == U.DEFAULT_LAMBDA_REQUESTS and drift["requests"].endpoint is None
    cache = _lines(report, "edge-lab-scorer-cache")
    assert cache["write request units"].quantity == REQUESTS
    assert f"{cache['write request units'].monthly:.2f}" == "18.53"  # 26.28M WRU x $0.705 per million
    assert cache["read request units"].quantity == REQUESTS / 100  # 1% answered by the fallback
    items = (REQUESTS * 60 / (730 * 60)).quantize(Decimal(1))  # one 60-minute TTL window of answers
    assert cache["storage"].quantity == items / (1024 * 1024)
    assert cache["point-in-time recovery"].sku == "dynamodb.pitr" and cache["point-in-time recovery"].monthly > 0


def test_provisioned_table_is_unknown_not_zero(spec_file):
    report = _report(spec_file, _resource("aws:dynamodb/table:Table", "t", {}, field=None, line=2))
    [line] = report.lines[-1:]
    assert line.status == "unknown-price" and line.monthly is None and "PROVISIONED (the default)" in line.reason


def test_guardduty_is_an_explicit_unknown_with_the_catalogue_reason(spec_file):
    report = _report(spec_file,
                     _resource("aws:guardduty/detector:Detector", "gd", {"enable": True}, field=None, line=2),
                     _resource("aws:guardduty/detectorFeature:DetectorFeature", "gd-s3",
                               {"name": "S3_DATA_EVENTS", "status": "ENABLED"}, field=None, line=2),
                     _resource("aws:guardduty/detectorFeature:DetectorFeature", "gd-eks",
                               {"name": "EKS_AUDIT_LOGS", "status": "DISABLED"}, field=None, line=2))
    management = _lines(report, "gd")["CloudTrail management events analysed"]
    s3 = _lines(report, "gd-s3")["S3 data events analysed"]
    for line in (management, s3):
        assert line.status == "unknown-price" and line.monthly is None
        assert "no sourced price" in line.reason and "GuardDuty per-event rate" in line.gap
    assert management.quantity == U.DEFAULT_MANAGEMENT_EVENTS and s3.quantity == U.DEFAULT_TRAIL_DATA_EVENTS
    assert _lines(report, "gd-eks")["free"].status == "free"
    assert report.unknown() and "GuardDuty" in report.unknown()[0].describe_unpriced()


def test_cloudtrail_insights_priced_per_event_analysed(spec_file):
    both = [{"insightType": "ApiCallRateInsight"}, {"insightType": "ApiErrorRateInsight"}]
    report = _report(spec_file,
                     _resource("aws:cloudtrail/trail:Trail", "trail", {"insightSelectors": both}, field=None, line=2),
                     _resource("aws:cloudtrail/trail:Trail", "plain", {}, field=None, line=2))
    insights = _lines(report, "trail")["Insights events analysed"]
    # writes (10% of 1M) analysed for the call rate, every event for the error rate (AWS's costs example)
    assert insights.quantity == Decimal(1_100_000) and f"{insights.monthly:.2f}" == "3.85"
    assert _lines(report, "trail")["management events"].status == "free"
    assert list(_lines(report, "plain")) == ["management events"]


def test_insight_events_follow_the_documented_example():
    # AWS: 300,000 management events of which 30,000 writes, both types -> 330,000 analysed
    analysed, _ = U.insight_events(["ApiCallRateInsight", "ApiErrorRateInsight"], Decimal(300_000))
    assert analysed == Decimal(330_000)
    assert U.insight_events(["ApiCallRateInsight"], Decimal(300_000))[0] == Decimal(30_000)


def test_route53_alias_free_and_other_records_unknown(spec_file):
    report = _report(spec_file,
                     _resource("aws:route53/record:Record", "alias", {"type": "A", "aliases": [
                         {"name": "d-abc.execute-api.eu-west-1.amazonaws.com", "zoneId": "Z1", "evaluateTargetHealth": False}]}),
                     _resource("aws:route53/record:Record", "cname", {"type": "CNAME", "records": ["x.example.com"]}))
    [alias] = _lines(report, "alias").values()
    assert alias.status == "free" and "alias queries" in alias.assumptions[0]
    [cname] = _lines(report, "cname").values()
    assert cname.status == "unknown-price" and cname.gap


def test_stage_cache_unknown_and_free_front_door_parts(spec_file):
    report = _report(spec_file,
                     _resource("aws:apigateway/stage:Stage", "plain", {"stageName": "live"}),
                     _resource("aws:apigateway/stage:Stage", "cached", {"cacheClusterEnabled": True,
                                                                        "cacheClusterSize": "0.5"}),
                     _resource("aws:apigateway/domainName:DomainName", "domain", {}),
                     _resource("aws:wafv2/webAclAssociation:WebAclAssociation", "assoc", {}))
    assert _lines(report, "plain")["free"].status == "free"
    cached = _lines(report, "cached")["cache cluster (0.5 GB)"]
    assert cached.status == "unknown-price" and cached.quantity == Decimal(730) and cached.gap
    assert {line.status for line in report.lines if line.resource in ("domain", "assoc")} == {"free"}


def test_metric_filter_publishes_a_custom_metric(spec_file):
    report = _report(spec_file, _resource("aws:cloudwatch/logMetricFilter:LogMetricFilter", "downloads", {
        "metricTransformation": {"name": "ModelDownloads", "namespace": "MLPlatform", "value": "1"}}, field=None, line=2))
    [line] = _lines(report, "downloads").values()
    assert line.sku == "cloudwatch.metric" and line.monthly == Decimal("0.30")


def test_edge_prices_have_sources_and_unknown_regions_say_why():
    catalogue = load_catalogue()
    for sku in ("apigateway.rest.requests", "waf.webacl", "waf.rule", "waf.requests", "dynamodb.ondemand.write",
                "dynamodb.ondemand.read", "dynamodb.storage", "dynamodb.pitr", "cloudtrail.insights"):
        price = catalogue.price(sku, "eu-west-1")
        assert price is not None and price.source in catalogue.sources and price.as_of, sku
    for sku, region in (("guardduty.events.management", "eu-west-1"), ("guardduty.events.s3data", "us-east-1"),
                        ("dynamodb.ondemand.write", "eu-central-1"), ("dynamodb.storage", "us-east-1"),
                        ("apigateway.rest.requests", "eu-central-1")):
        assert catalogue.price(sku, region) is None and catalogue.gap(sku, region), (sku, region)


def test_prices_show_lists_edge_skus_with_the_unknowns_reason(capsys):
    from mlplatform.cli import main

    assert main(["prices", "show", "--region", "eu-west-1"]) == 0
    out = capsys.readouterr().out
    assert "waf.webacl" in out and "$5.00/webacl-month" in out
    [guardduty] = [line for line in out.splitlines() if line.startswith("guardduty.events.s3data")]
    assert "UNKNOWN" in guardduty and "GuardDuty per-event rate" in guardduty
