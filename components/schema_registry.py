"""SchemaRegistry: the team's Glue schema registry and data-quality rulesets.

Streamed feature groups (``streaming: true``) get an Avro schema generated from their
feature definitions, with BACKWARD compatibility: a producer whose records drift from the
declared schema is rejected by the Glue Schema Registry serializer at ingestion, and a new
schema version must still read the data the previous one wrote.

Every group with an offline store gets a Glue Data Quality ruleset (DQDL) on its Glue
table for what the spec declares: the record identifier and event time are never null,
features with ``nullable: false`` are complete, ``min``/``max`` bound numeric values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import feature_group_name, physical_name
from mlplatform.spec.models import FeatureGroup as FeatureGroupSpec
from mlplatform.type_tokens import SCHEMA_REGISTRY

from .base import SpecComponent, TeamContext

AVRO_TYPES = {"string": "string", "integral": "long", "fractional": "double"}
GLUE_NAME = "a-zA-Z0-9_$#.-"  # Glue registry and schema names; at most 255 characters


def required_features(group: FeatureGroupSpec) -> set[str]:
    """Features every record must carry: the keys SageMaker requires, and those declared non-nullable."""
    return {group.record_identifier, group.event_time} | {f.name for f in group.features if not f.nullable}


def avro_schema(team: str, group: FeatureGroupSpec) -> str:
    """An Avro record schema for ``group``: required features plain, others nullable with default null."""
    required = required_features(group)
    fields = []
    for feature in group.features:
        avro_type = AVRO_TYPES[feature.type]
        entry: dict = {"name": feature.name}
        if feature.name in required:
            entry["type"] = avro_type
        else:
            entry["type"], entry["default"] = ["null", avro_type], None
        if feature.description:
            entry["doc"] = feature.description
        fields.append(entry)
    schema = {
        "type": "record",
        "name": physical_name(group.name, f"v{group.version}", allowed="A-Za-z0-9_", separator="_", max_length=255),
        "namespace": "mlplatform." + physical_name(team, allowed="a-z0-9_", separator="_", max_length=200),
        "fields": fields,
    }
    if group.description:
        schema["doc"] = group.description
    return json.dumps(schema, sort_keys=True)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def dqdl_ruleset(group: FeatureGroupSpec) -> str:
    """The DQDL ruleset for ``group`` (comparisons are inclusive)."""
    rules = [f'IsComplete "{name}"' for name in sorted(required_features(group))]
    for feature in group.features:
        if feature.min is not None:
            rules.append(f'ColumnValues "{feature.name}" >= {_number(feature.min)}')
        if feature.max is not None:
            rules.append(f'ColumnValues "{feature.name}" <= {_number(feature.max)}')
    return "Rules = [\n    " + ",\n    ".join(rules) + "\n]"


@dataclass(frozen=True, kw_only=True)
class GroupTable:
    """A feature group with the Glue table SageMaker creates for its offline store."""

    #: the group's position in ``spec.featureGroups``
    index: int
    #: the spec feature group
    group: FeatureGroupSpec
    #: the team's Glue database (the feature catalog); None for an online-only group
    database: Optional[str]
    #: the offline store's Glue table; None for an online-only group
    table: Optional[str]
    #: the group's resource, so rulesets wait for its table; default None
    depends_on: Optional[pulumi.Resource] = None


@dataclass(frozen=True, kw_only=True)
class SchemaRegistryArgs:
    #: the team and stack
    context: TeamContext
    #: every feature group of the spec, in spec order, with its offline table if it has one
    groups: list[GroupTable]


class SchemaRegistry(SpecComponent):
    """Registry and schemas for streamed groups; a data-quality ruleset per offline table."""

    def __init__(self, name: str, args: SchemaRegistryArgs, opts: Optional[pulumi.ResourceOptions] = None):
        context, groups = args.context, args.groups
        super().__init__(SCHEMA_REGISTRY, name, context.locator.at("spec", "featureGroups"), opts)
        team, env = context.team, context.environment
        self.registry_name: Optional[str] = None
        self.schemas: dict[str, aws.glue.Schema] = {}
        streamed = [item for item in groups if item.group.streaming]
        if streamed:
            self.registry_name = physical_name(team, env, "features", max_length=255, allowed=GLUE_NAME)
            registry = aws.glue.Registry(
                f"{name}-registry",
                registry_name=self.registry_name,
                description=f"Schemas of team {team}'s streamed feature groups ({env})",
                opts=context.stateful(parent=self),
            )
            for item in streamed:
                group = item.group
                schema_name = feature_group_name(team, env, group.name, group.version)
                self.schemas[group.name] = aws.glue.Schema(
                    f"{name}-{group.name}-v{group.version}",
                    schema_name=schema_name,
                    registry_arn=registry.arn,
                    data_format="AVRO",
                    compatibility="BACKWARD",
                    schema_definition=avro_schema(team, group),
                    description=f"Records of feature group {schema_name}",
                    opts=context.stateful(parent=self),
                )
        self.rulesets: dict[str, aws.glue.DataQualityRuleset] = {}
        for item in groups:
            if item.table is None or item.database is None:
                continue  # online-only groups have no table to check
            group = item.group
            self.rulesets[group.name] = aws.glue.DataQualityRuleset(
                f"{name}-{group.name}-v{group.version}-dq",
                name=physical_name(team, env, group.name, f"v{group.version}", "dq", max_length=255),
                description=f"Declared checks of feature group {group.name} v{group.version}",
                ruleset=dqdl_ruleset(group),
                target_table={"database_name": item.database, "table_name": item.table},
                opts=self.child(depends_on=[item.depends_on] if item.depends_on else None),
            )
        self.register_outputs({"registryName": self.registry_name})
