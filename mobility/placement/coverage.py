"""Walking coverage of a set of stations: the one way every coverage figure is counted.

A resident is covered when a station is within ``radius_m`` metres of **walking on the street
network** (the ``walk`` profile of the scenario's coverage network) from their 100 m population-grid
cell: the cell's snap distance to the network, plus the network path, plus the station's snap
distance (:func:`mobility.placement.candidates.walking_cover`). This is how the planner counts
``covered_share`` in ``plan.json``, and the maps and layers of any station list print the same
number through :func:`walking_coverage`. Straight-line buffers may still be *drawn* as catchments;
they are never counted.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from mobility.arrays import FloatArray
from mobility.cache import array_key, cache_key, cached_load
from mobility.placement.candidates import snap, walking_cover

__all__ = ["WalkingCoverage", "covered_points", "walking_coverage"]


@dataclass(frozen=True)
class WalkingCoverage:
    """Residents within a walk of a station set, citywide and per district.

    Attributes
    ----------
    radius_m
        Walking radius (metres).
    network
        The street network walked on (a named network).
    population
        Residents counted (the populated cells of the 100 m grid).
    covered_population
        Residents within ``radius_m`` of walking of at least one station.
    covered_share
        ``covered_population / population``.
    by_gu
        Covered share of each district's grid residents (Korean district names).
    """

    radius_m: float
    network: str
    population: float
    covered_population: float
    covered_share: float
    by_gu: dict[str, float]


def covered_points(
    graph: sp.csr_matrix,
    node_x: FloatArray,
    node_y: FloatArray,
    point_node: npt.NDArray[np.int64],
    point_snap: FloatArray,
    station_x: FloatArray,
    station_y: FloatArray,
    radius_m: float,
) -> npt.NDArray[np.bool_]:
    """Which demand points a station set covers (metric coordinates, EPSG:5179).

    ``graph`` is the walking network's CSR matrix of lengths; ``node_x/node_y`` its nodes;
    ``point_node/point_snap`` the demand points' snapping. Stations are snapped here.
    """
    if len(station_x) == 0:
        return np.zeros(len(point_node), dtype=bool)
    node, off = snap(node_x, node_y, np.asarray(station_x, float), np.asarray(station_y, float))
    cover = walking_cover(graph, node, off, point_node, point_snap, radius_m)
    return np.asarray(cover.sum(axis=0)).ravel() > 0


def walking_coverage(
    lon: FloatArray,
    lat: FloatArray,
    *,
    radius_m: float = 300.0,
    network: str = "osm-all",
    data_dir: Path | None = None,
) -> WalkingCoverage:
    """Walking coverage of stations at ``lon``/``lat`` (WGS84) over the 100 m population grid.

    The result is cached on disk, keyed on the station coordinates, the radius, the population
    grid file, the network's files (:func:`~mobility.network.graph.network_key`) and the walk
    profile's parameters.
    """
    from mobility.network.graph import network_key
    from mobility.network.profiles import get_profile
    from mobility.sources.population import load_population_grid

    lon_a, lat_a = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    grid_loaded = load_population_grid(data_dir)
    key = cache_key(
        grid_loaded.sources,
        stations=array_key(lon_a, lat_a),
        radius_m=radius_m,
        network=network,
        network_key=network_key(network, data_dir),
        walk=get_profile("walk").key(),
        v=2,
    )

    def build(tmp: Path) -> None:
        result = _compute(lon_a, lat_a, grid_loaded.table, radius_m, network, data_dir)
        tmp.write_text(json.dumps(asdict(result), ensure_ascii=False), encoding="utf-8")

    def load(path: Path) -> WalkingCoverage:
        return WalkingCoverage(**json.loads(path.read_text(encoding="utf-8")))

    return cached_load("coverage", key, ".json", build, load)


def _compute(
    lon: FloatArray, lat: FloatArray, grid: pd.DataFrame, radius_m: float, network: str, data_dir: Path | None
) -> WalkingCoverage:
    from mobility.network.profiles import profiled
    from mobility.network.street import to_metric

    g = grid[grid["population"] > 0].reset_index(drop=True)
    pnet = profiled(network, "walk", data_dir)
    nx_, ny_ = np.asarray(pnet.x, dtype=np.float64), np.asarray(pnet.y, dtype=np.float64)
    gx, gy = g["x_5179"].to_numpy(np.float64), g["y_5179"].to_numpy(np.float64)
    point_node, point_snap = snap(nx_, ny_, gx, gy)
    sx, sy = to_metric(lon, lat)
    covered = covered_points(
        pnet.csr("length"), nx_, ny_, point_node, point_snap, np.asarray(sx), np.asarray(sy), radius_m
    )
    pop = g["population"].to_numpy(np.float64)
    gu = g["gu_kr"].astype(str).to_numpy()
    by_gu = {}
    for name in sorted(set(gu)):
        in_gu = gu == name
        total = float(pop[in_gu].sum())
        by_gu[name] = round(float(pop[in_gu & covered].sum()) / total, 5) if total else 0.0
    total = float(pop.sum())
    return WalkingCoverage(
        radius_m=float(radius_m),
        network=network,
        population=total,
        covered_population=float(pop[covered].sum()),
        covered_share=round(float(pop[covered].sum()) / total, 5) if total else 0.0,
        by_gu=by_gu,
    )
