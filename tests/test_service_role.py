"""The service-role primitive (issue 15 item 2): one typed, documented definition of a role an
AWS service assumes, with the confused-deputy conditions each service supports."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re

import pytest

from components.service_role import (SERVICE_TRUST, ServiceRoleArgs, ServiceTrust, ServiceTrustSupport,
                                     service_trust_policy, trust_support)

ACCOUNT = "123456789012"


def test_the_primitive_agrees_with_the_documented_exceptions():
    without_account = {name for name, support in SERVICE_TRUST.items() if not support.source_account}
    # the exceptions tests/test_confused_deputy.py accepts in the plan, each with its source here
    assert without_account == {"apigateway", "cloudtrail", "ec2", "firehose", "logs"}
    for name, support in SERVICE_TRUST.items():
        assert re.search(r"(Guide|Reference|prowler)", support.source), f"{name}: no source for its entry"


def test_each_service_gets_its_own_statement_with_its_own_keys():
    policy = json.loads(service_trust_policy((
        ServiceTrust(service="sagemaker.amazonaws.com"),
        ServiceTrust(service="ecs-tasks.amazonaws.com", source_arn=f"arn:aws:ecs:eu-west-1:{ACCOUNT}:*"),
    ), ACCOUNT))
    sagemaker, ecs = policy["Statement"]
    assert sagemaker["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert ecs["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:*"}}
    exact = json.loads(service_trust_policy((ServiceTrust(
        service="scheduler.amazonaws.com", source_arn=f"arn:aws:scheduler:eu-west-1:{ACCOUNT}:schedule-group/default"),
    ), ACCOUNT))
    assert "ArnEquals" in exact["Statement"][0]["Condition"]


def test_regional_service_principals_are_known():
    assert trust_support("logs.eu-west-1.amazonaws.com") is SERVICE_TRUST["logs"]
    assert trust_support("logs.us-gov-west-1.amazonaws.com") is SERVICE_TRUST["logs"]


def test_an_unknown_service_is_refused_rather_than_trusted_blind():
    with pytest.raises(ValueError, match="no confused-deputy entry"):
        service_trust_policy((ServiceTrust(service="glue.amazonaws.com"),), ACCOUNT)


def test_a_source_arn_the_service_does_not_send_is_refused():
    """A condition on a key the service never sends would make the role unusable."""
    with pytest.raises(ValueError, match="does not send aws:SourceArn"):
        service_trust_policy((ServiceTrust(service="lambda.amazonaws.com",
                                           source_arn=f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f"),), ACCOUNT)


def test_a_role_needs_a_trusted_service():
    with pytest.raises(ValueError):
        service_trust_policy((), ACCOUNT)


@pytest.mark.parametrize("args_class", [ServiceRoleArgs, ServiceTrust, ServiceTrustSupport])
def test_args_are_keyword_only_frozen_and_every_field_is_documented(args_class):
    params = dataclasses.fields(args_class)
    assert args_class.__dataclass_params__.frozen
    assert all(f.kw_only for f in params)
    source = inspect.getsource(args_class).splitlines()
    for f in params:
        line = next(i for i, text in enumerate(source) if re.match(rf"\s+{f.name}:", text))
        assert source[line - 1].strip().startswith("#:"), f"{args_class.__name__}.{f.name} is not documented"
