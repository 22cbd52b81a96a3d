"""Justified checkov skips: ``policies/checkov-skips.yaml``.

Every check we choose not to meet is written down with why and who answers for it; a skip
without a reason or an owner is an error, not a silent pass. A skip is a rule, not a list
of resources: it may be narrowed to a resource type (Pulumi token, Terraform type or
Kubernetes kind), to resources whose Pulumi name or URN matches a glob, to some stacks,
and to a named condition (:mod:`.conditions`) decided from the stack config or from the
resource's planned inputs and the instance catalogue. A skipped failure stays in the
report, marked skipped with its justification (and the condition that put it in force),
so reviewers see what is not enforced and why.

```yaml
skips:
  - check: CKV_AWS_144
    type: aws:s3/bucket:Bucket          # optional
    resource: "*-artifacts-bucket"      # optional glob on the Pulumi name or URN
    stacks: [dev]                       # optional: only on these stacks
    when: stack-does-not-replicate      # optional: only where this condition holds
    reason: dev artifacts are rebuilt from source; the stack keeps no second copy.
    owner: security@example.com
```
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from ..errors import SpecError
from ..graph import GraphResource
from ..stackconfig import PROJECT_ROOT, StackConfig
from ..reviewed_file import is_text, one_line, read_reviewed_file, stacks_of
from .conditions import CONDITIONS

DEFAULT_SKIPS = PROJECT_ROOT / "policies" / "checkov-skips.yaml"
CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
FIELDS = ("check", "type", "resource", "stacks", "when", "reason", "owner")


@dataclass(frozen=True)
class Skip:
    check: str
    reason: str
    owner: str
    type: Optional[str] = None
    resource: Optional[str] = None
    stacks: Optional[tuple[str, ...]] = None
    when: Optional[str] = None
    file: str = ""
    line: int = 0

    def matches(self, check_id: str, types: tuple[str, ...], name: str, urn: Optional[str]) -> bool:
        if check_id != self.check:
            return False
        if self.type is not None and self.type not in types:
            return False
        if self.resource is not None:
            return fnmatch.fnmatchcase(name, self.resource) or bool(urn and fnmatch.fnmatchcase(urn, self.resource))
        return True

    def in_force(self, stack_name: str, stack: Optional[StackConfig]) -> bool:
        """Whether the skip holds on this stack at all (its stacks and any stack condition)."""
        if self.stacks is not None and stack_name not in self.stacks:
            return False
        condition = CONDITIONS[self.when] if self.when else None
        return condition is None or not condition.stack_level or condition.holds(None, stack)

    def holds_for(self, resource: GraphResource, stack_name: str, stack: Optional[StackConfig]) -> bool:
        """Whether the skip covers ``resource`` once its check, type and name matched."""
        if not self.in_force(stack_name, stack):
            return False
        condition = CONDITIONS[self.when] if self.when else None
        return condition is None or condition.stack_level or condition.holds(resource, stack)

    def justification(self) -> dict[str, str]:
        details = {"reason": self.reason, "owner": self.owner, "skip": f"{self.file}:{self.line}"}
        if self.when:
            details["when"] = CONDITIONS[self.when].meaning
        if self.stacks is not None:
            details["stacks"] = ", ".join(self.stacks)
        return details


def load_skips(path: Union[str, Path, None] = None) -> list[Skip]:
    """The skips in ``path`` (default ``policies/checkov-skips.yaml``; a missing default is empty)."""
    reviewed = read_reviewed_file(path, DEFAULT_SKIPS, "skips", "skip", FIELDS, ("reason", "owner"))
    for where, entry in reviewed.entries:
        check = entry.get("check")
        if not isinstance(check, str) or not CHECK_ID.match(check):
            reviewed.problem(where + ("check",), "a checkov check id such as CKV_AWS_18 or CKV2_AWS_6 is required")
        for key in ("type", "resource"):
            if key in entry and not is_text(entry.get(key)):
                reviewed.problem(where + (key,), "must be a non-empty string when given")
        if "when" in entry and entry.get("when") not in CONDITIONS:
            reviewed.problem(where + ("when",), f"unknown condition; known: {', '.join(sorted(CONDITIONS))}")
    if reviewed.issues:
        raise SpecError(reviewed.issues)
    return [Skip(check=entry["check"], reason=one_line(entry["reason"]), owner=entry["owner"].strip(),
                 type=entry.get("type"), resource=entry.get("resource"), stacks=stacks_of(entry),
                 when=entry.get("when"), file=reviewed.file, line=reviewed.line(where))
            for where, entry in reviewed.entries]
