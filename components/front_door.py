"""FrontDoor: a mutual-TLS front door on API Gateway for one realtime endpoint (issue 16).

Callers outside AWS reach an endpoint with ``exposure.mode: mtls`` at
``https://<domainPrefix>.<stack edge domain>/invocations`` and must present a client
certificate that chains to a CA in the team's truststore. What is built, and why:

* a **REST API** (not an HTTP API: AWS WAF protects REST API stages but cannot be associated
  with HTTP APIs, AWS WAF Developer Guide, "Resources that you can protect"), ``REGIONAL``,
  with the default ``execute-api`` endpoint **disabled**: otherwise a caller could skip the
  custom domain and its mutual TLS (API Gateway Developer Guide, "How to turn on mutual TLS
  authentication for your REST APIs": disable the default endpoint so clients can only use
  the domain);
* one resource ``/invocations`` with ``POST``. No API-level authorizer: the custom domain's
  mutual TLS authenticates every caller before API Gateway routes the request, and the
  default endpoint that would bypass it is off;
* the **integration**: without a fallback, an AWS service integration to SageMaker Runtime
  ``InvokeEndpoint`` (``arn:aws:apigateway:<region>:runtime.sagemaker:path//endpoints/<name>/invocations``)
  with a role that may invoke that one endpoint and nothing else; the 4xx and 5xx of the
  model are mapped to 400 and 502 (a non-proxy integration answers only through its
  integration responses). With a fallback, a Lambda proxy integration to the endpoint's
  :class:`~components.serving_fallback.ServingFallback`, which the front door alone may invoke
  (its resource policy names this API, stage, method and path);
* a **deployment** redeployed whenever the integration changes, and a **stage** with access
  logs (JSON, including the client certificate's subject and the integration's error) to a log
  group encrypted with the team's alert key, whose key policy admits CloudWatch Logs for the
  account's log groups (as every team log group, components/log_groups.py), X-Ray tracing, and
  **method settings**: metrics on, throttling from the endpoint's scaling (:func:`stage_throttle`),
  no caching (answers are per request). Execution logging stays off: API Gateway writes it to a
  log group named after the API id that it creates itself, unencrypted; the access log carries
  each request's status, latency, error and integration error instead;
* the **custom domain** ``<domainPrefix>.<domain>``: ``REGIONAL`` with the stack's regional ACM
  certificate, security policy ``TLS_1_2``, and ``mutualTlsAuthentication.truststoreUri``
  ``s3://<team artifact bucket>/<truststore>``; a base path mapping to the stage; and a Route 53
  alias ``A`` record in the stack's hosted zone to the domain's regional name;
* a **WAF web ACL** (``REGIONAL``): a rate-based rule that blocks a client IP past
  ``rateLimitPerFiveMinutes`` requests in five minutes, then the AWS managed rule groups
  AWSManagedRulesAmazonIpReputationList, AWSManagedRulesKnownBadInputsRuleSet and
  AWSManagedRulesCommonRuleSet; associated with the stage, and logging to a log group named
  ``aws-waf-logs-...`` (WAF delivers only to log groups with that prefix), encrypted like the
  access logs.

The truststore must exist before the domain: API Gateway reads the object when the domain is
created or updated and rejects a truststore it cannot read ("Unable to access truststore
URI"). The team uploads its PEM bundle to ``s3://<artifact bucket>/truststores/...pem`` (SSE-KMS
with the team key, as the bucket policy requires) before the first ``pulumi up`` that adds the
front door, and ``pulumi up`` again after replacing it (a new upload is a new version; API
Gateway keeps the version it read until the domain is updated).

Who reads the truststore: API Gateway fetches it with the credentials of the principal that
calls ``CreateDomainName``/``UpdateDomainName`` (a forward access session: "To update the
truststore, you must have permissions to access the S3 object", API Gateway API reference,
MutualTlsAuthenticationInput; a deny on the caller's source IP breaks it, which only happens
when the caller's own credentials are used). So nothing is granted to
``apigateway.amazonaws.com``: the deploying principal needs ``s3:GetObject`` on the object and
``kms:Decrypt`` on the team's artifact key through S3, which its IAM policy can grant because
every key admits IAM delegation to the account (components/managed_key.py).

The stack's account must have API Gateway's CloudWatch Logs role set (``UpdateAccount``
``cloudwatchRoleArn``, once per account and region) for access logging: a platform
prerequisite like the service-linked roles (README, "Serving edge").
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.runtime.fallback import contract

from mlplatform.naming import (
    front_door_access_log_group, front_door_host, front_door_name, role_name, waf_log_group,
)
from mlplatform.platform_defaults import PLATFORM_DEFAULTS, PlatformDefaults
from mlplatform.spec.models import Endpoint
from mlplatform.stackconfig import Edge
from mlplatform.type_tokens import FRONT_DOOR

from .base import SpecComponent, TeamContext
from .grants import EndpointAccess
from .log_groups import log_retention_days
from .service_role import ServiceRoleArgs, ServiceTrust, grant_to_role, service_role

STAGE = "live"
RESOURCE_PATH = "invocations"
#: The model's 4xx and 5xx as the caller sees them (non-proxy integration responses).
ERROR_RESPONSES = (("400", r"4\d{2}"), ("502", r"5\d{2}"))
#: API Gateway REST integrations time out after 29 seconds by default (API Gateway quotas):
#: one definition, beside the fallback handler that must answer within it.
INTEGRATION_TIMEOUT_MS = contract.FRONT_DOOR_TIMEOUT_MS
#: The AWS managed rule groups every front door's web ACL runs, in priority order (after the rate rule).
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)
RATE_RULE = "rate-limit-per-ip"
#: What the stage's access log records per request ($context variables of API Gateway).
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "time": "$context.requestTimeEpoch", "ip": "$context.identity.sourceIp",
    "method": "$context.httpMethod", "path": "$context.path", "status": "$context.status",
    "latencyMs": "$context.responseLatency", "integrationStatus": "$context.integration.status",
    "integrationLatencyMs": "$context.integrationLatency", "error": "$context.error.message",
    "integrationError": "$context.integrationErrorMessage",
    "clientCertSubject": "$context.identity.clientCert.subjectDN",
    "clientCertSerial": "$context.identity.clientCert.serialNumber",
    "wafStatus": "$context.waf.status", "xrayTraceId": "$context.xrayTraceId",
}, sort_keys=True)


def stage_throttle(endpoint: Endpoint, defaults: PlatformDefaults = PLATFORM_DEFAULTS) -> tuple[int, int]:
    """(steady requests per second, burst) the stage lets through: the stack's
    ``frontDoorThrottleHeadroom`` times what the endpoint handles at its most instances
    (``targetInvocationsPerInstance`` is per minute, as SageMakerVariantInvocationsPerInstance),
    so bursts wait for autoscaling instead of failing at the door, and at least its
    ``frontDoorMinRatePerSecond``; the burst is twice the rate. Components and the wiring
    pass their stack's ``defaults``; the shipped values apply otherwise."""
    scaling = endpoint.autoscaling
    rate = max(defaults.front_door_min_rate_per_second,
               math.ceil(defaults.front_door_throttle_headroom * scaling.max * scaling.target_invocations_per_instance
                         / 60))
    return rate, 2 * rate


def sagemaker_invoke_uri(region: str, endpoint_name: str) -> str:
    """API Gateway's URI of SageMaker Runtime InvokeEndpoint (path-style AWS service integration)."""
    return f"arn:aws:apigateway:{region}:runtime.sagemaker:path//endpoints/{endpoint_name}/invocations"


def lambda_invoke_uri(region: str, function_arn: str) -> str:
    """API Gateway's URI of a Lambda proxy integration."""
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def truststore_uri(bucket_name: str, key: str) -> str:
    """The truststore as API Gateway reads it: always in the team's own artifact bucket."""
    return f"s3://{bucket_name}/{key}"


def web_acl_rules(rate_limit: int, metric_prefix: str) -> list[dict]:
    """The rate rule (priority 0, block) and the managed rule groups (their own actions)."""
    def visibility(rule: str) -> dict:
        return {"cloudwatch_metrics_enabled": True, "metric_name": f"{metric_prefix}-{rule}",
                "sampled_requests_enabled": True}

    rules = [{
        "name": RATE_RULE, "priority": 0, "action": {"block": {}},
        "statement": {"rate_based_statement": {"limit": rate_limit, "aggregate_key_type": "IP",
                                               "evaluation_window_sec": 300}},
        "visibility_config": visibility(RATE_RULE),
    }]
    for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
        rules.append({
            "name": group, "priority": priority, "override_action": {"none": {}},
            "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
            "visibility_config": visibility(group),
        })
    return rules


@dataclass(frozen=True, kw_only=True)
class FallbackTarget:
    """The Lambda a front door proxies to when its endpoint has a fallback."""

    #: the function's physical name (the invoke permission names it)
    function_name: str
    #: the function's ARN (known at plan time: region, account and name)
    function_arn: str
    #: the function resource, which the integration waits for
    function: pulumi.Resource
    #: how long the function may take, in ms (the integration waits at most this, within 29 s)
    timeout_ms: int


@dataclass(frozen=True, kw_only=True)
class FrontDoorArgs:
    """Everything one endpoint's front door is built from."""

    #: the team and stack
    context: TeamContext
    #: the spec endpoint (realtime, ``exposure.mode: mtls``)
    endpoint: Endpoint
    #: the endpoint's position in ``spec.endpoints`` (the recorded spec source)
    index: int
    #: the stack's hosted zone, domain and regional certificate (``mlplatform:edge``)
    edge: Edge
    #: the SageMaker endpoint's physical name (:func:`mlplatform.naming.endpoint_name`)
    endpoint_name: str
    #: the team's artifact bucket, which holds the truststore
    bucket_name: str
    #: the team's alert key: encrypts the access and WAF log groups (its policy admits CloudWatch Logs)
    log_key_arn: pulumi.Input[str]
    #: the fallback Lambda to proxy to; default None, which integrates SageMaker Runtime directly
    fallback: Optional[FallbackTarget] = None
    #: resources the integration waits for (the SageMaker endpoint); default none
    depends_on: tuple = ()


class FrontDoor(SpecComponent):
    """The mTLS front door of one endpoint: :attr:`host` is what callers connect to."""

    def __init__(self, name: str, args: FrontDoorArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, ep = args.context, args.endpoint
        exposure = ep.exposure
        # the estate builds front doors for exposure mtls only, which the spec allows on realtime endpoints only
        assert exposure.mode == "mtls" and ep.mode == "realtime", f"endpoint {ep.name}: no front door serves it"
        assert exposure.domain_prefix is not None and exposure.truststore is not None  # Exposure requires both
        super().__init__(FRONT_DOOR, name, ctx.locator.at("spec", "endpoints", args.index, "exposure"),
                         opts)
        self._name, self._args = name, args
        self.api_name = front_door_name(ctx.team, ctx.environment, ep.name)
        self.host = front_door_host(exposure.domain_prefix, args.edge.domain)
        self.truststore_uri = truststore_uri(args.bucket_name, exposure.truststore)
        self.rate, self.burst = stage_throttle(ep, ctx.stack.defaults)
        retention = log_retention_days(ctx)

        self.api = aws.apigateway.RestApi(
            f"{name}-api", name=self.api_name,
            description=f"mTLS front door of SageMaker endpoint {args.endpoint_name}",
            endpoint_configuration={"types": "REGIONAL"},
            disable_execute_api_endpoint=True,
            opts=self.child(),
        )
        resource = aws.apigateway.Resource(f"{name}-resource", rest_api=self.api.id, parent_id=self.api.root_resource_id,
                                           path_part=RESOURCE_PATH, opts=self.child())
        method = aws.apigateway.Method(f"{name}-post", rest_api=self.api.id, resource_id=resource.id, http_method="POST",
                                       authorization="NONE", opts=self.child())
        wiring = self._integration(resource, method)

        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs", name=front_door_access_log_group(ctx.team, ctx.environment, ep.name),
            retention_in_days=retention, kms_key_id=args.log_key_arn, opts=ctx.stateful(parent=self))
        deployment = aws.apigateway.Deployment(
            f"{name}-deployment", rest_api=self.api.id,
            description=f"Front door of {args.endpoint_name}",
            triggers={"redeployment": self._wiring_hash()},
            opts=self.child(depends_on=wiring),
        )
        self.stage = aws.apigateway.Stage(
            f"{name}-stage", rest_api=self.api.id, deployment=deployment.id, stage_name=STAGE,
            description=f"Live stage of the front door of {args.endpoint_name}",
            access_log_settings={"destination_arn": access_logs.arn, "format": ACCESS_LOG_FORMAT},
            xray_tracing_enabled=True, cache_cluster_enabled=False,
            opts=self.child(),
        )
        aws.apigateway.MethodSettings(
            f"{name}-method-settings", rest_api=self.api.id, stage_name=self.stage.stage_name, method_path="*/*",
            settings={"metrics_enabled": True, "logging_level": "OFF", "data_trace_enabled": False,
                      "throttling_rate_limit": self.rate, "throttling_burst_limit": self.burst,
                      "caching_enabled": False},
            opts=self.child(),
        )
        self._domain(args)
        self._waf(args, retention)
        self.register_outputs({"host": self.host, "apiName": self.api_name, "truststoreUri": self.truststore_uri,
                               "throttle": {"rate": self.rate, "burst": self.burst}})

    # ------------------------------------------------------------------ integration

    def _integration(self, resource: aws.apigateway.Resource, method: aws.apigateway.Method) -> list[pulumi.Resource]:
        """The method's integration (and, for SageMaker, its responses); returns what the
        deployment must wait for."""
        args, ctx, name = self._args, self._args.context, self._name
        region, account = ctx.stack.region, ctx.account_id
        common = {"rest_api": self.api.id, "resource_id": resource.id, "http_method": method.http_method}
        if args.fallback is not None:
            target = args.fallback
            integration = aws.apigateway.Integration(
                f"{name}-integration", type="AWS_PROXY", integration_http_method="POST",
                uri=lambda_invoke_uri(region, target.function_arn),
                timeout_milliseconds=min(INTEGRATION_TIMEOUT_MS, target.timeout_ms),
                opts=self.child(depends_on=[target.function, *args.depends_on]), **common)
            aws.lambda_.Permission(
                f"{name}-invoke-fallback", action="lambda:InvokeFunction", function=target.function_name,
                # explicit: the provider's autoname (logical name + 7 characters) can overflow AddPermission's 100
                statement_id="AllowFrontDoor", principal="apigateway.amazonaws.com",
                source_arn=pulumi.Output.concat(self.api.execution_arn, f"/{STAGE}/POST/{RESOURCE_PATH}"),
                opts=self.child(depends_on=[target.function]),
            )
            self.role_arn: Optional[str] = None
            return [method, integration]

        role_physical = role_name(ctx.team, ctx.environment, f"{args.endpoint.name}-front-door")
        role = service_role(f"{name}-role", ServiceRoleArgs(
            name=role_physical, description=f"API Gateway front door invoking SageMaker endpoint {args.endpoint_name}",
            trusts=(ServiceTrust(service="apigateway.amazonaws.com"),), stack=ctx.stack), self.child())
        self.role_arn = f"arn:aws:iam::{account}:role/{role_physical}"
        policy = grant_to_role(f"{name}-role-policy", role.name,
                               [EndpointAccess(region, account, args.endpoint_name).grant_invoke(sid="InvokeTheEndpoint")],
                               self.child())
        integration = aws.apigateway.Integration(
            f"{name}-integration", type="AWS", integration_http_method="POST",
            uri=sagemaker_invoke_uri(region, args.endpoint_name), credentials=self.role_arn,
            request_parameters={"integration.request.header.Content-Type": "'application/json'"},
            passthrough_behavior="WHEN_NO_MATCH", timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
            opts=self.child(depends_on=[role, policy, *args.depends_on]), **common)
        waits: list[pulumi.Resource] = [method, integration]
        for status, pattern in (("200", None), *ERROR_RESPONSES):
            response = aws.apigateway.MethodResponse(f"{name}-response-{status}", status_code=status,
                                                     opts=self.child(), **common)
            waits.append(aws.apigateway.IntegrationResponse(
                f"{name}-integration-response-{status}", status_code=status, selection_pattern=pattern,
                opts=self.child(depends_on=[integration, response]), **common))
        return waits

    def _wiring_hash(self) -> str:
        """Changes whenever what the deployment serves changes, so a new deployment is made."""
        args = self._args
        wiring = {"path": RESOURCE_PATH, "endpoint": args.endpoint_name,
                  "fallback": args.fallback.function_arn if args.fallback else None,
                  "timeout": args.fallback.timeout_ms if args.fallback else INTEGRATION_TIMEOUT_MS,
                  "responses": ERROR_RESPONSES if args.fallback is None else None}
        return hashlib.sha256(json.dumps(wiring, sort_keys=True).encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ domain

    def _domain(self, args: FrontDoorArgs) -> None:
        name = self._name
        self.domain = aws.apigateway.DomainName(
            f"{name}-domain", domain_name=self.host,
            regional_certificate_arn=args.edge.certificate_arn,
            endpoint_configuration={"types": "REGIONAL"},
            security_policy="TLS_1_2",
            mutual_tls_authentication={"truststore_uri": self.truststore_uri},
            opts=self.child(),
        )
        aws.apigateway.BasePathMapping(
            f"{name}-mapping", domain_name=self.domain.domain_name, rest_api=self.api.id,
            stage_name=self.stage.stage_name, opts=self.child())
        aws.route53.Record(
            f"{name}-dns", zone_id=args.edge.hosted_zone_id, name=self.host, type="A",
            aliases=[{"name": self.domain.regional_domain_name, "zone_id": self.domain.regional_zone_id,
                      "evaluate_target_health": False}],
            opts=self.child(),
        )

    # ------------------------------------------------------------------ WAF

    def _waf(self, args: FrontDoorArgs, retention: int) -> None:
        ctx, ep, name = args.context, args.endpoint, self._name
        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-waf", name=self.api_name, scope="REGIONAL",
            description=f"Front door of {args.endpoint_name}: rate limit and AWS managed rules",
            default_action={"allow": {}},
            rules=web_acl_rules(ep.exposure.rate_limit_per_five_minutes, self.api_name),
            visibility_config={"cloudwatch_metrics_enabled": True, "metric_name": self.api_name,
                               "sampled_requests_enabled": True},
            opts=self.child(),
        )
        aws.wafv2.WebAclAssociation(f"{name}-waf-association", resource_arn=self.stage.arn,
                                    web_acl_arn=self.web_acl.arn, opts=self.child())
        waf_logs = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs", name=waf_log_group(ctx.team, ctx.environment, ep.name),
            retention_in_days=retention, kms_key_id=args.log_key_arn, opts=ctx.stateful(parent=self))
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf-logging", resource_arn=self.web_acl.arn, log_destination_configs=[waf_logs.arn],
            opts=self.child())

