"""The pull-request comment fits GitHub and puts what to fix first (issue 18).

GitHub rejects a comment over 65,536 characters; ``summary.md`` must stay within 60,000
whatever the size of the change. One test runs the real pipeline on a new team; the other
feeds the renderer a change the size of the 500-team synthetic estate (42,000 created
resources, thousands of findings, 500 priced teams) built in memory, since capturing 500
teams belongs in ``benchmarks/``, not in every test run.
"""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

from mlplatform import cli
from mlplatform.ci.pipeline import CiContext, CiOptions, CiOutcome, StageResult
from mlplatform.ci.stages import plan_stage
from mlplatform.ci.summary import COMMENT_LIMIT, money, render_summary
from mlplatform.diff import diff_graphs
from mlplatform.graph import GraphResource, ResourceGraph, SourceRef
from mlplatform.reports.findings import FAILED, MANDATORY, CheckResult, FindingsReport, Rule
from mlplatform.stackconfig import PROJECT_ROOT, load_stack_config

EXAMPLES = PROJECT_ROOT / "examples" / "teams"
GIT = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *GIT, *args], check=True, capture_output=True)


def test_one_new_team_comment_fits_and_starts_with_the_verdicts(tmp_path, capsys):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "teams")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    assert cli.main(["new", "team", "card-risk", "--stack", "prod", "--dir", str(repo / "teams")]) == 0
    code = cli.main(["ci", "--stack", "prod", "--teams", str(repo / "teams"), "--base", "HEAD",
                     "--output-dir", str(tmp_path / "out"), "--skip", "checkov"])
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert code == 0, summary
    assert len(summary) <= COMMENT_LIMIT
    first_screen = summary.split("<details>", 1)[0]
    assert "| validate |" in first_screen and "| policy |" in first_screen and "| cost |" in first_screen
    assert "### The change" in first_screen and "| `card-risk` |" in first_screen
    assert "### Cost" in first_screen
    assert "<details><summary><b>plan</b>" in summary


def _synthetic_outcome(teams: int = 500, per_team: int = 84, findings: int = 6000) -> CiOutcome:
    head = ResourceGraph(stack="dev", project="mlplatform")
    for team in range(teams):
        name = f"team-{team:03d}"
        for index in range(per_team):
            urn = f"urn:pulumi:dev::mlplatform::aws:s3/bucket:Bucket::{name}-bucket-{index}"
            head.add(GraphResource(urn=urn, type="aws:s3/bucket:Bucket", name=f"{name}-bucket-{index}", custom=True,
                                   inputs={"bucket": f"{name}-{index}", "tags": {"team": name}},
                                   effective_tags={"team": name}, source=SourceRef(f"teams/{name}.yaml", 3)))
    base = ResourceGraph(stack="dev", project="mlplatform")
    options = CiOptions(stack="dev", base_ref="origin/main", full=True)
    context = CiContext(options, load_stack_config("dev"), [], None, head, base, diff_graphs(base, head))
    rule = Rule("MLP-S3-001", "Bucket is encrypted", remediation="Set spec.artifacts.encryption or ask the platform team.")
    results = [CheckResult(rule, FAILED, MANDATORY, f"bucket {i} is not encrypted with the team key",
                           urn=f"urn:{i}", resource_name=f"team-{i % teams:03d}-bucket-{i}",
                           file=f"teams/team-{i % teams:03d}.yaml", line=12) for i in range(findings)]
    report = FindingsReport("mlp-policy", "dev", results)
    long_markdown = "\n".join(f"| failed | `MLP-S3-001` | `r{i}` | `teams/x.yaml:12` | message {i} |"
                              for i in range(findings))
    cost_data = {
        "teams": [{"team": f"team-{t:03d}", "totalUsd": "1234.56", "unknownLines": 0} for t in range(teams)],
        "budgets": [{"team": f"team-{t:03d}", "status": "within budget", "percent": "12.3", "budgetUsd": "10000.00"}
                    for t in range(teams)],
        "diff": {"resources": [{"team": f"team-{t:03d}", "resource": f"team-{t:03d}-bucket-{i}", "change": "added",
                                "deltaUsd": "2.30"} for t in range(teams) for i in range(3)]},
    }
    stages = [
        plan_stage(context),
        StageResult("policy", False, "0 passed, 6000 failed (6000 blocking)", long_markdown, {}, report),
        StageResult("cost", True, "$617,280.00/month planned", "| team | cost |\n" * 5000, cost_data),
    ]
    return CiOutcome(options, [], context, stages, {"total": 1.0})


def test_a_500_team_change_still_fits_with_what_to_fix_first():
    summary = render_summary(_synthetic_outcome())
    assert len(summary) <= COMMENT_LIMIT
    assert summary.index("### What to fix") < summary.index("### The change") < summary.index("### Cost")
    assert "- … and 5960 more: the full reports are in the workflow's `ci-out` artifact" in summary
    assert "…cut to fit a comment; the full reports are in the workflow's `ci-out` artifact" in summary
    assert "`teams/team-000.yaml:12` **MLP-S3-001** (policy)" in summary
    assert "**Fix:** Set spec.artifacts.encryption or ask the platform team" in summary
    assert summary.count("<details>") == summary.count("</details>")
    assert summary.count("```") % 2 == 0
    # the diagram is bounded: a reader can take it in
    mermaid = summary.split("```mermaid", 1)[1].split("```", 1)[0] if "```mermaid" in summary else ""
    assert mermaid.count("[") <= 30


def test_a_tiny_limit_keeps_the_verdict():
    summary = render_summary(_synthetic_outcome(teams=20, per_team=5, findings=100), limit=3000)
    assert len(summary) <= 3000
    assert "## mlp ci — stack `dev`: :x: **blocked**" in summary


def test_money_is_written_one_way():
    assert money(Decimal("1286.69"), signed=True) == "+$1,286.69"
    assert money(Decimal("-12.5"), signed=True) == "-$12.50"
    assert money(Decimal("1234567.891")) == "$1,234,567.89"
