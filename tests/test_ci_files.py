"""Workflow and pre-commit files parse and call only commands and flags that exist."""

import re
import shlex

import pytest
import yaml

from mlplatform.cli import build_parser
from mlplatform.errors import UsageError

from .conftest import PROJECT_ROOT

WORKFLOWS = sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.yml"))
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
#: Placeholders for GitHub expressions, as a run would see them.
VALUES = {"matrix.stack": "dev", "inputs.stack": "dev", "github.base_ref": "main"}
#: Flags of `pulumi preview` / `pulumi up` we rely on (pulumi.com/docs/iac/cli/commands).
PULUMI_FLAGS = {"--stack", "--policy-pack", "--policy-pack-config", "--yes", "--diff", "--non-interactive",
                "--save-plan", "--plan"}


def _expand(text: str) -> str:
    return EXPRESSION.sub(lambda match: VALUES.get(match.group(1), "x"), text)


def _steps(document):
    for job in document["jobs"].values():
        yield from job.get("steps", [])


def _commands(run: str):
    for line in _expand(run).split("&&"):
        words = shlex.split(line)
        if words:
            yield words


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_parses_and_has_jobs(path):
    document = yaml.safe_load(path.read_text())
    assert document["jobs"], path
    assert True in document or "on" in document  # YAML 1.1 reads the `on` key as true


def test_every_mlp_command_in_workflows_and_hooks_parses():
    invocations = []
    for path in WORKFLOWS:
        for step in _steps(yaml.safe_load(path.read_text())):
            for words in _commands(step.get("run", "")):
                if words[0].endswith("/mlp") or words[0] == "mlp":
                    invocations.append(words[1:])
    hooks = yaml.safe_load((PROJECT_ROOT / ".pre-commit-config.yaml").read_text())
    for repo in hooks["repos"]:
        for hook in repo["hooks"]:
            words = shlex.split(hook["entry"])
            assert words[0].endswith("/mlp")
            invocations.append(words[1:] + ([] if hook.get("pass_filenames") is False else ["examples/teams/a.yaml"]))
    assert any(args[0] == "ci" for args in invocations)
    parser = build_parser()
    for args in invocations:
        try:
            parser.parse_args(args)
        except UsageError as exc:
            pytest.fail(f"mlp {' '.join(args)}: {exc}")


def test_pulumi_commands_use_known_flags_and_the_shipped_policy_pack():
    seen = set()
    for path in WORKFLOWS:
        configs_written = set()
        for step in _steps(yaml.safe_load(path.read_text())):
            for words in _commands(step.get("run", "")):
                if "--write-config" in words:
                    configs_written.add(words[words.index("--write-config") + 1])
                if words[0] != "pulumi":
                    continue
                seen.add(words[1])
                flags = {word for word in words if word.startswith("--")}
                assert flags <= PULUMI_FLAGS, flags - PULUMI_FLAGS
                pack = words[words.index("--policy-pack") + 1]
                assert (PROJECT_ROOT / pack / "PulumiPolicy.yaml").is_file()
                config = words[words.index("--policy-pack-config") + 1]
                assert config in configs_written  # produced by an earlier `mlp policy --write-config`
    assert seen == {"preview", "up"}


def test_reusable_workflows_and_install_command_exist():
    readme_install = "python3.11 -m venv .venv && .venv/bin/pip install -q -e '.[dev]'"
    for path in WORKFLOWS:
        document = yaml.safe_load(path.read_text())
        for job in document["jobs"].values():
            if "uses" in job:
                assert (PROJECT_ROOT / job["uses"]).is_file(), job["uses"]
            for step in job.get("steps", []):
                if step.get("name", "").startswith("Install"):
                    assert step["run"] == readme_install
                if "uses" in step:
                    assert re.match(r"^[\w.-]+/[\w./-]+@v\d+$", step["uses"]), step["uses"]
    assert readme_install in (PROJECT_ROOT / "README.md").read_text()
