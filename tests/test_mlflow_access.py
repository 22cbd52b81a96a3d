"""MLflow access (issue 14 defect 4): actions are scoped the way IAM matches them, and the
action lists of components/experiment_tracking.py agree with AWS's service authorization
reference (as parliament ships it).

An action that takes no resource type (``sagemaker-mlflow:AccessUI``) matches only a
statement on ``"*"``: on the tracking server's ARN it never matches, and nobody can open the
UI. An action that takes one must name a matching ARN.
"""

from __future__ import annotations

from .helpers.dataplane import by_type, statements
from .helpers.iam_reference import arn_matches, as_list, expand, service_privileges


def is_mlflow_action(action: str) -> bool:
    return action.startswith("sagemaker-mlflow:") or (action.startswith("sagemaker:") and "Mlflow" in action)


def scoping_findings(origin: str, statement: dict) -> list[str]:
    findings = []
    resources = as_list(statement.get("Resource", []))
    for action in as_list(statement["Action"]):
        if not is_mlflow_action(action):
            continue
        for privilege in expand(action):
            if not privilege.resource_formats:
                if resources != ["*"]:
                    findings.append(f"{origin}: {privilege.action} takes no resource type but is on {resources}")
            elif "*" in resources or not all(
                    any(arn_matches(fmt, resource) for fmt in privilege.resource_formats) for resource in resources):
                findings.append(f"{origin}: {privilege.action} on {resources}, not on its resource type")
    return findings


def mlflow_policies(graph):
    return [r for r in by_type(graph, "aws:iam/rolePolicy:RolePolicy")
            if any(is_mlflow_action(a) for s in statements(r).values() for a in as_list(s["Action"]))]


def test_every_mlflow_action_in_the_prod_plan_is_on_the_resource_it_takes(prod_graph):
    policies = mlflow_policies(prod_graph)
    assert len(policies) >= 4  # training and consumer access of two teams' servers
    findings = [f for policy in policies for s in statements(policy).values() for f in scoping_findings(policy.name, s)]
    assert findings == []


def test_people_can_open_the_ui(prod_graph):
    for policy in mlflow_policies(prod_graph):
        granted = {(a, r) for s in statements(policy).values() if s["Effect"] == "Allow"
                   for a in as_list(s["Action"]) for r in as_list(s["Resource"])}
        assert ("sagemaker-mlflow:AccessUI", "*") in granted, policy.name


def test_the_writer_can_log_runs_and_the_reader_cannot(prod_graph):
    by_duty = {policy.name.rsplit("-", 2)[-2]: policy for policy in mlflow_policies(prod_graph)}
    granted = {duty: {p for s in statements(policy).values() for a in as_list(s["Action"]) for p in expand(a)}
               for duty, policy in by_duty.items()}
    training = {p.action for p in granted["training"]}
    assert {"sagemaker-mlflow:LogMetric", "sagemaker-mlflow:CreateRun", "sagemaker-mlflow:SearchRuns"} <= training
    consumer_writes = {p.action for p in granted["consumer"]
                       if p.prefix == "sagemaker-mlflow" and p.access_level not in ("Read", "List")}
    assert consumer_writes == set()
    assert {"sagemaker-mlflow:SearchRuns", "sagemaker-mlflow:GetRun"} <= {p.action for p in granted["consumer"]}


def test_the_action_lists_agree_with_the_reference():
    """Every sagemaker-mlflow action is in exactly one list, by what it takes and does; a new
    action AWS adds fails here until it is placed."""
    from components.experiment_tracking import (MLFLOW_READ_ACTIONS, MLFLOW_RESOURCELESS_ACTIONS,
                                                MLFLOW_WRITE_ACTIONS, URL_ACTIONS)

    reference = service_privileges("sagemaker-mlflow")
    resourceless = {p.action for p in reference if not p.resource_formats}
    read = {p.action for p in reference if p.resource_formats and p.access_level in ("Read", "List")}
    write = {p.action for p in reference if p.resource_formats and p.access_level not in ("Read", "List")}
    assert set(MLFLOW_RESOURCELESS_ACTIONS) == resourceless
    assert set(MLFLOW_READ_ACTIONS) == read
    assert set(MLFLOW_WRITE_ACTIONS) == write
    assert len(MLFLOW_READ_ACTIONS + MLFLOW_WRITE_ACTIONS + MLFLOW_RESOURCELESS_ACTIONS) == len(reference)
    for action in URL_ACTIONS:  # both act on the tracking server
        (privilege,) = expand(action)
        assert privilege.resource_formats and "mlflow-tracking-server" in privilege.resource_formats[0]


def test_a_resourceless_action_on_an_arn_is_a_finding():
    server = "arn:aws:sagemaker:eu-west-1:111122223333:mlflow-tracking-server/t"
    assert scoping_findings("p", {"Action": ["sagemaker-mlflow:AccessUI"], "Resource": server})
    assert scoping_findings("p", {"Action": ["sagemaker-mlflow:GetRun"], "Resource": "*"})
    assert scoping_findings("p", {"Action": "sagemaker-mlflow:GetRun",
                                  "Resource": "arn:aws:s3:::bucket/mlflow/*"})
    assert not scoping_findings("p", {"Action": "sagemaker-mlflow:GetRun", "Resource": server})
