"""Benchmark of the drift Lambda's work per window, to size its memory and timeout.

Parses N synthetic SageMaker data-capture lines (CSV and JSON responses, JSON requests
with a group attribute), then computes the KS statistic, PSI and demographic parity
against a 10,000-value baseline: the handler's CPU work without S3 and CloudWatch
round trips. Prints lines/s and the time each step takes; the component gives the
function a 300 s timeout and 512 MB.

    .venv/bin/python benchmarks/bench_drift.py --lines 10000,100000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlplatform.runtime import drift_handler as dh  # noqa: E402


def capture_lines(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        score = rng.betavariate(2, 5)
        if i % 2:
            output = {"observedContentType": "text/csv", "mode": "OUTPUT", "data": f"{score}", "encoding": "CSV"}
        else:
            output = {"observedContentType": "application/json", "mode": "OUTPUT",
                      "data": json.dumps({"predictions": [score]}), "encoding": "JSON"}
        request = {"amount": rng.random() * 500, "customer_age_band": rng.choice(["18-25", "26-40", "41-65", "65+"])}
        lines.append(json.dumps({"captureData": {
            "endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                              "data": json.dumps(request), "encoding": "JSON"},
            "endpointOutput": output}, "eventMetadata": {"eventId": str(i)}, "eventVersion": "0"}))
    return lines


def run(count: int) -> dict[str, float]:
    """Timings of one untraced pass, then the peak traced allocation of a second pass."""
    lines = capture_lines(count)
    baseline = [random.Random(1).betavariate(2, 5) for _ in range(10_000)]
    timings = measure(lines, baseline)
    tracemalloc.start()
    measure(lines, baseline)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {**timings, "peak_mib": peak / 2**20}


def measure(lines: list[str], baseline: list[float]) -> dict[str, float]:
    start = time.perf_counter()
    predictions: list[float] = []
    groups: list[str] = []
    for line in lines:
        p, g = dh.parse_line(line, "customer_age_band")
        predictions.extend(p)
        groups.extend(g or [])
    parsed = time.perf_counter()
    dh.ks_statistic(predictions, baseline)
    ks = time.perf_counter()
    dh.psi(predictions, baseline)
    psi = time.perf_counter()
    dh.parity_difference(predictions, groups, 0.5)
    parity = time.perf_counter()
    return {"parse": parsed - start, "ks": ks - parsed, "psi": psi - ks, "parity": parity - psi,
            "total": parity - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="10000,100000", help="capture lines per window (comma separated)")
    args = parser.parse_args()
    print(f"{'lines':>8}  {'parse':>8}  {'ks':>8}  {'psi':>8}  {'parity':>8}  {'total':>8}  {'lines/s':>9}  {'peak MiB':>8}")
    for count in (int(n) for n in args.lines.split(",")):
        r = run(count)
        print(f"{count:>8}  {r['parse']:>7.2f}s  {r['ks']:>7.3f}s  {r['psi']:>7.3f}s  {r['parity']:>7.3f}s  "
              f"{r['total']:>7.2f}s  {count / r['total']:>9,.0f}  {r['peak_mib']:>8.1f}")


if __name__ == "__main__":
    main()
