"""Observability, budgets and lifecycle as the offline plan of the example estate shows them.

Assertions are on the captured resources and their inputs (the mock runtime records what
the engine would receive): thresholds, periods, statistics, the topic each alarm notifies,
budget filters, log retention, Firehose destinations, and that every alarm on a drift
metric watches a metric the drift Lambda really publishes.
"""

from __future__ import annotations

import json

import pytest

from components import budget as budget_module
from components.artifact_store import artifact_bucket_name
from components.endpoint_alarms import gpus, vcpus
from components.escalation import subscription, topic_name
from components.log_forwarding import forwarding_backup_bucket
from components.log_groups import LOG_RETENTION_DAYS
from mlplatform.capture import capture_stack
from mlplatform.diff import diff_graphs
from mlplatform.graph import ResourceGraph, is_unknown
from mlplatform.naming import feature_group_name
from mlplatform.runtime import drift_handler
from mlplatform.spec.loader import load_specs
from mlplatform.stackchecks import stack_issues
from mlplatform.stackconfig import PROJECT_ROOT, load_stack_config, stack_file

from .conftest import EXAMPLES
from .helpers.dataplane import by_type, one

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
PROD = load_stack_config("prod")
ACCOUNT, REGION = PROD.account_id, PROD.region
FRAUD_BUCKET, RECS_BUCKET = artifact_bucket_name(PROD, "fraud-detection"), artifact_bucket_name(PROD, "recommendations")


def alarm(graph: ResourceGraph, physical: str):
    matches = [r for r in by_type(graph, ALARM) if r.inputs.get("name") == physical]
    assert len(matches) == 1, f"alarm {physical}: {len(matches)} matches"
    return matches[0].inputs


def topic(team: str, env: str, severity: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic_name(team, env, severity)}"


# ---------------------------------------------------------------- escalation


def test_each_team_has_one_encrypted_topic_per_severity(prod_graph):
    # the escalation topics (async endpoints, the registry and the audit trail have their own)
    topics = [t for t in by_type(prod_graph, "aws:sns/topic:Topic") if "-observability-" in t.name]
    names = sorted(t.inputs["name"] for t in topics)
    assert names == sorted(f"{team}-prod-alerts-{s}" for team in ("fraud-detection", "nlp-research", "recommendations")
                           for s in ("critical", "warning", "info"))
    for t in topics:
        team = t.inputs["name"].split("-prod-")[0]
        assert t.inputs["kmsMasterKeyId"] == f"alias/{team}-prod-alerts"


def test_topic_policy_lets_alarm_services_publish_and_nothing_else(prod_graph):
    policy = json.loads(one(prod_graph, "aws:sns/topicPolicy:TopicPolicy",
                            "fraud-detection-observability-escalation-critical-policy").inputs["policy"])
    allow, deny = policy["Statement"]
    assert allow["Principal"] == {"Service": ["budgets.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]}
    assert allow["Action"] == "sns:Publish" and allow["Resource"] == topic("fraud-detection", "prod", "critical")
    assert allow["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alert_key_lets_the_publishers_and_logs_use_it(prod_graph):
    key = one(prod_graph, "aws:kms/key:Key", "fraud-detection-observability-alert-key")
    assert key.options["protect"] and key.inputs["enableKeyRotation"] is True
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert set(statements["AlertPublishers"]["Principal"]["Service"]) == {
        "budgets.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"}
    assert statements["CloudWatchLogs"]["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}


def test_subscriptions_follow_the_spec_escalation(prod_graph):
    subs = {r.name.removeprefix("fraud-detection-observability-escalation-"): r.inputs
            for r in by_type(prod_graph, "aws:sns/topicSubscription:TopicSubscription")
            if r.name.startswith("fraud-detection-")}
    assert set(subs) == {"critical-0", "warning-0", "info-0"}
    assert subs["critical-0"]["protocol"] == "https"
    assert subs["critical-0"]["endpoint"] == "https://events.pagerduty.com/integration/fraud-oncall/enqueue"
    assert subs["warning-0"] == {**subs["warning-0"], "protocol": "email", "endpoint": "ml-fraud@example.com"}
    assert subs["info-0"]["endpoint"] == "https://chat-relay.example.com/sns/slack/fraud-ml"
    reco = sorted((r.name, r.inputs["protocol"]) for r in by_type(prod_graph, "aws:sns/topicSubscription:TopicSubscription")
                  if r.name.startswith("recommendations-"))
    assert [protocol for _, protocol in reco] == ["https", "https", "email"]


def test_target_mapping():
    pd = "https://events.pagerduty.com/integration/{service}/enqueue"
    assert subscription("pagerduty:fraud-oncall", pd, None) == (
        "https", "https://events.pagerduty.com/integration/fraud-oncall/enqueue")
    assert subscription("email:a@example.com", pd, None) == ("email", "a@example.com")
    assert subscription("https://hooks.example.com/x", pd, None) == ("https", "https://hooks.example.com/x")
    assert subscription("slack:#ml", pd, "https://relay/{channel}") == ("https", "https://relay/ml")
    with pytest.raises(AssertionError):  # validation keeps slack: targets off stacks without a relay
        subscription("slack:ml", pd, None)


def test_slack_targets_need_a_relay_on_the_stack():
    result = load_specs([str(EXAMPLES / "fraud-detection.yaml")])
    stack = load_stack_config("dev").model_copy(update={"slack_webhook_url": None})
    issues = stack_issues(result.specs, stack)
    assert [(i.field, i.line) for i in issues] == [("metadata.escalation.info[0]", 14)]
    assert "slackWebhookUrl" in issues[0].message
    assert stack_issues(result.specs, load_stack_config("dev")) == []


# ---------------------------------------------------------------- endpoint alarms


def test_error_rate_alarm(prod_graph):
    inputs = alarm(prod_graph, "fraud-detection-prod-scorer-primary-5xx")
    queries = {q["id"]: q for q in inputs["metricQueries"]}
    assert queries["errors"]["metric"]["metricName"] == "Invocation5XXErrors"
    assert queries["errors"]["metric"]["dimensions"] == {"EndpointName": "fraud-detection-prod-scorer", "VariantName": "primary"}
    assert all(queries[q]["metric"]["period"] == 60 and queries[q]["metric"]["stat"] == "Sum" for q in ("errors", "invocations"))
    assert queries["error_rate"]["returnData"] is True and "100 * errors / invocations" in queries["error_rate"]["expression"]
    assert (inputs["threshold"], inputs["evaluationPeriods"], inputs["datapointsToAlarm"]) == (1.0, 5, 3)
    assert inputs["alarmActions"] == [topic("fraud-detection", "prod", "warning")]


@pytest.fixture(scope="module")
def staging_graph():
    return capture_stack("staging")


def test_latency_alarm_is_in_microseconds(prod_graph, dev_graph, staging_graph):
    inputs = alarm(prod_graph, "fraud-detection-prod-scorer-primary-latency-p99")
    assert inputs["metricName"] == "ModelLatency" and inputs["namespace"] == "AWS/SageMaker"
    assert inputs["extendedStatistic"] == "p99" and "statistic" not in inputs
    assert inputs["threshold"] == 120_000 and inputs["unit"] == "Microseconds"  # latencyP99Ms: 120
    assert (inputs["period"], inputs["evaluationPeriods"]) == (300, 3)
    assert alarm(staging_graph, "recommendations-staging-ranker-shadow-latency-p99")["threshold"] == 50_000
    assert alarm(dev_graph, "fraud-detection-dev-scorer-primary-latency-p99")["threshold"] == 120_000


def test_saturation_alarms_scale_with_the_instance(prod_graph, dev_graph):
    # prod scorer: ml.g4dn.xlarge (4 vCPUs, 1 GPU); dev override: ml.m5.xlarge (4 vCPUs, no GPU)
    cpu = alarm(prod_graph, "fraud-detection-prod-scorer-primary-cpu")
    assert cpu["namespace"] == "/aws/sagemaker/Endpoints" and cpu["threshold"] == 360
    assert alarm(prod_graph, "fraud-detection-prod-scorer-primary-gpu")["threshold"] == 90
    assert alarm(prod_graph, "fraud-detection-prod-scorer-primary-gpu-memory")["metricName"] == "GPUMemoryUtilization"
    assert alarm(prod_graph, "fraud-detection-prod-scorer-primary-disk")["threshold"] == 80
    assert alarm(dev_graph, "fraud-detection-dev-scorer-primary-cpu")["threshold"] == 360
    dev_names = {r.inputs["name"] for r in by_type(dev_graph, ALARM)}
    assert "fraud-detection-dev-scorer-primary-gpu" not in dev_names
    assert (vcpus("ml.g5.12xlarge"), gpus("ml.g5.12xlarge"), gpus("ml.c5.xlarge")) == (48, 4, 0)


def test_traffic_collapse_uses_an_anomaly_band(prod_graph):
    inputs = alarm(prod_graph, "recommendations-prod-ranker-primary-traffic-collapse")
    assert inputs["comparisonOperator"] == "LessThanLowerThreshold" and inputs["thresholdMetricId"] == "band"
    band = [q for q in inputs["metricQueries"] if q["id"] == "band"][0]
    assert band["expression"] == "ANOMALY_DETECTION_BAND(invocations, 2)"
    assert inputs["treatMissingData"] == "breaching"  # realtime: no traffic is a collapse
    async_alarm = alarm(prod_graph, "nlp-research-prod-summariser-eval-primary-traffic-collapse")
    assert async_alarm["treatMissingData"] == "notBreaching"


def test_variants_modes_and_retired_endpoints(prod_graph, dev_graph, staging_graph):
    names = {r.inputs["name"] for r in by_type(prod_graph, ALARM)}
    # staging shadows the candidate; prod rolls out by canary from the registry (MLP-SM-001, MLP-SM-004)
    assert "recommendations-staging-ranker-shadow-5xx" in {r.inputs["name"] for r in by_type(staging_graph, ALARM)}
    assert "recommendations-prod-ranker-shadow-5xx" not in names
    assert "recommendations-dev-ranker-shadow-5xx" not in {r.inputs["name"] for r in by_type(dev_graph, ALARM)}
    assert not any(n.startswith("recommendations-prod-batch-scores") for n in names)  # batch: no endpoint
    assert "recommendations-prod-similar-items-primary-5xx" in names  # serverless: no instance metrics
    assert "recommendations-prod-similar-items-primary-cpu" not in names
    assert not any("summariser-v1" in n for n in names)  # retired


def test_composite_pages_on_health_not_on_saturation(prod_graph):
    composite = [r.inputs for r in by_type(prod_graph, COMPOSITE) if r.inputs["alarmName"] == "recommendations-prod-ranker-unhealthy"][0]
    rule = composite["alarmRule"]
    for key in ("5xx", "latency-p99", "traffic-collapse"):  # prod ranker: canary, no shadow variant
        assert f'ALARM("recommendations-prod-ranker-primary-{key}")' in rule
    assert "cpu" not in rule and "disk" not in rule
    assert composite["alarmActions"] == composite["okActions"] == [topic("recommendations", "prod", "critical")]
    assert len(by_type(prod_graph, COMPOSITE)) == 5  # scorer, summariser-eval, embedder, ranker, similar-items


def test_every_alarm_notifies_a_topic_of_its_own_team(prod_graph):
    # the observability alarms; an endpoint's rollback alarms only stop its deployments (components/endpoint.py)
    for resource in [r for r in by_type(prod_graph, ALARM) + by_type(prod_graph, COMPOSITE) if "-observability-" in r.name]:
        team = resource.name.split("-observability-")[0]
        actions = resource.inputs["alarmActions"]
        assert actions and all(a.startswith(f"arn:aws:sns:{REGION}:{ACCOUNT}:{team}-prod-alerts-") for a in actions), resource.name


# ---------------------------------------------------------------- drift


def test_drift_alarms_watch_what_the_lambda_publishes(prod_graph):
    published = {drift_handler.METRIC_KS, drift_handler.METRIC_PSI, drift_handler.METRIC_PARITY,
                 drift_handler.METRIC_PREDICTIONS, drift_handler.METRIC_MALFORMED}
    drift_alarms = [r.inputs for r in by_type(prod_graph, ALARM) if r.inputs.get("namespace") == drift_handler.NAMESPACE]
    assert len(drift_alarms) == 3  # fraud KS + parity, recommendations PSI
    for inputs in drift_alarms:
        assert inputs["metricName"] in published
        assert set(inputs["dimensions"]) == set(drift_handler.DIMENSIONS)
    ks = alarm(prod_graph, "fraud-detection-prod-scorer-prediction-drift")
    assert (ks["metricName"], ks["threshold"], ks["period"], ks["statistic"]) == ("PredictionDriftKS", 0.1, 3600, "Maximum")
    assert ks["dimensions"] == {"Team": "fraud-detection", "EndpointName": "fraud-detection-prod-scorer"}
    parity = alarm(prod_graph, "fraud-detection-prod-scorer-demographic-parity")
    assert (parity["metricName"], parity["threshold"]) == ("DemographicParityDifference", 0.08)
    psi = alarm(prod_graph, "recommendations-prod-ranker-prediction-drift")
    assert (psi["metricName"], psi["threshold"], psi["period"]) == ("PredictionDriftPSI", 0.2, 86400)
    assert ks["alarmActions"] == [topic("fraud-detection", "prod", "warning")]


def test_lambda_configuration_is_what_the_handler_reads(prod_graph):
    fn = one(prod_graph, "aws:lambda/function:Function", "fraud-detection-observability-scorer-drift-fn").inputs
    config = drift_handler.DriftConfig.from_env(fn["environment"]["variables"])
    assert config == drift_handler.DriftConfig(
        bucket=FRAUD_BUCKET, capture_prefix="data-capture/fraud-detection-prod-scorer/",
        baseline_key="baselines/scorer/predictions.json", team="fraud-detection", endpoint="fraud-detection-prod-scorer",
        window_minutes=60, group_attribute="customer_age_band", positive_score=0.7, variants=("primary",))
    assert fn["handler"] == "drift_handler.handler" and fn["runtime"] == "python3.12"
    asset = fn["code"]["assets"]["drift_handler.py"]
    assert (PROJECT_ROOT / asset["path"]).read_text() == (PROJECT_ROOT / "mlplatform/runtime/drift_handler.py").read_text()
    assert is_unknown(fn["kmsKeyArn"]) and fn["reservedConcurrentExecutions"] == 1
    reco = one(prod_graph, "aws:lambda/function:Function", "recommendations-observability-ranker-drift-fn").inputs
    assert reco["environment"]["variables"]["DRIFT_WINDOW_MINUTES"] == "1440"
    assert "DRIFT_GROUP_ATTRIBUTE" not in reco["environment"]["variables"]


def test_lambda_role_is_least_privilege(prod_graph):
    policy = json.loads(one(prod_graph, "aws:iam/rolePolicy:RolePolicy",
                            "fraud-detection-observability-scorer-drift-fn-policy").inputs["policy"])["Statement"]
    by_action = {json.dumps(s["Action"]): s for s in policy}
    reads = sorted(resource for s in policy if s["Action"] == "s3:GetObject"
                   for resource in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]))
    assert reads == [  # the baseline file itself, and the endpoint's capture prefix: nothing else
        f"arn:aws:s3:::{FRAUD_BUCKET}/baselines/scorer/predictions.json",
        f"arn:aws:s3:::{FRAUD_BUCKET}/data-capture/fraud-detection-prod-scorer/*"]
    assert by_action['"cloudwatch:PutMetricData"']["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": drift_handler.NAMESPACE}}
    assert not any("Put" in json.dumps(s["Action"]) and "s3" in json.dumps(s["Action"]) for s in policy)


def test_lambda_runs_on_the_drift_schedule(prod_graph):
    rule = one(prod_graph, "aws:cloudwatch/eventRule:EventRule", "fraud-detection-observability-scorer-drift-fn-schedule")
    assert rule.inputs["scheduleExpression"] == "cron(10 * * * ? *)"
    permission = one(prod_graph, "aws:lambda/permission:Permission", "fraud-detection-observability-scorer-drift-fn-invoke")
    assert permission.inputs["sourceArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule.inputs['name']}"
    assert permission.inputs["principal"] == "events.amazonaws.com"


def test_model_monitor_data_quality_against_the_spec_baseline(prod_graph):
    job = one(prod_graph, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
              "fraud-detection-observability-scorer-drift-data-quality").inputs
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == "fraud-detection-prod-scorer"
    assert job["dataQualityBaselineConfig"]["statisticsResource"]["s3Uri"] == \
        f"s3://{FRAUD_BUCKET}/baselines/scorer/statistics.json"
    assert job["dataQualityAppSpecification"]["imageUri"] == \
        "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer:latest"
    assert job["networkConfig"]["enableNetworkIsolation"] is True
    schedules = {r.inputs["name"]: r.inputs["monitoringScheduleConfig"] for r in
                 by_type(prod_graph, "aws:sagemaker/monitoringSchedule:MonitoringSchedule")}
    assert schedules["fraud-detection-prod-scorer-feature-drift"]["scheduleConfig"]["scheduleExpression"] == "cron(0 * ? * * *)"
    assert schedules["recommendations-prod-ranker-feature-drift"]["scheduleConfig"]["scheduleExpression"] == "cron(0 0 ? * * *)"
    assert schedules["recommendations-prod-ranker-feature-drift"]["monitoringType"] == "DataQuality"
    ranker = one(prod_graph, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
                 "recommendations-observability-ranker-drift-data-quality").inputs
    assert ranker["dataQualityBaselineConfig"]["constraintsResource"]["s3Uri"] == \
        f"s3://{RECS_BUCKET}/baselines/ranker/constraints.json"  # default baseline


# ---------------------------------------------------------------- logs, freshness, pipelines, dashboard


def test_log_retention_follows_data_classification(prod_graph):
    # restricted, internal, confidential: a year at least for all (CKV_AWS_338)
    expected = {"fraud-detection": 2557, "nlp-research": 365, "recommendations": 365}
    groups = [g for g in by_type(prod_graph, "aws:cloudwatch/logGroup:LogGroup") if "-observability-" in g.name]
    assert groups
    for group in groups:
        team = group.name.split("-observability-")[0]
        assert group.inputs["retentionInDays"] == expected[team] == LOG_RETENTION_DAYS[
            {"fraud-detection": "restricted", "nlp-research": "internal", "recommendations": "confidential"}[team]]
        assert is_unknown(group.inputs["kmsKeyId"])  # the alert key's ARN, known after apply
    names = {g.inputs["name"] for g in groups}
    assert {"/mlplatform/fraud-detection/prod/jobs", "/aws/sagemaker/Endpoints/fraud-detection-prod-scorer",
            "/aws/lambda/fraud-detection-prod-scorer-drift"} <= names
    retired = [g for g in groups if g.inputs["name"] == "/aws/sagemaker/Endpoints/nlp-research-prod-summariser-v1"]
    assert len(retired) == 1 and retired[0].inputs["tags"]["retired-successor"] == "summariser-eval"  # its logs stay
    for g in groups:  # records are protected in prod, a drift function's too (they outlive it)
        assert g.options["protect"] and g.options["retainOnDelete"], g.name


def test_log_groups_are_not_protected_in_dev(dev_graph):
    groups = by_type(dev_graph, "aws:cloudwatch/logGroup:LogGroup")
    assert groups and not any(g.options["protect"] for g in groups)


def test_freshness_alarm(prod_graph):
    inputs = alarm(prod_graph, "fraud-detection-prod-fg-transactions-v2-stale")
    assert inputs["dimensions"] == {"FeatureGroupName": feature_group_name("fraud-detection", "prod", "transactions", 2),
                                    "OperationName": "PutRecord"}
    assert (inputs["period"], inputs["evaluationPeriods"], inputs["threshold"]) == (1800, 1, 1)  # 30 minutes
    assert (inputs["comparisonOperator"], inputs["treatMissingData"]) == ("LessThanThreshold", "breaching")
    assert inputs["alarmActions"] == [topic("fraud-detection", "prod", "warning")]
    assert not [r for r in by_type(prod_graph, ALARM) if r.inputs["name"].startswith("recommendations-prod-fg-")]


def test_failed_jobs_rule_goes_to_the_warning_topic(prod_graph):
    rule = one(prod_graph, "aws:cloudwatch/eventRule:EventRule", "fraud-detection-observability-pipelines-rule")
    batch, glue, training, transform = json.loads(rule.inputs["eventPattern"])["$or"]
    assert batch["detail"] == {"status": ["FAILED"], "jobQueue": [f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/fraud-detection-prod-gpu-train"]}
    assert glue["detail"]["jobName"] == [{"prefix": "fraud-detection-prod-"}]
    assert training["detail"] == {"TrainingJobStatus": ["Failed"], "TrainingJobName": [{"prefix": "fraud-detection-prod-"}]}
    assert transform["detail-type"] == ["SageMaker Transform Job State Change"]
    target = one(prod_graph, "aws:cloudwatch/eventTarget:EventTarget", "fraud-detection-observability-pipelines-to-warning")
    assert target.inputs["arn"] == topic("fraud-detection", "prod", "warning")
    reco = json.loads(one(prod_graph, "aws:cloudwatch/eventRule:EventRule",
                          "recommendations-observability-pipelines-rule").inputs["eventPattern"])
    assert [p["source"] for p in reco["$or"]] == [["aws.glue"], ["aws.sagemaker"], ["aws.sagemaker"]]  # kueue only: no Batch


def test_dashboard_covers_endpoints_queues_drift_and_budget(prod_graph):
    board = one(prod_graph, "aws:cloudwatch/dashboard:Dashboard", "fraud-detection-observability-dashboard-dashboard").inputs
    assert board["dashboardName"] == "fraud-detection-prod"
    widgets = json.loads(board["dashboardBody"])["widgets"]
    titles = [w["properties"].get("title", "") for w in widgets]
    assert "scorer: model latency" in titles and "Training: failed Batch, Glue and SageMaker jobs" in titles
    latency = widgets[titles.index("scorer: model latency")]["properties"]
    assert latency["annotations"]["horizontal"][0]["value"] == 120_000
    drift = widgets[titles.index("scorer: prediction drift")]["properties"]["metrics"]
    assert {m[1] for m in drift} == {"PredictionDriftKS", "DemographicParityDifference", "MalformedCaptureRecords"}
    assert "25,000 USD" in widgets[-1]["properties"]["markdown"]


# ---------------------------------------------------------------- log forwarding


def test_log_forwarding_per_stack(prod_graph, dev_graph):
    assert not by_type(dev_graph, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    stream = one(prod_graph, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
                 "fraud-detection-observability-forwarding-stream").inputs
    assert stream["destination"] == "splunk"
    splunk = stream["splunkConfiguration"]
    assert splunk["hecEndpoint"] == "https://http-inputs-example.splunkcloud.com:443/services/collector/event"
    assert splunk["secretsManagerConfiguration"]["secretArn"].endswith(":secret:ml-platform/splunk-hec-token")
    assert "hecToken" not in splunk
    assert splunk["s3BackupMode"] == "FailedEventsOnly"
    assert splunk["s3Configuration"]["bucketArn"] == f"arn:aws:s3:::{forwarding_backup_bucket(PROD, 'fraud-detection')}"
    assert stream["serverSideEncryption"]["keyType"] == "CUSTOMER_MANAGED_CMK"
    filters = [r.inputs for r in by_type(prod_graph, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
               if r.name.startswith("fraud-detection-")]
    assert {f["logGroup"] for f in filters} == {"/mlplatform/fraud-detection/prod/jobs",
                                                "/aws/sagemaker/Endpoints/fraud-detection-prod-scorer"}
    assert all(f["destinationArn"] == f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/fraud-detection-prod-logs-splunk"
               for f in filters)
    backup = one(prod_graph, "aws:s3/bucket:Bucket", "fraud-detection-observability-forwarding-backup")
    assert backup.options["protect"]


def test_datadog_forwarding_uses_the_http_endpoint():
    graph = capture_stack("staging")
    stream = one(graph, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
                 "recommendations-observability-forwarding-stream").inputs
    assert stream["destination"] == "http_endpoint"
    http = stream["httpEndpointConfiguration"]
    assert http["url"] == "https://aws-kinesis-http-intake.logs.datadoghq.eu/v1/input" and http["name"] == "Datadog"
    assert http["s3BackupMode"] == "FailedDataOnly" and "accessKey" not in http
    assert http["secretsManagerConfiguration"]["enabled"] is True


# ---------------------------------------------------------------- budget


def test_budget_filters_on_the_team_tag_and_alerts_the_topics(prod_graph, dev_graph):
    inputs = one(prod_graph, "aws:budgets/budget:Budget", "fraud-detection-budget-monthly").inputs
    assert inputs["costFilters"] == [{"name": "TagKeyValue", "values": ["user:team$fraud-detection"]}]
    assert (inputs["limitAmount"], inputs["timeUnit"], inputs["budgetType"]) == ("25000.00", "MONTHLY", "COST")
    got = {(n["notificationType"], n["threshold"]): n["subscriberSnsTopicArns"] for n in inputs["notifications"]}
    assert set(got) == {(kind, p) for kind in ("ACTUAL", "FORECASTED") for p in (50, 80, 100)}
    assert got[("ACTUAL", 100)] == [topic("fraud-detection", "prod", "critical")]
    assert got[("FORECASTED", 100)] == got[("ACTUAL", 80)] == [topic("fraud-detection", "prod", "warning")]
    assert one(dev_graph, "aws:budgets/budget:Budget", "fraud-detection-budget-monthly").inputs["limitAmount"] == "3000.00"
    reco = one(prod_graph, "aws:budgets/budget:Budget", "recommendations-budget-monthly").inputs
    assert sorted({n["threshold"] for n in reco["notifications"]}) == [80, 100]


def test_budget_severity():
    assert budget_module.notification_severity("ACTUAL", 100) == "critical"
    assert budget_module.notification_severity("ACTUAL", 150) == "critical"
    assert budget_module.notification_severity("FORECASTED", 150) == "warning"
    assert budget_module.notification_severity("ACTUAL", 99) == "warning"


# ---------------------------------------------------------------- lifecycle


def test_retraining_submits_a_batch_job_on_schedule_and_on_drift(prod_graph):
    rules = {r.name: r.inputs for r in by_type(prod_graph, "aws:cloudwatch/eventRule:EventRule")
             if "retraining" in r.name}
    assert rules["fraud-detection-observability-scorer-retraining-schedule"]["scheduleExpression"] == "cron(0 3 ? * MON *)"
    pattern = json.loads(rules["fraud-detection-observability-scorer-retraining-on-drift"]["eventPattern"])
    drift_alarm = alarm(prod_graph, "fraud-detection-prod-scorer-prediction-drift")
    assert pattern["resources"] == [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{drift_alarm['name']}"]
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}}
    machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:fraud-detection-prod-scorer-retrain"
    for key in ("schedule", "on-drift"):
        target = one(prod_graph, "aws:cloudwatch/eventTarget:EventTarget",
                     f"fraud-detection-observability-scorer-retraining-{key}-target").inputs
        # both triggers start the one state machine that submits (EventBridge's Batch target
        # cannot carry the share identifier the fair-share queue requires)
        assert target["arn"] == machine_arn and "batchTarget" not in target
        assert target["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/fraud-detection-prod-scorer-retrain-events"
    policy = json.loads(one(prod_graph, "aws:iam/rolePolicy:RolePolicy",
                            "fraud-detection-observability-scorer-retraining-policy").inputs["policy"])["Statement"]
    assert policy == [{"Effect": "Allow", "Action": "states:StartExecution", "Resource": machine_arn}]
    machine = one(prod_graph, "aws:sfn/stateMachine:StateMachine", "fraud-detection-observability-scorer-retraining-sfn").inputs
    (task,) = json.loads(machine["definition"])["States"].values()
    assert task["Resource"] == "arn:aws:states:::batch:submitJob"
    assert {k: task["Parameters"][k] for k in ("JobQueue", "JobDefinition", "ShareIdentifier", "SchedulingPriorityOverride")} == {
        "JobQueue": f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/fraud-detection-prod-gpu-train",
        "JobDefinition": "fraud-detection-prod-fraud-scorer-retrain", "ShareIdentifier": "fraudDetection",
        "SchedulingPriorityOverride": 70}
    submit = json.loads(one(prod_graph, "aws:iam/rolePolicy:RolePolicy",
                            "fraud-detection-observability-scorer-retraining-sfn-policy").inputs["policy"])["Statement"][0]
    assert submit == {"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": [
        f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/fraud-detection-prod-fraud-scorer-retrain",
        f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/fraud-detection-prod-fraud-scorer-retrain:*",
        f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/fraud-detection-prod-gpu-train"],
        "Condition": {"StringEquals": {"batch:ShareIdentifier": "fraudDetection"}}}


def test_notify_only_retraining_tells_the_info_topic(prod_graph):
    target = one(prod_graph, "aws:cloudwatch/eventTarget:EventTarget",
                 "recommendations-observability-ranker-retraining-on-drift-target").inputs
    assert target["arn"] == topic("recommendations", "prod", "info") and "batchTarget" not in target
    assert json.loads(target["input"])["endpoint"] == "ranker"
    assert not [r for r in by_type(prod_graph, "aws:cloudwatch/eventRule:EventRule")
                if r.name == "recommendations-observability-ranker-retraining-schedule"]


def test_retired_endpoint_is_recorded_with_reason_and_successor(prod_graph):
    record = one(prod_graph, "mlplatform:lifecycle:RetiredEndpoint", "nlp-research-observability-summariser-v1-retired")
    assert record.inputs["reason"] == "Superseded by the evaluated 4.37 summariser"
    assert record.inputs["successor"] == "summariser-eval"
    assert record.inputs["tags"] == {"lifecycle": "retired", "retired-reason": "Superseded by the evaluated 4.37 summariser",
                                     "retired-successor": "summariser-eval"}
    lines = (EXAMPLES / "nlp-research.yaml").read_text().splitlines()
    retired_line = 1 + next(i for i, line in enumerate(lines) if line.strip().startswith("retired:"))
    assert record.source.file == "examples/teams/nlp-research.yaml" and record.source.line == retired_line


def _unretired(text: str) -> str:
    """The spec before summariser-v1 retired. Live, it needs a serving image: SageMaker ships
    none for huggingface 4.30 on ml.g5 (mlplatform/catalogues/serving_images.py), so the base serves it
    on 4.37; every serving resource of the endpoint goes with the retirement either way."""
    old = 'model: {framework: huggingface, frameworkVersion: "4.30", artifact: models/summariser-v1/}'
    assert old in text
    return "\n".join(line for line in text.replace(old, old.replace('"4.30"', '"4.37"')).splitlines()
                     if "retired: {reason" not in line) + "\n"


def test_plan_against_a_base_shows_the_retirement(teams_copy, dev_graph):
    spec = teams_copy / "nlp-research.yaml"
    text = spec.read_text()
    retired_line = "      retired: {reason: Superseded by the evaluated 4.37 summariser, successor: summariser-eval}\n"
    assert retired_line in text
    spec.write_text(_unretired(text))
    base = capture_stack("dev", teams_dir=str(teams_copy))
    diff = diff_graphs(base, dev_graph)
    created = {c.urn.rsplit("::", 1)[-1] for c in diff.created}
    deleted = {c.urn.rsplit("::", 1)[-1] for c in diff.deleted}
    assert created == {"nlp-research-observability-summariser-v1-retired"}
    assert "nlp-research-observability-summariser-v1-alarms-unhealthy" in deleted
    assert all("summariser-v1" in name for name in deleted)
    # what holds records stays, tagged with the reason and the successor
    assert "nlp-research-observability-logs-endpoint-summariser-v1" not in deleted
    updated = {c.urn.rsplit("::", 1)[-1]: c for c in diff.updated}
    log_group = updated["nlp-research-observability-logs-endpoint-summariser-v1"]
    assert {p.path: p.after for p in log_group.property_changes}["tags"]["retired-successor"] == "summariser-eval"
    assert not diff.stateful_replacements  # nothing that holds data goes


def test_stack_config_errors_name_the_setting():
    from mlplatform.errors import SpecError
    from mlplatform.stackconfig import config_values_from_stack_file, stack_config_from_values

    values, document = config_values_from_stack_file(stack_file("prod"))
    values["mlplatform:logForwarding"] = json.dumps({"destination": "elastic", "url": "https://x",
                                                     "secretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:x"})
    values["mlplatform:slackWebhookUrl"] = "https://relay.example.com/no-placeholder"
    with pytest.raises(SpecError) as caught:
        stack_config_from_values("prod", values, "stacks/Pulumi.prod.yaml", document)
    fields = {issue.path[1:]: issue for issue in caught.value.issues}
    assert set(fields) == {("mlplatform:logForwarding", "destination"), ("mlplatform:slackWebhookUrl",)}
    lines = stack_file("prod").read_text().splitlines()
    assert fields[("mlplatform:logForwarding", "destination")].line == 2 + lines.index("  mlplatform:logForwarding:")


def test_model_monitor_waits_for_the_serving_endpoint_it_is_given():
    """The serving components pass their endpoint resources; the data-quality job (and so
    its schedule) depends on the endpoint, since a schedule for a missing endpoint fails."""
    import pulumi
    import pulumi_aws as aws

    from components.base import SpecLocator, TeamContext
    from mlplatform.estate.observability_wiring import TeamObservability, TeamObservabilityArgs
    from mlplatform.capture import capture_program
    from mlplatform.spec.loader import load_spec_file

    loaded = load_spec_file(EXAMPLES / "fraud-detection.yaml")
    stack = load_stack_config("prod")
    spec = loaded.for_environment("prod")

    def program() -> None:
        context = TeamContext(team="fraud-detection", stack=stack,
                              locator=SpecLocator("examples/teams/fraud-detection.yaml", loaded.line_of),
                              data_classification="restricted", risk_tier="high")
        endpoint = aws.sagemaker.Endpoint("scorer-endpoint", name="fraud-detection-prod-scorer",
                                          endpoint_config_name="fraud-detection-prod-scorer-config")
        TeamObservability("obs", TeamObservabilityArgs(
            context=context, spec=spec, bucket_name="fraud-detection-prod-artifacts",
            artifact_key_arn=pulumi.Output.from_input("arn:aws:kms:key"),
            artifact_key_alias="alias/fraud-detection-prod-artifacts", endpoint_resources={"scorer": endpoint}))

    graph = capture_program(program, "prod", {}, "ml-estate")
    endpoint_urn = one(graph, "aws:sagemaker/endpoint:Endpoint", "scorer-endpoint").urn
    job = one(graph, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", "obs-scorer-drift-data-quality")
    assert endpoint_urn in job.dependencies
    alarms = one(graph, "mlplatform:monitoring:EndpointAlarms", "obs-scorer-alarms")
    assert endpoint_urn not in alarms.dependencies  # alarms on a name need no endpoint


def test_retiring_in_production_deletes_nothing_protected(teams_copy, prod_graph):
    """`pulumi up` refuses to delete a protected resource; a retirement must not need to."""
    spec = teams_copy / "nlp-research.yaml"
    spec.write_text(_unretired(spec.read_text()))
    base = capture_stack("prod", teams_dir=str(teams_copy))
    diff = diff_graphs(base, prod_graph)
    assert diff.deleted, "the retirement removes the endpoint's alarms"
    protected = [c.urn for c in diff.deleted if base.get(c.urn).options["protect"]]
    assert protected == [] and not diff.stateful_replacements
