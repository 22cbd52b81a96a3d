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
from mlplatform.spec.loader import load_spec_file
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
    "endpointErrorRateAlarmPercent": 2.5,
    "endpointUtilisationAlarmPercent": 75,
    "endpointDiskAlarmPercent": 70,
    "logRetentionDaysPublic": 400,
    "logRetentionDaysInternal": 545,
    "logRetentionDaysConfidential": 731,
    "logRetentionDaysRestricted": 3653,
    "bucketAbortMultipartDays": 3,
    "bucketNoncurrentVersionDays": 90,
    "batchRetryAttempts": 3,
    "batchRootVolumeGib": 500,
    "batchShareDecaySeconds": 3600,
    "driftDeadLetterRetentionSeconds": 345600,
    "frontDoorThrottleHeadroom": 3,
    "frontDoorMinRatePerSecond": 20,
    "fallbackMemoryMb": 512,
    "fallbackMinConcurrency": 2,
    "fallbackMaxConcurrency": 3,
    "logForwardingBufferSeconds": 30,
    "logForwardingRetrySeconds": 600,
    "endpointAsyncConcurrencyPerInstance": 8,
}
#: The overrides as the components see them.
OVERRIDDEN = PlatformDefaults.model_validate(OVERRIDES)
#: Log forwarding for the overridden dev plan (dev forwards nothing), so the Firehose settings show.
LOG_FORWARDING = {"destination": "splunk", "url": "https://hec.example.com/services/collector/event",
                  "secretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:hec"}


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
        "endpoint_error_rate_alarm_percent": 1.0, "endpoint_utilisation_alarm_percent": 90.0,
        "endpoint_disk_alarm_percent": 80.0, "log_retention_days_public": 365, "log_retention_days_internal": 365,
        "log_retention_days_confidential": 365, "log_retention_days_restricted": 2557,
        "bucket_abort_multipart_days": 7, "bucket_noncurrent_version_days": 30, "batch_retry_attempts": 5,
        "batch_root_volume_gib": 200, "batch_share_decay_seconds": 86400,
        "drift_dead_letter_retention_seconds": 1209600, "front_door_throttle_headroom": 2.0,
        "front_door_min_rate_per_second": 10, "fallback_memory_mb": 256, "fallback_min_concurrency": 5,
        "fallback_max_concurrency": 200, "log_forwarding_buffer_seconds": 60, "log_forwarding_retry_seconds": 3600,
        "endpoint_async_concurrency_per_instance": 4,
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
    ("logRetentionDaysRestricted: 500", "logRetentionDaysRestricted: Value error, 500 is not a retention CloudWatch "
                                        "Logs accepts; use one of 365, 400, 545"),
    ("logRetentionDaysPublic: 90", "logRetentionDaysPublic: Input should be greater than or equal to 365"),
    ("logRetentionDaysInternal: 0", "logRetentionDaysInternal: Input should be greater than or equal to 365"),
    ("driftDeadLetterRetentionSeconds: 1209601",
     "driftDeadLetterRetentionSeconds: Input should be less than or equal to 1209600"),
    ("batchRetryAttempts: 11", "batchRetryAttempts: Input should be less than or equal to 10"),
    ("logForwardingBufferSeconds: 300", "logForwardingBufferSeconds: Input should be less than or equal to 60"),
    ("endpointDiskAlarmPercent: 120", "endpointDiskAlarmPercent: Input should be less than or equal to 100"),
    ("fallbackMinConcurrency: 300", "the fallback minimum concurrency (300) exceeds the maximum (200)"),
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
    config["mlplatform:logForwarding"] = json.dumps(LOG_FORWARDING)
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


# ---------------------------------------------------------------- the defaults of issue 15, item 3 (h-defaults)


def _team_specs(environment: str = "dev") -> dict[str, object]:
    """team -> its spec as the environment deploys it (overrides merged)."""
    return {path.stem: load_spec_file(path).for_environment(environment)
            for path in sorted((PROJECT_ROOT / "examples" / "teams").glob("*.yaml"))}


def test_endpoint_alarms_get_the_stacks_thresholds(overridden_plan):
    alarms = {alarm.inputs["name"]: alarm.inputs for alarm in by_type(overridden_plan, "aws:cloudwatch/metricAlarm:MetricAlarm")}
    # the 5xx-rate alarms (a metric-math share), not the deployment's rollback alarm on the 5xx count
    errors = [a for name, a in alarms.items() if name.endswith("-5xx") and a.get("metricQueries")]
    disks = [a for name, a in alarms.items() if name.endswith("-disk")]
    cpus = [a for name, a in alarms.items() if name.endswith("-cpu")]
    gpus_ = [a for name, a in alarms.items() if name.endswith(("-gpu", "-gpu-memory"))]
    assert errors and disks and cpus and gpus_
    assert {a["threshold"] for a in errors} == {2.5}
    assert all("More than 2.5% of invocations" in a["alarmDescription"] for a in errors)
    assert {a["threshold"] for a in disks} == {70}
    # summed over cores and GPUs: a multiple of the per-core percentage, never of the shipped 90
    for alarm in cpus + gpus_:
        assert alarm["threshold"] % 75 == 0 and alarm["threshold"] % 90 != 0, alarm


def test_log_groups_keep_logs_for_the_stacks_days_per_classification(overridden_plan):
    by_class = {"public": 400, "internal": 545, "confidential": 731, "restricted": 3653}
    seen = set()
    for group in by_type(overridden_plan, "aws:cloudwatch/logGroup:LogGroup"):
        if group.name.startswith("platform-"):
            continue  # the stack's trail log group follows mlplatform:auditLogRetentionDays
        classification = group.effective_tags["data-classification"]
        assert group.inputs["retentionInDays"] == by_class[classification], group.name
        seen.add(classification)
    assert seen == {"internal", "confidential", "restricted"}  # every class of the example teams


def test_record_buckets_and_artifact_buckets_get_the_stacks_lifecycle_days(overridden_plan):
    rules = {lifecycle.name: {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
             for lifecycle in by_type(overridden_plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")}
    retention = [r["retention"] for r in rules.values() if "retention" in r]
    artifacts = [r["versions-and-uploads"] for r in rules.values() if "versions-and-uploads" in r]
    assert len(retention) >= 3 and artifacts  # trail, access logs, the forwarding backups; every team's artifacts
    assert {r["noncurrentVersionExpiration"]["noncurrentDays"] for r in retention} == {90}
    assert {r["abortIncompleteMultipartUpload"]["daysAfterInitiation"] for r in retention + artifacts} == {3}


def test_batch_queues_get_the_stacks_retries_root_volume_and_share_decay(overridden_plan):
    definitions = by_type(overridden_plan, "aws:batch/jobDefinition:JobDefinition")
    templates = by_type(overridden_plan, "aws:ec2/launchTemplate:LaunchTemplate")
    policies = by_type(overridden_plan, "aws:batch/schedulingPolicy:SchedulingPolicy")
    assert definitions and policies
    assert {d.inputs["retryStrategy"]["attempts"] for d in definitions} == {3}
    volumes = {m["ebs"]["volumeSize"] for t in templates for m in t.inputs.get("blockDeviceMappings") or []
               if t.name.endswith("-launch-template")}
    assert volumes == {500}
    assert {p.inputs["fairSharePolicy"]["shareDecaySeconds"] for p in policies} == {3600}


def test_drift_dead_letter_queues_keep_messages_for_the_stacks_seconds(overridden_plan):
    queues = [q for q in by_type(overridden_plan, "aws:sqs/queue:Queue") if q.inputs["name"].endswith("-drift-dlq")]
    assert queues
    assert {q.inputs["messageRetentionSeconds"] for q in queues} == {345600}


def test_front_doors_throttle_with_the_stacks_headroom_and_floor(overridden_plan):
    from components.front_door import stage_throttle

    specs = _team_specs()
    settings = by_type(overridden_plan, "aws:apigateway/methodSettings:MethodSettings")
    assert settings
    rates = set()
    for setting in settings:
        team, _, rest = setting.name.partition("-front-door-")
        endpoint_name = rest.removesuffix("-method-settings")
        (endpoint,) = [e for e in specs[team].spec.endpoints if e.name == endpoint_name]
        expected = stage_throttle(endpoint, OVERRIDDEN)
        throttle = setting.inputs["settings"]
        assert (throttle["throttlingRateLimit"], throttle["throttlingBurstLimit"]) == expected, setting.name
        rates.add(expected[0])
    # both settings decide a rate here: the floor for the small endpoints, the headroom for the largest
    assert 20 in rates and max(rates) > 20


def test_fallback_functions_get_the_stacks_memory_and_concurrency_bounds(overridden_plan):
    functions = [f for f in by_type(overridden_plan, "aws:lambda/function:Function")
                 if f.inputs["name"].endswith("-fallback")]
    assert functions
    assert {f.inputs["memorySize"] for f in functions} == {512}
    assert {f.inputs["reservedConcurrentExecutions"] for f in functions} == {3}  # the stack's maximum


def test_log_forwarding_streams_get_the_stacks_buffer_and_retry(overridden_plan):
    streams = by_type(overridden_plan, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    assert streams
    for stream in streams:
        splunk = stream.inputs["splunkConfiguration"]
        assert (splunk["bufferingInterval"], splunk["retryDuration"]) == (30, 600)


def test_async_endpoints_get_the_stacks_concurrency_per_instance(overridden_plan):
    clients = [c.inputs["asyncInferenceConfig"]["clientConfig"]
               for c in by_type(overridden_plan, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
               if c.inputs.get("asyncInferenceConfig")]
    assert clients
    assert {c["maxConcurrentInvocationsPerInstance"] for c in clients} == {8}
