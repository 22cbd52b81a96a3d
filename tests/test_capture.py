"""The offline capture records what the engine would receive, faithfully."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.artifact_store import artifact_bucket_name
from mlplatform.capture import capture_program, capture_stack
from mlplatform.graph import UNKNOWN, ResourceGraph, is_secret
from mlplatform.errors import InvalidSpecs
from mlplatform.spec.loader import load_spec_file
from mlplatform.stackconfig import load_stack_config
from mlplatform.tagging import REQUIRED_TAG_KEYS, is_taggable

from .conftest import EXAMPLES
from .helpers.dataplane import by_type, one


def test_every_team_has_a_team_component_with_its_provider(dev_graph):
    teams = {r.name for r in by_type(dev_graph, "mlplatform:team:Team")}
    assert teams == {"fraud-detection", "nlp-research", "recommendations"}
    for team in teams:
        provider = one(dev_graph, "pulumi:providers:aws", f"{team}-aws")
        assert provider.parent == one(dev_graph, "mlplatform:team:Team", team).urn
        bucket = one(dev_graph, "aws:s3/bucket:Bucket", f"{team}-artifacts-bucket")
        assert bucket.provider == provider.urn


def test_taggable_resources_carry_the_billing_tags_with_real_values(dev_graph):
    tagged = [r for r in dev_graph if r.custom and is_taggable(r.type)]
    assert len(tagged) > 20
    for resource in tagged:
        assert resource.effective_tags is not None, resource.urn
        assert set(REQUIRED_TAG_KEYS) <= set(resource.effective_tags), resource.urn
        team = resource.urn.rsplit("::", 1)[-1].split("-")[0]
        assert resource.effective_tags["environment"] == "dev"
        assert resource.effective_tags["managed-by"] == "mlplatform"
        assert resource.effective_tags["team"].startswith(team)
    fraud_bucket = one(dev_graph, "aws:s3/bucket:Bucket", "fraud-detection-artifacts-bucket")
    assert fraud_bucket.effective_tags["cost-center"] == "CC-1042"
    assert fraud_bucket.effective_tags["data-classification"] == "restricted"
    assert fraud_bucket.effective_tags["spec"] == "examples/teams/fraud-detection.yaml"


def test_resource_tags_overlay_provider_default_tags(dev_graph):
    group = one(dev_graph, "aws:sagemaker/featureGroup:FeatureGroup", "fraud-detection-fg-transactions-v2-group")
    assert group.inputs["tags"] == {"pii": "true"}
    assert group.effective_tags["pii"] == "true" and group.effective_tags["team"] == "fraud-detection"


def test_untaggable_resources_have_no_effective_tags(dev_graph):
    block = one(dev_graph, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                "fraud-detection-artifacts-public-access-block")
    assert block.effective_tags is None
    assert "effectiveTags" not in block.to_json()
    assert one(dev_graph, "mlplatform:team:Team", "fraud-detection").effective_tags is None


def test_sources_point_at_the_spec_lines_that_caused_each_resource(dev_graph):
    loaded = load_spec_file(EXAMPLES / "fraud-detection.yaml")
    bucket = one(dev_graph, "aws:s3/bucket:Bucket", "fraud-detection-artifacts-bucket")
    assert bucket.source.file == "examples/teams/fraud-detection.yaml"
    assert bucket.source.line == loaded.line_of(("spec", "artifacts"))
    group = one(dev_graph, "aws:sagemaker/featureGroup:FeatureGroup", "fraud-detection-fg-transactions-v2-group")
    assert group.source.line == loaded.line_of(("spec", "featureGroups", 0))
    assert all(r.source is not None for r in dev_graph), "every resource maps back to a spec"


def test_unknowns_are_marked_and_known_values_are_kept(dev_graph):
    alias = one(dev_graph, "aws:kms/alias:Alias", "fraud-detection-artifacts-key-alias")
    assert alias.inputs["targetKeyId"] == UNKNOWN  # the key id exists only after apply
    assert alias.inputs["name"] == f"alias/{artifact_bucket_name(load_stack_config('dev'), 'fraud-detection')}"
    policy = one(dev_graph, "aws:s3/bucketPolicy:BucketPolicy", "fraud-detection-artifacts-policy")
    assert policy.inputs["policy"] == UNKNOWN  # pins uploads to the key's ARN, known after apply
    trail_bucket = one(dev_graph, "aws:s3/bucketPolicy:BucketPolicy", "platform-trail-bucket-policy")
    document = json.loads(trail_bucket.inputs["policy"])
    assert document["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_dependencies_and_property_dependencies_are_recorded(dev_graph):
    bucket = one(dev_graph, "aws:s3/bucket:Bucket", "fraud-detection-artifacts-bucket")
    policy = one(dev_graph, "aws:s3/bucketPolicy:BucketPolicy", "fraud-detection-artifacts-policy")
    assert bucket.urn in policy.dependencies
    assert policy.property_dependencies["bucket"] == [bucket.urn]
    key = one(dev_graph, "aws:kms/key:Key", "fraud-detection-artifacts-key")
    encryption = one(dev_graph, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                     "fraud-detection-artifacts-encryption")
    assert key.urn in encryption.property_dependencies["rules"]


def test_stateful_resources_are_protected_in_prod_only(dev_graph, prod_graph):
    stateful = ("aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:sagemaker/featureGroup:FeatureGroup")
    for type_token in stateful:
        assert all(r.options["protect"] and r.options["retainOnDelete"] for r in by_type(prod_graph, type_token)), type_token
        assert not any(r.options["protect"] or r.options["retainOnDelete"] for r in by_type(dev_graph, type_token)), type_token
    assert not any(r.options["protect"] for r in by_type(prod_graph, "aws:s3/bucketPolicy:BucketPolicy"))


def test_environment_overrides_reach_the_resources(dev_graph, prod_graph):
    dev_budget = one(dev_graph, "aws:budgets/budget:Budget", "fraud-detection-budget-monthly")
    prod_budget = one(prod_graph, "aws:budgets/budget:Budget", "fraud-detection-budget-monthly")
    assert dev_budget.inputs["limitAmount"] == "3000.00"
    assert prod_budget.inputs["limitAmount"] == "25000.00"


def test_capture_is_deterministic(dev_graph):
    assert capture_stack("dev").dumps() == dev_graph.dumps()


def test_json_form_is_versioned_sorted_and_round_trips(dev_graph):
    data = json.loads(dev_graph.dumps())
    assert data["version"] == 1 and data["stack"] == "dev"
    urns = [r["urn"] for r in data["resources"]]
    assert urns == sorted(urns)
    assert ResourceGraph.from_json(data).dumps() == dev_graph.dumps()


def test_invalid_specs_stop_the_program_before_any_resource(teams_copy):
    spec = teams_copy / "nlp-research.yaml"
    spec.write_text(spec.read_text().replace("maxGpus: 4\n", "maxGpus: four\n"))
    with pytest.raises(InvalidSpecs) as caught:
        capture_stack("dev", teams_dir=str(teams_copy))
    assert any(issue.field.endswith("maxGpus") for issue in caught.value.issues)


def _options_program() -> None:
    first = pulumi.CustomResource("test:index:Thing", "first", {"password": pulumi.Output.secret("hunter2"), "size": 3})
    pulumi.CustomResource(
        "test:index:Thing",
        "second",
        {"peer": first.id, "nested": {"token": pulumi.Output.secret("s3cr3t")}},
        pulumi.ResourceOptions(
            protect=True,
            retain_on_delete=True,
            delete_before_replace=True,
            ignore_changes=["size"],
            aliases=[pulumi.Alias(name="old-second")],
            depends_on=[first],
        ),
    )


def test_secrets_are_redacted_and_options_recorded():
    graph = capture_program(_options_program, "unit", {}, "proj")
    first = one(graph, "test:index:Thing", "first")
    second = one(graph, "test:index:Thing", "second")
    assert is_secret(first.inputs["password"]) and is_secret(second.inputs["nested"]["token"])
    assert "hunter2" not in graph.dumps() and "s3cr3t" not in graph.dumps()
    assert first.inputs["size"] == 3 and isinstance(first.inputs["size"], int)
    assert second.inputs["peer"] == UNKNOWN  # an id is unknown during preview
    assert second.options["protect"] and second.options["retainOnDelete"] and second.options["deleteBeforeReplace"]
    assert second.options["ignoreChanges"] == ["size"]
    assert any("old-second" in alias for alias in second.options["aliases"])
    assert first.urn in second.dependencies
    assert not first.options["protect"]


def test_image_registry_is_immutable_scanned_encrypted_and_expires_untagged(dev_graph, prod_graph):
    repository = one(dev_graph, "aws:ecr/repository:Repository", "fraud-detection-images-repository")
    assert repository.inputs["name"] == "fraud-detection-dev-images"
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS"
    key = one(dev_graph, "aws:kms/key:Key", "fraud-detection-artifacts-key")
    assert key.urn in repository.property_dependencies["encryptionConfigurations"]
    rules = json.loads(one(dev_graph, "aws:ecr/lifecyclePolicy:LifecyclePolicy",
                           "fraud-detection-images-lifecycle").inputs["policy"])["rules"]
    assert rules[0]["selection"]["tagStatus"] == "untagged" and rules[0]["action"]["type"] == "expire"
    assert one(prod_graph, "aws:ecr/repository:Repository", "fraud-detection-images-repository").options["protect"]


def test_artifact_store_security_inputs(dev_graph):
    # the bucket policy's statements: tests/test_dataplane_storage.py (needs the key ARN)
    key = one(dev_graph, "aws:kms/key:Key", "fraud-detection-artifacts-key")
    assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] == 30
    key_policy = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert key_policy["PlatformAdministers"]["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/ml-platform-admin"}
    assert key_policy["TeamRolesUse"]["Principal"]["AWS"] == [
        f"arn:aws:iam::111122223333:role/fraud-detection-dev-{duty}" for duty in ("ingestion", "serving", "training")]
    assert "kms:ScheduleKeyDeletion" not in key_policy["TeamRolesUse"]["Action"]
    block = one(dev_graph, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "fraud-detection-artifacts-public-access-block")
    assert all(block.inputs[flag] is True for flag in
               ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    rules = {rule["id"]: rule for rule in one(
        dev_graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "fraud-detection-artifacts-lifecycle").inputs["rules"]}
    assert rules["retain-models"]["expiration"] == {"days": 730}  # spec.artifacts.retentionDays
    assert rules["versions-and-uploads"]["noncurrentVersionExpiration"] == {"noncurrentDays": 180}
    assert rules["versions-and-uploads"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    encryption = one(dev_graph, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                     "fraud-detection-artifacts-encryption").inputs["rules"][0]
    assert encryption["bucketKeyEnabled"] is True
    assert encryption["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"


def test_team_roles_are_scoped_and_the_human_role_needs_mfa(dev_graph, prod_graph):
    roles = {r.name.rsplit("-", 1)[-1]: r for r in by_type(dev_graph, "aws:iam/role:Role")
             if r.name.startswith("fraud-detection-identity-")}
    assert set(roles) == {"training", "serving", "ingestion", "consumer"}
    consumer_trust = json.loads(roles["consumer"].inputs["assumeRolePolicy"])["Statement"][0]
    # only the roles people sign in as (the stack's humanPrincipalArns), never the whole account
    assert consumer_trust["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/"
                                                  "eu-west-1/AWSReservedSSO_MLTeamMember_5f1c2a9e8b7d6c4a"}
    assert consumer_trust["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    serving_trust = json.loads(roles["serving"].inputs["assumeRolePolicy"])["Statement"][0]
    assert serving_trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert serving_trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}  # confused deputy
    assert "permissionsBoundary" not in roles["training"].inputs  # dev names no boundary
    for role in by_type(prod_graph, "aws:iam/role:Role"):
        assert role.inputs["permissionsBoundary"] == load_stack_config("prod").permissions_boundary_arn


def test_role_policies_never_allow_everything(dev_graph):
    policies = by_type(dev_graph, "aws:iam/rolePolicy:RolePolicy")
    assert policies
    for policy in policies:  # known at plan time, so checkers can read them
        statements = json.loads(policy.inputs["policy"])["Statement"]
        assert all(not (s["Action"] in ("*", ["*"]) and s["Resource"] in ("*", ["*"])) for s in statements)
    training = json.loads(one(dev_graph, "aws:iam/rolePolicy:RolePolicy",
                              "fraud-detection-identity-training-store-access").inputs["policy"])["Statement"]
    kms = [s for s in training if "kms:Decrypt" in s["Action"]][0]
    assert kms["Resource"] == "arn:aws:kms:eu-west-1:111122223333:key/*"
    assert kms["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{artifact_bucket_name(load_stack_config('dev'), 'fraud-detection')}"}}


def test_store_access_is_per_prefix():
    from components.identity import DUTIES, store_statements

    serving = {s.actions[0]: s for s in store_statements(DUTIES["serving"], "b")}
    assert serving["s3:GetObject"].resources == ("arn:aws:s3:::b/models/*",)
    consumer = [s for s in store_statements(DUTIES["consumer"], "b")]
    assert not any("s3:PutObject" in s.actions for s in consumer)
    assert not any("models/" in resource for s in consumer for resource in s.resources)


def test_a_stack_selecting_a_team_without_a_spec_stops_with_the_stack_file_named():
    from mlplatform.capture import project_name
    from mlplatform.estate.program import run
    from mlplatform.stackconfig import config_values_from_stack_file, stack_file

    config, _ = config_values_from_stack_file(stack_file("dev"))
    config["mlplatform:teams"] = json.dumps(["fraud-detection", "ghost-team"])
    with pytest.raises(InvalidSpecs) as caught:
        capture_program(run, "dev", config, project_name())
    issue = caught.value.issues[0]
    assert issue.file == "stacks/Pulumi.dev.yaml" and issue.field == "config.mlplatform:teams"
    assert "ghost-team" in issue.message
