"""The drift readers read where the endpoint really writes its data capture.

SageMaker writes an endpoint's captured requests under the endpoint configuration's
``DestinationS3Uri`` as ``{destination}/{endpoint-name}/{variant-name}/yyyy/mm/dd/hh/<file>.jsonl``
(SageMaker Developer Guide, "Capture data from real-time endpoint" > "View captured data";
the SageMaker Python SDK's ``doc/amazon_sagemaker_model_monitoring.rst`` shows the same
path). These tests take the destination from the endpoint configuration in the prod plan,
build a capture object key by that documented layout, and check that every reader (the
drift Lambda's settings and role, the Model Monitor role) reaches exactly that key. They
do not ask the framework where capture lands: the writer's real input is the only source.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json

import pytest

from mlplatform.runtime import drift_handler

from .helpers.dataplane import by_type

HOUR = dt.datetime(2025, 3, 4, 9, tzinfo=dt.timezone.utc)
CAPTURE_FILE = "38-53-170-3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d.jsonl"


# ---------------------------------------------------------------- a small IAM evaluator


def _glob(pattern: str, value: str) -> bool:
    """IAM's wildcard match: ``*`` any run of characters (``/`` included), ``?`` one."""
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _conditions_hold(conditions: dict, context: dict) -> bool:
    """Only the operators these policies use; any other operator or key cannot be proven."""
    for operator, pairs in conditions.items():
        for key, expected in pairs.items():
            if key not in context:
                return False
            actual = context[key]
            if operator == "StringEquals":
                ok = actual in _listed(expected)
            elif operator == "StringLike":
                ok = any(_glob(p, actual) for p in _listed(expected))
            else:
                return False
            if not ok:
                return False
    return True


def _applies(statement: dict, action: str, resource: str, context: dict) -> bool:
    actions = _listed(statement.get("Action", []))
    resources = _listed(statement.get("Resource", []))
    return (any(_glob(a.lower(), action.lower()) for a in actions)
            and any(_glob(r, resource) for r in resources)
            and _conditions_hold(statement.get("Condition", {}), context))


def allowed(documents: list[dict], action: str, resource: str, context: dict | None = None) -> bool:
    """Identity-policy evaluation for one request: an allow applies and no deny does."""
    context = context or {}
    statements = [s for document in documents for s in document["Statement"]]
    if any(s["Effect"] == "Deny" and _applies(s, action, resource, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _applies(s, action, resource, context) for s in statements)


# ---------------------------------------------------------------- the plan


def role_documents(graph, role_name: str) -> list[dict]:
    """Inline policies of the role with that physical name (as the plan attaches them)."""
    documents = [json.loads(p.inputs["policy"]) for p in by_type(graph, "aws:iam/rolePolicy:RolePolicy")
                 if p.inputs.get("role") == role_name]
    assert documents, f"no inline policy on role {role_name}"
    return documents


def role_name_of(arn: str) -> str:
    assert arn.startswith("arn:aws:iam::") and ":role/" in arn, arn
    return arn.rsplit("/", 1)[1]


def capture_destinations(graph) -> dict[str, tuple[str, str, list[str]]]:
    """Endpoint name -> (bucket, key prefix of the destination, variant names), from the
    endpoint configuration each endpoint really uses."""
    found = {}
    for endpoint in by_type(graph, "aws:sagemaker/endpoint:Endpoint"):
        (config_urn,) = endpoint.property_dependencies["endpointConfigName"]
        config = graph.get(config_urn).inputs
        capture = config.get("dataCaptureConfig")
        if not capture:
            continue
        uri = capture["destinationS3Uri"]
        assert uri.startswith("s3://"), uri
        bucket, _, prefix = uri[len("s3://"):].partition("/")
        variants = [v["variantName"] for v in config["productionVariants"]]
        found[endpoint.inputs["name"]] = (bucket, prefix, variants)
    return found


def documented_capture_key(prefix: str, endpoint_name: str, variant: str, hour: dt.datetime) -> str:
    """``{destination}/{endpoint-name}/{variant-name}/yyyy/mm/dd/hh/<file>.jsonl`` as a key."""
    head = f"{prefix.rstrip('/')}/" if prefix.strip("/") else ""
    return f"{head}{endpoint_name}/{variant}/{hour:%Y/%m/%d/%H}/{CAPTURE_FILE}"


def can_read(documents: list[dict], bucket: str, key: str) -> list[str]:
    """What a reader of ``key`` is refused: listing its folders, and getting it."""
    problems = []
    folder = key.rsplit("/", 1)[0] + "/"
    endpoint_folder = "/".join(key.split("/")[:-6]) + "/"
    for listed in (endpoint_folder, folder):
        if not allowed(documents, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": listed}):
            problems.append(f"s3:ListBucket with prefix {listed}")
    if not allowed(documents, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"):
        problems.append(f"s3:GetObject on {key}")
    return problems


@pytest.fixture(scope="module")
def destinations(prod_graph):
    found = capture_destinations(prod_graph)
    assert found, "no endpoint captures data in the prod plan"
    return found


def _drift_functions(graph):
    functions = [f for f in by_type(graph, "aws:lambda/function:Function")
                 if "DRIFT_CAPTURE_PREFIX" in ((f.inputs.get("environment") or {}).get("variables") or {})]
    assert functions, "no drift Lambda in the prod plan"
    return functions


def test_the_drift_lambda_lists_the_folders_sagemaker_writes(prod_graph, destinations):
    for function in _drift_functions(prod_graph):
        env = function.inputs["environment"]["variables"]
        endpoint = env["DRIFT_ENDPOINT"]
        bucket, prefix, variants = destinations[endpoint]
        config = drift_handler.DriftConfig.from_env(env)
        assert config.bucket == bucket, function.name
        read = list(config.variants or variants)
        for variant in read:
            key = documented_capture_key(prefix, endpoint, variant, HOUR)
            # the handler lists <prefix> for variants, then one folder per hour of the window
            assert key.startswith(config.capture_prefix), (function.name, key, config.capture_prefix)
            assert key[len(config.capture_prefix):].split("/", 1)[0] == variant, (function.name, key)
            hours = list(drift_handler.hour_prefixes(config, [variant], HOUR + dt.timedelta(hours=1)))
            assert key.rsplit("/", 1)[0] + "/" in hours, (function.name, key, hours)


def test_the_drift_lambda_role_may_read_a_capture_file(prod_graph, destinations):
    for function in _drift_functions(prod_graph):
        env = function.inputs["environment"]["variables"]
        bucket, prefix, variants = destinations[env["DRIFT_ENDPOINT"]]
        documents = role_documents(prod_graph, role_name_of(function.inputs["role"]))
        for variant in env.get("DRIFT_VARIANTS", ",".join(variants)).split(","):
            key = documented_capture_key(prefix, env["DRIFT_ENDPOINT"], variant, HOUR)
            assert not can_read(documents, bucket, key), (function.name, can_read(documents, bucket, key))


def test_the_model_monitor_role_may_read_a_capture_file(prod_graph, destinations):
    jobs = by_type(prod_graph, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    assert jobs
    for job in jobs:
        endpoint = job.inputs["dataQualityJobInput"]["endpointInput"]["endpointName"]
        bucket, prefix, variants = destinations[endpoint]
        documents = role_documents(prod_graph, role_name_of(job.inputs["roleArn"]))
        for variant in variants:  # Model Monitor analyses every variant the endpoint captures
            key = documented_capture_key(prefix, endpoint, variant, HOUR)
            assert not can_read(documents, bucket, key), (job.name, can_read(documents, bucket, key))


def test_the_writer_may_write_where_it_captures(prod_graph, destinations):
    """The endpoint's execution role (the team's serving role) may put the capture files."""
    models = {m.urn: m for m in by_type(prod_graph, "aws:sagemaker/model:Model")}
    for endpoint in by_type(prod_graph, "aws:sagemaker/endpoint:Endpoint"):
        name = endpoint.inputs["name"]
        if name not in destinations:
            continue
        bucket, prefix, variants = destinations[name]
        (config_urn,) = endpoint.property_dependencies["endpointConfigName"]
        config = prod_graph.get(config_urn)
        model_urns = [u for u in config.property_dependencies.get("productionVariants", []) if u in models]
        assert model_urns, name
        for model_urn in model_urns:
            documents = role_documents(prod_graph, role_name_of(models[model_urn].inputs["executionRoleArn"]))
            for variant in variants:
                key = documented_capture_key(prefix, name, variant, HOUR)
                assert allowed(documents, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}"), (name, key)


def test_the_location_module_describes_the_documented_layout():
    """One owner of the capture location: its writer URI and reader prefix agree with the
    layout SageMaker documents, and the handler's hour folders are the same folders."""
    from mlplatform import locations

    uri = locations.capture_destination_uri("bucket-a")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    assert bucket == "bucket-a"
    key = documented_capture_key(prefix, "team-prod-scorer", "primary", HOUR)
    assert key.startswith(locations.capture_prefix("team-prod-scorer"))
    assert key.startswith(locations.capture_prefix("team-prod-scorer", "primary"))
    assert key.rsplit("/", 1)[0] + "/" == locations.capture_hour_prefix("team-prod-scorer", "primary", HOUR)
    config = drift_handler.DriftConfig(bucket="bucket-a", capture_prefix=locations.capture_prefix("team-prod-scorer"),
                                       baseline_key="b", team="team", endpoint="team-prod-scorer")
    assert list(drift_handler.hour_prefixes(config, ["primary"], HOUR + dt.timedelta(hours=1))) == [
        locations.capture_hour_prefix("team-prod-scorer", "primary", HOUR)]
    # another endpoint's files never fall under this endpoint's prefix
    assert not locations.capture_prefix("team-prod-scorer-v2").startswith(locations.capture_prefix("team-prod-scorer"))
