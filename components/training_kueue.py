"""Training on Kubernetes with Kueue (backend ``kueue``).

Kueue itself is assumed installed on the cluster the stack config names
(``mlplatform:kubernetes``; its CRDs at ``kueue.x-k8s.io/v1beta2``, Kueue v0.19 or
later): this module only creates Kueue objects and the team's namespace around them.

Two components:

* :class:`KueueCluster`, one per stack and cluster: the Kubernetes provider (kubeconfig
  and context from stack config), the platform cohort and the ResourceFlavors. Flavors
  and the cohort are cluster-wide and *shared* by every team: Kueue lends idle quota
  between ClusterQueues of one cohort only per flavor, so two teams on g5.12xlarge spot
  must name the same flavor. The estate builder (:mod:`mlplatform.estate.builder`)
  creates it once at the stack root (not under a team, so removing a team never deletes a
  shared flavor) with a flavor for every queue of every team, and passes it to each
  team's :class:`TrainingQueueKueue`.
* :class:`TrainingQueueKueue`, per team: a namespace with the billing labels, a
  ResourceQuota, a LimitRange, a default-deny NetworkPolicy plus the traffic training
  needs (pod to pod in the namespace, cluster DNS, TLS to the stack's ``egressCidrs``
  only: :func:`training_egress`), a RoleBinding of the team's identity-provider group to the ``edit`` role, and
  per spec queue a ClusterQueue in the platform cohort and a LocalQueue in the namespace.

Kueue quotas are per flavor, and Kueue admits into any flavor that has quota left, so a
queue's ``maxGpus`` and ``borrowingLimitGpus`` are *divided* over its flavors (spot first,
then on-demand as fallback) by the one GPU accounting rule (:mod:`mlplatform.catalogues.gpu_accounting`): the
quotas summed over flavors are the queue's figures, and the namespace ResourceQuota caps
the team's GPU requests at the same total. Kueue never admits a workload whose pods the
quota would then reject, and a team never holds more than the ceilings validate counted.

Jobs go to a queue with the label ``kueue.x-k8s.io/queue-name: <queue>`` in the team's
namespace; the queue's timeout travels as ``kueue.x-k8s.io/max-exec-time-seconds``
(see the ``jobLabels`` output).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from mlplatform.naming import physical_name
from mlplatform.spec.models import TrainingQueue
from mlplatform.stackconfig import KubernetesCluster
from mlplatform.tagging import REQUIRED_TAG_KEYS

from .base import SpecComponent, TeamContext
from mlplatform.catalogues.gpu_accounting import flavor_quotas, team_gpus
from mlplatform.catalogues.instances import require
from mlplatform.type_tokens import KUEUE_CLUSTER, KUEUE_QUEUES

KUEUE_API_VERSION = "kueue.x-k8s.io/v1beta2"
GPU_RESOURCE = "nvidia.com/gpu"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
CAPACITIES = ("spot", "on-demand")
#: Tolerations admitted pods get: GPU nodes carry the NVIDIA device plugin's taint, and
#: the platform taints spot nodes so that only workloads that chose spot land there.
GPU_TOLERATION = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
SPOT_TOLERATION = {"key": CAPACITY_TYPE_LABEL, "operator": "Equal", "value": "spot", "effect": "NoSchedule"}
TEAM_ROLE = "edit"


#: Cluster DNS: the kube-system pods labelled ``k8s-app: kube-dns`` (CoreDNS keeps the label).
CLUSTER_DNS_PEER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
HTTPS_PORTS = [{"protocol": "TCP", "port": 443}]


def training_egress(cluster: KubernetesCluster) -> list[dict[str, Any]]:
    """Egress rules of a team's training pods: each other, cluster DNS, and TLS to the
    stack's ``egressCidrs`` (its VPC endpoints) only.

    Nothing else leaves the namespace: no route to the internet, the instance metadata
    service or other namespaces. A rule whose ``to`` is empty or absent would match every
    address, so without CIDRs there is no 443 rule at all (DNS only).
    """
    rules: list[dict[str, Any]] = [
        {"to": [{"podSelector": {}}]},  # distributed training talks pod to pod inside the namespace
        {"to": [dict(CLUSTER_DNS_PEER)], "ports": [dict(port) for port in DNS_PORTS]},
    ]
    if cluster.egress_cidrs:
        rules.append({"to": [{"ipBlock": {"cidr": cidr}} for cidr in cluster.egress_cidrs],
                      "ports": [dict(port) for port in HTTPS_PORTS]})
    return rules


def flavor_name(instance_type: str, capacity: str) -> str:
    return physical_name(instance_type.replace(".", "-"), capacity, max_length=63)


def flavor_spec(instance_type: str, capacity: str) -> dict[str, Any]:
    tolerations = [dict(GPU_TOLERATION)] + ([dict(SPOT_TOLERATION)] if capacity == "spot" else [])
    return {
        "nodeLabels": {INSTANCE_TYPE_LABEL: instance_type, CAPACITY_TYPE_LABEL: capacity},
        "tolerations": tolerations,
    }


def queue_flavors(queue: TrainingQueue) -> list[tuple[str, str]]:
    """(instance type, capacity) pairs in the order Kueue tries them: spot first, on-demand
    as the fallback, only capacities the queue's GPU split gives a share."""
    return [(flavor.instance_type, flavor.capacity) for flavor in flavor_quotas(queue)]


def k8s_labels(tags: dict[str, str]) -> dict[str, str]:
    """The billing tags as Kubernetes labels (the spec file path, not a valid label value,
    travels as an annotation)."""
    return {key: tags[key] for key in REQUIRED_TAG_KEYS if key != "spec" and key in tags}


@dataclass(frozen=True, kw_only=True)
class KueueClusterArgs:
    """What the stack config says of its Kueue cluster; the estate builder reads it."""

    #: the cluster (``mlplatform:kubernetes``): kubeconfig, context, cohort, group prefix, egress CIDRs
    cluster: KubernetesCluster
    #: the stack's environment, labelled on the shared objects
    environment: str
    #: where the cluster is configured, ``{"file": stack file, "line": line}``, recorded in the
    #: component's inputs so findings about shared objects point at the stack file
    #: (:func:`mlplatform.stackconfig.setting_source`); no default: the builder always knows it
    source: dict[str, Any]
    #: (instance type, capacity) pairs to create a shared ResourceFlavor for, in creation order
    #: (default: none; :meth:`KueueCluster.flavor` adds one on first use)
    flavors: tuple[tuple[str, str], ...] = ()


class KueueCluster(pulumi.ComponentResource):
    """Shared per stack: provider, platform cohort and ResourceFlavors (those of ``args.flavors``,
    then any other on first use)."""

    def __init__(self, name: str, args: KueueClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        cluster = args.cluster
        super().__init__(KUEUE_CLUSTER, name,
                         {"cluster": cluster.name, "source": dict(args.source)}, opts)
        self._name = name
        self.cluster = cluster
        self.labels = {"managed-by": "mlplatform", "environment": args.environment}
        self.provider = k8s.Provider(
            f"{name}-provider",
            context=cluster.context,
            kubeconfig=cluster.kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cohort = k8s.apiextensions.CustomResource(
            f"{name}-cohort",
            api_version=KUEUE_API_VERSION,
            kind="Cohort",
            metadata={"name": cluster.cohort, "labels": dict(self.labels)},
            spec={},
            opts=self.child(),
        )
        self.flavors: dict[str, k8s.apiextensions.CustomResource] = {}
        for instance_type, capacity in args.flavors:
            self.flavor(instance_type, capacity)
        self.register_outputs({"cohort": cluster.cohort})

    def child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.provider, **kwargs)

    def flavor(self, instance_type: str, capacity: str) -> k8s.apiextensions.CustomResource:
        """The shared ResourceFlavor for ``instance_type`` on ``capacity``, created once."""
        name = flavor_name(instance_type, capacity)
        if name not in self.flavors:
            self.flavors[name] = k8s.apiextensions.CustomResource(
                f"{self._name}-flavor-{name}",
                api_version=KUEUE_API_VERSION,
                kind="ResourceFlavor",
                metadata={"name": name, "labels": dict(self.labels)},
                spec=flavor_spec(instance_type, capacity),
                opts=self.child(),
            )
        return self.flavors[name]


@dataclass(frozen=True, kw_only=True)
class TrainingQueueKueueArgs:
    #: the team and stack
    context: TeamContext
    #: (index in spec.training.queues, queue) of the team's kueue queues
    queues: list[tuple[int, TrainingQueue]]
    #: the team's billing tags (labels on the namespace and queues)
    tags: dict[str, str]
    #: the team spec's project-relative path (an annotation: not a valid label value)
    spec_file: str
    #: the stack's Kueue cluster (provider, cohort, flavors) the queues join, built once by the estate
    cluster: KueueCluster


class TrainingQueueKueue(SpecComponent):
    """A team's namespace and Kueue queues on the stack's cluster."""

    def __init__(self, name: str, args: TrainingQueueKueueArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, cluster = args.context, args.cluster
        first_index = args.queues[0][0]
        super().__init__(KUEUE_QUEUES, name,
                         ctx.locator.at("spec", "training", "queues", first_index), opts)
        stack_cluster = cluster.cluster
        self.namespace = ctx.team
        labels = k8s_labels(args.tags)
        annotations = {"mlplatform.io/spec": args.spec_file}
        meta = lambda object_name, namespaced=True: {  # noqa: E731 - tiny local helper
            "name": object_name, "labels": dict(labels), "annotations": dict(annotations),
            **({"namespace": self.namespace} if namespaced else {}),
        }
        child = lambda **kwargs: pulumi.ResourceOptions(parent=self, provider=cluster.provider, **kwargs)  # noqa: E731

        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={**meta(self.namespace, namespaced=False),
                      "labels": {**labels, "pod-security.kubernetes.io/enforce": "restricted"}},
            opts=child(),
        )
        in_ns = lambda depends_on=(), **kwargs: child(depends_on=[ns, *depends_on], **kwargs)  # noqa: E731

        gpus = team_gpus(q for _, q in args.queues)
        # require() cannot fail: the spec rejects a training type without a catalogue row (gpu_instance_problem)
        cpus = sum((q.max_gpus + q.borrowing_limit_gpus) * max(require(t).vcpus_per_gpu for t in q.instance_types)
                   for _, q in args.queues)
        memory = sum((q.max_gpus + q.borrowing_limit_gpus) * max(require(t).memory_gib_per_gpu for t in q.instance_types)
                     for _, q in args.queues)
        self.resource_quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta("training-quota"),
            spec={"hard": {
                f"requests.{GPU_RESOURCE}": str(gpus),
                "requests.cpu": str(int(cpus)),
                "requests.memory": f"{int(memory)}Gi",
                "limits.memory": f"{int(memory)}Gi",
            }},
            opts=in_ns(),
        )
        defaults = ctx.stack.defaults  # what a container gets that asks for nothing: the stack's platform defaults
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta("training-defaults"),
            spec={"limits": [{
                "type": "Container",
                "defaultRequest": {"cpu": str(defaults.kueue_default_cpu_request),
                                   "memory": f"{defaults.kueue_default_memory_request_gib}Gi"},
                "default": {"cpu": str(defaults.kueue_default_cpu_limit),
                            "memory": f"{defaults.kueue_default_memory_limit_gib}Gi"},
            }]},
            opts=in_ns(),
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=meta("default-deny"),
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            opts=in_ns(),
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-allow-training",
            metadata=meta("allow-training"),
            spec={
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                # distributed training talks pod to pod inside the namespace
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": training_egress(stack_cluster),
            },
            opts=in_ns(),
        )
        self.group = f"{stack_cluster.team_group_prefix}{ctx.team}"
        k8s.rbac.v1.RoleBinding(
            f"{name}-team-edit",
            metadata=meta("team-edit"),
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": TEAM_ROLE},
            subjects=[{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": self.group}],
            opts=in_ns(),
        )

        self.cluster_queues: dict[str, k8s.apiextensions.CustomResource] = {}
        self.local_queues: dict[str, k8s.apiextensions.CustomResource] = {}
        job_labels: dict[str, dict[str, str]] = {}
        for _, queue in args.queues:
            cq_name = physical_name(ctx.team, queue.name, max_length=63)
            flavors = queue_flavors(queue)
            flavor_resources = [cluster.flavor(t, c) for t, c in flavors]
            self.cluster_queues[queue.name] = k8s.apiextensions.CustomResource(
                f"{name}-cq-{queue.name}",
                api_version=KUEUE_API_VERSION,
                kind="ClusterQueue",
                metadata=meta(cq_name, namespaced=False),
                spec=cluster_queue_spec(queue, self.namespace, stack_cluster.cohort),
                opts=child(depends_on=[*flavor_resources, cluster.cohort]),
            )
            self.local_queues[queue.name] = k8s.apiextensions.CustomResource(
                f"{name}-lq-{queue.name}",
                api_version=KUEUE_API_VERSION,
                kind="LocalQueue",
                metadata=meta(queue.name),
                spec={"clusterQueue": cq_name},
                opts=in_ns(depends_on=[self.cluster_queues[queue.name]]),
            )
            job_labels[queue.name] = {
                "kueue.x-k8s.io/queue-name": queue.name,
                "kueue.x-k8s.io/max-exec-time-seconds": str(queue.timeout_hours * 3600),
            }
        self.job_labels = job_labels
        self.register_outputs({"namespace": self.namespace, "jobLabels": job_labels, "group": self.group})


def cluster_queue_spec(queue: TrainingQueue, namespace: str, cohort: str) -> dict[str, Any]:
    """The ClusterQueue spec of one queue: per flavor (spot first) cpu, memory and GPU quota,
    the flavor's share of the queue's GPUs (:func:`~mlplatform.catalogues.gpu_accounting.flavor_quotas`) with the
    cpu and memory that many GPUs of its instance type come with."""
    covered = ["cpu", "memory", GPU_RESOURCE]
    flavors = []
    for flavor in flavor_quotas(queue):
        entry = require(flavor.instance_type)
        # borrowingLimit is always set: unset, Kueue lets a queue borrow without limit
        gpu_quota: dict[str, Any] = {"name": GPU_RESOURCE, "nominalQuota": flavor.nominal_gpus,
                                     "borrowingLimit": flavor.borrowing_gpus}
        flavors.append({
            "name": flavor_name(flavor.instance_type, flavor.capacity),
            "resources": [
                {"name": "cpu", "nominalQuota": int(flavor.nominal_gpus * entry.vcpus_per_gpu)},
                {"name": "memory", "nominalQuota": f"{int(flavor.nominal_gpus * entry.memory_gib_per_gpu)}Gi"},
                gpu_quota,
            ],
        })
    return {
        "cohortName": cohort,
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": [{"coveredResources": covered, "flavors": flavors}],
        "flavorFungibility": {"whenCanBorrow": "MayStopSearch", "whenCanPreempt": "TryNextFlavor"},
        "preemption": {
            "reclaimWithinCohort": "Any",  # take lent quota back when the team needs it
            "borrowWithinCohort": {"policy": "LowerPriority", "maxPriorityThreshold": 100},
            "withinClusterQueue": "LowerPriority",
        },
    }
