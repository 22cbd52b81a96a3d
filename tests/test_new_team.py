"""``mlp new team NAME``: a commented starter spec that validates (issue 18)."""

from __future__ import annotations


import yaml

from mlplatform import cli
from mlplatform.scaffold import SCHEMA_FILE, schema_reference
from mlplatform.stackconfig import PROJECT_ROOT


def test_starter_spec_validates_as_written(tmp_path, capsys):
    assert cli.main(["new", "team", "card-risk", "--dir", str(tmp_path)]) == 0
    spec = tmp_path / "card-risk.yaml"
    text = spec.read_text(encoding="utf-8")
    assert text.startswith(f"# yaml-language-server: $schema={SCHEMA_FILE.as_posix()}\n")
    data = yaml.safe_load(text)
    assert data["metadata"]["team"] == "card-risk"
    assert data["metadata"]["owners"] == ["card-risk@example.com"]
    capsys.readouterr()
    assert cli.main(["validate", str(spec)]) == 0


def test_starter_spec_passes_the_stack_checks_and_its_examples_use_allowed_types(tmp_path, capsys):
    assert cli.main(["new", "team", "card-risk", "--stack", "prod", "--dir", str(tmp_path),
                     "--owner", "risk@example.com", "--cost-center", "CC-2040", "--budget", "5000"]) == 0
    spec = tmp_path / "card-risk.yaml"
    assert cli.main(["validate", "--stack", "prod", str(spec)]) == 0
    # every commented example, uncommented, still validates against the stack
    uncommented = "\n".join(line.replace("# ", "", 1) if line.startswith("  # ") and not line.startswith("  # yaml")
                            else line for line in spec.read_text().splitlines())
    spec.write_text(uncommented + "\n")
    capsys.readouterr()
    assert cli.main(["validate", "--stack", "prod", str(spec)]) == 0, capsys.readouterr().out
    data = yaml.safe_load(uncommented)
    assert data["spec"]["budget"]["monthlyUsd"] == 5000 and data["metadata"]["costCenter"] == "CC-2040"
    assert data["spec"]["training"]["queues"][0]["instanceTypes"] == ["g5.2xlarge"]


def test_an_existing_file_is_never_overwritten(tmp_path, capsys):
    spec = tmp_path / "card-risk.yaml"
    spec.write_text("mine\n")
    assert cli.main(["new", "team", "card-risk", "--dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert spec.read_text() == "mine\n"


def test_a_bad_name_writes_nothing_and_says_what_a_name_is(tmp_path, capsys):
    assert cli.main(["new", "team", "Card_Risk", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mlp new team: metadata.team: must be lowercase letters, digits and dashes, starting with a "
                   "letter and not ending with a dash, 2-40 characters; did you mean 'card-risk'? "
                   "(got str 'Card_Risk')"]
    assert list(tmp_path.iterdir()) == []


def test_schema_is_referenced_relatively_inside_the_project():
    folder = PROJECT_ROOT / "examples" / "teams"
    assert schema_reference(folder) == "../../mlplatform/spec/teamspec.schema.json"
    assert (folder / schema_reference(folder)).resolve() == SCHEMA_FILE
