"""Representations of stored job outputs (JSON as stored, GeoJSON, CSV), keyed by job kind.

Each converter takes the stored JSON bytes of the job's main artifact and returns the bytes of
one representation. Other layers (map exports) add theirs with :func:`register_format`.
:func:`negotiate` picks one from ``?format=`` or the ``Accept`` header, :func:`accepts_encoding`
reads ``Accept-Encoding``, both by their quality weights (RFC 9110 §12.4.2).
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


def quality_list(header: str | None) -> list[tuple[str, float]]:
    """The items of a header listing values with quality weights (``Accept``, ``Accept-Encoding``;
    RFC 9110 §12.4.2), in order, lower-cased, without their parameters, each with its ``q`` (1
    when absent). An item whose ``q`` is not a number from 0 to 1 is left out."""
    out: list[tuple[str, float]] = []
    for item in (header or "").split(","):
        value, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            name, _, raw = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(raw.strip())
                except ValueError:
                    q = -1.0
                break
        if value and 0.0 <= q <= 1.0:
            out.append((value.lower(), q))
    return out


def _media_weight(media: str, ranges: list[tuple[str, float]]) -> tuple[float, int, int] | None:
    """``(q, specificity, -position)`` of the most specific range of ``ranges`` matching ``media``
    (``type/subtype`` > ``type/*`` > ``*/*``, RFC 9110 §12.5.1); None when none matches."""
    main = media.partition("/")[0]
    best: tuple[float, int, int] | None = None
    for position, (rng, q) in enumerate(ranges):
        if rng == media:
            specificity = 2
        elif rng == f"{main}/*":
            specificity = 1
        elif rng == "*/*":
            specificity = 0
        else:
            continue
        if best is None or specificity > best[1]:
            best = (q, specificity, -position)
    return best


def negotiate(kind: str, requested: str | None, accept: str | None) -> Format | None:
    """The representation of a ``kind`` job's artifact to send: the one named by ``?format=``
    (``requested``) when given, else the one the ``Accept`` header weighs highest (RFC 9110
    §12.5.1: the most specific range decides a media type's ``q``; ``q=0`` refuses it; ties go to
    the more specific range, then the range listed first, then JSON). No or an empty Accept
    header, and ``*/*``, give JSON. None when nothing fits: the caller answers 406."""
    options = formats_for(kind)
    if requested:
        return options.get(requested)
    ranges = quality_list(accept)
    if not ranges:
        return options.get("json")
    scored: list[tuple[tuple[float, int, int, int], Format]] = []
    for order, f in enumerate(options.values()):
        weight = _media_weight(f.media_type.split(";")[0].strip().lower(), ranges)
        if weight is not None and weight[0] > 0:
            scored.append(((*weight, -order), f))
    return max(scored, key=lambda s: s[0])[1] if scored else None


def accepts_encoding(accept_encoding: str | None, coding: str) -> bool:
    """Whether the ``Accept-Encoding`` header allows ``coding`` (``gzip``): listed (``x-gzip``
    counts as ``gzip``, RFC 9110 §8.4.1.3) or covered by ``*``, with ``q`` above 0."""
    names = {coding, f"x-{coding}"} if coding == "gzip" else {coding}
    listed = quality_list(accept_encoding)
    exact = [q for value, q in listed if value in names]
    if exact:
        return max(exact) > 0
    return any(value == "*" and q > 0 for value, q in listed)


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
