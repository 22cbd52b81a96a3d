"""MLP-EDGE-*: the serving edge (issue 16), mutual-TLS front doors on API Gateway and anomalous-access
detection.

A team endpoint with ``exposure.mode: mtls`` is reached through a REST API behind a custom
domain. Four things make that door shut for everyone without a client certificate:

* MLP-EDGE-001: the custom domain requires mutual TLS against a truststore in the owning
  team's artifact bucket (``s3://<bucket>/truststores/...``), not anyone else's bucket;
* MLP-EDGE-002: the REST API is REGIONAL and its default ``execute-api`` endpoint is
  disabled: that endpoint skips the domain, so it would skip mutual TLS too;
* MLP-EDGE-003: every stage has a WAF web ACL (REGIONAL) with the AWS managed rule groups
  blocking and a blocking rate-based rule;
* MLP-EDGE-004: the domain's security policy keeps TLS 1.2 as the minimum.

MLP-EDGE-005 is stack-wide: a production stack detects anomalous access (GuardDuty with
S3 protection, CloudTrail Insights on the trail).

Unknown values: a truststore URI, a web ACL association's target or its web ACL may be
computed at preview. A link is then judged by the property dependencies the engine sends
(the input depends on the team's artifact bucket, the stage, the web ACL); what cannot be
told even so is deferred through the SDK (reported as not evaluable during preview, never
passed), as MLP-S3-003 does with policy documents.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Optional

from mlplatform.guardrails import (ANOMALY_DETECTION_ENVIRONMENTS, EDGE_MANAGED_RULE_GROUPS, EDGE_TLS_POLICY,
                                   GUARDDUTY_S3_FEATURE, INSIGHT_TYPES, TRUSTSTORE_PREFIX)
from mlplatform.type_tokens import (
    APIGATEWAY_DOMAIN_NAME, APIGATEWAY_REST_API, APIGATEWAY_STAGE, ARTIFACT_STORE, CLOUDTRAIL_TRAIL, FOUNDATION,
    GUARDDUTY_DETECTOR, GUARDDUTY_DETECTOR_FEATURE, S3_BUCKET_OBJECT, S3_BUCKET_OBJECT_V2, WAFV2_WEB_ACL,
    WAFV2_WEB_ACL_ASSOCIATION)

from .common import MANDATORY, PROD, UNKNOWN, Context, as_list, defer, peek, raw_tree, rule
from .links import BUCKET_TYPES, bucket_name, links

OBJECT_TYPES = (S3_BUCKET_OBJECT, S3_BUCKET_OBJECT_V2)

#: ``s3://bucket/key``
S3_URI = re.compile(r"^s3://([^/]+)/(.+)$")
#: A stage ARN: ``arn:aws:apigateway:<region>::/restapis/<api id>/stages/<stage name>``.
STAGE_ARN = re.compile(r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]+::/restapis/([^/]+)/stages/([^/]+)$")
#: A regional web ACL ARN: ``arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>``.
WEB_ACL_ARN = re.compile(r"^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/([^/]+)/[^/]+$")
#: Enhanced security policies with TLS 1.2 or 1.3 as their minimum (botocore apigateway
#: SecurityPolicy enum); every other value but TLS_1_2 (i.e. TLS_1_0) admits TLS 1.0.
ENHANCED_TLS12_POLICY = re.compile(r"^SecurityPolicy_TLS1[23]_")


def known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


def parent_types(resource: Any) -> list[str]:
    """The component types a resource was created under, from its URN's type chain
    (``urn:pulumi:stack::project::parent$child$type::name``): the URN always carries it,
    whichever way the plan was read (capture, ``pulumi preview --json``, stack export)."""
    parts = str(resource.urn).split("::")
    return parts[2].split("$")[:-1] if len(parts) >= 4 else []


# ------------------------------------------------------------------ MLP-EDGE-001 truststore

def artifact_buckets(ctx: Context, team: Optional[str]) -> dict[str, Any]:
    """urn -> bucket of ``team``'s artifact store (buckets created under an ArtifactStore
    component and tagged with the team)."""
    found = ctx.memo(("artifact buckets",), lambda: [
        bucket for bucket in ctx.of_type(*BUCKET_TYPES) if ARTIFACT_STORE in parent_types(bucket)])
    return {bucket.urn: bucket for bucket in found if team is not None and ctx.team(bucket) == team}


@rule(
    id="MLP-EDGE-001",
    name="Front doors require client certificates from the team's truststore",
    description="Every API Gateway custom domain requires mutual TLS with a truststore under truststores/ in the "
                "owning team's artifact bucket (KMS-encrypted, the team's own), not in another bucket.",
    severity="critical",
    remediation="Set exposure: {mode: mtls, truststore: truststores/<name>.pem} on the endpoint in the spec; the "
                "front door points mutualTlsAuthentication.truststoreUri at s3://<team artifact bucket>/<truststore>.",
    level=MANDATORY,
    stack=True,
    concern="edge",
)
def check_truststore(ctx: Context, report) -> None:
    deferred: list = []
    for domain in ctx.of_type(APIGATEWAY_DOMAIN_NAME):
        team = ctx.team(domain)
        mtls = peek(domain.props, "mutualTlsAuthentication")
        uri = peek(mtls, "truststoreUri")
        if mtls == UNKNOWN or uri == UNKNOWN:
            sources = {dep.urn for dep in (domain.property_dependencies or {}).get("mutualTlsAuthentication", [])}
            buckets = artifact_buckets(ctx, team)
            if sources & set(buckets) or any(dep.resource_type in OBJECT_TYPES and _object_in(dep, buckets)
                                             for dep in _dependencies(domain, "mutualTlsAuthentication")):
                continue
            deferred.append(domain)
            continue
        if not isinstance(uri, str) or not uri:
            report("custom domain does not require client certificates (no mutualTlsAuthentication.truststoreUri)",
                   domain.urn)
            continue
        match = S3_URI.match(uri)
        if not match:
            report(f"truststore {uri} is not an s3://bucket/key URI", domain.urn)
            continue
        bucket, key = match.groups()
        names = {bucket_name(b) for b in artifact_buckets(ctx, team).values()}
        if bucket not in names:
            owner = f"team {team}" if team else "the domain's team (untagged)"
            report(f"truststore {uri} is not in the artifact bucket of {owner}", domain.urn)
        elif not key.startswith(TRUSTSTORE_PREFIX):
            report(f"truststore {uri} is not under {TRUSTSTORE_PREFIX} of the team's artifact bucket", domain.urn)
    for domain in deferred:  # the SDK reports the rule as not evaluable during preview
        domain.props["mutualTlsAuthentication"]["truststoreUri"]


def _dependencies(resource: Any, prop: str) -> list:
    return list((resource.property_dependencies or {}).get(prop, []))


def _object_in(obj: Any, buckets: dict[str, Any]) -> bool:
    """A bucket object (the uploaded truststore) stored in one of ``buckets``."""
    names = {bucket_name(b) for b in buckets.values()}
    return peek(obj.props, "bucket") in names or bool({d.urn for d in _dependencies(obj, "bucket")} & set(buckets))


# ------------------------------------------------------------------ MLP-EDGE-002 REST API

def _types(value: Any) -> list:
    """``endpointConfiguration.types``: one string in pulumi-aws v7, a list before."""
    return [value] if isinstance(value, str) else as_list(value)


@rule(
    id="MLP-EDGE-002",
    name="Front door APIs are regional with the default endpoint disabled",
    description="Every API Gateway REST API is REGIONAL and has its default execute-api endpoint disabled, so callers "
                "reach it only through the mutual-TLS custom domain.",
    severity="critical",
    remediation="Set disableExecuteApiEndpoint: true and endpointConfiguration.types REGIONAL on the REST API "
                "(the front door component of exposure mode mtls does this).",
    level=MANDATORY,
    types=(APIGATEWAY_REST_API,),
    concern="edge",
)
def check_rest_api(ctx: Context, report) -> None:
    disabled = peek(ctx.props, "disableExecuteApiEndpoint")
    if disabled == UNKNOWN:
        ctx.props["disableExecuteApiEndpoint"]
    if disabled is not True:
        report("the default execute-api endpoint is enabled (set disableExecuteApiEndpoint: true): callers could reach "
               "the API without the custom domain's mutual TLS")
    types = peek(ctx.props, "endpointConfiguration", "types")
    if types == UNKNOWN:
        ctx.props["endpointConfiguration"]
    if _types(types) != ["REGIONAL"]:
        shown = ", ".join(str(t) for t in _types(types)) or "unset (EDGE by default)"
        report(f"endpoint type is {shown}, not REGIONAL (a regional WAF web ACL and the regional mTLS domain front it)")


# ------------------------------------------------------------------ MLP-EDGE-003 WAF

def _get(data: Any, *keys: str) -> Any:
    """A WAF rule field by its pulumi-aws (camelCase) or API (PascalCase, ``ruleJson``) name."""
    for key in keys:
        value = peek(data, key)
        if value is not None:
            return value
    return None


def acl_rules(acl: Any) -> Any:
    """The web ACL's rules from ``rules`` or ``ruleJson`` (UNKNOWN when either is unknown)."""
    rules = peek(acl.props, "rules")
    text = peek(acl.props, "ruleJson")
    if rules == UNKNOWN or text == UNKNOWN:
        return UNKNOWN
    found = [rule for rule in as_list(raw_tree(rules)) if isinstance(rule, dict)]
    if isinstance(text, str) and text:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = []
        found += [rule for rule in as_list(parsed) if isinstance(rule, dict)]
    return found


def _action_kind(action: Any) -> Optional[str]:
    """The one action key set (``block``, ``count``, ``none``...), lower-cased."""
    action = raw_tree(action)
    if isinstance(action, dict):
        for key, value in action.items():
            if value is not None:
                return str(key).lower()
    return None


def web_acl_problems(acl: Any, required_groups: Iterable[str]) -> list[str]:
    problems = []
    scope = peek(acl.props, "scope")
    if known(scope) and scope != "REGIONAL":
        problems.append(f"web ACL scope is {scope}, not REGIONAL (API Gateway stages take regional web ACLs)")
    rules = acl_rules(acl)
    if rules == UNKNOWN:
        return problems
    managed: dict[str, Optional[str]] = {}
    rate_limited = False
    for waf_rule in rules:
        statement = _get(waf_rule, "statement", "Statement")
        group = _get(statement, "managedRuleGroupStatement", "ManagedRuleGroupStatement")
        if isinstance(group, dict) and _get(group, "vendorName", "VendorName") == "AWS":
            managed[str(_get(group, "name", "Name"))] = _action_kind(_get(waf_rule, "overrideAction", "OverrideAction"))
        rate = _get(statement, "rateBasedStatement", "RateBasedStatement")
        if isinstance(rate, dict) and _action_kind(_get(waf_rule, "action", "Action")) == "block":
            rate_limited = True
    missing = [name for name in required_groups if name not in managed]
    if missing:
        problems.append(f"web ACL lacks the AWS managed rule groups {', '.join(missing)}")
    counting = [name for name in required_groups if managed.get(name) == "count"]
    if counting:
        problems.append(f"AWS managed rule groups {', '.join(counting)} only count (overrideAction count), never block")
    if not rate_limited:
        problems.append("web ACL has no blocking rate-based rule (a client IP above exposure.rateLimitPerFiveMinutes "
                        "requests in five minutes is never blocked)")
    return problems


def _associations_of(ctx: Context, stage: Any) -> list:
    """Web ACL associations whose ``resourceArn`` depends on the stage, or is the stage's
    literal ARN (its REST API id and stage name known)."""
    found = links(ctx, (WAFV2_WEB_ACL_ASSOCIATION,), "resourceArn").find(stage.urn)
    api, name = peek(stage.props, "restApi"), peek(stage.props, "stageName")
    if known(api) and known(name):
        for association in ctx.of_type(WAFV2_WEB_ACL_ASSOCIATION):
            match = STAGE_ARN.match(str(peek(association.props, "resourceArn")))
            if match and match.groups() == (api, name) and association not in found:
                found.append(association)
    return found


def _web_acls_of(ctx: Context, association: Any) -> Optional[list]:
    """The plan's web ACLs the association attaches (by dependency or by the name in a
    literal ARN); None when its ``webAclArn`` is unknown and depends on no web ACL."""
    acls = [acl for acl in ctx.of_type(WAFV2_WEB_ACL)
            if acl.urn in {dep.urn for dep in _dependencies(association, "webAclArn")}]
    arn = peek(association.props, "webAclArn")
    if known(arn):
        match = WEB_ACL_ARN.match(str(arn))
        acls += [acl for acl in ctx.of_type(WAFV2_WEB_ACL) if match and peek(acl.props, "name") == match.group(1)
                 and acl not in acls]
    elif not acls:
        return None
    return acls


@rule(
    id="MLP-EDGE-003",
    name="Front door stages behind WAF",
    description="Every API Gateway stage has a regional WAF web ACL associated whose AWS managed rule groups (common, "
                "known bad inputs, IP reputation) block and which has a blocking rate-based rule.",
    severity="high",
    remediation="Associate the stage with a REGIONAL wafv2 WebAcl that runs the AWS managed rule groups with "
                "overrideAction none and a rate-based rule with action block (set exposure.rateLimitPerFiveMinutes).",
    level=MANDATORY,
    stack=True,
    concern="edge",
    config={"managedRuleGroups": {"type": "array", "items": {"type": "string"},
                                  "default": list(EDGE_MANAGED_RULE_GROUPS)}},
)
def check_waf(ctx: Context, report) -> None:
    required = ctx.config["managedRuleGroups"]
    unresolved = [a for a in ctx.of_type(WAFV2_WEB_ACL_ASSOCIATION)
                  if peek(a.props, "resourceArn") == UNKNOWN and not _dependencies(a, "resourceArn")]
    deferred: list = []
    judged: set[str] = set()
    for stage in ctx.of_type(APIGATEWAY_STAGE):
        associations = _associations_of(ctx, stage)
        if not associations:
            if unresolved:
                deferred += [a for a in unresolved if a not in deferred]
            else:
                report("API Gateway stage has no WAF web ACL (no wafv2 WebAclAssociation with the stage's ARN)",
                       stage.urn)
            continue
        for association in associations:
            acls = _web_acls_of(ctx, association)
            if acls is None:
                deferred.append(association)
                continue
            if not acls:
                report(f"the web ACL {peek(association.props, 'webAclArn')} of the stage is not in the plan; its "
                       "rules cannot be checked", stage.urn)
            for acl in acls:
                if acl.urn in judged:
                    continue
                judged.add(acl.urn)
                for problem in web_acl_problems(acl, required):
                    report(problem, acl.urn)
    for acl in ctx.of_type(WAFV2_WEB_ACL):
        if acl.urn not in judged and acl_rules(acl) == UNKNOWN:
            deferred.append(acl)
    defer([a for a in deferred if a.resource_type == WAFV2_WEB_ACL_ASSOCIATION], "resourceArn")
    for acl in (a for a in deferred if a.resource_type == WAFV2_WEB_ACL):
        acl.props["rules"]
        acl.props["ruleJson"]


# ------------------------------------------------------------------ MLP-EDGE-004 TLS

def tls_policy_problem(policy: Any, mtls: bool) -> Optional[str]:
    """The custom domain's security policy: TLS 1.2 minimum; with mutual TLS only TLS_1_2
    (API Gateway refuses mutual TLS on enhanced policies)."""
    if policy == EDGE_TLS_POLICY:
        return None
    if isinstance(policy, str) and ENHANCED_TLS12_POLICY.match(policy):
        return (f"security policy {policy} cannot be used with mutual TLS; use {EDGE_TLS_POLICY}" if mtls else None)
    shown = policy if isinstance(policy, str) and policy else "unset"
    return f"security policy is {shown}; the domain must refuse TLS below 1.2 (securityPolicy: {EDGE_TLS_POLICY})"


@rule(
    id="MLP-EDGE-004",
    name="Front door domains refuse TLS below 1.2",
    description=f"Every API Gateway custom domain uses security policy {EDGE_TLS_POLICY} (an enhanced TLS 1.2+ "
                "policy only without mutual TLS, which enhanced policies do not support).",
    severity="high",
    remediation=f"Set securityPolicy: {EDGE_TLS_POLICY} on the domain name.",
    level=MANDATORY,
    types=(APIGATEWAY_DOMAIN_NAME,),
    concern="edge",
)
def check_tls(ctx: Context, report) -> None:
    policy = peek(ctx.props, "securityPolicy")
    if policy == UNKNOWN:
        ctx.props["securityPolicy"]
    problem = tls_policy_problem(policy, mtls=peek(ctx.props, "mutualTlsAuthentication") is not None)
    if problem:
        report(problem)


# ------------------------------------------------------------------ MLP-EDGE-005 anomaly detection

def _s3_protected(ctx: Context, detector: Any, features: list) -> bool:
    if peek(detector.props, "datasources", "s3Logs", "enable") is True:
        return True
    detectors = ctx.of_type(GUARDDUTY_DETECTOR)
    for feature in features:
        if peek(feature.props, "name") != GUARDDUTY_S3_FEATURE or peek(feature.props, "status") != "ENABLED":
            continue
        sources = {dep.urn for dep in _dependencies(feature, "detectorId")}
        if detector.urn in sources or (not sources and len(detectors) == 1):
            return True
    return False


@rule(
    id="MLP-EDGE-005",
    name="Production detects anomalous access",
    description="A production stack runs GuardDuty with S3 protection and CloudTrail Insights (API call rate and "
                "error rate) on its trail.",
    severity="high",
    remediation="Leave mlplatform:anomalyDetection unset or enabled: true on the prod stack (the foundation then "
                "creates the GuardDuty detector, its S3 protection and the trail's insight selectors).",
    level=PROD,
    stack=True,
    concern="detection",
    config={"anomalyEnvironments": {"type": "array", "items": {"type": "string"},
                                    "default": list(ANOMALY_DETECTION_ENVIRONMENTS)},
            "insightTypes": {"type": "array", "items": {"type": "string"}, "default": list(INSIGHT_TYPES)}},
)
def check_anomaly_detection(ctx: Context, report) -> None:
    if ctx.environment not in ctx.config["anomalyEnvironments"]:
        return
    foundation = next(iter(ctx.of_type(FOUNDATION)), None)
    anchor = foundation.urn if foundation is not None else None
    features = ctx.of_type(GUARDDUTY_DETECTOR_FEATURE)
    detectors = [d for d in ctx.of_type(GUARDDUTY_DETECTOR) if peek(d.props, "enable") is not False]
    if not detectors:
        report("production stack has no enabled GuardDuty detector (anomaly detection is off)", anchor)
    elif not any(_s3_protected(ctx, detector, features) for detector in detectors):
        report(f"GuardDuty has no S3 protection (DetectorFeature {GUARDDUTY_S3_FEATURE} ENABLED): access to model "
               "artifacts and training data is not watched", detectors[0].urn)
    required = list(ctx.config["insightTypes"])
    trails = ctx.of_type(CLOUDTRAIL_TRAIL)
    if not trails:
        report("production stack has no CloudTrail trail, so no CloudTrail Insights", anchor)
        return
    unknown = [t for t in trails if peek(t.props, "insightSelectors") == UNKNOWN]
    missing_by_trail = {}
    for trail in trails:
        if trail in unknown:
            continue
        logged = {peek(s, "insightType") for s in as_list(peek(trail.props, "insightSelectors"))}
        missing_by_trail[trail.urn] = [kind for kind in required if kind not in logged]
    if any(not missing for missing in missing_by_trail.values()):
        return
    if unknown:
        defer(unknown, "insightSelectors")
        return
    for urn, missing in missing_by_trail.items():
        report(f"trail has no CloudTrail Insights {', '.join(missing)} (insightSelectors)", urn)
