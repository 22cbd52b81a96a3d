"""Benchmark of ``mlp ci`` on a pull request that changes one team of a large estate.

Run::

    .venv/bin/python benchmarks/bench_ci.py [--teams 500] [--repeat 2] [--no-full] [--jobs 2]

It builds a throwaway git repository holding ``--teams`` synthetic specs
(``benchmarks/synthetic.py``), commits them as the base, changes one team's budget and
commits that as the head, then times ``mlp ci --stack dev --base HEAD~1`` end to end as
a subprocess (interpreter start and imports included), without checkov (``--skip
checkov``; checkov's own start-up is measured by ``bench_scan.py``). For comparison it
times the same command with ``--full`` (every team planned at base and head), once with
one process and once with ``--jobs``.

The runs share a cache folder of their own (``MLP_CACHE_DIR``): the first run starts it
empty, as the first pull request on a fresh CI runner does, and is reported apart
("cold"); the others find the serving-image answers it kept, as every later pull request
does once the workflow restores ``~/.cache/mlplatform``. Each run's stage timings come from
its ``ci.json``.

Target (issues 9 and 14): the one-team pull request, verify included, under 10 s on the
500-team estate.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic import write_teams  # noqa: E402

MLP = Path(sys.executable).with_name("mlp")
GIT = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]


def git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True)


def make_repository(folder: Path, teams: int) -> Path:
    repo = folder / "repo"
    write_teams(repo / "teams", teams)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    spec = repo / "teams" / "team-0007.yaml"
    text = spec.read_text()
    marker = "monthlyUsd: "
    at = text.index(marker) + len(marker)
    end = at
    while text[end].isdigit() or text[end] == ".":
        end += 1
    spec.write_text(text[:at] + str(float(text[at:end]) + 100) + text[end:])
    git(repo, "commit", "-qam", "head: raise one team's budget")
    return repo


def time_ci(repo: Path, out: Path, cache: Path, *extra: str) -> tuple[float, int]:
    command = [str(MLP), "ci", "--stack", "dev", "--teams", str(repo / "teams"), "--base", "HEAD~1",
               "--skip", "checkov", "--output-dir", str(out), *extra]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                               env={**os.environ, "MLP_CACHE_DIR": str(cache)})
    elapsed = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        sys.exit(f"mlp ci failed ({completed.returncode}): {completed.stderr.strip()}")
    return elapsed, completed.returncode


def stages(out: Path) -> str:
    """The run's own stage timings (``ci.json``), in seconds."""
    timings = json.loads((out / "ci.json").read_text()).get("timings", {})
    return ", ".join(f"{name} {seconds:.1f}" for name, seconds in timings.items() if name != "total")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-full", action="store_true", help="skip the --full comparison runs")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ci-"))
    try:
        repo = make_repository(folder, args.teams)
        print(f"estate: {args.teams} synthetic teams; the pull request changes team-0007's budget")
        cache = folder / "cache"
        elapsed, code = time_ci(repo, folder / "out-cold", cache)
        print(f"mlp ci --base HEAD~1 (incremental, no checkov), cold cache: {elapsed:.2f} s, exit {code}  "
              f"[{stages(folder / 'out-cold')}]")
        times = []
        for attempt in range(args.repeat):
            elapsed, code = time_ci(repo, folder / f"out-{attempt}", cache)
            times.append(elapsed)
        best = times.index(min(times))
        print(f"mlp ci --base HEAD~1 (incremental, no checkov): best {min(times):.2f} s, "
              f"runs {', '.join(f'{t:.2f}' for t in times)} s, exit {code}  (target < 10 s)  "
              f"[{stages(folder / f'out-{best}')}]")
        if not args.no_full:
            elapsed, code = time_ci(repo, folder / "out-full", cache, "--full")
            print(f"mlp ci --base HEAD~1 --full (every team at base and head): {elapsed:.1f} s, exit {code}")
            elapsed, code = time_ci(repo, folder / "out-full-jobs", cache, "--full", "--jobs", str(args.jobs))
            print(f"mlp ci --base HEAD~1 --full --jobs {args.jobs}: {elapsed:.1f} s, exit {code}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
