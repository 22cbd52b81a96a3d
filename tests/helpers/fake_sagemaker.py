"""A SageMaker runtime (InvokeEndpoint) on 127.0.0.1 that answers or fails on demand.

moto's sagemaker-runtime cannot fail on demand, so the fallback Lambda's tests and its
benchmark (benchmarks/bench_fallback.py) talk to this server: the restJson wire protocol
of ``POST /endpoints/{name}/invocations`` as botocore's sagemaker-runtime model
describes it, with the errors the API documents.
"""

from __future__ import annotations

import json
import time
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

#: What the model answers when it is up.
MODEL_ANSWER = {"score": 0.91, "label": "legit"}
#: How long a "slow" answer takes (past every timeout the tests set).
SLOW_SECONDS = 2.0


class FakeModel:
    """A SageMaker runtime for one endpoint whose next answers the test chooses.

    ``mode`` is used for every call unless ``script`` (a list, consumed in order) says
    otherwise. Every request is recorded as (path, headers, body).
    """

    ERRORS: ClassVar[dict] = {  # mode -> (HTTP status, error code, modeled members)
        "throttle": (429, "ThrottlingException", {"message": "Rate exceeded"}),
        "not_ready": (429, "ModelNotReadyException", {"Message": "Model is loading"}),
        "model500": (424, "ModelError", {"Message": "Received server error (500) from primary",
                                         "OriginalStatusCode": 500, "OriginalMessage": "CUDA out of memory",
                                         "LogStreamArn": "arn:aws:logs:eu-west-1:123456789012:log-group:x"}),
        "model400": (424, "ModelError", {"Message": "Received client error (400) from primary",
                                         "OriginalStatusCode": 400,
                                         "OriginalMessage": '{"detail": "amount out of range"}'}),
        "model_no_status": (424, "ModelError", {"Message": "Model container crashed"}),
        "unavailable": (503, "ServiceUnavailable", {"Message": "Service unavailable"}),
        "internal": (500, "InternalFailure", {"Message": "Internal failure"}),
        "dependency": (530, "InternalDependencyException", {"Message": "Dependency failed"}),
        "access_denied": (403, "AccessDeniedException", {"Message": "not authorized to perform InvokeEndpoint"}),
    }

    def __init__(self, endpoint_name: str = "unset"):
        self.endpoint_name = endpoint_name
        self.mode = "ok"
        self.script: list[str] = []
        self.answer_body = json.dumps(MODEL_ANSWER).encode()
        self.answer_type = "application/json"
        self.requests: list[tuple[str, dict, bytes]] = []
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real API
            # one write per response (flushed after each request) and no Nagle: otherwise the
            # body waits for the client's delayed ACK of the headers, ~40 ms on Linux
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                model.requests.append((self.path, dict(self.headers), body))
                mode = model.script.pop(0) if model.script else model.mode
                expected = f"/endpoints/{model.endpoint_name}/invocations"
                if self.path != expected:  # what the real API says for an unknown endpoint
                    name = self.path.split("/")[2] if self.path.count("/") >= 3 else self.path
                    return self.error(400, "ValidationError",
                                      {"Message": f"Endpoint {name} of account 123456789012 not found."})
                if mode == "drop":
                    self.close_connection = True
                    return None
                if mode == "slow":
                    time.sleep(SLOW_SECONDS)
                    mode = "ok"
                if mode in model.ERRORS:
                    return self.error(*model.ERRORS[mode])
                assert mode == "ok", mode
                return self.reply(200, model.answer_body, {"Content-Type": model.answer_type,
                                                            "x-Amzn-Invoked-Production-Variant": "primary"})

            def error(self, status, code, members):
                headers = {"Content-Type": "application/json",
                           "X-Amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazonaws.sagemaker/"}
                self.reply(status, json.dumps(members).encode(), headers)

            def reply(self, status, body, headers):
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeModel:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fresh(self, endpoint_name: str) -> FakeModel:
        self.endpoint_name, self.mode, self.script = endpoint_name, "ok", []
        self.answer_body, self.answer_type = json.dumps(MODEL_ANSWER).encode(), "application/json"
        self.requests = []
        return self
