"""`mlp validate` says what to change, not only what the parser saw (issue 18).

Each case is the shipped fraud-detection spec with one realistic slip, written into a
temporary folder; the test asserts the exact one-line error, including its hint.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlplatform import cli

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "teams" / "fraud-detection.yaml"


def _validate(tmp_path: Path, text: str, capsys) -> tuple[int, list[str]]:
    spec = tmp_path / "fraud-detection.yaml"
    spec.write_text(text, encoding="utf-8")
    code = cli.main(["validate", str(spec)])
    return code, capsys.readouterr().out.strip().splitlines()


def _line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def test_comma_in_a_number_inside_braces_says_how_to_write_it(tmp_path, capsys):
    original = EXAMPLE.read_text(encoding="utf-8")
    text = original.replace("budget: {monthlyUsd: 25000,", "budget: {monthlyUsd: 25,000,", 1)
    assert text != original
    code, lines = _validate(tmp_path, text, capsys)
    assert code == 1
    assert len(lines) == 1
    assert lines[0].endswith(
        "error: spec.budget: mapping keys must be strings ('25,000' reads as two entries: write numbers "
        "without thousands separators, e.g. 25000)")
    assert f":{_line_of(text, 'monthlyUsd: 25,000')}:" in lines[0]


def test_comma_in_a_block_number_says_how_to_write_it(tmp_path, capsys):
    original = EXAMPLE.read_text(encoding="utf-8")
    text = original.replace("budget: {monthlyUsd: 25000, alertAtPercent: [50, 80, 100]}",
                            "budget:\n    monthlyUsd: 25,000\n    alertAtPercent: [50, 80, 100]", 1)
    assert text != original
    code, lines = _validate(tmp_path, text, capsys)
    assert code == 1 and len(lines) == 1
    assert lines[0].endswith("error: spec.budget.monthlyUsd: Input should be a valid number (got str '25,000'); "
                             "write numbers without thousands separators, e.g. 25000")


def test_a_tab_in_the_indentation_is_named(tmp_path, capsys):
    text = EXAMPLE.read_text(encoding="utf-8").replace("  costCenter:", "\tcostCenter:", 1)
    code, lines = _validate(tmp_path, text, capsys)
    assert code == 1 and len(lines) == 1
    assert "YAML syntax error" in lines[0]
    assert lines[0].endswith("(a tab character: YAML indents with spaces only)")


def test_a_misindented_key_is_named(tmp_path, capsys):
    text = EXAMPLE.read_text(encoding="utf-8").replace("  costCenter:", "   costCenter:", 1)
    code, lines = _validate(tmp_path, text, capsys)
    assert code == 1 and len(lines) == 1
    assert lines[0].endswith("(check that this line is indented like the other keys at its level)")


def test_a_feature_field_on_the_group_says_where_it_belongs(tmp_path, capsys):
    original = EXAMPLE.read_text(encoding="utf-8")
    text = original.replace("      features:", "      pii: true\n      features:", 1)
    assert text != original
    code, lines = _validate(tmp_path, text, capsys)
    assert code == 1 and len(lines) == 1
    assert lines[0].endswith(
        "error: spec.featureGroups[transactions].pii: unknown field 'pii'; 'pii' belongs on each entry of 'features', not here")


def test_a_misspelt_key_still_gets_did_you_mean(tmp_path, capsys):
    text = EXAMPLE.read_text(encoding="utf-8").replace("  costCenter:", "  costCentre:", 1)
    code, lines = _validate(tmp_path, text, capsys)
    assert code == 1
    assert any("did you mean 'costCenter'?" in line for line in lines)


@pytest.mark.parametrize("content", [None, "README.md"])
def test_a_folder_without_specs_is_a_usage_error(tmp_path, capsys, content):
    folder = tmp_path / "teams"
    folder.mkdir()
    if content:
        (folder / content).write_text("# not a spec\n", encoding="utf-8")
    code = cli.main(["validate", str(folder)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [f"{folder}: folder holds no spec files (*.yaml or *.yml)"]


def test_codeowners_on_a_folder_without_specs_is_a_usage_error(tmp_path, capsys):
    folder = tmp_path / "teams"
    folder.mkdir()
    code = cli.main(["codeowners", str(folder)])
    assert code == 2
    assert "folder holds no spec files" in capsys.readouterr().err


def _teams_with_one_error(root: Path) -> Path:
    teams = root / "teams"
    teams.mkdir()
    for spec in EXAMPLE.parent.glob("*.yaml"):
        text = spec.read_text(encoding="utf-8")
        if spec.name == EXAMPLE.name:
            text = text.replace("monthlyUsd: 25000", "monthlyUsd: -1", 1)
        (teams / spec.name).write_text(text, encoding="utf-8")
    return teams


def test_stack_validation_names_files_relative_to_the_working_directory(tmp_path, capsys, monkeypatch):
    _teams_with_one_error(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["validate", "--stack", "prod", "--teams", "teams"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("teams/fraud-detection.yaml:")


def test_stack_validation_keeps_an_absolute_teams_path_as_given(tmp_path, capsys):
    teams = _teams_with_one_error(tmp_path)
    code = cli.main(["validate", "--stack", "prod", "--teams", str(teams)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1 and lines[0].startswith(f"{teams}/fraud-detection.yaml:")


def test_stack_teams_folder_is_named_relative_to_the_working_directory(capsys, monkeypatch):
    import json

    monkeypatch.chdir(EXAMPLE.parent.parent)  # examples/
    assert cli.main(["validate", "--stack", "prod", "--format", "json"]) == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert files and all(name.startswith("teams/") for name in files), files


def _patterns(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                found.add(value)
            else:
                _patterns(value, found)
    elif isinstance(node, list):
        for item in node:
            _patterns(item, found)
    return found


def test_every_schema_pattern_has_words_for_it():
    from mlplatform.spec.patterns import PATTERN_MESSAGES
    from mlplatform.spec.schema import team_spec_schema

    patterns = _patterns(team_spec_schema(), set())
    assert patterns, "the schema has no pattern at all?"
    assert sorted(patterns - set(PATTERN_MESSAGES)) == []


@pytest.mark.parametrize("old, new, expected", [
    ("team: fraud-detection", "team: Fraud_Detection",
     "metadata.team: must be lowercase letters, digits and dashes, starting with a letter and not ending with "
     "a dash, 2-40 characters; did you mean 'fraud-detection'? (got str 'Fraud_Detection')"),
    ("pagerduty:fraud-oncall", "pager:fraud-oncall",
     "metadata.escalation.critical[0]: must be an alert target written email:<address>, https://<webhook>, "
     "pagerduty:<service> or slack:<channel> (got str 'pager:fraud-oncall')"),
    ("artifact: models/scorer/", "artifact: scorer/",
     "spec.environments.dev.endpoints[scorer].model.artifact: must be a location in the team's bucket under models/, e.g. "
     "models/scorer/ (letters, digits and . _ / - only) (got str 'scorer/')"),
    ("instanceType: ml.g4dn.xlarge", "instanceType: g4dn.xlarge",
     "spec.endpoints[scorer].instanceType: must be a SageMaker instance type with the ml. prefix, e.g. "
     "ml.g5.xlarge; did you mean 'ml.g4dn.xlarge'? (got str 'g4dn.xlarge')"),
    ("instanceTypes: [g5.2xlarge,", "instanceTypes: [ml.g5.2xlarge,",
     "spec.training.queues[gpu].instanceTypes[0]: must be an EC2 instance type without the ml. prefix, e.g. "
     "g5.2xlarge; training runs on EC2 types: did you mean 'g5.2xlarge'? (got str 'ml.g5.2xlarge')"),
])
def test_pattern_errors_say_what_the_field_takes(tmp_path, capsys, old, new, expected):
    original = EXAMPLE.read_text(encoding="utf-8")
    position = original.index(old)
    text = original[:position] + new + original[position + len(old):]
    code, lines = _validate(tmp_path, text, capsys)
    assert code == 1
    assert any(line.endswith(expected) for line in lines), lines
