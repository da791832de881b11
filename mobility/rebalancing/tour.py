"""Granular iterated local search for one fixed-quantity route (the 1-PDTSP case).

One route ``t[0] = depot, t[1..m] stops, t[m+1] = depot`` whose stops change the load by fixed
``q`` (the notation of :mod:`mobility.rebalancing.moves`: running load ``L_0 = 0``,
``L_k = L_{k-1} + q[t_k]``, ``L_{m+1} = L_m``; load excess
``max(0, (max L - min L) - Q) + max(0, lo - min L) + max(0, max L - hi)`` penalised by ``W``).

Problem: over the orders ``t`` of the route's stops (each once, the depot at both ends)::

    minimise    sum_k C[t_k, t_{k+1}]  +  W * excess(t)
    subject to  t a permutation of the stops between two depot visits

(:func:`tour_value` computes this value). ``W`` is the caller's; the engine's
(:class:`mobility.rebalancing.moves.FixedRoutes`) is larger than any tour's cost, so the best tour
is load-feasible (``excess(t) = 0``: ``0 <= l_0 + L_k <= Q`` for every ``k``, the start load
``l_0`` free in ``[0, Q]`` or fixed, ``lo = -l_0``, ``hi = Q - l_0``) whenever the search found a
load-feasible one.

What makes it fast on 100–500 stops (Hernández-Pérez, Rodríguez-Martín & Salazar-González 2009;
Mladenović, Urošević, Hanafi & Ilić 2012; the granular search of Toth & Vigo 2003):

* **neighbour lists**: a move must create an arc between a node and one of its ``k`` nearest
  nodes, so a node's neighbourhood has ``O(k)`` moves, not ``O(n)``;
* **O(1) load and cost deltas**: a 2-opt reverses ``L`` on a range, an or-opt shifts a range by
  a constant: the new ``min L``/``max L`` come from range minima/maxima of ``L`` (a sparse table,
  rebuilt in ``O(n log n)`` after an applied move), reversed-segment arc costs from forward and
  backward prefix sums;
* **don't-look bits**: a queue of nodes whose surroundings changed; the descent after a
  perturbation only looks near the perturbation;
* **perturbation**: a double bridge (``A B C D -> A C B D``) whose cuts lie within ``window``
  consecutive positions (on fewer than 8 stops: a swap of two random stops);
* **acceptance**: record-to-record travel, a candidate local optimum replaces the current one when
  it is better, or within ``threshold × (1 - elapsed share)`` of the best one.

Moves: 2-opt (reverse ``t[lo..hi]``) and or-opt (move ``t[i..j]``, 1–3 stops, forward or
reversed, to after position ``p``). The whole loop runs compiled (numba), in batches between
which Python checks the clock.
"""

# ruff: noqa: N803, N806, NPY002, SIM108 - matrix names (C, L, W) follow the module docstring;
# numba's nopython mode has only the legacy np.random functions
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeAlias

import numpy as np
from numba import njit

__all__ = ["load_excess", "move_value", "neighbour_lists", "tables", "tour_ils", "tour_value"]

_EPS = 1e-9

_A: TypeAlias = np.ndarray
Problem: TypeAlias = tuple[_A, _A, float, float, float, float]
"""What the search reads and never changes, as one tuple: ``(q, C, cap, lo, hi, W)`` (quantities,
arc costs, capacity, load bounds, excess penalty); :func:`tour_ils` and
:func:`mobility.rebalancing.memetic.tour_memetic` take the route's instance in this form."""
Tables: TypeAlias = tuple[_A, _A, _A, _A, _A, _A, _A]
"""``(pos, L, tmn, tmx, Pf, Pb, lg)`` of the current route (:func:`_prep`, :func:`tables`)."""
Queue: TypeAlias = tuple[_A, _A, _A]
"""``(queue, inq, head_tail)``: the stops whose neighbourhoods are still to be searched."""
Workspace: TypeAlias = tuple[Tables, Queue, _A]
"""``(tab, work, buf)``: what a descent writes besides the route (:func:`_workspace`): its
:data:`Tables`, the :data:`Queue` and the buffer of a moved or-opt segment."""


def neighbour_lists(C: np.ndarray, nodes: np.ndarray, k: int) -> np.ndarray:
    """``(n_matrix_nodes, k')`` the ``k`` nearest of ``nodes`` to every node (symmetrised cost);
    rows of nodes outside ``nodes`` are filled too. ``-1`` pads when fewer exist."""
    nodes = np.asarray(nodes, dtype=np.int64)
    kk = int(min(k, max(1, nodes.size - 1)))
    S = C[:, nodes] + C[nodes, :].T
    out = np.full((C.shape[0], kk), -1, dtype=np.int64)
    for u in range(C.shape[0]):
        d = S[u].copy()
        d[nodes == u] = np.inf
        order = np.argsort(d, kind="stable")[:kk]
        sel = nodes[order]
        sel[~np.isfinite(d[order])] = -1
        out[u] = sel
    return out


@njit(cache=True)
def load_excess(mn: float, mx: float, cap: float, lo: float, hi: float) -> float:  # pragma: no cover
    """Load excess of a route whose running load spans ``[mn, mx]`` (module docstring)."""
    e = 0.0
    if mx - mn > cap:
        e += mx - mn - cap
    if lo > mn:
        e += lo - mn
    if mx > hi:
        e += mx - hi
    return e


@njit(cache=True)
def _prep(t: np.ndarray, m: int, q: np.ndarray, C: np.ndarray, tab: Tables) -> None:  # pragma: no cover
    """Positions, running loads, their sparse min/max tables and the cost prefixes of ``t``."""
    pos, L, tmn, tmx, Pf, Pb, _ = tab
    L[0] = 0.0
    for k in range(1, m + 1):
        L[k] = L[k - 1] + q[t[k]]
    L[m + 1] = L[m]
    for k in range(m + 1, -1, -1):
        pos[t[k]] = k
    size = m + 2
    for k in range(size):
        tmn[0, k] = L[k]
        tmx[0, k] = L[k]
    lv = 1
    while (1 << lv) <= size:
        half = 1 << (lv - 1)
        for k in range(size - (1 << lv) + 1):
            tmn[lv, k] = min(tmn[lv - 1, k], tmn[lv - 1, k + half])
            tmx[lv, k] = max(tmx[lv - 1, k], tmx[lv - 1, k + half])
        lv += 1
    Pf[0] = 0.0
    Pb[0] = 0.0
    for k in range(1, m + 2):
        a, b = t[k - 1], t[k]
        Pf[k] = Pf[k - 1] + C[a, b]
        Pb[k] = Pb[k - 1] + C[b, a]


@njit(cache=True)
def _rmin(tmn: np.ndarray, lg: np.ndarray, a: int, b: int) -> float:  # pragma: no cover
    if a > b:
        return np.inf
    lv = lg[b - a + 1]
    return min(tmn[lv, a], tmn[lv, b - (1 << lv) + 1])


@njit(cache=True)
def _rmax(tmx: np.ndarray, lg: np.ndarray, a: int, b: int) -> float:  # pragma: no cover
    if a > b:
        return -np.inf
    lv = lg[b - a + 1]
    return max(tmx[lv, a], tmx[lv, b - (1 << lv) + 1])


@njit(cache=True)
def _tour_excess(tab: Tables, m: int, cap: float, lo: float, hi: float) -> float:  # pragma: no cover
    """Load excess of the route of ``m`` stops whose :data:`Tables` are ``tab`` (its running load's
    extremes are the range minimum and maximum over positions ``0..m+1``)."""
    _, _, tmn, tmx, _, _, lg = tab
    return load_excess(_rmin(tmn, lg, 0, m + 1), _rmax(tmx, lg, 0, m + 1), cap, lo, hi)


@njit(cache=True)
def _eval_2opt(
    t: np.ndarray, m: int, C: np.ndarray, tab: Tables, lo_: int, hi_: int
) -> tuple[float, float, float]:  # pragma: no cover - compiled
    """Cost delta and new ``min L``, ``max L`` of reversing ``t[lo_..hi_]`` (``1 <= lo_ < hi_ <= m``)."""
    _, L, tmn, tmx, Pf, Pb, lg = tab
    a, b, c, d = t[lo_ - 1], t[lo_], t[hi_], t[hi_ + 1]
    dc = C[a, c] + C[b, d] - C[a, b] - C[c, d] + (Pb[hi_] - Pb[lo_]) - (Pf[hi_] - Pf[lo_])
    base = L[lo_ - 1] + L[hi_]
    mn = min(
        min(_rmin(tmn, lg, 0, lo_ - 1), _rmin(tmn, lg, hi_, m + 1)), base - _rmax(tmx, lg, lo_ - 1, hi_ - 1)
    )
    mx = max(
        max(_rmax(tmx, lg, 0, lo_ - 1), _rmax(tmx, lg, hi_, m + 1)), base - _rmin(tmn, lg, lo_ - 1, hi_ - 1)
    )
    return dc, mn, mx


@njit(cache=True)
def _eval_oropt(
    t: np.ndarray, m: int, C: np.ndarray, tab: Tables, i: int, j: int, p: int, rev: bool
) -> tuple[float, float, float]:  # pragma: no cover - compiled
    """Cost delta and new ``min L``, ``max L`` of moving ``t[i..j]`` (reversed if ``rev``) to after
    position ``p`` (``p < i - 1`` or ``j < p <= m``)."""
    _, L, tmn, tmx, Pf, Pb, lg = tab
    a, b, s1, s2 = t[i - 1], t[j + 1], t[i], t[j]
    f1, f2 = (s2, s1) if rev else (s1, s2)
    x, y = t[p], t[p + 1]
    dc = C[a, b] - C[a, s1] - C[s2, b] + C[x, f1] + C[f2, y] - C[x, y]
    if rev:
        dc += (Pb[j] - Pb[i]) - (Pf[j] - Pf[i])
    D = L[j] - L[i - 1]
    smin = np.inf
    smax = -np.inf
    if rev:
        for k in range(i - 1, j):
            v = L[j] - L[k]
            smin = min(smin, v)
            smax = max(smax, v)
    else:
        for k in range(i, j + 1):
            v = L[k] - L[i - 1]
            smin = min(smin, v)
            smax = max(smax, v)
    if p > j:
        sb = L[p] - D
        mn = min(
            min(_rmin(tmn, lg, 0, i - 1), _rmin(tmn, lg, j + 1, p) - D),
            min(sb + smin, _rmin(tmn, lg, p + 1, m + 1)),
        )
        mx = max(
            max(_rmax(tmx, lg, 0, i - 1), _rmax(tmx, lg, j + 1, p) - D),
            max(sb + smax, _rmax(tmx, lg, p + 1, m + 1)),
        )
    else:
        sb = L[p]
        mn = min(
            min(_rmin(tmn, lg, 0, p), sb + smin),
            min(_rmin(tmn, lg, p + 1, i - 1) + D, _rmin(tmn, lg, j + 1, m + 1)),
        )
        mx = max(
            max(_rmax(tmx, lg, 0, p), sb + smax),
            max(_rmax(tmx, lg, p + 1, i - 1) + D, _rmax(tmx, lg, j + 1, m + 1)),
        )
    return dc, mn, mx


@njit(cache=True)
def _apply_2opt(t: np.ndarray, lo_: int, hi_: int) -> None:  # pragma: no cover - compiled
    while lo_ < hi_:
        t[lo_], t[hi_] = t[hi_], t[lo_]
        lo_ += 1
        hi_ -= 1


@njit(cache=True)
def _apply_oropt(
    t: np.ndarray, i: int, j: int, p: int, rev: bool, buf: np.ndarray
) -> None:  # pragma: no cover
    ln = j - i + 1
    for k in range(ln):
        buf[k] = t[j - k] if rev else t[i + k]
    if p > j:
        for k in range(j + 1, p + 1):
            t[k - ln] = t[k]
        for k in range(ln):
            t[p - ln + 1 + k] = buf[k]
    else:
        for k in range(i - 1, p, -1):
            t[k + ln] = t[k]
        for k in range(ln):
            t[p + 1 + k] = buf[k]


@njit(cache=True)
def _push(
    u: int, queue: np.ndarray, inq: np.ndarray, head_tail: np.ndarray, depot: int
) -> None:  # pragma: no cover
    if u < 0 or u == depot or inq[u]:
        return
    n = queue.size
    queue[head_tail[1] % n] = u
    head_tail[1] += 1
    inq[u] = True


@njit(cache=True)
def move_value(
    move: tuple[float, float, float], bounds: tuple[float, float, float, float, float]
) -> float:  # pragma: no cover - compiled
    """A move's value from its evaluation ``(Δ cost, min L, max L)``: ``Δ cost + W · Δ excess``
    with ``bounds = (cap, lo, hi, W, ex0)`` (``ex0`` the route's excess before the move).

    The granular moves here and the or-opt scan of :mod:`mobility.rebalancing.moves` value a
    move by it.

    Parameters
    ----------
    move
        ``(Δ cost, min L, max L)``: the route's cost change and its running-load extremes after
        the move.
    bounds
        ``(cap, lo, hi, W, ex0)``: the truck's capacity, the bounds on the running load, the
        penalty per bike of excess and the route's excess before the move.

    Returns
    -------
    float
        ``Δ cost + W · (excess after - ex0)``; negative when the move improves the route.
    """
    dc, mn, mx = move
    cap, lo, hi, W, ex0 = bounds
    return dc + W * (load_excess(mn, mx, cap, lo, hi) - ex0)


@njit(cache=True)
def _best_2opt(
    t: np.ndarray,
    m: int,
    C: np.ndarray,
    tab: Tables,
    nbr: np.ndarray,
    u: int,
    bounds: tuple[float, float, float, float, float],
    allow: float,
    gmax: float,
) -> tuple[float, int, int]:  # pragma: no cover - compiled
    """The best 2-opt move making a new arc at stop ``u`` (to one of its neighbours):
    ``(value, lo, hi)``, value ``-_EPS`` when none improves. ``bounds``: ``(cap, lo, hi, W, ex0)``."""
    pos = tab[0]
    depot = t[0]
    iu = pos[u]
    best = -_EPS
    b1 = b2 = 0
    for kk in range(nbr.shape[1]):
        c = nbr[u, kk]
        if c < 0 or C[u, c] >= gmax + allow:
            break
        for case in range(4):
            pc = (m + 1 if case < 2 else 0) if c == depot else pos[c]
            if case == 0:  # new arc u -> c as t[lo-1] -> t[hi]
                lo_, hi_ = iu + 1, pc
            elif case == 1:  # new arc u -> c as t[lo] -> t[hi+1]
                lo_, hi_ = iu, pc - 1
            elif case == 2:  # new arc c -> u as t[lo-1] -> t[hi]
                lo_, hi_ = pc + 1, iu
            else:  # new arc c -> u as t[lo] -> t[hi+1]
                lo_, hi_ = pc, iu - 1
            if lo_ < 1 or hi_ > m or lo_ >= hi_:
                continue
            val = move_value(_eval_2opt(t, m, C, tab, lo_, hi_), bounds)
            if val < best:
                best, b1, b2 = val, lo_, hi_
    return best, b1, b2


@njit(cache=True)
def _best_oropt_at(
    t: np.ndarray,
    m: int,
    C: np.ndarray,
    tab: Tables,
    nbr: np.ndarray,
    i: int,
    j: int,
    bounds: tuple[float, float, float, float, float],
    allow: float,
    best: float,
) -> tuple[float, int, bool]:  # pragma: no cover - compiled
    """The best place ``p`` for segment ``t[i..j]`` next to a neighbour of one of its ends, if it
    beats ``best``: ``(value, p, reversed)``, ``p = -1`` when nothing beats ``best``."""
    pos = tab[0]
    depot = t[0]
    ln = j - i + 1
    s1, s2 = t[i], t[j]
    gain = C[t[i - 1], s1] + C[s2, t[j + 1]] - C[t[i - 1], t[j + 1]]
    bp = -1
    brev = False
    for end in range(2):
        s = s1 if end == 0 else s2
        for kk in range(nbr.shape[1]):
            c = nbr[s, kk]
            if c < 0 or C[s, c] >= gain + allow:
                break
            for case in range(2):
                # end 0: c -> s1 (forward, p = pos c) or s1 -> c (reversed, p = pos c - 1)
                # end 1: s2 -> c (forward, p = pos c - 1) or c -> s2 (reversed, p = pos c)
                before = (end == 0 and case == 0) or (end == 1 and case == 1)
                rev = case == 1
                if ln == 1 and rev:
                    continue
                if c == depot:  # the depot sits at both ends
                    p = 0 if before else m
                else:
                    p = pos[c] if before else pos[c] - 1
                if p >= i - 1 and p <= j:
                    continue
                val = move_value(_eval_oropt(t, m, C, tab, i, j, p, rev), bounds)
                if val < best:
                    best, bp, brev = val, p, rev
    return best, bp, brev


# 2-opt and or-opt over one queue of stops; each neighbourhood is its own kernel (_best_2opt,
# _best_oropt_at), the queue and the moves stay here.
@njit(cache=True)
def _descent(
    t: np.ndarray,
    m: int,
    prob: Problem,
    nbr: np.ndarray,
    space: Workspace,
    max_seg: int,
) -> int:  # pragma: no cover - compiled
    """Best move around each queued node (2-opt, or-opt) until the queue is empty; moves applied."""
    q, C, cap, lo, hi, W = prob
    tab, work, buf = space
    pos = tab[0]
    queue, inq, head_tail = work
    depot = t[0]
    moves = 0
    ex0 = _tour_excess(tab, m, cap, lo, hi)
    nq = queue.size
    while head_tail[0] < head_tail[1]:
        u = queue[head_tail[0] % nq]
        head_tail[0] += 1
        inq[u] = False
        iu = pos[u]
        bounds = (cap, lo, hi, W, ex0)
        # pruning (Lin-Kernighan style, neighbours sorted by distance): a move is tried only
        # while the new arc at ``u`` is shorter than the longest arc at ``u`` it could replace
        # plus ``allow``, the most a move can gain on the penalty (``W`` times the excess: 0 on a
        # load-feasible route, no pruning on an infeasible one when ``W`` is the hard penalty)
        allow = W * ex0
        gmax = max(C[t[iu - 1], u], C[u, t[iu + 1]])
        best, b1, b2 = _best_2opt(t, m, C, tab, nbr, u, bounds, allow, gmax)
        kind = 1 if best < -_EPS else 0
        b3 = 0
        brev = False
        for ln in range(1, max_seg + 1):
            for side in range(2 if ln > 1 else 1):
                i, j = (iu, iu + ln - 1) if side == 0 else (iu - ln + 1, iu)
                if i < 1 or j > m:
                    continue
                best, p, rev = _best_oropt_at(t, m, C, tab, nbr, i, j, bounds, allow, best)
                if p >= 0:
                    kind, b1, b2, b3, brev = 2, i, j, p, rev
        if kind == 0:
            continue
        touched = (t[b1 - 1], t[b1], t[b2], t[b2 + 1])
        if kind == 1:
            _apply_2opt(t, b1, b2)
        else:
            _push(t[b3], queue, inq, head_tail, depot)
            _push(t[b3 + 1], queue, inq, head_tail, depot)
            _apply_oropt(t, b1, b2, b3, brev, buf)
        for v in touched:
            _push(v, queue, inq, head_tail, depot)
        _push(u, queue, inq, head_tail, depot)
        _prep(t, m, q, C, tab)
        ex0 = _tour_excess(tab, m, cap, lo, hi)
        moves += 1
    return moves


@njit(cache=True)
def _workspace(n_nodes: int, m: int, max_seg: int) -> Workspace:  # pragma: no cover - compiled
    """The :data:`Workspace` of a descent on a route of ``m`` stops moving or-opt segments of up
    to ``max_seg`` stops."""
    size = m + 2
    levels = 1
    while (1 << levels) <= size:
        levels += 1
    lg = np.zeros(size + 1, dtype=np.int64)
    for k in range(2, size + 1):
        lg[k] = lg[k // 2] + 1
    queue = np.zeros(n_nodes + 1, dtype=np.int64)
    inq = np.zeros(n_nodes, dtype=np.bool_)
    head_tail = np.zeros(2, dtype=np.int64)
    pos = np.zeros(n_nodes, dtype=np.int64)
    tab = (
        pos,
        np.zeros(size),
        np.zeros((levels, size)),
        np.zeros((levels, size)),
        np.zeros(size),
        np.zeros(size),
        lg,
    )
    return tab, (queue, inq, head_tail), np.zeros(max_seg + 1, dtype=np.int64)


@njit(cache=True)
def _double_bridge(
    t: np.ndarray, m: int, window: int, tmp: np.ndarray
) -> tuple[int, int, int]:  # pragma: no cover
    """``A B C D -> A C B D`` with cuts ``2 <= p1 < p2 < p3 <= m`` within ``window`` positions."""
    w = min(window, m - 1)
    start = 2 + np.random.randint(0, m - w + 1) if m - w >= 1 else 2
    hi_ = min(m, start + w - 1)
    p1 = p2 = p3 = 0
    while True:
        p1 = start + np.random.randint(0, hi_ - start + 1)
        p2 = start + np.random.randint(0, hi_ - start + 1)
        p3 = start + np.random.randint(0, hi_ - start + 1)
        if p1 != p2 and p2 != p3 and p1 != p3:
            break
    a, b, c = min(p1, min(p2, p3)), 0, max(p1, max(p2, p3))
    b = p1 + p2 + p3 - a - c
    # stops at positions a..b-1 (B) and b..c-1 (C) swap
    k = 0
    for x in range(b, c):
        tmp[k] = t[x]
        k += 1
    for x in range(a, b):
        tmp[k] = t[x]
        k += 1
    for x in range(c - a):
        t[a + x] = tmp[x]
    return a, b, c


@njit(cache=True)
def _ils_batch(
    cur: np.ndarray,
    best_t: np.ndarray,
    m: int,
    prob: Problem,
    W_best: float,
    nbr: np.ndarray,
    iterations: int,
    window: int,
    threshold: float,
    state: np.ndarray,
    seed: int,
    max_seg: int,
) -> int:  # pragma: no cover - compiled
    """``iterations`` rounds of perturb, descend, accept. ``state = [current value, best value]``
    is updated; ``cur``/``best_t`` hold the current and best tours. Returns the improvements of
    the best. ``prob`` holds the search's penalty ``W``, ``W_best`` the one the best is valued with."""
    q, C, cap, lo, hi, W = prob
    np.random.seed(seed)
    size = m + 2
    space = _workspace(C.shape[0], m, max_seg)
    tab, work, _ = space
    Pf = tab[4]
    queue, inq, head_tail = work
    tmp = np.zeros(size, dtype=np.int64)
    cand = cur.copy()
    depot = cur[0]
    imps = 0
    for _ in range(iterations):
        cand[:size] = cur[:size]
        if m >= 8:
            a, b, c = _double_bridge(cand, m, window, tmp)
            # the new arcs: (a-1, a), (a+c-b-1, a+c-b), (c-1, c)
            for x in (a - 1, a, a + c - b - 1, a + c - b, c - 1, c):
                _push(cand[x], queue, inq, head_tail, depot)
        else:  # too short for a double bridge: swap two random stops
            a = 1 + np.random.randint(0, m)
            b = 1 + np.random.randint(0, m)
            cand[a], cand[b] = cand[b], cand[a]
            for x in range(1, m + 1):
                _push(cand[x], queue, inq, head_tail, depot)
        _prep(cand, m, q, C, tab)
        state[2] += _descent(cand, m, prob, nbr, space, max_seg)
        state[3] += head_tail[1]
        head_tail[:] = 0
        ex = _tour_excess(tab, m, cap, lo, hi)
        val = Pf[m + 1] + W * ex
        if val < state[0] - _EPS or val <= state[1] * (1.0 + threshold):
            cur[:size] = cand[:size]
            state[0] = val
            true_val = Pf[m + 1] + W_best * ex
            if true_val < state[1] - _EPS:
                state[1] = true_val
                best_t[:size] = cand[:size]
                imps += 1
    return imps


@njit(cache=True)
def _descend_all(
    t: np.ndarray, m: int, prob: Problem, nbr: np.ndarray, max_seg: int
) -> float:  # pragma: no cover - compiled
    """Full descent from ``t`` (every node queued); returns the new value."""
    q, C, cap, lo, hi, W = prob
    space = _workspace(C.shape[0], m, max_seg)
    tab, work, _ = space
    Pf = tab[4]
    queue, inq, head_tail = work
    for x in range(1, m + 1):
        _push(t[x], queue, inq, head_tail, t[0])
    _prep(t, m, q, C, tab)
    _descent(t, m, prob, nbr, space, max_seg)
    return Pf[m + 1] + W * _tour_excess(tab, m, cap, lo, hi)


def tables(t: np.ndarray, q: np.ndarray, C: np.ndarray) -> Tables:
    """``(pos, L, tmn, tmx, Pf, Pb, lg)`` of route ``t``: what the move evaluations read."""
    t = np.ascontiguousarray(t, dtype=np.int64)
    m = int(t.size - 2)
    tab, _, _ = _workspace(C.shape[0], m, 0)
    _prep(t, m, np.asarray(q, dtype=np.float64), np.asarray(C, dtype=np.float64), tab)
    return tab


def tour_value(
    t: np.ndarray, q: np.ndarray, C: np.ndarray, cap: float, lo: float, hi: float, W: float
) -> float:
    """``Σ arc cost + W · load excess`` of route ``t`` recomputed from scratch (for checks)."""
    t = np.asarray(t, dtype=np.int64)
    load = np.concatenate([[0.0], np.cumsum(q[t[1:-1]])])
    cost = float(C[t[:-1], t[1:]].sum())
    return cost + W * float(load_excess(float(load.min()), float(load.max()), cap, lo, hi))


_warmed = False


def warmup() -> None:
    """Compile (or load from numba's cache) the search's kernels once per process, on a route of
    five stops, so that a caller can do it before its time limit starts."""
    global _warmed
    if _warmed:
        return
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 2.0], [2.0, 0.5]])
    C = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=-1))
    q = np.array([0.0, 1.0, -1.0, 1.0, -1.0, 0.0])
    t = np.array([0, 1, 2, 3, 4, 5, 0], dtype=np.int64)
    prob = (q, C, 2.0, 0.0, 2.0, 10.0)
    tour_ils(t, prob, time.perf_counter() + 5.0, k=3, window=3, batch=2, max_iterations=2)
    _warmed = True


def tour_ils(
    t: np.ndarray,
    prob: Problem,
    deadline: float,
    *,
    seed: int = 0,
    k: int = 25,
    window: int = 30,
    threshold: float = 0.05,
    batch: int = 200,
    penalty: float | None = None,
    max_seg: int = 3,
    stop: Callable[[float], bool] | None = None,
    max_iterations: int | None = None,
) -> tuple[np.ndarray, float, int, int]:
    """Granular iterated local search on route ``t`` (module docstring) until ``deadline``.

    Parameters
    ----------
    t
        ``depot, stops…, depot`` (matrix nodes).
    prob
        ``(q, C, cap, lo, hi, W)``: quantities, arc costs, capacity, load bounds and excess penalty
        (:data:`Problem`, as in :class:`mobility.rebalancing.moves.FixedRoutes`).
    deadline
        ``time.perf_counter()`` value to stop at.
    seed, k, window, threshold, batch
        Random seed, neighbour-list length, double-bridge window, record-to-record threshold
        (shrinking linearly to 0 by the deadline), iterations between clock checks.

    Returns
    -------
    tuple
        Best route, its value, iterations, improvements of the best.
    """
    q, C, cap, lo, hi, W = prob
    t = np.ascontiguousarray(t, dtype=np.int64).copy()
    m = int(t.size - 2)
    q = np.ascontiguousarray(q, dtype=np.float64)
    C = np.ascontiguousarray(C, dtype=np.float64)
    if m < 2:
        return t, tour_value(t, q, C, cap, lo, hi, W), 0, 0
    nbr = neighbour_lists(C, t[1:-1], k)
    val = float(_descend_all(t, m, (q, C, float(cap), float(lo), float(hi), float(W)), nbr, int(max_seg)))
    best_t = t.copy()
    Ws = float(W)
    if penalty is not None:
        nearest = C[t[1:-1], np.maximum(nbr[t[1:-1], 0], 0)]
        Ws = min(Ws, float(penalty) * max(1e-9, float(nearest.mean())))
    state = np.array([val, val, 0.0, 0.0])
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    total = max(1e-9, deadline - t0)
    its = imps = 0
    while time.perf_counter() < deadline:
        if max_iterations is not None and its >= max_iterations:
            break
        if stop is not None and stop(float(state[1])):
            break
        frac = min(1.0, (time.perf_counter() - t0) / total)
        n = batch if max_iterations is None else min(batch, max_iterations - its)
        imps += int(
            _ils_batch(
                t,
                best_t,
                m,
                (q, C, float(cap), float(lo), float(hi), Ws),
                float(W),
                nbr,
                n,
                int(window),
                float(threshold * (1.0 - frac)),
                state,
                int(rng.integers(1 << 30)),
                int(max_seg),
            )
        )
        its += n
    return best_t, float(state[1]), its, imps
