"""The expansion model that places new bike stations next to the fixed existing ones, and what
the location models share: solver settings (:class:`ModelParams`), the MIP backend (its hint of
the sites to open and its read-back of the sites opened), and the lazy greedy for weighted maximum
coverage (the warm start of every covering model).

The classic p-median and maximal covering models on a cost matrix are in
:mod:`mobility.placement.classic`.

References
----------
Church, R. and ReVelle, C. (1974). The maximal covering location problem. *Papers of the Regional
Science Association* 32.
Minoux, M. (1978). Accelerated greedy algorithms for maximizing submodular set functions. In
J. Stoer (ed.), *Optimization Techniques*, Lecture Notes in Control and Information Sciences 7.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.linear_solver import pywraplp
from ortools.math_opt.python import mathopt

from mobility.arrays import FloatArray, IntArray
from mobility.errors import InputError
from mobility.io import native_stdout_to_stderr
from mobility.stats import MaxRuntime, SolverStats

_STATUS = {
    pywraplp.Solver.OPTIMAL: "optimal",
    pywraplp.Solver.FEASIBLE: "feasible",
    pywraplp.Solver.INFEASIBLE: "infeasible",
    pywraplp.Solver.UNBOUNDED: "error",
    pywraplp.Solver.ABNORMAL: "error",
    pywraplp.Solver.NOT_SOLVED: "time_limit",
}
HIGHS_SETTINGS_NOTE = (
    "HiGHS takes no thread count from OR-Tools (solver.threads = {threads}): it chooses its own"
)
"""Said in the siting's ``stats.extra["settings_note"]`` and the plan's notes when the scenario
asks for more than one thread: OR-Tools' MathOpt refuses a thread count for HiGHS, which then
sizes its own pool. The relative gap, seed and time limit do apply."""

_MATHOPT_SOLVERS = {"HIGHS": mathopt.SolverType.HIGHS, "SCIP": mathopt.SolverType.GSCIP}
"""The expansion model's backends, by :attr:`ModelParams.backend` (upper case)."""

_TERMINATION = {
    mathopt.TerminationReason.OPTIMAL: "optimal",
    mathopt.TerminationReason.FEASIBLE: "feasible",
    mathopt.TerminationReason.INFEASIBLE: "infeasible",
    mathopt.TerminationReason.NO_SOLUTION_FOUND: "no_solution",
}
"""MathOpt's termination reasons as :class:`~mobility.stats.SolverStats` statuses (any other:
``"error"``). ``FEASIBLE`` is a limit (time, gap of another kind) reached with a solution."""


@dataclass(frozen=True)
class ModelParams:
    """Solver settings shared by the location models.

    Attributes
    ----------
    time_limit
        Wall seconds of a solve, capped by the caller's ``stop`` (``MaxRuntime``) when one is
        given, and never below 0.05 s. The p-median counts its warm start, Lagrangian bound and
        model building in it; the maximal covering and expansion models give it to the exact
        solver after their greedy; :func:`~mobility.placement.fleet.allocate_fleet` gives it to
        each MIP it runs (the fewest-docks twin at most 30 s of it), so there the ``stop`` bounds
        the total.
    seed
        Random seed handed to the solver.
    threads
        Solver threads (the machine is shared: default 1). CP-SAT runs ``max(1, threads)``
        workers; SCIP through ``pywraplp`` always runs one thread; HiGHS through MathOpt takes
        no thread count (:data:`HIGHS_SETTINGS_NOTE`).
    backend
        OR-Tools MIP backend: ``"SCIP"``, ``"CBC"`` or ``"HIGHS"`` for the classic models (through
        ``pywraplp``), ``"HIGHS"`` or ``"SCIP"`` for the expansion model (through MathOpt).
    exact
        ``False`` skips the exact solver of the classic models (:mod:`~mobility.placement.classic`)
        and returns their heuristic solution (no bound); the expansion model always runs it.
    relative_gap
        CP-SAT, the expansion MIP and the ``pywraplp`` models on SCIP stop once
        ``|objective - bound| / |objective|`` is below this. CBC and HiGHS through ``pywraplp``
        are not given it: OR-Tools' default relative MIP gap (1e-4) applies to them.
    """

    time_limit: float = 60.0
    seed: int = 0
    threads: int = 1
    backend: str = "SCIP"
    exact: bool = True
    relative_gap: float = 1e-4


MAX_CORE_SECONDS = 20.0
"""Most seconds spent narrowing an infeasible model's binding rules to a minimal set."""


def minimal_core(
    model: Any, core: list[int], seconds: float, *, seed: int = 0, workers: int = 1
) -> tuple[list[int], bool]:
    """A minimal subset of the assumption literals ``core`` (indices) under which ``model`` is
    still infeasible (a deletion filter), and whether it is proven minimal within ``seconds``.

    CP-SAT's sufficient assumptions for infeasibility are a core, not a minimal one: a district
    floor that cannot be met alone came back with 13 other floors that had nothing to do with
    it. Each literal in turn is left out and the model (objective cleared) solved on the others:
    still infeasible, the literal goes, and the new core narrows the rest at once; feasible, the
    literal is needed (leaving it out of any subset is then feasible too, so it stays needed).
    A solve that ends on the clock keeps its literal and the result is not proven minimal.
    ``model``'s assumptions and objective are changed.
    """
    from ortools.sat.python import cp_model

    model.clear_objective()
    deadline = time.monotonic() + seconds
    kept, i, minimal = list(core), 0, True
    while i < len(kept):
        left = deadline - time.monotonic()
        if left <= 0:
            return kept, False
        trial = kept[:i] + kept[i + 1 :]
        model.clear_assumptions()
        model.add_assumptions([model.get_bool_var_from_proto_index(k) for k in trial])
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = left
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        code = solver.solve(model)
        if code == cp_model.INFEASIBLE:
            narrowed = set(solver.sufficient_assumptions_for_infeasibility())
            kept = [k for k in trial if k in narrowed]
        else:
            minimal = minimal and code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            i += 1
    return kept, minimal


def _time_budget(params: ModelParams, stop: MaxRuntime | None) -> float:
    limit = params.time_limit
    if stop is not None:
        limit = min(limit, stop.remaining())
    return max(0.05, limit)


@dataclass(frozen=True)
class MipSolve:
    """What a MathOpt solve of a MIP gave: the status, the result, and the bound.

    Attributes
    ----------
    status
        ``"optimal"`` (within the relative gap), ``"feasible"`` (a limit reached with a
        solution), ``"infeasible"``, ``"no_solution"`` (a limit reached without one) or ``"error"``.
    result
        MathOpt's result (its ``variable_values`` hold the solution when there is one).
    bound
        The solver's dual bound on the objective; ``None`` when it has none (not finite).
    """

    status: str
    result: mathopt.SolveResult
    bound: float | None


def _mathopt_solve(
    model: mathopt.Model,
    backend: str,
    params: ModelParams,
    stop: MaxRuntime | None,
    hint: dict[mathopt.Variable, float],
) -> MipSolve:
    """Solve ``model`` on ``backend`` (``"HIGHS"`` or ``"SCIP"``) through OR-Tools' MathOpt.

    MathOpt, unlike ``pywraplp``'s HiGHS interface in OR-Tools 9.15, passes the relative gap and
    the seed to HiGHS, keeps the incumbent when the time limit stops the search (``pywraplp``
    reports code 99 and no solution) and reports HiGHS's dual bound (``pywraplp`` reports the
    objective). The backend's console output goes to stderr.

    Parameters
    ----------
    model
        The MIP, built.
    backend
        ``"HIGHS"`` or ``"SCIP"`` (a key of ``_MATHOPT_SOLVERS``).
    params
        Time limit, seed, relative gap.
    stop
        The caller's overall stop; the time limit is the smaller of the two.
    hint
        A starting solution, variable -> value (empty: none).

    Returns
    -------
    MipSolve
        Status, result and bound.
    """
    solve_params = mathopt.SolveParameters(
        time_limit=timedelta(seconds=_time_budget(params, stop)),
        random_seed=params.seed,
        relative_gap_tolerance=max(0.0, params.relative_gap),
    )
    model_params = mathopt.ModelSolveParameters(
        solution_hints=[mathopt.SolutionHint(variable_values=hint)] if hint else []
    )
    with native_stdout_to_stderr():
        result = mathopt.solve(
            model, _MATHOPT_SOLVERS[backend], params=solve_params, model_params=model_params
        )
    status = _TERMINATION.get(result.termination.reason, "error")
    dual = float(result.termination.objective_bounds.dual_bound)
    return MipSolve(status=status, result=result, bound=dual if math.isfinite(dual) else None)


def _mip_solver(params: ModelParams) -> pywraplp.Solver:
    solver = pywraplp.Solver.CreateSolver(params.backend)
    if solver is None:  # pragma: no cover - every OR-Tools wheel ships SCIP
        raise InputError("params.backend", params.backend, "an OR-Tools MIP backend: SCIP, CBC or HIGHS")
    # SCIP runs one thread; asking OR-Tools for more switches it to a concurrent mode that only
    # splits the shared cores
    solver.SetNumThreads(1 if params.backend.upper() == "SCIP" else params.threads)
    if params.backend.upper() == "SCIP":
        # the gap always: left out, OR-Tools' default RELATIVE_MIP_GAP (1e-4) would apply, and a
        # relative_gap of 0 would stop at 1e-4
        solver.SetSolverSpecificParametersAsString(
            f"randomization/randomseedshift = {params.seed}\nlimits/gap = {max(0.0, params.relative_gap)}\n"
        )
    return solver


def _solve(solver: pywraplp.Solver, mp: pywraplp.MPSolverParameters | None = None) -> int:
    """``solver.Solve(mp)`` with the backend's console output on stderr, never on stdout.

    Parameters
    ----------
    solver
        The MIP, built.
    mp
        Its solve parameters (the backend's defaults when ``None``).

    Returns
    -------
    int
        The result status code (``pywraplp.Solver.OPTIMAL``, ...).
    """
    with native_stdout_to_stderr():
        return int(solver.Solve() if mp is None else solver.Solve(mp))


def _warm_start(
    solver: pywraplp.Solver, params: ModelParams, variables: list[pywraplp.Variable], values: list[float]
) -> None:
    """Give the MIP a starting solution, where the backend takes one safely.

    OR-Tools 9.15 crashes the process (a segmentation fault) on ``SetHint`` with HiGHS, so HiGHS
    starts without it; SCIP and CBC take the hint.
    """
    if params.backend.upper() != "HIGHS":
        solver.SetHint(variables, values)


def _hint_sites(
    solver: pywraplp.Solver, params: ModelParams, y: list[pywraplp.Variable], sites: IntArray
) -> None:
    """Hint the MIP to open exactly ``sites`` (through :func:`_warm_start`).

    Parameters
    ----------
    solver
        The MIP being built.
    params
        Its settings (the backend decides whether the hint is given).
    y
        The site variables, ``y[j]`` for site ``j``.
    sites
        Indices of the sites the hint opens: ``y_j = 1`` for them, ``0`` for every other site.
    """
    opened = set(sites.tolist())
    _warm_start(solver, params, y, [1.0 if j in opened else 0.0 for j in range(len(y))])


def _solved_sites(y: list[pywraplp.Variable]) -> IntArray:
    """The sites a solved MIP opens.

    Parameters
    ----------
    y
        The site variables, ``y[j]`` for site ``j``, after a solve that found a solution.

    Returns
    -------
    IntArray
        Indices ``j`` with ``y_j > 0.5``, ascending.
    """
    return np.array([j for j in range(len(y)) if y[j].solution_value() > 0.5], dtype=np.int64)


# --------------------------------------------------------------------------------------------
# lazy greedy (shared by the classic models and the expansion model)
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

    The problem it approximates (``S`` the sites opened, ``N_i`` the sites that cover demand
    ``i``, ``E`` the conflicting pairs)::

        maximise    sum_{i not covered, N_i meets S} w_i  +  sum_{j in S} site_bonus_j
        subject to  |S| <= k,  S within the allowed sites,  no pair of S in E

    ("not covered": not by ``covered`` nor by the ``initial`` sites). Each step opens the site of
    largest gain that is allowed and in conflict with no open one, while that gain is positive.

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


def integer_budget_row(cost_station: float, cost_dock: float, total: float) -> tuple[int, int, int]:
    """The budget row ``a * stations + b * docks <= c`` in integers, for CP-SAT.

    The costs and the budget are counted in the largest of 1,000, 1 and 0.001 (won) that divides
    all three, so the row is the budget itself whenever they are whole thousandths; finer values
    are rounded to the safe side (costs up, budget down). Before, the row was always in
    thousands: a station of 1,400 and a budget of 3,000 allowed one station, not two.

    Returns
    -------
    tuple[int, int, int]
        ``(a, b, c)``.
    """
    values = (cost_station, cost_dock, total)
    unit = next(
        (u for u in (1000.0, 1.0) if all(math.isclose(v / u, round(v / u), abs_tol=1e-9) for v in values)),
        0.001,
    )
    a, b = (math.ceil(round(v / unit, 9)) for v in (cost_station, cost_dock))
    return a, b, math.floor(round(total / unit, 9))


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
        The engine's status, objective, best bound, gap (maximisation: bound >= objective).
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
    ``E`` (closer than the minimum spacing), districts ``k`` with candidate sets ``J_k``,
    required polygons ``R_r``::

        maximise    sum_g W_g z_g + sum_j B_j y_j
        subject to  z_g <= sum_{j covers g} y_j            for every group g
                    y_j + y_i <= 1                          for every (j, i) in E   (spacing)
                    L <= sum_j y_j <= U                     (count)
                    sum_{j in J_k} y_j >= m_k               for every district k with m_k > 0
                    sum_{j in R_r} y_j >= 1                 for every required polygon r
                    y_j in {0, 1},  z_g in [0, 1] (MIP) or {0, 1} (CP-SAT)

    and, with a budget (:class:`BudgetRule`), new docks ``D_k`` per district::

                    D_k >= docks_min * sum_{j in J_k} y_j,  D_k >= Dneed_k   for every district k
                    sum_k D_k >= Dneed_total
                    c_station * sum_j y_j + c_dock * sum_k D_k <= budget

    ``D_k`` is continuous in the MIP, whose budget row is the one above divided by
    ``max(c_station, c_dock)``. In CP-SAT ``D_k`` is an integer in ``[Dneed_k, docks_min *
    n_sites + sum_k Dneed_k + Dneed_total + 1]`` and the budget row is in integers
    (:func:`integer_budget_row`): counted in thousands, in won or in thousandths of a won,
    whichever divides the costs and the budget, so it is the MIP's row; only values finer than a
    thousandth of a won are rounded to the safe side (costs up, budget down). ``W_g`` and
    ``B_j`` are rounded to integers; a group with no covering candidate or a rounded weight of 0
    gets no ``z_g``.

    The pipeline (:func:`mobility.placement.pipeline.build_expansion_data`) sets ``L`` to the
    larger of the scenario's exact count and the new stations the fleet total needs beyond what
    the existing docks hold at the maximum bikes per dock, and ``U`` to the smallest of the
    scenario's maximum, what the bikes-per-dock minimum leaves room for, and what the budget
    buys after the docks the fleet needs. ``m_k`` is the larger of the district's explicit
    minimum and the new stations needed so the district's bike floor fits:
    ``ceil((floor_k - cap_k) / floor(docks_max * bpd_max))``, with ``cap_k`` what the district's
    existing docks hold at ``bpd_max``.

    Two OR-Tools engines, both warm-started with the lazy-greedy solution (Minoux; see
    :meth:`greedy`), which is also reported as the baseline:

    - ``"mip"`` (default): a MIP through OR-Tools' MathOpt on ``params.backend`` (``HIGHS`` or
      ``SCIP``; the scenarios' ``auto`` is HiGHS), with the greedy solution as its hint (``y``
      only), stopped at ``params.relative_gap`` or the time limit (the smaller of
      ``params.time_limit`` and ``stop``'s remaining time); at the time limit the incumbent and
      the dual bound are kept. Its LP relaxation is tight for covering models, so it proves
      optimality (or a small gap) quickly. When it proves the model infeasible, CP-SAT is run
      (at most ``min(30, time_limit)`` s) to name the binding rules.
    - ``"cp-sat"``: CP-SAT (``max(1, params.threads)`` workers, the same gap and time limit)
      with a complete hint (``y`` and ``z``); on the city-scale model with two workers its LP
      bound closes slowly, so it is kept for small models and for explaining infeasibility.

    District and required-area constraints are guarded by assumption literals in CP-SAT; when the
    model is infeasible, CP-SAT's sufficient assumptions, narrowed to a minimal set
    (:func:`minimal_core`, at most :data:`MAX_CORE_SECONDS`), name the constraints that cannot
    hold together (:class:`~mobility.errors.InfeasibleError` ``binding``).
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
            assumptions[lit.index] = (
                f"district {d.district_names[k]}: needs >= {need} new stations ({why}); "
                f"{len(members)} candidate sites there before the spacing rule"
            )
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
            a, b, c = integer_budget_row(bud.cost_station, bud.cost_dock, bud.total)
            m.add(a * sum(y) + b * sum(dks) <= c)
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
            found = [i for i in solver.sufficient_assumptions_for_infeasibility() if i in assumptions]
            seconds = min(MAX_CORE_SECONDS, _time_budget(params, stop))
            kept, minimal = minimal_core(m, found, seconds, seed=params.seed, workers=max(1, params.threads))
            extra["core_minimal"] = minimal
            core = [assumptions[i] for i in kept]
            if core and not minimal:
                core.append("(these may include rules that are not the cause: the check ran out of time)")
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
        backend = params.backend.upper()
        if backend not in _MATHOPT_SOLVERS:
            raise InputError("solver.backend", params.backend, "HIGHS or SCIP for the expansion model")
        m = mathopt.Model(name="expansion")
        y = [m.add_binary_variable(name=f"y{j}") for j in range(n_sites)]
        gains: list[mathopt.LinearBase] = []
        cover_t = d.cover.T.tocsr()
        for g in range(n_groups):
            sites = cover_t.indices[cover_t.indptr[g] : cover_t.indptr[g + 1]]
            if len(sites) == 0 or w_int[g] == 0:
                continue
            z = m.add_variable(lb=0.0, ub=1.0)
            m.add_linear_constraint(z <= mathopt.fast_sum(y[int(j)] for j in sites))
            gains.append(float(w_int[g]) * z)
        gains.extend(float(b_int[j]) * y[j] for j in np.flatnonzero(b_int).tolist())
        conf = sp.triu(d.conflicts, k=1).tocoo()
        for a, b in zip(conf.row.tolist(), conf.col.tolist(), strict=True):
            m.add_linear_constraint(y[a] + y[b] <= 1)
        opened = mathopt.fast_sum(y)
        m.add_linear_constraint(opened <= d.max_total)
        if d.min_total > 0:
            m.add_linear_constraint(opened >= d.min_total)
        for k, need in enumerate(d.district_min_new.tolist()):
            if need > 0:
                members = np.flatnonzero(d.site_district == k)
                m.add_linear_constraint(mathopt.fast_sum(y[int(j)] for j in members) >= need)
        for members in d.required:
            m.add_linear_constraint(mathopt.fast_sum(y[int(j)] for j in members) >= 1)
        if d.budget is not None:
            bud = d.budget
            dk_vars = []
            for k in range(len(d.district_names)):
                members = np.flatnonzero(d.site_district == k)
                dk = m.add_variable(lb=float(bud.district_docks[k]), name=f"docks{k}")
                m.add_linear_constraint(dk >= bud.docks_min * mathopt.fast_sum(y[int(j)] for j in members))
                dk_vars.append(dk)
            total_docks = mathopt.fast_sum(dk_vars)
            m.add_linear_constraint(total_docks >= float(bud.total_docks))
            unit = max(bud.cost_station, bud.cost_dock, 1e-9)  # money in units of the larger cost
            m.add_linear_constraint(
                (bud.cost_station / unit) * opened + (bud.cost_dock / unit) * total_docks <= bud.total / unit
            )
        m.maximize(mathopt.fast_sum(gains))
        opens = set(hint.tolist())
        solved = _mathopt_solve(m, backend, params, stop, {v: float(j in opens) for j, v in enumerate(y)})
        extra: dict[str, Any] = {"backend": params.backend, "mip_status": solved.status}
        if backend == "HIGHS" and params.threads != 1:
            extra["settings_note"] = HIGHS_SETTINGS_NOTE.format(threads=params.threads)
        if solved.status == "infeasible":
            # ask CP-SAT (assumption literals) which rules cannot hold together; it raises
            self._cpsat(w_int, b_int, hint, replace(params, time_limit=min(30.0, params.time_limit)), None)
            from mobility.errors import InfeasibleError

            raise InfeasibleError("no set of new stations satisfies the scenario", binding=[])
        if solved.result is None or solved.status not in ("optimal", "feasible"):
            return None, "time_limit", None, extra
        values = solved.result.variable_values(y)
        sites = np.array([j for j in range(n_sites) if values[j] > 0.5], dtype=np.int64)
        extra["nodes"] = int(solved.result.solve_stats.node_count)
        return sites, solved.status, solved.bound, extra

    def greedy(self, weights: FloatArray, bonus: FloatArray, start: IntArray | None = None) -> IntArray:
        """Lazy greedy that first meets the district minimums and required areas, then fills up.

        Steps 2 to 4 are each a :func:`lazy_greedy_cover` that keeps the spacing conflicts and
        counts what is already open:

        1. ``start`` (e.g. a neighbouring sweep point's sites) opens first: its sites that
           conflict with none before them, at most ``max_total`` of them, in the order given.
        2. Each district short of its minimum gets its best sites inside it, each required area
           not yet served its best site. Here the bonuses are shifted alike so the smallest is
           just above 0 (the order is kept), so a rule's sites are taken even when every bonus
           is negative.
        3. The global lazy greedy (true bonuses) adds sites up to ``max_total`` while a site
           adds something.
        4. Below ``min_total``, zero-gain sites (shifted bonuses) top the count up.
        5. With a budget over its total, the sites of steps 3 and 4 are cut from the end (the
           last chosen first) to the longest prefix whose cost fits; the sites of steps 1 and 2,
           and at least ``min_total`` sites, are kept even when they do not fit.

        The result can break a rule the greedy could not meet (a district without a compatible
        site, a budget the minimums already exceed); :meth:`is_feasible` says so.
        """
        d = self.data
        # Sites a rule needs are taken even when their gain is not positive (a penalty such as the
        # predicted imbalance can make every bonus negative): shift all bonuses alike, which keeps
        # the greedy order, so the smallest is just above zero.
        tie = bonus - min(0.0, float(bonus.min(initial=0.0))) + 1e-9
        chosen = self._compatible(start)
        for k, need in enumerate(d.district_min_new.tolist()):
            need -= int((d.site_district[chosen] == k).sum())
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

    def _compatible(self, start: IntArray | None) -> IntArray:
        """The sites of ``start`` in order, skipping those in conflict with one kept before them."""
        d = self.data
        if start is None or len(start) == 0:
            return np.zeros(0, dtype=np.int64)
        blocked = np.zeros(d.cover.shape[0], dtype=bool)
        kept: list[int] = []
        for j in np.asarray(start, dtype=np.int64).tolist():
            if len(kept) >= d.max_total:
                break
            if not 0 <= j < len(blocked) or blocked[j]:
                continue
            kept.append(j)
            blocked[j] = True
            blocked[d.conflicts.indices[d.conflicts.indptr[j] : d.conflicts.indptr[j + 1]]] = True
        return np.array(kept, dtype=np.int64)

    def is_feasible(self, sites: IntArray) -> bool:
        """Whether a set of sites meets the count, spacing, district, budget and required-area rules."""
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

    def solve(
        self,
        params: ModelParams | None = None,
        stop: MaxRuntime | None = None,
        *,
        warm_start: IntArray | None = None,
    ) -> ExpansionResult:
        """Greedy warm start, then the exact engine; raises :class:`InfeasibleError` naming binding rules.

        ``warm_start``: sites the greedy incumbent opens first (a neighbouring sweep point's);
        the result is never worse than that incumbent when it is feasible. The incumbent is also
        the solver's hint (CP-SAT, and the MIP on either backend). When the
        engine ends without a solution, the (feasible) incumbent is the result: status
        ``"feasible"``, no bound, ``extra["fallback"] = "greedy"`` and ``extra["note"]`` saying why.
        When neither the engine nor a feasible incumbent gives a solution it raises
        :class:`InfeasibleError` (binding ``solver.time_limit``). The reported bound is at least
        the objective of the sites returned. The objective is recomputed from the rounded
        weights and bonuses; ``marginal_weight`` uses the unrounded group weights.
        """
        params = params or ModelParams()
        d = self.data
        t0 = time.perf_counter()
        n_sites, n_groups = d.cover.shape
        w_int = np.rint(d.group_weight).astype(np.int64)
        b_int = np.rint(d.site_bonus).astype(np.int64)
        g_sites = self.greedy(  # penalties count too
            w_int.astype(np.float64), b_int.astype(np.float64), warm_start
        )
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
            "warm_start_sites": 0 if warm_start is None else len(warm_start),
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
        if found is None:  # the greedy sites stand in: feasible, not proven (no bound)
            extra["fallback"] = "greedy"
            ended = extra.get("mip_status", extra.get("cp_sat_status", status))
            extra["note"] = (
                f"the {self.engine} engine ended without a solution (status {ended}, time limit "
                f"{params.time_limit:g} s): the lazy-greedy sites are kept, without a bound"
            )
            status = "feasible"
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
        stats = SolverStats.since(
            t0,
            solver=f"{self.engine}+lazy-greedy",
            status=status,
            objective=obj,
            bound=bound,
            seed=params.seed,
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
    "ExpansionData",
    "ExpansionModel",
    "ExpansionResult",
    "ModelParams",
    "integer_budget_row",
    "lazy_greedy_cover",
]
