"""Platform skips are conditional, reasoned rules (policies/checkov-skips.yaml).

checkov's verdicts are synthesised here (the record shape its JSON output has), so these
tests judge only how skips apply: per stack, by the stack's config and by the resource's
planned inputs read against the instance catalogue. tests/test_stacks_green.py runs the
real checkov on every shipped stack.
"""

from __future__ import annotations


import pytest

from mlplatform.catalogues.instances import takes_volume_key
from mlplatform.checkov.runner import build_report, translate
from mlplatform.checkov.skips import load_skips
from mlplatform.errors import SpecError
from mlplatform.reports.findings import FAILED, SKIPPED
from mlplatform.stackconfig import load_stack_config
from tests.helpers.policy import graph_of, res

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
BUCKET = "aws:s3/bucket:Bucket"


def _endpoint_config(name: str, *variants: dict, shadow: tuple = ()) -> object:
    inputs = {"productionVariants": [{"variantName": f"v{i}", "modelName": "m", **v} for i, v in enumerate(variants)]}
    if shadow:
        inputs["shadowProductionVariants"] = [{"variantName": "shadow", "modelName": "m", **v} for v in shadow]
    return res(ENDPOINT_CONFIG, name, inputs)


def _verdicts(resources: list, check: str, stack_name: str, skips=None, stack=None) -> dict[str, object]:
    """checkov failing ``check`` on every resource given, judged with the skips on ``stack_name``."""
    graph = graph_of(*resources)
    graph.stack = stack_name
    translation = translate(graph)
    records = [{"check_id": check, "check_name": check, "resource_address": address, "resource": address}
               for address in translation.plan.resources]
    report = build_report(graph, translation, [{"check_type": "terraform_plan", "results": {"failed_checks": records}}],
                          load_skips() if skips is None else skips,
                          stack if stack is not None else load_stack_config(stack_name))
    return {result.resource_name: result for result in report.results}


# ---------------------------------------------------------------- CKV_AWS_98 from the catalogue

def test_a_new_teams_gpu_endpoints_are_skipped_without_being_named():
    """The skip is derived from the catalogue: no list of endpoint config names to keep up."""
    verdicts = _verdicts([
        _endpoint_config("new-team-endpoint-g4dn-config", {"instanceType": "ml.g4dn.xlarge", "initialInstanceCount": 1}),
        _endpoint_config("new-team-endpoint-g5-config", {"instanceType": "ml.g5.2xlarge", "initialInstanceCount": 1}),
        _endpoint_config("new-team-endpoint-serverless-config", {"serverlessConfig": {"memorySizeInMb": 2048,
                                                                                       "maxConcurrency": 5}}),
    ], "CKV_AWS_98", "prod")
    assert {name: result.status for name, result in verdicts.items()} == {
        "new-team-endpoint-g4dn-config": SKIPPED,
        "new-team-endpoint-g5-config": SKIPPED,
        "new-team-endpoint-serverless-config": SKIPPED,
    }
    justification = verdicts["new-team-endpoint-g5-config"].justification
    assert justification["owner"] and "KmsKeyId" in justification["reason"]
    assert "local NVMe" in justification["when"]


def test_an_endpoint_on_ebs_storage_still_fails_without_a_key():
    verdicts = _verdicts([
        _endpoint_config("team-endpoint-cpu-config", {"instanceType": "ml.m5.large", "initialInstanceCount": 1}),
        _endpoint_config("team-endpoint-unknown-config", {"instanceType": "ml.x9.huge", "initialInstanceCount": 1}),
        _endpoint_config("team-endpoint-serverless-and-cpu-config",
                         {"serverlessConfig": {"memorySizeInMb": 2048, "maxConcurrency": 5}},
                         {"instanceType": "ml.c5.xlarge", "initialInstanceCount": 1}),
    ], "CKV_AWS_98", "prod")
    assert {result.status for result in verdicts.values()} == {FAILED}


def test_a_shadow_variant_on_local_nvme_makes_sagemaker_reject_the_key():
    # CreateEndpointConfig fails with a KmsKeyId when any variant has local storage
    verdicts = _verdicts([_endpoint_config("team-endpoint-shadowed-config",
                                           {"instanceType": "ml.m5.xlarge", "initialInstanceCount": 1},
                                           shadow=({"instanceType": "ml.g5.xlarge", "initialInstanceCount": 1},))],
                         "CKV_AWS_98", "prod")
    assert verdicts["team-endpoint-shadowed-config"].status == SKIPPED


def test_storage_key_rule_reads_the_catalogue():
    assert takes_volume_key(["ml.m5.large"]) and takes_volume_key(["ml.m5.large", None])
    assert not takes_volume_key(["ml.g5.xlarge"]) and not takes_volume_key([None, None])
    assert not takes_volume_key(["ml.m5.large", "ml.g4dn.xlarge"])
    assert takes_volume_key(["ml.not-in-catalogue"]) and takes_volume_key([])


# ---------------------------------------------------------------- CKV_AWS_144 per stack config

def _bucket(name: str):
    return res(BUCKET, name, {"bucket": name})


@pytest.mark.parametrize("stack_name", ["dev", "staging"])
def test_artifact_buckets_skip_replication_on_stacks_that_turn_it_off(stack_name):
    result = _verdicts([_bucket("new-team-artifacts-bucket")], "CKV_AWS_144", stack_name)["new-team-artifacts-bucket"]
    assert result.status == SKIPPED
    assert result.justification["stacks"] == stack_name and stack_name in result.justification["reason"]
    assert "replication off" in result.justification["when"]


def test_replication_skip_follows_the_stack_config_not_the_stack_name():
    dev = load_stack_config("dev")
    replicating_dev = dev.model_copy(update={"replication": True})
    result = _verdicts([_bucket("new-team-artifacts-bucket")], "CKV_AWS_144", "dev",
                       stack=replicating_dev)["new-team-artifacts-bucket"]
    assert result.status == FAILED


def test_replication_skip_holds_on_no_stack_it_does_not_name():
    """A new stack that turns replication off needs its own reason: the skip is scoped per stack."""
    qa = load_stack_config("dev").model_copy(update={"stack": "qa"})
    result = _verdicts([_bucket("new-team-artifacts-bucket")], "CKV_AWS_144", "qa", stack=qa)["new-team-artifacts-bucket"]
    assert result.status == FAILED


def test_without_a_stack_config_a_stack_condition_does_not_hold():
    graph = graph_of(_bucket("team-artifacts-bucket"))
    graph.stack = "dev"
    translation = translate(graph)
    [address] = translation.plan.resources
    record = {"check_id": "CKV_AWS_144", "check_name": "x", "resource_address": address, "resource": address}
    report = build_report(graph, translation, [{"check_type": "terraform_plan",
                                                "results": {"failed_checks": [record]}}], load_skips())
    assert [r.status for r in report.results] == [FAILED]


def test_skips_out_of_force_on_a_stack_are_not_reported_unused():
    """dev's and staging's replication skips are idle on prod by design, not stale."""
    graph = graph_of(_bucket("other-bucket"))
    graph.stack = "prod"
    skips = load_skips()
    stats = build_report(graph, translate(graph), [], skips, load_stack_config("prod")).stats
    scoped = {f"{skip.file}:{skip.line}: {skip.check}" for skip in skips if skip.stacks and "prod" not in skip.stacks}
    assert scoped and not scoped & set(stats["unusedSkips"])
    assert stats["unusedSkips"]  # skips in force that matched nothing are still listed


# ---------------------------------------------------------------- the skips file itself

@pytest.mark.parametrize("entry, message", [
    ("    when: sometimes\n", "skips[0].when: unknown condition; known: endpoint-storage-takes-no-key, "
                              "stack-does-not-replicate"),
    ("    stacks: dev\n", "skips[0].stacks: stacks must be a non-empty list of stack names such as [dev, staging]"),
    ("    stacks: []\n", "skips[0].stacks: stacks must be a non-empty list of stack names such as [dev, staging]"),
])
def test_a_bad_condition_or_stack_list_is_a_one_line_error(tmp_path, entry, message):
    path = tmp_path / "skips.yaml"
    path.write_text("skips:\n  - check: CKV_AWS_144\n" + entry + "    reason: Because.\n    owner: me@example.com\n")
    with pytest.raises(SpecError) as raised:
        load_skips(path)
    [issue] = raised.value.issues
    assert issue.format().endswith(message) and issue.format().startswith(f"{path}:3:")


def test_every_shipped_skip_has_a_reason_an_owner_and_names_no_single_team_endpoint():
    skips = load_skips()
    assert all(skip.reason and skip.owner for skip in skips)
    kms = [skip for skip in skips if skip.check == "CKV_AWS_98"]
    assert kms and all(skip.resource is None and skip.when == "endpoint-storage-takes-no-key" for skip in kms)
