"""MLP-FLOW-ALARM-TOPIC: CloudWatch alarms publish to the SNS topics their actions name
(the topic policy, and the topic key's policy).
"""

from __future__ import annotations

from typing import Iterator

from mlplatform.graph import GraphResource
from mlplatform.type_tokens import CLOUDWATCH_COMPOSITE_ALARM, CLOUDWATCH_METRIC_ALARM

from ..declarations import Flow
from ..estate import Estate
from .steps import Actor, guard, publish_steps


def alarm_topic_flows(estate: Estate) -> Iterator[Flow]:
    notified: dict[str, list[GraphResource]] = {}
    for alarm in estate.of_type(CLOUDWATCH_METRIC_ALARM) + estate.of_type(CLOUDWATCH_COMPOSITE_ALARM):
        for field_name in ("alarmActions", "okActions", "insufficientDataActions"):
            for action in alarm.inputs.get(field_name) or []:
                if isinstance(action, str) and action.startswith("arn:aws:sns:"):
                    notified.setdefault(action, []).append(alarm)
    for topic_arn, alarms in sorted(notified.items()):
        subject = alarms[0]
        flow = Flow("MLP-FLOW-ALARM-TOPIC", f"{len(alarms)} alarm(s) notify {topic_arn.rsplit(':', 1)[-1]}", subject)
        region = topic_arn.split(":")[3]
        alarm_arn = f"arn:aws:cloudwatch:{region}:{estate.account}:alarm:{subject.inputs.get('name')}"
        actor = Actor.of_service(estate, "cloudwatch.amazonaws.com", alarm_arn)
        guard(flow, lambda: publish_steps(estate, flow, actor, topic_arn))
        yield flow
