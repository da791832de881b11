"""An expansion plan on an uploaded station list (``baseline.station_records``): its existing
stations keep the station numbers the rider simulation matches trips on, and a plan whose riders
cannot be simulated is kept without its served share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mobility.errors import InputError
from mobility.placement.baseline import uploaded_stations
from mobility.placement.pipeline import ExpansionInputs, build_inputs, plan_expansion
from mobility.placement.plan import Plan
from mobility.scenario.expansion import BaselineStation, ExpansionScenario
from mobility.sources.stations import baseline_records, load_station_list, stations_from_csv_bytes

pytestmark = [pytest.mark.slow, pytest.mark.network]


def _uploaded_records(data_dir: Path, n: int) -> list[BaselineStation]:
    """The first ``n`` stations of the 2025-12 list, read as an uploaded CSV is (the API's
    ``records_from_csv``)."""
    table = load_station_list("2025-12", data_dir=data_dir).table.head(n)
    loaded = stations_from_csv_bytes(table.to_csv(index=False).encode("utf-8"), source="upload")
    records, _dropped, _assumed = baseline_records(loaded.table, loaded.report)
    return records


@pytest.fixture(scope="module")
def upload_scenario(data_dir: Path) -> ExpansionScenario:
    records = _uploaded_records(data_dir, 100)
    return ExpansionScenario.model_validate(
        {
            "name": "uploaded-list",
            "baseline": {"station_records": [r.model_dump() for r in records]},
            "fleet": {"total_bikes": 800},
            "new_stations": {"max": 20},
            "solver": {"time_limit": 5},
            "simulation": {"replications": 2},
        }
    )


@pytest.fixture(scope="module")
def upload_inputs(upload_scenario: ExpansionScenario, data_dir: Path) -> ExpansionInputs:
    return build_inputs(upload_scenario, data_dir=data_dir)


def test_uploaded_stations_carry_the_number_of_their_id(data_dir: Path) -> None:
    official = load_station_list("2025-12", data_dir=data_dir).table.dropna(subset=["station_id", "number"])
    first = official.iloc[0]
    by_st_id = BaselineStation(
        station_id=str(first["station_id"]), lat=float(first["lat"]), lon=float(first["lon"]), docks=10
    )
    by_number = BaselineStation(station_id="207", lat=37.5556, lon=126.9105, docks=10)
    unknown = BaselineStation(station_id="MY-1", lat=37.5556, lon=126.9106, docks=10)
    got = uploaded_stations([by_st_id, by_number, unknown], data_dir)
    assert got["number"].iloc[0] == int(first["number"])
    assert got["number"].iloc[1] == 207
    assert got["number"].isna().iloc[2]


def test_a_plan_on_an_uploaded_list_simulates_its_riders(
    upload_scenario: ExpansionScenario, upload_inputs: ExpansionInputs, data_dir: Path
) -> None:
    plan, _ = plan_expansion(upload_scenario, data_dir=data_dir, inputs=upload_inputs)
    assert all(s.number is not None for s in plan.existing_stations)
    assert plan.simulation is not None
    assert plan.city_after.served_share is not None
    assert not any("not simulated" in n for n in plan.notes)


def test_a_plan_is_kept_when_its_riders_cannot_be_simulated(
    upload_scenario: ExpansionScenario,
    upload_inputs: ExpansionInputs,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def cannot_run(*_args: Any, **_kwargs: Any) -> Any:
        raise InputError("trips", 0, "at least 10 one-way and 10 round trips to fit ride times")

    monkeypatch.setattr("mobility.simulation.plans.simulate_plan", cannot_run)
    plan, _ = plan_expansion(upload_scenario, data_dir=data_dir, inputs=upload_inputs)
    assert plan.simulation is None
    assert plan.new_stations and plan.existing_stations
    note = next(n for n in plan.notes if n.startswith("served share not simulated"))
    assert "trips: got 0" in note


def test_the_candidate_filters_note_reads_as_counts(
    upload_scenario: ExpansionScenario, upload_inputs: ExpansionInputs, data_dir: Path
) -> None:
    plan, _ = plan_expansion(upload_scenario, data_dir=data_dir, inputs=upload_inputs, simulate=False)
    note = next(n for n in plan.notes if n.startswith("candidate filters: "))
    assert "{" not in note and "'" not in note
    assert f"candidates {len(upload_inputs.candidates):,}" in note
    # the run's wall time is a field of the document, not only a note (routes.json has it too)
    assert plan.wall_seconds is not None
    assert plan.wall_seconds >= plan.siting_stats.seconds + plan.fleet_stats.seconds
    assert not any("end-to-end" in n for n in plan.notes)  # a field, not a note: notes diff clean
    assert Plan.from_dict(plan.to_dict()).wall_seconds == plan.wall_seconds
