"""PipelineFailures: one EventBridge rule that tells the team when any of its jobs fails."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from mlplatform.naming import physical_name
from mlplatform.type_tokens import PIPELINE_FAILURES

from .base import SpecComponent, TeamContext


def failed_jobs_pattern(team: str, environment: str, batch_queue_arns: Sequence[str]) -> dict:
    """EventBridge pattern: a job of the team failed. Batch jobs are matched by the team's
    queues; Glue jobs and SageMaker training and batch-transform jobs by the team's
    ``<team>-<env>-`` name prefix, the platform's naming rule."""
    prefix = [{"prefix": f"{team}-{environment}-"}]
    patterns = [
        {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
         "detail": {"state": ["FAILED", "TIMEOUT", "ERROR"], "jobName": prefix}},
        {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"],
         "detail": {"TrainingJobStatus": ["Failed"], "TrainingJobName": prefix}},
        {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Transform Job State Change"],
         "detail": {"TransformJobStatus": ["Failed"], "TransformJobName": prefix}},
    ]
    if batch_queue_arns:
        patterns.insert(0, {"source": ["aws.batch"], "detail-type": ["Batch Job State Change"],
                            "detail": {"status": ["FAILED"], "jobQueue": sorted(batch_queue_arns)}})
    return {"$or": patterns}


@dataclass(frozen=True, kw_only=True)
class PipelineFailuresArgs:
    #: the team and stack
    context: TeamContext
    #: ARNs of the team's AWS Batch job queues (none when the team has no Batch queue)
    batch_queue_arns: Sequence[str]
    #: severity -> the team's escalation topic ARN (the rule targets ``warning``)
    topic_arns: dict[str, str]


class PipelineFailures(SpecComponent):
    """An EventBridge rule on the team's failed Batch, Glue and SageMaker jobs, to the warning topic."""

    def __init__(self, name: str, args: PipelineFailuresArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context, batch_queue_arns, topic_arns = args.context, args.batch_queue_arns, args.topic_arns
        super().__init__(PIPELINE_FAILURES, name, context.locator.at("spec", "training"), opts)
        pattern = failed_jobs_pattern(context.team, context.environment, batch_queue_arns)
        self.rule_name = physical_name(context.team, context.environment, "failed-jobs", max_length=64)
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule", name=self.rule_name, description=f"Failed Batch, Glue and SageMaker jobs of team {context.team}",
            event_pattern=json.dumps(pattern, sort_keys=True), opts=self.child(),
        )
        aws.cloudwatch.EventTarget(
            f"{name}-to-warning", rule=self.rule.name, arn=topic_arns["warning"], target_id="warning-topic",
            opts=self.child(),
        )
        self.register_outputs({"ruleName": self.rule_name})
