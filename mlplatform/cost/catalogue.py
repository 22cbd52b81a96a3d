"""The price catalogue: sourced on-demand USD unit prices per SKU and region.

Prices live in a versioned data file (``prices.json`` next to this module) rather than in
code, so finance can read where each figure comes from and ``mlp prices refresh`` can
rebuild a region from the AWS Price List API. Every entry carries its source and as-of
date. A SKU without an entry for a region is *unknown*: :meth:`Catalogue.price` returns
``None`` and the engine reports the line as UNKNOWN; nothing here ever invents a zero.

Amounts are kept as :class:`~decimal.Decimal` (parsed from strings) so that a line's cost
is exact to the cent however many lines are added up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
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
