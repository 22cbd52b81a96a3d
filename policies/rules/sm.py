"""MLP-SM-*: production real-time endpoints of risk tier medium or high: canary rollout with
auto-rollback alarms, data capture, drift monitoring, and models from an approved
model registry package.

Which endpoints: the stack's environment is one of ``environments`` (default prod), the
owning team's risk tier (from its spec, via the team facts in the config) is in
``riskTiers``, and the endpoint config is real-time (no async inference config, no
serverless variant). A resource of unknown team is treated as high risk.

Scope, thresholds and judgements are the spec-decided guardrails of
:mod:`mlplatform.guardrails`, which ``mlp validate --stack S`` applies to the specs: what
validate accepts, these rules accept.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from mlplatform.guardrails import (MIN_CAPTURE_PERCENT, NO_DRIFT, NO_PACKAGE, ROLLOUT_MAX_STEP_PERCENT,
                                   ROLLOUT_MIN_STEP_PERCENT, SERVING_ENVIRONMENTS, SERVING_RISK_TIERS,
                                   capture_problem, rollout_problem, serving_in_scope)
from mlplatform.type_tokens import (
    SAGEMAKER_DATA_QUALITY_JOB_DEFINITION, SAGEMAKER_ENDPOINT, SAGEMAKER_ENDPOINT_CONFIGURATION, SAGEMAKER_MODEL,
    SAGEMAKER_MONITORING_SCHEDULE)

from .common import PROD, TEAMS_SCHEMA, UNKNOWN, Context, as_list, peek, raw_tree, rule
from .links import links

MONITORING = (SAGEMAKER_MONITORING_SCHEDULE,
              SAGEMAKER_DATA_QUALITY_JOB_DEFINITION)
MODEL_PACKAGE = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:([0-9]{12}):model-package/([^/]+)/[0-9]+$")

SCOPE_SCHEMA = {
    "teams": TEAMS_SCHEMA,
    "environments": {"type": "array", "items": {"type": "string"}, "default": list(SERVING_ENVIRONMENTS)},
    "riskTiers": {"type": "array", "items": {"type": "string"}, "default": list(SERVING_RISK_TIERS)},
}

#: Traffic routing types as the spec's rollout strategies name them.
STRATEGY_OF_ROUTING = {"CANARY": "canary", "LINEAR": "linear", "ALL_AT_ONCE": "all-at-once", None: "all-at-once"}


def in_scope(ctx: Context, resource: Any = None) -> bool:
    return serving_in_scope(ctx.environment, ctx.team_facts(resource).get("riskTier"),
                            ctx.config["environments"], ctx.config["riskTiers"])


def is_realtime(config_props: Any) -> bool:
    if peek(config_props, "asyncInferenceConfig") not in (None, UNKNOWN):
        return False
    return not any(peek(v, "serverlessConfig") not in (None, UNKNOWN)
                   for v in as_list(peek(config_props, "productionVariants")))


def endpoint_config_of(ctx: Context, endpoint: Any) -> Optional[Any]:
    """The first config (plan order) named by the endpoint's ``endpointConfigName`` or, when the
    name is unknown at preview, the config that input depends on."""
    name = peek(endpoint.props, "endpointConfigName")
    configs = ctx.of_type(SAGEMAKER_ENDPOINT_CONFIGURATION)
    position = ctx.memo("config positions", lambda: {config.urn: index for index, config in enumerate(configs)})
    candidates = [position[dependency.urn]
                  for dependency in (endpoint.property_dependencies or {}).get("endpointConfigName", [])
                  if dependency.urn in position]
    if isinstance(name, str) and name != UNKNOWN:
        candidates += [position[config.urn]
                       for config in links(ctx, (SAGEMAKER_ENDPOINT_CONFIGURATION,), "name").find(None, name)]
    return configs[min(candidates)] if candidates else None


def realtime_endpoints(ctx: Context) -> list[Any]:
    found = []
    for endpoint in ctx.of_type(SAGEMAKER_ENDPOINT):
        config = endpoint_config_of(ctx, endpoint)
        if in_scope(ctx, endpoint) and (config is None or is_realtime(config.props)):
            found.append(endpoint)
    return found


def _step_percent(size: Any) -> Any:
    """The step in percent of capacity; None for any other kind of step."""
    return peek(size, "value") if peek(size, "type") == "CAPACITY_PERCENT" else None


@rule(
    id="MLP-SM-001",
    name="Canary rollout with auto-rollback",
    description="Production real-time endpoints of risk tier medium or high roll out blue/green in canary or linear "
                "steps of 5-10% capacity with a bake time, and roll back automatically on alarms.",
    severity="high",
    remediation="Set rollout: {strategy: canary, canaryPercent: 5-10, bakeMinutes: > 0} in the spec; the endpoint "
                "component wires deploymentConfig and the rollback alarms.",
    level=PROD,
    stack=True,
    concern="serving",
    config={**SCOPE_SCHEMA,
            "minStepPercent": {"type": "integer", "default": ROLLOUT_MIN_STEP_PERCENT},
            "maxStepPercent": {"type": "integer", "default": ROLLOUT_MAX_STEP_PERCENT}},
)
def check_canary(ctx: Context, report) -> None:
    low, high = ctx.config["minStepPercent"], ctx.config["maxStepPercent"]
    for endpoint in realtime_endpoints(ctx):
        deployment = peek(endpoint.props, "deploymentConfig")
        routing = peek(deployment, "blueGreenUpdatePolicy", "trafficRoutingConfiguration")
        kind = peek(routing, "type")
        strategy = STRATEGY_OF_ROUTING.get(kind, str(kind).lower())
        step = _step_percent(peek(routing, {"CANARY": "canarySize", "LINEAR": "linearStepSize"}.get(kind, "")))
        problem = rollout_problem(strategy, step, peek(routing, "waitIntervalInSeconds"), low, high)
        if problem:
            report(problem, endpoint.urn)
        if not as_list(peek(deployment, "autoRollbackConfiguration", "alarms")):
            report("rollout has no auto-rollback alarms (autoRollbackConfiguration.alarms)", endpoint.urn)


@rule(
    id="MLP-SM-002",
    name="Data capture on",
    description="Production real-time endpoint configs of risk tier medium or high capture requests and responses "
                "to S3, sampling at least the configured percentage.",
    severity="medium",
    remediation="Set dataCapture: {samplePercent: N} on the endpoint in the spec.",
    level=PROD,
    types=(SAGEMAKER_ENDPOINT_CONFIGURATION,),
    concern="serving",
    config={**SCOPE_SCHEMA, "minSamplePercent": {"type": "number", "default": MIN_CAPTURE_PERCENT}},
)
def check_data_capture(ctx: Context, report) -> None:
    if not in_scope(ctx) or not is_realtime(ctx.props):
        return
    capture = peek(ctx.props, "dataCaptureConfig")
    off = capture in (None, UNKNOWN) or peek(capture, "enableCapture") is False
    problem = capture_problem(None if off else peek(capture, "initialSamplingPercentage"),
                              ctx.config["minSamplePercent"])
    if problem:
        report(problem)
    if off:
        return
    modes = {peek(option, "captureMode") for option in as_list(peek(capture, "captureOptions"))}
    if not {"Input", "Output"} <= modes and "InputAndOutput" not in modes:
        report("data capture must record both Input and Output")
    if not peek(capture, "destinationS3Uri"):
        report("data capture has no S3 destination")


@rule(
    id="MLP-SM-003",
    name="Drift monitoring on",
    description="Production real-time endpoints of risk tier medium or high have a SageMaker model-monitor schedule.",
    severity="medium",
    remediation="Set monitoring.drift on the endpoint in the spec.",
    level=PROD,
    stack=True,
    concern="serving",
    config=dict(SCOPE_SCHEMA),
)
def check_drift(ctx: Context, report) -> None:
    """A monitoring schedule (or data-quality job definition) is linked to the endpoint when it
    names the endpoint or depends on it."""
    monitors = ctx.of_type(*MONITORING)
    for endpoint in realtime_endpoints(ctx):
        name = peek(endpoint.props, "name")
        linked = False
        for monitor in monitors:
            text = json.dumps(raw_tree(monitor.props))
            if (isinstance(name, str) and name != UNKNOWN and f'"{name}"' in text) or \
                    any(dep.urn == endpoint.urn for dep in monitor.dependencies):
                linked = True
                break
        if not linked:
            report(NO_DRIFT, endpoint.urn)


@rule(
    id="MLP-SM-004",
    name="Models from an approved registry package",
    description="In production, models of risk tier medium or high teams are deployed from a versioned model package "
                "of an approved model registry (account and package group).",
    severity="high",
    remediation="Register the model in the team's model package group and deploy that package version.",
    level=PROD,
    types=(SAGEMAKER_MODEL,),
    concern="serving",
    config={**SCOPE_SCHEMA,
            "approvedAccounts": {"type": "array", "items": {"type": "string"}, "default": []},
            "approvedGroups": {"type": "array", "items": {"type": "string"}, "default": []}},
)
def check_model_package(ctx: Context, report) -> None:
    if not in_scope(ctx):
        return
    containers = [peek(ctx.props, "primaryContainer")] + as_list(peek(ctx.props, "containers"))
    packages = [peek(c, "modelPackageName") for c in containers if c not in (None, UNKNOWN)]
    if not packages or any(p in (None, "") for p in packages):
        report(NO_PACKAGE)
        return
    accounts, groups = ctx.config["approvedAccounts"], ctx.config["approvedGroups"]
    for package in packages:
        if package == UNKNOWN:
            continue
        match = MODEL_PACKAGE.match(str(package))
        if not match:
            report(f"{package} is not a versioned model package ARN")
        elif (accounts and match.group(1) not in accounts) or (groups and match.group(2) not in groups):
            report(f"model package {package} is not from an approved registry")
