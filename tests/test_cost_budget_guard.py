"""An honest budget guard (issue 17, item 6).

A team with unpriced lines is never "within budget": the guard says the budget cannot be
confirmed and names each unpriced line with why it has no price (the catalogue's recorded
gap where it has one); the stack's ``mlplatform:unpricedCost`` (warn | block) decides
whether that fails ``mlp cost`` and the cost stage of ``mlp ci``. On the way: resources are
priced in their provider's region (the partner-region replica is not priced at the home
region's rates), a retired endpoint is not "unplanned", and money is written one way.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from mlplatform import cli
from mlplatform.ci import summary as ci_summary
from mlplatform.ci.pipeline import CiContext, CiOptions, CiOutcome
from mlplatform.ci.stages import cost_stage
from mlplatform.cost import money, report as cost_report_module
from mlplatform.cost.budget import check_budgets, guard_verdict
from mlplatform.cost.catalogue import catalogue_from_json, gap_scope, gap_summary, load_catalogue
from mlplatform.cost.attribution import load_team_contexts
from mlplatform.cost.engine import price_graph
from mlplatform.cost.report import render_markdown, render_text
from mlplatform.diff import diff_graphs
from mlplatform.errors import SpecError
from mlplatform.graph import ResourceGraph
from mlplatform.readers import load_graph
from mlplatform.spec.loader import load_spec_file
from mlplatform.stackconfig import config_values_from_stack_file, load_stack_config, stack_config_from_values, stack_file

FIXTURES = Path(__file__).parent / "fixtures" / "cost"
GRAPH = FIXTURES / "pricing-lab.graph.json"
SPEC = FIXTURES / "teams" / "pricing-lab.yaml"


def _lab_report(graph: ResourceGraph = None, region: str = "us-east-1"):
    graph = graph or load_graph(GRAPH)
    contexts, warnings = load_team_contexts(graph, "dev")
    return price_graph(graph, load_catalogue(), region, "dev", contexts, warnings)


def _prod_report(prod_graph, catalogue=None):
    contexts, warnings = load_team_contexts(prod_graph, "prod")
    return price_graph(prod_graph, catalogue or load_catalogue(), "eu-west-1", "prod", contexts, warnings)


# ---------------------------------------------------------------- the guard's verdict

def test_unpriced_lines_under_budget_are_not_within_budget(tmp_path, capsys):
    """pricing-lab in us-east-1 has 3 unpriced feature-store lines; with a budget far above
    its projection the old guard said "within budget (3 unpriced)"."""
    teams = tmp_path / "teams"
    teams.mkdir()
    (teams / SPEC.name).write_text(SPEC.read_text().replace("monthlyUsd: 2000", "monthlyUsd: 100000"))
    code = cli.main(["cost", "--stack", "dev", "--graph", str(GRAPH), "--region", "us-east-1",
                     "--teams", str(teams), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err  # dev's unpricedCost is the default, warn
    (budget,) = json.loads(captured.out)["budgets"]
    assert "within budget" not in budget["status"]
    assert budget["status"] == "budget cannot be confirmed (3 unpriced)"
    assert budget["confirmed"] is False and not budget["over"]
    assert {line["sku"] for line in budget["unpriced"]} == {
        "featurestore.online.storage", "featurestore.read", "featurestore.write"}
    assert all(line["reason"] == f"no sourced price for {line['sku']} in us-east-1" for line in budget["unpriced"])
    assert all(line["catalogueGap"] == load_catalogue().gaps["featurestore.*"] for line in budget["unpriced"])
    # the warning names every unpriced line, with its reason
    assert ("warning: pricing-lab: budget cannot be confirmed: projected at least $1,461.93/month of the "
            "$100,000.00 budget, but 3 line(s) have no price") in captured.err
    assert ("warning: pricing-lab: unpriced: pricing-lab-fg-events-v1-group write units: no sourced price for "
            "featurestore.write in us-east-1 (catalogue: No Feature Store unit price") in captured.err


def test_a_fully_priced_team_is_within_budget_and_an_over_team_is_over():
    report = _lab_report()
    report.lines = [line for line in report.lines if not line.status.startswith("unknown")]
    (result,) = check_budgets(report)
    assert result.confirmed and result.status.startswith("warning: reached 50%")
    report.budgets["pricing-lab"] = report.budgets["pricing-lab"].model_copy(update={"alert_at_percent": [100]})
    (result,) = check_budgets(report)
    assert result.status == "within budget" and result.confirmed
    # over budget is certain even with unpriced lines: the lower bound already exceeds it
    report = _lab_report()
    report.budgets["pricing-lab"] = report.budgets["pricing-lab"].model_copy(update={"monthly_usd": 1000})
    (result,) = check_budgets(report)
    assert result.over and result.confirmed and result.status == "over budget"
    assert guard_verdict([result], "warn").blocking


def test_block_setting_fails_mlp_cost_and_warn_passes(monkeypatch, capsys):
    blocking = load_stack_config("dev").model_copy(update={"unpriced_cost": "block"})
    monkeypatch.setattr("mlplatform.cost.cli.load_stack_config", lambda *args, **kwargs: blocking)
    code = cli.main(["cost", "--stack", "dev", "--graph", str(GRAPH), "--region", "us-east-1"])
    err = capsys.readouterr().err
    assert code == 1
    assert ("error: budget cannot be confirmed for 1 team(s) (pricing-lab): 3 unpriced line(s) "
            "(mlplatform:unpricedCost: block)") in err
    assert "error: pricing-lab: unpriced: pricing-lab-fg-events-v1-group write units" in err


# ---------------------------------------------------------------- the stack setting

def test_unpriced_cost_setting_defaults_to_warn_and_is_validated():
    assert load_stack_config("prod").unpriced_cost == "warn"
    values, document = config_values_from_stack_file(stack_file("dev"))
    assert stack_config_from_values("dev", {**values, "mlplatform:unpricedCost": "block"}, "x").unpriced_cost == "block"
    with pytest.raises(SpecError) as caught:
        stack_config_from_values("dev", {**values, "mlplatform:unpricedCost": "ignore"}, "stacks/Pulumi.dev.yaml",
                                 document)
    (issue,) = caught.value.issues
    assert issue.path == ("config", "mlplatform:unpricedCost")
    assert "'warn' or 'block'" in issue.message


# ---------------------------------------------------------------- the reason, not the usage

def test_unknown_list_gives_the_reason_and_the_catalogue_gap(prod_graph):
    """The async endpoint's line used to show its last usage note ("219,000 requests/month")
    as the reason it had no price."""
    report = _prod_report(prod_graph)
    text = render_text(report, check_budgets(report))
    unknown = text.split("Unknown (not added to any total):", 1)[1].split("\n\n", 1)[0]
    assert "requests/month" not in unknown
    assert ("nlp-research nlp-research-endpoint-summariser-eval-config "
            "(aws:sagemaker/endpointConfiguration:EndpointConfiguration): variant primary: ml.g5.2xlarge "
            "instance-hours: no sourced price for sagemaker.async:ml.g5.2xlarge in eu-west-1 (catalogue: No sourced "
            "Asynchronous Inference price") in unknown
    markdown = render_markdown(report, check_budgets(report))
    without = markdown.split("<summary>Without a price</summary>", 1)[1]
    assert "no sourced price for sagemaker.async:ml.g5.2xlarge in eu-west-1 (catalogue: " in without
    assert "the budget cannot be confirmed for 3 team(s)" in markdown


def test_gap_keys_name_skus_families_and_regions():
    assert gap_scope("s3, cloudwatch, lambda (eu-central-1)") == (["s3", "cloudwatch", "lambda"], {"eu-central-1"})
    assert gap_scope("kms, cloudwatch.dashboard (all regions)") == (["kms", "cloudwatch.dashboard"], None)
    assert gap_scope("featurestore.*") == (["featurestore.*"], None)
    catalogue = catalogue_from_json({
        "catalogueVersion": "t", "currency": "USD", "sources": {}, "prices": [],
        "gaps": {"s3 (eu-central-1)": "family in region", "s3.storage.standard": "exact anywhere",
                 "sagemaker.async:*": "glob", "featurestore.write (us-east-1)": "exact in region"}})
    assert catalogue.gap("s3.storage.standard", "eu-central-1") == "family in region"
    assert catalogue.gap("s3.storage.standard", "eu-west-1") == "exact anywhere"
    assert catalogue.gap("s3.requests", "eu-west-1") is None
    assert catalogue.gap("sagemaker.async:ml.g5.xlarge", "eu-west-1") == "glob"
    assert catalogue.gap("featurestore.write", "eu-west-1") is None
    assert catalogue.gap("s3x.storage", "eu-central-1") is None  # a family is a whole segment
    assert gap_summary("Short reason. Package registries were searched.") == "Short reason"
    long = "No price for X (searched 2026-11-26; twice): " + "detail " * 40
    assert gap_summary(long) == "No price for X (searched 2026-11-26; twice)"


# ---------------------------------------------------------------- regions

def test_replica_bucket_is_priced_in_the_partner_region(prod_graph):
    """prod replicates artifacts to eu-central-1 on a provider for that region: the replica's
    storage has no sourced eu-central-1 price, so it is UNKNOWN with that reason, never
    priced at eu-west-1's $0.023."""
    report = _prod_report(prod_graph)
    replica = [line for line in report.lines if line.resource == "fraud-detection-artifacts-replica-bucket"]
    assert [(line.status, line.monthly) for line in replica] == [("unknown-price", None)]
    assert replica[0].region == "eu-central-1"
    assert replica[0].reason == "no sourced price for s3.storage.standard in eu-central-1"
    assert replica[0].gap == load_catalogue().gaps["s3, cloudwatch, lambda, ecr, sns (eu-central-1)"]
    (home,) = [line for line in report.lines if line.resource == "fraud-detection-artifacts-bucket"]
    assert (home.region, home.unit_usd) == ("eu-west-1", Decimal("0.023"))
    # the replica's key is priced there too: KMS has one published price for every region
    (key,) = [line for line in report.lines if line.resource == "fraud-detection-artifacts-replica-key"]
    assert (key.region, key.status) == ("eu-central-1", "priced")


def test_partner_region_price_is_used_when_the_catalogue_has_one(prod_graph):
    data = load_catalogue().to_json()
    data["prices"].append({"sku": "s3.storage.standard", "region": "eu-central-1", "usd": "0.0245", "unit": "GB-month",
                           "source": data["prices"][0]["source"], "asOf": "2026-11-26"})
    report = _prod_report(prod_graph, catalogue_from_json(data))
    (replica,) = [line for line in report.lines if line.resource == "fraud-detection-artifacts-replica-bucket"]
    assert (replica.region, replica.unit_usd, f"{replica.monthly:.2f}") == ("eu-central-1", Decimal("0.0245"), "19.60")


def test_provider_reference_with_an_id_and_a_provider_without_region():
    data = json.loads(GRAPH.read_text())
    bucket = next(r for r in data["resources"] if r["name"] == "pricing-lab-artifacts-bucket")
    key = next(r for r in data["resources"] if r["name"] == "pricing-lab-artifacts-key")
    partner = "urn:pulumi:lab::ml-estate::pulumi:providers:aws::partner"
    regionless = "urn:pulumi:lab::ml-estate::pulumi:providers:aws::default"
    data["resources"] += [
        {"urn": partner, "type": "pulumi:providers:aws", "name": "partner", "inputs": {"region": "eu-central-1"}},
        {"urn": regionless, "type": "pulumi:providers:aws", "name": "default", "inputs": {}},
    ]
    bucket["provider"] = partner + "::0d5e2c1a-id"  # previews and exports write URN::ID
    key["provider"] = regionless
    report = _lab_report(ResourceGraph.from_json(data), region="us-east-1")
    (line,) = [line for line in report.lines if line.resource == "pricing-lab-artifacts-bucket"]
    assert (line.region, line.status) == ("eu-central-1", "unknown-price")
    (line,) = [line for line in report.lines if line.resource == "pricing-lab-artifacts-key"]
    assert (line.region, line.status) == ("us-east-1", "priced")  # no region input: the stack's


# ---------------------------------------------------------------- retired endpoints

def test_retired_endpoint_is_not_reported_as_unpriced(prod_graph):
    report = _prod_report(prod_graph)
    assert not [w for w in report.warnings if "summariser-v1" in w]
    assert not [w for w in report.warnings if "has no priced resource" in w]


def test_a_live_endpoint_missing_from_the_plan_is_still_reported(prod_graph):
    graph = copy.deepcopy(prod_graph)
    for urn in [urn for urn, r in graph.resources.items() if r.name == "nlp-research-endpoint-embedder-config"]:
        del graph.resources[urn]
    contexts, warnings = load_team_contexts(graph, "prod")
    report = price_graph(graph, load_catalogue(), "eu-west-1", "prod", contexts, warnings)
    assert ("nlp-research: endpoint embedder has no priced resource in the plan; its cost is not included"
            in report.warnings)


# ---------------------------------------------------------------- money, and the CI cost stage

def test_money_has_one_definition():
    assert ci_summary.money is money.usd
    assert cost_report_module.usd is money.usd
    assert money.usd(Decimal("1286.69"), signed=True) == "+$1,286.69"
    assert money.usd(Decimal("-1286.694"), signed=True) == "-$1,286.69"
    assert money.usd(None) == "UNKNOWN"


def _ci_outcome(tmp_path: Path, unpriced_cost: str, budget: int, changed: bool = False) -> CiOutcome:
    """The cost stage on the pricing-lab plan (priced in us-east-1), with the team's budget
    set to ``budget``; ``changed`` doubles the scorer's capacity against the base."""
    teams = tmp_path / f"teams-{unpriced_cost}-{budget}"
    teams.mkdir()
    (teams / SPEC.name).write_text(SPEC.read_text().replace("monthlyUsd: 2000", f"monthlyUsd: {budget}"))
    base = load_graph(GRAPH)
    data = json.loads(GRAPH.read_text())
    if changed:
        for resource in data["resources"]:
            if resource["name"] == "pricing-lab-scorer-scaling":
                resource["inputs"].update(minCapacity=4, maxCapacity=20)
    head = ResourceGraph.from_json(data)
    stack = load_stack_config("dev").model_copy(update={"unpriced_cost": unpriced_cost, "region": "us-east-1"})
    options = CiOptions(stack="dev", base_plan=str(GRAPH) if changed else None)
    diff = diff_graphs(base, head) if changed else None
    context = CiContext(options, stack, [load_spec_file(teams / SPEC.name)], None, head, base if changed else None, diff)
    return CiOutcome(options, [], context, [cost_stage(context)], {})


def test_ci_cost_stage_warns_when_the_budget_cannot_be_confirmed(tmp_path):
    outcome = _ci_outcome(tmp_path, "warn", 100000, changed=True)
    (stage,) = outcome.stages
    assert stage.ok
    assert stage.headline == ("$2,301.43/month planned, change +$839.50/month; :warning: budget cannot be confirmed "
                              "for 1 team(s) (pricing-lab): 3 unpriced line(s) (mlplatform:unpricedCost: warn)")
    text = ci_summary.render_summary(outcome)
    assert ":white_check_mark: **may merge**" in text
    brief = text.split("### Cost", 1)[1]
    assert "> :warning: **Budget cannot be confirmed** for 1 team(s)" in brief
    assert "this is a warning on this stack (`mlplatform:unpricedCost: warn`)" in brief
    assert ("- `pricing-lab` `pricing-lab-fg-events-v1-group` write units: no sourced price for featurestore.write in "
            "us-east-1 (catalogue: No Feature Store unit price") in brief
    assert ("| `pricing-lab` | $2,301.43/month (3 unpriced) | +$839.50 | :warning: budget cannot be confirmed "
            "(3 unpriced), 2.3% of $100,000.00 |") in brief
    assert "- `pricing-lab-scorer-config` (changed): +$839.50/month" in brief


def test_ci_cost_stage_over_budget_blocks_whatever_the_setting(tmp_path):
    (stage,) = _ci_outcome(tmp_path, "warn", 2000, changed=True).stages
    assert not stage.ok
    assert stage.headline == "$2,301.43/month planned, change +$839.50/month; 1 team(s) over budget"


def test_ci_cost_stage_block_fails_on_unpriced_lines_alone(tmp_path):
    warn = _ci_outcome(tmp_path, "warn", 100000)
    block = _ci_outcome(tmp_path, "block", 100000)
    assert warn.stages[0].ok and not block.stages[0].ok
    (stage,) = block.stages
    assert stage.data["guard"] == {"unpricedCost": "block", "blocking": True, "over": [], "unconfirmed": ["pricing-lab"]}
    assert stage.headline == ("$1,461.93/month planned; :x: budget cannot be confirmed for 1 team(s) (pricing-lab): "
                              "3 unpriced line(s) (mlplatform:unpricedCost: block)")
    text = ci_summary.render_summary(block)
    assert ":x: **blocked**" in text
    brief = text.split("### Cost", 1)[1]
    assert "> :x: **Budget cannot be confirmed** for 1 team(s)" in brief
    assert "this blocks this change (`mlplatform:unpricedCost: block`)" in brief
    for item in ("online store storage", "online store read units", "write units"):
        assert f"- `pricing-lab` `pricing-lab-fg-events-v1-group` {item}: no sourced price for" in brief
