"""Added latency of the serving fallback Lambda on the happy path (the model answers).

Everything runs on 127.0.0.1 in this process: the loopback InvokeEndpoint server of
``tests/test_fallback_handler.py`` (answers at once) and a moto server for DynamoDB. Three
ways of getting the same answer are timed, interleaved call by call so that load on the
machine hits them alike:

* **direct**: ``invoke_endpoint`` with a boto3 client configured as the handler's
  (the cost of the call itself, the baseline);
* **handler, no cache**: ``handler(event)`` in ``static`` mode (event decoding, schema
  check, the same call, response building; nothing written);
* **handler + cache**: ``handler(event)`` in ``lastKnownGood`` mode (also ``PutItem`` of
  the answer to moto; keys cycle over 1,000 customers).

It prints p50/p95/p99/mean of each, the handler's figures minus direct's, and the
handler's own CPU work without any I/O (read_body + parse_request + building the
response). Client creation and the config read (the cold start) are outside the timings:
a warm-up runs first. The moto PutItem is moto's CPU time over loopback, not DynamoDB's
in-region latency; read it as an upper bound of the write's local cost.

    .venv/bin/python benchmarks/bench_fallback.py --calls 1000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer
from werkzeug.serving import WSGIRequestHandler

from mlplatform.runtime.fallback import config as fallback_config
from mlplatform.runtime.fallback import contract, entry, environment, responses
from mlplatform.runtime.fallback import request as request_schema
from tests.helpers.fake_sagemaker import FakeModel  # the wire protocol lives in one place

ENDPOINT = "bench-scorer"
TABLE = "bench-fallback-cache"
FIELDS = [{"name": "customer_id", "type": "string", "required": True},
          {"name": "amount", "type": "number", "required": True},
          {"name": "country", "type": "string", "required": False},
          {"name": "items", "type": "integer", "required": False}]


def request(i: int) -> dict:
    return {"customer_id": f"C-{i % 1000}", "amount": 10.0 + i % 500, "country": "DE", "items": i % 7,
            "features": [round(0.001 * k * (i % 13), 4) for k in range(32)]}


def event(i: int) -> dict:
    return {"resource": "/", "path": "/", "httpMethod": "POST", "isBase64Encoded": False,
            "headers": {"Content-Type": "application/json"}, "body": json.dumps(request(i))}


def write_config(directory: str, mode: str) -> str:
    config = {"endpointName": ENDPOINT, "team": "bench", "mode": mode, "timeoutMs": 2000, "requestFields": FIELDS}
    if mode == "lastKnownGood":
        config["cache"] = {"table": TABLE, "keyField": "customer_id", "ttlSeconds": 3600}
    else:
        config["response"] = {"score": 0.5}
    path = os.path.join(directory, f"{mode}.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config, handle)
    return path


class HandlerInstance:
    """One warm execution environment of the handler (its own config and clients)."""

    def __init__(self, config_path: str, events: list[dict]):
        self.events = events
        os.environ[contract.CONFIG_ENV] = config_path
        environment.reset()
        self.config = environment.current_config()
        self.clients = {name: environment.client(name, self.config) for name in ("sagemaker-runtime", "dynamodb", "cloudwatch")}

    def __call__(self, i: int) -> dict:
        environment._config = self.config  # switch the module's warm state to this environment
        environment._clients.clear()
        environment._clients.update(self.clients)
        return entry.handler(self.events[i], None)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "mean": statistics.fmean(ordered) * 1000}


def own_work(calls: int) -> float:
    """Mean ms of the handler's CPU work around the call: decode, validate, build the answer."""
    fields = fallback_config.load_config(os.environ[contract.CONFIG_ENV]).request_fields
    answer = json.dumps({"score": 0.91, "label": "legit"}).encode()
    events = [event(i) for i in range(calls)]
    start = time.perf_counter()
    for item in events:
        request_schema.parse_request(request_schema.read_body(item), fields)
        responses.body_response(200, answer, "application/json")
    return (time.perf_counter() - start) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="timed calls of each kind")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls of each kind first")
    args = parser.parse_args()

    # moto's werkzeug server writes headers and body separately on a socket with Nagle on,
    # so a small answer waits for the client's delayed ACK (~40 ms on Linux): an artefact
    # of the test server that DynamoDB does not have
    WSGIRequestHandler.disable_nagle_algorithm = True
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    model = FakeModel(ENDPOINT).start()
    os.environ.update({"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": model.url,
                       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "eu-west-1"})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    boto3.client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": contract.CACHE_KEY_ATTRIBUTE, "AttributeType": "S"}],
        KeySchema=[{"AttributeName": contract.CACHE_KEY_ATTRIBUTE, "KeyType": "HASH"}])
    try:
        with tempfile.TemporaryDirectory() as directory:
            direct_client = boto3.client("sagemaker-runtime", config=Config(
                read_timeout=2.0, connect_timeout=environment.CONNECT_TIMEOUT_SECONDS,
                retries={"mode": "standard", "total_max_attempts": 1}))

            total = args.warmup + args.calls
            events = [event(i) for i in range(total)]  # built before the clock starts
            bodies = [item["body"].encode() for item in events]

            def direct(i: int) -> None:
                direct_client.invoke_endpoint(EndpointName=ENDPOINT, ContentType="application/json",
                                              Body=bodies[i])["Body"].read()

            kinds = list({"direct": direct,
                          "handler, no cache": HandlerInstance(write_config(directory, "static"), events),
                          "handler + cache": HandlerInstance(write_config(directory, "lastKnownGood"), events),
                          }.items())
            samples: dict[str, list[float]] = {name: [] for name, _ in kinds}
            for i in range(total):
                # interleaved, one call of each kind in turn, the order rotating every round
                for name, run in kinds[i % 3:] + kinds[:i % 3]:
                    start = time.perf_counter()
                    result = run(i)
                    elapsed = time.perf_counter() - start
                    if isinstance(result, dict) and result["statusCode"] != 200:
                        raise SystemExit(f"{name} answered {result['statusCode']}: {result['body']}")
                    if i >= args.warmup:
                        samples[name].append(elapsed)
            cached = boto3.client("dynamodb").scan(TableName=TABLE, Select="COUNT")["Count"]
            work = own_work(args.calls)
    finally:
        model.stop()
        moto.stop()

    figures = {name: percentiles(values) for name, values in samples.items()}
    print(f"{args.calls} calls of each kind after {args.warmup} warm-up calls; model and moto on 127.0.0.1")
    print(f"{'':<20}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for name, figure in figures.items():
        print(f"{name:<20}" + "".join(f"{figure[q]:>9.2f}" for q in ("p50", "p95", "p99", "mean")))
    for name in ("handler, no cache", "handler + cache"):
        added = {q: figures[name][q] - figures["direct"][q] for q in ("p50", "p95", "p99", "mean")}
        print(f"{'added: ' + name:<28}" + "".join(f" {q} {added[q]:+.2f}" for q in ("p50", "p95", "p99", "mean")))
    print(f"handler's own CPU work (no I/O): {work * 1000:.1f} us per call; cache items written: {cached}")


if __name__ == "__main__":
    main()
