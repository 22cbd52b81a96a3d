"""Escalation: one KMS-encrypted SNS topic per alert severity, subscribed as the spec says.

Every alarm, budget notification and EventBridge rule of the team publishes to the topic
of its severity (:data:`SEVERITIES`). Targets in ``metadata.escalation`` map to SNS
subscriptions:

- ``email:<address>``       -> protocol ``email`` (the owner confirms the subscription once)
- ``https://...``           -> protocol ``https`` (a webhook that confirms SNS subscriptions)
- ``pagerduty:<service>``   -> protocol ``https`` at the stack's ``pagerDutyIntegrationUrl`` with
                               ``{service}`` replaced: PagerDuty's Amazon CloudWatch/SNS events
                               integration, which opens and resolves incidents from alarm states
- ``slack:<channel>``       -> protocol ``https`` at the stack's ``slackWebhookUrl`` (the
                               organisation's SNS-to-Slack relay) with ``{channel}`` replaced; AWS
                               Chatbot is out of scope. A stack without the setting rejects
                               slack targets (``mlp validate --stack``).

The topics are encrypted with a team key made for alerting (:class:`AlertKey`), not the
artifact key: CloudWatch, EventBridge, AWS Budgets and CloudWatch Logs can only publish to
an encrypted topic (or write an encrypted log group) when the key policy lets their
service principals use the key, and the artifact key is deliberately closed to services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import physical_name
from mlplatform.spec.models import Escalation as EscalationSpec
from mlplatform.type_tokens import ALERT_KEY, ESCALATION

from .base import SpecComponent, TeamContext
from .grants import grant_publish_to_services, topic_policy
from .iam import from_source_account
from .managed_key import KeyPolicy, ManagedKey, ManagedKeyArgs

SEVERITIES = ("critical", "warning", "info")
#: Services that publish the team's alerts; each may use the alert key and publish to the topics.
PUBLISHERS = ("budgets.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com")


def topic_name(team: str, environment: str, severity: str) -> str:
    """SNS topic: at most 256 characters, letters, digits, '-' and '_'."""
    return physical_name(team, environment, "alerts", severity, max_length=256)


def subscription(target: str, pagerduty_url: str, slack_url: Optional[str]) -> tuple[str, str]:
    """(protocol, endpoint) of one escalation target of the spec."""
    kind, _, rest = target.partition(":")
    if kind == "email":
        return "email", rest
    if kind == "https":
        return "https", target
    if kind == "pagerduty":
        return "https", pagerduty_url.replace("{service}", rest)
    # the spec's target pattern admits only these four kinds, and a slack: target only on a stack
    # with a relay (the preflight's stackchecks._escalation_issues; StackConfig for security targets)
    assert kind == "slack" and slack_url is not None, f"escalation target {target} passed validation unchecked"
    return "https", slack_url.replace("{channel}", rest.lstrip("#"))


@dataclass(frozen=True, kw_only=True)
class AlertKeyArgs:
    #: the team and stack (the stack's platform role administers the key)
    context: TeamContext


class AlertKey(SpecComponent):
    """The team's customer-managed key for alert topics and log groups."""

    def __init__(self, name: str, args: AlertKeyArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context = args.context
        super().__init__(ALERT_KEY, name, context.locator.at("metadata", "escalation"), opts)
        region, account = context.stack.region, context.account_id
        self.alias = f"alias/{physical_name(context.team, context.environment, 'alerts', max_length=240)}"
        policy = (
            KeyPolicy(account, administrator_arn=context.stack.platform_role_arn)
            .grant_publishers("AlertPublishers", *PUBLISHERS)
            .grant_cloudwatch_logs("CloudWatchLogs", region, f"arn:aws:logs:{region}:{account}:log-group:*")
        )
        self.key = ManagedKey(
            name,
            ManagedKeyArgs(description=f"Alert topics and log groups of team {context.team} ({context.environment})",
                           policy=policy, alias=self.alias,
                           deletion_window_in_days=context.stack.defaults.key_deletion_window_days),
            context.stateful(parent=self),
        ).key
        self.arn = self.key.arn
        self.register_outputs({"keyArn": self.key.arn, "alias": self.alias})


@dataclass(frozen=True, kw_only=True)
class EscalationArgs:
    #: the team and stack (the stack holds the PagerDuty and Slack URL templates)
    context: TeamContext
    #: the spec's ``metadata.escalation``: targets per severity
    escalation: EscalationSpec
    #: the team's alert key, which encrypts the topics
    key: AlertKey


class Escalation(SpecComponent):
    """The team's alert topics; :attr:`topic_arns` maps severity to topic ARN (known at plan time)."""

    def __init__(self, name: str, args: EscalationArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx = args.context
        super().__init__(ESCALATION, name, ctx.locator.at("metadata", "escalation"), opts)
        stack = ctx.stack
        self.topic_arns: dict[str, str] = {}
        self.topics: dict[str, aws.sns.Topic] = {}
        for severity in SEVERITIES:
            physical = topic_name(ctx.team, ctx.environment, severity)
            arn = f"arn:aws:sns:{stack.region}:{ctx.account_id}:{physical}"
            topic = aws.sns.Topic(
                f"{name}-{severity}",
                name=physical,
                display_name=f"{ctx.team} {severity} alerts ({ctx.environment})"[:100],
                kms_master_key_id=args.key.alias,
                opts=self.child(),
            )
            aws.sns.TopicPolicy(
                f"{name}-{severity}-policy",
                arn=topic.arn,
                policy=topic_policy(arn, grant_publish_to_services(
                    arn, "AlertServicesPublish", *PUBLISHERS,
                    conditions=from_source_account(ctx.account_id))),
                opts=self.child(),
            )
            for index, target in enumerate(getattr(args.escalation, severity)):
                protocol, endpoint = subscription(target, stack.pager_duty_integration_url, stack.slack_webhook_url)
                aws.sns.TopicSubscription(
                    f"{name}-{severity}-{index}",
                    topic=topic.arn,
                    protocol=protocol,
                    endpoint=endpoint,
                    endpoint_auto_confirms=False,
                    opts=self.child(),
                )
            self.topics[severity] = topic
            self.topic_arns[severity] = arn
        self.register_outputs({"topicArns": self.topic_arns})
