"""Pricing the serving edge (issue 16): the mtls front door (API Gateway, WAF, the fallback
Lambda and its DynamoDB cache, Route 53 alias) and anomaly detection (GuardDuty, CloudTrail
Insights, log metric filters).

Load comes from the endpoint a resource fronts: the front door's components record their
spec source as a field of the endpoint (``spec.endpoints[scorer].exposure``, ``...fallback``),
so a line carries the endpoint's request volume (:func:`usage.edge_usage`) and counts in its
cost per 1,000 inferences. Without an endpoint, the documented defaults of
:mod:`mlplatform.cost.usage` apply and are printed next to the line. GuardDuty's per-event
rates have no sourced price for the catalogued regions, so its lines are UNKNOWN with the
catalogue's recorded reason, never zero.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

from ...graph import GraphResource, is_unknown
from ...spec.models import Endpoint
from ...type_tokens import (
    APIGATEWAY_BASE_PATH_MAPPING, APIGATEWAY_DEPLOYMENT, APIGATEWAY_DOMAIN_NAME, APIGATEWAY_INTEGRATION,
    APIGATEWAY_INTEGRATION_RESPONSE, APIGATEWAY_METHOD, APIGATEWAY_METHOD_RESPONSE, APIGATEWAY_METHOD_SETTINGS,
    APIGATEWAY_RESOURCE, APIGATEWAY_REST_API, APIGATEWAY_STAGE, CLOUDWATCH_LOG_METRIC_FILTER, DYNAMODB_TABLE,
    GUARDDUTY_DETECTOR, GUARDDUTY_DETECTOR_FEATURE, ROUTE53_RECORD, WAFV2_WEB_ACL, WAFV2_WEB_ACL_ASSOCIATION,
    WAFV2_WEB_ACL_LOGGING_CONFIGURATION)
from .. import usage as U

if TYPE_CHECKING:  # pragma: no cover
    from ..attribution import TeamUsageContext
    from ..lines import Line
    from .context import Context

D = Decimal
#: ``spec.endpoints[<name>]...``: the endpoint a resource's spec source names
ENDPOINT_FIELD = re.compile(r"^spec\.endpoints\[([^\]]+)\]")
#: what serves every request of an endpoint's front door (the drift Lambda, also under an
#: endpoint, serves none of them)
FRONT_DOOR_FIELDS = ("exposure", "fallback")


def fronted_endpoint(team: "TeamUsageContext", resource: GraphResource,
                     parts: tuple[str, ...] = ()) -> Optional[Endpoint]:
    """The spec endpoint ``resource`` was built for: by its source field
    (``spec.endpoints[name].<part>``, one of ``parts`` when given), else by its source line."""
    if team.spec is None:
        return None
    field = resource.source.field if resource.source is not None else None
    match = ENDPOINT_FIELD.match(field or "")
    if match:
        rest = (field or "")[match.end():].lstrip(".")
        if parts and rest.split(".", 1)[0] not in parts:
            return None
        key = match.group(1)
        for index, endpoint in enumerate(team.spec.spec.endpoints):
            if endpoint.name == key or str(index) == key:
                return endpoint
        return None
    return None if parts else team.endpoint(resource)


def _requests(ctx: "Context", resource: GraphResource, team: "TeamUsageContext"):
    endpoint = fronted_endpoint(team, resource)
    use = U.edge_usage(endpoint)
    key = (team.team, endpoint.name) if endpoint is not None else None
    return endpoint, use, key


def _free(team: "TeamUsageContext", component: str, resource: GraphResource, reason: str) -> "Line":
    from ..lines import Line

    return Line(team.team, component, resource.urn, resource.name, resource.type, "free", D(0), "", None,
                assumptions=[reason], status="free")


def _unknown(team: "TeamUsageContext", component: str, resource: GraphResource, item: str, quantity: Decimal,
             unit: str, notes: list[str], endpoint=None) -> "Line":
    from ..lines import Line

    return Line(team.team, component, resource.urn, resource.name, resource.type, item, quantity, unit, None,
                assumptions=notes, status="unknown-price", endpoint=endpoint)


# ---------------------------------------------------------------- API Gateway

def price_rest_api(ctx: "Context", resource: GraphResource, team: "TeamUsageContext", component: str) -> list["Line"]:
    """REST API calls at the first tier (333 million a month); data transfer out is not modelled."""
    _, use, key = _requests(ctx, resource, team)
    notes = use.assumptions + ["first-tier rate (up to 333M requests/month)", "data transfer out not modelled",
                               "free tier not applied"]
    return [ctx.line(resource, team.team, component, "API calls", use.requests, "request", "apigateway.rest.requests",
                     notes, endpoint=key)]


def price_stage(ctx: "Context", resource: GraphResource, team: "TeamUsageContext", component: str) -> list["Line"]:
    """A stage is free; its optional cache cluster is billed by the hour (no sourced price)."""
    if resource.inputs.get("cacheClusterEnabled") is not True:
        return [_free(team, component, resource, "a stage without a cache cluster; API calls are priced on the REST API")]
    size = resource.inputs.get("cacheClusterSize")
    size = size if isinstance(size, str) and not is_unknown(size) else "0.5"
    return [ctx.line(resource, team.team, component, f"cache cluster ({size} GB)", U.HOURS_PER_MONTH, "hour",
                     f"apigateway.cache:{size}", ["always on: 730 h/month"])]


# ---------------------------------------------------------------- WAF

def waf_rule_count(resource: GraphResource) -> Optional[int]:
    """Rules of a web ACL (a managed rule group is one rule), from ``rules`` and ``ruleJson``;
    None when either is unknown."""
    rules, text = resource.inputs.get("rules"), resource.inputs.get("ruleJson")
    if is_unknown(rules) or is_unknown(text):
        return None
    count = len([r for r in rules if isinstance(r, dict)]) if isinstance(rules, list) else 0
    if isinstance(text, str) and text:
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        count += len([r for r in parsed if isinstance(r, dict)]) if isinstance(parsed, list) else 0
    return count


def price_web_acl(ctx: "Context", resource: GraphResource, team: "TeamUsageContext", component: str) -> list["Line"]:
    """A web ACL a month, each rule a month (a managed rule group counts as one rule), and the
    requests it inspects: those of the endpoint its front door serves."""
    _, use, key = _requests(ctx, resource, team)
    lines = [ctx.line(resource, team.team, component, "web ACL", D(1), "webacl-month", "waf.webacl", [], endpoint=key)]
    rules = waf_rule_count(resource)
    if rules is None:
        lines.append(_unknown(team, component, resource, "rules", D(0), "rule-month",
                              ["rules unknown in the plan (computed at apply or not JSON)"], endpoint=key))
    else:
        lines.append(ctx.line(resource, team.team, component, "rules", D(rules), "rule-month", "waf.rule",
                              [f"{rules} rules (managed rule groups count one each); AWS Marketplace rule groups and "
                               "Bot Control fees not included"], endpoint=key))
    lines.append(ctx.line(resource, team.team, component, "requests inspected", use.requests, "request",
                          "waf.requests", use.assumptions, endpoint=key))
    return lines


# ---------------------------------------------------------------- fallback: Lambda and cache

def front_door_lambda_usage(team: "TeamUsageContext", resource: GraphResource) -> Optional[tuple[Decimal, Decimal, list[str], Any]]:
    """(invocations, seconds per invocation, notes, endpoint key) of the fallback Lambda,
    which sits in front of the endpoint (every request invokes it); None for any other Lambda."""
    endpoint = fronted_endpoint(team, resource, FRONT_DOOR_FIELDS)
    if endpoint is None:
        return None
    use = U.edge_usage(endpoint)
    timeout_ms = endpoint.fallback.timeout_ms if endpoint.fallback is not None else None
    seconds = D(timeout_ms) / 1000 if timeout_ms else U.DEFAULT_LAMBDA_SECONDS
    why = (f"{U.number(seconds)} s per invocation: the fallback's timeoutMs (an upper bound: the call waits for the "
           "model at most that long)") if timeout_ms else f"{U.number(seconds)} s per invocation (default)"
    return use.requests, seconds, use.assumptions + [why], (team.team, endpoint.name)


def price_table(ctx: "Context", resource: GraphResource, team: "TeamUsageContext", component: str) -> list["Line"]:
    """An on-demand table: write and read request units, storage and point-in-time recovery.
    The last-known-good cache of a fallback takes its load from the endpoint it serves."""
    mode = resource.inputs.get("billingMode")
    if mode != "PAY_PER_REQUEST":
        shown = "unknown in the plan" if is_unknown(mode) else (mode or "PROVISIONED (the default)")
        return [_unknown(team, component, resource, "provisioned capacity", D(0), "hour",
                         [f"billing mode {shown}: provisioned capacity (read/write capacity unit-hours) has no "
                          "sourced price"])]
    endpoint = fronted_endpoint(team, resource)
    use = U.edge_usage(endpoint)
    ttl = endpoint.fallback.ttl_minutes if endpoint is not None and endpoint.fallback is not None else None
    cache = U.cache_usage(use.requests, ttl)
    key = (team.team, endpoint.name) if endpoint is not None else None
    storage_notes = ["the first 25 GB-month per account and region are free (not applied: shared by the account)"]
    lines = [
        ctx.line(resource, team.team, component, "write request units", cache.write_units, "WRU",
                 "dynamodb.ondemand.write", use.assumptions + cache.assumptions, endpoint=key),
        ctx.line(resource, team.team, component, "read request units", cache.read_units, "RRU",
                 "dynamodb.ondemand.read", [], endpoint=key),
        ctx.line(resource, team.team, component, "storage", cache.storage_gb, "GB-month", "dynamodb.storage",
                 storage_notes, endpoint=key),
    ]
    pitr = resource.inputs.get("pointInTimeRecovery")
    if isinstance(pitr, dict) and pitr.get("enabled") is True:
        lines.append(ctx.line(resource, team.team, component, "point-in-time recovery", cache.storage_gb, "GB-month",
                              "dynamodb.pitr", ["backup size = table size"], endpoint=key))
    return lines


# ---------------------------------------------------------------- Route 53

def price_record(ctx: "Context", resource: GraphResource, team: "TeamUsageContext", component: str) -> list["Line"]:
    """Alias records to AWS resources (the front door's API Gateway domain) answer queries free
    of charge (Amazon Route 53 pricing); other records are billed per query (no sourced price)."""
    if resource.inputs.get("aliases"):
        return [_free(team, component, resource, "an alias record to an AWS resource (the API Gateway domain): "
                                                 "Route 53 does not charge for alias queries to AWS resources")]
    return [ctx.line(resource, team.team, component, "queries", U.DEFAULT_EDGE_REQUESTS, "query",
                     "route53.queries.standard", [f"{U.number(U.DEFAULT_EDGE_REQUESTS)} queries/month (default)"])]


# ---------------------------------------------------------------- anomaly detection

def price_detector(ctx: "Context", resource: GraphResource, team: "TeamUsageContext", component: str) -> list["Line"]:
    """GuardDuty's foundational detection: CloudTrail management events analysed (VPC flow
    and DNS logs, also analysed, are not modelled: no volume in the plan)."""
    if resource.inputs.get("enable") is False:
        return [_free(team, component, resource, "a disabled detector analyses nothing")]
    events = U.DEFAULT_MANAGEMENT_EVENTS
    return [ctx.line(resource, team.team, component, "CloudTrail management events analysed", events, "event",
                     "guardduty.events.management",
                     [f"{U.number(events)} management events/month (default)", "VPC flow and DNS log analysis not "
                      "modelled", "30-day free trial not applied"])]


def price_detector_feature(ctx: "Context", resource: GraphResource, team: "TeamUsageContext",
                           component: str) -> list["Line"]:
    """S3 protection: the S3 data events GuardDuty analyses (as many as the trail's data
    events assumption); other protection plans are not modelled."""
    name, status = resource.inputs.get("name"), resource.inputs.get("status")
    if status == "DISABLED":
        return [_free(team, component, resource, "a disabled GuardDuty protection plan analyses nothing")]
    if name == "S3_DATA_EVENTS":
        events = U.DEFAULT_TRAIL_DATA_EVENTS
        return [ctx.line(resource, team.team, component, "S3 data events analysed", events, "event",
                         "guardduty.events.s3data", [f"{U.number(events)} S3 data events/month (default)"])]
    return [_unknown(team, component, resource, f"{name} analysis", D(0), "", [f"GuardDuty {name} usage is not modelled"])]


def insights_line(ctx: "Context", resource: GraphResource, team: "TeamUsageContext", component: str) -> Optional["Line"]:
    """CloudTrail Insights on a trail: events analysed for the insight types it logs."""
    selectors = resource.inputs.get("insightSelectors")
    if is_unknown(selectors):
        return _unknown(team, component, resource, "Insights events analysed", D(0), "event",
                        ["insight selectors unknown in the plan"])
    types = sorted({s.get("insightType") for s in selectors if isinstance(s, dict)
                    and isinstance(s.get("insightType"), str)}) if isinstance(selectors, list) else []
    if not types:
        return None
    analysed, notes = U.insight_events(types)
    return ctx.line(resource, team.team, component, "Insights events analysed", analysed, "event",
                    "cloudtrail.insights", notes)


def price_metric_filter(ctx: "Context", resource: GraphResource, team: "TeamUsageContext",
                        component: str) -> list["Line"]:
    """A metric filter is free; each metric it publishes is a custom metric billed a month."""
    transformations = resource.inputs.get("metricTransformation")
    count = len(transformations) if isinstance(transformations, list) else 1
    return [ctx.line(resource, team.team, component, "custom metric", D(count), "metric-month", "cloudwatch.metric",
                     ["one custom metric per metric transformation (no dimensions)"])]


#: SKUs the pricers above look up (``mlp prices show`` lists each, priced or UNKNOWN).
SKUS = ("apigateway.rest.requests", "waf.webacl", "waf.rule", "waf.requests", "dynamodb.ondemand.write",
        "dynamodb.ondemand.read", "dynamodb.storage", "dynamodb.pitr", "route53.queries.standard",
        "guardduty.events.management", "guardduty.events.s3data", "cloudtrail.insights", "cloudwatch.metric")

PRICERS = {
    APIGATEWAY_REST_API: price_rest_api,
    APIGATEWAY_STAGE: price_stage,
    WAFV2_WEB_ACL: price_web_acl,
    DYNAMODB_TABLE: price_table,
    ROUTE53_RECORD: price_record,
    GUARDDUTY_DETECTOR: price_detector,
    GUARDDUTY_DETECTOR_FEATURE: price_detector_feature,
    CLOUDWATCH_LOG_METRIC_FILTER: price_metric_filter,
}

#: Free parts of the front door, with why (API Gateway bills API calls, data transfer and
#: caching; WAF bills web ACLs, rules and requests: Amazon API Gateway and AWS WAF pricing).
FREE_TYPES = {
    APIGATEWAY_RESOURCE: "an API path; API calls are priced on the REST API",
    APIGATEWAY_METHOD: "an API method; API calls are priced on the REST API",
    APIGATEWAY_INTEGRATION: "an API integration; API calls are priced on the REST API and the "
                                              "backend by its own service",
    APIGATEWAY_METHOD_RESPONSE: "a method's response mapping; API calls are priced on the REST API",
    APIGATEWAY_INTEGRATION_RESPONSE: "an integration's response mapping; API calls are priced "
                                                              "on the REST API",
    APIGATEWAY_DEPLOYMENT: "a deployment snapshot; API calls are priced on the REST API",
    APIGATEWAY_METHOD_SETTINGS: "stage settings (logging, metrics, throttling); a cache is "
                                                    "priced on the stage",
    APIGATEWAY_DOMAIN_NAME: "a custom domain name: API Gateway bills API calls, data transfer and "
                                            "caching, not domains (the ACM certificate is the stack's, public ACM "
                                            "certificates are free)",
    APIGATEWAY_BASE_PATH_MAPPING: "a mapping of the custom domain to a stage; API calls are priced "
                                                      "on the REST API",
    WAFV2_WEB_ACL_ASSOCIATION: "attaches a web ACL to a stage; the web ACL, its rules and the "
                                                     "requests it inspects are priced on the web ACL",
    WAFV2_WEB_ACL_LOGGING_CONFIGURATION:
        "logging configuration; the logs are priced on their destination (log group, stream or bucket)",
}
