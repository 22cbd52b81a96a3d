"""The mTLS front door (issue 16): REST API, custom domain, WAF, logs and the least-privilege
integration, as the shipped examples plan them; and the validate-time edge checks."""

from __future__ import annotations

import json

import pytest

from components.artifact_store import artifact_bucket_name
from components.front_door import (
    MANAGED_RULE_GROUPS, RATE_RULE, STAGE, lambda_invoke_uri, sagemaker_invoke_uri, stage_throttle, web_acl_rules,
)
from mlplatform.naming import WAF_LOG_GROUP_PREFIX, endpoint_name
from mlplatform.spec.loader import load_spec_file, load_specs
from mlplatform.stackchecks import stack_issues
from mlplatform.stackconfig import load_stack_config

from .conftest import EXAMPLES
from .helpers.dataplane import one

PROD = load_stack_config("prod")
FRONT_DOOR = "mlplatform:serving:FrontDoor"


def children(graph, component_name, type_token):
    parent = one(graph, FRONT_DOOR, component_name)
    return [r for r in graph if r.parent == parent.urn and r.type == type_token]


def child(graph, component_name, type_token):
    found = children(graph, component_name, type_token)
    assert len(found) == 1, (component_name, type_token, [r.name for r in found])
    return found[0]


EMBEDDER = "nlp-research-front-door-embedder"  # prod: no fallback, SageMaker integration
SCORER = "fraud-detection-front-door-scorer"   # rules fallback, Lambda proxy


def test_every_mtls_endpoint_gets_a_front_door(prod_graph):
    doors = sorted(r.name for r in prod_graph if r.type == FRONT_DOOR)
    assert doors == ["fraud-detection-front-door-scorer", "nlp-research-front-door-embedder",
                     "recommendations-front-door-ranker"]
    assert one(prod_graph, FRONT_DOOR, SCORER).inputs["source"]["field"] == "spec.endpoints[scorer].exposure"


def test_rest_api_is_regional_with_the_default_endpoint_disabled(prod_graph):
    api = child(prod_graph, EMBEDDER, "aws:apigateway/restApi:RestApi")
    assert api.inputs["disableExecuteApiEndpoint"] is True
    assert api.inputs["endpointConfiguration"]["types"] == "REGIONAL"


def test_custom_domain_requires_client_certificates_from_the_team_bucket(prod_graph):
    domain = child(prod_graph, EMBEDDER, "aws:apigateway/domainName:DomainName")
    assert domain.inputs["domainName"] == "nlp-embedder.ml.acme-bank.example"
    assert domain.inputs["securityPolicy"] == "TLS_1_2"
    assert domain.inputs["regionalCertificateArn"] == PROD.edge.certificate_arn
    assert domain.inputs["endpointConfiguration"]["types"] == "REGIONAL"
    bucket = artifact_bucket_name(PROD, "nlp-research")
    assert domain.inputs["mutualTlsAuthentication"]["truststoreUri"] == \
        f"s3://{bucket}/truststores/research-partners.pem"
    record = child(prod_graph, EMBEDDER, "aws:route53/record:Record")
    assert record.inputs["zoneId"] == PROD.edge.hosted_zone_id and record.inputs["type"] == "A"
    assert record.inputs["name"] == domain.inputs["domainName"] and len(record.inputs["aliases"]) == 1
    mapping = child(prod_graph, EMBEDDER, "aws:apigateway/basePathMapping:BasePathMapping")
    assert domain.urn in mapping.dependencies


def test_stage_logs_to_an_encrypted_group_traces_and_throttles(prod_graph):
    stage = child(prod_graph, EMBEDDER, "aws:apigateway/stage:Stage")
    assert stage.inputs["stageName"] == STAGE and stage.inputs["xrayTracingEnabled"] is True
    fields = json.loads(stage.inputs["accessLogSettings"]["format"])
    assert {"requestId", "status", "clientCertSubject", "integrationError", "wafStatus"} <= set(fields)
    groups = {g.inputs["name"]: g for g in children(prod_graph, EMBEDDER, "aws:cloudwatch/logGroup:LogGroup")}
    assert set(groups) == {"/aws/apigateway/nlp-research-prod-embedder-access",
                           f"{WAF_LOG_GROUP_PREFIX}nlp-research-prod-embedder"}
    for group in groups.values():
        assert group.inputs.get("kmsKeyId"), group.name  # the team's alert key
        assert group.options["protect"] is True  # logs are records in prod
    settings = child(prod_graph, EMBEDDER, "aws:apigateway/methodSettings:MethodSettings").inputs["settings"]
    assert settings["metricsEnabled"] is True and settings["dataTraceEnabled"] is False
    assert settings["throttlingRateLimit"] > 0 and settings["throttlingBurstLimit"] == 2 * settings["throttlingRateLimit"]


def test_waf_rate_limits_runs_the_managed_groups_and_logs(prod_graph):
    acl = child(prod_graph, SCORER, "aws:wafv2/webAcl:WebAcl")
    assert acl.inputs["scope"] == "REGIONAL"
    rules = {rule["name"]: rule for rule in acl.inputs["rules"]}
    assert set(rules) == {RATE_RULE, *MANAGED_RULE_GROUPS}
    assert rules[RATE_RULE]["statement"]["rateBasedStatement"]["limit"] == 6000  # the example's rateLimitPerFiveMinutes
    association = child(prod_graph, SCORER, "aws:wafv2/webAclAssociation:WebAclAssociation")
    stage = child(prod_graph, SCORER, "aws:apigateway/stage:Stage")
    assert stage.urn in association.dependencies and acl.urn in association.dependencies
    logging = child(prod_graph, SCORER, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    assert acl.urn in logging.dependencies


def test_without_fallback_the_integration_invokes_only_its_endpoint(prod_graph):
    integration = child(prod_graph, EMBEDDER, "aws:apigateway/integration:Integration")
    physical = endpoint_name("nlp-research", "prod", "embedder")
    assert integration.inputs["type"] == "AWS"
    assert integration.inputs["uri"] == sagemaker_invoke_uri("eu-west-1", physical)
    role = child(prod_graph, EMBEDDER, "aws:iam/role:Role")
    assert integration.inputs["credentials"].endswith(f":role/{role.inputs['name']}")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "apigateway.amazonaws.com"}]
    policy = json.loads(child(prod_graph, EMBEDDER, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"] == [{
        "Action": "sagemaker:InvokeEndpoint", "Effect": "Allow", "Sid": "InvokeTheEndpoint",
        "Resource": f"arn:aws:sagemaker:eu-west-1:{PROD.account_id}:endpoint/{physical}"}]
    statuses = {r.inputs["statusCode"]: r.inputs.get("selectionPattern")
                for r in children(prod_graph, EMBEDDER, "aws:apigateway/integrationResponse:IntegrationResponse")}
    assert statuses == {"200": None, "400": r"4\d{2}", "502": r"5\d{2}"}


def test_with_a_fallback_the_integration_proxies_to_the_lambda_alone(prod_graph):
    integration = child(prod_graph, SCORER, "aws:apigateway/integration:Integration")
    function = f"arn:aws:lambda:eu-west-1:{PROD.account_id}:function:fraud-detection-prod-scorer-fallback"
    assert integration.inputs["type"] == "AWS_PROXY"
    assert integration.inputs["uri"] == lambda_invoke_uri("eu-west-1", function)
    assert integration.inputs["timeoutMilliseconds"] <= 29_000
    assert not children(prod_graph, SCORER, "aws:iam/role:Role")  # the Lambda's role invokes the model
    permission = child(prod_graph, SCORER, "aws:lambda/permission:Permission")
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["function"] == "fraud-detection-prod-scorer-fallback"
    assert "sourceArn" in permission.inputs  # the API's execution ARN + /live/POST/invocations


def test_stage_throttle_follows_the_endpoint_capacity():
    endpoint = load_spec_file(EXAMPLES / "fraud-detection.yaml").spec.spec.endpoints[0]
    rate, burst = stage_throttle(endpoint)
    # 2 x (10 instances x 200 invocations a minute) / 60 s
    assert (rate, burst) == (67, 134)


def test_web_acl_rules_put_the_rate_rule_first():
    rules = web_acl_rules(2000, "acl")
    assert [r["priority"] for r in rules] == [0, 1, 2, 3]
    assert rules[0]["action"] == {"block": {}} and rules[0]["statement"]["rate_based_statement"]["aggregate_key_type"] == "IP"
    assert all(r["override_action"] == {"none": {}} for r in rules[1:])


# ---------------------------------------------------------------- validate --stack

def _issues(stack, *files):
    return stack_issues([load_spec_file(EXAMPLES / f) for f in files], stack, environments={"dev", "staging", "prod"})


def test_mtls_on_a_stack_without_edge_config_is_one_error_at_exposure_mode():
    issues = _issues(PROD.model_copy(update={"edge": None}), "fraud-detection.yaml")
    edge = [i for i in issues if "mlplatform:edge" in i.message]
    assert len(edge) == 1, issues
    assert edge[0].path == ("spec", "endpoints", 0, "exposure", "mode")
    assert edge[0].line == _line_of(EXAMPLES / "fraud-detection.yaml", "mode: mtls")
    assert _issues(PROD, "fraud-detection.yaml") == []


def test_two_front_doors_cannot_share_a_host(tmp_path):
    text = (EXAMPLES / "recommendations.yaml").read_text()
    copy = tmp_path / "recommendations.yaml"
    copy.write_text(text.replace("domainPrefix: ranker", "domainPrefix: fraud-scorer"))
    specs = [load_spec_file(EXAMPLES / "fraud-detection.yaml"), load_spec_file(copy)]
    issues = [i for i in stack_issues(specs, PROD, environments={"dev", "staging", "prod"}) if "domainPrefix" in i.message]
    assert len(issues) == 1 and "fraud-detection/scorer" in issues[0].message
    assert issues[0].path[-1] == "domainPrefix"


def test_a_fallback_budget_past_the_integration_timeout_is_an_error(tmp_path):
    text = (EXAMPLES / "fraud-detection.yaml").read_text().replace("timeoutMs: 800", "timeoutMs: 28000")
    copy = tmp_path / "fraud-detection.yaml"
    copy.write_text(text)
    issues = load_specs([str(copy)]).issues  # the schema bounds it (tests/test_fallback_timeout.py)
    assert [i.path[-1] for i in issues] == ["timeoutMs"] and "21000" in issues[0].message


def _line_of(path, needle):
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_shipped_stacks_name_an_edge_in_their_own_region_and_account(stack):
    config = load_stack_config(stack)
    assert config.edge is not None
    assert f":acm:{config.region}:{config.account_id}:certificate/" in config.edge.certificate_arn
