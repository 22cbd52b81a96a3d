"""The price catalogue: sourced on-demand USD unit prices per SKU and region.

Prices live in a versioned data file (``prices.json`` next to this module) rather than in
code, so finance can read where each figure comes from and ``mlp prices refresh`` can
rebuild a region from the AWS Price List API. Every entry carries its source and as-of
date. A SKU without an entry for a region is *unknown*: :meth:`Catalogue.price` returns
``None`` and the engine reports the line as UNKNOWN; nothing here ever invents a zero.

Amounts are kept as :class:`~decimal.Decimal` (parsed from strings) so that a line's cost
is exact to the cent however many lines are added up.

Known gaps (``gaps``) say why a price is missing. Each key names what it covers as
``PATTERN[, PATTERN...] [(QUALIFIER)]``: a pattern is a SKU (``firehose.ingest``), a glob
(``featurestore.*``) or a SKU family (``s3`` covers ``s3.storage.standard``, ``sagemaker.hosting``
covers ``sagemaker.hosting:ml.m5.xlarge``); a qualifier that names regions
(``(eu-central-1)``, ``(eu-west-1, eu-central-1)``) limits the gap to them, any other
qualifier (``(all regions)``) is a remark. :meth:`Catalogue.gap` finds the recorded reason
for an unpriced SKU so the cost report can say *why* a line has no price.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from fnmatch import fnmatchcase
from typing import Any, Optional, Union

from ..errors import UsageError

DEFAULT_CATALOGUE = Path(__file__).with_name("prices.json")
CATALOGUE_FORMAT_KEYS = ("catalogueVersion", "currency", "sources", "prices")


@dataclass(frozen=True)
class Price:
    """One unit price with where it comes from."""

    sku: str
    region: str
    usd: Decimal
    unit: str
    source: str
    as_of: str
    note: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        data = {"sku": self.sku, "region": self.region, "usd": format(self.usd, "f"), "unit": self.unit,
                "source": self.source, "asOf": self.as_of}
        if self.note:
            data["note"] = self.note
        return data


@dataclass
class Catalogue:
    """All prices of one catalogue file, indexed by ``(sku, region)``."""

    version: str
    sources: dict[str, dict[str, Any]]
    prices: dict[tuple[str, str], Price] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    regions: list[str] = field(default_factory=list)
    description: str = ""
    path: Optional[str] = None
    #: prices known to be missing, with why (shown to people; the engine needs no list to say UNKNOWN)
    gaps: dict[str, str] = field(default_factory=dict)

    def price(self, sku: str, region: str) -> Optional[Price]:
        """The sourced price of ``sku`` in ``region``, or None when there is none (UNKNOWN)."""
        return self.prices.get((sku, region))

    def gap(self, sku: str, region: str) -> Optional[str]:
        """Why ``sku`` has no price in ``region``, as the catalogue records it, or None.

        The most specific gap wins: one limited to the region over one that is not, then
        an exact SKU over a glob over a SKU family."""
        best: Optional[tuple[tuple[int, int, int], str]] = None
        for key, reason in self.gaps.items():
            patterns, regions = gap_scope(key)
            if regions is not None and region not in regions:
                continue
            for pattern in patterns:
                kind = _pattern_match(pattern, sku)
                if kind:
                    rank = (int(regions is not None), kind, len(pattern))
                    if best is None or rank > best[0]:
                        best = (rank, reason)
        return best[1] if best else None

    def gpus_per_instance(self, instance_type: str) -> Optional[int]:
        values = self.facts.get("gpusPerInstance", {}).get("values", {})
        count = values.get(instance_type)
        return int(count) if isinstance(count, int) and count > 0 else None

    def source_title(self, source_id: str) -> str:
        return str(self.sources.get(source_id, {}).get("title", source_id))

    def skus(self) -> set[str]:
        return {sku for sku, _ in self.prices}

    def to_json(self) -> dict[str, Any]:
        return {
            "catalogueVersion": self.version,
            "currency": "USD",
            "regions": sorted(set(self.regions) | {region for _, region in self.prices}),
            "description": self.description,
            "sources": dict(sorted(self.sources.items())),
            "prices": [self.prices[key].to_json() for key in sorted(self.prices)],
            "facts": self.facts,
            "gaps": dict(sorted(self.gaps.items())),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1) + "\n"


#: an AWS region code, as a gap key's qualifier names it
REGION_CODE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$")


def gap_scope(key: str) -> tuple[list[str], Optional[set[str]]]:
    """The SKU patterns a gap key names and the regions it is limited to (None: all).

    ``"s3, cloudwatch (eu-central-1)"`` -> ``(["s3", "cloudwatch"], {"eu-central-1"})``."""
    body, qualifier = key.strip(), ""
    found = re.match(r"^(.*?)\s*\(([^()]*)\)\s*$", body)
    if found:
        body, qualifier = found.group(1), found.group(2)
    regions = {token.strip() for token in qualifier.split(",") if REGION_CODE.match(token.strip())}
    patterns = [token.strip() for token in body.split(",") if token.strip()]
    return patterns, (regions or None)


def _pattern_match(pattern: str, sku: str) -> int:
    """How a gap pattern matches a SKU: 3 exactly, 2 as a glob, 1 as its family, 0 not."""
    if pattern == sku:
        return 3
    if any(char in pattern for char in "*?[") and fnmatchcase(sku, pattern):
        return 2
    if sku.startswith((pattern + ".", pattern + ":")):
        return 1
    return 0


#: a gap summary longer than this is cut at its first clause (": " or "; " outside brackets)
GAP_SUMMARY_CHARS = 160


def gap_summary(reason: str) -> str:
    """What a report line has room for of a gap's reason: its first sentence, or, when that
    is long, its first clause (the full text, with everything searched, stays in the
    catalogue and in the JSON report)."""
    first = re.split(r"(?<=[.])\s+(?=[A-Z])", reason.strip(), maxsplit=1)[0].rstrip(".")
    if len(first) <= GAP_SUMMARY_CHARS:
        return first
    depth = 0
    for index, char in enumerate(first):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth == 0 and char in ":;" and first[index + 1:index + 2] == " ":
            return first[:index]
    return first


def load_catalogue(path: Union[str, Path, None] = None) -> Catalogue:
    """Read and check a catalogue file; a malformed one is a one-line usage error."""
    target = Path(path) if path else DEFAULT_CATALOGUE
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{target}: cannot read price catalogue: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{target}:{exc.lineno}:{exc.colno}: error: not JSON: {exc.msg}") from None
    return catalogue_from_json(data, str(target))


def catalogue_from_json(data: Any, origin: str = "<catalogue>") -> Catalogue:
    if not isinstance(data, dict) or any(key not in data for key in CATALOGUE_FORMAT_KEYS):
        raise UsageError(f"{origin}: error: not a price catalogue (needs {', '.join(CATALOGUE_FORMAT_KEYS)})")
    if data.get("currency") != "USD":
        raise UsageError(f"{origin}: error: currency: only USD catalogues are supported")
    sources = data["sources"]
    catalogue = Catalogue(
        version=str(data["catalogueVersion"]), sources=sources if isinstance(sources, dict) else {},
        facts=data.get("facts", {}) or {}, regions=list(data.get("regions", [])),
        description=str(data.get("description", "")), path=origin,
        gaps={str(k): str(v) for k, v in (data.get("gaps") or {}).items()},
    )
    for index, entry in enumerate(data["prices"]):
        where = f"{origin}: error: prices[{index}]"
        if not isinstance(entry, dict):
            raise UsageError(f"{where}: not an object")
        missing = [key for key in ("sku", "region", "usd", "unit", "source", "asOf") if not entry.get(key)]
        if missing:
            raise UsageError(f"{where}: missing {', '.join(missing)} (every price needs a source and an as-of date)")
        if entry["source"] not in catalogue.sources:
            raise UsageError(f"{where}.source: '{entry['source']}' is not among the catalogue's sources")
        try:
            usd = Decimal(str(entry["usd"]))
        except InvalidOperation:
            raise UsageError(f"{where}.usd: '{entry['usd']}' is not a number") from None
        if not usd.is_finite() or usd < 0:
            raise UsageError(f"{where}.usd: '{entry['usd']}' is not a price")
        key = (str(entry["sku"]), str(entry["region"]))
        if key in catalogue.prices:
            raise UsageError(f"{where}: {key[0]} in {key[1]} is listed twice")
        catalogue.prices[key] = Price(key[0], key[1], usd, str(entry["unit"]), str(entry["source"]),
                                      str(entry["asOf"]), entry.get("note"))
    return catalogue
