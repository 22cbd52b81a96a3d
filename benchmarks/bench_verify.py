"""Benchmark of ``mlp verify``: resolved capture and checks against the ordinary capture.

Run::

    .venv/bin/python benchmarks/bench_verify.py [--sizes 10,50] [--repeat 1]

For each size N: ``benchmarks/synthetic.py`` writes N team specs for the ``dev`` stack and,
in this one process after a 2-team warm-up, three things are timed (best of ``--repeat``,
median in brackets):

* **capture**: ``capture_stack('dev', teams_dir=...)``, the ordinary plan (``mlp plan``);
* **resolved**: ``capture_resolved('dev', teams_dir=...)``, the same program under the
  apply-time mocks, with simulated paths marked (``mlp plan --resolve``);
* **checks**: ``verify()`` on the resolved plan: every checker registered in
  ``mlplatform/verify/checkers.py`` (seconds per checker are printed too) and the
  suppressions.

Both ratios are to the ordinary capture: targets **resolved/capture <= 1.1** and
**checks/capture < 0.5**; they are printed for wall time and for this process's CPU
time (steadier when other jobs share the machine). The warm-up loads botocore's service models once (the first
acceptance run of a process pays it), as ``mlp verify`` pays it once per run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import write_teams  # noqa: E402
from mlplatform.capture import capture_stack  # noqa: E402
from mlplatform.stackconfig import load_stack_config  # noqa: E402
from mlplatform.verify.resolve import capture_resolved  # noqa: E402
from mlplatform.verify.runner import verify  # noqa: E402
from mlplatform.verify.suppressions import load_suppressions  # noqa: E402


def timed(fn, repeat: int):
    """(best wall s, median wall s, result, best CPU s): CPU time is the steadier figure on
    a shared machine (other jobs stretch wall time, not this process's CPU time)."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(times), statistics.median(times), result, min(cpu)


def measure(teams: int, repeat: int) -> dict:
    suppressions = load_suppressions()
    with tempfile.TemporaryDirectory() as folder:
        write_teams(Path(folder), teams)
        stack = load_stack_config("dev", teams_dir=folder)
        capture = timed(lambda: capture_stack("dev", teams_dir=folder), repeat)
        resolved = timed(lambda: capture_resolved("dev", teams_dir=folder, stack_config=stack), repeat)
        graph = resolved[2]
        checks = timed(lambda: verify(graph, stack, suppressions), repeat)
    report = checks[2]
    return {
        "teams": teams, "resources": len(graph), "capture": capture[:2], "resolved": resolved[:2],
        "checks": checks[:2], "resolved_ratio": resolved[0] / capture[0], "checks_ratio": checks[0] / capture[0],
        "per_checker": report.stats["seconds"], "counts": report.counts(),
        "cpu": (capture[3], resolved[3], checks[3]),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,50")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    measure(2, 1)  # warm-up: lazy imports, botocore models, first-use caches
    print(f"{'teams':>6} {'resources':>9} {'capture s':>16} {'resolved s':>16} {'checks s':>16} "
          f"{'resolved/capture':>16} {'checks/capture':>14}")
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size, args.repeat)

        def cell(pair):
            return f"{pair[0]:.3f} ({pair[1]:.3f})"

        print(f"{row['teams']:>6} {row['resources']:>9} {cell(row['capture']):>16} {cell(row['resolved']):>16} "
              f"{cell(row['checks']):>16} {row['resolved_ratio']:>16.2f} {row['checks_ratio']:>14.3f}")
        capture_cpu, resolved_cpu, checks_cpu = row["cpu"]
        print(f"       CPU s: capture {capture_cpu:.3f}, resolved {resolved_cpu:.3f}, checks {checks_cpu:.3f}; "
              f"ratios {resolved_cpu / capture_cpu:.2f} and {checks_cpu / capture_cpu:.3f}")
        checkers = ", ".join(f"{name} {seconds:.3f}s" for name, seconds in row["per_checker"].items())
        print(f"       checkers: {checkers}; results {row['counts']}")
    print("best of --repeat runs, median in brackets; targets: resolved/capture <= 1.1, checks/capture < 0.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
