"""Simulation jobs as the other job kinds: listed (``GET /v1/simulations``), and a fleet sweep's
result the library's own document (``SimulationSweep``, as ``mobility simulate sweep`` writes
``sweep.json``), documented in the OpenAPI document by the schema the library generates."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest

from api import jobs
from api.runners import run_simulation
from mobility.simulation import pipeline
from mobility.simulation.pipeline import Prepared
from mobility.simulation.sweep import SimulationSweep, sweep_json_schema
from tests.api.api_support import FAKE_PLAN, FAKE_ROUTES, Api

BODY: dict[str, Any] = {"stations": "2025-12", "day": "2023-06-14", "replications": 2, "seed": 7}
SWEEP = BODY | {"fleet": "20000:30000:10000"}


def _prepared(*_args: Any, **_kwargs: Any) -> Prepared:
    return Prepared(
        model=None,  # type: ignore[arg-type]  # the fake sweep does not simulate
        day=pd.Timestamp("2023-06-14"),
        bikes=np.array([3]),
        start_inventory="estimated from docks",
        source="2025-12",
        datasets={"trips": "2023-06"},
    )


def _table(
    prep: Prepared, fleets: list[int], replications: int, seed: int, client: Any = None
) -> pd.DataFrame:
    rows = [
        {"fleet": f, "gu": gu, "trips_demanded": 10.0, "served_share": share,
         "served_share_low": share - 0.01, "served_share_high": share + 0.01,
         "lost_empty": 1.0, "full_arrivals": 0.0, "seconds": 0.1}
        for f, share in zip(fleets, (0.9, 0.96), strict=True)
        for gu in ("citywide", "마포구")
    ]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real runner over a fake rider model and sweep (the library's pipeline, not the job)."""
    monkeypatch.setattr(pipeline, "prepare", _prepared)
    monkeypatch.setattr(pipeline, "sweep", _table)


def _sweep_schema(doc: dict[str, Any]) -> dict[str, Any]:
    ok = doc["paths"]["/v1/simulations/{job_id}/result"]["get"]["responses"]["200"]
    schema: dict[str, Any] = ok["content"]["application/json"]["schema"]
    return schema


def test_a_fleet_sweep_result_is_the_library_document(api_lite: Api, fake_model: None) -> None:
    r = api_lite.client.post("/v1/simulations", json=SWEEP, headers=api_lite.h("planner"))
    assert r.status_code == 202, r.text
    loc = r.headers["Location"]
    done = api_lite.wait(loc, timeout=60)
    assert done["status"] == "succeeded", done
    points = done["kpis"]["points"]  # the citywide rows
    assert [(p["fleet"], p["gu"]) for p in points] == [(20_000, "citywide"), (30_000, "citywide")]
    served = api_lite.client.get(f"{loc}/result", headers=api_lite.h("viewer")).json()
    doc = SimulationSweep.model_validate(served)
    assert doc.fleet_for_95pct == 30_000 and [p.fleet for p in doc.citywide] == [20_000, 30_000]
    assert doc.source == "2025-12" and doc.replications == 2 and doc.seed == 7 and len(doc.rows) == 4
    assert served["provenance"]["fanned_out"] is True and served["provenance"]["seed"] == 7
    assert doc.provenance.fanned_out is True  # a field of the document: kept when read back
    openapi = api_lite.client.get("/openapi.json").json()
    validator = jsonschema.Draft202012Validator(
        _sweep_schema(openapi) | {"components": openapi["components"]}
    )
    validator.validate(served)


def test_the_runner_outside_the_cluster_says_so(fake_model: None) -> None:
    out = run_simulation(SWEEP, jobs.JobContext("j", 100.0))
    doc = SimulationSweep.model_validate_json(out.artifacts["result"][1])
    assert doc.provenance.seed == 7 and doc.seconds >= 0 and doc.provenance.fanned_out is False
    assert out.result["kpis"]["points"][0]["trips_demanded"] == 10.0  # the citywide rows, whole


def test_the_result_route_documents_both_generated_schemas(api_lite: Api) -> None:
    openapi = api_lite.client.get("/openapi.json").json()
    schemas = openapi["components"]["schemas"]
    refs = [s["$ref"] for s in _sweep_schema(openapi)["anyOf"]]
    assert refs == ["#/components/schemas/SimulationResult", "#/components/schemas/SimulationSweep"]
    generated = sweep_json_schema()
    fleet = schemas["SimulationSweep"]
    assert fleet["title"] == generated["title"] and fleet["required"] == generated["required"]
    assert fleet["properties"].keys() == generated["properties"].keys()
    assert schemas["Sweep"]["title"] != fleet["title"]  # the plan's curve keeps its own component
    assert "FleetPoint" in schemas


def test_simulation_jobs_are_listed_like_the_other_kinds(
    api_lite: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(jobs._KINDS, "simulation", lambda inputs, ctx: jobs.JobOutput(result={"kpis": {}}))
    ids = []
    for _ in range(2):
        r = api_lite.client.post("/v1/simulations", json=BODY, headers=api_lite.h("planner"))
        assert r.status_code == 202, r.text
        assert api_lite.wait(r.headers["Location"])["status"] == "succeeded"
        ids.append(r.json()["id"])
    r = api_lite.client.get("/v1/simulations?limit=1", headers=api_lite.h("viewer"))
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 2 and [j["id"] for j in page["items"]] == ids[1:]  # newest first
    assert page["items"][0]["links"]["self"] == f"/v1/simulations/{ids[1]}"
    failed = api_lite.client.get("/v1/simulations?status=failed", headers=api_lite.h("viewer")).json()
    assert failed["total"] == 0
    r = api_lite.client.get("/v1/simulations?limit=0", headers=api_lite.h("viewer"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit"
    assert api_lite.client.get("/v1/simulations").status_code == 401


SNAPSHOT_ID, ROUTES_JOB, PLAN_JOB = "a" * 32, "b" * 32, "c" * 32
STORED_SNAPSHOT = [{"station_id": "ST-4", "bikes": 3}, {"station_id": "N1", "bikes": 9}]


def _sweep_provenance(inputs: dict[str, Any]) -> dict[str, Any]:
    out = run_simulation(inputs, jobs.JobContext("j", 100.0))
    prov: dict[str, Any] = json.loads(out.artifacts["result"][1])["provenance"]
    return prov


def test_a_simulation_records_its_stored_snapshot_routes_and_plan(fake_model: None) -> None:
    """From a scenario job's plan, a stored snapshot and a rebalancing job's routes: the
    provenance names each (``station_set``, ``status``, ``routes``, as ``mobility simulate``
    names the files it reads) with its id and a hash of its content, and records the request by
    its ids, without the content. The routes' hash is the one their run's morning.json records."""
    from mobility.provenance import content_version
    from mobility.rebalancing.plan import routes_version

    request = SWEEP | {
        "source": {"kind": "plan", "job_id": PLAN_JOB},
        "snapshot_id": SNAPSHOT_ID,
        "routes_job_id": ROUTES_JOB,
    }
    request.pop("stations")
    resolved = {"plan": FAKE_PLAN, "snapshot": STORED_SNAPSHOT, "routes": FAKE_ROUTES}
    prov = _sweep_provenance(request | {"resolved": resolved})
    ds = prov["datasets"]
    assert ds["status"] == content_version(STORED_SNAPSHOT, snapshot_id=SNAPSHOT_ID, stations=2)
    assert ds["routes"] == {"job_id": ROUTES_JOB, **routes_version(FAKE_ROUTES)}
    assert ds["station_set"] == content_version(FAKE_PLAN, job_id=PLAN_JOB)
    assert prov["scenario"]["request"] == request  # the ids, not the content they resolved to
    assert prov["seed"] == 7 and prov["scenario"]["trips"] == "2023-06"  # the library's record kept
    # other content under the same ids, another hash
    more = [dict(STORED_SNAPSHOT[0], bikes=4), STORED_SNAPSHOT[1]]
    other = _sweep_provenance(request | {"resolved": resolved | {"snapshot": more}})
    assert other["datasets"]["status"]["sha256"] != ds["status"]["sha256"]


def test_a_simulation_records_its_stored_station_list(fake_model: None) -> None:
    from mobility.provenance import content_version

    records = [
        {"station_id": "ST-10", "name": "망원역 1번출구 앞", "lat": 37.5556, "lon": 126.9104, "docks": 15},
    ]
    request = {k: v for k, v in SWEEP.items() if k != "stations"} | {
        "source": {"kind": "station_list", "station_list_id": SNAPSHOT_ID}
    }
    prov = _sweep_provenance(request | {"resolved": {"station_records": records}})
    assert prov["datasets"]["station_set"] == content_version(
        records, station_list_id=SNAPSHOT_ID, stations=1
    )
    assert prov["scenario"]["request"] == request and "status" not in prov["datasets"]
