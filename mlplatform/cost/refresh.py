"""``mlp prices refresh``: rebuild one region of the catalogue from the AWS Price List API.

For each SKU the estate uses, one paginated ``pricing:GetProducts`` query (boto3's own
paginator) with ``TERM_MATCH`` filters on the service's attributes and ``regionCode``.
Each page's ``PriceList`` holds JSON *strings*; each decodes to a product, its
attributes and its ``terms.OnDemand`` price dimensions. Usage types carry region
prefixes (``USE1-``, ``EU-``), so those are matched with a regular expression after the
query, as Infracost does. Like awslabs/llmeter, a SKU is accepted only when exactly one
product, one OnDemand term and one first-tier dimension in the expected unit remain;
anything else leaves the SKU as it was and is reported, so a refresh never replaces a
sourced price with a guess.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Optional

from ..errors import UsageError
from .catalogue import Catalogue, Price

PRICING_REGION = "us-east-1"  # the Price List API answers in us-east-1 (and ap-south-1)
SOURCE_ID = "aws-price-list-api"
SOURCE = {"title": "AWS Price List API (pricing:GetProducts), OnDemand terms", "url":
          "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html", "tier": "T1"}


@dataclass(frozen=True)
class SkuQuery:
    """How to find one SKU's on-demand price in the Price List."""

    service: str
    filters: tuple[tuple[str, str], ...]
    unit: str  # the Price List's unit, checked on the dimension
    catalogue_unit: str  # the unit the catalogue and the engine use
    usagetype: Optional[str] = None  # regular expression on product.attributes.usagetype
    scale: Decimal = Decimal(1)  # catalogue price = Price List price x scale


def _instance_query(sku: str) -> Optional[SkuQuery]:
    family, _, instance = sku.partition(":")
    if family == "sagemaker.hosting" and instance:
        return SkuQuery("AmazonSageMaker", (("component", "Hosting"), ("instanceName", instance)), "Hrs", "hour")
    if family == "ec2.ondemand" and instance:
        return SkuQuery("AmazonEC2", (
            ("instanceType", instance), ("operatingSystem", "Linux"), ("tenancy", "Shared"), ("preInstalledSw", "NA"),
            ("capacitystatus", "Used"), ("licenseModel", "No License required"), ("marketoption", "OnDemand"),
        ), "Hrs", "hour")
    return None


#: SKUs found by family and usage type (cost.md: "Price List API" section).
FIXED_QUERIES: dict[str, SkuQuery] = {
    "s3.storage.standard": SkuQuery("AmazonS3", (("productFamily", "Storage"), ("volumeType", "Standard")), "GB-Mo",
                                    "GB-month", r"(^|-)TimedStorage-ByteHrs$"),
    "kms.key": SkuQuery("awskms", (("productFamily", "Encryption Key"),), "Keys", "key-month", r"(^|-)KMS-Keys$"),
    "cloudwatch.alarm.standard": SkuQuery("AmazonCloudWatch", (("productFamily", "Alarm"),), "Alarms",
                                          "alarm-metric-month", r"(^|-)CW:AlarmMonitorUsage$"),
    "cloudwatch.alarm.highres": SkuQuery("AmazonCloudWatch", (("productFamily", "Alarm"),), "Alarms",
                                         "alarm-metric-month", r"(^|-)CW:HighResAlarmMonitorUsage$"),
    "cloudwatch.metric": SkuQuery("AmazonCloudWatch", (("productFamily", "Metric"), ("group", "Metric")), "Metrics",
                                  "metric-month", r"(^|-)CW:MetricMonitorUsage$"),
    "cloudwatch.logs.ingest": SkuQuery("AmazonCloudWatch", (("productFamily", "Data Payload"),), "GB", "GB",
                                       r"(^|-)DataProcessing-Bytes$"),
    "cloudwatch.logs.storage": SkuQuery("AmazonCloudWatch", (("productFamily", "Storage Snapshot"),), "GB-Mo",
                                        "GB-month", r"(^|-)TimedStorage-ByteHrs$"),
    "lambda.requests": SkuQuery("AWSLambda", (("productFamily", "Serverless"),), "Requests", "request",
                                r"(^|-)Request$"),
    "lambda.duration.x86_64": SkuQuery("AWSLambda", (("productFamily", "Serverless"),), "Lambda-GB-Second",
                                       "GB-second", r"(^|-)Lambda-GB-Second$"),
    "lambda.duration.arm64": SkuQuery("AWSLambda", (("productFamily", "Serverless"),), "Lambda-GB-Second",
                                      "GB-second", r"(^|-)Lambda-GB-Second-ARM$"),
    "ecr.storage": SkuQuery("AmazonECR", (), "GB-Mo", "GB-month", r"(^|-)TimedStorage-ByteHrs$"),
}


def query_for(sku: str) -> Optional[SkuQuery]:
    return FIXED_QUERIES.get(sku) or _instance_query(sku)


@dataclass
class RefreshResult:
    catalogue: Catalogue
    updated: list[str] = field(default_factory=list)
    unresolved: list[tuple[str, str]] = field(default_factory=list)


class PriceListError(ValueError):
    """The Price List answered, but not with exactly one usable price."""


def _decode(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        try:
            item = json.loads(item)
        except json.JSONDecodeError as exc:
            raise PriceListError(f"a PriceList entry is not JSON: {exc.msg}") from None
    if not isinstance(item, dict) or "product" not in item or "terms" not in item:
        raise PriceListError("a PriceList entry has no product or terms")
    return item


def pick_price(items: Iterable[Any], query: SkuQuery) -> tuple[Decimal, str, str]:
    """(price, effective date, description) of the one matching first-tier dimension."""
    products = [_decode(item) for item in items]
    if query.usagetype:
        pattern = re.compile(query.usagetype)
        products = [p for p in products if pattern.search(str(p["product"].get("attributes", {}).get("usagetype", "")))]
    if len(products) != 1:
        raise PriceListError(f"{len(products)} products match (expected exactly 1)")
    terms = products[0]["terms"].get("OnDemand") or {}
    if len(terms) != 1:
        raise PriceListError(f"{len(terms)} OnDemand terms (expected exactly 1)")
    term = next(iter(terms.values()))
    dimensions = [d for d in (term.get("priceDimensions") or {}).values()
                  if d.get("unit") == query.unit and str(d.get("beginRange", "0")) in ("0", "0.0")]
    if len(dimensions) != 1:
        raise PriceListError(f"{len(dimensions)} first-tier price dimensions in unit {query.unit} (expected exactly 1)")
    dimension = dimensions[0]
    try:
        price = Decimal(str(dimension["pricePerUnit"]["USD"]))
    except (KeyError, InvalidOperation):
        raise PriceListError("the price dimension has no USD price") from None
    effective = str(term.get("effectiveDate", ""))[:10]
    return price * query.scale, effective, str(dimension.get("description", ""))


def fetch_products(client: Any, query: SkuQuery, region: str) -> list[Any]:
    filters = [{"Type": "TERM_MATCH", "Field": name, "Value": value} for name, value in query.filters]
    filters.append({"Type": "TERM_MATCH", "Field": "regionCode", "Value": region})
    items: list[Any] = []
    for page in client.get_paginator("get_products").paginate(ServiceCode=query.service, Filters=filters,
                                                               FormatVersion="aws_v1"):
        items.extend(page.get("PriceList", []))
    return items


def skus_to_refresh(catalogue: Catalogue, instance_types: Iterable[str] = ()) -> list[str]:
    skus = {sku for sku in catalogue.skus() if query_for(sku)} | set(FIXED_QUERIES)
    for instance in instance_types:
        skus.add(f"sagemaker.hosting:{instance}" if instance.startswith("ml.") else f"ec2.ondemand:{instance}")
    return sorted(skus)


def stack_instance_types() -> set[str]:
    """Instance types any shipped stack allows, so a refresh covers what teams may pick."""
    from ..stackconfig import PROJECT_ROOT, load_stack_config

    found: set[str] = set()
    for path in sorted((PROJECT_ROOT / "stacks").glob("Pulumi.*.yaml")):
        try:
            stack = load_stack_config(path.name[len("Pulumi."):-len(".yaml")])
        except Exception:  # noqa: BLE001 - an invalid stack file is `mlp validate`'s to report
            continue
        found |= set(stack.allowed_instance_types.training) | set(stack.allowed_instance_types.serving)
    return found


def refresh_region(catalogue: Catalogue, region: str, client: Any = None,
                   instance_types: Optional[Iterable[str]] = None,
                   client_factory: Optional[Callable[[], Any]] = None) -> RefreshResult:
    """A copy of ``catalogue`` whose ``region`` prices come from the Price List API."""
    import botocore.exceptions

    if client is None:
        import boto3

        client = (client_factory or (lambda: boto3.client("pricing", region_name=PRICING_REGION)))()
    types = stack_instance_types() if instance_types is None else set(instance_types)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    version = f"{catalogue.version.split('+', 1)[0]}+refresh.{region}.{stamp}"
    result = RefreshResult(Catalogue(version, dict(catalogue.sources), dict(catalogue.prices),
                                     catalogue.facts, sorted(set(catalogue.regions) | {region}),
                                     catalogue.description, catalogue.path, dict(catalogue.gaps)))
    result.catalogue.sources[SOURCE_ID] = SOURCE
    for sku in skus_to_refresh(catalogue, types):
        query = query_for(sku)
        try:
            items = fetch_products(client, query, region)
            price, effective, description = pick_price(items, query)
        except PriceListError as exc:
            result.unresolved.append((sku, str(exc)))
            continue
        except botocore.exceptions.NoCredentialsError:
            raise UsageError("mlp prices refresh: no AWS credentials (the Price List API needs signed requests)") from None
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise UsageError(f"mlp prices refresh: {sku}: {' '.join(str(exc).split())}") from None
        result.catalogue.prices[(sku, region)] = Price(sku, region, price, query.catalogue_unit, SOURCE_ID,
                                                       effective or "unknown", description or None)
        result.updated.append(sku)
    return result
