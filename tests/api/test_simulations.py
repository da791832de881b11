"""Simulation jobs through the API: bodies validated (422 naming the field), real runs on the cluster."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest

from api import jobs
from api.runners import run_simulation
from mobility.errors import InputError
from tests.api.api_support import FAKE_PLAN, FAKE_ROUTES, RUN, SCENARIO, Api

BODY: dict[str, Any] = {"stations": "2025-12", "day": "2023-06-14", "replications": 4, "seed": 7}


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"stations": "../../etc/passwd"}, "stations"),
        ({"stations": "2031-01"}, "stations"),
        ({"day": "2031-06-01"}, "day"),
        ({"replications": 0}, "replications"),
        ({"rebalance_every_min": -60}, "rebalance_every_min"),
        ({"fleet": "60000:20000:5000"}, "fleet"),
        ({"fleet": "1000:100000:1000"}, "more than 25 points"),
        ({"fleet": "/tmp/x"}, "fleet"),
        ({"data_dir": "/etc"}, "data_dir"),
    ],
)
def test_bad_bodies_get_422_naming_the_field(api_lite: Api, extra: dict[str, Any], needle: str) -> None:
    r = api_lite.client.post("/v1/simulations", json=BODY | extra, headers=api_lite.h("planner"))
    assert r.status_code == 422, r.text
    assert needle in r.text
    assert "passwd" not in r.text or "server paths" in r.text  # the value quoted, nothing read


def test_viewers_cannot_submit(api_lite: Api) -> None:
    assert api_lite.client.post("/v1/simulations", json=BODY, headers=api_lite.h("viewer")).status_code == 403


def test_simulation_jobs_fan_out_on_the_cluster(api_lite: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job gets the cluster's client and its parts run as tasks; the figures match a local run."""
    import numpy as np

    from mobility.simulation import fanout
    from mobility.simulation.engine import SimulationRun

    seen: dict[str, Any] = {}

    def fake_simulation(inputs: dict[str, Any], ctx: jobs.JobContext) -> jobs.JobOutput:
        from tests.simulation.test_engine import make_problem

        p = make_problem(8, rate=1.0)
        runs = fanout.run_many(p, [None], inputs["replications"], inputs["seed"], ctx.dask_client, chunk=2)
        local = fanout.run_many(p, [None], inputs["replications"], inputs["seed"])
        seen["client"] = ctx.dask_client is not None
        seen["same"] = all(
            np.array_equal(a.counts, b.counts) for a, b in zip(runs, local, strict=True)
        ) and isinstance(runs[0], SimulationRun)
        return jobs.JobOutput(result={"kpis": {"ok": True}}, artifacts={})

    monkeypatch.setitem(jobs._KINDS, "simulation", fake_simulation)
    r = api_lite.client.post("/v1/simulations", json=BODY, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    done = api_lite.wait(r.headers["Location"], timeout=60)
    assert done["status"] == "succeeded", done
    assert seen == {"client": True, "same": True}


@pytest.mark.slow
def test_a_fleet_sweep_on_seoul(api_lite: Api, data_dir: Path) -> None:
    """The real model through the API, its points and replications as tasks on the cluster."""
    body = BODY | {"replications": 2, "fleet": "20000:30000:10000", "rebalance_every_min": 60}
    r = api_lite.client.post("/v1/simulations", json=body, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    loc = r.headers["Location"]
    done = api_lite.wait(loc, timeout=900)
    assert done["status"] == "succeeded", done
    points = done["kpis"]["points"]
    assert [p["fleet"] for p in points] == [20_000, 30_000]
    assert 150_000 <= points[0]["trips_demanded"] <= 200_000  # a June weekday
    assert points[0]["served_share"] <= points[1]["served_share"] + 0.005
    doc = api_lite.client.get(f"{loc}/result", headers=api_lite.h("viewer")).json()
    assert doc["provenance"]["fanned_out"] is True and doc["seed"] == 7 and doc["replications"] == 2
    assert doc["source"] == "2025-12"  # the library's SimulationSweep, as `mobility simulate sweep`
    assert {p["gu"] for p in doc["rows"]} >= {"citywide", "마포구"}
    assert [p["fleet"] for p in doc["citywide"]] == [20_000, 30_000]


# --- sources by what the server stores: a scenario's plan, a station list, a snapshot, routes -------


def _simulations(api: Api) -> int:
    """Simulation jobs in the database (every author and status)."""
    from sqlalchemy import func, select

    from api.db.models import Job

    with api.client.app.state.sessions() as s:  # type: ignore[attr-defined]
        return int(s.scalar(select(func.count()).select_from(Job).where(Job.kind == "simulation")) or 0)


def _finished(api: Api, path: str, body: dict[str, Any], role: str) -> str:
    r = api.client.post(path, json=body, headers=api.h(role))
    assert r.status_code == 202, r.text
    assert api.wait(r.headers["Location"])["status"] == "succeeded"
    return str(r.json()["id"])


def _snapshot(api: Api, stations: list[dict[str, Any]]) -> str:
    r = api.client.post(
        "/v1/rebalancing/snapshots", json={"name": "아침", "stations": stations}, headers=api.h("ops")
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


PLAN_SNAPSHOT = [
    {"station_id": "ST-4", "lon": 126.9104, "lat": 37.5556, "bikes": 3, "docks": 15},
    {"station_id": "N1", "lon": 126.91, "lat": 37.55, "bikes": 9, "docks": 12},
]
"""A status snapshot of the fake plan's two stations (api_support.FAKE_PLAN)."""

UNKNOWN = "0123456789abcdef0123456789abcdef"
DAY = {k: v for k, v in BODY.items() if k != "stations"}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"source": {"kind": "plan", "job_id": UNKNOWN}}, "body.source.job_id"),
        ({"source": {"kind": "station_list", "station_list_id": UNKNOWN}}, "body.source.station_list_id"),
        ({"snapshot_id": UNKNOWN}, "body.snapshot_id"),
        ({"routes_job_id": UNKNOWN}, "body.routes_job_id"),
        ({"source": {"kind": "plan", "job_id": "../plan.json"}}, "body.source.job_id"),
        ({"source": {"kind": "file", "path": "/etc/passwd"}}, "body.source.kind"),
        ({"source": {"kind": "vintage"}, "stations": "2025-12"}, "body"),  # both names of a vintage
    ],
)
def test_unknown_ids_get_422_naming_the_field_before_any_job(
    api_lite: Api, extra: dict[str, Any], field: str
) -> None:
    r = api_lite.client.post("/v1/simulations", json=DAY | extra, headers=api_lite.h("planner"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"].startswith(field), r.text
    assert _simulations(api_lite) == 0


def test_only_succeeded_jobs_of_the_right_kind_are_sources(api_lite: Api) -> None:
    """A running scenario has no plan yet; a rebalancing run is not a plan, nor a scenario routes."""
    busy = api_lite.client.post(
        "/v1/scenarios", json=SCENARIO | {"description": "sleep"}, headers=api_lite.h("planner")
    ).json()["id"]
    run = _finished(api_lite, "/v1/rebalancing/runs", RUN, "ops")
    plan = _finished(api_lite, "/v1/scenarios", SCENARIO, "planner")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"source": {"kind": "plan", "job_id": busy}}, "body.source.job_id", "expected a succeeded one"),
        ({"source": {"kind": "plan", "job_id": run}}, "body.source.job_id", "id of a scenario job"),
        ({"routes_job_id": plan}, "body.routes_job_id", "id of a rebalancing job"),
    ]
    for extra, field, problem in cases:
        body = DAY | extra
        r = api_lite.client.post("/v1/simulations", json=body, headers=api_lite.h("planner"))
        assert r.status_code == 422, r.text
        err = r.json()["errors"][0]
        assert err["field"] == field and problem in err["problem"], err
    api_lite.client.delete(f"/v1/scenarios/{busy}", headers=api_lite.h("planner"))
    assert _simulations(api_lite) == 0


def test_a_plan_snapshot_and_routes_are_stored_whole_and_read_as_the_cli_reads_them(
    api_lite: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ids become their content in the job's inputs (with the artifacts' SHA-256), and the
    worker reads that content with the library's readers (a Plan, a status table, a
    RebalancingPlan) into what ``mobility simulate plan.json --status S --routes R`` gives."""
    from api.runners import simulation_inputs
    from mobility.simulation.data import apply_routes, status_bikes

    seen: dict[str, Any] = {}

    def capture(inputs: dict[str, Any], ctx: jobs.JobContext) -> jobs.JobOutput:
        seen["inputs"] = inputs
        seen["req"], seen["start"] = simulation_inputs(inputs)
        return jobs.JobOutput(result={"kpis": {}}, artifacts={})

    monkeypatch.setitem(jobs._KINDS, "simulation", capture)
    plan = _finished(api_lite, "/v1/scenarios", SCENARIO, "planner")
    run = _finished(api_lite, "/v1/rebalancing/runs", RUN, "ops")
    snap = _snapshot(api_lite, PLAN_SNAPSHOT)
    body = {
        "source": {"kind": "plan", "job_id": plan},
        "snapshot_id": snap,
        "routes_job_id": run,
        "day": "2023-06-14",
    }
    r = api_lite.client.post("/v1/simulations", json=body, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    assert api_lite.wait(r.headers["Location"])["status"] == "succeeded"
    resolved = seen["inputs"]["resolved"]
    assert resolved["plan"] == FAKE_PLAN and resolved["routes"] == FAKE_ROUTES
    assert (
        resolved["plan_sha256"]
        == hashlib.sha256(json.dumps(FAKE_PLAN, ensure_ascii=False).encode()).hexdigest()
    )
    assert [s["bikes"] for s in resolved["snapshot"]] == [3, 9]
    start = seen["start"]
    stations = start["station_set"].table
    assert stations["station_id"].tolist() == ["ST-4", "N1"] and start["station_set"].bikes_from_source
    assert start["source"] == f"plan of scenario job {plan}"
    assert status_bikes(stations, start["status"]).tolist() == [3, 9]
    # FAKE_ROUTES also stops at ST-5, which the plan lacks: refused as routes of another network
    with pytest.raises(InputError, match="another network"):
        apply_routes(stations, np.array([12, 9]), start["routes"])


def test_a_stored_station_list_is_simulated_as_uploaded_stations(
    api_lite: Api, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    """The list's stations, placed in their districts as a scenario's uploaded baseline is."""
    from api.routes.stationlists import EXAMPLE
    from api.runners import simulation_inputs

    seen: dict[str, Any] = {}

    def capture(inputs: dict[str, Any], ctx: jobs.JobContext) -> jobs.JobOutput:
        seen["req"], seen["start"] = simulation_inputs(inputs)
        return jobs.JobOutput(result={"kpis": {}}, artifacts={})

    monkeypatch.setitem(jobs._KINDS, "simulation", capture)
    r = api_lite.client.post("/v1/station-lists", json=EXAMPLE, headers=api_lite.h("planner"))
    assert r.status_code == 201, r.text
    body = {"source": {"kind": "station_list", "station_list_id": r.json()["id"]}, "day": "2023-06-14"}
    r = api_lite.client.post("/v1/simulations", json=body, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    assert api_lite.wait(r.headers["Location"])["status"] == "succeeded"
    table = seen["start"]["station_set"].table
    assert table["station_id"].tolist() == ["ST-10", "ST-11"]
    assert table["name"].tolist() == ["망원역 1번출구 앞", "합정역 5번출구 앞"]
    assert table["gu"].tolist() == ["마포구", "마포구"] and table["docks"].tolist() == [15, 10]
    # numbered by the 2025-12 vintage's ids, so that their demand profiles and trips are found
    from mobility.sources.stations import load_station_list

    vintage = load_station_list("2025-12").table.set_index("station_id")["number"]
    assert "ST-11" not in vintage.index  # a station of no vintage: a new one
    assert table["number"].iloc[0] == int(vintage["ST-10"]) and pd.isna(table["number"].iloc[1])
    assert not seen["start"]["station_set"].bikes_from_source and seen["start"]["status"] is None


def test_the_older_stations_field_is_a_vintage_source(api_lite: Api, every_kind_faked: None) -> None:
    r = api_lite.client.post("/v1/simulations", json=BODY, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    # a job left running would outlive the app's cluster (a real one simulated Seoul meanwhile)
    assert api_lite.wait(r.headers["Location"])["status"] == "succeeded"
    from api.schemas import SimulationRequest

    req = SimulationRequest.model_validate(BODY)
    assert req.model_dump(mode="json")["source"] == {"kind": "vintage", "stations": "2025-12"}


def test_a_bad_start_fails_the_job_naming_the_body_field(data_dir: Path) -> None:
    """The real runner: routes that stop at a station the plan lacks fail before any network work,
    the error naming ``body.routes_job_id`` (not the CLI's ``--routes``)."""
    inputs = {
        "source": {"kind": "plan", "job_id": UNKNOWN},
        "routes_job_id": UNKNOWN,
        "day": "2023-06-14",
        "resolved": {"plan": FAKE_PLAN, "routes": FAKE_ROUTES},
    }
    with pytest.raises(InputError) as info:
        run_simulation(inputs, jobs.JobContext("j", 100.0))
    assert info.value.field.startswith("body.routes_job_id") and info.value.value == "ST-5"
    bad_snapshot = inputs | {"resolved": {"plan": FAKE_PLAN, "snapshot": PLAN_SNAPSHOT[:1]}}
    with pytest.raises(InputError) as info:
        run_simulation(bad_snapshot, jobs.JobContext("j", 100.0))
    assert info.value.field == "body.snapshot_id" and "N1" in str(info.value.value)


@pytest.mark.slow
def test_a_stored_station_list_and_snapshot_on_seoul(api_lite: Api, data_dir: Path) -> None:
    """The real model through the API on stored uploads: 마포구's stations of 2025-12 as a station
    list, a snapshot of them as the start inventory (about 12 s with warm caches)."""
    from mobility.sources.stations import load_station_list

    v = load_station_list("2025-12", data_dir=data_dir).table
    mapo = v[(v["gu"] == "마포구") & v["station_id"].notna() & v["docks"].notna()]
    stations: list[dict[str, Any]] = [
        {
            "station_id": r.station_id,
            "name": r.name,
            "lat": r.lat,
            "lon": r.lon,
            "docks": int(cast(float, r.docks)),
        }
        for r in mapo.itertuples()
    ]
    r = api_lite.client.post(
        "/v1/station-lists", json={"name": "마포구", "stations": stations}, headers=api_lite.h("planner")
    )
    assert r.status_code == 201, r.text
    snapshot = _snapshot(api_lite, [s | {"bikes": s["docks"] // 2} for s in stations])
    body = DAY | {
        "source": {"kind": "station_list", "station_list_id": r.json()["id"]},
        "snapshot_id": snapshot,
        "replications": 2,
    }
    r = api_lite.client.post("/v1/simulations", json=body, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    done = api_lite.wait(r.headers["Location"], timeout=900)
    assert done["status"] == "succeeded", done
    kpis = done["kpis"]
    assert kpis["start_inventory"] == "status snapshot"
    assert kpis["fleet"] == sum(s["docks"] // 2 for s in stations) and kpis["replications"] == 2
    doc = api_lite.client.get(f"{r.headers['Location']}/result", headers=api_lite.h("viewer")).json()
    assert doc["source"].startswith("station list ") and doc["provenance"]["seed"] == 7
    assert any(n.startswith("0 stations without a demand profile") for n in doc["notes"])  # all numbered
    # one district's stations get that district's riders (about 11,000 on a June weekday), not the
    # city's 165,000 poured into 118 stations (served share 0.27 before area_volume)
    assert 5_000 < doc["citywide"]["trips_demanded"]["mean"] < 25_000
    assert doc["citywide"]["served_share"]["mean"] > 0.7


def test_field_names_skip_a_union_tag_but_not_a_missing_field() -> None:
    """The error's field is the body's path: the tag pydantic adds for a union member is left
    out, a missing field keeps its own name even when a sibling's value spells it."""
    from api.app import _field_of

    body = {"source": {"kind": "plan", "job_id": "x"}}
    assert _field_of(("body", "source", "plan", "job_id"), {"type": "missing"}, body) == "body.source.job_id"
    named = {"name": "seed"}  # a value that spells the missing field's name
    assert _field_of(("body", "seed"), {"type": "missing"}, named) == "body.seed"
