"""Checks of team specs against the stack that deploys them.

A spec can be valid on its own and still not fit a stack: an instance type the platform
team has not approved, data that must stay in the EU on a US stack, or more GPUs than
the stack can hold. These checks run on each team's spec as the stack's environment
deploys it (overrides merged), and report at the line that set the offending value.

The policy pack's rules whose outcome the spec and stack config decide alone are checked
here too, from their one definition in :mod:`mlplatform.guardrails`.
"""

from __future__ import annotations

import datetime
from typing import Optional

from .errors import Issue
from .guardrails import spec_guardrail_issues
from .spec.loader import LoadedSpec, load_specs
from .stackconfig import RESIDENCY_REGIONS, StackConfig, known_environments, stack_file_name


def stack_issues(
    specs: list[LoadedSpec], stack: StackConfig, environments: Optional[set[str]] = None,
    today: Optional[datetime.date] = None,
) -> list[Issue]:
    """All stack-level issues; ``environments`` are the project's known environment names,
    ``today`` the date exemptions are judged on (default: the real date)."""
    issues: list[Issue] = []
    issues.extend(_stack_region_issues(specs, stack))
    known = (environments if environments is not None else known_environments()) | {stack.environment}
    for loaded in specs:
        issues.extend(_environment_name_issues(loaded, known))
    issues.extend(_front_door_host_collisions(specs, stack))
    stack_gpus = 0
    for loaded in specs:
        issues.extend(_residency_issues(loaded, stack))
        issues.extend(_instance_type_issues(loaded, stack))
        issues.extend(team_construction_issues(loaded, stack))
        issues.extend(spec_guardrail_issues(loaded, stack, today))  # the policy pack's spec-decided rules
        team_issues, team_gpus = _team_gpu_issues(loaded, stack)
        issues.extend(team_issues)
        stack_gpus += team_gpus
        if stack_gpus > stack.gpu_ceilings.per_stack and team_gpus:
            issues.append(
                loaded.issue(
                    ("spec", "training", "queues"),
                    f"the stack's teams would hold {stack_gpus} GPUs with this team; stack '{stack.stack}' allows "
                    f"{stack.gpu_ceilings.per_stack} (gpuCeilings.perStack)",
                    stack.environment,
                )
            )
            stack_gpus -= team_gpus  # report each team that does not fit, not every team after it
    return issues


def construction_issues(specs: list[LoadedSpec], stack: StackConfig) -> list[Issue]:
    """Every team's :func:`team_construction_issues`, in spec order."""
    return [issue for loaded in specs for issue in team_construction_issues(loaded, stack)]


def team_construction_issues(loaded: LoadedSpec, stack: StackConfig) -> list[Issue]:
    """The checks the estate's components rely on: each finds a spec and stack combination no
    component could be built from (a batch queue without subnets, a serving image the region
    lacks, an mtls front door without a hosted zone, ...).

    One definition, run twice: ``mlp validate --stack`` reports them with every other stack
    check (:func:`stack_issues`), and the estate builder's preflight
    (:mod:`mlplatform.estate.preflight`) runs them over every team before it creates any
    resource, so the components assert these facts instead of checking them again.
    """
    return [
        *_backend_issues(loaded, stack),
        *_catalogue_issues(loaded, stack),
        *_escalation_issues(loaded, stack),
        *_serving_image_issues(loaded, stack),
        *_edge_issues(loaded, stack),
    ]


def _environment_name_issues(loaded: LoadedSpec, known: set[str]) -> list[Issue]:
    """An override for an environment no stack deploys is almost always a typo."""
    return [
        loaded.document.issue(
            ("spec", "environments", name),
            f"no stack deploys environment '{name}' (known: {', '.join(sorted(known))})",
            prefer_key=True,
        )
        for name in loaded.spec.spec.environments
        if name not in known
    ]


def _stack_region_issues(specs: list[LoadedSpec], stack: StackConfig) -> list[Issue]:
    """The stack's own regions must sit in its residency; reported on each team's residency line."""
    allowed = RESIDENCY_REGIONS[stack.residency]
    wrong = [r for r in (stack.region, stack.partner_region) if r and r not in allowed]
    if not wrong:
        return []
    return [
        loaded.issue(
            ("metadata", "residency"),
            f"stack '{stack.stack}' deploys to {', '.join(wrong)}, outside residency {stack.residency} "
            f"({', '.join(allowed)})",
        )
        for loaded in specs
    ]


def _residency_issues(loaded: LoadedSpec, stack: StackConfig) -> list[Issue]:
    residency = loaded.spec.metadata.residency
    if residency == stack.residency and stack.region in RESIDENCY_REGIONS[residency]:
        return []
    return [
        loaded.issue(
            ("metadata", "residency"),
            f"team data must stay in {residency} ({', '.join(RESIDENCY_REGIONS[residency])}) but stack "
            f"'{stack.stack}' deploys to {stack.region} (residency {stack.residency})",
        )
    ]


def _instance_type_issues(loaded: LoadedSpec, stack: StackConfig) -> list[Issue]:
    spec = loaded.for_environment(stack.environment).spec
    allowed = stack.allowed_instance_types
    issues = []
    for q, queue in enumerate(spec.training.queues):
        for t, instance_type in enumerate(queue.instance_types):
            if instance_type not in allowed.training:
                issues.append(
                    loaded.issue(
                        ("spec", "training", "queues", q, "instanceTypes", t),
                        f"instance type {instance_type} is not allowed for training in stack '{stack.stack}' "
                        f"(allowed: {', '.join(allowed.training)})",
                        stack.environment,
                    )
                )
    for e, endpoint in enumerate(spec.endpoints):
        if endpoint.instance_type is not None and endpoint.instance_type not in allowed.serving:
            issues.append(
                loaded.issue(
                    ("spec", "endpoints", e, "instanceType"),
                    f"instance type {endpoint.instance_type} is not allowed for serving in stack '{stack.stack}' "
                    f"(allowed: {', '.join(allowed.serving)})",
                    stack.environment,
                )
            )
    return issues


def _backend_issues(loaded: LoadedSpec, stack: StackConfig) -> list[Issue]:
    """A batch queue runs in the stack's subnets and a kueue queue on its cluster: both must be named."""
    issues = []
    for q, queue in enumerate(loaded.for_environment(stack.environment).spec.training.queues):
        if queue.backend == "batch" and stack.network is None:
            issues.append(
                loaded.issue(
                    ("spec", "training", "queues", q, "backend"),
                    f"backend batch needs subnets and security groups, and stack '{stack.stack}' names none (mlplatform:network)",
                    stack.environment,
                )
            )
        if queue.backend == "kueue" and stack.kubernetes is None:
            issues.append(
                loaded.issue(
                    ("spec", "training", "queues", q, "backend"),
                    f"backend kueue needs a Kubernetes cluster, and stack '{stack.stack}' names none (mlplatform:kubernetes)",
                    stack.environment,
                )
            )
    return issues


def _catalogue_issues(loaded: LoadedSpec, stack: StackConfig) -> list[Issue]:
    """An endpoint's alarms and storage key are sized from its instance type's catalogue row."""
    from mlplatform.catalogues.instances import lookup  # the one source of instance facts

    issues = []
    for e, endpoint in enumerate(loaded.for_environment(stack.environment).spec.endpoints):
        if endpoint.instance_type is not None and lookup(endpoint.instance_type) is None:
            issues.append(
                loaded.issue(
                    ("spec", "endpoints", e, "instanceType"),
                    f"instance type {endpoint.instance_type} has no entry in the instance catalogue "
                    "(mlplatform/catalogues/instance_catalogue.json): its alarms and storage key cannot be sized",
                    stack.environment,
                )
            )
    return issues


def _team_gpu_issues(loaded: LoadedSpec, stack: StackConfig) -> tuple[list[Issue], int]:
    """The team's GPUs counted as the policy pack (MLP-CMP-002) counts the planned queues:
    each queue's maxGpus plus borrowingLimitGpus, by the one GPU accounting rule."""
    from mlplatform.catalogues.gpu_accounting import queue_gpus, team_gpus  # the rule lives with the catalogue

    queues = loaded.for_environment(stack.environment).spec.training.queues
    total = team_gpus(queues)
    if total <= stack.gpu_ceilings.per_team:
        return [], total
    biggest = max(range(len(queues)), key=lambda i: queue_gpus(queues[i]).total)
    return [
        loaded.issue(
            ("spec", "training", "queues", biggest, "maxGpus"),
            f"the team's queues hold {total} GPUs together; stack '{stack.stack}' allows {stack.gpu_ceilings.per_team} "
            "per team (gpuCeilings.perTeam; a queue counts maxGpus plus borrowingLimitGpus)",
            stack.environment,
        )
    ], total


def _serving_image_issues(loaded: LoadedSpec, stack: StackConfig) -> list[Issue]:
    """A live endpoint serving an artifact needs a SageMaker serving image for its framework,
    version, format and instance type in the stack's region: resolved by the function the
    endpoint component uses (``mlplatform.catalogues.serving_images.resolve_image``), so validate fails
    exactly where the plan would. An own ``model.image`` or a registry package names its image."""
    from mlplatform.catalogues.serving_images import ImageResolutionError, resolve_image

    issues = []
    for e, endpoint in enumerate(loaded.for_environment(stack.environment).spec.endpoints):
        model = endpoint.model
        if endpoint.retired is not None or model.image or model.package:
            continue
        try:
            resolve_image(model.framework, model.framework_version, stack.region, endpoint.instance_type, model.format)
        except ImageResolutionError as exc:
            issues.append(loaded.issue(("spec", "endpoints", e, "model", "frameworkVersion"), str(exc),
                                       stack.environment))
    return issues


def _escalation_issues(loaded: LoadedSpec, stack: StackConfig) -> list[Issue]:
    """A slack: target is delivered through the stack's relay; without one it would be lost."""
    if stack.slack_webhook_url is not None:
        return []
    escalation = loaded.spec.metadata.escalation
    return [
        loaded.issue(
            ("metadata", "escalation", severity, index),
            f"{target} needs a Slack relay, and stack '{stack.stack}' names none (mlplatform:slackWebhookUrl)",
        )
        for severity in ("critical", "warning", "info")
        for index, target in enumerate(getattr(escalation, severity))
        if target.startswith("slack:")
    ]


def _edge_issues(loaded: LoadedSpec, stack: StackConfig) -> list[Issue]:
    """An mtls front door needs the stack's hosted zone and certificate (mlplatform:edge), a host
    name DNS can carry. (The fallback's model budget is bounded by the spec schema itself:
    ``FallbackSpec.timeout_ms``, so the editor says it first.)"""
    from .naming import HOST_NAME_MAX_LENGTH, front_door_host

    issues = []
    for e, endpoint in enumerate(loaded.for_environment(stack.environment).spec.endpoints):
        if endpoint.retired is not None or endpoint.exposure.mode != "mtls":
            continue
        if stack.edge is None:
            issues.append(loaded.issue(
                ("spec", "endpoints", e, "exposure", "mode"),
                f"exposure mtls needs a hosted zone and certificate, and stack '{stack.stack}' names none "
                "(mlplatform:edge)", stack.environment))
            continue
        host = front_door_host(endpoint.exposure.domain_prefix or "", stack.edge.domain)
        if len(host) > HOST_NAME_MAX_LENGTH:
            issues.append(loaded.issue(
                ("spec", "endpoints", e, "exposure", "domainPrefix"),
                f"host name {host} is {len(host)} characters; DNS allows {HOST_NAME_MAX_LENGTH} "
                f"(shorten domainPrefix)", stack.environment))
    return issues


def _front_door_host_collisions(specs: list[LoadedSpec], stack: StackConfig) -> list[Issue]:
    """Two front doors of a stack cannot share a host name (one custom domain, one DNS record)."""
    seen: dict[str, str] = {}
    issues = []
    for loaded in specs:
        for e, endpoint in enumerate(loaded.for_environment(stack.environment).spec.endpoints):
            if endpoint.retired is not None or endpoint.exposure.mode != "mtls" or not endpoint.exposure.domain_prefix:
                continue
            prefix = endpoint.exposure.domain_prefix
            owner = f"{loaded.spec.metadata.team}/{endpoint.name}"
            if prefix in seen:
                issues.append(loaded.issue(
                    ("spec", "endpoints", e, "exposure", "domainPrefix"),
                    f"domainPrefix '{prefix}' is already the front door of {seen[prefix]} in stack '{stack.stack}'",
                    stack.environment))
            else:
                seen[prefix] = owner
    return issues


def selected_specs(stack: StackConfig):
    """Valid specs of the stack's teams folder (restricted to ``teams`` when sharded).

    What the program deploys and what every tool plans, checks and prices: raises
    :class:`~mlplatform.errors.InvalidSpecs` (a ``pulumi.RunError``, imported only here so
    ``mlp validate`` never loads Pulumi) with every issue, before anything is built.
    """
    from .errors import InvalidSpecs

    result = load_specs([str(stack.teams_path())])
    issues = list(result.issues)
    specs = result.specs
    if stack.teams is not None:
        wanted = set(stack.teams)
        specs = [loaded for loaded in specs if loaded.team in wanted]
        missing = wanted - {loaded.team for loaded in specs}
        if missing:
            raise InvalidSpecs([
                Issue(stack_file_name(stack.stack), 1, 1, ("config", "mlplatform:teams"),
                      f"selects teams with no spec in {stack.teams_dir}: {', '.join(sorted(missing))}")
            ])
    issues.extend(stack_issues(specs, stack))
    if issues:
        raise InvalidSpecs(issues)
    return specs
