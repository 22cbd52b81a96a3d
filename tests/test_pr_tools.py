"""The pull-request helpers: CODEOWNERS from specs, generated documents, git change sets."""

import shutil
import subprocess
from pathlib import Path

import pytest

from mlplatform.changes import export_tree, spec_changes
from mlplatform.cli import main
from mlplatform.errors import UsageError

from .conftest import EXAMPLES, PROJECT_ROOT


# ---------------------------------------------------------------- codeowners

def test_codeowners_maps_each_spec_to_its_owners(capsys):
    assert main(["codeowners", "--stack", "dev", "--default-owner", "@acme/platform"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "* @acme/platform" in lines
    assert "/examples/teams/fraud-detection.yaml ml-fraud@example.com risk-models@example.com" in lines
    # the default comes first so the more specific per-spec lines win
    assert lines.index("* @acme/platform") < lines.index(next(l for l in lines if l.startswith("/examples")))


def test_committed_codeowners_is_current(capsys):
    assert main(["codeowners", "--stack", "dev", "--default-owner", "@acme/ml-platform",
                 "--output", str(PROJECT_ROOT / ".github" / "CODEOWNERS"), "--check"]) == 0


def test_codeowners_check_fails_when_out_of_date(tmp_path, capsys):
    stale = tmp_path / "CODEOWNERS"
    stale.write_text("* @someone\n")
    assert main(["codeowners", "--teams", str(EXAMPLES), "--output", str(stale), "--check"]) == 1
    assert "CODEOWNERS is out of date" in capsys.readouterr().out
    assert stale.read_text() == "* @someone\n"


def test_codeowners_rejects_a_bad_default_owner(capsys):
    assert main(["codeowners", "--stack", "dev", "--default-owner", "platform team"]) == 2
    assert "--default-owner" in capsys.readouterr().err


def test_codeowners_refuses_invalid_specs(tmp_path, capsys):
    (tmp_path / "broken.yaml").write_text("apiVersion: mlplatform/v1\nkind: TeamSpec\nmetadata: {}\n")
    assert main(["codeowners", str(tmp_path)]) == 1
    assert "broken.yaml:" in capsys.readouterr().out


# ---------------------------------------------------------------- docs

def test_docs_write_a_card_per_endpoint_and_a_report_per_team(tmp_path, capsys):
    assert main(["docs", "--stack", "prod", "--output-dir", str(tmp_path)]) == 0
    cards = sorted(p.name for p in (tmp_path / "model-cards").iterdir())
    assert "fraud-detection--scorer.md" in cards
    card = (tmp_path / "model-cards" / "fraud-detection--scorer.md").read_text()
    assert "canary: 10% first, watched for 30 min" in card
    assert "| Risk tier | high |" in card and "examples/teams/fraud-detection.yaml:" in card
    report = (tmp_path / "provenance" / "fraud-detection.md").read_text()
    assert "`card_hash`, `customer_age_band`" in report
    assert "eu-central-1 (replica)" in report  # prod replicates to the partner region
    assert "offline 2555 days, online 48 h" in report


def test_docs_follow_the_environment_overrides(tmp_path):
    assert main(["docs", "--stack", "dev", "--output-dir", str(tmp_path)]) == 0
    card = (tmp_path / "model-cards" / "fraud-detection--scorer.md").read_text()
    assert "`ml.m5.xlarge` x 1-1 instances" in card and "all at once" in card
    assert "(replica)" not in (tmp_path / "provenance" / "fraud-detection.md").read_text()


def test_docs_leave_old_documents_alone_when_specs_are_invalid(tmp_path, capsys):
    teams = tmp_path / "teams"
    shutil.copytree(EXAMPLES, teams)
    out = tmp_path / "out"
    assert main(["docs", "--stack", "dev", "--teams", str(teams), "--output-dir", str(out)]) == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*.md"))
    (teams / "fraud-detection.yaml").write_text("apiVersion: mlplatform/v1\nkind: TeamSpec\nmetadata: {team: 3}\n")
    assert main(["docs", "--stack", "dev", "--teams", str(teams), "--output-dir", str(out)]) == 1
    assert sorted(p.relative_to(out) for p in out.rglob("*.md")) == before
    assert not list(out.glob(".mlp-docs-*"))


# ---------------------------------------------------------------- change sets

def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES, root / "teams")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.email=t@e.st", "-c", "user.name=t", "add", ".")
    _git(root, "-c", "user.email=t@e.st", "-c", "user.name=t", "commit", "-qm", "base")
    return root


def test_spec_changes_sees_modified_added_deleted_and_untracked(repo):
    teams = repo / "teams"
    (teams / "fraud-detection.yaml").write_text((teams / "fraud-detection.yaml").read_text() + "\n# touched\n")
    (teams / "nlp-research.yaml").unlink()
    (teams / "new-team.yaml").write_text("x: 1\n")
    (teams / "README.txt").write_text("not a spec\n")
    changes = spec_changes(repo, "main", teams)
    assert changes.modified == ["teams/fraud-detection.yaml"]
    assert changes.deleted == ["teams/nlp-research.yaml"]
    assert changes.added == ["teams/new-team.yaml"]
    assert changes.base_files == ["teams/fraud-detection.yaml", "teams/nlp-research.yaml"]


def test_no_changes_is_falsy(repo):
    assert not spec_changes(repo, "HEAD", repo / "teams")


def test_unknown_ref_is_a_usage_error(repo):
    with pytest.raises(UsageError, match="no-such-branch: no such commit in this repository; fetch it first"):
        spec_changes(repo, "no-such-branch", repo / "teams")
    with pytest.raises(UsageError) as missing_remote_branch:
        spec_changes(repo, "origin/main", repo / "teams")
    assert str(missing_remote_branch.value) == (
        "mlp: --base origin/main: no such commit in this repository; fetch it first: git fetch origin "
        "main:refs/remotes/origin/main (in GitHub Actions: actions/checkout with fetch-depth: 0)")
    with pytest.raises(UsageError, match="not a git ref"):
        spec_changes(repo, "--output=x", repo / "teams")


def test_export_tree_writes_the_base_version(repo, tmp_path):
    (repo / "teams" / "fraud-detection.yaml").write_text("changed\n")
    exported = export_tree(repo, "main", "teams", tmp_path / "base")
    assert (exported / "fraud-detection.yaml").read_text() == (EXAMPLES / "fraud-detection.yaml").read_text()
    empty = export_tree(repo, "main", "no-such-folder", tmp_path / "base2")
    assert empty.is_dir() and not list(empty.iterdir())


def test_codeowners_hook_hint_regenerates_the_file_for_a_new_team(tmp_path, capsys, monkeypatch):
    """A new team's spec makes the pre-commit hook fail; the command it prints must then
    rewrite CODEOWNERS so that the same hook passes (it used to fail with exit 2)."""
    import shlex

    import yaml as pyyaml

    teams = tmp_path / "teams"
    teams.mkdir()
    for spec in EXAMPLES.glob("*.yaml"):
        (teams / spec.name).write_text(spec.read_text())
    new = (EXAMPLES / "fraud-detection.yaml").read_text().replace("team: fraud-detection", "team: card-risk")
    (teams / "card-risk.yaml").write_text(new)
    output = tmp_path / "CODEOWNERS"
    assert main(["codeowners", "--teams", str(EXAMPLES), "--default-owner", "@acme/ml-platform",
                 "--output", str(output)]) == 0
    hook = pyyaml.safe_load((PROJECT_ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    hook_args = shlex.split(next(h for h in hook if h["id"] == "mlp-codeowners")["entry"])[1:]
    hook_args = [str(output) if arg == ".github/CODEOWNERS" else arg for arg in hook_args]
    hook_args[hook_args.index("--stack"):hook_args.index("--stack") + 2] = ["--teams", str(teams)]
    capsys.readouterr()
    monkeypatch.setattr("sys.argv", [str(PROJECT_ROOT / ".venv" / "bin" / "mlp")])
    monkeypatch.chdir(PROJECT_ROOT)

    assert main(hook_args) == 1
    message = capsys.readouterr().out.strip()
    hint = message.split("regenerate it with: ", 1)[1]
    words = shlex.split(hint)
    assert words[0] == ".venv/bin/mlp" and "--check" not in words
    assert main(words[1:]) == 0
    assert "card-risk.yaml" in output.read_text()
    assert main(hook_args) == 0
