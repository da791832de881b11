"""Street network engine: load, full station matrix and radius-bounded walk matrix, against baselines.

Measured in one run on this machine:

(a) **load** of the all-modes OSM graph (``osm/seoul_best_graph.graphml.gz``, 142,664 nodes):
    cold (osmnx GraphML parse + array build, in a child process so its memory is measured
    apart) against warm (the cached ``.npz``).
(b) **station matrix**: all 2,799 stations of the 2025-12 list × all stations, walking time on
    the all-modes graph, with the customizable contraction hierarchy (topology from the cache,
    customization and queries timed) against scipy ``csgraph.dijkstra`` (full single-source runs
    from a sample of sources, extrapolated) and networkx ``single_source_dijkstra_path_length``
    (a few sources, extrapolated). Sampled rows are checked for exact equality.
(c) **radius matrix**: 50,000 demand points (drawn from the KOSTAT 100 m population grid,
    proportional to population, jittered in their cell) × 20,000 candidate sites (uniform over
    populated cells), all pairs within 800 m walking (snap distances included), with the local
    subgraph method against scipy's Dijkstra with ``limit`` on the whole graph and networkx with
    ``cutoff`` (samples of roots, extrapolated). Sampled roots are checked for equality.

Peak memory is the max RSS (``resource.getrusage``) of this process after the engine's steps and
again after the baselines (networkx's graph is large); the cold load's is its child's.

Usage::

    .venv/bin/python bench/network.py [--data-dir DIR] [--skip-cold] [--scipy-sources 60]
        [--nx-sources 3] [--demand 50000] [--sites 20000] [--radius 800]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mobility.benchcli import (
    ProgressLines,
    existing_dir,
    non_negative_int,
    positive_float,
    positive_int,
    run_main,
)
from mobility.machine import describe, machine


def seconds_text(seconds: float) -> str:
    """A baseline's seconds for the table: whole seconds from 10 s, hundredths below.

    Parameters
    ----------
    seconds
        The (extrapolated) time.

    Returns
    -------
    str
        E.g. ``"56 s"`` or ``"0.24 s"``: a short run's baseline is not printed as ``0 s``.
    """
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2f} s"


def max_rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


_COLD = """
import json, resource, time
from mobility.network.graph import load_network
t = time.perf_counter()
net = load_network("osm-all", {data_dir!r}, use_cache=False)
print(json.dumps({{"seconds": time.perf_counter() - t, "nodes": net.n_nodes, "edges": net.n_edges,
  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}}))
"""


def cold_load(data_dir: str) -> dict[str, Any]:
    """Time the uncached GraphML load in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", _COLD.format(data_dir=data_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def sample_points(data_dir: Path, n: int, rng: np.random.Generator, *, weighted: bool) -> np.ndarray:
    """``(n, 2)`` lon/lat: populated 100 m cells (by population if ``weighted``), jittered in the cell."""
    import pandas as pd
    from pyproj import Transformer

    grid = pd.read_csv(
        data_dir / "population" / "seoul_pop_grid_100m.csv", usecols=["x_5179", "y_5179", "pop_total"]
    )
    p = grid["pop_total"].to_numpy(float)
    pick = rng.choice(len(grid), n, replace=True, p=p / p.sum() if weighted else None)
    x = grid["x_5179"].to_numpy(float)[pick] + rng.uniform(-50, 50, n)
    y = grid["y_5179"].to_numpy(float)[pick] + rng.uniform(-50, 50, n)
    lon, lat = Transformer.from_crs(5179, 4326, always_xy=True).transform(x, y)
    return np.column_stack([lon, lat])


def nx_graph(pnet: Any, weight: str) -> Any:
    import networkx as nx

    g = nx.DiGraph()
    w = pnet.weights(weight).astype(float)
    g.add_weighted_edges_from(
        zip(pnet.tail.tolist(), pnet.head.tolist(), w.tolist(), strict=True), weight="w"
    )
    return g


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=existing_dir, default=None)
    ap.add_argument("--skip-cold", action="store_true", help="Skip the ~30–60 s cold GraphML load.")
    ap.add_argument("--scipy-sources", type=positive_int, default=60)
    ap.add_argument("--nx-sources", type=positive_int, default=3)
    ap.add_argument("--demand", type=positive_int, default=50_000)
    ap.add_argument("--sites", type=positive_int, default=20_000)
    ap.add_argument("--radius", type=positive_float, default=800.0)
    ap.add_argument(
        "--radius-sample", type=positive_int, default=1500, help="Roots for the radius baselines."
    )
    ap.add_argument("--seed", type=non_negative_int, default=0, help="random seed (same seed, same result)")
    args = ap.parse_args(argv)
    step = ProgressLines()

    import pyroutingkit as rk
    from scipy.sparse.csgraph import dijkstra

    from mobility.config import resolve_data_dir
    from mobility.network import apply_profile, load_network, snap_points, travel_matrix, within_radius
    from mobility.network import graph as graph_mod
    from mobility.network import matrix as mx
    from mobility.sources.stations import load_station_list

    warnings.simplefilter("ignore", UserWarning)
    data_dir = resolve_data_dir(args.data_dir)
    info = machine()
    print(
        f"machine: {describe(info)}; pyroutingkit OpenMP={rk.HAS_OPENMP}, "
        f"threads={mx.default_threads()} (other work on the machine slows every figure alike)"
    )
    rng = np.random.default_rng(args.seed)
    res: dict[str, Any] = {"machine": info}
    rows: list[tuple[str, str, str, str]] = []

    # (a) load -----------------------------------------------------------------------------
    step("(a) loading the all-modes network" + ("" if args.skip_cold else " (cold GraphML load in a child)"))
    load_network("osm-all", data_dir)  # make sure the cache exists (not timed)
    if not args.skip_cold:
        cold = cold_load(str(data_dir))
        res["load_cold_s"] = round(cold["seconds"], 2)
        res["load_cold_max_rss_mb"] = round(cold["max_rss_mb"])
    graph_mod.clear_memory_cache()
    t = time.perf_counter()
    net = load_network("osm-all", data_dir)
    res["load_warm_s"] = round(time.perf_counter() - t, 3)
    res["nodes"], res["edges"] = net.n_nodes, net.n_edges
    if "load_cold_s" in res:
        res["load_ratio"] = round(res["load_cold_s"] / res["load_warm_s"], 1)
        rows.append(
            (
                "load osm-all",
                f"{res['load_warm_s']:.2f} s warm",
                f"{res['load_cold_s']:.1f} s cold GraphML",
                f"{res['load_ratio']}×",
            )
        )

    # (b) station matrix -------------------------------------------------------------------
    step("(b) station matrices (walk, bike)")
    t = time.perf_counter()
    walk = apply_profile(net, "walk")
    res["profile_s"] = round(time.perf_counter() - t, 3)
    st = load_station_list("2025-12", data_dir).table
    t = time.perf_counter()
    s = snap_points(walk, st["lon"].to_numpy(float), st["lat"].to_numpy(float))
    res["snap_stations_s"] = round(time.perf_counter() - t, 4)
    res["stations"] = len(st)
    # one-off topology build (cached on disk for every later run)
    t = time.perf_counter()
    topo = rk.CCHTopology()
    topo.build(
        walk.tail.astype(np.uint32),
        walk.head.astype(np.uint32),
        walk.lat.astype(np.float32),
        walk.lon.astype(np.float32),
        walk.n_nodes,
    )
    res["cch_topology_build_s"] = round(time.perf_counter() - t, 2)
    del topo
    mx.clear_engines()
    mx._engine(walk)  # make sure the topology is on disk
    mx.clear_engines()
    t = time.perf_counter()
    mx.prepare(walk, "time")
    res["cch_load_customize_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    cpu = time.process_time()
    D = travel_matrix(walk, s.node, weight="time", use_cache=False)
    res["station_matrix_query_s"] = round(time.perf_counter() - t, 3)
    res["station_matrix_query_cpu_s"] = round(time.process_time() - cpu, 3)
    res["station_matrix_warm_s"] = round(
        res["profile_s"] + res["cch_load_customize_s"] + res["station_matrix_query_s"], 3
    )
    # the same on the bike profile (one-way rules: asymmetric, so no mirroring shortcut)
    bike = apply_profile(net, "bike")
    sb = snap_points(bike, st["lon"].to_numpy(float), st["lat"].to_numpy(float))
    mx._engine(bike)  # topology built once and cached (not timed)
    mx.clear_engines()
    t = time.perf_counter()
    bike = apply_profile(net, "bike")
    mx.prepare(bike, "time")
    travel_matrix(bike, sb.node, weight="time", use_cache=False)
    res["bike_station_matrix_warm_s"] = round(time.perf_counter() - t, 3)
    mx.clear_engines()
    del bike
    res["max_rss_engine_mb"] = round(max_rss_mb())
    uniq = np.unique(s.node)
    # scipy baseline
    step("(b) baselines: scipy and networkx Dijkstra on sampled sources")
    ks = min(args.scipy_sources, len(uniq))
    sample = rng.choice(uniq, ks, replace=False)
    csr = walk.csr("time", integer=True)
    t = time.perf_counter()
    ref = dijkstra(csr, indices=sample)
    per = (time.perf_counter() - t) / ks
    res["scipy_station_matrix_s_extrapolated"] = round(per * len(uniq), 2)
    pos = {int(n): i for i, n in enumerate(s.node)}
    rows_ok = all(np.array_equal(ref[k, s.node] / 1000.0, D[pos[int(n)]]) for k, n in enumerate(sample))
    # networkx baseline
    import networkx as nx

    t = time.perf_counter()
    g = nx_graph(walk, "time")
    res["nx_graph_build_s"] = round(time.perf_counter() - t, 1)
    kn = min(args.nx_sources, len(uniq))
    t = time.perf_counter()
    for n in sample[:kn]:
        lengths = nx.single_source_dijkstra_path_length(g, int(n), weight="w")
        row = np.array([lengths[int(m)] for m in s.node]) / 1000.0
        rows_ok = rows_ok and bool(np.array_equal(row, D[pos[int(n)]]))
    per_nx = (time.perf_counter() - t) / kn
    res["nx_station_matrix_s_extrapolated"] = round(per_nx * len(uniq), 2)
    res["station_rows_equal_dijkstra"] = bool(rows_ok)
    res["station_matrix_vs_scipy"] = round(
        res["scipy_station_matrix_s_extrapolated"] / res["station_matrix_warm_s"], 1
    )
    res["station_matrix_vs_nx"] = round(
        res["nx_station_matrix_s_extrapolated"] / res["station_matrix_warm_s"], 1
    )
    rows.append(
        (
            "2,799² walk matrix (warm)",
            f"{res['station_matrix_warm_s']:.2f} s",
            f"scipy {seconds_text(res['scipy_station_matrix_s_extrapolated'])}*",
            f"{res['station_matrix_vs_scipy']}×",
        )
    )
    rows.append(
        (
            "",
            "",
            f"networkx {seconds_text(res['nx_station_matrix_s_extrapolated'])}*",
            f"{res['station_matrix_vs_nx']}×",
        )
    )
    rows.append(("2,799² bike matrix (warm)", f"{res['bike_station_matrix_warm_s']:.2f} s", "", ""))
    del g

    # (c) radius matrix --------------------------------------------------------------------
    step(f"(c) radius matrix: {args.demand:,} x {args.sites:,} within {args.radius:g} m")
    dem = sample_points(data_dir, args.demand, rng, weighted=True)
    sites = sample_points(data_dir, args.sites, rng, weighted=False)
    sd = snap_points(walk, dem[:, 0], dem[:, 1])
    ss = snap_points(walk, sites[:, 0], sites[:, 1])
    t = time.perf_counter()
    R = within_radius(
        walk,
        sd,
        ss,
        args.radius,
        weight="length",
        source_offsets=sd.distance_m,
        target_offsets=ss.distance_m,
        use_cache=False,
    )
    res["radius_s"] = round(time.perf_counter() - t, 2)
    res["radius_pairs"] = int(R.nnz)
    res["max_rss_engine_mb"] = round(max(res["max_rss_engine_mb"], max_rss_mb()))
    # baselines: whole-graph scipy with limit, networkx with cutoff, on sampled site roots
    step("(c) baselines: scipy with limit, networkx with cutoff, on sampled roots")
    us = np.unique(sd.node)
    ut = np.unique(ss.node)
    roots = rng.choice(ut, min(args.radius_sample, len(ut)), replace=False)
    csr_len = walk.csr("length", integer=True)
    lim = args.radius * 1000.0
    t = time.perf_counter()
    for i in range(0, len(roots), 64):
        d = dijkstra(csr_len, indices=roots[i : i + 64], limit=lim)
        sub = d[:, us]
        np.nonzero(sub <= lim)
    res["scipy_radius_s_extrapolated"] = round((time.perf_counter() - t) / len(roots) * len(ut), 2)
    g = nx_graph(walk, "length")
    kr = max(len(roots) // 5, 1)
    t = time.perf_counter()
    for n in roots[:kr]:
        nx.single_source_dijkstra_path_length(g, int(n), cutoff=lim, weight="w")
    res["nx_radius_s_extrapolated"] = round((time.perf_counter() - t) / kr * len(ut), 2)
    del g
    # equality on the sampled roots (node-to-node values, no offsets)
    local = within_radius(walk, us, roots, args.radius, weight="length", use_cache=False)
    glob = within_radius(walk, us, roots, args.radius, weight="length", method="global", use_cache=False)
    res["radius_equal_global_dijkstra"] = bool((local != glob).nnz == 0)
    res["radius_vs_scipy"] = round(res["scipy_radius_s_extrapolated"] / res["radius_s"], 1)
    res["radius_vs_nx"] = round(res["nx_radius_s_extrapolated"] / res["radius_s"], 1)
    label = f"{args.demand:,}×{args.sites:,} walk ≤ {args.radius:.0f} m"
    rows.append(
        (
            label,
            f"{res['radius_s']:.2f} s",
            f"scipy limit {seconds_text(res['scipy_radius_s_extrapolated'])}*",
            f"{res['radius_vs_scipy']}×",
        )
    )
    rows.append(
        (
            "",
            f"{R.nnz:,} pairs",
            f"networkx cutoff {seconds_text(res['nx_radius_s_extrapolated'])}*",
            f"{res['radius_vs_nx']}×",
        )
    )
    res["max_rss_total_mb"] = round(max_rss_mb())
    res["loadavg_end"] = [round(x, 1) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    rows.append(
        (
            "peak memory (engine)",
            f"{res['max_rss_engine_mb']:,} MB",
            f"with baselines {res['max_rss_total_mb']:,} MB",
            "",
        )
    )
    if "load_cold_max_rss_mb" in res:
        rows.append(("peak memory (cold load)", f"{res['load_cold_max_rss_mb']:,} MB", "", ""))

    w = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ("step", "mobility", "baseline", "speed-up")
    w = [max(wi, len(h)) for wi, h in zip(w, head, strict=True)]
    print("  ".join(h.ljust(wi) for h, wi in zip(head, w, strict=True)))
    print("  ".join("-" * wi for wi in w))
    for r in rows:
        print("  ".join(c.ljust(wi) for c, wi in zip(r, w, strict=True)))
    print(
        f"* extrapolated from {ks} (scipy) / {kn} (networkx) sources and {len(roots)} / {kr} radius roots; "
        f"CCH topology build (one-off, cached): {res['cch_topology_build_s']} s; exact equality on samples: "
        f"{res['station_rows_equal_dijkstra'] and res['radius_equal_global_dijkstra']}"
    )
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    run_main(main)
