"""Log groups: the team's (TeamLogGroups) and a Lambda function's, with one retention rule.

Every log group of a team is created before the service that writes to it would create it
unencrypted and kept forever: retention by the team's data classification
(:func:`log_retention_days`: the stack's ``logRetentionDays<Classification>`` platform
defaults), encryption with the team's alert key, protected where the stack protects state
(logs are records).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from mlplatform.naming import endpoint_name
from mlplatform.platform_defaults import LOG_RETENTION_FIELDS, PLATFORM_DEFAULTS
from mlplatform.spec.models import Endpoint
from mlplatform.type_tokens import TEAM_LOG_GROUPS

from .base import SpecComponent, TeamContext

#: Days log events are kept, by data classification, on a stack that overrides none of the
#: ``logRetentionDays*`` defaults (documented, with their range, in
#: :class:`mlplatform.platform_defaults.PlatformDefaults`).
LOG_RETENTION_DAYS = {classification: PLATFORM_DEFAULTS.log_retention_days(classification)
                      for classification in LOG_RETENTION_FIELDS}


def log_retention_days(context: TeamContext) -> int:
    """Days the team's log groups keep events: the stack's retention for the team's data classification."""
    return context.stack.defaults.log_retention_days(context.data_classification)


@dataclass(frozen=True, kw_only=True)
class TeamLogGroupsArgs:
    #: the team and stack (the data classification sets the retention)
    context: TeamContext
    #: (index in ``spec.endpoints``, endpoint) of every endpoint, retired ones included: a
    #: retired endpoint's logs stay
    endpoints: Sequence[tuple[int, Endpoint]]
    #: the team's alert key, which encrypts the log groups (its policy admits CloudWatch Logs)
    key_arn: pulumi.Input[str]
    #: endpoint name -> the tags of a retired endpoint's log group; default none
    retired_tags: dict[str, dict[str, str]] = field(default_factory=dict)


class TeamLogGroups(SpecComponent):
    """Log groups of the team's endpoints and jobs, created before the services create them
    unencrypted and kept forever: retention by data classification, the team's alert key.

    A retired endpoint's log group stays (its logs are records, like its artifacts) and
    carries the tags in ``args.retired_tags``.
    """

    def __init__(self, name: str, args: TeamLogGroupsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context, endpoints, key_arn, retired_tags = args.context, args.endpoints, args.key_arn, args.retired_tags
        super().__init__(TEAM_LOG_GROUPS, name, context.locator.at("metadata", "dataClassification"), opts)
        retention = log_retention_days(context)
        self.jobs_log_group = f"/mlplatform/{context.team}/{context.environment}/jobs"
        groups = {"jobs": self.jobs_log_group}
        tags: dict[str, dict[str, str]] = {}
        for _, ep in endpoints:
            if ep.mode != "batch":
                key = f"endpoint-{ep.name}"
                groups[key] = f"/aws/sagemaker/Endpoints/{endpoint_name(context.team, context.environment, ep.name)}"
                if retired_tags and ep.name in retired_tags:
                    tags[key] = retired_tags[ep.name]
        self.log_groups: dict[str, aws.cloudwatch.LogGroup] = {
            key: aws.cloudwatch.LogGroup(
                f"{name}-{key}", name=group, retention_in_days=retention, kms_key_id=key_arn, tags=tags.get(key),
                opts=context.stateful(parent=self),  # logs are records: protected in production
            )
            for key, group in groups.items()
        }
        self.names = dict(groups)
        self.register_outputs({"logGroups": sorted(groups.values()), "retentionDays": retention})


def lambda_log_group(name: str, context: TeamContext, function_name: str, key_arn: pulumi.Input[str],
                     parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
    """The log group a Lambda function writes to, encrypted and retained like the team's others.

    Protected like the team's other log groups where the stack protects state: its records
    (which windows drifted, which runs failed) are evidence an audit may ask for after the
    function is gone, so a retired endpoint leaves them behind (retained) rather than deleting them.
    """
    return aws.cloudwatch.LogGroup(
        name, name=f"/aws/lambda/{function_name}", retention_in_days=log_retention_days(context),
        kms_key_id=key_arn, opts=context.stateful(parent=parent),
    )
