"""FeatureGroup: one versioned SageMaker feature group of a team."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from mlplatform.naming import feature_group_name
from mlplatform.spec.models import FeatureGroup as FeatureGroupSpec

from .base import SpecComponent, TeamContext

FEATURE_TYPES = {"string": "String", "integral": "Integral", "fractional": "Fractional"}


@dataclass(frozen=True)
class FeatureGroupArgs:
    context: TeamContext
    group: FeatureGroupSpec
    index: int
    bucket_name: str
    key_arn: pulumi.Output[str]
    ingestion_role_arn: str


class FeatureGroup(SpecComponent):
    """Typed definitions from the spec, KMS-encrypted online and offline stores.

    The group name carries the version, so a schema change that needs a new group is a
    visible new resource, never an in-place replacement of the old one.
    """

    def __init__(self, name: str, args: FeatureGroupArgs, opts: Optional[pulumi.ResourceOptions] = None):
        ctx, group = args.context, args.group
        super().__init__("mlplatform:features:FeatureGroup", name, ctx.locator.at("spec", "featureGroups", args.index), opts)
        self.group_name = feature_group_name(ctx.team, group.name, group.version)
        online = None
        if group.online.enabled:
            online = {"enable_online_store": True, "security_config": {"kms_key_id": args.key_arn}}
            if group.online.ttl_hours is not None:
                online["ttl_duration"] = {"unit": "Hours", "value": group.online.ttl_hours}
        offline = None
        if group.offline.enabled:
            offline = {
                "s3_storage_config": {
                    "s3_uri": f"s3://{args.bucket_name}/feature-store/{self.group_name}",
                    "kms_key_id": args.key_arn,
                },
                "table_format": "Iceberg",
                "disable_glue_table_creation": False,
            }
        tags = {"pii": "true"} if group.has_pii else {}
        self.feature_group = aws.sagemaker.FeatureGroup(
            f"{name}-group",
            feature_group_name=self.group_name,
            description=group.description or None,
            record_identifier_feature_name=group.record_identifier,
            event_time_feature_name=group.event_time,
            role_arn=args.ingestion_role_arn,
            feature_definitions=[
                {"feature_name": feature.name, "feature_type": FEATURE_TYPES[feature.type]} for feature in group.features
            ],
            online_store_config=online,
            offline_store_config=offline,
            tags=tags or None,
            opts=ctx.stateful(parent=self),
        )
        self.register_outputs({"featureGroupName": self.group_name})
