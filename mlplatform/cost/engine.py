"""Cost engine: price every resource of a ResourceGraph, line by line.

Each billable resource becomes one or more :class:`Line` objects, ``quantity x unit
price``, found by its pulumi-aws type token. Quantities come from the plan's inputs
(instance types and counts, autoscaling ranges, retention) and, for load, from the team
spec the resource was built from (matched through the resource's ``source`` position, so
a saved graph, a ``pulumi preview --json`` or a stack export is priced the same way as a
fresh capture). Prices come from the catalogue, for the region the resource is deployed
in: its provider's ``region`` input (a replica bucket on the partner-region provider is
priced at the partner region's rates), else the stack's region. A price the catalogue
lacks for that region leaves the line UNKNOWN with the reason (and the catalogue's
recorded gap, when it has one): it is shown and counted, never added as zero and never
borrowed from another region. Resources that cost nothing
are named in :data:`FREE_TYPES` with the reason; a type that is neither priced nor free
is reported as an unknown type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from ..errors import SpecError
from ..graph import GraphResource, ResourceGraph, is_unknown
from ..spec.loader import LoadedSpec, load_spec_file
from ..spec.models import Endpoint, FeatureGroup, TeamSpec, TrainingQueue
from ..stackconfig import PROJECT_ROOT
from . import edge
from . import usage as U
from .catalogue import Catalogue, Price

D = Decimal
CENT = D("0.01")
TEAM_COMPONENT = "mlplatform:team:Team"
FOUNDATION_COMPONENT = "mlplatform:platform:Foundation"
#: components that hold the stack's shared estate outside any team: billed to the platform
#: the stack's anomaly detection (components/anomaly_detection.py), one per stack like the foundation
ANOMALY_DETECTION_COMPONENT = "mlplatform:anomaly:AnomalyDetection"
PLATFORM_COMPONENTS = {FOUNDATION_COMPONENT, ANOMALY_DETECTION_COMPONENT, "mlplatform:training:KueueCluster"}
UNASSIGNED = "(no team)"

#: Types that cost nothing by themselves, with the reason shown in the report.
FREE_TYPES: dict[str, str] = {
    "aws:iam/role:Role": "IAM has no charge",
    "aws:iam/rolePolicy:RolePolicy": "IAM has no charge",
    "aws:iam/policy:Policy": "IAM has no charge",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM has no charge",
    "aws:iam/instanceProfile:InstanceProfile": "IAM has no charge",
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": "IAM has no charge",
    "aws:kms/alias:Alias": "an alias is part of its key (priced on the key)",
    "aws:s3/bucketPolicy:BucketPolicy": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketVersioning:BucketVersioning": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketVersioningV2:BucketVersioningV2": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2":
        "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":
        "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketLogging:BucketLogging": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketLoggingV2:BucketLoggingV2": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketNotification:BucketNotification": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2":
        "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "bucket configuration; storage is priced on the bucket",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "registry configuration; storage is priced on the repository",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "registry configuration; storage is priced on the repository",
    "aws:budgets/budget:Budget": "Budgets are free (Infracost's free list)",
    "aws:batch/jobQueue:JobQueue": "a queue; compute is priced on its compute environment (Infracost's free list)",
    "aws:batch/jobDefinition:JobDefinition": "a definition; compute is priced on the compute environment",
    "aws:batch/schedulingPolicy:SchedulingPolicy": "a fair-share policy; compute is priced on the compute environment",
    "aws:sagemaker/model:Model": "a model definition; instances are priced on the endpoint configuration",
    "aws:sagemaker/endpoint:Endpoint": "instances are priced on its endpoint configuration",
    "aws:appautoscaling/target:Target": "scaling range; used to price the endpoint's instances",
    "aws:appautoscaling/policy:Policy": "scaling policy; used to price the endpoint's instances",
    "aws:lambda/permission:Permission": "a resource policy entry",
    "aws:sns/topicSubscription:TopicSubscription": "deliveries are priced on the topic",
    "aws:sns/topicPolicy:TopicPolicy": "a resource policy",
    "aws:appautoscaling/scheduledAction:ScheduledAction":
        "a scaling schedule; the off-peak window it applies is priced in the endpoint's instance-hours",
    "aws:cloudwatch/eventRule:EventRule":
        "matches events from AWS services (alarm state changes, schedules); EventBridge does not charge for AWS service events",
    "aws:cloudwatch/eventTarget:EventTarget": "delivery of a rule's matches; what the target runs is priced on that target",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter":
        "log group configuration; ingestion is priced on the log group and delivery on the destination stream",
    "aws:ec2/launchTemplate:LaunchTemplate": "a template; instances launched from it are priced on the compute environment",
    "aws:glue/catalogDatabase:CatalogDatabase":
        "a Data Catalog object: the first million objects stored and requests a month are free (AWS Glue pricing)",
    "aws:glue/catalogTable:CatalogTable":
        "a Data Catalog object: the first million objects stored and requests a month are free (AWS Glue pricing)",
    "aws:glue/registry:Registry": "Glue Schema Registry is free to use (AWS Glue docs)",
    "aws:glue/schema:Schema": "Glue Schema Registry is free to use (AWS Glue docs)",
    "aws:glue/dataQualityRuleset:DataQualityRuleset":
        "a ruleset stored in the Data Catalog; evaluation runs are billed per DPU-hour to the jobs that start them",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition":
        "a job definition; its processing instances are priced on the monitoring schedule that runs it",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
        "a registry entry; model artifacts are stored (and priced) in the team's bucket",
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": "a resource policy",
    "aws:scheduler/schedule:Schedule":
        "EventBridge Scheduler: the first 14 million invocations a month are free; the job it starts is billed by its own service",
    "aws:sfn/stateMachine:StateMachine":
        "Step Functions Standard workflows: the first 4,000 state transitions a month are free, indefinitely (AWS "
        "Step Functions pricing); a retraining submission takes a few per run. The Batch job it submits is priced "
        "on the compute environment",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "a resource policy; the secret is priced on the secret",
    "aws:secretsmanager/secretVersion:SecretVersion": "a version of a secret; the secret is priced per month",
    "aws:sqs/queuePolicy:QueuePolicy": "a resource policy; requests are priced on the queue",
}

KUEUE_QUEUE_MARK = "kueue.x-k8s.io"
#: which spec section a resource type's usage comes from, when matched by name
SECTION_OF_TYPE = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": "endpoints",
    "aws:batch/computeEnvironment:ComputeEnvironment": "queues",
    "aws:sagemaker/featureGroup:FeatureGroup": "featureGroups",
}


@dataclass
class Line:
    """One priced (or unpriceable) quantity of one resource."""

    team: str
    component: str
    urn: str
    resource: str
    type: str
    item: str
    quantity: Decimal
    unit: str
    sku: Optional[str]
    price: Optional[Price] = None
    unit_usd: Optional[Decimal] = None
    assumptions: list[str] = field(default_factory=list)
    #: "priced", "unknown-price", "unknown-type", "free"
    status: str = "priced"
    #: month-on-month quantity growth, and whether the quantity scales with the team's data
    growth_per_month: Decimal = D(0)
    scales_with_data: bool = False
    #: endpoint key (team, endpoint name) this line belongs to, for cost per 1,000 inferences
    endpoint: Optional[tuple[str, str]] = None
    #: region the line is priced in (its resource's provider region, else the stack's)
    region: Optional[str] = None
    #: why an UNKNOWN line has no price ("no sourced price for SKU in REGION", ...)
    reason: Optional[str] = None
    #: the catalogue's recorded reason for a missing price (its ``gaps``), when it has one
    gap: Optional[str] = None

    def __post_init__(self) -> None:
        if self.status.startswith("unknown") and self.reason is None:
            # an unpriced line always says why; the pricers record it as their last note
            self.reason = self.assumptions[-1] if self.assumptions else "not priced"

    @property
    def monthly(self) -> Optional[Decimal]:
        if self.status == "free":
            return D(0)
        if self.unit_usd is None:
            return None
        return self.quantity * self.unit_usd

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.urn, self.item, self.sku or "")

    def to_json(self) -> dict[str, Any]:
        monthly = self.monthly
        return {
            "team": self.team, "component": self.component, "urn": self.urn, "resource": self.resource,
            "type": self.type, "item": self.item, "quantity": format(self.quantity.normalize(), "f"), "unit": self.unit,
            "sku": self.sku, "unitUsd": format(self.unit_usd, "f") if self.unit_usd is not None else None,
            "monthlyUsd": money_json(monthly), "status": self.status, "assumptions": self.assumptions,
            "price": self.price.to_json() if self.price else None, "region": self.region,
            "unpricedReason": self.reason, "catalogueGap": self.gap,
        }

    def describe_unpriced(self) -> str:
        """One line naming what has no price and why: ``RESOURCE ITEM: REASON (catalogue: GAP)``."""
        from .catalogue import gap_summary

        gap = f" (catalogue: {gap_summary(self.gap)})" if self.gap else ""
        return f"{self.resource} {self.item}: {self.reason}{gap}"


def money_json(value: Optional[Decimal]) -> Optional[str]:
    return None if value is None else format(value.quantize(CENT), "f")


@dataclass
class EndpointMetric:
    team: str
    endpoint: str
    requests: Decimal
    monthly: Optional[Decimal]
    unknown_lines: int

    @property
    def per_thousand(self) -> Optional[Decimal]:
        if self.monthly is None or not self.requests:
            return None
        return self.monthly / self.requests * 1000


@dataclass
class TeamUsageContext:
    """What the engine knows about one team: its spec as this environment deploys it."""

    team: str
    spec: Optional[TeamSpec]
    entity_at_line: dict[int, tuple[str, int]] = field(default_factory=dict)

    #: the graph, to read a resource's parent component names (set by price_graph)
    graph: Optional[ResourceGraph] = None

    def entity(self, resource: GraphResource) -> Optional[tuple[str, int]]:
        """The spec entry a resource was built from: by the spec line its component
        records, else by the entry's name appearing in the resource's or its component's
        name (for components that record a more specific line)."""
        if resource.source is not None and resource.source.line in self.entity_at_line:
            return self.entity_at_line[resource.source.line]
        return self._by_name(resource)

    def _by_name(self, resource: GraphResource) -> Optional[tuple[str, int]]:
        if self.spec is None:
            return None
        section = SECTION_OF_TYPE.get(resource.type)
        if section is None and KUEUE_QUEUE_MARK in resource.type:
            section = "queues"
        if section is None:
            return None
        entries = {"endpoints": self.spec.spec.endpoints, "featureGroups": self.spec.spec.feature_groups,
                   "queues": self.spec.spec.training.queues}[section]
        names = [resource.name]
        parent = self.graph.get(resource.parent) if self.graph is not None and resource.parent else None
        if parent is not None and not parent.custom:
            names.append(parent.name)
        found = None
        for index, entry in enumerate(entries):
            pattern = re.compile(rf"(^|-){re.escape(entry.name)}(-|$)")
            if any(pattern.search(name) for name in names):
                if found is None or len(entry.name) > len(entries[found].name):
                    found = index
        return (section, found) if found is not None else None

    def endpoint(self, resource: GraphResource) -> Optional[Endpoint]:
        found = self.entity(resource)
        if self.spec is None or not found or found[0] != "endpoints":
            return None
        return self.spec.spec.endpoints[found[1]]

    def feature_group(self, resource: GraphResource) -> Optional[FeatureGroup]:
        found = self.entity(resource)
        if self.spec is None or not found or found[0] != "featureGroups":
            return None
        return self.spec.spec.feature_groups[found[1]]

    def queue(self, resource: GraphResource) -> Optional[TrainingQueue]:
        found = self.entity(resource)
        if self.spec is None or not found or found[0] != "queues":
            return None
        return self.spec.spec.training.queues[found[1]]

    def is_artifacts(self, resource: GraphResource) -> bool:
        found = self.entity(resource)
        return bool(found and found[0] == "artifacts")


def spec_context(loaded: LoadedSpec, environment: str) -> TeamUsageContext:
    """Map the spec lines components record as ``source`` back to the spec entries."""
    spec = loaded.for_environment(environment)
    lines: dict[int, tuple[str, int]] = {}
    base = loaded.spec.spec
    for index in range(len(base.endpoints)):
        lines[loaded.line_of(("spec", "endpoints", index))] = ("endpoints", index)
    for index in range(len(base.feature_groups)):
        lines[loaded.line_of(("spec", "featureGroups", index))] = ("featureGroups", index)
    for index in range(len(base.training.queues)):
        lines[loaded.line_of(("spec", "training", "queues", index))] = ("queues", index)
    # ArtifactStore records ("spec", "artifacts"): the section's line, or the nearest
    # written ancestor when the spec leaves the section out, exactly as the component does
    lines.setdefault(loaded.line_of(("spec", "artifacts")), ("artifacts", 0))
    return TeamUsageContext(loaded.team, spec, lines)


@dataclass
class CostReport:
    stack: str
    region: str
    environment: str
    catalogue_version: str
    lines: list[Line]
    budgets: dict[str, Any]
    endpoints: list[EndpointMetric]
    data_growth: dict[str, tuple[Decimal, Decimal]]
    warnings: list[str] = field(default_factory=list)

    def teams(self) -> list[str]:
        return sorted(set(self._by_team()) | set(self.budgets))

    def team_lines(self, team: str) -> list[Line]:
        return self._by_team().get(team, [])

    def _by_team(self) -> dict[str, list[Line]]:
        # built once: reports ask per team many times, and estates have hundreds of teams
        index = self.__dict__.get("_team_index")
        if index is None or index[0] != len(self.lines):
            grouped: dict[str, list[Line]] = {}
            for line in self.lines:
                grouped.setdefault(line.team, []).append(line)
            index = (len(self.lines), grouped)
            self.__dict__["_team_index"] = index
        return index[1]

    def total(self, team: Optional[str] = None) -> Decimal:
        lines = self.lines if team is None else self.team_lines(team)
        return sum((line.monthly for line in lines if line.monthly is not None), D(0))

    def unknown(self, team: Optional[str] = None) -> list[Line]:
        lines = self.lines if team is None else self.team_lines(team)
        return [line for line in lines if line.status.startswith("unknown")]

    def forecast(self, team: Optional[str] = None, months: int = 12) -> list[Decimal]:
        """Known monthly cost for months 1..``months`` (month 1 is today's plan) from data
        growth (storage lines grow linearly) and retraining (GPU-hours of queues that
        retrain scale with the team's artifact data)."""
        lines = self.lines if team is None else self.team_lines(team)
        result = []
        for month in range(months):
            total = D(0)
            for line in lines:
                if line.monthly is None:
                    continue
                quantity = line.quantity + line.growth_per_month * month
                if line.scales_with_data:
                    start, growth = self.data_growth.get(line.team, (D(0), D(0)))
                    if start:
                        quantity = quantity * (start + growth * month) / start
                total += quantity * (line.unit_usd or D(0))
            result.append(total)
        return result


# ---------------------------------------------------------------- pricing context

@dataclass
class Context:
    #: region the stack's own resources are priced in (the stack's, or ``--region``)
    region: str
    catalogue: Catalogue
    graph: ResourceGraph
    teams: dict[str, TeamUsageContext]
    #: the stack's deployment region: resources whose provider is there are priced in
    #: :attr:`region` (so ``--region`` can price the stack elsewhere); None = :attr:`region`
    home_region: Optional[str] = None
    #: requests a month per endpoint (team, endpoint), for cost per 1,000 inferences
    requests: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    _targets: Optional[dict] = None
    _environments: Optional[dict] = None
    _job_definitions: Optional[dict] = None
    _provider_regions: dict[str, str] = field(default_factory=dict)

    def region_of(self, resource: GraphResource) -> str:
        """The region ``resource`` is deployed in, hence priced in: its provider's
        ``region`` input (pulumi-aws providers take it as an input), else the stack's."""
        reference = resource.provider
        if not reference:
            return self.region
        if reference not in self._provider_regions:
            # a provider reference is its URN, or "URN::ID" in previews and exports
            provider = self.graph.get(reference) or self.graph.get(reference.rsplit("::", 1)[0])
            found = provider.inputs.get("region") if provider is not None else None
            if not isinstance(found, str) or not found or is_unknown(found) or found == (self.home_region or self.region):
                found = self.region
            self._provider_regions[reference] = found
        return self._provider_regions[reference]

    def targets(self) -> dict[tuple[str, int], list[GraphResource]]:
        if self._targets is None:
            self._targets = _by_source(self.graph, "aws:appautoscaling/target:Target")
        return self._targets

    def queue_environments(self, team: str, entry: Optional[tuple[str, int]]) -> list[GraphResource]:
        """The compute environments built for one team's training queue (spot and on-demand)."""
        if self._environments is None:
            groups: dict[tuple[str, Optional[tuple[str, int]]], list[GraphResource]] = {}
            for resource in self.graph:
                if resource.type == "aws:batch/computeEnvironment:ComputeEnvironment":
                    name = _team_and_component(self.graph, resource)[0]
                    context = self.teams.get(name)
                    if context is not None:
                        groups.setdefault((name, context.entity(resource)), []).append(resource)
            self._environments = groups
        return self._environments.get((team, entry), []) if entry is not None else []

    def job_definition(self, name: Any) -> Optional[GraphResource]:
        """A SageMaker monitoring job definition by the name a schedule refers to it by."""
        if self._job_definitions is None:
            self._job_definitions = {
                str(r.inputs.get("name") or r.name): r for r in self.graph
                if r.type.startswith("aws:sagemaker/") and r.type.endswith("JobDefinition")}
        return self._job_definitions.get(name) if isinstance(name, str) else None

    def line(self, resource: GraphResource, team: str, component: str, item: str, quantity: Decimal, unit: str,
             sku: Optional[str], assumptions: Iterable[str] = (), unit_usd: Optional[Decimal] = None,
             price_note: Optional[str] = None, reason: Optional[str] = None, **extra: Any) -> Line:
        """A line priced at the catalogue's price for ``sku`` in the resource's region, or
        UNKNOWN with the reason (``reason`` when there is no SKU to look up)."""
        region = self.region_of(resource)
        price = self.catalogue.price(sku, region) if sku else None
        notes = list(assumptions)
        gap = None
        if price is not None:
            if unit_usd is None:
                unit_usd = price.usd
            if price_note:
                notes.append(price_note)
            status = "priced"
        else:
            unit_usd = None
            status = "unknown-price"
            reason = f"no sourced price for {sku} in {region}" if sku else (reason or "nothing to price it by")
            gap = self.catalogue.gap(sku, region) if sku else None
            notes.append(reason)
        return Line(team, component, resource.urn, resource.name, resource.type, item, quantity, unit, sku, price,
                    unit_usd, notes, status, region=region, reason=reason if status != "priced" else None, gap=gap,
                    **extra)


Pricer = Callable[[Context, GraphResource, TeamUsageContext, str], list[Line]]


def _num(value: Any) -> Optional[int]:
    if isinstance(value, bool) or is_unknown(value):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _by_source(graph: ResourceGraph, type_token: str) -> dict[tuple[str, int], list[GraphResource]]:
    """Resources of one type grouped by the spec position they were built from."""
    found: dict[tuple[str, int], list[GraphResource]] = {}
    for resource in graph:
        if resource.type == type_token and resource.source is not None:
            found.setdefault((resource.source.file, resource.source.line), []).append(resource)
    return found


def _target_for_variant(targets: list[GraphResource], variant: str, first: bool) -> Optional[GraphResource]:
    for target in targets:
        resource_id = target.inputs.get("resourceId")
        if isinstance(resource_id, str) and not is_unknown(resource_id) and resource_id.endswith(f"/variant/{variant}"):
            return target
    unnamed = [t for t in targets if not (isinstance(t.inputs.get("resourceId"), str)
                                          and "/variant/" in t.inputs.get("resourceId", ""))]
    return unnamed[0] if first and len(unnamed) == 1 else None


def price_endpoint_configuration(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    endpoint = team.endpoint(resource)
    endpoint_key = (team.team, endpoint.name if endpoint else resource.name)
    targets = ctx.targets().get((resource.source.file, resource.source.line), []) if resource.source else []
    lines: list[Line] = []
    variants = [(v, False) for v in resource.inputs.get("productionVariants") or []]
    variants += [(v, True) for v in resource.inputs.get("shadowProductionVariants") or []]
    is_async = bool(resource.inputs.get("asyncInferenceConfig")) or (endpoint is not None and endpoint.mode == "async")
    for index, (variant, shadow) in enumerate(variants):
        if not isinstance(variant, dict):
            continue
        name = str(variant.get("variantName") or f"variant-{index}")
        label = f"{'shadow ' if shadow else ''}variant {name}"
        serverless = variant.get("serverlessConfig")
        if isinstance(serverless, dict) and serverless:
            use = U.serverless_usage(endpoint, _num(serverless.get("memorySizeInMb")))
            lines.append(ctx.line(resource, team.team, component, f"{label}: serverless compute", use.gb_seconds,
                                  "GB-second", "sagemaker.serverless.compute", use.assumptions,
                                  endpoint=endpoint_key))
            if index == 0 and not shadow:
                ctx.requests[endpoint_key] = use.requests
            continue
        instance = variant.get("instanceType")
        if not isinstance(instance, str) or is_unknown(instance):
            lines.append(Line(team.team, component, resource.urn, resource.name, resource.type, f"{label}: instances",
                              D(0), "hour", None, assumptions=["instance type unknown in the plan"],
                              status="unknown-price", endpoint=endpoint_key))
            continue
        primary = index == 0 and not shadow
        target = _target_for_variant(targets, name, first=primary)
        minimum = maximum = None
        if target is not None:
            minimum, maximum = _num(target.inputs.get("minCapacity")), _num(target.inputs.get("maxCapacity"))
        initial = _num(variant.get("initialInstanceCount"))
        if primary and endpoint is not None:
            # the plan's scaling range when it has one, else the spec's; load from the spec
            use = U.endpoint_usage(endpoint, minimum, maximum, initial)
        elif target is not None and minimum is not None and maximum is not None:
            use = U.endpoint_usage(None, minimum, maximum, initial)
        else:
            use = U.endpoint_usage(None, None, None, initial)
        sku = f"sagemaker.{'async' if is_async else 'hosting'}:{instance}"
        notes = list(use.assumptions)
        if primary:
            notes.append(f"{U.number(use.requests.quantize(D(1)))} requests/month")
            ctx.requests[endpoint_key] = use.requests
        lines.append(ctx.line(resource, team.team, component, f"{label}: {instance} instance-hours", use.instance_hours,
                              "hour", sku, notes, endpoint=endpoint_key))
    return lines


def _queue_lines(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str,
                 queue: Optional[TrainingQueue], instance_type: Optional[str], share: Optional[str]) -> list[Line]:
    """Training lines for a queue; ``share`` limits them to "spot" or "on-demand" capacity."""
    if queue is None:
        return [Line(team.team, component, resource.urn, resource.name, resource.type, "training instance-hours",
                     D(0), "hour", None, assumptions=["no spec training queue matched: no GPU-hours to price"],
                     status="unknown-price")]
    chosen = instance_type or queue.instance_types[0]
    use = U.training_usage(queue, ctx.catalogue.gpus_per_instance(chosen), chosen)
    sku = f"ec2.ondemand:{chosen}"
    if use.instance_hours is None:
        return [ctx.line(resource, team.team, component, f"{chosen} instance-hours", D(0), "hour", None,
                         use.assumptions, reason=f"GPUs per {chosen} not in the catalogue's facts")]
    lines: list[Line] = []
    growth = queue.retrains_per_month is not None and queue.retrains_per_month > 0
    notes = list(use.assumptions)
    if growth:
        notes.append(f"{U.number(D(str(queue.retrains_per_month)))} retrains/month: GPU-hours grow with the team's data")
    spot_hours = use.instance_hours * use.spot_share
    demand_hours = use.instance_hours - spot_hours
    if share in (None, "spot") and spot_hours:
        price = ctx.catalogue.price(sku, ctx.region_of(resource))
        unit = price.usd * (1 - U.DEFAULT_SPOT_DISCOUNT) if price else None
        lines.append(ctx.line(resource, team.team, component, f"{chosen} spot instance-hours", spot_hours, "hour", sku,
                              notes, unit_usd=unit,
                              price_note=(f"spot = on-demand ${price.usd} less {U.number(U.DEFAULT_SPOT_DISCOUNT * 100)}% "
                                          "(assumed discount)") if price else None,
                              scales_with_data=growth))
    if share in (None, "on-demand") and demand_hours:
        lines.append(ctx.line(resource, team.team, component, f"{chosen} on-demand instance-hours", demand_hours, "hour",
                              sku, notes, scales_with_data=growth))
    if not lines:
        lines.append(ctx.line(resource, team.team, component, f"{chosen} instance-hours", D(0), "hour", sku,
                              notes + [f"no {share} capacity expected for this queue"]))
    return lines


def price_compute_environment(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    compute = resource.inputs.get("computeResources") or {}
    kind = str(compute.get("type", "EC2")).upper() if isinstance(compute, dict) else "EC2"
    types = compute.get("instanceTypes") if isinstance(compute, dict) else None
    instance = types[0] if isinstance(types, list) and types and isinstance(types[0], str) and not is_unknown(types[0]) else None
    siblings = ctx.queue_environments(team.team, team.entity(resource))
    kinds = {str((s.inputs.get("computeResources") or {}).get("type", "EC2")).upper() for s in siblings}
    share = None
    if "SPOT" in kinds and len(kinds) > 1:
        share = "spot" if kind == "SPOT" else "on-demand"
    return _queue_lines(ctx, resource, team, component, team.queue(resource), instance, share)


def price_kueue_queue(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return _queue_lines(ctx, resource, team, component, team.queue(resource), None, None)


def price_feature_group(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    group = team.feature_group(resource)
    use = U.feature_usage(group)
    online = resource.inputs.get("onlineStoreConfig") or {}
    offline = resource.inputs.get("offlineStoreConfig") or {}
    lines = []
    if isinstance(online, dict) and online.get("enableOnlineStore"):
        lines.append(ctx.line(resource, team.team, component, "online store storage", use.storage_gb, "GB-month",
                              "featurestore.online.storage", use.assumptions))
        lines.append(ctx.line(resource, team.team, component, "online store read units", use.read_units, "read unit",
                              "featurestore.read", []))
    lines.append(ctx.line(resource, team.team, component, "write units", use.write_units, "write unit",
                          "featurestore.write", [] if lines else use.assumptions))
    if isinstance(offline, dict) and offline:
        lines.append(ctx.line(resource, team.team, component, "offline store (S3 Standard)", use.storage_gb, "GB-month",
                              "s3.storage.standard", ["offline store data in the team's bucket"]))
    return lines


def price_bucket(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    if team.is_artifacts(resource):
        gigabytes, notes = U.artifact_gb(team.spec.spec.artifacts if team.spec else None)
        growth = D(str(team.spec.spec.artifacts.monthly_growth_gb)) if team.spec else D(0)
        if growth:
            notes = notes + [f"grows {U.number(growth)} GB/month (artifacts.monthlyGrowthGb)"]
    else:
        gigabytes, notes, growth = U.DEFAULT_OTHER_BUCKET_GB, [f"{U.number(U.DEFAULT_OTHER_BUCKET_GB)} GB (default)"], D(0)
    notes.append("requests not modelled (no request volume in the spec)")
    return [ctx.line(resource, team.team, component, "Standard storage", gigabytes, "GB-month", "s3.storage.standard",
                     notes, growth_per_month=growth)]


def price_kms_key(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    notes = ["requests within the 20,000/month free tier (default)"]
    if resource.inputs.get("enableKeyRotation"):
        notes.append("yearly rotation adds $1/month per rotated version after the first year")
    return [ctx.line(resource, team.team, component, "customer managed key", D(1), "key-month", "kms.key", notes)]


def price_alarm(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    queries = resource.inputs.get("metricQueries") or []
    metrics = sum(1 for q in queries if isinstance(q, dict) and q.get("metric")) if queries else 1
    period = _num(resource.inputs.get("period"))
    if queries:
        periods = [_num((q.get("metric") or {}).get("period")) for q in queries if isinstance(q, dict) and q.get("metric")]
        period = min((p for p in periods if p), default=period)
    high_res = period is not None and period < 60
    anomaly = any(isinstance(q, dict) and "ANOMALY_DETECTION_BAND" in str(q.get("expression", "")) for q in queries)
    count = D(max(metrics, 1) * (3 if anomaly else 1))
    notes = [f"{U.number(count)} alarm metric(s)" + (" (anomaly detection counts 3)" if anomaly else "")]
    sku = "cloudwatch.alarm.highres" if high_res else "cloudwatch.alarm.standard"
    return [ctx.line(resource, team.team, component, f"{'high-resolution' if high_res else 'standard'} alarm", count,
                     "alarm-metric-month", sku, notes)]


def price_log_group(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    ingest, stored, notes = U.log_usage(_num(resource.inputs.get("retentionInDays")))
    return [
        ctx.line(resource, team.team, component, "log ingestion", ingest, "GB", "cloudwatch.logs.ingest", notes),
        ctx.line(resource, team.team, component, "log storage", stored, "GB-month", "cloudwatch.logs.storage", []),
    ]


def price_repository(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "image storage", U.DEFAULT_IMAGE_GB, "GB-month", "ecr.storage",
                     [f"{U.number(U.DEFAULT_IMAGE_GB)} GB of images (default)"])]


def price_lambda(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    memory = D(_num(resource.inputs.get("memorySize")) or U.DEFAULT_LAMBDA_MEMORY_MB)
    architectures = resource.inputs.get("architectures") or ["x86_64"]
    arch = "arm64" if "arm64" in architectures else "x86_64"
    front_door = edge.front_door_lambda_usage(team, resource)
    if front_door is not None:  # the fallback Lambda: every request of its endpoint invokes it
        requests, seconds, notes, endpoint = front_door
        notes = notes + [f"{U.number(memory)} MB, {arch}", "free tier not applied"]
    else:
        requests, seconds, endpoint = U.DEFAULT_LAMBDA_REQUESTS, U.DEFAULT_LAMBDA_SECONDS, None
        notes = [f"{U.number(requests)} invocations/month x {U.number(seconds)} s (default)",
                 f"{U.number(memory)} MB, {arch}", "free tier not applied"]
    gb_seconds = requests * seconds * memory / 1024
    return [
        ctx.line(resource, team.team, component, "requests", requests, "request", "lambda.requests", notes,
                 endpoint=endpoint),
        ctx.line(resource, team.team, component, f"duration ({arch})", gb_seconds, "GB-second", f"lambda.duration.{arch}",
                 [], endpoint=endpoint),
    ]


def price_firehose(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "ingestion", U.DEFAULT_FIREHOSE_GB, "GB", "firehose.ingest",
                     [f"{U.number(U.DEFAULT_FIREHOSE_GB)} GB/month (default)"])]


def price_trail(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    selectors = resource.inputs.get("eventSelectors") or []
    data = bool(resource.inputs.get("advancedEventSelectors")) or any(
        isinstance(s, dict) and s.get("dataResources") for s in selectors)
    insights = edge.insights_line(ctx, resource, team, component)
    extra = [insights] if insights is not None else []
    if not data:
        return [Line(team.team, component, resource.urn, resource.name, resource.type, "management events", D(0), "",
                     None, assumptions=["management events only: the first copy is delivered free (AWS CloudTrail "
                                        "pricing); a second trail copying them would be charged"], status="free")] + extra
    return [ctx.line(resource, team.team, component, "data events", U.DEFAULT_TRAIL_DATA_EVENTS, "event",
                     "cloudtrail.dataevents", [f"{U.number(U.DEFAULT_TRAIL_DATA_EVENTS)} data events/month (default)"])] + extra


def price_topic(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "publishes", U.DEFAULT_SNS_REQUESTS, "request", "sns.requests",
                     [f"{U.number(U.DEFAULT_SNS_REQUESTS)} publishes/month (default)"])]


def price_composite_alarm(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "composite alarm", D(1), "alarm-month", "cloudwatch.alarm.composite", [])]


def price_monitoring_schedule(ctx: Context, resource: GraphResource, team: TeamUsageContext,
                              component: str) -> list[Line]:
    """Processing instance-hours of the job definition a schedule runs: runs a month from
    the schedule expression x the default run length (capped at the job's max runtime)."""
    config = resource.inputs.get("monitoringScheduleConfig") or {}
    name = config.get("monitoringJobDefinitionName") if isinstance(config, dict) else None
    expression = ((config.get("scheduleConfig") or {}).get("scheduleExpression")) if isinstance(config, dict) else None
    definition = ctx.job_definition(name)
    cluster = ((definition.inputs.get("jobResources") or {}).get("clusterConfig") or {}) if definition else {}
    instance = cluster.get("instanceType") if isinstance(cluster, dict) else None
    count = D(_num(cluster.get("instanceCount")) or 1) if isinstance(cluster, dict) else D(1)
    max_seconds = _num(((definition.inputs.get("stoppingCondition") or {}).get("maxRuntimeInSeconds"))) if definition else None
    use = U.monitoring_usage(expression if isinstance(expression, str) else None, max_seconds)
    notes = list(use.assumptions) + [f"{U.number(count)} instance(s) per run"]
    if not isinstance(instance, str) or is_unknown(instance):
        return [Line(team.team, component, resource.urn, resource.name, resource.type, "processing instance-hours",
                     use.hours * count, "hour", None, assumptions=notes + ["job definition or its instance type not in the plan"],
                     status="unknown-price")]
    return [ctx.line(resource, team.team, component, f"{instance} processing instance-hours", use.hours * count, "hour",
                     f"sagemaker.processing:{instance}", notes)]


def price_mlflow(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    size = resource.inputs.get("trackingServerSize") or "Small"
    size = size if isinstance(size, str) and not is_unknown(size) else "Small"
    return [ctx.line(resource, team.team, component, f"MLflow tracking server ({size})", U.HOURS_PER_MONTH, "hour",
                     f"sagemaker.mlflow:{size}", ["always on: 730 h/month"])]


def price_secret(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "secret", D(1), "secret-month", "secretsmanager.secret",
                     ["API requests not modelled (no request volume in the spec)"])]


def price_queue(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "requests", U.DEFAULT_SQS_REQUESTS, "request",
                     "sqs.requests.standard", [f"{U.number(U.DEFAULT_SQS_REQUESTS)} requests/month (default)",
                                               "first 1M requests/month free tier not applied"])]


def price_dashboard(ctx: Context, resource: GraphResource, team: TeamUsageContext, component: str) -> list[Line]:
    return [ctx.line(resource, team.team, component, "dashboard", D(1), "dashboard-month", "cloudwatch.dashboard", [])]


PRICERS: dict[str, Pricer] = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": price_endpoint_configuration,
    "aws:batch/computeEnvironment:ComputeEnvironment": price_compute_environment,
    "aws:sagemaker/featureGroup:FeatureGroup": price_feature_group,
    "aws:s3/bucket:Bucket": price_bucket,
    "aws:s3/bucketV2:BucketV2": price_bucket,
    "aws:kms/key:Key": price_kms_key,
    "aws:cloudwatch/metricAlarm:MetricAlarm": price_alarm,
    "aws:cloudwatch/logGroup:LogGroup": price_log_group,
    "aws:cloudwatch/dashboard:Dashboard": price_dashboard,
    "aws:ecr/repository:Repository": price_repository,
    "aws:lambda/function:Function": price_lambda,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": price_firehose,
    "aws:cloudtrail/trail:Trail": price_trail,
    "aws:sns/topic:Topic": price_topic,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": price_composite_alarm,
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": price_monitoring_schedule,
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": price_mlflow,
    "aws:secretsmanager/secret:Secret": price_secret,
    "aws:sqs/queue:Queue": price_queue,
    **edge.PRICERS,  # the serving edge (issue 16): front door, fallback cache, anomaly detection
}
FREE_TYPES.update(edge.FREE_TYPES)


# ---------------------------------------------------------------- graph walk

def _team_and_component(graph: ResourceGraph, resource: GraphResource) -> tuple[str, str]:
    team = (resource.effective_tags or {}).get("team")
    component = None
    urn = resource.parent
    while urn is not None:
        parent = graph.get(urn)
        if parent is None:
            break
        if parent.type == TEAM_COMPONENT:
            team = team or parent.name
            break
        if parent.type in PLATFORM_COMPONENTS:  # the stack's shared estate, billed to the platform
            from components.foundation import PLATFORM_TEAM

            team = team or PLATFORM_TEAM
            component = component or parent.name
            break
        if component is None and not parent.custom:
            component = parent.name
        urn = parent.parent
    team = team or UNASSIGNED
    return team, component or team


def load_team_contexts(graph: ResourceGraph, environment: str, teams_dir: Optional[str] = None,
                       project_root: Path = PROJECT_ROOT) -> tuple[dict[str, TeamUsageContext], list[str]]:
    """Specs of the teams in ``graph``, found through the ``spec`` tag / source file of
    their resources (project-relative), or in ``teams_dir`` when given."""
    warnings: list[str] = []
    # Team components name their spec; resources outside any team (the stack's shared
    # foundation, tagged with the stack file) have no team spec to read usage from.
    files: dict[str, str] = {
        resource.name: resource.source.file
        for resource in graph.resources.values()
        if resource.type == TEAM_COMPONENT and resource.source is not None
    }
    if not files:  # a graph without components (e.g. a trimmed export): fall back to tags
        for resource in graph.resources.values():
            tags = resource.effective_tags or {}
            file = tags.get("spec") or (resource.source.file if resource.source else None)
            if tags.get("team") and file:
                files.setdefault(tags["team"], file)
    contexts: dict[str, TeamUsageContext] = {}
    loaded_by_team: dict[str, LoadedSpec] = {}
    if teams_dir:
        from ..spec.loader import load_specs

        result = load_specs([teams_dir])
        if result.issues:
            raise SpecError(result.issues)
        loaded_by_team = {loaded.team: loaded for loaded in result.specs}
    for team, file in sorted(files.items()):
        loaded = loaded_by_team.get(team)
        if loaded is None:
            path = Path(file) if Path(file).is_absolute() else project_root / file
            if not path.is_file():
                warnings.append(f"{team}: spec {file} not found; usage defaults apply")
                contexts[team] = TeamUsageContext(team, None)
                continue
            loaded = load_spec_file(path)
        contexts[team] = spec_context(loaded, environment)
    return contexts, warnings


def price_graph(graph: ResourceGraph, catalogue: Catalogue, region: str, environment: str,
                contexts: dict[str, TeamUsageContext], warnings: Optional[list[str]] = None,
                stack_region: Optional[str] = None) -> CostReport:
    """Every billable resource of ``graph`` as lines, with budgets and endpoint metrics.

    ``region`` prices the stack's own resources; ``stack_region`` is where the stack
    deploys (when ``region`` differs, e.g. ``mlp cost --region``, resources there are
    priced in ``region`` instead). Resources on a provider for another region (the
    partner region's replicas) are priced in that region."""
    ctx = Context(region, catalogue, graph, contexts, home_region=stack_region)
    for context in contexts.values():
        context.graph = graph
    lines: list[Line] = []
    matched: set[tuple[str, tuple[str, int]]] = set()
    for resource in graph:
        if not resource.custom or resource.is_provider:
            continue
        team_name, component = _team_and_component(graph, resource)
        team = contexts.get(team_name) or TeamUsageContext(team_name, None)
        pricer = PRICERS.get(resource.type)
        if pricer is None and KUEUE_QUEUE_MARK in resource.type and resource.type.endswith(":ClusterQueue"):
            pricer = price_kueue_queue
        if pricer is not None:
            lines.extend(pricer(ctx, resource, team, component))
            if resource.type in SECTION_OF_TYPE or pricer is price_kueue_queue:
                entry = team.entity(resource)
                if entry is not None:
                    matched.add((team_name, entry))
        elif resource.type in FREE_TYPES:
            lines.append(Line(team_name, component, resource.urn, resource.name, resource.type, "free", D(0), "",
                              None, assumptions=[FREE_TYPES[resource.type]], status="free"))
        elif resource.type.startswith("kubernetes:"):
            lines.append(Line(team_name, component, resource.urn, resource.name, resource.type, "free", D(0), "", None,
                              assumptions=["a Kubernetes object; node compute is priced on the training queue"],
                              status="free"))
        else:
            lines.append(Line(team_name, component, resource.urn, resource.name, resource.type, "not priced", D(0), "",
                              None, assumptions=["type neither priced nor known to be free"], status="unknown-type"))
    budgets = {name: team.spec.spec.budget for name, team in contexts.items() if team.spec is not None}
    growth = {}
    for name, team in contexts.items():
        if team.spec is not None:
            start, _ = U.artifact_gb(team.spec.spec.artifacts)
            growth[name] = (start, D(str(team.spec.spec.artifacts.monthly_growth_gb)))
    endpoints = []
    by_endpoint: dict[tuple[str, str], list[Line]] = {}
    for line in lines:
        if line.endpoint is not None:
            by_endpoint.setdefault(line.endpoint, []).append(line)
    for key, requests in sorted(ctx.requests.items()):
        mine = by_endpoint.get(key, [])
        unknown = sum(1 for line in mine if line.monthly is None)
        total = sum((line.monthly for line in mine if line.monthly is not None), D(0))
        endpoints.append(EndpointMetric(key[0], key[1], requests, None if unknown else total, unknown))
    notes = list(warnings or [])
    notes.extend(unplanned_entries(contexts, matched))
    for priced_region in sorted({region} | {line.region for line in lines if line.region}):
        missing_region = region_warning(catalogue, priced_region)
        if missing_region:
            notes.append(missing_region)
    return CostReport(graph.stack, region, environment, catalogue.version, lines, budgets, endpoints, growth, notes)


def unplanned_entries(contexts: dict[str, TeamUsageContext], matched: set) -> list[str]:
    """Spec entries with usage (endpoints, training queues, feature groups) that no
    resource of the plan carries: their cost is missing from the totals, so say so."""
    out = []
    for name, context in sorted(contexts.items()):
        if context.spec is None:
            continue
        body = context.spec.spec
        for section, entries, label in (("endpoints", body.endpoints, "endpoint"),
                                        ("queues", body.training.queues, "training queue"),
                                        ("featureGroups", body.feature_groups, "feature group")):
            for index, entry in enumerate(entries):
                if section == "endpoints" and entry.mode == "batch":
                    continue  # batch transform jobs are started by pipelines, not planned resources
                if section == "endpoints" and entry.retired is not None:
                    continue  # a retired endpoint leaves the plan by design: nothing serves, nothing to price
                if (name, (section, index)) not in matched:
                    out.append(f"{name}: {label} {entry.name} has no priced resource in the plan; its cost is not included")
    return out


def region_warning(catalogue: Catalogue, region: str) -> Optional[str]:
    """A warning when the catalogue holds no price at all for ``region``."""
    if any(r == region for _, r in catalogue.prices):
        return None
    return f"the price catalogue has no prices for {region}; run `mlp prices refresh --region {region}`"
