"""Pulumi type tokens, one constant per resource type the tools look for.

Why this module exists: the same type-token strings (``"aws:s3/bucket:Bucket"``,
``"mlplatform:team:Team"`` ...) used to be spelled out in the graph, the cost pricers and
attribution, the policy rules, the checkov bridge, the verify checkers and the flow
derivations; a typo in one copy silently stopped a rule or a pricer from matching, and
nothing tied the copies together. Every module of those tools imports its tokens from here
instead (``tests/test_type_tokens.py`` keeps it that way), so a token is written once.

A token is ``<package>:<module>:<type>``, exactly as Pulumi records it in a URN and in a
resource's ``type``. Naming: an AWS token is ``<SERVICE>_<TYPE>`` (the pulumi-aws module
upper-cased, then the type in upper snake case: ``S3_BUCKET``, ``KMS_KEY``); a component of
this platform (``mlplatform:*``) is its bare type (``TEAM``, ``FOUNDATION``); Pulumi's own
and the Kubernetes tokens are named below. This module imports nothing, so every layer may
use it.
"""

# --- Pulumi itself: the root stack, stack references and providers

#: A provider resource's type is this prefix and the package name (``pulumi:providers:aws``).
PROVIDER_PREFIX = "pulumi:providers:"
AWS_PROVIDER = "pulumi:providers:aws"
STACK = "pulumi:pulumi:Stack"
STACK_REFERENCE = "pulumi:pulumi:StackReference"

# --- this platform's component resources (components/*): a component's token is its URN type

# anomaly
ANOMALY_DETECTION = "mlplatform:anomaly:AnomalyDetection"
TEAM_ANOMALY_ROUTING = "mlplatform:anomaly:TeamAnomalyRouting"

# budget
TEAM_BUDGET = "mlplatform:budget:TeamBudget"

# escalation
ALERT_KEY = "mlplatform:escalation:AlertKey"
ESCALATION = "mlplatform:escalation:Escalation"

# features
FEATURE_CATALOG = "mlplatform:features:FeatureCatalog"
FEATURE_GROUP = "mlplatform:features:FeatureGroup"
SCHEMA_REGISTRY = "mlplatform:features:SchemaRegistry"

# identity
TEAM_IDENTITY = "mlplatform:identity:TeamIdentity"

# images
IMAGE_REGISTRY = "mlplatform:images:ImageRegistry"

# lifecycle
RETIRED_ENDPOINT = "mlplatform:lifecycle:RetiredEndpoint"
RETRAINING_TRIGGER = "mlplatform:lifecycle:RetrainingTrigger"

# monitoring
DRIFT_MONITOR = "mlplatform:monitoring:DriftMonitor"
ENDPOINT_ALARMS = "mlplatform:monitoring:EndpointAlarms"
FEATURE_FRESHNESS = "mlplatform:monitoring:FeatureFreshness"
LOG_FORWARDING = "mlplatform:monitoring:LogForwarding"
PIPELINE_FAILURES = "mlplatform:monitoring:PipelineFailures"
TEAM_DASHBOARD = "mlplatform:monitoring:TeamDashboard"
TEAM_LOG_GROUPS = "mlplatform:monitoring:TeamLogGroups"
TEAM_OBSERVABILITY = "mlplatform:monitoring:TeamObservability"

# platform
FOUNDATION = "mlplatform:platform:Foundation"

# serving
FRONT_DOOR = "mlplatform:serving:FrontDoor"
MODEL_ENDPOINT = "mlplatform:serving:ModelEndpoint"
MODEL_REGISTRY = "mlplatform:serving:ModelRegistry"
SERVING_FALLBACK = "mlplatform:serving:ServingFallback"
TEAM_NOTIFICATIONS = "mlplatform:serving:TeamNotifications"

# storage
ARTIFACT_STORE = "mlplatform:storage:ArtifactStore"

# team
TEAM = "mlplatform:team:Team"

# training
BATCH_QUEUE = "mlplatform:training:BatchQueue"
EXPERIMENT_TRACKING = "mlplatform:training:ExperimentTracking"
KUEUE_CLUSTER = "mlplatform:training:KueueCluster"
KUEUE_QUEUES = "mlplatform:training:KueueQueues"

# --- AWS (pulumi-aws), by service

# Elastic Load Balancing (aws:lb, and its older module name aws:alb)
LB_LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
ALB_LOAD_BALANCER = "aws:alb/loadBalancer:LoadBalancer"

# API Gateway (REST)
APIGATEWAY_BASE_PATH_MAPPING = "aws:apigateway/basePathMapping:BasePathMapping"
APIGATEWAY_DEPLOYMENT = "aws:apigateway/deployment:Deployment"
APIGATEWAY_DOMAIN_NAME = "aws:apigateway/domainName:DomainName"
APIGATEWAY_INTEGRATION = "aws:apigateway/integration:Integration"
APIGATEWAY_INTEGRATION_RESPONSE = "aws:apigateway/integrationResponse:IntegrationResponse"
APIGATEWAY_METHOD = "aws:apigateway/method:Method"
APIGATEWAY_METHOD_RESPONSE = "aws:apigateway/methodResponse:MethodResponse"
APIGATEWAY_METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
APIGATEWAY_RESOURCE = "aws:apigateway/resource:Resource"
APIGATEWAY_REST_API = "aws:apigateway/restApi:RestApi"
APIGATEWAY_REST_API_POLICY = "aws:apigateway/restApiPolicy:RestApiPolicy"
APIGATEWAY_STAGE = "aws:apigateway/stage:Stage"

# Application Auto Scaling
APPAUTOSCALING_POLICY = "aws:appautoscaling/policy:Policy"
APPAUTOSCALING_SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
APPAUTOSCALING_TARGET = "aws:appautoscaling/target:Target"

# Athena
ATHENA_DATABASE = "aws:athena/database:Database"

# AWS Backup
BACKUP_VAULT_POLICY = "aws:backup/vaultPolicy:VaultPolicy"

# AWS Batch
BATCH_COMPUTE_ENVIRONMENT = "aws:batch/computeEnvironment:ComputeEnvironment"
BATCH_JOB_DEFINITION = "aws:batch/jobDefinition:JobDefinition"
BATCH_JOB_QUEUE = "aws:batch/jobQueue:JobQueue"
BATCH_SCHEDULING_POLICY = "aws:batch/schedulingPolicy:SchedulingPolicy"

# AWS Budgets
BUDGETS_BUDGET = "aws:budgets/budget:Budget"

# AWS Config
CFG_RECORDER = "aws:cfg/recorder:Recorder"
CFG_RULE = "aws:cfg/rule:Rule"

# CloudTrail
CLOUDTRAIL_TRAIL = "aws:cloudtrail/trail:Trail"

# CloudWatch (alarms, dashboards, EventBridge rules and Logs)
CLOUDWATCH_COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
CLOUDWATCH_DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
CLOUDWATCH_EVENT_BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
CLOUDWATCH_EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
CLOUDWATCH_EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
CLOUDWATCH_LOG_DESTINATION_POLICY = "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy"
CLOUDWATCH_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
CLOUDWATCH_LOG_METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
CLOUDWATCH_LOG_RESOURCE_POLICY = "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"
CLOUDWATCH_LOG_SUBSCRIPTION_FILTER = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
CLOUDWATCH_METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

# DynamoDB
DYNAMODB_RESOURCE_POLICY = "aws:dynamodb/resourcePolicy:ResourcePolicy"
DYNAMODB_TABLE = "aws:dynamodb/table:Table"

# EC2
EC2_KEY_PAIR = "aws:ec2/keyPair:KeyPair"
EC2_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_VPC_ENDPOINT_SERVICE = "aws:ec2/vpcEndpointService:VpcEndpointService"

# ECR
ECR_LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
ECR_REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"

# EFS
EFS_FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
EFS_FILE_SYSTEM_POLICY = "aws:efs/fileSystemPolicy:FileSystemPolicy"

# EKS
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"

# ElastiCache
ELASTICACHE_CLUSTER = "aws:elasticache/cluster:Cluster"

# Glue
GLUE_CATALOG_DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
GLUE_CATALOG_TABLE = "aws:glue/catalogTable:CatalogTable"
GLUE_DATA_QUALITY_RULESET = "aws:glue/dataQualityRuleset:DataQualityRuleset"
GLUE_REGISTRY = "aws:glue/registry:Registry"
GLUE_RESOURCE_POLICY = "aws:glue/resourcePolicy:ResourcePolicy"
GLUE_SCHEMA = "aws:glue/schema:Schema"

# GuardDuty
GUARDDUTY_DETECTOR = "aws:guardduty/detector:Detector"
GUARDDUTY_DETECTOR_FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"

# IAM
IAM_GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
IAM_GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
IAM_INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
IAM_POLICY = "aws:iam/policy:Policy"
IAM_POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_SERVICE_LINKED_ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
IAM_USER = "aws:iam/user:User"
IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
IAM_USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"

# Kinesis (Firehose)
KINESIS_FIREHOSE_DELIVERY_STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
KINESIS_RESOURCE_POLICY = "aws:kinesis/resourcePolicy:ResourcePolicy"

# KMS
KMS_ALIAS = "aws:kms/alias:Alias"
KMS_GRANT = "aws:kms/grant:Grant"
KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
KMS_REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"

# Lambda
LAMBDA_FUNCTION = "aws:lambda/function:Function"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"

# Amazon MQ
MQ_BROKER = "aws:mq/broker:Broker"

# MSK
MSK_CLUSTER = "aws:msk/cluster:Cluster"

# OpenSearch
OPENSEARCH_DOMAIN = "aws:opensearch/domain:Domain"
OPENSEARCH_DOMAIN_POLICY = "aws:opensearch/domainPolicy:DomainPolicy"

# RDS
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"

# Route 53
ROUTE53_RECORD = "aws:route53/record:Record"

# S3
S3_ACCESS_POINT = "aws:s3/accessPoint:AccessPoint"
S3_ACCESS_POINT_POLICY = "aws:s3/accessPointPolicy:AccessPointPolicy"
S3_BUCKET = "aws:s3/bucket:Bucket"
S3_BUCKET_LIFECYCLE_CONFIGURATION = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
S3_BUCKET_LIFECYCLE_CONFIGURATION_V2 = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
S3_BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
S3_BUCKET_LOGGING_V2 = "aws:s3/bucketLoggingV2:BucketLoggingV2"
S3_BUCKET_NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
S3_BUCKET_OBJECT = "aws:s3/bucketObject:BucketObject"
S3_BUCKET_OBJECT_LOCK_CONFIGURATION = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
S3_BUCKET_OBJECT_LOCK_CONFIGURATION_V2 = "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"
S3_BUCKET_OBJECT_V2 = "aws:s3/bucketObjectv2:BucketObjectv2"
S3_BUCKET_OWNERSHIP_CONTROLS = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_BUCKET_REPLICATION_CONFIG = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
S3_BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
S3_BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
S3_BUCKET_VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"

# SageMaker
SAGEMAKER_DATA_QUALITY_JOB_DEFINITION = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
SAGEMAKER_ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
SAGEMAKER_ENDPOINT_CONFIGURATION = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SAGEMAKER_FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
SAGEMAKER_MLFLOW_TRACKING_SERVER = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"
SAGEMAKER_MODEL = "aws:sagemaker/model:Model"
SAGEMAKER_MODEL_PACKAGE_GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
SAGEMAKER_MODEL_PACKAGE_GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
SAGEMAKER_MONITORING_SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"

# EventBridge Scheduler
SCHEDULER_SCHEDULE = "aws:scheduler/schedule:Schedule"

# Secrets Manager
SECRETSMANAGER_SECRET = "aws:secretsmanager/secret:Secret"
SECRETSMANAGER_SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"
SECRETSMANAGER_SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"

# Step Functions
SFN_STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"

# SNS
SNS_TOPIC = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SNS_TOPIC_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"

# SQS
SQS_QUEUE = "aws:sqs/queue:Queue"
SQS_QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"

# IAM Identity Center
SSOADMIN_PERMISSION_SET_INLINE_POLICY = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"

# WAF (v2)
WAFV2_WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WAFV2_WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAFV2_WEB_ACL_LOGGING_CONFIGURATION = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"

# --- Kubernetes custom resources (Kueue)

KUEUE_RESOURCE_FLAVOR_V1BETA1 = "kubernetes:kueue.x-k8s.io/v1beta1:ResourceFlavor"
KUEUE_RESOURCE_FLAVOR_V1BETA2 = "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor"
