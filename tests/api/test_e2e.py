"""End to end over real HTTP: uvicorn (``mobility serve``), a Dask scheduler and a worker.

Submits the 2019 expansion scenario (solver time shortened) and a rebalancing run, polls them,
downloads the plan and the routes in every format, and checks that a restarted API still
serves them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mobility.config import PROJECT_ROOT
from tests.api.api_support import RUN
from tests.api.api_support import free_port as _port
from tests.api.api_support import start_process as _start
from tests.api.api_support import stop_process as _stop
from tests.api.api_support import wait_ready as _wait_ready

BIN = Path(sys.executable).parent
SCENARIO_FILE = PROJECT_ROOT / "scenarios" / "seoul-2019-30k.yaml"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Scheduler, one worker with two threads (both jobs run at once), the API; planner and operator keys."""
    env = {
        **os.environ,
        "MOBILITY_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite'}",
        "MOBILITY_JOB_OVERHEAD_SECONDS": "600",
        # a cold cache builds the truck network inside the job; on a busy 2-core machine a
        # heartbeat can be late by more than the default 60 s and the job would be re-queued
        "MOBILITY_STALE_AFTER_SECONDS": "300",
        "PYTHONUNBUFFERED": "1",
    }
    sched_port, api_port = _port(), _port()
    sched = f"tcp://127.0.0.1:{sched_port}"
    env["MOBILITY_SCHEDULER_ADDRESS"] = sched
    keys = {}
    for role in ("planner", "ops"):
        out = subprocess.run(
            [str(BIN / "mobility"), "keys", "create", "--role", role, "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        keys[role] = json.loads(out.stdout)["key"]
    procs = [
        _start(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(sched_port),
                "--no-dashboard",
            ],
            env,
            tmp_path / "scheduler.log",
        ),
    ]
    time.sleep(2)
    procs.append(
        _start(
            [
                str(BIN / "dask"),
                "worker",
                sched,
                "--nthreads",
                "2",
                "--nworkers",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
                "--name",
                "e2e-worker",
            ],
            env,
            tmp_path / "worker.log",
        )
    )
    url = f"http://127.0.0.1:{api_port}"
    api_cmd = [str(BIN / "mobility"), "serve", "--host", "127.0.0.1", "--port", str(api_port)]
    procs.append(_start(api_cmd, env, tmp_path / "api.log"))
    try:
        _wait_ready(url, procs[-1], tmp_path / "api.log")
        yield {"url": url, "keys": keys, "procs": procs, "api_cmd": api_cmd, "env": env, "tmp": tmp_path}
    finally:
        for p in reversed(procs):
            _stop(p)


def _poll(c: httpx.Client, path: str, key: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = c.get(path, headers={"X-API-Key": key}).json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        if time.monotonic() > deadline:
            pytest.fail(f"{path} still {body['status']} after {timeout} s: {body}")
        time.sleep(1.0)


@pytest.mark.slow
def test_scenario_and_rebalancing_over_http(stack: dict[str, Any], data_dir: Path) -> None:
    url, keys = stack["url"], stack["keys"]
    scenario = yaml.safe_load(SCENARIO_FILE.read_text(encoding="utf-8"))
    scenario["solver"]["time_limit"] = 10
    scenario["simulation"] = {"replications": 2}  # trips served before/after, kept short
    with httpx.Client(base_url=url, timeout=60) as c:
        r = c.post(
            "/v1/scenarios", json=scenario, headers={"X-API-Key": keys["planner"], "Idempotency-Key": "e2e"}
        )
        assert r.status_code == 202, r.text
        scen_loc = r.headers["Location"]
        r = c.post("/v1/rebalancing/runs", json=RUN | {"time_limit": 5}, headers={"X-API-Key": keys["ops"]})
        assert r.status_code == 202, r.text
        run_loc = r.headers["Location"]

        run = _poll(c, run_loc, keys["ops"], 300)  # generous: a cold cache in CI builds the network
        assert run["status"] == "succeeded", run
        assert run["kpis"]["valid"] is True and run["kpis"]["bikes_moved"] > 0
        sheet = c.get(f"{run_loc}/routes?format=csv", headers={"X-API-Key": keys["ops"]})
        assert sheet.status_code == 200 and "truck_id" in sheet.content.decode("utf-8-sig")

        done = _poll(c, scen_loc, keys["planner"], 300)
        assert done["status"] == "succeeded", done
        assert done["kpis"]["new_stations"] > 0
        assert done["kpis"]["valid"] is True, done["kpis"]["violations"]  # mobility.placement.validate
        # the job drew the plan's map layers as it finished: the first visitor does not wait for them
        with contextlib.closing(sqlite3.connect(stack["tmp"] / "e2e.sqlite")) as db:
            rows = db.execute("SELECT name FROM job_artifacts WHERE job_id = ?", (done["id"],)).fetchall()
        assert {"export:layers/coverage.geojson", "export:layers/districts.geojson"} <= {r[0] for r in rows}
        layer = c.get(f"{scen_loc}/layers/coverage.geojson", headers={"X-API-Key": keys["planner"]})
        assert layer.status_code == 200 and layer.json()["type"] == "FeatureCollection"
        plan = c.get(f"{scen_loc}/plan", headers={"X-API-Key": keys["planner"]}).json()
        assert (
            plan["scenario"] == "seoul-2019-30k" and len(plan["new_stations"]) == done["kpis"]["new_stations"]
        )
        served = plan["city_after"]["served_share"]  # what the web app shows next to coverage
        assert 0.5 < served["low"] <= served["mean"] <= served["high"] <= 1.0
        assert plan["simulation"]["before"]["figures"]["served_share"] == plan["city_before"]["served_share"]
        gj = c.get(
            f"{scen_loc}/plan", headers={"X-API-Key": keys["planner"], "Accept": "application/geo+json"}
        )
        assert gj.json()["type"] == "FeatureCollection"
        csv_text = c.get(f"{scen_loc}/plan?format=csv", headers={"X-API-Key": keys["planner"]}).text
        assert csv_text.count("\n") == len(plan["new_stations"]) + len(plan["existing_stations"]) + 1
        metrics = c.get("/metrics").text
        assert 'mobility_jobs{status="succeeded"} 2.0' in metrics

    # Restart the API: the records and results are still there.
    _stop(stack["procs"][-1])
    stack["procs"][-1] = _start(stack["api_cmd"], stack["env"], stack["tmp"] / "api2.log")
    _wait_ready(url, stack["procs"][-1], stack["tmp"] / "api2.log")
    with httpx.Client(base_url=url, timeout=60) as c:
        again = c.get(scen_loc, headers={"X-API-Key": keys["planner"]}).json()
        assert again["status"] == "succeeded" and again["id"] == done["id"]
        assert c.get(f"{scen_loc}/plan", headers={"X-API-Key": keys["planner"]}).json() == plan
