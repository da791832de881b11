"""A night run over HTTP says everything a nightly scenario says of its problem and its search.

A review walk found that a run of ``POST /v1/rebalancing/runs`` drove at 0.05 per km with 120 s
stops where ``scenarios/seoul-nightly.yaml`` (and ``mobility rebalance``) has 0.2 per km and
180 s, with no field to say otherwise; that ``GET /v1/web/scenarios`` dropped the night's costs,
stop and loading times and solver settings from the run request it made of it; and that
``max_iterations``, the CLI's way to the same routes for the same seed, got a 422 over HTTP. A
run now takes the scenario's own sections (``costs``, ``solver`` less its time limit and seed,
and each truck's ``load_seconds_per_bike``, ``stop_seconds``, ``start_load``) with their defaults.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from api.runners import build_problem, solve_params
from api.schemas import RebalancingRunRequest
from mobility.config import PROJECT_ROOT
from mobility.errors import InputError
from mobility.rebalancing.build import expand_trucks
from mobility.rebalancing.problem import RebalancingProblem
from mobility.scenario.nightly import Costs, SearchSpec, load_nightly, nightly_from_dict
from tests.api.api_support import RUN, Api, keys_for, make_settings

SCENARIO = PROJECT_ROOT / "scenarios" / "seoul-nightly.yaml"
NIGHT = "2022-01-01"  # the shipped scenario's night: a full day of real trips derives its 22:00 stock


def _inputs(body: dict[str, Any]) -> dict[str, Any]:
    """A run request as the route stores it (validated, then dumped)."""
    return RebalancingRunRequest.model_validate(body).model_dump(mode="json", by_alias=True)


@pytest.fixture(scope="module")
def mapo(data_dir: Path) -> pd.DataFrame:
    """40 stations of 마포구 with the stock derived for 22:00 of the shipped night from its real trips."""
    from mobility.demand.data import load_profiles
    from mobility.demand.snapshot import derive_snapshot_from_data

    table = derive_snapshot_from_data(load_profiles(data_dir), NIGHT, at=22.0, data_dir=data_dir)
    return table[table["gu"] == "마포구"].head(40).reset_index(drop=True)


@pytest.fixture
def web(sqlite_url: str) -> Iterator[Api]:
    """The app with its real job kinds (the solver runs in its worker thread)."""
    keys = keys_for(sqlite_url)
    with TestClient(create_app(make_settings(sqlite_url)), raise_server_exceptions=False) as client:
        yield Api(client, keys)


def _shipped_night(api: Api) -> dict[str, Any]:
    r = api.client.get("/v1/web/scenarios", headers=api.h("viewer"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = next(s for s in r.json() if s["file"] == SCENARIO.name)["body"]
    return body


def _same_problem(api: RebalancingProblem, cli: RebalancingProblem) -> None:
    assert api.trucks == cli.trucks  # ids, capacity, shift, stop and loading times, start load
    assert api.trucks[0].stop_seconds == 180.0 and api.trucks[0].load_seconds_per_bike == 30.0
    weights = ["dissatisfaction_weight", "drive_cost_per_km", "overflow_penalty", "max_visits"]
    weights.append("band_tolerance")
    assert {k: getattr(api, k) for k in weights} == {k: getattr(cli, k) for k in weights}
    assert api.drive_cost_per_km == 0.2
    assert (api.depots, api.station_ids, api.names) == (cli.depots, cli.station_ids, cli.names)
    for k in ("lon", "lat", "docks", "bikes", "travel_s", "distance_m"):
        assert np.array_equal(getattr(api, k), getattr(cli, k)), k
    assert all(np.array_equal(a, c) for a, c in zip(api.curves, cli.curves, strict=True))


def test_the_shipped_night_over_http_is_the_cli_s_problem(
    api_lite: Api, mapo: pd.DataFrame, data_dir: Path
) -> None:
    """The run request the web app starts from (``GET /v1/web/scenarios``) with the night's status
    builds the same :class:`RebalancingProblem` as ``mobility rebalance`` reading the scenario
    file with that status: trucks, costs, visits, stations, demand curves and street travel."""
    from mobility.rebalancing.night import load_night_problem, night_snapshot

    cli = load_night_problem(load_nightly(SCENARIO), mapo, data_dir)
    assert cli.stations is not None
    snapshot = night_snapshot(cli.stations).model_dump(mode="json", by_alias=True)
    inputs = _inputs(_shipped_night(api_lite) | {"snapshot": snapshot, "night": NIGHT})
    api = build_problem(inputs)  # its own travel times (travel_for), as a worker makes them
    _same_problem(api, cli.problem)
    assert api.meta["travel_model"] == cli.problem.meta["network"] == "osm-drive/truck_night"


def test_a_run_that_leaves_them_out_takes_what_mobility_rebalance_takes() -> None:
    """The defaults: a request without ``costs``, ``solver`` and its trucks' times is planned as
    ``mobility rebalance`` plans a scenario that leaves them out."""
    from mobility.scenario.nightly import SolverSpec

    depot = {"id": "D1", "lon": 126.9016, "lat": 37.5663}
    scn = nightly_from_dict({"name": "t", "depots": [depot], "trucks": [{"depot": "D1", "capacity": 20}]})
    assert scn.costs == Costs() and scn.solver == SolverSpec()
    (truck,) = expand_trucks(scn)
    fleet = {"depots": [depot], "trucks": [{"id": truck.id, "depot": "D1", "capacity": 20}]}
    inputs = _inputs(RUN | {"fleet": fleet, "options": {"targets": "snapshot", "network": "straight"}})
    api = build_problem(inputs)
    assert api.trucks == (truck,) and truck.stop_seconds == 180.0 and truck.load_seconds_per_bike == 30.0
    c = scn.costs
    assert (api.dissatisfaction_weight, api.drive_cost_per_km, api.overflow_penalty) == (
        c.dissatisfaction_weight, c.drive_cost_per_km, c.overflow_penalty,
    )  # fmt: skip
    assert (api.max_visits, api.band_tolerance) == (c.max_visits_per_station, c.band_tolerance)
    assert api.drive_cost_per_km == 0.2
    params = solve_params(inputs, remaining=600.0)  # as the CLI's SolveParams of scn.solver
    for k in SearchSpec.model_fields:
        assert getattr(params, k) == getattr(scn.solver, k), k
    assert (params.time_limit, params.seed) == (5.0, 0)


def test_max_iterations_over_http_gives_the_same_routes_twice(web: Api, mapo: pd.DataFrame) -> None:
    """Two runs of the same night, seed and ``solver.max_iterations``: the same routes, ended by
    the iteration budget (not the clock)."""
    from mobility.rebalancing.night import night_snapshot, snapshot_stations

    scn = load_nightly(SCENARIO)
    _snap, stations, _ = snapshot_stations(mapo)
    depot = next(d for d in scn.depots if d.id == "NW")
    body = {
        "name": "budget",
        "snapshot": night_snapshot(stations).model_dump(mode="json", by_alias=True),
        "fleet": {
            "depots": [{"id": depot.id, "name": depot.name, "lon": depot.lon, "lat": depot.lat}],
            "trucks": [{"id": f"NW-0{i}", "depot": "NW", "capacity": 18} for i in (1, 2)],
        },
        "night": NIGHT,
        "time_limit": 120,
        "seed": 3,
        "solver": {"max_iterations": 40},
    }
    routes = []
    for _ in range(2):
        r = web.client.post("/v1/rebalancing/runs", json=body, headers=web.h("ops"))
        assert r.status_code == 202, r.text
        done = web.wait(r.headers["Location"], timeout=240)
        assert done["status"] == "succeeded", done
        doc = web.client.get(f"{r.headers['Location']}/routes", headers=web.h("viewer")).json()
        assert doc["stats"]["extra"]["stopped_by"] == "iterations"
        routes.append(
            [(x["truck_id"], [(s["station_id"], s["quantity"]) for s in x["stops"]]) for x in doc["routes"]]
        )
    assert routes[0] == routes[1] and any(stops for _, stops in routes[0])


def test_the_web_scenarios_keep_the_night_s_settings(tmp_path: Path, sqlite_url: str) -> None:
    """A night whose settings are not the defaults comes back with them, in a request the API
    takes as it is (the shipped one too)."""
    doc = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    doc["costs"] |= {"drive_cost_per_km": 0.35, "overflow_penalty": 2.5, "band_tolerance": 0.8}
    doc["solver"] |= {"decompose": "never", "trucks_per_zone": 3, "max_iterations": 200, "classic": "off"}
    doc["trucks"][1] |= {"stop_seconds": 240, "load_seconds_per_bike": 45, "start_load": "free"}
    (tmp_path / "night.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    (tmp_path / "seoul-nightly.yaml").write_text(SCENARIO.read_text(encoding="utf-8"), encoding="utf-8")
    keys = keys_for(sqlite_url)
    settings = make_settings(sqlite_url, run_jobs=False, scenario_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        shipped = client.get("/v1/web/scenarios", headers={"X-API-Key": keys["viewer"]}).json()
    bodies = {s["file"]: s["body"] for s in shipped}
    body = bodies["night.yaml"]
    assert body["costs"] == {
        "dissatisfaction_weight": 1.0, "drive_cost_per_km": 0.35, "overflow_penalty": 2.5,
        "max_visits_per_station": 1, "band_tolerance": 0.8,
    }  # fmt: skip
    solver = {"decompose": "never", "trucks_per_zone": 3, "classic": "off", "max_iterations": 200}
    assert body["solver"] == solver
    trucks = body["fleet"]["trucks"]
    assert [t["id"] for t in trucks] == [t.id for t in expand_trucks(nightly_from_dict(doc))]
    ne = [t for t in trucks if t["depot"] == "NE"]
    handling = {(t["stop_seconds"], t["load_seconds_per_bike"], t["start_load"]) for t in ne}
    assert len(ne) == 6 and handling == {(240, 45, "free")}
    assert trucks[0] | {"id": "NW-01"} == {
        "id": "NW-01", "depot": "NW", "capacity": 18, "shift_start": 79200.0, "shift_end": 108000.0,
        "load_seconds_per_bike": 30.0, "stop_seconds": 180.0, "start_load": 0,
    }  # fmt: skip
    for file in ("night.yaml", "seoul-nightly.yaml"):  # the request the form submits, as it is
        run = bodies[file] | {"snapshot_id": "0" * 32}
        kept = _inputs(run)
        sections = ("costs", "solver", "fleet")
        assert {k: kept[k] for k in sections} == {k: run[k] for k in sections}
    straight = {"options": {"network": "straight", "targets": "snapshot"}}
    problem = build_problem(_inputs(RUN | {"costs": body["costs"]} | straight))
    assert (problem.drive_cost_per_km, problem.overflow_penalty, problem.band_tolerance) == (0.35, 2.5, 0.8)


BAD = [
    ("costs", "drive_cost_per_km", -0.1),
    ("costs", "dissatisfaction_weight", 0),
    ("costs", "max_visits_per_station", 2),
    ("costs", "overflow_penalty", "lots"),
    ("solver", "max_iterations", 0),
    ("solver", "trucks_per_zone", 0),
    ("solver", "decompose", "sometimes"),
    ("solver", "classic", "on"),
    ("trucks.0", "stop_seconds", -5),
    ("trucks.0", "load_seconds_per_bike", True),
    ("trucks.0", "start_load", "FREE"),
    ("trucks.0", "start_load", -1),
]


@pytest.mark.parametrize(("section", "key", "value"), BAD)
def test_a_bad_setting_is_422_naming_its_field_in_the_cli_s_words(
    api_lite: Api, section: str, key: str, value: object
) -> None:
    """The same field, refused with the same words as the scenario file (``mobility rebalance``)."""
    doc = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    body = copy.deepcopy(RUN)
    if section == "trucks.0":
        doc["trucks"][0][key] = value
        body["fleet"]["trucks"][0][key] = value
        field = f"body.fleet.trucks.0.{key}"
    else:
        doc[section][key] = value
        body[section] = {key: value}
        field = f"body.{section}.{key}"
    with pytest.raises(InputError) as cli:
        nightly_from_dict(doc)
    assert cli.value.field == f"{section}.{key}"
    r = api_lite.client.post("/v1/rebalancing/runs", json=body, headers=api_lite.h("ops"))
    assert r.status_code == 422, r.text
    (err,) = r.json()["errors"]
    assert err["field"] == field
    assert err["problem"].endswith(f"expected {cli.value.expected}")


def test_a_start_load_above_the_capacity_is_named_at_the_truck(api_lite: Api) -> None:
    body = copy.deepcopy(RUN)
    body["fleet"]["trucks"][0]["start_load"] = 21  # capacity 20
    r = api_lite.client.post("/v1/rebalancing/runs", json=body, headers=api_lite.h("ops"))
    assert r.status_code == 422, r.text
    (err,) = r.json()["errors"]
    assert err["field"] == "body.fleet.trucks.0"
    assert err["problem"] == "got 21; expected a start_load at most the capacity (20), or 'free'"
