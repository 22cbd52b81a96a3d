"""TrainingQueueBatch: one spec training queue on AWS Batch (backend ``batch``).

Per queue: a spot and an on-demand managed EC2 compute environment for the queue's GPU
types, a job queue that tries spot first and on-demand second (only when the spec allows
the fallback), a fair-share scheduling policy, a launch template (KMS-encrypted EBS with
the team's key, IMDSv2 required) and a job definition (timeout, retries on spot
reclaim only, scheduling priority), plus one of the same shape for every retraining job
definition a live endpoint of the team submits to this queue
(``endpoints[].retraining.jobDefinition``, named by :func:`job_definition_name`): the
estate creates every definition its retraining submissions name.

Sizing: Batch caps a compute environment in vCPUs, so ``maxVcpus`` comes from the spec's
``maxGpus`` through the instance catalogue. With an on-demand fallback the two environments
share the queue's ``maxGpus`` by the one GPU accounting rule (:mod:`mlplatform.catalogues.gpu_accounting`,
:func:`batch_max_vcpus`): Batch fills both at once, and the queue's ceiling is a
governance limit.

Submitting: a fair-share job queue rejects a job without a share identifier, and its
scheduling priority decides order within a share. :func:`submit_job_request` builds the
``SubmitJob`` request with both; :func:`submit_job` sends it with boto3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import sagemaker_name
from mlplatform.spec.models import TrainingQueue

from .base import SpecComponent, TeamContext
from mlplatform.catalogues.gpu_accounting import ON_DEMAND, SPOT, batch_max_vcpus
from .service_role import ServiceRoleArgs, ServiceTrust, service_role
from mlplatform.catalogues.instances import max_vcpus_for_gpus
from mlplatform.type_tokens import BATCH_QUEUE

#: Batch reports a reclaimed spot instance with this status reason ("Host EC2 (instance
#: i-...) terminated."); those attempts are retried (the stack's ``batchRetryAttempts``),
#: every other failure exits. The root volume (``batchRootVolumeGib``) and the fair-share
#: decay (``batchShareDecaySeconds``) are platform defaults too, read from the stack config.
SPOT_RECLAIM_STATUS_REASON = "Host EC2*"
ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
#: Placeholder image of the job definition; real jobs override it at submit time.
DEFAULT_JOB_IMAGE = "public.ecr.aws/amazonlinux/amazonlinux:2023"
#: Batch's compute resource type per capacity of the GPU accounting.
BATCH_CAPACITY = {SPOT: "SPOT", ON_DEMAND: "EC2"}


@dataclass(frozen=True, kw_only=True)
class TrainingQueueBatchArgs:
    #: the team and stack
    context: TeamContext
    #: the spec queue (``backend: batch``)
    queue: TrainingQueue
    #: the queue's position in ``spec.training.queues`` (the recorded spec source)
    index: int
    #: the team's artifact key: encrypts the instances' EBS volumes
    key_arn: pulumi.Input[str]
    #: the team's training role, which the jobs run as
    job_role_arn: str
    #: the stack's subnets the compute environment launches into
    subnet_ids: list[str]
    #: the stack's security groups of the instances
    security_group_ids: list[str]
    #: spec names (``retraining.jobDefinition`` without a revision) of the retraining job
    #: definitions this queue's component creates (the wiring gives each name to one queue);
    #: default none
    retraining_job_definitions: tuple[str, ...] = ()


def compute_environment_arn(ctx: TeamContext, name: str) -> str:
    return f"arn:aws:batch:{ctx.stack.region}:{ctx.account_id}:compute-environment/{name}"


def share_identifier(team: str) -> str:
    """The fair-share identifier of a team's jobs: the team name in camelCase
    ("fraud-detection" -> "fraudDetection"), since share identifiers take only letters and
    digits. Each queue's policy holds one team, so identifiers need not differ across teams."""
    head, *rest = team.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def weight_factor(share_weight: int) -> float:
    """Batch's ``weightFactor`` is inverse (a lower factor gets more capacity); the spec's
    ``shareWeight`` reads the natural way round (higher gets more)."""
    return round(1.0 / share_weight, 4)


def job_definition_name(team: str, environment: str, name: str) -> str:
    """A Batch job definition the estate creates (at most 128 letters, digits, hyphens and
    underscores): ``<team>-<env>-<name>``, so two teams or two stacks in one account never
    register revisions of each other's definition. ``name`` is ``<queue>-train-job`` for a
    queue's own definition and the spec's ``retraining.jobDefinition`` for a retraining one."""
    return sagemaker_name(team, environment, name, max_length=128)


def job_queue_name(team: str, environment: str, queue: str) -> str:
    """The AWS Batch job queue of a spec queue (at most 128 characters); retraining rules
    and failed-job alarms address the queue by this name."""
    return sagemaker_name(team, environment, f"{queue}-train", max_length=128)


class TrainingQueueBatch(SpecComponent):
    """AWS Batch queue, compute environments, scheduling policy and job definition for one spec queue."""

    def __init__(self, name: str, args: TrainingQueueBatchArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, queue = args.context, args.queue
        super().__init__(BATCH_QUEUE, name,
                         ctx.locator.at("spec", "training", "queues", args.index), opts)
        base = f"{queue.name}-train"
        self._args = args
        self.share_identifier = share_identifier(ctx.team)
        self.max_vcpus = max_vcpus_for_gpus(queue.instance_types, queue.max_gpus)

        instance_role = service_role(f"{name}-instance-role", ServiceRoleArgs(
            name=sagemaker_name(ctx.team, ctx.environment, f"{base}-ec2", max_length=64),
            description=f"ECS agent on Batch instances of queue {queue.name} of team {ctx.team}",
            trusts=(ServiceTrust(service="ec2.amazonaws.com"),), stack=ctx.stack), self.child())
        aws.iam.RolePolicyAttachment(
            f"{name}-instance-role-ecs", role=instance_role.name, policy_arn=ECS_INSTANCE_POLICY, opts=self.child()
        )
        profile = aws.iam.InstanceProfile(
            f"{name}-instance-profile",
            name=sagemaker_name(ctx.team, ctx.environment, f"{base}-ec2", max_length=128),
            role=instance_role.name,
            opts=self.child(),
        )
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-launch-template",
            name=sagemaker_name(ctx.team, ctx.environment, f"{base}-lt", max_length=128),
            description=f"Batch GPU instances of queue {queue.name} (team {ctx.team}): encrypted EBS, IMDSv2",
            block_device_mappings=[{
                "device_name": "/dev/xvda",
                "ebs": {
                    "encrypted": "true",
                    "kms_key_id": args.key_arn,
                    "volume_size": ctx.stack.defaults.batch_root_volume_gib,
                    "volume_type": "gp3",
                    "delete_on_termination": "true",
                },
            }],
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",  # IMDSv2 only
                "http_put_response_hop_limit": 2,  # containers on the instance reach IMDS through one hop
                "instance_metadata_tags": "disabled",
            },
            update_default_version=True,
            opts=self.child(),
        )

        self.compute_environments: dict[str, aws.batch.ComputeEnvironment] = {}
        ce_names: dict[str, str] = {}
        for label, max_vcpus in batch_max_vcpus(queue).items():  # spot first; capacities with a GPU share
            capacity = BATCH_CAPACITY[label]
            ce_names[label] = sagemaker_name(ctx.team, ctx.environment, f"{base}-{label}", max_length=128)
            self.compute_environments[label] = aws.batch.ComputeEnvironment(
                f"{name}-ce-{label}",
                name=ce_names[label],
                type="MANAGED",
                state="ENABLED",
                compute_resources={
                    "type": capacity,
                    "allocation_strategy": "SPOT_PRICE_CAPACITY_OPTIMIZED" if capacity == "SPOT" else "BEST_FIT_PROGRESSIVE",
                    "instance_types": list(queue.instance_types),
                    "min_vcpus": 0,
                    "max_vcpus": max_vcpus,
                    "subnets": list(args.subnet_ids),
                    "security_group_ids": list(args.security_group_ids),
                    "instance_role": profile.arn,
                    "launch_template": {"launch_template_id": self.launch_template.id, "version": "$Latest"},
                    "ec2_configurations": [{"image_type": "ECS_AL2023_NVIDIA"}],
                },
                opts=self.child(),
            )

        self.scheduling_policy = aws.batch.SchedulingPolicy(
            f"{name}-fair-share",
            name=sagemaker_name(ctx.team, ctx.environment, f"{base}-fair-share", max_length=128),
            fair_share_policy={
                "compute_reservation": 0,
                "share_decay_seconds": ctx.stack.defaults.batch_share_decay_seconds,
                "share_distributions": [
                    {"share_identifier": self.share_identifier, "weight_factor": weight_factor(queue.share_weight)},
                ],
            },
            opts=self.child(),
        )
        self.job_queue_name = job_queue_name(ctx.team, ctx.environment, queue.name)
        self.job_queue = aws.batch.JobQueue(
            f"{name}-job-queue",
            name=self.job_queue_name,
            state="ENABLED",
            priority=1,
            scheduling_policy_arn=self.scheduling_policy.arn,
            # ARNs derived from the deterministic names, so the order is visible in the plan
            compute_environment_orders=[
                {"order": order, "compute_environment": compute_environment_arn(ctx, name_)}
                for order, name_ in enumerate(ce_names.values(), start=1)
            ],
            opts=self.child(depends_on=list(self.compute_environments.values())),
        )
        self.job_definition_name = job_definition_name(ctx.team, ctx.environment, f"{base}-job")
        self.job_definition = self._job_definition(f"{name}-job-definition", self.job_definition_name)
        #: spec name -> physical name of the retraining job definitions created here
        self.retraining_job_definition_names: dict[str, str] = {}
        for spec_name in args.retraining_job_definitions:
            physical = job_definition_name(ctx.team, ctx.environment, spec_name)
            if physical == self.job_definition_name or physical in self.retraining_job_definition_names.values():
                continue  # the queue's own definition (or one already made): nothing to add
            self.retraining_job_definition_names[spec_name] = physical
            self._job_definition(f"{name}-retrain-job-definition-{spec_name}", physical)
        self.register_outputs({
            "jobQueueName": self.job_queue_name,
            "jobDefinitionName": self.job_definition_name,
            "retrainingJobDefinitionNames": self.retraining_job_definition_names,
            "shareIdentifier": self.share_identifier,
            "maxVcpus": self.max_vcpus,
        })

    def _job_definition(self, resource_name: str, physical_name: str) -> aws.batch.JobDefinition:
        """A container job definition for this queue: its timeout, retries on spot reclaim
        only, its scheduling priority, and the team's training role for the job."""
        args, queue = self._args, self._args.queue
        return aws.batch.JobDefinition(
            resource_name,
            name=physical_name,
            type="container",
            platform_capabilities=["EC2"],
            propagate_tags=True,
            scheduling_priority=queue.scheduling_priority,
            timeout={"attempt_duration_seconds": queue.timeout_hours * 3600},
            retry_strategy={
                "attempts": args.context.stack.defaults.batch_retry_attempts,
                "evaluate_on_exits": [
                    {"on_status_reason": SPOT_RECLAIM_STATUS_REASON, "action": "RETRY"},
                    {"on_reason": "*", "action": "EXIT"},
                ],
            },
            container_properties=json.dumps({
                "image": DEFAULT_JOB_IMAGE,
                "jobRoleArn": args.job_role_arn,
                "resourceRequirements": [
                    {"type": "VCPU", "value": "4"},
                    {"type": "MEMORY", "value": "15000"},
                    {"type": "GPU", "value": "1"},
                ],
                "readonlyRootFilesystem": False,
                "privileged": False,
                "user": "1000",
            }, sort_keys=True),
            opts=self.child(),
        )


def submit_job_request(
    job_name: str,
    job_queue: str,
    job_definition: str,
    share_identifier: str,
    scheduling_priority: Optional[int] = None,
    command: Optional[list[str]] = None,
) -> dict[str, Any]:
    """Keyword arguments for Batch ``SubmitJob`` on a fair-share queue.

    ``shareIdentifier`` is required by a fair-share queue (it rejects jobs without one);
    ``schedulingPriorityOverride`` orders the job within the team's share (the job
    definition's priority applies when it is unset).
    """
    request: dict[str, Any] = {
        "jobName": job_name,
        "jobQueue": job_queue,
        "jobDefinition": job_definition,
        "shareIdentifier": share_identifier,
    }
    if scheduling_priority is not None:
        request["schedulingPriorityOverride"] = scheduling_priority
    overrides: dict[str, Any] = {}
    if command:
        overrides["command"] = list(command)
    if overrides:
        request["containerOverrides"] = overrides
    return request


def submit_job(client: Any, **kwargs: Any) -> str:
    """Submit with a boto3 Batch client; returns the job id."""
    return client.submit_job(**submit_job_request(**kwargs))["jobId"]
