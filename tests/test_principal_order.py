"""MLP-VFY-PRINCIPAL (mlplatform/verify/principal_order.py): resource policies wait for the
IAM principals of the plan they name (issue 14, defect 6)."""

from __future__ import annotations

import json

from mlplatform.graph import UNKNOWN, GraphResource, ResourceGraph
from mlplatform.reports.findings import FAILED, PASSED, SKIPPED
from mlplatform.verify.principal_order import RULE, check

ACCOUNT = "111122223333"
PREFIX = "urn:pulumi:test::proj::"
PROVIDER = f"{PREFIX}pulumi:providers:aws::team-aws"


def urn(type_token: str, name: str) -> str:
    return f"{PREFIX}{type_token}::{name}"


def role(name: str, physical: str, path: str | None = None, **kwargs) -> GraphResource:
    inputs = {"name": physical, "assumeRolePolicy": json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"Service": "sagemaker.amazonaws.com"}}]})}
    if path:
        inputs["path"] = path
    return GraphResource(urn=urn("aws:iam/role:Role", name), type="aws:iam/role:Role", name=name,
                         provider=PROVIDER, inputs=inputs, **kwargs)


def key(name: str, *principals: str, **kwargs) -> GraphResource:
    statements = [{"Sid": "Root", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
                   "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]
    if principals:
        statements.append({"Sid": "Use", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                           "Principal": {"AWS": list(principals)}})
    return GraphResource(urn=urn("aws:kms/key:Key", name), type="aws:kms/key:Key", name=name, provider=PROVIDER,
                         inputs={"policy": json.dumps({"Version": "2012-10-17", "Statement": statements})}, **kwargs)


def graph(*resources: GraphResource) -> ResourceGraph:
    result = ResourceGraph(stack="test", project="proj")
    result.add(GraphResource(urn=PROVIDER, type="pulumi:providers:aws", name="team-aws", custom=True,
                             inputs={"allowedAccountIds": json.dumps([ACCOUNT]),
                                     "defaultTags": json.dumps({"tags": {"team": "fraud"}})}))
    for resource in resources:
        result.add(resource)
    return result


def by_name(results, name):
    matches = [r for r in results if r.resource_name == name]
    assert len(matches) == 1, [r.resource_name for r in results]
    return matches[0]


TRAINING_ARN = f"arn:aws:iam::{ACCOUNT}:role/fraud-training"


def test_policy_naming_a_plan_role_without_depending_on_it_fails():
    results = check(graph(role("training", "fraud-training"), key("artifacts", TRAINING_ARN)))
    result = by_name(results, "artifacts")
    assert result.status == FAILED and result.rule is RULE and result.rule.id == "MLP-VFY-PRINCIPAL"
    assert TRAINING_ARN in result.message and "training" in result.message
    assert result.team == "fraud"


def test_explicit_dependency_passes():
    training = role("training", "fraud-training")
    results = check(graph(training, key("artifacts", TRAINING_ARN, dependencies=[training.urn])))
    assert by_name(results, "artifacts").status == PASSED


def test_property_dependency_passes():
    training = role("training", "fraud-training")
    results = check(graph(training, key("artifacts", TRAINING_ARN, property_dependencies={"policy": [training.urn]})))
    assert by_name(results, "artifacts").status == PASSED


def test_dependency_through_a_component_or_a_chain_passes():
    component = GraphResource(urn=urn("mlplatform:identity:TeamIdentity", "identity"),
                              type="mlplatform:identity:TeamIdentity", name="identity", custom=False)
    training = role("training", "fraud-training", parent=component.urn)
    on_component = key("direct", TRAINING_ARN, dependencies=[component.urn])
    alias = GraphResource(urn=urn("aws:kms/alias:Alias", "middle"), type="aws:kms/alias:Alias", name="middle",
                          dependencies=[training.urn])
    chained = key("chained", TRAINING_ARN, dependencies=[alias.urn])
    results = check(graph(component, training, on_component, alias, chained))
    assert by_name(results, "direct").status == PASSED
    assert by_name(results, "chained").status == PASSED


def test_principals_outside_the_plan_are_not_findings():
    outside = [f"arn:aws:iam::{ACCOUNT}:role/ml-platform-admin",  # a stack config role
               f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
               f"arn:aws:iam::{ACCOUNT}:root", "*",
               "arn:aws:iam::444455556666:role/fraud-training"]  # same name, another account
    results = check(graph(role("training", "fraud-training"), key("artifacts", *outside)))
    assert by_name(results, "artifacts").status == PASSED


def test_role_paths_and_not_principal_are_read():
    admin = role("admin", "fraud-admin", path="/teams/")
    policy = GraphResource(
        urn=urn("aws:s3/bucketPolicy:BucketPolicy", "bucket-policy"), type="aws:s3/bucketPolicy:BucketPolicy",
        name="bucket-policy", provider=PROVIDER,
        inputs={"policy": json.dumps({"Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                                                    "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/teams/fraud-admin"}}})})
    assert by_name(check(graph(admin, policy)), "bucket-policy").status == FAILED


def test_trust_policy_and_grant_naming_another_plan_role():
    training = role("training", "fraud-training")
    assumer = role("assumer", "fraud-assumer")
    assumer.inputs["assumeRolePolicy"] = json.dumps({"Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": TRAINING_ARN}}]})
    grant = GraphResource(urn=urn("aws:kms/grant:Grant", "grant"), type="aws:kms/grant:Grant", name="grant",
                          provider=PROVIDER, inputs={"granteePrincipal": TRAINING_ARN, "keyId": "k"})
    results = check(graph(training, assumer, grant))
    assert by_name(results, "assumer").status == FAILED
    assert by_name(results, "grant").status == FAILED
    assert by_name(results, "training").status == PASSED  # trusts a service only


def test_unknown_policy_is_skipped_and_unparseable_policy_fails():
    unknown = GraphResource(urn=urn("aws:s3/bucketPolicy:BucketPolicy", "later"), type="aws:s3/bucketPolicy:BucketPolicy",
                            name="later", provider=PROVIDER, inputs={"policy": UNKNOWN})
    broken = key("broken")
    broken.inputs["policy"] = "{not json"
    results = check(graph(unknown, broken))
    assert by_name(results, "later").status == SKIPPED
    failed = by_name(results, "broken")
    assert failed.status == FAILED and "not JSON" in failed.message


def test_account_comes_from_the_stack_when_the_provider_pins_none():
    class Stack:
        account_id = ACCOUNT

    training = role("training", "fraud-training")
    training.provider = None
    artifacts = key("artifacts", TRAINING_ARN)
    artifacts.provider = None
    assert by_name(check(graph(training, artifacts), Stack()), "artifacts").status == FAILED
    assert by_name(check(graph(training, artifacts)), "artifacts").status == PASSED  # account unknown: not judged


def test_prod_plan_policies_wait_for_the_roles_they_name(prod_graph):
    """The shipped prod estate: key policies and model package group policies name the
    team's roles (and the replication role); every one of them must wait for its roles."""
    results = check(prod_graph)
    failures = [f"{r.resource_name}: {r.message}" for r in results if r.status == FAILED]
    assert not failures, "\n".join(failures)
    judged = {r.resource_name for r in results if r.status == PASSED}
    assert {"fraud-detection-artifacts-key", "fraud-detection-artifacts-replica-key",
            "fraud-detection-registry-scorer-policy", "fraud-detection-notifications-key"} <= judged
