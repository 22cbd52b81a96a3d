"""Benchmark of ``mlp validate`` and the offline plan (capture) over synthetic teams.

Run::

    .venv/bin/python benchmarks/bench_plan.py [--sizes 10,100,500] [--validate-count 1000]
                                              [--repeat 3] [--profile 100] [--no-tracemalloc]

What is measured
----------------
* **validate**: ``load_specs`` on a folder of ``--validate-count`` synthetic specs (plus,
  separately, ``stack_issues`` against ``dev``), timed in a fresh worker process after
  imports; and ``mlp validate --stack dev FOLDER`` end to end as a subprocess (wall time,
  interpreter start and imports included). ``mlp validate`` on a single spec is shown as
  the fixed start-up cost.
* **plan** for each N: ``capture_stack('dev', teams_dir=FOLDER)``, the exact call behind
  ``mlp plan --stack dev --teams FOLDER``: stack config, spec loading and validation,
  stack checks, the program (Team components and their resources) under our recording
  mock monitor, and the graph post-processing (sources, effective tags).
* **baseline** for each N: the same custom resources (type, name and recorded inputs of
  every custom resource in the captured graph, providers included) registered through
  the bare Pulumi mock runtime: ``set_mocks`` with a trivial ``Mocks`` returning
  ``("", inputs)``, the SDK's own ``MockMonitor``, ``preview=True``, one
  ``pulumi.CustomResource(type, name, inputs)`` per resource (``pulumi.ProviderResource``
  for ``pulumi:providers:*``, which is how the SDK registers a provider), run with
  ``run_pulumi_func`` / ``_sync_await`` in a fresh ``contextvars.Context()`` and a fresh
  event loop, as ``mlplatform/capture.py`` does. No components, no spec loading, no
  recording, no post-processing. The overhead ratio is ours / this baseline.
* **baseline(subclass)**: the same, but each resource goes through a trivial
  ``CustomResource`` subclass, which is what a provider class such as ``aws.s3.Bucket``
  is to the SDK (minus its typed arguments). Shown because the SDK records a creation
  stack trace only for resources built through a subclass (its "third ``__init__``"
  heuristic), so the bare-``CustomResource`` baseline skips a cost every real program
  pays.

Fairness
--------
Both sides are measured the same way: each (side, N) runs in its **own fresh
subprocess** of the same interpreter. The worker first imports what its side needs
(import time is reported but not counted), then does **one warm-up** of the same kind
of work at a tiny size (2 teams, or the baseline resources of 2 teams) so first-call
costs that any long-lived process pays once (pulumi_aws' lazily imported submodules,
pydantic/protobuf first-use caches) are not charged to either side; the cold first
capture is reported separately. The baseline worker also imports our modules and runs
the same 2-team capture once (result dropped, nothing of it used later), so both
processes hold the same static heap: about 40% of both sides' time is spent in the
cyclic garbage collector, whose full collections walk that whole heap, and a baseline
without pulumi_aws loaded would look cheaper for a reason that has nothing to do with
our layers. Time in the collector is measured with ``gc.callbacks`` and shown per side. Then the work is timed ``--repeat`` times (each
repetition in a fresh context and event loop) and the **minimum** is reported (median
alongside). Fresh processes keep one side's heap and caches from helping or hurting the
other and make the memory figures clean.

Memory
------
``peak RSS delta``: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the first timed
run minus the same figure taken just before it (after imports, warm-up and
``gc.collect()``), in the same fresh worker: the growth of the process' peak resident
set caused by one capture of N teams (graph retained at the end, so it is included).
``tracemalloc peak`` (unless ``--no-tracemalloc``): peak of Python allocations traced
during one extra, untimed run in another fresh worker (tracemalloc slows the run, so it
never overlaps a timed one). Both are divided by the number of resources so linearity
can be judged.

Split of our time
-----------------
In the worker for our side, a few functions are wrapped (instrumentation only, nothing in
the product changes): ``program.stack_config_from_pulumi`` and ``program.selected_specs``
(= stack config + spec loading + validation + stack checks), ``program.build_estate``
(Python-side construction of the components; the SDK registers resources asynchronously,
so most registration work happens after it returns), ``RecordingMonitor._record`` (CPU
time of our per-registration recording, in the SDK's executor threads) and
``capture.resolve_sources`` / ``capture.resolve_effective_tags`` (graph post-processing).
``SDK registration`` is the remainder: total - specs - build_estate - record - post.

``--profile N`` runs cProfile over one warm capture of N teams in a fresh worker (and
over the baseline for the same resources in another) and prints the top cumulative
entries of our code (mlplatform/, components/) and of the Pulumi SDK, own time by
package for both sides, and the SDK's hot functions side by side. cProfile charges a
garbage-collector pause to whatever function allocated when it struck, so own times of
allocation-heavy functions (asyncio handles, Output) include part of the GC time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synthetic import team_name, write_teams  # noqa: E402

WARMUP_TEAMS = 2


# ============================================================ worker side (fresh processes)

def _maxrss_kib() -> int:
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss // 1024 if sys.platform == "darwin" else rss  # Linux reports KiB, macOS bytes


def _fresh_loop_run(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a fresh contextvars context with a private event loop (as capture does)."""
    import asyncio
    import contextvars

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return contextvars.Context().run(fn)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


class _GcClock:
    """Wall time spent in the cyclic garbage collector (via ``gc.callbacks``)."""

    def __init__(self) -> None:
        import gc

        self.total = 0.0
        self.collections = [0, 0, 0]
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def reset(self) -> None:
        self.total, self.collections = 0.0, [0, 0, 0]

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start
            self.collections[info["generation"]] += 1


def _timed_runs(run: Callable[[], Any], repeat: int, on_first: Callable[[Any], None] = lambda _: None) -> dict:
    import gc

    gc.collect()
    rss_before = _maxrss_kib()
    clock = _GcClock()
    times, gc_times, gc_counts = [], [], []
    for i in range(repeat):
        clock.reset()
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
        gc_times.append(clock.total)
        gc_counts.append(list(clock.collections))
        if i == 0:
            rss_after = _maxrss_kib()
            on_first(result)
        del result
        gc.collect()
    return {"times": times, "gc_times": gc_times, "gc_counts": gc_counts,
            "rss_before_kib": rss_before, "rss_delta_kib": rss_after - rss_before}


def _tracemalloc_peak(run: Callable[[], Any]) -> int:
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak


def worker_validate(args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    from mlplatform.spec.loader import load_specs
    from mlplatform.stackchecks import stack_issues
    from mlplatform.stackconfig import load_stack_config

    imports = time.perf_counter() - t0
    import gc

    load_specs([args.warmup])  # first-use caches, as for the plan workers
    gc.collect()
    clock = _GcClock()
    loads, checks, gc_times = [], [], []
    for _ in range(args.repeat):
        clock.reset()
        start = time.perf_counter()
        result = load_specs([args.folder])
        loads.append(time.perf_counter() - start)
        gc_times.append(clock.total)
        stack = load_stack_config("dev", teams_dir=args.folder)
        start = time.perf_counter()
        issues = stack_issues(result.specs, stack)
        checks.append(time.perf_counter() - start)
        specs, problems = len(result.specs), len(result.issues) + len(issues)
        del result, issues
        gc.collect()  # the next repetition starts from the same heap
    return {"imports": imports, "load": loads, "stack_checks": checks, "gc": gc_times, "specs": specs,
            "issues": problems}


class _Split:
    """Accumulates time spent in wrapped functions (instrumentation of our side)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}

    def reset(self) -> None:
        self.totals = {}

    def wrap(self, key: str, fn: Callable, clock: Callable[[], float] = time.perf_counter) -> Callable:
        def wrapped(*a, **kw):
            start = clock()
            try:
                return fn(*a, **kw)
            finally:
                # float += under the GIL; recording runs in executor threads, so keep it simple
                self.totals[key] = self.totals.get(key, 0.0) + (clock() - start)

        return wrapped


def _instrument() -> _Split:
    import mlplatform.capture as capture
    import mlplatform.program as program

    split = _Split()
    program.stack_config_from_pulumi = split.wrap("specs", program.stack_config_from_pulumi)
    program.selected_specs = split.wrap("specs", program.selected_specs)
    program.build_estate = split.wrap("build_estate", program.build_estate)
    capture.resolve_sources = split.wrap("post", capture.resolve_sources)
    capture.resolve_effective_tags = split.wrap("post", capture.resolve_effective_tags)
    # per-thread CPU time: registrations are recorded in the SDK's executor threads
    capture.RecordingMonitor._record = staticmethod(
        split.wrap("record", capture.RecordingMonitor._record, clock=time.thread_time)
    )
    return split


def worker_ours(args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    from mlplatform.capture import capture_stack

    imports = time.perf_counter() - t0
    split = _instrument() if not (args.tracemalloc or args.profile) else None
    start = time.perf_counter()
    capture_stack("dev", teams_dir=args.warmup)
    cold = time.perf_counter() - start

    def run():
        return capture_stack("dev", teams_dir=args.folder)

    if args.tracemalloc:
        return {"tracemalloc_peak": _tracemalloc_peak(run)}
    if args.profile:
        return _profile(run, args.profile_out)

    facts: dict[str, Any] = {}
    splits: list[dict[str, float]] = []

    def measured():
        split.reset()
        graph = run()
        splits.append(dict(split.totals))
        return graph

    def on_first(graph) -> None:
        facts["resources"] = len(graph)
        facts["custom"] = sum(1 for r in graph.resources.values() if r.custom)
        if args.dump:
            rows = [[r.type, r.name, r.inputs] for r in graph if r.custom]
            Path(args.dump).write_text(json.dumps(rows), encoding="utf-8")

    timing = _timed_runs(measured, args.repeat, on_first)
    best = min(range(len(timing["times"])), key=lambda i: timing["times"][i])
    return {"imports": imports, "cold_warmup": cold, **timing, **facts, "split": splits[best], "best": best}


def _baseline_program(rows: list, subclass: bool) -> Callable[[], None]:
    import pulumi

    if subclass:
        class Resource(pulumi.CustomResource):
            """What a provider class (aws.s3.Bucket, ...) is to the SDK, minus its typed arguments."""

            def __init__(self, t: str, name: str, props: dict) -> None:
                super().__init__(t, name, props)

        class Provider(pulumi.ProviderResource):
            def __init__(self, pkg: str, name: str, props: dict) -> None:
                super().__init__(pkg, name, props)

        custom, provider = Resource, Provider
    else:
        custom, provider = pulumi.CustomResource, pulumi.ProviderResource

    def program() -> None:
        for type_, name, inputs in rows:
            if type_.startswith("pulumi:providers:"):
                provider(type_[len("pulumi:providers:"):], name, inputs)
            else:
                custom(type_, name, inputs)

    return program


def worker_baseline(args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    import pulumi
    from pulumi.runtime.mocks import Mocks, set_mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    imports = time.perf_counter() - t0

    class TrivialMocks(Mocks):
        def new_resource(self, args):
            return "", dict(args.inputs)

        def call(self, args):
            return {}, None

    # Same process state as our worker: the same modules imported and the same 2-team
    # capture run once (its result dropped), so the garbage collector walks the same
    # static heap on both sides. None of it is used below.
    from mlplatform.capture import capture_stack

    capture_stack("dev", teams_dir=args.warmup)

    rows = json.loads(Path(args.resources).read_text(encoding="utf-8"))
    warm_prefixes = tuple(f"{team_name(i)}-" for i in range(1, WARMUP_TEAMS + 1))
    warm_rows = [row for row in rows if row[1].startswith(warm_prefixes)]

    def capture(selected: list) -> int:
        def run() -> int:
            pulumi.runtime.set_all_config({})
            set_mocks(TrivialMocks(), project="mlplatform", stack="dev", preview=True)
            _sync_await(run_pulumi_func(_baseline_program(selected, args.subclass)))
            return len(selected)

        return _fresh_loop_run(run)

    start = time.perf_counter()
    capture(warm_rows)
    cold = time.perf_counter() - start
    if args.tracemalloc:
        return {"tracemalloc_peak": _tracemalloc_peak(lambda: capture(rows))}
    if args.profile:
        return _profile(lambda: capture(rows), args.profile_out)
    timing = _timed_runs(lambda: capture(rows), args.repeat)
    best = min(range(len(timing["times"])), key=lambda i: timing["times"][i])
    return {"imports": imports, "cold_warmup": cold, **timing, "custom": len(rows), "best": best}


def _profile(run: Callable[[], Any], out: str) -> dict:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    run()
    profiler.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    stats.dump_stats(out)
    total = max((row[3] for row in stats.stats.values()), default=0.0)  # biggest cumulative ~ whole run
    ours, sdk, other = [], [], []
    for (file, line, func), (cc, nc, tt, ct, _callers) in stats.stats.items():
        entry = {"where": f"{_short(file)}:{line}({func})", "calls": nc, "tottime": tt, "cumtime": ct}
        if "/mlplatform/" in file or "/components/" in file:
            ours.append(entry)
        elif "/site-packages/pulumi/" in file:
            sdk.append(entry)
        else:
            entry["where"] = f"{_short(file)}:{line}({func})"
            other.append(entry)
    by_self = sorted(ours + sdk + other, key=lambda e: -e["tottime"])[:15]
    packages: dict[str, float] = {}
    for (file, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        package = _package(file, func)
        packages[package] = packages.get(package, 0.0) + tt
    key = lambda e: -e["cumtime"]  # noqa: E731
    return {"wall": wall, "total": total, "ours": sorted(ours, key=key)[:15], "sdk": sorted(sdk, key=key)[:15],
            "self": by_self, "packages": sorted(packages.items(), key=lambda kv: -kv[1]),
            "calls": {e["where"]: e for e in sdk}}


def _package(file: str, func: str) -> str:
    """Where a function's own time goes, by package (for the profile summary)."""
    if "/site-packages/pulumi/" in file:
        return "pulumi SDK"
    if "/site-packages/pulumi_aws/" in file:
        return "pulumi_aws (generated classes)"
    if "/mlplatform/" in file or "/components/" in file:
        return "ours: mlplatform/ + components/"
    if "/asyncio/" in file or "concurrent/futures" in file or file.endswith("threading.py") or "_asyncio" in func:
        return "asyncio, executor threads"
    if "yaml" in file:
        return "PyYAML"
    if "pydantic" in file:
        return "pydantic"
    if "protobuf" in file or file.endswith("_pb2.py"):
        return "protobuf"
    if file.endswith(("pathlib.py", "traceback.py", "linecache.py")):
        return "stdlib pathlib/traceback/linecache (SDK stack traces)"
    if file == "~":
        return "builtins"
    return "other stdlib"


def _short(file: str) -> str:
    for marker in ("/site-packages/", str(PROJECT_ROOT) + "/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file if not file.startswith("/") else "/".join(file.split("/")[-2:])


def worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=("validate", "ours", "baseline"), required=True)
    parser.add_argument("--folder")
    parser.add_argument("--warmup")
    parser.add_argument("--resources")
    parser.add_argument("--dump")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--subclass", action="store_true")
    parser.add_argument("--profile-out")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = {"validate": worker_validate, "ours": worker_ours, "baseline": worker_baseline}[args.worker](args)
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")


# ============================================================ driver

def run_worker(*args: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    try:
        command = [sys.executable, str(Path(__file__).resolve()), *args, "--out", out]
        done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"worker failed ({' '.join(args)}):\n{done.stdout}\n{done.stderr}")
        return json.loads(Path(out).read_text(encoding="utf-8"))
    finally:
        os.unlink(out)


def wall(command: list[str], repeat: int) -> tuple[list[float], subprocess.CompletedProcess]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
    return times, done


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def mlp_command() -> list[str]:
    script = Path(sys.executable).parent / "mlp"
    return [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from mlplatform.cli import main; sys.exit(main())"]


def bench_validate(root: Path, count: int, warm: Path, repeat: int) -> None:
    folder = root / f"validate-{count}"
    write_teams(folder, count)
    one = root / "validate-1"
    write_teams(one, 1)
    print(f"\n== validate: {count} synthetic specs ==")
    result = run_worker("--worker", "validate", "--folder", str(folder), "--warmup", str(warm), "--repeat", str(repeat))
    if result["issues"]:
        print(f"!! synthetic specs reported {result['issues']} issue(s)")
    best = min(range(len(result["load"])), key=lambda i: result["load"][i])
    load, checks, in_gc = result["load"][best], min(result["stack_checks"]), result["gc"][best]
    command = mlp_command() + ["validate", "--stack", "dev", str(folder)]
    times, done = wall(command, repeat)
    if done.returncode != 0:
        print(f"!! mlp validate exited {done.returncode}: {done.stderr.strip()[-300:]}")
    one_times, _ = wall(mlp_command() + ["validate", "--stack", "dev", str(one)], repeat)
    rows = [
        ["load_specs (in process, warm)", fmt_s(load), f"{load / count * 1000:.2f} ms", f"{count / load:.0f} specs/s"],
        ["  of which in the garbage collector", f"{fmt_s(in_gc)} ({in_gc / load:.0%})", "", ""],
        ["stack_issues vs dev (in process)", fmt_s(checks), f"{checks / count * 1000:.3f} ms", ""],
        ["mlp validate --stack dev (subprocess wall)", fmt_s(min(times)), f"{min(times) / count * 1000:.2f} ms",
         f"{count / min(times):.0f} specs/s"],
        ["mlp validate --stack dev, 1 spec (start-up)", fmt_s(min(one_times)), "", ""],
    ]
    print(table(["measure", "time", "per spec", "rate"], rows))
    print(f"(best of {repeat}; worker import time {fmt_s(result['imports'])}; {result['specs']} specs loaded, "
          f"{result['issues']} issues)")


def bench_plan(root: Path, sizes: list[int], warm: Path, repeat: int, use_tracemalloc: bool) -> None:
    rows_time, rows_gc, rows_split, rows_mem = [], [], [], []
    ratios = []
    for n in sizes:
        folder = root / f"teams-{n}"
        write_teams(folder, n)
        dump = root / f"resources-{n}.json"
        print(f"  measuring N={n} ...", file=sys.stderr, flush=True)
        ours = run_worker("--worker", "ours", "--folder", str(folder), "--warmup", str(warm),
                          "--repeat", str(repeat), "--dump", str(dump))
        base = run_worker("--worker", "baseline", "--resources", str(dump), "--warmup", str(warm),
                          "--repeat", str(repeat))
        sub = run_worker("--worker", "baseline", "--resources", str(dump), "--warmup", str(warm),
                         "--repeat", str(repeat), "--subclass")
        tm_ours = tm_base = None
        if use_tracemalloc:
            tm_ours = run_worker("--worker", "ours", "--folder", str(folder), "--warmup", str(warm),
                                 "--tracemalloc")["tracemalloc_peak"]
            tm_base = run_worker("--worker", "baseline", "--resources", str(dump), "--warmup", str(warm),
                                 "--tracemalloc")["tracemalloc_peak"]
        t_ours, t_base, t_sub = min(ours["times"]), min(base["times"]), min(sub["times"])
        ratio = t_ours / t_base
        ratios.append((n, ratio, t_ours / t_sub))
        total, custom = ours["resources"], ours["custom"]
        rows_time.append([
            str(n), str(total), str(custom),
            fmt_s(t_ours), fmt_s(statistics.median(ours["times"])), f"{custom / t_ours:.0f}",
            fmt_s(t_base), fmt_s(statistics.median(base["times"])), f"{custom / t_base:.0f}",
            f"{ratio:.2f}x", fmt_s(t_sub), f"{t_ours / t_sub:.2f}x",
        ])
        gc_row = [str(n)]
        for side, best_time in ((ours, t_ours), (base, t_base), (sub, t_sub)):
            spent = side["gc_times"][side["best"]]
            counts = side["gc_counts"][side["best"]]
            gc_row += [f"{fmt_s(spent)} ({spent / best_time:.0%})", "/".join(map(str, counts))]
        no_gc = (t_ours - ours["gc_times"][ours["best"]]) / (t_base - base["gc_times"][base["best"]])
        gc_row.append(f"{no_gc:.2f}x")
        rows_gc.append(gc_row)
        split = ours["split"]
        specs, build, record, post = (split.get(k, 0.0) for k in ("specs", "build_estate", "record", "post"))
        program = t_ours - specs
        sdk = t_ours - specs - build - record - post
        pct = lambda x: f"{fmt_s(x)} ({x / t_ours:.0%})"  # noqa: E731
        rows_split.append([str(n), fmt_s(t_ours), pct(specs), pct(program), pct(build), pct(sdk), pct(record),
                           pct(post), f"{(t_ours - specs) / t_base:.2f}x"])
        mem = [str(n), str(total),
               f"{ours['rss_delta_kib'] / 1024:.1f} MiB", f"{ours['rss_delta_kib'] / total:.1f} KiB",
               f"{base['rss_delta_kib'] / 1024:.1f} MiB", f"{base['rss_delta_kib'] / custom:.1f} KiB"]
        if use_tracemalloc:
            mem += [f"{tm_ours / 2**20:.1f} MiB", f"{tm_ours / 1024 / total:.1f} KiB",
                    f"{tm_base / 2**20:.1f} MiB", f"{tm_base / 1024 / custom:.1f} KiB"]
        rows_mem.append(mem)
        last = (ours, base)

    print(f"\n== plan: capture_stack('dev', teams_dir=...) vs bare Pulumi mock runtime (best of {repeat}) ==")
    print(table(["teams", "resources", "custom", "ours best", "ours median", "custom/s",
                 "baseline best", "baseline median", "custom/s", "ours/baseline",
                 "baseline(subclass)", "ours/subclass"], rows_time))
    print("resources = everything our capture registers (components + custom); the baselines register only the "
          "custom ones;\nrates are custom resources per second for both sides. Target: ours/baseline <= 1.30x.\n"
          "baseline(subclass): the same, each resource through a trivial CustomResource subclass, as a provider class "
          "(aws.s3.Bucket)\nis one; the SDK then records each resource's creation stack trace, which it skips for a "
          "bare CustomResource.")
    verdict = ", ".join(f"N={n}: {r:.2f}x {'OK' if r <= 1.3 else 'OVER'}" for n, r, _ in ratios)
    print(f"overhead vs target 1.30x: {verdict}")

    print("\n== time in the cyclic garbage collector (gc.callbacks), same best runs ==")
    print(table(["teams", "ours in gc", "ours gen0/1/2", "baseline in gc", "baseline gen0/1/2",
                 "subclass in gc", "subclass gen0/1/2", "ours/baseline without gc"], rows_gc))

    print("\n== our time split (same best run) ==")
    print(table(["teams", "total", "specs: load+validate+checks", "program run", "  build_estate (py)",
                 "  SDK registration", "  recording (cpu)", "  graph post", "program run/baseline"],
                rows_split))
    print("program run = total - specs; SDK registration = program run - build_estate - recording - post (the "
          "remainder:\nthe SDK's async registration of components and custom resources under our monitor). GC time "
          "is spread over all of them.")

    print("\n== memory (fresh worker per side and N) ==")
    headers = ["teams", "resources", "ours RSS delta", "per resource", "baseline RSS delta", "per custom res"]
    if use_tracemalloc:
        headers += ["ours tracemalloc peak", "per resource", "baseline tracemalloc peak", "per custom res"]
    print(table(headers, rows_mem))
    print("RSS delta = ru_maxrss after the first timed run - ru_maxrss before it (after imports + warm-up + gc).\n"
          "tracemalloc peak = peak traced Python allocation during one separate, untimed run.")
    ours, base = last
    print(f"\nworker imports: ours {fmt_s(ours['imports'])}, baseline {fmt_s(base['imports'])} (+ our modules, "
          f"imported for an equal heap); cold first capture of {WARMUP_TEAMS} teams: ours {fmt_s(ours['cold_warmup'])}, "
          f"baseline {fmt_s(base['cold_warmup'])} (not counted above)")


def bench_profile(root: Path, n: int, warm: Path) -> None:
    folder = root / f"teams-{n}"
    dump = root / f"resources-{n}.json"
    if not folder.exists():
        write_teams(folder, n)
    if not dump.exists():
        run_worker("--worker", "ours", "--folder", str(folder), "--warmup", str(warm), "--repeat", "1",
                   "--dump", str(dump))
    ours = run_worker("--worker", "ours", "--folder", str(folder), "--warmup", str(warm), "--profile",
                      "--profile-out", str(root / f"profile-ours-{n}.pstats"))
    base = run_worker("--worker", "baseline", "--resources", str(dump), "--warmup", str(warm), "--profile",
                      "--profile-out", str(root / f"profile-baseline-{n}.pstats"))
    print(f"\n== cProfile: one warm capture of {n} teams: ours {fmt_s(ours['wall'])}, baseline "
          f"{fmt_s(base['wall'])} under the profiler ==")
    for title, key in (("ours: mlplatform/ + components/ (top 15 by cumulative time)", "ours"),
                       ("ours: pulumi SDK (top 15 by cumulative time)", "sdk"),
                       ("ours: all code, top 15 by own time (tottime)", "self")):
        print(f"\n-- {title}")
        rows = [[e["where"], str(e["calls"]), f"{e['tottime']:.3f}", f"{e['cumtime']:.3f}",
                 f"{e['cumtime'] / ours['total']:.0%}"] for e in ours[key]]
        print(table(["function", "calls", "tottime s", "cumtime s", "cum %"], rows))
    print("\n-- own time by package (ours vs baseline)")
    base_packages = dict(base["packages"])
    rows = [[package, f"{seconds:.2f}", f"{seconds / ours['total']:.0%}", f"{base_packages.get(package, 0.0):.2f}",
             f"{base_packages.get(package, 0.0) / base['total']:.0%}"] for package, seconds in ours["packages"][:12]]
    print(table(["package", "ours s", "ours %", "baseline s", "baseline %"], rows))
    print("\n-- the same SDK functions in both profiles (cumulative s / calls)")
    rows = []
    for entry in ours["sdk"]:
        other = base["calls"].get(entry["where"])
        rows.append([entry["where"], f"{entry['cumtime']:.2f}", str(entry["calls"]),
                     f"{other['cumtime']:.2f}" if other else "-", str(other["calls"]) if other else "-"])
    print(table(["SDK function", "ours cum s", "ours calls", "baseline cum s", "baseline calls"], rows))


def main() -> None:
    if "--worker" in sys.argv:
        worker_main(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,500", help="team counts to plan (comma separated)")
    parser.add_argument("--validate-count", type=int, default=1000, help="specs for the validate benchmark")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions per measurement (best is shown)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also cProfile one capture of N teams")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc memory runs")
    parser.add_argument("--keep", metavar="DIR", help="write specs and dumps here and keep them")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mlp-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        import platform

        from importlib.metadata import version

        print(f"mlplatform plan benchmark: python {platform.python_version()}, pulumi {version('pulumi')}, "
              f"pulumi-aws {version('pulumi_aws')}, pydantic {version('pydantic')}, "
              f"{os.cpu_count()} cpu(s), synthetic specs seed 0 in {root}")
        warm = root / "warmup"
        write_teams(warm, WARMUP_TEAMS)
        if args.validate_count:
            bench_validate(root, args.validate_count, warm, args.repeat)
        if sizes:
            bench_plan(root, sizes, warm, args.repeat, not args.no_tracemalloc)
        if args.profile:
            bench_profile(root, args.profile, warm)
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
