"""Fleet allocation and the expansion model on tiny hand-made problems (fast)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.math_opt.python import mathopt

from mobility.errors import InfeasibleError, InputError
from mobility.placement import models
from mobility.placement.candidates import conflict_pairs, thin_to_grid, thin_to_spacing
from mobility.placement.classic import PMedian
from mobility.placement.fleet import FleetProblem, allocate_fleet, lagrangian_allocation
from mobility.placement.models import BudgetRule, ExpansionData, ExpansionModel, ModelParams


def fleet_problem(**kw: object) -> FleetProblem:
    base: dict[str, object] = {
        "docks": np.array([10, 10, 10, 0, 0], dtype=np.int64),
        "is_new": np.array([False, False, False, True, True]),
        "district": np.array([0, 0, 1, 1, 1], dtype=np.int64),
        "district_names": ["가구", "나구"],
        "district_min_bikes": np.array([0, 30], dtype=np.int64),
        "district_rule": [
            "no district rule",
            "districts.min_bikes_per_10k = 30 per 10,000 of 10,000 residents",
        ],
        "desired": np.array([10.0, 10, 10, 10, 10]),
        "total_bikes": 60,
        "docks_min": 5,
        "docks_max": 15,
        "bpd_min": 0.5,
        "bpd_max": 1.2,
    }
    base.update(kw)
    return FleetProblem(**base)  # type: ignore[arg-type]


def test_fleet_meets_total_floors_and_dock_bounds() -> None:
    p = fleet_problem()
    r = allocate_fleet(p, ModelParams(time_limit=10))
    assert r.bikes.sum() == 60
    assert r.bikes[p.district == 1].sum() >= 30
    assert np.all(r.bikes <= np.floor(1.2 * r.docks + 1e-9))
    assert np.all(r.bikes >= np.ceil(0.5 * r.docks - 1e-9))
    assert np.all((r.docks[3:] >= 5) & (r.docks[3:] <= 15))
    assert r.stats.status == "optimal"


def test_dock_budget_at_the_edge_of_feasibility() -> None:
    # existing docks hold 36 of the 60 bikes: the two new stations need 24 bikes, so >= 20 docks
    exact = allocate_fleet(
        fleet_problem(dock_budget=(20 * 1_500_000.0, 1_500_000.0)), ModelParams(time_limit=10)
    )
    assert exact.docks[3:].sum() == 20 and exact.bikes.sum() == 60
    assert np.all(exact.bikes <= np.floor(1.2 * exact.docks + 1e-9))
    with pytest.raises(InfeasibleError, match="19 docks") as info:
        allocate_fleet(fleet_problem(dock_budget=(19 * 1_500_000.0, 1_500_000.0)), ModelParams(time_limit=10))
    assert "budget" in info.value.binding


def budget_problem(seed: int) -> FleetProblem:
    """A small random budget problem: 3-8 existing stations, 1-4 new, two districts."""
    rng = np.random.default_rng(seed)
    n_old, n_new = int(rng.integers(3, 9)), int(rng.integers(1, 5))
    n = n_old + n_new
    docks = np.concatenate([rng.integers(5, 20, n_old), np.zeros(n_new, dtype=np.int64)]).astype(np.int64)
    is_new = np.arange(n) >= n_old
    district = rng.integers(-1, 2, n).astype(np.int64)
    lo = int(np.ceil(0.5 * docks[~is_new]).sum()) + n_new * 3  # bikes_per_dock.min x docks.min
    hi = int(np.floor(1.2 * docks[~is_new]).sum()) + n_new * 18
    total = int(rng.integers(lo, hi + 1))
    floors = np.array([int(rng.integers(0, 1 + total // 3)) for _ in range(2)], dtype=np.int64)
    return FleetProblem(
        docks=docks,
        is_new=is_new,
        district=district,
        district_names=["가구", "나구"],
        district_min_bikes=floors,
        district_rule=["rule", "rule"],
        desired=rng.uniform(0, 2 * total / n, n),
        total_bikes=total,
        docks_min=5,
        docks_max=15,
        bpd_min=0.5,
        bpd_max=1.2,
        dock_budget=(float(rng.integers(5 * n_new, 15 * n_new + 1)) * 1_000_000, 1_000_000.0),
    )


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_lagrangian_allocation_is_feasible_and_its_bound_holds_against_the_mip(seed: int) -> None:
    """Whatever the Lagrangian method returns keeps every rule, costs no less than the MIP's
    proven optimum, and its bound is no more than that optimum."""
    p = budget_problem(seed)
    try:
        mip = allocate_fleet(p, ModelParams(time_limit=10, relative_gap=0.0), method="mip")  # proven
    except InfeasibleError:
        mip = None
    lag = lagrangian_allocation(p)
    if lag is None:
        return
    docks = p.docks.copy()
    docks[p.is_new] = lag.new_docks
    assert p.violations(lag.bikes, docks) == []
    assert mip is not None and mip.stats.status == "optimal"
    assert lag.objective == pytest.approx(10 * np.abs(lag.bikes - p.desired).sum() + lag.new_docks.sum())
    assert lag.bound <= mip.stats.objective + 1e-6 <= lag.objective + 2e-6


def test_a_budget_that_binds_is_met_by_the_lagrangian_method_with_a_tight_bound() -> None:
    """The hand-made problem with new stations wanting 15 bikes each (13 docks each) and room
    for 22 docks: the budget binds, the method returns the MIP's optimum and the planner keeps it."""
    p = fleet_problem(desired=np.array([10.0, 10, 10, 15, 15]), dock_budget=(22 * 1_500_000.0, 1_500_000.0))
    lag = lagrangian_allocation(p)
    mip = allocate_fleet(p, ModelParams(time_limit=10), method="mip")
    assert lag is not None and lag.objective == pytest.approx(mip.stats.objective)
    assert lag.bound <= lag.objective and lag.multiplier > 0
    r = allocate_fleet(p, ModelParams(time_limit=10))
    assert r.stats.solver == "lagrangian" and r.stats.gap is not None and r.stats.gap <= 0.005
    assert p.violations(r.bikes, r.docks) == [] and r.docks[p.is_new].sum() <= 22
    assert lagrangian_allocation(fleet_problem()) is None  # no budget: the MIP's problem alone


def test_violations_name_each_broken_rule() -> None:
    p = fleet_problem(dock_budget=(26 * 1_500_000.0, 1_500_000.0))
    bikes = np.array([10, 10, 10, 15, 15])
    docks = np.array([10, 10, 10, 13, 13])
    assert p.violations(bikes, docks) == []
    broken = p.violations(np.array([12, 12, 12, 5, 10]), np.array([10, 10, 9, 20, 13]))
    assert len(broken) == 6 and broken[0] == "fleet total: 51 bikes, expected 60"
    assert any("bikes per dock" in b for b in broken) and any("existing station" in b for b in broken)
    assert any("docks of a new station" in b for b in broken) and any("dock budget" in b for b in broken)
    assert any("district 나구" in b for b in broken)


def test_district_floor_beyond_dock_capacity_names_the_district() -> None:
    p = fleet_problem(district_min_bikes=np.array([0, 50], dtype=np.int64))  # 12 + 2 x 18 = 48 < 50
    with pytest.raises(InfeasibleError, match="district 나구") as info:
        allocate_fleet(p)
    assert "districts[나구]" in info.value.binding


def test_total_beyond_capacity_names_the_total() -> None:
    with pytest.raises(InfeasibleError, match=r"fleet\.total_bikes") as info:
        allocate_fleet(fleet_problem(total_bikes=200))
    assert "bikes_per_dock.max" in info.value.binding


def tiny_expansion(min_new: int = 0, **kw: object) -> ExpansionData:
    # 4 sites x 5 groups; sites 0 and 1 are too close to open together
    cover = sp.csr_matrix(
        np.array(
            [[1, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]],
            dtype=bool,
        )
    )
    conflicts = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=bool))
    base: dict[str, object] = {
        "cover": cover,
        "group_weight": np.array([5.0, 5.0, 6.0, 3.0, 2.0]),
        "site_bonus": np.zeros(4),
        "conflicts": conflicts,
        "site_district": np.array([0, 0, 1, 1], dtype=np.int64),
        "district_names": ["가구", "나구"],
        "district_min_new": np.array([0, min_new], dtype=np.int64),
        "min_total": 0,
        "max_total": 2,
        "required": [],
        "required_names": [],
    }
    base.update(kw)
    return ExpansionData(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ["mip", "cp-sat"])
def test_expansion_optimum_respects_conflicts(engine: str) -> None:
    r = ExpansionModel(tiny_expansion(), engine=engine).solve(ModelParams(time_limit=10))
    # best pair without {0, 1}: {1, 2} covers 5 + 6 + 3 = 14... vs {0, 2}: 10 + 3 = 13; {1, 2} wins
    assert sorted(r.sites.tolist()) == [1, 2]
    assert r.objective == 14
    assert r.stats.status == "optimal"


def test_expansion_district_rule_forces_sites() -> None:
    r = ExpansionModel(tiny_expansion(min_new=2)).solve(ModelParams(time_limit=10))
    assert sorted(r.sites.tolist()) == [2, 3]


@pytest.mark.parametrize("engine", ["mip", "cp-sat"])
def test_penalties_skip_sites_unless_a_rule_needs_them(engine: str) -> None:
    # every site costs 50 (e.g. predicted imbalance x its weight), more than any site covers
    penalised = tiny_expansion(site_bonus=np.full(4, -50.0))
    r = ExpansionModel(penalised, engine=engine).solve(ModelParams(time_limit=10))
    assert r.sites.tolist() == [] and r.objective == 0 and len(r.greedy_sites) == 0
    # ... but a district minimum still opens its sites, in the greedy warm start too
    forced = tiny_expansion(min_new=2, site_bonus=np.full(4, -50.0))
    r = ExpansionModel(forced, engine=engine).solve(ModelParams(time_limit=10))
    assert sorted(r.sites.tolist()) == [2, 3] and sorted(r.greedy_sites.tolist()) == [2, 3]
    assert r.objective == pytest.approx(3 + 2 - 100)


def test_infeasible_district_rule_is_named() -> None:
    with pytest.raises(InfeasibleError) as info:
        ExpansionModel(tiny_expansion(min_new=3, max_total=3)).solve(ModelParams(time_limit=10))
    assert any("나구" in b for b in info.value.binding)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 3), with_bonus=st.booleans())
def test_expansion_matches_brute_force(seed: int, k: int, with_bonus: bool) -> None:
    rng = np.random.default_rng(seed)
    n_sites, n_groups = 6, 8
    cover = sp.csr_matrix(rng.random((n_sites, n_groups)) < 0.3)
    xy = rng.uniform(0, 500, size=(n_sites, 2))
    conflicts = conflict_pairs(xy[:, 0], xy[:, 1], 150.0)
    w = rng.integers(1, 20, size=n_groups).astype(float)
    # bonuses (predicted trips) and penalties (predicted imbalance) per site
    bonus = rng.integers(-12, 13, size=n_sites).astype(float) if with_bonus else np.zeros(n_sites)
    data = tiny_expansion(
        cover=cover,
        group_weight=w,
        site_bonus=bonus,
        conflicts=conflicts,
        site_district=np.zeros(n_sites, dtype=np.int64),
        district_min_new=np.array([0, 0], dtype=np.int64),
        max_total=k,
    )
    dense, conf = cover.toarray(), conflicts.toarray()

    def value_of(sites: list[int]) -> float:
        return float(w[dense[sites].any(axis=0)].sum() + bonus[sites].sum()) if sites else 0.0

    best = 0.0
    for r in range(k + 1):
        for combo in itertools.combinations(range(n_sites), r):
            if any(conf[a, b] for a, b in itertools.combinations(combo, 2)):
                continue
            best = max(best, value_of(list(combo)))
    res = ExpansionModel(data).solve(ModelParams(time_limit=10))
    assert res.objective == pytest.approx(best)
    chosen = res.sites.tolist()
    assert not any(conf[a, b] for a, b in itertools.combinations(chosen, 2))
    assert res.objective >= value_of(res.greedy_sites.tolist()) - 1e-9


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), spacing=st.floats(10, 200))
def test_thinning_keeps_points_apart(seed: int, spacing: float) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 1000, 300), rng.uniform(0, 1000, 300)
    kept = thin_to_spacing(x, y, spacing, rng.random(300))
    assert len(kept) > 0
    d = np.hypot(x[kept, None] - x[None, kept], y[kept, None] - y[None, kept])
    np.fill_diagonal(d, np.inf)
    assert d.min() >= spacing
    # every dropped point has a kept one within the spacing (maximality)
    dropped = np.setdiff1d(np.arange(300), kept)
    dd = np.hypot(x[dropped, None] - x[None, kept], y[dropped, None] - y[None, kept])
    assert np.all(dd.min(axis=1) < spacing)
    cells = thin_to_grid(x, y, spacing)
    keys = {
        (int(np.floor(a / spacing)), int(np.floor(b / spacing)))
        for a, b in zip(x[cells], y[cells], strict=True)
    }
    assert len(keys) == len(cells)  # one point per occupied square
    all_keys = {(int(np.floor(a / spacing)), int(np.floor(b / spacing))) for a, b in zip(x, y, strict=True)}
    assert keys == all_keys


def budget_rule(total: float, station: float, dock: float = 0.0, docks_min: int = 0) -> BudgetRule:
    """A budget over the two districts of :func:`tiny_expansion`, with no dock floors."""
    none = np.array([0, 0], dtype=np.int64)
    return BudgetRule(total, station, dock, docks_min, district_docks=none, total_docks=0)


@pytest.mark.parametrize("engine", ["mip", "cp-sat"])
def test_budget_limits_sites_and_greedy_respects_it(engine: str) -> None:
    # 100 per station + 10 per dock, 5 docks minimum each: 150 per station -> one station for 200
    budget = budget_rule(200.0, 100.0, dock=10.0, docks_min=5)
    model = ExpansionModel(tiny_expansion(budget=budget), engine=engine)
    r = model.solve(ModelParams(time_limit=10))
    assert len(r.sites) == 1
    assert r.objective == 11  # the best single site: site 1 covers 5 + 6
    assert model.is_feasible(r.greedy_sites)


@pytest.mark.parametrize("engine", ["mip", "cp-sat"])
def test_a_budget_that_is_not_whole_thousands_is_the_same_budget_in_both_engines(engine: str) -> None:
    """1,400 a station and 3,000 in all buy two stations. CP-SAT counted in thousands, rounded to
    the safe side (2 a station, 3 in all): it searched one station only, kept the greedy pair
    (17) and called it optimal; the best pair covers 22."""
    budget = budget_rule(3000.0, 1400.0)
    # site 0 covers the most (12), so greedy opens it first; sites 1 and 2 together cover all four
    data = tiny_expansion(
        budget=budget,
        cover=sp.csr_matrix(np.array([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool)),
        group_weight=np.array([5.0, 6.0, 6.0, 5.0]),
        site_bonus=np.zeros(3),
        conflicts=sp.csr_matrix((3, 3), dtype=bool),
        site_district=np.array([0, 0, 1], dtype=np.int64),
        max_total=3,
    )
    r = ExpansionModel(data, engine=engine).solve(ModelParams(time_limit=10))
    assert sorted(r.sites.tolist()) == [1, 2] and r.objective == 22
    assert r.stats.status == "optimal"


@pytest.mark.parametrize(
    ("costs", "row"),
    [
        ((5_000_000.0, 500_000.0, 3_000_000_000.0), (5000, 500, 3_000_000)),  # whole thousands
        ((1400.0, 0.0, 3000.0), (1400, 0, 3000)),
        ((0.5, 0.25, 10.0), (500, 250, 10000)),
        ((1.0004, 0.0, 10.0), (1001, 0, 10000)),  # finer than 0.001: cost up, budget down
    ],
)
def test_integer_budget_row(costs: tuple[float, float, float], row: tuple[int, int, int]) -> None:
    from mobility.placement.models import integer_budget_row

    assert integer_budget_row(*costs) == row


def test_same_seed_same_sites() -> None:
    a = ExpansionModel(tiny_expansion()).solve(ModelParams(time_limit=10, seed=3))
    b = ExpansionModel(tiny_expansion()).solve(ModelParams(time_limit=10, seed=3))
    assert a.sites.tolist() == b.sites.tolist()


def test_required_area_forces_a_site() -> None:
    data = tiny_expansion(required=[np.array([3], dtype=np.int64)], required_names=["시청 앞"])
    r = ExpansionModel(data).solve(ModelParams(time_limit=10))
    assert sorted(r.sites.tolist()) == [1, 3]  # 11 + 2 = 13 instead of the free optimum 14


def test_required_area_without_candidates_is_named() -> None:
    data = tiny_expansion(required=[np.zeros(0, dtype=np.int64)], required_names=["한강 위"])
    with pytest.raises(InfeasibleError) as info:
        ExpansionModel(data).solve(ModelParams(time_limit=10))
    assert any("areas.required[0]" in b and "한강 위" in b for b in info.value.binding)


def test_a_greedy_fallback_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """The MIP ends without a solution (a time limit before any incumbent): the greedy sites are
    the result, called feasible (not a time limit), with the fallback and its reason."""
    real = models._mathopt_solve

    def no_solution(*args: Any, **kwargs: Any) -> models.MipSolve:
        return replace(real(*args, **kwargs), status="no_solution")

    monkeypatch.setattr(models, "_mathopt_solve", no_solution)
    r = ExpansionModel(tiny_expansion()).solve(ModelParams(time_limit=1, backend="HIGHS"))
    s = r.stats
    assert sorted(r.sites.tolist()) == sorted(r.greedy_sites.tolist())
    assert s.status == "feasible" and s.bound is None and s.gap is None
    assert s.extra["mip_status"] == "no_solution" and s.extra["fallback"] == "greedy"
    assert "ended without a solution (status no_solution, time limit 1 s)" in s.extra["note"]


def _knapsack(n: int = 150, rows: int = 15) -> mathopt.Model:
    """A multi-dimensional 0-1 knapsack that HiGHS does not close at its root node."""
    rng = np.random.default_rng(3)
    m = mathopt.Model(name="knapsack")
    x = [m.add_binary_variable() for _ in range(n)]
    for _ in range(rows):
        w = rng.integers(10, 100, n)
        m.add_linear_constraint(mathopt.fast_sum(int(w[i]) * x[i] for i in range(n)) <= int(w.sum() // 3))
    v = rng.integers(10, 100, n)
    m.maximize(mathopt.fast_sum(int(v[i]) * x[i] for i in range(n)))
    return m


@pytest.mark.parametrize("backend", ["HIGHS", "SCIP"])
def test_the_mip_keeps_its_incumbent_and_dual_bound_at_the_time_limit(backend: str) -> None:
    """Stopped by its time limit, the MIP still has a solution and a dual bound above it; HiGHS
    through ``pywraplp`` (OR-Tools 9.15) reported code 99, no solution, and the greedy sites
    replaced its incumbent."""
    solved = models._mathopt_solve(
        _knapsack(), backend, ModelParams(time_limit=0.5, relative_gap=0.0), None, {}
    )
    assert solved.status == "feasible"
    assert solved.result.has_primal_feasible_solution()
    assert solved.bound is not None and solved.bound > solved.result.objective_value() > 0


def test_the_relative_gap_is_applied_and_the_bound_is_the_solvers() -> None:
    """A 20 % gap stops HiGHS early, below the optimum, and the bound is HiGHS's dual bound: through
    ``pywraplp`` the gap was not passed and the bound read back was the objective itself."""
    model = _knapsack(n=60, rows=8)
    exact = models._mathopt_solve(model, "HIGHS", ModelParams(time_limit=30, relative_gap=0.0), None, {})
    loose = models._mathopt_solve(model, "HIGHS", ModelParams(time_limit=30, relative_gap=0.2), None, {})
    assert exact.status == loose.status == "optimal"
    optimum = exact.result.objective_value()
    assert exact.bound == pytest.approx(optimum)
    assert loose.bound is not None
    assert loose.result.objective_value() < optimum <= loose.bound + 1e-6
    assert loose.bound <= loose.result.objective_value() * 1.2 + 1e-6


def test_the_expansion_model_refuses_a_backend_mathopt_lacks() -> None:
    with pytest.raises(InputError, match=r"solver\.backend"):
        ExpansionModel(tiny_expansion()).solve(ModelParams(time_limit=1, backend="CBC"))


@pytest.mark.parametrize("backend", ["HIGHS", "SCIP"])
def test_solver_logs_never_reach_stdout(backend: str, capfd: pytest.CaptureFixture[str]) -> None:
    """HiGHS prints its banner on file descriptor 1 whatever OR-Tools is told: stdout is only the
    command's output, so every MIP solve (expansion, p-median, fleet) sends it to stderr."""
    params = ModelParams(time_limit=10, backend=backend)
    print("before")
    ExpansionModel(tiny_expansion()).solve(params)
    rng = np.random.default_rng(0)
    cost = np.linalg.norm(rng.random((30, 1, 2)) - rng.random((1, 30, 2)), axis=2)
    PMedian.from_cost_matrix(cost, p=4).solve(params)
    allocate_fleet(fleet_problem(), params, method="mip")
    print("after")
    out, err = capfd.readouterr()
    assert out == "before\nafter\n"
    # one per pywraplp solve (p-median, fleet); the expansion model's MathOpt solve prints nothing
    assert err.count("Running HiGHS") == (2 if backend == "HIGHS" else 0)


@pytest.mark.parametrize(("backend", "threads"), [("HIGHS", 2), ("HIGHS", 1), ("SCIP", 2)])
def test_settings_the_engine_does_not_apply_are_said(backend: str, threads: int) -> None:
    """MathOpt takes no thread count for HiGHS: the siting's stats say so when more than one was
    asked for (and the plan's notes carry it), rather than the scenario's value seeming to apply."""
    params = ModelParams(time_limit=10, backend=backend, relative_gap=0.01, threads=threads)
    note = ExpansionModel(tiny_expansion()).solve(params).stats.extra.get("settings_note")
    if backend == "HIGHS" and threads > 1:
        assert note == models.HIGHS_SETTINGS_NOTE.format(threads=threads)
    else:
        assert note is None
