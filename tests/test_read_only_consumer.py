"""Read-only must mean read-only, everywhere (issue 14 defect 4): every permission the planned
prod estate gives a team's consumer role (its inline policies, policies attached to it, and
statements of key, bucket and other resource policies that name it) expands, wildcards
included, to actions AWS classes as Read or List.

Two Write-classed actions are allowed, each because it changes no resource:

* ``kms:Decrypt``: AWS classes every cryptographic operation as Write, yet Decrypt only
  returns the plaintext of a data key; reading an SSE-KMS object needs it, and nothing
  encrypted can be read without it.
* ``sagemaker:CreatePresignedMlflowTrackingServerUrl``: mints a single-use sign-in URL for the
  caller's own MLflow UI session, which then acts with the caller's own (here Read/List)
  ``sagemaker-mlflow`` permissions; without it people cannot open the UI outside Studio.
"""

from __future__ import annotations

import pytest

from mlplatform.stackconfig import load_stack_config

from .helpers.dataplane import by_type, capture_with_key_arns
from .helpers.iam_reference import as_list, expand, grants_to_role

READ_ONLY_LEVELS = {"Read", "List"}
ALLOWED_WRITES = {"kms:Decrypt", "sagemaker:CreatePresignedMlflowTrackingServerUrl"}


@pytest.fixture(scope="module")
def prod_plan():
    """Prod, with key ARNs known (as after apply), so bucket policies built from them can be read."""
    return capture_with_key_arns("prod")


def consumer_roles(graph):
    return [r for r in by_type(graph, "aws:iam/role:Role") if r.name.endswith("-identity-consumer")]


def write_findings(grants) -> list[str]:
    findings = []
    for grant in grants:
        if "NotAction" in grant.statement:
            findings.append(f"{grant.origin}: NotAction grants everything else")
            continue
        for action in as_list(grant.statement["Action"]):
            if action.startswith("managed policy "):
                findings.append(f"{grant.origin}: {action} cannot be read offline")
                continue
            for privilege in expand(action):
                if privilege.access_level not in READ_ONLY_LEVELS and privilege.action not in ALLOWED_WRITES:
                    findings.append(f"{grant.origin}: {action} -> {privilege.action} ({privilege.access_level})")
    return findings


def test_the_consumer_role_is_granted_only_read_and_list_actions(prod_plan):
    account = load_stack_config("prod").account_id
    roles = consumer_roles(prod_plan)
    assert len(roles) == 3
    for role in roles:
        name = role.inputs["name"]
        grants = grants_to_role(prod_plan, name, f"arn:aws:iam::{account}:role/{name}")
        origins = {grant.origin.split(" ")[0] for grant in grants}
        # the test sees the consumer's identity policies and the key policies that name it
        assert "aws:iam/rolePolicy:RolePolicy" in origins, name
        assert write_findings(grants) == []


def test_each_allowed_write_is_used_and_really_classed_write():
    """The allow-list stays short and honest: each entry is a real action AWS classes as Write."""
    for action in ALLOWED_WRITES:
        (privilege,) = expand(action)
        assert privilege.access_level == "Write", action


def test_wildcards_are_expanded_before_they_are_judged():
    levels = {p.access_level for p in expand("kms:GenerateDataKey*")}
    assert levels == {"Write"} and len(expand("kms:GenerateDataKey*")) == 4
    assert {p.access_level for p in expand("sagemaker-mlflow:*")} == {"Read", "List", "Write"}
    with pytest.raises(Exception):
        expand("sagemaker-mlflow:NoSuchAction")
