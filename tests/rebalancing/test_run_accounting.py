"""What a nightly run records about itself: one objective, the iteration budget and what ended
the search, the whole run's wall time, and the provenance of ``morning.json``."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.rebalancing.plan import routes_json_schema
from mobility.rebalancing.solve import SolveParams, solve
from mobility.scenario.nightly import nightly_from_dict
from mobility.simulation.morning import morning_json_schema
from mobility.stats import SolverStats
from tests.rebalancing.rb_synth import make_problem


def test_stats_objective_is_the_plans_and_the_gap_is_computed_from_it() -> None:
    """The search's objective adds a tie-break of 1e-6 per bike handled: it used to be
    ``stats.objective`` (484.913 next to totals.objective 484.9093 on the Seoul night)."""
    p = make_problem(3, n=30, n_trucks=2, capacity=6)
    plan = solve(p, SolveParams(time_limit=10, seed=1, workers=1, max_iterations=40))
    assert plan.totals.bikes_moved > 0
    assert plan.stats.objective == plan.totals.objective
    assert plan.stats.gap == SolverStats.relative_gap(plan.totals.objective, plan.stats.bound)
    assert plan.stats.extra["search_objective"] != plan.totals.objective  # the tie-break, kept apart


def test_the_plan_says_whether_the_iteration_budget_or_the_clock_ended_the_search() -> None:
    p = make_problem(3, n=30, n_trucks=2, capacity=6)
    budget = solve(p, SolveParams(time_limit=10, seed=1, workers=1, max_iterations=40))
    assert budget.stats.extra["stopped_by"] == "iterations" and budget.stats.extra["max_iterations"] == 40
    clock = solve(p, SolveParams(time_limit=0.5, seed=1, workers=1))
    assert clock.stats.extra["stopped_by"] == "clock" and clock.stats.extra["max_iterations"] is None
    short = solve(p, SolveParams(time_limit=0.3, seed=1, workers=1, max_iterations=10**9))
    assert short.stats.extra["stopped_by"] == "clock"  # the time limit came first


def test_scenario_max_iterations_is_optional_and_validated() -> None:
    base = {"name": "n", "depots": [{"id": "A", "lon": 126.98, "lat": 37.56}], "trucks": [{"depot": "A"}]}
    assert nightly_from_dict(base).solver.max_iterations is None
    assert nightly_from_dict(base | {"solver": {"max_iterations": 200}}).solver.max_iterations == 200
    with pytest.raises(Exception, match="max_iterations"):
        nightly_from_dict(base | {"solver": {"max_iterations": 0}})


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A small night of 4 trucks in 2 zones solved by 2 worker processes (as the Seoul night)."""
    sp = tmp_path / "mini.yaml"
    sp.write_text(
        "name: mini\n"
        "depots: [{id: A, name: 창고, lon: 126.98, lat: 37.56}]\n"
        "trucks: [{depot: A, count: 4, capacity: 8, shift: {start: '22:00', end: '01:00'}}]\n"
        "targets: {source: snapshot, tolerance: 0}\n"
        "network: {source: straight}\n"
        "solver: {time_limit: 20, workers: 2, decompose: always}\n",
        encoding="utf-8",
    )
    rows = [
        {"station_id": f"ST-{i}", "number": 100 + i, "name": f"대여소 {i}", "docks": 10,
         "bikes": 14 if i % 2 else 1, "target_morning": 6,
         "lon": 126.95 + 0.004 * (i % 10), "lat": 37.54 + 0.004 * (i // 10)}
        for i in range(40)
    ]  # fmt: skip
    st = tmp_path / "snap.csv"
    pd.DataFrame(rows).to_csv(st, index=False)
    return sp, st


def _run(sp: Path, st: Path, out: Path, *extra: str) -> dict[str, object]:
    args = ["rebalance", str(sp), "--status", str(st), "--out", str(out), "--seed", "5", "--no-maps"]
    res = CliRunner().invoke(app, [*args, "--json", *extra])
    assert res.exit_code == 0, res.output
    doc: dict[str, object] = json.loads((out / "routes.json").read_text(encoding="utf-8"))
    return doc


def test_same_seed_and_max_iterations_give_the_same_routes_from_the_command(tmp_path: Path) -> None:
    sp, st = _inputs(tmp_path)
    docs = [_run(sp, st, tmp_path / f"out{k}", "--max-iterations", "150", "--no-simulate") for k in (1, 2)]
    a, b = docs
    assert a["routes"] == b["routes"] and a["totals"] == b["totals"]
    for d in docs:
        stats = d["stats"]
        assert isinstance(stats, dict) and stats["extra"]["stopped_by"] == "iterations"
        assert stats["extra"]["max_iterations"] == 150 and stats["extra"]["zones"] == 2
        assert stats["objective"] == d["totals"]["objective"]  # type: ignore[index]
        prov = d["provenance"]
        assert prov["scenario"]["solver"]["max_iterations"] == 150  # type: ignore[index]


def test_max_iterations_option_is_validated(tmp_path: Path) -> None:
    sp, st = _inputs(tmp_path)
    args = ["rebalance", str(sp), "--status", str(st), "--out", str(tmp_path / "o"), "--max-iterations", "0"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "--max-iterations" in res.output


def test_routes_record_the_runs_wall_time_and_morning_json_its_provenance(tmp_path: Path) -> None:
    sp, st = _inputs(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        ["rebalance", str(sp), "--status", str(st), "--out", str(out), "--no-maps", "--json",
         "--time-limit", "1", "--replications", "2"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "routes.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, routes_json_schema())
    assert doc["wall_seconds"] >= doc["stats"]["seconds"] > 0
    assert doc["stats"]["extra"]["stopped_by"] == "clock"
    morning = json.loads((out / "morning.json").read_text(encoding="utf-8"))
    jsonschema.validate(morning, morning_json_schema())
    prov = morning["provenance"]
    assert prov["code_version"] and prov["created_at"] and prov["seed"] == doc["provenance"]["seed"]
    assert set(doc["provenance"]["datasets"]) | {"routes"} <= set(prov["datasets"])
    # and what the riders' simulation read besides: their street network, trips and usage
    added = set(prov["datasets"]) - set(doc["provenance"]["datasets"]) - {"routes"}
    assert all(k.startswith("simulation.") for k in added)
    assert prov["datasets"]["simulation.network"]["file"] == "seoul_best_graph.graphml.gz"
    assert "simulation.demand.trips_2022-01-01_fullday" in added
    assert prov["datasets"]["status"] == doc["provenance"]["datasets"]["status"]
    assert prov["datasets"]["routes"]["sha256"]
    assert morning_json_schema()["$id"] == "mobility/morning-after/1"
