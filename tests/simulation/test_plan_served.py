"""Trips served in the expansion plan: the document fields, the defaults and the map summary."""

from __future__ import annotations

from typing import Any

import pytest

from mobility.errors import InputError
from mobility.export.layers import served_summary
from mobility.placement.plan import CityKPI, DistrictKPI, plan_json_schema
from mobility.scenario.expansion import scenario_from_dict
from mobility.simulation.plans import default_day


def test_plan_schema_has_typed_served_share_fields() -> None:
    schema = plan_json_schema()
    defs = schema["$defs"]
    assert "simulation" in schema["properties"]
    assert {"day", "replications", "seed", "before", "after"} <= set(defs["PlanSimulation"]["properties"])
    assert {"figures", "fleet", "start_inventory", "stations"} <= set(defs["SimulatedNetwork"]["properties"])
    for name in ("served_share", "trips_served", "trips_demanded", "lost_empty", "full_arrivals"):
        assert name in defs["Figures"]["properties"]
    assert "served_share" in defs["CityKPI"]["properties"]
    assert {"served_share_before", "served_share"} <= set(defs["DistrictKPI"]["properties"])
    assert set(defs["Estimate"]["properties"]) == {"mean", "low", "high"}


def test_a_plan_without_simulation_still_reads() -> None:
    city = {"stations": 1, "docks": 10, "bikes": 5, "population": 1.0, "bikes_per_10k": 1.0,
            "covered_population": 0.5, "covered_share": 0.5}  # fmt: skip
    assert CityKPI.model_validate(city).served_share is None
    with_sim = CityKPI.model_validate(city | {"served_share": {"mean": 0.9, "low": 0.88, "high": 0.91}})
    assert with_sim.served_share is not None and with_sim.served_share.low == 0.88
    d = {"gu": "마포구", "population": 1.0, "stations_before": 1, "stations": 2, "docks": 20,
         "bikes": 10, "bikes_per_10k": 1.0, "min_bikes_per_10k": None, "covered_share_before": 0.1,
         "covered_share": 0.2}  # fmt: skip
    assert DistrictKPI.model_validate(d).served_share_before is None


def test_default_day_is_a_june_wednesday_of_the_baseline_year() -> None:
    assert default_day("2019-12") == "2019-06-12"
    assert default_day("2025-12") == "2025-06-11"
    assert default_day("stations.csv") == "2023-06-14"


def _scenario(**simulation: Any) -> dict[str, Any]:
    return {"name": "t", "baseline": {"stations": "2019-12"}, "fleet": {"total_bikes": 100},
            "new_stations": {"max": 1}, "simulation": simulation}  # fmt: skip


def test_scenario_simulation_settings_are_validated() -> None:
    sc = scenario_from_dict(_scenario(day="2019-06-12", replications=5))
    assert sc.simulation.enabled and sc.simulation.replications == 5
    with pytest.raises(InputError, match=r"simulation\.day"):
        scenario_from_dict(_scenario(day="2031-01-01"))
    with pytest.raises(InputError, match=r"simulation\.replications"):
        scenario_from_dict(_scenario(replications=0))


def test_map_summary_shows_served_share_with_its_interval() -> None:
    meta = {
        "citywide": {"served_share": 0.99, "served_share_low": 0.985, "served_share_high": 0.992},
        "citywide_before": {"served_share": 0.884},
    }
    text = served_summary(meta)
    assert "99.0%" in text and "98.5–99.2" in text and "88.4%" in text
    assert served_summary({"citywide": {"coverage_share": 0.5}}) == ""
