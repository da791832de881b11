"""Every stop carries the station's public number (the one on its sign, what drivers and the call
centre use) and its street address, from the station list, as the web app's printed sheet shows
them: ``routes.json``, ``routes.csv`` and the per-truck sheets (``routes_all.csv``) of ``mobility
rebalance`` and ``mobility export``; blank at the depots and for a station the list does not know."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mobility.cli import app
from mobility.config import PROJECT_ROOT
from mobility.errors import InputError
from mobility.export.routes import ROUTE_SHEET_COLUMNS, route_sheet
from mobility.rebalancing.build import problem_from_snapshot, station_labels
from mobility.rebalancing.decompose import subproblem
from mobility.rebalancing.plan import RouteSpec, build_plan, routes_json_schema
from mobility.rebalancing.snapshot import StatusSnapshot
from mobility.stats import SolverStats
from tests.rebalancing.rb_synth import make_problem

LISTED = pd.DataFrame(
    {
        "station_id": ["ST-2160", "ST-4", None],
        "number": pd.array([3002, 102, 3989], dtype="Int64"),
        "name": ["벽산상암스마트큐브", "망원역 1번출구 앞", "가산디지털단지 9번출구 인근"],
        "address": ["마포구 성산동 593-1", "서울특별시 마포구 월드컵로 72", "금천구 가산디지털1로 168"],
    }
)
"""A station list in the shape of :func:`mobility.demand.data.load_stations`' (one station known
by its number only, as 54 of the 2025-12 list are)."""

SCENARIO = PROJECT_ROOT / "scenarios" / "seoul-nightly.yaml"

STATS = SolverStats("test", "feasible", 0.0, None, 0.0, 0)


def test_a_station_is_labelled_by_its_number_else_its_id_and_unknown_ones_are_blank() -> None:
    table = pd.DataFrame(
        {
            "station_id": ["ST-2160", "st-4", "N3989", "ST-999999", None],
            "number": pd.array([None, None, 3989, None, 424242], dtype="Int64"),
        }
    )
    numbers, addresses = station_labels(table, LISTED)
    assert numbers == (3002, 102, 3989, None, 424242)  # its own number is kept, listed or not
    assert addresses == (*LISTED["address"], None, None)
    # without a list: the table's own numbers, no address
    assert station_labels(table, None) == ((None, None, 3989, None, 424242), (None,) * 5)


def test_the_plan_s_stops_carry_the_problem_s_numbers_and_addresses() -> None:
    snapshot = StatusSnapshot.model_validate(
        {
            "name": "s",
            "stations": [
                {"station_id": "ST-2160", "lon": 126.89, "lat": 37.57, "docks": 10, "bikes": 20, "target": 5},
                {"station_id": "ST-999999", "lon": 126.9, "lat": 37.57, "docks": 10, "bikes": 0, "target": 8},
            ],
        }
    )
    travel = np.full((3, 3), 300.0) - 300.0 * np.eye(3)
    depot = {"id": "D1", "name": "창고", "lon": 126.9, "lat": 37.56}
    truck = {"id": "T01", "depot": "D1", "capacity": 20, "shift_start": 79200, "shift_end": 90000}
    problem = problem_from_snapshot(snapshot, [depot], [truck], travel, travel, station_list=LISTED)
    assert problem.numbers == (3002, None) and problem.addresses == ("마포구 성산동 593-1", None)
    plan = build_plan(problem, [RouteSpec(0, 0, ((0, 5), (1, -5)))], STATS)
    stops = plan.routes[0].stops
    assert [(s.number, s.address) for s in stops] == [(3002, "마포구 성산동 593-1"), (None, None)]
    doc = plan.to_dict()
    jsonschema.validate(doc, routes_json_schema())  # routes.json says so: number and address, or null
    stop_schema = routes_json_schema()["$defs"]["Stop"]
    assert {"number", "address"} <= set(stop_schema["required"])
    sheet = route_sheet(plan)
    assert list(sheet.columns) == list(ROUTE_SHEET_COLUMNS)
    assert sheet["number"].tolist()[1] == 3002 and sheet["address"].tolist()[1] == "마포구 성산동 593-1"
    for column in ("number", "address"):  # blank at the depot rows and for ST-999999
        assert sheet[column].isna().tolist() == [True, False, True, True]
    # a zone of the problem keeps each station's labels (the solver's decomposition)
    zone = subproblem(problem, np.array([1]), (0,))
    assert (zone.station_ids, zone.numbers, zone.addresses) == (("ST-999999",), (None,), (None,))


def test_a_problem_without_labels_builds_stops_without_them() -> None:
    """A benchmark instance has no station list: its stops' numbers and addresses are null."""
    problem = make_problem(seed=1, n=4)
    assert problem.numbers is None and problem.addresses is None
    plan = build_plan(problem, [RouteSpec(0, 0, ((0, 1),))], STATS)
    assert (plan.routes[0].stops[0].number, plan.routes[0].stops[0].address) == (None, None)


def test_labels_of_another_length_than_the_stations_are_refused() -> None:
    from dataclasses import replace

    problem = make_problem(seed=1, n=4)
    with pytest.raises(InputError, match="numbers"):
        replace(problem, numbers=(1, 2))


def _night(tmp_path: Path, stations: pd.DataFrame) -> tuple[Path, Path]:
    """The shipped Seoul night (its depots, costs and demand curves) with one truck of the 상암
    centre and straight-line travel, over real 마포구 stations known by their number only (the list
    gives their id, name, position and docks), every other one empty and the rest full."""
    scn = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    scn["trucks"] = [{**scn["trucks"][0], "count": 1}]
    scn["network"] = {"source": "straight"}
    sp = tmp_path / "mapo.yaml"
    sp.write_text(yaml.safe_dump(scn, allow_unicode=True), encoding="utf-8")
    rows = [{"number": int(n), "bikes": 0 if i % 2 else 20} for i, n in enumerate(stations["number"])]
    st = tmp_path / "status.csv"
    pd.DataFrame(rows).to_csv(st, index=False)
    return sp, st


def test_a_cli_night_s_route_sheets_name_each_stop_by_its_number_and_address(
    tmp_path: Path, data_dir: Path
) -> None:
    from mobility.demand.data import load_stations

    listed = load_stations(data_dir)
    mapo = listed[listed["gu"] == "마포구"].dropna(subset=["station_id"]).head(10)
    sp, st = _night(tmp_path, mapo)
    out = tmp_path / "out"
    argv = ["rebalance", str(sp), "--status", str(st), "--out", str(out), "--time-limit", "5"]
    argv += ["--max-iterations", "20", "--no-maps", "--no-simulate", "--no-paths", "--json"]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "routes.json").read_text(encoding="utf-8"))
    stops = [s for r in doc["routes"] for s in r["stops"]]
    assert len(stops) >= 4
    by_id = mapo.set_index("station_id")
    for s in stops:  # the list's number (on the sign) and street address
        listed_as = by_id.loc[s["station_id"]]
        assert (s["number"], s["address"]) == (listed_as["number"], listed_as["address"])

    sheets = tmp_path / "sheets"
    argv = ["export", str(out / "routes.json"), "-f", "csv", "-o", str(sheets), "--json"]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 0, res.output
    for path in (sheets / "routes_all.csv", sheets / "route_NW-01.csv", out / "routes.csv"):
        text = path.read_text(encoding="utf-8-sig")
        # number right after the id, address right after the name
        assert text.splitlines()[0] == ",".join(ROUTE_SHEET_COLUMNS)
        sheet = pd.read_csv(path, dtype={"number": "Int64"}, encoding="utf-8-sig")
        at_depot = sheet["station_id"] == "NW"
        assert sheet.loc[at_depot, ["number", "address"]].isna().all().all()  # blank at the depot
        rows = sheet[~at_depot]
        assert len(rows) == len(stops)
        assert rows["number"].tolist() == [by_id.at[i, "number"] for i in rows["station_id"]]
        assert rows["address"].tolist() == [by_id.at[i, "address"] for i in rows["station_id"]]
        assert "3002.0" not in text and f",{stops[0]['number']}," in text  # whole numbers


def test_the_api_s_problem_takes_the_numbers_and_addresses_the_cli_s_takes(
    tmp_path: Path, data_dir: Path
) -> None:
    """``mobility rebalance`` and an API run over the same snapshot label their stops alike: one
    station list, one join (:func:`~mobility.rebalancing.build.station_labels`), the API's snapshot
    known by its ids only."""
    from api.runners import build_problem
    from api.schemas import RebalancingRunRequest
    from mobility.demand.data import load_stations
    from mobility.rebalancing.night import load_night_problem, night_snapshot
    from mobility.scenario.nightly import load_nightly

    listed = load_stations(data_dir)
    mapo = listed[listed["gu"] == "마포구"].dropna(subset=["station_id"]).head(10)
    sp, st = _night(tmp_path, mapo)
    cli = load_night_problem(load_nightly(sp), st, data_dir)
    assert cli.stations is not None and cli.problem.numbers == tuple(int(n) for n in mapo["number"])
    assert cli.problem.addresses == tuple(mapo["address"])
    snapshot = night_snapshot(cli.stations.drop(columns="number")).model_dump(mode="json", by_alias=True)
    assert all(s.get("number") is None for s in snapshot["stations"])  # ids only
    body = {
        "name": "mapo",
        "snapshot": snapshot,
        "fleet": {
            "depots": [{"id": "NW", "lon": 126.9016, "lat": 37.5663}],
            "trucks": [{"id": "NW-01", "depot": "NW", "capacity": 20}],
        },
        "options": {"targets": "snapshot", "network": "straight"},
    }
    api = build_problem(RebalancingRunRequest.model_validate(body).model_dump(mode="json", by_alias=True))
    assert api.station_ids == cli.problem.station_ids
    assert (api.numbers, api.addresses) == (cli.problem.numbers, cli.problem.addresses)


def test_the_night_s_station_list_is_read_once_per_process(data_dir: Path) -> None:
    """Every night job of a server, and every night beside its demand profiles, read the 2,799
    stations again (0.8 s cold); it is kept while its files are unchanged."""
    from mobility.rebalancing.night import station_list

    first = station_list(data_dir)
    assert first is not None and len(first) > 2_000
    assert station_list(data_dir) is first
