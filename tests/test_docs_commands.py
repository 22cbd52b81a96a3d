"""Every command line in the README and docs/ is one a user can run (issue 18).

``mlp`` lines must parse with the real CLI parser; ``pulumi`` lines may use only
subcommands and flags of the Pulumi CLI reference (pulumi.com/docs/iac/cli/commands:
preview, up, refresh, stack init/select/history/export/import, state unprotect, login);
other programs must be ones the runbook names as prerequisites. Docs then cannot rot
silently when a flag is renamed.
"""

from __future__ import annotations

import re
import shlex

import pytest

from mlplatform.cli import build_parser
from mlplatform.errors import UsageError
from mlplatform.stackconfig import PROJECT_ROOT

DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```sh\n(.*?)```", re.S)

#: pulumi subcommand -> the flags the docs may use with it (from the CLI reference)
PULUMI = {
    ("login",): set(),
    ("version",): set(),
    ("preview",): {"--stack", "--policy-pack", "--policy-pack-config", "--diff", "--save-plan", "--json",
                   "--show-sames", "--non-interactive"},
    ("up",): {"--stack", "--policy-pack", "--policy-pack-config", "--plan", "--yes", "--target",
              "--target-dependents", "--diff", "--non-interactive"},
    ("refresh",): {"--stack", "--preview-only", "--diff", "--yes"},
    ("stack",): {"--stack", "--show-urns"},
    ("stack", "init"): {"--secrets-provider"},
    ("stack", "select"): set(),
    ("stack", "history"): {"--stack"},
    ("stack", "export"): {"--stack", "--version", "--file"},
    ("stack", "import"): {"--stack", "--file"},
    ("state", "unprotect"): {"--stack"},
}
OTHER_PROGRAMS = {"python3.11", ".venv/bin/pip", ".venv/bin/python", "aws", "kubectl", "export", "pulumi", "git"}


def command_lines():
    for doc in DOCS:
        for block in FENCE.findall(doc.read_text(encoding="utf-8")):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split(" # ")[0].strip()
                if not line or line.startswith("#"):
                    continue
                for part in re.split(r"\s(?:&&|\|\||\|)\s", line):
                    words = shlex.split(part.split(" > ")[0])
                    if words:
                        yield doc.relative_to(PROJECT_ROOT).as_posix(), words


LINES = list(command_lines())


def test_docs_hold_commands():
    programs = {words[0] for _, words in LINES}
    assert ".venv/bin/mlp" in programs and "pulumi" in programs
    assert any(doc == "docs/runbook.md" for doc, _ in LINES)


@pytest.mark.parametrize("doc, words", [item for item in LINES if item[1][0].endswith("mlp")],
                         ids=lambda value: " ".join(value) if isinstance(value, list) else value)
def test_mlp_lines_parse(doc, words):
    try:
        build_parser().parse_args(words[1:])
    except UsageError as exc:
        pytest.fail(f"{doc}: {' '.join(words)}: {exc}")
    except SystemExit as exc:  # --help / --version print and exit 0
        assert exc.code == 0


@pytest.mark.parametrize("doc, words", [item for item in LINES if item[1][0] == "pulumi"],
                         ids=lambda value: " ".join(value) if isinstance(value, list) else value)
def test_pulumi_lines_use_known_subcommands_and_flags(doc, words):
    positional = [word for word in words[1:3] if not word.startswith("-")]
    command = tuple(positional[:2]) if tuple(positional[:2]) in PULUMI else tuple(positional[:1])
    assert command in PULUMI, f"{doc}: unknown pulumi command {' '.join(words)}"
    flags = {word.split("=")[0] for word in words if word.startswith("--")}
    assert flags <= PULUMI[command], f"{doc}: {' '.join(words)}: unknown flags {flags - PULUMI[command]}"
    if "--policy-pack" in flags:
        assert (PROJECT_ROOT / words[words.index("--policy-pack") + 1] / "PulumiPolicy.yaml").is_file()


def test_only_prerequisite_programs_are_used():
    programs = {words[0] for _, words in LINES if not words[0].endswith("mlp")}
    assert programs <= OTHER_PROGRAMS, programs - OTHER_PROGRAMS


def test_first_deployment_needs_no_earlier_plan():
    """The runbook's first-deployment path must not read last-<stack>-plan.json."""
    text = (PROJECT_ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    first = text.split("**First deployment**", 1)[1].split("**Later deployments**", 1)[0]
    assert "last-prod-plan.json" not in first and "mlp plan --stack prod" in first
