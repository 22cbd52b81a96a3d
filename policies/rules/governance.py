"""Governance: budgets, log and PII retention, protected state, PII feature groups,
registries, spot capacity and the validity of exemptions themselves."""

from __future__ import annotations

import re
from typing import Any

from mlplatform.guardrails import (PII_MAX_ONLINE_TTL_HOURS, PII_MAX_RETENTION_DAYS, budget_alerts_in_time,
                                   offline_retention_problem, online_ttl_problem)
from mlplatform.spec.models import PII_CLASSIFICATIONS

from .common import (ADVISORY, MANDATORY, PROD, TEAMS_SCHEMA, UNKNOWN, Context, as_list, exemption_problem,
                    json_document, peek, rule, today)
from .links import BUCKET_TYPES, s3_types, settings_of

BUDGET = "aws:budgets/budget:Budget"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
REPOSITORY = "aws:ecr/repository:Repository"
COMPUTE_ENVIRONMENT = "aws:batch/computeEnvironment:ComputeEnvironment"
JOB_QUEUE = "aws:batch/jobQueue:JobQueue"
SPOT_KINDS, ON_DEMAND_KINDS = ("SPOT", "FARGATE_SPOT"), ("EC2", "FARGATE")
TEAM = "mlplatform:team:Team"
LIFECYCLE = s3_types("BucketLifecycleConfiguration")
POLICY_DOCUMENTS = {"aws:iam/policy:Policy": "policy", "aws:iam/rolePolicy:RolePolicy": "policy"}
STATEFUL = (*BUCKET_TYPES, "aws:kms/key:Key", FEATURE_GROUP, REPOSITORY, LOG_GROUP,
            "aws:glue/registry:Registry", "aws:glue/schema:Schema", "aws:cloudtrail/trail:Trail",
            "aws:dynamodb/table:Table", "aws:sagemaker/modelPackageGroup:ModelPackageGroup")
FEATURE_STORE_ACTION = re.compile(r"^(sagemaker:(\*|.*FeatureGroup.*|.*Record|GetRecord|PutRecord)|\*)$", re.I)
ABAC_KEYS = ("aws:resourcetag/", "aws:principaltag/", "sagemaker:resourcetag/")


def team_urn(ctx: Context, team: str):
    for resource in ctx.of_type(TEAM):
        if resource.name == team:
            return resource.urn
    return None


# ------------------------------------------------------------------ budgets

def _budget_team(ctx: Context, budget: Any):
    for item in as_list(peek(budget.props, "costFilters")):
        if peek(item, "name") == "TagKeyValue":
            for value in as_list(peek(item, "values")):
                if isinstance(value, str) and value.startswith("user:team$"):
                    return value.split("$", 1)[1]
    return None


@rule(
    id="MLP-BUD-001",
    name="Every team has a budget",
    description="Every team of the stack has a monthly COST budget filtered on its team tag that alerts someone at or "
                "below 100%.",
    severity="medium",
    remediation="Set spec.budget in the team spec (the TeamBudget component creates it).",
    level=MANDATORY,
    stack=True,
    concern="cost",
    config={"teams": TEAMS_SCHEMA},
)
def check_budgets(ctx: Context, report) -> None:
    teams = set(ctx.config["teams"]) | {r.name for r in ctx.of_type(TEAM)}
    covered = set()
    for budget in ctx.of_type(BUDGET):
        team = _budget_team(ctx, budget)
        alerting = any(
            (as_list(peek(n, "subscriberEmailAddresses")) or as_list(peek(n, "subscriberSnsTopicArns")))
            and budget_alerts_in_time([peek(n, "threshold")])
            for n in as_list(peek(budget.props, "notifications"))
        )
        if peek(budget.props, "budgetType") != "COST":
            continue
        if team and alerting:
            covered.add(team)
        elif team:
            report(f"budget of team {team} notifies nobody at or below 100%", budget.urn)
    for team in sorted(teams - covered):
        report(f"team {team} has no monthly cost budget filtered on its team tag with alerts", team_urn(ctx, team))


# ------------------------------------------------------------------ retention

@rule(
    id="MLP-RET-001",
    name="Log retention within classification bounds",
    description="CloudWatch log groups keep logs for a bounded number of days within the range allowed for the data "
                "classification of their team (never forever).",
    severity="medium",
    remediation="Set retentionInDays within the bounds for the classification.",
    level=MANDATORY,
    types=(LOG_GROUP,),
    concern="retention",
    config={"bounds": {"type": "object", "default": {
        # a year at least for every class, as components/monitoring.py LOG_RETENTION_DAYS keeps
        # (checkov CKV_AWS_338); at most ten years
        "public": {"min": 365, "max": 3653}, "internal": {"min": 365, "max": 3653},
        "confidential": {"min": 365, "max": 3653}, "restricted": {"min": 365, "max": 3653}}}},
)
def check_log_retention(ctx: Context, report) -> None:
    classification = ctx.tags().get("data-classification") or "internal"
    bounds = ctx.config["bounds"].get(classification, ctx.config["bounds"]["internal"])
    days = peek(ctx.props, "retentionInDays")
    if days == UNKNOWN:
        ctx.props["retentionInDays"]
    if not isinstance(days, (int, float)) or days == 0:
        report(f"log group keeps logs forever; {classification} logs need {bounds['min']}-{bounds['max']} days")
    elif not bounds["min"] <= days <= bounds["max"]:
        report(f"log retention {days} days is outside {bounds['min']}-{bounds['max']} days for {classification} data")


def _pii_groups(ctx: Context) -> dict[str, str]:
    """feature group name -> team, from the team facts (the spec marks PII features)."""
    return {group: team for team, facts in ctx.config["teams"].items() for group in facts.get("piiFeatureGroups", [])}


def _is_pii(ctx: Context, group: Any, pii_groups: dict[str, str]) -> bool:
    return peek(group.props, "featureGroupName") in pii_groups or str(ctx.tags(group).get("pii")).lower() == "true"


@rule(
    id="MLP-RET-002",
    name="PII retention bounded",
    description="Feature groups holding PII keep online records no longer than the configured TTL and their offline "
                "store's objects expire within the configured number of days.",
    severity="high",
    remediation="Set online.ttlHours and keep the artifact bucket's retentionDays within the PII maximum.",
    level=MANDATORY,
    stack=True,
    concern="retention",
    config={"teams": TEAMS_SCHEMA,
            "maxRetentionDays": {"type": "integer", "minimum": 1, "default": PII_MAX_RETENTION_DAYS},
            "maxOnlineTtlHours": {"type": "integer", "minimum": 1, "default": PII_MAX_ONLINE_TTL_HOURS}},
)
def check_pii_retention(ctx: Context, report) -> None:
    pii_groups = _pii_groups(ctx)
    buckets = {peek(b.props, "bucket"): b for b in ctx.of_type(*BUCKET_TYPES)}
    max_days, max_hours = ctx.config["maxRetentionDays"], ctx.config["maxOnlineTtlHours"]
    for group in ctx.of_type(FEATURE_GROUP):
        if not _is_pii(ctx, group, pii_groups):
            continue
        online = peek(group.props, "onlineStoreConfig")
        if online not in (None, UNKNOWN) and peek(online, "enableOnlineStore") is True:
            ttl = peek(online, "ttlDuration")
            hours = peek(ttl, "value")
            unit = {"Seconds": 1 / 3600, "Minutes": 1 / 60, "Hours": 1, "Days": 24, "Weeks": 168}.get(peek(ttl, "unit"))
            problem = online_ttl_problem(hours * unit if isinstance(hours, (int, float)) and unit else None, max_hours)
            if problem:
                report(problem, group.urn)
        uri = peek(group.props, "offlineStoreConfig", "s3StorageConfig", "s3Uri")
        if isinstance(uri, str) and uri.startswith("s3://"):
            name, _, prefix = uri[5:].partition("/")
            bucket = buckets.get(name)
            expiry = _expiry_days(settings_of(bucket, ctx, LIFECYCLE) if bucket is not None else [], prefix)
            problem = offline_retention_problem(expiry, max_days)
            if problem:
                report(f"{problem} (s3://{name}/{prefix})", group.urn)


def _expiry_days(lifecycles: list, prefix: str):
    """Shortest expiry of an enabled lifecycle rule covering the offline store. The store's
    objects live *under* its URI (SageMaker appends ``/<account>/sagemaker/...``), so the URI
    is matched as a folder: ``feature-store/g`` is covered by a rule on ``feature-store/g/``."""
    prefix = prefix.rstrip("/") + "/"
    best = None
    for lifecycle in lifecycles:
        for lifecycle_rule in as_list(peek(lifecycle.props, "rules")):
            if peek(lifecycle_rule, "status") != "Enabled":
                continue
            rule_prefix = peek(lifecycle_rule, "filter", "prefix") or peek(lifecycle_rule, "prefix") or ""
            if not prefix.startswith(rule_prefix):
                continue
            days = peek(lifecycle_rule, "expiration", "days")
            if isinstance(days, (int, float)):
                best = days if best is None else min(best, days)
    return best


# ------------------------------------------------------------------ PII feature groups

def _statements(ctx: Context):
    for resource in ctx.resources:
        key = POLICY_DOCUMENTS.get(resource.resource_type)
        documents = []
        if key:
            documents.append(peek(resource.props, key))
        elif resource.resource_type == "aws:iam/role:Role":
            documents += [peek(p, "policy") for p in as_list(peek(resource.props, "inlinePolicies"))]
        for text in documents:
            document = json_document(text) if text != UNKNOWN else None
            for statement in as_list(document.get("Statement") if isinstance(document, dict) else None):
                if isinstance(statement, dict) and statement.get("Effect") == "Allow":
                    yield resource, statement


def _has_abac(statement: dict) -> bool:
    for values in (statement.get("Condition") or {}).values():
        if isinstance(values, dict) and any(str(k).lower().startswith(ABAC_KEYS) for k in values):
            return True
    return False


@rule(
    id="MLP-FS-001",
    name="PII feature groups tagged and access-controlled by attributes",
    description="Feature groups with PII features are tagged pii=true, classified confidential or restricted, and "
                "every IAM grant of feature-store access to them carries an attribute (tag) condition.",
    severity="high",
    remediation="Mark PII features in the spec (pii: true); grant feature-store access with aws:ResourceTag / "
                "aws:PrincipalTag conditions.",
    level=MANDATORY,
    stack=True,
    concern="pii",
    config={"teams": TEAMS_SCHEMA},
)
def check_pii_feature_groups(ctx: Context, report) -> None:
    pii_groups = _pii_groups(ctx)
    groups = [g for g in ctx.of_type(FEATURE_GROUP) if _is_pii(ctx, g, pii_groups)]
    for group in groups:
        tags = ctx.tags(group)
        if str(tags.get("pii")).lower() != "true":
            report("feature group holds PII but is not tagged pii=true", group.urn)
        if tags.get("data-classification") not in PII_CLASSIFICATIONS:
            report(f"feature group holds PII but is classified {tags.get('data-classification') or 'unclassified'}",
                   group.urn)
    if not groups:
        return
    names = [peek(g.props, "featureGroupName") for g in groups]
    for resource, statement in _statements(ctx):
        actions = [str(a) for a in as_list(statement.get("Action"))]
        if not any(FEATURE_STORE_ACTION.match(a) for a in actions):
            continue
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        touches = any(r == "*" or r.endswith(":feature-group/*")
                      or any(isinstance(n, str) and r.endswith(f":feature-group/{n}") for n in names)
                      for r in resources)
        if touches and not _has_abac(statement):
            report("grants feature-store access to PII feature groups without an attribute condition "
                   "(aws:ResourceTag/... or aws:PrincipalTag/...)", resource.urn)


# ------------------------------------------------------------------ protection, registries, spot

@rule(
    id="MLP-PROT-001",
    name="Stateful resources protected",
    description="In production, buckets, keys, feature groups, registries, log groups and other stateful resources "
                "are protected and cannot be force-deleted with their contents.",
    severity="high",
    remediation="Set mlplatform:protectStateful: true on the stack; never set forceDestroy/forceDelete.",
    level=PROD,
    types=STATEFUL,
    concern="protection",
    config={"environments": {"type": "array", "items": {"type": "string"}, "default": ["prod"]}},
)
def check_protected(ctx: Context, report) -> None:
    if ctx.environment not in ctx.config["environments"]:
        return
    if not ctx.resource.opts.protect:
        report("stateful resource is not protected (resource option protect)")
    if peek(ctx.props, "forceDestroy") is True or peek(ctx.props, "forceDelete") is True:
        report("stateful resource can be deleted with its contents (forceDestroy/forceDelete)")


@rule(
    id="MLP-ECR-001",
    name="Immutable, scanned image registries",
    description="ECR repositories have immutable tags and scan images on push.",
    severity="medium",
    remediation="Set imageTagMutability IMMUTABLE and imageScanningConfiguration.scanOnPush true.",
    level=MANDATORY,
    types=(REPOSITORY,),
    concern="registry",
)
def check_registry(ctx: Context, report) -> None:
    if peek(ctx.props, "imageTagMutability") not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        report("image tags are mutable (imageTagMutability: IMMUTABLE)")
    if peek(ctx.props, "imageScanningConfiguration", "scanOnPush") is not True:
        report("images are not scanned on push")


@rule(
    id="MLP-ADV-001",
    name="Spot capacity for training",
    description="Training compute environments without a deadline use spot capacity; an on-demand environment that "
                "its job queues use only after a spot one (the fallback) is fine.",
    severity="low",
    remediation="Enable spot in the queue's spec (spot.enabled: true, keeping fallbackToOnDemand if you like) or "
                "tag the queue with its deadline.",
    level=ADVISORY,
    stack=True,
    concern="cost",
)
def check_spot(ctx: Context, report) -> None:
    """On-demand training capacity without a deadline, unless it is a fallback: an
    environment every job queue that uses it tries only after a spot environment (the
    queue runs spot first, and on-demand only when spot is unavailable)."""
    fallbacks = _spot_fallbacks(ctx)
    for environment in ctx.of_type(COMPUTE_ENVIRONMENT):
        kind = peek(environment.props, "computeResources", "type")
        if kind not in ON_DEMAND_KINDS or ctx.tags(environment).get("deadline") or environment.urn in fallbacks:
            continue
        report(f"training capacity is on-demand ({kind}) with no spot environment before it in its job queue; "
               "without a deadline, spot capacity costs up to 90% less", environment.urn)


def _spot_fallbacks(ctx: Context) -> set[str]:
    """URNs of on-demand environments that every job queue using them orders after a spot one.

    Job queues name their environments by ARN (``...:compute-environment/<name>``); an
    environment is matched by its ``name``. An order that cannot be read (unknown at
    preview) proves nothing, so its on-demand environments stay reportable."""
    by_name = {}
    for environment in ctx.of_type(COMPUTE_ENVIRONMENT):
        name = peek(environment.props, "name")
        if isinstance(name, str) and name != UNKNOWN:
            by_name[name] = environment
    after_spot: dict[str, bool] = {}
    for queue in ctx.of_type(JOB_QUEUE):
        orders = [o for o in as_list(peek(queue.props, "computeEnvironmentOrders")) if o not in (None, UNKNOWN)]
        orders.sort(key=lambda o: peek(o, "order") if isinstance(peek(o, "order"), (int, float)) else 0)
        spot_seen = False
        for order in orders:
            arn = peek(order, "computeEnvironment")
            environment = by_name.get(arn.rsplit("compute-environment/", 1)[-1]) if isinstance(arn, str) else None
            if environment is None:
                continue
            kind = peek(environment.props, "computeResources", "type")
            if kind in SPOT_KINDS:
                spot_seen = True
            elif kind in ON_DEMAND_KINDS:
                after_spot[environment.urn] = after_spot.get(environment.urn, True) and spot_seen
    return {urn for urn, fallback in after_spot.items() if fallback}


# ------------------------------------------------------------------ exemptions

@rule(
    id="MLP-GOV-001",
    name="Exemptions valid",
    description="Every exemption in the team specs names a reason and an approver and has not expired; an expired "
                "exemption is itself a violation.",
    severity="medium",
    remediation="Renew the exemption with a new expiry and approval, or fix the finding and delete it.",
    level=MANDATORY,
    stack=True,
    concern="governance",
    config={"allExemptions": {"type": "array", "default": [], "items": {"type": "object"}}},
)
def check_exemptions(ctx: Context, report) -> None:
    on = today(ctx.config)
    for exemption in ctx.config["allExemptions"]:
        problem = exemption_problem(exemption, on)
        if problem:
            target = exemption.get("resource") or "the whole team"
            report(f"exemption of team {exemption.get('team')} from {exemption.get('rule')} for {target} {problem}",
                   team_urn(ctx, str(exemption.get("team"))))
