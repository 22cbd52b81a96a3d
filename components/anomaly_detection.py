"""Anomalous access detection (issue 16, item 3): who touches models and training data, and should not.

Built once per stack when ``mlplatform:anomalyDetection`` is on (on in prod by default,
:attr:`mlplatform.stackconfig.StackConfig.anomaly_detection_enabled`); off, nothing here
exists. The trail's CloudTrail Insights selectors are the Foundation's part
(:mod:`components.foundation`). This component adds:

* a GuardDuty detector with S3 Protection. A region of an account has exactly one detector
  (GuardDuty API reference, CreateDetector: "you can have only one detector per account per
  Region"), so the stack (one account) creates one; an account whose detector is managed by an
  Organizations delegated administrator imports it instead (``pulumi import``). S3 Protection is
  the detector feature ``S3_DATA_EVENTS`` (GuardDuty API reference, DetectorFeatureConfiguration;
  the ``DataSources`` block of CreateDetector is deprecated in its favour). Findings are
  published every 15 minutes (``FindingPublishingFrequency`` FIFTEEN_MINUTES, the shortest;
  the default is six hours for updates of existing findings).
* EventBridge rules: GuardDuty sends every finding to the default bus as source
  ``aws.guardduty``, detail-type ``GuardDuty Finding`` with the finding as ``detail``
  (EventBridge events reference, Amazon GuardDuty events). Per team and severity one rule
  matches findings about the team's buckets (``detail.resource.s3BucketDetails[].name``: S3
  Protection findings name the bucket there) or its roles (``detail.resource.accessKeyDetails
  .userName``: for credentials of an assumed role GuardDuty reports the role's name, with
  ``userType`` AssumedRole and a ``principalId`` of the role's unique id, which is not known at
  plan time, hence the name). GuardDuty has no SageMaker resource type: what an endpoint or a
  training job does, it does as the serving or training role, so those findings are matched by
  role. Severity uses EventBridge numeric matching on ``detail.severity`` with GuardDuty's
  documented bands (GuardDuty User Guide, "Severity levels of GuardDuty findings": Critical
  9.0-10.0, High 7.0-8.9, Medium 4.0-6.9, Low 1.0-3.9): Critical and High page the team's
  critical topic, Medium its warning topic, Low its info topic. One more rule sends every
  finding of the account (the stack's account holds only the estate) to the platform
  security topic, so nothing GuardDuty sees is routed nowhere.
* the platform security topic: SNS, encrypted with the platform key, subscribed to the stack's
  ``securityTargets`` (the escalation target syntax, :func:`components.escalation.subscription`);
  its policy admits EventBridge only for the security rule and CloudWatch only for this
  component's alarms (``aws:SourceArn``; both services send it when they publish to a topic).
* per team, a metric filter and an alarm on the trail's CloudWatch Logs group: ``GetObject``
  under ``models/`` of the team's artifact bucket by any principal other than the team's serving
  and training roles (the trail records every read under ``models/``, see
  :func:`components.foundation.data_event_selectors`; a denied attempt is recorded too, with its
  error code). CloudTrail names an assumed-role caller ``arn:aws:sts::<account>:assumed-role/
  <role name>/<session>`` in ``userIdentity.arn``, which the filter compares with ``!=`` and a
  ``*`` wildcard (CloudWatch Logs User Guide, "Using filter patterns to match terms in JSON log
  events"). A filter pattern holds at most 1024 characters (CloudWatch Logs API reference,
  PutMetricFilter), hence one filter per team. The alarm pages the team's critical topic and the
  security topic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.guardrails import GUARDDUTY_S3_FEATURE
from mlplatform.naming import physical_name
from mlplatform.stackconfig import StackConfig, stack_file_name
from mlplatform.type_tokens import ANOMALY_DETECTION, TEAM_ANOMALY_ROUTING

from .base import SpecComponent
from .escalation import SEVERITIES, subscription
from .grants import grant_publish_to_services, topic_policy
from .iam import from_source_account

#: EventBridge numeric ranges on ``detail.severity`` per escalation severity (GuardDuty's bands).
SEVERITY_RANGES: dict[str, list] = {
    "critical": [">=", 7],          # High 7.0-8.9 and Critical 9.0-10.0
    "warning": [">=", 4, "<", 7],   # Medium 4.0-6.9
    "info": ["<", 4],               # Low 1.0-3.9
}
FINDING_SOURCE = "aws.guardduty"
FINDING_DETAIL_TYPE = "GuardDuty Finding"
#: GuardDuty's shortest publishing interval for updates of existing findings.
FINDING_PUBLISHING_FREQUENCY = "FIFTEEN_MINUTES"
#: Where the trail records model downloads (the artifact store's model prefix).
MODEL_PREFIX = "models/"
#: CloudWatch Logs PutMetricFilter: filterPattern is at most 1024 characters.
MAX_FILTER_PATTERN = 1024
METRIC_NAMESPACE = "MLPlatform/AnomalousAccess"
METRIC_NAME = "UnexpectedModelDownloads"
ALARM_PURPOSE = "unexpected-model-downloads"


@dataclass(frozen=True, kw_only=True)
class WatchedTeam:
    """What anomaly detection needs to know of one team (all names known at plan time)."""

    #: team name (metadata.team)
    team: str
    #: physical names of the team's S3 buckets in the stack's region (GuardDuty reports them by name)
    bucket_names: tuple[str, ...]
    #: names of the team's IAM roles (GuardDuty reports an assumed role's name as accessKeyDetails.userName)
    role_names: tuple[str, ...]
    #: the bucket whose ``models/`` prefix is watched for downloads
    artifact_bucket: str
    #: ARNs of the roles that may download models (the serving and training roles); anyone else alarms
    model_reader_arns: tuple[str, ...]
    #: severity (critical, warning, info) -> ARN of the team's escalation topic
    topic_arns: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class AnomalyDetectionArgs:
    #: the stack (account, region, environment, protection, escalation URLs)
    stack: StackConfig
    #: where the platform security topic sends every finding (escalation target syntax)
    security_targets: tuple[str, ...]
    #: the platform key that encrypts the security topic (its policy lets EventBridge and CloudWatch publish)
    platform_key_arn: pulumi.Input[str]
    #: the CloudWatch Logs group the trail writes to (the teams' metric filters read it)
    trail_log_group_name: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class TeamAnomalyRoutingArgs:
    #: the stack (account, region, environment)
    stack: StackConfig
    #: what is watched of the team and where its findings go
    team: WatchedTeam
    #: the stack's anomaly detection: its security topic hears the team's model-download alarm,
    #: and its trail log group is what the team's metric filter reads
    detection: "AnomalyDetection"


def team_finding_pattern(team: WatchedTeam, severity: str) -> dict:
    """The EventBridge pattern of GuardDuty findings of ``severity`` about ``team``'s buckets or roles."""
    about: list[dict] = []
    if team.bucket_names:
        about.append({"resource": {"s3BucketDetails": {"name": sorted(team.bucket_names)}}})
    if team.role_names:
        about.append({"resource": {"accessKeyDetails": {"userName": sorted(team.role_names)}}})
    # every watched team has its artifact bucket and duty roles (mlplatform.estate.builder.watched_team)
    assert about, f"team {team.team}: no bucket or role to match GuardDuty findings on"
    detail: dict = {"severity": [{"numeric": SEVERITY_RANGES[severity]}]}
    if len(about) == 1:
        detail.update(about[0])
    else:
        detail["$or"] = about
    return {"source": [FINDING_SOURCE], "detail-type": [FINDING_DETAIL_TYPE], "detail": detail}


def all_findings_pattern() -> dict:
    """Every GuardDuty finding of the account (what the security topic hears)."""
    return {"source": [FINDING_SOURCE], "detail-type": [FINDING_DETAIL_TYPE]}


def assumed_role_arn_pattern(role_arn: str) -> str:
    """``arn:aws:iam::<account>:role/[path/]<name>`` -> the caller ARN CloudTrail records for
    any of its sessions, ``arn:aws:sts::<account>:assumed-role/<name>/*`` (the path is dropped)."""
    prefix, _, resource = role_arn.partition(":role/")
    partition, account = prefix.split(":")[1], prefix.split(":")[4]
    return f"arn:{partition}:sts::{account}:assumed-role/{resource.rsplit('/', 1)[-1]}/*"


def model_download_filter(team: WatchedTeam) -> str:
    """The CloudWatch Logs filter pattern of a model download from ``team``'s bucket by a principal
    other than its model readers (within CloudWatch Logs' 1024-character limit: see the assert)."""
    terms = [
        '($.eventName = "GetObject")',
        f'($.requestParameters.bucketName = "{team.artifact_bucket}")',
        f'($.requestParameters.key = "{MODEL_PREFIX}*")',
        *(f'($.userIdentity.arn != "{assumed_role_arn_pattern(arn)}")' for arn in sorted(team.model_reader_arns)),
    ]
    pattern = "{ " + " && ".join(terms) + " }"
    # bounded by names, not by the spec: a bucket name has at most 63 characters and a role name 64,
    # so the pattern stays far below the limit whatever the team and stack are called
    assert len(pattern) <= MAX_FILTER_PATTERN, f"team {team.team}: model download filter is {len(pattern)} characters"
    return pattern


def alarm_name(team: str, environment: str) -> str:
    """CloudWatch alarm: at most 255 characters."""
    return physical_name(team, environment, ALARM_PURPOSE, max_length=255)


class AnomalyDetection(SpecComponent):
    """The stack's GuardDuty detector with S3 protection and its platform security topic, which
    hears every finding (see the module docstring). Once per stack, like the foundation; each
    team's routes are the team's own (:class:`TeamAnomalyRouting`), built with the team, so a
    plan of some teams holds exactly those teams' routes."""

    def __init__(self, name: str, args: AnomalyDetectionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        stack = args.stack
        super().__init__(ANOMALY_DETECTION, name,
                         {"file": stack_file_name(stack.stack), "line": 1}, opts)
        self._name, self._args = name, args
        region, account = stack.region, stack.account_id
        self.trail_log_group_name = args.trail_log_group_name
        self.security_rule_name = physical_name("mlplatform", stack.stack, "guardduty-findings", max_length=64)
        self.security_rule_arn = f"arn:aws:events:{region}:{account}:rule/{self.security_rule_name}"
        self.security_topic_name = physical_name("mlplatform", stack.stack, "security-findings", max_length=256)
        self.security_topic_arn = f"arn:aws:sns:{region}:{account}:{self.security_topic_name}"

        self.detector = aws.guardduty.Detector(
            f"{name}-detector", enable=True, finding_publishing_frequency=FINDING_PUBLISHING_FREQUENCY,
            # deleting a detector deletes its findings: protected where the stack protects state
            opts=self.child(protect=stack.protect_stateful, retain_on_delete=stack.protect_stateful))
        self.s3_protection = aws.guardduty.DetectorFeature(
            f"{name}-s3-protection", detector_id=self.detector.id, name=GUARDDUTY_S3_FEATURE, status="ENABLED",
            opts=self.child())
        self.security_topic = self._security_topic()
        self.register_outputs({
            "detectorId": self.detector.id,
            "securityTopicArn": self.security_topic_arn,
        })
    def _security_topic(self) -> aws.sns.Topic:
        args, stack, name = self._args, self._args.stack, self._name
        topic = aws.sns.Topic(
            f"{name}-security-topic", name=self.security_topic_name,
            display_name=f"ML platform security findings ({stack.stack})"[:100],
            kms_master_key_id=args.platform_key_arn, opts=self.child())
        alarms = f"arn:aws:cloudwatch:{stack.region}:{stack.account_id}:alarm:*-{stack.environment}-{ALARM_PURPOSE}"
        policy = aws.sns.TopicPolicy(f"{name}-security-topic-policy", arn=topic.arn, policy=topic_policy(
            self.security_topic_arn,
            grant_publish_to_services(self.security_topic_arn, "GuardDutyFindingRulePublishes", "events.amazonaws.com",
                                      conditions={"ArnEquals": {"aws:SourceArn": self.security_rule_arn}}),
            grant_publish_to_services(self.security_topic_arn, "ModelDownloadAlarmsPublish", "cloudwatch.amazonaws.com",
                                      conditions={**from_source_account(stack.account_id),
                                                  "ArnLike": {"aws:SourceArn": alarms}}),
        ), opts=self.child())
        for index, target in enumerate(args.security_targets):
            protocol, endpoint = subscription(target, stack.pager_duty_integration_url, stack.slack_webhook_url)
            aws.sns.TopicSubscription(f"{name}-security-{index}", topic=topic.arn, protocol=protocol,
                                      endpoint=endpoint, endpoint_auto_confirms=False, opts=self.child())
        rule = aws.cloudwatch.EventRule(
            f"{name}-all-findings", name=self.security_rule_name,
            description=f"Every GuardDuty finding of stack {stack.stack} to the platform security topic",
            event_pattern=json.dumps(all_findings_pattern(), sort_keys=True), opts=self.child())
        # the ARN as a name, known at plan time (as the teams' topics are); the topic and its policy first
        aws.cloudwatch.EventTarget(f"{name}-all-findings-to-security", rule=rule.name, arn=self.security_topic_arn,
                                   target_id="security-topic", opts=self.child(depends_on=[topic, policy]))
        return topic



class TeamAnomalyRouting(SpecComponent):
    """One team's share of anomaly detection: GuardDuty findings about its buckets and roles
    routed to its escalation topics by severity, and an alarm on model downloads by anyone
    but its serving and training roles (to its critical topic and the security topic). Built
    under the team, on the team's tagged provider: the team's alerting, in the team's plan."""

    def __init__(self, name: str, args: TeamAnomalyRoutingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(TEAM_ANOMALY_ROUTING, name,
                         {"file": stack_file_name(args.stack.stack), "line": 1}, opts)
        self._name, self._args = name, args
        self.rule_names = self._team_routes(args.team)
        self._model_download_alarm(args.team)
        self.register_outputs({"ruleNames": self.rule_names})

    def _team_routes(self, team: WatchedTeam) -> dict[str, str]:
        """One rule per severity: the team's findings of that band to its topic of that severity."""
        stack, names = self._args.stack, {}
        for severity in SEVERITIES:
            rule_name = physical_name(team.team, stack.environment, "guardduty", severity, max_length=64,
                                      allowed="a-zA-Z0-9._-")
            rule = aws.cloudwatch.EventRule(
                f"{self._name}-{severity}", name=rule_name,
                description=f"GuardDuty findings about team {team.team}'s buckets and roles, {severity} band",
                event_pattern=json.dumps(team_finding_pattern(team, severity), sort_keys=True), opts=self.child())
            aws.cloudwatch.EventTarget(
                f"{self._name}-{severity}-to-team", rule=rule.name, arn=team.topic_arns[severity],
                target_id=f"{severity}-topic", opts=self.child())
            names[severity] = rule_name
        return names

    def _model_download_alarm(self, team: WatchedTeam) -> None:
        detection, stack = self._args.detection, self._args.stack
        metric = f"{METRIC_NAME}-{team.team}"
        aws.cloudwatch.LogMetricFilter(
            f"{self._name}-model-downloads", name=physical_name(team.team, stack.environment,
                                                                "model-downloads", max_length=512),
            log_group_name=detection.trail_log_group_name, pattern=model_download_filter(team),
            metric_transformation={"name": metric, "namespace": METRIC_NAMESPACE, "value": "1"},
            opts=self.child())
        aws.cloudwatch.MetricAlarm(
            f"{self._name}-model-downloads-alarm", name=alarm_name(team.team, stack.environment),
            alarm_description=(f"Model artifacts of team {team.team} were read (or tried) by a principal other than "
                               f"its serving and training roles; see the trail's GetObject events under models/"),
            namespace=METRIC_NAMESPACE, metric_name=metric, statistic="Sum", period=300, evaluation_periods=1,
            threshold=1, comparison_operator="GreaterThanOrEqualToThreshold", treat_missing_data="notBreaching",
            alarm_actions=[team.topic_arns["critical"], detection.security_topic_arn],
            opts=self.child(depends_on=[detection.security_topic]))
