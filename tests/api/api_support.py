"""Test support for the API tests: fake job kinds, settings, a client wrapper, request bodies."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.auth import create_key
from api.db import migrate, session_factory
from api.jobs import JobContext, JobOutput
from api.settings import LOCAL_HOSTS, ApiSettings

# --- fake job kinds (test-only stand-ins for the solvers) -----------------------------------------
FAKE_STATS = {
    "solver": "fake", "status": "optimal", "objective": 1.0, "bound": 1.0, "seconds": 0.1, "seed": 0,
}  # fmt: skip

FAKE_PLAN: dict[str, Any] = {
    "scenario": "fake",
    "new_stations": [
        {
            "id": "N1",
            "lat": 37.55,
            "lon": 126.91,
            "gu": "마포구",
            "dong": "망원동",
            "docks": 12,
            "bikes": 10,
            "population_newly_covered": 1500.0,
            "predicted_trips": None,
            "rank": 1,
            "candidate_id": 7,
            "reason": "coverage",
        },
    ],
    "existing_stations": [
        {
            "station_id": "ST-4",
            "number": 102,
            "name": "망원역 1번출구 앞",
            "gu": "마포구",
            "lat": 37.5556,
            "lon": 126.9104,
            "docks": 15,
            "bikes": 12,
        },
    ],
    "radius_m": 300.0,
    "min_spacing_m": 250.0,
    "population_source": "grid",
    "population_total": 2000.0,
    "districts": [],
    "city_before": {
        "stations": 1,
        "docks": 15,
        "bikes": 12,
        "population": 2000.0,
        "bikes_per_10k": 60.0,
        "covered_population": 500.0,
        "covered_share": 0.25,
    },
    "city_after": {
        "stations": 2,
        "docks": 27,
        "bikes": 22,
        "population": 2000.0,
        "bikes_per_10k": 110.0,
        "covered_population": 2000.0,
        "covered_share": 1.0,
    },
    "siting_stats": FAKE_STATS,
    "fleet_stats": FAKE_STATS,
    "provenance": {"code_version": "test", "datasets": {}},
}
"""A complete plan.json document (``Plan``), as the fake planner returns it."""

FAKE_ROUTES: dict[str, Any] = {
    "routes": [
        {
            "truck_id": "T01",
            "depot_id": "D1",
            "capacity": 20,
            "start_s": 79200.0,
            "end_s": 81300.0,
            "start_load": 0,
            "end_load": 2,
            "distance_km": 3.2,
            "stops": [
                {
                    "seq": 1,
                    "station_id": "ST-4",
                    "name": "망원역",
                    "lon": 126.9104,
                    "lat": 37.5556,
                    "arrival_s": 79800.0,
                    "departure_s": 80220.0,
                    "quantity": 10,
                    "load_after": 10,
                    "bikes_before": 25,
                    "bikes_after": 15,
                },
                {
                    "seq": 2,
                    "station_id": "ST-5",
                    "name": "합정역",
                    "lon": 126.9107,
                    "lat": 37.5547,
                    "arrival_s": 80400.0,
                    "departure_s": 80760.0,
                    "quantity": -8,
                    "load_after": 2,
                    "bikes_before": 0,
                    "bikes_after": 8,
                },
            ],
        },
    ],
    "totals": {
        "bikes_moved": 10,
        "km": 3.2,
        "truck_hours": 0.583,
        "trucks_used": 1,
        "stations_visited": 2,
        "dissatisfaction_before": 30.0,
        "dissatisfaction_after": 12.0,
        "driving_cost": 3.2,
        "objective": 15.2,
        "stations_empty_before": 1,
        "stations_empty_after": 0,
        "stations_full_before": 1,
        "stations_full_after": 0,
    },
    "still_empty": [],
    "still_full": [],
    "stats": {
        "solver": "fake",
        "status": "feasible",
        "objective": 15.2,
        "bound": None,
        "seconds": 0.1,
        "seed": 0,
    },
    "depots": [{"id": "D1", "name": "D1", "lon": 126.9016, "lat": 37.5663}],
}
"""A complete routes.json document (``RebalancingPlan``), as the fake solver returns it."""


def fake_scenario(inputs: dict[str, Any], ctx: JobContext) -> JobOutput:
    """Behaviour chosen by the scenario's description: ok / slow / sleep / fail / crash / hang / big."""
    mode = inputs["scenario"].get("description", "ok")
    if mode == "slow":  # works for about 4 s, then succeeds (fault tests strike meanwhile)
        for step in range(40):
            ctx.check()
            ctx.report(step / 40, "working")
            time.sleep(0.1)
    elif mode == "sleep":
        while not ctx.should_stop():
            ctx.report(0.5, "working")
            time.sleep(0.05)
        ctx.check()
    elif mode == "fail":
        from mobility.errors import InputError

        raise InputError("baseline.stations", "2030-01", "a known vintage")
    elif mode == "crash":
        raise RuntimeError("secret internal detail /etc/passwd")
    elif mode == "hang":  # ignores the stop flag for a while
        time.sleep(3.0)
    body = json.dumps(FAKE_PLAN, ensure_ascii=False).encode()
    if mode == "big":  # a plan of ~8 MB: more than a small disk holds
        body = json.dumps(FAKE_PLAN | {"padding": "x" * 8_000_000}, ensure_ascii=False).encode()
    return JobOutput(
        result={"kpis": {"new_stations": 1}, "links": {"plan": "plan"}},
        artifacts={"plan": ("application/json", body)},
    )


def fake_rebalancing(inputs: dict[str, Any], ctx: JobContext) -> JobOutput:
    """Returns fixed routes."""
    body = json.dumps(FAKE_ROUTES, ensure_ascii=False).encode()
    return JobOutput(
        result={"kpis": {"bikes_moved": 18}, "links": {"routes": "routes"}},
        artifacts={"routes": ("application/json", body)},
    )


def fake_job(inputs: dict[str, Any], ctx: JobContext) -> JobOutput:
    """Any other job kind (sweep, simulation, ...): succeeds at once with no artifact."""
    return JobOutput(result={"kpis": {}, "links": {}}, artifacts={})


FAKE_KINDS = {"scenario": fake_scenario, "rebalancing": fake_rebalancing}
"""The fakes by job kind; :func:`fake_job` stands in for every other kind."""


TEST_CLIENT_HOST = "testserver"
"""The ``Host`` of Starlette's test client: trusted by the test apps (:func:`make_settings`), as a
served API trusts its own names (:data:`api.settings.LOCAL_HOSTS`), not by a served one."""


def make_settings(url: str, **over: Any) -> ApiSettings:
    """Settings for an in-process test app (thread workers, fast heartbeats), which trusts the
    test client's host (:data:`TEST_CLIENT_HOST`) with this machine's."""
    base: dict[str, Any] = {
        "trusted_hosts": [*LOCAL_HOSTS, TEST_CLIENT_HOST],
        "database_url": url,
        "local_processes": False,
        "local_workers": 1,
        "max_concurrent_jobs": 2,
        "heartbeat_seconds": 0.1,
        "stale_after_seconds": 30,
        "grace_seconds": 0.5,
        "job_overhead_seconds": 0,
        "rate_limit": "100000/minute",
        "key_cache_seconds": 0,
        "max_body_bytes": 200_000,
    }
    base.update(over)
    return ApiSettings(**base)


class Api:
    """A running test app with one key per role."""

    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def h(self, role: str, **extra: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[role], **extra}

    def wait(self, path: str, role: str = "viewer", timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = self.client.get(path, headers=self.h(role)).json()
            if body["status"] in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
                return body
            time.sleep(0.05)


def keys_for(url: str) -> dict[str, str]:
    migrate(url)
    sessions = session_factory(url)
    return {
        role: create_key(sessions, role, f"{role}-user")[0] for role in ("planner", "ops", "viewer", "admin")
    }


SCENARIO: dict[str, Any] = {
    "name": "test-scenario",
    "description": "ok",
    "baseline": {"stations": "2019-12"},
    "fleet": {"total_bikes": 30000},
    "new_stations": {"max": 600},
    "solver": {"time_limit": 5},
}

RUN: dict[str, Any] = {
    "name": "tonight",
    "snapshot": {
        "name": "s",
        "stations": [
            {"station_id": "ST-4", "lon": 126.9104, "lat": 37.5556, "bikes": 25, "docks": 15, "target": 10},
            {"station_id": "ST-5", "lon": 126.9107, "lat": 37.5547, "bikes": 0, "docks": 15, "target": 8},
        ],
    },
    "fleet": {
        "depots": [{"id": "D1", "lon": 126.9016, "lat": 37.5663}],
        "trucks": [{"id": "T01", "depot": "D1", "capacity": 20}],
    },
    "time_limit": 5,
}


# --- processes of the over-HTTP tests (uvicorn, Dask scheduler and workers) ---------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"server not ready after {timeout} s:\n{log.read_text()[-3000:]}")
