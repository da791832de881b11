"""Classic one-commodity neighbourhoods with constant-time load checks (numba kernels).

The routes are fixed-quantity sequences: every stop ``v`` changes the truck's load by ``q[v]``
(``> 0`` pick up). For a route ``depot, v_1 … v_m, depot`` the running load relative to the
start is ``L_0 = 0``, ``L_k = L_{k-1} + q[v_k]`` (``L_{m+1} = L_m``). With a start load ``l_0``
the route is load-feasible iff ``0 <= l_0 + L_k <= Q`` for all ``k``, i.e.

* free start load (BRP, 1-PDTSP, night trucks with ``start_load=None``):
  ``max L - min L <= Q``;
* fixed start load: ``min L >= lo = -l_0`` and ``max L <= hi = Q - l_0``.

A move changes ``L`` only piecewise by a constant shift or a reflection of a contiguous range, so
its new ``min L`` / ``max L`` comes from prefix minima/maxima, suffix minima/maxima and a running
minimum/maximum kept while the scan extends the range: **O(1) per move** (Hernández-Pérez,
Rodríguez-Martín & Salazar-González 2009; Mladenović, Urošević, Hanafi & Ilić 2012). Arc costs
of reversed segments (asymmetric matrices) come from prefix sums along the route in both
directions, also O(1).

Neighbourhoods: 2-opt (segment reversal), or-opt (move a segment of 1–3 stops, forward or
reversed, within the route), relocate (the same between two routes, an empty route included),
exchange (swap two stops of different routes) and 2-opt* (exchange the tails of two routes,
Potvin & Rousseau 1995). Perturbation: double bridge (``A B C D -> A C B D``) on one route,
plus random relocations when there are several routes; the descent after it scans again only
the routes the perturbation changed and the pairs they belong to.

Load violations are not forbidden but penalised: the search minimises
``Σ cost + W · Σ excess`` with ``excess = max(0, (max L - min L) - Q) + max(0, lo - min L) +
max(0, max L - hi)`` and ``W`` larger than any route cost, so a feasible solution stays feasible
and an infeasible start is repaired first. Route duration (``T`` travel plus per-stop handling)
is a hard limit: a move is kept only when every route it changes stays within its slack.
"""

# ruff: noqa: N803, N806 - matrix names (R, M, C, T, L, W) follow the module docstring
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
from numba import njit

from mobility.rebalancing.memetic import tour_memetic
from mobility.rebalancing.tour import _EPS, move_value, tour_ils  # _EPS: the least gain a move applies
from mobility.rebalancing.tour import load_excess as _excess

__all__ = ["FixedRoutes", "descend", "double_bridge", "iterated_local_search", "local_search", "warmup"]

_A: TypeAlias = np.ndarray
Problem: TypeAlias = tuple[_A, _A, _A, _A, _A, _A, _A, _A, float]
"""What the kernels read and never change, as one tuple (built by :func:`local_search`):
``(q, C, T, cap, lo, hi, hs, hb, W)`` (see :class:`FixedRoutes`). The routes ``R``, ``M`` and
the slacks, which the moves change, travel beside it as :data:`Routes`."""
Routes: TypeAlias = tuple[_A, _A, _A]
"""What the moves change: ``(R, M, slack)``, the routes, their stop counts and their seconds left
(see :class:`FixedRoutes`); the kernels change the three arrays in place."""
Prefix: TypeAlias = tuple[_A, _A, _A, _A, _A, _A, _A, _A, _A]
"""The :func:`_prep` arrays of every route: ``(L, pmn, pmx, smn, smx, Pf, Pb, Tf, Tb)``."""


@dataclass
class FixedRoutes:
    """Fixed-quantity routes and everything the kernels read (module docstring).

    Attributes
    ----------
    R
        ``(n_routes, width + 2)`` matrix nodes: ``R[r, 0]`` and ``R[r, M[r] + 1]`` are the route's
        depot, ``R[r, 1..M[r]]`` its stops.
    M
        ``(n_routes,)`` number of stops.
    q
        Signed quantity of every matrix node (depots 0).
    C, T
        Arc cost (objective units) and arc seconds between matrix nodes.
    cap, lo, hi
        Per route capacity and bounds on the running load (``-Q, Q`` for a free start load).
    slack
        Per route seconds left in the shift (``inf`` without a limit).
    hs, hb
        Per route handling seconds per stop and per bike.
    W
        Penalty per bike of load excess (larger than any route cost).
    """

    R: np.ndarray
    M: np.ndarray
    q: np.ndarray
    C: np.ndarray
    T: np.ndarray
    cap: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    slack: np.ndarray
    hs: np.ndarray
    hb: np.ndarray
    W: float

    @classmethod
    def build(
        cls,
        seqs: list[list[int]],
        depots: list[int],
        *,
        q: np.ndarray,
        C: np.ndarray,
        T: np.ndarray,
        cap: list[int],
        start_load: list[int | None],
        slack: list[float],
        hs: list[float],
        hb: list[float],
    ) -> FixedRoutes:
        """Arrays from per-route stop lists (matrix nodes) and per-route truck data."""
        n_nodes = C.shape[0]
        R = np.zeros((len(seqs), n_nodes + 2), dtype=np.int64)
        M = np.zeros(len(seqs), dtype=np.int64)
        for r, (seq, d) in enumerate(zip(seqs, depots, strict=True)):
            R[r, :] = d
            R[r, 1 : len(seq) + 1] = seq
            M[r] = len(seq)
        capa = np.asarray(cap, dtype=np.float64)
        lo = np.array(
            [-c if s is None else -s for c, s in zip(cap, start_load, strict=True)], dtype=np.float64
        )
        hi = np.array(
            [c if s is None else c - s for c, s in zip(cap, start_load, strict=True)], dtype=np.float64
        )
        W = float(max(1.0, float(np.max(C, initial=0.0))) * (n_nodes + 2))
        return cls(
            R,
            M,
            np.asarray(q, dtype=np.float64),
            np.ascontiguousarray(C, dtype=np.float64),
            np.ascontiguousarray(T, dtype=np.float64),
            capa,
            lo,
            hi,
            np.asarray(slack, dtype=np.float64),
            np.asarray(hs, dtype=np.float64),
            np.asarray(hb, dtype=np.float64),
            W,
        )

    @property
    def routes(self) -> Routes:
        """``(R, M, slack)``, the arrays the moves change (:data:`Routes`)."""
        return self.R, self.M, self.slack

    @property
    def problem(self) -> Problem:
        """``(q, C, T, cap, lo, hi, hs, hb, W)``, what the kernels only read (:data:`Problem`)."""
        return self.q, self.C, self.T, self.cap, self.lo, self.hi, self.hs, self.hb, self.W

    def seqs(self) -> list[list[int]]:
        """Stops of every route (matrix nodes)."""
        return [self.R[r, 1 : self.M[r] + 1].tolist() for r in range(self.M.size)]

    def objective(self) -> tuple[float, float]:
        """``(Σ arc cost, Σ load excess)``."""
        c, e = route_objective(self.R, self.M, self.problem)
        return float(c), float(e)

    def copy(self) -> FixedRoutes:
        """A copy whose routes and slacks can change independently (matrices shared)."""
        return FixedRoutes(
            self.R.copy(),
            self.M.copy(),
            self.q,
            self.C,
            self.T,
            self.cap,
            self.lo,
            self.hi,
            self.slack.copy(),
            self.hs,
            self.hb,
            self.W,
        )


def descend(
    fr: FixedRoutes,
    *,
    max_seg: int = 3,
    inter: bool = True,
    max_passes: int = 10**9,
    dirty: np.ndarray | None = None,
) -> int:
    """Local search to a local optimum of all neighbourhoods; returns the moves applied.

    ``dirty`` (one flag per route, default all) marks the routes that may not be at a local
    optimum together with the others (:func:`local_search`).
    """
    flags = np.ones(fr.M.size, dtype=np.bool_) if dirty is None else np.asarray(dirty, dtype=np.bool_)
    return int(local_search(fr.routes, fr.problem, max_seg, inter, max_passes, flags))


def iterated_local_search(
    fr: FixedRoutes,
    deadline: float,
    *,
    seed: int = 0,
    threshold: float = 0.01,
    window: int | None = 12,
    max_iterations: int | None = None,
    stop: Callable[[float], bool] | None = None,
    single_route: Literal["ils", "memetic"] = "ils",
) -> tuple[FixedRoutes, int, int]:
    """Perturb (double bridge, random relocations), descend, accept; the best routes at the end.

    A single route whose shift can never bind (the 1-PDTSP) goes to the granular search of
    :func:`mobility.rebalancing.tour.tour_ils` (neighbour lists, don't-look bits), many times
    faster on 100–500 stops, or with ``single_route="memetic"`` to the population search of
    :func:`mobility.rebalancing.memetic.tour_memetic` (its iterations are then children).

    The double bridge is local (its cuts within ``window`` positions; ``None`` = anywhere).
    Acceptance is record-to-record travel: a candidate is kept when it is better than the
    current solution or within ``threshold × (1 - elapsed share)`` of the best one.

    Returns
    -------
    tuple
        The best routes, the iterations and the improvements of the best.
    """
    if _single_free_route(fr):
        return _granular_ils(
            fr,
            deadline,
            seed=seed,
            max_iterations=max_iterations,
            stop=stop,
            memetic=single_route == "memetic",
        )
    rng = np.random.default_rng(seed)
    descend(fr)
    cost, exc = fr.objective()
    cur = best = cost + fr.W * exc
    best_fr = fr.copy()
    t0 = time.perf_counter()
    total = max(1e-9, deadline - t0)
    it = imp = 0
    nr = fr.M.size
    while time.perf_counter() < deadline:
        if max_iterations is not None and it >= max_iterations:
            break
        if stop is not None and stop(best):
            break
        it += 1
        cand = fr.copy()
        long_routes = np.flatnonzero(cand.M >= 8)
        if long_routes.size:
            double_bridge(cand.R, cand.M, int(rng.choice(long_routes)), rng, window)
        if nr > 1 or not long_routes.size:
            _random_relocations(cand, rng, int(rng.integers(1, 4)))
        _reset_slack(cand, fr)
        descend(cand, dirty=_changed_routes(cand, fr))
        if np.any(cand.slack < -1e-6):
            continue
        cost, exc = cand.objective()
        val = cost + fr.W * exc
        frac = (time.perf_counter() - t0) / total
        if val < cur - 1e-9 or val <= best * (1.0 + threshold * (1.0 - frac)):
            fr, cur = cand, val
            if val < best - 1e-9:
                best, best_fr = val, cand.copy()
                imp += 1
    return best_fr, it, imp


def _changed_routes(cand: FixedRoutes, ref: FixedRoutes) -> np.ndarray:
    """Routes of ``cand`` whose stops differ from those of ``ref`` (a route may be flagged that
    has only different unused columns: a flag too many costs a scan, never a move)."""
    w = int(max(cand.M.max(initial=0), ref.M.max(initial=0))) + 2
    return np.asarray((cand.M != ref.M) | np.any(cand.R[:, :w] != ref.R[:, :w], axis=1))


_warmed = False


def warmup() -> None:
    """Compile (or load from numba's cache) the descent's kernels once per process, on two tiny
    routes, so that a caller can do it before its time limit starts (a cold compile of
    :func:`local_search` takes seconds: a 10-s benchmark run once came out at 11.5 s)."""
    global _warmed
    if _warmed:
        return
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 2.0]])
    C = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=-1))
    fr = FixedRoutes.build(
        [[1, 2], [3, 4]],
        [0, 0],
        q=np.array([0.0, 1.0, -1.0, 1.0, -1.0]),
        C=C,
        T=C,
        cap=[2, 2],
        start_load=[None, 1],
        slack=[10.0, 10.0],
        hs=[0.0, 0.0],
        hb=[0.0, 0.0],
    )
    descend(fr)
    fr.objective()
    _warmed = True


def _single_free_route(fr: FixedRoutes) -> bool:
    """One route whose shift can never bind (the 1-PDTSP case): :mod:`mobility.rebalancing.tour`."""
    if fr.M.size != 1 or fr.M[0] < 2:
        return False
    m = int(fr.M[0])
    longest = (
        float(fr.T.max(initial=0.0)) * (m + 1) + m * float(fr.hs[0]) + float(fr.hb[0] * np.abs(fr.q).sum())
    )
    return bool(fr.slack[0] + _durations(fr)[0] >= longest)


def _granular_ils(
    fr: FixedRoutes,
    deadline: float,
    *,
    seed: int,
    max_iterations: int | None,
    stop: Callable[[float], bool] | None,
    memetic: bool = False,
) -> tuple[FixedRoutes, int, int]:
    """:func:`mobility.rebalancing.tour.tour_ils` (or ``memetic``:
    :func:`mobility.rebalancing.memetic.tour_memetic`) on the single route of ``fr``."""
    m = int(fr.M[0])
    t = fr.R[0, : m + 2]
    prob = (fr.q, fr.C, float(fr.cap[0]), float(fr.lo[0]), float(fr.hi[0]), fr.W)
    if memetic:
        t, _, its, imps = tour_memetic(t, prob, deadline, seed=seed, stop=stop, max_children=max_iterations)
    else:
        t, _, its, imps = tour_ils(t, prob, deadline, seed=seed, stop=stop, max_iterations=max_iterations)
    out = fr.copy()
    out.R[0, : m + 2] = t
    _reset_slack(out, fr)
    return out, its, imps


def _random_relocations(fr: FixedRoutes, rng: np.random.Generator, k: int) -> None:
    """Move ``k`` random stops to random positions of random routes (slack not checked here)."""
    for _ in range(k):
        full = np.flatnonzero(fr.M > 0)
        if not full.size:
            return
        r = int(rng.choice(full))
        i = int(rng.integers(1, fr.M[r] + 1))
        s = int(rng.integers(fr.M.size))
        if s == r:
            if fr.M[r] < 3:
                continue
            p = int(rng.integers(0, fr.M[r] + 1))
            if p in (i - 1, i):
                continue
        else:
            p = int(rng.integers(0, fr.M[s] + 1))
        _move_segment(fr.R, fr.M, r, i, i, s, p, False, np.zeros(1, dtype=np.int64))


def _reset_slack(cand: FixedRoutes, ref: FixedRoutes) -> None:
    """Recompute the slacks of ``cand`` from ``ref`` (same shift budgets); a perturbation that
    breaks a shift limit leaves a negative slack, which only improving moves can fix."""
    if not np.all(np.isfinite(ref.slack)):
        return
    budget = ref.slack + _durations(ref)
    cand.slack[:] = budget - _durations(cand)


def _durations(fr: FixedRoutes) -> np.ndarray:
    out = np.zeros(fr.M.size)
    for r in range(fr.M.size):
        m = int(fr.M[r])
        nodes = fr.R[r, : m + 2]
        out[r] = fr.T[nodes[:-1], nodes[1:]].sum() + m * fr.hs[r] + fr.hb[r] * np.abs(fr.q[nodes[1:-1]]).sum()
    return out


@njit(cache=True)
def _prep(R: np.ndarray, M: np.ndarray, prob: Problem, r: int, pre: Prefix) -> None:  # pragma: no cover
    """Running loads, prefix/suffix extremes and forward/backward cost prefixes of route ``r``."""
    q, C, T = prob[0], prob[1], prob[2]
    L, pmn, pmx, smn, smx, Pf, Pb, Tf, Tb = pre
    m = M[r]
    L[r, 0] = 0.0
    for k in range(1, m + 1):
        L[r, k] = L[r, k - 1] + q[R[r, k]]
    L[r, m + 1] = L[r, m]
    pmn[r, 0] = pmx[r, 0] = 0.0
    for k in range(1, m + 2):
        pmn[r, k] = min(pmn[r, k - 1], L[r, k])
        pmx[r, k] = max(pmx[r, k - 1], L[r, k])
    smn[r, m + 1] = smx[r, m + 1] = L[r, m + 1]
    for k in range(m, -1, -1):
        smn[r, k] = min(smn[r, k + 1], L[r, k])
        smx[r, k] = max(smx[r, k + 1], L[r, k])
    Pf[r, 0] = Pb[r, 0] = Tf[r, 0] = Tb[r, 0] = 0.0
    for k in range(1, m + 2):
        a, b = R[r, k - 1], R[r, k]
        Pf[r, k] = Pf[r, k - 1] + C[a, b]
        Pb[r, k] = Pb[r, k - 1] + C[b, a]
        Tf[r, k] = Tf[r, k - 1] + T[a, b]
        Tb[r, k] = Tb[r, k - 1] + T[b, a]


@njit(cache=True)
def route_objective(R: np.ndarray, M: np.ndarray, prob: Problem) -> tuple[float, float]:  # pragma: no cover
    """``(Σ arc cost, Σ load excess)`` of all routes."""
    q, C, _, cap, lo, hi, _, _, _ = prob
    cost = 0.0
    exc = 0.0
    for r in range(M.size):
        m = M[r]
        load = 0.0
        mn = 0.0
        mx = 0.0
        for k in range(1, m + 2):
            cost += C[R[r, k - 1], R[r, k]]
            if k <= m:
                load += q[R[r, k]]
                mn = min(mn, load)
                mx = max(mx, load)
        exc += _excess(mn, mx, cap[r], lo[r], hi[r])
    return cost, exc


@njit(cache=True, inline="always")
def _route_excess(M: np.ndarray, prob: Problem, pre: Prefix, r: int) -> float:  # pragma: no cover
    """Load excess of route ``r`` as it stands, from its :func:`_prep` extremes."""
    m = M[r]
    return _excess(pre[1][r, m + 1], pre[2][r, m + 1], prob[3][r], prob[4][r], prob[5][r])


@njit(cache=True, inline="always")
def _pair_start(
    M: np.ndarray, prob: Problem, pre: Prefix, r: int, s: int
) -> tuple[int, int, float, float]:  # pragma: no cover - compiled
    """What a move between routes ``r`` and ``s`` starts from: their stop counts and their load
    excess as they stand (``mr, ms, exr, exs``)."""
    return M[r], M[s], _route_excess(M, prob, pre, r), _route_excess(M, prob, pre, s)


@njit(cache=True, inline="always")
def _pair_excess_change(
    prob: Problem, r: int, s: int, mnr: float, mxr: float, mns: float, mxs: float, exr: float, exs: float
) -> float:  # pragma: no cover - compiled
    """Change of the load excess of routes ``r`` and ``s`` together when their running loads come
    to span ``mnr..mxr`` and ``mns..mxs`` (``exr``, ``exs``: their excess before the move)."""
    cap, lo, hi = prob[3], prob[4], prob[5]
    return (_excess(mnr, mxr, cap[r], lo[r], hi[r]) - exr) + (_excess(mns, mxs, cap[s], lo[s], hi[s]) - exs)


@njit(cache=True)
def _seg_rel(L: np.ndarray, r: int, i: int, j: int, rev: bool) -> tuple[float, float]:  # pragma: no cover
    """Min and max of the loads inside segment ``i..j`` relative to the load before it."""
    mn = np.inf
    mx = -np.inf
    if not rev:
        for t in range(i, j + 1):
            v = L[r, t] - L[r, i - 1]
            mn = min(mn, v)
            mx = max(mx, v)
    else:
        for t in range(i - 1, j):
            v = L[r, j] - L[r, t]
            mn = min(mn, v)
            mx = max(mx, v)
    return mn, mx


@njit(cache=True, inline="always")
def _segment(
    R: np.ndarray, L: np.ndarray, r: int, i: int, j: int
) -> tuple[int, int, int, int, float]:  # pragma: no cover - compiled
    """Stops ``i..j`` of route ``r`` as a move takes them out: the stops before and after them
    (``a``, ``b``), their first and last stops (``s1``, ``s2``) and their load change ``D``."""
    return R[r, i - 1], R[r, j + 1], R[r, i], R[r, j], L[r, j] - L[r, i - 1]


@njit(cache=True)
def _move_segment(
    R: np.ndarray, M: np.ndarray, r: int, i: int, j: int, s: int, p: int, rev: bool, buf: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Move stops ``i..j`` of route ``r`` to after position ``p`` of route ``s`` (``p`` indexes
    the route before the move; for ``s == r`` it lies outside ``i-1..j``)."""
    ln = j - i + 1
    for t in range(ln):
        buf[t] = R[r, j - t] if rev else R[r, i + t]
    if s == r:
        m = M[r]
        tmp = R[r, : m + 2].copy()
        out = 0
        for k in range(m + 2):
            if i <= k <= j:
                continue
            R[r, out] = tmp[k]
            out += 1
            if k == p:
                for t in range(ln):
                    R[r, out] = buf[t]
                    out += 1
        return
    mr = M[r]
    for k in range(i, mr + 2 - ln):
        R[r, k] = R[r, k + ln]
    M[r] = mr - ln
    ms = M[s]
    for k in range(ms + 1, p, -1):
        R[s, k + ln] = R[s, k]
    for t in range(ln):
        R[s, p + 1 + t] = buf[t]
    M[s] = ms + ln


@njit(cache=True, inline="always")
def _two_opt_scan(routes: Routes, prob: Problem, pre: Prefix, r: int) -> int:  # pragma: no cover - compiled
    """One 2-opt scan of route ``r``: each improving reversal is applied when found (the scan goes
    on from the next ``i``); returns the moves applied. ``pre``: the :func:`_prep` arrays."""
    R, M, slack = routes
    _, C, T, cap, lo, hi, _, _, W = prob
    L, pmn, pmx, smn, smx, Pf, Pb, Tf, Tb = pre
    applied = 0
    m = M[r]
    ex0 = _route_excess(M, prob, pre, r)
    for i in range(1, m):
        rmn = L[r, i - 1]
        rmx = L[r, i - 1]
        a = R[r, i - 1]
        b = R[r, i]
        for j in range(i + 1, m + 1):
            rmn = min(rmn, L[r, j - 1])
            rmx = max(rmx, L[r, j - 1])
            c = R[r, j]
            d = R[r, j + 1]
            dc = C[a, c] + C[b, d] - C[a, b] - C[c, d] + (Pb[r, j] - Pb[r, i]) - (Pf[r, j] - Pf[r, i])
            base = L[r, i - 1] + L[r, j]
            mn = min(min(pmn[r, i - 1], smn[r, j]), base - rmx)
            mx = max(max(pmx[r, i - 1], smx[r, j]), base - rmn)
            dobj = dc + W * (_excess(mn, mx, cap[r], lo[r], hi[r]) - ex0)
            if dobj < -_EPS:
                dt = T[a, c] + T[b, d] - T[a, b] - T[c, d] + (Tb[r, j] - Tb[r, i]) - (Tf[r, j] - Tf[r, i])
                if dt <= slack[r] + 1e-6:
                    lft, rgt = i, j
                    while lft < rgt:
                        R[r, lft], R[r, rgt] = R[r, rgt], R[r, lft]
                        lft += 1
                        rgt -= 1
                    slack[r] -= dt
                    _prep(R, M, prob, r, pre)
                    ex0 = _route_excess(M, prob, pre, r)
                    applied += 1
                    break
    return applied


@njit(cache=True, inline="always")
def _or_opt_scan(
    routes: Routes, prob: Problem, pre: Prefix, max_seg: int, r: int, buf: np.ndarray
) -> int:  # pragma: no cover - compiled
    """One or-opt scan of route ``r``: move each segment of 1..``max_seg`` stops, forward or
    reversed, to the first place in the same route that lowers its cost plus penalised load excess
    and keeps its shift.

    For each segment ``i..j`` (load change ``D``) the places after it (``p`` in ``j+1..m``, the
    stops passed lose ``D``) are tried first, then the places before it (``p`` in ``i-2..0``,
    nearest first, the stops passed gain ``D``); the new minimum and maximum running load come in
    O(1) from the :func:`_prep` prefix/suffix extremes, the running extremes of the stops passed
    and the segment's own relative extremes (:func:`_seg_rel`). A move is applied when found and
    the scan goes on with the next segment.

    The scan over the places stays in this kernel: as a kernel per segment it took 6-14 % more
    time on 300-400-stop descents (a call, and its tuple unpacking, per segment).

    Parameters
    ----------
    routes, prob, pre
        The routes (changed in place), the problem and the :func:`_prep` arrays of every route.
    max_seg
        Longest segment moved (stops).
    r
        The route scanned.
    buf
        Scratch for :func:`_move_segment` (at least ``max_seg`` long).

    Returns
    -------
    int
        The moves applied.
    """
    R, M, slack = routes
    _, C, T, cap, lo, hi, _, _, W = prob
    L, pmn, pmx, smn, smx, Pf, Pb, Tf, Tb = pre
    applied = 0
    m = M[r]
    ex0 = _route_excess(M, prob, pre, r)
    for ln in range(1, max_seg + 1):
        for i in range(1, m - ln + 2):
            j = i + ln - 1
            a, b, s1, s2, D = _segment(R, L, r, i, j)
            rem = C[a, b] - C[a, s1] - C[s2, b]
            remt = T[a, b] - T[a, s1] - T[s2, b]
            bounds = (cap[r], lo[r], hi[r], W, ex0)
            moved = False
            for rv in range(2 if j > i else 1):
                rev = rv == 1
                f1, f2 = (s2, s1) if rev else (s1, s2)
                internal = (Pb[r, j] - Pb[r, i]) - (Pf[r, j] - Pf[r, i]) if rev else 0.0
                internal_t = (Tb[r, j] - Tb[r, i]) - (Tf[r, j] - Tf[r, i]) if rev else 0.0
                smin, smax = _seg_rel(L, r, i, j, rev)
                rmn = np.inf  # after p in j+1..m (later in the route): passed loads shift by -D
                rmx = -np.inf
                for p in range(j + 1, m + 1):
                    rmn = min(rmn, L[r, p])
                    rmx = max(rmx, L[r, p])
                    x, y = R[r, p], R[r, p + 1]
                    dc = rem + C[x, f1] + C[f2, y] - C[x, y] + internal
                    sb = L[r, p] - D
                    mn = min(min(pmn[r, i - 1], rmn - D), min(sb + smin, smn[r, p + 1]))
                    mx = max(max(pmx[r, i - 1], rmx - D), max(sb + smax, smx[r, p + 1]))
                    if move_value((dc, mn, mx), bounds) < -_EPS:
                        dt = remt + T[x, f1] + T[f2, y] - T[x, y] + internal_t
                        if dt <= slack[r] + 1e-6:
                            moved = True
                            break
                if not moved:
                    rmn = np.inf  # after p in i-2..0 (earlier in the route): passed loads shift by +D
                    rmx = -np.inf
                    for p in range(i - 2, -1, -1):
                        rmn = min(rmn, L[r, p + 1])
                        rmx = max(rmx, L[r, p + 1])
                        x, y = R[r, p], R[r, p + 1]
                        dc = rem + C[x, f1] + C[f2, y] - C[x, y] + internal
                        sb = L[r, p]
                        mn = min(min(pmn[r, p], sb + smin), min(rmn + D, smn[r, j + 1]))
                        mx = max(max(pmx[r, p], sb + smax), max(rmx + D, smx[r, j + 1]))
                        if move_value((dc, mn, mx), bounds) < -_EPS:
                            dt = remt + T[x, f1] + T[f2, y] - T[x, y] + internal_t
                            if dt <= slack[r] + 1e-6:
                                moved = True
                                break
                if moved:
                    _move_segment(R, M, r, i, j, r, p, rev, buf)
                    slack[r] -= dt
                    break
            if moved:
                _prep(R, M, prob, r, pre)
                ex0 = _route_excess(M, prob, pre, r)
                applied += 1
    return applied


@njit(cache=True, inline="always")
def _relocate(
    routes: Routes, prob: Problem, pre: Prefix, max_seg: int, r: int, s: int, buf: np.ndarray
) -> bool:  # pragma: no cover - compiled
    """Move the first segment of route ``r`` whose relocation into route ``s`` improves both;
    True when moved (``_prep`` not yet called)."""
    R, M, slack = routes
    q, C, T, cap, lo, hi, hs, hb, W = prob
    L, pmn, pmx, smn, smx, Pf, Pb, Tf, Tb = pre
    mr, ms, exr, exs = _pair_start(M, prob, pre, r, s)
    for ln in range(1, max_seg + 1):
        for i in range(1, mr - ln + 2):
            j = i + ln - 1
            a, b, s1, s2, D = _segment(R, L, r, i, j)
            bikes = 0.0
            for t in range(i, j + 1):
                bikes += abs(q[R[r, t]])
            rem = C[a, b] - C[a, s1] - C[s2, b] - (Pf[r, j] - Pf[r, i])
            remt = T[a, b] - T[a, s1] - T[s2, b] - (Tf[r, j] - Tf[r, i])
            remt -= ln * hs[r] + hb[r] * bikes
            if remt > slack[r] + 1e-6:
                continue
            mnr = min(pmn[r, i - 1], smn[r, j + 1] - D)
            mxr = max(pmx[r, i - 1], smx[r, j + 1] - D)
            dexr = _excess(mnr, mxr, cap[r], lo[r], hi[r]) - exr
            addt = ln * hs[s] + hb[s] * bikes
            for rv in range(2 if ln > 1 else 1):
                rev = rv == 1
                f1, f2 = (s2, s1) if rev else (s1, s2)
                internal = (Pb[r, j] - Pb[r, i]) if rev else (Pf[r, j] - Pf[r, i])
                internal_t = (Tb[r, j] - Tb[r, i]) if rev else (Tf[r, j] - Tf[r, i])
                smin, smax = _seg_rel(L, r, i, j, rev)
                for p in range(0, ms + 1):
                    x, y = R[s, p], R[s, p + 1]
                    dc = rem + C[x, f1] + C[f2, y] - C[x, y] + internal
                    sb = L[s, p]
                    mn = min(min(pmn[s, p], sb + smin), smn[s, p + 1] + D)
                    mx = max(max(pmx[s, p], sb + smax), smx[s, p + 1] + D)
                    dobj = dc + W * (dexr + _excess(mn, mx, cap[s], lo[s], hi[s]) - exs)
                    if dobj < -_EPS:
                        dts = T[x, f1] + T[f2, y] - T[x, y] + internal_t + addt
                        if dts <= slack[s] + 1e-6:
                            _move_segment(R, M, r, i, j, s, p, rev, buf)
                            slack[r] -= remt
                            slack[s] -= dts
                            return True
    return False


@njit(cache=True, inline="always")
def _exchange(
    routes: Routes, prob: Problem, pre: Prefix, r: int, s: int
) -> bool:  # pragma: no cover - compiled
    """Swap the first stop of route ``r`` with a stop of route ``s`` when that improves both;
    True when swapped (``_prep`` not yet called)."""
    R, M, slack = routes
    q, C, T, _, _, _, _, hb, W = prob
    L, pmn, pmx, smn, smx, _, _, _, _ = pre
    mr, ms, exr, exs = _pair_start(M, prob, pre, r, s)
    for i in range(1, mr + 1):
        a, u, b = R[r, i - 1], R[r, i], R[r, i + 1]
        for k in range(1, ms + 1):
            x, v, y = R[s, k - 1], R[s, k], R[s, k + 1]
            dq = q[v] - q[u]
            dc = (C[a, v] + C[v, b] - C[a, u] - C[u, b]) + (C[x, u] + C[u, y] - C[x, v] - C[v, y])
            vr = L[r, i - 1] + q[v]
            mnr = min(min(pmn[r, i - 1], vr), smn[r, i + 1] + dq)
            mxr = max(max(pmx[r, i - 1], vr), smx[r, i + 1] + dq)
            vs = L[s, k - 1] + q[u]
            mns = min(min(pmn[s, k - 1], vs), smn[s, k + 1] - dq)
            mxs = max(max(pmx[s, k - 1], vs), smx[s, k + 1] - dq)
            dex = _pair_excess_change(prob, r, s, mnr, mxr, mns, mxs, exr, exs)
            if dc + W * dex < -_EPS:
                bu, bv = abs(q[u]), abs(q[v])
                dtr = T[a, v] + T[v, b] - T[a, u] - T[u, b] + hb[r] * (bv - bu)
                dts = T[x, u] + T[u, y] - T[x, v] - T[v, y] + hb[s] * (bu - bv)
                if dtr <= slack[r] + 1e-6 and dts <= slack[s] + 1e-6:
                    R[r, i] = v
                    R[s, k] = u
                    slack[r] -= dtr
                    slack[s] -= dts
                    return True
    return False


@njit(cache=True, inline="always")
def _joined(
    C: np.ndarray, P: np.ndarray, R: np.ndarray, M: np.ndarray, x: int, i: int, y: int, j: int
) -> float:  # pragma: no cover - compiled
    """Cost (``C`` with its forward prefix ``P``; or seconds, with ``T`` and ``Tf``) of route
    ``x`` up to position ``i``, then the stops of route ``y`` after position ``j``, then the depot
    of ``x``: a route of a 2-opt* move."""
    a, dep, my = R[x, i], R[x, 0], M[y]
    if j >= my:
        return P[x, i] + C[a, dep]
    return P[x, i] + C[a, R[y, j + 1]] + (P[y, my] - P[y, j + 1]) + C[R[y, my], dep]


@njit(cache=True, inline="always")
def _two_opt_star(
    routes: Routes, prob: Problem, pre: Prefix, r: int, s: int
) -> bool:  # pragma: no cover - compiled
    """Exchange the tails of routes ``r`` and ``s`` (2-opt*, Potvin & Rousseau 1995) at the first
    pair of cuts that improves both together; True when exchanged (``_prep`` not yet called).

    Cutting ``r`` after position ``i`` and ``s`` after ``j`` gives ``r' = r[..i] + s[j+1..]`` and
    ``s' = s[..j] + r[i+1..]``, each ending at its own depot. The tail of ``s`` keeps its loads
    relative to ``L_s[j]``, so ``min L`` of ``r'`` is ``min(pmn_r[i], L_r[i] - L_s[j] +
    smn_s[j+1])`` (the maximum likewise): O(1) per pair of cuts, as the other moves. Handling
    seconds follow the stops to their new truck (``hs``, ``hb`` per route), from running counts of
    the stops and bikes before each cut.
    """
    R, M, slack = routes
    q, C, T, _, _, _, hs, hb, W = prob
    L, pmn, pmx, smn, smx, Pf, _, Tf, _ = pre
    mr, ms, exr, exs = _pair_start(M, prob, pre, r, s)
    dr, ds = R[r, 0], R[s, 0]
    br_tot = 0.0
    for t in range(1, mr + 1):
        br_tot += abs(q[R[r, t]])
    bs_tot = 0.0
    for t in range(1, ms + 1):
        bs_tot += abs(q[R[s, t]])
    old_c = Pf[r, mr + 1] + Pf[s, ms + 1]
    old_tr = Tf[r, mr + 1] + hs[r] * mr + hb[r] * br_tot
    old_ts = Tf[s, ms + 1] + hs[s] * ms + hb[s] * bs_tot
    br = 0.0  # bikes of r's stops 1..i
    for i in range(0, mr + 1):
        if i > 0:
            br += abs(q[R[r, i]])
        bs = 0.0  # bikes of s's stops 1..j
        for j in range(0, ms + 1):
            if j > 0:
                bs += abs(q[R[s, j]])
            if i == mr and j == ms:
                continue
            dc = _joined(C, Pf, R, M, r, i, s, j) + _joined(C, Pf, R, M, s, j, r, i) - old_c
            shift_r = L[r, i] - L[s, j]
            mnr = min(pmn[r, i], shift_r + smn[s, j + 1])
            mxr = max(pmx[r, i], shift_r + smx[s, j + 1])
            mns = min(pmn[s, j], smn[r, i + 1] - shift_r)
            mxs = max(pmx[s, j], smx[r, i + 1] - shift_r)
            dex = _pair_excess_change(prob, r, s, mnr, mxr, mns, mxs, exr, exs)
            if dc + W * dex >= -_EPS:
                continue
            # seconds: travel, then handling of the stops and bikes each truck now has
            handle_r = hs[r] * (i + ms - j) + hb[r] * (br + bs_tot - bs)
            handle_s = hs[s] * (j + mr - i) + hb[s] * (bs + br_tot - br)
            dtr = _joined(T, Tf, R, M, r, i, s, j) + handle_r - old_tr
            dts = _joined(T, Tf, R, M, s, j, r, i) + handle_s - old_ts
            if dtr > slack[r] + 1e-6 or dts > slack[s] + 1e-6:
                continue
            tail_r = R[r, i + 1 : mr + 1].copy()
            tail_s = R[s, j + 1 : ms + 1].copy()
            nr_ = i + tail_s.size
            ns_ = j + tail_r.size
            R[r, i + 1 : nr_ + 1] = tail_s
            R[r, nr_ + 1] = dr
            R[s, j + 1 : ns_ + 1] = tail_r
            R[s, ns_ + 1] = ds
            M[r] = nr_
            M[s] = ns_
            slack[r] -= dtr
            slack[s] -= dts
            return True
    return False


@njit(cache=True)
def local_search(
    routes: Routes, prob: Problem, max_seg: int, inter: bool, max_passes: int, dirty: np.ndarray
) -> int:  # pragma: no cover - compiled
    """First-improvement descent over 2-opt, or-opt, relocate, exchange and 2-opt* (module
    docstring).

    Modifies the :data:`Routes` arrays ``R``, ``M`` and ``slack`` (remaining route seconds) in
    place; returns the number of moves applied. ``prob`` is the :data:`Problem` tuple (``hs``/``hb``
    are each route's seconds per stop and per bike handled). Each neighbourhood is its own kernel
    (:func:`_two_opt_scan`, :func:`_or_opt_scan`, :func:`_relocate`, :func:`_exchange`,
    :func:`_two_opt_star`) over the prefix arrays of :func:`_prep`; numba inlines them here
    (``inline="always"``), since as calls they cost the descent about 4 %.

    Only what may have changed is scanned again. Every change of a route gets a new stamp, and a
    route (its 2-opt and or-opt) or an ordered pair of routes (relocate from the first to the
    second; exchange and 2-opt* when the first is the lower index) is scanned only when one of
    its routes has changed since its last scan found nothing. Routes whose ``dirty`` flag is False
    are taken as already at a local optimum together (the iterated local search passes the routes
    its perturbation touched), so the descent after a perturbation of two routes out of ten scans
    2 of the 10 routes and 34 of the 90 pairs in its first pass, not all of them.
    """
    R, M, _ = routes
    nr, width = R.shape
    L = np.zeros((nr, width))
    pmn = np.zeros((nr, width))
    pmx = np.zeros((nr, width))
    smn = np.zeros((nr, width))
    smx = np.zeros((nr, width))
    Pf = np.zeros((nr, width))
    Pb = np.zeros((nr, width))
    Tf = np.zeros((nr, width))
    Tb = np.zeros((nr, width))
    pre = (L, pmn, pmx, smn, smx, Pf, Pb, Tf, Tb)
    buf = np.zeros(max(max_seg, 1), dtype=np.int64)
    for r in range(nr):
        _prep(R, M, prob, r, pre)
    clock = 1
    changed = np.zeros(nr, dtype=np.int64)  # stamp of each route's last change
    for r in range(nr):
        if dirty[r]:
            changed[r] = clock
    intra_seen = np.zeros(nr, dtype=np.int64)  # stamp when its own scan last found nothing
    pair_seen = np.zeros((nr, nr), dtype=np.int64)
    moves = 0
    passes = 0
    improved = True
    while improved and passes < max_passes:
        improved = False
        passes += 1
        for r in range(nr):
            if changed[r] <= intra_seen[r]:
                continue
            found = _intra(routes, prob, pre, max_seg, r, buf)
            if found:
                moves += found
                improved = True
                clock += 1
                changed[r] = clock
            else:
                intra_seen[r] = clock
        if not inter:
            continue
        for r in range(nr):
            for s in range(nr):
                if s == r or max(changed[r], changed[s]) <= pair_seen[r, s]:
                    continue
                found = _pair(routes, prob, pre, max_seg, r, s, buf)
                if found:
                    moves += found
                    improved = True
                    clock += 1
                    changed[r] = changed[s] = clock
                pair_seen[r, s] = clock
    return moves


@njit(cache=True, inline="always")
def _intra(
    routes: Routes, prob: Problem, pre: Prefix, max_seg: int, r: int, buf: np.ndarray
) -> int:  # pragma: no cover - compiled
    """2-opt, then or-opt, each scanned again while it moves something; the moves applied."""
    found = 0
    n = _two_opt_scan(routes, prob, pre, r)
    while n > 0:
        found += n
        n = _two_opt_scan(routes, prob, pre, r)
    n = _or_opt_scan(routes, prob, pre, max_seg, r, buf)
    while n > 0:
        found += n
        n = _or_opt_scan(routes, prob, pre, max_seg, r, buf)
    return found


@njit(cache=True, inline="always")
def _pair(
    routes: Routes, prob: Problem, pre: Prefix, max_seg: int, r: int, s: int, buf: np.ndarray
) -> int:  # pragma: no cover - compiled
    """Relocate from ``r`` to ``s`` (and, when ``r < s``, exchange and 2-opt* between them) until
    none improves; the moves applied (the :func:`_prep` arrays kept up to date)."""
    R, M, _ = routes
    found = 0
    again = True
    while again:
        again = _relocate(routes, prob, pre, max_seg, r, s, buf)
        if not again and r < s:
            again = _exchange(routes, prob, pre, r, s)
        if not again and r < s:
            again = _two_opt_star(routes, prob, pre, r, s)
        if again:
            _prep(R, M, prob, r, pre)
            _prep(R, M, prob, s, pre)
            found += 1
    return found


def double_bridge(
    R: np.ndarray, M: np.ndarray, r: int, rng: np.random.Generator, window: int | None = None
) -> bool:
    """``A B C D -> A C B D`` on route ``r`` with random cut points; False when too short.

    With ``window`` the three cuts lie within ``window`` consecutive positions (a local double
    bridge, which the descent repairs quickly on long routes).
    """
    m = int(M[r])
    if m < 8:
        return False
    lo, hi = 2, m
    if window is not None and window < m - 1:
        lo = int(rng.integers(2, m - window + 2))
        hi = lo + window - 1
    p1, p2, p3 = np.sort(rng.choice(np.arange(lo, hi + 1), 3, replace=False))
    seg = R[r, 1 : m + 1].copy()
    R[r, 1 : m + 1] = np.concatenate(
        (seg[: p1 - 1], seg[p2 - 1 : p3 - 1], seg[p1 - 1 : p2 - 1], seg[p3 - 1 :])
    )
    return True
