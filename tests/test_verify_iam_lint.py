"""IAM lint (mlp verify): every IAM document of a plan goes through parliament.

Hand-built documents show each finding class the lint relies on fails (and a clean one
passes); the shipped prod plan shows every policy-bearing type is extracted.
"""

from __future__ import annotations

import importlib
import json
import re

import pytest

from mlplatform.graph import UNKNOWN, GraphResource, ResourceGraph, SourceRef, secret_marker
from mlplatform.reports.findings import ADVISORY, FAILED, MANDATORY, PASSED
from mlplatform.stackconfig import load_stack_config
from mlplatform.verify import iam_lint
from mlplatform.verify.suppressions import DEFAULT_SUPPRESSIONS, apply_suppressions, load_suppressions
from mlplatform.verify.iam_documents import (
    DOCUMENT_FIELDS,
    NOT_IAM_FIELDS,
    RESOURCE,
    SYNTHESISED,
    TRUST,
    iter_documents,
    lambda_permission_statement,
)

ACCOUNT = load_stack_config("prod").account_id  # the stack the fixture below loads
SPEC = SourceRef("examples/teams/fraud-detection.yaml", 42)


@pytest.fixture(scope="module")
def stack():
    return load_stack_config("prod")


def _graph(*resources: tuple[str, str, dict]) -> ResourceGraph:
    graph = ResourceGraph(stack="prod", project="mlplatform")
    for type_token, name, inputs in resources:
        graph.add(GraphResource(urn=f"urn:pulumi:prod::mlplatform::{type_token}::{name}", type=type_token, name=name,
                                inputs=inputs, source=SPEC))
    return graph


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _role_policy(document) -> ResourceGraph:
    return _graph(("aws:iam/rolePolicy:RolePolicy", "team-policy", {"role": "team-role", "policy": document}))


def _failures(results, rule_id=None):
    return [r for r in results if r.status == FAILED and (rule_id is None or r.rule.id == rule_id)]


# ------------------------------------------------------------------ finding classes


def test_unknown_action_fails_mandatory_and_names_statement_and_spec_line(stack):
    results = iam_lint.check(_role_policy(_policy(
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
        {"Sid": "Typo", "Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::bucket/*"},
    )), stack)
    [failure] = _failures(results)
    assert failure.rule.id == "MLP-IAM-UNKNOWN-ACTION"
    assert failure.enforcement == MANDATORY  # parliament rates it LOW; see ENFORCEMENT_OVERRIDES
    assert "Statement[1] (Sid Typo)" in failure.message and "s3:GetObjekt" in failure.message
    assert (failure.file, failure.line, failure.resource_name) == (SPEC.file, SPEC.line, "team-policy")
    assert failure.urn.endswith("::team-policy")


def test_unknown_service_prefix_fails(stack):
    results = iam_lint.check(_role_policy(_policy({"Effect": "Allow", "Action": "sagemakr:ListModels",
                                                   "Resource": "*"})), stack)
    assert [r.rule.id for r in _failures(results)] == ["MLP-IAM-UNKNOWN-PREFIX"]


def test_resource_of_the_wrong_type_for_the_action_fails(stack):
    # s3:GetObject acts on objects; the bucket ARN names no object, so the grant never matches.
    results = iam_lint.check(_role_policy(_policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket"})), stack)
    [failure] = _failures(results)
    assert failure.rule.id == "MLP-IAM-RESOURCE-MISMATCH" and failure.enforcement == MANDATORY
    assert "s3:GetObject needs arn:*:s3:::*/*" in failure.message


def test_action_without_resource_type_scoped_to_an_arn_fails(stack):
    # issue 14, defect 4: sagemaker-mlflow:AccessUI takes no resource type, so an ARN never matches.
    server = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:mlflow-tracking-server/team-prod"
    results = iam_lint.check(_role_policy(_policy(
        {"Effect": "Allow", "Action": ["sagemaker-mlflow:AccessUI", "sagemaker-mlflow:GetRun"], "Resource": server})),
        stack)
    [failure] = _failures(results)
    assert failure.rule.id == "MLP-IAM-RESOURCE-MISMATCH"
    assert "sagemaker-mlflow:AccessUI needs *" in failure.message and "GetRun" not in failure.message


def test_unknown_condition_key_for_the_action_fails(stack):
    results = iam_lint.check(_role_policy(_policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*",
         "Condition": {"StringEquals": {"s3:NoSuchConditionKey": "x"}}})), stack)
    [failure] = _failures(results)
    assert failure.rule.id == "MLP-IAM-UNKNOWN-CONDITION-FOR-ACTION" and failure.enforcement == MANDATORY
    assert "s3:NoSuchConditionKey" in failure.message


def test_condition_key_of_the_actions_resource_type_is_known(stack):
    # kms:ResourceAliases is defined on the KMS key resource type (Service Authorization
    # Reference); parliament alone reports it unknown for kms:Decrypt.
    document = _policy({"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*",
                        "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/team-prod"}}})
    results = iam_lint.check(_role_policy(document), stack)
    assert not _failures(results), [r.message for r in results]


def test_malformed_json_fails_even_where_parliaments_parser_is_lenient(stack):
    for text in ('{"Version": "2012-10-17", "Statement": [', '{Version: "2012-10-17", "Statement": []}'):
        [failure] = _failures(iam_lint.check(_role_policy(text), stack))
        assert failure.rule.id == "MLP-IAM-MALFORMED-JSON" and failure.enforcement == MANDATORY
        assert "line 1 column" in failure.message


def test_unknown_values_are_a_named_finding_never_a_pass(stack):
    whole = iam_lint.check(_role_policy(UNKNOWN), stack)
    inside = iam_lint.check(_role_policy(_policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{UNKNOWN}/*"})), stack)
    for results in (whole, inside):
        [failure] = _failures(results)
        assert failure.rule.id == "MLP-IAM-UNRESOLVED" and failure.enforcement == MANDATORY
        assert not [r for r in results if r.status == PASSED]
    assert "Statement[0].Resource" in _failures(inside)[0].message


def test_secret_and_non_object_documents_are_unreadable(stack):
    for value in (secret_marker(), 42, "[]"):
        [failure] = _failures(iam_lint.check(_role_policy(value), stack))
        assert failure.rule.id == "MLP-IAM-UNREADABLE", value


def test_documents_parliament_cannot_walk_are_findings_not_tracebacks(stack):
    for document, rule in ((json.dumps({"Version": "2012-10-17", "Statement": "allow all"}), "MLP-IAM-EXCEPTION"),
                           (json.dumps({"Version": "2012-10-17"}), "MLP-IAM-MALFORMED"),
                           (_policy({"Effect": "Allow", "Action": 5, "Resource": "*"}), "MLP-IAM-EXCEPTION")):
        failures = _failures(iam_lint.check(_role_policy(document), stack))
        assert [r.rule.id for r in failures] == [rule], document
        assert failures[0].enforcement == MANDATORY


def test_clean_documents_of_every_role_pass(stack):
    graph = _graph(
        ("aws:iam/rolePolicy:RolePolicy", "identity", {"policy": _policy(
            {"Sid": "ReadModels", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": "arn:aws:s3:::team-prod-artifacts/models/*"},
            {"Sid": "ListModels", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::team-prod-artifacts",
             "Condition": {"StringLike": {"s3:prefix": ["models/*"]}}})}),
        ("aws:iam/role:Role", "trust", {"name": "team-prod-fn", "assumeRolePolicy": _policy(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})}),
        ("aws:kms/key:Key", "key", {"policy": _policy(
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
             "Action": "kms:Decrypt", "Resource": "*"})}),
        ("aws:lambda/permission:Permission", "invoke", {
            "action": "lambda:InvokeFunction", "function": "team-prod-fn", "principal": "events.amazonaws.com",
            "sourceArn": f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/team-prod-schedule"}),
    )
    results = iam_lint.check(graph, stack)
    assert not _failures(results), [r.message for r in _failures(results)]
    assert sorted(r.resource_name for r in results if r.status == PASSED) == ["identity", "invoke", "key", "trust"]


def test_trust_policy_is_linted_with_the_role_as_its_resource(stack):
    # parliament alone calls a statement without Resource MALFORMED; with the role filled in it
    # still checks the trust actions: an unknown one fails.
    graph = _graph(("aws:iam/role:Role", "trust", {"name": "r", "assumeRolePolicy": _policy(
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRoles"})}))
    [failure] = _failures(iam_lint.check(graph, stack))
    assert failure.rule.id == "MLP-IAM-UNKNOWN-ACTION" and "trust policy (assumeRolePolicy)" in failure.message
    [document] = list(iter_documents(graph, stack))
    assert document.role == TRUST and document.implicit_resource == f"arn:aws:iam::{ACCOUNT}:role/r"


def test_key_policy_resource_star_is_the_key_but_elsewhere_it_is_reported(stack):
    statement = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "s3:GetObject",
                 "Resource": "*"}
    key = iam_lint.check(_graph(("aws:kms/key:Key", "k", {"policy": _policy(
        {**statement, "Action": "kms:Decrypt"})})), stack)
    bucket = iam_lint.check(_graph(("aws:s3/bucketPolicy:BucketPolicy", "b", {"policy": _policy(statement)})), stack)
    assert not _failures(key)
    [failure] = _failures(bucket)
    assert failure.rule.id == "MLP-IAM-RESOURCE-STAR" and failure.enforcement == ADVISORY


def test_community_auditors_report_privilege_escalation(stack):
    results = iam_lint.check(_role_policy(_policy(
        {"Effect": "Allow", "Action": ["iam:PutRolePolicy", "sts:AssumeRole"],
         "Resource": f"arn:aws:iam::{ACCOUNT}:role/*"})), stack)
    escalation = _failures(results, "MLP-IAM-PRIVILEGE-ESCALATION")
    assert escalation and all(r.enforcement == MANDATORY for r in escalation)


def test_lambda_permission_becomes_the_statement_aws_adds(stack):
    inputs = {"action": "lambda:InvokeFunction", "function": "fn", "principal": "events.amazonaws.com",
              "sourceArn": "arn:aws:events:eu-west-1:111122223333:rule/r", "sourceAccount": ACCOUNT,
              "statementId": "AllowEvents"}
    statement = lambda_permission_statement(inputs, "arn:aws:lambda:eu-west-1:111122223333:function:fn")
    assert statement == {
        "Sid": "AllowEvents", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:eu-west-1:111122223333:function:fn",
        "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:events:eu-west-1:111122223333:rule/r"},
                      "StringEquals": {"AWS:SourceAccount": ACCOUNT}}}
    assert lambda_permission_statement({**inputs, "principal": ACCOUNT}, "x")["Principal"] == {"AWS": ACCOUNT}
    # a wrong action in the permission is caught like any other document's
    graph = _graph(("aws:lambda/permission:Permission", "p", {**inputs, "action": "lambda:InvokeFunctions"}))
    assert [r.rule.id for r in _failures(iam_lint.check(graph, stack))] == ["MLP-IAM-UNKNOWN-ACTION"]


def test_lambda_permission_with_an_autonamed_statement_id_is_still_linted(stack):
    # pulumi-aws autonames statementId "<name>-<hex>": Lambda accepts the hyphens, IAM's Sid
    # grammar does not, and parliament would stop at INVALID_SID and check nothing else.
    graph = _graph(("aws:lambda/permission:Permission", "p", {
        "action": "lambda:InvokeFunctions", "function": "fn", "principal": "events.amazonaws.com",
        "statementId": "team-fn-invoke-82090b0"}))
    [failure] = _failures(iam_lint.check(graph, stack))
    assert failure.rule.id == "MLP-IAM-UNKNOWN-ACTION"
    assert "(Sid team-fn-invoke-82090b0)" in failure.message


def test_role_inline_policies_are_linted_each(stack):
    graph = _graph(("aws:iam/role:Role", "r", {"name": "r", "inlinePolicies": [
        {"name": "good", "policy": _policy({"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})},
        {"name": "bad", "policy": _policy({"Effect": "Allow", "Action": "s3:Nope", "Resource": "*"})}]}))
    [failure] = _failures(iam_lint.check(graph, stack))
    assert failure.rule.id == "MLP-IAM-UNKNOWN-ACTION" and "inlinePolicies[bad]" in failure.message


# ------------------------------------------------------------------ the shipped estate


def _pulumi_inputs(type_token: str) -> set[str]:
    """The input property names (camelCase) of a pulumi-aws resource type."""
    _, module, name = type_token.split(":")
    package = "pulumi_aws." + module.split("/")[0]
    try:
        sdk = importlib.import_module(package)
    except ModuleNotFoundError:  # python keywords: pulumi_aws.lambda_
        sdk = importlib.import_module(package + "_")
    args = getattr(sdk, name + "Args")
    return {getattr(value.fget, "_pulumi_name", key)
            for key, value in vars(args).items() if isinstance(value, property)}


def test_every_policy_input_of_every_type_in_the_prod_plan_is_handled(prod_graph):
    unhandled = []
    for type_token in prod_graph.count_by_type():
        if not type_token.startswith("aws:"):
            continue
        documented = {spec.field for spec in DOCUMENT_FIELDS.get(type_token, ())}
        for field in sorted(_pulumi_inputs(type_token)):
            if re.search("polic", field, re.IGNORECASE) and field not in documented \
                    and (type_token, field) not in NOT_IAM_FIELDS:
                unhandled.append(f"{type_token}.{field}")
    assert not unhandled, f"policy inputs neither linted nor listed as not IAM: {unhandled}"


def test_the_extraction_tables_name_real_pulumi_inputs():
    for type_token, specs in DOCUMENT_FIELDS.items():
        inputs = _pulumi_inputs(type_token)
        for spec in specs:
            assert spec.field == SYNTHESISED or spec.field in inputs, f"{type_token}.{spec.field}"
    for type_token, field in NOT_IAM_FIELDS:
        assert field in _pulumi_inputs(type_token), f"{type_token}.{field}"


def test_every_policy_bearing_resource_of_the_prod_plan_is_extracted(prod_graph, stack):
    expected = {r.urn for r in prod_graph if any(
        spec.field == SYNTHESISED or r.inputs.get(spec.field) is not None for spec in DOCUMENT_FIELDS.get(r.type, ()))}
    extracted = list(iter_documents(prod_graph, stack))
    assert {d.resource.urn for d in extracted} == expected
    kinds = {(d.resource.type, d.role) for d in extracted}
    for type_token, role in (("aws:iam/role:Role", TRUST), ("aws:iam/rolePolicy:RolePolicy", "identity"),
                             ("aws:kms/key:Key", RESOURCE), ("aws:s3/bucketPolicy:BucketPolicy", RESOURCE),
                             ("aws:sns/topicPolicy:TopicPolicy", RESOURCE),
                             ("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy", RESOURCE),
                             ("aws:lambda/permission:Permission", RESOURCE)):
        assert (type_token, role) in kinds, type_token
    # every document is judged: a pass or at least one finding, never silence
    results = iam_lint.check(prod_graph, stack)
    assert {r.urn for r in results} == expected


# ------------------------------------------------------------------ suppressions


def test_suppressions_apply_and_an_unused_one_is_reported(stack, tmp_path):
    graph = _graph(
        ("aws:iam/rolePolicy:RolePolicy", "team-a-policy", {"policy": _policy(
            {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::b/*"})}),
        ("aws:iam/rolePolicy:RolePolicy", "team-b-policy", {"policy": _policy(
            {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::b/*"})}),
    )
    file = tmp_path / "suppressions.yaml"
    file.write_text(
        "suppressions:\n"
        "  - rule: MLP-IAM-UNKNOWN-ACTION\n    resource: team-a-*\n    reason: fixture\n    owner: o@example.com\n"
        "  - rule: MLP-IAM-RESOURCE-STAR\n    resource: team-*\n    reason: stale\n    owner: o@example.com\n")
    results = apply_suppressions(iam_lint.check(graph, stack), load_suppressions(file), stack="prod")
    by_name = {r.resource_name: r for r in results if r.rule.id == "MLP-IAM-UNKNOWN-ACTION"}
    assert by_name["team-a-policy"].status == "skipped"
    assert by_name["team-a-policy"].justification["reason"] == "fixture"
    assert by_name["team-b-policy"].status == FAILED and by_name["team-b-policy"].blocking
    [unused] = [r for r in results if r.rule.id == "MLP-VRF-000"]
    assert "MLP-IAM-RESOURCE-STAR" in unused.message and unused.status == FAILED


@pytest.fixture(scope="module")
def resolved_prod():
    from mlplatform.verify.resolve import capture_resolved

    return capture_resolved("prod")


#: IAM findings on the shipped prod estate that are real defects another change fixes
#: (issue 14): they may remain until then, nothing else may.
OPEN_DEFECTS = {
    # defect 4: sagemaker-mlflow:AccessUI takes no resource type but is scoped to the server ARN
    ("MLP-IAM-RESOURCE-MISMATCH", "*-mlflow-consumer-access"),
    ("MLP-IAM-RESOURCE-MISMATCH", "*-mlflow-training-access"),
    # defect 2 area: batch:SubmitJob names no job/* resource (the SAR marks job* required)
    ("MLP-IAM-RESOURCE-MISMATCH", "*-retraining-policy"),
}


def test_resolved_prod_estate_has_no_iam_finding_beyond_the_suppressions(resolved_prod, stack):
    import fnmatch

    iam_entries = [s for s in load_suppressions(DEFAULT_SUPPRESSIONS) if s.rule.startswith("MLP-IAM-")]
    results = apply_suppressions(iam_lint.check(resolved_prod, stack), iam_entries, stack="prod")
    unused = [r.message for r in results if r.rule.id == "MLP-VRF-000"]
    assert not unused, unused
    unexpected = [f"{r.rule.id} {r.resource_name}: {r.message}" for r in _failures(results)
                  if not any(r.rule.id == rule and fnmatch.fnmatchcase(r.resource_name, glob)
                             for rule, glob in OPEN_DEFECTS)]
    assert not unexpected, unexpected
    # the resolved plan has no unknown document left, and every result names its team
    assert not [r for r in results if r.rule.id == "MLP-IAM-UNRESOLVED"]
    assert not [r.resource_name for r in results if r.urn and not r.team]


def test_indexed_privilege_lookup_answers_as_parliaments_scan():
    parliament = iam_lint._parliament()
    indexed = parliament.statement.get_privilege_info
    for service in parliament.iam_definition[::7]:  # a spread of services, each privilege
        for privilege in service["privileges"]:
            found = indexed(service["prefix"], privilege["privilege"])
            assert found["privilege"] == privilege["privilege"]
            assert found["service_resources"] is not None and "service_conditions" in found
    with pytest.raises(parliament.UnknownActionException):
        indexed("s3", "GetObjekt")
