"""Run checkov on a ResourceGraph and turn its findings into our findings report.

The graph is written as ``plan.json`` (Terraform plan, :mod:`.tfplan`) and one manifest
per Kubernetes object (:mod:`.manifests`) into a private folder; checkov runs on it as a
subprocess with the ``terraform_plan`` and ``kubernetes`` frameworks and JSON output.
Each of its results names a plan address or a manifest file, which leads back to the URN,
the Pulumi type and the team spec line that produced the resource. Failures that a
justified skip covers (on this stack, where its condition holds) become skipped results
carrying the reason and the owner; failures a team's ``spec.exemptions`` entry covers
become exempted, and an expired entry for a checkov id is a failure of its own
(:mod:`mlplatform.exemptions`, the same mechanism the policy pack and verify use).
"""

from __future__ import annotations

import datetime
import json
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

from ..errors import UsageError
from ..exemptions import SpecExemption
from ..reports.exemptions import apply_exemptions, checkov_judges
from ..graph import GraphResource, ResourceGraph
from ..reports.findings import (ADVISORY, FAILED, MANDATORY, PASSED, SKIPPED, CheckResult, FindingsReport, Rule,
                               attach_spec)
from ..stackconfig import StackConfig
from .environment import CHECKOV_VERSION, checkov_env, checkov_executable
from .manifests import ManifestSet, render, to_manifests
from .skips import Skip
from .tfplan import TerraformPlan, split_plan, to_terraform_plan

FRAMEWORKS = ("terraform_plan", "kubernetes")
PLAN_FILE = "plan.json"
UNMAPPED_RULE = Rule(
    id="MLP-CHECKOV-UNMAPPED",
    name="Resource type has no Terraform or Kubernetes form, so checkov cannot check it",
    remediation="Add the type to mlplatform/checkov/tfnames.py (exceptions table) or to the manifest writer.",
)
_STATUS = {"passed_checks": PASSED, "failed_checks": FAILED, "skipped_checks": SKIPPED}


@dataclass
class Translation:
    """What was written for checkov, and the way back to the graph."""

    plan: TerraformPlan
    manifests: ManifestSet

    def write(self, folder: Path) -> None:
        for index, document in enumerate(split_plan(self.plan.document)):
            name = PLAN_FILE if index == 0 else f"plan-{index:04d}.json"
            (folder / name).write_text(json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n")
        for manifest in self.manifests.manifests:
            path = folder / manifest.file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(manifest))

    @property
    def unmapped(self) -> list[GraphResource]:
        return self.plan.unmapped + self.manifests.unmapped


def translate(graph: ResourceGraph) -> Translation:
    return Translation(to_terraform_plan(graph), to_manifests(graph))


def run_checkov(folder: Path, executable: Optional[str] = None) -> list[dict[str, Any]]:
    """checkov's JSON reports (one per framework) for the files in ``folder``."""
    command = [
        executable or checkov_executable(), "--directory", str(folder), "--framework", *FRAMEWORKS,
        "--output", "json", "--compact", "--skip-download",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=checkov_env(), check=False)
    except OSError as exc:
        raise UsageError(f"mlp scan: cannot run checkov ({command[0]}): {exc.strerror or exc}") from None
    if result.returncode not in (0, 1):
        raise UsageError(f"mlp scan: checkov exited {result.returncode}: {_last_line(result.stderr or result.stdout)}")
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise UsageError(f"mlp scan: checkov did not print JSON: {_last_line(result.stderr or result.stdout)}") from None
    reports = data if isinstance(data, list) else [data]
    return [report for report in reports if isinstance(report, dict) and "results" in report]


def scan(graph: ResourceGraph, skips: Iterable[Skip] = (), executable: Optional[str] = None,
         keep: Optional[Path] = None, stack: Optional[StackConfig] = None,
         exemptions: Iterable[SpecExemption] = (), today: Optional[datetime.date] = None) -> FindingsReport:
    """checkov's verdict on ``graph`` as a :class:`FindingsReport` (``keep``: also write the files there).

    ``stack`` is the config of the stack the graph belongs to: skips conditioned on it
    (``when: stack-does-not-replicate``) hold only when it is given and says so.
    ``exemptions`` are the planned teams' spec exemptions, judged on ``today``."""
    started = time.perf_counter()
    translation = translate(graph)
    with tempfile.TemporaryDirectory(prefix="mlp-checkov-") as temporary:
        folder = Path(temporary)
        translation.write(folder)
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            translation.write(keep)
        translated_at = time.perf_counter()
        reports = run_checkov(folder, executable)
    report = build_report(graph, translation, reports, list(skips), stack, exemptions, today)
    report.stats["seconds"] = {
        "translate": round(translated_at - started, 3),
        "checkov": round(time.perf_counter() - translated_at, 3),
    }
    return report


def build_report(graph: ResourceGraph, translation: Translation, reports: list[dict[str, Any]],
                 skips: list[Skip], stack: Optional[StackConfig] = None,
                 exemptions: Iterable[SpecExemption] = (), today: Optional[datetime.date] = None) -> FindingsReport:
    """Map checkov's results back to URNs and spec lines; apply the skips in force on the
    stack, then the teams' exemptions to what still fails."""
    report = FindingsReport(tool="checkov", stack=graph.stack, tool_version=CHECKOV_VERSION)
    stack_name = stack.stack if stack is not None else graph.stack
    skips = [skip for skip in skips if skip.in_force(stack_name, stack)]
    by_file = translation.manifests.by_file()
    used: set[Skip] = set()
    for checkov_report in reports:
        framework = checkov_report.get("check_type", "")
        results = checkov_report.get("results") or {}
        for key, status in _STATUS.items():
            for record in results.get(key) or []:
                resource = _resource_for(record, framework, translation, by_file, graph)
                result = _result(record, status, resource, framework)
                if status == FAILED and resource is not None:
                    skip = _matching_skip(skips, record, resource, stack_name, stack)
                    if skip is not None:
                        used.add(skip)
                        result.status = SKIPPED
                        result.justification = skip.justification()
                report.results.append(result)
    for resource in translation.unmapped:
        report.results.append(_located(CheckResult(
            rule=UNMAPPED_RULE, status=FAILED, enforcement=ADVISORY,
            message=f"{resource.type} is not translated; checkov did not see this resource",
        ), resource))
    applied = apply_exemptions(report.results, exemptions, today or datetime.date.today(), checkov_judges, graph)
    report.results = applied.results
    report.stats.update(_stats(report, translation, skips, used))
    report.stats["unusedExemptions"] = [f"{item.file}:{item.line}: {item.rule} for {item.target}"
                                        for item in applied.unused]
    attach_spec(report.results, graph)  # findings speak the spec: field and fix
    return report


def _resource_for(record: dict[str, Any], framework: str, translation: Translation,
                  by_file: dict, graph: ResourceGraph) -> Optional[GraphResource]:
    if framework == "kubernetes":
        manifest = by_file.get(str(record.get("file_path", "")).lstrip("/"))
        return graph.get(manifest.urn) if manifest else None
    address = record.get("resource_address") or record.get("resource") or ""
    planned = translation.plan.resources.get(address)
    if planned is not None:
        return planned.graph_resource
    provider_urn = translation.plan.providers.get(address)
    return graph.get(provider_urn) if provider_urn else None


def _result(record: dict[str, Any], status: str, resource: Optional[GraphResource], framework: str) -> CheckResult:
    rule = Rule(
        id=record.get("check_id", "?"),
        name=record.get("check_name", ""),
        help_uri=record.get("guideline") or None,
    )
    result = CheckResult(rule=rule, status=status, enforcement=MANDATORY, message=rule.name)
    if resource is None:
        result.resource_name = record.get("resource")
        result.resource_type = framework
        return result
    return _located(result, resource)


def _located(result: CheckResult, resource: GraphResource) -> CheckResult:
    result.urn = resource.urn
    result.resource_type = resource.type
    result.resource_name = resource.name
    if resource.source is not None:
        result.file, result.line = resource.source.file, resource.source.line
    tags = resource.effective_tags or {}
    result.team = tags.get("team") or (Path(resource.source.file).stem if resource.source else None)
    return result


def _matching_skip(skips: list[Skip], record: dict[str, Any], resource: GraphResource, stack_name: str,
                   stack: Optional[StackConfig]) -> Optional[Skip]:
    types = (resource.type, str(record.get("resource", "")).split(".", 1)[0])
    for skip in skips:
        if (skip.matches(record.get("check_id", ""), types, resource.name, resource.urn)
                and skip.holds_for(resource, stack_name, stack)):
            return skip
    return None


def _stats(report: FindingsReport, translation: Translation, skips: list[Skip], used: set[Skip]) -> dict[str, Any]:
    scanned: Counter[str] = Counter(item.graph_resource.type for item in translation.plan.resources.values())
    for manifest in translation.manifests.manifests:
        scanned[manifest.urn.split("::")[2].split("$")[-1]] += 1
    for provider_urn in translation.plan.providers.values():  # checkov checks provider configs too
        scanned[provider_urn.split("::")[2].split("$")[-1]] += 1
    per_type: dict[str, Counter] = defaultdict(Counter)
    for result in report.results:
        if result.rule.id != UNMAPPED_RULE.id:
            per_type[result.resource_type or "?"][result.status] += 1
    return {
        "checksPassed": len(report.by_status(PASSED)),
        "resourcesScanned": sum(scanned.values()),
        "resourcesScannedByType": dict(sorted(scanned.items())),
        "checksByType": {key: dict(sorted(counts.items())) for key, counts in sorted(per_type.items())},
        "unmappedTypes": sorted({resource.type for resource in translation.unmapped}),
        "unusedSkips": [f"{skip.file}:{skip.line}: {skip.check}" for skip in skips if skip not in used],
    }


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
