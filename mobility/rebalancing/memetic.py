"""Memetic search for one fixed-quantity route (the 1-PDTSP): a hybrid genetic search.

The population-based alternative to the iterated local search of
:mod:`mobility.rebalancing.tour`, after Vidal, Crainic, Gendreau, Lahrichi & Rei (2012, *A hybrid
genetic algorithm for multidepot and periodic vehicle routing problems*, Operations Research 60)
and Vidal (2022, *Hybrid genetic search for the CVRP: open-source implementation and SWAP\\**
neighborhood*, Computers & Operations Research 140), for a single route whose stops change the
load by fixed ``q`` (notation of :mod:`mobility.rebalancing.tour`).

Problem: minimise ``Σ C[t_k, t_{k+1}]`` over tours ``t = depot, stops…, depot`` visiting every
stop once, subject to the running load ``L_k = Σ_{i<=k} q[t_i]`` keeping
``excess(t) = max(0, (max L - min L) - Q) + max(0, lo - min L) + max(0, max L - hi) = 0``.

* **Individuals** are tours; **education** is the granular descent of
  :mod:`mobility.rebalancing.tour` (2-opt and or-opt on neighbour lists, O(1) load checks) on the
  penalised cost ``cost + ω · excess``, so infeasible tours are allowed in the search;
* **ω adapts**: every 100 children, ×1.2 when fewer than ``target_feasible`` of the educated
  children were load-feasible, ×0.85 when more;
* **repair**: an infeasible child is, with probability ½, educated again with ``10 ω`` then
  ``100 ω`` and kept (also) as feasible when that works;
* **crossover**: order crossover (OX) of two parents' stop sequences;
* **two subpopulations** (feasible, infeasible) of ``mu`` to ``mu + lam`` tours; a child joins
  one and when it holds ``mu + lam`` the survivors are selected by *biased fitness* (rank by
  penalised cost plus ``(1 - n_elite / size)`` × rank by diversity contribution, the mean
  broken-pairs distance to the ``n_close`` closest tours), clones first;
* **parents** by binary tournament on biased fitness; **restart** (keeping the best) after
  ``restart_after`` children without a new best;
* a child's descent queues only the stops at arcs neither parent has; a load-feasible tour's
  education ends with ``ils_burst`` iterations of the granular iterated local search (double
  bridge, descent, accept if not worse), so that the population holds ILS-quality tours of
  different basins (the HGS of Vidal has the descent alone: ``ils_burst = 0``);
* the first population: the starting tour and ``4 mu`` random tours, educated.

Each process runs its own population (the benchmark portfolio runs two seeds on the 2 cores).
The kernels (education, crossover) are compiled with numba; the population bookkeeping is numpy.
"""

# ruff: noqa: N806 - matrix names (C, W) follow the module docstring
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from mobility.rebalancing.tour import (
    Problem,
    Workspace,
    _descent,
    _ils_batch,
    _prep,
    _push,
    _tour_excess,
    _workspace,
    neighbour_lists,
    tour_value,
)

__all__ = ["MemeticParams", "tour_memetic"]


@dataclass(frozen=True)
class MemeticParams:
    """Population settings (Vidal 2022 uses ``mu = 25, lam = 40``; smaller here, where an
    education costs milliseconds, not microseconds).

    Attributes
    ----------
    mu, lam
        Minimum size of a subpopulation and the children it takes before survivor selection.
    n_elite, n_close
        Best tours protected by the biased fitness; closest tours averaged for diversity.
    target_feasible
        Wanted share of load-feasible children after education (drives ``ω``).
    repair_prob
        Probability of repairing an infeasible child.
    restart_after
        Children without a new best before the population is rebuilt around the best.
    k, max_seg
        Neighbour-list length and longest or-opt segment of the education.
    ils_burst, window
        Iterations of the granular iterated local search (:func:`mobility.rebalancing.tour.tour_ils`'s
        double bridge within ``window`` positions, descent, accept if not worse) that finish the
        education of every load-feasible tour (0: the descent alone, as in HGS).
    """

    mu: int = 10
    lam: int = 20
    n_elite: int = 4
    n_close: int = 5
    target_feasible: float = 0.2
    repair_prob: float = 0.5
    restart_after: int = 4000
    k: int = 25
    max_seg: int = 3
    ils_burst: int = 100
    window: int = 30


@njit(cache=True)
def _educate(
    t: np.ndarray,
    m: int,
    parents: tuple[np.ndarray, np.ndarray],
    full: bool,
    prob: Problem,
    nbr: np.ndarray,
    space: Workspace,
    max_seg: int,
    adj: np.ndarray,
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Granular descent of ``t`` in place on ``cost + W · excess`` (``W`` in ``prob``); returns the
    tour's ``(cost, excess)``. With ``full`` every stop is queued; otherwise ``t`` is a crossover
    child of ``parents`` and only the stops at arcs neither parent has are (the parents are local
    optima: around their arcs the descent would find little). ``adj``: ``(4, n_nodes)`` scratch
    for the parents' successors and predecessors."""
    q, C, cap, lo, hi, _ = prob
    tab, work, _ = space
    Pf = tab[4]
    queue, inq, head_tail = work
    head_tail[:] = 0
    depot = t[0]
    if full:
        for x in range(1, m + 1):
            _push(t[x], queue, inq, head_tail, depot)
    else:
        for r in range(2):
            p = parents[r]
            for k in range(m + 1):
                adj[2 * r, p[k]] = p[k + 1]
                adj[2 * r + 1, p[k + 1]] = p[k]
        for k in range(m + 1):
            u, v = t[k], t[k + 1]
            if v != adj[0, u] and v != adj[1, u] and v != adj[2, u] and v != adj[3, u]:
                _push(u, queue, inq, head_tail, depot)
                _push(v, queue, inq, head_tail, depot)
    _prep(t, m, q, C, tab)
    _descent(t, m, prob, nbr, space, max_seg)
    head_tail[:] = 0
    return Pf[m + 1], _tour_excess(tab, m, cap, lo, hi)


@njit(cache=True)
def _ox(
    a: np.ndarray, b: np.ndarray, m: int, i: int, j: int, child: np.ndarray, mark: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Order crossover: ``child`` keeps ``a``'s stops at positions ``i..j`` (1-based, ``i <= j``)
    and takes the others in ``b``'s order, starting after position ``j`` and wrapping."""
    for k in range(1, m + 1):
        mark[a[k]] = False
    child[0] = a[0]
    child[m + 1] = a[m + 1]
    for k in range(i, j + 1):
        child[k] = a[k]
        mark[a[k]] = True
    at = j % m  # 0-based index of the next free position
    for s in range(m):
        v = b[1 + (j + s) % m]
        if not mark[v]:
            child[1 + at] = v
            at = (at + 1) % m


@dataclass
class _Sub:
    """One subpopulation: tours, their cost and excess, successor/predecessor rows for the
    broken-pairs distance, and the distance matrix."""

    m: int
    tours: list[np.ndarray] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    exc: list[float] = field(default_factory=list)
    succ: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    pred: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    dist: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def __len__(self) -> int:
        return len(self.tours)

    def add(self, t: np.ndarray, cost: float, exc: float, sp: tuple[np.ndarray, np.ndarray]) -> None:
        s, p = sp
        if len(self.tours):
            d = ((self.succ != s) & (self.pred != s)).sum(axis=1) / float(self.m + 1)
        else:
            d = np.zeros(0)
            self.succ = np.zeros((0, s.size), dtype=np.int64)
            self.pred = np.zeros((0, s.size), dtype=np.int64)
        self.tours.append(t)
        self.cost.append(cost)
        self.exc.append(exc)
        self.succ = np.vstack([self.succ, s[None]])
        self.pred = np.vstack([self.pred, p[None]])
        k = d.size
        dist = np.zeros((k + 1, k + 1))
        dist[:k, :k] = self.dist
        dist[k, :k] = d
        dist[:k, k] = d
        self.dist = dist

    def remove(self, i: int) -> None:
        for lst in (self.tours, self.cost, self.exc):
            del lst[i]
        keep = np.arange(len(self.tours) + 1) != i
        self.succ, self.pred = self.succ[keep], self.pred[keep]
        self.dist = self.dist[np.ix_(keep, keep)]

    def biased_fitness(self, omega: float, n_elite: int, n_close: int) -> np.ndarray:
        """Rank by penalised cost plus weighted rank by diversity contribution (lower = better)."""
        n = len(self.tours)
        if n <= 1:
            return np.zeros(n)
        pen = np.asarray(self.cost) + omega * np.asarray(self.exc)
        d = self.dist + np.diag(np.full(n, np.inf))
        close = np.sort(d, axis=1)[:, : min(n_close, n - 1)].mean(axis=1)
        fit_rank = np.empty(n)
        fit_rank[np.argsort(pen, kind="stable")] = np.arange(n) / (n - 1)
        div_rank = np.empty(n)
        div_rank[np.argsort(-close, kind="stable")] = np.arange(n) / (n - 1)
        return fit_rank + (1.0 - min(1.0, n_elite / n)) * div_rank

    def select_survivors(self, mu: int, omega: float, n_elite: int, n_close: int) -> None:
        while len(self.tours) > mu:
            n = len(self.tours)
            fit = self.biased_fitness(omega, n_elite, n_close)
            clones = (self.dist + np.diag(np.full(n, np.inf))).min(axis=1) <= 1e-12
            fit = fit + np.where(clones, 10.0, 0.0)  # a clone goes first
            self.remove(int(np.argmax(fit)))


def _succ_pred(t: np.ndarray, order: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Successor and predecessor of the tour's nodes (``order``: the nodes in a fixed order)."""
    cyc = t[:-1]
    s = np.empty(n_nodes, dtype=np.int64)
    p = np.empty(n_nodes, dtype=np.int64)
    s[cyc] = np.roll(cyc, -1)
    p[cyc] = np.roll(cyc, 1)
    return s[order], p[order]


@dataclass
class _Search:
    """The state of one run of :func:`tour_memetic` (see its docstring)."""

    t0: np.ndarray
    q: np.ndarray
    C: np.ndarray
    bounds: tuple[float, float, float]
    W: float
    par: MemeticParams
    rng: np.random.Generator
    m: int = 0
    omega: float = 1.0
    feas: _Sub = field(init=False)
    infeas: _Sub = field(init=False)
    best_t: np.ndarray = field(init=False)
    best_val: float = np.inf
    children: int = 0
    improvements: int = 0
    recent: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.m = int(self.t0.size - 2)
        self.order = np.sort(self.t0[:-1])
        self.nbr = neighbour_lists(self.C, self.t0[1:-1], self.par.k)
        self.space = _workspace(self.C.shape[0], self.m, self.par.max_seg)
        self.mark = np.zeros(self.C.shape[0], dtype=np.bool_)
        self.adj = np.zeros((4, self.C.shape[0]), dtype=np.int64)
        self.feas, self.infeas = _Sub(self.m), _Sub(self.m)
        self.best_t = self.t0.copy()
        cap = self.bounds[0]
        # ω starts at the mean nearest-neighbour arc per unit of capacity (HGS: distance/demand)
        nearest = self.C[self.t0[1:-1], np.maximum(self.nbr[self.t0[1:-1], 0], 0)]
        self.omega = float(np.clip(float(nearest.mean()) * 10.0 / max(1.0, cap), 1e-3, self.W))

    def educate(
        self, t: np.ndarray, omega: float, parents: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[float, float]:
        cap, lo, hi = self.bounds
        prob = (self.q, self.C, cap, lo, hi, float(omega))
        full = parents is None
        pa = (t, t) if parents is None else parents
        cost, exc = _educate(t, self.m, pa, full, prob, self.nbr, self.space, self.par.max_seg, self.adj)
        val = cost + self.W * exc
        if val < self.best_val - 1e-9:
            self.best_val, self.best_t = val, t.copy()
            self.improvements += 1
        return float(cost), float(exc)

    def burst(self, t: np.ndarray, cost: float) -> float:
        """The education's last step on a load-feasible tour: ``ils_burst`` ILS iterations."""
        if self.par.ils_burst <= 0:
            return cost
        cap, lo, hi = self.bounds
        prob = (self.q, self.C, cap, lo, hi, self.W)
        state = np.array([cost, cost, 0.0, 0.0])
        best = t.copy()
        _ils_batch(
            t,
            best,
            self.m,
            prob,
            self.W,
            self.nbr,
            self.par.ils_burst,
            self.par.window,
            0.0,
            state,
            int(self.rng.integers(1 << 30)),
            self.par.max_seg,
        )
        t[:] = best
        if state[1] < self.best_val - 1e-9:
            self.best_val, self.best_t = float(state[1]), best.copy()
            self.improvements += 1
        return float(state[1])

    def insert(self, t: np.ndarray, cost: float, exc: float) -> None:
        if exc <= 0.0:
            cost = self.burst(t, cost)
        sub = self.feas if exc <= 0.0 else self.infeas
        sub.add(t, cost, exc, _succ_pred(t, self.order, self.C.shape[0]))
        if len(sub) >= self.par.mu + self.par.lam:
            sub.select_survivors(self.par.mu, self.omega, self.par.n_elite, self.par.n_close)

    def random_tour(self) -> np.ndarray:
        t = self.t0.copy()
        t[1:-1] = self.rng.permutation(t[1:-1])
        return t

    def tournament(self, fits: list[np.ndarray]) -> np.ndarray:
        subs = [(s, f) for s, f in zip((self.feas, self.infeas), fits, strict=True) if len(s)]
        total = sum(len(s) for s, _ in subs)
        picks = []
        for _ in range(2):
            k = int(self.rng.integers(total))
            for s, f in subs:
                if k < len(s):
                    picks.append((float(f[k]), s.tours[k]))
                    break
                k -= len(s)
        return min(picks, key=lambda x: x[0])[1]

    def child(self) -> None:
        par = self.par
        fits = [s.biased_fitness(self.omega, par.n_elite, par.n_close) for s in (self.feas, self.infeas)]
        a, b = self.tournament(fits), self.tournament(fits)
        m = self.m
        i, j = sorted(int(x) for x in self.rng.integers(1, m + 1, size=2))
        c = np.empty_like(a)
        _ox(a, b, m, i, j, c, self.mark)
        cost, exc = self.educate(c, self.omega, (a, b))
        self.recent.append(exc <= 0.0)
        self.insert(c, cost, exc)
        if exc > 0.0 and self.rng.random() < par.repair_prob:
            r = c.copy()
            for factor in (10.0, 100.0):
                cost, exc = self.educate(r, min(self.W, self.omega * factor))
                if exc <= 0.0:
                    self.insert(r, cost, exc)
                    break
        self.children += 1
        if len(self.recent) >= 100:
            share = float(np.mean(self.recent))
            if share < par.target_feasible - 0.05:
                self.omega = min(self.W, self.omega * 1.2)
            elif share > par.target_feasible + 0.05:
                self.omega = max(1e-3, self.omega * 0.85)
            self.recent.clear()


def tour_memetic(
    t: np.ndarray,
    prob: Problem,
    deadline: float,
    *,
    seed: int = 0,
    params: MemeticParams | None = None,
    stop: Callable[[float], bool] | None = None,
    max_children: int | None = None,
) -> tuple[np.ndarray, float, int, int]:
    """Memetic search (module docstring) from route ``t`` until ``deadline``.

    Parameters
    ----------
    t
        ``depot, stops…, depot`` (matrix nodes): the starting tour, kept in the first population.
    prob
        ``(q, C, cap, lo, hi, W)`` (:data:`mobility.rebalancing.tour.Problem`): quantities, arc
        costs, capacity, load bounds and the hard excess penalty (the returned tour minimises
        ``cost + W · excess``; ``W`` larger than any tour makes it load-feasible whenever the
        search found a feasible tour).
    deadline
        ``time.perf_counter()`` value to stop at.
    seed
        Random seed.
    params
        Population settings.
    stop
        Optional early stop, called with the best value between children.
    max_children
        Optional cap on the children (for tests).

    Returns
    -------
    tuple
        Best route, its value ``cost + W · excess``, children bred, improvements of the best.
    """
    q, C, cap, lo, hi, W = prob
    par = params or MemeticParams()
    t = np.ascontiguousarray(t, dtype=np.int64).copy()
    q = np.ascontiguousarray(q, dtype=np.float64)
    C = np.ascontiguousarray(C, dtype=np.float64)
    m = int(t.size - 2)
    if m < 4:
        from mobility.rebalancing.tour import tour_ils

        small = (q, C, cap, lo, hi, W)
        return tour_ils(t, small, deadline, seed=seed, stop=stop, max_iterations=max_children)
    s = _Search(t, q, C, (float(cap), float(lo), float(hi)), float(W), par, np.random.default_rng(seed))
    s.insert(t, *s.educate(t, W))

    def done() -> bool:
        return (
            time.perf_counter() >= deadline
            or (stop is not None and stop(s.best_val))
            or (max_children is not None and s.children >= max_children)
        )

    last_best = (s.best_val, 0)
    seeding = 4 * par.mu  # random tours still to educate into the (re)started population
    while not done():
        if seeding > 0:
            r = s.random_tour()
            s.insert(r, *s.educate(r, s.omega))
            s.children += 1
            seeding -= 1
            continue
        s.child()
        if s.best_val < last_best[0] - 1e-9:
            last_best = (s.best_val, s.children)
        elif s.children - last_best[1] >= par.restart_after:
            s.feas, s.infeas = _Sub(m), _Sub(m)
            b = s.best_t.copy()
            s.insert(b, *s.educate(b, W))
            last_best = (s.best_val, s.children)
            seeding = 4 * par.mu
    best = s.best_t
    return best, tour_value(best, q, C, cap, lo, hi, W), s.children, s.improvements
