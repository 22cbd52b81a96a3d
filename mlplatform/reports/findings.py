"""Findings reports shared by every checker (policy pack, checkov, and ``mlp ci``).

A checker produces :class:`CheckResult` objects, one per (rule, resource) it judged,
and hands them to a :class:`FindingsReport`; this module renders the report as text,
JSON, Markdown, SARIF 2.1.0 (for code scanning) and JUnit XML (for CI test tabs). Keeping
one result shape means a finding carries the same rule id, enforcement level, URN and
spec position in every format, and ``mlp ci`` can merge reports from different tools.

A finding on a team resource speaks the spec (issue 17): :func:`attach_spec` gives it the
spec field the author changes (``spec.endpoints[scorer].dataCapture``, from the resource's
source and :data:`mlplatform.guardrails.SPEC_FIELDS`) and the spec-level fix, and every
renderer shows both: text and Markdown inline, JSON as ``specField``/``fix``, SARIF in the
message and as a logical location next to the spec file's line, JUnit in the failure.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from ..guardrails import spec_field, spec_fix

#: Status of one judged (rule, resource) pair.
PASSED, FAILED, SKIPPED, EXEMPTED = "passed", "failed", "skipped", "exempted"
STATUSES = (PASSED, FAILED, SKIPPED, EXEMPTED)

#: Enforcement levels, as the Pulumi engine names them; checkov failures are mandatory.
MANDATORY, ADVISORY, DISABLED = "mandatory", "advisory", "disabled"

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {MANDATORY: "error", ADVISORY: "warning", DISABLED: "note"}


@dataclass(frozen=True)
class Rule:
    """What a check is, independent of any resource it judged."""

    id: str
    name: str
    description: str = ""
    remediation: str = ""
    help_uri: Optional[str] = None


@dataclass
class CheckResult:
    """One rule's verdict on one resource (or on the whole stack when ``urn`` is None)."""

    rule: Rule
    status: str
    enforcement: str = MANDATORY
    message: str = ""
    urn: Optional[str] = None
    resource_type: Optional[str] = None
    resource_name: Optional[str] = None
    file: Optional[str] = None  # team spec file that produced the resource
    line: Optional[int] = None
    team: Optional[str] = None
    #: The spec field to change (as validate names it) and the spec-level fix; see attach_spec.
    spec_field: Optional[str] = None
    fix: str = ""
    #: Why a skipped or exempted result does not count: reason, approver, expiry, owner.
    justification: dict[str, str] = field(default_factory=dict)
    #: column of the spec value at ``line`` (1-based), when the plan recorded it
    column: Optional[int] = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown check status {self.status!r}")

    @property
    def blocking(self) -> bool:
        """A failure that must stop the change (mandatory and not exempted)."""
        return self.status == FAILED and self.enforcement == MANDATORY

    @property
    def where(self) -> str:
        if self.file:
            return f"{self.file}:{self.line or 1}" + (f":{self.column}" if self.column else "")
        return self.resource_name or "(stack)"

    @property
    def spec_advice(self) -> str:
        """``field: fix`` in the spec's words, or '' when the finding has neither."""
        if self.spec_field and self.fix:
            return f"{self.spec_field}: {_one_line(self.fix)}"
        return self.spec_field or _one_line(self.fix)

    def to_json(self) -> dict[str, Any]:
        return {
            "ruleId": self.rule.id,
            "ruleName": self.rule.name,
            "status": self.status,
            "enforcement": self.enforcement,
            "message": self.message,
            "remediation": self.rule.remediation,
            "urn": self.urn,
            "resourceType": self.resource_type,
            "resourceName": self.resource_name,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "team": self.team,
            "specField": self.spec_field,
            "fix": self.fix,
            "justification": dict(sorted(self.justification.items())),
        }


@dataclass
class FindingsReport:
    """Every result of one tool's run over one stack, ready to render."""

    tool: str  # e.g. "mlp-policy", "checkov"
    stack: str
    results: list[CheckResult] = field(default_factory=list)
    #: Extra figures a tool wants shown (e.g. resources scanned per type, timings).
    stats: dict[str, Any] = field(default_factory=dict)
    tool_version: str = ""

    def by_status(self, status: str) -> list[CheckResult]:
        return [result for result in self.results if result.status == status]

    @property
    def blocking(self) -> list[CheckResult]:
        return [result for result in self.results if result.blocking]

    @property
    def advisories(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == FAILED and r.enforcement != MANDATORY]

    def counts(self) -> dict[str, int]:
        return {status: len(self.by_status(status)) for status in STATUSES}

    @property
    def exit_code(self) -> int:
        return 1 if self.blocking else 0


def attach_spec(results: Iterable[CheckResult], graph: Any) -> None:
    """Give each finding on a resource built from a team spec its spec field and fix.

    ``graph`` is the ResourceGraph the results were judged on; a result keeps what its
    checker already set. A result located at its resource's spec line also gets the
    column, so every format names ``file:line:col`` as ``mlp validate`` does. Findings without a spec source (platform resources) keep the
    rule's own remediation as their fix."""
    for result in results:
        if result.status == PASSED:
            continue
        resource = graph.get(result.urn) if result.urn else None
        source = resource.source if resource is not None else None
        if (result.column is None and source is not None and source.column
                and (result.file, result.line) == (source.file, source.line)):
            result.column = source.column  # the checker located it at the resource's spec line
        if result.spec_field is None and source is not None:
            result.spec_field = spec_field(result.rule.id, getattr(source, "field", None))
        if not result.fix:
            result.fix = spec_fix(result.rule.id, result.rule.remediation) if source is not None \
                else result.rule.remediation


# ---------------------------------------------------------------- renderers

def render_text(report: FindingsReport) -> str:
    lines = []
    for result in sorted(report.results, key=_problem_order):
        if result.status == PASSED:
            continue
        tag = {FAILED: result.enforcement, SKIPPED: "skipped", EXEMPTED: "exempted"}[result.status]
        detail = _one_line(result.message or result.rule.name)
        lines.append(f"{result.where}: {tag}: {result.rule.id}: {detail} [{result.resource_name or '(stack)'}]")
        if result.status == FAILED and result.spec_advice:
            lines.append(f"    fix: {result.spec_advice}")
        if result.justification:
            lines.append("    " + _justification_text(result.justification))
    counts = report.counts()
    lines.append(
        f"{report.tool} on stack {report.stack}: {counts[PASSED]} passed, {counts[FAILED]} failed "
        f"({len(report.blocking)} mandatory), {counts[SKIPPED]} skipped, {counts[EXEMPTED]} exempted"
    )
    return "\n".join(lines) + "\n"


def render_json(report: FindingsReport) -> str:
    data = {
        "tool": report.tool,
        "toolVersion": report.tool_version,
        "stack": report.stack,
        "passed": not report.blocking,
        "counts": report.counts(),
        "stats": report.stats,
        "results": [result.to_json() for result in sorted(report.results, key=_problem_order)],
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def render_markdown(report: FindingsReport, title: Optional[str] = None) -> str:
    counts = report.counts()
    verdict = ":white_check_mark: pass" if not report.blocking else f":x: {len(report.blocking)} mandatory failure(s)"
    lines = [
        f"### {title or report.tool} — stack `{report.stack}`",
        "",
        f"{verdict} · {counts[PASSED]} passed · {counts[FAILED]} failed · "
        f"{counts[SKIPPED]} skipped · {counts[EXEMPTED]} exempted",
        "",
    ]
    problems = [r for r in sorted(report.results, key=_problem_order) if r.status != PASSED]
    if problems:
        lines += ["| status | rule | resource | spec | message |", "|---|---|---|---|---|"]
        for result in problems:
            status = result.enforcement if result.status == FAILED else result.status
            message = _one_line(result.message or result.rule.name)
            if result.status == FAILED and result.fix:
                message += " — **fix:** " + _one_line(result.fix)
            if result.justification:
                message += " — " + _justification_text(result.justification)
            spec = ("`" + result.where + "`") if result.file else ""
            if result.spec_field:
                spec += f" `{_md(result.spec_field)}`"
            lines.append(
                f"| {status} | `{result.rule.id}` | `{_md(result.resource_name or '(stack)')}` | "
                f"{spec} | {_md(message)} |"
            )
        lines.append("")
    return "\n".join(lines)


def render_sarif(report: FindingsReport) -> str:
    """SARIF 2.1.0: failures as results; skips and exemptions as suppressed results."""
    rules: dict[str, Rule] = {}
    for result in report.results:
        rules.setdefault(result.rule.id, result.rule)
    rule_ids = sorted(rules)
    sarif_results = []
    for result in sorted(report.results, key=_problem_order):
        if result.status == PASSED:
            continue
        item: dict[str, Any] = {
            "ruleId": result.rule.id,
            "ruleIndex": rule_ids.index(result.rule.id),
            "level": _SARIF_LEVEL.get(result.enforcement, "warning"),
            "message": {"text": _sarif_message(result)},
            "locations": [_sarif_location(result, report.stack)],
            "properties": {"urn": result.urn, "resourceType": result.resource_type, "team": result.team,
                           "specField": result.spec_field, "fix": result.fix or None},
        }
        if result.status in (SKIPPED, EXEMPTED):
            item["suppressions"] = [{
                "kind": "external",
                "justification": _justification_text(result.justification) or result.status,
            }]
        sarif_results.append(item)
    driver = {
        "name": report.tool,
        "version": report.tool_version or "0",
        "rules": [_sarif_rule(rules[rule_id]) for rule_id in rule_ids],
    }
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": sarif_results,
                  "properties": {"stack": report.stack}}],
    }
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def render_junit(report: FindingsReport) -> str:
    """JUnit XML: one test case per (rule, resource); mandatory failures fail, skips skip.

    An advisory finding is advice, not a failure: a CI test reporter counts every
    ``<failure>`` as a failed test, so a passing run would show red tests. It is written as
    a passing test case whose ``<system-out>`` carries the advice (level, message, where,
    remediation), which reporters show with the case. Not ``<skipped>``: the rule did run
    and did judge the resource, and skipped is reserved for justified skips and exemptions
    that were not judged on purpose.
    """
    suite = ElementTree.Element(
        "testsuite",
        name=f"{report.tool}:{report.stack}",
        tests=str(len(report.results)),
        failures=str(len(report.blocking)),
        skipped=str(len(report.by_status(SKIPPED)) + len(report.by_status(EXEMPTED))),
        errors="0",
    )
    for result in sorted(report.results, key=_problem_order):
        case = ElementTree.SubElement(
            suite, "testcase",
            classname=result.rule.id,
            name=result.resource_name or result.urn or "(stack)",
            file=result.file or "",
            line=str(result.line or ""),
        )
        if result.blocking:
            failure = ElementTree.SubElement(
                case, "failure", type=result.enforcement, message=_one_line(result.message or result.rule.name))
            failure.text = "\n".join(filter(None, [result.urn, result.where, result.spec_field,
                                                   "fix: " + _one_line(result.fix or result.rule.remediation)
                                                   if (result.fix or result.rule.remediation) else ""]))
        elif result.status == FAILED:  # advice: a passing case that says what to consider
            advice = ElementTree.SubElement(case, "system-out")
            advice.text = "\n".join(filter(None, [
                f"{result.enforcement}: {_one_line(result.message or result.rule.name)}",
                result.where, result.spec_field, result.urn, result.fix or result.rule.remediation]))
        elif result.status in (SKIPPED, EXEMPTED):
            ElementTree.SubElement(
                case, "skipped", message=f"{result.status}: {_justification_text(result.justification)}")
    suites = ElementTree.Element("testsuites")
    suites.append(suite)
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


RENDERERS = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
    "sarif": render_sarif,
    "junit": render_junit,
}


# ---------------------------------------------------------------- helpers

def _problem_order(result: CheckResult) -> tuple:
    severity = {FAILED: 0, EXEMPTED: 1, SKIPPED: 2, PASSED: 3}[result.status]
    mandatory = 0 if result.enforcement == MANDATORY else 1
    return (severity, mandatory, result.rule.id, result.file or "", result.line or 0, result.urn or "")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _justification_text(justification: dict[str, str]) -> str:
    return "; ".join(f"{key}: {_one_line(value)}" for key, value in sorted(justification.items()) if value)


def _sarif_message(result: CheckResult) -> str:
    """The finding, then the spec field and fix: code scanning shows only the message inline."""
    text = _one_line(result.message or result.rule.name)
    if result.status == FAILED and result.spec_advice:
        text += f" Fix in the spec: {result.spec_advice}"
    return text


def _sarif_location(result: CheckResult, stack: str) -> dict[str, Any]:
    """Where code scanning shows the finding: the spec line (and column) that produced the
    resource, or, for a finding no team spec decides (a platform resource, a stack-wide
    rule), the stack's config file: code scanning needs a file for every result."""
    from ..stackconfig import stack_file_name

    region: dict[str, Any] = {"startLine": max(1, result.line or 1)}
    if result.file and result.column:
        region["startColumn"] = result.column
    location: dict[str, Any] = {"physicalLocation": {
        "artifactLocation": {"uri": result.file or stack_file_name(stack)},
        "region": region,
    }}
    if result.file and result.spec_field:
        location["logicalLocations"] = [{"fullyQualifiedName": result.spec_field, "kind": "member"}]
    elif not result.file:
        location["logicalLocations"] = [{"fullyQualifiedName": result.urn or "(stack)", "kind": "resource"}]
    return location


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": _one_line(rule.name)},
        "fullDescription": {"text": _one_line(rule.description or rule.name)},
        "help": {"text": _one_line(rule.remediation or rule.description or rule.name)},
    }
    if rule.help_uri:
        item["helpUri"] = rule.help_uri
    return item


def combine_sarif(reports: list[FindingsReport]) -> str:
    """One SARIF log with a run per tool, as code scanning accepts it."""
    runs = []
    for report in reports:
        runs.extend(json.loads(render_sarif(report))["runs"])
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}, indent=1, sort_keys=True) + "\n"


def combine_junit(reports: list[FindingsReport]) -> str:
    """One JUnit document with a test suite per tool."""
    suites = ElementTree.Element("testsuites")
    for report in reports:
        document = ElementTree.fromstring(render_junit(report).split("?>", 1)[1])
        suites.extend(list(document))
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
