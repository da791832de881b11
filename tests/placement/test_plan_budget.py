"""The budget scenario on the real Seoul data (slow): the money holds, and so does every rule."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mobility.placement.pipeline import plan_expansion
from mobility.placement.plan import NewStation, StationAllocation
from mobility.scenario.expansion import load_scenario

pytestmark = pytest.mark.slow

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "seoul-2019-budget.yaml"


def test_budget_plan_pays_for_its_stations_and_docks(data_dir: Path) -> None:
    sc = load_scenario(SCENARIO)
    assert sc.budget is not None
    plan, res = plan_expansion(sc, data_dir=data_dir, simulate=False)  # simulated in test_plan_seoul
    new = plan.new_stations
    spent = len(new) * sc.budget.cost_per_station + sum(s.docks for s in new) * sc.budget.cost_per_dock
    assert len(new) > 0 and spent <= sc.budget.total
    # the budget, not a count, limits the plan: one more station with the fewest docks does not fit
    assert spent + sc.budget.cost_per_station + sc.docks.min * sc.budget.cost_per_dock > sc.budget.total
    assert plan.city_after.bikes == sc.fleet.total_bikes
    for d in plan.districts:
        assert d.bikes_per_10k >= 32 - 1e-9, d.gu
    every: list[NewStation | StationAllocation] = [*new, *plan.existing_stations]
    for s in every:
        assert math.ceil(sc.bikes_per_dock.min * s.docks - 1e-9) <= s.bikes
        assert s.bikes <= math.floor(sc.bikes_per_dock.max * s.docks + 1e-9)
    # the exact model improves on the greedy warm start and states its bound
    assert res.stats.extra["backend"] == "HIGHS" and res.stats.bound is not None
    assert plan.city_after.covered_population >= (plan.greedy_covered_population or 0)
    assert plan.fleet_stats.status in ("optimal", "gap_limit", "feasible")
    # under the budget, the Lagrangian allocation within half a percent of its bound (the MIP
    # alone ends its minute about 10 % apart: bench/fleet.py)
    assert plan.fleet_stats.solver == "lagrangian"
    assert plan.fleet_stats.gap is not None and plan.fleet_stats.gap <= 0.005
    assert plan.fleet_stats.bound is not None and plan.fleet_stats.bound <= plan.fleet_stats.objective
