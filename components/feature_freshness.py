"""FeatureFreshness: a warning when a feature group stops receiving records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import feature_group_name
from mlplatform.spec.models import FeatureGroup
from mlplatform.type_tokens import FEATURE_FRESHNESS

from .alarm_names import alarm_name
from .base import SpecComponent, TeamContext

FRESHNESS_METRIC = ("AWS/SageMaker", "Invocations")
FRESHNESS_OPERATION = "PutRecord"


@dataclass(frozen=True, kw_only=True)
class FeatureFreshnessArgs:
    #: the team and stack
    context: TeamContext
    #: the spec feature group (its ``maxIngestionGapMinutes`` is set)
    group: FeatureGroup
    #: the group's position in ``spec.featureGroups`` (the recorded spec source)
    index: int
    #: severity -> the team's escalation topic ARN (the alarm warns)
    topic_arns: dict[str, str]


class FeatureFreshness(SpecComponent):
    """Warns when a feature group has ingested nothing for ``maxIngestionGapMinutes``:
    no PutRecord call in one period of that length (missing data counts as none)."""

    def __init__(self, name: str, args: FeatureFreshnessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, group = args.context, args.group
        super().__init__(FEATURE_FRESHNESS, name,
                         ctx.locator.at("spec", "featureGroups", args.index, "maxIngestionGapMinutes"), opts)
        gap = group.max_ingestion_gap_minutes
        assert gap is not None  # the estate builds it only for a group with maxIngestionGapMinutes
        group_name = feature_group_name(ctx.team, ctx.environment, group.name, group.version)
        self.alarm_name = alarm_name(ctx.team, ctx.environment, "fg", group.name, f"v{group.version}", "stale")
        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-stale",
            name=self.alarm_name,
            alarm_description=f"No record ingested into {group_name} for {gap} minutes",
            namespace=FRESHNESS_METRIC[0], metric_name=FRESHNESS_METRIC[1],
            dimensions={"FeatureGroupName": group_name, "OperationName": FRESHNESS_OPERATION},
            statistic="Sum", period=gap * 60, evaluation_periods=1, datapoints_to_alarm=1,
            comparison_operator="LessThanThreshold", threshold=1, treat_missing_data="breaching",
            alarm_actions=[args.topic_arns["warning"]],
            opts=self.child(),
        )
        self.register_outputs({"alarmName": self.alarm_name})
