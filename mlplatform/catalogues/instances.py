"""Instance catalogue: vCPUs, GPUs and memory per EC2 and SageMaker (ml.*) instance type.

Kept as data (``instance_catalogue.json``, with the public tables it was read from) so
that adding a type the platform approves is a one-line data change. The training
components size AWS Batch compute environments (max vCPUs from a queue's GPU ceiling)
and Kueue quotas (CPU and memory per GPU) from it, and the spec rejects a training
instance type it has no row for: sizing a queue from a guess would silently over- or
under-provision it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

DATA_FILE = Path(__file__).with_name("instance_catalogue.json")


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    gpus: int
    memory_gib: float
    gpu_model: Optional[str]
    gpu_memory_gib: float
    local_nvme: bool = False  # instance store present (SageMaker then takes no volume KMS key)

    @property
    def vcpus_per_gpu(self) -> float:
        return self.vcpus / self.gpus if self.gpus else float(self.vcpus)

    @property
    def memory_gib_per_gpu(self) -> float:
        return self.memory_gib / self.gpus if self.gpus else self.memory_gib


@functools.lru_cache(maxsize=1)
def _catalogue() -> dict[str, InstanceType]:
    data = json.loads(DATA_FILE.read_text())
    entries: dict[str, InstanceType] = {}
    for section in ("ec2", "sagemaker"):
        for name, row in data[section].items():
            entries[name] = InstanceType(
                name=name, vcpus=row["vcpus"], gpus=row["gpus"], memory_gib=row["memoryGiB"],
                gpu_model=row["gpuModel"], gpu_memory_gib=row["gpuMemoryGiB"], local_nvme=row["localNvme"],
            )
    return entries


def source() -> dict[str, str]:
    """Where the catalogue's figures come from."""
    return dict(json.loads(DATA_FILE.read_text())["source"])


def lookup(instance_type: str) -> Optional[InstanceType]:
    """The catalogue row of ``instance_type`` (EC2 ``g5.2xlarge`` or SageMaker ``ml.g5.xlarge``), or None."""
    return _catalogue().get(instance_type)


def require(instance_type: str) -> InstanceType:
    entry = lookup(instance_type)
    if entry is None:
        raise KeyError(f"instance type {instance_type} has no entry in the instance catalogue")
    return entry


def takes_volume_key(variant_instance_types: Iterable[Optional[str]]) -> bool:
    """Whether SageMaker accepts a storage-volume KMS key (``KmsKeyId``) on an endpoint config
    whose production variants run on ``variant_instance_types`` (None: a serverless variant).

    SageMaker API reference, CreateEndpointConfig ``KmsKeyId``: Nitro instances with local
    instance storage encrypt it with a hardware module, and CreateEndpointConfig fails when
    a key is given and *any* variant runs on such a type; a serverless variant has no ML
    storage volume at all. So a key is taken only when no variant is on a local-NVMe type
    and at least one variant is on an instance. A type missing from the catalogue counts as
    taking a key: an unknown type can never excuse a missing one.
    """
    types = list(variant_instance_types)
    on_instances = [name for name in types if name is not None]
    if not on_instances:
        return not types  # every variant serverless: no volume (an empty config: nothing known)
    return not any((entry := lookup(name)) is not None and entry.local_nvme for name in on_instances)


def gpu_instance_problem(instance_type: str) -> Optional[str]:
    """Why ``instance_type`` cannot back a GPU training queue, or None when it can."""
    entry = lookup(instance_type)
    if entry is None:
        known = sorted(name for name, row in _catalogue().items() if row.gpus and not name.startswith("ml."))
        return (f"GPU instance type {instance_type} has no entry in the instance catalogue "
                f"(mlplatform/catalogues/instance_catalogue.json; known: {', '.join(known)})")
    if entry.gpus == 0:
        return f"instance type {instance_type} has no GPU; training queues need GPU instance types"
    return None


def launchable_types(instance_types: list[str], max_gpus: int) -> list[str]:
    """The types of which one instance fits the vCPU cap :func:`max_vcpus_for_gpus` sets;
    the others are listed in the compute environment but Batch never launches them."""
    cap = max_vcpus_for_gpus(instance_types, max_gpus)
    return [name for name in instance_types if require(name).vcpus <= cap]


def max_vcpus_for_gpus(instance_types: list[str], max_gpus: int) -> int:
    """The vCPU cap that lets a Batch compute environment hold at most ``max_gpus`` GPUs.

    Batch caps a compute environment in vCPUs, not GPUs. The GPU ceiling is a governance
    limit (the stack's GPU ceilings are checked against it), so the cap is the GPU count
    times the *fewest* vCPUs per GPU among the queue's types: whichever types Batch
    launches, the GPUs they bring never exceed ``max_gpus``. A queue mixing a vCPU-rich
    type may then run fewer GPUs of that type than ``max_gpus``; it never runs more.
    """
    leanest = min(require(name).vcpus_per_gpu for name in instance_types)
    return int(max_gpus * leanest)
