"""The guardrails a team spec decides, defined once for the policy pack and ``mlp validate``.

A mandatory policy outcome that follows from spec fields plus the stack config must be
known before anything is planned: ``mlp validate --stack S`` reports it at the spec line,
and the pack rule judges the planned resources by the very same thresholds, scope and
judgement functions defined here. Neither side keeps its own copy, so the editor-time
verdict and the CI verdict cannot drift apart.

Each judgement takes plain values (what the spec says, or what the planned resource
says after the pack has read it) and returns the problem text, or None. The pack reads
AWS properties and passes them in; validate reads the spec as the stack's environment
deploys it (overrides merged) and reports through :meth:`LoadedSpec.issue`.

Rules decided here (policies/rules/* imports this module):

* MLP-SM-001..004: production real-time endpoints of risk tier medium or high roll out
  by canary/linear in 5-10% steps with a bake time, capture data, watch drift, and every
  production model of such a team is a registry package version.
* MLP-RET-001: log groups keep logs between 365 and 3653 days (the bounds a stack's
  log retention defaults must also keep, so no override yields a plan the pack blocks).
* MLP-RET-002: PII feature groups keep online records at most 720 hours and offline
  records at most 2555 days.
* checkov CKV_AWS_144 on a team's artifact bucket: on a stack that replicates, a team
  that sets ``artifacts.replication: false`` needs an approved exemption of the check.
* MLP-EDGE-001..005 (issue 16): the constants the serving edge's rules and components share
  (truststore prefix, TLS policy, managed rule groups, anomaly-detection scope).

Also here: :data:`SPEC_FIELDS`, which names for each rule and checkov check the spec
field an author changes and how, so every finding speaks the spec (issue 17, item 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional

if TYPE_CHECKING:  # pragma: no cover
    import datetime

    from .errors import Issue
    from .spec.loader import LoadedSpec
    from .stackconfig import StackConfig

#: Rule levels: mandatory everywhere, mandatory in production (advisory elsewhere), advisory.
MANDATORY, PROD, ADVISORY = "M", "P", "A"
PRODUCTION = "prod"


def mandatory_in(level: str, environment: str) -> bool:
    """Whether a rule of ``level`` blocks a change on a stack of ``environment``."""
    return level == MANDATORY or (level == PROD and environment == PRODUCTION)


# ------------------------------------------------------------------ serving (MLP-SM-*)

SERVING_ENVIRONMENTS: tuple[str, ...] = (PRODUCTION,)
SERVING_RISK_TIERS: tuple[str, ...] = ("medium", "high")
ROLLOUT_MIN_STEP_PERCENT, ROLLOUT_MAX_STEP_PERCENT = 5, 10
MIN_CAPTURE_PERCENT = 1
STEPPED_STRATEGIES = ("canary", "linear")

NO_DRIFT = "endpoint has no drift monitoring schedule"
NO_PACKAGE = "model is not deployed from a model registry package"


def serving_in_scope(environment: str, risk_tier: Optional[str],
                     environments: Iterable[str] = SERVING_ENVIRONMENTS,
                     risk_tiers: Iterable[str] = SERVING_RISK_TIERS) -> bool:
    """The MLP-SM rules apply in these environments to teams of these tiers (unknown team: high)."""
    return environment in environments and (risk_tier or "high") in risk_tiers


def rollout_problem(strategy: Optional[str], step_percent: object, bake_seconds: object,
                    low: int = ROLLOUT_MIN_STEP_PERCENT, high: int = ROLLOUT_MAX_STEP_PERCENT) -> Optional[str]:
    """MLP-SM-001 on a rollout: ``strategy`` as the spec names it (canary, linear,
    all-at-once, shadow), the capacity step in percent, the bake time in seconds."""
    stepped = strategy in STEPPED_STRATEGIES and isinstance(step_percent, (int, float)) \
        and low <= step_percent <= high
    if not stepped:
        step = f" of {step_percent}%" if strategy in STEPPED_STRATEGIES and step_percent is not None else ""
        return f"rollout is {strategy or 'all-at-once'}{step}, not canary/linear in {low}-{high}% capacity steps"
    if not isinstance(bake_seconds, (int, float)) or bake_seconds <= 0:
        return "rollout has no bake time"
    return None


def capture_problem(sample_percent: object, minimum: float = MIN_CAPTURE_PERCENT) -> Optional[str]:
    """MLP-SM-002 on a capture setting: None means capture is off."""
    if sample_percent is None:
        return "data capture is off"
    if isinstance(sample_percent, (int, float)) and sample_percent < minimum:
        return f"data capture samples {sample_percent}%, below {minimum}%"
    return None


# ------------------------------------------------------------------ PII retention (MLP-RET-002)

PII_MAX_RETENTION_DAYS = 2555  # seven years
PII_MAX_ONLINE_TTL_HOURS = 720  # thirty days


def online_ttl_problem(hours: object, maximum: float = PII_MAX_ONLINE_TTL_HOURS) -> Optional[str]:
    """A PII online store's record TTL in hours (None: records never expire)."""
    if not isinstance(hours, (int, float)):
        return f"PII online store has no record TTL (max {maximum} hours)"
    if hours > maximum:
        return f"PII online store keeps records {hours:g} hours, above {maximum} hours"
    return None


def offline_retention_problem(days: object, maximum: float = PII_MAX_RETENTION_DAYS) -> Optional[str]:
    """A PII offline store's expiry in days (None: never)."""
    if not isinstance(days, (int, float)) or days > maximum:
        return f"PII offline store expires records after {days if days is not None else 'never'} days, above {maximum}"
    return None


# ------------------------------------------------------------------ log retention (MLP-RET-001)

#: The fewest days any log group keeps logs: a year, as checkov CKV_AWS_338 requires (it passes a
#: retention of at least 365 days) and incident investigations reach back; the pack's default
#: lower bound of every data classification, and the floor a stack's ``logRetentionDays*`` may set.
LOG_RETENTION_MIN_DAYS = 365
#: The most days: ten years (CloudWatch's largest value, 3653); the pack's default upper bound.
LOG_RETENTION_MAX_DAYS = 3653


# ------------------------------------------------------------------ budgets (MLP-BUD-001)

BUDGET_ALERT_MAX_PERCENT = 100  # an alert above the budget tells the team only after it is spent


def budget_alerts_in_time(thresholds: Iterable[object], maximum: float = BUDGET_ALERT_MAX_PERCENT) -> bool:
    """Whether one of a budget's alert thresholds (percent of the budget; non-numeric: not
    known until deploy, given the benefit of the doubt) fires at or below ``maximum``."""
    return any(not isinstance(t, (int, float)) or t <= maximum for t in thresholds)


def budget_alert_problem(alert_at_percent: Iterable[int], maximum: float = BUDGET_ALERT_MAX_PERCENT) -> Optional[str]:
    """MLP-BUD-001 on a spec budget's ``alertAtPercent``."""
    percents = list(alert_at_percent)
    if budget_alerts_in_time(percents, maximum):
        return None
    return (f"budget alerts only at {', '.join(f'{p}%' for p in sorted(set(percents)))}, none at or below "
            f"{maximum:g}%: the team would hear of overspend only after it happened")


# ------------------------------------------------------------------ serving edge (MLP-EDGE-*)

#: Where a front door's mutual-TLS truststore lives: under this prefix of the owning team's
#: artifact bucket (the spec's exposure.truststore is a key of this form).
TRUSTSTORE_PREFIX = "truststores/"
#: The custom domain's security policy: TLS 1.2 minimum. API Gateway's enhanced policies
#: (``SecurityPolicy_TLS13_...``) also hold TLS 1.2+, but a domain with mutual TLS cannot use
#: them (API Gateway developer guide, "Choose a security policy for your custom domain").
EDGE_TLS_POLICY = "TLS_1_2"
#: AWS managed rule groups every front door's web ACL runs (vendor AWS), blocking.
EDGE_MANAGED_RULE_GROUPS: tuple[str, ...] = (
    "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList",
)

# ------------------------------------------------------------------ anomaly detection (MLP-EDGE-005)

#: Environments whose stacks must detect anomalous access (the stack config's default too).
ANOMALY_DETECTION_ENVIRONMENTS: tuple[str, ...] = (PRODUCTION,)
#: CloudTrail Insights types the trail must log (pulumi-aws ``insightSelectors[].insightType``).
INSIGHT_TYPES: tuple[str, ...] = ("ApiCallRateInsight", "ApiErrorRateInsight")
#: The GuardDuty protection plan that watches S3 data events (``DetectorFeature.name``).
GUARDDUTY_S3_FEATURE = "S3_DATA_EVENTS"


# ------------------------------------------------------------------ replication (checkov CKV_AWS_144)

REPLICATION_CHECK = "CKV_AWS_144"


def replication_problem(team: str, spec_replicates: bool, stack_replicates: bool,
                        exemptions: Iterable[tuple[str, Optional[str], Optional[str]]]) -> Optional[str]:
    """CKV_AWS_144 on a team's artifact bucket, decided from the spec and the stack config.

    The bucket replicates exactly when the stack and the spec both say so (components/
    artifact_store.py); on a stack that does not replicate the platform's conditional skip
    (``stack-does-not-replicate``, policies/checkov-skips.yaml) answers for it. On a stack
    that replicates, a team that opts out needs an approved exemption of the check for its
    bucket: ``exemptions`` are (rule, resource, problem) of the team's entries as deployed,
    judged as every checker judges them (:mod:`mlplatform.exemptions`).
    """
    from .naming import artifacts_bucket_resource

    if spec_replicates or not stack_replicates:
        return None
    bucket = artifacts_bucket_resource(team)
    covering = [problem for rule, resource, problem in exemptions
                if rule == REPLICATION_CHECK and resource in (None, bucket)]
    if any(problem is None for problem in covering):
        return None
    lapsed = next((problem for problem in covering if problem), None)
    return (f"artifacts.replication is false on a stack that replicates, so checkov {REPLICATION_CHECK} fails on "
            f"{bucket}" + (f" (its exemption {lapsed})" if lapsed else " and no exemption covers it"))


# ------------------------------------------------------------------ validate: the spec side

def spec_guardrail_issues(loaded: "LoadedSpec", stack: "StackConfig",
                          today: Optional["datetime.date"] = None) -> list["Issue"]:
    """The mandatory outcomes of the rules above for one team on ``stack``, as spec issues
    (exemptions judged on ``today``, default the real date)."""
    import datetime

    from .exemptions import exemption_problem

    environment = stack.environment
    spec = loaded.for_environment(environment)
    issues: list[Issue] = []
    on = today or datetime.date.today()

    def add(rule: str, path: tuple, problem: Optional[str]) -> None:
        if problem:
            fix = SPEC_FIELDS[rule].fix
            issues.append(loaded.issue(path, f"{problem} ({rule}; fix: {fix})", environment))

    if mandatory_in(PROD, environment) and serving_in_scope(environment, spec.metadata.risk_tier):
        for index, endpoint in enumerate(spec.spec.endpoints):
            if endpoint.retired is not None:
                continue
            at = ("spec", "endpoints", index)
            if endpoint.mode == "realtime":
                rollout = endpoint.rollout
                add("MLP-SM-001", at + ("rollout", "strategy" if rollout.strategy not in STEPPED_STRATEGIES
                                        else "canaryPercent"),
                    rollout_problem(rollout.strategy, rollout.canary_percent, rollout.bake_minutes * 60))
                add("MLP-SM-002", at + ("dataCapture",),
                    capture_problem(endpoint.data_capture.sample_percent if endpoint.data_capture else None))
                add("MLP-SM-003", at + ("monitoring", "drift"), None if endpoint.monitoring.drift else NO_DRIFT)
            add("MLP-SM-004", at + ("model", "package"), None if endpoint.model.package else NO_PACKAGE)
            if endpoint.rollout.shadow_artifact is not None:
                add("MLP-SM-004", at + ("rollout", "shadowArtifact"),
                    "the shadow variant serves an artifact path, not a model registry package")
    if mandatory_in(MANDATORY, environment):
        add("MLP-BUD-001", ("spec", "budget", "alertAtPercent"),
            budget_alert_problem(spec.spec.budget.alert_at_percent))
        add(REPLICATION_CHECK, ("spec", "artifacts", "replication"),
            replication_problem(loaded.team, spec.spec.artifacts.replication, stack.replication,
                                [(item.rule, item.resource,
                                  exemption_problem({"reason": item.reason, "approvedBy": item.approved_by,
                                                     "expires": item.expires}, on))
                                 for item in spec.spec.exemptions]))
        artifacts_days = spec.spec.artifacts.retention_days
        for index, group in enumerate(spec.spec.feature_groups):
            if not group.has_pii:
                continue
            at = ("spec", "featureGroups", index)
            if group.online.enabled:
                add("MLP-RET-002", at + ("online", "ttlHours"), online_ttl_problem(group.online.ttl_hours))
            if group.offline.enabled:
                own = group.offline.retention_days
                add("MLP-RET-002", at + ("offline", "retentionDays") if own else ("spec", "artifacts", "retentionDays"),
                    offline_retention_problem(own or artifacts_days))
    return issues


# ------------------------------------------------------------------ findings: the spec words

@dataclass(frozen=True)
class SpecField:
    """The spec field an author changes for a rule or check, and how.

    ``field`` is relative to the spec item the resource was built from (an endpoint, a
    feature group, a queue: ``item``) or, with ``item`` empty, a path from the spec root.
    """

    fix: str
    field: tuple[str, ...] = ()
    item: tuple[str, ...] = ()


SPEC_FIELDS: dict[str, SpecField] = {
    # policy pack, spec-decided (validate reports them too)
    "MLP-SM-001": SpecField("set rollout: {strategy: canary (or linear), canaryPercent: 5-10, bakeMinutes: 1-60}",
                            ("rollout",), ("spec", "endpoints")),
    "MLP-SM-002": SpecField("set dataCapture: {samplePercent: 1-100} on the endpoint",
                            ("dataCapture",), ("spec", "endpoints")),
    "MLP-SM-003": SpecField("set monitoring.drift: {threshold: 0-1, schedule: daily or hourly} on the endpoint",
                            ("monitoring", "drift"), ("spec", "endpoints")),
    "MLP-SM-004": SpecField("serve a registered model version: model: {package: {version: N}} instead of an "
                            "artifact path (in environments.prod when dev serves artifacts)",
                            ("model", "package"), ("spec", "endpoints")),
    "MLP-RET-002": SpecField(f"keep PII online records at most {PII_MAX_ONLINE_TTL_HOURS} hours (online.ttlHours) and "
                             f"offline records at most {PII_MAX_RETENTION_DAYS} days (offline.retentionDays or "
                             "spec.artifacts.retentionDays)", (), ("spec", "featureGroups")),
    # policy pack, already validated elsewhere in validate (schema or stack checks)
    "MLP-CMP-001": SpecField("pick an instance type from the stack's mlplatform:allowedInstanceTypes",
                             ("instanceType",), ("spec", "endpoints")),
    "MLP-CMP-002": SpecField("lower maxGpus (or borrowingLimitGpus) of the team's queues, or ask for a larger "
                             "ceiling in the stack config", ("spec", "training", "queues")),
    "MLP-REG-001": SpecField("deploy the team on a stack of its residency", ("metadata", "residency")),
    "MLP-FS-001": SpecField("classify the team confidential or restricted (metadata.dataClassification) and mark "
                            "PII features pii: true", ("features",), ("spec", "featureGroups")),
    "MLP-BUD-001": SpecField("set spec.budget {monthlyUsd, alertAtPercent} with at least one alert at or below "
                             f"{BUDGET_ALERT_MAX_PERCENT}%", ("spec", "budget")),
    "MLP-GOV-001": SpecField("renew the exemption (reason, approvedBy, a future expires) or fix the finding and "
                             "delete it", ("spec", "exemptions")),
    # serving edge (issue 16): the front door of exposure mode mtls builds these; the spec
    # decides the truststore and the rate limit, the component everything else
    "MLP-EDGE-001": SpecField("name the PEM bundle of trusted client CAs in the team's artifact bucket: "
                              "exposure: {mode: mtls, truststore: truststores/<name>.pem}", ("exposure", "truststore"),
                              ("spec", "endpoints")),
    "MLP-EDGE-002": SpecField("nothing to change in the spec: the front door of exposure.mode mtls is REGIONAL with "
                              "the default execute-api endpoint disabled; report the plan to the platform team, or "
                              "serve privately (exposure.mode: private) until it is fixed", ("exposure", "mode"),
                              ("spec", "endpoints")),
    "MLP-EDGE-003": SpecField("the front door's WAF runs the AWS managed rule groups and blocks a client IP above "
                              "exposure.rateLimitPerFiveMinutes requests in five minutes (100-2,000,000,000); a stage "
                              "without it is a platform defect: report the plan to the platform team",
                              ("exposure", "rateLimitPerFiveMinutes"), ("spec", "endpoints")),
    "MLP-EDGE-004": SpecField("nothing to change in the spec: the front door's domain uses security policy "
                              f"{EDGE_TLS_POLICY} (mutual TLS rules out the enhanced SecurityPolicy_* policies); "
                              "report the plan to the platform team", ("exposure", "mode"), ("spec", "endpoints")),
    # decided by the stack config, not a team spec
    "MLP-EDGE-005": SpecField("turn anomaly detection on in the prod stack config: mlplatform:anomalyDetection: "
                              "{enabled: true} (or leave it unset: on in prod by default)"),
    # checkov checks the estate can fail on a team resource
    "CKV_AWS_98": SpecField("serve on an instance type with local NVMe storage (instance catalogue localNvme) or "
                            "serverless, where SageMaker encrypts instance storage itself, or ask the platform team "
                            "to give the endpoint config a storage KMS key", ("instanceType",), ("spec", "endpoints")),
    "CKV_AWS_144": SpecField("set artifacts.replication: true (the stack replicates to its partner region) or record "
                             "an approved exemption in spec.exemptions", ("spec", "artifacts", "replication")),
}


def spec_field(rule: str, source_field: Optional[str]) -> Optional[str]:
    """The spec field a finding of ``rule`` names, from the field the resource's component
    was built from (``spec.endpoints[scorer]``, as validate names it): the rule's field
    under that item (``spec.endpoints[scorer].dataCapture``), its root path, or else the
    source field itself when the rule has no entry or the item is of another kind."""
    from .errors import format_path

    entry = SPEC_FIELDS.get(rule)
    if entry is not None and not entry.item and entry.field:
        return format_path(entry.field)
    if entry is not None and entry.item and source_field:
        prefix = format_path(entry.item) + "["
        if source_field.startswith(prefix) and "]" in source_field[len(prefix):]:
            item = source_field[:source_field.index("]", len(prefix)) + 1]
            return ".".join([item, *entry.field])
    return source_field or None


def spec_fix(rule: str, remediation: str = "") -> str:
    """The spec-level fix for ``rule``: its table entry, else the rule's own remediation."""
    entry = SPEC_FIELDS.get(rule)
    return entry.fix if entry is not None else remediation
