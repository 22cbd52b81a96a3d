"""`mlp cost`: the example estate, --graph, --base diff, budget guard exit codes, formats."""

from __future__ import annotations

import json
from pathlib import Path

from mlplatform.cli import main
from mlplatform.cost.catalogue import load_catalogue

FIXTURES = Path(__file__).parent / "fixtures" / "cost"
GRAPH = FIXTURES / "pricing-lab.graph.json"
SPEC = FIXTURES / "teams" / "pricing-lab.yaml"
LAB = ("--graph", str(GRAPH), "--region", "us-east-1")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_prod_estate_is_priced_within_budget(capsys):
    code, out, err = run(capsys, "cost", "--stack", "prod", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["region"] == "eu-west-1" and {t["team"] for t in report["teams"]} == {
        "fraud-detection", "nlp-research", "recommendations", "platform"}
    assert not [line for line in report["lines"] if line["status"] == "unknown-type"]
    assert all(b["status"] != "over budget" for b in report["budgets"])
    # what no source prices in eu-west-1 (the catalogue's gaps), and the replica buckets'
    # storage in the partner region eu-central-1 (priced there, not at eu-west-1 rates);
    # everything else is priced
    unknown = {(line["sku"], line["region"]) for line in report["lines"] if line["status"] == "unknown-price"}
    assert unknown == {(sku, "eu-west-1") for sku in (
        "featurestore.online.storage", "featurestore.read", "featurestore.write", "firehose.ingest",
        "cloudwatch.alarm.composite", "sagemaker.mlflow:Medium", "sagemaker.mlflow:Small",
        "sagemaker.async:ml.g5.2xlarge", "sagemaker.serverless.compute",
        # GuardDuty bills events analysed; no sourced eu-west-1 rate (the catalogue's recorded gap)
        "guardduty.events.management", "guardduty.events.s3data")} | {("s3.storage.standard", "eu-central-1")}
    assert not any(sku.startswith("sagemaker.hosting:") for sku, _ in unknown)
    # every line without a price says so and is never counted: the catalogue has no
    # sourced eu-west-1 price for it (see the catalogue's gaps in the report)
    for line in report["lines"]:
        if line["status"] == "unknown-price":
            assert line["monthlyUsd"] is None and line["price"] is None


def test_every_unpriced_prod_line_is_a_documented_gap(capsys):
    """An UNKNOWN line in the shipped estate must be one the catalogue explains (what was
    searched and why nothing is usable); a new unpriced SKU fails here until it is priced
    from a source or documented as a gap."""
    code, out, err = run(capsys, "cost", "--stack", "prod", "--format", "json")
    assert code == 0, err
    unknown = [line for line in json.loads(out)["lines"] if line["status"] == "unknown-price"]
    catalogue = load_catalogue()
    assert unknown and all(catalogue.gap(line["sku"], line["region"]) for line in unknown)
    # and the report carries that recorded reason on the line
    assert all(line["catalogueGap"] == catalogue.gap(line["sku"], line["region"]) for line in unknown)


def test_prod_graph_in_us_east_1_lacks_only_unsourced_prices(capsys, tmp_path, prod_graph):
    saved = tmp_path / "prod.json"
    saved.write_text(prod_graph.dumps())
    code, out, err = run(capsys, "cost", "--stack", "prod", "--graph", str(saved), "--region", "us-east-1",
                         "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    unknown = {(line["sku"], line["region"]) for line in report["lines"] if line["status"].startswith("unknown")}
    # --region moves the stack's own region; the replicas stay in the partner region
    assert unknown == {(sku, "us-east-1") for sku in (
        "featurestore.online.storage", "featurestore.read", "featurestore.write", "firehose.ingest",
        "cloudwatch.alarm.composite", "sagemaker.mlflow:Medium", "sagemaker.mlflow:Small",
        "sagemaker.async:ml.g5.2xlarge", "sagemaker.serverless.compute", "sns.requests",
        "sagemaker.processing:ml.m5.xlarge", "sqs.requests.standard", "guardduty.events.management",
        "guardduty.events.s3data", "dynamodb.ondemand.read", "dynamodb.ondemand.write", "dynamodb.storage",
        "dynamodb.pitr")} | {("s3.storage.standard", "eu-central-1")}
    buckets = [l for l in report["lines"] if l["type"] == "aws:s3/bucket:Bucket"]
    # fraud-detection's artifacts: 800 GB x $0.023
    assert {(l["team"], l["monthlyUsd"]) for l in buckets} >= {("fraud-detection", "18.40")}


def test_graph_text_report_shows_lines_assumptions_and_budget(capsys):
    code, out, err = run(capsys, "cost", "--stack", "dev", *LAB)
    assert code == 0, err
    assert "variant primary: ml.m5.xlarge instance-hours: 3,650 hour x $0.23 = $839.50" in out
    assert "- average 6 instances: midpoint of the range (default; set expectedRequestsPerSecond)" in out
    assert ("total $1,461.93 + 3 unknown of $2,000.00 budget (73.1%): warning: reached 50%; "
            "budget cannot be confirmed (3 unpriced)") in out
    assert "pricing-lab/ranker: $0.0057" in out
    assert "  pricing-lab-queue-gpu: $294.94\n" in out  # component subtotal
    assert "  pricing-lab-fg-events-v1: $0.46 + 3 unknown\n" in out
    assert "warning: pricing-lab: projected at least $1,461.93/month reaches 50% of the $2,000.00 budget" in err


def test_over_budget_exits_1(capsys, tmp_path):
    teams = tmp_path / "teams"
    teams.mkdir()
    (teams / SPEC.name).write_text(SPEC.read_text().replace("monthlyUsd: 2000", "monthlyUsd: 1000"))
    code, out, err = run(capsys, "cost", "--stack", "dev", *LAB, "--teams", str(teams), "--format", "markdown")
    assert code == 1
    assert "| pricing-lab | $1,461.93 + 3 unknown | $1,000.00 | 146.2% | :x: over budget |" in out
    assert "exceeds the budget of $1,000.00 by $461.93" in out
    assert "error: pricing-lab: projected at least $1,461.93/month exceeds the budget" in err


def test_base_diff_reads_like_a_pr_comment(capsys, tmp_path):
    data = json.loads(GRAPH.read_text())
    for resource in data["resources"]:
        if resource["name"] == "pricing-lab-scorer-scaling":
            resource["inputs"].update(minCapacity=4, maxCapacity=20)
    head = tmp_path / "head.json"
    head.write_text(json.dumps(data))
    code, out, err = run(capsys, "cost", "--stack", "dev", "--graph", str(head), "--base", str(GRAPH),
                         "--region", "us-east-1", "--format", "markdown")
    assert code == 1, err  # doubling the scorer takes the team past its $2,000 budget
    assert "| pricing-lab | $2,301.43 + 3 unknown | $2,000.00 | 115.1% | :x: over budget |" in out
    assert out.startswith("### Cost preview: stack `lab` (us-east-1)")
    assert "Monthly cost **$2,301.43** (+$839.50 against base $1,461.93)" in out
    assert "| changed | `pricing-lab-scorer-config` (pricing-lab) | $839.50 | $1,679.00 | +$839.50 |" in out
    assert "+ variant primary: ml.m5.xlarge instance-hours: 7,300 hour x $0.23" in out
    assert "<details><summary>12-month forecast</summary>" in out
    code, out, _ = run(capsys, "cost", "--stack", "dev", "--graph", str(head), "--base", str(GRAPH),
                       "--region", "us-east-1", "--format", "json")
    diff = json.loads(out)["diff"]
    assert (diff["deltaUsd"], len(diff["resources"])) == ("839.50", 1)


def test_output_file_and_errors(capsys, tmp_path):
    target = tmp_path / "cost.md"
    code, out, _ = run(capsys, "cost", "--stack", "dev", *LAB, "--format", "markdown", "--output", str(target))
    assert code == 0 and out == "" and target.read_text().startswith("### Cost preview")
    code, _, err = run(capsys, "cost", "--stack", "dev", *LAB, "--prices", str(tmp_path / "missing.json"))
    assert code == 2 and err.count("\n") == 1 and "cannot read price catalogue" in err
    code, _, err = run(capsys, "cost", "--stack", "dev", "--graph", str(tmp_path / "nope.json"))
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(capsys, "cost", "--stack", "nosuch")
    assert code == 2 and err.count("\n") == 1


def test_spec_missing_falls_back_to_defaults_with_a_warning(capsys, tmp_path):
    data = json.loads(GRAPH.read_text())
    text = json.dumps(data).replace("tests/fixtures/cost/teams/pricing-lab.yaml", "tests/fixtures/cost/teams/gone.yaml")
    moved = tmp_path / "g.json"
    moved.write_text(text)
    code, out, err = run(capsys, "cost", "--stack", "dev", "--graph", str(moved), "--region", "us-east-1")
    assert code == 0, err
    assert "warning: pricing-lab: spec tests/fixtures/cost/teams/gone.yaml not found; usage defaults apply" in out
    # no spec: the scorer runs its planned range 2-10 at the midpoint, all day
    assert "variant primary: ml.m5.xlarge instance-hours: 4,380 hour x $0.23 = $1,007.40" in out


def test_prices_show_lists_unknown_skus_for_a_region(capsys):
    code, out, _ = run(capsys, "prices", "show", "--region", "eu-west-1", "--format", "json")
    assert code == 0
    rows = {row["sku"]: row for row in json.loads(out)["prices"]}
    assert rows["sagemaker.hosting:ml.m5.xlarge"]["usd"] == "0.257"
    assert rows["sagemaker.hosting:ml.m5.xlarge"]["source"] == "sm-ssh-helper-bill-2023-12"
    # the example estate's serving types without a sourced eu-west-1 price
    for sku in ("sagemaker.hosting:ml.g5.xlarge", "sagemaker.hosting:ml.c5.xlarge", "sagemaker.hosting:ml.g5.2xlarge",
                "sagemaker.serverless.compute", "featurestore.write", "firehose.ingest"):
        assert rows[sku]["usd"] is None


def test_region_without_any_price_is_warned_about(capsys):
    code, out, _ = run(capsys, "cost", "--stack", "dev", "--graph", str(GRAPH), "--region", "ap-south-1")
    assert code == 0
    assert "warning: the price catalogue has no prices for ap-south-1; run `mlp prices refresh --region ap-south-1`" in out
    assert "Stack total: $0.00 + " in out
