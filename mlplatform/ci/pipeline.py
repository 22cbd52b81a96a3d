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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..diff import PlanDiff, diff_graphs
from ..errors import Issue, SpecError
from ..graph import ResourceGraph
from ..reports.findings import FindingsReport
from ..stackconfig import StackConfig


@dataclass
class CiOptions:
    stack: str
    teams_dir: Optional[str] = None
    base_ref: Optional[str] = None
    base_plan: Optional[str] = None
    full: bool = False
    jobs: int = 1
    skip: frozenset[str] = frozenset()  # stage names not to run, e.g. {"checkov"}


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
    head_teams_dir: Optional[str] = None
    base_teams_dir: Optional[str] = None  # the base's specs (a scratch copy), while stages run


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


def run_pipeline(options: CiOptions, stages: list[tuple[str, Stage]]) -> CiOutcome:
    from ..changes import export_tree, repository_root, spec_changes
    from ..program import InvalidSpecs, selected_specs
    from ..readers import load_graph
    from ..spec.loader import load_specs
    from ..stackconfig import load_stack_config
    from .partial import capture_teams

    timings: dict[str, float] = {}
    started = time.perf_counter()
    stack = load_stack_config(options.stack, teams_dir=options.teams_dir)
    teams_path = stack.teams_path()
    _progress(f"validating specs in {teams_path}")
    try:
        specs = selected_specs(stack)
    except InvalidSpecs as exc:
        timings["validate"] = time.perf_counter() - started
        return CiOutcome(options, list(exc.issues), None, [], timings)
    timings["validate"] = time.perf_counter() - started

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
            base_specs = load_specs([base_teams_dir]).specs
            if not options.full:
                base_root = Path(scratch)
                scope = frozenset(
                    _teams_of(changes.head_files, repo, specs) | _teams_of(changes.base_files, base_root, base_specs))
        head_scope = sorted(all_teams if scope is None else scope & set(all_teams))
        _progress(f"planning {len(head_scope)} team(s) at the head")
        head = capture_teams(options.stack, options.teams_dir, head_scope, options.jobs)
        if base_teams_dir is not None:
            base_names = {loaded.team for loaded in base_specs}
            base_scope = sorted(base_names if scope is None else scope & base_names)
            _progress(f"planning {len(base_scope)} team(s) at {options.base_ref}")
            try:
                base = capture_teams(options.stack, base_teams_dir, base_scope, options.jobs,
                                     copied_from=base_copy)
            except SpecError:
                base = None  # the base did not validate: everything in scope is new
        elif options.base_plan:
            base = load_graph(options.base_plan)
        timings["capture"] = time.perf_counter() - mark
        diff = diff_graphs(base, head) if base is not None else None
        context = CiContext(options, stack, specs, scope, head, base, diff, changed_files,
                            head_teams_dir=str(teams_path), base_teams_dir=base_teams_dir)
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
