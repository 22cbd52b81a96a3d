"""Pricing messaging: SNS topics (publishes) and SQS queues (requests), at the documented
default volumes of :mod:`mlplatform.cost.usage`.
"""

from __future__ import annotations

from decimal import Decimal

from ...graph import GraphResource
from .. import usage as U
from ..attribution import TeamUsageContext
from ..lines import Line
from .context import Context

D = Decimal


def price_topic(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "publishes", U.DEFAULT_SNS_REQUESTS, "request", "sns.requests",
                     [f"{U.number(U.DEFAULT_SNS_REQUESTS)} publishes/month (default)"])]


def price_queue(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "requests", U.DEFAULT_SQS_REQUESTS, "request",
                     "sqs.requests.standard", [f"{U.number(U.DEFAULT_SQS_REQUESTS)} requests/month (default)",
                                               "first 1M requests/month free tier not applied"])]

