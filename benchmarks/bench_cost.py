"""Benchmark of ``mlp cost``: pricing time against plan capture time on synthetic estates.

Run::

    .venv/bin/python benchmarks/bench_cost.py [--sizes 500] [--repeat 3] [--region eu-west-1]

For each size N: ``benchmarks/synthetic.py`` writes N team specs; the plan is captured
once with ``capture_stack('dev', teams_dir=...)`` (what ``mlp plan`` / ``mlp cost`` run
before pricing; timed ``--repeat`` times, best shown). Pricing is then timed on that
graph, as ``mlp cost --graph`` runs it after reading the file:

* **specs**: ``load_team_contexts``: each team's spec found through its resources'
  ``spec`` tag, read, validated and merged for the environment (the usage source);
* **price**: ``price_graph``: every resource to lines, budgets, endpoint metrics;
* **render**: budgets, the 12-month forecast and the Markdown and JSON reports.

The ratio **cost / capture** (total of the three over the capture time) is the figure
the issue targets (< 0.1). Both sides run in this one process after a 2-team warm-up, with
the collector as the product runs it (``quiet_collector``) for capture; the best of
``--repeat`` runs is reported, the median next to it.
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
from mlplatform.cost.budget import check_budgets  # noqa: E402
from mlplatform.cost.catalogue import load_catalogue  # noqa: E402
from mlplatform.cost.attribution import load_team_contexts  # noqa: E402
from mlplatform.cost.engine import price_graph  # noqa: E402
from mlplatform.cost.report import render_json, render_markdown  # noqa: E402
from mlplatform.stackconfig import load_stack_config  # noqa: E402


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def measure(teams: int, repeat: int, region: str) -> dict:
    stack = load_stack_config("dev")
    catalogue = load_catalogue()
    with tempfile.TemporaryDirectory() as folder:
        write_teams(Path(folder), teams)
        capture_best, capture_median, graph = timed(lambda: capture_stack("dev", teams_dir=folder), repeat)
        specs_best, specs_median, loaded = timed(lambda: load_team_contexts(graph, stack.environment), repeat)
        contexts, warnings = loaded
        price_best, price_median, report = timed(
            lambda: price_graph(graph, catalogue, region, stack.environment, contexts, warnings), repeat)

        def render():
            budgets = check_budgets(report)
            return render_markdown(report, budgets), render_json(report, budgets)

        render_best, render_median, _ = timed(render, repeat)
    cost_best = specs_best + price_best + render_best
    return {
        "teams": teams, "resources": len(graph), "lines": len(report.lines),
        "unknown": len(report.unknown()), "total": report.total(),
        "capture": (capture_best, capture_median), "specs": (specs_best, specs_median),
        "price": (price_best, price_median), "render": (render_best, render_median),
        "cost": cost_best, "ratio": cost_best / capture_best,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="500")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--region", default="eu-west-1", help="region to price in (dev deploys to eu-west-1)")
    args = parser.parse_args(argv)
    measure(2, 1, args.region)  # warm-up: lazy imports and first-use caches
    print(f"{'teams':>6} {'resources':>9} {'lines':>6} {'capture s':>16} {'specs s':>14} {'price s':>14} "
          f"{'render s':>14} {'cost/capture':>12}")
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size, args.repeat, args.region)

        def cell(pair):
            return f"{pair[0]:.3f} ({pair[1]:.3f})"

        print(f"{row['teams']:>6} {row['resources']:>9} {row['lines']:>6} {cell(row['capture']):>16} "
              f"{cell(row['specs']):>14} {cell(row['price']):>14} {cell(row['render']):>14} {row['ratio']:>12.3f}")
        print(f"       priced in {args.region}: ${row['total']:,.2f}/month known, {row['unknown']} unknown line(s)")
    print("best of --repeat runs, median in brackets; cost = specs + price + render")
    return 0


if __name__ == "__main__":
    sys.exit(main())
