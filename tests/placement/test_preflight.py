"""Pre-flight feasibility (:mod:`mobility.placement.preflight`): the fleet rules on cheap data.

Tiny hand-made arrays for the edges of each check, then the real data: the shipped expansion
scenarios pass and the 2019 one with ``new_stations.max: 150`` does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import yaml

from mobility.errors import InfeasibleError, InputError
from mobility.placement.candidates import CandidateSites, DemandPoints
from mobility.placement.pipeline import ExpansionInputs, build_expansion_data
from mobility.placement.preflight import (
    PreflightInputs,
    check_scenario,
    infeasible,
    load_preflight_inputs,
    preflight,
)
from mobility.scenario.expansion import ExpansionScenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXPANSION_SCENARIOS = sorted(
    p for p in (ROOT / "scenarios").glob("*.yaml") if "fleet" in yaml.safe_load(p.read_text(encoding="utf-8"))
)


def tiny_scenario(**over: Any) -> ExpansionScenario:
    """Two districts; new stations of 5-15 docks at 0.5-1.2 bikes per dock hold 3 to 18 bikes."""
    doc: dict[str, Any] = {
        "name": "tiny",
        "baseline": {"stations": "tiny"},
        "fleet": {"total_bikes": 60},
        "new_stations": {"max": 10},
        "docks": {"min": 5, "max": 15},
        "bikes_per_dock": {"min": 0.5, "max": 1.2},
    }
    doc.update(over)
    return ExpansionScenario.model_validate(doc)


def tiny_data(total_bikes: int = 60, docks: tuple[int, ...] = (10, 10, 10)) -> PreflightInputs:
    """Three stations of 10 docks (two in 가구, one in 나구: 36 bikes at most), 10,000 residents each."""
    return PreflightInputs(
        station_docks=np.array(docks, dtype=np.int64),
        station_gu=np.array(["가구", "가구", "나구"][: len(docks)], dtype=np.str_),
        district_names=["가구", "나구"],
        district_population=np.array([10_000.0, 10_000.0]),
        total_bikes=total_bikes,
    )


def test_the_fleet_beyond_the_docks_needs_new_stations_at_the_edge() -> None:
    # 60 bikes, the docks hold 36: 24 more need 2 new stations of at most 18
    assert preflight(tiny_scenario(new_stations={"max": 2}), tiny_data()) == []
    [p] = preflight(tiny_scenario(new_stations={"max": 1}), tiny_data())
    assert (p.field, p.value) == ("new_stations.max", 1)
    assert p.problem.startswith("got 1; expected at least 2 new stations: fleet.total_bikes = 60 needs them")
    assert p.message == (
        "fleet.total_bikes = 60 needs at least 2 new stations (existing docks hold 36 at "
        "bikes_per_dock.max = 1.2, a new one at most 18), but new_stations/budget/bikes_per_dock.min "
        "allow at most 1"
    )
    assert p.binding == ("fleet.total_bikes", "new_stations", "bikes_per_dock.max")
    [q] = preflight(tiny_scenario(new_stations={"exact": 1}), tiny_data())
    assert (q.field, q.value) == ("new_stations.exact", 1)


def test_no_baseline_station_at_all() -> None:
    [p] = preflight(tiny_scenario(new_stations={"max": 3}), tiny_data(docks=()))
    assert "needs at least 4 new stations (existing docks hold 0" in p.message


def test_the_limit_that_binds_is_the_field_named() -> None:
    # every station at exactly 1.2 bikes per dock: 24 bikes left for new stations of exactly 18
    exact = tiny_scenario(bikes_per_dock={"min": 1.2, "max": 1.2}, docks={"min": 15, "max": 15})
    [p] = preflight(exact, tiny_data())
    assert (p.field, p.value) == ("bikes_per_dock.min", 1.2)
    assert "leaving room for at least 2 new stations (it leaves room for 1)" in p.expected
    # the money: 30 pays 2 stations of 5 docks, but only 1 beside the 20 docks the fleet needs
    budget = {"total": 30, "cost_per_station": 10, "cost_per_dock": 1}
    [b] = preflight(tiny_scenario(new_stations={}, budget=budget), tiny_data())
    assert (b.field, b.value) == ("budget.total", 30.0)
    assert b.expected.startswith("enough for at least 2 new stations (it pays for 1)")


def test_district_floors_beyond_a_fleet_set_by_its_rate() -> None:
    sc = tiny_scenario(
        fleet={"bikes_per_10k": 20},  # 40 bikes for 20,000 residents
        districts={"min_bikes_per_10k": 15, "per_district": {"나구": 30}},  # 15 + 30 = 45 bikes
    )
    [p] = preflight(sc, tiny_data(total_bikes=40))
    assert (p.field, p.value) == ("fleet.bikes_per_10k", 20.0)
    assert p.expected.startswith("a rate giving at least 45 bikes (it gives 40)")
    assert p.message == (
        "the district floors need 45 bikes together, more than fleet.total_bikes = 40; e.g. district 나구: "
        "districts.per_district[나구] = 30 per 10,000 of 10,000 residents -> 30 bikes"
    )
    assert p.binding == ("fleet.total_bikes", "districts.min_bikes_per_10k", "districts[나구]")


def test_district_minimums_beyond_the_count_and_every_problem_together() -> None:
    sc = tiny_scenario(new_stations={"max": 1}, districts={"min_new_stations": {"가구": 3, "나구": 2}})
    fleet, districts = preflight(sc, tiny_data())
    assert fleet.field == districts.field == "new_stations.max"
    assert districts.message == (
        "the district rules need 5 new stations together but at most 1 are allowed; largest: district "
        "가구 (districts.min_new_stations = 3) needs 3"
    )
    err = infeasible([fleet, districts], by_field=True)
    assert str(err).count("new_stations.max: got 1; expected at least") == 2
    assert err.binding == ["fleet.total_bikes", "new_stations", "bikes_per_dock.max", "districts[가구]"]


def test_a_district_the_data_lacks_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        preflight(tiny_scenario(districts={"per_district": {"다구": 10}}), tiny_data())
    assert info.value.field == "districts.per_district" and info.value.value == "다구"


def tiny_inputs(data: PreflightInputs) -> ExpansionInputs:
    """:class:`ExpansionInputs` around ``data``: one candidate site per district, one demand point."""
    one = np.zeros(1)
    demand = DemandPoints(
        x=one, y=one, lon=one, lat=one, weight=np.ones(1), population=np.ones(1),
        gu=np.array(["가구"]), dong=np.array([""]), kind=np.array(["grid"]),
    )  # fmt: skip
    cands = CandidateSites(
        node=np.arange(2), x=np.array([0.0, 1000.0]), y=np.zeros(2), lon=np.zeros(2), lat=np.zeros(2),
        gu=np.array(data.district_names), dong=np.array(["", ""]),
    )  # fmt: skip
    stations = pd.DataFrame({"docks": data.station_docks, "gu": data.station_gu})
    return ExpansionInputs(
        demand=demand, stations=stations, station_x=one, station_y=one,
        station_node=np.zeros(1, dtype=np.int64), station_snap=one,
        existing_cover=sp.csr_matrix((len(stations), 1)), covered_before=np.zeros(1, dtype=bool),
        candidates=cands, candidate_cover=sp.csr_matrix(np.ones((2, 1), dtype=bool)), candidate_report={},
        district_names=data.district_names,
        district_population=pd.Series(data.district_population, index=data.district_names),
        total_bikes=data.total_bikes, predicted_trips=None, graph=sp.csr_matrix((1, 1)),
        node_x=one, node_y=one, point_node=np.zeros(1, dtype=np.int64), point_snap=one, datasets={}, notes=[],
    )  # fmt: skip


def test_the_coverage_data_stage_raises_what_the_preflight_finds() -> None:
    data = tiny_data()
    sc = tiny_scenario(new_stations={"max": 1})
    with pytest.raises(InfeasibleError) as info:
        build_expansion_data(sc, tiny_inputs(data))
    [p] = preflight(sc, data)
    assert str(info.value) == p.message and info.value.binding == list(p.binding)
    # passing the preflight, the stage takes its bounds: 2 new stations at least
    built, _ = build_expansion_data(tiny_scenario(new_stations={"max": 2}), tiny_inputs(data))
    assert (built.min_total, built.max_total) == (2, 2)


# --- real data ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXPANSION_SCENARIOS, ids=lambda p: p.stem)
def test_the_shipped_scenarios_pass(path: Path, data_dir: Path) -> None:
    sc = load_scenario(path)
    data = load_preflight_inputs(sc, data_dir)
    assert len(data.station_docks) > 1000 and len(data.district_names) == 25
    assert preflight(sc, data) == []
    check_scenario(sc, data_dir)


def test_the_2019_scenario_with_150_new_stations_is_refused(data_dir: Path) -> None:
    sc = load_scenario(ROOT / "scenarios" / "seoul-2019-30k.yaml")
    sc = sc.model_copy(update={"new_stations": sc.new_stations.model_copy(update={"max": 150})})
    [p] = preflight(sc, load_preflight_inputs(sc, data_dir))
    assert (p.field, p.value) == ("new_stations.max", 150)
    assert p.expected.startswith("at least 280 new stations: fleet.total_bikes = 30000 needs them")
    with pytest.raises(InfeasibleError, match=r"^new_stations\.max: got 150; expected at least 280 "):
        check_scenario(sc, data_dir)


def test_a_total_below_the_rate_is_refused_before_the_inputs() -> None:
    """``fleet.total_bikes`` short of ``fleet.bikes_per_10k`` was found only after the inputs stage
    (build_inputs, 8 s warm); the pre-flight check names it, in the planner's own words."""
    sc = tiny_scenario(fleet={"total_bikes": 60, "bikes_per_10k": 40})  # 20,000 residents: 80 bikes
    [p] = preflight(sc, tiny_data())
    assert (p.field, p.value) == ("fleet.total_bikes", 60)
    assert p.problem.startswith("got 60; expected at least 80 bikes: fleet.bikes_per_10k = 40 of 20,000")
    assert p.message == (
        "fleet.total_bikes = 60 gives 30.00 bikes per 10,000 of 20,000 residents (grid); "
        "fleet.bikes_per_10k = 40.0 needs 80"
    )
    assert p.binding == ("fleet.total_bikes", "fleet.bikes_per_10k")
    assert preflight(tiny_scenario(fleet={"total_bikes": 80, "bikes_per_10k": 40}), tiny_data(80)) == []
