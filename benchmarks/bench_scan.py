"""Benchmark of ``mlp scan``: checkov on the example estate and on synthetic estates.

Run::

    .venv/bin/python benchmarks/bench_scan.py [--sizes 500] [--stack prod]

For the example estate (``--stack``, default prod) and for each synthetic size N (teams
written by ``benchmarks/synthetic.py``, planned on the ``dev`` stack, which they fit), it
prints: resources in the graph, resources scanned, checkov checks run, and the wall time
of each step: capture (the offline plan), translate (Terraform plan JSON + manifests) and
checkov (the subprocess: start-up, parsing, graph building, checks). checkov's own venv
is built first if it is missing, outside the timings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mlplatform.capture import capture_stack  # noqa: E402
from mlplatform.checkov.environment import checkov_executable  # noqa: E402
from mlplatform.checkov.runner import scan  # noqa: E402
from mlplatform.checkov.skips import load_skips  # noqa: E402
from synthetic import write_teams  # noqa: E402


def measure(label: str, stack: str, teams_dir: str | None, executable: str) -> None:
    started = time.perf_counter()
    graph = capture_stack(stack, teams_dir=teams_dir)
    captured = time.perf_counter() - started
    report = scan(graph, load_skips(), executable=executable)
    seconds = report.stats["seconds"]
    counts = report.counts()
    checks = counts["passed"] + counts["failed"] + counts["skipped"]
    print(f"{label:<28} {len(graph):>8} {report.stats['resourcesScanned']:>8} {checks:>8} "
          f"{captured:>9.2f} {seconds['translate']:>10.2f} {seconds['checkov']:>9.2f} "
          f"{seconds['translate'] + seconds['checkov']:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500", help="comma-separated synthetic team counts (default 500)")
    parser.add_argument("--stack", default="prod", help="stack of the example estate (default prod)")
    args = parser.parse_args()
    executable = checkov_executable()
    print(f"{'estate':<28} {'graph':>8} {'scanned':>8} {'checks':>8} {'capture s':>9} {'translate s':>10} "
          f"{'checkov s':>9} {'scan s':>9}")
    measure(f"example ({args.stack})", args.stack, None, executable)
    for size in [int(item) for item in args.sizes.split(",") if item]:
        with tempfile.TemporaryDirectory(prefix="mlp-bench-scan-") as folder:
            write_teams(folder, size)
            measure(f"synthetic {size} teams (dev)", "dev", folder, executable)


if __name__ == "__main__":
    main()
