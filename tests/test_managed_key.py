"""components/managed_key.py: the one definition of a customer-managed key (issue 15, item 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from components.managed_key import (
    DEFAULT_DELETION_WINDOW_DAYS,
    KEY_ADMIN_ACTIONS,
    KeyPolicy,
    ManagedKey,
    ManagedKeyArgs,
    batch_ebs_launcher_role_arns,
)
from mlplatform.capture import capture_program

COMPONENTS = Path(__file__).resolve().parent.parent / "components"
ACCOUNT = "111122223333"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/ml-platform-admin"


def by_sid(policy: KeyPolicy) -> dict:
    return {s["Sid"]: s for s in json.loads(policy.to_json())["Statement"]}


def test_every_key_has_root_delegation_and_an_admin_that_never_uses_data():
    policy = by_sid(KeyPolicy(ACCOUNT, administrator_arn=ADMIN))
    assert policy["AccountRootForIamDelegation"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    admin = policy["PlatformAdministers"]
    assert admin["Principal"] == {"AWS": ADMIN} and set(admin["Action"]) == set(KEY_ADMIN_ACTIONS)
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:*"} & set(admin["Action"])
    assert "PlatformAdministers" not in by_sid(KeyPolicy(ACCOUNT))


def test_grants_are_statements_in_the_order_granted_and_empty_grants_add_nothing():
    policy = (KeyPolicy(ACCOUNT)
              .grant_encrypt_decrypt("Users", "arn:aws:iam::111122223333:role/b", "arn:aws:iam::111122223333:role/a")
              .grant_decrypt("Readers")  # nobody to admit
              .grant_publishers("Publishers", "events.amazonaws.com")
              .grant_cloudwatch_logs("Logs", "eu-west-1", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*"))
    statements = json.loads(policy.to_json())["Statement"]
    assert [s["Sid"] for s in statements] == ["AccountRootForIamDelegation", "Users", "Publishers", "Logs"]
    assert statements[1]["Principal"]["AWS"] == ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"]
    assert statements[2]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert "ArnLike" in statements[3]["Condition"]
    exact = by_sid(KeyPolicy(ACCOUNT).grant_cloudwatch_logs("Logs", "eu-west-1", "arn:aws:logs:x:1:log-group:/a"))
    assert "ArnEquals" in exact["Logs"]["Condition"]


def test_ebs_for_auto_scaling_is_the_documented_pair_of_statements():
    policy = by_sid(KeyPolicy(ACCOUNT).grant_ebs_for_auto_scaling())
    role = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    use, grant = policy["AutoScalingLaunchesEncryptedVolumesUse"], policy["AutoScalingLaunchesEncryptedVolumesCreateGrant"]
    assert use["Principal"] == grant["Principal"] == {"AWS": role}
    assert set(use["Action"]) == {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}
    assert grant["Action"] == "kms:CreateGrant"
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_batch_launchers_by_capacity():
    on_demand = batch_ebs_launcher_role_arns(ACCOUNT, spot=False)
    assert [arn.rsplit("/", 1)[1] for arn in on_demand] == ["AWSServiceRoleForAutoScaling"]
    spot = batch_ebs_launcher_role_arns(ACCOUNT, spot=True)
    assert sorted(arn.rsplit("/", 1)[1] for arn in spot) == [
        "AWSServiceRoleForAutoScaling", "AWSServiceRoleForEC2Spot", "AWSServiceRoleForEC2SpotFleet"]
    assert all(arn.startswith(f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/") for arn in spot)


def _capture(program):
    return capture_program(program, "unit", {"aws:region": "eu-west-1"}, "unit")


def test_managed_key_defaults_alias_and_dependencies():
    def program():
        role = aws.iam.Role("reader", name="reader", assume_role_policy="{}")
        ManagedKey("k", ManagedKeyArgs(description="d", alias="alias/k",
                                       policy=KeyPolicy(ACCOUNT, ADMIN).grant_decrypt("R", "arn:aws:iam::1:role/reader"),
                                       principals=[role]),
                   pulumi.ResourceOptions(protect=True, retain_on_delete=True))

    graph = _capture(program)
    key = next(r for r in graph if r.type == "aws:kms/key:Key")
    assert key.name == "k" and key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == DEFAULT_DELETION_WINDOW_DAYS == 30
    assert key.options["protect"] is True
    assert [urn.rsplit("::", 1)[1] for urn in key.dependencies] == ["reader"]
    alias = next(r for r in graph if r.type == "aws:kms/alias:Alias")
    assert alias.name == "k-alias" and alias.inputs["name"] == "alias/k"
    assert alias.options["protect"] is False and key.urn in alias.dependencies


@pytest.mark.parametrize("days", [6, 31])
def test_deletion_window_outside_kms_limits_is_refused(days):
    with pytest.raises(AssertionError, match="deletion window"):  # PlatformDefaults validates the stack's value
        ManagedKey("k", ManagedKeyArgs(description="d", policy=KeyPolicy(ACCOUNT), deletion_window_in_days=days),
                   pulumi.ResourceOptions())


def test_keys_and_admin_actions_are_defined_once():
    """No component writes its own key, admin action list or root statement: each has
    exactly one definition, in managed_key.py."""
    offenders = []
    for path in sorted(COMPONENTS.glob("*.py")):
        if path.name == "managed_key.py":
            continue
        text = path.read_text()
        for pattern in (r"aws\.kms\.Key\(", r"kms:ScheduleKeyDeletion", r"AccountRootForIamDelegation",
                        r"KEY_ADMIN_ACTIONS\s*="):
            if re.search(pattern, text):
                offenders.append(f"{path.name}: {pattern}")
    assert not offenders, offenders
