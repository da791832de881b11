"""The result of a nightly rebalancing: :class:`RebalancingPlan`, and its JSON schema.

A plan is a list of :class:`TruckRoute` (one per truck, possibly without stops), each an ordered
list of :class:`Stop` with the bikes picked up (``quantity > 0``) or dropped (``quantity < 0``)
and the load on board after the stop, plus citywide :class:`PlanTotals`, the stations still
expected to run empty or full, the :class:`~mobility.stats.SolverStats` and the
:class:`~mobility.provenance.Provenance`.

``RebalancingPlan.to_dict()`` is the content of ``routes.json``; it validates against
:data:`ROUTES_JSON_SCHEMA` (``schema`` = ``"mobility/rebalancing-plan/1"``) and round-trips
through :meth:`RebalancingPlan.from_dict`. Times are seconds since midnight of the evening the
night starts (``arrival_s``; 06:00 next morning = 108 000) and a ``"HH:MM"`` clock string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mobility.provenance import Provenance
from mobility.rebalancing.problem import RebalancingProblem
from mobility.stats import SolverStats

__all__ = [
    "ROUTES_JSON_SCHEMA",
    "SCHEMA_ID",
    "PlanTotals",
    "RebalancingPlan",
    "RouteSpec",
    "Stop",
    "TruckRoute",
    "build_plan",
    "clock",
]

SCHEMA_ID = "mobility/rebalancing-plan/1"


def clock(seconds: float) -> str:
    """``"HH:MM"`` of seconds since midnight of the evening (wraps past 24:00)."""
    m = round(seconds / 60.0)
    return f"{(m // 60) % 24:02d}:{m % 60:02d}"


@dataclass(frozen=True)
class Stop:
    """One stop of a truck: where, when, how many bikes, and the load after."""

    seq: int
    station_id: str
    name: str
    lon: float
    lat: float
    arrival_s: float
    departure_s: float
    quantity: int
    load_after: int
    bikes_before: int
    bikes_after: int

    @property
    def arrival(self) -> str:
        """Arrival clock time ``"HH:MM"``."""
        return clock(self.arrival_s)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (adds the ``arrival`` clock string)."""
        return {**asdict(self), "arrival": self.arrival}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Stop:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class TruckRoute:
    """One truck's night: depot, start and end times and loads, stops, distance, street path."""

    truck_id: str
    depot_id: str
    capacity: int
    start_s: float
    end_s: float
    start_load: int
    end_load: int
    stops: tuple[Stop, ...]
    distance_km: float
    path: list[list[float]] | None = None

    @property
    def picked_up(self) -> int:
        """Bikes loaded over the night."""
        return sum(s.quantity for s in self.stops if s.quantity > 0)

    @property
    def dropped(self) -> int:
        """Bikes unloaded over the night."""
        return -sum(s.quantity for s in self.stops if s.quantity < 0)

    @property
    def hours(self) -> float:
        """Hours from leaving the depot to returning (0 for an unused truck)."""
        return (self.end_s - self.start_s) / 3600.0 if self.stops else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "truck_id": self.truck_id,
            "depot_id": self.depot_id,
            "capacity": self.capacity,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "start": clock(self.start_s),
            "end": clock(self.end_s),
            "start_load": self.start_load,
            "end_load": self.end_load,
            "picked_up": self.picked_up,
            "dropped": self.dropped,
            "distance_km": self.distance_km,
            "hours": self.hours,
            "stops": [s.to_dict() for s in self.stops],
            "path": self.path,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TruckRoute:
        """Inverse of :meth:`to_dict`."""
        return cls(
            truck_id=d["truck_id"],
            depot_id=d["depot_id"],
            capacity=int(d["capacity"]),
            start_s=float(d["start_s"]),
            end_s=float(d["end_s"]),
            start_load=int(d["start_load"]),
            end_load=int(d["end_load"]),
            stops=tuple(Stop.from_dict(s) for s in d["stops"]),
            distance_km=float(d["distance_km"]),
            path=d.get("path"),
        )


@dataclass(frozen=True)
class PlanTotals:
    """Citywide figures of a plan (dissatisfaction unweighted; ``objective`` as minimised)."""

    bikes_moved: int
    km: float
    truck_hours: float
    trucks_used: int
    stations_visited: int
    dissatisfaction_before: float
    dissatisfaction_after: float
    driving_cost: float
    objective: float
    stations_empty_before: int
    stations_empty_after: int
    stations_full_before: int
    stations_full_after: int


@dataclass(frozen=True)
class RebalancingPlan:
    """Routes, totals, remaining risks, solver statistics and provenance of one night."""

    routes: tuple[TruckRoute, ...]
    totals: PlanTotals
    still_empty: tuple[str, ...]
    still_full: tuple[str, ...]
    stats: SolverStats
    provenance: Provenance | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The content of ``routes.json`` (validates against :data:`ROUTES_JSON_SCHEMA`)."""
        return {
            "schema": SCHEMA_ID,
            "totals": asdict(self.totals),
            "routes": [r.to_dict() for r in self.routes],
            "still_empty": list(self.still_empty),
            "still_full": list(self.still_full),
            "stats": self.stats.to_dict(),
            "provenance": self.provenance.to_dict() if self.provenance else None,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RebalancingPlan:
        """Inverse of :meth:`to_dict`."""
        prov = d.get("provenance")
        return cls(
            routes=tuple(TruckRoute.from_dict(r) for r in d["routes"]),
            totals=PlanTotals(**d["totals"]),
            still_empty=tuple(d.get("still_empty", [])),
            still_full=tuple(d.get("still_full", [])),
            stats=SolverStats(**d["stats"]),
            provenance=Provenance(**prov) if prov else None,
            meta=dict(d.get("meta") or {}),
        )

    def with_provenance(self, provenance: Provenance) -> RebalancingPlan:
        """A copy with ``provenance`` set."""
        return RebalancingPlan(
            self.routes, self.totals, self.still_empty, self.still_full, self.stats, provenance, self.meta
        )

    def final_inventory(self, problem: RebalancingProblem) -> np.ndarray:
        """Bikes at every station after all routes, in ``problem`` station order."""
        inv = np.asarray(problem.bikes, dtype=np.int64).copy()
        for r in self.routes:
            for s in r.stops:
                inv[problem.index_of[s.station_id]] -= s.quantity
        return inv


# ------------------------------------------------------------------------------------- building
@dataclass(frozen=True)
class RouteSpec:
    """What a solver decides for one truck: start load and ordered ``(station index, quantity)``."""

    truck: int
    start_load: int
    stops: tuple[tuple[int, int], ...]


def build_plan(
    problem: RebalancingProblem,
    specs: Sequence[RouteSpec],
    stats: SolverStats,
    *,
    provenance: Provenance | None = None,
    meta: dict[str, Any] | None = None,
) -> RebalancingPlan:
    """Times, loads, inventories and totals of the routes ``specs`` (one per truck at most).

    Trucks missing from ``specs`` get an empty route. Nothing is checked here: that is
    :func:`mobility.rebalancing.validate.validate_plan`'s job.
    """
    by_truck = {s.truck: s for s in specs}
    inv = np.asarray(problem.bikes, dtype=np.int64).copy()
    routes = []
    km_total = 0.0
    for ti, truck in enumerate(problem.trucks):
        spec = by_truck.get(ti, RouteSpec(ti, truck.start_load or 0, ()))
        d = problem.depot_index(truck.depot)
        t = float(truck.shift_start)
        load = int(spec.start_load)
        prev = d
        dist = 0.0
        stops = []
        for seq, (i, qty) in enumerate(spec.stops, start=1):
            nd = problem.node(i)
            t += float(problem.travel_s[prev, nd])
            dist += float(problem.distance_m[prev, nd])
            arr = t
            t += truck.stop_seconds + truck.load_seconds_per_bike * abs(qty)
            load += qty
            before = int(inv[i])
            inv[i] -= qty
            stops.append(
                Stop(
                    seq=seq,
                    station_id=problem.station_ids[i],
                    name=problem.names[i],
                    lon=float(problem.lon[i]),
                    lat=float(problem.lat[i]),
                    arrival_s=round(arr, 1),
                    departure_s=round(t, 1),
                    quantity=int(qty),
                    load_after=load,
                    bikes_before=before,
                    bikes_after=int(inv[i]),
                )
            )
            prev = nd
        if stops:
            t += float(problem.travel_s[prev, d])
            dist += float(problem.distance_m[prev, d])
        km_total += dist / 1000.0
        routes.append(
            TruckRoute(
                truck_id=truck.id,
                depot_id=truck.depot,
                capacity=truck.capacity,
                start_s=float(truck.shift_start),
                end_s=round(t, 1) if stops else float(truck.shift_start),
                start_load=int(spec.start_load),
                end_load=load,
                stops=tuple(stops),
                distance_km=round(dist / 1000.0, 3),
            )
        )
    inv_before = np.asarray(problem.bikes, dtype=np.int64)
    risk_before = [problem.risk(i, int(k)) for i, k in enumerate(inv_before)]
    clipped = np.maximum(inv, 0)  # an invalid plan (negative stock) still gets totals
    risk_after = [problem.risk(i, int(k)) for i, k in enumerate(clipped)]
    final_cost = sum(problem.final_cost(i, int(k)) for i, k in enumerate(clipped))
    driving = problem.drive_cost_per_km * km_total
    totals = PlanTotals(
        bikes_moved=sum(r.picked_up for r in routes),
        km=round(km_total, 3),
        truck_hours=round(sum(r.hours for r in routes), 3),
        trucks_used=sum(1 for r in routes if r.stops),
        stations_visited=len({s.station_id for r in routes for s in r.stops}),
        dissatisfaction_before=round(problem.dissatisfaction(inv_before), 4),
        dissatisfaction_after=round(problem.dissatisfaction(clipped), 4),
        driving_cost=round(driving, 4),
        objective=round(final_cost + driving, 4),
        stations_empty_before=risk_before.count("empty"),
        stations_empty_after=risk_after.count("empty"),
        stations_full_before=risk_before.count("full"),
        stations_full_after=risk_after.count("full"),
    )
    return RebalancingPlan(
        routes=tuple(routes),
        totals=totals,
        still_empty=tuple(problem.station_ids[i] for i, r in enumerate(risk_after) if r == "empty"),
        still_full=tuple(problem.station_ids[i] for i, r in enumerate(risk_after) if r == "full"),
        stats=stats,
        provenance=provenance,
        meta=dict(meta or {}),
    )


_NUM = {"type": "number"}
_INT = {"type": "integer"}
_STR = {"type": "string"}

ROUTES_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "RebalancingPlan (routes.json)",
    "description": "Nightly truck routes. quantity > 0: bikes picked up at the station; < 0: dropped. "
    "Times: seconds since midnight of the evening the night starts (arrival_s), and HH:MM.",
    "type": "object",
    "required": ["schema", "totals", "routes", "still_empty", "still_full", "stats"],
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "totals": {
            "type": "object",
            "required": list(PlanTotals.__dataclass_fields__),
            "properties": {
                "bikes_moved": _INT,
                "km": _NUM,
                "truck_hours": _NUM,
                "trucks_used": _INT,
                "stations_visited": _INT,
                "dissatisfaction_before": _NUM,
                "dissatisfaction_after": _NUM,
                "driving_cost": _NUM,
                "objective": _NUM,
                "stations_empty_before": _INT,
                "stations_empty_after": _INT,
                "stations_full_before": _INT,
                "stations_full_after": _INT,
            },
        },
        "routes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "truck_id",
                    "depot_id",
                    "capacity",
                    "start_s",
                    "end_s",
                    "start_load",
                    "end_load",
                    "distance_km",
                    "stops",
                ],
                "properties": {
                    "truck_id": _STR,
                    "depot_id": _STR,
                    "capacity": _INT,
                    "start_s": _NUM,
                    "end_s": _NUM,
                    "start": _STR,
                    "end": _STR,
                    "start_load": _INT,
                    "end_load": _INT,
                    "picked_up": _INT,
                    "dropped": _INT,
                    "distance_km": _NUM,
                    "hours": _NUM,
                    "path": {
                        "type": ["array", "null"],
                        "description": "Street path [[lon, lat], ...] (WGS84) or null.",
                        "items": {"type": "array", "items": _NUM, "minItems": 2, "maxItems": 2},
                    },
                    "stops": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "seq",
                                "station_id",
                                "name",
                                "lon",
                                "lat",
                                "arrival_s",
                                "departure_s",
                                "quantity",
                                "load_after",
                                "bikes_before",
                                "bikes_after",
                            ],
                            "properties": {
                                "seq": _INT,
                                "station_id": _STR,
                                "name": _STR,
                                "lon": _NUM,
                                "lat": _NUM,
                                "arrival_s": _NUM,
                                "departure_s": _NUM,
                                "arrival": _STR,
                                "quantity": _INT,
                                "load_after": {"type": "integer", "minimum": 0},
                                "bikes_before": {"type": "integer", "minimum": 0},
                                "bikes_after": {"type": "integer", "minimum": 0},
                            },
                        },
                    },
                },
            },
        },
        "still_empty": {"type": "array", "items": _STR},
        "still_full": {"type": "array", "items": _STR},
        "stats": {"type": "object", "required": ["solver", "status", "objective", "seconds", "seed"]},
        "provenance": {"type": ["object", "null"]},
        "meta": {"type": "object"},
    },
}
