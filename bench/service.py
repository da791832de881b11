"""Load test of the HTTP API on loopback: plan reads and scenario submissions.

Starts ``mobility serve`` in a subprocess (SQLite in a temporary folder, jobs recorded but not
run, so the submissions measure the API and not the solver), stores one plan, then drives the
server with ``--clients`` concurrent keep-alive connections from a load generator:

* ``wrk`` (C, epoll; Debian package ``wrk``) when it is installed: a separate process that costs
  the 2-core machine little CPU, so the figures measure the server, not the client;
* otherwise (or with ``--generator python``) a minimal HTTP/1.1 loop on asyncio streams in this
  process, which competes with the server for the same cores.

The generator used is printed; ``--generator both`` runs every endpoint with each, in one run.
Endpoints:

* ``GET /healthz`` — the baseline (no key, no database): what the server and client cost alone;
* ``GET /v1/scenarios/{id}/plan`` — the stored plan JSON (cached bytes after the first read),
  plain and gzip-encoded (``Accept-Encoding: gzip``, compressed once and cached);
* ``POST /v1/scenarios`` — a scenario submission (validation, one database insert).

Prints a table with throughput and p50/p99 latency, each p99 as a ratio to the baseline's,
the machine, and a last line of JSON. Bounded: ``--requests`` per endpoint and ``--max-seconds``.

``--mixed``: mixed traffic instead, for ``--seconds`` per run at each of ``--mixed-clients``
(50 and 200): first reads only (the baseline), then 90 % reads (the plan as JSON and as a GeoJSON
map layer, the station list, a job's status, in turn; with ``Accept-Encoding: gzip`` as browsers
and HTTP libraries send it, unless ``--identity``) and 10 % scenario submissions, with p50/p99,
throughput and errors per class; whether submissions slow reads down is the ratio of the two read
p99s. With wrk, reads and submissions come from two wrk processes at once (so each class has its
own latency histogram), the submissions paced with wrk's ``delay()`` at a ninth of the reads-only
throughput; the share they reached is printed. Without wrk, the Python generator.

Usage: ``.venv/bin/python bench/service.py [--clients 50] [--generator auto|wrk|python|both]
[--seconds 10] [--workers 1] [--requests 3000] [--plan out/.../plan.json]``;
``.venv/bin/python bench/service.py --mixed --workers 2 --seconds 20``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

from mobility.benchcli import (
    ProgressLines,
    existing_file,
    non_negative_float,
    positive_float,
    positive_int,
    positive_int_list,
    run_main,
    scratch_dir,
    share,
)
from mobility.machine import describe, machine

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

SCENARIO: dict[str, Any] = {
    "name": "bench",
    "baseline": {"stations": "2019-12"},
    "fleet": {"total_bikes": 30000},
    "new_stations": {"max": 600},
    "solver": {"time_limit": 60},
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
    city = {
        "stations": 2140, "docks": 32100, "bikes": 22600, "population": 9.4e6, "bikes_per_10k": 24.0,
        "covered_population": 4.7e6, "covered_share": 0.5,
    }  # fmt: skip
    stats = {
        "solver": "synthetic", "status": "feasible", "objective": 0.0, "bound": None,
        "seconds": 0.0, "seed": 0,
    }  # fmt: skip
    return {  # a complete plan.json document (mobility.placement.plan.Plan)
        "scenario": "seoul-2019-30k",
        "radius_m": 300.0,
        "min_spacing_m": 250.0,
        "population_source": "grid",
        "population_total": 9.4e6,
        "new_stations": new,
        "existing_stations": old,
        "districts": [],
        "city_before": city,
        "city_after": city,
        "siting_stats": stats,
        "fleet_stats": stats,
        "provenance": {"code_version": "bench", "datasets": {}},
    }


def store_plan(url: str, plan: dict[str, Any], *, as_job: bool = False) -> tuple[str, str, int]:
    """Migrate, create a planner key, store a succeeded job with the plan; returns (job id, key, bytes).

    ``as_job``: also store what a scenario job stores as it finishes (its map layers,
    :func:`api.routes.maps.prerender`); otherwise the server renders them on the first request.
    """

    from api.auth import create_key
    from api.db import migrate, session_factory
    from api.db.models import Job, JobArtifact, utcnow
    from api.routes.maps import prerender

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
        artifacts = {"plan": ("application/json", body)}
        if as_job:
            artifacts.update(prerender(job_id, body))
        for name, (media_type, data) in artifacts.items():
            s.add(JobArtifact.of(job_id, name, media_type, data))
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


async def drive_mixed(
    port: int,
    reads: list[tuple[str, str, dict[str, str], Any]],
    post: tuple[str, str, dict[str, str], Any] | None,
    clients: int,
    seconds: float,
    post_share: float,
    seed: int = 0,
) -> dict[str, Any]:
    """``clients`` kept-alive connections for ``seconds``, each request a read (round robin over
    ``reads``) or, with probability ``post_share``, the submission ``post``; latencies per class.

    Closed loop: each client sends its next request when the previous answer is in, so a slow
    submission holds only its own client, and the reads' latency shows whether submissions
    slow them down (compare with ``post_share=0`` at the same number of clients).
    """
    rng = np.random.default_rng(seed)
    raws = [_request(m, p, h, b, port) for m, p, h, b in reads]
    raw_post = _request(*post, port) if post is not None else b""
    lat: dict[str, list[float]] = {"read": [], "submit": []}
    errors: dict[str, int] = {}
    draws = rng.random(200_000)  # which requests are submissions, fixed by the seed
    counter = 0

    async def loop(deadline: float, k: int) -> None:
        nonlocal counter
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**24)
        try:
            await _one(reader, writer, raws[k % len(raws)])  # warm-up
            i = k
            while time.perf_counter() < deadline:
                counter += 1
                submit = post is not None and draws[counter % len(draws)] < post_share
                raw = raw_post if submit else raws[i % len(raws)]
                i += 1
                t = time.perf_counter()
                try:
                    code = await _one(reader, writer, raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**24)
                    continue
                lat["submit" if submit else "read"].append((time.perf_counter() - t) * 1000)
                if code >= 400:
                    errors[str(code)] = errors.get(str(code), 0) + 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*[loop(t0 + seconds, k) for k in range(clients)])
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {"seconds": round(wall, 1), "errors": sum(errors.values()), "error_codes": errors}
    for cls, values in lat.items():
        arr = np.array(values) if values else np.array([float("nan")])
        out[cls] = {
            "requests": len(values),
            "rps": round(len(values) / wall, 1),
            "p50_ms": round(float(np.percentile(arr, 50)), 2),
            "p99_ms": round(float(np.percentile(arr, 99)), 2),
            "max_ms": round(float(arr.max()), 2),
        }
    out["rps"] = round(sum(len(v) for v in lat.values()) / wall, 1)
    return out


WRK_SCRIPT = """
local reqs = {{}}
local i = 0
init = function(args)
{requests}
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
{delay}
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {{"requests":%d,"duration_us":%d,"status_errors":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}}\\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""

Request = tuple[str, str, dict[str, str], Any]
"""(method, path, headers, JSON body or None)."""


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal for ASCII text


def wrk_script(
    requests: list[Request], delay_ms: float | None = None, hold: tuple[int, float] | None = None
) -> str:
    """A wrk Lua script that sends ``requests`` in turn on each connection, each after
    ``delay_ms`` (wrk's ``delay()``: an open-loop rate per connection) if given.

    ``hold`` = (connections, ms): the first request of each of the wrk thread's ``connections``
    waits ``ms`` instead, so every connection is open and accepted by the server before the
    measured traffic starts (wrk times a request from its first byte written, so the wait
    itself is not counted). Without it, a saturated uvloop server accepts one waiting
    connection per event-loop iteration, and the first requests of a burst of new connections
    wait seconds in the listen queue (see ``drive_mixed_wrk``)."""
    lines = []
    for k, (method, path, headers, body) in enumerate(requests, start=1):
        hdrs = dict(headers) | ({"Content-Type": "application/json"} if body is not None else {})
        table = "{" + ", ".join(f"[{_lua(a)}] = {_lua(b)}" for a, b in hdrs.items()) + "}"
        data = _lua(json.dumps(body)) if body is not None else "nil"
        lines.append(f"  reqs[{k}] = wrk.format({_lua(method)}, {_lua(path)}, {table}, {data})")
    every = max(0, round(delay_ms)) if delay_ms else 0
    if hold is not None:
        # wrk calls delay() once before each request; the first calls are the connections' first
        delay = (
            f"local calls = 0\ndelay = function()\n  calls = calls + 1\n"
            f"  if calls <= {hold[0]} then return {max(0, round(hold[1]))} end\n  return {every}\nend"
        )
    else:
        delay = f"delay = function() return {every} end" if every else ""
    return WRK_SCRIPT.format(requests="\n".join(lines), delay=delay)


def start_wrk(port: int, script: str, clients: int, seconds: float, threads: int) -> subprocess.Popen[str]:
    """Start ``wrk`` (``threads`` threads, ``clients`` connections, ``seconds``) with ``script``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    return subprocess.Popen(
        [
            "wrk",
            f"-t{max(1, min(threads, clients))}",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            f.name,
            f"http://127.0.0.1:{port}/",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_wrk(proc: subprocess.Popen[str], seconds: float, held_s: float = 0.0) -> dict[str, Any]:
    """Wait for a ``wrk`` of :func:`start_wrk`; its figures (latencies in ms); the rate is over
    the run's duration less ``held_s`` (the connections' idle start, see :func:`wrk_script`).

    wrk's ``summary.errors.status`` counts responses with status >= 400.
    """
    out, err = proc.communicate(timeout=seconds + 60)
    script = proc.args[-2] if isinstance(proc.args, list) else ""
    Path(str(script)).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed ({proc.returncode}): {err.strip()[:300]}")
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    r = json.loads(line[len("WRKJSON ") :])
    socket_errors = {k: r[k] for k in ("connect", "read", "write", "timeout") if r[k]}
    errors = r["status_errors"] + sum(socket_errors.values())
    return {
        "requests": r["requests"],
        "errors": errors,
        "error_codes": {"status>=400": r["status_errors"], **socket_errors} if errors else {},
        "rps": round(r["requests"] / max(r["duration_us"] / 1e6 - held_s, 1e-3), 1),
        "p50_ms": round(r["p50_us"] / 1000, 2),
        "p99_ms": round(r["p99_us"] / 1000, 2),
        "max_ms": round(r["max_us"] / 1000, 2),
    }


def drive_wrk(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any,
    clients: int,
    seconds: float,
    threads: int,
) -> dict[str, Any]:
    """Run ``wrk`` on one endpoint for ``seconds``; latencies in ms."""
    script = wrk_script([(method, path, headers, body)])
    return finish_wrk(start_wrk(port, script, clients, seconds, threads), seconds)


def drive_mixed_wrk(
    port: int,
    reads: list[Request],
    post: Request | None,
    clients: int,
    seconds: float,
    post_rps: float,
    think_ms: float = 0.0,
    hold_ms: float = 0.0,
) -> dict[str, Any]:
    """Reads (in turn) on ``clients`` connections from one wrk; with ``post``, a second wrk at the
    same time sends submissions on a tenth of the connections at about ``post_rps`` in all
    (wrk's per-connection ``delay()``), so each class has its own latency distribution.
    ``think_ms`` > 0: each read client waits that long before each request (a person's pace,
    not a closed loop that saturates the server).

    ``hold_ms`` > 0: every connection is opened, then waits ``hold_ms`` before its first request,
    and the figures are those of the ``seconds`` that follow (kept-alive clients that are
    already connected). Without it the first requests of the 200 new connections are timed while
    they wait to be accepted: uvloop (libuv >= 1.45) accepts one connection per event-loop
    iteration, and with a hundred busy connections on a worker an iteration takes tens of
    milliseconds, so the last connections of the burst waited seconds (the listen queue held
    100-140 connections one second into a closed-loop run at load 4-9, drained after 6-8 s), in
    the reads-only or the mixed run, whichever the burst hit: read p99 2-7 s against 0.3-0.4 s
    in the runs without a queue."""
    n_post = max(1, clients // 10) if post is not None else 0
    n_read = clients - n_post
    hold_s = hold_ms / 1000.0
    read_hold = (n_read, hold_ms) if hold_ms else None
    run_s = seconds + hold_s
    proc_reads = start_wrk(port, wrk_script(reads, think_ms or None, read_hold), n_read, run_s, 1)
    proc_post = None
    if post is not None:
        delay = 1000.0 * n_post / max(post_rps, 1e-3)
        post_hold = (n_post, hold_ms + delay) if hold_ms else None
        proc_post = start_wrk(port, wrk_script([post], delay, post_hold), n_post, run_s, 1)
    read = finish_wrk(proc_reads, run_s, hold_s)
    none: dict[str, Any] = {"requests": 0, "errors": 0, "error_codes": {}, "rps": 0.0}
    none |= {"p50_ms": None, "p99_ms": None, "max_ms": None}
    submit = finish_wrk(proc_post, run_s, hold_s) if proc_post is not None else none
    codes = {f"read {k}": v for k, v in read["error_codes"].items()} | {
        f"submit {k}": v for k, v in submit["error_codes"].items()
    }
    return {
        "seconds": seconds,
        "errors": read["errors"] + submit["errors"],
        "error_codes": codes,
        "read": {k: read[k] for k in ("requests", "rps", "p50_ms", "p99_ms", "max_ms")},
        "submit": {k: submit[k] for k in ("requests", "rps", "p50_ms", "p99_ms", "max_ms")},
        "rps": round(read["rps"] + submit["rps"], 1),
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


def pick_generator(choice: str) -> list[str]:
    """Generators to run: ``wrk`` when installed (auto), else the Python one; ``both`` runs each."""
    has_wrk = shutil.which("wrk") is not None
    if choice in ("wrk", "both") and not has_wrk:
        print(f"--generator {choice}: wrk is not installed (apt-get install wrk); using the Python generator")
        return ["python"]
    if choice == "auto":
        return ["wrk"] if has_wrk else ["python"]
    return ["wrk", "python"] if choice == "both" else [choice]


ENDPOINTS = (
    "GET /healthz (baseline)",
    "GET /v1/scenarios/{id}/plan",
    "GET .../plan (gzip)",
    "GET .../plan (If-None-Match)",
    "POST /v1/scenarios",
)


READS = (
    "GET /v1/scenarios/{id}/plan (JSON)",
    "GET /v1/scenarios/{id}/plan (GeoJSON map layer)",
    "GET /v1/stations (station list GeoJSON)",
    "GET /v1/scenarios/{id} (job status)",
)


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server process ``pid`` and its descendants
    (the uvicorn workers): unlike latency, CPU per request barely moves when other work shares
    the cores, so it compares runs made under different loads."""
    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def connection_split(pid: int, port: int) -> list[int]:
    """Established connections to ``port`` held by each process under ``pid`` (the uvicorn
    workers), most first: the workers share one listening socket and each keeps the kept-alive
    connections it accepted, so a closed loop is only as fast as the busiest worker allows."""
    counts = []
    for proc in psutil.Process(pid).children(recursive=True):
        try:
            conns = proc.net_connections("tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        n = sum(1 for c in conns if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port)
        if n:
            counts.append(n)
    return sorted(counts, reverse=True)


def wait_settled(pid: int, limit: float = 180.0, idle_share: float = 0.1) -> float:
    """Wait until the server ``pid`` (and its workers) uses less than ``idle_share`` of a core over
    a second, at most ``limit`` seconds; the seconds waited. ``mobility serve`` answers /readyz
    while its workers still warm the web app's basemap in a thread (more than a core for 20-25 s
    on the shared machine), which would be measured as the API's latency and CPU."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        before = server_cpu_seconds(pid)
        time.sleep(1.0)
        used = server_cpu_seconds(pid) - before  # negative when a child exited: not settled yet
        if 0 <= used < idle_share:
            break
    return time.monotonic() - start


def with_cpu(
    pid: int, run: Callable[..., dict[str, Any]], *args: Any, port: int = 0, split_after: float = 0.0
) -> dict[str, Any]:
    """``run(*args)``'s figures plus the server's CPU milliseconds per request answered during it
    and, with ``port``, how the connections were split between the workers ``split_after``
    seconds into the run."""
    split: list[int] = []
    probe = threading.Timer(split_after, lambda: split.extend(connection_split(pid, port)))
    if port:
        probe.start()
    before = server_cpu_seconds(pid)
    out = run(*args)
    used = server_cpu_seconds(pid) - before
    probe.cancel()
    answered = out["read"]["requests"] + out["submit"]["requests"]
    out["server_cpu_s"] = round(used, 2)
    out["cpu_ms_per_request"] = round(1000 * used / answered, 3) if answered else None
    out["connections_per_worker"] = split
    return out


def _drive_mixed_sync(*args: Any) -> dict[str, Any]:
    return asyncio.run(drive_mixed(*args))


def run_mixed(
    args: argparse.Namespace, url: str, port: int, key: str, job_id: str, server_pid: int
) -> dict[str, Any]:
    """Reads only, then 90 % reads / 10 % submissions, at each ``--mixed-clients``; per-class figures."""
    # Reads accept gzip as browsers and HTTP libraries (httpx, requests) do, unless --identity.
    h = {"X-API-Key": key} | ({} if args.identity else {"Accept-Encoding": "gzip"})
    plan_path = f"/v1/scenarios/{job_id}/plan"
    reads = [
        ("GET", plan_path, h, None),
        ("GET", plan_path, h | {"Accept": "application/geo+json"}, None),
        ("GET", "/v1/stations", h, None),
        ("GET", f"/v1/scenarios/{job_id}", h, None),
    ]
    for _, path, headers, _ in reads:  # warm-up: first loads (station list) are not measured
        r = httpx.get(url + path, headers=headers, timeout=120)
        if r.status_code != 200:
            raise SystemExit(f"warm-up {path}: {r.status_code} {r.text[:200]}")
    # ... on every worker process: a few seconds on many connections, not measured (each worker
    # loads the station list and converts and compresses each representation once).
    if args.mixed_generator == "wrk":
        drive_mixed_wrk(port, reads, None, 64, 5.0, 0.0)
    else:
        asyncio.run(drive_mixed(port, reads, None, 16, 4.0, 0.0))
    post = ("POST", "/v1/scenarios", h, SCENARIO)
    out: dict[str, Any] = {}
    share = args.post_share
    for clients in args.mixed_clients:
        if args.mixed_generator == "wrk":
            run = (port, reads, None, clients, args.seconds, 0.0, args.think_ms, args.hold_ms)
            at = {"port": port, "split_after": args.hold_ms / 1000 + 1.0}
            only = with_cpu(server_pid, drive_mixed_wrk, *run, **at)
            post_rps = only["read"]["rps"] * share / (1 - share)
            mixed = with_cpu(
                server_pid,
                drive_mixed_wrk,
                *run[:2],
                post,
                clients,
                args.seconds,
                post_rps,
                args.think_ms,
                args.hold_ms,
                **at,
            )
        else:
            only = with_cpu(server_pid, _drive_mixed_sync, port, reads, None, clients, args.seconds, 0.0)
            mixed = with_cpu(server_pid, _drive_mixed_sync, port, reads, post, clients, args.seconds, share)
        total = mixed["read"]["requests"] + mixed["submit"]["requests"]
        out[str(clients)] = {
            "reads_only": only,
            "mixed": mixed,
            "submit_share": round(mixed["submit"]["requests"] / total, 3) if total else None,
            "load_avg_1m": round(os.getloadavg()[0], 2),
        }
    return out


def cpu_explains(run: dict[str, Any], clients: int) -> float | None:
    """The read latency ratio (mixed / reads only) that the submissions' CPU alone explains in a
    closed loop: there a read waits behind the work the other connections queued (Little's law:
    latency = connections / throughput), so with a CPU-bound server the ratio is (read
    connections, mixed / reads only) x (server CPU per read served, submissions' CPU included,
    mixed / reads only). A larger measured ratio means reads waited for something other than CPU."""
    only, mixed = run["reads_only"], run["mixed"]
    if not only["read"]["requests"] or not mixed["read"]["requests"]:
        return None
    per_read_only = only["server_cpu_s"] / only["read"]["requests"]
    per_read_mixed = mixed["server_cpu_s"] / mixed["read"]["requests"]
    n_read = clients - max(1, clients // 10)
    return round(n_read / clients * per_read_mixed / per_read_only, 2)


def print_mixed(args: argparse.Namespace, runs: dict[str, Any], plan_bytes: int) -> None:
    """The mixed-traffic table and the last JSON line."""
    m = machine()
    print(
        f"mobility API mixed load: {1 - args.post_share:.0%} reads ({'; '.join(READS)}), "
        f"{args.post_share:.0%} POST /v1/scenarios; {args.seconds:g} s per run; {args.workers} uvicorn "
        f"worker process(es), SQLite, jobs recorded not run; plan {plan_bytes / 1024:.0f} KiB; "
        f"reads {'uncompressed' if args.identity else 'with Accept-Encoding: gzip'}; "
        + (
            f"read clients think {args.think_ms:g} ms between requests; "
            if args.think_ms
            else "closed loop; "
        )
        + (
            "wrk generator (reads and submissions from two wrk processes at once, submissions paced; "
            + (
                f"connections open and idle {args.hold_ms:g} ms before the measured traffic)"
                if args.hold_ms
                else "new connections timed from their first request, listen queue included)"
            )
            if args.mixed_generator == "wrk"
            else "python generator (same machine)"
        )
    )
    print(
        f"{'clients  run':22} {'class':7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'errors':>6} {'load':>5} {'CPU ms/req':>10} {'conns/worker':>12}"
    )
    for clients, r in runs.items():
        for run in ("reads_only", "mixed"):
            for cls in ("read", "submit"):
                x = r[run][cls]
                if not x["requests"]:
                    continue
                print(
                    f"{clients:>7}  {run:12} {cls:7} {x['requests']:8d} {x['rps']:8.1f} {x['p50_ms']:8.2f} "
                    f"{x['p99_ms']:8.2f} {x['max_ms']:8.1f} {r[run]['errors']:6d} {r['load_avg_1m']:5.2f} "
                    f"{r[run]['cpu_ms_per_request']:10.3f} "
                    f"{'/'.join(map(str, r[run].get('connections_per_worker', []))):>12}"
                )
        base = r["reads_only"]["read"]["p99_ms"]
        r["reads_p99_mixed_vs_reads_only"] = round(r["mixed"]["read"]["p99_ms"] / base, 2) if base else None
        r["cpu_explains"] = cpu_explains(r, int(clients))
        print(
            f"{clients:>7}  reads p99 with submissions / reads only: {r['reads_p99_mixed_vs_reads_only']} "
            f"(the server CPU the submissions add explains {r['cpu_explains']} in a closed loop); "
            f"submissions were {r['submit_share']:.1%} of the mixed run's requests"
        )
    print(f"machine: {describe(m)}")
    at50 = runs.get("50", {})
    target = {
        "reads_p99_ms_max": 50,
        "clients": 50,
        "met": bool(at50)
        and at50["mixed"]["read"]["p99_ms"] <= 50
        and at50["mixed"]["errors"] == 0
        and at50["reads_only"]["errors"] == 0,
    }
    print(
        json.dumps(
            {
                "bench": "api-mixed",
                "workers": args.workers,
                "post_share": args.post_share,
                "generator": args.mixed_generator,
                "think_ms": args.think_ms,
                "hold_ms": args.hold_ms,
                "seconds": args.seconds,
                "plan_bytes": plan_bytes,
                "results": runs,
                "target": target,
                "machine": m,
            },
            ensure_ascii=False,
        )
    )


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--mixed",
        action="store_true",
        help="mixed traffic instead: reads only, then 90%% reads / 10%% submissions, per --mixed-clients",
    )
    ap.add_argument(
        "--mixed-clients",
        type=positive_int_list,
        default=[50, 200],
        help="client counts of --mixed (comma-separated)",
    )
    ap.add_argument("--post-share", type=share, default=0.1, help="--mixed: share of submissions")
    ap.add_argument(
        "--think-ms",
        type=non_negative_float,
        default=0.0,
        help="--mixed with wrk: each read client waits this long before each request (0: closed loop)",
    )
    ap.add_argument(
        "--hold-ms",
        type=non_negative_float,
        default=2000.0,
        help="--mixed with wrk: open every connection, wait this long, then start the measured "
        "traffic (0: time the first requests of the new connections too, listen queue included)",
    )
    ap.add_argument(
        "--identity", action="store_true", help="--mixed: reads without Accept-Encoding: gzip (uncompressed)"
    )
    ap.add_argument("--clients", type=positive_int, default=50)
    ap.add_argument(
        "--generator",
        choices=["auto", "wrk", "python", "both"],
        default="auto",
        help="load generator: wrk if installed (auto), the in-process Python one, or both in turn",
    )
    ap.add_argument("--seconds", type=positive_float, default=10.0, help="wrk: duration per endpoint")
    ap.add_argument(
        "--wrk-threads", type=positive_int, default=1, help="wrk threads (1 leaves a core to the server)"
    )
    ap.add_argument(
        "--requests", type=positive_int, default=3000, help="python generator: requests per endpoint"
    )
    ap.add_argument(
        "--max-seconds", type=positive_float, default=40.0, help="python generator: cap per endpoint"
    )
    ap.add_argument(
        "--workers", type=positive_int, default=1, help="uvicorn worker processes (mobility serve --workers)"
    )
    ap.add_argument("--skip-post", action="store_true", help="leave out POST /v1/scenarios")
    ap.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (database, server log) at the end"
    )
    ap.add_argument(
        "--plan", type=existing_file, help="a plan.json to serve (default: synthetic, 2019-scenario size)"
    )
    args = ap.parse_args(argv)
    generators = pick_generator(args.generator)

    with scratch_dir("mobility-bench-api-", keep=args.keep) as tmp:
        _load_test(args, generators, tmp)


def _load_test(args: argparse.Namespace, generators: list[str], tmp: Path) -> None:
    """Start the server with its database in ``tmp``, drive it and print the results."""
    step = ProgressLines()
    step("storing the plan and starting the server")
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
    cmd = [
        str(BIN / "mobility"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    if args.workers > 1:
        cmd += ["--workers", str(args.workers)]
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    runs: dict[str, dict[str, Any]] = {}
    try:
        for _ in range(900):  # up to 3 minutes: a busy shared machine starts processes slowly
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            log.flush()
            tail = (tmp / "server.log").read_text(encoding="utf-8", errors="replace")[-2000:]
            raise SystemExit(f"server did not start; its log ends with:\n{tail}")
        step("server up; waiting until its start-up work is done")
        settled = wait_settled(server.pid)
        print(f"server idle {settled:.0f} s after it answered /readyz (start-up work in its threads)")
        if args.mixed:
            args.mixed_generator = "wrk" if "wrk" in generators and args.generator != "python" else "python"
            mixed_runs = run_mixed(args, url, port, key, job_id, server.pid)
            print_mixed(args, mixed_runs, plan_bytes)
            return
        h = {"X-API-Key": key}
        plan_path = f"/v1/scenarios/{job_id}/plan"
        etag = httpx.get(url + plan_path, headers=h, timeout=10).headers["ETag"]
        specs: dict[str, tuple[str, str, dict[str, str], Any]] = {
            ENDPOINTS[0]: ("GET", "/healthz", {}, None),
            ENDPOINTS[1]: ("GET", plan_path, h, None),
            ENDPOINTS[2]: ("GET", plan_path, h | {"Accept-Encoding": "gzip"}, None),
            ENDPOINTS[3]: ("GET", plan_path, h | {"If-None-Match": etag}, None),
        }
        if not args.skip_post:
            specs[ENDPOINTS[4]] = ("POST", "/v1/scenarios", h, SCENARIO)
        for gen in generators:
            for name, (method, path, headers, body) in specs.items():
                step(f"{gen}: {name}")
                if gen == "wrk":
                    r = drive_wrk(
                        port, method, path, headers, body, args.clients, args.seconds, args.wrk_threads
                    )
                else:
                    r = asyncio.run(
                        drive(
                            port, method, path, headers, body, args.clients, args.requests, args.max_seconds
                        )
                    )
                runs[f"{gen}: {name}"] = r | {"generator": gen, "endpoint": name}
        server_side = server_latency(httpx.get(f"{url}/metrics", timeout=10).text)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
        log.close()
    m = machine()
    print(
        f"mobility API load test: {args.clients} concurrent keep-alive clients on loopback, "
        f"{args.workers} uvicorn worker process(es), SQLite; plan {plan_bytes / 1024:.0f} KiB; "
        f"load generator(s): {', '.join(generators)}"
        + (f" (wrk -t{args.wrk_threads}, {args.seconds:g} s per endpoint)" if "wrk" in generators else "")
    )
    print(
        f"{'generator: endpoint':42} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'p99/base':>8}"
    )
    for gen in generators:
        base = runs[f"{gen}: {ENDPOINTS[0]}"]["p99_ms"]
        for name in specs:
            r = runs[f"{gen}: {name}"]
            ratio = r["p99_ms"] / base if base else float("nan")
            r["p99_vs_baseline"] = round(ratio, 2)
            print(
                f"{gen + ': ' + name:42} {r['requests']:8d} {r['errors']:6d} {r['rps']:8.1f} "
                f"{r['p50_ms']:7.2f} {r['p99_ms']:7.2f} {ratio:8.2f}"
            )
    print(f"machine: {describe(m)}")
    for route, sh in sorted(server_side.items()):
        print(
            f"server-side (own histogram{', one worker' if args.workers > 1 else ''}) {route}: "
            f"{sh['within_10ms']:.1%} within 10 ms, {sh['within_50ms']:.1%} within 50 ms "
            f"of {sh['n']} requests"
        )
    plan_run = runs[f"{generators[0]}: {ENDPOINTS[1]}"]
    target = {
        "plan_p99_ms_max": 50,
        "generator": generators[0],
        "met": plan_run["p99_ms"] <= 50 and plan_run["errors"] == 0,
    }
    print(
        json.dumps(
            {
                "bench": "api",
                "clients": args.clients,
                "workers": args.workers,
                "generators": generators,
                "plan_bytes": plan_bytes,
                "results": runs,
                "target": target,
                "machine": m,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    run_main(main)
