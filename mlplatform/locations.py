"""Where things land in a team's artifact bucket, when one component writes and others read.

Data capture is the case that needs an owner: SageMaker, not our code, picks the object
keys. An endpoint configuration names a destination (``DataCaptureConfig.DestinationS3Uri``)
and SageMaker writes every captured request below it as

    {destination}/{endpoint-name}/{variant-name}/yyyy/mm/dd/hh/{file}.jsonl

(SageMaker Developer Guide, "Capture data from real-time endpoint", section "View captured
data"; the SageMaker Python SDK's ``doc/amazon_sagemaker_model_monitoring.rst`` shows the
same path). The writer (the endpoint configuration) takes :func:`capture_destination_uri`;
every reader (the drift Lambda's ``DRIFT_CAPTURE_PREFIX`` and role, the Model Monitor role,
the people's read grant) takes :func:`capture_prefix` or :data:`CAPTURE_ROOT`, so the two
sides cannot disagree.

The destination is the team-wide root, not a folder per endpoint: SageMaker already
separates endpoints by their (account-unique) name, so a folder of our own would only
add a level the readers must know about.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

#: Key prefix of all data capture in a team's bucket (writers and readers are granted this).
CAPTURE_ROOT = "data-capture/"


def capture_destination_uri(bucket: str) -> str:
    """``DestinationS3Uri`` of every endpoint configuration of the team whose bucket this is."""
    return f"s3://{bucket}/{CAPTURE_ROOT}"


def capture_prefix(endpoint_name: str, variant: Optional[str] = None) -> str:
    """Key prefix under which SageMaker writes the capture of one endpoint (by its physical
    name, :func:`mlplatform.naming.endpoint_name`), or of one of its variants.

    It ends with ``/``, so the prefix of ``scorer`` never covers ``scorer-v2``'s files.
    """
    prefix = f"{CAPTURE_ROOT}{endpoint_name}/"
    return f"{prefix}{variant}/" if variant else prefix


def capture_hour_prefix(endpoint_name: str, variant: str, hour: dt.datetime) -> str:
    """The folder of one variant's capture files for the hour starting at ``hour`` (UTC)."""
    return f"{capture_prefix(endpoint_name, variant)}{hour:%Y/%m/%d/%H}/"
