"""The web app in a real browser on localhost: how soon the plan page is usable, and how smooth the map is.

Starts ``mobility serve`` (SQLite in a temporary folder, jobs not run) with one stored plan (a
real ``plan.json``: the 2019 scenario, 1,540 + 600 = 2,140 stations), then drives headless Debian
Chromium (Playwright) against it, with software WebGL: Mesa's llvmpipe by default (``--gl
llvmpipe``) or Chromium's SwiftShader (``--gl swiftshader``):

* **plan page usable**: from navigation until the plan page is *usable*, which here means: the
  citywide and district tables are filled, the map has drawn every station over the basemap
  (``#plan-map[data-usable]``, set at the map's first ``idle`` after the stations are added), and
  a click on a new station, made at that moment, has opened its popup. The district choropleth
  and the walking coverage are drawn after that; **all layers** is the time until they are drawn
  and the map is idle again (``#plan-map[data-ready]``). The first visit (the plan stored as a
  finished job stores it, with its coverage and district layers) and the median of later visits
  (new browser context, nothing cached by the browser). Each visit opens the app at ``#/plans``
  first (as a planner arrives at a plan from the list) and is timed from the move to
  ``#/plan/<id>``. Baseline,
  same plan, same browser: the offline HTML map export (``map.html``, plotly) until its plot is
  drawn.
* **map smoothness**: frames per second (``requestAnimationFrame``), the 95th-percentile frame
  time and the CPU time of Chromium's GPU process per frame (software WebGL rasterises there;
  the CPU time moves less with the other jobs on the machine than the frame rate) while the map
  pans and zooms for ``--animate`` seconds, with 3,000 stations, the district choropleth and the
  walking coverage drawn; baseline: the same animation over the basemap alone; and, to show where
  the frame time goes, the 3,000 stations without the areas. The three take turns for
  ``--rounds`` rounds in the same page (order swapped every round); ratios are per round.

Also per visit, the longest wait for the server's first byte by kind of request (the plan, tiles,
layers, other API calls), so that a slow first response shows as the server's, not the browser's.

Prints the figures with their ratios, the machine (cores, memory, load average) and a last line
of JSON. Usage: ``.venv/bin/python bench/web.py --plan PLAN.json [--visits 5] [--animate 4]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from mobility.benchcli import existing_file, positive_float, positive_int, run_main
from mobility.machine import describe, format_load

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
GL: dict[str, list[str]] = {
    # Mesa's llvmpipe through ANGLE's GL back end: software too, but JIT-compiled and threaded
    # (on this machine the first frame comes sooner and frames are cheaper than with SwiftShader).
    "llvmpipe": ["--use-gl=angle", "--use-angle=gl-egl", "--ignore-gpu-blocklist"],
    # Chromium's own software Vulkan, what headless Chromium uses when nothing is asked for.
    "swiftshader": ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
}
"""Chromium flags of each software WebGL renderer (``--gl``); the bench prints the renderer it got."""
RENDERER = """() => {
  const gl = document.createElement('canvas').getContext('webgl');
  const ext = gl && gl.getExtension('WEBGL_debug_renderer_info');
  return gl ? (ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : 'unknown') : 'no WebGL';
}"""


def _bench_service() -> Any:
    """bench/service.py (its plan storage and machine description), loaded by path."""
    spec = importlib.util.spec_from_file_location("bench_service", ROOT / "bench" / "service.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ANIMATE = """async (seconds) => {
  const m = window.__maps.plan;
  const times = [];
  let last = performance.now();
  let running = true;
  const tick = (t) => { times.push(t - last); last = t; if (running) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const stops = [[126.98, 37.57, 11], [126.92, 37.55, 13], [127.03, 37.50, 12], [127.06, 37.60, 14],
                 [126.90, 37.52, 11.5], [126.99, 37.56, 10.5]];
  const end = performance.now() + seconds * 1000;
  let i = 0;
  while (performance.now() < end) {
    const [lon, lat, z] = stops[i++ % stops.length];
    m.easeTo({center: [lon, lat], zoom: z, duration: 700});
    await new Promise((r) => setTimeout(r, 720));
  }
  running = false;
  times.shift();
  times.sort((a, b) => a - b);
  const total = times.reduce((s, x) => s + x, 0);
  const p95 = times[Math.floor(0.95 * (times.length - 1))];
  return {frames: times.length, fps: 1000 * times.length / total, p95_ms: p95};
}"""

CLICK_NEW = """() => {
  const m = window.__maps.plan;
  const s = window.__maps.plan_doc.new_stations[0];
  const p = m.project([s.lon, s.lat]);
  const r = m.getContainer().getBoundingClientRect();
  return [r.left + p.x, r.top + p.y];
}"""
"""Page coordinates of the first new station, where the map draws it."""

TO_3000 = """(n) => {
  const m = window.__maps.plan;
  const base = m.getSource('stations')._data;  // the page's own station features (point, kind, index)
  const fc = {type: 'FeatureCollection', features: []};
  for (let i = 0; fc.features.length < n; i++) {
    const f = base.features[i % base.features.length];
    const j = Math.floor(i / base.features.length);  // copies beyond the plan's stations are shifted ~200 m
    const [lon, lat] = f.geometry.coordinates;
    fc.features.push({type: 'Feature', properties: f.properties,
      geometry: {type: 'Point', coordinates: [lon + 0.002 * j, lat + 0.0015 * j]}});
  }
  m.getSource('stations').setData(fc);
  return new Promise((r) => m.once('idle', () => r(fc.features.length)));
}"""


SIDES: dict[str, list[str]] = {
    "basemap": [],
    "data": ["stations", "areas"],
    "stations": ["stations"],
}
"""What each side of the smoothness run draws over the basemap."""

SHOW = """(groups) => {
  const m = window.__maps.plan;
  for (const {id} of m.getStyle().layers) {
    const group = id === 'existing' || id === 'new' ? 'stations'
      : id.startsWith('area-') || ['districts-line', 'districts-fill', 'coverage'].includes(id)
        ? 'areas' : null;
    if (group) m.setLayoutProperty(id, 'visibility', groups.includes(group) ? 'visible' : 'none');
  }
  return new Promise((r) => m.once('idle', r));
}"""
"""Show the groups of data layers named, hide the others (the basemap stays). ``areas``: the
choropleth, the coverage and the district boundaries (also the ``area-*`` opaque pieces of the
trial app on branch ``issue-17-opaque-areas``, so that the bench can be run with either)."""


def _server_waits(requests: list[Any]) -> dict[str, int]:
    """The longest wait for the server's first byte (ms) per kind of request of one visit: the
    plan, basemap tiles, map layers, anything else of the API; from Playwright's request timing."""
    out: dict[str, int] = {}
    for r in requests:
        path = r.url.split("://", 1)[-1].partition("/")[2]
        if path.startswith("tiles/"):
            kind = "tiles"
        elif path.startswith("v1/"):
            kind = "layers" if "/layers/" in path else "plan" if path.endswith("/plan") else "api"
        else:
            continue
        t = r.timing
        if t["responseStart"] >= 0 and t["requestStart"] >= 0:
            out[kind] = max(out.get(kind, 0), round(t["responseStart"] - t["requestStart"]))
    return out


def _gpu_pids() -> list[int]:
    """Chromium's GPU processes (where software WebGL rasterises), from /proc (Linux)."""
    pids = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and b"--type=gpu-process" in (d / "cmdline").read_bytes():
                pids.append(int(d.name))
        except OSError:
            continue
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plan", type=existing_file, required=True, help="a plan.json (e.g. of seoul-2019-30k)")
    ap.add_argument("--visits", type=positive_int, default=5, help="warm visits of the plan page (median)")
    ap.add_argument("--animate", type=positive_float, default=4.0, help="seconds of pan/zoom animation")
    ap.add_argument(
        "--stations", type=positive_int, default=3000, help="stations drawn for the smoothness run"
    )
    ap.add_argument(
        "--rounds", type=positive_int, default=3, help="rounds of the smoothness sides, taking turns"
    )
    ap.add_argument("--gl", choices=sorted(GL), default="llvmpipe", help="software WebGL renderer")
    args = ap.parse_args(argv)
    service = _bench_service()
    load_start = list(os.getloadavg())
    plan = json.loads(args.plan.read_text(encoding="utf-8"))
    n_stations = len(plan["new_stations"]) + len(plan["existing_stations"])
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'web.sqlite'}"
        job_id, key, nbytes = service.store_plan(db, plan, as_job=True)  # as a finished job stores it
        env = {**os.environ, "MOBILITY_DATABASE_URL": db, "MOBILITY_RUN_JOBS": "false",
               "MOBILITY_RATE_LIMIT": "100000/minute"}  # fmt: skip
        port = _port()
        url = f"http://127.0.0.1:{port}"
        log = Path(tmp) / "serve.log"
        cmd = [str(BIN / "mobility"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(
            cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"server did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.3)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + GL[args.gl])
                loads: dict[str, list[float]] = {"visits": list(os.getloadavg())}

                marks: list[dict[str, int]] = []
                waits: list[dict[str, int]] = []

                def visit() -> tuple[float, float, float]:
                    """(usable, click-to-popup, all layers) in seconds, from navigation."""
                    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                    page = ctx.new_page()
                    page.goto(f"{url}/#/plans")
                    page.evaluate("k => sessionStorage.setItem('mobility.apiKey', k)", key)
                    # Playwright compiles its own selector script in the page on the first wait or
                    # locator (0.1-0.3 s of the page's thread on this machine): done here, so that
                    # the timed visit does not include the test driver's own start.
                    page.wait_for_selector("#view")
                    page.locator("#view").count()
                    served: list[Any] = []
                    page.on("requestfinished", lambda r: served.append(r))
                    t0 = time.perf_counter()
                    page.goto(f"{url}/#/plan/{job_id}")
                    page.wait_for_selector("#plan-map[data-usable=true]", timeout=300_000)
                    assert page.locator("#district-table tbody tr").count() > 0
                    t_click = time.perf_counter()
                    page.mouse.click(*page.evaluate(CLICK_NEW))
                    page.wait_for_selector(".maplibregl-popup .popup", timeout=60_000)
                    usable = time.perf_counter() - t0
                    click = time.perf_counter() - t_click
                    page.wait_for_selector("#plan-map[data-ready=true]", timeout=300_000)
                    every = time.perf_counter() - t0
                    marks.append(page.evaluate("() => window.__timings || {}"))
                    waits.append(_server_waits(served))
                    ctx.close()
                    return usable, click, every

                cold_u, _, cold = visit()
                visits = [visit() for _ in range(args.visits)]
                loads["visits_end"] = list(os.getloadavg())
                warm = [v[0] for v in visits]
                clicks = [v[1] for v in visits]
                every = [v[2] for v in visits]

                def html_map() -> float:
                    ctx = browser.new_context(viewport={"width": 1280, "height": 800},
                                              extra_http_headers={"X-API-Key": key})  # fmt: skip
                    page = ctx.new_page()
                    t0 = time.perf_counter()
                    page.goto(f"{url}/v1/scenarios/{job_id}/map.html", timeout=600_000)
                    page.wait_for_selector(".main-svg", timeout=300_000)
                    page.wait_for_function(
                        "() => document.querySelectorAll('.scatterlayer .trace').length > 0"
                    )
                    dt = time.perf_counter() - t0
                    ctx.close()
                    return dt

                layer_bytes = {}
                for name in ("areas.geojson", "layers/coverage.geojson", "layers/districts.geojson"):
                    got = httpx.get(f"{url}/v1/scenarios/{job_id}/{name}", headers={"X-API-Key": key},
                                    timeout=120)  # fmt: skip
                    if got.status_code == 200:
                        layer_bytes[name.split("/")[-1].removesuffix(".geojson")] = len(got.content)
                    if name == "areas.geojson" and got.status_code == 200:
                        break  # the trial app's one layer (else the app's coverage and districts)
                html_map()  # rendered and stored by the server on the first request
                baseline = [html_map() for _ in range(max(1, args.visits // 2))]

                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                page = ctx.new_page()
                page.goto(f"{url}/#/plans")
                page.evaluate("k => sessionStorage.setItem('mobility.apiKey', k)", key)
                page.goto(f"{url}/#/plan/{job_id}")
                page.wait_for_selector("#plan-map[data-ready=true]")
                renderer = page.evaluate(RENDERER)
                drawn = page.evaluate(TO_3000, args.stations)
                gpu = _gpu_pids()
                loads["animation"] = list(os.getloadavg())
                # The three sides take turns, in swapped order every round, so that the other
                # engineers' jobs weigh on each alike; ratios are taken within a round.
                sides: dict[str, list[dict[str, float]]] = {s: [] for s in SIDES}
                order = list(SIDES)
                for r in range(args.rounds):
                    for side in order if r % 2 == 0 else order[::-1]:
                        page.evaluate(SHOW, SIDES[side])
                        cpu0 = _cpu_seconds(gpu)
                        run = page.evaluate(ANIMATE, args.animate)
                        run["gpu_cpu_ms"] = 1000 * (_cpu_seconds(gpu) - cpu0) / max(1, run["frames"])
                        sides[side].append(run)
                loads["animation_end"] = list(os.getloadavg())
                browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
    warm_med = statistics.median(warm)
    every_med = statistics.median(every)
    base_med = statistics.median(baseline)

    def med(side: str, key: str) -> float:
        return round(statistics.median(run[key] for run in sides[side]), 1)

    def ratio(side: str, key: str) -> float:
        """Median over the rounds of the side's figure over the basemap's in the same round."""
        pairs = zip(sides[side], sides["basemap"], strict=True)
        return round(statistics.median(a[key] / b[key] for a, b in pairs), 3)

    out = {
        "bench": "web",
        "plan_stations": n_stations,
        "plan_bytes": nbytes,
        "layer_bytes": layer_bytes,
        "plan_page_usable_first_s": round(cold_u, 3),
        "plan_page_usable_s": round(warm_med, 3),
        "plan_page_usable_all_s": [round(x, 3) for x in warm],
        "click_to_popup_s": round(statistics.median(clicks), 3),
        "plan_page_all_layers_first_s": round(cold, 3),
        "plan_page_all_layers_s": round(every_med, 3),
        "plan_page_marks_first_ms": marks[0],
        "plan_page_marks_ms": marks[1:],
        "server_wait_first_ms": waits[0],
        "server_wait_ms": waits[1:],
        "baseline_html_map_s": round(base_med, 3),
        "ratio_usable_to_html_map": round(warm_med / base_med, 3),
        "ratio_all_layers_to_html_map": round(every_med / base_med, 3),
        "smooth_stations": drawn,
        "smooth_rounds": {
            side: [{k: round(v, 1) for k, v in run.items()} for run in runs] for side, runs in sides.items()
        },
        **{f"{key}_{side}": med(side, key) for side in SIDES for key in ("fps", "p95_ms", "gpu_cpu_ms")},
        "ratio_fps_data_to_basemap": ratio("data", "fps"),
        "ratio_fps_stations_to_basemap": ratio("stations", "fps"),
        "ratio_gpu_cpu_data_to_basemap": ratio("data", "gpu_cpu_ms"),
        "webgl": {"gl": args.gl, "renderer": renderer},
        "load_avg_at_start": load_start,
        "load_avg_by_step": loads,
        "machine": service.machine(),
    }
    print(f"plan page ({n_stations:,} stations) usable (tables, stations drawn, a click on a new station "
          f"answered): first visit {cold_u:.2f} s, later visits median {warm_med:.2f} s "
          f"({', '.join(f'{x:.2f}' for x in warm)}); click to popup "
          f"{out['click_to_popup_s']:.2f} s")  # fmt: skip
    print(f"  all layers (+ district choropleth and walking coverage, map idle): first visit {cold:.2f} s, "
          f"later visits median {every_med:.2f} s")  # fmt: skip
    print(
        "  steps (ms after the view starts: plan fetched, tables drawn, map loaded, stations drawn, "
        f"layers fetched, map idle): first visit {marks[0]}; later visits {marks[1:]}"
    )
    print(f"  longest server wait (request sent to first byte, ms) by kind: first visit {waits[0]}; "
          f"later visits {waits[1:]}")  # fmt: skip
    print(f"  data: plan.json {nbytes / 1e6:.2f} MB; layers fetched by the map's workers after the stations: "
          + ", ".join(f"{k}.geojson {v / 1e6:.2f} MB" for k, v in layer_bytes.items()))  # fmt: skip
    print(f"baseline: offline HTML map (plotly) of the same plan drawn in {base_med:.2f} s; "
          f"ratio usable / HTML map = {out['ratio_usable_to_html_map']}, "
          f"all layers / HTML map = {out['ratio_all_layers_to_html_map']}")  # fmt: skip
    print(
        f"map panning and zooming, {args.rounds} rounds of {args.animate:g} s per side, taking turns: "
        f"{drawn:,} stations + coverage + districts {med('data', 'fps')} fps (p95 frame "
        f"{med('data', 'p95_ms'):.0f} ms, GPU process {med('data', 'gpu_cpu_ms')} CPU-ms per frame); "
        f"basemap alone {med('basemap', 'fps')} fps (p95 {med('basemap', 'p95_ms'):.0f} ms, "
        f"{med('basemap', 'gpu_cpu_ms')} CPU-ms); {drawn:,} stations alone {med('stations', 'fps')} fps"
    )
    print(f"  ratio to the basemap alone (median of the rounds): data fps {out['ratio_fps_data_to_basemap']}, "  # noqa: E501
          f"stations fps {out['ratio_fps_stations_to_basemap']}; data GPU CPU-ms per frame "
          f"{out['ratio_gpu_cpu_data_to_basemap']}")  # fmt: skip
    m = out["machine"]
    print(
        f"machine: {describe(m)} at the end (1, 5, 15 min; {format_load(load_start)} at the start), "
        f"headless Chromium, software WebGL --gl {args.gl}: {renderer}"
    )
    print(
        "load average (1, 5, 15 min) at each step: "
        + "; ".join(f"{step} {format_load(load)}" for step, load in loads.items())
    )
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    run_main(main)
