"""The fallback Lambda's component (issue 16): its package and config file, its least-privilege
role, the lastKnownGood cache table and the FallbackAnswers alarm, as the examples plan them."""

from __future__ import annotations

import json

from components.escalation import topic_name
from components.serving_fallback import (
    MAX_CONCURRENCY, MIN_CONCURRENCY, function_timeout_seconds, reserved_concurrency,
)
from mlplatform.runtime.fallback import contract
from mlplatform.stackconfig import load_stack_config

from .helpers.dataplane import one

PROD = load_stack_config("prod")
COMPONENT = "mlplatform:serving:ServingFallback"


def kid(graph, component_name, type_token):
    parent = one(graph, COMPONENT, component_name)
    found = [r for r in graph if r.parent == parent.urn and r.type == type_token]
    assert len(found) == 1, (component_name, type_token, [r.name for r in found])
    return found[0]


def package(function) -> tuple[set[str], dict]:
    assets = function.inputs["code"]["assets"]
    return set(assets), json.loads(assets[contract.CONFIG_FILE]["text"])


def statements(graph, component_name) -> dict:
    policy = json.loads(kid(graph, component_name, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"] if "Sid" in s}


def test_rules_fallback_ships_the_handler_and_the_spec_rule_table(prod_graph):
    function = kid(prod_graph, "fraud-detection-fallback-scorer", "aws:lambda/function:Function")
    files, config = package(function)
    assert files == {"fallback", contract.CONFIG_FILE}
    modules = function.inputs["code"]["assets"]["fallback"]["assets"]
    assert {"__init__.py", "entry.py", "contract.py"} <= set(modules)
    assert modules["entry.py"]["path"] == "mlplatform/runtime/fallback/entry.py"
    assert function.inputs["handler"] == "fallback.entry.handler"
    assert config["endpointName"] == "fraud-detection-prod-scorer" and config["team"] == "fraud-detection"
    assert config["mode"] == "rules" and config["timeoutMs"] == 800
    assert config["rules"][0] == {"when": [{"field": "amount", "op": "ge", "value": 5000}],
                                  "response": {"decision": "review",
                                               "reason": "high-value transaction while the model is unavailable"}}
    assert config["default"]["decision"] == "approve"
    assert {"name": "customer_age_band", "type": "string", "required": False} in config["requestFields"]
    assert "cache" not in config and "response" not in config
    assert function.inputs["timeout"] == function_timeout_seconds(800) == 3
    assert MIN_CONCURRENCY <= function.inputs["reservedConcurrentExecutions"] <= MAX_CONCURRENCY
    assert function.inputs["tracingConfig"] == {"mode": "Active"}
    assert function.inputs["vpcConfig"]["subnetIds"] == list(PROD.network.subnet_ids)


def test_rules_fallback_has_no_table_and_no_table_permission(prod_graph):
    parent = one(prod_graph, COMPONENT, "fraud-detection-fallback-scorer")
    assert not [r for r in prod_graph if r.parent == parent.urn and r.type == "aws:dynamodb/table:Table"]
    assert not any(a.startswith(("dynamodb:", "kms:")) for s in statements(prod_graph, "fraud-detection-fallback-scorer").values()
                   for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))


def test_role_invokes_only_its_endpoint_and_publishes_only_its_namespace(prod_graph):
    found = statements(prod_graph, "fraud-detection-fallback-scorer")
    assert found["InvokeTheModel"]["Action"] == "sagemaker:InvokeEndpoint"
    assert found["InvokeTheModel"]["Resource"] == \
        f"arn:aws:sagemaker:eu-west-1:{PROD.account_id}:endpoint/fraud-detection-prod-scorer"
    assert found["PublishFallbackMetrics"]["Condition"] == \
        {"StringEquals": {"cloudwatch:namespace": contract.NAMESPACE}}
    role = kid(prod_graph, "fraud-detection-fallback-scorer", "aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": PROD.account_id}}


def test_last_known_good_cache_table(prod_graph):
    table = kid(prod_graph, "recommendations-fallback-ranker", "aws:dynamodb/table:Table")
    inputs = table.inputs
    assert inputs["name"] == "recommendations-prod-ranker-fallback-cache"
    assert inputs["hashKey"] == contract.CACHE_KEY_ATTRIBUTE
    assert inputs["attributes"] == [{"name": contract.CACHE_KEY_ATTRIBUTE, "type": "S"}]
    assert inputs["ttl"] == {"attributeName": contract.CACHE_EXPIRY_ATTRIBUTE, "enabled": True}
    assert inputs["pointInTimeRecovery"] == {"enabled": True}
    assert inputs["serverSideEncryption"]["enabled"] is True and inputs["serverSideEncryption"]["kmsKeyArn"]
    assert inputs["deletionProtectionEnabled"] is True and table.options["protect"] is True  # prod protects state
    _, config = package(kid(prod_graph, "recommendations-fallback-ranker", "aws:lambda/function:Function"))
    assert config["cache"] == {"table": inputs["name"], "keyField": "user_id", "ttlSeconds": 1440 * 60}


def test_last_known_good_role_reads_and_writes_only_its_table_with_the_team_key(prod_graph):
    found = statements(prod_graph, "recommendations-fallback-ranker")
    assert sorted(found["ReadWriteCache"]["Action"]) == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert found["ReadWriteCache"]["Resource"] == \
        f"arn:aws:dynamodb:eu-west-1:{PROD.account_id}:table/recommendations-prod-ranker-fallback-cache"
    key = found["UseTeamKeyThroughDynamoDb"]
    assert key["Condition"]["StringEquals"] == {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}
    assert key["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"].startswith("alias/acme-recommendations-prod-artifacts")


def test_fallback_answers_page_the_critical_topic(prod_graph):
    alarm = kid(prod_graph, "recommendations-fallback-ranker", "aws:cloudwatch/metricAlarm:MetricAlarm")
    inputs = alarm.inputs
    assert (inputs["namespace"], inputs["metricName"]) == (contract.NAMESPACE, contract.METRIC_FALLBACK_ANSWERS)
    assert inputs["dimensions"] == {"Team": "recommendations", "Endpoint": "recommendations-prod-ranker"}
    assert (inputs["statistic"], inputs["period"], inputs["threshold"]) == ("Sum", 300, 100)
    assert inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    critical = f"arn:aws:sns:eu-west-1:{PROD.account_id}:{topic_name('recommendations', 'prod', 'critical')}"
    assert inputs["alarmActions"] == [critical]


def test_static_fallback_in_dev(dev_graph):
    _, config = package(kid(dev_graph, "nlp-research-fallback-embedder", "aws:lambda/function:Function"))
    assert config["mode"] == "static" and config["response"] == {"embedding": None, "retryAfterSeconds": 60}


def test_sizing_helpers():
    assert function_timeout_seconds(60_000) == 29  # never past the front door's wait
    assert reserved_concurrency(1, 100) == MIN_CONCURRENCY
    assert reserved_concurrency(10_000, 2000) == MAX_CONCURRENCY
    assert reserved_concurrency(20, 2000) == 80  # 20 requests/s x 4 s
