"""Names the handler and the component that deploys it must agree on.

``components/serving_fallback.py`` names the cache table's key and TTL attribute, the
alarm's metric, the config file in the package and the role's permissions from here, so
the deployed resources and the code that uses them cannot drift apart. Nothing here
does anything; it is imported by both sides.

Permissions the function's role needs (:data:`IAM_ACTIONS`): ``sagemaker:InvokeEndpoint``
on the one endpoint; ``dynamodb:GetItem`` and ``dynamodb:PutItem`` on the cache table
(lastKnownGood only); ``cloudwatch:PutMetricData`` (resource ``*``; restrict it with the
condition key ``cloudwatch:namespace`` = :data:`NAMESPACE`, which CloudWatch documents
for exactly this); plus the usual log-group writes of a Lambda.
"""

#: CloudWatch namespace and metrics the handler publishes (dimensions: Team, Endpoint).
NAMESPACE = "MLPlatform/Serving"
METRIC_FALLBACK_ANSWERS = "FallbackAnswers"
METRIC_MODEL_FAILURES = "ModelFailures"
DIMENSIONS = ("Team", "Endpoint")
#: Response headers of a degraded answer.
DEGRADED_HEADER = "X-Model-Degraded"
FALLBACK_HEADER = "X-Model-Fallback"
#: Response header of a lastKnownGood answer: epoch second the cached answer was stored.
CACHED_AT_HEADER = "X-Model-Cached-At"
#: The config file in the deployment package, and the variable that may point elsewhere (tests).
CONFIG_FILE = "fallback_config.json"
CONFIG_ENV = "FALLBACK_CONFIG"
#: The cache table: partition key (string) and the DynamoDB TTL attribute (epoch seconds).
CACHE_KEY_ATTRIBUTE = "requestKey"
CACHE_EXPIRY_ATTRIBUTE = "expiresAt"
#: Other attributes of a cache item.
CACHE_BODY_ATTRIBUTE = "body"
CACHE_CONTENT_TYPE_ATTRIBUTE = "contentType"
CACHE_STORED_ATTRIBUTE = "storedAt"

#: The API actions the handler calls, by what they are for (the component grants these only).
IAM_ACTIONS = {
    "model": ("sagemaker:InvokeEndpoint",),
    "cache": ("dynamodb:GetItem", "dynamodb:PutItem"),
    "metrics": ("cloudwatch:PutMetricData",),
}

#: The config file's vocabulary: fallback modes, request field types, rule operators.
MODES = ("lastKnownGood", "rules", "static")
FIELD_TYPES = ("string", "number", "integer", "boolean")
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in")
#: Content type of the request sent to the model and of every answer the handler writes.
JSON_CONTENT_TYPE = "application/json"
