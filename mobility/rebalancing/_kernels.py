"""Min-plus kernels of the exact loading DP (see :mod:`mobility.rebalancing.local_search`).

``gs`` is the stack ``(m, Q+1, Q+1)`` of a route's station matrices ``G[l, l']`` (cost change
when the load goes from ``l`` to ``l'`` at that stop). Compiled with numba (a dependency); the
numpy versions (``*_np``) are the readable reference, and the tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

__all__ = ["backtrack", "backward", "forward", "insertion_values", "warmup"]


def forward_np(gs: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """``F[0] = f0``, ``F[k][l'] = min_l F[k-1][l] + gs[k-1][l, l']``."""
    m = gs.shape[0]
    fw = np.empty((m + 1, f0.shape[0]))
    fw[0] = f0
    for k in range(1, m + 1):
        fw[k] = (fw[k - 1][:, None] + gs[k - 1]).min(axis=0)
    return fw


def backward_np(gs: np.ndarray) -> np.ndarray:
    """``B[m] = 0``, ``B[k-1][l] = min_l' gs[k-1][l, l'] + B[k][l']``."""
    m = gs.shape[0]
    q1 = gs.shape[1]
    bw = np.zeros((m + 1, q1))
    for k in range(m, 0, -1):
        bw[k - 1] = (gs[k - 1] + bw[k][None, :]).min(axis=1)
    return bw


def backtrack_np(fw: np.ndarray, gs: np.ndarray) -> np.ndarray:
    """Optimal loads ``(m+1,)`` (load before the first stop, then after each stop)."""
    m = gs.shape[0]
    loads = np.empty(m + 1, dtype=np.int64)
    loads[m] = int(np.argmin(fw[m]))
    for k in range(m, 0, -1):
        loads[k - 1] = int(np.argmin(fw[k - 1] + gs[k - 1][:, loads[k]]))
    return loads


def insertion_values_np(fw: np.ndarray, bw: np.ndarray, gpool: np.ndarray) -> np.ndarray:
    """``V[p, k] = min_{l, l'} F[k][l] + gpool[p][l, l'] + B[k][l']``."""
    part = (fw[None, :, :, None] + gpool[:, None, :, :]).min(axis=2)
    return (part + bw[None]).min(axis=2)


@njit(cache=True, fastmath=False)
def _forward(gs: np.ndarray, f0: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    m, q1 = gs.shape[0], f0.shape[0]
    fw = np.empty((m + 1, q1))
    fw[0] = f0
    for k in range(1, m + 1):
        for b in range(q1):
            best = np.inf
            for a in range(q1):
                v = fw[k - 1, a] + gs[k - 1, a, b]
                if v < best:
                    best = v
            fw[k, b] = best
    return fw


@njit(cache=True)
def _backward(gs: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    m = gs.shape[0]
    q1 = gs.shape[1]
    bw = np.zeros((m + 1, q1))
    for k in range(m, 0, -1):
        for a in range(q1):
            best = np.inf
            for b in range(q1):
                v = gs[k - 1, a, b] + bw[k, b]
                if v < best:
                    best = v
            bw[k - 1, a] = best
    return bw


@njit(cache=True)
def _backtrack(fw: np.ndarray, gs: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    m = gs.shape[0]
    loads = np.empty(m + 1, dtype=np.int64)
    loads[m] = np.argmin(fw[m])
    for k in range(m, 0, -1):
        best = np.inf
        arg = 0
        for a in range(fw.shape[1]):
            v = fw[k - 1, a] + gs[k - 1, a, loads[k]]
            if v < best:
                best = v
                arg = a
        loads[k - 1] = arg
    return loads


@njit(cache=True)
def _insertion_values(fw: np.ndarray, bw: np.ndarray, gpool: np.ndarray) -> np.ndarray:  # pragma: no cover
    npool, q1 = gpool.shape[0], gpool.shape[1]
    mk = fw.shape[0]
    out = np.empty((npool, mk))
    tmp = np.empty(q1)
    for p in range(npool):
        for k in range(mk):
            for b in range(q1):
                tmp[b] = np.inf
            for a in range(q1):
                fa = fw[k, a]
                if fa == np.inf:
                    continue
                for b in range(q1):
                    v = fa + gpool[p, a, b]
                    if v < tmp[b]:
                        tmp[b] = v
            best = np.inf
            for b in range(q1):
                v = tmp[b] + bw[k, b]
                if v < best:
                    best = v
            out[p, k] = best
    return out


forward: Callable[..., Any] = _forward
backward: Callable[..., Any] = _backward
backtrack: Callable[..., Any] = _backtrack
insertion_values: Callable[..., Any] = _insertion_values


def warmup() -> None:
    """Compile (or load from numba's cache) every kernel once, before worker processes start."""
    gs = np.zeros((2, 3, 3))
    fw = forward(gs, np.zeros(3))
    bw = backward(gs)
    backtrack(fw, gs)
    insertion_values(fw, bw, gs)
