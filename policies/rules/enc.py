"""MLP-ENC-*: customer-managed KMS encryption at rest for every data-bearing resource but S3
(which has its own rule): SageMaker endpoint configs, feature groups (online and
offline store), SNS topics, CloudWatch log groups, ECR repositories and the EBS volumes
of EC2 launch templates.

A stack rule, because an unknown key ARN (computed at apply) is judged by where it comes
from: the property dependencies the engine sends with AnalyzeStack (see ``keys``).
"""

from __future__ import annotations

from typing import Any, Iterator

from mlplatform.catalogues.instances import takes_volume_key
from mlplatform.type_tokens import (
    CLOUDWATCH_LOG_GROUP, EC2_LAUNCH_TEMPLATE, ECR_REPOSITORY, SAGEMAKER_ENDPOINT_CONFIGURATION,
    SAGEMAKER_FEATURE_GROUP, SNS_TOPIC)

from .common import MANDATORY, UNKNOWN, Context, as_list, peek, rule
from .keys import key_problem


def _keys(resource: Any) -> Iterator[tuple[str, str, Any, str]]:
    """(what, top-level property, key value, AWS-managed alias) for each key the resource needs."""
    props, kind = resource.props, resource.resource_type
    if kind == SAGEMAKER_ENDPOINT_CONFIGURATION:
        if _takes_volume_key(props):
            yield "endpoint config storage", "kmsKeyArn", peek(props, "kmsKeyArn"), "aws/sagemaker"
        capture = peek(props, "dataCaptureConfig")
        if capture not in (None, UNKNOWN) and peek(capture, "enableCapture") is not False:
            yield "data capture", "dataCaptureConfig", peek(capture, "kmsKeyId"), "aws/s3"
        output = peek(props, "asyncInferenceConfig", "outputConfig")
        if output not in (None, UNKNOWN):
            yield "async inference output", "asyncInferenceConfig", peek(output, "kmsKeyId"), "aws/s3"
    elif kind == SAGEMAKER_FEATURE_GROUP:
        online = peek(props, "onlineStoreConfig")
        if online not in (None, UNKNOWN) and peek(online, "enableOnlineStore") is True:
            yield "online store", "onlineStoreConfig", peek(online, "securityConfig", "kmsKeyId"), "aws/sagemaker"
        offline = peek(props, "offlineStoreConfig")
        if offline not in (None, UNKNOWN):
            yield "offline store", "offlineStoreConfig", peek(offline, "s3StorageConfig", "kmsKeyId"), "aws/s3"
    elif kind == SNS_TOPIC:
        yield "topic", "kmsMasterKeyId", peek(props, "kmsMasterKeyId"), "aws/sns"
    elif kind == CLOUDWATCH_LOG_GROUP:
        yield "log group", "kmsKeyId", peek(props, "kmsKeyId"), "aws/logs"
    elif kind == ECR_REPOSITORY:
        configs = as_list(peek(props, "encryptionConfigurations"))
        config = configs[0] if configs else None
        kind_of = peek(config, "encryptionType") if config else None
        value = peek(config, "kmsKey") if kind_of == "KMS" else None
        yield f"repository ({kind_of or 'AES256'})", "encryptionConfigurations", value, "aws/ecr"


def _takes_volume_key(props: Any) -> bool:
    """Whether SageMaker accepts a storage key (``KmsKeyId``) for this endpoint config: the
    instance catalogue's one definition (:func:`mlplatform.catalogues.instances.takes_volume_key`),
    which checkov's CKV_AWS_98 skip condition uses too. A variant whose instance type is
    unknown at preview counts as a type that takes a key."""
    variants = [v for key in ("productionVariants", "shadowProductionVariants")
                for v in as_list(peek(props, key)) if v not in (None, UNKNOWN)]
    types = [None if peek(v, "serverlessConfig") not in (None, UNKNOWN) else
             (peek(v, "instanceType") if isinstance(peek(v, "instanceType"), str) else "unknown")
             for v in variants]
    return takes_volume_key(types)


def _launch_template_problems(resource: Any) -> Iterator[str]:
    mappings = as_list(peek(resource.props, "blockDeviceMappings"))
    for index, mapping in enumerate(mappings):
        ebs = peek(mapping, "ebs")
        if ebs in (None, UNKNOWN):
            continue
        if str(peek(ebs, "encrypted")).lower() != "true":
            yield f"EBS volume {index} is not encrypted"
        problem = key_problem(peek(ebs, "kmsKeyId"), resource, "blockDeviceMappings", "aws/ebs")
        if problem:
            yield f"EBS volume {index} key {problem}"


@rule(
    id="MLP-ENC-001",
    name="Data at rest encrypted with customer-managed KMS keys",
    description="SageMaker endpoint configs (storage where SageMaker takes a volume key, i.e. not serverless or "
                "local-NVMe instances; data capture; async output), feature groups (online and offline "
                "store), SNS topics, CloudWatch log groups, ECR repositories and launch-template EBS volumes are "
                "encrypted with a customer-managed KMS key, never an AWS-managed one.",
    severity="high",
    remediation="Pass the team's KMS key ARN: kmsKeyArn / dataCaptureConfig.kmsKeyId, "
                "onlineStoreConfig.securityConfig.kmsKeyId and offlineStoreConfig.s3StorageConfig.kmsKeyId, "
                "kmsMasterKeyId, kmsKeyId, encryptionConfigurations [{encryptionType: KMS, kmsKey}], "
                "blockDeviceMappings[].ebs {encrypted: true, kmsKeyId}.",
    level=MANDATORY,
    stack=True,
    concern="encryption",
)
def check_cmk(ctx: Context, report) -> None:
    for resource in ctx.of_type(SAGEMAKER_ENDPOINT_CONFIGURATION, SAGEMAKER_FEATURE_GROUP, SNS_TOPIC, CLOUDWATCH_LOG_GROUP,
                                ECR_REPOSITORY):
        for what, prop, value, managed in _keys(resource):
            problem = key_problem(value, resource, prop, managed)
            if problem:
                report(f"{what} encryption key {problem}", resource.urn)
    for resource in ctx.of_type(EC2_LAUNCH_TEMPLATE):
        for problem in _launch_template_problems(resource):
            report(problem, resource.urn)
