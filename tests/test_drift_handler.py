"""The drift Lambda end to end against a moto server on 127.0.0.1.

Capture files in SageMaker's data-capture JSONL shape go into S3, the unmodified handler
runs with boto3 pointed at the server (``AWS_ENDPOINT_URL``), and the metrics it published
are read back from CloudWatch and compared with an independent computation
(``scipy.stats.ks_2samp``, numpy group rates).
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import boto3
import numpy as np
import pytest
from scipy.stats import ks_2samp

from mlplatform.locations import capture_prefix
from mlplatform.runtime import drift_handler as dh

REGION = "eu-west-1"
EVENT_TIME = "2025-03-04T10:00:42Z"  # the run evaluates the hour 09:00-10:00
WINDOW_END = dt.datetime(2025, 3, 4, 10, tzinfo=dt.timezone.utc)
THRESHOLD = 0.1  # fraud-detection's monitoring.drift.threshold


@pytest.fixture
def aws(moto_url, monkeypatch):
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return moto_url


_counter = iter(range(10_000))


@pytest.fixture
def endpoint(aws, monkeypatch):
    """A fresh bucket and endpoint name per test, configured as the component does."""
    n = next(_counter)
    bucket, name = f"drift-test-{n}", f"fraud-detection-dev-scorer-{n}"
    boto3.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    env = {
        "DRIFT_BUCKET": bucket,
        "DRIFT_CAPTURE_PREFIX": capture_prefix(name),
        "DRIFT_BASELINE_KEY": "baselines/scorer/predictions.json",
        "DRIFT_TEAM": "fraud-detection",
        "DRIFT_ENDPOINT": name,
        "DRIFT_WINDOW_MINUTES": "60",
        "DRIFT_POSITIVE_SCORE": "0.5",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DRIFT_GROUP_ATTRIBUTE", raising=False)
    return {"bucket": bucket, "name": name}


def capture_line(score, group=None, *, output_encoding="CSV") -> str:
    request = {"amount": 12.5} if group is None else {"amount": 12.5, "customer_age_band": group}
    if output_encoding == "CSV":
        output = {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT", "data": f"{score}", "encoding": "CSV"}
    elif output_encoding == "JSON":
        output = {"observedContentType": "application/json", "mode": "OUTPUT",
                  "data": json.dumps({"predictions": [score]}), "encoding": "JSON"}
    else:
        output = {"observedContentType": "application/json", "mode": "OUTPUT",
                  "data": base64.b64encode(json.dumps([score]).encode()).decode(), "encoding": "BASE64"}
    return json.dumps({
        "captureData": {
            "endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                              "data": json.dumps(request), "encoding": "JSON"},
            "endpointOutput": output,
        },
        "eventMetadata": {"eventId": "e", "inferenceTime": "2025-03-04T09:30:00Z"},
        "eventVersion": "0",
    })


def put_capture(endpoint, lines, *, variant="primary", hour="2025/03/04/09", name="capture.jsonl"):
    key = f"{capture_prefix(endpoint['name'], variant)}{hour}/{name}"  # where SageMaker writes
    boto3.client("s3").put_object(Bucket=endpoint["bucket"], Key=key, Body="\n".join(lines).encode())


def put_baseline(endpoint, values):
    boto3.client("s3").put_object(Bucket=endpoint["bucket"], Key="baselines/scorer/predictions.json",
                                  Body=json.dumps({"predictions": [float(v) for v in values]}).encode())


def metric(endpoint, name):
    """The value the handler published, read back from CloudWatch (None when absent)."""
    points = boto3.client("cloudwatch").get_metric_statistics(
        Namespace=dh.NAMESPACE, MetricName=name,
        Dimensions=[{"Name": "Team", "Value": "fraud-detection"}, {"Name": "EndpointName", "Value": endpoint["name"]}],
        StartTime=WINDOW_END - dt.timedelta(hours=1), EndTime=WINDOW_END + dt.timedelta(hours=1),
        Period=60, Statistics=["Maximum", "SampleCount"],
    )["Datapoints"]
    if not points:
        return None
    assert len(points) == 1 and points[0]["SampleCount"] == 1, points
    return points[0]["Maximum"]


def run():
    return dh.handler({"time": EVENT_TIME, "detail-type": "Scheduled Event"}, None)


rng = np.random.default_rng(20250304)
BASELINE = rng.beta(2, 5, size=2000)


def test_unshifted_predictions_stay_below_the_threshold(endpoint):
    put_baseline(endpoint, BASELINE)
    current = rng.beta(2, 5, size=600)
    put_capture(endpoint, [capture_line(v) for v in current[:300]], name="a.jsonl")
    put_capture(endpoint, [capture_line(v, output_encoding="JSON") for v in current[300:]], name="b.jsonl")
    result = run()
    expected = ks_2samp(current, BASELINE).statistic
    published = metric(endpoint, dh.METRIC_KS)
    assert published == pytest.approx(expected, abs=1e-9)
    assert published < THRESHOLD
    assert metric(endpoint, dh.METRIC_PREDICTIONS) == 600
    assert metric(endpoint, dh.METRIC_MALFORMED) == 0
    assert result["files"] == 2


def test_shifted_predictions_cross_the_threshold(endpoint):
    put_baseline(endpoint, BASELINE)
    current = np.clip(rng.beta(2, 5, size=500) + 0.15, 0, 1)
    put_capture(endpoint, [capture_line(v, output_encoding="BASE64") for v in current[:250]])
    put_capture(endpoint, [capture_line(v) for v in current[250:]], variant="shadow")
    run()
    published = metric(endpoint, dh.METRIC_KS)
    assert published == pytest.approx(ks_2samp(current, BASELINE).statistic, abs=1e-9)
    assert published > THRESHOLD
    assert metric(endpoint, dh.METRIC_PSI) > 0.2  # recommendations' psi threshold


def test_malformed_lines_are_counted_and_skipped(endpoint):
    put_baseline(endpoint, BASELINE)
    good = rng.beta(2, 5, size=50)
    bad = [
        "this is not json",
        json.dumps({"eventVersion": "0"}),  # no captureData
        json.dumps({"captureData": {"endpointOutput": {"data": "abc", "encoding": "CSV"}}}),  # not a number
        json.dumps({"captureData": {"endpointOutput": {"data": "NaN", "encoding": "CSV"}}}),  # not finite
        json.dumps({"captureData": {"endpointOutput": {"data": "%%%", "encoding": "BASE64"}}}),  # bad base64
        json.dumps({"captureData": {"endpointOutput": {"data": "{}", "encoding": "JSON"}}}),  # no predictions
        json.dumps({"captureData": {"endpointOutput": {"data": 0.5, "encoding": "CSV"}}}),  # data not text
        json.dumps([1, 2, 3]),
        '{"captureData": {"endpointOutput": ',  # truncated line
        "[" * 100_000 + "]" * 100_000,  # nested deeper than the JSON parser recurses
        json.dumps({"captureData": {"endpointOutput": {"data": "[[[[0.5]]]]", "encoding": "JSON"}}}),  # nested list
    ]
    lines = [capture_line(v) for v in good[:25]] + bad + [""] + [capture_line(v) for v in good[25:]]
    put_capture(endpoint, lines)
    boto3.client("s3").put_object(Bucket=endpoint["bucket"],
                                  Key=f"{capture_prefix(endpoint['name'], 'primary')}2025/03/04/09/binary.jsonl",
                                  Body=b"\xff\xfe\x00garbage\n")
    result = run()
    assert metric(endpoint, dh.METRIC_MALFORMED) == len(bad) + 1
    assert metric(endpoint, dh.METRIC_PREDICTIONS) == 50
    assert metric(endpoint, dh.METRIC_KS) == pytest.approx(ks_2samp(good, BASELINE).statistic, abs=1e-9)
    assert result["metrics"][dh.METRIC_MALFORMED] == len(bad) + 1


def test_only_the_window_hours_are_read(endpoint):
    put_baseline(endpoint, BASELINE)
    inside = rng.beta(2, 5, size=100)
    put_capture(endpoint, [capture_line(v) for v in inside])
    put_capture(endpoint, [capture_line(0.99)] * 100, hour="2025/03/04/10", name="later.jsonl")  # after the window
    put_capture(endpoint, [capture_line(0.99)] * 100, hour="2025/03/04/08", name="earlier.jsonl")  # before it
    run()
    assert metric(endpoint, dh.METRIC_PREDICTIONS) == 100
    assert metric(endpoint, dh.METRIC_KS) == pytest.approx(ks_2samp(inside, BASELINE).statistic, abs=1e-9)


def test_demographic_parity_difference_matches_group_rates(endpoint, monkeypatch):
    monkeypatch.setenv("DRIFT_GROUP_ATTRIBUTE", "customer_age_band")
    put_baseline(endpoint, BASELINE)
    groups = np.array(["18-25", "26-40", "41-65"])[rng.integers(0, 3, size=900)]
    shift = np.where(groups == "18-25", 0.25, 0.0)  # the youngest band scores higher
    scores = np.clip(rng.beta(2, 5, size=900) + shift, 0, 1)
    lines = [capture_line(s, g) for s, g in zip(scores, groups)]
    lines.append(capture_line(0.9))  # no group attribute in the request: malformed for this check
    put_capture(endpoint, lines)
    run()
    rates = [np.mean(scores[groups == g] >= 0.5) for g in np.unique(groups)]
    assert metric(endpoint, dh.METRIC_PARITY) == pytest.approx(max(rates) - min(rates), abs=1e-9)
    assert metric(endpoint, dh.METRIC_PARITY) > 0.08  # fraud-detection's parityThreshold
    assert metric(endpoint, dh.METRIC_MALFORMED) == 1


def test_parity_of_equal_groups_stays_low(endpoint, monkeypatch):
    monkeypatch.setenv("DRIFT_GROUP_ATTRIBUTE", "customer_age_band")
    put_baseline(endpoint, BASELINE)
    groups = np.array(["a", "b"])[rng.integers(0, 2, size=4000)]
    scores = rng.beta(2, 5, size=4000)
    put_capture(endpoint, [capture_line(s, g) for s, g in zip(scores, groups)])
    run()
    rates = [np.mean(scores[groups == g] >= 0.5) for g in ("a", "b")]
    assert metric(endpoint, dh.METRIC_PARITY) == pytest.approx(abs(rates[0] - rates[1]), abs=1e-9)
    assert metric(endpoint, dh.METRIC_PARITY) < 0.08


def test_an_idle_window_publishes_counts_but_no_drift(endpoint):
    put_baseline(endpoint, BASELINE)
    result = run()
    assert metric(endpoint, dh.METRIC_PREDICTIONS) == 0
    assert metric(endpoint, dh.METRIC_KS) is None and metric(endpoint, dh.METRIC_PSI) is None
    assert result["files"] == 0


def test_a_missing_baseline_fails_the_run_loudly(endpoint):
    put_capture(endpoint, [capture_line(0.3)])
    with pytest.raises(dh.DriftConfigurationError, match="does not exist"):
        run()


def test_an_unreadable_baseline_fails_the_run_loudly(endpoint):
    boto3.client("s3").put_object(Bucket=endpoint["bucket"], Key="baselines/scorer/predictions.json", Body=b"[1, 2]")
    with pytest.raises(dh.DriftConfigurationError, match="predictions"):
        run()


def test_missing_configuration_is_named(endpoint, monkeypatch):
    monkeypatch.delenv("DRIFT_BUCKET")
    with pytest.raises(dh.DriftConfigurationError, match="DRIFT_BUCKET"):
        run()
    monkeypatch.setenv("DRIFT_BUCKET", endpoint["bucket"])
    monkeypatch.setenv("DRIFT_WINDOW_MINUTES", "90")
    with pytest.raises(dh.DriftConfigurationError, match="whole number of hours"):
        run()


# ---------------------------------------------------------------- the statistics alone


@pytest.mark.parametrize("seed", range(5))
def test_ks_statistic_equals_scipy_with_ties(seed):
    local = np.random.default_rng(seed)
    a = local.integers(0, 20, size=local.integers(1, 300)).astype(float)  # many ties
    b = local.integers(0, 25, size=local.integers(1, 300)).astype(float)
    assert dh.ks_statistic(a.tolist(), b.tolist()) == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)


def test_ks_statistic_extremes():
    assert dh.ks_statistic([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert dh.ks_statistic([0.0, 0.1], [5.0, 6.0]) == 1.0
    with pytest.raises(ValueError):
        dh.ks_statistic([], [1.0])


def test_psi_is_zero_for_the_same_distribution_and_grows_with_shift():
    values = list(np.linspace(0, 1, 1000))
    assert dh.psi(values, values) == pytest.approx(0.0, abs=1e-12)
    assert dh.psi([v + 0.05 for v in values], values) < dh.psi([v + 0.3 for v in values], values)


def test_window_end_is_the_start_of_the_event_hour():
    assert dh.window_end({"time": "2025-03-04T10:59:59Z"}) == WINDOW_END
    assert dh.window_end({"time": "garbage"}, now=dt.datetime(2025, 3, 4, 10, 5)) == WINDOW_END


def test_only_the_configured_variants_are_read(endpoint, monkeypatch):
    monkeypatch.setenv("DRIFT_VARIANTS", "primary")
    put_baseline(endpoint, BASELINE)
    primary = rng.beta(2, 5, size=200)
    put_capture(endpoint, [capture_line(v) for v in primary])
    put_capture(endpoint, [capture_line(0.95)] * 200, variant="shadow")  # a shadow model's answers
    run()
    assert metric(endpoint, dh.METRIC_PREDICTIONS) == 200
    assert metric(endpoint, dh.METRIC_KS) == pytest.approx(ks_2samp(primary, BASELINE).statistic, abs=1e-9)


def test_handler_ships_as_one_file_needing_only_the_lambda_runtime():
    """The component zips drift_handler.py alone: it may import the standard library and
    boto3 (which the Lambda Python runtime provides), nothing else."""
    import ast
    import sys

    tree = ast.parse(open(dh.__file__, encoding="utf-8").read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in the Lambda handler"
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"boto3"}
