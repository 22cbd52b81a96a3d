"""The pack's policy config for one stack, as ``--policy-pack-config`` would pass it.

Built from the stack config (``mlplatform.stackconfig``), the team specs (facts the plan
does not carry: risk tier, residency, classification, PII feature groups, exemptions) and
the date exemptions are judged on. The same document is what ``mlp policy --write-config``
writes for ``pulumi preview --policy-pack policies --policy-pack-config FILE``, so the CLI
and the offline runner configure the pack identically.

Enforcement per stack: rules tagged ``level:M`` are mandatory, ``level:A`` advisory and
``level:P`` mandatory in production (environment ``prod``) and advisory elsewhere.

Like the engine, the config is checked against each policy's config schema (from
GetAnalyzerInfo) before it is sent, and the schema's defaults fill what is not set.
"""

from __future__ import annotations

import datetime
from typing import Any, Iterable, Optional

import jsonschema
from google.protobuf import json_format

from ..errors import UsageError
from ..exemptions import spec_exemptions
from ..naming import feature_group_name
from ..spec.loader import LoadedSpec
from ..stackconfig import RESIDENCY_REGIONS, StackConfig

PRODUCTION = "prod"


def team_facts(specs: Iterable[LoadedSpec], environment: str) -> dict[str, dict[str, Any]]:
    facts = {}
    for loaded in specs:
        spec = loaded.for_environment(environment)
        metadata = spec.metadata
        facts[loaded.team] = {
            "riskTier": metadata.risk_tier,
            "residency": metadata.residency,
            "dataClassification": metadata.data_classification,
            "piiFeatureGroups": sorted(
                feature_group_name(loaded.team, environment, group.name, group.version)
                for group in spec.spec.feature_groups if group.has_pii
            ),
        }
    return dict(sorted(facts.items()))


def exemptions(specs: Iterable[LoadedSpec], environment: str) -> list[dict[str, Any]]:
    """The teams' exemptions as the policy runner reports them (with their spec position)."""
    return [{**item.as_config(), "file": item.file, "line": item.line} for item in spec_exemptions(specs, environment)]


def level_of(policy_info) -> str:
    for tag in policy_info.tags:
        if tag.startswith("level:"):
            return tag.split(":", 1)[1]
    return "M"


def enforcement(level: str, environment: str) -> str:
    """The engine's enforcement level of a rule of ``level`` on ``environment``: the
    levels' one definition is :func:`mlplatform.guardrails.mandatory_in`, which validate
    uses too."""
    from ..guardrails import ADVISORY, mandatory_in

    if level == ADVISORY:
        return "advisory"
    return "mandatory" if mandatory_in(level, environment) else "advisory"


def stack_values(stack: StackConfig, specs: list[LoadedSpec], today: datetime.date) -> dict[str, Any]:
    """Every config value a rule may ask for; each rule gets the ones in its schema."""
    environment = stack.environment
    all_exemptions = [item.as_config() for item in spec_exemptions(specs, environment)]
    protected = ["prod"] + ([environment] if stack.protect_stateful and environment != "prod" else [])
    return {
        "environment": environment,
        "today": today.isoformat(),
        "teams": team_facts(specs, environment),
        "allExemptions": all_exemptions,
        "permissionsBoundaryArn": stack.permissions_boundary_arn,
        "stackResidency": stack.residency,
        "residencyRegions": {key: list(value) for key, value in RESIDENCY_REGIONS.items()},
        "training": list(stack.allowed_instance_types.training),
        "serving": list(stack.allowed_instance_types.serving),
        "perTeam": stack.gpu_ceilings.per_team,
        "perStack": stack.gpu_ceilings.per_stack,
        "approvedAccounts": [stack.account_id],
        "environments": protected,
    }


def build_policy_config(info, values: dict[str, Any], levels: Optional[dict[str, str]] = None) -> dict[str, dict[str, Any]]:
    """policy name -> {"enforcementLevel", properties}: only properties in the policy's
    schema, schema defaults filled, validated against the schema as the engine does."""
    environment = values.get("environment", PRODUCTION)
    config: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema).get("properties", {})
        properties = {key: prop["default"] for key, prop in schema.items() if "default" in prop}
        for key in schema:
            if key == "exemptions":
                properties[key] = [e for e in values.get("allExemptions", []) if e.get("rule") == policy.name]
            elif key in values:
                properties[key] = values[key]
        properties = {k: v for k, v in properties.items() if v is not None}
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft7Validator({"type": "object", "properties": schema}).iter_errors(properties))
        if error is not None:
            where = ".".join(str(part) for part in error.absolute_path)
            raise UsageError(f"policy config for {policy.name}: {where}: {error.message}")
        level = (levels or {}).get(policy.name) or enforcement(level_of(policy), environment)
        config[policy.name] = {"enforcementLevel": level, **properties}
    return config
