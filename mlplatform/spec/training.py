"""The spec's ``training`` section: GPU queues on AWS Batch or Kueue (drives
components/training_batch.py and components/training_kueue.py)."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field, model_validator

from .base import EC2_INSTANCE, NAME, RuleViolation, SpecModel, _unique_names


class Spot(SpecModel):
    """Spot capacity for training."""

    enabled: bool = Field(default=True, description="Prefer spot capacity. Defaults to true.")
    fallback_to_on_demand: bool = Field(
        default=True, description="Fall back to on-demand capacity when spot is unavailable. Defaults to true."
    )


class TrainingQueue(SpecModel):
    """A GPU training queue on AWS Batch or on Kubernetes with Kueue."""

    name: str = Field(pattern=NAME, max_length=32, description="Queue name.")
    backend: Literal["batch", "kueue"] = Field(
        default="batch", description="batch (AWS Batch) or kueue (Kueue on the stack's Kubernetes cluster). Defaults to batch."
    )
    instance_types: list[Annotated[str, Field(pattern=EC2_INSTANCE)]] = Field(
        min_length=1, description="EC2 GPU instance types the queue may launch; must be allowed by the stack."
    )
    max_gpus: int = Field(
        ge=1, le=4096,
        description="Most GPUs the queue may hold at once; with borrowingLimitGpus it counts against the stack's "
                    "ceilings. With spot and fallbackToOnDemand, spot gets the larger half (maxGpus - maxGpus // 2) "
                    "and on-demand the rest, since both can run at once; otherwise the one capacity gets all of it. "
                    "Kueue divides each share evenly over the queue's instance types.",
    )
    spot: Spot = Field(default_factory=Spot, description="Spot capacity settings.")
    timeout_hours: int = Field(default=24, ge=1, le=336, description="Longest a job may run. Defaults to 24.")
    share_weight: int = Field(
        default=1, ge=1, le=100, description="Fair-share weight against other teams' queues. Defaults to 1."
    )
    expected_gpu_hours_per_month: Optional[float] = Field(
        default=None, ge=0, description="Expected GPU-hours per month, for cost previews; unset uses the documented default."
    )
    retrains_per_month: Optional[float] = Field(
        default=None, ge=0, le=1000,
        description="Full retraining runs per month over the team's growing data, for the 12-month cost forecast; "
                    "unset keeps GPU-hours flat.",
    )
    borrowing_limit_gpus: int = Field(
        default=0, ge=0, le=4096,
        description="GPUs a kueue queue may borrow beyond maxGpus from idle quota in the platform cohort. Defaults to 0.",
    )
    scheduling_priority: int = Field(
        default=50, ge=0, le=9999,
        description="Default scheduling priority of the queue's jobs (higher runs first within the team's share). Defaults to 50.",
    )

    @model_validator(mode="after")
    def _unique_instance_types(self) -> "TrainingQueue":
        if len(set(self.instance_types)) != len(self.instance_types):
            raise RuleViolation(("instanceTypes",), "instance types are listed more than once")
        if self.borrowing_limit_gpus and self.backend != "kueue":
            raise RuleViolation(("borrowingLimitGpus",), "borrowingLimitGpus applies to backend kueue, not batch")
        from mlplatform.catalogues.instances import gpu_instance_problem, launchable_types, require  # the one source of instance facts

        for index, instance_type in enumerate(self.instance_types):
            problem = gpu_instance_problem(instance_type)
            if problem:
                raise RuleViolation(("instanceTypes", index), problem)
        if self.backend == "batch":
            from mlplatform.catalogues.gpu_accounting import queue_gpus  # the one GPU accounting rule

            smallest = min(self.instance_types, key=lambda name: require(name).gpus)
            one = require(smallest).gpus
            if not launchable_types(list(self.instance_types), self.max_gpus):
                raise RuleViolation(("maxGpus",), f"maxGpus ({self.max_gpus}) is below one instance of any listed "
                                    f"type ({smallest} has {one} GPUs): the queue could never start an instance")
            for capacity, gpus in queue_gpus(self).by_capacity.items():
                if launchable_types(list(self.instance_types), gpus):
                    continue
                raise RuleViolation(("maxGpus",), f"maxGpus ({self.max_gpus}) is split between spot and the on-demand "
                                    f"fallback, and {capacity} gets {gpus}, below one instance of any listed type "
                                    f"({smallest} has {one} GPUs): raise maxGpus to at least {2 * one} or turn the "
                                    "fallback off")
        return self


class Training(SpecModel):
    """Where the team trains."""

    queues: list[TrainingQueue] = Field(default_factory=list, description="Training queues.")
    experiment_tracking: bool = Field(
        default=False, description="Provision a managed MLflow tracking server for the team. Defaults to false."
    )
    tracking_server_size: Literal["Small", "Medium", "Large"] = Field(
        default="Small", description="Size of the MLflow tracking server (Small, Medium, Large). Defaults to Small."
    )

    @model_validator(mode="after")
    def _unique(self) -> "Training":
        _unique_names(self.queues, "queues")
        return self
