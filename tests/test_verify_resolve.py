"""The resolved plan: the shipped program with apply-time values simulated, deterministically."""

from __future__ import annotations

import json
import re

import pytest

from mlplatform.cli import main
from mlplatform.graph import UNKNOWN, GraphResource, ResourceGraph
from mlplatform.stackconfig import load_stack_config
from mlplatform.verify.apply_values import fabricate, urn_uuid
from mlplatform.verify.autonaming import AutoName, autoname, autonames, rule_for
from mlplatform.verify.resolve import capture_resolved


@pytest.fixture(scope="module")
def prod_resolved() -> ResourceGraph:
    return capture_resolved("prod")


def _unknown_paths(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _unknown_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unknown_paths(item, f"{path}[{index}]")
    elif value == UNKNOWN:
        yield path


def _at(value, path):
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        value = value[int(part[1:-1])] if part.startswith("[") else value.get(part)
    return value


def test_the_resolved_plan_has_every_resource_and_no_unknown_left(prod_graph, prod_resolved):
    assert prod_resolved.origin == "resolved"
    assert set(prod_resolved.resources) == set(prod_graph.resources)
    assert UNKNOWN not in prod_resolved.dumps()
    assert UNKNOWN in prod_graph.dumps()  # the ordinary plan does have unknowns to resolve


def test_every_value_unknown_at_preview_is_concrete_and_marked_simulated(prod_graph, prod_resolved):
    checked = 0
    for resource in prod_graph:
        resolved = prod_resolved.get(resource.urn)
        for path in _unknown_paths(resource.inputs):
            value = _at(resolved.inputs, path)
            assert value not in (None, ""), (resource.urn, path)
            assert path in resolved.simulated, (resource.urn, path, resolved.simulated)
            checked += 1
    assert checked > 50


def test_autonamed_resources_get_pulumi_aws_autonames_marked_simulated(prod_graph, prod_resolved):
    # inline role policies are left to the provider's autoname (SageMaker models get an
    # explicit, bounded name: their autoname overflows CreateModel's 63 characters)
    policies = [r for r in prod_resolved if r.type == "aws:iam/rolePolicy:RolePolicy"]
    assert policies
    for policy in policies:
        assert "name" not in prod_graph.get(policy.urn).inputs  # the program leaves it to the provider
        assert re.fullmatch(re.escape(policy.name) + r"-[0-9a-f]{7}", policy.inputs["name"])
        assert "name" in policy.simulated
    # an endpoint names its configuration by the name the provider makes from the prefix:
    # the reference became concrete
    configs = [r for r in prod_resolved if r.type == "aws:sagemaker/endpointConfiguration:EndpointConfiguration"]
    names = {config.inputs["name"] for config in configs}
    assert all(config.inputs["name"].startswith(config.inputs["namePrefix"]) for config in configs)
    endpoints = [r for r in prod_resolved if r.type == "aws:sagemaker/endpoint:Endpoint"]
    assert endpoints and all(e.inputs["endpointConfigName"] in names for e in endpoints)


def test_arns_follow_the_documented_formats_with_the_stacks_account_and_regions(prod_resolved):
    account = load_stack_config("prod").account_id
    policies = [r for r in prod_resolved if r.type == "aws:s3/bucketPolicy:BucketPolicy" and r.simulated]
    assert policies
    text = json.dumps([p.inputs["policy"] for p in policies])
    assert re.search(rf"arn:aws:kms:eu-west-1:{account}:key/[0-9a-f]{{8}}-[0-9a-f]{{4}}-4[0-9a-f]{{3}}-", text)
    # the replica bucket's key lives in the partner region, through the replica provider
    replication = [r for r in prod_resolved if r.type == "aws:s3/bucketReplicationConfig:BucketReplicationConfig"]
    assert replication
    for config in replication:
        key = config.inputs["rules"][0]["destination"]["encryptionConfiguration"]["replicaKmsKeyId"]
        assert key.startswith(f"arn:aws:kms:eu-central-1:{account}:key/")
        assert config.inputs["role"].startswith(f"arn:aws:iam::{account}:role/")


def test_ordinary_plans_are_unchanged_by_the_simulated_field(prod_graph):
    assert all(not r.simulated for r in prod_graph)
    assert '"simulated"' not in prod_graph.dumps() and '"origin"' not in prod_graph.dumps()
    resource = GraphResource(urn="urn:pulumi:s::p::t::n", type="t", name="n")
    assert "simulated" not in resource.to_json()


def test_two_resolutions_are_identical_and_survive_a_json_round_trip(prod_resolved):
    again = capture_resolved("prod")
    assert again.dumps() == prod_resolved.dumps()
    reread = ResourceGraph.from_json(json.loads(prod_resolved.dumps()))
    assert reread.origin == "resolved"
    assert reread.dumps() == prod_resolved.dumps()


def test_autonaming_follows_the_providers_rule():
    # default rule: any type with a `name` input, 7 hex chars after "-", up to 255
    assert rule_for("aws:sagemaker/model:Model") == AutoName()
    assert rule_for("aws:kms/key:Key") is None  # no name input: never autonamed
    bucket = rule_for("aws:s3/bucket:Bucket")
    assert (bucket.prop, bucket.max_length, bucket.lower) == ("bucket", 63, True)
    assert autoname(bucket, "Team-Data", "seed", {}).startswith("team-data-")
    alias = autoname(rule_for("aws:kms/alias:Alias"), "key", "seed", {})
    assert re.fullmatch(r"alias/key-[0-9a-f]{7}", alias)
    assert autoname(rule_for("aws:sqs/queue:Queue"), "q", "seed", {"fifoQueue": True}).endswith(".fifo")
    assert autonames("aws:sagemaker/model:Model", "m", "seed", {"name": "given"}) == {}
    assert autonames("aws:sagemaker/model:Model", "m", "a", {}) != autonames("aws:sagemaker/model:Model", "m", "b", {})


def test_fabricated_values_are_deterministic_and_shaped_like_aws():
    urn = "urn:pulumi:prod::p::aws:kms/key:Key::k"
    key_id, outputs = fabricate("aws:kms/key:Key", urn, {}, partition="aws", region="eu-west-1", account="123456789012")
    assert key_id == urn_uuid(urn) == outputs["keyId"]
    assert outputs["arn"] == f"arn:aws:kms:eu-west-1:123456789012:key/{key_id}"
    _, role = fabricate("aws:iam/role:Role", "urn:r", {"name": "r1"}, partition="aws-cn", region="cn-north-1",
                        account="123456789012")
    assert role["arn"] == "arn:aws-cn:iam::123456789012:role/r1"
    _, model = fabricate("aws:sagemaker/model:Model", "urn:m", {"name": "My-Model"}, partition="aws",
                         region="eu-west-1", account="123456789012")
    assert model["arn"] == "arn:aws:sagemaker:eu-west-1:123456789012:model/my-model"


def test_mlp_plan_resolve_writes_the_resolved_plan(tmp_path):
    out = tmp_path / "plan.json"
    assert main(["plan", "--stack", "dev", "--resolve", "--format", "json", "--output", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["origin"] == "resolved"
    assert UNKNOWN not in out.read_text()
    assert any(item.get("simulated") for item in data["resources"])


def test_mlp_plan_resolve_refuses_a_graph_file(tmp_path, capsys):
    assert main(["plan", "--stack", "dev", "--resolve", "--graph", str(tmp_path / "x.json")]) == 2
    assert "--resolve" in capsys.readouterr().err
