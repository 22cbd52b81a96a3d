"""The estate builder: validated team specs + stack config -> components.

It neither knows nor cares whether it runs under ``pulumi up`` or the offline capture;
both call :func:`build_estate` through the same program (:mod:`mlplatform.estate.program`).
What the stack shares (the foundation, anomaly detection, the Kueue cluster) is built
here, once, from every spec, and handed to each :class:`~mlplatform.estate.team.Team`
explicitly: no component finds a shared piece, or reads the stack file, on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pulumi

from components.anomaly_detection import (AnomalyDetection, AnomalyDetectionArgs, TeamAnomalyRouting,
                                          TeamAnomalyRoutingArgs, WatchedTeam)
from components.artifact_store import artifact_bucket_name, replica_bucket_name
from components.base import SpecLocator
from components.escalation import SEVERITIES, topic_name
from components.foundation import Foundation, FoundationArgs
from components.identity import DUTIES
from components.log_forwarding import forwarding_backup_bucket
from components.training_kueue import KueueCluster, KueueClusterArgs, queue_flavors

from ..naming import role_name
from ..spec.loader import LoadedSpec
from ..stackconfig import StackConfig, project_relative, setting_source
from .preflight import preflight
from .team import Team, TeamArgs


def original_path(file: str, copied_from: Optional[tuple[Path, Path]]) -> str:
    """``file`` as it is named in the original tree when it lies in a copy of that tree."""
    if copied_from is None:
        return file
    copy, original = (Path(item).resolve() for item in copied_from)
    path = Path(file).resolve()
    return str(original / path.relative_to(copy)) if path.is_relative_to(copy) else file


def build_foundation(stack: StackConfig, specs: list[LoadedSpec]) -> Foundation:
    """The stack's shared audit and logging estate, told every team bucket it serves.

    Bucket names are derived from the specs, as the teams derive them, so the trail's data
    event selectors and the log bucket's policy are known before any team resource exists.
    """
    teams = sorted(specs, key=lambda item: item.team)
    replicas = []
    if stack.replication and stack.partner_region:
        replicas = [
            replica_bucket_name(stack, loaded.team, stack.partner_region)
            for loaded in teams if loaded.for_environment(stack.environment).spec.artifacts.replication
        ]
    return Foundation("platform", FoundationArgs(
        stack=stack,
        artifact_buckets=[artifact_bucket_name(stack, loaded.team) for loaded in teams],
        replica_buckets=tuple(replicas),
        logged_buckets=tuple(forwarding_backup_bucket(stack, loaded.team) for loaded in teams)
        if stack.log_forwarding is not None else (),
    ))


def watched_team(stack: StackConfig, team: str) -> WatchedTeam:
    """What anomaly detection watches of one team, named as the team's components name it:
    its buckets in the stack's region, its duty roles, the roles that may download models
    (serving and training, as the artifact store's bucket policy has it) and its topics."""
    role_arn = f"arn:aws:iam::{stack.account_id}:role/{{}}".format
    buckets = [artifact_bucket_name(stack, team)]
    if stack.log_forwarding is not None:
        buckets.append(forwarding_backup_bucket(stack, team))
    return WatchedTeam(
        team=team,
        bucket_names=tuple(buckets),
        role_names=tuple(role_name(team, stack.environment, duty) for duty in sorted(DUTIES)),
        artifact_bucket=artifact_bucket_name(stack, team),
        model_reader_arns=tuple(role_arn(role_name(team, stack.environment, duty)) for duty in ("serving", "training")),
        topic_arns={severity: f"arn:aws:sns:{stack.region}:{stack.account_id}:"
                              f"{topic_name(team, stack.environment, severity)}" for severity in SEVERITIES},
    )


def build_anomaly_detection(stack: StackConfig, foundation: Foundation) -> Optional[AnomalyDetection]:
    """The stack's anomalous access detection when it is on (``mlplatform:anomalyDetection``), else
    nothing: the detector and the platform security topic, once per stack like the foundation.
    Each team's routes are built with the team (:func:`build_team_anomaly_routing`)."""
    if not stack.anomaly_detection_enabled:
        return None
    settings = stack.anomaly_detection
    return AnomalyDetection("platform-anomaly-detection", AnomalyDetectionArgs(
        stack=stack,
        security_targets=tuple(settings.security_targets) if settings else (),
        platform_key_arn=foundation.key.arn,
        trail_log_group_name=foundation.trail_log_group.name,
    ), pulumi.ResourceOptions(providers={"aws": foundation.provider}))


def build_kueue_cluster(stack: StackConfig, specs: list[LoadedSpec]) -> Optional[KueueCluster]:
    """The stack's Kueue cluster with a flavor for every (type, capacity) any team's kueue
    queue uses, or None when no queue runs on Kueue.

    Built from every team's spec before any team, like the foundation, so what the stack
    shares never depends on which teams a (partial) plan builds. Created at the stack root,
    not under a team, so removing a team never deletes a shared flavor.
    """
    queues = [queue for loaded in specs for queue in loaded.for_environment(stack.environment).spec.training.queues
              if queue.backend == "kueue"]
    if not queues:
        return None
    # the preflight (stackchecks._backend_issues) rejected any kueue queue on a stack without a cluster
    assert stack.kubernetes is not None, "preflight lets no kueue queue through without mlplatform:kubernetes"
    return KueueCluster(f"kueue-{stack.kubernetes.name}", KueueClusterArgs(
        cluster=stack.kubernetes,
        environment=stack.environment,
        source=setting_source(stack.stack, "kubernetes"),
        flavors=tuple(sorted({pair for queue in queues for pair in queue_flavors(queue)})),
    ))


def build_team_anomaly_routing(stack: StackConfig, name: str, team: Team,
                               detection: AnomalyDetection) -> TeamAnomalyRouting:
    """Team ``name``'s GuardDuty routes and model-download alarm, under the team on its tagged provider."""
    return TeamAnomalyRouting(f"{name}-anomaly-routing", TeamAnomalyRoutingArgs(
        stack=stack, team=watched_team(stack, name), detection=detection,
    ), pulumi.ResourceOptions(parent=team, providers={"aws": team.provider}))


def build_estate(
    stack: StackConfig,
    specs: list[LoadedSpec],
    only_teams: Optional[frozenset[str]] = None,
    copied_from: Optional[tuple[Path, Path]] = None,
) -> dict[str, Team]:
    """The foundation, then one :class:`Team` component per spec, as the stack's environment deploys it.

    With ``only_teams``, only those teams' components are built (partial offline plans).
    ``copied_from`` is ``(copy, original)`` when the specs are a copy of another tree.
    What the stack shares (the foundation, the Kueue cluster's cohort and flavors) is
    always built from every spec, so a team's plan never depends on which others are built.
    Every team's spec and stack problems are found first (:func:`~.preflight.preflight`) and
    raised together as :class:`~mlplatform.errors.InvalidSpecs`, before any resource exists.
    """
    preflight(stack, specs)
    foundation = build_foundation(stack, specs)
    detection = build_anomaly_detection(stack, foundation)
    kueue_cluster = build_kueue_cluster(stack, specs)
    teams: dict[str, Team] = {}
    for loaded in sorted(specs, key=lambda item: item.team):
        if only_teams is not None and loaded.team not in only_teams:
            continue
        spec_file = project_relative(original_path(loaded.file, copied_from))
        spec = loaded.for_environment(stack.environment)
        locator = SpecLocator(file=spec_file, line_of=loaded.line_of, field_of=loaded.field_of,
                              column_of=loaded.column_of)
        teams[loaded.team] = Team(loaded.team, TeamArgs(spec=spec, spec_file=spec_file, locator=locator, stack=stack,
                                                        foundation=foundation, kueue_cluster=kueue_cluster))
        if detection is not None:
            build_team_anomaly_routing(stack, loaded.team, teams[loaded.team], detection)
    return teams
