"""The serving-edge rules (MLP-EDGE-*), compliant and violating, through the served pack.

Synthetic graphs shaped like the front door of ``exposure.mode: mtls`` (REST API, stage,
custom domain, WAF web ACL and its association) and like the foundation's anomaly
detection (GuardDuty detector and S3 protection feature, trail insight selectors). The
meta-test in tests/test_policy_rules.py counts :data:`CASES` with every other prefix's.
"""

from __future__ import annotations

import json

import pytest

from mlplatform.graph import UNKNOWN
from mlplatform.reports.findings import SKIPPED

from tests.helpers.policy import (ACCOUNT, PROJECT, PROVIDER_URN, STACK, TEAM, base_values, case_params, check_case,
                                  failures, graph_of, provider, res, run)

REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
DOMAIN = "aws:apigateway/domainName:DomainName"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
BUCKET = "aws:s3/bucket:Bucket"
DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
TRAIL = "aws:cloudtrail/trail:Trail"

ARTIFACTS = "acme-fraud-prod-artifacts-111122223333"
TRUSTSTORE = f"s3://{ARTIFACTS}/truststores/clients.pem"
STORE_CHAIN = "mlplatform:team:Team$mlplatform:storage:ArtifactStore$"
OTHER = "payments"
OTHER_PROVIDER = PROVIDER_URN.replace(f"::{TEAM}-aws", f"::{OTHER}-aws")
ACL_NAME = "fraud-scorer-waf"
ACL_ARN = f"arn:aws:wafv2:eu-west-1:{ACCOUNT}:regional/webacl/{ACL_NAME}/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def under_artifact_store(resource):
    """The resource as the ArtifactStore component creates it (its URN names the component)."""
    resource.urn = f"urn:pulumi:{STACK}::{PROJECT}::{STORE_CHAIN}{resource.type}::{resource.name}"
    return resource


def artifact_bucket(name: str = ARTIFACTS, provider_urn: str = PROVIDER_URN, resource: str = "fraud-artifacts-bucket"):
    return under_artifact_store(res(BUCKET, resource, {"bucket": name}, protect=True, provider_urn=provider_urn))


BUCKET_URN = artifact_bucket().urn


def domain(mtls=None, deps=None, **changes) -> list:
    inputs = {"domainName": "scorer.ml.example.com", "regionalCertificateArn":
              f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/1234", "endpointConfiguration": {"types": "REGIONAL"},
              "securityPolicy": "TLS_1_2", "mutualTlsAuthentication": {"truststoreUri": TRUSTSTORE}
              if mtls is None else mtls}
    inputs.update(changes)
    return [artifact_bucket(), res(DOMAIN, "fraud-scorer-domain", {k: v for k, v in inputs.items() if v is not None},
                                   deps=deps)]


def rest_api(**changes) -> list:
    inputs = {"name": "fraud-prod-scorer", "disableExecuteApiEndpoint": True, "endpointConfiguration": {"types": "REGIONAL"}}
    inputs.update(changes)
    return [res(REST_API, "fraud-scorer-api", {k: v for k, v in inputs.items() if v is not None})]


def managed(name: str, priority: int, override: str = "none") -> dict:
    return {"name": name, "priority": priority, "overrideAction": {override: {}},
            "statement": {"managedRuleGroupStatement": {"name": name, "vendorName": "AWS"}},
            "visibilityConfig": {"cloudwatchMetricsEnabled": True, "metricName": name, "sampledRequestsEnabled": True}}


RATE = {"name": "rate-limit", "priority": 0, "action": {"block": {}},
        "statement": {"rateBasedStatement": {"limit": 2000, "aggregateKeyType": "IP"}},
        "visibilityConfig": {"cloudwatchMetricsEnabled": True, "metricName": "rate", "sampledRequestsEnabled": True}}
GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList")


def waf_rules(groups=GROUPS, rate=RATE, override="none") -> list:
    return ([rate] if rate else []) + [managed(name, index + 1, override) for index, name in enumerate(groups)]


def api_json(rules: list) -> str:
    """The same rules as the WAF API spells them (``ruleJson``)."""
    def pascal(value):
        if isinstance(value, dict):
            return {key[0].upper() + key[1:]: pascal(item) for key, item in value.items()}
        return [pascal(item) for item in value] if isinstance(value, list) else value
    return json.dumps(pascal(rules))


def front_door(rules=None, scope="REGIONAL", associate=True, literal=False, **acl_changes) -> list:
    api = rest_api()[0]
    stage_inputs = {"restApi": "a1b2c3d4e5" if literal else UNKNOWN, "stageName": "live", "deployment": UNKNOWN}
    stage = res(STAGE, "fraud-scorer-stage", stage_inputs, deps={} if literal else {"restApi": [api.urn]})
    acl_inputs = {"name": ACL_NAME, "scope": scope, "defaultAction": {"allow": {}},
                  "visibilityConfig": {"cloudwatchMetricsEnabled": True, "metricName": "waf", "sampledRequestsEnabled": True},
                  "rules": waf_rules() if rules is None else rules}
    acl_inputs.update(acl_changes)
    acl = res(WEB_ACL, "fraud-scorer-waf", {k: v for k, v in acl_inputs.items() if v is not None})
    resources = [api, stage, acl]
    if associate:
        if literal:
            resources.append(res(ASSOCIATION, "fraud-scorer-waf-association", {
                "resourceArn": "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/live", "webAclArn": ACL_ARN}))
        else:
            resources.append(res(ASSOCIATION, "fraud-scorer-waf-association", {"resourceArn": UNKNOWN, "webAclArn": UNKNOWN},
                                 deps={"resourceArn": [stage.urn], "webAclArn": [acl.urn]}))
    return resources


def detection(s3: str = "ENABLED", feature_name: str = "S3_DATA_EVENTS", insights=("ApiCallRateInsight", "ApiErrorRateInsight"),
              detector: bool = True, feature: bool = True, legacy_s3: bool = False) -> list:
    found = [res("mlplatform:platform:Foundation", "platform", custom=False, provider_urn=None)]
    if detector:
        inputs = {"enable": True, "findingPublishingFrequency": "FIFTEEN_MINUTES"}
        if legacy_s3:
            inputs["datasources"] = {"s3Logs": {"enable": True}}
        found.append(res(DETECTOR, "platform-guardduty", inputs))
        if feature:
            found.append(res(FEATURE, "platform-guardduty-s3", {"detectorId": UNKNOWN, "name": feature_name, "status": s3},
                             deps={"detectorId": [found[-1].urn]}))
    found.append(res(TRAIL, "platform-trail", {"name": "mlplatform-prod-audit", "isMultiRegionTrail": True,
                                                "insightSelectors": [{"insightType": kind} for kind in insights]}))
    return found


V = base_values
# (rule, case, resources, config values, violates)
CASES = [
    ("MLP-EDGE-001", "truststore-in-team-artifact-bucket", lambda: domain(), V(), False),
    ("MLP-EDGE-001", "unknown-uri-from-team-artifact-bucket", lambda: domain(
        mtls={"truststoreUri": UNKNOWN}, deps={"mutualTlsAuthentication": [BUCKET_URN]}), V(), False),
    ("MLP-EDGE-001", "no-mutual-tls", lambda: domain(mtls=None, mutualTlsAuthentication=None), V(), True),
    ("MLP-EDGE-001", "other-teams-bucket", lambda: domain(mtls={"truststoreUri": TRUSTSTORE.replace("fraud", OTHER)}) + [
        provider(team=OTHER), artifact_bucket(ARTIFACTS.replace("fraud", OTHER), OTHER_PROVIDER, "payments-artifacts")],
     V(), True),
    ("MLP-EDGE-001", "team-bucket-not-artifact-store", lambda: domain(
        mtls={"truststoreUri": "s3://acme-fraud-prod-log-delivery-failures/truststores/clients.pem"}) + [
        res(BUCKET, "fraud-log-failures", {"bucket": "acme-fraud-prod-log-delivery-failures"})], V(), True),
    ("MLP-EDGE-001", "outside-truststores-folder", lambda: domain(
        mtls={"truststoreUri": f"s3://{ARTIFACTS}/models/clients.pem"}), V(), True),
    ("MLP-EDGE-001", "not-an-s3-uri", lambda: domain(mtls={"truststoreUri": "https://example.com/ca.pem"}), V(), True),
    ("MLP-EDGE-002", "regional-default-endpoint-off", lambda: rest_api(), V(), False),
    ("MLP-EDGE-002", "regional-as-a-list", lambda: rest_api(endpointConfiguration={"types": ["REGIONAL"]}), V(), False),
    ("MLP-EDGE-002", "default-endpoint-on", lambda: rest_api(disableExecuteApiEndpoint=False), V(), True),
    ("MLP-EDGE-002", "default-endpoint-unset", lambda: rest_api(disableExecuteApiEndpoint=None), V(), True),
    ("MLP-EDGE-002", "edge-optimised", lambda: rest_api(endpointConfiguration={"types": "EDGE"}), V(), True),
    ("MLP-EDGE-002", "endpoint-type-unset", lambda: rest_api(endpointConfiguration=None), V(), True),
    ("MLP-EDGE-003", "stage-behind-waf", lambda: front_door(), V(), False),
    ("MLP-EDGE-003", "stage-behind-waf-by-literal-arns", lambda: front_door(literal=True), V(), False),
    ("MLP-EDGE-003", "rules-as-api-json", lambda: front_door(rules=[], ruleJson=api_json(waf_rules())), V(), False),
    ("MLP-EDGE-003", "stage-without-waf", lambda: front_door(associate=False), V(), True),
    ("MLP-EDGE-003", "no-ip-reputation-group", lambda: front_door(rules=waf_rules(groups=GROUPS[:2])), V(), True),
    ("MLP-EDGE-003", "managed-groups-only-count", lambda: front_door(rules=waf_rules(override="count")), V(), True),
    ("MLP-EDGE-003", "no-rate-rule", lambda: front_door(rules=waf_rules(rate=None)), V(), True),
    ("MLP-EDGE-003", "rate-rule-only-counts", lambda: front_door(rules=waf_rules(rate={**RATE, "action": {"count": {}}})),
     V(), True),
    ("MLP-EDGE-003", "cloudfront-scope", lambda: front_door(scope="CLOUDFRONT"), V(), True),
    ("MLP-EDGE-004", "tls-1-2", lambda: domain(), V(), False),
    ("MLP-EDGE-004", "enhanced-policy-without-mtls", lambda: domain(
        mtls=None, mutualTlsAuthentication=None, securityPolicy="SecurityPolicy_TLS13_1_2_2021_06"), V(), False),
    ("MLP-EDGE-004", "tls-1-0", lambda: domain(securityPolicy="TLS_1_0"), V(), True),
    ("MLP-EDGE-004", "unset", lambda: domain(securityPolicy=None), V(), True),
    ("MLP-EDGE-004", "enhanced-policy-with-mtls", lambda: domain(securityPolicy="SecurityPolicy_TLS13_1_3_2025_09"),
     V(), True),
    ("MLP-EDGE-005", "guardduty-s3-and-insights", lambda: detection(), V(), False),
    ("MLP-EDGE-005", "legacy-s3-datasource", lambda: detection(feature=False, legacy_s3=True), V(), False),
    ("MLP-EDGE-005", "not-production", lambda: detection(detector=False, insights=()), V(environment="dev"), False),
    ("MLP-EDGE-005", "no-detector", lambda: detection(detector=False), V(), True),
    ("MLP-EDGE-005", "no-s3-protection", lambda: detection(feature=False), V(), True),
    ("MLP-EDGE-005", "s3-protection-disabled", lambda: detection(s3="DISABLED"), V(), True),
    ("MLP-EDGE-005", "other-feature-only", lambda: detection(feature_name="EKS_AUDIT_LOGS"), V(), True),
    ("MLP-EDGE-005", "no-insights", lambda: detection(insights=()), V(), True),
    ("MLP-EDGE-005", "call-rate-only", lambda: detection(insights=("ApiCallRateInsight",)), V(), True),
    ("MLP-EDGE-005", "no-trail", lambda: detection()[:-1], V(), True),
]


@pytest.mark.parametrize(*case_params(CASES))
def test_rule(rule_id, resources, values, violates):
    check_case(rule_id, resources, values, violates)


def test_every_edge_rule_has_compliant_and_violating_cases():
    rules = {f"MLP-EDGE-00{n}" for n in range(1, 6)}
    assert {rule for rule, _, _, _, bad in CASES if not bad} == rules
    assert {rule for rule, _, _, _, bad in CASES if bad} == rules


def _skipped(report, rule_id):
    return [r for r in report.results if r.status == SKIPPED and r.rule.id == rule_id]


def test_unknown_truststore_of_unknown_origin_is_deferred_not_passed():
    report = run(graph_of(*domain(mtls={"truststoreUri": UNKNOWN})))
    assert _skipped(report, "MLP-EDGE-001") and not failures(report, "MLP-EDGE-001")
    assert not [r for r in report.results if r.rule.id == "MLP-EDGE-001" and r.status == "passed"]


def test_unknown_association_target_is_deferred_not_failed():
    resources = front_door(associate=False) + [res(ASSOCIATION, "fraud-scorer-waf-association",
                                                   {"resourceArn": UNKNOWN, "webAclArn": ACL_ARN})]
    report = run(graph_of(*resources))
    assert _skipped(report, "MLP-EDGE-003") and not failures(report, "MLP-EDGE-003")


def test_unknown_insight_selectors_are_deferred():
    resources = detection()
    resources[-1].inputs["insightSelectors"] = UNKNOWN
    report = run(graph_of(*resources))
    assert _skipped(report, "MLP-EDGE-005") and not failures(report, "MLP-EDGE-005")


def test_findings_name_what_is_wrong_and_where():
    report = run(graph_of(*front_door(rules=waf_rules(groups=GROUPS[:2], override="count"), associate=True)))
    messages = {p.message for p in failures(report, "MLP-EDGE-003")}
    assert any("AWSManagedRulesAmazonIpReputationList" in m for m in messages)
    assert any("only count" in m for m in messages)
    assert all(p.resource_name == "fraud-scorer-waf" for p in failures(report, "MLP-EDGE-003"))
    [other] = failures(run(graph_of(*domain(mtls={"truststoreUri": TRUSTSTORE.replace("fraud", OTHER)}))),
                       "MLP-EDGE-001")
    assert "team fraud" in other.message and other.resource_name == "fraud-scorer-domain"
    [stack_level] = failures(run(graph_of(*detection(detector=False))), "MLP-EDGE-005")
    assert "GuardDuty" in stack_level.message and stack_level.resource_name == "platform"


def test_anomaly_detection_is_mandatory_in_prod_only():
    from mlplatform.reports.findings import MANDATORY

    graph = graph_of(*detection(detector=False))
    assert {p.enforcement for p in failures(run(graph, V()), "MLP-EDGE-005")} == {MANDATORY}
    assert not failures(run(graph, V(environment="staging")), "MLP-EDGE-005")


@pytest.mark.parametrize("resources", [
    pytest.param(lambda: [res(DOMAIN, "d", {"mutualTlsAuthentication": "not-an-object", "securityPolicy": 12})],
                 id="domain-garbage"),
    pytest.param(lambda: [res(DOMAIN, "d", {"mutualTlsAuthentication": {"truststoreUri": 7}})], id="uri-not-text"),
    pytest.param(lambda: [res(REST_API, "a", {"endpointConfiguration": "REGIONAL", "disableExecuteApiEndpoint": "yes"})],
                 id="api-garbage"),
    pytest.param(lambda: front_door(rules=["x", 5, {"statement": "y"}, {"statement": {"managedRuleGroupStatement": 3}}]),
                 id="waf-rules-garbage"),
    pytest.param(lambda: front_door(rules=[], ruleJson="{not json"), id="waf-rule-json-garbage"),
    pytest.param(lambda: [res(STAGE, "s", {}), res(ASSOCIATION, "a", {"resourceArn": 3, "webAclArn": ["x"]})],
                 id="association-garbage"),
    pytest.param(lambda: [res(DETECTOR, "g", {"datasources": "s3"}), res(FEATURE, "f", {"name": 1}),
                          res(TRAIL, "t", {"insightSelectors": ["ApiCallRateInsight", None]})], id="detection-garbage"),
    pytest.param(lambda: [res(DOMAIN, "d", {}), res(REST_API, "a", {}), res(STAGE, "s", {}), res(WEB_ACL, "w", {}),
                          res(ASSOCIATION, "x", {}), res(DETECTOR, "g", {}), res(FEATURE, "f", {}), res(TRAIL, "t", {})],
                 id="everything-empty"),
])
def test_bad_input_is_a_finding_never_a_crash(resources):
    report = run(graph_of(*resources()))  # a rule that raised would make the pack answer with an error
    judged = {r.rule.id for r in report.results if r.rule.id.startswith("MLP-EDGE-")}
    assert judged and failures(report)
