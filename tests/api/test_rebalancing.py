"""Rebalancing endpoints: snapshots, runs, routes in three formats (solver replaced by a fake)."""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.api.api_support import RUN, Api


def test_run_inline_snapshot_and_routes(api: Api) -> None:
    r = api.client.post("/v1/rebalancing/runs", json=RUN, headers=api.h("ops"))
    assert r.status_code == 202
    loc = r.headers["Location"]
    done = api.wait(loc)
    assert done["status"] == "succeeded" and done["kind"] == "rebalancing"
    assert done["kpis"] == {"bikes_moved": 18} and done["links"]["routes"] == f"{loc}/routes"
    js = api.client.get(f"{loc}/routes", headers=api.h("viewer")).json()
    assert js["routes"][0]["truck_id"] == "T01"
    gj = api.client.get(f"{loc}/routes?format=geojson", headers=api.h("viewer")).json()
    kinds = [(f["properties"]["kind"], f["geometry"]["type"]) for f in gj["features"]]
    assert kinds[:3] == [("route", "LineString"), ("stop", "Point"), ("stop", "Point")]
    assert {k for k, _ in kinds[3:]} == {"depot"}
    sheet = api.client.get(f"{loc}/routes", headers=api.h("viewer", Accept="text/csv"))
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    stops = [x for x in rows if x["action"].split()[0] in ("pick", "drop")]
    assert [int(x["quantity"]) for x in stops] == [10, -8] and stops[1]["name"] == "합정역"
    assert (rows[0]["action"], rows[-1]["action"]) == ("start 출발", "end 복귀")
    page = api.client.get("/v1/rebalancing/runs", headers=api.h("viewer")).json()
    assert page["total"] == 1 and page["items"][0]["id"] == done["id"]


def test_stored_snapshot_reference(api: Api) -> None:
    s = api.client.post("/v1/rebalancing/snapshots", json=RUN["snapshot"], headers=api.h("ops"))
    assert s.status_code == 201 and s.json()["stations"] == 2
    assert s.json()["bikes"] == sum(x["bikes"] for x in RUN["snapshot"]["stations"])
    sid = s.json()["id"]
    s2 = api.client.post(
        "/v1/rebalancing/snapshots", json=RUN["snapshot"] | {"name": "두 번째"}, headers=api.h("ops")
    ).json()
    listed = api.client.get("/v1/rebalancing/snapshots", headers=api.h("viewer")).json()
    assert listed["total"] == 2 and [x["id"] for x in listed["items"]] == [s2["id"], sid]  # newest first
    assert s2.pop("notes") == []  # the answer to a store alone says what was flagged
    assert listed["items"][0] | {"created_at": None} == s2 | {"created_at": None}
    one = api.client.get("/v1/rebalancing/snapshots?limit=1&offset=1", headers=api.h("viewer")).json()
    assert [x["id"] for x in one["items"]] == [sid] and one["total"] == 2
    back = api.client.get(f"/v1/rebalancing/snapshots/{sid}", headers=api.h("viewer")).json()
    assert back["stations"][0]["station_id"] == "ST-4"
    body = {k: v for k, v in RUN.items() if k != "snapshot"} | {"snapshot_id": sid}
    r = api.client.post("/v1/rebalancing/runs", json=body, headers=api.h("ops"))
    assert r.status_code == 202
    assert api.wait(r.headers["Location"])["status"] == "succeeded"
    missing = api.client.post(
        "/v1/rebalancing/runs", json=body | {"snapshot_id": "0" * 32}, headers=api.h("ops")
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.snapshot_id"
    assert api.client.get("/v1/rebalancing/snapshots/nope", headers=api.h("viewer")).status_code == 404


def test_run_validation_names_fields(api_lite: Api) -> None:
    def post(body: dict[str, Any]) -> dict[str, Any]:
        r = api_lite.client.post("/v1/rebalancing/runs", json=body, headers=api_lite.h("ops"))
        assert r.status_code == 422, r.text
        return r.json()

    outside = copy.deepcopy(RUN)
    outside["snapshot"]["stations"][0]["lat"] = 35.1  # Busan
    assert post(outside)["errors"][0]["field"] == "body.snapshot.stations.0.lat"
    negative = copy.deepcopy(RUN)
    negative["snapshot"]["stations"][1]["bikes"] = -1
    assert post(negative)["errors"][0]["field"] == "body.snapshot.stations.1.bikes"
    path_as_network = copy.deepcopy(RUN) | {"options": {"network": "/etc/passwd"}}
    assert post(path_as_network)["errors"][0]["field"] == "body.options.network"
    unknown_option = copy.deepcopy(RUN) | {"options": {"sped_kmh": 30}}
    assert post(unknown_option)["errors"][0]["field"] == "body.options.sped_kmh"
    both = copy.deepcopy(RUN) | {"snapshot_id": "0" * 32}
    assert "exactly one" in post(both)["detail"]
    dup = copy.deepcopy(RUN)
    dup["snapshot"]["stations"][1]["station_id"] = "ST-4"
    assert "appears twice" in post(dup)["detail"]
    depot = copy.deepcopy(RUN)
    depot["fleet"]["trucks"][0]["depot"] = "D9"
    assert post(depot)["errors"][0]["field"] == "body.fleet.trucks.0.depot"
    shift = copy.deepcopy(RUN)
    shift["fleet"]["trucks"][0] |= {"shift_start": 100, "shift_end": 50}
    assert "shift_end" in post(shift)["detail"]
    many = copy.deepcopy(RUN)
    st = many["snapshot"]["stations"][0]
    many["snapshot"]["stations"] = [st | {"station_id": f"S{i}"} for i in range(5001)]
    r = api_lite.client.post("/v1/rebalancing/runs", json=many, headers=api_lite.h("ops"))
    assert r.status_code in (413, 422)  # too many stations: body cap or list bound, never accepted
    too_long = copy.deepcopy(RUN) | {"time_limit": 80000}
    assert "time_limit" in post(too_long)["detail"]


def test_cancel_run(api_lite: Api) -> None:
    api_lite.client.app.state.settings.run_jobs = False  # type: ignore[attr-defined]
    try:
        r = api_lite.client.post("/v1/rebalancing/runs", json=RUN, headers=api_lite.h("ops"))
    finally:
        api_lite.client.app.state.settings.run_jobs = True  # type: ignore[attr-defined]
    loc = r.headers["Location"]
    c = api_lite.client.delete(loc, headers=api_lite.h("ops"))
    assert c.status_code == 200 and c.json()["status"] == "cancelled"
    assert api_lite.client.delete(loc, headers=api_lite.h("ops")).status_code == 409
    assert api_lite.client.get(f"{loc}/routes", headers=api_lite.h("viewer")).status_code == 409


def test_scenario_id_is_not_a_run(api_lite: Api) -> None:
    from tests.api.api_support import SCENARIO

    loc = api_lite.client.post("/v1/scenarios", json=SCENARIO, headers=api_lite.h("planner")).headers[
        "Location"
    ]
    job_id = loc.rsplit("/", 1)[1]
    api_lite.wait(loc)
    assert (
        api_lite.client.get(f"/v1/rebalancing/runs/{job_id}", headers=api_lite.h("viewer")).status_code == 404
    )
    r = api_lite.client.get(f"/v1/rebalancing/runs/{job_id}/routes", headers=api_lite.h("viewer"))
    assert r.status_code == 404


# --- the status snapshot: one document and one reader for the CLI and the API -------------------------

STATUS_CSV = (
    "station_id,name,lon,lat,docks,bikes,target,target_low,target_high\n"
    "ST-4,망원역 1번출구 앞,126.9104,37.5556,15,25,,5,9\n"
    'ST-5,"망원역 2번출구, 앞",126.9107,37.5547,15,0,,6,\n'
    "ST-6,,126.9150,37.5530,10,7,4,,\n"
)
"""Three stations with a morning band, a band's lower end, an exact target, the way
``mobility rebalance --status`` takes them."""


def _upload(api: Api, text: str) -> Any:
    return api.client.post(
        "/v1/rebalancing/snapshots/csv?name=status",
        content=text.encode("utf-8"),
        headers=api.h("ops", **{"Content-Type": "text/csv"}),
    )


def test_the_cli_and_the_api_read_one_status_file_to_one_problem(api_lite: Api, tmp_path: Path) -> None:
    from api.runners import build_problem
    from api.schemas import RebalancingRunRequest
    from mobility.rebalancing.night import load_night_problem
    from mobility.scenario.nightly import nightly_from_dict

    path = tmp_path / "status.csv"
    path.write_text(STATUS_CSV, encoding="utf-8")
    depot = RUN["fleet"]["depots"][0]
    scn = nightly_from_dict(
        {
            "name": "one file",
            "depots": [depot],
            "trucks": [{"depot": "D1", "count": 1, "capacity": 20}],
            "targets": {"source": "snapshot", "tolerance": 0},
            "network": {"source": "straight", "straight_speed_kph": 20.0, "straight_detour": 1.35},
        }
    )
    cli = load_night_problem(scn, path).problem

    stored = _upload(api_lite, STATUS_CSV)
    assert stored.status_code == 201, stored.text
    assert stored.json()["stations"] == 3 and stored.json()["name"] == "status"
    doc = api_lite.client.get(stored.headers["Location"], headers=api_lite.h("viewer")).json()
    assert doc["schema"] == "mobility/status-snapshot/1"
    request = {
        "snapshot": doc,
        "fleet": RUN["fleet"],
        "options": {"network": "straight", "speed_kph": 20.0, "detour": 1.35},
    }
    api = build_problem(RebalancingRunRequest.model_validate(request).model_dump(mode="json", by_alias=True))

    assert cli.station_ids == api.station_ids == ("ST-4", "ST-5", "ST-6")
    assert cli.names == api.names and cli.names[1] == "망원역 2번출구, 앞" and cli.names[2] == "ST-6"
    for field in ("lon", "lat", "docks", "bikes", "travel_s", "distance_m"):
        assert np.array_equal(getattr(cli, field), getattr(api, field)), field
    # the same morning band at every station: the bikes at which it costs nothing
    bands = [[np.flatnonzero(c == 0).tolist() for c in p.curves] for p in (cli, api)]
    assert bands[0] == bands[1] == [list(range(5, 10)), list(range(6, 16)), [4]]


def test_a_dated_run_takes_the_demand_curves_mobility_rebalance_takes(tmp_path: Path) -> None:
    """A run whose night is known aims at the demand model's morning (as ``mobility rebalance``
    with ``targets.source: demand`` does), not at 25-75 % of the docks: the night shift's web
    runs planned against that band sent a quarter of the bikes they picked up back to the depots."""
    from api.runners import build_problem
    from api.schemas import RebalancingRunRequest
    from mobility.rebalancing.night import load_night_problem
    from mobility.scenario.nightly import CurveLevel, at_level, nightly_from_dict

    status = (
        "station_id,name,lon,lat,docks,bikes\nST-4,a,126.9104,37.5556,15,25\nST-5,b,126.9107,37.5547,15,0\n"
    )
    path = tmp_path / "status.csv"
    path.write_text(status, encoding="utf-8")
    depot = RUN["fleet"]["depots"][0]
    scn = nightly_from_dict(
        {
            "name": "tonight",
            "night": {"date": "2026-12-06"},
            "depots": [depot],
            "trucks": [{"depot": "D1", "count": 1, "capacity": 20}],
            "network": {"source": "straight", "straight_speed_kph": 20.0, "straight_detour": 1.35},
        }
    )
    cli = load_night_problem(scn, path)
    stations = [
        {"station_id": f"ST-{k}", "lon": lon, "lat": lat, "docks": 15, "bikes": b}
        for k, lon, lat, b in ((4, 126.9104, 37.5556, 25), (5, 126.9107, 37.5547, 0))
    ]
    request = {
        "snapshot": {"name": "tonight", "date": "2026-12-06", "stations": stations},
        "fleet": RUN["fleet"],
        "options": {"network": "straight", "speed_kph": 20.0, "detour": 1.35},
    }
    dump = RebalancingRunRequest.model_validate(request).model_dump(mode="json", by_alias=True)
    api = build_problem(dump)
    assert api.meta["targets"] == "demand" and api.meta["demand_curves"] == 2
    assert api.meta["day_type"] == cli.problem.meta["day_type"] == "weekday"
    assert api.meta["demand_level"] == pytest.approx(cli.level, abs=1e-4) and cli.level < 1
    for a, c in zip(api.curves, cli.problem.curves, strict=True):
        np.testing.assert_array_equal(a, c)
    band = build_problem(dump | {"options": {**dump["options"], "targets": "snapshot"}})
    assert band.meta["targets"] == "snapshot" and not np.array_equal(band.curves[0], api.curves[0])
    undated = build_problem(dump | {"snapshot": {**dump["snapshot"], "date": None}})
    assert (
        undated.meta["targets_note"]
        == "2 stations aim at 25-75 % of their docks: no demand curves (no night named)"
    )
    # a target the snapshot gives stays the station's (auto); targets: demand overrides it
    given = copy.deepcopy(dump)
    given["snapshot"]["stations"][0]["target"] = 9
    mixed = build_problem(given)
    assert mixed.meta["demand_curves"] == 1 and "targets_note" not in mixed.meta
    assert np.flatnonzero(mixed.curves[0] == 0).tolist() == [9]
    np.testing.assert_array_equal(mixed.curves[1], api.curves[1])
    forced = build_problem(given | {"options": {**dump["options"], "targets": "demand"}})
    np.testing.assert_array_equal(forced.curves[0], api.curves[0])
    # options.level is the scenario's targets.level: the CLI's curves at the same level
    levels: tuple[tuple[CurveLevel, float], ...] = (("profile", 1.0), ("morning", cli.level))
    for level, expected in levels:
        at = build_problem(dump | {"options": {**dump["options"], "level": level}})
        cli_at = load_night_problem(at_level(scn, level), path)
        assert at.meta["demand_level"] == pytest.approx(cli_at.level, abs=1e-4)
        assert cli_at.level == pytest.approx(expected, abs=1e-4)
        for a, c in zip(at.curves, cli_at.problem.curves, strict=True):
            np.testing.assert_array_equal(a, c)
    profile = build_problem(dump | {"options": {**dump["options"], "level": "profile"}})
    assert not np.array_equal(profile.curves[1], api.curves[1])  # December is quieter than the mean day


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"snapshot_date": None}, "body.options.targets"),
        ({"snapshot_date": "2028-03-01"}, "body.snapshot.date"),
        ({"morning_after": {"night": "2018-06-01"}}, "body.morning_after.night"),
    ],
)
def test_demand_targets_without_a_night_in_reach_are_a_422(
    api_lite: Api, over: dict[str, Any], field: str
) -> None:
    body = copy.deepcopy(RUN) | {"options": {"network": "straight", "targets": "demand"}}
    body["snapshot"]["date"] = over.get("snapshot_date", "2026-12-06")
    if "morning_after" in over:
        body["morning_after"] = over["morning_after"]
    r = api_lite.client.post("/v1/rebalancing/runs", json=body, headers=api_lite.h("ops"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


def test_the_run_s_night_dates_an_undated_status(api_lite: Api) -> None:
    """A live status has no date: the run's ``night`` gives the curves' morning (and the simulated
    one's), ahead of the snapshot's date; a night out of the data's reach is a 422 at ``body.night``."""
    from api.runners import build_problem
    from api.schemas import RebalancingRunRequest

    body = copy.deepcopy(RUN) | {"options": {"network": "straight"}, "night": "2026-12-06"}
    for s in body["snapshot"]["stations"]:
        s.pop("target")  # no target of their own: the curves are theirs
    dump = RebalancingRunRequest.model_validate(body).model_dump(mode="json", by_alias=True)
    problem = build_problem(dump)
    assert problem.meta["targets"] == "demand" and problem.meta["day_type"] == "weekday"  # Monday 7th
    sunday = build_problem(
        dump | {"snapshot": {**dump["snapshot"], "date": "2026-12-12"}, "night": "2026-12-05"}
    )
    assert sunday.meta["day_type"] == "weekend"  # the run's night, not the snapshot's date
    asked = body | {"morning_after": {"replications": 2}}  # its night: the run's
    assert (
        api_lite.client.post("/v1/rebalancing/runs", json=asked, headers=api_lite.h("ops")).status_code == 202
    )
    far = api_lite.client.post(
        "/v1/rebalancing/runs", json=body | {"night": "2029-01-01"}, headers=api_lite.h("ops")
    )
    assert far.status_code == 422 and far.json()["errors"][0]["field"] == "body.night"


def test_demand_targets_over_an_undated_stored_snapshot_are_a_422(api_lite: Api) -> None:
    stored = _upload(api_lite, STATUS_CSV)  # no date column: the stored snapshot has no date
    assert stored.status_code == 201, stored.text
    body = {k: v for k, v in RUN.items() if k != "snapshot"} | {
        "snapshot_id": stored.json()["id"],
        "options": {"network": "straight", "targets": "demand"},
    }
    r = api_lite.client.post("/v1/rebalancing/runs", json=body, headers=api_lite.h("ops"))
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "body.options.targets"
    assert "night, morning_after.night or the snapshot's date" in err["problem"]
    dated = body | {"morning_after": {"night": "2026-12-06"}}  # the night named: accepted
    r = api_lite.client.post("/v1/rebalancing/runs", json=dated, headers=api_lite.h("ops"))
    assert r.status_code == 202, r.text


def test_a_bad_status_csv_is_a_422_naming_station_and_column(api_lite: Api) -> None:
    def problem(text: str) -> dict[str, Any]:
        r = _upload(api_lite, text)
        assert r.status_code == 422, r.text
        return r.json()["errors"][0]

    negative = problem(STATUS_CSV.replace(",15,0,,6,", ",15,-1,,6,"))
    assert negative["field"] == "body[ST-5].bikes (line 3)" and negative["problem"] == "got -1; expected >= 0"
    busan = problem(STATUS_CSV.replace("37.5556", "35.1"))
    assert busan["field"] == "body[ST-4].lat (line 2)" and "37.4" in busan["problem"]
    unknown = problem("station_id,docks,bikes\nST-4,15,3\nST-99999,15,3\n")  # ST-4 is listed
    assert unknown["field"] == "body[ST-99999].station_id (line 3)"
    assert "station list (2025-12" in unknown["problem"]
    # every station the list lacks, in one answer (it named only the first)
    many = _upload(api_lite, "station_id,bikes\nST-4,3\nST-999991,1\nST-999992,1\nN999993,1\n").json()
    assert [e["field"] for e in many["errors"]] == [
        f"body[{k}].station_id (line {n})" for k, n in (("ST-999991", 3), ("ST-999992", 4), ("N999993", 5))
    ]
    twice = problem(STATUS_CSV + "ST-4,x,126.91,37.55,10,1,,0,1\n")
    assert twice["field"] == "body[ST-4].station_id (line 5)"  # a file's line, not stations[3]
    assert twice["problem"] == "got 'ST-4'; expected one row per station (ST-4 is on line 2 too)"
    assert problem("")["field"] == "body"
    assert problem("no, table\n1, 2\n")["field"] == "body.columns"
    listed = api_lite.client.get("/v1/rebalancing/snapshots", headers=api_lite.h("viewer")).json()
    assert listed["total"] == 0  # nothing stored from a bad upload


def test_a_status_csv_without_positions_takes_them_from_the_station_list(api_lite: Api) -> None:
    """Names, positions and docks left out of the upload come from the published station list
    (the one ``GET /v1/stations`` serves), as ``mobility rebalance`` takes them; given values stay."""
    from mobility.sources.stations import load_station_list

    listed = load_station_list("2025-12").table.set_index("station_id")
    stored = _upload(api_lite, "station_id,bikes,docks,target\nST-4,20,,7\nST-5,0,30,7\n")
    assert stored.status_code == 201, stored.text
    doc = api_lite.client.get(stored.headers["Location"], headers=api_lite.h("viewer")).json()
    by_id = {s["station_id"]: s for s in doc["stations"]}
    for sid in ("ST-4", "ST-5"):
        assert by_id[sid]["name"] == listed.loc[sid, "name"]
        assert (by_id[sid]["lon"], by_id[sid]["lat"]) == (listed.loc[sid, "lon"], listed.loc[sid, "lat"])
    assert by_id["ST-4"]["docks"] == listed.loc["ST-4", "docks"]
    assert by_id["ST-5"]["docks"] == 30 != listed.loc["ST-5", "docks"]  # given, kept
    assert [by_id[s]["bikes"] for s in ("ST-4", "ST-5")] == [20, 0]
