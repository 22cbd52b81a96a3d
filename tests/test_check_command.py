"""``mlp check --stack S [FILES]``: one verdict for some specs (issue 18)."""

from __future__ import annotations

import shutil

from mlplatform import cli
from mlplatform.stackconfig import PROJECT_ROOT

EXAMPLES = PROJECT_ROOT / "examples" / "teams"


def _teams(tmp_path):
    folder = tmp_path / "teams"
    shutil.copytree(EXAMPLES, folder)
    return folder


def test_a_new_team_gets_one_verdict_per_check(tmp_path, capsys):
    teams = _teams(tmp_path)
    assert cli.main(["new", "team", "card-risk", "--stack", "prod", "--dir", str(teams)]) == 0
    capsys.readouterr()
    code = cli.main(["check", "--stack", "prod", "--teams", str(teams), str(teams / "card-risk.yaml"),
                     "--skip", "checkov"])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "validate  ok"
    names = [line.split()[0] for line in out[1:-1] if not line.startswith("  ")]
    assert names[:2] == ["plan", "policy"] and "cost" in names and "checkov" not in names
    assert out[-1] == "mlp check: ready for stack prod"
    assert code == 0


def test_invalid_specs_stop_before_planning(tmp_path, capsys):
    teams = _teams(tmp_path)
    spec = teams / "nlp-research.yaml"
    spec.write_text(spec.read_text().replace("maxGpus: 32", "maxGpus: -1", 1))
    assert cli.main(["check", "--stack", "prod", "--teams", str(teams), str(spec)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "validate  FAIL  the specs are invalid; nothing was planned"
    assert "spec.training.queues[pretrain].maxGpus" in out[1]
    assert out[-1] == "mlp check: NOT ready for stack prod"


def test_a_spec_outside_the_teams_folder_is_a_usage_error(tmp_path, capsys):
    stray = tmp_path / "nlp-research.yaml"
    stray.write_text((EXAMPLES / "nlp-research.yaml").read_text())
    assert cli.main(["check", "--stack", "prod", str(stray)]) == 2
    assert "not in the stack's teams folder" in capsys.readouterr().err
