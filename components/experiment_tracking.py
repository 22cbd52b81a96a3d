"""ExperimentTracking: a SageMaker managed MLflow tracking server for one team.

Every team logs experiments to MLflow, one standard format comparable across projects.
The server's artifacts live under ``mlflow/`` in the team's bucket (encrypted by the
bucket's default SSE-KMS with the team's key); the server runs as its own role that can
reach only that prefix; and access to the server is granted to the team's own roles by
identity policy (MLflow servers take no resource policy, so no other principal without
broad SageMaker rights can reach it). A duty that writes (training) may log runs and
register models; a read-only duty (consumer) gets the Read/List actions only. Actions that
take the tracking-server resource are granted on its ARN, the resource-less ones
(``AccessUI``) on ``"*"``, the only resource IAM matches them on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import role_name, sagemaker_name
from mlplatform.type_tokens import EXPERIMENT_TRACKING

from .base import SpecComponent, TeamContext
from .iam import allow
from .identity import DUTIES
from .managed_key import KeyAccess
from .secure_bucket import BucketAccess
from .service_role import ServiceRoleArgs, ServiceTrust, grant_to_role, service_role

ARTIFACT_PREFIX = "mlflow/"
MAINTENANCE_WINDOW = "Sun:03:00"
# Actions of the IAM service authorization reference (as shipped by parliament), sorted by what
# they take and do; tests/test_mlflow_access.py checks these lists against it, so a new action
# fails a test until it is placed here.
#: Read/List actions on the tracking-server resource: what a read-only duty may do.
MLFLOW_READ_ACTIONS = tuple(f"sagemaker-mlflow:{action}" for action in (
    "GetDownloadURIForModelVersionArtifacts", "GetExperiment", "GetExperimentByName", "GetLatestModelVersions",
    "GetMetricHistory", "GetModelVersion", "GetModelVersionByAlias", "GetRegisteredModel", "GetRun",
    "GetTraceInfo", "ListArtifacts", "SearchExperiments", "SearchModelVersions", "SearchRegisteredModels",
    "SearchRuns", "SearchTraces",
))
#: Write actions on the tracking-server resource: logging runs, registering models, tidying up.
MLFLOW_WRITE_ACTIONS = tuple(f"sagemaker-mlflow:{action}" for action in (
    "CreateExperiment", "CreateModelVersion", "CreateRegisteredModel", "CreateRun", "DeleteExperiment",
    "DeleteModelVersion", "DeleteModelVersionTag", "DeleteRegisteredModel", "DeleteRegisteredModelAlias",
    "DeleteRegisteredModelTag", "DeleteRun", "DeleteTag", "DeleteTraceTag", "DeleteTraces", "EndTrace",
    "LogBatch", "LogInputs", "LogMetric", "LogModel", "LogParam", "RenameRegisteredModel", "RestoreExperiment",
    "RestoreRun", "SetExperimentTag", "SetModelVersionTag", "SetRegisteredModelAlias", "SetRegisteredModelTag",
    "SetTag", "SetTraceTag", "StartTrace", "TransitionModelVersionStage", "UpdateExperiment",
    "UpdateModelVersion", "UpdateRegisteredModel", "UpdateRun",
))
#: Actions that take no resource type: IAM matches them only on ``"*"`` (on the server's ARN they
#: never match, and nobody could open the UI).
MLFLOW_RESOURCELESS_ACTIONS = ("sagemaker-mlflow:AccessUI",)
#: Opening the UI from outside Studio: describe the server and mint a single-use sign-in URL.
#: ``CreatePresignedMlflowTrackingServerUrl`` is classed Write by AWS, but changes no resource:
#: the UI session then acts with the caller's own ``sagemaker-mlflow`` permissions.
URL_ACTIONS = ("sagemaker:CreatePresignedMlflowTrackingServerUrl", "sagemaker:DescribeMlflowTrackingServer")


def user_statements(server_arn: str, read_only: bool):
    """A duty's access to the server: actions with a resource type on the server's ARN, the
    resource-less ones on ``"*"``; a read-only duty gets the Read/List actions only."""
    on_server = MLFLOW_READ_ACTIONS if read_only else MLFLOW_READ_ACTIONS + MLFLOW_WRITE_ACTIONS
    return [
        allow(list(on_server + URL_ACTIONS), server_arn, sid="UseTrackingServer"),
        allow(list(MLFLOW_RESOURCELESS_ACTIONS), "*", sid="OpenMlflowUi"),
    ]


@dataclass(frozen=True, kw_only=True)
class ExperimentTrackingArgs:
    #: the team and stack
    context: TeamContext
    #: the tracking server size: Small, Medium or Large (``training.trackingServerSize``)
    size: str
    #: the team's artifact bucket, where the server stores runs
    bucket_name: str
    #: alias of the team's artifact key (``alias/...``): the server's role uses the key under it
    key_alias: str
    #: duty -> role name of the team roles that may use the server (each gets an inline policy)
    user_roles: dict[str, str]


class ExperimentTracking(SpecComponent):
    """The team's MLflow tracking server, its role and its users' permissions."""

    def __init__(self, name: str, args: ExperimentTrackingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx = args.context
        super().__init__(EXPERIMENT_TRACKING, name,
                         ctx.locator.at("spec", "training", "experimentTracking"), opts)
        self.server_name = sagemaker_name(ctx.team, ctx.environment, "mlflow", max_length=256)
        self.server_arn = f"arn:aws:sagemaker:{ctx.stack.region}:{ctx.account_id}:mlflow-tracking-server/{self.server_name}"
        store = BucketAccess(args.bucket_name)
        role = service_role(f"{name}-role", ServiceRoleArgs(
            name=role_name(ctx.team, ctx.environment, "mlflow"),
            description=f"MLflow tracking server of team {ctx.team} ({ctx.environment})",
            trusts=(ServiceTrust(service="sagemaker.amazonaws.com"),), stack=ctx.stack), self.child())
        grant_to_role(f"{name}-role-store", role.name, [
            *store.grant_list(ARTIFACT_PREFIX),
            # the server manages its artifacts: it also deletes them (a deleted run's)
            *store.grant_manage(ARTIFACT_PREFIX),
            KeyAccess(args.key_alias, ctx.stack.region, ctx.account_id).grant_encrypt_decrypt(),
            allow(["sagemaker:AddTags", "sagemaker:CreateModelPackage", "sagemaker:CreateModelPackageGroup",
                   "sagemaker:DescribeModelPackageGroup", "sagemaker:UpdateModelPackage"],
                  [f"arn:aws:sagemaker:{ctx.stack.region}:{ctx.account_id}:model-package-group/{ctx.team}-{ctx.environment}-*",
                   f"arn:aws:sagemaker:{ctx.stack.region}:{ctx.account_id}:model-package/{ctx.team}-{ctx.environment}-*"]),
        ], self.child())
        self.server = aws.sagemaker.MlflowTrackingServer(
            f"{name}-server",
            tracking_server_name=self.server_name,
            tracking_server_size=args.size,
            artifact_store_uri=f"s3://{args.bucket_name}/{ARTIFACT_PREFIX}",
            role_arn=role.arn,
            automatic_model_registration=False,
            weekly_maintenance_window_start=MAINTENANCE_WINDOW,
            opts=ctx.stateful(parent=self),
        )
        for duty, user_role in sorted(args.user_roles.items()):
            grant_to_role(f"{name}-{duty}-access", user_role,
                          user_statements(self.server_arn, read_only=DUTIES[duty].read_only), self.child())
        self.register_outputs({"trackingServerName": self.server_name, "trackingServerArn": self.server_arn})
