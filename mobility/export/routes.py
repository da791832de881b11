"""The route documents' tables and features: one writer for every place that shows routes.

``routes.csv`` (``mobility rebalance``), the API's ``?format=csv`` / ``?format=geojson`` of a run,
the per-truck route sheets (``mobility export --format csv``, ``/sheets/...``) and
``routes.geojson`` all come from the two functions here, which read a
:class:`~mobility.rebalancing.plan.RebalancingPlan` and nothing else.

The sheet has one row per stop, grouped per truck in stop order, with a row at the depot before
(``start``) and after (``end``) when the plan carries its depots. ``quantity`` is signed (bikes
picked up > 0, dropped < 0); ``bikes`` is the count a driver moves and ``action`` says which way,
in English and Korean. ``number`` (the public number on the station's sign, what drivers and the
call centre use) and ``address`` follow the id and the name (:data:`LISTED_ONLY`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mobility.io import csv_bytes
from mobility.rebalancing.plan import RebalancingPlan, TruckRoute, clock
from mobility.rebalancing.problem import Depot

__all__ = [
    "BLANK_AT_DEPOT",
    "LISTED_ONLY",
    "ROUTE_SHEET_COLUMNS",
    "action_label",
    "csv_bytes",
    "route_coordinates",
    "route_sheet",
    "route_sheet_csv",
    "routes_feature_collection",
]

ROUTE_SHEET_COLUMNS = (
    "truck_id", "depot_id", "seq", "arrival", "arrival_s", "station_id", "number", "name", "address",
    "action", "quantity", "bikes", "load_after", "bikes_before", "bikes_after", "lat", "lon",
)  # fmt: skip
"""Columns of the route sheet, in order."""


def action_label(quantity: int) -> str:
    """What the driver does at a stop: ``pick up 수거``, ``drop off 배치`` or ``visit 방문``."""
    if quantity > 0:
        return "pick up 수거"
    return "drop off 배치" if quantity < 0 else "visit 방문"


def route_sheet(plan: RebalancingPlan) -> pd.DataFrame:
    """Every stop of every used truck as one table (columns :data:`ROUTE_SHEET_COLUMNS`)."""
    rows: list[dict[str, Any]] = []
    for r in plan.routes:
        if not r.stops:
            continue
        depot = plan.depot(r.depot_id)
        if depot is not None:
            rows.append(_depot_row(r, depot, end=False))
        for s in r.stops:
            rows.append(
                {
                    "truck_id": r.truck_id, "depot_id": r.depot_id, "seq": s.seq, "arrival": s.arrival,
                    "arrival_s": s.arrival_s, "station_id": s.station_id, "number": s.number,
                    "name": s.name, "address": s.address, "action": action_label(s.quantity),
                    "quantity": s.quantity, "bikes": abs(s.quantity),
                    "load_after": s.load_after, "bikes_before": s.bikes_before,
                    "bikes_after": s.bikes_after, "lat": round(s.lat, 6), "lon": round(s.lon, 6),
                }
            )  # fmt: skip
        if depot is not None:
            rows.append(_depot_row(r, depot, end=True))
    table = pd.DataFrame(rows, columns=list(ROUTE_SHEET_COLUMNS))
    # Bike counts and station numbers stay whole numbers ("3", not "3.0") although the depot rows
    # leave them blank.
    return table.astype(dict.fromkeys((*BLANK_AT_DEPOT, "number"), "Int64"))


BLANK_AT_DEPOT = ("bikes_before", "bikes_after")
"""Count columns a depot row leaves blank: nullable integers, never floats."""

LISTED_ONLY = ("number", "address")
"""The station's public number and street address (:class:`~mobility.rebalancing.plan.Stop`):
blank at the depot rows, for a station the station list does not know, and for every stop of a
``routes.json`` written before stops carried them."""


def route_sheet_csv(plan: RebalancingPlan) -> bytes:
    """:func:`route_sheet` as CSV (UTF-8 with a BOM: :func:`mobility.io.csv_bytes`)."""
    return csv_bytes(route_sheet(plan))


def _depot_row(route: TruckRoute, depot: Depot, *, end: bool) -> dict[str, Any]:
    """The row of leaving (``end=False``) or returning to (``end=True``) the depot."""
    t = route.end_s if end else route.start_s
    return {
        "truck_id": route.truck_id, "depot_id": depot.id, "seq": len(route.stops) + 1 if end else 0,
        "arrival": clock(t), "arrival_s": t, "station_id": depot.id, "number": None, "name": depot.name,
        "address": None, "action": "end 복귀" if end else "start 출발", "quantity": 0, "bikes": 0,
        "load_after": route.end_load if end else route.start_load, "bikes_before": None,
        "bikes_after": None, "lat": depot.lat, "lon": depot.lon,
    }  # fmt: skip


def route_coordinates(plan: RebalancingPlan, route: TruckRoute) -> list[tuple[float, float]] | None:
    """A truck's route line (lon, lat): its street path, or straight segments from the depot through
    the stops and back when the plan has no path; ``None`` when it has no length to draw.

    One stop without a depot or a street path, or a stop where the depot is, gives fewer than two
    distinct points: such a line is invalid (OGC simple features; QGIS flags it, GEOS refuses to
    buffer it), so every writer keeps the route's attributes with a null geometry and draws its
    stop. The GeoJSON of ``routes.json`` and the map layers both take the line from here.
    """
    depot = plan.depot(route.depot_id)
    ends = [(depot.lon, depot.lat)] if depot is not None else []
    stops = [(s.lon, s.lat) for s in route.stops]
    line = [(float(x), float(y)) for x, y in route.path] if route.path else [*ends, *stops, *ends]
    return line if len(set(line)) >= 2 else None


def routes_feature_collection(plan: RebalancingPlan) -> dict[str, Any]:
    """Routes, stops and depots as a GeoJSON FeatureCollection (WGS84).

    Each used truck is a LineString (:func:`route_coordinates`; a null geometry when it has no
    length, as a truck that serves one station at its depot), ``kind`` = ``"route"``; each stop a
    Point with every stop field, ``kind`` = ``"stop"``; each depot a Point, ``kind`` = ``"depot"``.
    """
    feats: list[dict[str, Any]] = []
    for r in plan.routes:
        if not r.stops:
            continue
        line = route_coordinates(plan, r)
        props = {
            "kind": "route",
            "truck_id": r.truck_id,
            "depot_id": r.depot_id,
            "stops": len(r.stops),
            "picked_up": r.picked_up,
            "dropped": r.dropped,
            "distance_km": r.distance_km,
            "hours": round(r.hours, 3),
            "start": r.start,
            "end": r.end,
            "street_path": r.path is not None,
        }
        feats.append(_feature("LineString", [list(p) for p in line], props) if line else _no_geometry(props))
        for s in r.stops:
            stop = {k: v for k, v in s.model_dump(mode="json").items() if k not in ("lon", "lat")}
            feats.append(_feature("Point", [s.lon, s.lat], {"kind": "stop", "truck_id": r.truck_id, **stop}))
    for d in plan.depots:
        feats.append(_feature("Point", [d.lon, d.lat], {"kind": "depot", "depot_id": d.id, "name": d.name}))
    return {"type": "FeatureCollection", "features": feats}


def _no_geometry(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": None, "properties": properties}


def _feature(kind: str, coordinates: Any, properties: dict[str, Any]) -> dict[str, Any]:
    geometry = {"type": kind, "coordinates": coordinates}
    return {"type": "Feature", "geometry": geometry, "properties": properties}
