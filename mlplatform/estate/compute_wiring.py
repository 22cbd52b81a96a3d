"""Training and serving components of one team, built from its spec.

Kept out of ``team.py`` so the team component stays one line per capability: this
module decides which training backend each queue uses (and which retraining job
definitions each Batch queue creates), whether the team gets a tracking server, which
registry group and notification topic each endpoint uses, and which endpoints get an
mTLS front door and a fallback Lambda (:func:`build_edge`). Estate layer: the Kueue
cluster the team's queues join is the stack's, built by the builder and passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi

from components.base import TeamContext
from components.endpoint import ModelEndpoint, ModelEndpointArgs
from components.escalation import topic_name
from components.experiment_tracking import ExperimentTracking, ExperimentTrackingArgs
from components.front_door import FallbackTarget, FrontDoor, FrontDoorArgs, stage_throttle
from components.model_registry import ModelRegistry, ModelRegistryArgs, TeamNotifications, TeamNotificationsArgs
from components.retired_endpoint import retirement_tags
from components.retraining import live_endpoints, retraining_job_definitions
from components.serving_fallback import ServingFallback, ServingFallbackArgs
from components.training_batch import TrainingQueueBatch, TrainingQueueBatchArgs
from components.training_kueue import KueueCluster, TrainingQueueKueue, TrainingQueueKueueArgs

from ..naming import endpoint_name, role_name
from ..spec.models import TeamSpec
from ..tagging import billing_tags


@dataclass
class TeamCompute:
    batch_queues: list[TrainingQueueBatch] = field(default_factory=list)
    kueue: Optional[TrainingQueueKueue] = None
    tracking: Optional[ExperimentTracking] = None
    notifications: Optional[TeamNotifications] = None
    registry: Optional[ModelRegistry] = None
    endpoints: dict[str, ModelEndpoint] = field(default_factory=dict)


def build_compute(name: str, ctx: TeamContext, spec: TeamSpec, spec_file: str, identity, artifacts,
                  opts: pulumi.ResourceOptions, notification_topic_arn: Optional[pulumi.Input[str]] = None,
                  kueue_cluster: Optional[KueueCluster] = None) -> TeamCompute:
    """Everything the team trains and serves with; ``notification_topic_arn`` swaps the
    registry's approval notices to another topic (default: the team topic made here);
    ``kueue_cluster`` is the stack's cluster, which the team's kueue queues join."""
    body, stack = spec.spec, ctx.stack
    roles = identity.role_arns
    out = TeamCompute()
    # the job definitions live endpoints' retraining submits: created with the queue they name
    retraining = retraining_job_definitions(list(body.endpoints))
    for index, queue in enumerate(body.training.queues):
        if queue.backend == "batch":
            assert stack.network is not None, "the preflight rejects a batch queue on a stack without mlplatform:network"
            out.batch_queues.append(TrainingQueueBatch(
                f"{name}-queue-{queue.name}",
                TrainingQueueBatchArgs(context=ctx, queue=queue, index=index, key_arn=artifacts.key.arn,
                                       job_role_arn=roles["training"], subnet_ids=list(stack.network.subnet_ids),
                                       security_group_ids=list(stack.network.security_group_ids),
                                       retraining_job_definitions=retraining.get(queue.name, ())),
                opts))
    kueue_queues = [(i, q) for i, q in enumerate(body.training.queues) if q.backend == "kueue"]
    if kueue_queues:
        # the builder makes the cluster whenever any team has a kueue queue (after its preflight)
        assert kueue_cluster is not None, "the builder passes the stack's Kueue cluster to teams with kueue queues"
        out.kueue = TrainingQueueKueue(
            f"{name}-kueue",
            TrainingQueueKueueArgs(context=ctx, queues=kueue_queues, tags=billing_tags(spec, stack.environment, spec_file),
                                   spec_file=spec_file, cluster=kueue_cluster),
            pulumi.ResourceOptions(parent=opts.parent))
    if body.training.experiment_tracking:
        out.tracking = ExperimentTracking(
            f"{name}-mlflow",
            ExperimentTrackingArgs(context=ctx, size=body.training.tracking_server_size, bucket_name=artifacts.bucket_name,
                                   key_alias=artifacts.key_alias,
                                   user_roles={duty: role_name(ctx.team, ctx.environment, duty)
                                               for duty in ("training", "consumer")}),
            opts)
    if body.endpoints:
        out.notifications = TeamNotifications(f"{name}-notifications", TeamNotificationsArgs(
            context=ctx, user_role_arns=[roles["serving"], roles["training"]],
            principals=[identity.roles["serving"], identity.roles["training"]]), opts)
        out.registry = ModelRegistry(
            f"{name}-registry",
            ModelRegistryArgs(context=ctx, endpoint_names=[e.name for e in body.endpoints],
                              registrar_role_arn=roles["training"], reader_role_arns=[roles["serving"]],
                              notification_topic_arn=notification_topic_arn or out.notifications.topic.arn,
                              group_tags={e.name: retirement_tags(e) for e in body.endpoints if e.retired},
                              principals=[identity.roles["serving"], identity.roles["training"]]),
            opts)
        # a retired endpoint keeps its registry group (its model versions are records)
        # but nothing that serves: the observability component tags what stays
        for index, endpoint in live_endpoints(body.endpoints):
            out.endpoints[endpoint.name] = ModelEndpoint(
                f"{name}-endpoint-{endpoint.name}",
                ModelEndpointArgs(context=ctx, endpoint=endpoint, index=index, bucket_name=artifacts.bucket_name,
                                  key_arn=artifacts.key.arn, key_access=artifacts.key_access,
                                  serving_role_arn=roles["serving"],
                                  serving_role_name=role_name(ctx.team, ctx.environment, "serving"),
                                  package_group_name=out.registry.group_names[endpoint.name],
                                  notification_key_arn=out.notifications.key.arn, network=stack.network),
                opts)
    return out


@dataclass
class TeamEdge:
    front_doors: dict[str, FrontDoor] = field(default_factory=dict)
    fallbacks: dict[str, ServingFallback] = field(default_factory=dict)


def build_edge(name: str, ctx: TeamContext, spec: TeamSpec, artifacts, compute: TeamCompute, log_key_arn,
               opts: pulumi.ResourceOptions) -> TeamEdge:
    """A front door (and, with a fallback, the fallback Lambda behind it) for every live endpoint
    with ``exposure.mode: mtls``; ``log_key_arn`` is the team's alert key (CloudWatch Logs may use it)."""
    out = TeamEdge()
    stack = ctx.stack
    exposed = [(i, e) for i, e in live_endpoints(list(spec.spec.endpoints)) if e.exposure.mode == "mtls"]
    if not exposed:
        return out
    assert stack.edge is not None, "the preflight (stackchecks._edge_issues) rejects exposure mtls without mlplatform:edge"
    critical = f"arn:aws:sns:{stack.region}:{ctx.account_id}:{topic_name(ctx.team, ctx.environment, 'critical')}"
    for index, endpoint in exposed:
        physical = endpoint_name(ctx.team, ctx.environment, endpoint.name)
        served = compute.endpoints.get(endpoint.name)
        waits = tuple(filter(None, [served.endpoint if served else None]))
        target = None
        if endpoint.fallback is not None:
            fallback = out.fallbacks[endpoint.name] = ServingFallback(
                f"{name}-fallback-{endpoint.name}",
                ServingFallbackArgs(context=ctx, endpoint=endpoint, index=index, endpoint_name=physical,
                                    artifact_key_arn=artifacts.key.arn, artifact_key_alias=artifacts.key_alias,
                                    log_key_arn=log_key_arn, critical_topic_arn=critical,
                                    requests_per_second=stage_throttle(endpoint, ctx.stack.defaults)[0]),
                opts)
            target = FallbackTarget(function_name=fallback.function_name, function_arn=fallback.function_arn,
                                    function=fallback.function, timeout_ms=fallback.timeout_seconds * 1000)
        out.front_doors[endpoint.name] = FrontDoor(
            f"{name}-front-door-{endpoint.name}",
            FrontDoorArgs(context=ctx, endpoint=endpoint, index=index, edge=stack.edge, endpoint_name=physical,
                          bucket_name=artifacts.bucket_name, log_key_arn=log_key_arn, fallback=target,
                          depends_on=waits),
            opts)
    return out
