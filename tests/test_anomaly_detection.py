"""Anomalous access detection (issue 16, item 3) as the offline plans show it.

GuardDuty findings are routed by the EventBridge patterns the plan really carries: each
pattern is matched against GuardDuty finding events of the sample-finding shape
(tests/fixtures/guardduty/, source noted there) with moto's EventBridge pattern matcher
(:class:`moto.events.models.EventPattern`). moto's matcher flattens nested objects but not
arrays of objects, which EventBridge's matcher (AWS's Event Ruler) does, array-consistently:
fields of one array element are matched together. :func:`matches` therefore hands moto each
array-consistent reading of the event (one element of every array of objects at a time) and
leaves all matching to moto.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import pytest
from moto.events.models import EventPattern

from components.anomaly_detection import (
    MAX_FILTER_PATTERN, SEVERITY_RANGES, WatchedTeam, assumed_role_arn_pattern, model_download_filter,
    team_finding_pattern,
)
from components.artifact_store import artifact_bucket_name
from components.escalation import topic_name
from mlplatform.estate.builder import watched_team
from mlplatform.graph import ResourceGraph
from mlplatform.guardrails import INSIGHT_TYPES
from mlplatform.naming import role_name
from mlplatform.stackconfig import load_stack_config, stack_config_from_values

from .helpers.dataplane import by_type, one, statements

FIXTURES = Path(__file__).parent / "fixtures" / "guardduty"
PROD = load_stack_config("prod")
REGION, ACCOUNT = PROD.region, PROD.account_id
TEAMS = ("fraud-detection", "nlp-research", "recommendations")
COMPONENT = "mlplatform:anomaly:AnomalyDetection"
TEAM_ROUTING = "mlplatform:anomaly:TeamAnomalyRouting"
RULE, TARGET = "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget"
ALARM, FILTER = "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/logMetricFilter:LogMetricFilter"
SECURITY_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:mlplatform-prod-security-findings"


# ---------------------------------------------------------------- matching


def _array_consistent_readings(node):
    """Every reading of ``node`` with each array of objects replaced by one of its elements."""
    if isinstance(node, dict):
        keys = list(node)
        for values in itertools.product(*(list(_array_consistent_readings(node[k])) for k in keys)):
            yield dict(zip(keys, values))
    elif isinstance(node, list) and node and all(isinstance(item, dict) for item in node):
        for item in node:
            yield from _array_consistent_readings(item)
    else:
        yield node


def matches(pattern: str, event: dict) -> bool:
    """Whether EventBridge would deliver ``event`` to a rule with ``pattern`` (moto's matcher)."""
    compiled = EventPattern.load(pattern)  # raises moto's InvalidEventPatternException on a bad pattern
    return any(compiled.matches_event(reading) for reading in _array_consistent_readings(event))


def test_the_adapter_leaves_matching_to_moto():
    # arrays of objects: moto alone misses the bucket, each reading finds it; other elements never mix in
    event = {"detail": {"items": [{"name": "a", "size": 1}, {"name": "b", "size": 9}]}}
    by_name = json.dumps({"detail": {"items": {"name": ["b"]}}})
    assert not EventPattern.load(by_name).matches_event(event)
    assert matches(by_name, event)
    assert not matches(json.dumps({"detail": {"items": {"name": ["a"], "size": [{"numeric": [">", 5]}]}}}), event)
    assert matches(json.dumps({"detail": {"items": {"name": ["b"], "size": [{"numeric": [">", 5]}]}}}), event)


def finding(fixture: str, *, bucket: str | None = None, user: str | None = None, severity: float | None = None) -> dict:
    """A fixture finding event, about ``bucket`` and/or by ``user`` (a role name), at ``severity``."""
    event = json.loads((FIXTURES / fixture).read_text())
    event = copy.deepcopy(event)
    resource = event["detail"]["resource"]
    if bucket is not None:
        for details in resource["s3BucketDetails"]:
            details["name"], details["arn"] = bucket, f"arn:aws:s3:::{bucket}"
    if user is not None:
        resource["accessKeyDetails"]["userName"] = user
    if severity is not None:
        event["detail"]["severity"] = severity
    return event


# ---------------------------------------------------------------- the plan's routes


@pytest.fixture(scope="module")
def routes(prod_graph: ResourceGraph) -> list[tuple[str, str]]:
    """(event pattern, target ARN) of every rule of anomaly detection: the platform's and each team's."""
    parents = {one(prod_graph, COMPONENT, "platform-anomaly-detection").urn} | {
        one(prod_graph, TEAM_ROUTING, f"{team}-anomaly-routing").urn for team in TEAMS}
    rules = {r.urn: r for r in by_type(prod_graph, RULE) if r.parent in parents}
    out = []
    for target in by_type(prod_graph, TARGET):
        if target.parent not in parents:
            continue
        [rule_urn] = target.property_dependencies["rule"]
        out.append((rules[rule_urn].inputs["eventPattern"], target.inputs["arn"]))
    assert len(out) == 3 * len(TEAMS) + 1
    return out


def delivered_to(routes, event) -> set[str]:
    """The topics (by name) EventBridge delivers ``event`` to."""
    return {arn.rsplit(":", 1)[-1] for pattern, arn in routes if isinstance(arn, str) and matches(pattern, event)}


def team_topic(team: str, severity: str) -> str:
    return topic_name(team, "prod", severity)


SECURITY = "mlplatform-prod-security-findings"

S3_FIXTURES = [
    ("s3-exfiltration-anomalous-behavior.json", "critical"),   # High (8)
    ("s3-pentest-kali-linux.json", "warning"),                # Medium (5)
    ("s3-policy-block-public-access-disabled.json", "info"),  # Low (2)
]


@pytest.mark.parametrize("fixture,severity", S3_FIXTURES)
def test_a_finding_about_a_teams_bucket_reaches_that_teams_topic_of_its_severity(routes, fixture, severity):
    for team in TEAMS:
        event = finding(fixture, bucket=artifact_bucket_name(PROD, team))
        assert delivered_to(routes, event) == {team_topic(team, severity), SECURITY}, (team, fixture)


def test_a_finding_about_another_teams_bucket_does_not_reach_this_team(routes):
    event = finding("s3-exfiltration-anomalous-behavior.json", bucket=artifact_bucket_name(PROD, "fraud-detection"))
    reached = delivered_to(routes, event)
    assert not any(topic.startswith(("nlp-research-", "recommendations-")) for topic in reached)
    # a bucket of the stack outside any team (or of another account) is the security team's alone
    stranger = finding("s3-exfiltration-anomalous-behavior.json", bucket="acme-someone-else-777788889999")
    assert delivered_to(routes, stranger) == {SECURITY}


def test_the_log_forwarding_backup_bucket_is_the_teams_too(routes):
    backup = watched_team(PROD, "nlp-research").bucket_names[1]
    assert backup.endswith("-log-delivery-failures-777788889999")  # prod forwards logs (mlplatform:logForwarding)
    assert delivered_to(routes, finding("s3-pentest-kali-linux.json", bucket=backup)) == {
        team_topic("nlp-research", "warning"), SECURITY}


@pytest.mark.parametrize("duty", ["serving", "training", "ingestion", "consumer"])
def test_a_finding_about_a_teams_role_reaches_that_team(routes, duty):
    role = role_name("recommendations", "prod", duty)
    event = finding("iam-credential-exfiltration-outside-aws.json", user=role)
    assert event["detail"]["resource"]["accessKeyDetails"]["userType"] == "AssumedRole"
    assert delivered_to(routes, event) == {team_topic("recommendations", "critical"), SECURITY}


def test_a_finding_about_an_unknown_principal_reaches_only_the_security_topic(routes):
    # the sample finding as GuardDuty generates it: placeholder user, no team's role
    assert delivered_to(routes, finding("iam-credential-exfiltration-outside-aws.json")) == {SECURITY}


@pytest.mark.parametrize("severity,band", [
    (10.0, "critical"), (9.0, "critical"), (8.9, "critical"), (7.0, "critical"),
    (6.9, "warning"), (4.0, "warning"), (3.9, "info"), (1.0, "info"),
])
def test_severity_bands_follow_guardduty_levels(routes, severity, band):
    event = finding("s3-pentest-kali-linux.json", bucket=artifact_bucket_name(PROD, "fraud-detection"),
                    severity=severity)
    assert delivered_to(routes, event) == {team_topic("fraud-detection", band), SECURITY}


def test_other_guardduty_events_and_other_sources_are_not_findings(routes):
    event = finding("s3-pentest-kali-linux.json", bucket=artifact_bucket_name(PROD, "fraud-detection"))
    event["detail-type"] = "GuardDuty Runtime Protection Unhealthy"
    assert delivered_to(routes, event) == set()
    event = finding("s3-pentest-kali-linux.json", bucket=artifact_bucket_name(PROD, "fraud-detection"))
    event["source"] = "custom.spoofed"
    assert delivered_to(routes, event) == set()


def test_every_severity_of_a_team_has_one_pattern():
    team = watched_team(PROD, "fraud-detection")
    patterns = {severity: team_finding_pattern(team, severity) for severity in SEVERITY_RANGES}
    assert {severity: p["detail"]["severity"] for severity, p in patterns.items()} == {
        "critical": [{"numeric": [">=", 7]}], "warning": [{"numeric": [">=", 4, "<", 7]}],
        "info": [{"numeric": ["<", 4]}]}
    bare = WatchedTeam(team="x", bucket_names=(), role_names=(), artifact_bucket="b", model_reader_arns=(),
                       topic_arns={})
    with pytest.raises(AssertionError, match="no bucket or role"):  # an invariant of watched_team, asserted
        team_finding_pattern(bare, "info")


# ---------------------------------------------------------------- GuardDuty, topic, rules


def test_one_detector_with_s3_protection(prod_graph):
    [detector] = by_type(prod_graph, "aws:guardduty/detector:Detector")
    assert detector.inputs["enable"] is True and detector.inputs["findingPublishingFrequency"] == "FIFTEEN_MINUTES"
    assert "datasources" not in detector.inputs  # the deprecated block: S3 Protection is a detector feature
    assert detector.options["protect"]  # deleting a detector deletes its findings
    [feature] = by_type(prod_graph, "aws:guardduty/detectorFeature:DetectorFeature")
    assert (feature.inputs["name"], feature.inputs["status"]) == ("S3_DATA_EVENTS", "ENABLED")
    assert feature.property_dependencies["detectorId"] == [detector.urn]
    assert detector.effective_tags["team"] == "platform"


def test_security_topic_is_encrypted_subscribed_and_admits_only_its_publishers(prod_graph):
    topic = one(prod_graph, "aws:sns/topic:Topic", "platform-anomaly-detection-security-topic")
    key = one(prod_graph, "aws:kms/key:Key", "platform-key")
    assert topic.inputs["name"] == SECURITY
    assert topic.property_dependencies["kmsMasterKeyId"] == [key.urn]
    policy = statements(one(prod_graph, "aws:sns/topicPolicy:TopicPolicy", "platform-anomaly-detection-security-topic-policy"))
    rule = policy["GuardDutyFindingRulePublishes"]
    assert rule["Principal"] == {"Service": "events.amazonaws.com"}
    assert rule["Condition"] == {"ArnEquals": {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/mlplatform-prod-guardduty-findings"}}
    alarms = policy["ModelDownloadAlarmsPublish"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*-prod-unexpected-model-downloads"}
    assert policy["DenyInsecureTransport"]["Effect"] == "Deny"
    subs = sorted((s.inputs["protocol"], s.inputs["endpoint"]) for s in by_type(prod_graph, "aws:sns/topicSubscription:TopicSubscription")
                  if s.name.startswith("platform-anomaly-detection-security-"))
    assert subs == [("email", "platform-security@example.com"),
                    ("https", "https://events.pagerduty.com/integration/ml-platform-security/enqueue")]
    # the platform key lets the publishers use it (SNS encrypts with it on their behalf)
    grants = statements(key)["SecurityTopicPublishers"]
    assert set(grants["Principal"]["Service"]) == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}


def test_rule_names_fit_eventbridge(prod_graph):
    parents = {r.urn for r in prod_graph if r.type in (COMPONENT, TEAM_ROUTING)}
    names = [r.inputs["name"] for r in by_type(prod_graph, RULE) if r.parent in parents]
    assert "fraud-detection-prod-guardduty-critical" in names
    assert all(len(name) <= 64 for name in names)


# ---------------------------------------------------------------- model downloads


def test_one_filter_and_alarm_per_team_on_the_trail_log_group(prod_graph):
    group = one(prod_graph, "aws:cloudwatch/logGroup:LogGroup", "platform-trail-logs")
    filters = {f.name: f for f in by_type(prod_graph, FILTER)}
    for team in TEAMS:
        metric_filter = filters[f"{team}-anomaly-routing-model-downloads"]
        assert metric_filter.property_dependencies["logGroupName"] == [group.urn]
        pattern = metric_filter.inputs["pattern"]
        assert len(pattern) <= MAX_FILTER_PATTERN
        bucket = artifact_bucket_name(PROD, team)
        assert f'($.requestParameters.bucketName = "{bucket}")' in pattern
        assert '($.eventName = "GetObject")' in pattern and '($.requestParameters.key = "models/*")' in pattern
        for duty in ("serving", "training"):
            role = role_name(team, "prod", duty)
            assert f'($.userIdentity.arn != "arn:aws:sts::{ACCOUNT}:assumed-role/{role}/*")' in pattern
        assert role_name(team, "prod", "consumer") not in pattern  # people may not download models unnoticed
        transformation = metric_filter.inputs["metricTransformation"]
        alarm = one(prod_graph, ALARM, f"{team}-anomaly-routing-model-downloads-alarm").inputs
        assert (alarm["namespace"], alarm["metricName"]) == (transformation["namespace"], transformation["name"])
        assert alarm["threshold"] == 1 and alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["alarmActions"] == [f"arn:aws:sns:{REGION}:{ACCOUNT}:{team_topic(team, 'critical')}", SECURITY_TOPIC]
        assert alarm["name"] == f"{team}-prod-unexpected-model-downloads"


def test_filter_syntax_is_one_conjunction_of_json_terms():
    pattern = model_download_filter(watched_team(PROD, "fraud-detection"))
    assert pattern.startswith("{ ") and pattern.endswith(" }")
    terms = pattern[2:-2].split(" && ")
    assert len(terms) == 5
    for term in terms:
        assert term.startswith("($.") and term.endswith('")') and (' = "' in term or ' != "' in term), term


def test_a_filter_past_the_limit_is_refused():
    many = WatchedTeam(team="t", bucket_names=("b",), role_names=(), artifact_bucket="b",
                       model_reader_arns=tuple(f"arn:aws:iam::{ACCOUNT}:role/{'r' * 60}{i}" for i in range(12)),
                       topic_arns={})
    with pytest.raises(AssertionError, match="characters"):  # names bound it; asserted, not a spec error
        model_download_filter(many)


def test_session_arn_of_a_role_drops_its_path():
    assert assumed_role_arn_pattern("arn:aws:iam::111122223333:role/service/ml/scorer") == \
        "arn:aws:sts::111122223333:assumed-role/scorer/*"


# ---------------------------------------------------------------- on and off


def test_insights_on_the_trail_only_with_detection(prod_graph, dev_graph):
    prod_trail = one(prod_graph, "aws:cloudtrail/trail:Trail", "platform-trail")
    assert prod_trail.inputs["insightSelectors"] == [{"insightType": t} for t in INSIGHT_TYPES]
    dev_trail = one(dev_graph, "aws:cloudtrail/trail:Trail", "platform-trail")
    assert not dev_trail.inputs.get("insightSelectors")


def test_off_creates_nothing(dev_graph):
    assert not load_stack_config("dev").anomaly_detection_enabled
    assert not by_type(dev_graph, COMPONENT)
    for type_token in ("aws:guardduty/detector:Detector", "aws:guardduty/detectorFeature:DetectorFeature", FILTER):
        assert not by_type(dev_graph, type_token)
    assert not [r for r in by_type(dev_graph, RULE) if "guardduty" in r.inputs.get("name", "")]
    assert "SecurityTopicPublishers" not in statements(one(dev_graph, "aws:kms/key:Key", "platform-key"))


def test_the_stack_setting_decides_and_defaults_to_prod_only():
    values = {"aws:region": "eu-west-1", "mlplatform:environment": "prod", "mlplatform:accountId": "111122223333",
              "mlplatform:residency": "eu", "mlplatform:platformRoleArn": "arn:aws:iam::111122223333:role/admin",
              "mlplatform:allowedInstanceTypes": json.dumps({"training": ["g5.2xlarge"], "serving": ["ml.m5.large"]}),
              "mlplatform:gpuCeilings": json.dumps({"perTeam": 1, "perStack": 1})}
    assert stack_config_from_values("x", values, "x.yaml").anomaly_detection_enabled
    assert not stack_config_from_values("x", {**values, "mlplatform:environment": "qa"}, "x.yaml").anomaly_detection_enabled
    off = {**values, "mlplatform:environment": "qa", "mlplatform:anomalyDetection": json.dumps({"enabled": False})}
    assert not stack_config_from_values("x", off, "x.yaml").anomaly_detection_enabled
    # prod cannot turn it off: MLP-EDGE-005 is decided by this setting (tests/test_project.py)


@pytest.mark.parametrize("target,message", [
    ("sms:+4412345", "should match pattern"),
    ("slack:security", "needs a Slack relay"),
])
def test_security_targets_use_the_escalation_syntax(target, message):
    from mlplatform.errors import SpecError
    values = {"aws:region": "eu-west-1", "mlplatform:environment": "prod", "mlplatform:accountId": "111122223333",
              "mlplatform:residency": "eu", "mlplatform:platformRoleArn": "arn:aws:iam::111122223333:role/admin",
              "mlplatform:allowedInstanceTypes": json.dumps({"training": ["g5.2xlarge"], "serving": ["ml.m5.large"]}),
              "mlplatform:gpuCeilings": json.dumps({"perTeam": 1, "perStack": 1}),
              "mlplatform:anomalyDetection": json.dumps({"enabled": True, "securityTargets": [target]})}
    with pytest.raises(SpecError) as caught:
        stack_config_from_values("x", values, "x.yaml")
    assert message in str(caught.value) and "mlplatform:anomalyDetection" in str(caught.value)


def test_the_detector_is_billed_to_the_platform_and_each_teams_routes_to_the_team(prod_graph):
    from mlplatform.cost.catalogue import load_catalogue
    from mlplatform.cost.attribution import load_team_contexts
    from mlplatform.cost.engine import price_graph

    contexts, warnings = load_team_contexts(prod_graph, "prod")
    report = price_graph(prod_graph, load_catalogue(), REGION, "prod", contexts, warnings)
    lines = [line for line in report.lines if line.component == "platform-anomaly-detection"]
    assert {line.type for line in lines} >= {"aws:guardduty/detectorFeature:DetectorFeature"}
    assert {line.team for line in lines} == {"platform"}
    for team in TEAMS:
        routing = [line for line in report.lines if line.component == f"{team}-anomaly-routing"]
        assert {line.type for line in routing} >= {"aws:cloudwatch/logMetricFilter:LogMetricFilter"}
        assert {line.team for line in routing} == {team}


def test_a_plan_of_some_teams_holds_exactly_their_routes():
    """A pull request's plan (mlp ci plans the changed teams) routes only those teams' findings:
    no alarm or rule points at a topic of a team the plan does not build."""
    from mlplatform.capture import capture_stack

    graph = capture_stack("prod", only_teams=frozenset({"recommendations"}))
    routing = {r.name for r in graph if r.type == TEAM_ROUTING}
    assert routing == {"recommendations-anomaly-routing"}
    assert one(graph, COMPONENT, "platform-anomaly-detection")
    targets = [r.inputs["arn"] for r in by_type(graph, TARGET)] + [
        arn for r in by_type(graph, ALARM) for arn in r.inputs.get("alarmActions", []) if isinstance(arn, str)]
    assert not [arn for arn in targets if any(f":{team}-" in arn for team in TEAMS if team != "recommendations")]
