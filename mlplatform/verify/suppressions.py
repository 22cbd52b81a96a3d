"""Reviewed suppressions of verify findings: ``policies/verify-suppressions.yaml``.

The same discipline as checkov's skips (:mod:`mlplatform.checkov.skips`): every finding we
accept is written down with the rule, the resources it covers, why, and who answers for
it. An entry missing any of them is a usage error (exit 2), not a silent pass. A
suppressed finding stays in every report, marked skipped with its justification; an entry
that matches no finding is reported (advisory), so stale entries get removed.

```yaml
suppressions:
  - rule: MLP-AWS-001                       # rule id of the finding
    resource: "nlp-research-endpoint-*"     # glob on the resource's Pulumi name or URN
    reason: why the finding is accepted
    owner: who answers for it
```
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from ..errors import Issue, UsageError
from ..reports.findings import ADVISORY, FAILED, SKIPPED, CheckResult, Rule
from ..reviewed_file import one_line, read_reviewed_file, stacks_of
from ..stackconfig import PROJECT_ROOT

DEFAULT_SUPPRESSIONS = PROJECT_ROOT / "policies" / "verify-suppressions.yaml"
FIELDS = ("rule", "resource", "reason", "owner")
#: optional: the stacks an entry is for (a finding that exists only where replication is on,
#: say); without it an entry applies, and must be used, on every stack
OPTIONAL_FIELDS = ("stacks",)

UNUSED_RULE = Rule("MLP-VRF-000", "Verify suppression is in use",
                   "Every entry of the verify suppression file matches at least one finding.",
                   "Remove the entry (the finding it covered is gone) or correct its rule or resource glob.")


@dataclass(frozen=True)
class Suppression:
    rule: str
    resource: str
    reason: str
    owner: str
    file: str = ""
    line: int = 0
    stacks: Optional[tuple[str, ...]] = None

    def applies_to(self, stack: Optional[str]) -> bool:
        return self.stacks is None or stack is None or stack in self.stacks

    def matches(self, result: CheckResult) -> bool:
        if result.rule.id != self.rule:
            return False
        return any(fnmatch.fnmatchcase(text, self.resource) for text in (result.resource_name, result.urn) if text)

    def justification(self) -> dict[str, str]:
        return {"reason": self.reason, "owner": self.owner, "suppression": f"{self.file}:{self.line}"}


def load_suppressions(path: Union[str, Path, None] = None) -> list[Suppression]:
    """The entries of ``path`` (default ``policies/verify-suppressions.yaml``; a missing
    default is empty). Any problem is one :class:`UsageError` listing every bad entry."""
    reviewed = read_reviewed_file(path, DEFAULT_SUPPRESSIONS, "suppressions", "suppression",
                                  FIELDS + OPTIONAL_FIELDS, FIELDS)
    if reviewed.issues:
        _fail(reviewed.issues)
    return [Suppression(rule=entry["rule"].strip(), resource=entry["resource"].strip(),
                        reason=one_line(entry["reason"]), owner=entry["owner"].strip(),
                        file=reviewed.file, line=reviewed.line(where), stacks=stacks_of(entry))
            for where, entry in reviewed.valid_entries()]


def apply_suppressions(results: list[CheckResult], suppressions: list[Suppression],
                       stack: Optional[str] = None, report_unused: bool = True) -> list[CheckResult]:
    """Failed results an entry covers become skipped with its justification; each
    entry that covered nothing adds an advisory finding."""
    used: set[Suppression] = set()
    for result in results:
        if result.status != FAILED:
            continue
        for suppression in suppressions:
            if suppression.applies_to(stack) and suppression.matches(result):
                result.status = SKIPPED
                result.justification = suppression.justification()
                used.add(suppression)
                break
    unused = [
        CheckResult(rule=UNUSED_RULE, status=FAILED, enforcement=ADVISORY, file=item.file, line=item.line,
                    message=f"suppression of {item.rule} for '{item.resource}' matches no finding"
                            + (f" on stack {stack}" if stack else ""))
        for item in suppressions if item not in used and item.applies_to(stack)
    ] if report_unused else []
    return results + unused


def _fail(issues: list[Issue]) -> None:
    raise UsageError("\n".join(issue.format() for issue in issues))
