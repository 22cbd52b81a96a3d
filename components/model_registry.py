"""ModelRegistry: a SageMaker model package group per endpoint model, and approval news.

The production path names a model by an approved package version (``model.package``);
the group is where training pipelines register candidates and reviewers approve them.
Each group gets a resource policy (the team's training role registers, its serving role
reads; nobody else), and one EventBridge rule on "SageMaker Model Package State Change"
tells the team when an approval status changes in any of its groups.

The rule's target is a topic passed in (``notification_topic_arn``), so the team's
escalation topics can replace it without touching this component; :class:`TeamNotifications`
provides the default, a KMS-encrypted topic that EventBridge may publish to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from mlplatform.naming import sagemaker_name
from mlplatform.type_tokens import MODEL_REGISTRY, TEAM_NOTIFICATIONS

from .base import SpecComponent, TeamContext
from .grants import grant_publish_to_services, topic_policy
from .iam import Principal, allow, document, from_source_account
from .managed_key import PUBLISH_ACTIONS, KeyPolicy, ManagedKey, ManagedKeyArgs

REGISTER_ACTIONS = ("sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage",
                    "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages",
                    "sagemaker:UpdateModelPackage")
READ_ACTIONS = ("sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages")
STATE_CHANGE = "SageMaker Model Package State Change"
NOTIFY_KEY_SERVICES = ("events.amazonaws.com", "sagemaker.amazonaws.com")


def package_group_name(team: str, environment: str, endpoint: str) -> str:
    """Model package group: at most 63 characters, letters, digits and hyphens."""
    return sagemaker_name(team, environment, endpoint, max_length=63)


def package_arn(region: str, account_id: str, group: str, version: int) -> str:
    return f"arn:aws:sagemaker:{region}:{account_id}:model-package/{group}/{version}"


@dataclass(frozen=True, kw_only=True)
class TeamNotificationsArgs:
    #: the team and stack
    context: TeamContext
    #: the team roles that may publish to the topic (serving, training)
    user_role_arns: list[str]
    #: the Role resources of ``user_role_arns``: the key waits for them (KMS rejects a key
    #: policy naming a principal that does not exist yet); default none
    principals: Sequence[pulumi.Resource] = ()


class TeamNotifications(SpecComponent):
    """The team's notification topic and its own KMS key (EventBridge and SageMaker may use it).

    The artifact key's policy admits only the team's roles; an encrypted topic that
    EventBridge publishes to needs a key EventBridge may use, hence a separate key.
    """

    def __init__(self, name: str, args: TeamNotificationsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context, user_role_arns, principals = args.context, args.user_role_arns, args.principals
        super().__init__(TEAM_NOTIFICATIONS, name, context.locator.at("metadata", "escalation"), opts)
        policy = (
            KeyPolicy(context.account_id)
            .grant_publishers("ServicesPublish", *NOTIFY_KEY_SERVICES)
            .grant("TeamRolesPublish", PUBLISH_ACTIONS, *user_role_arns)
        )
        self.key = ManagedKey(
            f"{name}-key",
            ManagedKeyArgs(description=f"Notifications of team {context.team} ({context.environment})",
                           policy=policy, principals=principals,
                           deletion_window_in_days=context.stack.defaults.key_deletion_window_days),
            context.stateful(parent=self),
        ).key
        self.topic_name = sagemaker_name(context.team, context.environment, "notifications", max_length=256)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=self.topic_name,
            kms_master_key_id=self.key.arn,
            opts=self.child(),
        )
        self.topic_arn = f"arn:aws:sns:{context.stack.region}:{context.account_id}:{self.topic_name}"
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=topic_policy(self.topic_arn, grant_publish_to_services(
                self.topic_arn, "EventBridgeRulesOfThisAccount", "events.amazonaws.com",
                conditions=from_source_account(context.account_id))),
            opts=self.child(),
        )
        self.register_outputs({"topicArn": self.topic_arn, "keyArn": self.key.arn})


@dataclass(frozen=True, kw_only=True)
class ModelRegistryArgs:
    #: the team and stack
    context: TeamContext
    #: spec endpoint names, one group each
    endpoint_names: list[str]
    #: the role that registers model versions (the team's training role)
    registrar_role_arn: str
    #: roles that only read (the team's serving role)
    reader_role_arns: list[str]
    #: the topic told of every approval change (the team's notification topic)
    notification_topic_arn: pulumi.Input[str]
    #: endpoint name -> extra tags of its group (a retired endpoint's reason and successor); default none
    group_tags: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the Role resources of the ARNs above: each group policy waits for them (IAM rejects a
    #: policy naming a principal that does not exist yet); default none
    principals: Sequence[pulumi.Resource] = ()


class ModelRegistry(SpecComponent):
    """Package groups with resource policies, and the approval-change rule."""

    def __init__(self, name: str, args: ModelRegistryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx = args.context
        super().__init__(MODEL_REGISTRY, name, ctx.locator.at("spec", "endpoints"), opts)
        self.group_names: dict[str, str] = {}
        self.groups: dict[str, aws.sagemaker.ModelPackageGroup] = {}
        region, account = ctx.stack.region, ctx.account_id
        for endpoint in args.endpoint_names:
            group = package_group_name(ctx.team, ctx.environment, endpoint)
            self.group_names[endpoint] = group
            self.groups[endpoint] = aws.sagemaker.ModelPackageGroup(
                f"{name}-{endpoint}",
                model_package_group_name=group,
                model_package_group_description=f"Model versions of endpoint {endpoint} of team {ctx.team}",
                tags=args.group_tags.get(endpoint),
                opts=ctx.stateful(parent=self),
            )
            group_arn = f"arn:aws:sagemaker:{region}:{account}:model-package-group/{group}"
            packages_arn = f"arn:aws:sagemaker:{region}:{account}:model-package/{group}/*"
            aws.sagemaker.ModelPackageGroupPolicy(
                f"{name}-{endpoint}-policy",
                model_package_group_name=self.groups[endpoint].model_package_group_name,
                resource_policy=document(
                    allow(REGISTER_ACTIONS, [group_arn, packages_arn], sid="TeamTrainingRegisters",
                          principal=Principal.aws(args.registrar_role_arn)),
                    allow(READ_ACTIONS, [group_arn, packages_arn], sid="TeamServingReads",
                          principal=Principal.aws(*args.reader_role_arns)),
                ),
                opts=self.child(depends_on=list(args.principals)),
            )
        self.rule = None
        if self.group_names:
            self.rule = aws.cloudwatch.EventRule(
                f"{name}-approvals",
                name=sagemaker_name(ctx.team, ctx.environment, "model-approvals", max_length=64),
                description=f"Approval status changes of team {ctx.team}'s model packages",
                event_pattern=json.dumps({
                    "source": ["aws.sagemaker"],
                    "detail-type": [STATE_CHANGE],
                    "detail": {
                        "ModelPackageGroupName": sorted(self.group_names.values()),
                        "ModelApprovalStatus": ["Approved", "Rejected", "PendingManualApproval"],
                    },
                }, sort_keys=True),
                opts=self.child(),
            )
            aws.cloudwatch.EventTarget(
                f"{name}-approvals-notify",
                rule=self.rule.name,
                target_id="team-notifications",
                arn=args.notification_topic_arn,
                opts=self.child(),
            )
        self.register_outputs({"groupNames": self.group_names})
