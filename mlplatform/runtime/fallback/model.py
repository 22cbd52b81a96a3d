"""The call to the SageMaker endpoint, and what each way it can end means for the caller.

* **an answer**: InvokeEndpoint succeeded; the caller gets the model's body and content type.
* **refused**: InvokeEndpoint reports a ``ModelError`` whose ``OriginalStatusCode`` is 4xx:
  the model refused this request, which the caller must fix; its status is passed through
  with ``{"error": <the model's message>}``, no fallback.
* **down**, answered by the fallback: every other failure of the call. A read or connect
  timeout or a dropped connection; throttling (``ThrottlingException``, HTTP 429,
  ``ModelNotReadyException``); a ``ModelError`` whose original status is 5xx (or absent);
  ``ServiceUnavailable``, ``InternalFailure``, ``InternalDependencyException`` or any 5xx of
  the runtime API. ``ValidationError`` (HTTP 400 of the runtime API, e.g. "Endpoint ... not
  found" while the endpoint is deleted, recreated or misnamed) is down too: the body reached
  the API unchanged after passing the request schema (:mod:`.request`), so what the API
  rejects is the endpoint or the call, which the caller can neither cause nor fix; the same
  holds for the remaining 4xx of the API (``AccessDeniedException`` of a broken role). Each
  is logged at ERROR with the reason and counted (:mod:`.metrics`), so a misconfiguration
  is paged, not hidden.

The error list is botocore's service model ``sagemaker-runtime/2017-05-13``: InternalFailure
500, ServiceUnavailable 503, ValidationError 400, ModelError 424 with OriginalStatusCode,
InternalDependencyException 530, ModelNotReadyException 429. The client's timeouts and
single attempt are :mod:`.environment`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import FallbackConfig
from .contract import JSON_CONTENT_TYPE
from .environment import client

#: Error codes of the runtime API that mean "too many requests" (the model is saturated).
THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException",
                              "ModelNotReadyException"})


@dataclass(frozen=True)
class ModelOutcome:
    """What the call to the endpoint gave: an answer, a 4xx refusal, or a failure."""

    kind: str  # "answer" | "refused" | "down"
    status: int = 200
    body: bytes = b""
    content_type: str = JSON_CONTENT_TYPE
    reason: str = ""


def classify_error(exc: Exception) -> ModelOutcome:
    """Refused (a 4xx ModelError: the caller's problem) or down (everything else)."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):  # timeouts, refused or dropped connections
        return ModelOutcome("down", reason=f"{type(exc).__name__}: {exc}")
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code == "ModelError":
        original = exc.response.get("OriginalStatusCode")
        message = exc.response.get("OriginalMessage") or error.get("Message") or "the model refused the request"
        if isinstance(original, int) and 400 <= original < 500:
            return ModelOutcome("refused", status=original, body=message.encode("utf-8"))
        return ModelOutcome("down", reason=f"ModelError (model status {original}): {message}"[:500])
    if code in THROTTLING_CODES or status == 429:
        return ModelOutcome("down", reason=f"throttled ({code or status})")
    return ModelOutcome("down", reason=f"{code or 'HTTP ' + str(status)} ({status}): {error.get('Message', '')}"[:500])


def invoke_model(config: FallbackConfig, body: bytes) -> ModelOutcome:
    """Send the request's bytes unchanged to the endpoint, once."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = client("sagemaker-runtime", config).invoke_endpoint(
            EndpointName=config.endpoint_name, ContentType=JSON_CONTENT_TYPE, Body=body)
        data = answer["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        return classify_error(exc)
    return ModelOutcome("answer", body=data, content_type=answer.get("ContentType") or JSON_CONTENT_TYPE)
