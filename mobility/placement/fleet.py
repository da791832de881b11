"""Docks per new station and bikes per station, under district bikes-per-resident rules.

Given every station (existing: docks fixed; new: docks to choose), the fleet total and the
district floors, :func:`allocate_fleet` finds integer docks and bikes with a small MIP; under a
dock budget, with a Lagrangian relaxation of the budget (:func:`lagrangian_allocation`), which the
MIP only continues from where its gap is large. Targets that no allocation can meet raise
:class:`~mobility.errors.InfeasibleError` naming the binding rule (e.g. which district's ratio
cannot fit in its docks at the maximum bikes per dock).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt
from ortools.linear_solver import pywraplp

from mobility.arrays import FloatArray, IntArray
from mobility.errors import InfeasibleError, InputError
from mobility.placement.models import ModelParams, _mip_solver, _solve, _time_budget, _warm_start
from mobility.stats import MaxRuntime, SolverStats


@dataclass(frozen=True)
class FleetProblem:
    """The allocation problem as plain arrays.

    Attributes
    ----------
    docks
        Docks per station; for new stations ignored (chosen in ``[docks_min, docks_max]``).
    is_new
        True for a new station.
    district
        District index per station (``-1``: outside every district, counted citywide only).
    district_names
        Name per district index.
    district_min_bikes
        Minimum bikes per district (0 = no rule), already ``ceil(floor * population / 10,000)``.
    district_rule
        Text of each district's rule (for error messages), e.g. ``"districts.min_bikes_per_10k = 25"``.
    desired
        Preferred bikes per station (e.g. the fleet spread by residents within reach); the
        allocation minimises the total absolute deviation from it.
    total_bikes
        Exact fleet size.
    docks_min, docks_max
        Dock bounds of a new station.
    bpd_min, bpd_max
        Bikes per dock bounds (every station).
    dock_budget
        Money left for docks of new stations, and ``cost_per_dock`` (``None``: no budget rule).
    """

    docks: IntArray
    is_new: npt.NDArray[np.bool_]
    district: IntArray
    district_names: list[str]
    district_min_bikes: IntArray
    district_rule: list[str]
    desired: FloatArray
    total_bikes: int
    docks_min: int
    docks_max: int
    bpd_min: float
    bpd_max: float
    dock_budget: tuple[float, float] | None = None

    def violations(self, bikes: IntArray, docks: IntArray) -> list[str]:
        """Every rule an allocation breaks, checked from the rules alone (no solver code).

        Parameters
        ----------
        bikes, docks
            Bikes and docks per station, in the problem's order.

        Returns
        -------
        list of str
            One line per broken rule; empty when the allocation is feasible.
        """
        out: list[str] = []
        if int(bikes.sum()) != self.total_bikes:
            out.append(f"fleet total: {int(bikes.sum())} bikes, expected {self.total_bikes}")
        lo, hi = _frac(self.bpd_min), _frac(self.bpd_max)
        per_dock = [
            s for s in range(len(docks)) if not lo * int(docks[s]) <= int(bikes[s]) <= hi * int(docks[s])
        ]
        if per_dock:
            out.append(f"bikes per dock outside [{self.bpd_min}, {self.bpd_max}] at stations {per_dock[:5]}")
        new = docks[self.is_new]
        if np.any(new < self.docks_min) or np.any(new > self.docks_max):
            out.append(f"docks of a new station outside [{self.docks_min}, {self.docks_max}]")
        if not np.array_equal(docks[~self.is_new], self.docks[~self.is_new]):
            out.append("docks of an existing station changed")
        if self.dock_budget is not None and int(new.sum()) * self.dock_budget[1] > self.dock_budget[0] + 1e-6:
            out.append(f"dock budget: {int(new.sum())} docks cost more than {self.dock_budget[0]:,.0f}")
        for k, name in enumerate(self.district_names):
            if int(bikes[self.district == k].sum()) < int(self.district_min_bikes[k]):
                out.append(f"district {name}: below its floor of {int(self.district_min_bikes[k])} bikes")
        return out


DEVIATION_WEIGHT = 10.0
"""Cost of one bike away from a station's desired count, in docks of a new station."""

LAGRANGIAN_GAP = 0.005
"""Under a dock budget, :func:`allocate_fleet` keeps the Lagrangian allocation when its gap to
the Lagrangian bound is at most this; above it, the MIP continues from it."""


@dataclass(frozen=True)
class FleetResult:
    """Docks and bikes per station (same order as the problem), and solver statistics."""

    docks: IntArray
    bikes: IntArray
    stats: SolverStats


def _frac(v: float) -> Fraction:
    return Fraction(v).limit_denominator(1000)


def _bike_bounds(docks: int, lo: Fraction, hi: Fraction) -> tuple[int, int]:
    return math.ceil(lo * docks), math.floor(hi * docks)


def _bike_range(p: FleetProblem) -> tuple[IntArray, IntArray]:
    """Fewest and most bikes per station: its docks (a new station's ``docks.min`` /
    ``docks.max``) times the bikes-per-dock bounds, rounded inwards."""
    lo, hi = _frac(p.bpd_min), _frac(p.bpd_max)
    bounds = [
        (_bike_bounds(p.docks_min, lo, hi)[0], _bike_bounds(p.docks_max, lo, hi)[1])
        if p.is_new[s]
        else _bike_bounds(int(p.docks[s]), lo, hi)
        for s in range(len(p.docks))
    ]
    arr = np.array(bounds, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0].copy(), arr[:, 1].copy()


def check_feasibility(p: FleetProblem) -> None:
    """Necessary conditions, checked before the solver so the message can name the rule.

    Raises
    ------
    InfeasibleError
        The first rule that cannot hold, with the numbers.
    """
    cap_lo, cap_hi = _bike_range(p)
    if p.total_bikes > cap_hi.sum():
        raise InfeasibleError(
            f"fleet.total_bikes = {p.total_bikes} does not fit: all {len(p.docks)} stations hold at most "
            f"{int(cap_hi.sum())} bikes at bikes_per_dock.max = {p.bpd_max} (new stations at docks.max = "
            f"{p.docks_max}); add stations, raise bikes_per_dock.max or docks.max",
            binding=["fleet.total_bikes", "bikes_per_dock.max", "docks.max"],
        )
    if p.total_bikes < cap_lo.sum():
        raise InfeasibleError(
            f"fleet.total_bikes = {p.total_bikes} is below the {int(cap_lo.sum())} bikes that "
            f"bikes_per_dock.min = {p.bpd_min} requires over all docks",
            binding=["fleet.total_bikes", "bikes_per_dock.min"],
        )
    need_sum = 0
    for k, name in enumerate(p.district_names):
        members = p.district == k
        need = int(p.district_min_bikes[k])
        floor_k = max(need, int(cap_lo[members].sum()))
        need_sum += floor_k
        if need > cap_hi[members].sum():
            raise InfeasibleError(
                f"district {name}: {p.district_rule[k]} needs {need} bikes but its "
                f"{int(members.sum())} stations hold at most {int(cap_hi[members].sum())} "
                f"(bikes_per_dock.max = {p.bpd_max}, new stations at docks.max = {p.docks_max})",
                binding=[f"districts[{name}]", "bikes_per_dock.max"],
            )
    outside = p.district < 0
    need_sum += int(cap_lo[outside].sum())
    if need_sum > p.total_bikes:
        raise InfeasibleError(
            f"the district floors need {need_sum} bikes together, more than fleet.total_bikes = "
            f"{p.total_bikes}",
            binding=["fleet.total_bikes", "districts.min_bikes_per_10k"],
        )


class _FleetModel:
    """The allocation MIP of :func:`allocate_fleet` (or, with ``fewest_docks``, its feasibility twin)."""

    def __init__(self, p: FleetProblem, params: ModelParams, *, fewest_docks: bool = False) -> None:
        lo, hi = _frac(p.bpd_min), _frac(p.bpd_max)
        solver = _mip_solver(params)
        self.solver = solver
        self.b: list[pywraplp.Variable] = []
        self.d: list[pywraplp.Variable] = []
        for s_ in range(len(p.docks)):
            if p.is_new[s_]:
                ds = solver.IntVar(p.docks_min, p.docks_max, f"d{s_}")
                bs = solver.IntVar(0, math.floor(hi * p.docks_max), f"b{s_}")
                solver.Add(lo.denominator * bs >= lo.numerator * ds)
                solver.Add(hi.denominator * bs <= hi.numerator * ds)
                self.d.append(ds)
            else:
                blo, bhi = _bike_bounds(int(p.docks[s_]), lo, hi)
                bs = solver.IntVar(blo, bhi, f"b{s_}")
            self.b.append(bs)
        solver.Add(solver.Sum(self.b) == p.total_bikes)
        for k in range(len(p.district_names)):
            need = int(p.district_min_bikes[k])
            if need > 0:
                solver.Add(solver.Sum([self.b[s_] for s_ in np.flatnonzero(p.district == k)]) >= need)
        if p.dock_budget is not None and self.d:
            money, per_dock = p.dock_budget
            if per_dock > 0:  # in docks, not money: a row of 1e6 coefficients and a 1e10 bound is ill-scaled
                solver.Add(solver.Sum(self.d) <= math.floor(money / per_dock + 1e-9))
        self.objective = solver.Objective()
        for ds in self.d:
            self.objective.SetCoefficient(ds, 1.0)
        if not fewest_docks:
            for s_ in range(len(p.docks)):
                dev = solver.NumVar(0.0, solver.infinity(), "")
                solver.Add(dev >= self.b[s_] - float(p.desired[s_]))
                solver.Add(dev >= float(p.desired[s_]) - self.b[s_])
                self.objective.SetCoefficient(dev, DEVIATION_WEIGHT)
        self.objective.SetMinimization()


def _result(
    p: FleetProblem,
    bikes: list[int],
    new_docks: list[int],
    params: ModelParams,
    t0: float,
    *,
    status: str,
    bound: float | None,
    note: str | None = None,
    solver: str | None = None,
    extra_stats: dict[str, object] | None = None,
) -> FleetResult:
    """Docks, bikes and statistics; the objective is recomputed from the allocation itself."""
    b = np.array(bikes, dtype=np.int64)
    docks = p.docks.astype(np.int64).copy()
    docks[np.flatnonzero(p.is_new)] = new_docks
    deviation = float(np.abs(b - p.desired).sum())
    obj = DEVIATION_WEIGHT * deviation + float(docks[p.is_new].sum())
    extra: dict[str, object] = {
        "stations": len(p.docks),
        "new_stations": int(p.is_new.sum()),
        "abs_deviation": deviation,
    }
    if note:
        extra["note"] = note
    extra.update(extra_stats or {})
    stats = SolverStats.since(
        t0,
        solver=solver or f"mip-{params.backend.lower()}",
        status=status,
        objective=obj,
        bound=bound,
        seed=params.seed,
        extra=extra,
    )
    return FleetResult(docks=docks, bikes=b, stats=stats)


@dataclass(frozen=True)
class _Options:
    """Every bike count a station may hold, as ``(stations, W)`` tables of ``lo + j`` bikes."""

    lo: IntArray
    """Fewest bikes per station."""
    cost: FloatArray
    """Objective term of ``lo + j`` bikes (``inf`` where not allowed)."""
    docks: IntArray
    """Fewest docks of a new station that hold ``lo + j`` bikes (0 for an existing station)."""
    count: IntArray
    """Allowed counts per station: ``j < count`` (always a prefix)."""


def _options(p: FleetProblem) -> _Options | None:
    """The allowed bike counts of every station and their cost; ``None`` when a new station's
    allowed counts have a hole (bikes-per-dock bounds so tight that some counts fit no dock count),
    which the Lagrangian method does not handle."""
    lo_r, hi_r = _frac(p.bpd_min), _frac(p.bpd_max)
    lo, hi = _bike_range(p)
    width = int(max(1, (hi - lo).max() + 1))
    bikes = lo[:, None] + np.arange(width)[None, :]
    fewest = np.maximum(p.docks_min, -((-bikes * hi_r.denominator) // hi_r.numerator))
    fits = (fewest <= p.docks_max) & (lo_r.numerator * fewest <= lo_r.denominator * bikes)
    allowed = (bikes <= hi[:, None]) & np.where(p.is_new[:, None], fits, True)
    count = allowed.sum(axis=1)
    if np.any(allowed != (np.arange(width)[None, :] < count[:, None])) or np.any(count == 0):
        return None
    new_docks = np.where(p.is_new[:, None], fewest, 0).astype(np.int64)
    cost = np.where(allowed, DEVIATION_WEIGHT * np.abs(bikes - p.desired[:, None]) + new_docks, np.inf)
    return _Options(lo=lo, cost=cost, docks=new_docks, count=count.astype(np.int64))


def _envelope_marginals(values: FloatArray, count: IntArray, rows: IntArray) -> FloatArray:
    """Marginal cost of each further bike, ``(stations, W - 1)``, on the lower convex envelope of
    each row's allowed values (``inf`` beyond them). Rows not in ``rows`` are convex already
    (``|b - desired|`` on the integers); the others get Andrew's monotone chain."""
    width = values.shape[1]
    inside = np.arange(1, width)[None, :] < count[:, None]
    with np.errstate(invalid="ignore"):
        marg = np.where(inside, np.diff(values, axis=1), np.inf)
    for s in rows:
        v = values[s, : int(count[s])]
        hull = [0]
        for i in range(1, len(v)):
            while len(hull) >= 2 and (v[hull[-1]] - v[hull[-2]]) * (i - hull[-2]) >= (v[i] - v[hull[-2]]) * (
                hull[-1] - hull[-2]
            ):
                hull.pop()
            hull.append(i)
        for a, c in itertools.pairwise(hull):
            marg[s, a:c] = (v[c] - v[a]) / (c - a)
    return marg


def _cheapest_bikes(p: FleetProblem, lo: IntArray, marg: FloatArray) -> tuple[IntArray, float]:
    """Bikes above ``lo`` per station, and their summed marginal cost: each district's floor
    filled with its cheapest bikes, then the rest of the fleet wherever a bike costs least.

    Exact for convex rows (each district's cost is then convex in its total). Ties are taken
    station by station, so that per tied slope at most one station stops inside a segment. The
    cost is ``inf`` when the rules cannot be met (a floor or the total beyond the allowed bikes).
    """
    n, k = marg.shape
    station = np.repeat(np.arange(n), k)
    step = np.tile(np.arange(k), n)
    flat = marg.ravel()
    taken = np.zeros(n * k, dtype=bool)
    for d in np.flatnonzero(p.district_min_bikes > 0):
        need = int(p.district_min_bikes[d]) - int(lo[p.district == d].sum())
        if need > 0:
            units = np.flatnonzero(p.district[station] == d)
            if need > len(units):
                return np.zeros(n, dtype=np.int64), math.inf
            taken[units[np.lexsort((step[units], station[units], flat[units]))[:need]]] = True
    free = np.flatnonzero(~taken)
    rest = p.total_bikes - int(lo.sum()) - int(taken.sum())
    if rest < 0 or rest > len(free):
        return np.zeros(n, dtype=np.int64), math.inf
    taken[free[np.lexsort((step[free], station[free], flat[free]))[:rest]]] = True
    return taken.reshape(n, k).sum(axis=1).astype(np.int64), float(flat[taken].sum())


def _polish(p: FleetProblem, opts: _Options, steps: IntArray, budget: int) -> tuple[IntArray, int]:
    """Move one bike at a time from a station to another while that lowers the objective,
    keeping the fleet total, the district floors, the dock bounds and the budget."""
    n, width = opts.cost.shape
    rows = np.arange(n)
    steps = steps.copy()
    named = p.district >= 0
    totals = np.bincount(
        p.district[named], weights=(opts.lo + steps)[named], minlength=len(p.district_names)
    ).astype(np.int64)
    floor_of = np.where(named, p.district_min_bikes[np.maximum(p.district, 0)], 0)
    moves = 0
    while moves < 10 * n:
        here = opts.cost[rows, steps]
        nxt, prv = np.minimum(steps + 1, width - 1), np.maximum(steps - 1, 0)
        up = np.where(steps + 1 < opts.count, opts.cost[rows, nxt] - here, np.inf)
        up_docks = opts.docks[rows, nxt] - opts.docks[rows, steps]
        down_docks = opts.docks[rows, prv] - opts.docks[rows, steps]
        district_total = np.where(named, totals[np.maximum(p.district, 0)], 0)
        can_give = (steps > 0) & (~named | (district_total > floor_of))
        down = np.where(can_give, opts.cost[rows, prv] - here, np.inf)
        slack = budget - int(opts.docks[rows, steps].sum())
        receive = np.where(up_docks <= slack, up, np.inf)
        first, second = np.argpartition(receive, 1)[:2] if n > 1 else (0, 0)
        if receive[second] < receive[first]:
            first, second = second, first
        partner = np.where(rows == first, second, first)
        gain = np.where(down_docks + up_docks[partner] <= slack, down + receive[partner], np.inf)
        i = int(np.argmin(gain))
        if not gain[i] < -1e-9 or partner[i] == i:
            break
        j = int(partner[i])
        steps[i] -= 1
        steps[j] += 1
        for s_, sign in ((i, -1), (j, 1)):
            if named[s_]:
                totals[p.district[s_]] += sign
        moves += 1
    return steps, moves


@dataclass(frozen=True)
class LagrangianAllocation:
    """What :func:`lagrangian_allocation` found.

    Attributes
    ----------
    bikes
        Bikes per station (the problem's order).
    new_docks
        Docks of each new station (the order of ``is_new``), the fewest that hold its bikes.
    objective
        The allocation's objective (as in the MIP).
    bound
        The best Lagrangian bound: no allocation has a lower objective.
    multiplier
        The budget's multiplier of that bound (cost of one dock).
    moves
        Single-bike moves of the final local search.
    """

    bikes: IntArray
    new_docks: IntArray
    objective: float
    bound: float
    multiplier: float
    moves: int


def lagrangian_allocation(p: FleetProblem, *, steps: int = 24) -> LagrangianAllocation | None:
    """Allocation under a dock budget by Lagrangian relaxation of the budget.

    With ``d_s`` the fewest docks that hold ``b_s`` bikes, ``d_s(b) = max(D_min, ceil(b / r_hi))``
    (the MIP's optimum never takes more), the problem of :func:`allocate_fleet` becomes one in the
    bikes alone::

        minimise    sum_s f_s(b_s),   f_s(b) = 10 * |b - desired_s| + [s new] * d_s(b)
        subject to  sum_s b_s = T,    sum_{s in k} b_s >= F_k,    lo_s <= b_s <= hi_s,
                    sum_{s new} d_s(b_s) <= B                      (the dock budget)

    (A count ``b`` is not allowed at a new station, ``f_s(b) = +inf``, where ``d_s(b) > D_max``
    or ``r_lo * d_s(b) > b``.) Relaxing the budget with a multiplier ``lam >= 0`` leaves
    ``L(lam) = min sum_s (f_s + lam * d_s)(b_s) - lam * B`` under the total and the (disjoint)
    district floors. Replacing each ``f_s + lam * d_s`` by its lower convex envelope makes that
    a separable convex allocation, solved exactly by taking bikes in order of marginal cost
    (each floor from its own district first, then the rest of the fleet); the envelope only
    lowers the value, so ``L(lam)`` stays a lower bound of the optimum (Fisher 1981; Ibaraki &
    Katoh 1988 for the greedy on convex resource allocation). ``lam`` is found by bisection on
    the budget's use: ``lam = 0`` first (if its allocation keeps the budget, the budget does
    not bind and that one is kept); else an upper end starting at
    ``20 * (ceil(r_hi) + 1) + 1``, doubled up to four times until its allocation keeps the
    budget, then ``steps`` bisection steps, each keeping the half whose upper end keeps it.
    Every relaxed allocation that keeps the budget is a feasible allocation; each one found is
    improved by single-bike moves (one bike from one station to another, keeping the total, the
    floors, the allowed counts and the budget; the best such move while it lowers the true
    objective, at most ``10 * stations`` moves: :func:`_polish`), and the best is returned with
    the best bound seen (the largest ``L(lam)`` evaluated).

    On the 2019 budget scenario (1,973 stations, 433 new, 6,116 docks to spend) this takes
    about 0.3 s for a gap of 0.07 %, where the MIP ends its minute 10 % apart.

    Returns
    -------
    LagrangianAllocation or None
        ``None`` without a budget, with a dock cost of 0 or no new station, when no multiplier
        keeps the budget (the MIP then decides, and names the binding rule), when the bound is
        infinite (the floors or the total cannot hold) or when :func:`_options` cannot tabulate
        the stations.
    """
    if p.dock_budget is None or p.dock_budget[1] <= 0 or not p.is_new.any():
        return None
    opts = _options(p)
    if opts is None:
        return None
    money, per_dock = p.dock_budget
    budget = math.floor(money / per_dock + 1e-9)
    rows = np.arange(len(p.docks))
    new_rows = np.flatnonzero(p.is_new)
    bounds: list[float] = []
    kept: dict[bytes, tuple[float, IntArray]] = {}

    def relax(lam: float) -> bool:
        """``L(lam)`` into ``bounds``; True (and the allocation kept) when it keeps the budget."""
        values = opts.cost + lam * opts.docks
        taken, extra = _cheapest_bikes(p, opts.lo, _envelope_marginals(values, opts.count, new_rows))
        bounds.append(float(values[:, 0].sum()) + extra - lam * budget)
        if not math.isfinite(extra) or int(opts.docks[rows, taken].sum()) > budget:
            return False
        kept.setdefault(taken.tobytes(), (lam, taken))
        return True

    if not relax(0.0):  # else the budget does not bind
        lo_lam, hi_lam = 0.0, DEVIATION_WEIGHT * 2 * (math.ceil(p.bpd_max) + 1) + 1
        for _ in range(5):  # a dock is worth at most the deviation of the bikes it holds
            if relax(hi_lam):
                break
            lo_lam, hi_lam = hi_lam, 2 * hi_lam
        else:
            return None
        for _ in range(steps):
            mid = 0.5 * (lo_lam + hi_lam)
            lo_lam, hi_lam = (lo_lam, mid) if relax(mid) else (mid, hi_lam)
    best_bound = max(bounds)
    if not kept or not math.isfinite(best_bound):  # an infinite bound: the rules cannot hold
        return None
    found = []
    for lam, taken in kept.values():
        polished, moves = _polish(p, opts, taken, budget)
        found.append((float(opts.cost[rows, polished].sum()), lam, moves, polished))
    objective, lam, moves, taken = min(found, key=lambda f: f[0])
    return LagrangianAllocation(
        bikes=opts.lo + taken,
        new_docks=opts.docks[rows, taken][p.is_new],
        objective=objective,
        bound=best_bound,
        multiplier=lam,
        moves=moves,
    )


def allocate_fleet(
    p: FleetProblem,
    params: ModelParams | None = None,
    stop: MaxRuntime | None = None,
    *,
    method: Literal["auto", "mip"] = "auto",
) -> FleetResult:
    """Docks for new stations and bikes for every station.

    Formulation (integer ``b_s`` bikes, ``d_s`` docks; ``d_s`` fixed for existing stations,
    integer ``D_min <= d_s <= D_max`` for new ones; bikes-per-dock bounds ``[r_lo, r_hi]`` as
    fractions ``num/den`` (``Fraction.limit_denominator(1000)``) so everything stays integral;
    ``dev_s >= 0`` continuous)::

        minimise    10 * sum_s dev_s  +  sum_{s new} d_s
        subject to  dev_s >= b_s - desired_s,  dev_s >= desired_s - b_s   (dev_s = |b_s - desired_s|)
                    sum_s b_s = T                                  (fleet total)
                    den_lo * b_s >= num_lo * d_s,  den_hi * b_s <= num_hi * d_s   (bikes per dock)
                    sum_{s in district k} b_s >= F_k               for every k with F_k > 0
                    sum_{s new} d_s <= floor(budget_docks / cost_dock)   (with a budget, a dock
                                                                 cost > 0 and new stations)
                    0 <= b_s <= floor(r_hi * D_max)  (new),  b_s in [ceil(r_lo d_s), floor(r_hi d_s)]
                    (existing, as variable bounds)

    The weight 10 is :data:`DEVIATION_WEIGHT`. The small dock term sizes new stations no larger
    than their bikes need. A small MIP on ``params.backend`` through ``pywraplp`` (the planner
    passes SCIP), its time limit ``params.time_limit`` capped by ``stop``;
    :func:`check_feasibility` runs first so an infeasible rule is named with its numbers.

    With a dock budget the MIP is slow: on the 2019 budget scenario it ends its minute 10 % above
    its bound. There :func:`lagrangian_allocation` runs first (under a second) and its allocation
    is kept, status ``feasible`` with the Lagrangian bound, when the gap is at most
    :data:`LAGRANGIAN_GAP`; otherwise the MIP continues from it. Where that method finds no
    allocation, the feasible set can be a sliver a few docks wide (the 2019 equity scenario under
    a 20 bn KRW budget: 6,627 docks needed, 6,633 affordable), where the full model finds no
    solution in a minute. A twin model that only minimises ``sum d_s`` under the same rules then
    runs first (seconds; at most 30 s): it proves infeasibility with a message naming the
    budget, or gives a feasible allocation that warm-starts the full model (and is kept, status
    ``feasible`` without a bound, if the full model finds no solution in time). When the full
    model continues from the Lagrangian allocation and finds no solution in time, that
    allocation is returned as it was; with no warm start at all, no solution in time raises
    :class:`~mobility.errors.InfeasibleError` naming ``solver.time_limit``. The full model's
    reported bound is the larger of its own and the Lagrangian bound. The warm start is not
    given on HiGHS (``_warm_start``).
    ``method="mip"`` skips the Lagrangian method (for comparisons); with a budget the twin then
    runs.
    """
    params = params or ModelParams()
    t0 = time.perf_counter()
    n = len(p.docks)
    if not (len(p.is_new) == len(p.district) == len(p.desired) == n):
        raise InputError(
            "fleet problem", "arrays of different lengths", "one entry per station in every array"
        )
    check_feasibility(p)
    new_idx = np.flatnonzero(p.is_new)
    hint: tuple[list[int], list[int]] | None = None
    found: FleetResult | None = None
    lagrangian = lagrangian_allocation(p) if method == "auto" else None
    if lagrangian is not None:
        found = _result(
            p,
            lagrangian.bikes.tolist(),
            lagrangian.new_docks.tolist(),
            params,
            t0,
            status="feasible",
            bound=lagrangian.bound,
            solver="lagrangian",
            extra_stats={"multiplier": lagrangian.multiplier, "moves": lagrangian.moves},
        )
        if found.stats.gap is not None and found.stats.gap <= LAGRANGIAN_GAP:
            return found
        hint = (lagrangian.bikes.tolist(), lagrangian.new_docks.tolist())
    if p.dock_budget is not None and len(new_idx) and hint is None:
        # With a dock budget the feasible region can be a sliver (a few docks wide at city scale):
        # the fewest docks that meet every rule first, as a feasible warm start (a few seconds).
        m = _FleetModel(p, params, fewest_docks=True)
        m.solver.SetTimeLimit(int(min(30.0, _time_budget(params, stop)) * 1000))
        code = _solve(m.solver)
        if code == pywraplp.Solver.INFEASIBLE:
            money, per_dock = p.dock_budget
            raise InfeasibleError(
                f"the budget leaves {money:,.0f} for docks of new stations, {math.floor(money / per_dock):,} "
                "docks; the fleet total and the district floors need more at bikes_per_dock.max = "
                f"{p.bpd_max}",
                binding=["budget", "fleet.total_bikes", "districts", "bikes_per_dock.max"],
            )
        if code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            hint = ([round(x.solution_value()) for x in m.b], [round(x.solution_value()) for x in m.d])
    m = _FleetModel(p, params)
    if hint is not None:
        _warm_start(m.solver, params, m.b + m.d, [float(v) for v in hint[0] + hint[1]])
    m.solver.SetTimeLimit(int(_time_budget(params, stop) * 1000))
    code = _solve(m.solver)
    b, d, objective = m.b, m.d, m.objective
    if code == pywraplp.Solver.INFEASIBLE:
        raise InfeasibleError(
            "no integer allocation meets the fleet total, the bikes-per-dock bounds, the district "
            "floors and the dock budget together (each holds alone)",
            binding=["fleet.total_bikes", "districts", "bikes_per_dock", "budget"],
        )
    if code not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        if hint is None:
            raise InfeasibleError(
                f"fleet allocation found no solution in time (status {code}); raise solver.time_limit",
                binding=["solver.time_limit"],
            )
        if found is not None:
            return found
        note = f"fewest-docks warm start kept: the full model found no solution in time (status {code})"
        return _result(p, *hint, params, t0, status="feasible", bound=None, note=note)
    bound = float(objective.BestBound())
    return _result(
        p,
        [round(x.solution_value()) for x in b],
        [round(x.solution_value()) for x in d],
        params,
        t0,
        status="optimal" if code == pywraplp.Solver.OPTIMAL else "feasible",
        bound=bound if lagrangian is None else max(bound, lagrangian.bound),
    )


__all__ = [
    "FleetProblem",
    "FleetResult",
    "LagrangianAllocation",
    "allocate_fleet",
    "check_feasibility",
    "lagrangian_allocation",
]
