"""Location models: the classic p-median and maximal covering models on a plain cost matrix, and
the expansion model that places new bike stations next to the fixed existing ones.

The classic models follow PySAL spopt's interface: build with ``from_cost_matrix``, call
``solve(params, stop)``, read explicit attributes of the result. They are solved as mixed-integer
programs through OR-Tools (SCIP by default), warm-started from a heuristic (greedy + vertex
interchange for the p-median, lazy greedy for maximal covering), so the solver only has to prove
or improve a good incumbent.

References
----------
ReVelle, C. S. and Swain, R. W. (1970). Central facilities location. *Geographical Analysis* 2(1).
Church, R. and ReVelle, C. (1974). The maximal covering location problem. *Papers of the Regional
Science Association* 32.
Teitz, M. B. and Bart, P. (1968). Heuristic methods for estimating the generalized vertex median
of a weighted graph. *Operations Research* 16(5).
Minoux, M. (1978). Accelerated greedy algorithms for maximizing submodular set functions.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.linear_solver import pywraplp

from mobility.errors import InputError
from mobility.placement.lagrangian import lagrangian_bound
from mobility.stats import MaxRuntime, SolverStats

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_STATUS = {
    pywraplp.Solver.OPTIMAL: "optimal",
    pywraplp.Solver.FEASIBLE: "feasible",
    pywraplp.Solver.INFEASIBLE: "infeasible",
    pywraplp.Solver.UNBOUNDED: "error",
    pywraplp.Solver.ABNORMAL: "error",
    pywraplp.Solver.NOT_SOLVED: "time_limit",
}


@dataclass(frozen=True)
class ModelParams:
    """Solver settings shared by the location models.

    Attributes
    ----------
    time_limit
        Wall seconds for the whole solve (the p-median counts its warm start, Lagrangian bound
        and model building in it).
    seed
        Random seed handed to the solver.
    threads
        Solver threads (the machine is shared: default 1).
    backend
        OR-Tools MIP backend name for the classic models (``"SCIP"``, ``"CBC"`` or ``"HIGHS"``).
    exact
        ``False`` skips the exact solver and returns the heuristic solution (no bound).
    relative_gap
        CP-SAT stops once ``|objective - bound| / |objective|`` is below this.
    """

    time_limit: float = 60.0
    seed: int = 0
    threads: int = 1
    backend: str = "SCIP"
    exact: bool = True
    relative_gap: float = 1e-4


def _time_budget(params: ModelParams, stop: MaxRuntime | None) -> float:
    limit = params.time_limit
    if stop is not None:
        limit = min(limit, stop.remaining())
    return max(0.05, limit)


def _mip_solver(params: ModelParams) -> pywraplp.Solver:
    solver = pywraplp.Solver.CreateSolver(params.backend)
    if solver is None:  # pragma: no cover - every OR-Tools wheel ships SCIP
        raise InputError("params.backend", params.backend, "an OR-Tools MIP backend: SCIP, CBC or HIGHS")
    # SCIP runs one thread; asking OR-Tools for more switches it to a concurrent mode that only
    # splits the shared cores
    solver.SetNumThreads(1 if params.backend.upper() == "SCIP" else params.threads)
    if params.backend.upper() == "SCIP":
        gap = f"limits/gap = {params.relative_gap}\n" if params.relative_gap > 0 else ""
        solver.SetSolverSpecificParametersAsString(f"randomization/randomseedshift = {params.seed}\n{gap}")
    return solver


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


def _pmedian_objective(cost: FloatArray, weights: FloatArray, chosen: IntArray) -> float:
    return float(weights @ cost[:, chosen].min(axis=1))


def greedy_interchange_pmedian(
    cost: FloatArray, weights: FloatArray, p: int, *, max_passes: int = 50, deadline: float | None = None
) -> tuple[IntArray, float]:
    """Greedy construction followed by Teitz-Bart vertex interchange (best improvement per pass).

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
    facility). Solved as a MIP (SCIP through OR-Tools) with the greedy + interchange solution as
    a hint.

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
        c = np.asarray(cost, dtype=np.float64)
        if c.ndim != 2 or c.size == 0:
            raise InputError("cost", c.shape, "a non-empty 2-D matrix (demand x sites)")
        if not np.all(np.isfinite(c)) or (c < 0).any():
            raise InputError("cost", "non-finite or negative entries", "finite costs >= 0")
        w = np.ones(c.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (c.shape[0],) or (w < 0).any() or not np.all(np.isfinite(w)):
            raise InputError("weights", w.shape, f"{c.shape[0]} finite weights >= 0")
        if not 1 <= p <= c.shape[1]:
            raise InputError("p", p, f"an integer in 1..{c.shape[1]}")
        return cls(cost=c, weights=w, p=int(p), name=name)

    def solve(self, params: ModelParams | None = None, stop: MaxRuntime | None = None) -> PMedianResult:
        """Warm start with greedy + interchange, then prove (or improve) with the MIP."""
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
            hint_vars, hint_vals = list(y), [1.0 if j in set(h_sel.tolist()) else 0.0 for j in range(m)]
            solver.SetHint(hint_vars, hint_vals)
            left = deadline - time.perf_counter()
            solver.SetTimeLimit(max(1, int(left * 1000)))
            code = solver.Solve() if left > 0.05 else pywraplp.Solver.NOT_SOLVED
            status = _STATUS.get(code, "error")
            if code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
                mip_sel = np.array([j for j in range(m) if y[j].solution_value() > 0.5], dtype=np.int64)
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
        stats = SolverStats(
            solver=f"mip-{params.backend.lower()}+greedy-interchange"
            if params.exact
            else "greedy-interchange",
            status=status if params.exact else "feasible",
            objective=obj,
            bound=bound,
            seconds=time.perf_counter() - t0,
            seed=params.seed,
            gap=SolverStats.relative_gap(obj, bound),
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


def lazy_greedy_cover(
    cover: sp.csr_matrix,
    weights: FloatArray,
    k: int,
    *,
    covered: npt.NDArray[np.bool_] | None = None,
    conflicts: sp.csr_matrix | None = None,
    site_bonus: FloatArray | None = None,
    allowed: npt.NDArray[np.bool_] | None = None,
    initial: IntArray | None = None,
) -> tuple[IntArray, FloatArray]:
    """Lazy greedy (Minoux 1978) for weighted maximum coverage with optional site conflicts.

    Parameters
    ----------
    cover
        ``(n_sites, n_demand)`` boolean CSR matrix: ``cover[j, i]`` when site ``j`` covers demand ``i``.
    weights
        Demand weights.
    k
        Maximum number of sites to open (stops earlier when no site adds anything).
    covered
        Demand already covered (by fixed facilities); it earns nothing more.
    conflicts
        ``(n_sites, n_sites)`` CSR: sites that may not be opened together (spacing).
    site_bonus
        A per-site additive value (e.g. predicted trips), counted once when the site opens.
    allowed
        Only these sites may be chosen (default: all).
    initial
        Sites already open: their demand counts as covered and their conflicts are blocked.

    Returns
    -------
    (sites in the order chosen, marginal gain of each)

    Notes
    -----
    Coverage is submodular, so a site's marginal gain only falls as others open; a stale heap
    entry is re-evaluated when it reaches the top and re-pushed if it dropped (lazy evaluation).
    The plain greedy is a (1 - 1/e) approximation without conflicts.
    """
    n_sites = cover.shape[0]
    cov = np.zeros(cover.shape[1], dtype=bool) if covered is None else covered.copy()
    bonus = np.zeros(n_sites) if site_bonus is None else site_bonus
    indptr, indices = cover.indptr, cover.indices
    blocked = np.zeros(n_sites, dtype=bool) if allowed is None else ~allowed
    for j0 in [] if initial is None else initial.tolist():
        cov[indices[indptr[j0] : indptr[j0 + 1]]] = True
        blocked[j0] = True
        if conflicts is not None:
            blocked[conflicts.indices[conflicts.indptr[j0] : conflicts.indptr[j0 + 1]]] = True

    def gain(j: int) -> float:
        rows = indices[indptr[j] : indptr[j + 1]]
        return float(weights[rows[~cov[rows]]].sum() + bonus[j])

    heap = [(-gain(j), j) for j in range(n_sites) if not blocked[j]]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    while heap and len(chosen) < k:
        _neg, j = heapq.heappop(heap)
        if blocked[j]:
            continue
        g = gain(j)
        if heap and g < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-g, j))
            continue
        if g <= 0:
            break
        chosen.append(j)
        gains.append(g)
        cov[indices[indptr[j] : indptr[j + 1]]] = True
        blocked[j] = True
        if conflicts is not None:
            blocked[conflicts.indices[conflicts.indptr[j] : conflicts.indptr[j + 1]]] = True
    return np.array(chosen, dtype=np.int64), np.array(gains, dtype=np.float64)


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

    Solved as a MIP through OR-Tools with the lazy-greedy cover as a hint. Build with
    :meth:`from_cost_matrix`.
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
        c = np.asarray(cost, dtype=np.float64)
        if c.ndim != 2 or c.size == 0:
            raise InputError("cost", c.shape, "a non-empty 2-D matrix (demand x sites)")
        if np.isnan(c).any():
            raise InputError("cost", "NaN entries", "numbers (use inf for unreachable)")
        w = np.ones(c.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (c.shape[0],) or (w < 0).any() or not np.all(np.isfinite(w)):
            raise InputError("weights", w.shape, f"{c.shape[0]} finite weights >= 0")
        if not radius >= 0:
            raise InputError("radius", radius, "a distance >= 0")
        if not 1 <= p <= c.shape[1]:
            raise InputError("p", p, f"an integer in 1..{c.shape[1]}")
        cover = sp.csr_matrix((c <= radius).T)
        return cls(cover=cover, weights=w, p=int(p), radius=float(radius), name=name)

    def solve(self, params: ModelParams | None = None, stop: MaxRuntime | None = None) -> CoveringResult:
        """Lazy-greedy warm start, then the MIP."""
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
            hs = set(h_sel.tolist())
            solver.SetHint(y, [1.0 if j in hs else 0.0 for j in range(n_sites)])
            solver.SetTimeLimit(int(_time_budget(params, stop) * 1000))
            code = solver.Solve()
            status = _STATUS.get(code, "error")
            if code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
                mip_sel = np.array([j for j in range(n_sites) if y[j].solution_value() > 0.5], dtype=np.int64)
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
        stats = SolverStats(
            solver=f"mip-{params.backend.lower()}+lazy-greedy" if params.exact else "lazy-greedy",
            status=status,
            objective=obj,
            bound=bound,
            seconds=time.perf_counter() - t0,
            seed=params.seed,
            gap=SolverStats.relative_gap(obj, bound),
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


# --------------------------------------------------------------------------------------------
# the expansion model (new stations beside fixed existing ones)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpansionData:
    """The site-selection problem as plain arrays (built by :mod:`mobility.placement.pipeline`).

    Attributes
    ----------
    cover
        ``(n_sites, n_groups)`` boolean CSR: candidate ``j`` covers demand group ``g``. Groups are
        demand points not covered by any existing station, merged when covered by the same sites.
    group_weight
        Objective weight of each group (residents + trip-generator equivalents).
    site_bonus
        Per-site additive value (weighted predicted trips minus weighted imbalance), may be 0.
    conflicts
        ``(n_sites, n_sites)`` symmetric CSR of pairs closer than the minimum spacing.
    site_district
        District index of each candidate (``-1`` when outside every district).
    district_names
        Name per district index.
    district_min_new
        Minimum new stations per district (from dock capacity needs and explicit rules).
    min_total, max_total
        Bounds on the number of new stations (equal for an exact count).
    required
        Index arrays: at least one site of each must open (required polygons not already served).
    required_names
        Name per required set (for error messages).
    """

    cover: sp.csr_matrix
    group_weight: FloatArray
    site_bonus: FloatArray
    conflicts: sp.csr_matrix
    site_district: IntArray
    district_names: list[str]
    district_min_new: IntArray
    min_total: int
    max_total: int
    required: list[IntArray]
    required_names: list[str]
    district_min_reason: list[str] | None = None
    budget: BudgetRule | None = None


@dataclass(frozen=True)
class BudgetRule:
    """Capital budget as the site selection sees it.

    New stations cost ``cost_station`` each plus ``cost_dock`` per dock. District ``k`` needs at
    least ``district_docks[k]`` new docks (its bike floor) and ``docks_min`` per new station in
    it; all new docks together at least ``total_docks`` (the fleet total).
    """

    total: float
    cost_station: float
    cost_dock: float
    docks_min: int
    district_docks: IntArray
    total_docks: int

    def cost(self, per_district_new: IntArray) -> float:
        """Least cost of opening ``per_district_new[k]`` new stations in each district."""
        docks = np.maximum(self.district_docks, self.docks_min * per_district_new)
        return float(
            self.cost_station * per_district_new.sum()
            + self.cost_dock * max(float(docks.sum()), float(self.total_docks))
        )


@dataclass(frozen=True)
class ExpansionResult:
    """Chosen sites and what they are worth.

    Attributes
    ----------
    sites
        Chosen candidate indices, in rank order (most valuable first, marginal gains).
    marginal_weight
        Weight first covered by each site in that order (its bonus excluded).
    objective
        Covered group weight + bonuses of the chosen sites.
    covered_weight
        Group weight newly covered.
    greedy_sites
        The lazy-greedy baseline of the same run (the warm start).
    greedy_covered_weight
        Group weight the greedy baseline covers.
    stats
        CP-SAT status, objective, best bound, gap (maximisation: bound >= objective).
    """

    sites: IntArray
    marginal_weight: FloatArray
    objective: float
    covered_weight: float
    greedy_sites: IntArray
    greedy_covered_weight: float
    stats: SolverStats


def _covered_groups(cover: sp.csr_matrix, sites: IntArray) -> npt.NDArray[np.bool_]:
    if len(sites) == 0:
        return np.zeros(cover.shape[1], dtype=bool)
    return np.asarray(cover[sites].sum(axis=0)).ravel() > 0


@dataclass
class ExpansionModel:
    """Where to add stations: weighted maximal covering with spacing, count and district rules.

    Existing stations are fixed; demand they already cover is removed before the model is built.
    For candidate sites ``j`` (``y_j``), uncovered demand groups ``g`` (``z_g``, weight ``W_g``),
    per-site bonus ``B_j`` (weighted predicted trips minus weighted predicted imbalance; may be
    negative, so a site may not be worth opening unless a rule needs it), conflict pairs
    ``E`` (closer than the minimum spacing), districts ``d`` with candidate sets ``J_d``,
    required polygons ``R_k``::

        maximise    sum_g W_g z_g + sum_j B_j y_j
        subject to  z_g <= sum_{j covers g} y_j            for every group g
                    y_j + y_k <= 1                          for every (j, k) in E   (spacing)
                    L <= sum_j y_j <= U                     (count: exact, maximum, budget, and
                                                             the total dock capacity the fleet needs)
                    sum_{j in J_d} y_j >= m_d               for every district d
                    sum_{j in R_k} y_j >= 1                 for every required polygon k
                    D_k >= max(Dneed_k, docks_min * sum_{j in J_d} y_j)   (with a budget:
                    sum_k D_k >= Dneed_total                  new docks per district and in all)
                    c_station * sum_j y_j + c_dock * sum_k D_k <= budget
                    y_j in {0, 1},  z_g in [0, 1] (MIP) or {0, 1} (CP-SAT),  D_k >= 0

    ``m_d`` is the larger of the district's explicit minimum and the number of new stations at
    the maximum dock count and bikes-per-dock needed so the district's bike floor fits:
    ``ceil((floor_d - cap_d) / (docks_max * bpd_max))``. Weights are rounded to integers.

    Two OR-Tools engines, both warm-started with the lazy-greedy solution (Minoux), which is also
    reported as the baseline:

    - ``"mip"`` (default): a MIP through ``pywraplp`` on ``params.backend`` (the scenarios use
      HiGHS; SCIP and CBC also work), with the greedy solution as hint where the backend accepts
      one (not HiGHS). Its LP relaxation is tight for covering models, so it proves optimality
      (or a small gap) quickly.
    - ``"cp-sat"``: CP-SAT with a complete hint (``y`` and ``z``); on the city-scale model with
      two workers its LP bound closes slowly, so it is kept for small models and for explaining
      infeasibility.

    District and required-area constraints are guarded by assumption literals in CP-SAT; when the
    model is infeasible, CP-SAT's sufficient assumptions name the constraints that cannot hold
    together (:class:`~mobility.errors.InfeasibleError` ``binding``).
    """

    data: ExpansionData
    engine: str = "mip"

    def _cpsat(
        self, w_int: IntArray, b_int: IntArray, hint: IntArray, params: ModelParams, stop: MaxRuntime | None
    ) -> tuple[IntArray | None, str, float | None, dict[str, Any]]:
        from ortools.sat.python import cp_model

        from mobility.errors import InfeasibleError

        d = self.data
        n_sites, n_groups = d.cover.shape
        m = cp_model.CpModel()
        y = [m.new_bool_var(f"y{j}") for j in range(n_sites)]
        cover_t = d.cover.T.tocsr()
        hs = set(hint.tolist())
        z_terms = []
        for g in range(n_groups):
            sites = cover_t.indices[cover_t.indptr[g] : cover_t.indptr[g + 1]]
            if len(sites) == 0 or w_int[g] == 0:
                continue
            z = m.new_bool_var("")
            m.add_bool_or([y[int(j)] for j in sites]).only_enforce_if(z)
            z_terms.append((z, int(w_int[g])))
            m.add_hint(z, any(int(j) in hs for j in sites))
        conf = sp.triu(d.conflicts, k=1).tocoo()
        for a, b in zip(conf.row.tolist(), conf.col.tolist(), strict=True):
            m.add_bool_or([y[a].negated(), y[b].negated()])
        m.add(sum(y) <= d.max_total)
        if d.min_total > 0:
            m.add(sum(y) >= d.min_total)
        assumptions: dict[int, str] = {}
        for k, need in enumerate(d.district_min_new.tolist()):
            if need <= 0:
                continue
            members = np.flatnonzero(d.site_district == k)
            lit = m.new_bool_var(f"district{k}")
            why = d.district_min_reason[k] if d.district_min_reason else ""
            assumptions[lit.index] = f"district {d.district_names[k]}: needs >= {need} new stations ({why})"
            m.add(sum(y[int(j)] for j in members) >= need).only_enforce_if(lit)
            m.add_assumption(lit)
        for k, members in enumerate(d.required):
            lit = m.new_bool_var(f"required{k}")
            assumptions[lit.index] = f"areas.required[{k}] {d.required_names[k]!r}: needs a station"
            m.add_bool_or([y[int(j)] for j in members] or [m.new_constant(0)]).only_enforce_if(lit)
            m.add_assumption(lit)
        if d.budget is not None:
            bud = d.budget
            big = int(bud.docks_min * n_sites + bud.district_docks.sum() + bud.total_docks + 1)
            dks = []
            for k in range(len(d.district_names)):
                members = np.flatnonzero(d.site_district == k)
                dk = m.new_int_var(int(bud.district_docks[k]), big, f"docks{k}")
                m.add(dk >= bud.docks_min * sum(y[int(j)] for j in members))
                dks.append(dk)
            m.add(sum(dks) >= bud.total_docks)
            unit = 1000.0
            m.add(
                math.ceil(bud.cost_station / unit) * sum(y) + math.ceil(bud.cost_dock / unit) * sum(dks)
                <= math.floor(bud.total / unit)
            )
        m.maximize(
            sum(c * z for z, c in z_terms) + sum(int(b_int[j]) * y[j] for j in range(n_sites) if b_int[j])
        )
        for j in range(n_sites):
            m.add_hint(y[j], j in hs)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = _time_budget(params, stop)
        solver.parameters.num_workers = max(1, params.threads)
        solver.parameters.random_seed = params.seed
        solver.parameters.relative_gap_limit = params.relative_gap
        code = solver.solve(m)
        extra = {
            "cp_sat_status": solver.status_name(code),
            "branches": int(solver.num_branches),
            "wall_time": float(solver.wall_time),
        }
        if code == cp_model.INFEASIBLE:
            core = [
                assumptions[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in assumptions
            ]
            binding = core or [
                f"new-station count in [{d.min_total}, {d.max_total}] with spacing conflicts",
                *assumptions.values(),
            ]
            raise InfeasibleError(
                "no set of new stations satisfies the scenario; binding: " + "; ".join(binding),
                binding=binding,
            )
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, "time_limit", None, extra
        sites = np.array([j for j in range(n_sites) if solver.boolean_value(y[j])], dtype=np.int64)
        status = "optimal" if code == cp_model.OPTIMAL else "feasible"
        return sites, status, float(solver.best_objective_bound), extra

    def _mip(
        self, w_int: IntArray, b_int: IntArray, hint: IntArray, params: ModelParams, stop: MaxRuntime | None
    ) -> tuple[IntArray | None, str, float | None, dict[str, Any]]:
        d = self.data
        n_sites, n_groups = d.cover.shape
        solver = _mip_solver(params)
        y = [solver.BoolVar(f"y{j}") for j in range(n_sites)]
        objective = solver.Objective()
        cover_t = d.cover.T.tocsr()
        for g in range(n_groups):
            sites = cover_t.indices[cover_t.indptr[g] : cover_t.indptr[g + 1]]
            if len(sites) == 0 or w_int[g] == 0:
                continue
            z = solver.NumVar(0.0, 1.0, "")
            solver.Add(z <= solver.Sum([y[int(j)] for j in sites]))
            objective.SetCoefficient(z, float(w_int[g]))
        for j in np.flatnonzero(b_int).tolist():
            objective.SetCoefficient(y[j], float(b_int[j]))
        conf = sp.triu(d.conflicts, k=1).tocoo()
        for a, b in zip(conf.row.tolist(), conf.col.tolist(), strict=True):
            solver.Add(y[a] + y[b] <= 1)
        solver.Add(solver.Sum(y) <= d.max_total)
        if d.min_total > 0:
            solver.Add(solver.Sum(y) >= d.min_total)
        for k, need in enumerate(d.district_min_new.tolist()):
            if need > 0:
                solver.Add(solver.Sum([y[int(j)] for j in np.flatnonzero(d.site_district == k)]) >= need)
        for members in d.required:
            solver.Add(solver.Sum([y[int(j)] for j in members]) >= 1)
        if d.budget is not None:
            bud = d.budget
            dk_vars = []
            for k in range(len(d.district_names)):
                members = np.flatnonzero(d.site_district == k)
                dk = solver.NumVar(float(bud.district_docks[k]), solver.infinity(), f"docks{k}")
                solver.Add(dk >= bud.docks_min * solver.Sum([y[int(j)] for j in members]))
                dk_vars.append(dk)
            total_docks = solver.Sum(dk_vars)
            solver.Add(total_docks >= float(bud.total_docks))
            unit = max(bud.cost_station, bud.cost_dock, 1e-9)  # money in units of the larger cost
            solver.Add(
                (bud.cost_station / unit) * solver.Sum(y) + (bud.cost_dock / unit) * total_docks
                <= bud.total / unit
            )
        objective.SetMaximization()
        hs = set(hint.tolist())
        if params.backend.upper() != "HIGHS":  # OR-Tools 9.15 crashes on SetHint with HiGHS
            solver.SetHint(y, [1.0 if j in hs else 0.0 for j in range(n_sites)])
        solver.SetTimeLimit(int(_time_budget(params, stop) * 1000))
        mp = pywraplp.MPSolverParameters()
        if params.relative_gap > 0:
            mp.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, params.relative_gap)
        code = solver.Solve(mp)
        extra: dict[str, Any] = {"backend": params.backend, "mip_status": _STATUS.get(code, "error")}
        if code == pywraplp.Solver.INFEASIBLE:
            # ask CP-SAT (assumption literals) which rules cannot hold together; it raises
            self._cpsat(w_int, b_int, hint, replace(params, time_limit=min(30.0, params.time_limit)), None)
            from mobility.errors import InfeasibleError

            raise InfeasibleError("no set of new stations satisfies the scenario", binding=[])
        if code not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            return None, "time_limit", None, extra
        sites = np.array([j for j in range(n_sites) if y[j].solution_value() > 0.5], dtype=np.int64)
        extra["nodes"] = int(solver.nodes())
        status = "optimal" if code == pywraplp.Solver.OPTIMAL else "feasible"
        return sites, status, float(objective.BestBound()), extra

    def greedy(self, weights: FloatArray, bonus: FloatArray) -> IntArray:
        """Lazy greedy that first meets the district minimums and required areas, then fills up.

        Each district short of its minimum gets its best sites (given what is already open), each
        required area its best site, then the global lazy greedy adds sites up to the maximum.
        """
        d = self.data
        # Sites a rule needs are taken even when their gain is not positive (a penalty such as the
        # predicted imbalance can make every bonus negative): shift all bonuses alike, which keeps
        # the greedy order, so the smallest is just above zero.
        tie = bonus - min(0.0, float(bonus.min(initial=0.0))) + 1e-9
        chosen = np.zeros(0, dtype=np.int64)
        for k, need in enumerate(d.district_min_new.tolist()):
            if need > 0:
                more, _ = lazy_greedy_cover(
                    d.cover,
                    weights,
                    need,
                    conflicts=d.conflicts,
                    site_bonus=tie,
                    allowed=d.site_district == k,
                    initial=chosen,
                )
                chosen = np.concatenate([chosen, more])
        for members in d.required:
            if np.isin(members, chosen).any():
                continue
            mask = np.zeros(d.cover.shape[0], dtype=bool)
            mask[members] = True
            more, _ = lazy_greedy_cover(
                d.cover, weights, 1, conflicts=d.conflicts, site_bonus=tie, allowed=mask, initial=chosen
            )
            chosen = np.concatenate([chosen, more])
        mandatory = len(chosen)
        room = max(0, d.max_total - len(chosen))
        more, _ = lazy_greedy_cover(
            d.cover, weights, room, conflicts=d.conflicts, site_bonus=bonus, initial=chosen
        )
        chosen = np.concatenate([chosen, more])
        if len(chosen) < d.min_total:  # top up with zero-gain sites to reach the minimum count
            more, _ = lazy_greedy_cover(
                d.cover,
                weights,
                d.min_total - len(chosen),
                conflicts=d.conflicts,
                site_bonus=tie,
                initial=chosen,
            )
            chosen = np.concatenate([chosen, more])
        if d.budget is not None:
            nd = len(d.district_names)

            def cost(c: IntArray) -> float:
                assert d.budget is not None
                dist = d.site_district[c]
                return d.budget.cost(np.bincount(dist[dist >= 0], minlength=nd).astype(np.int64))

            # drop the least valuable optional sites (chosen last) until the budget holds
            lo, hi = mandatory, len(chosen)
            if cost(chosen) > d.budget.total:
                while lo < hi:  # largest prefix within budget (cost grows with the prefix)
                    mid = (lo + hi + 1) // 2
                    if cost(chosen[:mid]) <= d.budget.total:
                        lo = mid
                    else:
                        hi = mid - 1
                chosen = chosen[: max(lo, d.min_total)]
        return chosen.astype(np.int64)

    def is_feasible(self, sites: IntArray) -> bool:
        """Whether a set of sites meets the count, spacing, district and required-area rules."""
        d = self.data
        if not d.min_total <= len(sites) <= d.max_total:
            return False
        chosen = np.zeros(d.cover.shape[0], dtype=bool)
        chosen[sites] = True
        if d.conflicts.nnz and (d.conflicts[sites][:, sites]).nnz:
            return False
        counts = np.bincount(
            d.site_district[sites][d.site_district[sites] >= 0], minlength=len(d.district_names)
        )
        if np.any(counts[: len(d.district_min_new)] < d.district_min_new):
            return False
        if d.budget is not None:
            per = np.bincount(
                d.site_district[sites][d.site_district[sites] >= 0], minlength=len(d.district_names)
            )
            if d.budget.cost(per.astype(np.int64)) > d.budget.total + 1e-6:
                return False
        return all(chosen[m].any() for m in d.required)

    def solve(self, params: ModelParams | None = None, stop: MaxRuntime | None = None) -> ExpansionResult:
        """Greedy warm start, then the exact engine; raises :class:`InfeasibleError` naming binding rules."""
        params = params or ModelParams()
        d = self.data
        t0 = time.perf_counter()
        n_sites, n_groups = d.cover.shape
        w_int = np.rint(d.group_weight).astype(np.int64)
        b_int = np.rint(d.site_bonus).astype(np.int64)
        g_sites = self.greedy(w_int.astype(np.float64), b_int.astype(np.float64))  # penalties count too
        g_cov = float(w_int[_covered_groups(d.cover, g_sites)].sum())
        g_obj = g_cov + float(b_int[g_sites].sum())
        extra: dict[str, Any] = {
            "engine": self.engine,
            "sites": n_sites,
            "groups": n_groups,
            "cover_pairs": int(d.cover.nnz),
            "conflict_pairs": int(d.conflicts.nnz // 2),
            "greedy_objective": g_obj,
            "greedy_seconds": round(time.perf_counter() - t0, 3),
        }
        if self.engine == "cp-sat":
            found, status, bound, more = self._cpsat(w_int, b_int, g_sites, params, stop)
        elif self.engine == "mip":
            found, status, bound, more = self._mip(w_int, b_int, g_sites, params, stop)
        else:
            raise InputError("solver.engine", self.engine, "'mip' or 'cp-sat'")
        extra.update(more)
        greedy_ok = self.is_feasible(g_sites)
        extra["greedy_feasible"] = greedy_ok
        if found is None and not greedy_ok:
            from mobility.errors import InfeasibleError

            raise InfeasibleError(
                f"site selection found no solution meeting the district and area rules within the time "
                f"limit ({status}); raise solver.time_limit",
                binding=["solver.time_limit"],
            )
        sites = g_sites if found is None else found
        covered = _covered_groups(d.cover, sites)
        cov_w = float(w_int[covered].sum())
        obj = cov_w + float(b_int[sites].sum())
        if found is not None and obj < g_obj and greedy_ok:  # never worse than a feasible warm start
            sites, obj = g_sites, g_obj
            cov_w = g_cov
        if bound is not None:
            bound = max(bound, obj)
        # rank the chosen sites by marginal value (lazy greedy restricted to them)
        sub = d.cover[sites]
        order, _gains = lazy_greedy_cover(
            sub, w_int.astype(np.float64), len(sites), site_bonus=b_int[sites].astype(np.float64)
        )
        rest = np.setdiff1d(np.arange(len(sites)), order)  # sites adding nothing, kept in index order
        ranked = sites[np.concatenate([order, rest]).astype(np.int64)]
        seen = np.zeros(n_groups, dtype=bool)
        marg = np.zeros(len(ranked))
        for k, j in enumerate(ranked):
            gs = d.cover.indices[d.cover.indptr[j] : d.cover.indptr[j + 1]]
            marg[k] = float(d.group_weight[gs[~seen[gs]]].sum())
            seen[gs] = True
        stats = SolverStats(
            solver=f"{self.engine}+lazy-greedy",
            status=status,
            objective=obj,
            bound=bound,
            seconds=time.perf_counter() - t0,
            seed=params.seed,
            gap=SolverStats.relative_gap(obj, bound),
            extra=extra,
        )
        return ExpansionResult(
            sites=ranked,
            marginal_weight=marg,
            objective=obj,
            covered_weight=cov_w,
            greedy_sites=g_sites,
            greedy_covered_weight=g_cov,
            stats=stats,
        )


__all__ = [
    "BudgetRule",
    "CoveringResult",
    "ExpansionData",
    "ExpansionModel",
    "ExpansionResult",
    "MaximalCovering",
    "ModelParams",
    "PMedian",
    "PMedianResult",
    "greedy_interchange_pmedian",
    "lazy_greedy_cover",
]
