"""Each KPI row of a plan divides out: bikes per 10,000 over ``population`` (the population source),
covered shares over ``grid_population`` (the 100 m grid the walking coverage is counted on).

Two small plans on the 2025-12 network (3 new stations, 45,000 bikes, no district floors, no
demand model), one per population source, on the same inputs: about 15 s for both.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mobility.placement.baseline import district_population
from mobility.placement.pipeline import (
    ExpansionInputs,
    build_inputs,
    plan_expansion,
)
from mobility.placement.plan import CityKPI, Plan, per_10k, plan_json_schema
from mobility.scenario.expansion import ExpansionScenario, load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
GRID_TOTAL = 9_056_360
REGISTERED_2025Q2_TOTAL = 9_595_509


def _small(population: dict[str, Any]) -> ExpansionScenario:
    sc = load_scenario(SCENARIOS / "seoul-2025.yaml")
    return ExpansionScenario.model_validate(
        {
            **sc.model_dump(mode="json"),
            "population": population,
            "new_stations": {"max": 3},
            "districts": {},
            "objective": {"population_covered": 1.0},
        }
    )


GRID = _small({"source": "grid"})
REGISTERED = _small({"source": "registered", "year": 2025, "quarter": 2})


@pytest.fixture(scope="module")
def inputs(data_dir: Path) -> ExpansionInputs:
    """The grid plan's inputs (the walking network and coverage are read once for both plans)."""
    return build_inputs(GRID, data_dir=data_dir)


@pytest.fixture(scope="module")
def grid_plan(inputs: ExpansionInputs) -> Plan:
    plan, _ = plan_expansion(GRID, inputs=inputs, time_limit=20, simulate=False)
    return plan


@pytest.fixture(scope="module")
def registered_plan(inputs: ExpansionInputs, data_dir: Path) -> Plan:
    # build_inputs for REGISTERED differs only in the residents per gu it reads (the same call)
    population, _ = district_population(REGISTERED, data_dir)
    registered = replace(inputs, district_population=population)
    plan, _ = plan_expansion(REGISTERED, inputs=registered, time_limit=20, simulate=False)
    return plan


def _city_divides_out(c: CityKPI, population: float) -> None:
    assert c.population == population
    assert c.grid_population == GRID_TOTAL
    assert c.bikes is not None and c.bikes_per_10k == per_10k(c.bikes, c.population)
    assert c.covered_share == round(c.covered_population / c.grid_population, 5)


def test_a_registered_plan_divides_each_figure_by_the_population_it_was_counted_on(
    registered_plan: Plan,
) -> None:
    plan = registered_plan
    assert plan.population_source == "registered" and plan.population_total == REGISTERED_2025Q2_TOTAL
    for c in (plan.city_before, plan.city_after):
        _city_divides_out(c, REGISTERED_2025Q2_TOTAL)
    # the review's numbers: the share is of the grid's residents, not of the registered 9,595,509
    assert plan.city_after.covered_share != pytest.approx(
        plan.city_after.covered_population / plan.city_after.population, abs=1e-3
    )
    assert math.fsum(d.population for d in plan.districts) == REGISTERED_2025Q2_TOTAL
    assert math.fsum(d.grid_population or 0.0 for d in plan.districts) == GRID_TOTAL
    for d in plan.districts:
        assert d.bikes_per_10k == per_10k(d.bikes, d.population), d.gu
        assert d.grid_population is not None and 0 < d.grid_population != d.population, d.gu
    # the document says so, and reads back
    assert Plan.from_dict(plan.to_dict()) == plan
    defs = plan_json_schema()["$defs"]
    for model in ("CityKPI", "DistrictKPI"):
        props = defs[model]["properties"]
        assert "grid_population" in props["covered_share"]["description"], model
        assert "population_source" in props["population"]["description"], model


def test_a_grid_plan_has_one_population_and_the_current_networks_figures(
    grid_plan: Plan, registered_plan: Plan, data_dir: Path
) -> None:
    plan = grid_plan
    for c in (plan.city_before, plan.city_after):
        _city_divides_out(c, GRID_TOTAL)
    for d in plan.districts:
        assert d.grid_population == d.population, d.gu
    # the same stations and coverage whatever population divides the bikes
    assert plan.city_before.covered_share == registered_plan.city_before.covered_share
    assert [d.covered_share for d in plan.districts] == [d.covered_share for d in registered_plan.districts]
    # the current network (the same 2,799 stations and 45,000 bikes) reads as the plan's baseline
    from mobility.export.compare import SEOUL, compare_table
    from mobility.export.layers import layers_from_network, layers_from_plan

    current = layers_from_network(data_dir, with_water=False)
    city = current.meta["citywide"]
    assert (city["stations"], city["bikes"], city["population"]) == (
        plan.city_before.stations,
        plan.city_before.bikes,
        plan.city_before.population,
    )
    assert city["bikes_per_10k"] == plan.city_before.bikes_per_10k == 49.689
    for p, want in ((plan, 49.689), (registered_plan, 46.897)):
        table = compare_table(current, layers_from_plan(p, data_dir, with_water=False))
        seoul = table.iloc[-1]
        assert seoul["gu_kr"] == SEOUL and seoul["population"] == p.population_total
        assert seoul["bikes_per_10k_before"] == p.city_before.bikes_per_10k == want
        for _, row in table.iterrows():
            for side in ("before", "after"):
                assert row[f"bikes_per_10k_{side}"] == per_10k(row[f"bikes_{side}"], row["population"])


def test_the_validator_checks_a_registered_plan_s_share_against_the_grid(registered_plan: Plan) -> None:
    """The independent check read a registered plan's shares unchecked (no grid denominator);
    it now holds them to covered_population / grid_population."""
    from mobility.placement.validate import validate_plan

    assert validate_plan(registered_plan, REGISTERED).of("document.covered_share") == []
    doc = registered_plan.to_dict()
    city = doc["city_after"]
    city["covered_share"] = round(city["covered_population"] / city["population"], 5)  # the old figure
    found = validate_plan(doc, REGISTERED).of("document.covered_share")
    assert {v.subject for v in found} == {"city_after"}
    assert any("covered_population / grid_population" in v.detail for v in found)
