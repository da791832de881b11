"""A valid lower bound for symmetric 1-PDTSP instances: the LP relaxation with capacity cuts.

Formulation (Hernández-Pérez & Salazar-González 2004, "A branch-and-cut algorithm for a
traveling salesman problem with pickup and delivery", Discrete Applied Mathematics 145: the
undirected model with rounded Benders cuts): one variable ``0 <= x_e <= 1`` per edge
``e = {i, j}``, ``i < j``, of the complete graph on the ``N`` vertices (depot included), cost
``c_e = c[i, j]`` (the upper triangle: the instance is taken as symmetric)::

    min  Σ_e c_e x_e
    s.t. x(δ({i})) = 2                                   every vertex i
         x(δ(S))  >= 2 · max(1, ceil(|q(S)| / Q))         every S ⊂ V, 2 <= |S| <= N - 2

where ``q(S)`` sums the demands of ``S`` (the depot's demand balances the rest, so
``|q(S)| = |q(V \\ S)|``). The cut is valid for every tour: the tour crosses ``δ(S)``
``x(δ(S)) / 2`` times in each direction, each crossing carries at most ``Q`` units, and the net
flow out of ``S`` is ``q(S)``. With ``ceil`` = 1 it is the subtour elimination constraint.

Cutting planes: solve the LP (HiGHS through ``scipy.optimize.linprog``), separate violated
cuts, add the 60 most violated new ones (a set and its complement count as one), repeat until
none is found or after 400 LPs. Separation: the connected components of the support graph
(each gets its cut when there are several), else the global minimum cut (Stoer–Wagner), and
greedy set growth from every vertex with ``λ`` in ``{0, 0.5, 2}``: add the vertex ``v`` outside
``S`` with the largest ``x(v, S) + λ · sign(q(S)) · q_v / Q`` (for ``λ > 0`` only among those
with ``x(v, S) > 0``), ``N // 2`` times at most, and check every prefix. Separation is
heuristic for the capacity cuts, so the final LP value need not be the full relaxation's value;
it is a valid lower bound whatever cuts were found, because every cut added is valid. The
printed bound is ``ceil`` of the LP value (integer costs).

Tour merging (``--merge-runs R [--merge-seconds S] [--knn K] --milp-seconds T``): the same integer
model (:func:`milp_bound`, no starting cuts, at least 1 s) restricted to the edges of the tours
of ``R`` engine portfolios of ``S`` seconds each (seeds 0, 2, …; and each vertex's ``K`` nearest
neighbours): the best tour over those edges, which is never worse than the best of the pool
since its edges are included (the "incomplete optimization" of Hernández-Pérez &
Salazar-González 2004, "Heuristics for the one-commodity pickup-and-delivery traveling salesman
problem", Transportation Science 38), or, when the time runs out first, only a lower bound for
the tours over those edges.

Usage: ``.venv/bin/python bench/pdtsp_bound.py ../shared/benchmarks/pdtsp/instances/n100q*.tsp``
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence

import networkx as nx
import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from mobility.benchcli import (
    existing_file,
    non_negative_float,
    non_negative_int,
    positive_float,
    run_main,
)
from mobility.machine import describe
from mobility.rebalancing.benchmark import BenchmarkParams, solve_instance
from mobility.rebalancing.formats import BenchmarkInstance, read_pdtsp


def _need(q: np.ndarray, cap: int, members: np.ndarray) -> int:
    """Right-hand side ``2 · max(1, ceil(|q(S)| / Q))`` for the set ``members``."""
    return 2 * max(1, math.ceil(abs(int(q[members].sum())) / cap - 1e-9))


def _boundary(eid: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Edge indices of ``δ(S)`` for ``S = members`` (``eid``: vertex pair → edge index)."""
    mask = np.zeros(eid.shape[0], dtype=bool)
    mask[members] = True
    return eid[np.ix_(members, np.flatnonzero(~mask))].ravel()


def _grow(xm: np.ndarray, q: np.ndarray, cap: int, seed: int, lam: float) -> list[tuple[float, np.ndarray]]:
    """Greedy growth from ``seed``: every prefix set whose capacity cut is violated."""
    n = xm.shape[0]
    deg = xm.sum(axis=1)
    inside = np.zeros(n, dtype=bool)
    inside[seed] = True
    conn = xm[seed].copy()  # x(v, S) for every v
    cut = float(deg[seed])  # x(δ(S))
    qs = int(q[seed])
    out = []
    for _ in range(n // 2):
        score = conn + lam * np.sign(qs) * q / cap
        score[inside] = -np.inf
        if lam > 0:
            score[conn <= 1e-9] = -np.inf
        v = int(np.argmax(score))
        if not np.isfinite(score[v]):
            break
        inside[v] = True
        cut += float(deg[v]) - 2.0 * float(conn[v])
        conn += xm[v]
        qs += int(q[v])
        need = 2 * max(1, math.ceil(abs(qs) / cap - 1e-9))
        if cut < need - 1e-6:
            out.append((need - cut, np.flatnonzero(inside)))
    return out


def lower_bound(
    cost: np.ndarray, q: np.ndarray, cap: int, *, max_rounds: int = 400, cuts_per_round: int = 60
) -> tuple[float, list[np.ndarray], int]:
    """LP bound with cutting planes (module docstring): ``(LP value, cut sets, rounds)``."""
    n = cost.shape[0]
    iu, ju = np.triu_indices(n, 1)
    m = iu.size
    c = cost[iu, ju].astype(np.float64)
    rows = np.concatenate([np.arange(m), np.arange(m)])
    a_eq = csr_matrix((np.ones(2 * m), (np.concatenate([iu, ju]), rows)), shape=(n, m))
    b_eq = np.full(n, 2.0)
    eid = np.full((n, n), -1, dtype=np.int64)
    eid[iu, ju] = np.arange(m)
    eid[ju, iu] = np.arange(m)
    cuts: list[np.ndarray] = []
    rhs: list[float] = []
    seen: set[bytes] = set()
    val = 0.0
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        if cuts:
            data, ri, ci = [], [], []
            for k, s in enumerate(cuts):
                e = _boundary(eid, s)
                ri.append(np.full(e.size, k))
                ci.append(e)
                data.append(np.full(e.size, -1.0))
            a_ub = csr_matrix(
                (np.concatenate(data), (np.concatenate(ri), np.concatenate(ci))), shape=(len(cuts), m)
            )
            res = linprog(
                c, A_ub=a_ub, b_ub=-np.asarray(rhs), A_eq=a_eq, b_eq=b_eq, bounds=(0, 1), method="highs"
            )
        else:
            res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, 1), method="highs")
        if res.status != 0:
            raise RuntimeError(res.message)
        val = float(res.fun)
        x = res.x
        xm = np.zeros((n, n))
        xm[iu, ju] = x
        xm[ju, iu] = x
        found: list[tuple[float, np.ndarray]] = []
        g = nx.Graph()
        g.add_nodes_from(range(n))
        sup = np.flatnonzero(x > 1e-9)
        g.add_weighted_edges_from((int(iu[e]), int(ju[e]), float(x[e])) for e in sup)
        comps = [np.array(sorted(cc)) for cc in nx.connected_components(g)]
        if len(comps) > 1:
            for s in comps:
                found.append((float(_need(q, cap, s)), s))
        else:
            cutval, (a, _) = nx.stoer_wagner(g)
            s = np.array(sorted(a))
            if cutval < _need(q, cap, s) - 1e-6:
                found.append((_need(q, cap, s) - cutval, s))
        for seed in range(n):
            for lam in (0.0, 0.5, 2.0):
                found.extend(_grow(xm, q, cap, seed, lam))
        found.sort(key=lambda t: -t[0])
        added = 0
        for viol, s in found:
            if viol <= 1e-6:
                continue
            key = np.sort(s if 0 not in s else np.setdiff1d(np.arange(n), s)).tobytes()
            if key in seen:
                continue
            seen.add(key)
            cuts.append(s)
            rhs.append(float(_need(q, cap, s)))
            added += 1
            if added >= cuts_per_round:
                break
        if not added:
            break
    return val, cuts, rounds


def _load_range(q: np.ndarray, path: list[int]) -> int:
    load = np.cumsum(q[path])
    return int(max(load.max(), 0) - min(load.min(), 0))


def _infeasible_path(q: np.ndarray, cap: int, cycle: list[int]) -> list[int] | None:
    """The shortest run of consecutive vertices of ``cycle`` (the depot excluded) whose running
    load spans more than ``cap``: no tour can visit them consecutively, in either direction."""
    seq = cycle[1:]  # cycle[0] is the depot
    best: list[int] | None = None
    for i in range(len(seq)):
        lo = hi = acc = 0
        for j in range(i, len(seq)):
            acc += int(q[seq[j]])
            lo, hi = min(lo, acc), max(hi, acc)
            if hi - lo > cap:
                if best is None or j - i + 1 < len(best):
                    best = seq[i : j + 1]
                break
    return best


def milp_bound(
    cost: np.ndarray,
    q: np.ndarray,
    cap: int,
    sets: list[np.ndarray],
    *,
    time_limit: float,
    edges: np.ndarray | None = None,
) -> tuple[float, float | None, int]:
    """Integer relaxation with lazy cuts: ``(lower bound, optimal tour value or None, solves)``.

    The MILP over ``x`` with the degree equations and the capacity cuts of ``sets`` is a
    relaxation of the 1-PDTSP, so its dual bound is a valid lower bound even when a solve stops
    at its limit. An integer optimum that is not a load-feasible tour gets new cuts: a capacity
    cut for each of its subtours, or, for one Hamiltonian cycle whose load breaks ``Q``, the
    capacity cut of its shortest run of consecutive vertices whose load spans more than ``Q`` (the
    run's two end loads differ by more than ``Q``, so the run's net demand exceeds ``Q`` and the
    cycle, crossing it twice, violates its cut; the cuts are exact on integer points), plus those
    the greedy growth finds (the first violated prefix of each start vertex and ``λ``). When the
    integer optimum is a feasible tour, it is optimal. Each solve is given the time left (at
    least 1 s); the loop ends when ``time_limit`` has passed or a solve stops without an
    optimum, and the answer is the largest of the solves' dual bounds and optimal values.

    With ``edges`` (a mask over the edges ``{i, j}``, ``i < j``, in ``np.triu_indices`` order)
    every other edge is fixed at 0. The answer is then about that graph, not the instance: the
    optimal tour over those edges (tour merging when they are the union of good tours' edges,
    the "incomplete optimization" of Hernández-Pérez & Salazar-González 2004, Transportation
    Science 38), an upper bound of
    the instance's optimum, and the dual bound holds for tours over those edges only.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = cost.shape[0]
    iu, ju = np.triu_indices(n, 1)
    m = iu.size
    c = cost[iu, ju].astype(np.float64)
    eid = np.full((n, n), -1, dtype=np.int64)
    eid[iu, ju] = np.arange(m)
    eid[ju, iu] = np.arange(m)
    rows = [np.concatenate([eid[v, :v], eid[v, v + 1 :]]) for v in range(n)]
    lbs = [2.0] * n
    ubs = [2.0] * n

    def add_cut(members: np.ndarray) -> None:
        rows.append(_boundary(eid, members))
        lbs.append(float(_need(q, cap, members)))
        ubs.append(np.inf)

    for sset in sets:
        add_cut(sset)
    best = 0.0
    t0 = time.perf_counter()
    solves = 0
    while time.perf_counter() - t0 < time_limit:
        ri = np.concatenate([np.full(r.size, k) for k, r in enumerate(rows)])
        ci = np.concatenate(rows)
        a = csr_matrix((np.ones(ci.size), (ri, ci)), shape=(len(rows), m))
        left = time_limit - (time.perf_counter() - t0)
        res = milp(
            c,
            constraints=LinearConstraint(a, np.asarray(lbs), np.asarray(ubs)),
            integrality=np.ones(m),
            bounds=Bounds(0, 1 if edges is None else edges.astype(np.float64)),
            options={"time_limit": max(1.0, left), "disp": False},
        )
        solves += 1
        dual = getattr(res, "mip_dual_bound", None)
        if dual is not None and np.isfinite(dual):
            best = max(best, float(dual))
        if res.status != 0 or res.x is None:
            break  # time limit: its dual bound is the answer
        best = max(best, float(res.fun))
        x = np.rint(res.x).astype(np.int64)
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from((int(iu[e]), int(ju[e])) for e in np.flatnonzero(x))
        comps = [np.array(sorted(cc)) for cc in nx.connected_components(g)]
        if len(comps) > 1:
            for sset in comps:
                add_cut(sset)
            continue
        cycle = [0]
        prev, cur = -1, 0
        while True:
            nxt = [int(v) for v in g.neighbors(cur) if v != prev]
            if not nxt or nxt[0] == 0:
                break
            prev, cur = cur, nxt[0]
            cycle.append(cur)
        path = _infeasible_path(q, cap, cycle)
        if path is None:
            return best, float(res.fun), solves
        # the run's end loads differ by more than Q (it is the shortest such run), so its
        # vertex set violates the rounded capacity cut: the tour crosses it twice, needs 4
        add_cut(np.array(sorted(path)))
        xm = np.zeros((n, n))
        xm[iu, ju] = x
        xm[ju, iu] = x
        for seed in range(n):
            for lam in (0.0, 0.5, 2.0):
                for _, gset in _grow(xm, q, cap, seed, lam)[:1]:
                    add_cut(gset)
    return best, None, solves


def tour_graph(cost: np.ndarray, tours: list[list[int]], knn: int = 0) -> np.ndarray:
    """Mask over the edges ``{i, j}``, ``i < j`` (``np.triu_indices`` order): those of the
    ``tours`` (vertex sequences, the depot 0 added where missing) and each vertex's ``knn``
    nearest neighbours."""
    n = cost.shape[0]
    adj = np.zeros((n, n), dtype=bool)
    for tour in tours:
        cycle = [0, *(v for v in tour if v != 0)]
        adj[cycle, np.roll(cycle, -1)] = True
    if knn > 0:
        far = cost + np.diag(np.full(n, np.inf))
        near = np.argsort(far, axis=1, kind="stable")[:, :knn]
        adj[np.repeat(np.arange(n), knn), near.ravel()] = True
    adj |= adj.T
    iu, ju = np.triu_indices(n, 1)
    return adj[iu, ju]


def _merge(
    inst: BenchmarkInstance, runs: int, seconds: float, knn: int, milp_seconds: float
) -> dict[str, object]:
    """Tour merging: ``runs`` portfolios of the engine (``solve_instance``, seeds 0, 2, …), then the
    MILP over their edges and the ``knn`` nearest neighbours of each vertex."""
    tours = []
    costs = []
    for k in range(runs):
        sol = solve_instance(inst, BenchmarkParams(time_limit=seconds, seed=2 * k))
        tours.extend(sol.routes)
        costs.append(sol.cost)
    q = np.asarray(inst.demand, dtype=np.int64)
    mask = tour_graph(inst.cost, tours, knn)
    t0 = time.perf_counter()
    mb, opt, solves = milp_bound(inst.cost, q, inst.capacity, [], time_limit=milp_seconds, edges=mask)
    return {
        "pool": sorted(costs),
        "knn": knn,
        "edges": int(mask.sum()),
        "merged": opt,
        "merged_bound": math.ceil(mb - 1e-6),
        "merge_solves": solves,
        "merge_seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", type=existing_file)
    ap.add_argument(
        "--milp-seconds",
        type=non_negative_float,
        default=0.0,
        help="Then the integer relaxation (0: not run).",
    )
    ap.add_argument(
        "--merge-runs",
        type=non_negative_int,
        default=0,
        help="Instead: tour merging of this many engine portfolios (the MILP over their edges, "
        "--milp-seconds long).",
    )
    ap.add_argument(
        "--merge-seconds", type=positive_float, default=15.0, help="Time limit of each portfolio."
    )
    ap.add_argument(
        "--knn", type=non_negative_int, default=0, help="Also each vertex's K nearest neighbours."
    )
    a = ap.parse_args(argv)
    print(f"machine: {describe()}", flush=True)
    for f in a.files:
        inst = read_pdtsp(f)
        if a.merge_runs > 0:
            merged = _merge(inst, a.merge_runs, a.merge_seconds, a.knn, max(a.milp_seconds, 1.0))
            print(json.dumps({"instance": inst.name, **merged}), flush=True)
            continue
        t0 = time.perf_counter()
        q = np.asarray(inst.demand, dtype=np.int64)
        lp, sets, rounds = lower_bound(inst.cost, q, inst.capacity)
        row: dict[str, object] = {
            "instance": inst.name,
            "lp": round(lp, 2),
            "lower_bound": math.ceil(lp - 1e-6),
            "cuts": len(sets),
            "rounds": rounds,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        if a.milp_seconds > 0:
            t1 = time.perf_counter()
            mb, opt, solves = milp_bound(inst.cost, q, inst.capacity, sets, time_limit=a.milp_seconds)
            row.update(
                milp_bound=math.ceil(mb - 1e-6),
                optimum=opt,
                milp_solves=solves,
                milp_seconds=round(time.perf_counter() - t1, 1),
            )
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    run_main(main)
