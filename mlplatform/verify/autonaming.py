"""pulumi-aws's autonaming rule, reproduced deterministically for the resolved plan.

What the provider does (pulumi/pulumi-aws ``provider/autonaming.go`` and
``provider/resource_overrides.go``; pulumi/pulumi-terraform-bridge ``pkg/tfbridge/names.go``;
pulumi/pulumi ``sdk/go/common/resource`` ``NewUniqueName``):

* every resource whose schema has an input property ``name`` (optional or required) gets,
  when the program leaves it unset, ``<logical name>-<7 random hex chars>`` with a maximum
  length of 255 (``setAutonaming``: ``AutoName("name", 255, "-")``);
* some resources override the property, the length, the transform or a post-transform,
  listed in :data:`OVERRIDES` (for example S3 buckets: ``bucket``, 63 chars, lower-cased;
  IAM roles and Lambda functions: 64; SNS topics and SQS queues: 80, ``.fifo`` appended
  for FIFO; KMS aliases: 238 then ``alias/`` prepended);
* ``NewUniqueName`` fails ("name 'x-' plus 7 random chars is longer than maximum length
  N") when the prefix plus the random part exceeds the provider's maximum, which is
  often *longer* than what the AWS API accepts (a SageMaker Model is autonamed up to 255
  characters while CreateModel accepts 63): so an autoname can pass the provider and
  still be rejected by AWS, which is what the acceptance check is there to see.

The random part comes from a seed; here the seed is the URN, so two resolutions of the same
plan give the same names.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from dataclasses import dataclass
from typing import Any, Optional

from ..type_tokens import (
    ATHENA_DATABASE, CLOUDWATCH_EVENT_RULE, CLOUDWATCH_EVENT_TARGET, EC2_KEY_PAIR, EFS_FILE_SYSTEM, EKS_NODE_GROUP,
    ELASTICACHE_CLUSTER, GLUE_CATALOG_DATABASE, GLUE_CATALOG_TABLE, IAM_ROLE, KMS_ALIAS, LAMBDA_FUNCTION,
    LAMBDA_PERMISSION, MQ_BROKER, MSK_CLUSTER, ROUTE53_RECORD, S3_BUCKET, S3_BUCKET_V2, SNS_TOPIC, SQS_QUEUE)

HEX = "0123456789abcdef"
LOWER = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class AutoName:
    """How one property of one resource type is autonamed."""

    prop: str = "name"
    max_length: int = 255
    separator: str = "-"
    random_length: int = 7
    charset: str = HEX
    lower: bool = False
    #: "alias/" for KMS aliases, ".fifo" suffix handling for SNS/SQS (see :func:`autoname`).
    post: Optional[str] = None


#: Per-type overrides of the default rule, as pulumi-aws declares them (resource_overrides.go).
OVERRIDES: dict[str, Optional[AutoName]] = {
    S3_BUCKET: AutoName(prop="bucket", max_length=63, lower=True),
    S3_BUCKET_V2: AutoName(prop="bucket", max_length=63, lower=True),
    CLOUDWATCH_EVENT_RULE: AutoName(max_length=64),
    CLOUDWATCH_EVENT_TARGET: AutoName(prop="targetId"),
    IAM_ROLE: AutoName(max_length=64),
    KMS_ALIAS: AutoName(max_length=238, post="alias/"),
    LAMBDA_FUNCTION: AutoName(max_length=64),
    LAMBDA_PERMISSION: AutoName(prop="statementId", max_length=100),
    SQS_QUEUE: AutoName(max_length=80, post="fifoQueue"),
    SNS_TOPIC: AutoName(max_length=80, post="fifoTopic"),
    GLUE_CATALOG_DATABASE: AutoName(separator="_", random_length=8, charset=LOWER, lower=True),
    GLUE_CATALOG_TABLE: AutoName(separator="_", random_length=8, charset=LOWER, lower=True),
    ATHENA_DATABASE: AutoName(separator="_"),
    ELASTICACHE_CLUSTER: AutoName(prop="clusterId", max_length=50, lower=True),
    EFS_FILE_SYSTEM: AutoName(prop="creationToken"),
    EC2_KEY_PAIR: AutoName(prop="keyName"),
    MQ_BROKER: AutoName(prop="brokerName", max_length=55),
    MSK_CLUSTER: AutoName(prop="clusterName"),
    EKS_NODE_GROUP: AutoName(prop="nodeGroupName"),
    ROUTE53_RECORD: None,  # the name is the DNS name: never autonamed
}


def seeded_choice(seed: str, count: int, charset: str) -> str:
    """``count`` characters of ``charset`` chosen by a hash of ``seed`` (deterministic)."""
    digest = b""
    counter = 0
    while len(digest) < count:
        digest += hashlib.sha256(f"{seed}#{counter}".encode()).digest()
        counter += 1
    return "".join(charset[byte % len(charset)] for byte in digest[:count])


@functools.lru_cache(maxsize=None)
def _input_names(type_token: str) -> frozenset[str]:
    """Input property names (camelCase) of a pulumi-aws resource type, from its SDK Args class."""
    from pulumi._types import input_type_py_to_pulumi_names

    package, module_path, class_name = type_token.split(":")
    if package != "aws":
        return frozenset()
    module_name = "pulumi_aws." + module_path.split("/")[0]
    try:
        module = importlib.import_module(module_name)
        args_class = getattr(module, f"{class_name}Args")
    except (ImportError, AttributeError):
        return frozenset()
    return frozenset(input_type_py_to_pulumi_names(args_class).values())


def rule_for(type_token: str) -> Optional[AutoName]:
    """The autonaming rule of a type, or None when the provider does not autoname it."""
    if type_token in OVERRIDES:
        return OVERRIDES[type_token]
    if "name" in _input_names(type_token):
        return AutoName()
    return None


def autoname(rule: AutoName, logical_name: str, seed: str, inputs: dict[str, Any]) -> str:
    """The name the provider would give, following ``FromName`` + ``NewUniqueName``.

    Over the provider's own maximum the provider fails the preview; the name is still
    produced in full here, so the acceptance check reports it against the API's limit
    (always at most the provider's) instead of the plan silently losing the value.
    """
    prefix = (logical_name.lower() if rule.lower else logical_name) + rule.separator
    name = prefix + seeded_choice(seed, rule.random_length, rule.charset)
    if rule.post == "alias/" and not name.startswith("alias/"):
        name = "alias/" + name
    elif rule.post in ("fifoQueue", "fifoTopic") and inputs.get(rule.post) is True:
        name += ".fifo"
    return name


def autonames(type_token: str, logical_name: str, seed: str, inputs: dict[str, Any]) -> dict[str, str]:
    """The autonamed properties the program left unset: ``{property: name}``.

    A ``namePrefix`` the program sets replaces autonaming (Terraform then appends a
    26-character unique id); that is simulated the same way.
    """
    rule = rule_for(type_token)
    if rule is None or inputs.get(rule.prop) not in (None, ""):
        return {}
    prefix = inputs.get("namePrefix") if rule.prop == "name" else None
    if isinstance(prefix, str) and prefix:
        return {rule.prop: prefix + seeded_choice(seed, 26, "0123456789")}
    return {rule.prop: autoname(rule, logical_name, seed, inputs)}
