"""The pricer registry: which pricer prices each pulumi-aws type token (:data:`PRICERS`),
and which types cost nothing by themselves, with the reason shown in the report
(:data:`FREE_TYPES`). A type in neither is reported as an unknown type.
"""

from __future__ import annotations

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
    "aws:iam/role:Role": "IAM has no charge",
    "aws:iam/rolePolicy:RolePolicy": "IAM has no charge",
    "aws:iam/policy:Policy": "IAM has no charge",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM has no charge",
    "aws:iam/instanceProfile:InstanceProfile": "IAM has no charge",
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": "IAM has no charge",
    "aws:kms/alias:Alias": "an alias is part of its key (priced on the key)",
    "aws:s3/bucketPolicy:BucketPolicy": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketVersioning:BucketVersioning": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketVersioningV2:BucketVersioningV2": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2":
        "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":
        "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketLogging:BucketLogging": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketLoggingV2:BucketLoggingV2": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketNotification:BucketNotification": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2":
        "bucket configuration; storage is priced on the bucket",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "bucket configuration; storage is priced on the bucket",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "registry configuration; storage is priced on the repository",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "registry configuration; storage is priced on the repository",
    "aws:budgets/budget:Budget": "Budgets are free (Infracost's free list)",
    "aws:batch/jobQueue:JobQueue": "a queue; compute is priced on its compute environment (Infracost's free list)",
    "aws:batch/jobDefinition:JobDefinition": "a definition; compute is priced on the compute environment",
    "aws:batch/schedulingPolicy:SchedulingPolicy": "a fair-share policy; compute is priced on the compute environment",
    "aws:sagemaker/model:Model": "a model definition; instances are priced on the endpoint configuration",
    "aws:sagemaker/endpoint:Endpoint": "instances are priced on its endpoint configuration",
    "aws:appautoscaling/target:Target": "scaling range; used to price the endpoint's instances",
    "aws:appautoscaling/policy:Policy": "scaling policy; used to price the endpoint's instances",
    "aws:lambda/permission:Permission": "a resource policy entry",
    "aws:sns/topicSubscription:TopicSubscription": "deliveries are priced on the topic",
    "aws:sns/topicPolicy:TopicPolicy": "a resource policy",
    "aws:appautoscaling/scheduledAction:ScheduledAction":
        "a scaling schedule; the off-peak window it applies is priced in the endpoint's instance-hours",
    "aws:cloudwatch/eventRule:EventRule":
        "matches events from AWS services (alarm state changes, schedules); EventBridge does not charge for AWS service events",
    "aws:cloudwatch/eventTarget:EventTarget": "delivery of a rule's matches; what the target runs is priced on that target",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter":
        "log group configuration; ingestion is priced on the log group and delivery on the destination stream",
    "aws:ec2/launchTemplate:LaunchTemplate": "a template; instances launched from it are priced on the compute environment",
    "aws:glue/catalogDatabase:CatalogDatabase":
        "a Data Catalog object: the first million objects stored and requests a month are free (AWS Glue pricing)",
    "aws:glue/catalogTable:CatalogTable":
        "a Data Catalog object: the first million objects stored and requests a month are free (AWS Glue pricing)",
    "aws:glue/registry:Registry": "Glue Schema Registry is free to use (AWS Glue docs)",
    "aws:glue/schema:Schema": "Glue Schema Registry is free to use (AWS Glue docs)",
    "aws:glue/dataQualityRuleset:DataQualityRuleset":
        "a ruleset stored in the Data Catalog; evaluation runs are billed per DPU-hour to the jobs that start them",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition":
        "a job definition; its processing instances are priced on the monitoring schedule that runs it",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
        "a registry entry; model artifacts are stored (and priced) in the team's bucket",
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": "a resource policy",
    "aws:scheduler/schedule:Schedule":
        "EventBridge Scheduler: the first 14 million invocations a month are free; the job it starts is billed by its own service",
    "aws:sfn/stateMachine:StateMachine":
        "Step Functions Standard workflows: the first 4,000 state transitions a month are free, indefinitely (AWS "
        "Step Functions pricing); a retraining submission takes a few per run. The Batch job it submits is priced "
        "on the compute environment",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "a resource policy; the secret is priced on the secret",
    "aws:secretsmanager/secretVersion:SecretVersion": "a version of a secret; the secret is priced per month",
    "aws:sqs/queuePolicy:QueuePolicy": "a resource policy; requests are priced on the queue",
}


PRICERS: dict[str, Pricer] = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": price_endpoint_configuration,
    "aws:batch/computeEnvironment:ComputeEnvironment": price_compute_environment,
    "aws:sagemaker/featureGroup:FeatureGroup": price_feature_group,
    "aws:s3/bucket:Bucket": price_bucket,
    "aws:s3/bucketV2:BucketV2": price_bucket,
    "aws:kms/key:Key": price_kms_key,
    "aws:cloudwatch/metricAlarm:MetricAlarm": price_alarm,
    "aws:cloudwatch/logGroup:LogGroup": price_log_group,
    "aws:cloudwatch/dashboard:Dashboard": price_dashboard,
    "aws:ecr/repository:Repository": price_repository,
    "aws:lambda/function:Function": price_lambda,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": price_firehose,
    "aws:cloudtrail/trail:Trail": price_trail,
    "aws:sns/topic:Topic": price_topic,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": price_composite_alarm,
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": price_monitoring_schedule,
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": price_mlflow,
    "aws:secretsmanager/secret:Secret": price_secret,
    "aws:sqs/queue:Queue": price_queue,
    **edge.PRICERS,  # the serving edge (issue 16): front door, fallback cache, anomaly detection
}
FREE_TYPES.update(edge.FREE_TYPES)
