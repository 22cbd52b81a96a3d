"""The pull-request pipeline: validate, plan, then every checker, then one summary.

Scope: with ``--base REF`` only the teams whose spec files changed since REF are planned
at both ends (their base versions come from git), because teams are independent: the
diff, findings and cost of the untouched teams are empty by construction. ``--full``
plans every team instead (a test keeps the two in agreement for the changed teams).

Each checker is a :class:`Stage`: it receives the context and returns a
:class:`StageResult` with a one-line verdict, a Markdown section, a JSON body and,
for finding-producing tools, a :class:`FindingsReport` that goes into SARIF and JUnit.
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..diff import PlanDiff, diff_graphs
from ..errors import Issue, SpecError
from ..graph import ResourceGraph
from ..reports.findings import FindingsReport
from ..stackconfig import StackConfig
from ..type_tokens import TEAM


@dataclass
class CiOptions:
    stack: str
    teams_dir: Optional[str] = None
    base_ref: Optional[str] = None
    base_plan: Optional[str] = None
    full: bool = False
    jobs: int = 1
    skip: frozenset[str] = frozenset()  # stage names not to run, e.g. {"checkov"}
    #: plan only these teams (``mlp check FILES``); None = by the base ref's changes, or all
    teams: Optional[frozenset[str]] = None


@dataclass
class StageResult:
    name: str
    ok: bool
    headline: str  # one line for the summary table
    markdown: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    findings: Optional[FindingsReport] = None


@dataclass
class CiContext:
    """What every stage may read."""

    options: CiOptions
    stack: StackConfig
    specs: list  # LoadedSpec of the head, all teams
    scope: Optional[frozenset[str]]  # teams planned; None = all
    head: ResourceGraph
    base: Optional[ResourceGraph]
    diff: Optional[PlanDiff]
    changed_files: list[str] = field(default_factory=list)
    base_specs: list = field(default_factory=list)  # LoadedSpec of the base ref, all teams
    #: Work started before the stages run (e.g. a policy pack booting while plans are
    #: captured), by stage name; a stage takes it with :meth:`prepared`.
    warmups: dict[str, Any] = field(default_factory=dict)
    _resolved: Optional[ResourceGraph] = field(default=None, repr=False)

    @property
    def base_ref_used(self) -> bool:
        return self.options.base_ref is not None

    def prepared(self, name: str):
        future = self.warmups.pop(name, None)
        return future.result() if future is not None else None

    def resolved_head(self) -> ResourceGraph:
        """The head's resolved plan (apply-time values simulated) for the planned teams,
        captured once on first use: the verify stage judges it, and the policy stage
        judges on it the rules it had to defer."""
        if self._resolved is None:
            from ..verify.resolve import capture_resolved

            planned = frozenset(r.name for r in self.head.resources.values() if r.type == TEAM)
            self._resolved = capture_resolved(self.options.stack, teams_dir=self.options.teams_dir,
                                              only_teams=planned, specs=self.specs, stack_config=self.stack)
        return self._resolved


@dataclass
class CiOutcome:
    options: CiOptions
    validation: list[Issue]
    context: Optional[CiContext]
    stages: list[StageResult]
    timings: dict[str, float]

    @property
    def may_merge(self) -> bool:
        return not self.validation and all(stage.ok for stage in self.stages)

    @property
    def exit_code(self) -> int:
        return 0 if self.may_merge else 1


Stage = Callable[[CiContext], StageResult]


def _progress(message: str) -> None:
    """Progress for people at a terminal; nothing on a pipe, where only the summary goes."""
    if sys.stderr.isatty():
        print(f"mlp ci: {message}", file=sys.stderr, flush=True)


def _teams_of(files: list[str], repo: Path, specs) -> set[str]:
    """Team names of the spec files among ``specs`` at repository-relative ``files``."""
    wanted = {(repo / file).resolve() for file in files}
    return {loaded.team for loaded in specs if Path(loaded.file).resolve() in wanted}


def _base_specs(head_specs: list, changes, repo: Path, base_root: Path, base_teams_dir: Path,
                stack: StackConfig) -> list:
    """The base's specs of the stack's shard, every team's (the shared resources are built
    from all of them). A file the change did not touch is byte-identical at the base, so
    its head spec is reused rather than parsed again (half of a one-team pull request's
    spec loading on a large estate); only the files changed since the base are read from
    the base copy under ``base_root`` (those directly in the teams folder, as the loader
    finds them)."""
    from ..spec.loader import load_specs

    touched = {(repo / file).resolve() for file in changes.head_files}
    folder = base_teams_dir.resolve()
    unchanged = [loaded for loaded in head_specs if Path(loaded.file).resolve() not in touched
                 and (folder / Path(loaded.file).name).is_file()]  # not a file git ignores
    changed_at_base = [str(base_root / file) for file in changes.base_files
                       if (base_root / file).resolve().parent == folder]
    reread = load_specs(changed_at_base).specs if changed_at_base else []
    return unchanged + [loaded for loaded in reread if stack.teams is None or loaded.team in stack.teams]


def run_pipeline(
    options: CiOptions,
    stages: list[tuple[str, Stage]],
    warmups: Optional[dict[str, Callable[[StackConfig], Any]]] = None,
    early: Optional[dict[str, Callable[["CiContext", Any], None]]] = None,
) -> CiOutcome:
    """Validate, plan, then run ``stages``; ``warmups`` (by stage name) start in the
    background as soon as the stack is known, so slow start-ups (the policy pack, the verify
    checkers' process) overlap validation and the plan captures on a second core. Whatever
    a stage does not take (invalid specs, a skipped stage) is shut down at the end. ``early``
    (by stage name) hands a warmed-up resource its work once the plans are captured, before
    any stage runs, so it proceeds while earlier stages run."""
    from ..errors import InvalidSpecs
    from ..stackchecks import selected_specs
    from ..stackconfig import load_stack_config

    timings: dict[str, float] = {}
    started = time.perf_counter()
    stack = load_stack_config(options.stack, teams_dir=options.teams_dir)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mlp-ci-warmup")
    started_warmups = {name: pool.submit(start, stack) for name, start in (warmups or {}).items()
                       if name not in options.skip and name in dict(stages)}
    try:
        _progress(f"validating specs in {stack.teams_path()}")
        try:
            specs = selected_specs(stack)
        except InvalidSpecs as exc:
            timings["validate"] = time.perf_counter() - started
            return CiOutcome(options, list(exc.issues), None, [], timings)
        timings["validate"] = time.perf_counter() - started
        return _plan_and_check(options, stages, stack, specs, started_warmups, timings, started, early)
    finally:
        for future in started_warmups.values():  # whatever a stage did not take is shut down
            if future.cancel() or future.exception() is not None:
                continue
            resource = future.result()
            if hasattr(resource, "close"):
                resource.close()
        pool.shutdown(wait=True)


def _plan_and_check(options, stages, stack, specs, warmups, timings, started, early=None) -> CiOutcome:
    from ..changes import export_tree, repository_root, spec_changes
    from ..readers import load_graph
    from .partial import capture_teams

    teams_path = stack.teams_path()
    all_teams = sorted(loaded.team for loaded in specs)
    scope: Optional[frozenset[str]] = None
    base: Optional[ResourceGraph] = None
    changed_files: list[str] = []
    mark = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mlp-ci-base-") as scratch:
        base_teams_dir: Optional[str] = None
        base_specs: list = []
        if options.base_ref:
            repo = repository_root(teams_path)
            changes = spec_changes(repo, options.base_ref, teams_path)
            changed_files = sorted(changes.added + changes.modified + changes.deleted)
            relative = teams_path.resolve().relative_to(repo.resolve()).as_posix()
            base_teams_dir = str(export_tree(repo, options.base_ref, relative, Path(scratch)))
            # the base's specs are reported (the `spec` tag, findings) at the paths they
            # have in the repository, not in the scratch copy
            base_copy = (Path(scratch), repo)
            base_specs = _base_specs(specs, changes, repo, Path(scratch), Path(base_teams_dir), stack)
            if not options.full:
                base_root = Path(scratch)
                scope = frozenset(
                    _teams_of(changes.head_files, repo, specs) | _teams_of(changes.base_files, base_root, base_specs))
        if options.teams is not None:
            scope = frozenset(options.teams) if scope is None else scope & options.teams
        head_scope = sorted(all_teams if scope is None else scope & set(all_teams))
        _progress(f"planning {len(head_scope)} team(s) at the head")
        head = capture_teams(options.stack, options.teams_dir, head_scope, options.jobs, specs=specs)
        if base_teams_dir is not None:
            base_names = {loaded.team for loaded in base_specs}
            base_scope = sorted(base_names if scope is None else scope & base_names)
            _progress(f"planning {len(base_scope)} team(s) at {options.base_ref}")
            try:
                base = capture_teams(options.stack, base_teams_dir, base_scope, options.jobs,
                                     copied_from=base_copy, specs=base_specs)
            except SpecError:
                base = None  # the base did not validate: everything in scope is new
        elif options.base_plan:
            base = load_graph(options.base_plan)
        timings["capture"] = time.perf_counter() - mark
        diff = diff_graphs(base, head) if base is not None else None
        context = CiContext(options, stack, specs, scope, head, base, diff, changed_files,
                            base_specs=base_specs, warmups=warmups)
        mark = time.perf_counter()
        for name, hand_over in (early or {}).items():  # e.g. the verify checkers start on their plan
            future = warmups.get(name)  # a start-up that failed fails its own stage, not this hand-over
            if future is not None and name not in options.skip and future.exception() is None:
                hand_over(context, future.result())
        if early:
            timings["handover"] = time.perf_counter() - mark
        results = []
        for name, stage in stages:  # inside the scratch folder's life: stages may read base specs
            if name in options.skip:
                continue
            _progress(f"running {name}")
            mark = time.perf_counter()
            results.append(stage(context))
            timings[name] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    return CiOutcome(options, [], context, results, timings)
