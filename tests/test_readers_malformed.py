"""A malformed plan file given to --graph or --base is named, element by element (issue 18).

Never "internal error: RecursionError" or a bare ``KeyError: 'urn'``: one line naming the
file, the element and what is wrong with it, exit code 2.
"""

from __future__ import annotations

import json

import pytest

from mlplatform import cli

URN = "urn:pulumi:dev::mlplatform::aws:s3/bucket:Bucket::a"
BUCKET = {"urn": URN, "type": "aws:s3/bucket:Bucket", "name": "a"}

CASES = {
    "graph-resource-without-urn": (
        {"version": 1, "stack": "dev", "project": "mlplatform",
         "resources": [BUCKET, {"type": "aws:s3/bucket:Bucket", "name": "b"}]},
        "resources[1]: missing field 'urn'"),
    "graph-resource-without-name": (
        {"version": 1, "resources": [{"urn": URN, "type": "aws:s3/bucket:Bucket"}]},
        f"resources[0] ({URN}): missing field 'name'"),
    "graph-resources-not-a-list": ({"version": 1, "resources": {"a": 1}}, "resources is not a list"),
    "preview-step-without-urn": (
        {"steps": [{"op": "create", "newState": {"type": "aws:s3/bucket:Bucket", "inputs": {}}}]},
        "steps[0]: missing field 'urn'"),
    "preview-step-not-an-object": ({"steps": ["create"]}, "steps[0]: expected an object, found str"),
    "export-resource-not-an-object": ({"deployment": {"resources": [5]}},
                                      "deployment.resources[0]: expected an object, found int"),
    "export-resource-without-type": ({"deployment": {"resources": [{"urn": URN}]}},
                                      f"deployment.resources[0] ({URN}): missing field 'type'"),
}


@pytest.mark.parametrize("option", ["--graph", "--base"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_plan_is_one_line_naming_the_element(case, option, tmp_path, capsys):
    data, expected = CASES[case]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(data), encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"version": 1, "stack": "dev", "project": "mlplatform", "resources": [BUCKET]}))
    argv = ["plan", "--stack", "dev", "--graph", str(plan)] if option == "--graph" else \
        ["plan", "--stack", "dev", "--graph", str(good), "--base", str(plan)]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [f"{plan}:1:1: error: {expected}"]


def test_json_nested_100000_deep_is_named_not_a_recursion_error(tmp_path, capsys):
    plan = tmp_path / "deep.json"
    plan.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert cli.main(["plan", "--stack", "dev", "--graph", str(plan)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{plan}:1:1: error: JSON nested too deeply to be a plan")
