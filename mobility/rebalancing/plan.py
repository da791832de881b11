"""The result of a nightly rebalancing: :class:`RebalancingPlan` (the ``routes.json`` document).

A plan is a list of :class:`TruckRoute` (one per truck, possibly without stops), each an ordered
list of :class:`Stop` with the bikes picked up (``quantity > 0``) or dropped (``quantity < 0``)
and the load on board after the stop, plus citywide :class:`PlanTotals`, the stations still
expected to run empty or full, the :class:`~mobility.stats.SolverStats` and the
:class:`~mobility.provenance.Provenance`.

Every class here is a frozen pydantic model: ``plan.model_dump(mode="json")`` (or
:meth:`RebalancingPlan.to_dict`) is the content of ``routes.json``, ``RebalancingPlan.model_validate``
reads it back, and :func:`routes_json_schema` is its JSON Schema, generated from the models
(``schema`` = ``"mobility/rebalancing-plan/1"``). Times are seconds since midnight of the evening
the night starts (``arrival_s``; 06:00 next morning = 108 000) and a ``"HH:MM"`` clock string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, computed_field

from mobility.provenance import Provenance, content_version
from mobility.rebalancing.problem import Depot, RebalancingProblem
from mobility.schema import document_schema
from mobility.stats import SolverStats

__all__ = [
    "ROUTES_TIMING_FIELDS",
    "SCHEMA_ID",
    "PlanTotals",
    "RebalancingPlan",
    "RouteSpec",
    "Stop",
    "TruckRoute",
    "build_plan",
    "clock",
    "routes_json_schema",
    "routes_version",
]

SCHEMA_ID: Final = "mobility/rebalancing-plan/1"


def clock(seconds: float) -> str:
    """``"HH:MM"`` of seconds since midnight of the evening (wraps past 24:00)."""
    m = round(seconds / 60.0)
    return f"{(m // 60) % 24:02d}:{m % 60:02d}"


class _Document(BaseModel):
    """Frozen; the computed fields (clock strings, per-truck sums) are written and ignored on reading."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``model_dump`` in JSON mode, by alias, with the computed fields)."""
        return self.model_dump(mode="json", by_alias=True)


class Stop(_Document):
    """One stop of a truck: where, when, how many bikes, and the load after."""

    seq: int
    station_id: str
    number: int | None = Field(
        default=None,
        description="The station's public number (대여소 번호): what its sign shows and drivers and the "
        "call centre name it by; null for a station the station list does not know (and in a plan "
        "written before stops carried it).",
    )
    name: str
    address: str | None = Field(
        default=None,
        description="The station's street address, from the station list; null for a station the list "
        "does not know (and in a plan written before stops carried it).",
    )
    lon: float
    lat: float
    arrival_s: float
    departure_s: float
    quantity: int = Field(description="Bikes picked up (> 0) or dropped (< 0) at the station.")
    # Not enforced on the model (a broken plan must still be built, then reported by the
    # validator); a routes.json that is written is valid, and its schema says so.
    load_after: int = Field(json_schema_extra={"minimum": 0})
    bikes_before: int = Field(json_schema_extra={"minimum": 0})
    bikes_after: int = Field(json_schema_extra={"minimum": 0})

    @computed_field  # type: ignore[prop-decorator]
    @property
    def arrival(self) -> str:
        """Arrival clock time ``"HH:MM"``."""
        return clock(self.arrival_s)


class TruckRoute(_Document):
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
    path: list[list[float]] | None = Field(
        default=None, description="Street path [[lon, lat], ...] (WGS84) or null."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def start(self) -> str:
        """Clock time of leaving the depot."""
        return clock(self.start_s)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def end(self) -> str:
        """Clock time of returning to the depot."""
        return clock(self.end_s)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def picked_up(self) -> int:
        """Bikes loaded over the night."""
        return sum(s.quantity for s in self.stops if s.quantity > 0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dropped(self) -> int:
        """Bikes unloaded over the night."""
        return -sum(s.quantity for s in self.stops if s.quantity < 0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def hours(self) -> float:
        """Hours from leaving the depot to returning (0 for an unused truck)."""
        return (self.end_s - self.start_s) / 3600.0 if self.stops else 0.0


class PlanTotals(_Document):
    """Citywide figures of a plan (dissatisfaction unweighted; ``objective`` as minimised)."""

    bikes_moved: int
    km: float
    truck_hours: float
    trucks_used: int
    stations_visited: int
    dissatisfaction_before: float = Field(
        description="Expected unhappy riders at the evening's stock, by the stations' dissatisfaction "
        "curves; where a station has only a target band (a snapshot's target, or 25-75 % of its "
        "docks), its bikes outside the band."
    )
    dissatisfaction_after: float = Field(description="The same after tonight's routes.")
    driving_cost: float
    objective: float
    stations_empty_before: int = Field(
        description="Stations below their band (the stocks within band_tolerance of their lowest "
        "expected dissatisfaction): expected to run empty, or below their target band."
    )
    stations_empty_after: int = Field(description="The same after tonight's routes (still_empty).")
    stations_full_before: int = Field(description="Stations above their band: expected to run full.")
    stations_full_after: int = Field(description="The same after tonight's routes (still_full).")


class RebalancingPlan(_Document):
    """Routes, totals, remaining risks, solver statistics and provenance of one night."""

    schema_id: Literal["mobility/rebalancing-plan/1"] = Field(default=SCHEMA_ID, alias="schema")
    totals: PlanTotals
    routes: tuple[TruckRoute, ...]
    still_empty: tuple[str, ...]
    still_full: tuple[str, ...]
    stats: SolverStats
    depots: tuple[Depot, ...] = Field(
        default=(), description="Where the trucks start and end (id, name, lon, lat), for maps and sheets."
    )
    provenance: Provenance | None = None
    wall_seconds: float | None = Field(
        default=None,
        description="Wall time in seconds of the whole run, from reading the status snapshot to "
        "writing this document: the demand curves, the truck travel times, the solve, the street "
        "paths and the independent check (stats.seconds is the solve alone; the morning simulation "
        "and the maps written after it are not included). Set by the command or service that ran "
        "it; null when not recorded.",
    )
    meta: dict[str, Any] = Field(default_factory=dict)

    def depot(self, depot_id: str) -> Depot | None:
        """The depot ``depot_id``, or ``None`` when the document does not carry it."""
        return next((d for d in self.depots if d.id == depot_id), None)

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    def with_provenance(self, provenance: Provenance) -> RebalancingPlan:
        """A copy with ``provenance`` set."""
        return self.model_copy(update={"provenance": provenance})

    def final_inventory(self, problem: RebalancingProblem) -> np.ndarray:
        """Bikes at every station after all routes, in ``problem`` station order."""
        inv = np.asarray(problem.bikes, dtype=np.int64).copy()
        for r in self.routes:
            for s in r.stops:
                inv[problem.index_of[s.station_id]] -= s.quantity
        return inv


def routes_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``routes.json``, generated from :class:`RebalancingPlan`."""
    return document_schema(
        RebalancingPlan,
        "RebalancingPlan (routes.json)",
        description="Nightly truck routes. quantity > 0: bikes picked up at the station; < 0: dropped. "
        "Times: seconds since midnight of the evening the night starts (arrival_s), and HH:MM.",
        schema_id=SCHEMA_ID,
    )


ROUTES_TIMING_FIELDS: Final = ("stats.seconds", "wall_seconds", "provenance.created_at")
"""The fields of ``routes.json`` that differ between two runs of the same inputs, seed and
iteration budget: the solve's and the run's wall time, and the time the document was made."""


def routes_version(routes: RebalancingPlan | Mapping[str, Any]) -> dict[str, Any]:
    """The identity of a night's routes in the provenance of what is computed from them
    (``morning.json``'s ``routes``, a simulation's from a rebalancing job): the
    :func:`~mobility.provenance.content_version` of the ``routes.json`` document without
    :data:`ROUTES_TIMING_FIELDS`, so that two runs with the same seed and iteration budget record
    the same hash, and routes that differ in a stop do not.

    Parameters
    ----------
    routes
        The plan, or its ``routes.json`` document as read back (the same hash for both).

    Returns
    -------
    dict[str, Any]
        ``document`` (``routes.json``), ``without`` (the fields left out), ``bytes`` and
        ``sha256`` of the rest.
    """
    doc: dict[str, Any] = routes.to_dict() if isinstance(routes, RebalancingPlan) else dict(routes)
    for name in ROUTES_TIMING_FIELDS:
        *parents, leaf = name.split(".")
        doc = _without(doc, parents, leaf)
    return content_version(doc, document="routes.json", without=list(ROUTES_TIMING_FIELDS))


def _without(doc: dict[str, Any], parents: list[str], leaf: str) -> dict[str, Any]:
    """A copy of ``doc`` without ``leaf`` under the nested keys ``parents`` (as it is when absent)."""
    if not parents:
        return {k: v for k, v in doc.items() if k != leaf}
    inner = doc.get(parents[0])
    if not isinstance(inner, Mapping):
        return doc
    return {**doc, parents[0]: _without(dict(inner), parents[1:], leaf)}


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
    :func:`mobility.rebalancing.validate.validate_plan`'s job. ``meta`` defaults to the problem's
    own (its travel model, and the ``travel_note`` when a street network was missing and straight
    lines were used), so what the routes were computed on travels with them.
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
                    number=None if problem.numbers is None else problem.numbers[i],
                    name=problem.names[i],
                    address=None if problem.addresses is None else problem.addresses[i],
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
        depots=tuple(problem.depots),
        provenance=provenance,
        meta=dict(problem.meta if meta is None else meta),
    )
