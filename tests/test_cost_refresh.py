"""`mlp prices refresh` offline: botocore's Stubber answers GetProducts with recorded pages.

The Stubber checks every request's parameters (service code, TERM_MATCH filters,
regionCode, pagination token), so these tests fail if the refresh asks the Price List
the wrong question, as well as if it misreads the answer.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from mlplatform.cli import main
from mlplatform.cost.catalogue import catalogue_from_json, load_catalogue
from mlplatform.cost.refresh import PriceListError, SkuQuery, pick_price, query_for, refresh_region
from mlplatform.errors import UsageError

FIXTURES = Path(__file__).parent / "fixtures" / "cost"
PAGES = FIXTURES / "pricelist"
REGION = "eu-west-1"
INSTANCES = ["ml.m5.xlarge", "g5.2xlarge"]


def pages(sku: str) -> list[dict]:
    return json.loads((PAGES / f"{sku.replace(':', '@')}.json").read_text())


def expected_filters(sku: str) -> list[dict]:
    query = query_for(sku)
    return [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in query.filters] + [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION}]


def stubbed_client(skus, overrides=None):
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    stubber = Stubber(client)
    for sku in skus:
        query = query_for(sku)
        token = None
        for page in (overrides or {}).get(sku) or pages(sku):
            params = {"ServiceCode": query.service, "Filters": expected_filters(sku), "FormatVersion": "aws_v1"}
            if token:
                params["NextToken"] = token
            stubber.add_response("get_products", page, params)
            token = page.get("NextToken")
    stubber.activate()
    return client, stubber


def base_catalogue():
    return catalogue_from_json(json.loads((FIXTURES / "test-prices.json").read_text()))


ALL_SKUS = sorted(["s3.storage.standard", "kms.key", "cloudwatch.alarm.standard", "cloudwatch.alarm.highres",
                   "cloudwatch.metric", "cloudwatch.logs.ingest", "cloudwatch.logs.storage", "lambda.requests",
                   "lambda.duration.x86_64", "lambda.duration.arm64", "ecr.storage",
                   "sagemaker.hosting:ml.m5.xlarge", "ec2.ondemand:g5.2xlarge"])


def test_refresh_reads_every_sku_from_recorded_pages():
    client, stubber = stubbed_client(ALL_SKUS)
    result = refresh_region(base_catalogue(), REGION, client=client, instance_types=INSTANCES)
    stubber.assert_no_pending_responses()
    assert sorted(result.updated) == ALL_SKUS and result.unresolved == []
    price = result.catalogue.price
    assert price("sagemaker.hosting:ml.m5.xlarge", REGION).usd == Decimal("0.257")  # second page (pagination)
    assert price("ec2.ondemand:g5.2xlarge", REGION).usd == Decimal("1.35296")
    assert price("s3.storage.standard", REGION).usd == Decimal("0.023")  # first tier; snapshot SKU filtered out
    assert price("cloudwatch.alarm.standard", REGION).usd == Decimal("0.1")
    assert price("cloudwatch.alarm.highres", REGION).usd == Decimal("0.3")
    assert price("cloudwatch.metric", REGION).usd == Decimal("0.3")
    assert price("lambda.requests", REGION).usd == Decimal("0.0000002")
    assert price("lambda.duration.arm64", REGION).usd == Decimal("0.0000133334")
    entry = price("kms.key", REGION)
    assert (entry.source, entry.as_of, entry.unit) == ("aws-price-list-api", "2025-11-01", "key-month")
    assert result.catalogue.version.startswith("test-1+refresh.eu-west-1.")
    # other regions' prices are kept, and the written catalogue loads again
    assert price("s3.storage.standard", "us-east-1").usd == Decimal("0.023")
    again = catalogue_from_json(json.loads(result.catalogue.dumps()))
    assert again.price("ecr.storage", REGION).usd == Decimal("0.1")


def test_ambiguous_answer_keeps_the_old_price_and_reports_it():
    s3 = pages("s3.storage.standard")
    twice = [{"FormatVersion": "aws_v1", "PriceList": s3[0]["PriceList"][:1] * 2}]
    client, stubber = stubbed_client(ALL_SKUS, {"s3.storage.standard": twice})
    catalogue = base_catalogue()
    result = refresh_region(catalogue, REGION, client=client, instance_types=INSTANCES)
    assert ("s3.storage.standard", "2 products match (expected exactly 1)") in result.unresolved
    assert result.catalogue.price("s3.storage.standard", REGION) is None  # never a guess
    assert result.catalogue.price("s3.storage.standard", "us-east-1") == catalogue.price("s3.storage.standard", "us-east-1")


def test_pick_price_rejects_wrong_unit_and_missing_terms():
    item = json.loads(pages("kms.key")[0]["PriceList"][0])
    with pytest.raises(PriceListError, match="first-tier price dimensions in unit Hrs"):
        pick_price([json.dumps(item)], SkuQuery("awskms", (), "Hrs", "hour"))
    item["terms"]["OnDemand"] = {}
    with pytest.raises(PriceListError, match="0 OnDemand terms"):
        pick_price([json.dumps(item)], SkuQuery("awskms", (), "Keys", "key-month"))
    with pytest.raises(PriceListError, match="not JSON"):
        pick_price(["{"], SkuQuery("awskms", (), "Keys", "key-month"))


def test_service_errors_are_one_line():
    client, stubber = stubbed_client([])
    stubber.add_client_error("get_products", service_error_code="AccessDeniedException",
                             service_message="User is not authorized to perform: pricing:GetProducts")
    with pytest.raises(UsageError, match="AccessDeniedException"):
        refresh_region(base_catalogue(), REGION, client=client, instance_types=[])


def test_cli_without_credentials_exits_2_and_writes_nothing(capsys, tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probe off this host
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    target = tmp_path / "prices.json"
    code = main(["prices", "refresh", "--region", REGION, "--output", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no AWS credentials" in err
    assert not target.exists()


def test_cli_refresh_writes_the_catalogue(capsys, tmp_path, monkeypatch):
    skus = sorted(set(ALL_SKUS) - {"ec2.ondemand:g5.2xlarge", "sagemaker.hosting:ml.m5.xlarge"})
    client, _ = stubbed_client(skus)
    monkeypatch.setattr("mlplatform.cost.refresh.stack_instance_types", lambda: set())
    monkeypatch.setattr("boto3.client", lambda *a, **k: client)
    target = tmp_path / "prices.json"
    code = main(["prices", "refresh", "--region", REGION, "--prices", str(FIXTURES / "test-prices.json"),
                 "--output", str(target)])
    assert code == 0, capsys.readouterr().err
    assert load_catalogue(target).price("cloudwatch.logs.ingest", REGION).usd == Decimal("0.57")


def test_refresh_covers_the_stacks_instance_types():
    from mlplatform.cost.refresh import skus_to_refresh, stack_instance_types

    skus = skus_to_refresh(load_catalogue(), stack_instance_types())
    assert {"sagemaker.hosting:ml.g5.xlarge", "ec2.ondemand:g5.48xlarge", "ec2.ondemand:p4d.24xlarge"} <= set(skus)
    assert query_for("ec2.ondemand:g5.48xlarge").filters[-1] == ("marketoption", "OnDemand")
