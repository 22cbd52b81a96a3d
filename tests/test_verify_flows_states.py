"""Reading the Batch submissions out of a Step Functions definition (flows checker)."""

from __future__ import annotations

import json

import pytest

from mlplatform.verify.flows.states import (
    CALLBACK, REQUEST_RESPONSE, RUN_A_JOB, DefinitionError, parse_definition, submit_job_tasks,
)

SUBMIT = "arn:aws:states:::batch:submitJob"


def task(resource=SUBMIT, **parameters):
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}


def test_a_single_request_response_task():
    definition = {"StartAt": "S", "States": {"S": task(JobQueue="q", JobDefinition="d", ShareIdentifier="s")}}
    (found,) = submit_job_tasks(parse_definition(json.dumps(definition)))
    assert (found.path, found.pattern, found.dynamic) == ("S", REQUEST_RESPONSE, ())
    assert found.fields == {"JobQueue": "q", "JobDefinition": "d", "ShareIdentifier": "s"}


def test_tasks_inside_parallel_branches_and_map_processors_with_their_patterns():
    definition = {"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "A", "States": {"A": task(SUBMIT + ".sync", JobQueue="q")}},
            {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": {
                "StartAt": "B", "States": {"B": task("arn:aws:states:::batch:submitJob.waitForTaskToken")}}}}},
        ]},
        "Other": task("arn:aws:states:::lambda:invoke", FunctionName="f"),
        "Sdk": task("arn:aws-us-gov:states:::aws-sdk:batch:submitJob", JobQueue="q"),
    }}
    found = {t.path: t.pattern for t in submit_job_tasks(parse_definition(definition))}
    assert found == {"P/branch 0/A": RUN_A_JOB, "P/branch 1/M/B": CALLBACK, "Sdk": REQUEST_RESPONSE}


def test_fields_computed_at_run_time_are_reported_not_read():
    jsonpath = {"StartAt": "S", "States": {"S": task(**{"JobQueue.$": "$.queue", "JobDefinition": "d"})}}
    (found,) = submit_job_tasks(parse_definition(jsonpath))
    assert found.dynamic == ("JobQueue",) and found.fields == {"JobDefinition": "d"}
    jsonata = {"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
        "Type": "Task", "Resource": SUBMIT, "End": True,
        "Arguments": {"JobQueue": "q", "ShareIdentifier": "{% $states.input.share %}"}}}}
    (found,) = submit_job_tasks(parse_definition(jsonata))
    assert found.dynamic == ("ShareIdentifier",) and found.fields == {"JobQueue": "q"}
    everything = {"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
        "Type": "Task", "Resource": SUBMIT, "End": True, "Arguments": "{% $states.input %}"}}}
    (found,) = submit_job_tasks(parse_definition(everything))
    assert found.dynamic == ("(all arguments)",) and found.fields == {}


@pytest.mark.parametrize("text, message", [
    ("{not json", "not JSON"),
    (json.dumps({"StartAt": "S"}), "no States object"),
    (json.dumps({"StartAt": "S", "States": {"S": []}}), "state S is not an object"),
    (json.dumps({"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": SUBMIT, "Parameters": []}}}),
     f"Parameters of {SUBMIT} is not an object"),
])
def test_malformed_definitions_are_named_errors(text, message):
    with pytest.raises(DefinitionError, match=message):
        submit_job_tasks(parse_definition(text))
