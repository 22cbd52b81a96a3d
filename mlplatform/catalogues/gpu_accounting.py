"""GPU accounting: how many GPUs a training queue and a team may hold, and where.

One rule, read by every place that sizes or checks GPU capacity, so they cannot disagree:
``mlp validate --stack S`` (the stack's GPU ceilings), the policy pack (MLP-CMP-002, which
counts what the plan declares), the Kueue ClusterQueue quotas and namespace ResourceQuota,
and the AWS Batch compute environments' ``maxVcpus``.

The rule (also in the README and in the schema description of ``maxGpus``):

* A queue holds at most ``maxGpus`` GPUs of its own, plus ``borrowingLimitGpus`` borrowed
  from idle quota in the platform cohort (Kueue only). That sum is the queue's GPU count;
  a team's is the sum over its queues, and it is what the stack's ceilings limit.
* With spot and an on-demand fallback, ``maxGpus`` is split: spot gets the larger half
  (``maxGpus - maxGpus // 2``), on-demand the rest. Without the fallback (or without spot)
  the one capacity gets all of it. A capacity whose share is 0 gets no capacity at all.
  Both halves can run at once (a Batch job queue fills its second environment whenever the
  first is full; Kueue tries the next flavor), which is why they share the ceiling.
* Kueue quotas are per flavor (instance type x capacity), so each capacity's share, and
  the borrowing limit the same way, is divided evenly over the queue's instance types, the
  earlier types taking the remainder: the quotas summed over flavors equal the queue's
  figures, and Kueue admits nothing the namespace ResourceQuota would then reject.
* Batch caps a compute environment in vCPUs: a share of ``g`` GPUs becomes ``maxVcpus`` of
  ``g`` times the fewest vCPUs per GPU among the queue's types
  (:func:`~mlplatform.catalogues.instances.max_vcpus_for_gpus`), so whichever types Batch
  launches, they bring at most ``g`` GPUs; :func:`batch_gpus` is its inverse.

GPU and vCPU facts come only from the instance catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Protocol, Sequence

from mlplatform.catalogues.instances import lookup, max_vcpus_for_gpus

SPOT, ON_DEMAND = "spot", "on-demand"


class QueueShape(Protocol):
    """What the rule reads of a spec training queue (``mlplatform.spec.models.TrainingQueue``)."""

    backend: str
    instance_types: list[str]
    max_gpus: int
    borrowing_limit_gpus: int
    spot: object  # .enabled, .fallback_to_on_demand


@dataclass(frozen=True)
class FlavorQuota:
    """One Kueue flavor's share of a queue: its instance type, capacity and GPU quotas."""

    instance_type: str
    capacity: str
    nominal_gpus: int
    borrowing_gpus: int


@dataclass(frozen=True)
class QueueGpus:
    """A queue's GPU count and where it may run them."""

    own: int  # maxGpus
    borrowing: int  # borrowingLimitGpus (Kueue)
    #: capacity (spot first) -> its share of ``own``; only capacities with a share
    by_capacity: dict[str, int]
    #: capacity -> its share of ``borrowing``
    borrowing_by_capacity: dict[str, int]

    @property
    def total(self) -> int:
        """The most GPUs the queue may hold at once: what counts against the ceilings."""
        return self.own + self.borrowing

    @property
    def capacities(self) -> list[str]:
        return list(self.by_capacity)


def split(gpus: int, parts: int) -> list[int]:
    """``gpus`` in ``parts`` near-equal whole shares, the earlier shares taking the remainder."""
    base, remainder = divmod(gpus, parts)
    return [base + (1 if index < remainder else 0) for index in range(parts)]


def capacity_split(gpus: int, spot: bool, fallback: bool) -> dict[str, int]:
    """``gpus`` per capacity in admission order: spot the larger half when on-demand is the fallback."""
    if not spot:
        return {ON_DEMAND: gpus}
    if not fallback:
        return {SPOT: gpus}
    return {SPOT: gpus - gpus // 2, ON_DEMAND: gpus // 2}


def queue_gpus(queue: QueueShape) -> QueueGpus:
    """The queue's GPU count and its split between spot and on-demand (see the module rule)."""
    spot, fallback = bool(queue.spot.enabled), bool(queue.spot.fallback_to_on_demand)
    own = capacity_split(queue.max_gpus, spot, fallback)
    borrowing = capacity_split(queue.borrowing_limit_gpus, spot, fallback)
    kept = [capacity for capacity, gpus in own.items() if gpus > 0]
    return QueueGpus(
        own=queue.max_gpus,
        borrowing=queue.borrowing_limit_gpus,
        by_capacity={capacity: own[capacity] for capacity in kept},
        # borrowing follows the kept capacities; a dropped capacity's borrowing goes to the first kept one
        borrowing_by_capacity=_reassign(borrowing, kept),
    )


def team_gpus(queues: Iterable[QueueShape]) -> int:
    """The most GPUs a team's queues may hold together: the figure the stack's ceilings limit."""
    return sum(queue_gpus(queue).total for queue in queues)


def flavor_quotas(queue: QueueShape) -> list[FlavorQuota]:
    """Kueue flavors of a queue in the order Kueue tries them (spot first), with GPU quotas
    that sum over flavors to the queue's ``maxGpus`` and ``borrowingLimitGpus``."""
    gpus = queue_gpus(queue)
    types = list(queue.instance_types)
    flavors = []
    for capacity in gpus.capacities:
        nominal = split(gpus.by_capacity[capacity], len(types))
        borrowing = split(gpus.borrowing_by_capacity.get(capacity, 0), len(types))
        flavors += [FlavorQuota(instance_type, capacity, nominal[index], borrowing[index])
                    for index, instance_type in enumerate(types)]
    return flavors


def batch_max_vcpus(queue: QueueShape) -> dict[str, int]:
    """``maxVcpus`` of each Batch compute environment of a queue, by capacity (spot first)."""
    return {capacity: max_vcpus_for_gpus(list(queue.instance_types), gpus)
            for capacity, gpus in queue_gpus(queue).by_capacity.items()}


def batch_gpus(instance_types: Sequence[str], max_vcpus: int) -> int:
    """The most GPUs a Batch compute environment of ``max_vcpus`` may hold: the inverse of
    :func:`~mlplatform.catalogues.instances.max_vcpus_for_gpus` (vCPUs over the fewest vCPUs
    per GPU among its types, in exact arithmetic). Types without a catalogue row or a GPU
    do not count; an environment of only such types holds no GPU."""
    ratios = [Fraction(entry.vcpus, entry.gpus) for entry in map(lookup, instance_types)
              if entry is not None and entry.gpus]
    return int(Fraction(max_vcpus) / min(ratios)) if ratios else 0


def _reassign(shares: dict[str, int], kept: list[str]) -> dict[str, int]:
    if not kept:
        return {}
    result = {capacity: shares.get(capacity, 0) for capacity in kept}
    result[kept[0]] += sum(gpus for capacity, gpus in shares.items() if capacity not in kept)
    return result
