"""Cluster-first, route-second decomposition for the whole city (Schuijbroek et al. 2017).

Stations worth a visit (those whose final cost a single truck visit can lower) are clustered
into one zone per truck group (the trucks of one depot taken ``trucks_per_zone`` at a time) with
k-means on their planar coordinates, weighted by what a visit can gain; zones are matched to
truck groups by a minimum-cost assignment on the mean travel time from each group's depot to the
zone's stations (Hungarian method). Each zone is a small
:class:`RebalancingProblem` (its stations, all depots, its trucks) that is solved on its own —
in parallel processes — and the zone routes are then joined and improved on the whole problem,
where the search's neighbourhoods (stations around a random seed, the routes that serve them)
cross zone borders and repair them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans

from mobility.rebalancing.problem import RebalancingProblem

__all__ = ["Zone", "make_zones", "subproblem"]


@dataclass(frozen=True)
class Zone:
    """Station indices and truck indices (of the whole problem) solved together."""

    stations: np.ndarray
    trucks: tuple[int, ...]


def subproblem(
    problem: RebalancingProblem, stations: np.ndarray, trucks: tuple[int, ...]
) -> RebalancingProblem:
    """The problem restricted to ``stations`` and ``trucks`` (all depots kept, nodes renumbered)."""
    st = np.asarray(stations, dtype=np.int64)
    nodes = np.concatenate([np.arange(problem.n_depots), problem.n_depots + st])
    return replace(
        problem,
        station_ids=tuple(problem.station_ids[i] for i in st),
        names=tuple(problem.names[i] for i in st),
        numbers=None if problem.numbers is None else tuple(problem.numbers[i] for i in st),
        addresses=None if problem.addresses is None else tuple(problem.addresses[i] for i in st),
        lon=np.asarray(problem.lon)[st],
        lat=np.asarray(problem.lat)[st],
        docks=np.asarray(problem.docks)[st],
        bikes=np.asarray(problem.bikes)[st],
        curves=tuple(problem.curves[i] for i in st),
        trucks=tuple(problem.trucks[t] for t in trucks),
        travel_s=problem.travel_s[np.ix_(nodes, nodes)],
        distance_m=problem.distance_m[np.ix_(nodes, nodes)],
    )


def make_zones(
    problem: RebalancingProblem,
    candidates: np.ndarray,
    gain: np.ndarray,
    *,
    trucks_per_zone: int = 1,
    seed: int = 0,
) -> list[Zone]:
    """Split ``candidates`` into zones, one per group of ``trucks_per_zone`` trucks of one depot.

    Parameters
    ----------
    problem
        The whole problem.
    candidates
        Station indices worth visiting.
    gain
        ``(N,)`` what one visit can gain at each station (k-means weights).
    trucks_per_zone
        Trucks solved together in one zone (same depot).
    seed
        k-means seed.

    Returns
    -------
    list of Zone
        One per truck group. ``k = min(groups, candidates)`` clusters (k-means, 4 restarts,
        on an equirectangular projection in metres, each station weighted by its ``gain`` plus
        a tenth of the mean gain so that donors count too; ``k = 1`` is one cluster without
        k-means); the assignment

        ``min sum_{g, c} T[g, c] a[g, c]``, each cluster to exactly one group, each group at
        most one cluster, ``T[g, c]`` the mean travel seconds from group ``g``'s depot to
        cluster ``c``,

        is solved by ``scipy.optimize.linear_sum_assignment``; groups left without a cluster get
        an empty zone. Without candidates every zone is empty.
    """
    groups: list[tuple[int, ...]] = []
    by_depot: dict[str, list[int]] = {}
    for ti, t in enumerate(problem.trucks):
        by_depot.setdefault(t.depot, []).append(ti)
    for ts in by_depot.values():
        for a in range(0, len(ts), trucks_per_zone):
            groups.append(tuple(ts[a : a + trucks_per_zone]))
    cand = np.asarray(candidates, dtype=np.int64)
    k = min(len(groups), max(1, cand.size))
    if cand.size == 0:
        return [Zone(np.zeros(0, dtype=np.int64), g) for g in groups]
    lat0 = float(np.mean(problem.lat))
    xy = np.column_stack(
        [
            np.asarray(problem.lon)[cand] * 111_320.0 * np.cos(np.radians(lat0)),
            np.asarray(problem.lat)[cand] * 110_540.0,
        ]
    )
    if k == 1:
        labels = np.zeros(cand.size, dtype=np.int64)
    else:
        km = KMeans(n_clusters=k, n_init=4, random_state=seed)
        w = gain[cand] + 0.1 * max(float(gain[cand].mean()), 1e-6)  # donors count too
        labels = km.fit_predict(xy, sample_weight=w)
    # cost of giving cluster c to truck group g: mean travel time from the group's depot
    cost = np.zeros((len(groups), k))
    for gi, g in enumerate(groups):
        d = problem.depot_index(problem.trucks[g[0]].depot)
        for c in range(k):
            members = cand[labels == c]
            cost[gi, c] = (
                float(problem.travel_s[d, problem.n_depots + members].mean()) if members.size else 0.0
            )
    rows, cols = linear_sum_assignment(cost)
    zones = [Zone(cand[labels == c], groups[g]) for g, c in zip(rows, cols, strict=True)]
    assigned = set(rows.tolist())
    zones += [Zone(np.zeros(0, dtype=np.int64), groups[g]) for g in range(len(groups)) if g not in assigned]
    return zones
