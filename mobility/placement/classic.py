"""The classic location models on a plain cost matrix: p-median and maximal covering.

They follow PySAL spopt's interface: build with ``from_cost_matrix``, call ``solve(params, stop)``,
read explicit attributes of the result. They are solved as mixed-integer programs through OR-Tools'
``pywraplp`` (``ModelParams.backend``: SCIP by default, CBC or HiGHS), warm-started from a
heuristic (greedy + vertex interchange for the p-median, lazy greedy for maximal covering; the
MIP gets it as a hint except on HiGHS), so the solver only has to prove or improve a good
incumbent; the p-median first tries to prove its warm start optimal with a Lagrangian bound
(:mod:`mobility.placement.lagrangian`). The expansion planner's own model is
:class:`mobility.placement.models.ExpansionModel`.

References
----------
ReVelle, C. S. and Swain, R. W. (1970). Central facilities location. *Geographical Analysis* 2(1).
Church, R. and ReVelle, C. (1974). The maximal covering location problem. *Papers of the Regional
Science Association* 32.
Teitz, M. B. and Bart, P. (1968). Heuristic methods for estimating the generalized vertex median
of a weighted graph. *Operations Research* 16(5).
Beasley, J. E. (1993). Lagrangean heuristics for location problems. *European Journal of
Operational Research* 65(3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.linear_solver import pywraplp

from mobility.arrays import FloatArray, IntArray
from mobility.errors import InputError
from mobility.placement.lagrangian import lagrangian_bound
from mobility.placement.models import (
    _STATUS,
    ModelParams,
    _hint_sites,
    _mip_solver,
    _solve,
    _solved_sites,
    _time_budget,
    lazy_greedy_cover,
)
from mobility.stats import MaxRuntime, SolverStats

# --------------------------------------------------------------------------------------------
# p-median
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PMedianResult:
    """Solution of a :class:`PMedian` model.

    Attributes
    ----------
    facilities
        Sorted column indices of the ``p`` chosen facilities.
    assignment
        For every demand row, the column index of the facility serving it (its nearest chosen one).
    objective
        Total weighted cost ``sum_i w_i * c[i, assignment[i]]``.
    heuristic_objective
        Objective of the greedy + interchange warm start.
    stats
        Status, objective, proven bound, gap, seconds.
    """

    facilities: IntArray
    assignment: IntArray
    objective: float
    heuristic_objective: float
    stats: SolverStats


def _demand_by_sites(
    cost: npt.ArrayLike, weights: npt.ArrayLike | None, p: int
) -> tuple[FloatArray, FloatArray]:
    """The checks both classic models share: a non-empty ``(n_demand, n_sites)`` matrix, a finite
    weight >= 0 per demand point (default 1) and ``1 <= p <= n_sites``; returns the matrix and weights."""
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or c.size == 0:
        raise InputError("cost", c.shape, "a non-empty 2-D matrix (demand x sites)")
    w = np.ones(c.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (c.shape[0],) or (w < 0).any() or not np.all(np.isfinite(w)):
        raise InputError("weights", w.shape, f"{c.shape[0]} finite weights >= 0")
    if not 1 <= p <= c.shape[1]:
        raise InputError("p", p, f"an integer in 1..{c.shape[1]}")
    return c, w


def _pmedian_objective(cost: FloatArray, weights: FloatArray, chosen: IntArray) -> float:
    return float(weights @ cost[:, chosen].min(axis=1))


def greedy_interchange_pmedian(
    cost: FloatArray, weights: FloatArray, p: int, *, max_passes: int = 50, deadline: float | None = None
) -> tuple[IntArray, float]:
    """Greedy construction followed by Teitz-Bart vertex interchange (best improvement per pass).

    Construction: ``p`` times, open the site ``j`` that minimises ``sum_i w_i min(d_i, c_ij)``
    (``d_i``: the cost to the nearest site open so far). Interchange: each pass evaluates every
    swap of an open site for a closed one and applies the best, if it lowers the objective by
    more than 1e-9; it stops after ``max_passes`` passes, when no swap improves, or at
    ``deadline`` (checked before each pass). ``p = n_sites`` skips the interchange.

    Parameters
    ----------
    cost
        ``(n_demand, n_sites)`` costs.
    weights
        ``(n_demand,)`` demand weights.
    p
        Number of facilities.
    max_passes
        Upper limit on interchange passes (each pass applies the best improving swap).
    deadline
        ``time.perf_counter()`` value after which no new interchange pass starts.

    Returns
    -------
    (facilities, objective)
    """
    n_sites = cost.shape[1]
    wcost = cost * weights[:, None]
    best = np.full(cost.shape[0], np.inf)
    chosen: list[int] = []
    for _ in range(p):
        # gain of adding column j: sum_i w_i * max(0, best_i - c_ij); first step: plain column sum
        if not chosen:
            totals = wcost.sum(axis=0)
        else:
            totals = (weights[:, None] * np.minimum(best[:, None], cost)).sum(axis=0)
        totals[chosen] = np.inf
        j = int(np.argmin(totals))
        chosen.append(j)
        best = np.minimum(best, cost[:, j])
    sel = np.array(chosen, dtype=np.int64)
    obj = _pmedian_objective(cost, weights, sel)
    for _ in range(max_passes if p < n_sites else 0):
        if deadline is not None and time.perf_counter() >= deadline:
            break
        sub = cost[:, sel]  # (n, p)
        order = np.argsort(sub, axis=1)
        d1 = sub[np.arange(len(sub)), order[:, 0]]
        d2 = sub[np.arange(len(sub)), order[:, 1]] if p > 1 else np.full(len(sub), np.inf)
        nearest = order[:, 0]
        best_delta, best_swap = -1e-9, None
        others = np.setdiff1d(np.arange(n_sites), sel)
        for k in range(p):
            # cost of each demand when facility k is removed
            without = np.where(nearest == k, d2, d1)
            new = np.minimum(without[:, None], cost[:, others])  # (n, |others|)
            vals = weights @ new
            idx = int(np.argmin(vals))
            delta = float(vals[idx]) - obj
            if delta < best_delta:
                best_delta, best_swap = delta, (k, int(others[idx]))
        if best_swap is None:
            break
        sel = sel.copy()
        sel[best_swap[0]] = best_swap[1]
        obj = _pmedian_objective(cost, weights, sel)
    return np.sort(sel), obj


@dataclass
class PMedian:
    """The p-median problem (ReVelle & Swain 1970) on a cost matrix.

    Formulation, for demand points ``i`` with weights ``w_i``, candidate sites ``j`` and costs
    ``c_ij``::

        minimise    sum_i sum_j w_i c_ij x_ij
        subject to  sum_j x_ij = 1              for every i   (each demand is served once)
                    x_ij <= y_j                 for every i, j (only by an open facility)
                    sum_j y_j = p                             (exactly p facilities)
                    y_j in {0, 1},  x_ij in [0, 1]

    ``x`` may stay continuous: for fixed ``y`` an optimal assignment is integral (nearest open
    facility).

    :meth:`solve`, within one time budget ``T`` (``params.time_limit``, capped by ``stop``):

    1. greedy + interchange (:func:`greedy_interchange_pmedian`), no new pass after ``0.4 T``;
    2. with ``params.exact``: the Lagrangian bound (:func:`~mobility.placement.lagrangian.lagrangian_bound`,
       at most ``0.25 T`` more); when it reaches the heuristic's objective (relative 1e-6) the
       heuristic is proven optimal and no MIP is built;
    3. otherwise the MIP above on ``params.backend`` through ``pywraplp``, with the heuristic as
       its hint (not on HiGHS) and the time left as its limit; it is skipped, keeping the
       Lagrangian bound, when building it would take longer than the time left (estimated at
       ``2e-5 * n_demand * n_sites`` s). The better of its solution and the heuristic's is
       returned, with the larger of its best bound and the Lagrangian bound; status
       ``"optimal"`` once that bound reaches the objective (relative 1e-6). When the MIP ends
       without a solution the heuristic stands, with the Lagrangian bound when it is finite.

    With ``params.exact = False`` only step 1 runs (status ``"feasible"``, no bound).

    Build with :meth:`from_cost_matrix`.
    """

    cost: FloatArray
    weights: FloatArray
    p: int
    name: str = "p-median"

    @classmethod
    def from_cost_matrix(
        cls, cost: npt.ArrayLike, weights: npt.ArrayLike | None = None, p: int = 1, *, name: str = "p-median"
    ) -> PMedian:
        """Build from an ``(n_demand, n_sites)`` cost matrix.

        Parameters
        ----------
        cost
            Non-negative finite costs; row = demand point, column = candidate site.
        weights
            Demand weights (default: all 1).
        p
            Number of facilities, ``1 <= p <= n_sites``.
        """
        c, w = _demand_by_sites(cost, weights, p)
        if not np.all(np.isfinite(c)) or (c < 0).any():
            raise InputError("cost", "non-finite or negative entries", "finite costs >= 0")
        return cls(cost=c, weights=w, p=int(p), name=name)

    def solve(self, params: ModelParams | None = None, stop: MaxRuntime | None = None) -> PMedianResult:
        """Warm start with greedy + interchange, then the Lagrangian bound and the MIP (class docstring)."""
        params = params or ModelParams()
        t0 = time.perf_counter()
        # the limit counts everything: heuristic, Lagrangian bound, model building and the MIP
        deadline = t0 + _time_budget(params, stop)
        h_sel, h_obj = greedy_interchange_pmedian(
            self.cost, self.weights, self.p, deadline=t0 + 0.4 * (deadline - t0)
        )
        sel, obj, bound, status = h_sel, h_obj, None, "feasible"
        extra: dict[str, Any] = {"heuristic_objective": h_obj, "heuristic_seconds": time.perf_counter() - t0}
        if params.exact:
            lag, lag_its = lagrangian_bound(
                self.cost,
                self.weights,
                self.p,
                obj,
                deadline=min(deadline, time.perf_counter() + 0.25 * (deadline - t0)),
            )
            extra.update(lagrangian_bound=lag, lagrangian_iterations=lag_its)
            if lag >= obj - 1e-6 * max(1.0, abs(obj)):  # the heuristic is proven optimal
                bound, status = lag, "optimal"
        n, m = self.cost.shape
        # building the MIP is not interruptible: skip it when it could not finish in the limit
        build_estimate = 2e-5 * n * m
        if params.exact and status != "optimal" and deadline - time.perf_counter() < build_estimate:
            extra["mip_skipped"] = f"about {build_estimate:.0f} s to build; time limit reached first"
            if np.isfinite(extra["lagrangian_bound"]):
                bound = float(extra["lagrangian_bound"])
        elif params.exact and status != "optimal":
            solver = _mip_solver(params)
            y = [solver.BoolVar(f"y{j}") for j in range(m)]
            x = [[solver.NumVar(0.0, 1.0, "") for _ in range(m)] for _ in range(n)]
            for i in range(n):
                solver.Add(solver.Sum(x[i]) == 1)
                for j in range(m):
                    solver.Add(x[i][j] <= y[j])
            solver.Add(solver.Sum(y) == self.p)
            objective = solver.Objective()
            for i in range(n):
                for j in range(m):
                    objective.SetCoefficient(x[i][j], float(self.weights[i] * self.cost[i, j]))
            objective.SetMinimization()
            _hint_sites(solver, params, y, h_sel)
            left = deadline - time.perf_counter()
            solver.SetTimeLimit(max(1, int(left * 1000)))
            code = _solve(solver) if left > 0.05 else pywraplp.Solver.NOT_SOLVED
            status = _STATUS.get(code, "error")
            if code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
                mip_sel = _solved_sites(y)
                mip_obj = _pmedian_objective(self.cost, self.weights, mip_sel)
                if mip_obj <= obj:
                    sel, obj = mip_sel, mip_obj
                bound = max(float(objective.BestBound()), extra["lagrangian_bound"])
                if bound >= obj - 1e-6 * max(1.0, abs(obj)):
                    status = "optimal"
                if code == pywraplp.Solver.OPTIMAL:
                    bound = min(bound, obj) if abs(bound - obj) <= 1e-6 * max(1.0, abs(obj)) else bound
            else:
                status = "time_limit" if status == "time_limit" else status
                if np.isfinite(extra["lagrangian_bound"]):
                    bound = float(extra["lagrangian_bound"])
                    status = "feasible"
            extra["nodes"] = int(solver.nodes())
            extra["backend"] = params.backend
        assignment = sel[np.argmin(self.cost[:, sel], axis=1)]
        stats = SolverStats.since(
            t0,
            solver=f"mip-{params.backend.lower()}+greedy-interchange"
            if params.exact
            else "greedy-interchange",
            status=status if params.exact else "feasible",
            objective=obj,
            bound=bound,
            seed=params.seed,
            extra=extra,
        )
        return PMedianResult(
            facilities=np.sort(sel),
            assignment=assignment,
            objective=obj,
            heuristic_objective=h_obj,
            stats=stats,
        )


# --------------------------------------------------------------------------------------------
# maximal covering
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoveringResult:
    """Solution of a :class:`MaximalCovering` model.

    Attributes
    ----------
    facilities
        Sorted column indices of the chosen sites.
    covered
        Boolean per demand row: within the radius of a chosen site.
    covered_weight
        Total weight covered (the objective, maximised).
    covered_share
        ``covered_weight / total weight``.
    heuristic_weight
        Weight covered by the lazy-greedy warm start.
    stats
        Status, objective, proven (upper) bound, gap, seconds.
    """

    facilities: IntArray
    covered: npt.NDArray[np.bool_]
    covered_weight: float
    covered_share: float
    heuristic_weight: float
    stats: SolverStats


@dataclass
class MaximalCovering:
    """The maximal covering location problem (Church & ReVelle 1974) on a cost matrix.

    Demand ``i`` (weight ``w_i``) is covered by site ``j`` when ``c_ij <= radius``; let
    ``N_i = {j : c_ij <= radius}``. Formulation::

        maximise    sum_i w_i z_i
        subject to  z_i <= sum_{j in N_i} y_j    for every i   (covered only if a near site opens)
                    sum_j y_j <= p                             (at most p sites)
                    y_j in {0, 1},  z_i in [0, 1]

    A demand with no site within the radius, or of weight 0, gets no ``z_i`` (it cannot add to
    the objective). :meth:`solve` runs the lazy greedy
    (:func:`~mobility.placement.models.lazy_greedy_cover`, at most ``p`` sites, stopping when
    no site adds weight), then, with ``params.exact``, the MIP on ``params.backend`` through
    ``pywraplp`` with the greedy as its hint (not on HiGHS) and ``params.time_limit`` (capped
    by ``stop``) as its own limit; the better solution is kept. ``params.exact = False``
    returns the greedy alone (no bound).
    Build with :meth:`from_cost_matrix`.
    """

    cover: sp.csr_matrix  # (n_sites, n_demand)
    weights: FloatArray
    p: int
    radius: float
    name: str = "mclp"

    @classmethod
    def from_cost_matrix(
        cls,
        cost: npt.ArrayLike,
        weights: npt.ArrayLike | None = None,
        radius: float = 0.0,
        p: int = 1,
        *,
        name: str = "mclp",
    ) -> MaximalCovering:
        """Build from an ``(n_demand, n_sites)`` cost matrix, a service radius and ``p``."""
        c, w = _demand_by_sites(cost, weights, p)
        if np.isnan(c).any():
            raise InputError("cost", "NaN entries", "numbers (use inf for unreachable)")
        if not radius >= 0:
            raise InputError("radius", radius, "a distance >= 0")
        cover = sp.csr_matrix((c <= radius).T)
        return cls(cover=cover, weights=w, p=int(p), radius=float(radius), name=name)

    def solve(self, params: ModelParams | None = None, stop: MaxRuntime | None = None) -> CoveringResult:
        """Lazy-greedy warm start, then the MIP (class docstring)."""
        params = params or ModelParams()
        t0 = time.perf_counter()
        h_sel, _ = lazy_greedy_cover(self.cover, self.weights, self.p)
        n_sites, n_dem = self.cover.shape

        def covered_by(sel: IntArray) -> npt.NDArray[np.bool_]:
            if len(sel) == 0:
                return np.zeros(n_dem, dtype=bool)
            return np.asarray(self.cover[sel].sum(axis=0)).ravel() > 0

        h_w = float(self.weights[covered_by(h_sel)].sum())
        sel, obj, bound, status = h_sel, h_w, None, "feasible"
        extra: dict[str, Any] = {"heuristic_objective": h_w}
        if params.exact:
            solver = _mip_solver(params)
            y = [solver.BoolVar(f"y{j}") for j in range(n_sites)]
            cover_t = self.cover.T.tocsr()
            objective = solver.Objective()
            for i in range(n_dem):
                sites = cover_t.indices[cover_t.indptr[i] : cover_t.indptr[i + 1]]
                if len(sites) == 0 or self.weights[i] == 0:
                    continue
                z = solver.NumVar(0.0, 1.0, "")
                solver.Add(z <= solver.Sum([y[j] for j in sites]))
                objective.SetCoefficient(z, float(self.weights[i]))
            solver.Add(solver.Sum(y) <= self.p)
            objective.SetMaximization()
            _hint_sites(solver, params, y, h_sel)
            solver.SetTimeLimit(int(_time_budget(params, stop) * 1000))
            code = _solve(solver)
            status = _STATUS.get(code, "error")
            if code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
                mip_sel = _solved_sites(y)
                mip_w = float(self.weights[covered_by(mip_sel)].sum())
                if mip_w >= obj:
                    sel, obj = mip_sel, mip_w
                bound = (
                    max(float(objective.BestBound()), obj)
                    if code == pywraplp.Solver.OPTIMAL
                    else float(objective.BestBound())
                )
            extra["backend"] = params.backend
        cov = covered_by(sel)
        total = float(self.weights.sum())
        stats = SolverStats.since(
            t0,
            solver=f"mip-{params.backend.lower()}+lazy-greedy" if params.exact else "lazy-greedy",
            status=status,
            objective=obj,
            bound=bound,
            seed=params.seed,
            extra=extra,
        )
        return CoveringResult(
            facilities=np.sort(sel),
            covered=cov,
            covered_weight=obj,
            covered_share=obj / total if total > 0 else 0.0,
            heuristic_weight=h_w,
            stats=stats,
        )


__all__ = ["CoveringResult", "MaximalCovering", "PMedian", "PMedianResult", "greedy_interchange_pmedian"]
