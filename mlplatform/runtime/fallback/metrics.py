"""Counting degraded answers, so a failing model pages its team.

Every degraded answer publishes :data:`.contract.METRIC_FALLBACK_ANSWERS` and
:data:`.contract.METRIC_MODEL_FAILURES`, Count, dimensions :data:`.contract.DIMENSIONS`, in
:data:`.contract.NAMESPACE`; the component's alarm watches the first. A failed
PutMetricData is logged and never fails the answer: the caller's answer matters more than
its count.
"""

from __future__ import annotations

import logging

from .config import FallbackConfig
from .contract import METRIC_FALLBACK_ANSWERS, METRIC_MODEL_FAILURES, NAMESPACE
from .environment import client

log = logging.getLogger(__name__)


def publish_degraded(config: FallbackConfig, model_failed: bool) -> None:
    """Count one degraded answer (and the model failure behind it); never raises."""
    dimensions = [{"Name": "Team", "Value": config.team}, {"Name": "Endpoint", "Value": config.endpoint_name}]
    names = [METRIC_FALLBACK_ANSWERS] + ([METRIC_MODEL_FAILURES] if model_failed else [])
    try:
        client("cloudwatch", config).put_metric_data(Namespace=NAMESPACE, MetricData=[
            {"MetricName": name, "Dimensions": dimensions, "Value": 1.0, "Unit": "Count"} for name in names])
    except Exception as exc:  # noqa: BLE001 - the answer matters more than its count
        log.error("metric publication for %s failed: %s: %s", config.endpoint_name, type(exc).__name__, exc)
