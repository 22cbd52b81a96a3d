"""Loading team specs: bytes -> positioned YAML -> validated :class:`TeamSpec`.

Every problem becomes an :class:`~mlplatform.errors.Issue` at the file, line and column of
the offending node with the field path, never a traceback. Validation runs on the base
spec and again on each environment's merged spec, since an override can break a rule
that the base keeps (``min`` raised above ``max``, say).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any, Iterable, Optional

from pydantic import ValidationError

from ..errors import Issue, PathPart, SpecError, UsageError, format_path, item_labels
from ..gctune import quiet_collector
from ..yamlsafe import Document, load_yaml
from .merge import MergeResult, UnknownOverrideItem, merge_environment
from .models import RuleViolation, TeamSpec

Path = tuple[PathPart, ...]
SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadedSpec:
    """A valid team spec with the document it came from."""

    file: str
    document: Document
    spec: TeamSpec
    _environments: dict[str, tuple[TeamSpec, MergeResult]] = field(default_factory=dict)

    @property
    def team(self) -> str:
        return self.spec.metadata.team

    def for_environment(self, environment: str) -> TeamSpec:
        """The spec as ``environment`` deploys it (overrides merged, validated)."""
        if environment not in self._environments:
            self._environments[environment] = _validate_environment(self.document, environment)
        return self._environments[environment][0]

    def line_of(self, path: Path) -> int:
        return self.document.position(path).line

    def column_of(self, path: Path) -> int:
        return self.document.position(path).column

    def field_of(self, path: Path) -> str:
        """``path`` as validate names it, list items by name (``spec.endpoints[scorer]``)."""
        return format_path(path, item_labels(self.document.data, path))

    def issue(self, path: Path, message: str, environment: Optional[str] = None) -> Issue:
        """An issue at ``path`` of the spec as ``environment`` deploys it.

        Paths of the merged spec are translated to where the value is written, which is
        inside the environment's override when the override set it.
        """
        if environment is not None:
            self.for_environment(environment)
            path = self._environments[environment][1].file_path(path)
        return self.document.issue(path, message)


def load_spec_file(path: str | os.PathLike) -> LoadedSpec:
    """Read and validate one spec file; raises :class:`SpecError` or :class:`UsageError`."""
    file = str(path)
    try:
        raw = FsPath(path).read_bytes()
    except IsADirectoryError:
        raise UsageError(f"{file}: is a directory") from None
    except OSError as exc:
        raise UsageError(f"{file}: cannot read: {exc.strerror or exc}") from None
    return load_spec_bytes(file, raw)


def load_spec_bytes(file: str, raw: bytes) -> LoadedSpec:
    document = load_yaml(file, raw)
    if not isinstance(document.data, dict):
        found = "a list" if isinstance(document.data, list) else f"a {type(document.data).__name__} value"
        raise SpecError([document.issue((), f"expected a TeamSpec mapping at the top level, found {found}")])
    spec = _validate(document, document.data, MergeResult(document.data))
    loaded = LoadedSpec(file=file, document=document, spec=spec)
    issues: list[Issue] = []
    for environment in spec.spec.environments:
        try:
            loaded.for_environment(environment)
        except SpecError as exc:
            issues.extend(exc.issues)
    if issues:
        raise SpecError(issues)
    return loaded


def _validate_environment(document: Document, environment: str) -> tuple[TeamSpec, MergeResult]:
    try:
        merged = merge_environment(document.data, environment)
    except UnknownOverrideItem as exc:
        raise SpecError([document.issue(exc.path, str(exc))]) from None
    return _validate(document, merged.data, merged, environment), merged


def _validate(document: Document, data: dict[str, Any], merged: MergeResult, environment: str = "") -> TeamSpec:
    try:
        return TeamSpec.model_validate(data)
    except ValidationError as exc:
        issues = [_issue_from_error(document, merged, error, environment) for error in exc.errors()]
        raise SpecError(_dedupe(issues)) from None


def _issue_from_error(document: Document, merged: MergeResult, error: dict, environment: str) -> Issue:
    loc: Path = tuple(part for part in error["loc"] if part != "[key]")
    kind = error["type"]
    message = error["msg"]
    prefer_key = "[key]" in error["loc"]  # the mapping key itself is wrong: point at it
    if kind == "value_error" and isinstance(error.get("ctx", {}).get("error"), RuleViolation):
        violation = error["ctx"]["error"]
        loc = loc + violation.path
        message = str(violation)
    elif kind == "extra_forbidden":
        message = f"unknown field '{loc[-1]}'" + _suggestion(loc)
        prefer_key = True
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "string_pattern_mismatch" and (human := _pattern_message(error, loc)) is not None:
        message = human + _got(error.get("input"), kind)
    else:
        message = message.removeprefix("Value error, ") + _got(error.get("input"), kind)
    file_path = merged.file_path(loc)
    if environment and file_path == loc:
        message += f" (in environment '{environment}' after merging its overrides)"
    labels = item_labels(document.data, file_path)
    if kind == "missing":
        # point at the mapping that lacks the field
        return Issue(document.file, *_line_col(document, file_path[:-1], True), file_path, message, labels=labels)
    return Issue(document.file, *_line_col(document, file_path, prefer_key), file_path, message, labels=labels)


def _line_col(document: Document, path: Path, prefer_key: bool) -> tuple[int, int]:
    where = document.position(path, prefer_key)
    return where.line, where.column


def _pattern_message(error: dict, loc: Path) -> Optional[str]:
    """The pattern's meaning in words (see :mod:`.patterns`), with the field's lengths."""
    from .patterns import pattern_message
    from .schema import field_schema

    return pattern_message(error.get("ctx", {}).get("pattern", ""), error.get("input"), field_schema(loc))


def _got(value: Any, kind: str) -> str:
    """The offending value, shown briefly, so the author sees what was read."""
    if isinstance(value, (dict, list)):
        return f" (got a {'mapping' if isinstance(value, dict) else 'list'})" if kind.endswith("_type") else ""
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    hint = ""
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type") and isinstance(value, str) \
            and re.fullmatch(r"-?\d{1,3}([,_ ]\d{3})+(\.\d+)?", value.strip()):
        hint = f"; write numbers without thousands separators, e.g. {re.sub(r'[,_ ]', '', value.strip())}"
    return f" (got {type(value).__name__} {shown}){hint}"


def _suggestion(loc: Path) -> str:
    """A "did you mean" for a misspelt key, from the fields the model accepts there."""
    import difflib

    from .schema import allowed_keys, nested_homes

    keys = allowed_keys(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    homes = nested_homes(loc[:-1], str(loc[-1]))
    if homes:
        where = " or ".join(f"'{home}'" for home in homes)
        return f"; '{loc[-1]}' belongs on each entry of {where}, not here"
    return f"; allowed: {', '.join(keys)}" if keys and len(keys) <= 12 else ""


def _dedupe(issues: Iterable[Issue]) -> list[Issue]:
    seen: set = set()
    unique = []
    for issue in issues:
        key = (issue.line, issue.column, issue.path, issue.message)
        if key not in seen:
            seen.add(key)
            unique.append(issue)
    return unique


# ---------------------------------------------------------------- folders and cross-file checks

def discover(paths: Iterable[str], require_specs: bool = False) -> list[str]:
    """Spec files named by ``paths`` (files as given, folders searched for *.yaml/*.yml).

    With ``require_specs`` a folder holding no spec file is a usage error: someone who
    validates a folder expects specs in it, and "0 spec file(s), valid" would hide a
    wrong path. The stack program keeps the default, since a stack may deploy no team yet.
    """
    found: dict[FsPath, str] = {}  # resolved path -> path as the user named it; overlaps count once
    for path in paths:
        target = FsPath(path)
        if target.is_dir():
            folder = target.resolve()  # resolved once per folder, not once per file
            in_folder = 0
            for file in sorted(target.iterdir()):
                if file.suffix in SPEC_SUFFIXES and file.is_file():
                    found.setdefault(folder / file.name, str(file))
                    in_folder += 1
            if require_specs and not in_folder:
                raise UsageError(f"{path}: folder holds no spec files (*.yaml or *.yml)")
        elif target.exists():
            found.setdefault(target.resolve(), str(target))
        else:
            raise UsageError(f"{path}: no such file or directory")
    return list(found.values())


@dataclass
class LoadResult:
    specs: list[LoadedSpec]
    issues: list[Issue]
    files: list[str]

    @property
    def ok(self) -> bool:
        return not self.issues


def load_specs(paths: Iterable[str], require_specs: bool = False) -> LoadResult:
    """Load every spec under ``paths`` and run the cross-file checks on the valid ones
    (``require_specs``: see :func:`discover`)."""
    files = discover(paths, require_specs)
    specs: list[LoadedSpec] = []
    issues: list[Issue] = []
    with quiet_collector():
        for file in files:
            try:
                specs.append(load_spec_file(file))
            except SpecError as exc:
                issues.extend(exc.issues)
    issues.extend(cross_file_issues(specs))
    return LoadResult(specs=specs, issues=issues, files=files)


def cross_file_issues(specs: list[LoadedSpec]) -> list[Issue]:
    """Team names are unique and each file is named after its team."""
    issues: list[Issue] = []
    first_by_team: dict[str, LoadedSpec] = {}
    team_path: Path = ("metadata", "team")
    for loaded in specs:
        stem = FsPath(loaded.file).stem
        if stem != loaded.team:
            issues.append(
                loaded.document.issue(team_path, f"team '{loaded.team}' must be in a file named {loaded.team}.yaml, not {FsPath(loaded.file).name}")
            )
        first: Optional[LoadedSpec] = first_by_team.get(loaded.team)
        if first is not None:
            issues.append(
                loaded.document.issue(
                    team_path, f"duplicate team '{loaded.team}' (also in {first.file}:{first.line_of(team_path)})"
                )
            )
        else:
            first_by_team[loaded.team] = loaded
    return issues
