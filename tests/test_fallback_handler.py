"""The serving fallback Lambda end to end, everything on 127.0.0.1.

DynamoDB (the lastKnownGood cache) and CloudWatch (the FallbackAnswers metric) are a moto
server; the SageMaker runtime is :class:`FakeModel`, a small HTTP server speaking
InvokeEndpoint's wire protocol (rest-json ``POST /endpoints/{name}/invocations``, errors
named by the ``X-Amzn-ErrorType`` header with their modeled members in a JSON body, as in
botocore's ``sagemaker-runtime/2017-05-13`` service model), because moto's runtime cannot
fail on demand. The unmodified handler runs with boto3 pointed at both through
``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import socket
import time
from pathlib import Path

import boto3
import pytest

from mlplatform.runtime.fallback import config as fallback_config
from mlplatform.runtime.fallback import contract, entry, environment
from tests.helpers.fake_sagemaker import MODEL_ANSWER, SLOW_SECONDS, FakeModel

REGION = "eu-west-1"
TEAM = "fraud-detection"
TIMEOUT_MS = 300
PACKAGE_DIR = Path(entry.__file__).parent




def closed_port_url() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def fake_model():
    model = FakeModel().start()
    yield model
    model.stop()


_counter = iter(range(100_000))


@pytest.fixture
def env(moto_url, fake_model, monkeypatch, tmp_path):
    """Loopback AWS, a fresh endpoint name and cache table; returns a config writer."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", fake_model.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    n = next(_counter)
    name, table = f"fraud-detection-prod-scorer-{n}", f"fallback-cache-{n}"
    fake_model.fresh(name)
    boto3.client("dynamodb").create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": contract.CACHE_KEY_ATTRIBUTE, "AttributeType": "S"}],
        KeySchema=[{"AttributeName": contract.CACHE_KEY_ATTRIBUTE, "KeyType": "HASH"}])
    environment.reset()

    class Env:
        endpoint = name
        cache_table = table
        model = fake_model

        @staticmethod
        def configure(mode="static", **overrides):
            config = {
                "endpointName": name, "team": TEAM, "mode": mode, "timeoutMs": TIMEOUT_MS,
                "requestFields": [{"name": "customer_id", "type": "string", "required": True},
                                  {"name": "amount", "type": "number", "required": True},
                                  {"name": "items", "type": "integer", "required": False},
                                  {"name": "vip", "type": "boolean", "required": False},
                                  {"name": "country", "type": "string", "required": False}],
            }
            if mode == "lastKnownGood":
                config["cache"] = {"table": table, "keyField": "customer_id", "ttlSeconds": 3600}
            elif mode == "static":
                config["response"] = {"score": 0.5, "label": "review"}
            config.update(overrides)
            path = tmp_path / f"config-{n}.json"
            path.write_text(json.dumps(config))
            monkeypatch.setenv(contract.CONFIG_ENV, str(path))
            environment.reset()
            return config

    yield Env
    environment.reset()


def event(payload=None, *, raw=None, b64=False):
    body = raw if raw is not None else json.dumps(payload)
    if b64 and body is not None:
        body = base64.b64encode(body.encode() if isinstance(body, str) else body).decode()
    return {"resource": "/", "path": "/", "httpMethod": "POST", "body": body, "isBase64Encoded": b64,
            "headers": {"Content-Type": "application/json"}, "requestContext": {"stage": "live"}}


REQUEST = {"customer_id": "C-42", "amount": 120.5, "country": "DE"}


def call(payload=REQUEST, **kwargs):
    return entry.handler(event(payload, **kwargs), None)


def body_of(response):
    return json.loads(response["body"])


def metric_sum(env, name, endpoint=None):
    """Sum of the metric the handler published for this test's endpoint (0 when absent)."""
    now = dt.datetime.now(dt.UTC)
    points = boto3.client("cloudwatch").get_metric_statistics(
        Namespace=contract.NAMESPACE, MetricName=name,
        Dimensions=[{"Name": "Team", "Value": TEAM}, {"Name": "Endpoint", "Value": endpoint or env.endpoint}],
        StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=10),
        Period=60, Statistics=["Sum"])["Datapoints"]
    return sum(point["Sum"] for point in points)


def cache_item(env, key):
    return boto3.client("dynamodb").get_item(
        TableName=env.cache_table, Key={contract.CACHE_KEY_ATTRIBUTE: {"S": key}}, ConsistentRead=True).get("Item")


def put_cache(env, key, body: bytes, *, age=0, ttl=3600, content_type="application/json"):
    stored = int(time.time()) - age
    boto3.client("dynamodb").put_item(TableName=env.cache_table, Item={
        contract.CACHE_KEY_ATTRIBUTE: {"S": key}, "body": {"B": body}, "contentType": {"S": content_type},
        "storedAt": {"N": str(stored)}, contract.CACHE_EXPIRY_ATTRIBUTE: {"N": str(stored + ttl)}})


def assert_degraded(response, mode, status=200):
    assert response["statusCode"] == status, response
    assert response["headers"][contract.DEGRADED_HEADER] == "true"
    assert response["headers"][contract.FALLBACK_HEADER] == mode
    payload = body_of(response)
    assert payload["degraded"] is True and payload["fallback"] == mode
    return payload


# ---------------------------------------------------------------- model up


def test_model_up_answers_with_the_model_and_writes_the_cache(env):
    env.configure("lastKnownGood")
    before = int(time.time())
    response = call()
    after = int(time.time())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == MODEL_ANSWER
    assert response["headers"]["Content-Type"] == "application/json"
    assert contract.DEGRADED_HEADER not in response["headers"]
    # the model got the caller's body unchanged, as JSON, at the endpoint's path
    [(path, headers, body)] = env.model.requests
    assert path == f"/endpoints/{env.endpoint}/invocations"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == REQUEST
    # and the answer is in the cache, read back from DynamoDB
    item = cache_item(env, "C-42")
    assert item is not None
    assert item["body"]["B"] == json.dumps(MODEL_ANSWER).encode()
    assert item["contentType"]["S"] == "application/json"
    stored = int(item["storedAt"]["N"])
    assert before <= stored <= after
    assert int(item[contract.CACHE_EXPIRY_ATTRIBUTE]["N"]) == stored + 3600
    assert metric_sum(env, contract.METRIC_FALLBACK_ANSWERS) == 0


def test_model_up_in_rules_mode_writes_no_cache(env):
    env.configure("rules", rules=[{"when": [{"field": "amount", "op": "gt", "value": 0}], "response": {"x": 1}}])
    response = call()
    assert json.loads(response["body"]) == MODEL_ANSWER
    assert cache_item(env, "C-42") is None
    assert boto3.client("dynamodb").scan(TableName=env.cache_table)["Count"] == 0


def test_a_model_answer_keeps_its_content_type_and_binary_answers_are_base64(env):
    env.configure("static")
    env.model.answer_body, env.model.answer_type = b"0.91\n", "text/csv"
    response = call()
    assert (response["statusCode"], response["body"], response["isBase64Encoded"]) == (200, "0.91\n", False)
    assert response["headers"]["Content-Type"] == "text/csv"
    env.model.answer_body, env.model.answer_type = b'{"score": 0.9}\n{"score": 0.1}\n', "application/jsonlines"
    response = call()
    assert (response["body"], response["isBase64Encoded"]) == ('{"score": 0.9}\n{"score": 0.1}\n', False)
    env.model.answer_body, env.model.answer_type = bytes([0, 159, 146, 150]), "application/x-npy"
    response = call()
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == bytes([0, 159, 146, 150])


def test_a_whole_integer_keys_the_cache_as_an_integer(env):
    env.configure("lastKnownGood", cache={"table": env.cache_table, "keyField": "items", "ttlSeconds": 60})
    assert call({**REQUEST, "items": 3.0})["statusCode"] == 200
    assert cache_item(env, "3") is not None and cache_item(env, "3.0") is None


# ---------------------------------------------------------------- model down


FAILURES = ["throttle", "not_ready", "slow", "model500", "model_no_status", "unavailable", "internal",
            "dependency", "access_denied", "drop"]


@pytest.mark.parametrize("failure", FAILURES)
def test_each_model_failure_answers_from_the_fallback_and_counts_it(env, failure):
    env.configure("static")
    env.model.mode = failure
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    payload = assert_degraded(response, "static")
    assert payload == {"score": 0.5, "label": "review", "degraded": True, "fallback": "static"}
    assert len(env.model.requests) == 1, "the endpoint is invoked once, never retried"
    assert metric_sum(env, contract.METRIC_FALLBACK_ANSWERS) == 1
    assert metric_sum(env, contract.METRIC_MODEL_FAILURES) == 1
    if failure == "slow":  # answered at the timeout, not when the model finally replied
        assert elapsed < SLOW_SECONDS - 0.5


def test_a_missing_endpoint_validation_error_answers_from_the_fallback(env):
    """ValidationError (the runtime API's 400 for an unknown endpoint) is not the caller's
    fault: their body passed the schema; the endpoint is unavailable to them."""
    env.configure("static", endpointName=env.endpoint + "-deleted")
    assert_degraded(call(), "static")
    [(path, _, _)] = env.model.requests
    assert path == f"/endpoints/{env.endpoint}-deleted/invocations"
    assert metric_sum(env, contract.METRIC_MODEL_FAILURES, endpoint=env.endpoint + "-deleted") == 1


def test_an_unreachable_runtime_answers_from_the_fallback(env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", closed_port_url())
    env.configure("static")
    assert_degraded(call(), "static")
    assert metric_sum(env, contract.METRIC_FALLBACK_ANSWERS) == 1


def test_the_failure_metric_is_listed_with_its_dimensions(env):
    env.configure("static")
    env.model.mode = "throttle"
    call()
    call()
    metrics = boto3.client("cloudwatch").list_metrics(Namespace=contract.NAMESPACE, MetricName=contract.METRIC_FALLBACK_ANSWERS,
                                                      Dimensions=[{"Name": "Endpoint", "Value": env.endpoint}])["Metrics"]
    # (moto lists a metric once per datum; CloudWatch once: compare the distinct dimension sets)
    assert {tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in metrics} == {
        (("Endpoint", env.endpoint), ("Team", TEAM))}
    assert metric_sum(env, contract.METRIC_FALLBACK_ANSWERS) == 2


def test_a_4xx_model_error_is_passed_through_without_fallback(env):
    env.configure("static")
    env.model.mode = "model400"
    response = call()
    assert response["statusCode"] == 400
    assert body_of(response) == {"error": '{"detail": "amount out of range"}'}
    assert contract.DEGRADED_HEADER not in response["headers"]
    assert metric_sum(env, contract.METRIC_FALLBACK_ANSWERS) == 0
    assert metric_sum(env, contract.METRIC_MODEL_FAILURES) == 0


def test_a_metric_failure_does_not_fail_the_answer(env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", closed_port_url())
    env.configure("static")
    env.model.mode = "internal"
    assert_degraded(call(), "static")


def test_a_cache_write_failure_does_not_fail_the_answer(env):
    env.configure("lastKnownGood", cache={"table": "no-such-table", "keyField": "customer_id", "ttlSeconds": 60})
    response = call()
    assert response["statusCode"] == 200 and json.loads(response["body"]) == MODEL_ANSWER


# ---------------------------------------------------------------- lastKnownGood


def test_last_known_good_serves_the_previous_answer_for_the_same_key(env):
    env.configure("lastKnownGood")
    assert call()["statusCode"] == 200  # model up: cached
    env.model.mode = "unavailable"
    response = call({**REQUEST, "amount": 99.0})
    payload = assert_degraded(response, "lastKnownGood")
    assert payload == {**MODEL_ANSWER, "degraded": True, "fallback": "lastKnownGood"}
    stored = int(cache_item(env, "C-42")["storedAt"]["N"])
    assert response["headers"][contract.CACHED_AT_HEADER] == str(stored)
    assert metric_sum(env, contract.METRIC_FALLBACK_ANSWERS) == 1


def test_last_known_good_miss_answers_503_degraded(env):
    env.configure("lastKnownGood")
    put_cache(env, "C-other", b'{"score": 0.1}')
    env.model.mode = "throttle"
    payload = assert_degraded(call(), "lastKnownGood", status=503)
    assert "customer_id" in payload["error"]
    assert metric_sum(env, contract.METRIC_FALLBACK_ANSWERS) == 1


def test_last_known_good_ignores_an_expired_item_that_ttl_has_not_deleted_yet(env):
    env.configure("lastKnownGood")
    env.model.mode = "internal"
    put_cache(env, "C-42", b'{"score": 0.2}', age=7200, ttl=3600)  # expired an hour ago
    assert_degraded(call(), "lastKnownGood", status=503)
    put_cache(env, "C-42", b'{"score": 0.2}', age=3000, ttl=3600)  # still valid
    assert assert_degraded(call(), "lastKnownGood")["score"] == 0.2


def test_last_known_good_wraps_an_answer_that_is_not_an_object(env):
    env.configure("lastKnownGood")
    put_cache(env, "C-42", b"0.77\n", content_type="text/csv")
    put_cache(env, "C-7", b"[0.1, 0.9]")
    env.model.mode = "model500"
    assert assert_degraded(call(), "lastKnownGood")["response"] == 0.77
    assert assert_degraded(call({**REQUEST, "customer_id": "C-7"}), "lastKnownGood")["response"] == [0.1, 0.9]


# ---------------------------------------------------------------- rules and static


RULES = [
    {"when": [{"field": "amount", "op": "ge", "value": 1000}], "response": {"decision": "review", "rule": 1}},
    {"when": [{"field": "country", "op": "in", "value": ["DE", "FR"]}, {"field": "amount", "op": "lt", "value": 500}],
     "response": {"decision": "approve", "rule": 2}},
    {"when": [{"field": "amount", "op": "gt", "value": 0}], "response": {"decision": "decline", "rule": 3}},
]


def test_rules_are_evaluated_in_order_and_the_first_match_wins(env):
    env.configure("rules", rules=RULES, default={"decision": "default"})
    env.model.mode = "throttle"
    # DE and 120.5 match rules 2 and 3: rule 2 comes first
    assert assert_degraded(call(), "rules") == {"decision": "approve", "rule": 2, "degraded": True, "fallback": "rules"}
    # 5000 matches rules 1 and 3 (not 2): rule 1
    assert assert_degraded(call({**REQUEST, "amount": 5000}), "rules")["rule"] == 1
    # US matches only rule 3 (a rule needs all its conditions)
    assert assert_degraded(call({**REQUEST, "country": "US"}), "rules")["rule"] == 3
    # reversed table: the catch-all rule now answers everything
    env.configure("rules", rules=list(reversed(RULES)))
    env.model.mode = "throttle"
    assert assert_degraded(call(), "rules")["rule"] == 3


def test_rules_fall_back_to_the_default_and_without_one_to_503(env):
    env.configure("rules", rules=RULES[:1], default={"decision": "manual"})
    env.model.mode = "unavailable"
    assert assert_degraded(call(), "rules") == {"decision": "manual", "degraded": True, "fallback": "rules"}
    env.configure("rules", rules=RULES[:1])
    env.model.mode = "unavailable"
    payload = assert_degraded(call(), "rules", status=503)
    assert "no fallback rule matches" in payload["error"]
    assert metric_sum(env, contract.METRIC_FALLBACK_ANSWERS) == 2


OPERATOR_CASES = [  # (condition, request extra, matches)
    ({"field": "country", "op": "eq", "value": "DE"}, {}, True),
    ({"field": "country", "op": "eq", "value": "FR"}, {}, False),
    ({"field": "amount", "op": "eq", "value": 120.5}, {}, True),
    ({"field": "items", "op": "eq", "value": 2}, {"items": 2.0}, True),  # numbers as numbers
    ({"field": "vip", "op": "eq", "value": 1}, {"vip": True}, False),  # true is not 1
    ({"field": "vip", "op": "eq", "value": True}, {"vip": True}, True),
    ({"field": "country", "op": "ne", "value": "FR"}, {}, True),
    ({"field": "country", "op": "ne", "value": "DE"}, {}, False),
    ({"field": "vip", "op": "ne", "value": False}, {}, False),  # absent field: no condition holds
    ({"field": "amount", "op": "lt", "value": 121}, {}, True),
    ({"field": "amount", "op": "lt", "value": 120.5}, {}, False),
    ({"field": "amount", "op": "le", "value": 120.5}, {}, True),
    ({"field": "amount", "op": "le", "value": 120}, {}, False),
    ({"field": "amount", "op": "gt", "value": 120}, {}, True),
    ({"field": "amount", "op": "gt", "value": 120.5}, {}, False),
    ({"field": "amount", "op": "ge", "value": 120.5}, {}, True),
    ({"field": "amount", "op": "ge", "value": 121}, {}, False),
    ({"field": "amount", "op": "gt", "value": 100}, {"amount": 99}, False),  # 99 < 100 numerically
    ({"field": "country", "op": "gt", "value": 1}, {}, False),  # a string is not ordered against a number
    ({"field": "items", "op": "lt", "value": 10}, {}, False),  # absent
    ({"field": "country", "op": "in", "value": ["FR", "DE"]}, {}, True),
    ({"field": "country", "op": "in", "value": ["FR", "IT"]}, {}, False),
    ({"field": "items", "op": "in", "value": [1, 2, 3]}, {"items": 3}, True),
    ({"field": "items", "op": "in", "value": ["3"]}, {"items": 3}, False),  # "3" is not 3
]


@pytest.mark.parametrize("condition, extra, matches", OPERATOR_CASES,
                         ids=[f"{c['op']}-{i}" for i, (c, _, _) in enumerate(OPERATOR_CASES)])
def test_every_operator(env, condition, extra, matches):
    env.configure("rules", rules=[{"when": [condition], "response": {"matched": True}}], default={"matched": False})
    env.model.mode = "throttle"
    assert assert_degraded(call({**REQUEST, **extra}), "rules")["matched"] is matches


def test_static_answers_its_response(env):
    env.configure("static", response={"decision": "refer", "reason": "model unavailable"})
    env.model.mode = "dependency"
    assert assert_degraded(call(), "static") == {"decision": "refer", "reason": "model unavailable",
                                                 "degraded": True, "fallback": "static"}


# ---------------------------------------------------------------- malformed requests


def b64_event(data: bytes):
    return {"body": base64.b64encode(data).decode(), "isBase64Encoded": True}


MALFORMED = [  # (event, field named or None, words in the error)
    (event(raw="{not json"), None, "not JSON"),
    (event(raw='{"customer_id": "C-1", "amount": NaN}'), None, "not JSON"),
    (event(raw="[1, 2]"), None, "JSON object, not array"),
    (event(raw='"text"'), None, "JSON object, not string"),
    (event(raw=""), None, "empty"),
    (event({"amount": 3}), "customer_id", "required field 'customer_id' is missing"),
    (event({"customer_id": None, "amount": 3}), "customer_id", "not null"),
    (event({"customer_id": "C-1", "amount": "3"}), "amount", "must be a number, not string"),
    (event({"customer_id": "C-1", "amount": True}), "amount", "must be a number, not boolean"),
    (event({"customer_id": 42, "amount": 3}), "customer_id", "must be a string, not integer"),
    (event({"customer_id": "C-1", "amount": 3, "items": 1.5}), "items", "must be a integer, not number"),
    (event({"customer_id": "C-1", "amount": 3, "vip": "yes"}), "vip", "must be a boolean"),
    ({**event(raw="not base64!"), "isBase64Encoded": True}, None, "base64"),
    (b64_event(b"{broken"), None, "not JSON"),
    (b64_event(b"\xff\xfe{}"), None, "not UTF-8"),
    (b64_event(b'{"customer_id": "C-1"}'), "amount", "required field 'amount' is missing"),
]


@pytest.mark.parametrize("request_event, field, words", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_requests_are_400_and_never_reach_the_model(env, request_event, field, words):
    env.configure("static")
    response = entry.handler(request_event, None)
    assert response["statusCode"] == 400, response
    payload = body_of(response)
    assert words in payload["error"]
    assert payload.get("field") == field
    assert env.model.requests == []
    assert metric_sum(env, contract.METRIC_FALLBACK_ANSWERS) == 0


def test_a_base64_body_is_decoded_and_sent_to_the_model(env):
    env.configure("static")
    response = call(REQUEST, b64=True)
    assert response["statusCode"] == 200
    [(_, _, body)] = env.model.requests
    assert json.loads(body) == REQUEST


def test_optional_null_fields_and_unknown_fields_are_accepted(env):
    env.configure("static")
    assert call({**REQUEST, "items": None, "extra": {"nested": [1]}})["statusCode"] == 200


@pytest.mark.parametrize("bad_event", [None, "text", {"no": "body"}, {"body": 42}])
def test_a_malformed_event_is_400(env, bad_event):
    env.configure("static")
    assert entry.handler(bad_event, None)["statusCode"] == 400


# ---------------------------------------------------------------- never a crash


def test_an_unexpected_error_is_a_json_500_not_an_exception(env, monkeypatch, caplog):
    env.configure("static")

    def broken(config, body):
        raise RuntimeError("boom")

    monkeypatch.setattr(entry, "invoke_model", broken)
    response = call()
    assert response["statusCode"] == 500 and body_of(response) == {"error": "internal error"}
    assert "boom" in caplog.text


def test_an_unusable_config_is_a_500_naming_the_key(env, monkeypatch, tmp_path, caplog):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"endpointName": "x", "team": "t", "mode": "rules", "timeoutMs": 100,
                                "requestFields": [], "rules": [{"when": [{"field": "a", "op": "like", "value": 1}],
                                                                "response": {}}]}))
    monkeypatch.setenv(contract.CONFIG_ENV, str(path))
    environment.reset()
    assert call()["statusCode"] == 500
    assert "rules[0].when[0].op" in caplog.text
    with pytest.raises(fallback_config.FallbackConfigurationError, match="cannot read"):
        fallback_config.load_config(str(tmp_path / "missing.json"))
    for broken, key in [({"mode": "static"}, "timeoutMs"), ({"mode": "lastKnownGood", "timeoutMs": 5,
                                                             "requestFields": [], "cache": {"table": "t"}}, "cache.keyField")]:
        with pytest.raises(fallback_config.FallbackConfigurationError, match=key.replace(".", r"\.")):
            fallback_config.FallbackConfig.from_dict(broken)


def test_the_config_is_read_once_and_the_clients_reused_while_warm(env):
    config = env.configure("static", response={"version": 1})
    env.model.mode = "throttle"
    assert assert_degraded(call(), "static")["version"] == 1
    client = environment._clients["sagemaker-runtime"]
    with open(fallback_config.config_path(), "w", encoding="utf-8") as handle:  # changed behind the warm environment
        json.dump({**config, "response": {"version": 2}}, handle)
    assert assert_degraded(call(), "static")["version"] == 1
    assert environment._clients["sagemaker-runtime"] is client
    environment.reset()  # a cold start reads the new file
    assert assert_degraded(call(), "static")["version"] == 2


def test_the_runtime_client_waits_timeout_ms_and_never_retries(env):
    env.configure("static", timeoutMs=1500)
    client = environment.client("sagemaker-runtime", environment.current_config())
    assert client.meta.config.read_timeout == 1.5
    assert client.meta.config.connect_timeout == environment.CONNECT_TIMEOUT_SECONDS
    assert client.meta.config.retries["total_max_attempts"] == 1


def test_the_documented_iam_actions_are_the_calls_the_handler_makes():
    """IAM_ACTIONS (what the component grants) matches the client calls in the package's source."""
    import re

    source = "\n".join(path.read_text(encoding="utf-8") for path in PACKAGE_DIR.glob("*.py"))
    services = {"sagemaker-runtime": "sagemaker", "dynamodb": "dynamodb", "cloudwatch": "cloudwatch"}
    called = set()
    for service, method in re.findall(r'\bclient\("([a-z-]+)", config\)\.(\w+)\(', source):
        called.add(f"{services[service]}:{''.join(part.title() for part in method.split('_'))}")
    granted = {action for actions in contract.IAM_ACTIONS.values() for action in actions}
    assert called == granted


def test_the_function_timeout_covers_the_slowest_complete_call():
    # 2 s model read + 1 s connect, DynamoDB 2 x (1 + 1) s, CloudWatch 1 x (1 + 1) s, 1 s spare
    assert environment.function_timeout_seconds(2000) == 10
    assert environment.function_timeout_seconds(100) == math.ceil(0.2 + 6 + 1)


def test_without_request_fields_any_object_is_accepted(env):
    config = env.configure("static")
    del config["requestFields"]
    with open(fallback_config.config_path(), "w", encoding="utf-8") as handle:
        json.dump(config, handle)
    environment.reset()
    assert call({"anything": [1, 2]})["statusCode"] == 200
    assert call(raw="[1]")["statusCode"] == 400


def test_handler_package_needs_only_the_lambda_runtime():
    """The package ships alone (its modules and its config): each module may import the
    package's own modules (relatively: the package is ``fallback`` in the zip), the standard
    library and boto3/botocore (which the Lambda Python runtime provides), nothing else."""
    import ast
    import sys

    modules = {path.stem for path in PACKAGE_DIR.glob("*.py")}
    imported = set()
    for path in PACKAGE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1, f"{path.name}: import from outside the handler package"
                names = [node.module] if node.module else [alias.name for alias in node.names]
                assert {name.split(".")[0] for name in names} <= modules, f"{path.name}: {names}"
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"boto3", "botocore"}
