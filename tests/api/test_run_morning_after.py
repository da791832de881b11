"""A rebalancing run asked for ``morning_after`` simulates the next morning, as ``mobility
rebalance`` does: the ops role gets what the night buys in riders from its own run."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import jobs
from api.app import create_app
from api.runners import run_rebalancing
from mobility.simulation.morning import MorningAfter
from tests.api.api_support import RUN, Api, keys_for, make_settings

METHODS = ["no rebalancing", "greedy dispatcher", "ours"]


def _run(**over: Any) -> dict[str, Any]:
    body = copy.deepcopy(RUN) | {"time_limit": 1, "options": {"network": "straight"}} | over
    body["snapshot"]["date"] = "2023-06-13"  # a Tuesday: the morning after is a weekday
    return body


@pytest.fixture
def api_real(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Iterator[Api]:
    """The app with the real rebalancing kind (straight-line travel, two stations: seconds)."""
    monkeypatch.setitem(jobs._KINDS, "rebalancing", run_rebalancing)
    keys = keys_for(sqlite_url)
    settings = make_settings(sqlite_url, job_overhead_seconds=120)  # time for the morning after
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, keys)


@pytest.mark.slow
def test_a_run_with_morning_after_serves_morning_json(api_real: Api) -> None:
    r = api_real.client.post(
        "/v1/rebalancing/runs", json=_run(morning_after={"replications": 3}), headers=api_real.h("ops")
    )
    assert r.status_code == 202, r.text
    run = api_real.wait(r.headers["Location"], "ops", timeout=120)
    assert run["status"] == "succeeded", run
    assert run["links"]["morning"].endswith("/morning")
    assert list(run["kpis"]["morning_after"]) == METHODS
    got = api_real.client.get(run["links"]["morning"], headers=api_real.h("ops"))
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
    morning = MorningAfter.model_validate(got.json())
    assert (morning.day, morning.replications, morning.stations) == ("2023-06-14", 3, 2)
    assert [o.method for o in morning.outcomes] == METHODS
    assert morning.provenance is not None and morning.provenance.seed == 0
    ours = run["kpis"]["morning_after"]["ours"]
    assert ours["lost_empty"] == pytest.approx(morning.outcomes[2].lost_empty.mean, abs=0.05)
    # JSON only: there is no GeoJSON or CSV of a morning (nor is one offered: ?format= takes json only)
    csv = api_real.client.get(f"{run['links']['morning']}?format=csv", headers=api_real.h("ops"))
    assert csv.status_code == 422 and "got 'csv'; expected 'json'" in csv.json()["detail"]
    accept = api_real.client.get(run["links"]["morning"], headers=api_real.h("ops", Accept="text/csv"))
    assert accept.status_code == 406 and "json" in accept.json()["detail"]


@pytest.mark.slow
def test_tonights_run_simulates_its_morning_as_a_forecast(api_real: Api) -> None:
    """The night of 2026-12-06 (the demand data ends in 2025-12): the run is accepted, its
    morning of Monday 7 December is simulated from the forecast rates, and morning.json says so.
    It used to be a 422 ("the rider model's rates ... cover 2019-2025")."""
    body = _run(morning_after={"replications": 2})
    body["snapshot"]["date"] = "2026-12-06"
    r = api_real.client.post("/v1/rebalancing/runs", json=body, headers=api_real.h("ops"))
    assert r.status_code == 202, r.text
    run = api_real.wait(r.headers["Location"], "ops", timeout=120)
    assert run["status"] == "succeeded", run
    morning = MorningAfter.model_validate(
        api_real.client.get(run["links"]["morning"], headers=api_real.h("ops")).json()
    )
    assert (morning.day, morning.day_type, morning.forecast_from) == ("2026-12-07", "weekday", "2026-01")
    assert any("forecast from the history before 2026-01" in n for n in morning.notes)


@pytest.mark.slow
def test_the_morning_s_model_column_is_at_the_curves_level(api_real: Api) -> None:
    """A run aiming at the demand curves (no targets of its own) on a June night: the curves are
    capped at the profiles' level (auto), and the morning after's model column takes that level,
    as mobility rebalance's does (it took the uncapped 1.36 of the season)."""
    body = _run(morning_after={"replications": 2})  # the night of 2023-06-13
    for s in body["snapshot"]["stations"]:
        s.pop("target")
    r = api_real.client.post("/v1/rebalancing/runs", json=body, headers=api_real.h("ops"))
    run = api_real.wait(r.headers["Location"], "ops", timeout=120)
    assert run["status"] == "succeeded", run
    routes = api_real.client.get(run["links"]["routes"], headers=api_real.h("ops")).json()
    morning = api_real.client.get(run["links"]["morning"], headers=api_real.h("ops")).json()
    assert routes["meta"]["targets"] == "demand" and routes["meta"]["demand_level"] == 1.0
    assert morning["model_level"] == 1.0


@pytest.mark.slow
def test_a_run_without_morning_after_has_none(api_real: Api) -> None:
    r = api_real.client.post("/v1/rebalancing/runs", json=_run(), headers=api_real.h("ops"))
    run = api_real.wait(r.headers["Location"], "ops", timeout=60)
    assert run["status"] == "succeeded" and "morning" not in run["links"], run.get("error")
    assert "morning_after" not in run["kpis"]
    assert (
        api_real.client.get(f"{r.headers['Location']}/morning", headers=api_real.h("ops")).status_code == 404
    )


def test_a_morning_after_needs_the_nights_date(api_lite: Api) -> None:
    """Inline or stored, a snapshot without a date asks for ``morning_after.night``; with it, the
    run is queued."""
    body = _run(morning_after={})
    del body["snapshot"]["date"]
    r = api_lite.client.post("/v1/rebalancing/runs", json=body, headers=api_lite.h("ops"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body.morning_after.night"
    stored = api_lite.client.post(
        "/v1/rebalancing/snapshots", json=body["snapshot"], headers=api_lite.h("ops")
    )
    by_id = {k: v for k, v in body.items() if k != "snapshot"} | {"snapshot_id": stored.json()["id"]}
    r = api_lite.client.post("/v1/rebalancing/runs", json=by_id, headers=api_lite.h("ops"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.morning_after.night", r.text
    dated = by_id | {"morning_after": {"night": "2023-06-13"}}
    assert (
        api_lite.client.post("/v1/rebalancing/runs", json=dated, headers=api_lite.h("ops")).status_code == 202
    )


def test_the_morning_route_documents_the_morning_after_schema(api_lite: Api) -> None:
    doc = api_lite.client.get("/openapi.json").json()
    ok = doc["paths"]["/v1/rebalancing/runs/{job_id}/morning"]["get"]["responses"]["200"]["content"]
    assert list(ok) == ["application/json"]
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/MorningAfter"}
    run = doc["components"]["schemas"]["RebalancingRunRequest"]["properties"]
    assert "morning_after" in run


@pytest.mark.slow
def test_a_run_without_time_for_the_morning_says_so(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No time left after solving (no job overhead): the routes are kept, the morning after is
    left out, and the run's ``notes`` say why (they were stored and never shown)."""
    monkeypatch.setitem(jobs._KINDS, "rebalancing", run_rebalancing)
    keys = keys_for(sqlite_url)
    with TestClient(create_app(make_settings(sqlite_url)), raise_server_exceptions=False) as client:
        api = Api(client, keys)
        body = _run(morning_after={}, options={"network": "straight", "targets": "snapshot"})  # no curves
        r = client.post("/v1/rebalancing/runs", json=body, headers=api.h("ops"))
        run = api.wait(r.headers["Location"], "ops", timeout=60)
    assert run["status"] == "succeeded" and "morning" not in run["links"], run.get("error")
    assert any("the morning after was not simulated" in n for n in run["notes"]), run["notes"]


@pytest.mark.parametrize(
    ("over", "shown"),
    [
        ({"morning_after": {"night": "2027-12-31"}}, "2027-12-31"),  # its morning is 2028-01-01
        ({"morning_after": {}, "snapshot_date": "2028-03-01"}, "2028-03-01"),
        ({"morning_after": {"night": "2018-12-31"}}, "2018-12-31"),
    ],
)
def test_a_night_the_rider_model_does_not_cover_is_refused_before_the_solve(
    api_lite: Api, over: dict[str, Any], shown: str
) -> None:
    """The run used to be accepted, solve, and fail with '--day: got ...' and no routes. Nights
    up to two years past the demand data are simulated as a forecast (tonight's included)."""
    body = _run(morning_after=over["morning_after"])
    body["snapshot"]["date"] = over.get("snapshot_date", body["snapshot"]["date"])
    r = api_lite.client.post("/v1/rebalancing/runs", json=body, headers=api_lite.h("ops"))
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "body.morning_after.night" and f"got '{shown}'" in err["problem"]
    assert "2019-01-01 to 2027-12-30" in err["problem"]
    # a stored snapshot of that date, by its id: the same answer
    stored = api_lite.client.post(
        "/v1/rebalancing/snapshots", json=body["snapshot"], headers=api_lite.h("ops")
    )
    by_id = {k: v for k, v in body.items() if k != "snapshot"} | {"snapshot_id": stored.json()["id"]}
    r = api_lite.client.post("/v1/rebalancing/runs", json=by_id, headers=api_lite.h("ops"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.morning_after.night", r.text


def test_a_morning_that_cannot_be_simulated_keeps_the_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever stops the simulation (here a stand-in error naming a server path), the solved
    routes are the run's result and a note says why there is no morning after, without the path."""
    from api.jobs import JobContext
    from api.schemas import RebalancingRunRequest
    from mobility.errors import DataNotFoundError
    from mobility.simulation import morning

    def missing(*_a: Any, **_k: Any) -> None:
        raise DataNotFoundError("trip tables", ["/srv/data/secret/trips.csv"], "run mobility data fetch")

    monkeypatch.setattr(morning, "morning_after", missing)
    inputs = RebalancingRunRequest.model_validate(_run(morning_after={})).model_dump(mode="json")
    out = run_rebalancing(inputs, JobContext("t", 120.0))
    assert "routes" in out.artifacts and "morning" not in out.artifacts
    (note,) = [n for n in out.result["notes"] if "morning after" in n]
    assert note.startswith("the morning after was not simulated: ") and "/srv" not in note
