"""What each spec pattern means, in the words of the person writing the spec.

pydantic reports a mismatch as "String should match pattern '^[a-z]([a-z0-9-]*[a-z0-9])?$'",
which tells an ML engineer nothing they can act on. Every regular expression the spec
uses (see :mod:`.models`) has a sentence here; ``tests/test_validate_hints.py`` walks the
generated JSON Schema and fails when a pattern has none, so a new or changed pattern
cannot reach users raw.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from . import models, serving_edge

#: regular expression (exactly as written in the models) -> what a matching value is
PATTERN_MESSAGES: dict[str, str] = {
    models.NAME: "lowercase letters, digits and dashes, starting with a letter and not ending with a dash",
    models.FEATURE_NAME: ("snake_case: lowercase letters, digits and underscores, starting with a letter and not "
                          "ending with an underscore"),
    models.EMAIL: "an e-mail address, e.g. ml-team@example.com",
    models.EC2_INSTANCE: "an EC2 instance type without the ml. prefix, e.g. g5.2xlarge",
    models.ML_INSTANCE: "a SageMaker instance type with the ml. prefix, e.g. ml.g5.xlarge",
    models.DATE: "a date written YYYY-MM-DD",
    models.SCHEDULE_EXPRESSION: "a schedule written rate(N minutes|hours|days) with N of 1 or more, "
                                "or cron(minutes hours day-of-month month day-of-week year)",
    r"^(pagerduty:[A-Za-z0-9_-]+|email:[^@\s]+@[^@\s]+\.[A-Za-z]{2,}|https://\S+|slack:#?[a-z0-9_-]+)$":
        "an alert target written email:<address>, https://<webhook>, pagerduty:<service> or slack:<channel>",
    r"^CC-[0-9]{3,6}$": "CC- followed by 3 to 6 digits, e.g. CC-1042",
    r"^[0-9]+(\.[0-9]+){0,2}$": "a version of one to three numbers, e.g. 2.3 or 2.3.1",
    r"^models/[A-Za-z0-9._/-]*$": "a location in the team's bucket under models/, e.g. models/scorer/ "
                                  "(letters, digits and . _ / - only)",
    r"^datasets/[A-Za-z0-9._/-]*$": "a location in the team's bucket under datasets/, e.g. datasets/daily/ "
                                    "(letters, digits and . _ / - only)",
    r"^baselines/[A-Za-z0-9._/-]*$": "a location in the team's bucket under baselines/, e.g. baselines/scorer/ "
                                     "(letters, digits and . _ / - only)",
    r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$":
        "an ECR image with a tag or digest, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/scorer:1.4",
    r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$": "an IANA time zone, e.g. Europe/London or UTC",
    r"^(cron\([^)]+\)|rate\([0-9]+ (minute|minutes|hour|hours|day|days)\))$":
        "an EventBridge Scheduler expression, e.g. cron(0 2 * * ? *) or rate(1 day)",
    r"^[A-Za-z0-9_-]{1,128}(:[0-9]+)?$": "an AWS Batch job definition name (letters, digits, _ and -, "
                                          "at most 128) with an optional :revision",
    serving_edge.REQUEST_FIELD: "letters, digits and underscores, starting with a letter or underscore, at most 64, "
                                "e.g. customer_id",
    serving_edge.TRUSTSTORE_KEY: "a PEM file in the team's artifact bucket under truststores/, e.g. "
                                 "truststores/partner-cas.pem (no s3:// and no other bucket)",
    models.RULE_ID: "a rule id such as MLP-S3-001 (policy), MLP-AWS-001 (verify) or CKV_AWS_98 (checkov)",
}


def pattern_message(pattern: str, value: Any, schema_node: Optional[dict[str, Any]] = None) -> Optional[str]:
    """``must be ...`` for a value that missed ``pattern``; None when the pattern is unknown.

    ``schema_node`` (the field's JSON Schema) adds the length bounds, so one sentence says
    everything the field accepts.
    """
    meaning = PATTERN_MESSAGES.get(pattern)
    if meaning is None:
        return None
    text = f"must be {meaning}"
    node = schema_node or {}
    low, high = node.get("minLength"), node.get("maxLength")
    if low is not None and high is not None:
        text += f", {low}-{high} characters"
    elif high is not None:
        text += f", at most {high} characters"
    if isinstance(value, str):
        if pattern == models.ML_INSTANCE and not value.startswith("ml.") and "." in value:
            text += f"; did you mean 'ml.{value}'?"
        elif pattern == models.EC2_INSTANCE and value.startswith("ml."):
            text += f"; training runs on EC2 types: did you mean '{value.removeprefix('ml.')}'?"
        elif pattern in (models.NAME, models.FEATURE_NAME):
            suggestion = _as_name(value, "-" if pattern == models.NAME else "_")
            if suggestion and suggestion != value and re.fullmatch(pattern, suggestion):
                text += f"; did you mean '{suggestion}'?"
    return text


def _as_name(value: str, separator: str) -> str:
    """``Fraud_Detection`` -> ``fraud-detection`` (or ``fraud_detection`` for features)."""
    words = re.split(r"[^a-z0-9]+", value.lower())
    return separator.join(word for word in words if word)
