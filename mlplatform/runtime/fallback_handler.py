"""The serving fallback Lambda (issue 16): answers for the model when the model cannot.

CONTRACT ONLY (being implemented on branch edge-runtime): the constants below are what
the component (components/serving_fallback.py) and the alarm use; the handler follows.

Deployment package: this file as ``fallback_handler.py`` plus ``fallback_config.json``
(:data:`CONFIG_FILE`) beside it, written by the component from the spec (the rule table
can exceed Lambda's 4 KB environment limit, so it is a file, not variables). Its keys:

``endpointName``  SageMaker endpoint invoked (its physical name)
``team``          team name (metric dimension)
``mode``          ``lastKnownGood`` | ``rules`` | ``static``
``timeoutMs``     model call read timeout before the fallback answers
``requestFields`` ``[{"name", "type": string|number|integer|boolean, "required"}]``
``cache``         lastKnownGood: ``{"table", "keyField", "ttlSeconds"}``
``rules``         rules: ``[{"when": [{"field", "op": eq|ne|lt|le|gt|ge|in, "value"}], "response": {...}}]``
``default``       rules: response when no rule matches (absent: 503)
``response``      static: the response

Event: API Gateway REST proxy integration (payload 1.0); response ``statusCode``,
``headers``, ``body``. A degraded answer carries :data:`DEGRADED_HEADER` ``: true`` and
:data:`FALLBACK_HEADER` ``: <mode>`` and, in the JSON body, ``"degraded": true``.
"""

from __future__ import annotations

#: CloudWatch namespace and metrics the handler publishes (dimensions: Team, Endpoint).
NAMESPACE = "MLPlatform/Serving"
METRIC_FALLBACK_ANSWERS = "FallbackAnswers"
METRIC_MODEL_FAILURES = "ModelFailures"
DIMENSIONS = ("Team", "Endpoint")
#: Response headers of a degraded answer.
DEGRADED_HEADER = "X-Model-Degraded"
FALLBACK_HEADER = "X-Model-Fallback"
#: The config file in the deployment package, and the variable that may point elsewhere (tests).
CONFIG_FILE = "fallback_config.json"
CONFIG_ENV = "FALLBACK_CONFIG"
#: The cache table: partition key (string) and the DynamoDB TTL attribute (epoch seconds).
CACHE_KEY_ATTRIBUTE = "requestKey"
CACHE_EXPIRY_ATTRIBUTE = "expiresAt"
