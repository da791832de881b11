"""The nightly rebalancing problem as plain data: stations, depots, trucks, travel times.

A :class:`RebalancingProblem` is frozen and checked on construction; every solver and the
validator read it and nothing else. Indices: the travel matrices are square over
``depots + stations`` — node ``d`` (``0 <= d < D``) is depot ``d``, node ``D + i`` is station
``i``. Times are seconds since midnight of the evening the night starts (22:00 = 79 200,
06:00 the next morning = 108 000).

Station costs
-------------
Each station has a *dissatisfaction curve* ``costs[k]``: the expected cost (e.g. lost trips)
of the morning when the night ends with ``k`` bikes, ``k = 0..K``. It comes from the demand
model (:class:`mobility.demand.inventory.DissatisfactionCurve`, any object with a ``costs``
array) or from a plain target / ``[low, high]`` interval through :func:`curve_from_interval`
(piecewise linear: ``per_bike`` for every bike below ``low`` or above ``high``). Beyond ``K`` the
curve continues with its last slope (never decreasing). Capacity is soft: every bike above the
docks adds ``overflow_penalty``. The cost the solver minimises at station ``i`` ending with
``k`` bikes is ``dissatisfaction_weight * curve_i(k) + overflow_penalty * max(0, k - docks_i)``
(:meth:`RebalancingProblem.final_cost`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from mobility.errors import InputError

__all__ = [
    "Depot",
    "RebalancingProblem",
    "Truck",
    "curve_from_interval",
    "curve_from_object",
    "curve_from_target",
]


@dataclass(frozen=True)
class Depot:
    """An operations centre where trucks start and end (coordinates WGS84)."""

    id: str
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Truck:
    """One truck and its shift.

    Attributes
    ----------
    id
        Truck identifier (e.g. ``"T01"``).
    depot
        ``Depot.id`` it starts from and returns to.
    capacity
        Bikes it carries at most.
    shift_start, shift_end
        Seconds since midnight of the evening (22:00 = 79 200; 06:00 next day = 108 000).
    load_seconds_per_bike
        Handling time per bike picked up or dropped.
    stop_seconds
        Fixed time per stop (parking, unlocking).
    start_load
        Bikes on board when leaving the depot; ``None`` = free (taken from depot stock, any
        number in ``[0, capacity]``). Bikes left on board at the end stay at the depot.
    """

    id: str
    depot: str
    capacity: int
    shift_start: float
    shift_end: float
    load_seconds_per_bike: float = 30.0
    stop_seconds: float = 120.0
    start_load: int | None = 0


def curve_from_interval(low: int, high: int, kmax: int, *, per_bike: float = 1.0) -> np.ndarray:
    """Piecewise-linear dissatisfaction: ``per_bike`` per bike below ``low`` or above ``high``.

    Examples
    --------
    >>> curve_from_interval(2, 4, 6).tolist()
    [2.0, 1.0, 0.0, 0.0, 0.0, 1.0, 2.0]
    """
    if low < 0 or high < low:
        raise InputError("target", [low, high], "0 <= low <= high")
    k = np.arange(max(kmax, high) + 1, dtype=np.float64)
    return per_bike * (np.maximum(0.0, low - k) + np.maximum(0.0, k - high))


def curve_from_target(target: int, kmax: int, *, per_bike: float = 1.0) -> np.ndarray:
    """Piecewise-linear dissatisfaction around a single target (``|k - target| * per_bike``)."""
    return curve_from_interval(target, target, kmax, per_bike=per_bike)


class HasCosts(Protocol):
    """A demand-model curve: anything with a ``costs`` array, as
    :class:`~mobility.demand.inventory.DissatisfactionCurve`."""

    @property
    def costs(self) -> np.ndarray: ...


def curve_from_object(obj: HasCosts | npt.ArrayLike) -> np.ndarray:
    """Costs array from a demand-model curve (anything with a ``costs`` attribute) or an array."""
    arr = np.asarray(getattr(obj, "costs", obj), dtype=np.float64)
    return arr


@dataclass(frozen=True)
class RebalancingProblem:
    """Stations, depots, trucks and travel times of one night (see the module docstring).

    Attributes
    ----------
    station_ids, names
        Station identifiers (e.g. ``"ST-4"``) and display names (Hangul kept).
    lon, lat
        ``(N,)`` station coordinates (WGS84).
    docks, bikes
        ``(N,)`` int docks and current bikes (bikes may exceed docks; never negative).
    curves
        ``N`` 1-D cost arrays over ``k = 0..K_i`` (see module docstring).
    depots, trucks
        The ops centres and the trucks (each ``Truck.depot`` must name a depot).
    travel_s, distance_m
        ``(D+N, D+N)`` truck travel seconds and metres, depots first.
    dissatisfaction_weight
        Cost units per unit of dissatisfaction.
    drive_cost_per_km
        Cost units per km driven (same units as the weighted dissatisfaction).
    overflow_penalty
        Cost units per bike above the docks at the end of the night.
    max_visits
        Visits allowed per station per night.
    band_tolerance
        A station is "still expected empty" (or "full") when its final cost exceeds the curve's
        minimum by more than this and adding (removing) a bike would lower it.
    numbers, addresses
        Each station's public number (대여소 번호, on its sign; what drivers and the call centre
        name it by) and street address, from the station list, ``None`` for a station it does
        not know; the route sheets print them beside the id and name. ``None`` for a problem
        without them (a benchmark instance). The solvers never read them.
    """

    station_ids: tuple[str, ...]
    names: tuple[str, ...]
    lon: np.ndarray
    lat: np.ndarray
    docks: np.ndarray
    bikes: np.ndarray
    curves: tuple[np.ndarray, ...]
    depots: tuple[Depot, ...]
    trucks: tuple[Truck, ...]
    travel_s: np.ndarray
    distance_m: np.ndarray
    dissatisfaction_weight: float = 1.0
    drive_cost_per_km: float = 0.05
    overflow_penalty: float = 1.0
    max_visits: int = 1
    band_tolerance: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)
    numbers: tuple[int | None, ...] | None = None
    addresses: tuple[str | None, ...] | None = None

    def __post_init__(self) -> None:
        self._check_stations()
        self._check_fleet()
        m = len(self.depots) + len(self.station_ids)
        for name in ("travel_s", "distance_m"):
            arr = getattr(self, name)
            if arr.shape != (m, m):
                raise InputError(name, arr.shape, f"a square ({m}, {m}) matrix over depots + stations")
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise InputError(name, "negative or non-finite entries", "finite values >= 0")
        if self.max_visits < 1:
            raise InputError("max_visits", self.max_visits, ">= 1")

    def _check_stations(self) -> None:
        """One entry per station in every array; unique ids; stock and docks >= 0; usable curves."""
        n = len(self.station_ids)
        for name in ("names", "curves", "numbers", "addresses"):
            values = getattr(self, name)
            if values is not None and len(values) != n:
                raise InputError(name, len(values), f"one entry per station ({n})")
        for name in ("lon", "lat", "docks", "bikes"):
            arr = np.asarray(getattr(self, name))
            if arr.shape != (n,):
                raise InputError(name, arr.shape, f"shape ({n},)")
        if len(set(self.station_ids)) != n:
            dup = sorted({s for s in self.station_ids if self.station_ids.count(s) > 1})
            raise InputError("stations.station_id", dup[:5], "unique station ids")
        bikes = np.asarray(self.bikes)
        if np.any(bikes < 0):
            i = int(np.argmin(bikes))
            raise InputError(f"stations[{self.station_ids[i]}].bikes", int(bikes[i]), "an inventory >= 0")
        if np.any(np.asarray(self.docks) < 0):
            i = int(np.argmin(self.docks))
            raise InputError(f"stations[{self.station_ids[i]}].docks", int(self.docks[i]), "docks >= 0")
        for i, c in enumerate(self.curves):
            if c.ndim != 1 or c.size == 0 or not np.all(np.isfinite(c)):
                raise InputError(
                    f"stations[{self.station_ids[i]}].costs", c.shape, "a non-empty finite 1-D array"
                )

    def _check_fleet(self) -> None:
        """Unique depots and trucks; every truck at a known depot with a sane capacity and shift."""
        depot_ids = [d.id for d in self.depots]
        if len(set(depot_ids)) != len(depot_ids):
            raise InputError("depots.id", depot_ids, "unique depot ids")
        if not self.trucks:
            raise InputError("trucks", [], "at least one truck")
        truck_ids = [t.id for t in self.trucks]
        if len(set(truck_ids)) != len(truck_ids):
            raise InputError("trucks.id", truck_ids, "unique truck ids")
        for t in self.trucks:
            if t.depot not in depot_ids:
                raise InputError(f"trucks[{t.id}].depot", t.depot, f"one of the depots {depot_ids}")
            if t.capacity <= 0:
                raise InputError(f"trucks[{t.id}].capacity", t.capacity, "a capacity >= 1 bike")
            if t.start_load is not None and not 0 <= t.start_load <= t.capacity:
                raise InputError(f"trucks[{t.id}].start_load", t.start_load, f"0..{t.capacity} or free")
            if not t.shift_end > t.shift_start:
                raise InputError(
                    f"trucks[{t.id}].shift", [t.shift_start, t.shift_end], "shift end after shift start"
                )
            if t.load_seconds_per_bike < 0 or t.stop_seconds < 0:
                raise InputError(f"trucks[{t.id}].times", t.stop_seconds, "non-negative handling times")

    # ---------------------------------------------------------------- sizes and indices
    @property
    def n_stations(self) -> int:
        """Number of stations ``N``."""
        return len(self.station_ids)

    @property
    def n_depots(self) -> int:
        """Number of depots ``D``."""
        return len(self.depots)

    def depot_index(self, depot_id: str) -> int:
        """Index of a depot (also its node in the travel matrices)."""
        return [d.id for d in self.depots].index(depot_id)

    def node(self, station: int) -> int:
        """Matrix node of station index ``station``."""
        return self.n_depots + station

    @cached_property
    def index_of(self) -> dict[str, int]:
        """``station_id -> station index``."""
        return {s: i for i, s in enumerate(self.station_ids)}

    @property
    def max_capacity(self) -> int:
        """Largest truck capacity."""
        return max(t.capacity for t in self.trucks)

    # ---------------------------------------------------------------- costs
    @cached_property
    def cost_table(self) -> np.ndarray:
        """``(N, K+1)`` final cost of every station for ``k = 0..K`` bikes.

        ``K = max(bikes) + max_capacity * max_visits``: no plan can bring more to one station.
        """
        kmax = int(np.max(self.bikes, initial=0)) + self.max_capacity * self.max_visits
        out = np.empty((self.n_stations, kmax + 1), dtype=np.float64)
        k = np.arange(kmax + 1)
        for i, c in enumerate(self.curves):
            ext = _extend(c, kmax)
            over = np.maximum(0, k - int(self.docks[i]))
            out[i] = self.dissatisfaction_weight * ext + self.overflow_penalty * over
        return out

    def final_cost(self, station: int, k: int) -> float:
        """Cost of station ``station`` ending the night with ``k`` bikes (module docstring)."""
        if k < 0:
            raise ValueError(f"negative inventory {k}")
        tab = self.cost_table
        if k < tab.shape[1]:
            return float(tab[station, k])
        ext = _extend(self.curves[station], k)
        return float(
            self.dissatisfaction_weight * ext[k]
            + self.overflow_penalty * max(0, k - int(self.docks[station]))
        )

    def dissatisfaction(self, inventory: Sequence[int] | np.ndarray) -> float:
        """Unweighted sum of the curves at ``inventory`` (no overflow penalty)."""
        return float(sum(_extend(c, int(k))[int(k)] for c, k in zip(self.curves, inventory, strict=True)))

    def band(self, station: int) -> tuple[int, int]:
        """``[low, high]`` inventories whose final cost is within ``band_tolerance`` of the best."""
        row = self.cost_table[station]
        ok = np.flatnonzero(row <= row.min() + self.band_tolerance)
        return int(ok[0]), int(ok[-1])

    def risk(self, station: int, k: int) -> str:
        """``"empty"`` below the band, ``"full"`` above it, else ``"ok"``."""
        lo, hi = self.band(station)
        return "empty" if k < lo else "full" if k > hi else "ok"

    def truck_index(self, truck_id: str) -> int:
        """Index of a truck by id."""
        return [t.id for t in self.trucks].index(truck_id)


def _extend(c: np.ndarray, kmax: int) -> np.ndarray:
    """``c`` extended to ``kmax + 1`` entries with its last slope (never decreasing)."""
    if c.size > kmax:
        return c[: kmax + 1]
    slope = max(0.0, float(c[-1] - c[-2])) if c.size >= 2 else 0.0
    extra = c[-1] + slope * np.arange(1, kmax + 2 - c.size)
    return np.concatenate([c, extra])
