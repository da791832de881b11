"""Expansion scenario schema: shipped files load, bad fields are named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mobility.errors import InputError
from mobility.scenario.expansion import ExpansionScenario, load_scenario, scenario_from_dict

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def minimal() -> dict[str, Any]:
    return {
        "name": "t",
        "baseline": {"stations": "2019-12"},
        "fleet": {"total_bikes": 30000},
        "new_stations": {"max": 100},
    }


def test_minimal_scenario_gets_defaults() -> None:
    sc = scenario_from_dict(minimal())
    assert sc.coverage.radius_m == 300
    assert sc.max_new_stations() == 100


@pytest.mark.parametrize(
    "name", ["seoul-2019-30k.yaml", "seoul-2025.yaml", "seoul-equity-whatif.yaml", "seoul-2019-budget.yaml"]
)
def test_shipped_scenarios_load(name: str) -> None:
    sc = load_scenario(SCENARIOS / name)
    assert isinstance(sc, ExpansionScenario)
    assert sc.max_new_stations() > 0


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"docks": {"min": 20, "max": 10}}, "docks"),
        ({"coverage": {"radius_m": -5}}, "coverage.radius_m"),
        ({"fleet": {}}, "fleet"),
        ({"bikes_per_dock": {"min": 2, "max": 1}}, "bikes_per_dock"),
        ({"spacing": {"min_m": "far"}}, "spacing.min_m"),
        ({"colour": "red"}, "colour"),
        (
            {"areas": {"forbidden": [{"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}]}},
            "areas.forbidden.0",
        ),
        ({"new_stations": {"exact": 3, "max": 4}}, "new_stations"),
    ],
)
def test_invalid_field_is_named(patch: dict[str, Any], field: str) -> None:
    data = minimal() | patch
    with pytest.raises(InputError) as info:
        scenario_from_dict(data)
    assert info.value.field.startswith(field)


def test_no_limit_on_new_stations_is_rejected() -> None:
    data = minimal()
    del data["new_stations"]
    with pytest.raises(InputError, match="new_stations"):
        scenario_from_dict(data)


def test_budget_limits_the_count() -> None:
    data = minimal() | {"budget": {"total": 1_000_000, "cost_per_station": 50_000, "cost_per_dock": 2_500}}
    sc = scenario_from_dict(data)
    # 50,000 + 10 docks x 2,500 = 75,000 per station -> 13 stations, under the max of 100
    assert sc.max_new_stations() == 13


def test_yaml_errors_are_input_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("name: [unclosed\n")
    with pytest.raises(InputError, match="YAML"):
        load_scenario(f)
    with pytest.raises(InputError, match="scenario"):
        load_scenario(tmp_path / "missing.yaml")
