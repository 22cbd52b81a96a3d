"""A batch endpoint's schedule role decrypts its target input with the team's key only.

Before: ``kms:Decrypt`` on every key of the account (``key/*``), narrowed only to calls
through EventBridge Scheduler, so the role could decrypt any key's data that reached it
that way. Now the grant is the team key's own (``KeyAccess``, by its alias)."""

from __future__ import annotations

import json


def _schedule_policy(graph, team: str) -> dict:
    policies = [r for r in graph.resources.values()
                if r.type == "aws:iam/rolePolicy:RolePolicy" and r.name.startswith(f"{team}-endpoint-")
                and r.name.endswith("-schedule-policy")]
    assert len(policies) == 1, [r.name for r in policies]
    return json.loads(policies[0].inputs["policy"])


def test_the_schedule_role_decrypts_with_the_team_key_only(dev_graph):
    policy = _schedule_policy(dev_graph, "recommendations")
    decrypt = [s for s in policy["Statement"] if "kms:Decrypt" in (s["Action"] if isinstance(s["Action"], list)
                                                                    else [s["Action"]])]
    assert len(decrypt) == 1
    conditions = decrypt[0]["Condition"]
    assert conditions["ForAnyValue:StringEquals"] == {"kms:ResourceAliases": "alias/acme-recommendations-dev-artifacts-111122223333"}
    assert conditions["StringEquals"]["kms:ViaService"].startswith("scheduler.")
