"""Pulumi names to Terraform names, derived from pulumi-aws itself.

pulumi-aws is generated from the Terraform AWS provider by the Terraform bridge, whose
naming rules are mechanical:

* a resource ``aws_<module>_<name>`` becomes ``aws:<module>/<camelName>:<PascalName>``;
* an attribute ``snake_name`` becomes ``camelName`` (the Python SDK keeps the snake form);
* a nested block that holds at most one item becomes an object, other blocks a list whose
  name the bridge pluralises (``rule`` -> ``rules``).

The bridge's own mapping tables are compiled into the provider binary, not shipped in the
Python package, so we invert these rules: the resource class that pulumi-aws registers for
a type token tells us, through the SDK's type annotations, which properties are objects
(Terraform blocks: one-element lists), which are lists of objects (blocks whose name is
singularised back) and which are maps (kept as they are, e.g. ``tags``). Only the places
where Terraform did not follow its own convention are listed, in the small tables below.
"""

from __future__ import annotations

import collections.abc as abc
import functools
import importlib
import re
import typing
from dataclasses import dataclass
from typing import Any, Optional

from pulumi import _types as pulumi_types

from ..type_tokens import (
    ALB_LOAD_BALANCER, CFG_RECORDER, CFG_RULE, CLOUDTRAIL_TRAIL, EC2_VPC_ENDPOINT_SERVICE, LB_LOAD_BALANCER,
    RDS_CLUSTER, RDS_CLUSTER_INSTANCE, S3_BUCKET_OBJECT_V2, S3_BUCKET_REPLICATION_CONFIG)

#: Token modules whose Terraform prefix is not the module name (``aws:<module>/...``).
MODULE_PREFIXES: dict[str, str] = {
    "ec2": "",  # aws_instance, aws_security_group, aws_launch_template, aws_vpc ...
    "cfg": "config",
    "amp": "prometheus",
    "rds": "db",  # aws_db_instance, aws_db_subnet_group (aws_rds_cluster is listed below)
}

#: Resources whose Terraform type follows none of the rules above.
TYPE_EXCEPTIONS: dict[str, str] = {
    CLOUDTRAIL_TRAIL: "aws_cloudtrail",
    S3_BUCKET_OBJECT_V2: "aws_s3_object",
    LB_LOAD_BALANCER: "aws_lb",
    ALB_LOAD_BALANCER: "aws_alb",
    RDS_CLUSTER: "aws_rds_cluster",
    RDS_CLUSTER_INSTANCE: "aws_rds_cluster_instance",
    CFG_RULE: "aws_config_config_rule",
    CFG_RECORDER: "aws_config_configuration_recorder",
    EC2_VPC_ENDPOINT_SERVICE: "aws_vpc_endpoint_service",
    # the provider shortened the name: Terraform's is aws_s3_bucket_replication_configuration
    S3_BUCKET_REPLICATION_CONFIG: "aws_s3_bucket_replication_configuration",
}

#: Block attributes whose Terraform name is already plural (the bridge kept it as is).
PLURAL_BLOCKS: frozenset[str] = frozenset({
    "production_variants",          # aws_sagemaker_endpoint_configuration
    "shadow_production_variants",   # aws_sagemaker_endpoint_configuration
    "capture_options",              # ...data_capture_config
    "alarms",                       # aws_sagemaker_endpoint ...auto_rollback_configuration
})

#: Attributes pulumi-aws renamed, per Terraform type: Pulumi snake name -> Terraform name.
PROPERTY_RENAMES: dict[str, dict[str, str]] = {
    "aws_lambda_function": {"name": "function_name"},
}

#: Pulumi type packages whose resources have a Terraform twin.
TERRAFORM_PACKAGES = {"aws": "pulumi_aws"}


class UnmappableType(LookupError):
    """A Pulumi type with no Terraform twin that we know how to name."""


def snake(name: str) -> str:
    """``kmsMasterKeyId`` -> ``kms_master_key_id`` (the Python SDK's own rule)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def singular(name: str) -> str:
    """Undo the bridge's pluralisation of a block name (``rules`` -> ``rule``)."""
    if name in PLURAL_BLOCKS:
        return name
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "xes")):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def parse_token(token: str) -> tuple[str, str, str]:
    """``aws:s3/bucket:Bucket`` -> ``("aws", "s3", "bucket")``."""
    try:
        package, middle, _cls = token.split(":")
        module, name = middle.split("/")
    except ValueError:
        raise UnmappableType(f"{token}: not a Pulumi resource type token") from None
    return package, module, name


def resource_class(token: str) -> type:
    """The pulumi-aws class registered for ``token``."""
    package, module, _name = parse_token(token)
    sdk = TERRAFORM_PACKAGES.get(package)
    if sdk is None:
        raise UnmappableType(f"{token}: package '{package}' has no Terraform provider twin")
    class_name = token.rsplit(":", 1)[1]
    for module_name in (f"{sdk}.{module}", f"{sdk}.{module}_"):  # ``lambda_``: Python keyword
        try:
            python_module = importlib.import_module(module_name)
        except ImportError:
            continue
        cls = getattr(python_module, class_name, None)
        if isinstance(cls, type):
            return cls
    raise UnmappableType(f"{token}: no such resource in {sdk}")


@functools.lru_cache(maxsize=None)
def terraform_type(token: str) -> str:
    """The Terraform resource type of a pulumi-aws type token.

    Raises :class:`UnmappableType` for a token of another package or one pulumi-aws does
    not define (a typo, or a resource removed from the provider).
    """
    resource_class(token)  # the token must be a real pulumi-aws resource
    if token in TYPE_EXCEPTIONS:
        return TYPE_EXCEPTIONS[token]
    package, module, name = parse_token(token)
    if module == "s3" and name.endswith("V2"):  # the bridge's second token for the same resource
        name = name[:-2]
    prefix = MODULE_PREFIXES.get(module, module)
    return "_".join(part for part in (package, prefix, snake(name)) if part)


# ---------------------------------------------------------------- property shapes

SCALAR, MAP, LIST, BLOCK, BLOCK_LIST = "scalar", "map", "list", "block", "block_list"


@dataclass(frozen=True)
class Field:
    """How one Pulumi property is written in Terraform."""

    terraform_name: str
    kind: str
    element: Optional[type] = None  # the output type of a block's items


def _classify(hint: Any) -> tuple[str, Optional[type]]:
    hint = pulumi_types.unwrap_type(hint)
    origin = typing.get_origin(hint)
    if origin in (list, abc.Sequence, typing.Sequence):
        args = typing.get_args(hint)
        element = pulumi_types.unwrap_type(args[0]) if args else None
        if isinstance(element, type) and pulumi_types.is_output_type(element):
            return BLOCK_LIST, element
        return LIST, None
    if origin in (dict, abc.Mapping, typing.Mapping):
        return MAP, None
    if isinstance(hint, type) and pulumi_types.is_output_type(hint):
        return BLOCK, hint
    return SCALAR, None


@functools.lru_cache(maxsize=None)
def fields_of(cls: type, terraform_type_name: str = "") -> dict[str, Field]:
    """Pulumi property name -> :class:`Field`, for a resource class or a nested output type."""
    if pulumi_types.is_output_type(cls):
        hints = pulumi_types._raw_return_hints(cls)  # noqa: SLF001 - the SDK's own reflection
        py_names = {pulumi: py for py, pulumi, _ in pulumi_types._py_properties(cls)}  # noqa: SLF001
    else:
        hints = pulumi_types.resource_types(cls)
        py_names = pulumi_types.resource_pulumi_to_py_names(cls)
    renames = PROPERTY_RENAMES.get(terraform_type_name, {})
    fields: dict[str, Field] = {}
    for pulumi_name, hint in hints.items():
        kind, element = _classify(hint)
        name = py_names.get(pulumi_name) or snake(pulumi_name)
        name = renames.get(name, name)
        if kind == BLOCK_LIST:
            name = singular(name)
        fields[pulumi_name] = Field(name, kind, element)
    return fields


def guess_field(pulumi_name: str, value: Any) -> Field:
    """A property the SDK does not declare (newer state, or a provider-side default)."""
    if isinstance(value, dict):
        return Field(snake(pulumi_name), MAP if pulumi_name in ("tags", "tagsAll") else BLOCK)
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return Field(singular(snake(pulumi_name)), BLOCK_LIST)
    return Field(snake(pulumi_name), LIST if isinstance(value, list) else SCALAR)
