"""AWS acceptance: planned values against botocore's service models, and the type map's coverage."""

from __future__ import annotations

import json

import pytest

from mlplatform.capture import capture_stack
from mlplatform.graph import UNKNOWN, GraphResource, ResourceGraph, SourceRef
from mlplatform.reports.findings import FAILED, PASSED
from mlplatform.stackconfig import load_stack_config
from mlplatform.verify import acceptance
from mlplatform.verify.acceptance import AcceptanceError, load_map, resolve_member, run, violations


def _graph(*resources: GraphResource) -> ResourceGraph:
    graph = ResourceGraph(stack="dev", project="ml-estate", origin="resolved")
    for resource in resources:
        graph.add(resource)
    return graph


def _model(name: str, **inputs) -> GraphResource:
    return GraphResource(urn=f"urn:pulumi:dev::ml-estate::aws:sagemaker/model:Model::{name}",
                         type="aws:sagemaker/model:Model", name=name, inputs={"name": name, **inputs},
                         source=SourceRef("examples/teams/fraud-detection.yaml", 42), simulated=["name"])


def _failures(outcome, rule_id):
    return [r for r in outcome.results if r.status == FAILED and r.rule.id == rule_id]


def test_a_name_over_the_apis_maximum_length_fails_with_the_spec_position():
    outcome = run(_graph(_model("m" * 64)))
    [finding] = _failures(outcome, "MLP-AWS-001")
    assert "64 characters, at most 63" in finding.message
    assert "sagemaker:CreateModel:ModelName" in finding.message
    assert "simulated" in finding.message  # the autoname is what AWS would reject
    assert (finding.file, finding.line) == ("examples/teams/fraud-detection.yaml", 42)


def test_a_name_within_the_limits_passes():
    outcome = run(_graph(_model("m" * 63, executionRoleArn="arn:aws:iam::111122223333:role/serving")))
    assert not [r for r in outcome.results if r.status == FAILED]
    assert {r.rule.id for r in outcome.results if r.status == PASSED} >= {"MLP-AWS-001", "MLP-AWS-002", "MLP-AWS-003"}
    assert outcome.values_checked == 2


def test_a_value_outside_the_pattern_fails():
    outcome = run(_graph(_model("bad_name!")))
    [finding] = _failures(outcome, "MLP-AWS-002")
    assert "does not match" in finding.message


def test_a_value_outside_the_enum_fails():
    config = GraphResource(
        urn="urn:pulumi:dev::ml-estate::aws:sagemaker/endpointConfiguration:EndpointConfiguration::c",
        type="aws:sagemaker/endpointConfiguration:EndpointConfiguration", name="c",
        inputs={"name": "c", "productionVariants": [{"variantName": "v", "instanceType": "ml.bogus.xlarge"}]})
    [finding] = _failures(run(_graph(config)), "MLP-AWS-003")
    assert "productionVariants[0].instanceType" in finding.message


def test_a_number_outside_the_range_fails():
    role = GraphResource(urn="urn:pulumi:dev::ml-estate::aws:iam/role:Role::r", type="aws:iam/role:Role", name="r",
                         inputs={"name": "r", "maxSessionDuration": 60})
    [finding] = _failures(run(_graph(role)), "MLP-AWS-004")
    assert "below the minimum 3600" in finding.message


def test_limits_botocore_lacks_come_from_the_documented_section():
    bucket = GraphResource(urn="urn:pulumi:dev::ml-estate::aws:s3/bucket:Bucket::b", type="aws:s3/bucket:Bucket",
                           name="b", inputs={"bucket": "Upper_Case-bucket"})
    [finding] = _failures(run(_graph(bucket)), "MLP-AWS-002")
    assert "bucket naming rules" in finding.message


def test_unknown_values_are_counted_not_passed():
    outcome = run(_graph(_model("m", executionRoleArn=UNKNOWN)))
    assert outcome.unknown_values == 1 and outcome.values_checked == 1


def test_violations_reads_each_kind_of_limit():
    limits = resolve_member("sagemaker", "CreateModel", "ModelName")
    assert (limits.max, limits.type_name) == (63, "string")
    assert violations("ok-name", limits) == []
    assert [kind for kind, _ in violations("x" * 64, limits)] == ["length"]


def test_an_unmapped_type_is_a_named_error_never_a_pass():
    thing = GraphResource(urn="urn:pulumi:dev::ml-estate::aws:ec2/instance:Instance::i", type="aws:ec2/instance:Instance",
                          name="i")
    with pytest.raises(AcceptanceError, match="aws:ec2/instance:Instance"):
        run(_graph(thing))


def test_a_missing_botocore_model_or_operation_is_a_named_error(tmp_path):
    data = json.loads(acceptance.MAP_FILE.read_text())
    data["types"]["aws:sagemaker/model:Model"]["service"] = "no-such-service"
    broken = tmp_path / "map.json"
    broken.write_text(json.dumps(data))
    with pytest.raises(AcceptanceError, match="no service model 'no-such-service'"):
        run(_graph(_model("m")), map_path=str(broken))
    data["types"]["aws:sagemaker/model:Model"].update(service="sagemaker", operation="CreateNothing")
    broken = tmp_path / "map-2.json"  # maps are cached by path
    broken.write_text(json.dumps(data))
    with pytest.raises(AcceptanceError, match="no operation 'CreateNothing'"):
        run(_graph(_model("m")), map_path=str(broken))


def test_every_mapping_names_a_member_of_botocores_model():
    api_map = load_map()
    for type_token in api_map.types:
        assert acceptance.field_checks(type_token)  # raises AcceptanceError on a bad member


@pytest.fixture(scope="module")
def shipped_types(dev_graph, prod_graph) -> set[str]:
    staging = capture_stack("staging")
    return {r.type for graph in (dev_graph, staging, prod_graph) for r in graph}


def test_every_type_of_the_shipped_plans_is_mapped_or_listed_with_a_reason(shipped_types):
    api_map = load_map()
    missing = sorted(t for t in shipped_types if t not in api_map.types and not api_map.reason_unchecked(t))
    assert missing == []
    assert all(reason.strip() for reason in [*api_map.unchecked.values(), *api_map.unchecked_prefixes.values()])


def test_the_checker_runs_on_the_shipped_resolved_plan():
    from mlplatform.verify.resolve import capture_resolved

    stack = load_stack_config("dev")
    outcome = run(capture_resolved("dev", stack_config=stack))
    assert outcome.unknown_values == 0
    assert outcome.values_checked > 500
    assert acceptance.check(capture_resolved("dev", stack_config=stack), stack)  # the registered entry point
