"""Platform defaults (``mlplatform:defaults``): documented, range-checked, overridable per stack,
and carried to every component that uses one (issue 15, "platform defaults")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic.alias_generators import to_camel

from mlplatform.capture import capture_program, project_name
from mlplatform.errors import SpecError
from mlplatform.estate.program import run
from mlplatform.platform_defaults import PLATFORM_DEFAULTS, PlatformDefaults
from mlplatform.stackconfig import PROJECT_ROOT, config_values_from_stack_file, load_stack_config, stack_file
from tests.helpers.dataplane import by_type

#: Every default changed, to values inside its range, so each must show in the plan.
OVERRIDES = {
    "keyDeletionWindowDays": 14,
    "endpointTerminationWaitSeconds": 120,
    "endpointScaleInCooldownSeconds": 900,
    "endpointScaleOutCooldownSeconds": 30,
    "serviceRoleMaxSessionSeconds": 7200,
    "humanRoleMaxSessionSeconds": 14400,
    "untaggedImageExpiryDays": 3,
    "kueueDefaultCpuRequest": 2,
    "kueueDefaultMemoryRequestGib": 4,
    "kueueDefaultCpuLimit": 8,
    "kueueDefaultMemoryLimitGib": 32,
}


def test_the_overrides_cover_every_default():
    assert set(OVERRIDES) == {to_camel(name) for name in PlatformDefaults.model_fields}


def test_every_default_is_documented_with_its_default_and_range():
    for name, info in PlatformDefaults.model_fields.items():
        assert info.description and "Default" in info.description, name
        bounds = {type(item).__name__ for item in info.metadata}
        assert {"Ge", "Le"} <= bounds, f"{name} has no validated range"


def test_shipped_stacks_keep_todays_values():
    """What the components hard-coded before the setting existed (the golden plans prove the rest)."""
    assert PLATFORM_DEFAULTS.model_dump() == {
        "key_deletion_window_days": 30, "endpoint_termination_wait_seconds": 600,
        "endpoint_scale_in_cooldown_seconds": 300, "endpoint_scale_out_cooldown_seconds": 60,
        "service_role_max_session_seconds": 3600, "human_role_max_session_seconds": 3600,
        "untagged_image_expiry_days": 14, "kueue_default_cpu_request": 1, "kueue_default_memory_request_gib": 2,
        "kueue_default_cpu_limit": 4, "kueue_default_memory_limit_gib": 16,
    }
    for stack in ("dev", "staging", "prod"):
        assert load_stack_config(stack).defaults == PLATFORM_DEFAULTS


def test_the_readme_documents_every_default():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "mlplatform:defaults" in readme
    for name in PlatformDefaults.model_fields:
        assert f"`{to_camel(name)}`" in readme, name


def _stack_with(tmp_path: Path, defaults_yaml: str) -> Path:
    (tmp_path / "stacks").mkdir()
    text = (PROJECT_ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.x.yaml").write_text(text + defaults_yaml)
    return tmp_path


def test_a_stack_overrides_one_default_and_keeps_the_others(tmp_path):
    root = _stack_with(tmp_path, "  mlplatform:defaults:\n    keyDeletionWindowDays: 14\n")
    defaults = load_stack_config("x", project_root=root).defaults
    assert defaults.key_deletion_window_days == 14
    assert defaults.model_copy(update={"key_deletion_window_days": 30}) == PLATFORM_DEFAULTS


@pytest.mark.parametrize("setting, message", [
    ("keyDeletionWindowDays: 3", "keyDeletionWindowDays: Input should be greater than or equal to 7"),
    ("endpointTerminationWaitSeconds: 7200", "endpointTerminationWaitSeconds: Input should be less than or equal to 3600"),
    ("serviceRoleMaxSessionSeconds: 60", "serviceRoleMaxSessionSeconds: Input should be greater than or equal to 3600"),
    ("keyDeletionWindowDays: '14'", "keyDeletionWindowDays: Input should be a valid integer"),
    ("keyDeletionWindow: 14", "keyDeletionWindow: Extra inputs are not permitted"),
    ("kueueDefaultCpuRequest: 8", "the default cpu request (8) exceeds the default cpu limit (4)"),
])
def test_a_bad_default_is_one_line_naming_the_stack_file_line_and_setting(tmp_path, setting, message):
    root = _stack_with(tmp_path, f"  mlplatform:defaults:\n    {setting}\n")
    setting_line = len((root / "stacks" / "Pulumi.x.yaml").read_text().splitlines())  # the last line
    with pytest.raises(SpecError) as caught:
        load_stack_config("x", project_root=root)
    (issue,) = caught.value.issues
    text = issue.format()
    assert "\n" not in text
    assert text.startswith(f"{root / 'stacks' / 'Pulumi.x.yaml'}:")
    assert issue.line in (setting_line - 1, setting_line)  # the key's line, or the setting's for a cross-field rule
    assert "config.mlplatform:defaults" in text and message in text, text


@pytest.fixture(scope="module")
def overridden_plan():
    """The dev stack's plan with every platform default overridden."""
    config, _ = config_values_from_stack_file(stack_file("dev"))
    config["mlplatform:defaults"] = json.dumps(OVERRIDES)
    return capture_program(run, "dev", config, project_name())


def test_every_key_gets_the_stacks_deletion_window(overridden_plan):
    keys = by_type(overridden_plan, "aws:kms/key:Key")
    assert len(keys) > 5  # platform, artifact, alert and notification keys of every team
    assert {key.inputs["deletionWindowInDays"] for key in keys} == {14}


def test_realtime_endpoints_get_the_stacks_termination_wait(overridden_plan):
    policies = [endpoint.inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
                for endpoint in by_type(overridden_plan, "aws:sagemaker/endpoint:Endpoint")
                if endpoint.inputs.get("deploymentConfig")]
    assert policies
    assert {policy["terminationWaitInSeconds"] for policy in policies} == {120}


def test_endpoint_scaling_gets_the_stacks_cooldowns(overridden_plan):
    tracking = [policy.inputs["targetTrackingScalingPolicyConfiguration"]
                for policy in by_type(overridden_plan, "aws:appautoscaling/policy:Policy")
                if policy.inputs.get("targetTrackingScalingPolicyConfiguration")]
    assert tracking
    assert {(t["scaleInCooldown"], t["scaleOutCooldown"]) for t in tracking} == {(900, 30)}


def test_roles_get_the_stacks_session_lengths(overridden_plan):
    sessions = {(role.inputs.get("tags") or {}).get("principal-type"): set() for role in
                by_type(overridden_plan, "aws:iam/role:Role")}
    for role in by_type(overridden_plan, "aws:iam/role:Role"):
        sessions[(role.inputs.get("tags") or {}).get("principal-type")].add(role.inputs.get("maxSessionDuration"))
    assert sessions["human"] == {14400}
    assert sessions["service"] == {7200}


def test_image_registries_expire_untagged_images_after_the_stacks_days(overridden_plan):
    policies = [json.loads(p.inputs["policy"]) for p in by_type(overridden_plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy")]
    assert policies
    assert {p["rules"][0]["selection"]["countNumber"] for p in policies} == {3}


def test_kueue_namespaces_get_the_stacks_container_defaults(overridden_plan):
    ranges = by_type(overridden_plan, "kubernetes:core/v1:LimitRange")
    assert ranges
    for limit_range in ranges:
        (limits,) = limit_range.inputs["spec"]["limits"]
        assert limits["defaultRequest"] == {"cpu": "2", "memory": "4Gi"}
        assert limits["default"] == {"cpu": "8", "memory": "32Gi"}


def test_no_component_reads_pulumi_config_for_a_default():
    """Defaults reach components through the stack config their Args carry, never by reading config."""
    for path in (PROJECT_ROOT / "components").glob("*.py"):
        assert not re.search(r"pulumi\.Config\(|stack_config_from_pulumi", path.read_text()), path.name
