"""The pricer registry: which pricer prices each pulumi-aws type token (:data:`PRICERS`),
and which types cost nothing by themselves, with the reason shown in the report
(:data:`FREE_TYPES`). A type in neither is reported as an unknown type.
"""

from __future__ import annotations

from ...type_tokens import (
    APPAUTOSCALING_POLICY, APPAUTOSCALING_SCHEDULED_ACTION, APPAUTOSCALING_TARGET, BATCH_COMPUTE_ENVIRONMENT,
    BATCH_JOB_DEFINITION, BATCH_JOB_QUEUE, BATCH_SCHEDULING_POLICY, BUDGETS_BUDGET, CLOUDTRAIL_TRAIL,
    CLOUDWATCH_COMPOSITE_ALARM, CLOUDWATCH_DASHBOARD, CLOUDWATCH_EVENT_RULE, CLOUDWATCH_EVENT_TARGET,
    CLOUDWATCH_LOG_GROUP, CLOUDWATCH_LOG_SUBSCRIPTION_FILTER, CLOUDWATCH_METRIC_ALARM, EC2_LAUNCH_TEMPLATE,
    ECR_LIFECYCLE_POLICY, ECR_REPOSITORY, ECR_REPOSITORY_POLICY, GLUE_CATALOG_DATABASE, GLUE_CATALOG_TABLE,
    GLUE_DATA_QUALITY_RULESET, GLUE_REGISTRY, GLUE_SCHEMA, IAM_INSTANCE_PROFILE, IAM_POLICY, IAM_ROLE, IAM_ROLE_POLICY,
    IAM_ROLE_POLICY_ATTACHMENT, IAM_SERVICE_LINKED_ROLE, KINESIS_FIREHOSE_DELIVERY_STREAM, KMS_ALIAS, KMS_KEY,
    LAMBDA_FUNCTION, LAMBDA_PERMISSION, S3_BUCKET, S3_BUCKET_LIFECYCLE_CONFIGURATION,
    S3_BUCKET_LIFECYCLE_CONFIGURATION_V2, S3_BUCKET_LOGGING, S3_BUCKET_LOGGING_V2, S3_BUCKET_NOTIFICATION,
    S3_BUCKET_OBJECT_LOCK_CONFIGURATION, S3_BUCKET_OBJECT_LOCK_CONFIGURATION_V2, S3_BUCKET_OWNERSHIP_CONTROLS,
    S3_BUCKET_POLICY, S3_BUCKET_PUBLIC_ACCESS_BLOCK, S3_BUCKET_REPLICATION_CONFIG,
    S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION, S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION_V2, S3_BUCKET_V2,
    S3_BUCKET_VERSIONING, S3_BUCKET_VERSIONING_V2, SAGEMAKER_DATA_QUALITY_JOB_DEFINITION, SAGEMAKER_ENDPOINT,
    SAGEMAKER_ENDPOINT_CONFIGURATION, SAGEMAKER_FEATURE_GROUP, SAGEMAKER_MLFLOW_TRACKING_SERVER, SAGEMAKER_MODEL,
    SAGEMAKER_MODEL_PACKAGE_GROUP, SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY, SAGEMAKER_MONITORING_SCHEDULE,
    SCHEDULER_SCHEDULE, SECRETSMANAGER_SECRET, SECRETSMANAGER_SECRET_POLICY, SECRETSMANAGER_SECRET_VERSION,
    SFN_STATE_MACHINE, SNS_TOPIC, SNS_TOPIC_POLICY, SNS_TOPIC_SUBSCRIPTION, SQS_QUEUE, SQS_QUEUE_POLICY)
from . import edge
from .compute import price_compute_environment, price_lambda, price_mlflow
from .context import Pricer
from .messaging import price_queue, price_topic
from .observability import (price_alarm, price_composite_alarm, price_dashboard, price_firehose, price_log_group,
                            price_monitoring_schedule, price_trail)
from .serving import price_endpoint_configuration
from .storage import price_bucket, price_feature_group, price_kms_key, price_repository, price_secret

#: Types that cost nothing by themselves, with the reason shown in the report.
FREE_TYPES: dict[str, str] = {
    IAM_ROLE: "IAM has no charge",
    IAM_ROLE_POLICY: "IAM has no charge",
    IAM_POLICY: "IAM has no charge",
    IAM_ROLE_POLICY_ATTACHMENT: "IAM has no charge",
    IAM_INSTANCE_PROFILE: "IAM has no charge",
    IAM_SERVICE_LINKED_ROLE: "IAM has no charge",
    KMS_ALIAS: "an alias is part of its key (priced on the key)",
    S3_BUCKET_POLICY: "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_VERSIONING: "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_VERSIONING_V2: "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_PUBLIC_ACCESS_BLOCK: "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_OWNERSHIP_CONTROLS: "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION:
        "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION_V2:
        "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_LIFECYCLE_CONFIGURATION: "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_LIFECYCLE_CONFIGURATION_V2:
        "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_LOGGING: "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_LOGGING_V2: "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_NOTIFICATION: "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_OBJECT_LOCK_CONFIGURATION: "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_OBJECT_LOCK_CONFIGURATION_V2:
        "bucket configuration; storage is priced on the bucket",
    S3_BUCKET_REPLICATION_CONFIG: "bucket configuration; storage is priced on the bucket",
    ECR_LIFECYCLE_POLICY: "registry configuration; storage is priced on the repository",
    ECR_REPOSITORY_POLICY: "registry configuration; storage is priced on the repository",
    BUDGETS_BUDGET: "Budgets are free (Infracost's free list)",
    BATCH_JOB_QUEUE: "a queue; compute is priced on its compute environment (Infracost's free list)",
    BATCH_JOB_DEFINITION: "a definition; compute is priced on the compute environment",
    BATCH_SCHEDULING_POLICY: "a fair-share policy; compute is priced on the compute environment",
    SAGEMAKER_MODEL: "a model definition; instances are priced on the endpoint configuration",
    SAGEMAKER_ENDPOINT: "instances are priced on its endpoint configuration",
    APPAUTOSCALING_TARGET: "scaling range; used to price the endpoint's instances",
    APPAUTOSCALING_POLICY: "scaling policy; used to price the endpoint's instances",
    LAMBDA_PERMISSION: "a resource policy entry",
    SNS_TOPIC_SUBSCRIPTION: "deliveries are priced on the topic",
    SNS_TOPIC_POLICY: "a resource policy",
    APPAUTOSCALING_SCHEDULED_ACTION:
        "a scaling schedule; the off-peak window it applies is priced in the endpoint's instance-hours",
    CLOUDWATCH_EVENT_RULE:
        "matches events from AWS services (alarm state changes, schedules); EventBridge does not charge for AWS service events",
    CLOUDWATCH_EVENT_TARGET: "delivery of a rule's matches; what the target runs is priced on that target",
    CLOUDWATCH_LOG_SUBSCRIPTION_FILTER:
        "log group configuration; ingestion is priced on the log group and delivery on the destination stream",
    EC2_LAUNCH_TEMPLATE: "a template; instances launched from it are priced on the compute environment",
    GLUE_CATALOG_DATABASE:
        "a Data Catalog object: the first million objects stored and requests a month are free (AWS Glue pricing)",
    GLUE_CATALOG_TABLE:
        "a Data Catalog object: the first million objects stored and requests a month are free (AWS Glue pricing)",
    GLUE_REGISTRY: "Glue Schema Registry is free to use (AWS Glue docs)",
    GLUE_SCHEMA: "Glue Schema Registry is free to use (AWS Glue docs)",
    GLUE_DATA_QUALITY_RULESET:
        "a ruleset stored in the Data Catalog; evaluation runs are billed per DPU-hour to the jobs that start them",
    SAGEMAKER_DATA_QUALITY_JOB_DEFINITION:
        "a job definition; its processing instances are priced on the monitoring schedule that runs it",
    SAGEMAKER_MODEL_PACKAGE_GROUP:
        "a registry entry; model artifacts are stored (and priced) in the team's bucket",
    SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY: "a resource policy",
    SCHEDULER_SCHEDULE:
        "EventBridge Scheduler: the first 14 million invocations a month are free; the job it starts is billed by its own service",
    SFN_STATE_MACHINE:
        "Step Functions Standard workflows: the first 4,000 state transitions a month are free, indefinitely (AWS "
        "Step Functions pricing); a retraining submission takes a few per run. The Batch job it submits is priced "
        "on the compute environment",
    SECRETSMANAGER_SECRET_POLICY: "a resource policy; the secret is priced on the secret",
    SECRETSMANAGER_SECRET_VERSION: "a version of a secret; the secret is priced per month",
    SQS_QUEUE_POLICY: "a resource policy; requests are priced on the queue",
}


PRICERS: dict[str, Pricer] = {
    SAGEMAKER_ENDPOINT_CONFIGURATION: price_endpoint_configuration,
    BATCH_COMPUTE_ENVIRONMENT: price_compute_environment,
    SAGEMAKER_FEATURE_GROUP: price_feature_group,
    S3_BUCKET: price_bucket,
    S3_BUCKET_V2: price_bucket,
    KMS_KEY: price_kms_key,
    CLOUDWATCH_METRIC_ALARM: price_alarm,
    CLOUDWATCH_LOG_GROUP: price_log_group,
    CLOUDWATCH_DASHBOARD: price_dashboard,
    ECR_REPOSITORY: price_repository,
    LAMBDA_FUNCTION: price_lambda,
    KINESIS_FIREHOSE_DELIVERY_STREAM: price_firehose,
    CLOUDTRAIL_TRAIL: price_trail,
    SNS_TOPIC: price_topic,
    CLOUDWATCH_COMPOSITE_ALARM: price_composite_alarm,
    SAGEMAKER_MONITORING_SCHEDULE: price_monitoring_schedule,
    SAGEMAKER_MLFLOW_TRACKING_SERVER: price_mlflow,
    SECRETSMANAGER_SECRET: price_secret,
    SQS_QUEUE: price_queue,
    **edge.PRICERS,  # the serving edge (issue 16): front door, fallback cache, anomaly detection
}
FREE_TYPES.update(edge.FREE_TYPES)
