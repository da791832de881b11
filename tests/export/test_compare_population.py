"""Bikes per 10,000 residents divide out from the population printed beside them.

The current network's layers count residents as a default plan does (the 100 m grid by gu), and a
comparison counts both sides on one population, the plan's own (its ``population_source``): the
``population`` column of the comparison table is the denominator of both ``bikes_per_10k_before``
and ``bikes_per_10k_after`` in every row, the Seoul row included.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mobility.export.compare import SEOUL, compare_table, comparison_layers
from mobility.export.layers import DEFAULT_FLEET, MapLayers, layers_from_plan
from mobility.placement.plan import Plan, per_10k
from mobility.sources.population import GRID_YEAR, gu_population

GRID_TOTAL = 9_056_360
REGISTERED_2025Q2_TOTAL = 9_595_509


def test_the_current_network_counts_bikes_per_grid_resident(
    current_layers: MapLayers, data_dir: Path
) -> None:
    grid = gu_population("grid", GRID_YEAR, data_dir=data_dir)
    d = current_layers.districts.set_index("gu_kr")
    assert {g: d.at[g, "population"] for g in grid.index} == {g: float(v) for g, v in grid.items()}
    for gu, row in d.iterrows():
        assert row["bikes_per_10k"] == per_10k(row["bikes"], row["population"]), gu
    city = current_layers.meta["citywide"]
    assert city["population"] == GRID_TOTAL and city["bikes"] == DEFAULT_FLEET
    # 45,000 bikes over the grid's residents: what a plan on the 2025-12 network prints (not 46.9)
    assert city["bikes_per_10k"] == per_10k(DEFAULT_FLEET, GRID_TOTAL) == 49.689
    assert current_layers.meta["population_source"] == "grid"


def _plan_on(plan_doc: dict[str, Any], source: str, data_dir: Path) -> Plan:
    """The synthetic plan with its districts counted per the residents of ``source`` (as the
    planner writes a plan with ``population.source: <source>``)."""
    doc = copy.deepcopy(plan_doc)
    pop = gu_population(source, GRID_YEAR if source == "grid" else 2025, data_dir=data_dir)  # type: ignore[arg-type]
    for d in doc["districts"]:
        d["population"] = float(pop[d["gu"]])
        d["bikes_per_10k"] = per_10k(d["bikes"], d["population"])
    total = float(pop.sum())
    doc |= {"population_source": source, "population_total": total}
    for key in ("city_before", "city_after"):
        c = doc[key]
        c["population"] = total
        c["bikes_per_10k"] = per_10k(c["bikes"], total)
    return Plan.from_dict(doc)


def _assert_divides_out(table: Any) -> None:
    for _, row in table.iterrows():
        for side in ("before", "after"):
            want = per_10k(row[f"bikes_{side}"], row["population"])
            assert row[f"bikes_per_10k_{side}"] == pytest.approx(want, abs=1e-9), (row["gu_kr"], side)


@pytest.mark.parametrize(("source", "total"), [("grid", GRID_TOTAL), ("registered", REGISTERED_2025Q2_TOTAL)])
def test_a_comparison_counts_both_sides_on_the_plans_population(
    current_layers: MapLayers, plan_doc: dict[str, Any], data_dir: Path, source: str, total: int
) -> None:
    plan = layers_from_plan(_plan_on(plan_doc, source, data_dir), data_dir, with_water=False)
    for before, after in ((current_layers, plan), (plan, current_layers)):  # either way round
        table = compare_table(before, after)
        _assert_divides_out(table)
        seoul = table.iloc[-1]
        assert seoul["gu_kr"] == SEOUL and seoul["population"] == total
        current_side = "before" if before is current_layers else "after"
        assert seoul[f"bikes_{current_side}"] == DEFAULT_FLEET
        assert seoul[f"bikes_per_10k_{current_side}"] == per_10k(DEFAULT_FLEET, total)
        # the map's district layer and its citywide figures too
        layers = comparison_layers(before, after)
        d = layers.districts
        for _, row in d.iterrows():
            assert row["bikes_per_10k_before"] == pytest.approx(
                per_10k(row["bikes_before"], row["population"])
            )
        assert layers.meta["citywide_before"]["population"] == total
    # the current network's own layers are not changed by a comparison
    assert current_layers.meta["citywide"]["population"] == GRID_TOTAL
