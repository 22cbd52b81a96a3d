"""IAM lint: every identity, trust and resource policy of the plan, through parliament.

parliament (duo-labs, PyPI ``parliament``) checks a policy document against AWS's IAM
reference (the actions, resource types and condition keys each service defines): unknown
actions and prefixes, resources of the wrong type for an action, condition keys an action
does not support, operator/value type mismatches, malformed elements, and, through its
community auditors, privilege escalation, credentials exposure, permissions management
and ``NotPrincipal``/``NotResource`` with Allow. We call its API
(:func:`parliament.analyze_policy_string`) and do not re-implement any check.

parliament 1.6.4 has no switch for the kind of policy (duo-labs/parliament issue #14 is
open): it lints every document as an identity policy that may carry a ``Principal``. Three
facts of AWS's policy grammar therefore need telling to it, here and nowhere else:

* a **trust policy** has no ``Resource`` element; the resource is the role itself. parliament
  rejects such a statement as MALFORMED (issue #229), so the lint adds the role's ARN as the
  statement's Resource, which lets parliament check the trust actions (``sts:AssumeRole``,
  ``sts:TagSession``, ...) and their condition keys against the role resource type;
* in a **KMS key policy**, ``"Resource": "*"`` means "this key" and is the only form KMS
  documents (KMS developer guide, "Key policies"), so RESOURCE_STAR and
  RESOURCE_EFFECTIVELY_STAR do not apply to key policies;
* IAM's Sid grammar (``[0-9A-Za-z]*``) binds identity policies only; a **resource policy**'s
  Sid follows its service (a Lambda statement id may hold ``-``, AWS's default key policy Sid
  has spaces). parliament stops analysing a statement at INVALID_SID, so such Sids are
  swapped for stand-ins while linting (findings keep the real Sid).

One parliament defect is corrected, from parliament's own data: condition keys that the
Service Authorization Reference defines on a resource type (``kms:ResourceAliases`` on a
KMS key) are not "unknown" for the actions on that type (:func:`_resource_type_condition`).
Three of parliament's pure look-ups are indexed or memoised (:func:`_parliament`); answers
are unchanged, the lint takes about a third of the time.

Severity: parliament's CRITICAL, HIGH and MEDIUM become mandatory, LOW and INFO advisory,
except the overrides in :data:`ENFORCEMENT_OVERRIDES`, each with its reason. Every finding
becomes a :class:`~mlplatform.reports.findings.CheckResult` with a stable rule id
``MLP-IAM-<PARLIAMENT-ISSUE>``, naming the resource, the document, the statement (its Sid
or index) and, for team resources, the spec file:line. A document that cannot be read
(malformed JSON, a secret, a value unknown until apply) is a finding of its own, never a
pass. Accepted findings are listed, with reason and owner, in the verify suppression file.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..graph import GraphResource, ResourceGraph
from ..reports.findings import ADVISORY, FAILED, MANDATORY, PASSED, CheckResult, Rule
from ..stackconfig import StackConfig
from .iam_documents import IDENTITY, RESOURCE, TRUST, PolicyDocument, UnreadableDocument, iter_documents, \
    parse_document, unknown_paths

RULE_PREFIX = "MLP-IAM-"
PARLIAMENT_URI = "https://github.com/duo-labs/parliament"

#: parliament's severity -> our enforcement level.
SEVERITY_ENFORCEMENT = {"CRITICAL": MANDATORY, "HIGH": MANDATORY, "MEDIUM": MANDATORY,
                        "LOW": ADVISORY, "INFO": ADVISORY, "MUTE": ADVISORY}

#: parliament issue -> (enforcement, why it differs from parliament's severity).
ENFORCEMENT_OVERRIDES: dict[str, tuple[str, str]] = {
    "UNKNOWN_ACTION": (MANDATORY, "an action no service defines grants nothing: the access the statement was "
                                  "written for is missing at runtime, and IAM accepts the policy (it checks "
                                  "an action's form, not that it exists)"),
    "UNKNOWN_PREFIX": (MANDATORY, "a service prefix IAM does not know grants nothing, like an unknown action"),
    "PERMISSIONS_MANAGEMENT_ACTIONS": (ADVISORY, "names a class of actions to review (iam:PassRole, "
                                                 "kms:CreateGrant): least-privilege policies need some of them, "
                                                 "and their scoping is judged by the resource and condition checks"),
    "CREDENTIALS_EXPOSURE": (ADVISORY, "names a class of actions to review (ecr:GetAuthorizationToken, "
                                       "sts:AssumeRole) that workloads legitimately need"),
}

#: Per kind of document, parliament issues that do not apply to it, and why.
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    "key": {
        "RESOURCE_STAR": 'a key policy\'s "Resource": "*" means the key itself (KMS developer guide, key policies)',
        "RESOURCE_EFFECTIVELY_STAR": 'a key policy\'s Resource always means the key itself',
    },
    TRUST: {
        "CREDENTIALS_EXPOSURE": "granting sts:AssumeRole* to the named principal is what a trust policy is for",
    },
    RESOURCE: {
        "INVALID_SID": "IAM's Sid grammar ([0-9A-Za-z]*) binds identity policies; each service that owns a "
                       "resource policy has its own (Lambda statement ids allow - _ . ; AWS's default key "
                       "policy Sid has spaces), which the AWS acceptance checker judges against botocore",
    },
}

#: Community auditors run per role. sensitive_access is left out: it reports only resources
#: listed in its own configuration, which is empty, so it could never find anything.
COMMUNITY_AUDITORS: dict[str, tuple[str, ...]] = {
    IDENTITY: ("advanced_policy_elements", "single_value_condition_too_permissive", "privilege_escalation",
               "permissions_management", "credentials_exposure"),
    RESOURCE: ("advanced_policy_elements", "single_value_condition_too_permissive", "privilege_escalation",
               "permissions_management", "credentials_exposure"),
    TRUST: ("advanced_policy_elements", "single_value_condition_too_permissive"),
}

#: Our own rules, for documents parliament cannot be given.
UNREADABLE = Rule(
    id=f"{RULE_PREFIX}UNREADABLE", name="IAM document cannot be read",
    description="The document is a secret, not a JSON object, or not text, so it cannot be linted.",
    remediation="Build the document with json.dumps / the components.iam builders; keep policies out of secrets.",
    help_uri=PARLIAMENT_URI)
MALFORMED_JSON = Rule(
    id=f"{RULE_PREFIX}MALFORMED-JSON", name="IAM document is not valid JSON",
    description="IAM accepts only RFC 8259 JSON; AWS rejects the document with MalformedPolicyDocument.",
    remediation="Build the document with json.dumps / the components.iam builders, never by string formatting.",
    help_uri=PARLIAMENT_URI)
UNRESOLVED = Rule(
    id=f"{RULE_PREFIX}UNRESOLVED", name="IAM document holds a value unknown until apply",
    description="Part of the document is Pulumi's unknown marker, so the lint cannot judge it. On the resolved "
                "plan this means the resolver does not yet fabricate that value.",
    remediation="Run verify on the resolved plan; if it persists, teach the resolver the missing apply-time value.",
    help_uri=PARLIAMENT_URI)
LINT_ERROR = Rule(
    id=f"{RULE_PREFIX}EXCEPTION", name="parliament failed on the document",
    description="parliament raised an error while analysing the document (or one of its auditors), so the "
                "document, or that part of it, was not checked; usually an element of the wrong JSON type.",
    remediation="Read the message; a parliament defect may need a suppression with a reason.",
    help_uri=PARLIAMENT_URI)
LINT_PASSED = Rule(
    id=f"{RULE_PREFIX}LINT", name="IAM document passes parliament",
    description="Every IAM document of the plan is linted by parliament; this records the ones without findings.",
    help_uri=PARLIAMENT_URI)

REMEDIATION: dict[str, str] = {
    "UNKNOWN_ACTION": "Use an action the service defines (Service Authorization Reference); check spelling and case.",
    "UNKNOWN_PREFIX": "Use the service's IAM prefix (Service Authorization Reference).",
    "RESOURCE_MISMATCH": "Name a resource of the type the action takes, or \"*\" for actions that take none.",
    "UNKNOWN_CONDITION_FOR_ACTION": "Use a condition key the action supports, or move the statement's "
                                    "actions that do not support it into a statement of their own.",
    "MISMATCHED_TYPE": "Use the condition operator family of the key's type (String*, Arn*, Numeric*, Bool, ...).",
    "RESOURCE_STAR": "Scope the statement to the resources it acts on.",
    "PRIVILEGE_ESCALATION": "Remove the combination of actions, or scope it to resources that cannot escalate.",
}


# ------------------------------------------------------------------------ parliament


@functools.lru_cache(maxsize=1)
def _parliament():
    """parliament, imported on first use (it loads its 6 MB IAM reference on import) with
    its community auditors' finding definitions registered, as its CLI does."""
    import parliament
    import parliament.statement

    parliament.override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")
    parliament.statement.get_privilege_info = _indexed_privilege_info(parliament)
    # is_glob_match and is_arn_match are pure functions of their strings, called tens of
    # thousands of times per estate with the same ARN patterns: memoised, they give the same
    # answers in about half the time. is_glob_match recurses through the module global, and
    # statement.py holds its own reference to is_arn_match, so both names are replaced.
    parliament.is_glob_match = functools.lru_cache(maxsize=1 << 16)(parliament.is_glob_match)
    arn_match = functools.lru_cache(maxsize=1 << 16)(parliament.is_arn_match)
    parliament.is_arn_match = arn_match
    parliament.statement.is_arn_match = arn_match
    return parliament


def _indexed_privilege_info(parliament):
    """parliament's ``statement.get_privilege_info`` with a dictionary in place of its linear
    scan of the whole IAM reference (half the lint's time, once per action and statement).

    Same answers: the first service with the prefix, its first privilege of that name, with
    ``service_resources`` and ``service_conditions`` set on it as the original does; an
    unknown pair raises the same UnknownActionException.
    """
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for service in parliament.iam_definition:
        for privilege in service["privileges"]:
            key = (service["prefix"], privilege["privilege"])
            if key not in index:
                privilege["service_resources"] = service["resources"]
                privilege["service_conditions"] = service["conditions"]
                index[key] = privilege
    unknown = parliament.UnknownActionException

    def get_privilege_info(service: str, action: str) -> dict[str, Any]:
        try:
            return index[(service, action)]
        except KeyError:
            raise unknown(f"Unknown action {service}:{action}") from None

    return get_privilege_info


@functools.lru_cache(maxsize=None)
def _auditor(name: str):
    return importlib.import_module(f"parliament.community_auditors.{name}")


def parliament_version() -> str:
    return _parliament().__version__


@dataclass
class LintFinding:
    """One parliament finding on one document, placed on a statement where it has one."""

    issue: str
    severity: str
    title: str
    description: str
    detail: str
    statement: Optional[str]  # "Sid" or "Statement[2]"; None for document-level findings


@dataclass
class _Layout:
    """The text handed to parliament and the line span of each statement in it."""

    text: str
    spans: list[tuple[int, int, str]]  # (first line, last line, label)

    def statement_at(self, line: Any) -> Optional[str]:
        if not isinstance(line, int):
            return None
        for first, last, label in self.spans:
            if first <= line <= last:
                return label
        return None


def _statement_label(statement: Any, index: Optional[int]) -> str:
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    where = "Statement" if index is None else f"Statement[{index}]"
    return f"{where} (Sid {sid})" if isinstance(sid, str) and sid else where


def layout(document: dict[str, Any], labels: Optional[list[str]] = None) -> _Layout:
    """The document as indented JSON, one statement after another, so a finding's line
    tells which statement it is on (``labels`` overrides the statements' labels)."""
    lines = ["{"]
    items = [(key, value) for key, value in document.items() if key != "Statement"]
    for key, value in items:
        lines.append(f" {json.dumps(key)}: {json.dumps(value)},")
    spans: list[tuple[int, int, str]] = []
    statements = document.get("Statement")
    if "Statement" not in document:
        lines[-1] = lines[-1].rstrip(",") if len(lines) > 1 else lines[-1]
    elif isinstance(statements, list):
        lines.append(' "Statement": [')
        for index, statement in enumerate(statements):
            body = json.dumps(statement, indent=1).splitlines()
            first = len(lines) + 1
            if index < len(statements) - 1:
                body[-1] += ","
            lines.extend(body)
            label = labels[index] if labels else _statement_label(statement, index)
            spans.append((first, len(lines), label))
        lines.append(" ]")
    else:
        body = json.dumps(statements, indent=1).splitlines()
        first = len(lines) + 1
        body[0] = ' "Statement": ' + body[0]
        lines.extend(body)
        spans.append((first, len(lines), labels[0] if labels else _statement_label(statements, None)))
    lines.append("}")
    return _Layout("\n".join(lines), spans)


_IAM_SID = re.compile(r"^[0-9A-Za-z]*$")


def _iam_grammar_sids(document: dict[str, Any]) -> tuple[dict[str, Any], Optional[list[str]]]:
    """A resource policy whose Sids parliament can read, and the statements' real labels.

    parliament stops analysing a statement whose Sid breaks IAM's identity-policy grammar,
    which would leave the rest of, say, a Lambda permission (Sid ``team-fn-invoke-1a2b3c4``)
    unchecked. Such a Sid is replaced, for parliament only, by a stand-in derived from it
    (equal Sids stay equal, so DUPLICATE_SID still works); findings keep the real Sid.
    """
    statements = document.get("Statement")
    single = not isinstance(statements, list)
    items = [statements] if single else list(statements or [])
    labels = [_statement_label(item, None if single else index) for index, item in enumerate(items)]
    changed = False
    for index, item in enumerate(items):
        sid = item.get("Sid") if isinstance(item, dict) else None
        if isinstance(sid, str) and not _IAM_SID.match(sid):
            items[index] = {**item, "Sid": "Sid" + hashlib.sha256(sid.encode()).hexdigest()[:16]}
            changed = True
    if not changed:
        return document, None
    return {**document, "Statement": items[0] if single else items}, labels


def _with_implicit_resource(document: dict[str, Any], resource: str) -> dict[str, Any]:
    """A trust policy with the role as the Resource of every statement that has none."""
    statements = document.get("Statement")

    def fill(statement: Any) -> Any:
        if isinstance(statement, dict) and "Resource" not in statement and "NotResource" not in statement:
            return {**statement, "Resource": resource}
        return statement

    if isinstance(statements, list):
        return {**document, "Statement": [fill(statement) for statement in statements]}
    return {**document, "Statement": fill(statements)}


def lint_json(document: dict[str, Any], role: str, key_policy: bool = False,
              implicit_resource: Optional[str] = None) -> list[LintFinding]:
    """parliament's findings on one parsed document of the given role."""
    parliament = _parliament()
    if role == TRUST and implicit_resource:
        document = _with_implicit_resource(document, implicit_resource)
    labels = None
    if role == RESOURCE:
        document, labels = _iam_grammar_sids(document)
    placed = layout(document, labels)
    policy = parliament.analyze_policy_string(placed.text, ignore_private_auditors=True)
    if policy.policy_json is not None and policy.is_valid and "Statement" in document:
        _run_community_auditors(policy, COMMUNITY_AUDITORS[role])
    skip = dict(NOT_APPLICABLE.get(role, {}))
    if key_policy:
        skip.update(NOT_APPLICABLE["key"])
    findings: list[LintFinding] = []
    for finding in policy.findings:
        finding = parliament.enhance_finding(finding)
        if finding.issue in skip or _resource_type_condition(finding):
            continue
        location = finding.location if isinstance(finding.location, dict) else {}
        findings.append(LintFinding(
            issue=finding.issue, severity=finding.severity, title=finding.title,
            description=finding.description or "", detail=_detail_text(finding.detail, location),
            statement=placed.statement_at(location.get("line", location.get("lineno")))))
    return findings


_UNKNOWN_CONDITION = re.compile(r"^Unknown condition (?P<key>\S+) for action (?P<service>[^:\s]+):(?P<action>\S+)$")


def _resource_type_condition(finding) -> bool:
    """True for parliament's UNKNOWN_CONDITION_FOR_ACTION on a key that the Service
    Authorization Reference defines on a *resource type* the action takes.

    AWS lists such keys (``kms:ResourceAliases``, ``aws:ResourceTag/${TagKey}`` on a KMS
    key, ...) in the resource-types table, and they apply to every action on that resource
    type; parliament's data has them (``resources[].condition_keys``) but its condition
    check only reads the per-action keys, so it reports them as unknown. This is the one
    parliament defect corrected here, from parliament's own data.
    """
    if finding.issue != "UNKNOWN_CONDITION_FOR_ACTION":
        return False
    match = _UNKNOWN_CONDITION.match(str(finding.detail))
    if match is None:
        return False
    parliament = _parliament()
    from parliament.statement import is_condition_key_match

    try:
        privilege = parliament.statement.get_privilege_info(match["service"], match["action"])
    except parliament.UnknownActionException:
        return False
    taken = {entry["resource_type"].replace("*", "") for entry in privilege["resource_types"]}
    for resource in privilege["service_resources"]:
        if resource["resource"] in taken and any(
                is_condition_key_match(documented, match["key"]) for documented in resource["condition_keys"]):
            return True
    return False


def _run_community_auditors(policy, names: tuple[str, ...]) -> None:
    """The chosen community auditors, each as parliament's own analyze() runs them (an
    auditor that raises becomes an EXCEPTION finding). They all start from the policy's
    allowed actions, which is the expensive part, so it is computed once per document."""
    policy.get_allowed_actions = functools.lru_cache(maxsize=None)(policy.get_allowed_actions)
    for name in names:
        try:
            _auditor(name).audit(policy)
        except Exception as exc:  # noqa: BLE001 - parliament's own contract for auditors
            policy.add_finding("EXCEPTION", detail=str(exc), location={"community_auditor": name})


def _detail_text(detail: Any, location: dict[str, Any]) -> str:
    """parliament's detail in words. Its community auditors collect actions in sets, whose
    order changes with every interpreter's hash seed; the actions are sorted so the same
    plan gives the same text on every run (a pull-request comment must not churn)."""
    parts: list[str] = []
    if isinstance(detail, list) and detail and all(isinstance(item, dict) for item in detail):
        parts.append("; ".join(f"{item.get('action')} needs {item.get('required_format')}" for item in detail))
    elif isinstance(detail, list):
        parts.append(", ".join(str(item) for item in detail))
    elif detail:
        parts.append(str(detail))
    if location.get("actions"):
        parts.append("actions: " + ", ".join(sorted(str(action) for action in location["actions"])))
    if location.get("string") and not parts:
        parts.append(str(location["string"]))
    if location.get("community_auditor"):
        parts.append(f"auditor {location['community_auditor']}")
    return "; ".join(parts)


# ------------------------------------------------------------------------ the checker


def rule_for(finding: LintFinding) -> Rule:
    if finding.issue == "EXCEPTION":
        return LINT_ERROR
    return Rule(id=RULE_PREFIX + finding.issue.replace("_", "-"), name=finding.title.strip(),
                description=finding.description.strip(), remediation=REMEDIATION.get(finding.issue, ""),
                help_uri=PARLIAMENT_URI)


def enforcement_for(issue: str, severity: str, role: str) -> str:
    if issue in ENFORCEMENT_OVERRIDES:
        return ENFORCEMENT_OVERRIDES[issue][0]
    return SEVERITY_ENFORCEMENT.get(severity, MANDATORY)


def check(graph: ResourceGraph, stack: StackConfig) -> list[CheckResult]:
    """Lint every IAM document of ``graph``: one failed result per finding, one passed
    result per document without findings."""
    results: list[CheckResult] = []
    for document in iter_documents(graph, stack):
        results.extend(check_document(graph, document))
    return results


def check_document(graph: ResourceGraph, document: PolicyDocument) -> list[CheckResult]:
    try:
        parsed = parse_document(document)
    except UnreadableDocument as exc:
        text = str(exc)
        rule = UNRESOLVED if text.startswith("unknown") else MALFORMED_JSON if text.startswith("malformed") \
            else UNREADABLE
        return [_result(graph, document, rule, FAILED, MANDATORY, f"{document.label}: {text}")]
    unknown = unknown_paths(parsed)
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" (+{len(unknown) - 5} more)" if len(unknown) > 5 else "")
        return [_result(graph, document, UNRESOLVED, FAILED, MANDATORY,
                        f"{document.label}: unknown until apply at {shown}; the document cannot be linted")]
    try:
        findings = lint_json(parsed, document.role, document.key_policy, document.implicit_resource)
    except Exception as exc:  # noqa: BLE001 - a parliament defect must be a finding, not a traceback
        return [_result(graph, document, LINT_ERROR, FAILED, MANDATORY,
                        f"{document.label}: parliament raised {type(exc).__name__}: {exc}")]
    if not findings:
        return [_result(graph, document, LINT_PASSED, PASSED, MANDATORY, f"{document.label}: no parliament finding")]
    results = []
    for finding in findings:
        where = f" {finding.statement}" if finding.statement else ""
        detail = f": {finding.detail}" if finding.detail else ""
        message = f"{document.label}{where}: {finding.title.strip()}{detail}"
        results.append(_result(graph, document, rule_for(finding), FAILED,
                               enforcement_for(finding.issue, finding.severity, document.role), message))
    return results


def _result(graph: ResourceGraph, document: PolicyDocument, rule: Rule, status: str, enforcement: str,
            message: str) -> CheckResult:
    resource = document.resource
    return CheckResult(
        rule=rule, status=status, enforcement=enforcement, message=message, urn=resource.urn,
        resource_type=resource.type, resource_name=resource.name,
        file=resource.source.file if resource.source else None,
        line=resource.source.line if resource.source else None,
        team=team_of(graph, resource))


def team_of(graph: ResourceGraph, resource: Optional[GraphResource]) -> Optional[str]:
    """The team a resource belongs to (:meth:`ResourceGraph.team_of`)."""
    return graph.team_of(resource)
