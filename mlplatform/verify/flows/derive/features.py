"""MLP-FLOW-FEATURES-ABAC: people read feature groups by attributes: the consumer role with
``pii-access=true`` reads a PII group online and offline, without the tag it is denied.
"""

from __future__ import annotations

from typing import Iterator

from mlplatform.graph import GraphResource
from mlplatform.naming import role_name
from mlplatform.type_tokens import SAGEMAKER_FEATURE_GROUP

from ..declarations import ALLOW, DENY, Flow
from ..estate import Estate, parse_s3_uri
from .steps import Actor, guard, kms_steps, s3_key_context, s3_steps
from components.feature_group import PII_ACCESS_TAG  # the tag the feature store's grants test

#: The one session tag the feature-access flows vary: a consumer role with it reads PII groups.


def feature_flows(estate: Estate) -> Iterator[Flow]:
    for group in estate.of_type(SAGEMAKER_FEATURE_GROUP):
        name = group.inputs.get("featureGroupName")
        flow = Flow("MLP-FLOW-FEATURES-ABAC", f"people read feature group {name} by attributes", group)
        guard(flow, lambda: _feature_steps(estate, flow, group, str(name)))
        yield flow


def _feature_steps(estate: Estate, flow: Flow, group: GraphResource, name: str) -> None:
    team = estate.team_of(group)
    consumer = estate.role_named(role_name(team or "", estate.stack.environment, "consumer"))
    region = estate.region_of(group)
    arn = f"arn:aws:sagemaker:{region}:{estate.account}:feature-group/{name.lower()}"
    tags = dict(group.effective_tags or {})
    if isinstance(group.inputs.get("tags"), dict):
        tags.update(group.inputs["tags"])
    pii = tags.get("pii") == "true"
    resource_tags = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
    sessions = [("with pii-access=true", "true", ALLOW), ("without pii-access", None, DENY if pii else ALLOW)]
    offline = (group.inputs.get("offlineStoreConfig") or {}).get("s3StorageConfig") or {}
    for label, value, expect in sessions:
        actor = Actor.of_role(consumer, {PII_ACCESS_TAG: value})
        flow.steps.append(actor.step(f"{label}: sagemaker:GetRecord on {arn}", "sagemaker:GetRecord", arn,
                                     resource_tags, expect=expect, complete=("aws:resourcetag/", "sagemaker:")))
        if offline:
            bucket, prefix = parse_s3_uri(offline.get("s3Uri"))
            sample = (f"{prefix.rstrip('/')}/{estate.account}/sagemaker/{region}/offline-store/{name}-1767225600/"
                      f"data/year=2026/month=01/day=01/hour=00/sample.parquet")
            flow.steps.extend(s3_steps(estate, actor, bucket, ("s3:GetObject",), sample, expect=expect,
                                       label=f"{label}: "))
            if expect == ALLOW:
                key = estate.key_for(group, "offlineStoreConfig", offline.get("kmsKeyId"))
                flow.steps.extend(kms_steps(estate, actor, key, ("kms:Decrypt",),
                                            s3_key_context(estate, bucket, sample), "s3", label=f"{label}: "))
