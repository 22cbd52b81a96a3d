"""CloudWatch alarm names and ARNs, shared by every component that creates or watches an alarm.

One rule for every alarm of the estate (endpoint alarms, feature freshness, drift, retraining
submissions, serving fallbacks): ``<team>-<environment>-<parts>``, at most 255 characters (the
CloudWatch limit), so an alarm's ARN is known at plan time and an EventBridge rule or a
composite alarm can name it before it exists.
"""

from __future__ import annotations

from mlplatform.naming import physical_name

from .base import TeamContext


def alarm_name(team: str, environment: str, *parts: str) -> str:
    """CloudWatch alarm: at most 255 characters."""
    return physical_name(team, environment, *parts, max_length=255)


def alarm_arn(context: TeamContext, name: str) -> str:
    return f"arn:aws:cloudwatch:{context.stack.region}:{context.account_id}:alarm:{name}"
