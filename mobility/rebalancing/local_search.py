"""Large-neighbourhood search for the nightly rebalancing model, with exact loading per route.

Model (one commodity, partial service)
--------------------------------------
For trucks ``t`` with capacity ``Q_t``, each leaving its depot and coming back to it, choose an
ordered list of stations ``s_1 … s_m`` (a station in at most one truck's list, at most once:
the search never visits a station twice, whatever ``RebalancingProblem.max_visits`` allows) and
signed quantities ``d_k`` (``> 0`` pick up) so that

.. math::

    \\min \\; \\sum_i f_i\\big(b_i - \\textstyle\\sum_{\\text{visits of } i} d\\big)
          + c_{km} \\cdot \\text{km driven}

    \\text{s.t.}\\quad 0 \\le L_0 + d_1 + \\dots + d_k \\le Q_t \\;\\;\\forall k, \\qquad
    b_{s_k} - d_k \\ge 0, \\qquad
    \\text{shift start} + \\text{travel} + \\sum_k (\\sigma + \\lambda |d_k|) \\le \\text{shift end},

with ``f_i`` the station's final cost (:meth:`RebalancingProblem.final_cost`), ``c_km`` the
driving cost per km, "travel" the driving seconds from the depot through the stops back to it,
``L_0`` the start load (fixed, or free in ``[0, Q_t]``), the end load left at the depot, ``σ``
the fixed seconds per stop and ``λ`` the seconds per bike. The search's objective adds
``ε |d_k|`` per stop (``LNSParams.eps_per_bike``, 1e-6 per bike), a tie-break against moving
bikes for nothing.

Exact quantities for a fixed sequence
-------------------------------------
For a fixed order the best quantities are a shortest path over *load states* ``0..Q``: with
``G_i[l, l'] = f_i(b_i - (l' - l)) - f_i(b_i) + ε|l' - l|`` (``+∞`` when the station would go
negative), the forward values ``F_k = F_{k-1} ⊗ G_{s_k}`` (min-plus product) and backward values
``B_{k-1} = G_{s_k} ⊗ B_k`` give the route's best value ``min F_m`` and, for any station ``p``
and position ``k``, the exact value of inserting ``p`` after stop ``k`` in ``O(Q²)``:
``min_{l,l'} F_k[l] + G_p[l, l'] + B_k[l']``. The search (ruin related stations around a random
seed, recreate by best exact insertion, accept with a falling annealing temperature; see
:meth:`RouteSearch.run`) only ever moves stations; quantities are always optimal for the order.
Shift length is checked exactly (with the optimal quantities' handling time) before a move is
kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.cluster.hierarchy import DisjointSet

from mobility.arrays import smallest_per_row
from mobility.rebalancing import _kernels as _k
from mobility.rebalancing import moves
from mobility.rebalancing.plan import RouteSpec
from mobility.rebalancing.problem import RebalancingProblem
from mobility.stats import StoppingCriterion

BestInsertion = Callable[[dict[int, np.ndarray], bool], tuple[float, int, int, int]]
"""The cheapest insertion over routes' tables (jittered or not): value, route, pool row, position."""

__all__ = ["LNSParams", "LNSResult", "RouteSearch"]

_INF = np.inf


@dataclass(frozen=True)
class LNSParams:
    """Knobs of the search (defaults suit 10–300-station zones).

    With ``max_iterations`` the search stops after that many ruin-and-recreate iterations and its
    temperature falls with the iterations done, not the time spent, so that the same seed gives
    the same routes on any machine (while ``time_limit`` is not reached first).

    Attributes
    ----------
    time_limit
        Seconds of search (the caller turns it into the ``deadline`` of :meth:`RouteSearch.run`).
    seed
        Seed of the search's random numbers.
    eps_per_bike
        Objective cost ``ε`` of each bike picked up or dropped (a tie-break).
    neighbours
        Size of each station's neighbourhood: its nearest candidates by travel time (the
        shorter direction; the station itself is among them, at time 0).
    min_remove, max_remove
        Bounds of the number of routed neighbourhood stations removed per iteration.
    start_temperature
        Annealing temperature at the start; it falls linearly to 0 at the end.
    max_iterations
        Ruin-and-recreate iterations (``None``: until the deadline).
    """

    time_limit: float = 10.0
    seed: int = 0
    eps_per_bike: float = 1e-6
    neighbours: int = 25
    min_remove: int = 2
    max_remove: int = 10
    start_temperature: float = 0.5
    max_iterations: int | None = None


@dataclass
class LNSResult:
    """Routes found, their objective (final costs + driving) and the search's counters."""

    specs: list[RouteSpec]
    objective: float
    iterations: int
    improvements: int
    seconds: float
    history: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class _Route:
    truck: int
    cap: int
    depot: int
    shift: float
    stop_s: float
    load_s: float
    start_load: int | None
    seq: list[int]
    F: np.ndarray
    B: np.ndarray
    value: float
    dist: float
    travel: float
    handling: float


class RouteSearch:
    """Routes of several trucks over one problem, with exact loading (module docstring).

    Parameters
    ----------
    problem
        The problem (a zone or the whole city).
    params
        Search parameters.
    """

    def __init__(self, problem: RebalancingProblem, params: LNSParams) -> None:
        self.p = problem
        self.params = params
        self.rng = np.random.default_rng(params.seed)
        self.nd = problem.n_depots
        self.ckm = problem.drive_cost_per_km / 1000.0
        self.base = np.array([problem.final_cost(i, int(b)) for i, b in enumerate(problem.bikes)])
        self.G: dict[int, np.ndarray] = {}
        for q in sorted({t.capacity for t in problem.trucks}):
            self.G[q] = self._gmatrix(q)
        qmax = problem.max_capacity
        g = self.G[qmax]
        # best single-visit improvement with an empty or a full truck (what a visit can buy)
        best = np.minimum(g[:, 0, :].min(axis=1), g[:, qmax, :].min(axis=1))
        best = np.minimum(best, g.min(axis=(1, 2)))
        self.gain = -best
        # every station is a candidate: one that gains nothing alone may be the donor (or the
        # sink) that makes a visit elsewhere pay off
        movable = np.isfinite(g).sum(axis=(1, 2)) > qmax + 1
        self.candidates = np.flatnonzero(movable)
        self.is_cand = np.zeros(problem.n_stations, dtype=bool)
        self.is_cand[self.candidates] = True
        self.routes = [self._new_route(ti, []) for ti in range(len(problem.trucks))]
        self.where = np.full(problem.n_stations, -1, dtype=np.int64)  # route of each station
        self.knn = self._neighbours()

    # ------------------------------------------------------------------ precomputation
    def _gmatrix(self, q: int) -> np.ndarray:
        p = self.p
        tab = p.cost_table
        lv = np.arange(q + 1)
        d = lv[None, :] - lv[:, None]  # d[l, l'] = l' - l = bikes picked up
        b = np.asarray(p.bikes, dtype=np.int64)
        final = b[:, None, None] - d[None, :, :]
        ok = final >= 0
        idx = np.clip(final, 0, tab.shape[1] - 1)
        rows = np.arange(p.n_stations)[:, None, None]
        g = tab[rows, idx] - self.base[:, None, None] + self.params.eps_per_bike * np.abs(d)[None]
        too_high = final >= tab.shape[1]
        if np.any(too_high & ok):  # beyond the table (rare): exact values
            for i, a, c in zip(*np.nonzero(too_high & ok), strict=True):
                g[i, a, c] = p.final_cost(int(i), int(final[i, a, c])) - self.base[i]
        return np.where(ok, g, _INF)

    def _neighbours(self) -> np.ndarray:
        c = self.candidates
        if c.size == 0:
            return np.zeros((0, 0), dtype=np.int64)
        nodes = c + self.nd
        t = self.p.travel_s[np.ix_(nodes, nodes)]
        t = np.minimum(t, t.T)
        k = min(self.params.neighbours, c.size)
        nn = smallest_per_row(t, k)  # nearest first, the same on every processor
        out = np.full((self.p.n_stations, k), -1, dtype=np.int64)
        out[c] = c[nn]
        return out

    # ------------------------------------------------------------------ route evaluation
    def _new_route(self, ti: int, seq: list[int]) -> _Route:
        t = self.p.trucks[ti]
        r = _Route(
            truck=ti,
            cap=t.capacity,
            depot=self.p.depot_index(t.depot),
            shift=float(t.shift_end - t.shift_start),
            stop_s=float(t.stop_seconds),
            load_s=float(t.load_seconds_per_bike),
            start_load=t.start_load,
            seq=list(seq),
            F=np.zeros((1, t.capacity + 1)),
            B=np.zeros((1, t.capacity + 1)),
            value=0.0,
            dist=0.0,
            travel=0.0,
            handling=0.0,
        )
        self._evaluate(r)
        return r

    def _f0(self, r: _Route) -> np.ndarray:
        f0 = np.zeros(r.cap + 1)
        if r.start_load is not None:
            f0[:] = _INF
            f0[r.start_load] = 0.0
        return f0

    def _evaluate(self, r: _Route) -> None:
        m = len(r.seq)
        gs = self.G[r.cap][np.asarray(r.seq, dtype=np.int64)] if m else self._empty_gs(r.cap)
        r.F = _k.forward(gs, self._f0(r))
        r.B = _k.backward(gs)
        r.value = float(r.F[m].min())
        if m:
            nodes = np.asarray([r.depot, *(s + self.nd for s in r.seq), r.depot])
            a, b = nodes[:-1], nodes[1:]
            r.dist = float(self.p.distance_m[a, b].sum())
            r.travel = float(self.p.travel_s[a, b].sum())
            loads = _k.backtrack(r.F, gs)
            r.handling = m * r.stop_s + r.load_s * float(np.abs(np.diff(loads)).sum())
        else:
            r.dist = r.travel = r.handling = 0.0

    def _empty_gs(self, cap: int) -> np.ndarray:
        return np.zeros((0, cap + 1, cap + 1))

    def _quantities(self, r: _Route) -> tuple[int, np.ndarray]:
        """Start load and the optimal quantities of ``r.seq`` (backtracking ``F``)."""
        if not r.seq:
            return int(np.argmin(r.F[0])), np.zeros(0, dtype=np.int64)
        gs = self.G[r.cap][np.asarray(r.seq, dtype=np.int64)]
        loads = _k.backtrack(r.F, gs)
        return int(loads[0]), np.diff(loads)

    @staticmethod
    def _snapshot(r: _Route) -> tuple[Any, ...]:
        return (list(r.seq), r.F, r.B, r.value, r.dist, r.travel, r.handling)

    @staticmethod
    def _restore(r: _Route, snap: tuple[Any, ...]) -> None:
        r.seq, r.F, r.B, r.value, r.dist, r.travel, r.handling = snap
        r.seq = list(r.seq)

    def _cost(self, r: _Route) -> float:
        return r.value + self.ckm * r.dist

    def _time(self, r: _Route) -> float:
        return r.travel + r.handling

    def objective(self) -> float:
        """Final costs of all stations plus driving cost of the current routes."""
        return float(self.base.sum() + sum(self._cost(r) for r in self.routes))

    # ------------------------------------------------------------------ insertion
    def _insertion_table(self, r: _Route, pool: np.ndarray) -> np.ndarray:
        """``(len(pool), m+1)`` cost change of inserting each pool station at each position."""
        if pool.size == 0:
            return np.zeros((0, len(r.seq) + 1))
        val = _k.insertion_values(r.F, r.B, self.G[r.cap][pool]) - r.value  # (P, m+1)
        prev = np.asarray([r.depot, *(s + self.nd for s in r.seq)])
        nxt = np.asarray([*(s + self.nd for s in r.seq), r.depot])
        pn = pool + self.nd
        dm = self.p.distance_m
        tm = self.p.travel_s
        ddist = dm[prev[None, :], pn[:, None]] + dm[pn[:, None], nxt[None, :]] - dm[prev, nxt][None, :]
        dtime = tm[prev[None, :], pn[:, None]] + tm[pn[:, None], nxt[None, :]] - tm[prev, nxt][None, :]
        delta = val + self.ckm * ddist
        # lower bound on the new duration: travel + stops + current handling
        too_long = self._time(r) + dtime + r.stop_s > r.shift + 1e-6
        delta[too_long] = _INF
        return delta

    def _try_insert(self, r: _Route, s: int, pos: int) -> bool:
        old = self._snapshot(r)
        r.seq.insert(pos, s)
        self._evaluate(r)
        if self._time(r) <= r.shift + 1e-6:
            return True
        self._restore(r, old)
        return False

    def insert_greedy(
        self,
        pool: np.ndarray,
        routes: list[int],
        noise: float = 0.0,
        pairs: int = 1,
        pair_tries: int = 2,
        deadline: float | None = None,
    ) -> int:
        """Insert pool stations at their best (exact) positions while that improves the objective.

        When no single insertion improves, up to ``pairs`` of the least bad single insertions
        are tried with the best follow-up insertion into the same route (a pick-up that only
        pays off with a drop-off after it, and vice versa); the pair is kept when it improves.
        """
        pool = np.asarray([s for s in pool if self.where[s] < 0], dtype=np.int64)
        if pool.size == 0 or not routes:
            return 0
        tables = {ri: self._insertion_table(self.routes[ri], pool) for ri in routes}
        alive = np.ones(pool.size, dtype=bool)
        inserted = 0

        def best_of(tabs: dict[int, np.ndarray], jitter: bool) -> tuple[float, int, int, int]:
            best = (_INF, -1, -1, -1)
            for ri, tab in tabs.items():
                if tab.size == 0:
                    continue
                t = tab
                if jitter and noise > 0:
                    t = tab * (1.0 + noise * self.rng.uniform(-1, 1, size=tab.shape))
                t = np.where(alive[:, None], t, _INF)
                j = int(np.argmin(t))
                pi, pos = divmod(j, t.shape[1])
                if t[pi, pos] < best[0]:
                    best = (float(t[pi, pos]), ri, pi, pos)
            return best

        while alive.any():
            if deadline is not None and time.perf_counter() > deadline:
                break
            val, ri, pi, pos = best_of(tables, True)
            if ri >= 0 and val < -1e-9:
                r = self.routes[ri]
                if self._try_insert(r, int(pool[pi]), pos):
                    self.where[pool[pi]] = ri
                    alive[pi] = False
                    inserted += 1
                    tables[ri] = self._insertion_table(r, pool)
                else:
                    tables[ri][pi, pos] = _INF
                continue
            if pairs <= 0 or not self._try_pair(pool, alive, tables, best_of, pair_tries):
                break
            pairs -= 1
            inserted += 2
        return inserted

    def _try_pair(
        self,
        pool: np.ndarray,
        alive: np.ndarray,
        tables: dict[int, np.ndarray],
        best_of: BestInsertion,
        tries: int,
    ) -> bool:
        """One look-ahead step of :meth:`insert_greedy` (see there); True when a pair was kept."""
        tried = {ri: tab.copy() for ri, tab in tables.items()}
        for _ in range(tries):
            val, ri, pi, pos = best_of(tried, False)
            if ri < 0 or not np.isfinite(val):
                return False
            tried[ri][pi, pos] = _INF
            r = self.routes[ri]
            saved = self._snapshot(r)
            before = self._cost(r)
            if not self._try_insert(r, int(pool[pi]), pos):
                continue
            alive[pi] = False
            tab2 = self._insertion_table(r, pool)
            v2, _, pj, pos2 = best_of({ri: tab2}, False)
            if (
                pj >= 0
                and (self._cost(r) - before) + v2 < -1e-9
                and self._try_insert(r, int(pool[pj]), pos2)
                and self._cost(r) - before < -1e-9
            ):
                self.where[pool[pi]] = ri
                self.where[pool[pj]] = ri
                alive[pj] = False
                tables[ri] = self._insertion_table(r, pool)
                return True
            alive[pi] = True
            self._restore(r, saved)
        return False

    def remove(self, stations: list[int]) -> set[int]:
        """Take stations out of their routes; returns the routes touched."""
        touched: set[int] = set()
        for s in stations:
            ri = int(self.where[s])
            if ri >= 0:
                self.routes[ri].seq.remove(s)
                self.where[s] = -1
                touched.add(ri)
        for ri in touched:
            self._evaluate(self.routes[ri])
        return touched

    def drop_idle_stops(self) -> None:
        """Remove stops whose optimal quantity is 0 (they only cost time and distance)."""
        for r in self.routes:
            while r.seq:
                _, q = self._quantities(r)
                idle = [s for s, d in zip(r.seq, q, strict=True) if d == 0]
                if not idle:
                    break
                for s in idle:
                    r.seq.remove(s)
                    self.where[s] = -1
                self._evaluate(r)

    # ------------------------------------------------------------------ search
    def set_routes(self, seqs: dict[int, list[int]]) -> None:
        """Start from given station sequences per truck index (infeasible tails are cut)."""
        for ti, seq in seqs.items():
            r = self._new_route(ti, [])
            self.routes[ti] = r
            for s in seq:
                if self.where[s] < 0 and self._try_insert(r, s, len(r.seq)):
                    self.where[s] = ti

    def construct(self, deadline: float | None = None) -> None:
        """Best-insertion construction (with pair look-ahead) over all candidates and trucks,
        stopped at ``deadline`` (``time.perf_counter``) if given: the stations not inserted by
        then stay unrouted."""
        self.insert_greedy(
            self.candidates, list(range(len(self.routes))), pairs=10**9, pair_tries=3, deadline=deadline
        )

    def run(self, deadline: float, stop: StoppingCriterion | None = None) -> LNSResult:
        """Ruin-and-recreate from the current routes until ``deadline`` (``time.perf_counter``).

        Each iteration:

        1. a seed station, uniformly among the candidates, and its neighbourhood (its
           ``params.neighbours`` nearest candidates);
        2. the routes concerned: those serving a neighbourhood station plus every empty route,
           at most 6 of them drawn at random, plus the routes of the stations removed in 3;
        3. ruin: ``k`` routed neighbourhood stations removed, ``k`` uniform in
           ``[min_remove, max_remove]`` (all of them when fewer);
        4. recreate: :meth:`insert_greedy` of the neighbourhood and the removed stations into
           the routes concerned, with insertion values jittered by ±10 % on half of the
           iterations (one pair look-ahead);
        5. accept when the routes' cost change ``Δ`` is negative, else with probability
           ``exp(-Δ / T)``; ``T`` falls linearly from ``params.start_temperature`` to 0 over
           the time (or, with ``params.max_iterations``, the iterations); a rejected change is
           undone.

        It stops at ``deadline``, after ``params.max_iterations`` iterations, or when ``stop``
        (called with the best objective after every iteration) says so. The best routes seen
        are restored and stops whose optimal quantity is 0 dropped (:meth:`drop_idle_stops`).
        """
        t0 = time.perf_counter()
        cur = self.objective()
        best = cur
        best_seqs = [list(r.seq) for r in self.routes]
        history = [(0.0, best)]
        it = improvements = 0
        n_c = self.candidates.size
        if n_c == 0:
            return self._result(best, it, improvements, t0, history)
        total = max(1e-9, deadline - t0)
        while time.perf_counter() < deadline:
            if self.params.max_iterations is not None and it >= self.params.max_iterations:
                break
            if stop is not None and it > 0 and stop(best):
                break
            it += 1
            budget = self.params.max_iterations
            frac = (it - 1) / budget if budget is not None else (time.perf_counter() - t0) / total
            temp = self.params.start_temperature * (1.0 - frac)
            seed_st = int(self.candidates[self.rng.integers(n_c)])
            hood = self.knn[seed_st]
            routed = [int(s) for s in hood if self.where[s] >= 0]
            k = int(self.rng.integers(self.params.min_remove, self.params.max_remove + 1))
            if len(routed) > k:
                routed = list(self.rng.choice(routed, size=k, replace=False))
            near_routes = {int(self.where[s]) for s in hood if self.where[s] >= 0}
            near_routes |= {ri for ri, r in enumerate(self.routes) if not r.seq}
            if len(near_routes) > 6:
                near_routes = set(self.rng.choice(sorted(near_routes), size=6, replace=False).tolist())
            touched_before = {int(self.where[s]) for s in routed}
            affected = sorted(near_routes | touched_before)
            saved = {ri: self._snapshot(self.routes[ri]) for ri in affected}
            before = sum(self._cost(self.routes[ri]) for ri in affected)
            self.remove(routed)
            pool = np.unique(np.concatenate([hood, np.asarray(routed, dtype=np.int64)]))
            self.insert_greedy(pool, affected, noise=0.1 if self.rng.random() < 0.5 else 0.0)
            after = sum(self._cost(self.routes[ri]) for ri in affected)
            delta = after - before
            if delta < -1e-9 or (temp > 0 and self.rng.random() < math.exp(-delta / max(temp, 1e-12))):
                cur += delta
                if cur < best - 1e-9:
                    best = cur
                    best_seqs = [list(r.seq) for r in self.routes]
                    improvements += 1
                    history.append((time.perf_counter() - t0, best))
            else:
                for ri in affected:
                    for s in self.routes[ri].seq:
                        self.where[s] = -1
                for ri in affected:
                    self._restore(self.routes[ri], saved[ri])
                    for s in self.routes[ri].seq:
                        self.where[s] = ri
        self.where[:] = -1
        for ri, seq in enumerate(best_seqs):
            self.routes[ri].seq = list(seq)
            for s in seq:
                self.where[s] = ri
            self._evaluate(self.routes[ri])
        self.drop_idle_stops()
        return self._result(self.objective(), it, improvements, t0, history)

    # ------------------------------------------------------------------ classic neighbourhoods
    def required_quantities(self) -> np.ndarray:
        """Per station the pick-up (``> 0``) that brings it to its cheapest final level."""
        target = np.argmin(self.p.cost_table, axis=1)
        return np.asarray(self.p.bikes, dtype=np.int64) - target

    def classic(
        self,
        deadline: float,
        *,
        perturb: bool,
        full_service: bool = False,
        stop: StoppingCriterion | None = None,
        single_route: Literal["ils", "memetic"] = "ils",
    ) -> dict[str, Any]:
        """Improve the current orders with the classic one-commodity neighbourhoods.

        The quantities are frozen (the exact ones of the current orders, or with
        ``full_service`` every station's :meth:`required_quantities`, unrouted stations first
        inserted where they cost least) and the routes are improved by
        :mod:`mobility.rebalancing.moves`: a descent, or with ``perturb`` an iterated local
        search until ``deadline`` (on a single free route: ``single_route``, see
        :func:`mobility.rebalancing.moves.iterated_local_search`). Then the exact loading is
        recomputed for the new orders; a group of routes (those that exchanged stations) whose exact
        handling time would break a shift, or whose cost would rise, keeps its old orders, so the
        objective never gets worse.
        """
        p, nd = self.p, self.nd
        q = np.zeros(nd + p.n_stations, dtype=np.float64)
        start: list[int | None] = []
        if full_service:
            q[nd:] = self.required_quantities()
            start = [r.start_load for r in self.routes]
        else:
            for r in self.routes:
                _, d = self._quantities(r)
                q[np.asarray(r.seq, dtype=np.int64) + nd] = d
                start.append(r.start_load if r.start_load is not None else None)
        seqs = [[s + nd for s in r.seq] for r in self.routes]
        fr = moves.FixedRoutes.build(
            seqs,
            [r.depot for r in self.routes],
            q=q,
            C=p.distance_m * self.ckm,
            T=p.travel_s,
            cap=[r.cap for r in self.routes],
            start_load=start,
            slack=[r.shift - self._time(r) for r in self.routes],
            hs=[r.stop_s for r in self.routes],
            hb=[r.load_s for r in self.routes],
        )
        if full_service:
            for s in np.flatnonzero(self.where < 0):
                _cheapest_insertion(fr, int(s) + nd)
        before = fr.objective()
        if perturb:
            fr, its, imps = moves.iterated_local_search(
                fr, deadline, seed=int(self.rng.integers(1 << 30)), stop=stop, single_route=single_route
            )
        else:
            its, imps = 1, moves.descend(fr)
        after = fr.objective()
        kept = self._keep_new_orders([[v - nd for v in seq] for seq in fr.seqs()], revert=not full_service)
        self.where[:] = -1
        for ri, r in enumerate(self.routes):
            self.where[np.asarray(r.seq, dtype=np.int64)] = ri
        return {
            "classic_iterations": its,
            "classic_improvements": imps,
            "classic_routes_changed": kept,
            "classic_cost_before": round(before[0], 4),
            "classic_cost_after": round(after[0], 4),
            "classic_excess_after": after[1],
        }

    def _keep_new_orders(self, seqs: list[list[int]], *, revert: bool) -> int:
        """Give each route its new order and recompute its exact loading; with ``revert``, give
        back the changes of every group of routes that a shift or the group's cost would not
        survive. A group is the routes that exchanged stations (a station must not be kept in
        two routes, nor dropped), so groups are independent and the total never gets worse.
        Returns the number of routes changed."""
        n = len(self.routes)
        groups = DisjointSet(range(n))
        for ri, seq in enumerate(seqs):
            for s in seq:
                old = int(self.where[s])
                if old >= 0 and old != ri:
                    groups.merge(old, ri)
        members: dict[int, list[int]] = {}
        for ri in range(n):
            if seqs[ri] != self.routes[ri].seq:
                members.setdefault(groups[ri], []).append(ri)
        kept = 0
        for rs in members.values():
            routes = [self.routes[ri] for ri in rs]
            saved = [self._snapshot(r) for r in routes]
            cost_before = sum(self._cost(r) for r in routes)
            for ri, r in zip(rs, routes, strict=True):
                r.seq = seqs[ri]
                self._evaluate(r)
            too_long = any(self._time(r) > r.shift + 1e-6 for r in routes)
            worse = sum(self._cost(r) for r in routes) > cost_before + 1e-9
            if revert and (too_long or worse):
                for r, snap in zip(routes, saved, strict=True):
                    self._restore(r, snap)
            else:
                kept += len(rs)
        return kept

    def _result(
        self, obj: float, it: int, imp: int, t0: float, history: list[tuple[float, float]]
    ) -> LNSResult:
        return LNSResult(self.specs(), obj, it, imp, time.perf_counter() - t0, history)

    def specs(self) -> list[RouteSpec]:
        """Current routes as :class:`RouteSpec` (exact quantities)."""
        out = []
        for r in self.routes:
            if not r.seq:
                continue
            l0, q = self._quantities(r)
            out.append(RouteSpec(r.truck, l0, tuple((int(s), int(d)) for s, d in zip(r.seq, q, strict=True))))
        return out


def _cheapest_insertion(fr: Any, node: int) -> None:
    """Insert matrix node ``node`` where it adds the least arc cost plus penalised load excess."""
    best = (_INF, -1, -1)
    for r in range(fr.M.size):
        m = int(fr.M[r])
        nodes = fr.R[r, : m + 2]
        add = fr.C[nodes[:-1], node] + fr.C[node, nodes[1:]] - fr.C[nodes[:-1], nodes[1:]]
        load = np.concatenate([[0.0], np.cumsum(fr.q[nodes[1:-1]])])
        # loads if inserted after position p: prefix unchanged, then + q[node] from p on
        pre_mn = np.minimum.accumulate(load)
        pre_mx = np.maximum.accumulate(load)
        suf_mn = np.minimum.accumulate(load[::-1])[::-1] + fr.q[node]
        suf_mx = np.maximum.accumulate(load[::-1])[::-1] + fr.q[node]
        mn = np.minimum(pre_mn, suf_mn)
        mx = np.maximum(pre_mx, suf_mx)
        exc = (
            np.maximum(0.0, mx - mn - fr.cap[r])
            + np.maximum(0.0, fr.lo[r] - mn)
            + np.maximum(0.0, mx - fr.hi[r])
        )
        val = add + fr.W * exc
        k = int(np.argmin(val))
        if val[k] < best[0]:
            best = (float(val[k]), r, k)
    _, r, p = best
    m = int(fr.M[r])
    fr.R[r, p + 2 : m + 3] = fr.R[r, p + 1 : m + 2].copy()
    fr.R[r, p + 1] = node
    fr.M[r] = m + 1
