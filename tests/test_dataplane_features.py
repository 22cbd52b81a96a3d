"""Feature store, schema registry, ABAC and naming under the mock runtime; plan diffs of groups."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from components.artifact_store import artifact_bucket_name
from components.schema_registry import avro_schema, dqdl_ruleset
from mlplatform.capture import capture_stack
from mlplatform.cli import main
from mlplatform.reports.plan import STATEFUL_MARKER
from mlplatform.naming import feature_group_name
from mlplatform.spec.models import FeatureGroup as FeatureGroupSpec
from mlplatform.stackconfig import load_stack_config

from .conftest import EXAMPLES
from .helpers.dataplane import by_type, one, statements

GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
DEV = load_stack_config("dev")
TRANSACTIONS = feature_group_name("fraud-detection", "dev", "transactions", 2)
ITEM_EMBEDDINGS = feature_group_name("recommendations", "dev", "item-embeddings", 3)
USER_PROFILE = feature_group_name("recommendations", "dev", "user-profile", 1)
TRANSACTIONS_TABLE = TRANSACTIONS.replace("-", "_")


def test_groups_are_named_typed_and_tagged(dev_graph):
    fraud = one(dev_graph, GROUP, "fraud-detection-fg-transactions-v2-group").inputs
    assert fraud["featureGroupName"] == TRANSACTIONS
    assert fraud["recordIdentifierFeatureName"] == "transaction_id" and fraud["eventTimeFeatureName"] == "event_time"
    assert fraud["featureDefinitions"][:3] == [
        {"featureName": "transaction_id", "featureType": "String"},
        {"featureName": "event_time", "featureType": "String"},
        {"featureName": "amount", "featureType": "Fractional"}]
    assert {"featureName": "customer_age_band", "featureType": "Integral"} in fraud["featureDefinitions"]
    assert fraud["roleArn"] == "arn:aws:iam::111122223333:role/fraud-detection-dev-ingestion"
    assert fraud["tags"] == {"pii": "true"}
    items = one(dev_graph, GROUP, "recommendations-fg-item-embeddings-v3-group").inputs
    assert items["tags"] == {"pii": "false"}  # ABAC reads need the tag either way


def test_online_store_has_the_team_key_and_ttl_only_when_enabled(dev_graph):
    key = one(dev_graph, "aws:kms/key:Key", "fraud-detection-artifacts-key")
    fraud = one(dev_graph, GROUP, "fraud-detection-fg-transactions-v2-group")
    online = fraud.inputs["onlineStoreConfig"]
    assert online["enableOnlineStore"] is True and online["ttlDuration"] == {"unit": "Hours", "value": 48}
    assert key.urn in fraud.property_dependencies["onlineStoreConfig"]
    profile = one(dev_graph, GROUP, "recommendations-fg-user-profile-v1-group").inputs["onlineStoreConfig"]
    assert profile["ttlDuration"] == {"unit": "Hours", "value": 720}  # PII: 30 days at most (MLP-RET-002)
    assert "onlineStoreConfig" not in one(dev_graph, GROUP, "recommendations-fg-item-embeddings-v3-group").inputs


def test_offline_store_is_iceberg_in_the_team_bucket_and_catalog(dev_graph):
    fraud = one(dev_graph, GROUP, "fraud-detection-fg-transactions-v2-group")
    offline = fraud.inputs["offlineStoreConfig"]
    assert offline["s3StorageConfig"]["s3Uri"] == \
        f"s3://{artifact_bucket_name(DEV, 'fraud-detection')}/feature-store/{TRANSACTIONS}"
    assert offline["tableFormat"] == "Iceberg" and offline["disableGlueTableCreation"] is False
    assert offline["dataCatalogConfig"] == {"catalog": "AwsDataCatalog", "database": "fraud_detection_dev_features",
                                            "tableName": TRANSACTIONS_TABLE}
    key = one(dev_graph, "aws:kms/key:Key", "fraud-detection-artifacts-key")
    assert key.urn in fraud.property_dependencies["offlineStoreConfig"]
    database = one(dev_graph, "aws:glue/catalogDatabase:CatalogDatabase", "fraud-detection-features-database")
    assert database.urn in fraud.dependencies
    assert not [r for r in dev_graph if r.name.startswith("nlp-research-features")]  # no groups, no catalog


def test_consumer_reads_pii_groups_only_with_the_pii_access_principal_tag(dev_graph):
    policy = statements(one(dev_graph, "aws:iam/rolePolicy:RolePolicy", "fraud-detection-identity-consumer-feature-access"))
    group = f"arn:aws:sagemaker:eu-west-1:111122223333:feature-group/{TRANSACTIONS}"
    allow = policy["ReadPiiOnlineWithPiiAccess"]
    assert allow["Effect"] == "Allow" and allow["Resource"] == group
    assert allow["Action"] == ["sagemaker:BatchGetRecord", "sagemaker:GetRecord"]
    assert allow["Condition"] == {"StringEquals": {"aws:PrincipalTag/pii-access": "true", "aws:ResourceTag/pii": "true"}}
    guard = policy["DenyPiiOnlineWithoutPiiAccess"]
    assert guard["Effect"] == "Deny" and guard["Condition"] == {
        "StringEquals": {"aws:ResourceTag/pii": "true"}, "StringNotEquals": {"aws:PrincipalTag/pii-access": "true"}}
    prefix = f"arn:aws:s3:::{artifact_bucket_name(DEV, 'fraud-detection')}/feature-store/{TRANSACTIONS}/*"
    assert policy["ReadPiiOfflineWithPiiAccess"]["Resource"] == prefix
    assert policy["ReadPiiOfflineWithPiiAccess"]["Condition"] == {"StringEquals": {"aws:PrincipalTag/pii-access": "true"}}
    assert policy["DenyPiiOfflineWithoutPiiAccess"]["Effect"] == "Deny"
    assert policy["DenyPiiOfflineWithoutPiiAccess"]["Condition"] == {
        "StringNotEquals": {"aws:PrincipalTag/pii-access": "true"}}
    assert "ReadNonPiiOnline" not in policy  # the team's only group holds PII
    store = statements(one(dev_graph, "aws:iam/rolePolicy:RolePolicy", "fraud-detection-identity-consumer-store-access"))
    assert not any("feature-store" in r for s in store.values() for r in ([s["Resource"]] if isinstance(s["Resource"], str)
                                                                           else s["Resource"]))


def test_consumer_reads_non_pii_groups_by_their_pii_false_tag(dev_graph):
    policy = statements(one(dev_graph, "aws:iam/rolePolicy:RolePolicy", "recommendations-identity-consumer-feature-access"))
    plain = policy["ReadNonPiiOnline"]
    assert plain["Resource"] == f"arn:aws:sagemaker:eu-west-1:111122223333:feature-group/{ITEM_EMBEDDINGS}"
    assert plain["Condition"] == {"StringEquals": {"aws:ResourceTag/pii": "false"}}
    assert policy["ReadPiiOnlineWithPiiAccess"]["Resource"].endswith(f"/{USER_PROFILE}")
    assert policy["ReadNonPiiOffline"]["Resource"].endswith(f"/feature-store/{ITEM_EMBEDDINGS}/*")
    assert "Condition" not in policy["ReadNonPiiOffline"]


def test_human_role_trust_requires_mfa_and_passes_only_its_own_pii_tag(dev_graph):
    role = one(dev_graph, "aws:iam/role:Role", "fraud-detection-identity-consumer")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assume, tag = trust
    assert assume["Action"] == "sts:AssumeRole" and assume["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert tag["Action"] == "sts:TagSession"
    assert tag["Condition"] == {
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["pii-access"]},
        "StringEquals": {"aws:RequestTag/pii-access": "${aws:PrincipalTag/pii-access}"},
    }
    assert all("Resource" not in statement for statement in trust)
    assert role.inputs["tags"] == {"principal-type": "human"}
    assert one(dev_graph, "aws:iam/role:Role", "fraud-detection-identity-training").inputs["tags"] == {
        "principal-type": "service"}


def test_ingestion_writes_its_catalog_tables_and_records_only(dev_graph):
    policy = json.loads(one(dev_graph, "aws:iam/rolePolicy:RolePolicy",
                            "fraud-detection-identity-ingestion-feature-access").inputs["policy"])["Statement"]
    glue = next(s for s in policy if "glue:CreateTable" in s["Action"])
    assert all(r.startswith("arn:aws:glue:eu-west-1:111122223333:") for r in glue["Resource"])
    assert f"arn:aws:glue:eu-west-1:111122223333:table/fraud_detection_dev_features/{TRANSACTIONS_TABLE}" \
        in glue["Resource"]
    assert not any(r.endswith("*") for r in glue["Resource"])
    records = next(s for s in policy if "sagemaker:PutRecord" in s["Action"])
    assert records["Resource"] == f"arn:aws:sagemaker:eu-west-1:111122223333:feature-group/{TRANSACTIONS}"


def test_streamed_groups_get_a_backward_compatible_avro_schema(dev_graph):
    schemas = by_type(dev_graph, "aws:glue/schema:Schema")
    assert [s.name for s in schemas] == ["fraud-detection-schemas-transactions-v2"]  # the only streamed group
    schema = schemas[0].inputs
    assert schema["compatibility"] == "BACKWARD" and schema["dataFormat"] == "AVRO"
    assert schema["schemaName"] == TRANSACTIONS
    registry = one(dev_graph, "aws:glue/registry:Registry", "fraud-detection-schemas-registry")
    assert registry.inputs["registryName"] == "fraud-detection-dev-features"
    assert registry.urn in schemas[0].property_dependencies["registryArn"]
    avro = json.loads(schema["schemaDefinition"])
    fields = {f["name"]: f for f in avro["fields"]}
    assert fields["transaction_id"]["type"] == "string" and fields["event_time"]["type"] == "string"
    assert fields["amount"]["type"] == "double"  # nullable: false
    assert fields["merchant_risk"] == {"name": "merchant_risk", "type": ["null", "double"], "default": None}
    assert fields["customer_age_band"]["type"] == ["null", "long"]
    assert not by_type(dev_graph, "aws:glue/registry:Registry")[1:]  # recommendations streams nothing


def test_data_quality_rulesets_check_what_the_spec_declares(dev_graph):
    ruleset = one(dev_graph, "aws:glue/dataQualityRuleset:DataQualityRuleset", "fraud-detection-schemas-transactions-v2-dq")
    assert ruleset.inputs["targetTable"] == {"databaseName": "fraud_detection_dev_features",
                                             "tableName": TRANSACTIONS_TABLE}
    rules = ruleset.inputs["ruleset"]
    for rule in ('IsComplete "transaction_id"', 'IsComplete "event_time"', 'IsComplete "amount"',
                 'ColumnValues "amount" >= 0', 'ColumnValues "amount" <= 1000000', 'ColumnValues "merchant_risk" <= 1'):
        assert rule in rules
    assert 'IsComplete "merchant_risk"' not in rules and "card_hash" not in rules
    group = one(dev_graph, GROUP, "fraud-detection-fg-transactions-v2-group")
    assert group.urn in ruleset.dependencies  # the table exists once the group does


def _group(**changes) -> FeatureGroupSpec:
    data = {"name": "g", "recordIdentifier": "id", "eventTime": "ts", "features": [
        {"name": "id", "type": "integral"}, {"name": "ts", "type": "string"},
        {"name": "score", "type": "fractional", "min": -1.5, "max": 2}]}
    data.update(changes)
    return FeatureGroupSpec.model_validate(data)


def test_schema_and_ruleset_generation_units():
    group = _group()
    avro = json.loads(avro_schema("team-x", group))
    assert avro["namespace"] == "mlplatform.team_x" and avro["name"] == "g_v1"
    assert [f["type"] for f in avro["fields"]] == ["long", "string", ["null", "double"]]
    assert dqdl_ruleset(group) == ('Rules = [\n    IsComplete "id",\n    IsComplete "ts",\n'
                                   '    ColumnValues "score" >= -1.5,\n    ColumnValues "score" <= 2\n]')


@pytest.mark.parametrize("feature,message", [
    ({"name": "s", "type": "string", "min": 1}, "min applies to integral and fractional"),
    ({"name": "n", "type": "integral", "min": 5, "max": 1}, "min (5) is greater than max (1)"),
])
def test_bad_bounds_are_refused(feature, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _group(features=[{"name": "id", "type": "integral"}, {"name": "ts", "type": "string"}, feature])


# ---------------------------------------------------------------- names

LIMITS = {  # type -> (input naming the physical resource, the service's limit)
    "aws:s3/bucket:Bucket": ("bucket", 63),
    "aws:iam/role:Role": ("name", 64),
    GROUP: ("featureGroupName", 64),
    "aws:ecr/repository:Repository": ("name", 256),
    "aws:kms/alias:Alias": ("name", 256),
    "aws:glue/registry:Registry": ("registryName", 255),
    "aws:glue/schema:Schema": ("schemaName", 255),
    "aws:glue/catalogDatabase:CatalogDatabase": ("name", 255),
    "aws:glue/dataQualityRuleset:DataQualityRuleset": ("name", 255),
    "aws:budgets/budget:Budget": ("name", 100),
    "aws:cloudtrail/trail:Trail": ("name", 128),
}


def _long_teams(folder: Path) -> list[str]:
    """Two 40-character teams sharing a 38-character prefix, each with long group names."""
    source = (EXAMPLES / "fraud-detection.yaml").read_text()
    teams = []
    for suffix in ("-a", "-b"):
        team = "payments-risk-scoring-europe-wholesale" + suffix
        assert len(team) == 40
        text = source.replace("team: fraud-detection", f"team: {team}").replace(
            "    - name: transactions\n      version: 2", "    - name: transactions-enriched-with-merchant-risk\n      version: 999"
        ).replace("domainPrefix: fraud-scorer", f"domainPrefix: fraud-scorer{suffix}")  # one host name per front door
        (folder / f"{team}.yaml").write_text(text)
        teams.append(team)
    return teams


def test_forty_character_teams_fit_every_limit_and_never_collide(tmp_path):
    teams = _long_teams(tmp_path)
    graph = capture_stack("prod", teams_dir=str(tmp_path))  # prod: replication, boundary, everything
    names = defaultdict(list)
    for resource in graph:
        if resource.type in LIMITS:
            key, limit = LIMITS[resource.type]
            name = resource.inputs[key]
            assert len(name) <= limit, (resource.urn, name)
            names[resource.type].append(name)
    for type_token, values in names.items():
        assert len(values) == len(set(values)), type_token
    groups = names[GROUP]
    assert len(groups) == 2 and all(g.startswith("payments-risk-scoring-europe-wholesale-") for g in groups)
    artifact_buckets = [r.inputs["bucket"] for r in graph
                        if r.type == "aws:s3/bucket:Bucket" and r.name.endswith(("-artifacts-bucket", "-replica-bucket"))]
    prod = load_stack_config("prod")
    assert len(artifact_buckets) == 4 and all(b.startswith(f"{prod.org_prefix}-payments-risk")
                                              and b.endswith(f"-{prod.account_id}") for b in artifact_buckets)  # artifacts and replica of each team
    tables = [r.inputs["offlineStoreConfig"]["dataCatalogConfig"]["tableName"] for r in by_type(graph, GROUP)]
    assert len(set(tables)) == 2 and all(len(t) <= 255 for t in tables)
    assert set(teams) == {r.name for r in by_type(graph, "mlplatform:team:Team")}


# ---------------------------------------------------------------- plan diffs

def _plan_diff(capsys, teams: Path, base: Path) -> tuple[dict, str]:
    code = main(["plan", "--stack", "dev", "--teams", str(teams), "--base", str(base), "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0
    code = main(["plan", "--stack", "dev", "--teams", str(teams), "--base", str(base)])
    text = capsys.readouterr().out
    assert code == 0
    return json.loads(out)["diff"], text


def _names(changes) -> set[str]:
    return {c["urn"].rsplit("::", 1)[-1] for c in changes}


@pytest.fixture
def base_plan(tmp_path, dev_graph) -> Path:
    path = tmp_path / "base.json"
    path.write_text(dev_graph.dumps())
    return path


def test_renamed_group_is_new_beside_the_old_which_is_flagged(capsys, teams_copy, base_plan):
    fraud = teams_copy / "fraud-detection.yaml"
    fraud.write_text(fraud.read_text().replace("    - name: transactions\n", "    - name: payments\n"))
    diff, text = _plan_diff(capsys, teams_copy, base_plan)
    created, deleted = _names(diff["created"]), _names(diff["deleted"])
    assert {"fraud-detection-fg-payments-v2-group", "fraud-detection-schemas-payments-v2",
            "fraud-detection-schemas-payments-v2-dq"} <= created
    assert {"fraud-detection-fg-transactions-v2-group", "fraud-detection-schemas-transactions-v2"} <= deleted
    assert not _names(diff["replaced"]) & {"fraud-detection-fg-transactions-v2-group"}
    flagged = {urn.rsplit("::", 1)[-1] for urn in diff["statefulReplacements"]}
    assert {"fraud-detection-fg-transactions-v2-group", "fraud-detection-schemas-transactions-v2"} <= flagged
    assert "fraud-detection-schemas-registry" not in flagged and "fraud-detection-artifacts-bucket" not in flagged
    marked = [line for line in text.splitlines() if line.endswith(STATEFUL_MARKER)]
    assert any("fraud-detection-fg-transactions-v2-group" in line for line in marked)
    assert not any("payments" in line for line in marked)


def test_deleted_group_is_flagged_as_destroying_state(capsys, teams_copy, base_plan):
    recs = teams_copy / "recommendations.yaml"
    text = recs.read_text()
    start, end = text.index("    - name: item-embeddings\n"), text.index("  training:\n")
    recs.write_text(text[:start] + text[end:])
    diff, out = _plan_diff(capsys, teams_copy, base_plan)
    deleted = {c["urn"].rsplit("::", 1)[-1]: c for c in diff["deleted"]}
    group = deleted["recommendations-fg-item-embeddings-v3-group"]
    assert group["stateful"] is True and group["urn"] in diff["statefulReplacements"]
    assert "recommendations-schemas-item-embeddings-v3-dq" in deleted
    assert "recommendations-fg-user-profile-v1-group" not in deleted
    assert any("recommendations-fg-item-embeddings-v3-group" in line and line.endswith(STATEFUL_MARKER)
               for line in out.splitlines())


def test_online_only_groups_name_no_catalog(teams_copy):
    recs = teams_copy / "recommendations.yaml"
    text = recs.read_text()
    start, end = text.index("    - name: item-embeddings\n"), text.index("  training:\n")
    text = text[:start] + text[end:]
    online = "      online: {enabled: true, ttlHours: 720}\n"
    assert online in text
    recs.write_text(text.replace(online, online + "      offline: {enabled: false}\n"))
    graph = capture_stack("dev", teams_dir=str(teams_copy))
    assert not [r for r in graph if r.name.startswith("recommendations-features")]
    assert not [r for r in graph if r.name.startswith("recommendations-schemas-")
                and r.type == "aws:glue/dataQualityRuleset:DataQualityRuleset"]
    for duty in ("consumer", "ingestion", "training"):
        policy = one(graph, "aws:iam/rolePolicy:RolePolicy", f"recommendations-identity-{duty}-feature-access")
        assert "glue:" not in policy.inputs["policy"] and "feature-store/" not in policy.inputs["policy"]
    group = one(graph, GROUP, "recommendations-fg-user-profile-v1-group").inputs
    assert "offlineStoreConfig" not in group
