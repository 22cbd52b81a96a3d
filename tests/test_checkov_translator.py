"""The translator: Pulumi types and properties to Terraform, references, manifests, skips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlplatform.checkov.manifests import api_version_and_kind, render, to_manifests
from mlplatform.checkov.skips import load_skips
from mlplatform.checkov.tfnames import UnmappableType, fields_of, resource_class, singular, terraform_type
from mlplatform.checkov.tfplan import to_terraform_plan
from mlplatform.errors import SpecError
from mlplatform.graph import UNKNOWN, GraphResource, ResourceGraph, secret_marker
from mlplatform.readers import load_graph
from tests.fixtures.checkov.support import insecure_graph

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.parametrize("token, expected", [
    ("aws:s3/bucket:Bucket", "aws_s3_bucket"),
    ("aws:s3/bucketV2:BucketV2", "aws_s3_bucket"),
    ("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
     "aws_s3_bucket_server_side_encryption_configuration"),
    ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws_s3_bucket_public_access_block"),
    ("aws:iam/rolePolicy:RolePolicy", "aws_iam_role_policy"),
    ("aws:kms/alias:Alias", "aws_kms_alias"),
    ("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "aws_sagemaker_endpoint_configuration"),
    ("aws:cloudwatch/logGroup:LogGroup", "aws_cloudwatch_log_group"),
    ("aws:lambda/function:Function", "aws_lambda_function"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "aws_launch_template"),
    ("aws:cloudtrail/trail:Trail", "aws_cloudtrail"),
    ("aws:cfg/rule:Rule", "aws_config_config_rule"),
    ("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "aws_s3_bucket_replication_configuration"),
])
def test_type_tokens_map_to_terraform_types(token, expected):
    assert terraform_type(token) == expected


@pytest.mark.parametrize("token", [
    "random:index/randomId:RandomId",      # another provider
    "aws:s3/bucketz:Bucketz",              # not a pulumi-aws resource
    "not-a-token",
])
def test_unknown_types_are_unmappable(token):
    with pytest.raises(UnmappableType):
        terraform_type(token)


def test_property_shapes_come_from_the_sdk():
    sse = fields_of(resource_class("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"))
    assert (sse["rules"].terraform_name, sse["rules"].kind) == ("rule", "block_list")
    rule = fields_of(sse["rules"].element)
    assert (rule["applyServerSideEncryptionByDefault"].terraform_name, rule["applyServerSideEncryptionByDefault"].kind) \
        == ("apply_server_side_encryption_by_default", "block")
    ecr = fields_of(resource_class("aws:ecr/repository:Repository"))
    assert ecr["encryptionConfigurations"].terraform_name == "encryption_configuration"
    assert ecr["tags"].kind == "map"
    endpoint = fields_of(resource_class("aws:sagemaker/endpointConfiguration:EndpointConfiguration"))
    assert endpoint["productionVariants"].terraform_name == "production_variants"  # already plural in Terraform
    assert singular("policies") == "policy" and singular("addresses") == "address"


def _resource(urn_name, token, inputs, deps=None):
    urn = f"urn:pulumi:t::p::{token}::{urn_name}"
    return GraphResource(urn=urn, type=token, name=urn_name, inputs=inputs, property_dependencies=deps or {})


def test_values_blocks_unknowns_secrets_and_references():
    graph = ResourceGraph(stack="t", project="p")
    key = _resource("key", "aws:kms/key:Key", {"enableKeyRotation": True})
    bucket = _resource("data", "aws:s3/bucket:Bucket", {"bucket": "team-data", "tags": {"cost-center": "CC-1"}})
    sse = _resource("data-sse", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", {
        "bucket": "team-data",
        "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": UNKNOWN},
                   "bucketKeyEnabled": True}],
    }, deps={"bucket": [bucket.urn], "rules": [key.urn]})
    version = _resource("pw", "aws:secretsmanager/secretVersion:SecretVersion", {"secretString": secret_marker()})
    for item in (key, bucket, sse, version):
        graph.add(item)
    plan = to_terraform_plan(graph, strict=True)
    document = plan.document
    assert document["format_version"] == "1.2" and document["terraform_version"]
    planned = {r["address"]: r for r in document["planned_values"]["root_module"]["resources"]}
    sse_values = planned["aws_s3_bucket_server_side_encryption_configuration.data-sse"]["values"]
    # nested objects are one-element lists; the unknown key id is left out, as Terraform does
    assert sse_values["rule"] == [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}],
                                   "bucket_key_enabled": True}]
    changes = {r["address"]: r for r in document["resource_changes"]}
    assert changes["aws_s3_bucket_server_side_encryption_configuration.data-sse"]["change"]["after_unknown"] == {
        "rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": True}]}]}
    assert planned["aws_s3_bucket.data"]["values"]["tags"] == {"cost-center": "CC-1"}  # maps keep their keys
    config = {r["address"]: r for r in document["configuration"]["root_module"]["resources"]}
    expressions = config["aws_s3_bucket_server_side_encryption_configuration.data-sse"]["expressions"]
    assert expressions["bucket"] == {"references": ["aws_s3_bucket.data.bucket", "aws_s3_bucket.data"]}
    assert expressions["rule"][0]["apply_server_side_encryption_by_default"][0]["kms_master_key_id"] == {
        "references": ["aws_kms_key.key.arn", "aws_kms_key.key"]}
    secret = planned["aws_secretsmanager_secret_version.pw"]
    assert secret["values"]["secret_string"] == "(sensitive)" and secret["sensitive_values"] == {"secret_string": True}
    assert plan.resources["aws_s3_bucket.data"].graph_resource is bucket


def test_same_name_in_two_components_gets_two_addresses():
    graph = ResourceGraph(stack="t", project="p")
    graph.add(GraphResource(urn="urn:pulumi:t::p::a$aws:s3/bucket:Bucket::data", type="aws:s3/bucket:Bucket", name="data"))
    graph.add(GraphResource(urn="urn:pulumi:t::p::b$aws:s3/bucket:Bucket::data", type="aws:s3/bucket:Bucket", name="data"))
    plan = to_terraform_plan(graph)
    assert len(plan.resources) == 2 and len({r.graph_resource.urn for r in plan.resources.values()}) == 2


def test_unmappable_resources_are_collected_or_raised():
    graph = ResourceGraph(stack="t", project="p")
    graph.add(_resource("id", "random:index/randomId:RandomId", {}))
    assert [r.type for r in to_terraform_plan(graph).unmapped] == ["random:index/randomId:RandomId"]
    with pytest.raises(UnmappableType):
        to_terraform_plan(graph, strict=True)


@pytest.mark.parametrize("stack_graph", ["dev_graph", "prod_graph"])
def test_every_resource_type_of_the_example_estate_is_mapped(stack_graph, request):
    graph = request.getfixturevalue(stack_graph)
    plan = to_terraform_plan(graph, strict=True)  # raises on a type we cannot map
    manifests = to_manifests(graph)
    assert manifests.unmapped == [], [r.type for r in manifests.unmapped]
    custom = [r for r in graph if r.custom and not r.is_provider]
    assert len(plan.resources) + len(manifests.manifests) == len(custom)
    json.dumps(plan.document)  # plain JSON all the way down


def test_graph_edges_are_written_for_split_bucket_resources(prod_graph):
    config = to_terraform_plan(prod_graph).document["configuration"]["root_module"]["resources"]
    joined = {r["type"]: r["expressions"]["bucket"]["references"][1] for r in config if "bucket" in r["expressions"]
              and r["type"] != "aws_s3_bucket" and r["name"].startswith("fraud-detection-artifacts-")
              and "replica" not in r["name"]}
    assert set(joined) >= {"aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration",
                           "aws_s3_bucket_policy", "aws_s3_bucket_versioning", "aws_s3_bucket_lifecycle_configuration"}
    assert set(joined.values()) == {"aws_s3_bucket.fraud-detection-artifacts-bucket"}
    alias = next(r for r in config if r["type"] == "aws_kms_alias" and r["name"] == "fraud-detection-artifacts-key-alias")
    assert alias["expressions"]["target_key_id"]["references"][1] == "aws_kms_key.fraud-detection-artifacts-key"


def test_stack_export_and_preview_translate():
    for name in ("preview.json", "stack-export.json"):
        graph = load_graph(FIXTURES / "graphs" / name)
        plan = to_terraform_plan(graph, strict=True)
        assert plan.resources and not plan.unmapped


def test_kubernetes_resources_become_manifests():
    assert api_version_and_kind("kubernetes:core/v1:Namespace") == ("v1", "Namespace")
    assert api_version_and_kind("kubernetes:networking.k8s.io/v1:NetworkPolicy") == ("networking.k8s.io/v1", "NetworkPolicy")
    assert api_version_and_kind("kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue") == ("kueue.x-k8s.io/v1beta1", "LocalQueue")
    assert api_version_and_kind("kubernetes:helm.sh/v3:Release") is None
    graph = ResourceGraph(stack="t", project="p")
    graph.add(_resource("ns", "kubernetes:core/v1:Namespace", {"apiVersion": "v1", "kind": "Namespace",
                                                               "metadata": {"labels": {"team": "a"}}}))
    graph.add(_resource("lq", "kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue", {
        "apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "LocalQueue",
        "metadata": {"name": "gpu", "namespace": UNKNOWN}, "spec": {"clusterQueue": "team-a"}}))
    graph.add(_resource("chart", "kubernetes:helm.sh/v3:Release", {"chart": "x"}))
    manifests = to_manifests(graph)
    assert [r.type for r in manifests.unmapped] == ["kubernetes:helm.sh/v3:Release"]
    by_kind = {m.kind: m for m in manifests.manifests}
    assert by_kind["Namespace"].document == {"apiVersion": "v1", "kind": "Namespace",
                                             "metadata": {"labels": {"team": "a"}, "name": "ns"}}
    assert "kind: LocalQueue" in render(by_kind["LocalQueue"])
    assert by_kind["LocalQueue"].document["metadata"]["namespace"] == "(known after apply)"
    assert len({m.file for m in manifests.manifests}) == 2


def test_insecure_fixture_translates_completely():
    graph = insecure_graph()
    assert not to_terraform_plan(graph).unmapped and not to_manifests(graph).unmapped


# ---------------------------------------------------------------- skips file

def test_skips_file_loads(tmp_path):
    path = tmp_path / "skips.yaml"
    path.write_text("skips:\n  - check: CKV_AWS_144\n    type: aws:s3/bucket:Bucket\n    resource: '*-artifacts-*'\n"
                    "    reason: Residency forbids a second region.\n    owner: security@example.com\n")
    [skip] = load_skips(path)
    assert (skip.check, skip.type, skip.resource, skip.line) == ("CKV_AWS_144", "aws:s3/bucket:Bucket", "*-artifacts-*", 2)
    assert skip.matches("CKV_AWS_144", ("aws:s3/bucket:Bucket",), "fraud-artifacts-bucket", None)
    assert not skip.matches("CKV_AWS_144", ("aws:s3/bucket:Bucket",), "fraud-logs", None)
    assert not skip.matches("CKV_AWS_18", ("aws:s3/bucket:Bucket",), "fraud-artifacts-bucket", None)


@pytest.mark.parametrize("body, expected", [
    ("skips:\n  - check: CKV_AWS_18\n    owner: a@b.c\n", ":2:5: error: skips[0]: every skip needs a written reason"),
    ("skips:\n  - check: CKV_AWS_18\n    reason: ' '\n    owner: a@b.c\n",
     ":3:13: error: skips[0].reason: every skip needs a written reason"),
    ("skips:\n  - check: CKV_AWS_18\n    reason: r\n", ":2:5: error: skips[0]: every skip needs a written owner"),
    ("skips:\n  - check: AWS18\n    reason: r\n    owner: o\n", ":2:12: error: skips[0].check: a checkov check id"),
    ("skips:\n  - check: CKV_AWS_18\n    reason: r\n    owner: o\n    why: x\n", ":5:5: error: skips[0].why: unknown field"),
    ("skips: {}\n", ":1:8: error: skips: must be a list"),
])
def test_bad_skips_are_one_line_errors_with_file_and_line(tmp_path, body, expected):
    path = tmp_path / "skips.yaml"
    path.write_text(body)
    with pytest.raises(SpecError) as caught:
        load_skips(path)
    [issue] = caught.value.issues
    assert issue.format().startswith(str(path) + expected), issue.format()
    assert "\n" not in issue.format()


def test_the_shipped_skips_file_is_valid():
    for skip in load_skips():
        assert skip.reason and skip.owner


def test_large_plans_split_without_cutting_references(prod_graph):
    from mlplatform.checkov.tfplan import split_plan

    document = to_terraform_plan(prod_graph).document
    parts = split_plan(document, max_resources=10)
    assert len(parts) > 1
    addresses = [r["address"] for part in parts for r in part["configuration"]["root_module"]["resources"]]
    assert sorted(addresses) == sorted(r["address"] for r in document["configuration"]["root_module"]["resources"])
    for part in parts:
        inside = {r["address"] for r in part["planned_values"]["root_module"]["resources"]}
        assert inside == {r["address"] for r in part["configuration"]["root_module"]["resources"]}
        assert inside == {r["address"] for r in part["resource_changes"]}
        for item in part["configuration"]["root_module"]["resources"]:
            for ref in json.dumps(item["expressions"]).split('"references": [')[1:]:
                target = json.loads("[" + ref.split("]")[0] + "]")[1]
                assert target in inside
    providers = [key for part in parts for key in part["configuration"]["provider_config"]]
    assert sorted(providers) == sorted(document["configuration"]["provider_config"])  # each exactly once
    assert split_plan(parts[0]) == [parts[0]]  # small plans stay whole
