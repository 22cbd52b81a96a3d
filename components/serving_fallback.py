"""ServingFallback: the Lambda that answers for a model that cannot (issue 16), its cache and its alarm.

The front door (:mod:`components.front_door`) of an endpoint with a ``fallback`` proxies every
request to this Lambda, which invokes the SageMaker endpoint with the spec's ``timeoutMs`` and,
on a timeout, throttling or 5xx, answers from the fallback (``lastKnownGood``, ``rules`` or
``static``), marks the answer degraded and publishes ``FallbackAnswers``. The code is the
package ``mlplatform/runtime/fallback/``; its deployment package (:func:`handler_archive`) is
that package's modules as the folder ``fallback/`` plus ``fallback_config.json`` written here
from the spec (:func:`fallback_config`, the format :mod:`mlplatform.runtime.fallback.config`
defines), its files named as the drift Lambda's are (components/drift_monitor.py).

What is built, and why:

* an execution role that may call ``sagemaker:InvokeEndpoint`` on this one endpoint, read and
  write only its cache table (``lastKnownGood``), use the team's artifact key only through
  DynamoDB (``kms:ViaService``), publish metrics only under the handler's namespace
  (``cloudwatch:namespace``), write its own log group and send X-Ray traces;
* the function: reserved concurrency (:func:`reserved_concurrency`) so a flood of degraded
  traffic cannot starve the account's other functions, X-Ray, its log group encrypted with the
  team's alert key (the key whose policy admits CloudWatch Logs, as every team log group), and
  the stack's subnets when the stack names them (the VPC then needs endpoints for SageMaker
  Runtime, DynamoDB, CloudWatch monitoring and Logs). No dead-letter queue: API Gateway invokes
  the function synchronously, and a DLQ only receives failed *asynchronous* invocations
  (Lambda Developer Guide, "Dead-letter queues"); a synchronous caller gets the error itself;
* for ``lastKnownGood``: the cache table, partition key ``requestKey``, DynamoDB TTL on
  ``expiresAt`` (expired answers are deleted by DynamoDB; the handler also ignores them), on
  demand, SSE with the team's artifact key, point-in-time recovery, and deletion protection
  where the stack protects stateful resources;
* the alarm: ``FallbackAnswers`` summed over five minutes at or above ``alarmThreshold``
  pages the team's critical escalation topic.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import fallback_function_name, fallback_table_name, role_name
from mlplatform.platform_defaults import PLATFORM_DEFAULTS, PlatformDefaults
from mlplatform.runtime.fallback import contract
#: The function's timeout is the handler's own worst case: one definition, where the calls are made.
from mlplatform.runtime.fallback.environment import function_timeout_seconds
from mlplatform.spec.models import Endpoint
from mlplatform.stackconfig import package_file
from mlplatform.type_tokens import SERVING_FALLBACK

from .alarm_names import alarm_name
from .base import SpecComponent, TeamContext
from .drift_monitor import LAMBDA_RUNTIME
from .grants import EndpointAccess, LogGroupAccess, MetricNamespace, TableAccess, grant_lambda_vpc_access, grant_xray_write
from .iam import Statement
from .log_groups import lambda_log_group
from .managed_key import KeyAccess, via_service
from .service_role import ServiceRoleArgs, ServiceTrust, grant_to_role, service_role

#: the folder of the deployment package that holds the handler's modules (a Python package there)
HANDLER_PACKAGE = "fallback"
#: every module of :mod:`mlplatform.runtime.fallback` by file name, as the Pulumi assets name
#: them (project-relative in a checkout, installed path from a wheel); all of them ship, so
#: a module added to the package is deployed with it
HANDLER_FILES = {path.name: package_file(str(path)) for path in sorted(Path(contract.__file__).parent.glob("*.py"))}
#: Lambda's handler setting: module path in the package, then the function; Lambda imports
#: ``fallback.entry`` with the package root on ``sys.path``, so the modules' relative imports work
HANDLER = f"{HANDLER_PACKAGE}.entry.handler"
#: Reserved concurrency bounds of a stack that overrides neither: at least a few in flight,
#: never more than a share of the account's default 1,000 (Lambda keeps 100 unreserved). The
#: stack's ``fallbackMinConcurrency`` / ``fallbackMaxConcurrency`` and ``fallbackMemoryMb``
#: (:class:`mlplatform.platform_defaults.PlatformDefaults`) are what the component uses.
MIN_CONCURRENCY = PLATFORM_DEFAULTS.fallback_min_concurrency
MAX_CONCURRENCY = PLATFORM_DEFAULTS.fallback_max_concurrency
ALARM_PERIOD_SECONDS = 300


def reserved_concurrency(requests_per_second: int, timeout_ms: int,
                         defaults: PlatformDefaults = PLATFORM_DEFAULTS) -> int:
    """Requests in flight at the front door's throttle rate when every call waits the full
    budget (Little's law: rate x time in system), within the stack's ``defaults``
    (``fallbackMinConcurrency`` to ``fallbackMaxConcurrency``; the shipped values otherwise)."""
    in_flight = math.ceil(requests_per_second * function_timeout_seconds(timeout_ms))
    return max(defaults.fallback_min_concurrency, min(defaults.fallback_max_concurrency, in_flight))


def handler_archive(config: dict[str, Any]) -> pulumi.AssetArchive:
    """The function's code: the handler package as the folder :data:`HANDLER_PACKAGE` and the
    config file at the root, where :func:`mlplatform.runtime.fallback.config.config_path` reads it.

    An AssetArchive of the package's ``.py`` files, not a FileArchive of its folder: a
    folder would also ship whatever lies in it (``__pycache__`` of a checkout, which would
    change the code's hash from one machine to the next), and the plan lists each module."""
    return pulumi.AssetArchive({
        HANDLER_PACKAGE: pulumi.AssetArchive({name: pulumi.FileAsset(path) for name, path in HANDLER_FILES.items()}),
        contract.CONFIG_FILE: pulumi.StringAsset(json.dumps(config, sort_keys=True, indent=1)),
    })


def fallback_config(endpoint: Endpoint, endpoint_physical_name: str, team: str,
                    table_name: Optional[str]) -> dict[str, Any]:
    """``fallback_config.json`` of the package, in the format of
    :mod:`mlplatform.runtime.fallback.config` (its docstring is the contract)."""
    fallback = endpoint.fallback
    assert fallback is not None  # called for an endpoint with a fallback only
    config: dict[str, Any] = {
        "endpointName": endpoint_physical_name,
        "team": team,
        "mode": fallback.mode,
        "timeoutMs": fallback.timeout_ms,
        "requestFields": [{"name": f.name, "type": f.type, "required": f.required}
                          for f in (endpoint.request.fields if endpoint.request else [])],
    }
    if fallback.mode == "lastKnownGood":
        config["cache"] = {"table": table_name, "keyField": fallback.key_field, "ttlSeconds": fallback.ttl_minutes * 60}
    elif fallback.mode == "rules":
        config["rules"] = [{"when": [{"field": c.field, "op": c.op, "value": c.value} for c in rule.when],
                            "response": rule.response} for rule in fallback.rules]
        if fallback.default is not None:
            config["default"] = fallback.default
    else:
        config["response"] = fallback.response
    return config


@dataclass(frozen=True, kw_only=True)
class ServingFallbackArgs:
    """Everything the fallback of one endpoint is built from."""

    #: the team and stack
    context: TeamContext
    #: the spec endpoint (its ``fallback`` and ``request`` are set)
    endpoint: Endpoint
    #: the endpoint's position in ``spec.endpoints`` (the recorded spec source)
    index: int
    #: the SageMaker endpoint's physical name (:func:`mlplatform.naming.endpoint_name`)
    endpoint_name: str
    #: the team's artifact key: encrypts the cache table
    artifact_key_arn: pulumi.Input[str]
    #: alias of that key (``alias/...``): the role may use the key only under this alias
    artifact_key_alias: str
    #: the team's alert key: encrypts the function's log group (its policy admits CloudWatch Logs)
    log_key_arn: pulumi.Input[str]
    #: the team's critical escalation topic, paged by the fallback-answers alarm
    critical_topic_arn: pulumi.Input[str]
    #: requests per second the front door lets through (its stage throttle): sizes the
    #: function's reserved concurrency
    requests_per_second: int


class ServingFallback(SpecComponent):
    """The fallback Lambda of one endpoint; :attr:`function_arn` is what the front door invokes."""

    def __init__(self, name: str, args: ServingFallbackArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, ep = args.context, args.endpoint
        fallback = ep.fallback
        assert fallback is not None, f"endpoint {ep.name} has no fallback"  # the estate builds one only for a fallback
        super().__init__(SERVING_FALLBACK, name,
                         ctx.locator.at("spec", "endpoints", args.index, "fallback"), opts)
        region, account = ctx.stack.region, ctx.account_id
        self.function_name = fallback_function_name(ctx.team, ctx.environment, ep.name)
        self.function_arn = f"arn:aws:lambda:{region}:{account}:function:{self.function_name}"
        self.table_name: Optional[str] = None
        self.table: Optional[aws.dynamodb.Table] = None
        if fallback.mode == "lastKnownGood":
            self.table_name = fallback_table_name(ctx.team, ctx.environment, ep.name)
            self.table = aws.dynamodb.Table(
                f"{name}-cache",
                name=self.table_name,
                billing_mode="PAY_PER_REQUEST",
                hash_key=contract.CACHE_KEY_ATTRIBUTE,
                attributes=[{"name": contract.CACHE_KEY_ATTRIBUTE, "type": "S"}],
                ttl={"attribute_name": contract.CACHE_EXPIRY_ATTRIBUTE, "enabled": True},
                point_in_time_recovery={"enabled": True},
                server_side_encryption={"enabled": True, "kms_key_arn": args.artifact_key_arn},
                deletion_protection_enabled=ctx.stack.protect_stateful,
                opts=ctx.stateful(parent=self),
            )

        role_physical = role_name(ctx.team, ctx.environment, f"{ep.name}-fallback-fn")
        role = service_role(f"{name}-role", ServiceRoleArgs(
            name=role_physical, description=f"Fallback Lambda of endpoint {args.endpoint_name}",
            trusts=(ServiceTrust(service="lambda.amazonaws.com"),), stack=ctx.stack), self.child())
        self.role_arn = f"arn:aws:iam::{account}:role/{role_physical}"
        grant_to_role(f"{name}-policy", role.name, self.grants(args), self.child())
        log_group = lambda_log_group(f"{name}-logs", ctx, self.function_name, args.log_key_arn, self)

        self.timeout_seconds = function_timeout_seconds(fallback.timeout_ms)
        self.config = fallback_config(ep, args.endpoint_name, ctx.team, self.table_name)
        network = ctx.stack.network
        self.function = aws.lambda_.Function(
            f"{name}-fn",
            name=self.function_name,
            description=f"Answers for {args.endpoint_name} when the model times out, throttles or fails ({fallback.mode})",
            role=self.role_arn,
            runtime=LAMBDA_RUNTIME,
            handler=HANDLER,
            code=handler_archive(self.config),
            timeout=self.timeout_seconds,
            memory_size=ctx.stack.defaults.fallback_memory_mb,
            reserved_concurrent_executions=reserved_concurrency(args.requests_per_second, fallback.timeout_ms,
                                                                ctx.stack.defaults),
            logging_config={"log_format": "Text", "log_group": log_group.name},
            tracing_config={"mode": "Active"},
            vpc_config={"subnet_ids": list(network.subnet_ids), "security_group_ids": list(network.security_group_ids)}
            if network else None,
            opts=self.child(depends_on=[role, log_group, *([self.table] if self.table else [])]),
        )

        self.alarm_name = alarm_name(ctx.team, ctx.environment, ep.name, "fallback-answers")
        aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            name=self.alarm_name,
            alarm_description=(f"{args.endpoint_name} answered from its {fallback.mode} fallback at least "
                               f"{fallback.alarm_threshold} times in five minutes: the model is failing"),
            namespace=contract.NAMESPACE,
            metric_name=contract.METRIC_FALLBACK_ANSWERS,
            dimensions=dict(zip(contract.DIMENSIONS, (ctx.team, args.endpoint_name))),
            statistic="Sum", period=ALARM_PERIOD_SECONDS, evaluation_periods=1, datapoints_to_alarm=1,
            threshold=fallback.alarm_threshold, comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.critical_topic_arn], ok_actions=[args.critical_topic_arn],
            opts=self.child(),
        )
        self.register_outputs({"functionName": self.function_name, "tableName": self.table_name,
                               "alarmName": self.alarm_name})

    @staticmethod
    def grants(args: ServingFallbackArgs) -> list[Statement]:
        """The execution role's permissions (see the module docstring): nothing beyond this
        endpoint, this table, this key through DynamoDB and this metric namespace."""
        ctx, ep = args.context, args.endpoint
        region, account = ctx.stack.region, ctx.account_id
        function = fallback_function_name(ctx.team, ctx.environment, ep.name)
        statements = [
            EndpointAccess(region, account, args.endpoint_name).grant_invoke(sid="InvokeTheModel"),
            MetricNamespace(contract.NAMESPACE).grant_put_metric_data(sid="PublishFallbackMetrics"),
            LogGroupAccess(region, account, f"/aws/lambda/{function}").grant_write(sid="WriteOwnLogs"),
            grant_xray_write(sid="SendTraces"),
        ]
        if ep.fallback is not None and ep.fallback.mode == "lastKnownGood":
            table = TableAccess(region, account, fallback_table_name(ctx.team, ctx.environment, ep.name))
            statements += [
                table.grant_read_write_items(sid="ReadWriteCache"),
                # DynamoDB encrypts and decrypts the table's items with the key on the caller's
                # behalf (Amazon DynamoDB Developer Guide, "How DynamoDB uses AWS KMS": the
                # caller's permissions on the key, through dynamodb.<region>.amazonaws.com)
                KeyAccess(args.artifact_key_alias, region, account).grant(
                    ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                    sid="UseTeamKeyThroughDynamoDb", conditions=via_service("dynamodb", region)),
            ]
        if ctx.stack.network is not None:
            statements += grant_lambda_vpc_access(region, account, ctx.stack.network)
        return statements
