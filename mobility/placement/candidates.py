"""Demand points, candidate sites and walking coverage, as plain arrays.

- **Demand points**: the 100 m population grid (one point per populated cell, weight = residents),
  plus optional trip generators (subway stations) with a resident-equivalent weight.
- **Candidate sites**: walkable street-network nodes inside Seoul, thinned to the node nearest the
  centre of each ``grid_m`` square, never on motorways or trunk roads (the walking profile already
  excludes them), never within the minimum spacing of an existing station, never in a forbidden
  polygon. Candidates come from the street network only, never from later station lists.
- **Coverage**: a point is covered by a site when ``snap(point) + network(point node, site node)
  + snap(site) <= radius`` on the walking network (street distances, not straight lines).

Everything here is pure: arrays in, arrays out; loading lives in :mod:`mobility.placement.pipeline`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from mobility.arrays import BoolArray, FloatArray, IntArray
from mobility.errors import InputError


@dataclass(frozen=True)
class Places:
    """Points in the city: where they are, in both reference systems, and in which district.

    Attributes
    ----------
    x, y
        EPSG:5179 metres.
    lon, lat
        WGS84.
    gu, dong
        District and dong names ('' when unknown).
    """

    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray
    gu: npt.NDArray[np.str_]
    dong: npt.NDArray[np.str_]

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class DemandPoints(Places):
    """Where residents (and trip generators) are (positions and districts: :class:`Places`).

    Attributes
    ----------
    weight
        Objective weight (residents, or resident-equivalents for trip generators).
    population
        Residents (0 for trip generators); KPIs count these.
    kind
        ``"grid"`` or ``"subway"`` per point.
    """

    weight: FloatArray
    population: FloatArray
    kind: npt.NDArray[np.str_]


@dataclass(frozen=True)
class CandidateSites(Places):
    """Sites where a new station may go (street-network nodes; positions and districts: :class:`Places`).

    Attributes
    ----------
    node
        Node index in the walking network.
    """

    node: IntArray

    def subset(self, keep: npt.NDArray[np.bool_] | IntArray) -> CandidateSites:
        """The candidates selected by a mask or index array."""
        return CandidateSites(
            node=self.node[keep],
            x=self.x[keep],
            y=self.y[keep],
            lon=self.lon[keep],
            lat=self.lat[keep],
            gu=self.gu[keep],
            dong=self.dong[keep],
        )


def thin_to_grid(x: FloatArray, y: FloatArray, grid_m: float) -> IntArray:
    """Indices of the points nearest the centre of each occupied ``grid_m`` square (sorted).

    Deterministic: ties go to the lowest index.
    """
    if grid_m <= 0:
        raise InputError("candidates.grid_m", grid_m, "a cell size > 0 metres")
    cx = np.floor(x / grid_m)
    cy = np.floor(y / grid_m)
    d2 = (x - (cx + 0.5) * grid_m) ** 2 + (y - (cy + 0.5) * grid_m) ** 2
    order = np.lexsort((np.arange(len(x)), d2, cy, cx))
    cells = np.stack([cx[order], cy[order]], axis=1)
    first = np.ones(len(order), dtype=bool)
    first[1:] = (cells[1:] != cells[:-1]).any(axis=1)
    return np.sort(order[first]).astype(np.int64)


def thin_to_spacing(x: FloatArray, y: FloatArray, min_m: float, priority: FloatArray) -> IntArray:
    """Greedy Poisson-disk thinning: keep points in decreasing ``priority`` (ties: lower index),
    skipping any closer than ``min_m`` to one already kept. Returns the kept indices, sorted.

    Every pair of kept points is at least ``min_m`` apart, so a model choosing among them needs
    no spacing constraints between new stations.
    """
    n = len(x)
    if n == 0 or min_m <= 0:
        return np.arange(n, dtype=np.int64)
    order = np.lexsort((np.arange(n), -np.asarray(priority, dtype=np.float64)))
    cx = np.floor(x / min_m).astype(np.int64)
    cy = np.floor(y / min_m).astype(np.int64)
    buckets: dict[tuple[int, int], list[int]] = {}
    kept: list[int] = []
    r2 = min_m * min_m
    for i in order.tolist():
        ci, cj = int(cx[i]), int(cy[i])
        ok = True
        for a in (ci - 1, ci, ci + 1):
            for b in (cj - 1, cj, cj + 1):
                for k in buckets.get((a, b), ()):
                    if (x[k] - x[i]) ** 2 + (y[k] - y[i]) ** 2 < r2:
                        ok = False
                        break
                if not ok:
                    break
            if not ok:
                break
        if ok:
            kept.append(i)
            buckets.setdefault((ci, cj), []).append(i)
    return np.sort(np.array(kept, dtype=np.int64))


def euclidean_reach(
    x: FloatArray, y: FloatArray, px: FloatArray, py: FloatArray, w: FloatArray, r: float
) -> FloatArray:
    """Weight of the points ``(px, py)`` within ``r`` metres (straight line) of each ``(x, y)``."""
    if len(px) == 0 or len(x) == 0:
        return np.zeros(len(x))
    tree = cKDTree(np.column_stack([px, py]))
    lists = tree.query_ball_point(np.column_stack([x, y]), r=r)
    return np.array([float(w[idx].sum()) if idx else 0.0 for idx in lists], dtype=np.float64)


def far_from(x: FloatArray, y: FloatArray, ox: FloatArray, oy: FloatArray, min_m: float) -> BoolArray:
    """True where a point is at least ``min_m`` metres (straight line) from every other point ``(ox, oy)``."""
    if len(ox) == 0 or min_m <= 0:
        return np.ones(len(x), dtype=bool)
    d, _ = cKDTree(np.column_stack([ox, oy])).query(np.column_stack([x, y]), k=1)
    return np.asarray(d >= min_m)


def conflict_pairs(x: FloatArray, y: FloatArray, min_m: float) -> sp.csr_matrix:
    """Symmetric boolean CSR of site pairs closer than ``min_m`` (they may not both open)."""
    n = len(x)
    if min_m <= 0 or n == 0:
        return sp.csr_matrix((n, n), dtype=bool)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(r=min_m, output_type="ndarray", eps=0.0)
    # query_pairs uses <= r; spacing requires >= min_m, so exactly min_m apart is allowed
    if len(pairs):
        d = np.hypot(x[pairs[:, 0]] - x[pairs[:, 1]], y[pairs[:, 0]] - y[pairs[:, 1]])
        pairs = pairs[d < min_m]
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]]) if len(pairs) else np.zeros(0, dtype=np.int64)
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]]) if len(pairs) else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(n, n))


def snap(node_x: FloatArray, node_y: FloatArray, x: FloatArray, y: FloatArray) -> tuple[IntArray, FloatArray]:
    """Nearest network node of each point and the straight-line distance to it (metres)."""
    d, idx = cKDTree(np.column_stack([node_x, node_y])).query(np.column_stack([x, y]), k=1)
    return np.asarray(idx, dtype=np.int64), np.asarray(d, dtype=np.float64)


def walking_cover(
    graph: sp.csr_matrix,
    site_node: IntArray,
    site_snap: FloatArray,
    point_node: IntArray,
    point_snap: FloatArray,
    radius: float,
    *,
    batch: int = 256,
) -> sp.csr_matrix:
    """Which points each site covers within ``radius`` metres of walking.

    Parameters
    ----------
    graph
        Walking network adjacency in metres (symmetric: walking ignores one-way rules).
    site_node, site_snap
        Network node of every site and its snap distance.
    point_node, point_snap
        Network node of every demand point and its snap distance.
    radius
        Coverage radius, metres.
    batch
        Sites per bounded Dijkstra call (memory: ``batch x n_nodes`` floats).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n_sites, n_points)`` boolean; ``[j, i]`` when ``site_snap[j] + d(site_j, point_i)
        + point_snap[i] <= radius``.
    """
    n_sites, n_points = len(site_node), len(point_node)
    # points grouped by node, so one distance per node serves every point snapped there
    order = np.argsort(point_node, kind="stable")
    sorted_nodes = point_node[order]
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for start in range(0, n_sites, batch):
        idx = np.arange(start, min(start + batch, n_sites))
        budget = radius - site_snap[idx]
        ok = budget >= 0
        if not ok.any():
            continue
        idx, budget = idx[ok], budget[ok]
        uniq, inv = np.unique(site_node[idx], return_inverse=True)
        dist = dijkstra(graph, directed=False, indices=uniq, limit=float(budget.max()))
        for k, j in enumerate(idx):
            drow = dist[inv[k]]
            reach = np.flatnonzero(drow <= budget[k])
            if len(reach) == 0:
                continue
            lo = np.searchsorted(sorted_nodes, reach, side="left")
            hi = np.searchsorted(sorted_nodes, reach, side="right")
            has = hi > lo
            if not has.any():
                continue
            pts = np.concatenate([order[a:b] for a, b in zip(lo[has], hi[has], strict=True)])
            total = drow[point_node[pts]] + point_snap[pts] + site_snap[j]
            pts = pts[total <= radius]
            rows.append(np.full(len(pts), j, dtype=np.int64))
            cols.append(pts.astype(np.int64))
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(r), dtype=bool), (r, c)), shape=(n_sites, n_points))


def points_in_polygons(lon: FloatArray, lat: FloatArray, polygons: list[object]) -> BoolArray:
    """True where a point lies inside (or on) any of the shapely polygons."""
    import shapely

    inside = np.zeros(len(lon), dtype=bool)
    if not polygons:
        return inside
    pts = shapely.points(lon, lat)
    for poly in polygons:
        inside |= np.asarray(shapely.intersects(poly, pts))
    return inside


__all__ = [
    "CandidateSites",
    "DemandPoints",
    "Places",
    "conflict_pairs",
    "euclidean_reach",
    "far_from",
    "points_in_polygons",
    "snap",
    "thin_to_grid",
    "thin_to_spacing",
    "walking_cover",
]
