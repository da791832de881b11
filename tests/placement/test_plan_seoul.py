"""The 2019 scenario on the real Seoul data (slow): every promise of the Plan checked independently."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from mobility.errors import InfeasibleError
from mobility.network.street import to_metric
from mobility.placement.pipeline import (
    STAGE_SHARES,
    ExpansionInputs,
    build_expansion_data,
    build_inputs,
    plan_expansion,
)
from mobility.placement.plan import NewStation, Plan, StationAllocation
from mobility.scenario.expansion import ExpansionScenario, load_scenario
from tests.progress_support import Heard

pytestmark = pytest.mark.slow

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "seoul-2019-30k.yaml"


@pytest.fixture(scope="module")
def scenario() -> ExpansionScenario:
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def inputs(scenario: ExpansionScenario, data_dir: Path) -> ExpansionInputs:
    return build_inputs(scenario, data_dir=data_dir)


@pytest.fixture(scope="module")
def heard() -> Heard:
    """The plan's progress, as the CLI and the API are told it."""
    return Heard()


@pytest.fixture(scope="module")
def plan(scenario: ExpansionScenario, inputs: ExpansionInputs, data_dir: Path, heard: Heard) -> Plan:
    p, _ = plan_expansion(scenario, data_dir=data_dir, inputs=inputs, time_limit=90, progress=heard)
    return p


def test_progress_moves_by_stage_and_through_the_simulation(plan: Plan, heard: Heard) -> None:
    """The API's plan job sat at 95 % through the rider simulation: its progress counted messages.
    Each stage now says its share of the run, and the simulation moves the bar up to the end."""
    shares = heard.known()
    assert shares == sorted(shares) and shares[0] == STAGE_SHARES[True]["siting"] and shares[-1] == 1.0
    stages = {STAGE_SHARES[True][k] for k in ("fleet", "figures", "simulation")}
    assert stages <= set(shares), (stages, shares)
    simulating = [
        d for m, d in zip(heard.messages, heard.shares, strict=True) if m.startswith(("before:", "after:"))
    ]
    start = STAGE_SHARES[True]["simulation"]
    assert any(d is not None and start < d < 1.0 for d in simulating), heard.messages


def _all_stations(plan: Plan) -> list[NewStation | StationAllocation]:
    """The new stations, then the existing ones."""
    return [*plan.new_stations, *plan.existing_stations]


def test_fleet_total_and_dock_bounds(plan: Plan, scenario: ExpansionScenario) -> None:
    assert plan.total_bikes == 30_000
    assert plan.city_after.bikes == 30_000
    lo, hi = scenario.bikes_per_dock.min, scenario.bikes_per_dock.max
    for s in _all_stations(plan):
        assert math.ceil(lo * s.docks - 1e-9) <= s.bikes <= math.floor(hi * s.docks + 1e-9)
    for s in plan.new_stations:
        assert scenario.docks.min <= s.docks <= scenario.docks.max
    assert 0 < len(plan.new_stations) <= 600


def test_district_ratios_hold(plan: Plan, inputs: ExpansionInputs) -> None:
    assert len(plan.districts) == 25
    by_gu: dict[str, int] = {}
    for s in _all_stations(plan):
        by_gu[s.gu] = by_gu.get(s.gu, 0) + s.bikes
    for d in plan.districts:
        pop = float(inputs.district_population[d.gu])
        assert by_gu[d.gu] == d.bikes
        assert d.bikes / pop * 1e4 >= 25.0 - 1e-9, d
    assert plan.city_after.bikes_per_10k is not None and plan.city_after.bikes_per_10k >= 33.0


def test_spacing_and_forbidden_areas(plan: Plan, scenario: ExpansionScenario) -> None:
    nx_, ny_ = to_metric(
        np.array([s.lon for s in plan.new_stations]), np.array([s.lat for s in plan.new_stations])
    )
    ex, ey = to_metric(
        np.array([s.lon for s in plan.existing_stations]), np.array([s.lat for s in plan.existing_stations])
    )
    new_xy = np.column_stack([nx_, ny_])
    pairs = cKDTree(new_xy).query_pairs(r=scenario.spacing.min_m - 1e-6)
    assert not pairs
    d_exist, _ = cKDTree(np.column_stack([ex, ey])).query(new_xy)
    assert d_exist.min() >= scenario.spacing.min_m - 1e-6
    for poly in scenario.areas.forbidden:
        shape = shapely.Polygon(poly.coordinates[0])
        inside = shapely.contains_xy(
            shape, [s.lon for s in plan.new_stations], [s.lat for s in plan.new_stations]
        )
        assert not np.any(inside)


def test_coverage_recomputed_independently(plan: Plan, inputs: ExpansionInputs) -> None:
    """Multi-source Dijkstra from every station of the plan (another code path than the model's)."""
    every: list[NewStation | StationAllocation] = [*plan.existing_stations, *plan.new_stations]
    lon = np.array([s.lon for s in every])
    lat = np.array([s.lat for s in every])
    x, y = to_metric(lon, lat)
    tree = cKDTree(np.column_stack([inputs.node_x, inputs.node_y]))
    s_snap, s_node = tree.query(np.column_stack([x, y]))
    p_snap, p_node = tree.query(np.column_stack([inputs.demand.x, inputs.demand.y]))
    radius = plan.radius_m
    # a virtual super-source: one Dijkstra per distinct snap offset bucket would be exact; instead
    # run a bounded Dijkstra from every station node and take, per node, min(snap + distance)
    best = np.full(inputs.graph.shape[0], np.inf)
    for start in range(0, len(s_node), 400):
        nodes = s_node[start : start + 400]
        dist = dijkstra(inputs.graph, directed=False, indices=nodes, limit=radius)
        best = np.minimum(best, (dist + s_snap[start : start + 400, None]).min(axis=0))
    covered = best[p_node] + p_snap <= radius + 1e-6
    pop = inputs.demand.population
    share = float(pop[covered].sum() / pop.sum())
    assert share == pytest.approx(plan.city_after.covered_share, abs=2e-3)
    assert plan.city_after.covered_share > plan.city_before.covered_share + 0.2
    # per-district shares too
    for d in plan.districts:
        m = inputs.demand.gu == d.gu
        assert float(pop[m & covered].sum() / pop[m].sum()) == pytest.approx(d.covered_share, abs=5e-3)


def test_solver_beats_greedy_and_reports_a_bound(plan: Plan) -> None:
    s = plan.siting_stats
    assert s.bound is not None and s.bound >= s.objective
    assert plan.greedy_covered_population is not None
    assert plan.city_after.covered_population >= plan.greedy_covered_population
    assert plan.provenance.seed == 0
    assert "stations" in plan.provenance.datasets
    assert Plan.from_dict(plan.to_dict()) == plan


def test_trips_served_before_and_after_the_plan(plan: Plan) -> None:
    """The simulator's served share sits next to coverage, with intervals (mobility.simulation.plans)."""
    sim = plan.simulation
    assert sim is not None and sim.day == "2019-06-12" and sim.replications == 10
    assert sim.after.fleet == 30_000 and sim.after.stations == 2140
    assert sim.before.stations == 1540 and "derived snapshot" in sim.before.start_inventory
    for net in (sim.before.figures, sim.after.figures):
        e = net.served_share
        assert 0.5 < e.low <= e.mean <= e.high <= 1.0
        assert net.trips_served.mean + net.lost_empty.mean == pytest.approx(net.trips_demanded.mean)
    # the same riders (the city's demand) meet more stations and more bikes
    before, after = sim.before.figures, sim.after.figures
    assert after.trips_demanded.mean == pytest.approx(before.trips_demanded.mean, rel=0.02)
    assert after.served_share.low > before.served_share.high
    assert plan.city_before.served_share == before.served_share
    assert plan.city_after.served_share == after.served_share
    assert all(d.served_share is not None and d.served_share_before is not None for d in plan.districts)


@pytest.mark.parametrize(
    ("districts", "expect"),
    [
        ({"per_district": {"송파구": 300.0}}, "districts[송파구]"),  # more new stations than allowed
        ({"min_bikes_per_10k": 34.0}, "districts.min_bikes_per_10k"),  # floors exceed 30,000 bikes
    ],
)
def test_unreachable_district_ratio_names_the_rule(
    scenario: ExpansionScenario, inputs: ExpansionInputs, districts: dict[str, Any], expect: str
) -> None:
    bad: dict[str, Any] = scenario.model_dump()
    bad["districts"].update(districts)
    sc = ExpansionScenario.model_validate(bad)
    with pytest.raises(InfeasibleError) as info:
        build_expansion_data(sc, inputs)
    assert expect in info.value.binding


def test_same_inputs_and_seed_give_the_same_plan(
    plan: Plan, scenario: ExpansionScenario, inputs: ExpansionInputs, data_dir: Path
) -> None:
    again, _ = plan_expansion(scenario, data_dir=data_dir, inputs=inputs, time_limit=90)
    assert [(s.lat, s.lon, s.docks, s.bikes) for s in again.new_stations] == [
        (s.lat, s.lon, s.docks, s.bikes) for s in plan.new_stations
    ]
    assert [s.bikes for s in again.existing_stations] == [s.bikes for s in plan.existing_stations]
    assert again.districts == plan.districts


def test_plan_is_pinned_across_the_staged_pipeline(plan: Plan) -> None:
    """The 2019 plan recorded before the planner was split into stages (same sites, same figures)."""
    import hashlib

    assert plan.siting_stats.status == "optimal"
    assert len(plan.new_stations) == 600
    assert plan.siting_stats.objective == pytest.approx(2_849_814.0)
    assert plan.city_after.covered_population == pytest.approx(5_176_969.0)
    assert plan.city_before.covered_population == pytest.approx(2_327_155.0)
    ids = ",".join(str(j) for j in sorted(s.candidate_id for s in plan.new_stations))
    assert hashlib.sha256(ids.encode()).hexdigest()[:16] == "f33fbac74b50170f"


def test_one_coverage_count_for_plans_and_maps(plan: Plan, data_dir: Path) -> None:
    """The maps' coverage function gives the plan's own ``city_before`` for the same stations, and
    the current-network map prints that function's figure (walking, not straight-line buffers)."""
    from mobility.export.layers import layers_from_network, load_current_stations
    from mobility.placement.coverage import walking_coverage

    lon = np.array([s.lon for s in plan.existing_stations])
    lat = np.array([s.lat for s in plan.existing_stations])
    walk = walking_coverage(lon, lat, radius_m=plan.radius_m, data_dir=data_dir)
    assert walk.covered_share == pytest.approx(plan.city_before.covered_share, abs=1e-5)
    assert walk.covered_population == pytest.approx(plan.city_before.covered_population, rel=1e-9)
    for d in plan.districts:
        assert walk.by_gu[d.gu] == pytest.approx(d.covered_share_before, abs=1e-5)
    current = load_current_stations(data_dir)
    now = walking_coverage(current["lon"].to_numpy(float), current["lat"].to_numpy(float), data_dir=data_dir)
    city = layers_from_network(data_dir, with_water=False).meta["citywide"]
    assert city["coverage_share"] == round(now.covered_share, 4)
    assert 0.3 < now.covered_share < 0.5  # about 40 % of residents within a 300 m walk, not 70 %
