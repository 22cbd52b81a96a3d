"""Concrete flows of one plan, from the declarations in :mod:`..declarations`.

Each ``*_flows`` function finds the resources of its kind in the plan and builds, per team,
endpoint, queue, stream or bucket, the requests the flow makes (with the request context AWS
would send) and the locations writer and readers use. Anything it cannot find or read in
the plan becomes an *unproven* note on the flow, never a silent skip.

One module per flow family (:mod:`.capture`, :mod:`.models`, :mod:`.batch_key`,
:mod:`.retrain`, :mod:`.firehose`, :mod:`.log_delivery`, :mod:`.features`,
:mod:`.replication`, :mod:`.alarm_topic`), each using the shared step builders of
:mod:`.steps`; :data:`DERIVATIONS` below is the one registry the checker reads, keyed by
the names :mod:`..declarations` gives.
"""

from __future__ import annotations

from typing import Callable, Iterator

from ..declarations import Flow
from ..estate import Estate
from .alarm_topic import alarm_topic_flows
from .batch_key import batch_key_flows
from .capture import capture_flows
from .features import feature_flows
from .firehose import firehose_flows
from .log_delivery import access_log_flows, cloudtrail_flows
from .models import model_flows
from .replication import replication_flows
from .retrain import retrain_flows

DERIVATIONS: dict[str, Callable[[Estate], Iterator[Flow]]] = {
    "capture_flows": capture_flows,
    "model_flows": model_flows,
    "batch_key_flows": batch_key_flows,
    "retrain_flows": retrain_flows,
    "firehose_flows": firehose_flows,
    "cloudtrail_flows": cloudtrail_flows,
    "access_log_flows": access_log_flows,
    "feature_flows": feature_flows,
    "replication_flows": replication_flows,
    "alarm_topic_flows": alarm_topic_flows,
}
