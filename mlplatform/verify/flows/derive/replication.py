"""MLP-FLOW-REPLICATION: S3 replication reads the source bucket under its key and writes
the replica under the replica key, through the role it assumes.
"""

from __future__ import annotations

from typing import Iterator

from mlplatform.graph import GraphResource
from mlplatform.type_tokens import IAM_ROLE, S3_BUCKET, S3_BUCKET_REPLICATION_CONFIG

from ..declarations import SAMPLE_HOUR, Flow
from ..estate import Estate, Unresolved, known
from .steps import Actor, guard, kms_steps, s3_arn, s3_key_context, s3_steps, trust_step


def replication_flows(estate: Estate) -> Iterator[Flow]:
    for config in estate.of_type(S3_BUCKET_REPLICATION_CONFIG):
        flow = Flow("MLP-FLOW-REPLICATION", f"replication {config.name} copies {config.inputs.get('bucket')}", config)
        guard(flow, lambda: _replication_steps(estate, flow, config))
        yield flow


def _replication_steps(estate: Estate, flow: Flow, config: GraphResource) -> None:
    source = estate.name_via(config, "bucket", S3_BUCKET, "bucket")
    role_arn = config.inputs.get("role")
    if not known(role_arn):
        roles = estate.deps(config, "role", IAM_ROLE)
        role_arn = estate.role_arn(roles[0]) if len(roles) == 1 else role_arn
    role = estate.role(role_arn)
    flow.steps.append(trust_step(estate, role, "s3.amazonaws.com", s3_arn(source)))
    actor = Actor.of_role(role)
    sample = f"models/{SAMPLE_HOUR}model.tar.gz"
    flow.steps.extend(s3_steps(estate, actor, source, ("s3:GetReplicationConfiguration", "s3:ListBucket"), None,
                               list_prefix=""))
    flow.steps.extend(s3_steps(estate, actor, source, ("s3:GetObjectVersionForReplication",), sample))
    _, source_key, _ = estate.bucket_encryption(source)
    if source_key is not None:
        flow.steps.extend(kms_steps(estate, actor, source_key, ("kms:Decrypt",),
                                    s3_key_context(estate, source, sample), "s3", label="decrypt the source: "))
    for rule in config.inputs.get("rules") or []:
        destination = rule.get("destination") or {}
        replica = str(destination.get("bucket", "")).split(":::", 1)[-1]
        if not replica:
            raise Unresolved("the replication destination is unknown in this plan")
        flow.steps.extend(s3_steps(estate, actor, replica, ("s3:ReplicateObject",), sample))
        encryption = destination.get("encryptionConfiguration") or {}
        if "replicaKmsKeyId" in encryption:
            key = estate.key_for(config, "rules", encryption.get("replicaKmsKeyId"))
            flow.steps.extend(kms_steps(estate, actor, key, ("kms:Encrypt", "kms:GenerateDataKey"),
                                        s3_key_context(estate, replica, sample), "s3", label="encrypt the replica: "))
