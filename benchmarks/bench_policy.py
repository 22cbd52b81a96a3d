"""Benchmark: policy evaluation time of ``mlp policy`` relative to plan capture time.

Run::

    .venv/bin/python benchmarks/bench_policy.py [--sizes 10,100,500] [--repeat 1]

For each N, synthetic teams (``benchmarks/synthetic.py``) are written to a temporary
folder and the ``dev`` stack is planned from them:

* **capture**: ``capture_stack('dev', teams_dir=...)`` — what ``mlp plan`` runs;
* **policy**: the offline policy run on that plan — building the pack config from the stack
  and specs, then GetAnalyzerInfo, Configure, ConfigureStack, one Analyze per resource and
  one AnalyzeStack, and mapping the diagnostics to findings — against a pack already
  running (its start-up, about a second, is printed separately as a fixed cost);
* **ratio** = policy / capture (target: under 0.25).

Best of ``--repeat`` runs; ``--jobs N`` uses N pack processes (``mlp policy --jobs``). Run
it on an otherwise idle machine: both sides are CPU-bound and the ratio moves with load.

Where the policy time goes (100 teams, 8,817 resources, one pack process, CPU seconds of
the pack): Remediate ~4.3 (nothing to remediate: the cost is the gRPC server's per-call
work, ~0.5 ms a call), Analyze ~11 (the same per-call cost, pulumi-policy building the
arguments of each of the 15 resource policies, our rules), AnalyzeStack ~14 (mostly
pulumi-policy rebuilding every resource and its dependency links once per stack policy,
14 times). Our client (request building, gRPC client, findings) adds ~8 s on the other
core. ``policies/analyzer_fastpath.py`` already removes the library's repeated decoding.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import write_teams  # noqa: E402

from mlplatform.capture import capture_stack  # noqa: E402
from mlplatform.policy.runner import check  # noqa: E402
from mlplatform.policy.server import PackPool, PackServer  # noqa: E402
from mlplatform.stackchecks import selected_specs  # noqa: E402
from mlplatform.stackconfig import load_stack_config  # noqa: E402


def measure(size: int, repeat: int, server: PackServer) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        write_teams(Path(folder), size)
        captures, policies = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            graph = capture_stack("dev", teams_dir=folder)
            captures.append(time.perf_counter() - started)
            started = time.perf_counter()
            stack = load_stack_config("dev", teams_dir=folder)
            report = check(server, graph, stack, selected_specs(stack), datetime.date.today())
            policies.append(time.perf_counter() - started)
        counts = report.counts()
        return {"teams": size, "resources": len(graph), "capture": min(captures), "policy": min(policies),
                "failed": counts["failed"], "blocking": len(report.blocking)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,500")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="pack processes (mlp policy --jobs)")
    args = parser.parse_args()
    started = time.perf_counter()
    server = PackServer(stack="dev") if args.jobs == 1 else PackPool(args.jobs, stack="dev")
    server.info()
    print(f"pack processes: {args.jobs}")
    print(f"pack start-up (fixed cost, not in the ratio): {time.perf_counter() - started:.2f}s")
    print(f"{'teams':>6} {'resources':>10} {'capture s':>10} {'policy s':>9} {'ratio':>6} {'failed':>7} {'mandatory':>9}")
    try:
        for size in (int(item) for item in args.sizes.split(",")):
            row = measure(size, args.repeat, server)
            print(f"{row['teams']:>6} {row['resources']:>10} {row['capture']:>10.2f} {row['policy']:>9.2f} "
                  f"{row['policy'] / row['capture']:>6.2f} {row['failed']:>7} {row['blocking']:>9}", flush=True)
    finally:
        server.close()


if __name__ == "__main__":
    main()
