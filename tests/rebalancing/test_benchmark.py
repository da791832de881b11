"""The benchmarks mapped onto the nightly engine: same engine, published optima, brute force."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from mobility.cli import app
from mobility.cli.bench_routing import run_routing_bench
from mobility.rebalancing.baselines import ortools_benchmark
from mobility.rebalancing.benchmark import (
    BenchmarkParams,
    benchmark_problem,
    generate_pdtsp,
    solve_instance,
    vehicles_for,
)
from mobility.rebalancing.formats import (
    BenchmarkInstance,
    read_brp,
    read_pdtsp,
    write_brp,
    write_pdtsp,
)
from mobility.rebalancing.local_search import LNSParams, RouteSearch

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
ENGINE_ONLY = BenchmarkParams(time_limit=2.0, workers=1, exact_max_stations=0)


def test_benchmark_path_and_nightly_path_call_the_same_engine(tmp_path: Path, monkeypatch: Any) -> None:
    """``mobility bench brp`` and ``mobility rebalance`` both run RouteSearch (ruin and recreate
    with exact loading, then the classic neighbourhoods: an iterated search for the benchmark, a
    descent for the night): one engine, two special cases."""
    calls: list[tuple[str, bool]] = []
    run, classic = RouteSearch.run, RouteSearch.classic

    def spy_run(self: RouteSearch, *a: Any, **k: Any) -> Any:
        calls.append(("run", False))
        return run(self, *a, **k)

    def spy_classic(self: RouteSearch, *a: Any, **k: Any) -> Any:
        calls.append(("classic", bool(k.get("full_service", False))))
        return classic(self, *a, **k)

    monkeypatch.setattr(RouteSearch, "run", spy_run)
    monkeypatch.setattr(RouteSearch, "classic", spy_classic)
    d = tmp_path / "brp" / "instances"
    d.mkdir(parents=True)
    shutil.copy(BENCH / "brp" / "instances" / "8Bergamo20.txt", d)
    out = run_routing_bench("brp", tmp_path / "brp", time_limit=2.0, workers=1, baseline=False)
    assert out["instances"][0]["valid"]
    assert calls == [("run", False), ("classic", True)]  # the benchmark: full-service special case

    calls.clear()
    from tests.rebalancing.test_cli import _inputs

    sp, st = _inputs(tmp_path)
    res = CliRunner().invoke(
        app, ["rebalance", str(sp), "--status", str(st), "--out", str(tmp_path / "o"), "--no-simulate"]
    )
    assert res.exit_code == 0, res.output
    assert calls == [("run", False), ("classic", False)]  # the night: the same search, then a descent

    calls.clear()  # the scenario can switch the last phase off
    scn = yaml.safe_load(sp.read_text(encoding="utf-8"))
    scn["solver"]["classic"] = "off"
    sp.write_text(yaml.safe_dump(scn, allow_unicode=True), encoding="utf-8")
    res = CliRunner().invoke(
        app, ["rebalance", str(sp), "--status", str(st), "--out", str(tmp_path / "o2"), "--no-simulate"]
    )
    assert res.exit_code == 0, res.output
    assert calls == [("run", False)]


def test_engine_alone_reaches_the_bergamo_optimum_with_two_routes() -> None:
    inst = read_brp(BENCH / "brp" / "instances" / "8Bergamo20.txt")
    sol = solve_instance(inst, ENGINE_ONLY)
    assert inst.check_routes(sol.routes) == []
    assert sol.cost == 12700 and len(sol.routes) == 2 and sol.stats.solver == "lns+classic"


def _brute_single_tour(inst: BenchmarkInstance) -> int | None:
    costs = [
        inst.route_cost([list(p)])
        for p in itertools.permutations(range(1, inst.n))
        if not inst.check_routes([list(p)])
    ]
    return min(costs, default=None)


@pytest.mark.parametrize("single_route", ["ils", "memetic"])
@pytest.mark.parametrize("seed", range(4))
def test_engine_alone_matches_brute_force_on_tiny_pdtsp(
    seed: int, single_route: Literal["ils", "memetic"]
) -> None:
    rng = np.random.default_rng(seed)
    n = 8
    best = None
    while best is None:  # draw until some tour is load-feasible
        q = rng.integers(-4, 5, size=n)
        q[0] = -int(q[1:].sum())
        xy = rng.integers(0, 100, size=(n, 2)).astype(float)
        d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        inst = BenchmarkInstance(
            "tiny", "pdtsp", q.astype(np.int64), 5, np.floor(d + 0.5).astype(np.int64), xy, 1
        )
        best = _brute_single_tour(inst)
    params = BenchmarkParams(time_limit=1.0, workers=1, exact_max_stations=0, single_route=single_route)
    sol = solve_instance(inst, params)
    assert inst.check_routes(sol.routes) == [] and len(sol.routes) == 1
    assert sol.cost == best


def test_mapping_serves_every_station_fully_and_caps_a_capacity_that_never_binds() -> None:
    inst = read_pdtsp(BENCH / "pdtsp" / "instances" / "n20q1000A.tsp")
    p = benchmark_problem(inst)
    q = inst.demand[1:]
    assert p.trucks[0].capacity == max(int(q[q > 0].sum()), int(-q[q < 0].sum())) < 1000
    assert len(p.trucks) == vehicles_for(inst) == 1 and p.trucks[0].start_load is None
    rs = RouteSearch(p, LNSParams())
    np.testing.assert_array_equal(rs.required_quantities(), q)
    sol = solve_instance(inst, ENGINE_ONLY)
    assert inst.check_routes(sol.routes) == []


def test_writers_round_trip_and_the_generator_is_seeded(tmp_path: Path) -> None:
    brp = read_brp(BENCH / "brp" / "instances" / "8Bergamo20.txt")
    write_brp(brp, tmp_path / "b.txt")
    back = read_brp(tmp_path / "b.txt")
    np.testing.assert_array_equal(back.cost, brp.cost)
    np.testing.assert_array_equal(back.demand, brp.demand)
    assert back.capacity == brp.capacity
    a, b = generate_pdtsp(60, 10, 7), generate_pdtsp(60, 10, 7)
    np.testing.assert_array_equal(a.cost, b.cost)
    assert a.coords is not None
    assert int(a.demand.sum()) == 0 and np.all(np.abs(a.demand[1:]) <= 10) and np.all(a.coords[0] == 0)
    assert abs(int(a.demand[0])) <= 10  # else no tour is load-feasible
    write_pdtsp(a, tmp_path / "g.tsp")
    g = read_pdtsp(tmp_path / "g.tsp")
    np.testing.assert_array_equal(g.cost, a.cost)
    np.testing.assert_array_equal(g.demand, a.demand)


def test_plain_ortools_baseline_is_feasible_on_bergamo() -> None:
    inst = read_brp(BENCH / "brp" / "instances" / "8Bergamo20.txt")
    routes, stats = ortools_benchmark(inst, time_limit=1.0, vehicles=vehicles_for(inst))
    assert routes and inst.check_routes(routes) == []
    assert stats.objective == inst.route_cost(routes) >= 12700


def test_drop_penalties_give_the_baseline_a_tour_where_the_plain_model_finds_none(tmp_path: Path) -> None:
    """At Q = 10 the plain model's path heuristic dead-ends (no tour at all in the limit); with
    every visit optional at a penalty above any complete tour, guided local search starts from a
    partial tour and completes it. The bench falls back to that model and says so in the row."""
    inst = generate_pdtsp(40, 10, 3)
    routes, stats = ortools_benchmark(inst, time_limit=1.0, vehicles=1)
    assert routes == [] and stats.extra == {"model": "plain", "dropped": 39}
    routes, stats = ortools_benchmark(inst, time_limit=1.0, vehicles=1, drop_penalty=True)
    assert len(routes) == 1 and inst.check_routes(routes) == []
    assert stats.extra == {"model": "drop-penalties", "dropped": 0}
    assert stats.objective == inst.route_cost(routes)

    d = tmp_path / "pdtsp" / "instances"
    d.mkdir(parents=True)
    write_pdtsp(inst, d / f"{inst.name}.tsp")
    out = run_routing_bench("pdtsp", tmp_path / "pdtsp", time_limit=1.0, workers=1)
    row = out["instances"][0]
    assert row["ortools_model"] == "drop-penalties" and row["ortools_cost"] is not None
    assert row["ratio_to_ortools"] == round(row["cost"] / row["ortools_cost"], 4)
    assert out["ortools_no_solution"] == 0


def test_a_baseline_that_leaves_a_station_out_is_no_solution() -> None:
    """Two pick-ups of Q each: no tour can carry both, so the drop-penalty model leaves one out,
    and a partial tour must not be reported as a solution of the instance."""
    cost = np.array([[0, 5, 5], [5, 0, 5], [5, 5, 0]], dtype=np.int64)
    inst = BenchmarkInstance("two-full", "pdtsp", np.array([-20, 10, 10]), 10, cost, None, 1)
    routes, stats = ortools_benchmark(inst, time_limit=0.5, vehicles=1, drop_penalty=True)
    assert routes == [] and stats.extra["dropped"] == 1 and stats.status == "time_limit"


def test_the_bench_records_its_inputs_and_why_each_solve_stopped(tmp_path: Path) -> None:
    """Same inputs and seed, same result, so the summary names them (the directory, the settings,
    the SHA-256 of every instance file and of bks.csv, the library versions) and every row says
    why its solve stopped: a bound that differs between two runs is one the clock cut off.

    n20q10A (19 stations) gets CP-SAT after the engine: proved (``proof``) or cut off by the clock;
    n100q10A (99 stations) is the engine's alone, which searches until its limit (``clock``)."""
    from mobility.provenance import dataset_version, library_versions
    from mobility.rebalancing.benchmark import STOPPED_BY

    d = tmp_path / "pdtsp"
    (d / "instances").mkdir(parents=True)
    for name in ("n20q10A.tsp", "n100q10A.tsp"):
        shutil.copy(BENCH / "pdtsp" / "instances" / name, d / "instances" / name)
    (d / "bks.csv").write_text("instance,best_known\nn20q10A,4963\n", encoding="utf-8")
    args = ["bench", "pdtsp", str(d), "--time-limit", "2", "--workers", "1", "--no-baseline"]
    runner = CliRunner()
    plain = runner.invoke(app, args)
    assert plain.exit_code in (0, 1), plain.output  # 1: no tour for n100q10A in 2 s on a loaded machine
    last = json.loads(plain.stdout.strip().splitlines()[-1])
    files = {"bks.csv": d / "bks.csv"} | {f"instances/{p.name}": p for p in (d / "instances").iterdir()}
    assert last["datasets"] == {k: dataset_version(p) for k, p in files.items()}
    assert last["libraries"] == library_versions() and last["libraries"]["ortools"]
    assert last["directory"] == str(d) and last["workers"] == 1 and last["single_route"] == "ils"
    assert last["baseline"] is False and last["seed"] == 0 and last["time_limit"] == 2
    assert {"mean_gap_pct", "solved", "reached_best_known", "total_seconds", "code_version"} <= set(last)

    doc = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    rows = {r["instance"]: r for r in doc["instances"]}
    assert doc["stopped_by_clock"] == sum(r["stopped_by"] == "clock" for r in rows.values())
    assert rows["n100q10A"]["stopped_by"] == "clock" and "cp_sat" not in rows["n100q10A"]["solver_extra"]
    small = rows["n20q10A"]
    cp_sat = small["solver_extra"]["cp_sat"]
    assert small["stopped_by"] == cp_sat["stopped_by"] in STOPPED_BY and 0 < cp_sat["time_limit"] < 2
    # proved: the bound is the cost; cut off by the clock: the bound is as far as the proof got
    assert (small["stopped_by"] == "proof") == (small["status"] == "optimal")
    for r in rows.values():
        assert r["engine"] and [run["stopped_by"] for run in r["solver_extra"]["engine_runs"]] == ["clock"]
