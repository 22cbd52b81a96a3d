"""The project files: Pulumi.yaml, the stacks, the README's commands and CI."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from mlplatform.errors import SpecError, UsageError
from mlplatform.stackconfig import RESIDENCY_REGIONS, load_stack_config

from .conftest import PROJECT_ROOT

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_SCHEMA = PROJECT_ROOT.parent / "shared" / "reference" / "pulumi-project.schema.json"


def test_pulumi_yaml_validates_against_pulumis_project_schema():
    schema = yaml.safe_load((FIXTURES / "pulumi-project.schema.json").read_text())
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    jsonschema.validate(project, schema)
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert project["stackConfigDir"] == "stacks"


def test_project_schema_copy_matches_the_shared_reference():
    if not SHARED_SCHEMA.exists():
        pytest.skip("../shared is not beside this checkout")
    assert (FIXTURES / "pulumi-project.schema.json").read_bytes() == SHARED_SCHEMA.read_bytes()


def test_the_project_schema_rejects_a_broken_project():
    schema = yaml.safe_load((FIXTURES / "pulumi-project.schema.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "runtime": "cobol-but-not-a-string-list", "stackConfigDir": 3}, schema)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_shipped_stacks_deploy_to_eu_west_1_in_residency_eu(stack):
    config = load_stack_config(stack)
    assert config.environment == stack
    assert (config.region, config.residency, config.partner_region) == ("eu-west-1", "eu", "eu-central-1")
    assert config.region in RESIDENCY_REGIONS["eu"] and config.partner_region in RESIDENCY_REGIONS["eu"]
    assert config.teams_dir == "examples/teams"
    assert config.protect_stateful is (stack == "prod")


def test_broken_stack_config_errors_name_file_line_and_setting(tmp_path):
    (tmp_path / "stacks").mkdir()
    text = (PROJECT_ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.bad.yaml").write_text(text.replace("perTeam: 16", "perTeam: lots"))
    with pytest.raises(SpecError) as caught:
        load_stack_config("bad", project_root=tmp_path)
    issue = caught.value.issues[0]
    line = text.splitlines().index("    perTeam: 16") + 1
    assert (issue.line, issue.field) == (line, "config.mlplatform:gpuCeilings.perTeam")
    with pytest.raises(UsageError):
        load_stack_config("absent", project_root=tmp_path)


@pytest.mark.parametrize("environment, fails", [("prod", True), ("dev", False)])
def test_a_production_stack_cannot_turn_anomaly_detection_off(tmp_path, environment, fails):
    """MLP-EDGE-005 is decided by the stack config alone: the stack file says it, at the setting."""
    (tmp_path / "stacks").mkdir()
    text = (PROJECT_ROOT / "stacks" / "Pulumi.prod.yaml").read_text().replace(
        "mlplatform:environment: prod", f"mlplatform:environment: {environment}")
    kept = text.split("  mlplatform:anomalyDetection:")[0]  # the shipped setting is the file's last one
    text = kept + "  mlplatform:anomalyDetection:\n    enabled: false\n"
    (tmp_path / "stacks" / "Pulumi.x.yaml").write_text(text)
    if not fails:
        assert load_stack_config("x", project_root=tmp_path).anomaly_detection_enabled is False
        return
    with pytest.raises(SpecError) as caught:
        load_stack_config("x", project_root=tmp_path)
    [issue] = caught.value.issues
    assert issue.field.startswith("config.mlplatform:anomalyDetection") and "MLP-EDGE-005" in issue.message
    assert issue.line == len(text.splitlines())  # the mapping it is about, where its value starts


def _readme_commands() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text()
    first_screen = readme.split("## Tour")[0]
    return re.findall(r"```sh\n(.+?)\n```", first_screen)


def test_readme_first_screen_has_exactly_two_setup_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    demo, tests = commands
    assert demo.endswith("mlp plan --stack dev") and "pytest" in tests
    for command in commands:
        assert command.startswith("python3.11 -m venv .venv && .venv/bin/pip install")


def test_ci_runs_the_readme_test_command():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()
    assert _readme_commands()[1] in ci
