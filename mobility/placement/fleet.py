"""Docks per new station and bikes per station, under district bikes-per-resident rules.

Given every station (existing: docks fixed; new: docks to choose), the fleet total and the
district floors, :func:`allocate_fleet` finds integer docks and bikes with a small MIP. Targets that
no allocation can meet raise :class:`~mobility.errors.InfeasibleError` naming the binding rule
(e.g. which district's ratio cannot fit in its docks at the maximum bikes per dock).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt
from ortools.linear_solver import pywraplp

from mobility.arrays import FloatArray, IntArray
from mobility.errors import InfeasibleError, InputError
from mobility.placement.models import ModelParams, _mip_solver, _time_budget, _warm_start
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


def check_feasibility(p: FleetProblem) -> None:
    """Necessary conditions, checked before the solver so the message can name the rule.

    Raises
    ------
    InfeasibleError
        The first rule that cannot hold, with the numbers.
    """
    lo, hi = _frac(p.bpd_min), _frac(p.bpd_max)
    cap_hi = np.zeros(len(p.docks), dtype=np.int64)
    cap_lo = np.zeros(len(p.docks), dtype=np.int64)
    for s in range(len(p.docks)):
        if p.is_new[s]:
            cap_lo[s] = _bike_bounds(p.docks_min, lo, hi)[0]
            cap_hi[s] = _bike_bounds(p.docks_max, lo, hi)[1]
        else:
            cap_lo[s], cap_hi[s] = _bike_bounds(int(p.docks[s]), lo, hi)
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
                self.objective.SetCoefficient(dev, 10.0)
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
) -> FleetResult:
    """Docks, bikes and statistics; the objective is recomputed from the allocation itself."""
    b = np.array(bikes, dtype=np.int64)
    docks = p.docks.astype(np.int64).copy()
    docks[np.flatnonzero(p.is_new)] = new_docks
    deviation = float(np.abs(b - p.desired).sum())
    obj = 10.0 * deviation + float(docks[p.is_new].sum())
    extra: dict[str, object] = {
        "stations": len(p.docks),
        "new_stations": int(p.is_new.sum()),
        "abs_deviation": deviation,
    }
    if note:
        extra["note"] = note
    stats = SolverStats.since(
        t0,
        solver=f"mip-{params.backend.lower()}",
        status=status,
        objective=obj,
        bound=bound,
        seed=params.seed,
        extra=extra,
    )
    return FleetResult(docks=docks, bikes=b, stats=stats)


def allocate_fleet(
    p: FleetProblem, params: ModelParams | None = None, stop: MaxRuntime | None = None
) -> FleetResult:
    """Docks for new stations and bikes for every station.

    Formulation (integer ``b_s`` bikes, ``d_s`` docks; ``d_s`` fixed for existing stations,
    ``D_min <= d_s <= D_max`` for new ones; bikes-per-dock bounds ``[r_lo, r_hi]`` as fractions
    ``num/den`` so everything stays integral)::

        minimise    10 * sum_s |b_s - desired_s|  +  sum_{s new} d_s
        subject to  sum_s b_s = T                                  (fleet total)
                    den_lo * b_s >= num_lo * d_s,  den_hi * b_s <= num_hi * d_s   (bikes per dock)
                    sum_{s in district k} b_s >= F_k               (district floors)
                    cost_dock * sum_{s new} d_s <= budget_docks    (optional)

    The small dock term sizes new stations no larger than their bikes need. A small MIP (SCIP
    through OR-Tools; the absolute values are linearised with ``dev_s >= +-(b_s - desired_s)``);
    :func:`check_feasibility` runs first so an infeasible rule is named with its numbers.

    With a dock budget the feasible set can be a sliver a few docks wide (the 2019 equity
    scenario under a 20 bn KRW budget: 6,627 docks needed, 6,633 affordable), where the full
    model finds no solution in a minute. A twin model that only minimises ``sum d_s`` under the
    same rules runs first (seconds): it proves infeasibility with a message naming the budget,
    or gives a feasible allocation that warm-starts the full model (and is kept, status
    ``feasible`` without a bound, if the full model finds nothing better in time).
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
    if p.dock_budget is not None and len(new_idx):
        # With a dock budget the feasible region can be a sliver (a few docks wide at city scale):
        # the fewest docks that meet every rule first, as a feasible warm start (a few seconds).
        m = _FleetModel(p, params, fewest_docks=True)
        m.solver.SetTimeLimit(int(min(30.0, _time_budget(params, stop)) * 1000))
        code = m.solver.Solve()
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
    code = m.solver.Solve()
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
        note = f"fewest-docks warm start kept: the full model found no solution in time (status {code})"
        return _result(p, *hint, params, t0, status="feasible", bound=None, note=note)
    return _result(
        p,
        [round(x.solution_value()) for x in b],
        [round(x.solution_value()) for x in d],
        params,
        t0,
        status="optimal" if code == pywraplp.Solver.OPTIMAL else "feasible",
        bound=float(objective.BestBound()),
    )


__all__ = ["FleetProblem", "FleetResult", "allocate_fleet", "check_feasibility"]
