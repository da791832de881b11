"""Lagrangian lower bound of the p-median (relaxing the assignment constraints).

The p-median (:class:`~mobility.placement.classic.PMedian`)::

    minimise    sum_i sum_j w_i c_ij x_ij
    subject to  sum_j x_ij = 1  for every i,   x_ij <= y_j,   sum_j y_j = p,
                y_j in {0, 1},  x_ij in [0, 1]

For demand points ``i`` (weights ``w_i``), sites ``j`` (costs ``c_ij``) and multipliers
``λ_i`` on ``Σ_j x_ij = 1``, the relaxation

.. math::

    L(λ) = \\sum_i λ_i + \\min_{|S| = p} \\sum_{j \\in S} ρ_j, \\qquad
    ρ_j = \\sum_i \\min(0,\\; w_i c_{ij} - λ_i),

is a lower bound for every ``λ`` (open the ``p`` sites with the most negative ``ρ_j``, assign
``i`` to every open ``j`` with ``w_i c_ij < λ_i``). Subgradient optimisation (Held, Wolfe &
Crowder 1974; for the p-median Cornuéjols, Fisher & Nemhauser 1977, Beasley 1993), ``λ`` free
in sign (the relaxed rows are equations):

- start: ``λ_i`` = the second-smallest ``w_i c_ij`` of row ``i``; ``θ = 2``;
- each iteration: ``L(λ)``; the subgradient ``g_i = 1 - Σ_j x_ij``; the step
  ``λ ← λ + θ max(UB - L(λ), 1e-9) / ||g||² · g`` (``UB``: the known solution's objective);
  ``θ`` halved after ``patience`` iterations without a better bound;
- stop: after ``max_iterations``, at ``deadline``, when the best bound reaches ``UB``, when
  ``θ < 1e-6``, or when ``g = 0`` (the relaxed solution is feasible, hence optimal).

The best ``L(λ)`` seen is returned. When every ``w_i c_ij`` is an integer the bound is rounded
up (``ceil(L - 1e-6)``).

References: Held, M., Wolfe, P. and Crowder, H. P. (1974). Validation of subgradient
optimization. *Mathematical Programming* 6. Cornuéjols, G., Fisher, M. L. and Nemhauser, G. L.
(1977). Location of bank accounts to optimize float. *Management Science* 23(8). Beasley, J. E.
(1993). Lagrangean heuristics for location problems. *European Journal of Operational Research*
65(3).
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from mobility.arrays import smallest_per_row

__all__ = ["lagrangian_bound"]


def lagrangian_bound(
    cost: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    p: int,
    upper: float,
    *,
    deadline: float,
    max_iterations: int = 3000,
    patience: int = 30,
) -> tuple[float, int]:
    """Best Lagrangian bound found before ``deadline`` (``time.perf_counter``).

    Parameters
    ----------
    cost, weights, p
        The p-median (``(n_demand, n_sites)`` costs).
    upper
        Objective of a known solution (steers the step; the search stops when the bound
        reaches it).
    deadline
        Wall-clock end of the search.

    Returns
    -------
    tuple
        ``(bound, iterations)``; the bound is ``-inf`` if no iteration ran.
    """
    wc = np.ascontiguousarray(weights[:, None] * cost)
    integral = bool(np.all(wc == np.round(wc)))
    # start: each point's second-cheapest cost (a classic initialisation)
    part = np.partition(wc, min(1, wc.shape[1] - 1), axis=1)
    lam = part[:, min(1, wc.shape[1] - 1)].copy()
    best = -np.inf
    theta = 2.0
    since = 0
    it = 0
    while it < max_iterations and time.perf_counter() < deadline:
        it += 1
        red = np.minimum(0.0, wc - lam[:, None])
        rho = red.sum(axis=0)
        sel = smallest_per_row(rho[None, :], p)[0] if p < rho.size else np.arange(rho.size)
        val = float(lam.sum() + rho[sel].sum())
        if val > best + 1e-9:
            best, since = val, 0
        else:
            since += 1
            if since >= patience:
                theta, since = theta / 2.0, 0
        bound = np.ceil(best - 1e-6) if integral else best
        if bound >= upper - 1e-9 or theta < 1e-6:
            break
        g = 1.0 - (wc[:, sel] < lam[:, None]).sum(axis=1)
        norm = float(g @ g)
        if norm == 0.0:  # the relaxed solution is feasible, hence optimal
            break
        lam = lam + theta * max(upper - val, 1e-9) / norm * g
    if np.isfinite(best) and integral:
        best = float(np.ceil(best - 1e-6))
    return float(best), it
