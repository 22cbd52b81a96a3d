"""The builder's preflight: every spec and stack problem of every team is found before any
resource is registered, and reported once as InvalidSpecs with file, line and field (issue 15,
"validation: errors collected, thrown once, before anything is created")."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from components.drift_monitor import MODEL_MONITOR_REGISTRIES
from mlplatform.capture import PreviewMocks, RecordingMonitor, capture_program, project_name
from mlplatform.errors import InvalidSpecs
from mlplatform.estate.builder import build_estate
from mlplatform.estate.preflight import preflight_issues
from mlplatform.spec.loader import load_specs
from mlplatform.stackchecks import stack_issues
from mlplatform.stackconfig import PROJECT_ROOT, RESIDENCY_REGIONS, load_stack_config

DEV = load_stack_config("dev")
SUMMARISER_TYPE = 'artifact: models/summariser/}\n      instanceType: ml.g5.2xlarge\n'
RANKER_MODEL = 'mode: realtime\n      model: {framework: xgboost, frameworkVersion: "1.7"'


@pytest.fixture
def teams(tmp_path) -> Path:
    folder = tmp_path / "teams"
    shutil.copytree(PROJECT_ROOT / "examples" / "teams", folder)
    return folder


def _edit(folder: Path, team: str, old: str, new: str) -> None:
    path = folder / f"{team}.yaml"
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def _specs(folder: Path):
    result = load_specs([str(folder)])
    assert not result.issues, [issue.format() for issue in result.issues]  # valid on their own
    return result.specs


def _two_broken_teams(folder: Path):
    """recommendations serves a framework version with no SageMaker image; nlp-research serves on an
    instance type the catalogue does not know: two independent problems in two teams."""
    _edit(folder, "recommendations", RANKER_MODEL, RANKER_MODEL.replace('"1.7"', '"0.42"'))
    _edit(folder, "nlp-research", SUMMARISER_TYPE, SUMMARISER_TYPE.replace("ml.g5.2xlarge", "ml.r5.large"))
    return _specs(folder)


def test_two_problems_in_two_teams_are_reported_at_once_before_any_resource(teams):
    specs = _two_broken_teams(teams)
    monitors: list[RecordingMonitor] = []

    def monitor() -> RecordingMonitor:
        monitors.append(RecordingMonitor(PreviewMocks()))
        return monitors[-1]

    with pytest.raises(InvalidSpecs) as caught:
        capture_program(lambda: build_estate(DEV, specs), "dev", {}, project_name(), monitor_factory=monitor)
    issues = caught.value.issues
    assert [(Path(issue.file).name, issue.field) for issue in issues] == [
        ("nlp-research.yaml", "spec.endpoints[summariser-eval].instanceType"),
        ("recommendations.yaml", "spec.endpoints[ranker].model.frameworkVersion"),
    ]
    assert all(issue.line > 1 for issue in issues)
    assert "ml.r5.large has no entry in the instance catalogue" in issues[0].message
    assert "no SageMaker serving image for xgboost 0.42" in issues[1].message
    (recorded,) = monitors
    assert len(recorded.recorded) == 0, [r.urn for r in recorded.recorded]


def test_a_partial_plan_is_stopped_by_a_team_it_does_not_build(teams):
    """The preflight runs over every team: what the stack shares is built from all of them."""
    specs = _two_broken_teams(teams)
    with pytest.raises(InvalidSpecs) as caught:
        capture_program(lambda: build_estate(DEV, specs, only_teams=frozenset({"fraud-detection"})),
                        "dev", {}, project_name())
    assert len(caught.value.issues) == 2


def test_the_cli_reports_both_as_validate_does(teams, capsys):
    from mlplatform.cli import main

    _two_broken_teams(teams)
    code = main(["plan", "--stack", "dev", "--teams", str(teams)])
    captured = capsys.readouterr()
    err = captured.err + captured.out
    assert code == 1, err
    lines = [line for line in err.splitlines() if ": error: " in line]
    assert any(re.search(r"nlp-research\.yaml:\d+:\d+: error: spec\.endpoints\[summariser-eval\]\.instanceType", line)
               for line in lines), err
    assert any(re.search(r"recommendations\.yaml:\d+:\d+: error: spec\.endpoints\[ranker\]\.model\.frameworkVersion",
                         line) for line in lines), err
    assert "Traceback" not in err


# ------------------------------------------------- each check the components used to make, now made first


def _only_issue(specs, stack):
    issues = preflight_issues(stack, specs)
    assert len(issues) == 1, [issue.format() for issue in issues]
    # one definition: mlp validate --stack reports the very same issue
    assert issues[0] in stack_issues(specs, stack, environments={"dev", "staging", "prod"})
    return issues[0]


def test_shipped_stacks_pass_the_preflight():
    for stack in ("dev", "staging", "prod"):
        config = load_stack_config(stack)
        assert preflight_issues(config, _specs(config.teams_path())) == []


def test_serving_image_the_region_lacks(teams):
    """Was InvalidSpecs raised by ModelEndpoint mid-construction."""
    _edit(teams, "recommendations", RANKER_MODEL, RANKER_MODEL.replace('"1.7"', '"0.42"'))
    issue = _only_issue(_specs(teams), DEV)
    assert issue.field == "spec.endpoints[ranker].model.frameworkVersion"


def test_slack_target_without_a_relay(teams):
    """Was ValueError raised by TeamEscalation's subscriptions mid-construction."""
    issue = _only_issue(_specs(teams), DEV.model_copy(update={"slack_webhook_url": None}))
    assert issue.field == "metadata.escalation.info[0]" and "mlplatform:slackWebhookUrl" in issue.message


def test_batch_queue_without_a_network(teams):
    """Was an AttributeError on stack.network in the compute wiring."""
    specs = _specs(teams)
    issues = preflight_issues(DEV.model_copy(update={"network": None}), specs)
    assert issues and all(issue.field.endswith(".backend") and "mlplatform:network" in issue.message
                          for issue in issues)


def test_kueue_queue_without_a_cluster(teams):
    """Was ValueError raised by the builder (and the compute wiring) mid-construction."""
    issues = preflight_issues(DEV.model_copy(update={"kubernetes": None}), _specs(teams))
    assert issues and all("mlplatform:kubernetes" in issue.message for issue in issues)


def test_mtls_front_door_without_an_edge(teams):
    """Was ValueError raised by the edge wiring mid-construction."""
    issues = preflight_issues(DEV.model_copy(update={"edge": None}), _specs(teams))
    assert issues and all(issue.field.endswith("exposure.mode") and "mlplatform:edge" in issue.message
                          for issue in issues)


def test_endpoint_instance_type_without_a_catalogue_row(teams):
    """Was a KeyError from the catalogue in the endpoint alarms mid-construction (and validate only
    checked instance types the stack allows)."""
    _edit(teams, "nlp-research", SUMMARISER_TYPE, SUMMARISER_TYPE.replace("ml.g5.2xlarge", "ml.r5.large"))
    issue = _only_issue(_specs(teams), DEV)
    assert issue.field == "spec.endpoints[summariser-eval].instanceType"


def test_every_residency_region_has_a_model_monitor_image():
    """The drift monitor asserts its region's analyzer image: the residency check keeps teams in these."""
    assert {region for regions in RESIDENCY_REGIONS.values() for region in regions} <= set(MODEL_MONITOR_REGISTRIES)


def test_components_raise_no_spec_errors():
    """Components assert invariants; spec and stack problems are the preflight's (service-role, grant
    and IAM document errors are programming errors: a wrong table entry or statement in our code,
    such as a service publisher granted without a source condition)."""
    raising = {}
    for path in sorted((PROJECT_ROOT / "components").glob("*.py")):
        sites = re.findall(r"raise (\w+)", path.read_text())
        if sites:
            raising[path.name] = sorted(set(sites))
    assert raising == {"grants.py": ["ValueError"], "iam.py": ["PolicyError"], "service_role.py": ["ValueError"]}
