"""The flows checker on the resolved prod plan: each flow kind passes where the estate is
wired right and fails (naming the missing permission or mismatched location) on a mutated
copy; the flows the shipped estate still gets wrong fail here too (issue 14's defects)."""

from __future__ import annotations

import copy
import json

import pytest

from components.artifact_store import artifact_bucket_name
from mlplatform.graph import UNKNOWN, ResourceGraph
from mlplatform.reports.findings import FAILED, PASSED
from mlplatform.stackconfig import load_stack_config
from mlplatform.verify.checkers import load_checker
from mlplatform.verify.flows import check
from mlplatform.verify.resolve import capture_resolved

PROD = load_stack_config("prod")
ACCOUNT = PROD.account_id
FRAUD_BUCKET = artifact_bucket_name(PROD, "fraud-detection")


@pytest.fixture(scope="module")
def stack():
    return load_stack_config("prod")


@pytest.fixture(scope="module")
def resolved(stack) -> ResourceGraph:
    return capture_resolved("prod", stack_config=stack)


@pytest.fixture
def graph(resolved) -> ResourceGraph:
    """A private copy each test may mutate."""
    return copy.deepcopy(resolved)


def results(graph, stack, rule_id):
    return [r for r in check(graph, stack) if r.rule.id == rule_id]


def named(items, name):
    found = [r for r in items if r.resource_name == name]
    assert found, f"no result for {name}: {[r.resource_name for r in items]}"
    return found[0]


def resource(graph, name):
    """The AWS resource of that name (a component may share its child's name)."""
    return next(r for r in graph.resources.values() if r.name == name and r.custom)


def edit_policy(res, prop, change):
    document = json.loads(res.inputs[prop])
    change(document["Statement"])
    res.inputs[prop] = json.dumps(document)


def drop_sid(sid):
    return lambda statements: statements.__setitem__(slice(None), [s for s in statements if s.get("Sid") != sid])


def test_registered_in_the_verify_checker_registry():
    assert load_checker("flows") is check


# ---------------------------------------------------------------- MLP-FLOW-CAPTURE (defect 1)

def test_capture_passes_on_the_shipped_estate(graph, stack):
    """Defect 1 fixed: the capture destination, DRIFT_CAPTURE_PREFIX and the readers'
    policies come from one function, so writer and readers meet."""
    capture = results(graph, stack, "MLP-FLOW-CAPTURE")
    assert [r.message for r in capture if r.status != PASSED] == []
    assert len(capture) == 7  # 3 writers, 2 drift Lambdas, 2 Model Monitor jobs


def test_capture_readers_fail_when_the_destination_names_the_endpoint_again(graph, stack):
    """Defect 1 as shipped before the fix: the destination ended in ``<endpoint>/`` and
    SageMaker appends the endpoint name below it, so nobody reads where it writes."""
    config = resource(graph, "fraud-detection-endpoint-scorer-config")
    config.inputs["dataCaptureConfig"]["destinationS3Uri"] = f"s3://{FRAUD_BUCKET}/data-capture/scorer/"
    capture = results(graph, stack, "MLP-FLOW-CAPTURE")
    drift = named(capture, "fraud-detection-observability-scorer-drift-fn")
    assert drift.status == FAILED
    assert (f"writes s3://{FRAUD_BUCKET}/data-capture/scorer/fraud-detection-prod-scorer/primary/ "
            f"but drift Lambda reads s3://{FRAUD_BUCKET}/data-capture/fraud-detection-prod-scorer/"
            "primary/") in drift.message
    assert drift.file == "examples/teams/fraud-detection.yaml" and drift.line
    monitor = named(capture, "fraud-detection-observability-scorer-drift-data-quality")
    assert monitor.status == FAILED
    assert "fraud-detection-prod-scorer-model-monitor is not allowed s3:ListBucket" in monitor.message
    assert named(capture, "fraud-detection-endpoint-scorer-config").status == PASSED  # the writer itself may write


def test_capture_with_an_unknown_bucket_policy_is_unproven_not_passed(graph, stack):
    resource(graph, "fraud-detection-artifacts-policy").inputs["policy"] = UNKNOWN
    writer = named(results(graph, stack, "MLP-FLOW-CAPTURE"), "fraud-detection-endpoint-scorer-config")
    assert writer.status == FAILED
    assert writer.message.startswith("unproven:")
    assert f"bucket policy of {FRAUD_BUCKET} is unknown" in writer.message


# ---------------------------------------------------------------- MLP-FLOW-MODELS

def test_models_flow_passes_for_the_serving_role(graph, stack):
    models = results(graph, stack, "MLP-FLOW-MODELS")
    assert models and all(r.status == PASSED for r in models), [r.message for r in models]


def test_models_flow_fails_when_the_model_runs_as_a_role_the_bucket_does_not_let_download(graph, stack):
    model = resource(graph, "nlp-research-endpoint-embedder-model")
    model.inputs["executionRoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/nlp-research-prod-consumer"
    result = named(results(graph, stack, "MLP-FLOW-MODELS"), "nlp-research-endpoint-embedder-model")
    assert result.status == FAILED
    assert (f"explicitly denied by bucket policy of {artifact_bucket_name(PROD, 'nlp-research')} "
            "statement RestrictModelDownload") \
        in result.message


# ---------------------------------------------------------------- MLP-FLOW-BATCH-KEY (defect 3)

def test_batch_key_passes_on_the_planned_estate(graph, stack):
    """Defect 3 fixed: the artifact keys grant Batch's launching service-linked roles."""
    batch = results(graph, stack, "MLP-FLOW-BATCH-KEY")
    assert len(batch) == 4 and [r.message for r in batch if r.status != PASSED] == []


def test_batch_key_fails_without_the_service_linked_roles_in_the_key_policy(graph, stack):
    """The estate as shipped before the fix: the key only delegates to IAM."""
    for name in ("fraud-detection-artifacts-key", "nlp-research-artifacts-key"):
        for sid in ("EbsLaunchersUse", "EbsLaunchersCreateGrant"):
            edit_policy(resource(graph, name), "policy", drop_sid(sid))
    batch = results(graph, stack, "MLP-FLOW-BATCH-KEY")
    assert len(batch) == 4 and all(r.status == FAILED for r in batch)
    spot = named(batch, "fraud-detection-queue-gpu-ce-spot")
    assert "AWSServiceRoleForAutoScaling is not allowed kms:CreateGrant" in spot.message
    assert "AWSServiceRoleForEC2Spot is not allowed kms:GenerateDataKeyWithoutPlaintext" in spot.message


def test_batch_key_grant_without_the_aws_resource_condition_value_fails(graph, stack):
    slr = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    grant = [{"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": slr}, "Resource": "*",
              "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]},
             {"Sid": "Grant", "Effect": "Allow", "Principal": {"AWS": slr}, "Resource": "*",
              "Action": "kms:CreateGrant", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "false"}}}]
    key = resource(graph, "fraud-detection-artifacts-key")
    for sid in ("EbsLaunchersUse", "EbsLaunchersCreateGrant"):
        edit_policy(key, "policy", drop_sid(sid))
    edit_policy(key, "policy", lambda s: s.extend(grant))
    on_demand = named(results(graph, stack, "MLP-FLOW-BATCH-KEY"), "fraud-detection-queue-gpu-ce-on-demand")
    assert on_demand.status == FAILED
    assert "kms:CreateGrant" in on_demand.message and "kms:Encrypt" not in on_demand.message


# ---------------------------------------------------------------- MLP-FLOW-RETRAIN (defect 2)

RULES_ROLE = f"arn:aws:iam::{ACCOUNT}:role/fraud-detection-prod-scorer-retrain-events"
MACHINE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/fraud-detection-prod-scorer-retrain-sfn"
MACHINE_ARN = f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:fraud-detection-prod-scorer-retrain"
QUEUE_ARN = f"arn:aws:batch:eu-west-1:{ACCOUNT}:job-queue/fraud-detection-prod-gpu-train"
DEFINITION = "fraud-detection-prod-fraud-scorer-retrain"
DEFINITION_ARN = f"arn:aws:batch:eu-west-1:{ACCOUNT}:job-definition/{DEFINITION}"
TASK = "state machine fraud-detection-prod-scorer-retrain task SubmitRetrainingJob: "
SCHEDULE_TARGET = "fraud-detection-observability-scorer-retraining-schedule-target"
DRIFT_TARGET = "fraud-detection-observability-scorer-retraining-on-drift-target"


def edit_task(graph, change):
    """Change the Parameters of the machine's SubmitJob task."""
    machine = resource(graph, "fraud-detection-observability-scorer-retraining-sfn")
    definition = json.loads(machine.inputs["definition"])
    change(definition["States"]["SubmitRetrainingJob"]["Parameters"])
    machine.inputs["definition"] = json.dumps(definition)


def retraining(graph, stack):
    retrain = results(graph, stack, "MLP-FLOW-RETRAIN")
    assert sorted(r.resource_name for r in retrain) == [DRIFT_TARGET, SCHEDULE_TARGET]
    return retrain


def test_retraining_through_step_functions_passes_on_the_shipped_estate(graph, stack):
    """Defect 2 fixed: both rules start the machine, whose task carries the share and priority
    to a queue and job definition of the plan, each leg's role trusted and allowed."""
    for result in retraining(graph, stack):
        assert result.status == PASSED, result.message
        # events assume + StartExecution, states assume + SubmitJob on definition and queue
        assert result.message.endswith("starts state machine fraud-detection-prod-scorer-retrain: "
                                       "5 request(s) decided as expected")


def test_retraining_through_the_eventbridge_batch_target_fails(graph, stack):
    """Defect 2 as shipped before the fix: the rules targeted the fair-share queue directly."""
    for name in (SCHEDULE_TARGET, DRIFT_TARGET):
        target = resource(graph, name)
        target.inputs["arn"] = QUEUE_ARN
        target.inputs["batchTarget"] = {"jobDefinition": "fraud-scorer-retrain", "jobName": "scorer-retrain"}
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert ("job queue fraud-detection-prod-gpu-train is fair-share (it has a scheduling policy) and Batch "
                "rejects jobs without shareIdentifier, which EventBridge batchTarget (BatchParameters has no "
                "shareIdentifier) cannot carry") in result.message
        assert "job definition fraud-scorer-retrain is not created by this plan" in result.message


def test_retraining_task_without_a_share_identifier_fails(graph, stack):
    edit_task(graph, lambda parameters: parameters.pop("ShareIdentifier"))
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert (TASK + "job queue fraud-detection-prod-gpu-train is fair-share but the submission has no "
                "ShareIdentifier") in result.message
        # and the role may submit only with the team's share
        assert (f"{MACHINE_ROLE} is not allowed batch:SubmitJob on {DEFINITION_ARN}: no identity or resource "
                "policy allows it") in result.message
        assert "StringEquals batch:ShareIdentifier ['fraudDetection']: key absent" in result.message


def test_retraining_with_a_share_the_scheduling_policy_does_not_know_fails(graph, stack):
    edit_task(graph, lambda parameters: parameters.update(ShareIdentifier="someoneElse"))
    # the role allows that share, so only the queue's scheduling policy stands in the way
    edit_policy(resource(graph, "fraud-detection-observability-scorer-retraining-sfn-policy"), "policy",
                lambda s: s[0]["Condition"]["StringEquals"].update({"batch:ShareIdentifier": "someoneElse"}))
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert result.message.endswith(
            TASK + "share identifier someoneElse is not in the scheduling policy's shares ['fraudDetection']")


def test_retraining_task_without_a_scheduling_priority_fails(graph, stack):
    edit_task(graph, lambda parameters: parameters.pop("SchedulingPriorityOverride"))
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert result.message.endswith(TASK + "job queue fraud-detection-prod-gpu-train is fair-share but the "
                                       "submission has no SchedulingPriorityOverride")


def test_retraining_with_a_priority_batch_does_not_accept_fails(graph, stack):
    edit_task(graph, lambda parameters: parameters.update(SchedulingPriorityOverride=10000))
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert result.message.endswith(TASK + "SchedulingPriorityOverride 10000 is not an integer in 0-9999")


def test_retraining_machine_role_without_submit_job_fails(graph, stack):
    edit_policy(resource(graph, "fraud-detection-observability-scorer-retraining-sfn-policy"), "policy",
                lambda s: s.__setitem__(slice(None), [x for x in s if x["Action"] != "batch:SubmitJob"]))
    for result in retraining(graph, stack):
        assert result.status == FAILED
        for arn in (DEFINITION_ARN, QUEUE_ARN):
            assert (f"{MACHINE_ROLE} is not allowed batch:SubmitJob on {arn}: no identity or resource policy "
                    "allows it") in result.message


def test_retraining_machine_role_scoped_to_another_queue_fails_on_the_queue_only(graph, stack):
    other = f"arn:aws:batch:eu-west-1:{ACCOUNT}:job-queue/nlp-research-prod-pretrain-train"
    edit_policy(resource(graph, "fraud-detection-observability-scorer-retraining-sfn-policy"), "policy",
                lambda s: s[0].update(Resource=[r if "job-queue" not in r else other for r in s[0]["Resource"]]))
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert f"is not allowed batch:SubmitJob on {QUEUE_ARN}" in result.message
        assert f"batch:SubmitJob on {DEFINITION_ARN}:" not in result.message


def test_retraining_with_a_job_definition_the_plan_does_not_create_fails(graph, stack):
    definition = resource(graph, "fraud-detection-queue-gpu-retrain-job-definition-fraud-scorer-retrain")
    del graph.resources[definition.urn]
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert result.message.endswith(TASK + f"job definition {DEFINITION} is not created by this plan")


def test_retraining_job_definition_named_by_arn_or_pinned_revision(graph, stack):
    """The task may name the definition by ARN, with or without revision; SubmitJob is then
    authorized on the form it names, so a pinned revision needs the role's ``:*`` resource."""
    edit_task(graph, lambda parameters: parameters.update(JobDefinition=DEFINITION_ARN))
    assert all(r.status == PASSED for r in retraining(graph, stack))
    edit_task(graph, lambda parameters: parameters.update(JobDefinition=f"{DEFINITION}:3"))
    assert all(r.status == PASSED for r in retraining(graph, stack))
    edit_policy(resource(graph, "fraud-detection-observability-scorer-retraining-sfn-policy"), "policy",
                lambda s: s[0].update(Resource=[r for r in s[0]["Resource"] if not r.endswith(":*")]))
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert f"{MACHINE_ROLE} is not allowed batch:SubmitJob on {DEFINITION_ARN}:3" in result.message


def test_retraining_rules_role_without_start_execution_fails(graph, stack):
    edit_policy(resource(graph, "fraud-detection-observability-scorer-retraining-policy"), "policy",
                drop_sid_action("states:StartExecution"))
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert result.message == (
            f"{result.message.split(': ', 1)[0]}: {RULES_ROLE} is not allowed states:StartExecution on {MACHINE_ARN}: "
            "no identity or resource policy allows it")


def drop_sid_action(action):
    return lambda statements: statements.__setitem__(slice(None), [s for s in statements if s["Action"] != action])


def test_retraining_rules_role_trusting_only_one_rule_fails_for_the_other(graph, stack):
    """aws:SourceArn is the rule's ARN: a trust policy that names only the schedule rule does
    not let EventBridge assume the role for the drift rule."""
    schedule_rule = f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/fraud-detection-prod-scorer-retrain-schedule"
    edit_policy(resource(graph, "fraud-detection-observability-scorer-retraining-role"), "assumeRolePolicy",
                lambda s: s[0]["Condition"]["ArnEquals"].update({"aws:SourceArn": schedule_rule}))
    retrain = retraining(graph, stack)
    assert named(retrain, SCHEDULE_TARGET).status == PASSED
    drift = named(retrain, DRIFT_TARGET)
    assert drift.status == FAILED
    assert ("service events.amazonaws.com is not allowed sts:AssumeRole on "
            f"{RULES_ROLE}: no resource-policy statement allows the service") in drift.message


def test_retraining_machine_role_trusting_another_machine_fails(graph, stack):
    other = f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:someone-else"
    edit_policy(resource(graph, "fraud-detection-observability-scorer-retraining-sfn-role"), "assumeRolePolicy",
                lambda s: s[0]["Condition"]["ArnEquals"].update({"aws:SourceArn": other}))
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert f"service states.amazonaws.com is not allowed sts:AssumeRole on {MACHINE_ROLE}" in result.message


def test_retraining_target_naming_a_machine_the_plan_does_not_create_fails(graph, stack):
    machine = resource(graph, "fraud-detection-observability-scorer-retraining-sfn")
    del graph.resources[machine.urn]
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert "state machine fraud-detection-prod-scorer-retrain is not created by this plan" in result.message


def test_retraining_machine_without_a_submit_job_task_fails(graph, stack):
    machine = resource(graph, "fraud-detection-observability-scorer-retraining-sfn")
    definition = json.loads(machine.inputs["definition"])
    definition["States"]["SubmitRetrainingJob"] = {"Type": "Pass", "End": True}
    machine.inputs["definition"] = json.dumps(definition)
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert result.message.endswith("state machine fraud-detection-prod-scorer-retrain has no batch:submitJob task")


def test_retraining_queue_taken_from_the_execution_input_is_unproven(graph, stack):
    edit_task(graph, lambda parameters: parameters.update({"JobQueue.$": "$.queue"}) or parameters.pop("JobQueue"))
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert result.message.startswith("unproven:") or "also unproven:" in result.message
        assert TASK + "JobQueue computed at run time" in result.message


def test_retraining_with_an_unknown_definition_is_unproven(graph, stack):
    resource(graph, "fraud-detection-observability-scorer-retraining-sfn").inputs["definition"] = UNKNOWN
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert result.message.endswith(
            "the definition of state machine fraud-detection-prod-scorer-retrain is unknown in this plan")
        assert result.message.startswith("unproven:")


def test_retraining_sync_task_needs_what_run_a_job_does(graph, stack):
    """A .sync task also describes and may terminate the job and manages Step Functions'
    Batch events rule; the shipped role (request-response) has none of that."""
    machine = resource(graph, "fraud-detection-observability-scorer-retraining-sfn")
    definition = json.loads(machine.inputs["definition"])
    definition["States"]["SubmitRetrainingJob"]["Resource"] = "arn:aws:states:::batch:submitJob.sync"
    machine.inputs["definition"] = json.dumps(definition)
    rule = f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/StepFunctionsGetEventsForBatchJobsRule"
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert f"{MACHINE_ROLE} is not allowed batch:DescribeJobs on *" in result.message
        assert f"{MACHINE_ROLE} is not allowed events:PutRule on {rule}" in result.message
        assert "batch:SubmitJob" not in result.message


def test_retraining_share_identifier_on_a_queue_without_scheduling_policy_fails(graph, stack):
    queue = resource(graph, "fraud-detection-queue-gpu-job-queue")
    del queue.inputs["schedulingPolicyArn"]
    for result in retraining(graph, stack):
        assert result.status == FAILED
        assert result.message.endswith(TASK + "job queue fraud-detection-prod-gpu-train has no scheduling policy but "
                                       "the submission sends ShareIdentifier fraudDetection, which Batch rejects")


def _scheduler_submission(graph, share):
    """Add an EventBridge Scheduler universal target that submits with the machine's role,
    trusted by Scheduler for that schedule (the path the checker also proves)."""
    from mlplatform.graph import GraphResource
    schedule_arn = f"arn:aws:scheduler:eu-west-1:{ACCOUNT}:schedule/default/fraud-detection-prod-scorer-retrain"
    edit_policy(resource(graph, "fraud-detection-observability-scorer-retraining-sfn-role"), "assumeRolePolicy",
                lambda s: (s[0]["Principal"].update(Service="scheduler.amazonaws.com"),
                           s[0]["Condition"]["ArnEquals"].update({"aws:SourceArn": schedule_arn})))
    machine = resource(graph, "fraud-detection-observability-scorer-retraining-sfn")
    urn = machine.urn.replace("aws:sfn/stateMachine:StateMachine::", "aws:scheduler/schedule:Schedule::")
    graph.add(GraphResource(urn=urn, type="aws:scheduler/schedule:Schedule", name="retrain-schedule", parent=machine.parent,
                            inputs={"name": "fraud-detection-prod-scorer-retrain", "scheduleExpression": "rate(7 days)",
                                    "target": {"arn": "arn:aws:scheduler:::aws-sdk:batch:submitJob",
                                               "roleArn": MACHINE_ROLE,
                                               "input": json.dumps({"JobName": "scorer-retrain", "JobQueue": QUEUE_ARN,
                                                                    "JobDefinition": DEFINITION, "ShareIdentifier": share,
                                                                    "SchedulingPriorityOverride": 70})}}))


def test_retraining_through_scheduler_with_the_share_identifier_passes(graph, stack):
    _scheduler_submission(graph, "fraudDetection")
    schedule = named(results(graph, stack, "MLP-FLOW-RETRAIN"), "retrain-schedule")
    assert schedule.status == PASSED, schedule.message
    assert schedule.message.endswith("3 request(s) decided as expected")


def test_retraining_through_scheduler_with_a_share_the_policy_does_not_know_fails(graph, stack):
    _scheduler_submission(graph, "someoneElse")
    schedule = named(results(graph, stack, "MLP-FLOW-RETRAIN"), "retrain-schedule")
    assert schedule.status == FAILED
    assert "share identifier someoneElse is not in the scheduling policy's shares ['fraudDetection']" in schedule.message
    assert f"{MACHINE_ROLE} is not allowed batch:SubmitJob on {QUEUE_ARN}" in schedule.message


# ---------------------------------------------------------------- MLP-FLOW-FIREHOSE-BACKUP

def test_firehose_backup_passes(graph, stack):
    firehose = results(graph, stack, "MLP-FLOW-FIREHOSE-BACKUP")
    assert len(firehose) == 3 and all(r.status == PASSED for r in firehose), [r.message for r in firehose]


def test_firehose_backup_fails_without_the_roles_kms_statement(graph, stack):
    policy = resource(graph, "fraud-detection-observability-forwarding-firehose-policy")
    edit_policy(policy, "policy", lambda s: s.__setitem__(slice(None), [x for x in s if "kms:Decrypt" not in x["Action"]]))
    result = named(results(graph, stack, "MLP-FLOW-FIREHOSE-BACKUP"), "fraud-detection-observability-forwarding-stream")
    assert result.status == FAILED
    assert "fraud-detection-prod-log-forwarding is not allowed kms:GenerateDataKey" in result.message
    assert "delegates to IAM but no identity policy allows it" in result.message


# ---------------------------------------------------------------- MLP-FLOW-CLOUDTRAIL

def test_cloudtrail_flows_pass(graph, stack):
    trail = results(graph, stack, "MLP-FLOW-CLOUDTRAIL")
    assert len(trail) == 3 and all(r.status == PASSED for r in trail), [r.message for r in trail]


def test_cloudtrail_fails_when_the_bucket_policy_loses_the_write_statement(graph, stack):
    edit_policy(resource(graph, "platform-trail-bucket-policy"), "policy", drop_sid("CloudTrailWrite"))
    trail = results(graph, stack, "MLP-FLOW-CLOUDTRAIL")
    delivery = [r for r in trail if "delivers log files" in r.message][0]
    assert delivery.status == FAILED
    assert "service cloudtrail.amazonaws.com is not allowed s3:PutObject" in delivery.message


def test_cloudtrail_fails_when_the_key_condition_names_another_trail(graph, stack):
    def other_trail(statements):
        for s in statements:
            if s.get("Sid") == "CloudTrailEncryptsLogs":
                s["Condition"]["StringEquals"]["aws:SourceArn"] = f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/x"
    edit_policy(resource(graph, "platform-key"), "policy", other_trail)
    delivery = [r for r in results(graph, stack, "MLP-FLOW-CLOUDTRAIL") if "delivers log files" in r.message][0]
    assert delivery.status == FAILED and "kms:GenerateDataKey" in delivery.message


# ---------------------------------------------------------------- MLP-FLOW-ACCESS-LOGS

def test_access_logs_pass(graph, stack):
    logs = results(graph, stack, "MLP-FLOW-ACCESS-LOGS")
    assert len(logs) == 9 and all(r.status == PASSED for r in logs), [r.message for r in logs]


def test_access_logs_fail_for_a_kms_target_and_an_unlisted_source(graph, stack):
    encryption = resource(graph, "platform-access-logs-encryption")
    encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "aws:kms"}
    edit_policy(resource(graph, "platform-access-logs-policy"), "policy", lambda s: [
        x["Condition"]["ArnLike"].update({"aws:SourceArn": ["arn:aws:s3:::someone-else"]})
        for x in s if x.get("Sid") == "S3ServerAccessLogsDelivery"])
    result = named(results(graph, stack, "MLP-FLOW-ACCESS-LOGS"), "fraud-detection-artifacts-access-logging")
    assert result.status == FAILED
    assert "supports only SSE-S3" in result.message
    assert "service logging.s3.amazonaws.com is not allowed s3:PutObject" in result.message


# ---------------------------------------------------------------- MLP-FLOW-FEATURES-ABAC

def test_feature_abac_passes(graph, stack):
    features = results(graph, stack, "MLP-FLOW-FEATURES-ABAC")
    assert len(features) == 3 and all(r.status == PASSED for r in features), [r.message for r in features]


def test_feature_abac_fails_when_a_pii_group_would_be_readable_without_pii_access(graph, stack):
    policy = resource(graph, "fraud-detection-identity-consumer-feature-access")
    edit_policy(policy, "policy", lambda s: s.__setitem__(slice(None), [
        x for x in s if x.get("Sid") not in ("DenyPiiOfflineWithoutPiiAccess",)]
        + [{"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{FRAUD_BUCKET}/feature-store/*"}]))
    result = named(results(graph, stack, "MLP-FLOW-FEATURES-ABAC"), "fraud-detection-fg-transactions-v2-group")
    assert result.status == FAILED
    assert "without pii-access: s3:GetObject" in result.message and "must be denied" in result.message


def test_feature_abac_fails_when_the_group_tag_disagrees_with_the_policy(graph, stack):
    group = resource(graph, "fraud-detection-fg-transactions-v2-group")
    group.inputs["tags"] = {"pii": "false"}
    group.effective_tags = dict(group.effective_tags, pii="false")
    result = named(results(graph, stack, "MLP-FLOW-FEATURES-ABAC"), "fraud-detection-fg-transactions-v2-group")
    assert result.status == FAILED
    assert "is not allowed sagemaker:GetRecord" in result.message


# ---------------------------------------------------------------- MLP-FLOW-REPLICATION (defect 7)

def test_replication_passes_while_the_key_policies_name_the_role(graph, stack):
    replication = results(graph, stack, "MLP-FLOW-REPLICATION")
    assert len(replication) == 2 and all(r.status == PASSED for r in replication), [r.message for r in replication]


def test_replication_identity_statements_alone_suffice_under_bucket_keys(graph, stack):
    """Defect 7 fixed: without the key policy's direct grant, the role's own KMS
    statements decide, and their encryption-context condition admits the bucket ARN
    that S3 Bucket Keys use."""
    edit_policy(resource(graph, "fraud-detection-artifacts-key"), "policy", drop_sid("ReplicationDecryptsSource"))
    result = named(results(graph, stack, "MLP-FLOW-REPLICATION"), "fraud-detection-artifacts-replica-config")
    assert result.status == PASSED, result.message


def _object_arn_contexts_only(statements):
    """The replication role's KMS conditions as shipped before the fix: object ARNs only."""
    for statement in statements:
        like = statement.get("Condition", {}).get("StringLike", {})
        values = like.get("kms:EncryptionContext:aws:s3:arn")
        if values is not None:
            values = [values] if isinstance(values, str) else values
            like["kms:EncryptionContext:aws:s3:arn"] = [v for v in values if v.endswith("/*")]


def test_replication_relying_on_object_arn_contexts_fails_under_bucket_keys(graph, stack):
    edit_policy(resource(graph, "fraud-detection-artifacts-key"), "policy", drop_sid("ReplicationDecryptsSource"))
    edit_policy(resource(graph, "fraud-detection-artifacts-replica-role-policy"), "policy", _object_arn_contexts_only)
    result = named(results(graph, stack, "MLP-FLOW-REPLICATION"), "fraud-detection-artifacts-replica-config")
    assert result.status == FAILED
    assert "fraud-detection-prod-replication is not allowed kms:Decrypt" in result.message
    assert "kms:EncryptionContext:aws:s3:arn" in result.message


# ---------------------------------------------------------------- MLP-FLOW-ALARM-TOPIC

def test_alarm_topics_pass(graph, stack):
    topics = results(graph, stack, "MLP-FLOW-ALARM-TOPIC")
    # each team's critical and warning topics, and the platform security topic (anomaly detection on in prod)
    # proven once for each team's alarms: a plan of some teams proves the same flows for them
    assert len(topics) == 3 * 2 + 3 and all(r.status == PASSED for r in topics), [r.message for r in topics]
    security = [r for r in topics if "security-findings" in r.message]
    assert {r.team for r in security} == {"fraud-detection", "nlp-research", "recommendations"}


def test_alarm_topic_fails_when_its_key_does_not_let_cloudwatch_use_it(graph, stack):
    key = resource(graph, "fraud-detection-observability-alert-key")
    edit_policy(key, "policy", lambda s: s.__setitem__(slice(None), [
        x for x in s if "cloudwatch.amazonaws.com" not in json.dumps(x.get("Principal"))]))
    topics = results(graph, stack, "MLP-FLOW-ALARM-TOPIC")
    failed = [r for r in topics if r.status == FAILED]
    assert failed and all("service cloudwatch.amazonaws.com is not allowed kms:" in r.message for r in failed)
