"""Simulation jobs through the API: bodies validated (422 naming the field), real runs on the cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_support import Api

from api import jobs

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
    assert doc["fanned_out"] is True and doc["seed"] == 7 and doc["replications"] == 2
    assert {p["gu"] for p in doc["points"]} >= {"citywide", "마포구"}
