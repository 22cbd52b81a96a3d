"""Plan diff by URN between two ResourceGraphs."""

from __future__ import annotations

import copy
import json
from typing import Any

from mlplatform.diff import PropertyChange, alias_urn, diff_graphs
from mlplatform.graph import UNKNOWN, GraphResource, ResourceGraph, SourceRef

P = "urn:pulumi:prod::mlplatform::"


def team_urn(team: str) -> str:
    return f"{P}mlplatform:team:Team::{team}"


def child_urn(type_token: str, name: str) -> str:
    return f"{P}mlplatform:team:Team${type_token}::{name}"


def team(name: str = "fraud", line: int = 3) -> GraphResource:
    return GraphResource(
        urn=team_urn(name),
        type="mlplatform:team:Team",
        name=name,
        custom=False,
        inputs={"source": {"file": f"examples/teams/{name}.yaml", "line": line}, "team": name},
        source=SourceRef(f"examples/teams/{name}.yaml", line),
    )


def resource(
    type_token: str, name: str, inputs: dict[str, Any], team_name: str = "fraud", **options: Any
) -> GraphResource:
    res = GraphResource(
        urn=child_urn(type_token, name),
        type=type_token,
        name=name,
        parent=team_urn(team_name),
        inputs=inputs,
        source=SourceRef(f"examples/teams/{team_name}.yaml", 3),
    )
    res.options.update(options)
    return res


def graph(*resources: GraphResource) -> ResourceGraph:
    result = ResourceGraph(stack="prod", project="mlplatform")
    for item in resources:
        result.add(copy.deepcopy(item))
    return result


BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
SG = "aws:ec2/securityGroup:SecurityGroup"


def bucket(name: str = "fraud-features", team_name: str = "fraud", **inputs: Any) -> GraphResource:
    base = {"bucket": f"mlp-prod-{name}", "tags": {"team": team_name}}
    return resource(BUCKET, name, {**base, **inputs}, team_name)


def paths(changes: list[PropertyChange]) -> dict[str, tuple[Any, Any]]:
    return {change.path: (change.before, change.after) for change in changes}


def test_identical_graphs_give_an_empty_diff() -> None:
    resources = [team(), bucket(), resource(ROLE, "fraud-training", {"name": "fraud-training"})]
    diff = diff_graphs(graph(*resources), graph(*resources))
    assert diff.summary() == {"create": 0, "update": 0, "replace": 0, "delete": 0, "statefulReplacements": 0}
    assert diff.to_json()["statefulReplacements"] == []


def test_create() -> None:
    role = resource(ROLE, "fraud-training", {"name": "fraud-training"})
    diff = diff_graphs(graph(team()), graph(team(), role))
    assert [(c.urn, c.action, c.stateful) for c in diff.created] == [(role.urn, "create", False)]
    assert diff.created[0].source == SourceRef("examples/teams/fraud.yaml", 3)
    assert diff.stateful_replacements == []


def test_delete_of_a_plain_resource_is_not_flagged() -> None:
    role = resource(ROLE, "fraud-training", {"name": "fraud-training"})
    diff = diff_graphs(graph(team(), role), graph(team()))
    assert [(c.urn, c.action) for c in diff.deleted] == [(role.urn, "delete")]
    assert diff.stateful_replacements == []


def test_delete_of_a_stateful_resource_is_flagged() -> None:
    diff = diff_graphs(graph(team(), bucket()), graph(team()))
    assert [c.action for c in diff.deleted] == ["delete"]
    assert diff.stateful_replacements == diff.deleted
    assert diff.deleted[0].stateful is True


def test_delete_of_a_protected_resource_is_flagged() -> None:
    role = resource(ROLE, "fraud-training", {"name": "fraud-training"}, protect=True)
    diff = diff_graphs(graph(team(), role), graph(team()))
    change = diff.deleted[0]
    assert (change.protected, change.stateful) == (True, True)
    assert diff.stateful_replacements == [change]


def test_update_lists_property_paths() -> None:
    rules_before = [{"id": "expire-raw", "days": 30}, {"id": "abort-uploads", "days": 7}]
    rules_after = [
        {"id": "expire-raw-data", "days": 30},
        {"id": "abort-uploads", "days": 7},
        {"id": "ia", "days": 90},
    ]
    base = bucket(tags={"team": "fraud", "cost-center": "cc-1"}, rules=rules_before)
    head = bucket(tags={"team": "fraud", "cost-center": "cc-2", "owner": "ml"}, rules=rules_after)
    diff = diff_graphs(graph(team(), base), graph(team(), head))
    assert diff.summary()["update"] == 1
    change = diff.updated[0]
    assert change.action == "update"
    assert change.replace_reasons == []
    assert paths(change.property_changes) == {
        "rules[0].id": ("expire-raw", "expire-raw-data"),
        "rules[2]": (None, {"id": "ia", "days": 90}),
        "tags.cost-center": ("cc-1", "cc-2"),
        "tags.owner": (None, "ml"),
    }
    assert diff.stateful_replacements == []  # an in-place update keeps the data


def test_force_new_property_replaces_and_flags_a_stateful_resource() -> None:
    base = bucket(tags={"team": "fraud"})
    head = bucket(bucket="mlp-prod-fraud-features-v2", tags={"team": "fraud", "owner": "ml"})
    diff = diff_graphs(graph(team(), base), graph(team(), head))
    assert diff.updated == []
    change = diff.replaced[0]
    assert (change.action, change.replace_reasons, change.stateful) == ("replace", ["bucket"], True)
    assert paths(change.property_changes) == {
        "bucket": ("mlp-prod-fraud-features", "mlp-prod-fraud-features-v2"),
        "tags.owner": (None, "ml"),
    }
    assert diff.stateful_replacements == [change]


def test_force_new_on_a_non_stateful_type_replaces_without_flag() -> None:
    base = resource("aws:kms/alias:Alias", "fraud-key", {"name": "alias/fraud"})
    head = resource("aws:kms/alias:Alias", "fraud-key", {"name": "alias/fraud-data"})
    diff = diff_graphs(graph(base), graph(head))
    assert [c.replace_reasons for c in diff.replaced] == [["name"]]
    assert diff.stateful_replacements == []


def test_replace_on_changes_option_forces_replacement() -> None:
    base = resource(SG, "fraud-endpoint", {"description": "a", "name": "sg"}, replaceOnChanges=["description"])
    head = resource(SG, "fraud-endpoint", {"description": "b", "name": "sg"}, replaceOnChanges=["description"])
    assert [c.replace_reasons for c in diff_graphs(graph(base), graph(head)).replaced] == [["description"]]


def test_unknown_after_counts_as_a_change() -> None:
    base = resource(KEY, "fraud-data", {"keyUsage": "ENCRYPT_DECRYPT", "policy": "{}"})
    head = resource(KEY, "fraud-data", {"keyUsage": UNKNOWN, "policy": UNKNOWN})
    diff = diff_graphs(graph(base), graph(head))
    change = diff.replaced[0]
    assert change.replace_reasons == ["keyUsage"]
    assert paths(change.property_changes) == {
        "keyUsage": ("ENCRYPT_DECRYPT", UNKNOWN),
        "policy": ("{}", UNKNOWN),
    }
    assert diff.stateful_replacements == [change]


def test_unknown_replacing_an_object_is_one_change() -> None:
    base = resource(ROLE, "r", {"inlinePolicy": {"name": "p", "policy": "{}"}})
    head = resource(ROLE, "r", {"inlinePolicy": UNKNOWN})
    change = diff_graphs(graph(base), graph(head)).updated[0]
    assert paths(change.property_changes) == {"inlinePolicy": ({"name": "p", "policy": "{}"}, UNKNOWN)}


def test_options_change_is_an_update() -> None:
    base = bucket()
    head = bucket()
    head.options["protect"] = True
    diff = diff_graphs(graph(team(), base), graph(team(), head))
    change = diff.updated[0]
    assert paths(change.property_changes) == {"options.protect": (False, True)}
    assert (change.action, change.protected) == ("update", True)
    assert diff.stateful_replacements == []


def test_source_line_move_is_not_a_change() -> None:
    base = graph(team(line=3), bucket())
    head = graph(team(line=9), bucket())
    for item in head:
        item.source = SourceRef("examples/teams/fraud.yaml", 9)
    diff = diff_graphs(base, head)
    assert diff.summary() == {"create": 0, "update": 0, "replace": 0, "delete": 0, "statefulReplacements": 0}


def test_source_input_of_a_custom_resource_is_compared() -> None:
    # Only a component's `source` is a spec position; a bucket object's `source` is its content.
    base = resource("aws:s3/bucketObject:BucketObject", "card", {"source": {"file": "a.md", "line": 1}})
    head = resource("aws:s3/bucketObject:BucketObject", "card", {"source": {"file": "a.md", "line": 2}})
    assert paths(diff_graphs(graph(base), graph(head)).updated[0].property_changes) == {
        "source.line": (1, 2)
    }


def test_team_rename_deletes_and_creates_and_flags_stateful_deletes() -> None:
    role = resource(ROLE, "fraud-training", {"name": "fraud-training"})
    renamed_role = resource(ROLE, "risk-training", {"name": "fraud-training"}, team_name="risk")
    base = graph(team("fraud"), bucket("fraud-features"), role)
    head = graph(team("risk"), bucket("risk-features", team_name="risk"), renamed_role)
    diff = diff_graphs(base, head)
    assert diff.summary() == {"create": 3, "update": 0, "replace": 0, "delete": 3, "statefulReplacements": 1}
    assert [c.urn for c in diff.stateful_replacements] == [child_urn(BUCKET, "fraud-features")]
    created = {c.urn for c in diff.created}
    assert created == {team_urn("risk"), child_urn(BUCKET, "risk-features"), renamed_role.urn}


EMPTY = {"create": 0, "update": 0, "replace": 0, "delete": 0, "statefulReplacements": 0}


def test_urn_alias_keeps_a_moved_resource() -> None:
    old = bucket("fraud-features")
    moved = bucket("fraud-features")
    moved.urn = f"{P}{BUCKET}::fraud-features"  # moved out of the team component to the root
    moved.parent = None
    moved.options["aliases"] = [old.urn]
    diff = diff_graphs(graph(team(), old), graph(team(), moved))
    assert diff.summary() == EMPTY


def test_urn_alias_compares_inputs_as_an_update() -> None:
    old = bucket("fraud-features")
    renamed = bucket("fraud-feature-store", tags={"team": "fraud", "owner": "ml"})
    renamed.inputs["bucket"] = old.inputs["bucket"]
    renamed.options["aliases"] = [f"{P}aws:s3/bucket:Bucket::unrelated", old.urn]
    diff = diff_graphs(graph(team(), old), graph(team(), renamed))
    assert diff.summary() == {**EMPTY, "update": 1}
    change = diff.updated[0]
    assert (change.urn, change.action) == (renamed.urn, "update")
    assert paths(change.property_changes) == {"tags.owner": (None, "ml")}


def test_name_spec_alias_is_a_rename_not_a_delete_and_create() -> None:
    old = bucket("fraud-features")
    renamed = bucket("fraud-feature-store")
    renamed.inputs["bucket"] = old.inputs["bucket"]
    renamed.options["aliases"] = ["name=fraud-features"]
    diff = diff_graphs(graph(team(), old), graph(team(), renamed))
    assert diff.summary() == EMPTY
    assert diff.stateful_replacements == []


def test_a_spec_alias_that_cannot_be_resolved_is_ignored() -> None:
    old = bucket("fraud-features")
    renamed = bucket("fraud-feature-store")
    renamed.inputs["bucket"] = old.inputs["bucket"]
    renamed.options["aliases"] = ["name=fraud-features;parent=not-a-urn", "name=fraud-features;color=red", "junk"]
    diff = diff_graphs(graph(team(), old), graph(team(), renamed))
    assert (diff.summary()["create"], diff.summary()["delete"]) == (1, 1)
    assert [c.urn for c in diff.stateful_replacements] == [old.urn]


def test_alias_urn_substitutes_spec_parts() -> None:
    urn = child_urn("aws:s3/bucketV2:BucketV2", "features")
    stack = f"{P}pulumi:pulumi:Stack::mlplatform-prod"
    assert alias_urn(team_urn("fraud"), urn) == team_urn("fraud")
    assert alias_urn("type=aws:s3/bucket:Bucket", urn) == child_urn(BUCKET, "features")
    assert alias_urn("name=old;type=aws:s3/bucket:Bucket", urn) == child_urn(BUCKET, "old")
    assert alias_urn("parent=<root>", urn) == f"{P}aws:s3/bucketV2:BucketV2::features"
    assert alias_urn(f"parent={stack}", urn) == f"{P}aws:s3/bucketV2:BucketV2::features"
    nested = f"{P}mlplatform:team:Team$mlplatform:store:FeatureStore::fs"
    assert alias_urn(f"name=x;parent={nested}", urn) == (
        f"{P}mlplatform:team:Team$mlplatform:store:FeatureStore$aws:s3/bucketV2:BucketV2::x"
    )
    assert alias_urn("stack=dev", urn) == urn.replace(":prod::", ":dev::")
    assert alias_urn("parent=fraud", urn) is None


def test_ignore_changes_hides_changes_and_never_replaces() -> None:
    rules = [{"id": "expire", "days": 30}]
    base = bucket(tags={"team": "fraud", "owner": "a", "cost-center": "cc-1"}, rules=rules)
    head = bucket(
        bucket="mlp-prod-renamed",  # force-new, but ignored
        tags={"team": "fraud", "owner": "b", "cost-center": "cc-2"},
        rules=[{"id": "expire", "days": 60}],
    )
    head.options["ignoreChanges"] = ["bucket", "tags.owner", "rules[0].days"]
    diff = diff_graphs(graph(team(), base), graph(team(), head))
    assert diff.replaced == []
    assert paths(diff.updated[0].property_changes) == {
        "tags.cost-center": ("cc-1", "cc-2"),
        "options.ignoreChanges": ([], ["bucket", "tags.owner", "rules[0].days"]),
    }


def test_ignore_changes_wildcards() -> None:
    base = bucket(rules=[{"id": "a", "days": 1}, {"id": "b", "days": 2}])
    head = bucket(bucket="renamed", rules=[{"id": "a", "days": 5}, {"id": "b", "days": 6}])
    head.options["ignoreChanges"] = ["rules[*].days", 'tags["team"]', "bucket"]
    assert paths(diff_graphs(graph(base), graph(head)).updated[0].property_changes) == {
        "options.ignoreChanges": ([], ["rules[*].days", 'tags["team"]', "bucket"]),
    }
    base.options["ignoreChanges"] = head.options["ignoreChanges"] = ["*"]
    assert diff_graphs(graph(base), graph(head)).summary() == EMPTY


def test_provider_change_is_an_update() -> None:
    provider = f"{P}mlplatform:team:Team$pulumi:providers:aws::"
    base, head = bucket(), bucket()
    base.provider, head.provider = provider + "fraud-aws", provider + "fraud-aws-eu"
    diff = diff_graphs(graph(base), graph(head))
    change = diff.updated[0]
    assert paths(change.property_changes) == {"provider": (base.provider, head.provider)}
    assert (change.action, change.replace_reasons, diff.stateful_replacements) == ("update", [], [])


def test_provider_moved_with_an_alias_is_not_a_provider_change() -> None:
    old_provider = resource("pulumi:providers:aws", "fraud-aws", {"region": "eu-west-1"})
    new_provider = resource("pulumi:providers:aws", "fraud-aws-v2", {"region": "eu-west-1"})
    new_provider.options["aliases"] = ["name=fraud-aws"]
    base, head = bucket(), bucket()
    base.provider, head.provider = old_provider.urn, new_provider.urn
    assert diff_graphs(graph(old_provider, base), graph(new_provider, head)).summary() == EMPTY


def test_secret_markers_are_leaves() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    base = resource("aws:secretsmanager/secretVersion:SecretVersion", "creds", {"secretString": "plain"})
    head = resource("aws:secretsmanager/secretVersion:SecretVersion", "creds", {"secretString": secret})
    change = diff_graphs(graph(base), graph(head)).updated[0]
    assert paths(change.property_changes) == {"secretString": ("plain", secret)}


def test_to_json_is_serialisable_and_sorted() -> None:
    base = graph(team(), bucket(), resource(ROLE, "b-role", {"name": "b"}))
    head = graph(team(), bucket(bucket="renamed"), resource(ROLE, "a-role", {"name": "a"}))
    data = json.loads(json.dumps(diff_graphs(base, head).to_json()))
    assert data["summary"] == {"create": 1, "update": 0, "replace": 1, "delete": 1, "statefulReplacements": 1}
    assert data["replaced"][0]["replaceReasons"] == ["bucket"]
    assert data["replaced"][0]["propertyChanges"] == [
        {"path": "bucket", "before": "mlp-prod-fraud-features", "after": "renamed"}
    ]
    assert data["replaced"][0]["source"] == {"file": "examples/teams/fraud.yaml", "line": 3}
    assert data["statefulReplacements"] == [child_urn(BUCKET, "fraud-features")]
