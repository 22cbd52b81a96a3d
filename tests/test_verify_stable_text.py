"""The same plan gives the same verify text on every run: parliament's auditors collect
actions in sets, whose order follows the interpreter's hash seed, and a pull-request
comment that reorders on every push hides real changes among fake ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: A key policy naming the key-administration actions parliament's auditor reports in a set.
_PROBE = """
import json
from components.managed_key import KEY_ADMIN_ACTIONS
from mlplatform.verify import iam_lint
document = {"Version": "2012-10-17", "Statement": [{"Sid": "Admins", "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:role/platform"},
    "Action": list(KEY_ADMIN_ACTIONS) + ["kms:CreateGrant", "kms:RevokeGrant", "kms:RetireGrant"],
    "Resource": "*"}]}
print(json.dumps(sorted(f.detail for f in iam_lint.lint_json(document, iam_lint.RESOURCE, key_policy=True))))
"""


def _details(seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    completed = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True,
                               text=True, check=True, timeout=300)
    return json.loads(completed.stdout)


def test_finding_text_does_not_depend_on_the_hash_seed():
    first = _details("1")
    assert any("actions: " in detail for detail in first), first  # the probe reaches a set of actions
    for seed in ("2", "3", "4"):
        assert _details(seed) == first
