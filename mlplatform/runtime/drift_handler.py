"""Prediction drift and bias of one endpoint, measured on its captured traffic (AWS Lambda).

Runs on an EventBridge schedule. It reads the endpoint's SageMaker data-capture files of
the last window from S3, compares the captured predictions with the baseline
distribution, and publishes the result as CloudWatch metrics, which the alarms built by
``components/drift_monitor.py`` watch. Only the standard library and boto3 are used so the
deployment package is this one file.

Inputs (environment variables, set by the component)
  DRIFT_BUCKET            the team's artifact bucket
  DRIFT_CAPTURE_PREFIX    key prefix of the endpoint's capture files, as
                          ``mlplatform.locations.capture_prefix`` gives it for the endpoint's
                          physical name (``data-capture/<endpoint name>/``): the endpoint
                          configuration's destination is ``s3://<bucket>/data-capture/`` and
                          SageMaker appends ``<endpoint name>/<variant>/yyyy/mm/dd/hh/``, so
                          the files of one hour are under ``<prefix><variant>/yyyy/mm/dd/hh/``
                          (this module is deployed alone and cannot import the framework;
                          ``tests/test_drift_capture.py`` checks both describe one layout)
  DRIFT_BASELINE_KEY      JSON object ``{"predictions": [number, ...]}``: predictions of the
                          model on its training/validation set
  DRIFT_TEAM, DRIFT_ENDPOINT   metric dimensions (EndpointName is the physical name)
  DRIFT_WINDOW_MINUTES    whole hours before the run that are evaluated (60 or 1440)
  DRIFT_GROUP_ATTRIBUTE   optional: key of the request (JSON input) holding the group
  DRIFT_VARIANTS          optional: comma-separated variants to read (the component sets
                          ``primary``, the variant serving the answers); unset reads all
  DRIFT_POSITIVE_SCORE    score at or above which a prediction is positive (parity check)

The window ends at the start of the hour of the event's ``time`` (EventBridge scheduled
events carry it), so a late or repeated run evaluates the same hours.

Outputs: metrics in namespace :data:`NAMESPACE`, dimensions ``Team`` and ``EndpointName``
(:data:`DIMENSIONS`), timestamped at the window's end:
  PredictionDriftKS            two-sample Kolmogorov-Smirnov statistic D (0-1)
  PredictionDriftPSI           population stability index over baseline deciles
  DemographicParityDifference  max - min positive rate across groups (with a group attribute)
  CapturedPredictions          predictions evaluated
  MalformedCaptureRecords      capture lines that could not be read (skipped, never fatal)
The drift metrics are not published when the window holds no predictions, so an idle
endpoint reads as missing data rather than as "no drift".
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
import logging
import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional

NAMESPACE = "MLPlatform/Drift"
DIMENSIONS = ("Team", "EndpointName")
METRIC_KS = "PredictionDriftKS"
METRIC_PSI = "PredictionDriftPSI"
METRIC_PARITY = "DemographicParityDifference"
METRIC_PREDICTIONS = "CapturedPredictions"
METRIC_MALFORMED = "MalformedCaptureRecords"
#: Metric the alarm watches for each ``monitoring.drift.test`` of the spec.
METRIC_FOR_TEST = {"ks": METRIC_KS, "psi": METRIC_PSI}

PSI_BINS = 10
PSI_FLOOR = 1e-4  # share used for an empty bin, so the logarithm stays finite
SCORE_KEYS = ("predictions", "prediction", "scores", "score", "probabilities", "probability", "outputs")

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)


class DriftConfigurationError(RuntimeError):
    """The function's configuration or baseline is unusable: the run fails loudly."""


class MalformedRecord(ValueError):
    """One capture line that cannot be read; counted and skipped."""


# ---------------------------------------------------------------- statistics


def ks_statistic(sample: Iterable[float], reference: Iterable[float]) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: sup |F_sample(x) - F_reference(x)|.

    Exact: both empirical CDFs are compared at every observed value (ties advance both
    samples together), the same quantity as ``scipy.stats.ks_2samp(...).statistic``.
    """
    a, b = sorted(sample), sorted(reference)
    n, m = len(a), len(b)
    if not n or not m:
        raise ValueError("both samples need at least one value")
    i = j = 0
    d = 0.0
    while i < n and j < m:
        x = a[i] if a[i] <= b[j] else b[j]
        while i < n and a[i] == x:
            i += 1
        while j < m and b[j] == x:
            j += 1
        d = max(d, abs(i / n - j / m))
    return d


def psi(sample: Iterable[float], reference: Iterable[float], bins: int = PSI_BINS) -> float:
    """Population stability index of ``sample`` against ``reference`` over its quantile bins."""
    ref = sorted(reference)
    cur = sorted(sample)
    if not ref or not cur:
        raise ValueError("both samples need at least one value")
    edges = sorted({ref[min(len(ref) - 1, (k * len(ref)) // bins)] for k in range(1, bins)})

    def shares(values: list[float]) -> list[float]:
        counts = [0] * (len(edges) + 1)
        for value in values:
            counts[bisect.bisect_right(edges, value)] += 1
        return [max(count / len(values), PSI_FLOOR) for count in counts]

    expected, actual = shares(ref), shares(cur)
    return sum((a - e) * math.log(a / e) for a, e in zip(actual, expected))


def parity_difference(predictions: list[float], groups: list[str], positive_score: float) -> Optional[float]:
    """Demographic parity difference: highest minus lowest positive rate over the groups.

    ``None`` with fewer than two groups, where parity is undefined.
    """
    totals: dict[str, list[int]] = {}
    for score, group in zip(predictions, groups):
        tally = totals.setdefault(group, [0, 0])
        tally[0] += score >= positive_score
        tally[1] += 1
    if len(totals) < 2:
        return None
    rates = [positive / count for positive, count in totals.values()]
    return max(rates) - min(rates)


# ---------------------------------------------------------------- capture records


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise MalformedRecord(f"not a number: {value!r}"[:120])
    try:
        number = float(value)
    except ValueError:
        raise MalformedRecord(f"not a number: {value!r}"[:120]) from None
    if not math.isfinite(number):
        raise MalformedRecord("prediction is not finite")
    return number


def _scores(payload: Any) -> list[float]:
    """Predictions in a JSON response: a number, a list (of numbers or one-element lists)
    or an object under one of :data:`SCORE_KEYS`."""
    if isinstance(payload, dict):
        for key in SCORE_KEYS:
            if key in payload:
                return _scores(payload[key])
        raise MalformedRecord("response object has no predictions")
    if isinstance(payload, list):
        if not payload:
            raise MalformedRecord("empty prediction list")
        return [_number(item[0] if isinstance(item, list) and item else item) for item in payload]
    return [_number(payload)]


def _decoded(part: dict) -> tuple[str, str]:
    """Text and content type of a captured input or output."""
    if not isinstance(part, dict) or not isinstance(part.get("data"), str):
        raise MalformedRecord("capture part without data")
    data, encoding = part["data"], str(part.get("encoding", "")).upper()
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise MalformedRecord("invalid base64 data") from None
    content_type = str(part.get("observedContentType", "")).lower()
    if encoding == "JSON" or "json" in content_type:
        return data, "json"
    return data, "csv"


def parse_predictions(output: dict) -> list[float]:
    text, kind = _decoded(output)
    if kind == "json":
        try:
            return _scores(json.loads(text))
        except json.JSONDecodeError:
            raise MalformedRecord("response is not JSON") from None
    rows = [row for row in text.strip().splitlines() if row.strip()]
    if not rows:
        raise MalformedRecord("empty response")
    return [_number(row.split(",")[0].strip()) for row in rows]


def parse_groups(request: dict, attribute: str) -> list[str]:
    """Group of each instance in a JSON request: an object, a list of objects, or
    ``{"instances": [...]}``."""
    text, kind = _decoded(request)
    if kind != "json":
        raise MalformedRecord(f"request is not JSON, cannot read '{attribute}'")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        raise MalformedRecord("request is not JSON") from None
    if isinstance(payload, dict) and isinstance(payload.get("instances"), list):
        payload = payload["instances"]
    instances = payload if isinstance(payload, list) else [payload]
    groups = []
    for instance in instances:
        if not isinstance(instance, dict) or attribute not in instance or instance[attribute] is None:
            raise MalformedRecord(f"request has no '{attribute}'")
        groups.append(str(instance[attribute]))
    return groups


def parse_line(line: str, group_attribute: Optional[str]) -> tuple[list[float], Optional[list[str]]]:
    """Predictions (and groups) of one SageMaker data-capture JSON line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        raise MalformedRecord("line is not JSON") from None
    capture = record.get("captureData") if isinstance(record, dict) else None
    if not isinstance(capture, dict):
        raise MalformedRecord("no captureData")
    predictions = parse_predictions(capture.get("endpointOutput"))
    if group_attribute is None:
        return predictions, None
    groups = parse_groups(capture.get("endpointInput"), group_attribute)
    if len(groups) != len(predictions):
        raise MalformedRecord(f"{len(groups)} request instances but {len(predictions)} predictions")
    return predictions, groups


# ---------------------------------------------------------------- the run


@dataclass(frozen=True)
class DriftConfig:
    bucket: str
    capture_prefix: str
    baseline_key: str
    team: str
    endpoint: str
    window_minutes: int = 60
    group_attribute: Optional[str] = None
    positive_score: float = 0.5
    variants: Optional[tuple[str, ...]] = None

    @classmethod
    def from_env(cls, env: dict) -> "DriftConfig":
        try:
            window = int(env.get("DRIFT_WINDOW_MINUTES", "60"))
            positive = float(env.get("DRIFT_POSITIVE_SCORE", "0.5"))
            config = cls(
                bucket=env["DRIFT_BUCKET"], capture_prefix=env["DRIFT_CAPTURE_PREFIX"],
                baseline_key=env["DRIFT_BASELINE_KEY"], team=env["DRIFT_TEAM"], endpoint=env["DRIFT_ENDPOINT"],
                window_minutes=window, group_attribute=env.get("DRIFT_GROUP_ATTRIBUTE") or None,
                positive_score=positive,
                variants=tuple(v.strip() for v in env["DRIFT_VARIANTS"].split(",") if v.strip())
                if env.get("DRIFT_VARIANTS") else None,
            )
        except KeyError as exc:
            raise DriftConfigurationError(f"environment variable {exc.args[0]} is not set") from None
        except ValueError as exc:
            raise DriftConfigurationError(f"bad numeric setting: {exc}") from None
        if window < 60 or window % 60:
            raise DriftConfigurationError("DRIFT_WINDOW_MINUTES must be a whole number of hours")
        return config


@dataclass
class Tally:
    predictions: list[float] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    malformed: int = 0
    files: int = 0


def window_end(event: Any, now: Optional[dt.datetime] = None) -> dt.datetime:
    """Start of the hour the run belongs to (from the event's ``time`` when it has one)."""
    moment = now or dt.datetime.now(dt.timezone.utc)
    text = event.get("time") if isinstance(event, dict) else None
    if isinstance(text, str):
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            log.warning("ignoring unparsable event time %r", text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


def hour_prefixes(config: DriftConfig, variants: list[str], end: dt.datetime) -> Iterator[str]:
    for variant in variants:
        for back in range(config.window_minutes // 60, 0, -1):
            hour = end - dt.timedelta(hours=back)
            yield f"{config.capture_prefix}{variant}/{hour:%Y/%m/%d/%H}/"


def list_variants(s3, config: DriftConfig) -> list[str]:
    variants = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=config.bucket, Prefix=config.capture_prefix, Delimiter="/"
    ):
        for common in page.get("CommonPrefixes", []):
            variants.append(common["Prefix"][len(config.capture_prefix):].rstrip("/"))
    return sorted(v for v in variants if config.variants is None or v in config.variants)


def read_window(s3, config: DriftConfig, end: dt.datetime) -> Tally:
    tally = Tally()
    for prefix in hour_prefixes(config, list_variants(s3, config), end):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=config.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=config.bucket, Key=item["Key"])["Body"]
                tally.files += 1
                for raw in body.iter_lines():  # streamed: a large capture file is never held whole
                    line = raw.decode("utf-8", errors="replace")
                    if not line.strip():
                        continue
                    try:
                        predictions, groups = parse_line(line, config.group_attribute)
                    except (MalformedRecord, ValueError, TypeError, RecursionError) as exc:
                        # whatever one line holds (even JSON nested too deep to parse), it
                        # costs that line only, never the run
                        tally.malformed += 1
                        log.debug("skipping malformed capture line in %s: %s", item["Key"], exc)
                        continue
                    tally.predictions.extend(predictions)
                    if groups is not None:
                        tally.groups.extend(groups)
    return tally


def read_baseline(s3, config: DriftConfig) -> list[float]:
    try:
        body = s3.get_object(Bucket=config.bucket, Key=config.baseline_key)["Body"].read()
        values = json.loads(body)["predictions"]
        baseline = [_number(value) for value in values]
    except s3.exceptions.NoSuchKey:
        raise DriftConfigurationError(f"baseline s3://{config.bucket}/{config.baseline_key} does not exist") from None
    except (ValueError, KeyError, TypeError, MalformedRecord) as exc:
        raise DriftConfigurationError(
            f"baseline s3://{config.bucket}/{config.baseline_key} is not {{\"predictions\": [numbers]}}: {exc}"
        ) from None
    if not baseline:
        raise DriftConfigurationError(f"baseline s3://{config.bucket}/{config.baseline_key} has no predictions")
    return baseline


def measure(config: DriftConfig, tally: Tally, baseline: list[float]) -> dict[str, float]:
    """Metric name -> value for one window."""
    metrics: dict[str, float] = {
        METRIC_PREDICTIONS: float(len(tally.predictions)),
        METRIC_MALFORMED: float(tally.malformed),
    }
    if tally.predictions:
        metrics[METRIC_KS] = ks_statistic(tally.predictions, baseline)
        metrics[METRIC_PSI] = psi(tally.predictions, baseline)
        if config.group_attribute is not None:
            parity = parity_difference(tally.predictions, tally.groups, config.positive_score)
            if parity is not None:
                metrics[METRIC_PARITY] = parity
    return metrics


def publish(cloudwatch, config: DriftConfig, metrics: dict[str, float], timestamp: dt.datetime) -> None:
    dimensions = [{"Name": "Team", "Value": config.team}, {"Name": "EndpointName", "Value": config.endpoint}]
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": name, "Dimensions": dimensions, "Timestamp": timestamp, "Value": value,
             "Unit": "Count" if name in (METRIC_PREDICTIONS, METRIC_MALFORMED) else "None"}
            for name, value in sorted(metrics.items())
        ],
    )


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry point: measure the last window and publish its metrics."""
    import boto3  # provided by the Lambda runtime; imported here so the statistics import without it

    config = DriftConfig.from_env(dict(os.environ))
    s3, cloudwatch = boto3.client("s3"), boto3.client("cloudwatch")
    end = window_end(event)
    baseline = read_baseline(s3, config)
    tally = read_window(s3, config, end)
    metrics = measure(config, tally, baseline)
    publish(cloudwatch, config, metrics, end)
    log.info("drift of %s over %d min to %s: %s (%d files)", config.endpoint, config.window_minutes,
             end.isoformat(), json.dumps(metrics, sort_keys=True), tally.files)
    return {"endpoint": config.endpoint, "windowEnd": end.isoformat(), "files": tally.files, "metrics": metrics}
