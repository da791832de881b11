"""Load test of the HTTP API on loopback: plan reads and scenario submissions.

Starts ``mobility serve`` in a subprocess (SQLite in a temporary folder, jobs recorded but not
run, so the submissions measure the API and not the solver), stores one plan, then drives the
server from this process with concurrent ``httpx`` async clients:

* ``GET /healthz`` — the baseline (no key, no database): what the server and client cost alone;
* ``GET /v1/scenarios/{id}/plan`` — the stored plan JSON (cached bytes after the first read),
  plain and gzip-encoded (``Accept-Encoding: gzip``, compressed once and cached);
* ``POST /v1/scenarios`` — a scenario submission (validation, one database insert).

Prints a table with throughput and p50/p99 latency, each p99 as a ratio to the baseline's,
the machine, and a last line of JSON. Bounded: ``--requests`` per endpoint and ``--max-seconds``.

Usage: ``.venv/bin/python bench/api.py [--clients 50] [--requests 3000] [--plan out/.../plan.json]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path and would shadow the ``api`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
BIN = Path(sys.executable).parent

SCENARIO: dict[str, Any] = {
    "name": "bench",
    "baseline": {"stations": "2019-12"},
    "fleet": {"total_bikes": 30000},
    "new_stations": {"max": 600},
    "solver": {"time_limit": 60},
}


def machine() -> dict[str, Any]:
    """Cores, RAM, CPU model and load of this machine."""
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    except OSError:
        mem = float("nan")
    return {
        "cores": os.cpu_count(),
        "ram_gb": round(mem, 1),
        "cpu": model,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }


def synthetic_plan() -> dict[str, Any]:
    """A plan document of the 2019 scenario's size (600 new + 1,540 existing stations)."""
    rng = np.random.default_rng(0)
    lon = rng.uniform(126.8, 127.15, 2140)
    lat = rng.uniform(37.45, 37.68, 2140)
    new = [
        {
            "id": f"N{i:04d}",
            "lat": float(lat[i]),
            "lon": float(lon[i]),
            "gu": "마포구",
            "dong": "망원동",
            "docks": 15,
            "bikes": 12,
            "population_newly_covered": 1234.5,
            "predicted_trips": None,
            "rank": i + 1,
            "candidate_id": i,
            "reason": "coverage",
        }
        for i in range(600)
    ]
    old = [
        {
            "station_id": f"ST-{i}",
            "number": i,
            "name": f"{i}. 망원역 1번출구 앞",
            "gu": "마포구",
            "lat": float(lat[600 + i]),
            "lon": float(lon[600 + i]),
            "docks": 15,
            "bikes": 10,
        }
        for i in range(1540)
    ]
    return {"scenario": "seoul-2019-30k", "new_stations": new, "existing_stations": old}


def store_plan(url: str, plan: dict[str, Any]) -> tuple[str, str, int]:
    """Migrate, create a planner key, store a succeeded job with the plan; returns (job id, key, bytes)."""
    import hashlib

    from api.auth import create_key
    from api.db import migrate, session_factory
    from api.db.models import Job, JobArtifact, utcnow

    migrate(url)
    sessions = session_factory(url)
    key, rec = create_key(sessions, "planner", "bench")
    body = json.dumps(plan, ensure_ascii=False, separators=(",", ":")).encode()
    job_id = uuid.uuid4().hex
    with sessions() as s:
        s.add(
            Job(
                id=job_id,
                kind="scenario",
                status="succeeded",
                progress=1.0,
                author="bench",
                owner_key_id=rec.id,
                request_hash="-",
                inputs={"name": "bench"},
                time_limit=60,
                attempts=1,
                cancel_requested=False,
                result={"kpis": {}, "links": {"plan": "plan"}},
                finished_at=utcnow(),
            )
        )
        s.flush()
        s.add(
            JobArtifact(
                job_id=job_id,
                name="plan",
                media_type="application/json",
                sha256=hashlib.sha256(body).hexdigest(),
                body=body,
            )
        )
        s.commit()
    return job_id, key, len(body)


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send one HTTP/1.1 request on a kept-alive connection; read the whole response; its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


def _request(method: str, path: str, headers: dict[str, str], body: Any, port: int) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def drive(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any,
    clients: int,
    requests: int,
    max_seconds: float,
) -> dict[str, Any]:
    """``clients`` kept-alive connections sharing ``requests``; latencies in ms.

    The client is a minimal HTTP/1.1 loop on asyncio streams (not httpx): on a 2-core machine
    shared with the server, a heavier client would measure itself.
    """
    lat: list[float] = []
    errors: dict[str, int] = {}
    left = requests
    raw = _request(method, path, headers, body, port)

    async def loop(deadline: float) -> None:
        nonlocal left
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**24)
        try:
            await _one(reader, writer, raw)  # warm-up
            while left > 0 and time.perf_counter() < deadline:
                left -= 1
                t = time.perf_counter()
                try:
                    code = await _one(reader, writer, raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**24)
                    continue
                lat.append((time.perf_counter() - t) * 1000)
                if code >= 400:
                    errors[str(code)] = errors.get(str(code), 0) + 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*[loop(t0 + max_seconds) for _ in range(clients)])
    wall = time.perf_counter() - t0
    arr = np.array(lat) if lat else np.array([float("nan")])
    return {
        "requests": len(lat),
        "errors": sum(errors.values()),
        "error_codes": errors,
        "rps": round(len(lat) / wall, 1),
        "p50_ms": round(float(np.percentile(arr, 50)), 2),
        "p99_ms": round(float(np.percentile(arr, 99)), 2),
        "max_ms": round(float(arr.max()), 2),
    }


def server_latency(metrics: str) -> dict[str, Any]:
    """Share of requests the server itself handled within 10 / 50 ms, per route (its histogram)."""
    out: dict[str, Any] = {}
    for line in metrics.splitlines():
        if not line.startswith("mobility_http_request_duration_seconds_bucket"):
            continue
        labels, value = line.rsplit(" ", 1)
        route = labels.split('route="', 1)[1].split('"', 1)[0]
        le = labels.split('le="', 1)[1].split('"', 1)[0]
        out.setdefault(route, {})[le] = float(value)
    shares = {}
    for route, b in out.items():
        total = b.get("+Inf", 0.0)
        if total:
            shares[route] = {
                "n": int(total),
                "within_10ms": round(b.get("0.01", 0) / total, 4),
                "within_50ms": round(b.get("0.05", 0) / total, 4),
            }
    return shares


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=3000, help="per endpoint")
    ap.add_argument("--max-seconds", type=float, default=40.0, help="per endpoint")
    ap.add_argument("--plan", type=Path, help="a plan.json to serve (default: synthetic, 2019-scenario size)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mobility-bench-api-"))
    db = f"sqlite:///{tmp / 'bench.sqlite'}"
    plan = json.loads(args.plan.read_text(encoding="utf-8")) if args.plan else synthetic_plan()
    job_id, key, plan_bytes = store_plan(db, plan)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "MOBILITY_DATABASE_URL": db,
        "MOBILITY_RUN_JOBS": "false",
        "MOBILITY_RATE_LIMIT": "1000000/minute",
    }
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen(
        [
            str(BIN / "mobility"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit("server did not start; see " + str(tmp / "server.log"))
        h = {"X-API-Key": key}
        runs = {
            "GET /healthz (baseline)": asyncio.run(
                drive(port, "GET", "/healthz", {}, None, args.clients, args.requests, args.max_seconds)
            ),
            "GET /v1/scenarios/{id}/plan": asyncio.run(
                drive(
                    port,
                    "GET",
                    f"/v1/scenarios/{job_id}/plan",
                    h,
                    None,
                    args.clients,
                    args.requests,
                    args.max_seconds,
                )
            ),
            "GET .../plan (gzip)": asyncio.run(
                drive(
                    port,
                    "GET",
                    f"/v1/scenarios/{job_id}/plan",
                    h | {"Accept-Encoding": "gzip"},
                    None,
                    args.clients,
                    args.requests,
                    args.max_seconds,
                )
            ),
            "POST /v1/scenarios": asyncio.run(
                drive(
                    port, "POST", "/v1/scenarios", h, SCENARIO, args.clients, args.requests, args.max_seconds
                )
            ),
        }
        server_side = server_latency(httpx.get(f"{url}/metrics", timeout=10).text)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
    base = runs["GET /healthz (baseline)"]["p99_ms"]
    m = machine()
    print(
        f"mobility API load test: {args.clients} concurrent clients on loopback, one uvicorn process, "
        f"SQLite; plan {plan_bytes / 1024:.0f} KiB"
    )
    print(
        f"{'endpoint':32} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'p99/base':>9}"
    )
    for name, r in runs.items():
        ratio = r["p99_ms"] / base if base else float("nan")
        r["p99_vs_baseline"] = round(ratio, 2)
        print(
            f"{name:32} {r['requests']:8d} {r['errors']:6d} {r['rps']:8.1f} {r['p50_ms']:8.2f} "
            f"{r['p99_ms']:8.2f} {ratio:9.2f}"
        )
    print(f"machine: {m['cores']} cores, {m['ram_gb']} GB, {m['cpu']}, load {m['load_avg_1m']} (shared)")
    for route, sh in sorted(server_side.items()):
        print(
            f"server-side (own histogram) {route}: {sh['within_10ms']:.1%} within 10 ms, "
            f"{sh['within_50ms']:.1%} within 50 ms of {sh['n']} requests"
        )
    plan_run = runs["GET /v1/scenarios/{id}/plan"]
    target = {"plan_p99_ms_max": 50, "met": plan_run["p99_ms"] <= 50 and plan_run["errors"] == 0}
    print(
        json.dumps(
            {
                "bench": "api",
                "clients": args.clients,
                "plan_bytes": plan_bytes,
                "results": runs,
                "target": target,
                "machine": m,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
