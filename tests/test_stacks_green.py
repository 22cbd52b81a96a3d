"""Main is green on every shipped stack: the policy pack and checkov raise no mandatory finding.

`mlp ci --stack dev` runs first in the deploy workflow, so one red stack blocks every change;
these tests make a change that breaks any shipped stack fail here instead. One capture per
stack (dev and prod are the session's, staging is this module's), saved once as a graph
file so ``mlp scan`` runs exactly as in CI, stack config included (platform skips depend on
it). checkov runs from its own venv (``MLP_CHECKOV`` or the project's), as in
tests/test_checkov_scan.py.
"""

from __future__ import annotations

import datetime
import json

import pytest

from mlplatform.capture import capture_stack
from mlplatform.cli import main
from mlplatform.policy.runner import check
from mlplatform.stackchecks import selected_specs
from mlplatform.reports.findings import FAILED, MANDATORY
from mlplatform.stackconfig import load_stack_config

from tests.helpers.policy import shared_pack

STACKS = ("dev", "staging", "prod")
TODAY = datetime.date(2026, 11, 26)


@pytest.fixture(scope="module")
def stack_graphs(dev_graph, prod_graph):
    return {"dev": dev_graph, "staging": capture_stack("staging"), "prod": prod_graph}


@pytest.fixture(scope="module")
def graph_files(stack_graphs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stack-graphs")
    files = {}
    for stack, graph in stack_graphs.items():
        files[stack] = folder / f"{stack}.graph.json"
        files[stack].write_text(graph.dumps())
    return files


def _blocking(results) -> list:
    return [(r["ruleId"], r["resourceName"], r["message"]) for r in results
            if r["status"] == FAILED and r["enforcement"] == MANDATORY]


@pytest.mark.parametrize("stack", STACKS)
def test_policy_pack_has_no_mandatory_failure(stack, stack_graphs):
    config = load_stack_config(stack)
    report = check(shared_pack(), stack_graphs[stack], config, selected_specs(config), TODAY)
    assert not report.blocking, [(r.rule.id, r.resource_name, r.message) for r in report.blocking]
    assert report.exit_code == 0


@pytest.mark.parametrize("stack", STACKS)
def test_checkov_scan_has_no_mandatory_failure(stack, graph_files, checkov_exe, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MLP_CHECKOV", checkov_exe)
    out = tmp_path / "scan.json"
    code = main(["scan", "--stack", stack, "--graph", str(graph_files[stack]), "--format", "json",
                 "--output", str(out)])
    report = json.loads(out.read_text())
    assert _blocking(report["results"]) == [] and code == 0
    skipped = [r for r in report["results"] if r["status"] == "skipped"]
    assert skipped and all(r["justification"].get("reason") and r["justification"].get("owner") for r in skipped)
