"""Globally unique names: every S3 bucket carries the organisation prefix and account id,
and no two stacks ever claim the same bucket or feature group.

S3 bucket names live in one namespace shared by every AWS account of a partition; feature
group names are unique per account and region. The shipped stacks deploy dev, staging
and prod into separate accounts (AWS's multi-account guidance for regulated workloads),
and names must still differ if an adopter puts two stacks into one account.
"""

from __future__ import annotations

import itertools
import re
from types import SimpleNamespace

import pytest

from mlplatform.capture import capture_stack
from mlplatform.errors import SpecError
from mlplatform.stackconfig import (
    PROJECT_ROOT,
    config_values_from_stack_file,
    load_stack_config,
    stack_config_from_values,
    stack_file,
)

STACKS = ("dev", "staging", "prod")
BUCKET = "aws:s3/bucket:Bucket"
FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
#: S3 User Guide, general purpose bucket naming rules: 3 to 63 characters.
BUCKET_MAX_LENGTH = 63
ACCOUNT_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


@pytest.fixture(scope="module")
def graphs():
    return {stack: capture_stack(stack) for stack in STACKS}


def physical_names(graph, type_token: str, key: str) -> set[str]:
    return {r.inputs[key] for r in graph if r.type == type_token}


def test_two_stacks_never_claim_the_same_bucket_or_feature_group(graphs):
    for kind, key in ((BUCKET, "bucket"), (FEATURE_GROUP, "featureGroupName")):
        names = {stack: physical_names(graph, kind, key) for stack, graph in graphs.items()}
        assert all(names.values()), kind
        for first, second in itertools.combinations(STACKS, 2):
            assert names[first].isdisjoint(names[second]), (kind, first, second, names[first] & names[second])


def test_every_bucket_name_carries_the_org_prefix_and_the_account_id(graphs):
    for stack, graph in graphs.items():
        config = load_stack_config(stack)
        org = getattr(config, "org_prefix", None)
        assert org, f"stacks/Pulumi.{stack}.yaml sets no mlplatform:orgPrefix"
        for name in physical_names(graph, BUCKET, "bucket"):
            assert name.startswith(f"{org}-") and name.endswith(f"-{config.account_id}"), (stack, name)
            assert 3 <= len(name) <= BUCKET_MAX_LENGTH


def test_shipped_stacks_are_separate_accounts_everywhere_the_account_appears():
    accounts = {}
    for stack in STACKS:
        text = stack_file(stack).read_text()
        config = load_stack_config(stack)
        in_file = set(ACCOUNT_IN_TEXT.findall(text))
        assert in_file == {config.account_id}, (stack, in_file)  # role, boundary, secret and SSO ARNs alike
        accounts[stack] = config.account_id
    assert len(set(accounts.values())) == len(STACKS), accounts


def test_truncation_keeps_the_org_prefix_and_the_account_id_and_never_collides():
    from mlplatform.naming import bucket_name

    scope = SimpleNamespace(org_prefix="acme-finance", account_id="777788889999")
    team = "payments-risk-scoring-europe-wholesale-a"  # 40 characters: the schema's maximum
    names = {bucket_name(scope, team, "staging", purpose)
             for purpose in ("artifacts", "artifacts-eu-central-1", "log-delivery-failures")}
    assert len(names) == 3
    for name in names:
        assert len(name) == BUCKET_MAX_LENGTH and name.startswith("acme-finance-payments-") and name.endswith("-777788889999")
    plain = bucket_name(SimpleNamespace(org_prefix=None, account_id="111122223333"), "fraud", "dev", "artifacts")
    assert plain == "fraud-dev-artifacts-111122223333"


@pytest.mark.parametrize("value,message", [
    ("Acme", "should match pattern"),
    ("acme-corporation-emea", "should match pattern"),  # longer than 12
    ("sthree", "may not start with 'sthree-'"),
    ("xn--a", "may not start with 'xn--'"),
])
def test_org_prefix_errors_name_the_stack_file_line_and_setting(value, message):
    values, document = config_values_from_stack_file(stack_file("prod"))
    values["mlplatform:orgPrefix"] = value
    with pytest.raises(SpecError) as caught:
        stack_config_from_values("prod", values, "stacks/Pulumi.prod.yaml", document)
    issue = caught.value.issues[0]
    assert issue.field == "config.mlplatform:orgPrefix" and message in issue.message
    assert issue.line == document.position(("config", "mlplatform:orgPrefix")).line > 1
    assert "\n" not in issue.format()


def test_environment_names_are_bounded_like_the_specs_environment_keys():
    values, document = config_values_from_stack_file(stack_file("dev"))
    values["mlplatform:environment"] = "development-sandbox-eu"  # 22 characters
    with pytest.raises(SpecError) as caught:
        stack_config_from_values("dev", values, "stacks/Pulumi.dev.yaml", document)
    assert caught.value.issues[0].field == "config.mlplatform:environment"


def test_readme_documents_the_org_prefix():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "orgPrefix" in readme and "egressCidrs" in readme
