"""Small synthetic rebalancing problems (planar coordinates, straight-line times)."""

from __future__ import annotations

import numpy as np

from mobility.rebalancing.problem import Depot, RebalancingProblem, Truck, curve_from_interval


def make_problem(
    seed: int = 0,
    n: int = 8,
    n_trucks: int = 1,
    capacity: int = 5,
    *,
    shift_hours: float = 8.0,
    start_load: int | None = 0,
    n_depots: int = 1,
    max_bikes: int = 10,
    speed_kph: float = 20.0,
    extent_km: float = 5.0,
    drive_cost_per_km: float = 0.05,
) -> RebalancingProblem:
    """A random instance: stations in a ``extent_km`` square around Seoul City Hall."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, extent_km, size=(n_depots + n, 2))
    dist_m = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)) * 1000.0
    travel = dist_m / (speed_kph / 3.6)
    docks = rng.integers(5, 15, size=n)
    bikes = rng.integers(0, max_bikes + 1, size=n)
    curves = []
    for i in range(n):
        low = int(rng.integers(0, docks[i] // 2 + 1))
        high = int(low + rng.integers(0, 4))
        curves.append(curve_from_interval(low, high, int(docks[i]) + 5, per_bike=1.0))
    depots = tuple(
        Depot(f"D{d}", f"창고{d}", 126.97 + xy[d, 0] / 88.0, 37.56 + xy[d, 1] / 111.0)
        for d in range(n_depots)
    )
    trucks = tuple(
        Truck(
            f"T{t}",
            f"D{t % n_depots}",
            capacity,
            79200.0,
            79200.0 + shift_hours * 3600.0,
            load_seconds_per_bike=30.0,
            stop_seconds=120.0,
            start_load=start_load,
        )
        for t in range(n_trucks)
    )
    return RebalancingProblem(
        station_ids=tuple(f"ST-{i}" for i in range(n)),
        names=tuple(f"대여소 {i}" for i in range(n)),
        lon=126.97 + xy[n_depots:, 0] / 88.0,
        lat=37.56 + xy[n_depots:, 1] / 111.0,
        docks=docks,
        bikes=bikes,
        curves=tuple(curves),
        depots=depots,
        trucks=trucks,
        travel_s=travel,
        distance_m=dist_m,
        drive_cost_per_km=drive_cost_per_km,
    )
