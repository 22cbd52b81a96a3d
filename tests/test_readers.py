"""Readers of `pulumi stack export` and `pulumi preview --json` output, and load_graph."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from mlplatform.graph import UNKNOWN, GraphFormatError, ResourceGraph, SourceRef, secret_marker
from mlplatform.readers import load_graph, read_preview, read_stack_export, resource_from_state

FIXTURES = Path(__file__).parent / "fixtures" / "graphs"
EXPORT_FILE = FIXTURES / "stack-export.json"
PREVIEW_FILE = FIXTURES / "preview.json"

P = "urn:pulumi:prod::mlplatform::"
TEAM = P + "mlplatform:team:Team::fraud"
PROVIDER = P + "mlplatform:team:Team$pulumi:providers:aws::fraud-aws"
KEY = P + "mlplatform:team:Team$aws:kms/key:Key::fraud-data-key"
ALIAS = P + "mlplatform:team:Team$aws:kms/alias:Alias::fraud-data-key"
BUCKET = P + "mlplatform:team:Team$aws:s3/bucket:Bucket::fraud-features"
PAB = P + "mlplatform:team:Team$aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock::fraud-features"
SECRET = P + "mlplatform:team:Team$aws:secretsmanager/secret:Secret::fraud-feature-store-creds"
SECRET_VERSION = (
    P + "mlplatform:team:Team$aws:secretsmanager/secretVersion:SecretVersion::fraud-feature-store-creds"
)
ECR = P + "mlplatform:team:Team$aws:ecr/repository:Repository::fraud-scoring"
MODELS = P + "mlplatform:team:Team$aws:s3/bucket:Bucket::fraud-models"
MODELS_PAB = P + "mlplatform:team:Team$aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock::fraud-models"
LEGACY_MODELS = P + "mlplatform:team:Team$aws:sagemaker/modelPackageGroup:ModelPackageGroup::fraud-legacy-models"
SPEC = SourceRef("examples/teams/fraud.yaml", 3)

DEFAULT_TAGS = {
    "cost-center": "cc-4711",
    "data-classification": "confidential",
    "environment": "prod",
    "managed-by": "mlplatform",
    "spec": "examples/teams/fraud.yaml",
    "team": "fraud",
}


@pytest.fixture
def export_data() -> dict:
    return json.loads(EXPORT_FILE.read_text())


@pytest.fixture
def preview_data() -> dict:
    return json.loads(PREVIEW_FILE.read_text())


@pytest.fixture
def export_graph(export_data: dict) -> ResourceGraph:
    return read_stack_export(export_data)


@pytest.fixture
def preview_graph(preview_data: dict) -> ResourceGraph:
    return read_preview(preview_data)


# --- stack export ----------------------------------------------------------------------


def test_export_keeps_every_resource_but_the_stack_and_pending_deletes(export_graph: ResourceGraph) -> None:
    assert sorted(export_graph.resources) == sorted(
        [TEAM, PROVIDER, KEY, ALIAS, BUCKET, PAB, SECRET, SECRET_VERSION]
    )
    assert (export_graph.stack, export_graph.project, export_graph.origin) == ("prod", "mlplatform", "export")


def test_export_pending_delete_does_not_shadow_the_live_resource(export_graph: ResourceGraph) -> None:
    # The pending delete shares its URN with its replacement and comes after it in the file.
    assert export_graph.resources[PAB].inputs["bucket"] == "mlp-prod-fraud-features"
    assert "mlp-prod-fraud-feats-legacy" not in export_graph.dumps()


def test_export_stack_and_project_can_be_given(export_data: dict) -> None:
    graph = read_stack_export(export_data, stack="staging", project="other")
    assert (graph.stack, graph.project) == ("staging", "other")


def test_export_maps_resource_fields(export_graph: ResourceGraph) -> None:
    alias = export_graph.resources[ALIAS]
    assert alias.type == "aws:kms/alias:Alias"
    assert alias.name == "fraud-data-key"
    assert alias.custom is True
    assert alias.parent == TEAM
    assert alias.dependencies == [KEY]
    assert alias.property_dependencies == {"name": [], "targetKeyId": [KEY]}  # null -> []
    team = export_graph.resources[TEAM]
    assert team.custom is False
    assert team.provider is None


def test_export_provider_reference_is_stripped_of_its_id(export_graph: ResourceGraph) -> None:
    assert export_graph.resources[BUCKET].provider == PROVIDER
    assert export_graph.resources[PROVIDER].is_provider


def test_export_options(export_graph: ResourceGraph) -> None:
    bucket = export_graph.resources[BUCKET]
    assert bucket.options["protect"] is True
    assert bucket.options["deleteBeforeReplace"] is False
    assert bucket.options["aliases"] == []
    assert export_graph.resources[KEY].options["protect"] is False


def test_export_options_recorded_in_state_are_read() -> None:
    state = {
        "urn": BUCKET,
        "custom": True,
        "type": "aws:s3/bucket:Bucket",
        "retainOnDelete": True,
        "aliases": [P + "aws:s3/bucket:Bucket::fraud-features"],
        "ignoreChanges": ["tags"],
        "replaceOnChanges": ["bucket"],
        "additionalSecretOutputs": ["arn"],
        "deletedWith": TEAM,
    }
    options = resource_from_state(state).options
    assert options["retainOnDelete"] is True
    assert options["aliases"] == [P + "aws:s3/bucket:Bucket::fraud-features"]
    assert options["ignoreChanges"] == ["tags"]
    assert options["replaceOnChanges"] == ["bucket"]
    assert options["additionalSecretOutputs"] == ["arn"]
    assert options["deletedWith"] == TEAM


def test_export_secrets_are_redacted(export_data: dict, export_graph: ResourceGraph) -> None:
    assert export_graph.resources[SECRET_VERSION].inputs["secretString"] == secret_marker()
    text = export_graph.dumps()
    for resource in export_data["deployment"]["resources"]:
        for section in ("inputs", "outputs"):
            secret = resource.get(section, {}).get("secretString")
            if secret:
                assert secret["ciphertext"] not in text
    assert "ciphertext" not in text


def test_plaintext_secrets_nested_in_lists_are_redacted() -> None:
    secret = {**secret_marker(), "plaintext": '"hunter2"'}
    state = {
        "urn": SECRET_VERSION,
        "custom": True,
        "type": "aws:secretsmanager/secretVersion:SecretVersion",
        "inputs": {"entries": [{"value": secret}]},
    }
    assert resource_from_state(state).inputs == {"entries": [{"value": secret_marker()}]}


def test_assets_are_kept_whole() -> None:
    asset = {"4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17", "path": "model.tar.gz"}
    object_type = "aws:s3/bucketObject:BucketObject"
    state = {"urn": BUCKET, "custom": True, "type": object_type, "inputs": {"source": asset}}
    assert resource_from_state(state).inputs["source"] == asset


@pytest.mark.parametrize("graph_fixture", ["export_graph", "preview_graph"])
def test_bridge_defaults_are_dropped_from_fixture_inputs(graph_fixture: str, request: pytest.FixtureRequest) -> None:
    # Both fixtures carry the bridge's `__defaults` on their resources, as the real CLI writes them.
    graph: ResourceGraph = request.getfixturevalue(graph_fixture)
    assert "__defaults" not in graph.dumps()
    assert graph.resources[BUCKET].inputs["bucket"] == "mlp-prod-fraud-features"


def test_bridge_defaults_are_dropped_at_every_level() -> None:
    state = {
        "urn": BUCKET,
        "custom": True,
        "type": "aws:s3/bucket:Bucket",
        "inputs": {
            "__defaults": ["acl"],
            "bucket": "b",
            "versioning": {"__defaults": [], "enabled": True},
            "rules": [{"__defaults": ["status"], "id": "expire", "expiration": {"__defaults": [], "days": 30}}],
        },
    }
    assert resource_from_state(state).inputs == {
        "bucket": "b",
        "versioning": {"enabled": True},
        "rules": [{"id": "expire", "expiration": {"days": 30}}],
    }
    step = {"op": "create", "urn": BUCKET, "newState": state}
    assert "__defaults" not in read_preview({"steps": [step]}).dumps()


def test_export_effective_tags_come_from_tags_all(export_data: dict, export_graph: ResourceGraph) -> None:
    bucket_state = next(r for r in export_data["deployment"]["resources"] if r["urn"] == BUCKET)
    assert export_graph.resources[BUCKET].effective_tags == bucket_state["outputs"]["tagsAll"]
    # tagsAll is what AWS holds, so it wins over the provider merge even where they differ.
    edited = copy.deepcopy(export_data)
    state = next(r for r in edited["deployment"]["resources"] if r["urn"] == BUCKET)
    state["outputs"]["tagsAll"] = {"team": "drifted"}
    assert read_stack_export(edited).resources[BUCKET].effective_tags == {"team": "drifted"}


def test_export_effective_tags_none_where_not_taggable(export_graph: ResourceGraph) -> None:
    assert export_graph.resources[PAB].effective_tags is None
    assert export_graph.resources[PROVIDER].effective_tags is None
    assert export_graph.resources[TEAM].effective_tags is None


def test_export_source_comes_from_the_team_component(export_graph: ResourceGraph) -> None:
    assert export_graph.resources[TEAM].source == SPEC
    assert export_graph.resources[BUCKET].source == SPEC
    assert export_graph.resources[PROVIDER].source == SPEC


def test_export_of_an_empty_stack() -> None:
    graph = read_stack_export({"version": 3, "deployment": {"manifest": {}}}, stack="dev", project="mlplatform")
    assert len(graph) == 0


# --- preview ---------------------------------------------------------------------------


def test_preview_planned_graph(preview_graph: ResourceGraph) -> None:
    assert sorted(preview_graph.resources) == sorted(
        [TEAM, PROVIDER, KEY, BUCKET, ECR, MODELS, MODELS_PAB, SECRET_VERSION]
    )
    assert (preview_graph.stack, preview_graph.project, preview_graph.origin) == ("prod", "mlplatform", "preview")


def test_preview_deleted_resources_are_absent(preview_graph: ResourceGraph) -> None:
    assert LEGACY_MODELS not in preview_graph.resources
    assert "mlp-prod-fraud-legacy" not in preview_graph.dumps()


def test_preview_uses_the_new_state(preview_graph: ResourceGraph) -> None:
    assert preview_graph.resources[ECR].inputs["name"] == "mlp-prod-fraud-scorer"
    description = preview_graph.resources[KEY].inputs["description"]
    assert description == "fraud team data key (prod, feature store and models)"


def test_preview_keeps_unknown_values(preview_graph: ResourceGraph) -> None:
    assert preview_graph.resources[MODELS_PAB].inputs["bucket"] == UNKNOWN


def test_preview_blinded_secrets_become_the_secret_marker(preview_graph: ResourceGraph) -> None:
    assert preview_graph.resources[SECRET_VERSION].inputs["secretString"] == secret_marker()
    assert "[secret]" not in preview_graph.dumps()


def test_preview_provider_reference_is_stripped(preview_graph: ResourceGraph) -> None:
    assert preview_graph.resources[MODELS].provider == PROVIDER


def test_preview_provider_falls_back_to_the_step() -> None:
    state = {"urn": MODELS, "custom": True, "type": "aws:s3/bucket:Bucket", "inputs": {"bucket": "b"}}
    step = {"op": "create", "urn": MODELS, "provider": f"{PROVIDER}::{UNKNOWN}", "newState": state}
    assert read_preview({"steps": [step]}).resources[MODELS].provider == PROVIDER


def test_preview_effective_tags_merge_provider_default_tags(preview_graph: ResourceGraph) -> None:
    assert preview_graph.resources[MODELS].effective_tags == {
        **DEFAULT_TAGS,
        "component": "model-artifacts",
        "data-classification": "restricted",
    }
    assert preview_graph.resources[MODELS_PAB].effective_tags is None


def test_preview_options_and_source(preview_graph: ResourceGraph) -> None:
    assert preview_graph.resources[BUCKET].options["protect"] is True
    assert preview_graph.resources[MODELS_PAB].source == SPEC


def test_preview_replacement_steps_do_not_remove_the_replacement() -> None:
    state = {"urn": ECR, "custom": True, "type": "aws:ecr/repository:Repository", "inputs": {"name": "new"}}
    steps = [
        {"op": "create-replacement", "urn": ECR, "newState": state},
        {"op": "replace", "urn": ECR, "newState": state},
        {"op": "delete-replaced", "urn": ECR, "oldState": {**state, "inputs": {"name": "old"}}},
    ]
    assert read_preview({"steps": steps}).resources[ECR].inputs == {"name": "new"}


# --- graph JSON and load_graph ---------------------------------------------------------


@pytest.mark.parametrize("graph_fixture", ["export_graph", "preview_graph"])
def test_graph_json_round_trip(graph_fixture: str, request: pytest.FixtureRequest) -> None:
    graph: ResourceGraph = request.getfixturevalue(graph_fixture)
    text = graph.dumps()
    assert ResourceGraph.from_json(json.loads(text)).dumps() == text


def test_load_graph_detects_each_format(tmp_path: Path, export_graph: ResourceGraph) -> None:
    own = tmp_path / "graph.json"
    own.write_text(export_graph.dumps())
    loaded = {path.name: load_graph(path) for path in (own, EXPORT_FILE, PREVIEW_FILE)}
    assert {name: graph.origin for name, graph in loaded.items()} == {
        "graph.json": "graph",
        "stack-export.json": "export",
        "preview.json": "preview",
    }
    assert loaded["graph.json"].dumps() == export_graph.dumps()


def test_load_graph_invalid_json_names_the_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "steps": [\n    {"op": "create",}\n  ]\n}\n')
    with pytest.raises(GraphFormatError) as error:
        load_graph(path)
    assert str(error.value).startswith(f"{path}:3:21: error: invalid JSON: ")
    assert "\n" not in str(error.value)


def test_load_graph_rejects_a_json_list(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[]\n")
    with pytest.raises(GraphFormatError) as error:
        load_graph(path)
    assert str(error.value) == f"{path}:1:1: error: not a ResourceGraph, stack export or preview JSON"


def test_load_graph_rejects_an_unknown_object(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"name": "not a plan"}\n')
    with pytest.raises(GraphFormatError, match="not a ResourceGraph, stack export or preview JSON"):
        load_graph(path)


def test_load_graph_reports_a_malformed_export(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text('{"version": 3, "deployment": {"resources": [{"type": "aws:s3/bucket:Bucket"}]}}\n')
    with pytest.raises(GraphFormatError) as error:
        load_graph(path)
    assert str(error.value) == f"{path}:1:1: error: deployment.resources[0]: missing field 'urn'"


def test_load_graph_reports_a_graph_of_another_version(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    path.write_text('{"version": 2, "resources": []}\n')
    with pytest.raises(GraphFormatError, match=r"graph\.json:1:1: error: not a version 1 ResourceGraph"):
        load_graph(path)


def test_load_graph_reports_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(GraphFormatError, match=r"missing\.json: error: cannot read file: "):
        load_graph(path)
