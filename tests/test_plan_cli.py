"""`mlp plan`: the tree, the JSON round trip, readers as input, and the diff vs a base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlplatform.cli import main
from mlplatform.readers import load_graph
from mlplatform.reports.plan import STATEFUL_MARKER

FIXTURES = Path(__file__).parent / "fixtures" / "graphs"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plan_prints_the_estate_of_the_examples(capsys):
    code, out, err = run(capsys, "plan", "--stack", "dev")
    assert code == 0, err
    assert out.startswith("Stack dev (project ml-estate): ")
    for team in ("fraud-detection", "nlp-research", "recommendations"):
        assert f"mlplatform:team:Team {team}  (examples/teams/{team}.yaml:5)" in out
    assert "Resources by type:" in out and "aws:s3/bucket:Bucket" in out


def test_plan_json_round_trips_through_the_graph_reader(capsys, tmp_path, dev_graph):
    code, out, _ = run(capsys, "plan", "--stack", "dev", "--format", "json")
    assert code == 0
    saved = tmp_path / "plan.json"
    saved.write_text(out)
    assert load_graph(saved).dumps() == dev_graph.dumps()
    # and the saved plan can be planned again as --graph, unchanged
    code, again, _ = run(capsys, "plan", "--stack", "dev", "--graph", str(saved), "--format", "json")
    assert code == 0 and json.loads(again) == json.loads(out)


def test_plan_reads_a_stack_export_and_a_preview(capsys):
    for fixture in ("stack-export.json", "preview.json"):
        code, out, err = run(capsys, "plan", "--stack", "dev", "--graph", str(FIXTURES / fixture))
        assert code == 0, err
        assert "Resources by type:" in out


def test_plan_markdown(capsys):
    code, out, _ = run(capsys, "plan", "--stack", "dev", "--format", "markdown")
    assert code == 0 and out.startswith("## Plan of stack `dev`")


def test_plan_output_file_is_written_whole(capsys, tmp_path):
    target = tmp_path / "plan.txt"
    code, out, _ = run(capsys, "plan", "--stack", "dev", "--output", str(target))
    assert code == 0 and out == ""
    assert target.read_text().startswith("Stack dev")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.txt"]


@pytest.fixture
def base_plan(tmp_path, dev_graph) -> Path:
    path = tmp_path / "base.json"
    path.write_text(dev_graph.dumps())
    return path


def test_diff_shows_create_update_delete_and_the_stateful_marker(capsys, teams_copy, base_plan):
    fraud = teams_copy / "fraud-detection.yaml"
    text = fraud.read_text()
    text = text.replace("retentionDays: 730", "retentionDays: 365")  # update in place
    text = text.replace("    - name: transactions\n      version: 2", "    - name: transactions\n      version: 3")  # new group name
    fraud.write_text(text)
    (teams_copy / "nlp-research.yaml").unlink()  # a team leaves: its stateful resources are deleted
    new_team = (teams_copy / "recommendations.yaml").read_text().replace("team: recommendations", "team: search").replace(
        "domainPrefix: ranker", "domainPrefix: search-ranker")  # each front door has its own host name
    (teams_copy / "search.yaml").write_text(new_team)

    code, out, err = run(capsys, "plan", "--stack", "dev", "--teams", str(teams_copy), "--base", str(base_plan), "--format", "json")
    assert code == 0, err
    diff = json.loads(out)["diff"]
    created = {c["urn"].rsplit("::", 1)[-1] for c in diff["created"]}
    deleted = {c["urn"].rsplit("::", 1)[-1] for c in diff["deleted"]}
    updated = {c["urn"].rsplit("::", 1)[-1]: c for c in diff["updated"]}
    assert "search-artifacts-bucket" in created
    assert "nlp-research-artifacts-bucket" in deleted and "nlp-research-artifacts-key" in deleted
    assert "fraud-detection-fg-transactions-v3-group" in created
    assert "fraud-detection-fg-transactions-v2-group" in deleted
    lifecycle = updated["fraud-detection-artifacts-lifecycle"]
    assert {"path": "rules[0].expiration.days", "before": 730, "after": 365} in lifecycle["propertyChanges"]
    flagged = {urn.rsplit("::", 1)[-1] for urn in diff["statefulReplacements"]}
    assert {"nlp-research-artifacts-bucket", "fraud-detection-fg-transactions-v2-group"} <= flagged
    assert "fraud-detection-artifacts-lifecycle" not in flagged

    code, text_out, _ = run(capsys, "plan", "--stack", "dev", "--teams", str(teams_copy), "--base", str(base_plan))
    assert code == 0
    assert STATEFUL_MARKER in text_out
    marked = [line for line in text_out.splitlines() if line.endswith(STATEFUL_MARKER)]
    assert any("nlp-research-artifacts-bucket" in line for line in marked)
    assert not any("lifecycle" in line for line in marked)


def test_changed_force_new_property_is_a_replacement(capsys, teams_copy, base_plan):
    fraud = teams_copy / "fraud-detection.yaml"
    fraud.write_text(fraud.read_text().replace("eventTime: event_time", "eventTime: event_time2").replace(
        "{name: event_time, type: string}", "{name: event_time2, type: string}"))
    code, out, err = run(capsys, "plan", "--stack", "dev", "--teams", str(teams_copy), "--base", str(base_plan), "--format", "json")
    assert code == 0, err
    diff = json.loads(out)["diff"]
    replaced = {c["urn"].rsplit("::", 1)[-1]: c for c in diff["replaced"]}
    group = replaced["fraud-detection-fg-transactions-v2-group"]
    assert "eventTimeFeatureName" in group["replaceReasons"]
    assert group["urn"] in diff["statefulReplacements"]


def test_no_changes_against_itself(capsys, base_plan):
    code, out, _ = run(capsys, "plan", "--stack", "dev", "--base", str(base_plan))
    assert code == 0 and "No changes." in out and STATEFUL_MARKER not in out


def test_plan_errors_are_one_line_with_exit_codes(capsys, tmp_path, teams_copy):
    code, _, err = run(capsys, "plan", "--stack", "nope")
    assert code == 2 and "unknown stack 'nope'" in err and len(err.strip().splitlines()) == 1
    missing = tmp_path / "missing.json"
    code, _, err = run(capsys, "plan", "--stack", "dev", "--base", str(missing))
    assert code == 2 and str(missing) in err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, _, err = run(capsys, "plan", "--stack", "dev", "--graph", str(broken))
    assert code == 2 and f"{broken}:1:2:" in err
    (teams_copy / "fraud-detection.yaml").write_text("apiVersion: mlplatform/v1\nkind: TeamSpec\n")
    code, out, _ = run(capsys, "plan", "--stack", "dev", "--teams", str(teams_copy))
    assert code == 1
    assert out.splitlines()[0].startswith(f"{teams_copy / 'fraud-detection.yaml'}:1:1: error: metadata: required field is missing")
