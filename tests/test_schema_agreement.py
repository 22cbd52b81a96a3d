"""The JSON Schema (editors, CI linters) and the pydantic models (mlp) give the same verdicts.

The schema is generated from the models, so the two should agree wherever JSON Schema can
express a rule: both accept every example, and both reject every corpus case marked
``schema: true`` in tests/bad_specs/cases.yaml. Cases with a ``disagreement`` note are
known gaps between what JSON Schema (or the python-jsonschema library) can check and what
the models enforce; they are strict xfails, so closing a gap shows up as an XPASS.
"""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import ValidationError

from mlplatform.spec.models import TeamSpec
from mlplatform.spec.schema import SCHEMA_FILE, schema_text, team_spec_schema

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BAD_SPECS = PROJECT_ROOT / "tests" / "bad_specs"
EXAMPLES = sorted((PROJECT_ROOT / "examples" / "teams").glob("*.yaml"))
MANIFEST = yaml.safe_load((BAD_SPECS / "cases.yaml").read_text(encoding="utf-8"))["cases"]
SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(?P<target>\S+)\s*$")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = team_spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_accepts(validator, data) -> bool:
    return not any(True for _ in validator.iter_errors(data))


def models_accept(data) -> bool:
    try:
        TeamSpec.model_validate(data)
    except ValidationError:
        return False
    return True


# ---------------------------------------------------------------- examples


def test_examples_exist():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_schema_and_models_accept_example(path, validator):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []
    assert models_accept(data)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_points_editors_at_the_schema(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = SCHEMA_COMMENT.match(first)
    assert match, f"{path.name}: first line is {first!r}"
    target = (path.parent / match["target"]).resolve()
    assert target.is_file(), f"{path.name}: {match['target']} does not exist"
    assert target == SCHEMA_FILE.resolve()


# ---------------------------------------------------------------- the committed schema


def test_committed_schema_is_current():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "mlplatform/spec/teamspec.schema.json is stale; regenerate it with `mlp schema`"
    )


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(team_spec_schema())


# ---------------------------------------------------------------- the bad-input corpus


def _agreement_cases():
    for case in MANIFEST:
        if not (case["schema"] or case.get("disagreement")):
            continue
        marks = []
        if case.get("disagreement"):
            marks.append(pytest.mark.xfail(reason=case["disagreement"], strict=True))
        yield pytest.param(case, id=case["file"].removesuffix(".yaml"), marks=marks)


def test_manifest_has_schema_cases():
    assert sum(1 for case in MANIFEST if case["schema"]) >= 10


@pytest.mark.parametrize("case", list(_agreement_cases()))
def test_schema_and_models_reject_bad_case(case, validator):
    path = BAD_SPECS / case["file"]
    if path.is_dir():
        pytest.skip("cross-file case")
    try:
        data = yaml.safe_load(path.read_bytes())
    except yaml.YAMLError:
        pytest.skip("does not parse as YAML")
    models = models_accept(data)
    schema = schema_accepts(validator, data)
    assert not models, "the models accept a case the corpus says is bad"
    assert schema == models, "jsonschema accepts what the models reject"
