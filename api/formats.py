"""Representations of stored job outputs (JSON as stored, GeoJSON, CSV), keyed by job kind.

Each converter takes the stored JSON bytes of the job's main artifact and returns the bytes of
one representation. Other layers (map exports) add theirs with :func:`register_format`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mobility.export.plans import plan_csv, plan_feature_collection
from mobility.export.routes import route_sheet_csv, routes_feature_collection
from mobility.placement.plan import Plan
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


def _identity(body: bytes) -> bytes:
    return body


# --- expansion plans -------------------------------------------------------------------------
def plan_geojson(body: bytes) -> bytes:
    """New and existing stations (:func:`mobility.export.plans.plan_feature_collection`)."""
    return _dumps(plan_feature_collection(Plan.from_dict(json.loads(body))))


def plan_station_csv(body: bytes) -> bytes:
    """One row per station (:func:`mobility.export.plans.plan_csv`)."""
    return plan_csv(Plan.from_dict(json.loads(body)))


# --- rebalancing runs ------------------------------------------------------------------------
def routes_geojson(body: bytes) -> bytes:
    """Routes, stops and depots (:func:`mobility.export.routes.routes_feature_collection`)."""
    return _dumps(routes_feature_collection(RebalancingPlan.model_validate_json(body)))


def routes_csv(body: bytes) -> bytes:
    """The route sheet (:func:`mobility.export.routes.route_sheet_csv`)."""
    return route_sheet_csv(RebalancingPlan.model_validate_json(body))


register_format("scenario", "json", "application/json", _identity, "json")
register_format("scenario", "geojson", "application/geo+json", plan_geojson, "geojson")
register_format("scenario", "csv", "text/csv; charset=utf-8", plan_station_csv, "csv")
register_format("rebalancing", "json", "application/json", _identity, "json")
register_format("rebalancing", "geojson", "application/geo+json", routes_geojson, "geojson")
register_format("rebalancing", "csv", "text/csv; charset=utf-8", routes_csv, "csv")
