"""Representations of stored job outputs (JSON as stored, GeoJSON, CSV), keyed by job kind.

Each converter takes the stored JSON bytes of the job's main artifact and returns the bytes of
one representation. Other layers (map exports) add theirs with :func:`register_format`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mobility.export.routes import route_sheet_csv, routes_feature_collection
from mobility.placement.plan import Plan, plan_to_geojson
from mobility.rebalancing.plan import RebalancingPlan

Converter = Callable[[bytes], bytes]


@dataclass(frozen=True)
class Format:
    """One representation: its name (``?format=``), media type and converter."""

    name: str
    media_type: str
    convert: Converter
    filename_suffix: str


_FORMATS: dict[str, dict[str, Format]] = {}


def register_format(kind: str, name: str, media_type: str, convert: Converter, suffix: str) -> None:
    """Add a representation ``name`` for jobs of ``kind``."""
    _FORMATS.setdefault(kind, {})[name] = Format(name, media_type, convert, suffix)


def formats_for(kind: str) -> dict[str, Format]:
    """The representations of a job kind, by name."""
    return dict(_FORMATS.get(kind, {}))


def negotiate(kind: str, requested: str | None, accept: str | None) -> Format | None:
    """Pick a representation from ``?format=`` or else the Accept header (default JSON)."""
    options = formats_for(kind)
    if requested:
        return options.get(requested)
    if accept:
        for part in accept.split(","):
            media = part.split(";")[0].strip().lower()
            for f in options.values():
                if f.media_type.split(";")[0] == media:
                    return f
    return options.get("json")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})
    # BOM so that spreadsheet programs read the Hangul names as UTF-8.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _identity(body: bytes) -> bytes:
    return body


# --- expansion plans -------------------------------------------------------------------------
def plan_geojson(body: bytes) -> bytes:
    """New and existing stations (:func:`mobility.placement.plan.plan_to_geojson`)."""
    return _dumps(plan_to_geojson(Plan.from_dict(json.loads(body))))


PLAN_CSV_COLUMNS = [
    "kind",
    "id",
    "name",
    "gu",
    "dong",
    "lat",
    "lon",
    "docks",
    "bikes",
    "rank",
    "population_newly_covered",
    "predicted_trips",
    "reason",
]


def plan_csv(body: bytes) -> bytes:
    """One row per station of a plan (new ones first, in rank order)."""
    d = json.loads(body)
    rows = [{"kind": "new", **s} for s in d.get("new_stations", [])]
    for s in d.get("existing_stations", []):
        rows.append({"kind": "existing", "id": s.get("station_id"), **s})
    return _csv(rows, PLAN_CSV_COLUMNS)


# --- rebalancing runs ------------------------------------------------------------------------
def routes_geojson(body: bytes) -> bytes:
    """Routes, stops and depots (:func:`mobility.export.routes.routes_feature_collection`)."""
    return _dumps(routes_feature_collection(RebalancingPlan.model_validate_json(body)))


def routes_csv(body: bytes) -> bytes:
    """The route sheet (:func:`mobility.export.routes.route_sheet_csv`)."""
    return route_sheet_csv(RebalancingPlan.model_validate_json(body))


register_format("scenario", "json", "application/json", _identity, "json")
register_format("scenario", "geojson", "application/geo+json", plan_geojson, "geojson")
register_format("scenario", "csv", "text/csv; charset=utf-8", plan_csv, "csv")
register_format("rebalancing", "json", "application/json", _identity, "json")
register_format("rebalancing", "geojson", "application/geo+json", routes_geojson, "geojson")
register_format("rebalancing", "csv", "text/csv; charset=utf-8", routes_csv, "csv")
