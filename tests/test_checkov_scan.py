"""checkov itself (in its own venv) on translated plans: faithfulness, the example estate, the CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

import pytest

from mlplatform.checkov.runner import scan
from mlplatform.checkov.skips import load_skips
from mlplatform.cli import main
from mlplatform.reports.exemptions import planned_exemptions
from mlplatform.stackconfig import load_stack_config
from mlplatform.reports.findings import FAILED, PASSED, SKIPPED
from tests.fixtures.checkov.support import insecure_graph

FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: What checkov 3.3.30 must report for each deliberately insecure resource: exactly these.
EXPECTED_FAILURES = {
    # unencrypted bucket without public-access block, versioning, logging, lifecycle, events
    "open-bucket": {"CKV2_AWS_6", "CKV2_AWS_61", "CKV2_AWS_62", "CKV_AWS_144", "CKV_AWS_145", "CKV_AWS_18",
                    "CKV_AWS_21"},
    # Action "*" on Resource "*"
    "wildcard-policy": {"CKV2_AWS_40", "CKV_AWS_286", "CKV_AWS_287", "CKV_AWS_288", "CKV_AWS_289", "CKV_AWS_290",
                        "CKV_AWS_355", "CKV_AWS_62", "CKV_AWS_63"},
    "plain-endpoint-config": {"CKV_AWS_98"},      # no kms_key_arn
    "plain-log-group": {"CKV_AWS_158"},           # no kms_key_id
    "mutable-repo": {"CKV_AWS_51"},               # MUTABLE tags
}

#: Failures on the prod example estate that the components must fix (not skip); see the
#: report of the checkov issue. Remove an entry when its component is fixed.
KNOWN_COMPONENT_GAPS: set = set()  # every failure is fixed in the components or a justified skip


@pytest.fixture(scope="module")
def insecure_report(checkov_exe):
    return scan(insecure_graph(), executable=checkov_exe)


def _ids(report, status):
    found = defaultdict(set)
    for result in report.results:
        if result.status == status:
            found[result.resource_name].add(result.rule.id)
    return found


def test_insecure_estate_gets_exactly_the_expected_checkov_ids(insecure_report):
    failed = _ids(insecure_report, FAILED)
    for name, expected in EXPECTED_FAILURES.items():
        assert failed[name] == expected, name
    graph_checks = {rule for ids in EXPECTED_FAILURES.values() for rule in ids if rule.startswith("CKV2_")}
    assert len(graph_checks) >= 3


def test_namespace_without_network_policy_leaves_its_pods_uncovered(insecure_report):
    # checkov joins Pods (not Namespaces) to NetworkPolicies: the workload in the namespace fails CKV2_K8S_6
    assert "CKV2_K8S_6" in _ids(insecure_report, FAILED)["open-pod"]
    # ... and a bare Namespace has no checkov check at all (our policy pack covers it)
    assert not any(r.resource_name == "open-ns" for r in insecure_report.results)


def test_a_default_deny_network_policy_covers_the_workload(checkov_exe):
    report = scan(insecure_graph("covered_program"), executable=checkov_exe)
    assert "CKV2_K8S_6" in _ids(report, PASSED)["open-pod"]
    assert "CKV2_K8S_6" not in _ids(report, FAILED)["open-pod"]
    assert report.stats["resourcesScannedByType"]["kubernetes:networking.k8s.io/v1:NetworkPolicy"] == 1


def test_split_bucket_resources_are_joined_through_references(insecure_report):
    # the good bucket's public-access block, encryption, versioning, logging, lifecycle and
    # notifications are separate resources: only references connect them
    passed = _ids(insecure_report, PASSED)["good-bucket"]
    assert {"CKV2_AWS_6", "CKV2_AWS_61", "CKV2_AWS_62", "CKV_AWS_145", "CKV_AWS_18", "CKV_AWS_21"} <= passed
    assert _ids(insecure_report, FAILED)["good-bucket"] == {"CKV_AWS_144"}


def test_findings_lead_back_to_urns(insecure_report):
    failure = next(r for r in insecure_report.results if r.resource_name == "plain-log-group")
    assert failure.urn.endswith("aws:cloudwatch/logGroup:LogGroup::plain-log-group")
    assert failure.resource_type == "aws:cloudwatch/logGroup:LogGroup"
    stats = insecure_report.stats
    assert stats["resourcesScannedByType"]["aws:s3/bucket:Bucket"] == 3
    assert stats["checksPassed"] == len(insecure_report.by_status(PASSED)) > 0
    assert insecure_report.exit_code == 1


def test_prod_example_estate_fails_only_known_component_gaps(prod_graph, checkov_exe):
    stack = load_stack_config("prod")  # the nlp-research bucket is covered by its spec exemption alone
    report = scan(prod_graph, load_skips(), executable=checkov_exe, stack=stack,
                  exemptions=planned_exemptions(stack, prod_graph))
    failed = {(r.rule.id, r.resource_type) for r in report.by_status(FAILED)}
    assert failed == KNOWN_COMPONENT_GAPS
    for result in report.by_status(FAILED):
        assert result.file and result.file.startswith("examples/teams/") and result.line > 0 and result.urn
    assert report.stats["unmappedTypes"] == []
    assert sum(report.stats["resourcesScannedByType"].values()) == report.stats["resourcesScanned"] > 0


# ---------------------------------------------------------------- CLI

@pytest.fixture(scope="module")
def insecure_graph_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("graphs") / "insecure.json"
    path.write_text(insecure_graph().dumps())
    return path


def test_cli_json_reports_failures_and_exits_1(insecure_graph_file, checkov_exe, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MLP_CHECKOV", checkov_exe)
    out = tmp_path / "report.json"
    code = main(["scan", "--stack", "prod", "--graph", str(insecure_graph_file), "--format", "json",
                 "--output", str(out), "--skips", str(_skips(tmp_path))])
    assert code == 1
    data = json.loads(out.read_text())
    assert data["tool"] == "checkov" and data["passed"] is False
    statuses = {(r["ruleId"], r["resourceName"]): r["status"] for r in data["results"]}
    assert statuses[("CKV_AWS_98", "plain-endpoint-config")] == "failed"
    assert statuses[("CKV_AWS_144", "good-bucket")] == "skipped"  # the skip shows, with its justification
    skipped = next(r for r in data["results"] if r["status"] == SKIPPED)
    assert skipped["justification"]["owner"] == "storage@example.com"
    assert data["stats"]["resourcesScannedByType"]["aws:ecr/repository:Repository"] == 1


def test_cli_passes_with_skips_and_renders_every_format(checkov_exe, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MLP_CHECKOV", checkov_exe)
    graph = insecure_graph()
    keep = {urn for urn, r in graph.resources.items() if r.name in ("good-bucket", "log-bucket") or "good-" in r.name}
    graph.resources = {urn: r for urn, r in graph.resources.items() if urn in keep}
    path = tmp_path / "good.json"
    path.write_text(graph.dumps())
    skips = _skips(tmp_path)
    outputs = {}
    for fmt in ("text", "markdown", "sarif", "junit"):
        target = tmp_path / f"out.{fmt}"
        code = main(["scan", "--stack", "prod", "--graph", str(path), "--format", fmt, "--output", str(target),
                     "--skips", str(skips)])
        assert code == 0, target.read_text()
        outputs[fmt] = target.read_text()
    assert "skipped: CKV_AWS_144" in outputs["text"] and "owner: storage@example.com" in outputs["text"]
    assert "check(s) passed on" in outputs["text"] and "aws:s3/bucket:Bucket" in outputs["text"]
    assert "Resources scanned by type" in outputs["markdown"]
    sarif = json.loads(outputs["sarif"])
    assert all(result.get("suppressions") for result in sarif["runs"][0]["results"])
    suite = ElementTree.fromstring(outputs["junit"]).find("testsuite")
    assert suite.get("failures") == "0" and int(suite.get("skipped")) >= 1


def test_cli_bad_skips_file_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "skips.yaml"
    bad.write_text("skips:\n  - check: CKV_AWS_18\n    owner: me\n")
    assert main(["scan", "--stack", "prod", "--graph", str(FIXTURES / "graphs" / "preview.json"),
                 "--skips", str(bad)]) == 1
    out = capsys.readouterr().out.strip()
    assert out == f"{bad}:2:5: error: skips[0]: every skip needs a written reason"


def test_cli_missing_checkov_override_is_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("MLP_CHECKOV", "/nonexistent/checkov")
    assert main(["scan", "--stack", "prod", "--graph", str(FIXTURES / "graphs" / "preview.json")]) == 2
    assert "MLP_CHECKOV=/nonexistent/checkov: no such executable" in capsys.readouterr().err


def test_scan_reads_pulumi_preview_and_stack_export(checkov_exe):
    from mlplatform.readers import load_graph

    for name in ("preview.json", "stack-export.json"):
        report = scan(load_graph(FIXTURES / "graphs" / name), executable=checkov_exe)
        assert report.results and report.stats["unmappedTypes"] == []
        assert all(r.urn for r in report.results if r.rule.id.startswith("CKV"))


def _skips(tmp_path: Path) -> Path:
    path = tmp_path / "skips.yaml"
    path.write_text(
        "skips:\n"
        "  - check: CKV_AWS_144\n    type: aws:s3/bucket:Bucket\n"
        "    reason: Test stack; replication is exercised in the storage tests.\n    owner: storage@example.com\n"
        "  - check: CKV2_AWS_64\n    type: aws_kms_key\n"
        "    reason: Test key; its policy is the account default on purpose.\n    owner: keys@example.com\n"
        "  - check: CKV2_AWS_6\n    resource: log-bucket\n"
        "    reason: Test log bucket.\n    owner: storage@example.com\n"
        "  - check: CKV2_AWS_61\n    resource: log-bucket\n    reason: Test log bucket.\n    owner: storage@example.com\n"
        "  - check: CKV2_AWS_62\n    resource: log-bucket\n    reason: Test log bucket.\n    owner: storage@example.com\n"
        "  - check: CKV_AWS_145\n    resource: log-bucket\n    reason: Test log bucket.\n    owner: storage@example.com\n"
        "  - check: CKV_AWS_21\n    resource: log-bucket\n    reason: Test log bucket.\n    owner: storage@example.com\n"
    )
    return path


#: Pulumi tokens of resource types ML estates use, with the checks checkov runs on them.
CHECKED_TOKENS = [
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
    "aws:cloudwatch/logGroup:LogGroup", "aws:ecr/repository:Repository", "aws:kms/key:Key",
    "aws:sagemaker/model:Model", "aws:sagemaker/domain:Domain", "aws:sagemaker/notebookInstance:NotebookInstance",
    "aws:sns/topic:Topic", "aws:lambda/function:Function", "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:eks/cluster:Cluster", "aws:cloudtrail/trail:Trail",
]


def test_every_attribute_checkov_inspects_is_a_name_the_translator_writes(checkov_exe):
    """checkov's own value checks name the Terraform attributes they read; our names must match."""
    import subprocess

    from mlplatform.checkov.tfnames import BLOCK, BLOCK_LIST, fields_of, resource_class, terraform_type

    python = str(Path(checkov_exe).with_name("python"))
    if not Path(python).exists():
        pytest.skip("checkov overridden by MLP_CHECKOV; its Python is unknown")
    by_type = {terraform_type(token): token for token in CHECKED_TOKENS}
    output = subprocess.run([python, str(FIXTURES / "checkov" / "inspected_keys.py"), *by_type],
                            capture_output=True, text=True, check=True).stdout
    inspected = json.loads(output)
    assert set(inspected) == set(by_type)  # checkov has checks for every type we map here
    for tf_type, checks in inspected.items():
        for check_id, key in checks.items():
            fields = fields_of(resource_class(by_type[tf_type]), tf_type)
            for part in [p for p in key.split("/") if p and not p.startswith("[")]:
                match = next((f for f in fields.values() if f.terraform_name == part), None)
                assert match is not None, f"{check_id} reads {tf_type}.{key}: no property maps to '{part}'"
                fields = fields_of(match.element) if match.kind in (BLOCK, BLOCK_LIST) and match.element else {}
