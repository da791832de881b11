"""Truck travel times between depots and stations: on the street network, or straight lines.

The one place that decides how a rebalancing problem gets its travel matrices, shared by the CLI
(``mobility rebalance``) and the API's rebalancing jobs, so both plan on the same times. Loading
the network is I/O (a cached array file after the first run); the matrices themselves come from
the network engine (:func:`mobility.network.matrix.travel_matrix`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mobility.errors import DataNotFoundError
from mobility.rebalancing.build import straight_line_matrices
from mobility.rebalancing.plan import RebalancingPlan
from mobility.rebalancing.problem import RebalancingProblem
from mobility.scenario.nightly import STRAIGHT_DETOUR, STRAIGHT_SPEED_KPH

if TYPE_CHECKING:
    from mobility.network.profiles import ProfiledNetwork

__all__ = ["STRAIGHT", "TruckTravel", "truck_travel", "with_street_paths"]

STRAIGHT = "straight"


@dataclass(frozen=True)
class TruckTravel:
    """Travel matrices over depots + stations, and how they were made.

    Attributes
    ----------
    seconds, metres
        ``(n, n)`` driving time and distance, rows and columns in the order of the points given.
    model
        What the times are, e.g. ``"osm-drive/truck_night"`` or ``"straight x1.35 @ 22 km/h"``.
    network, nodes
        The profiled street network and each point's snapped node (``None`` for straight lines);
        used to draw routes along the streets.
    note
        Why straight lines were used although a network was asked for (``None`` otherwise).
    """

    seconds: npt.NDArray[np.float64]
    metres: npt.NDArray[np.float64]
    model: str
    network: ProfiledNetwork | None = None
    nodes: npt.NDArray[np.int64] | None = None
    note: str | None = None


def truck_travel(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    source: str = "osm-drive",
    profile: str = "truck_night",
    straight_speed_kph: float = STRAIGHT_SPEED_KPH,
    straight_detour: float = STRAIGHT_DETOUR,
    fallback_to_straight: bool = True,
    data_dir: Path | None = None,
) -> TruckTravel:
    """Truck travel matrices between the points (depots first, then stations, by convention).

    Parameters
    ----------
    lon, lat
        WGS84 coordinates of the points.
    source
        A street network name known to :func:`mobility.network.load_network` (e.g. ``osm-drive``),
        or ``"straight"`` for great-circle distance × ``straight_detour`` at ``straight_speed_kph``.
    profile
        ``truck`` (day speeds by road class) or ``truck_night`` (night speeds).
    straight_speed_kph, straight_detour
        The straight-line model (also the fallback).
    fallback_to_straight
        When the network's data is missing: use straight lines and say so in ``note`` (``True``),
        or raise :class:`~mobility.errors.DataNotFoundError` (``False``).
    data_dir
        Seoul data directory (``None`` resolves it from the settings).
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    note = None
    if source != STRAIGHT:
        try:
            from mobility.network import TRUCK, TRUCK_NIGHT, apply_profile, load_network
            from mobility.network.matrix import travel_matrix
            from mobility.network.snap import snap_points

            net = load_network(source, data_dir)
            pnet = apply_profile(net, TRUCK_NIGHT if profile == "truck_night" else TRUCK)
            snapped = snap_points(pnet, x, y)
            return TruckTravel(
                seconds=np.asarray(travel_matrix(pnet, snapped, weight="time"), dtype=np.float64),
                metres=np.asarray(travel_matrix(pnet, snapped, weight="length"), dtype=np.float64),
                model=f"{source}/{profile}",
                network=pnet,
                nodes=np.asarray(snapped.node, dtype=np.int64),
            )
        except DataNotFoundError as exc:
            if not fallback_to_straight:
                raise
            note = f"street network {source!r} unavailable ({exc}); straight lines used"
    seconds, metres = straight_line_matrices(x, y, speed_kph=straight_speed_kph, detour=straight_detour)
    return TruckTravel(
        seconds=seconds,
        metres=metres,
        model=f"straight x{straight_detour} @ {straight_speed_kph} km/h",
        note=note,
    )


def with_street_paths(
    plan: RebalancingPlan, travel: TruckTravel, problem: RebalancingProblem
) -> RebalancingPlan:
    """The plan with each route's street polyline (depot → stops → depot) as lon/lat pairs.

    Routes of straight-line travel (no network) are returned unchanged.
    """
    if travel.network is None or travel.nodes is None:
        return plan
    from mobility.network.matrix import route_polylines

    nodes = travel.nodes
    routes = []
    for r in plan.routes:
        if not r.stops:
            routes.append(r)
            continue
        seq = [problem.depot_index(r.depot_id)]
        seq += [problem.n_depots + problem.index_of[s.station_id] for s in r.stops]
        seq.append(seq[0])
        pairs = [(int(nodes[a]), int(nodes[b])) for a, b in itertools.pairwise(seq)]
        pts: list[list[float]] = []
        for poly in route_polylines(travel.network, pairs):
            for x, y in np.asarray(poly).reshape(-1, 2):
                p = [round(float(x), 6), round(float(y), 6)]
                if not pts or pts[-1] != p:
                    pts.append(p)
        routes.append(r.model_copy(update={"path": pts}))
    return plan.model_copy(update={"routes": tuple(routes)})
