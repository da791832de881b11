"""Benchmark: an API night run aiming at the demand model's curves against the 25-75 % band.

A rebalancing run submitted over HTTP (``POST /v1/rebalancing/runs``) built its problem from the
snapshot's own targets or, where a station had none, the band from 25 % to 75 % of its docks
(``options.targets: snapshot``, the baseline). Since 2026-12-06 ``options.targets: auto`` (the
default) gives such a station the demand model's dissatisfaction curve for the morning after the
night, as ``mobility rebalance`` does. In the same process, for one night: the night's 22:00
snapshot derived from the data (no targets of its own), the fleet of the shipped nightly
scenario, the API's own problem builder (:func:`api.runners.build_problem`) with each option and
the API's solver settings (one worker), the greedy dispatcher on the band, then the morning
after every plan simulated with the same mornings. Prints the machine, a row per variant (bikes
moved, bikes left on the trucks at the depots, riders lost at empty stations and arriving at
full docks until 10:00) with the ratio of riders turned away to the baseline's, and a last line
of JSON.

Usage: ``.venv/bin/python bench/api_targets.py [--night 2026-12-06] [--time-limit 20]
[--replications 5]`` (about 3 minutes at 20 s).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mobility import benchcli
from mobility.machine import describe, machine

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("snapshot", "auto")


def run_request(night: str, scenario: Path, data_dir: Path | None) -> dict[str, Any]:
    """The inputs of an API run over the night's derived snapshot with the shipped scenario's fleet."""
    from mobility.demand.data import load_profiles
    from mobility.demand.snapshot import derive_snapshot_from_data
    from mobility.rebalancing.build import expand_trucks
    from mobility.rebalancing.night import night_snapshot, snapshot_stations
    from mobility.scenario.nightly import load_nightly

    scn = load_nightly(scenario)
    table = derive_snapshot_from_data(load_profiles(data_dir), night, at=22.0, data_dir=data_dir)
    _, stations, _ = snapshot_stations(table, data_dir)  # positions from the station list, as uploads
    snapshot = night_snapshot(stations).model_dump(mode="json", by_alias=True)
    snapshot["date"] = night
    depots = [{"id": d.id, "name": d.name, "lon": d.lon, "lat": d.lat} for d in scn.depots]
    trucks = [
        {"id": t.id, "depot": t.depot, "capacity": t.capacity, "shift_start": t.shift_start,
         "shift_end": t.shift_end}
        for t in expand_trucks(scn)
    ]  # fmt: skip
    return {"snapshot": snapshot, "fleet": {"depots": depots, "trucks": trucks}, "options": {}}


def main(argv: Sequence[str] | None = None) -> None:
    from api.runners import build_problem, travel_for
    from mobility.rebalancing.baselines import greedy_dispatch
    from mobility.rebalancing.night import snapshot_stations
    from mobility.rebalancing.snapshot import StatusSnapshot
    from mobility.rebalancing.solve import SolveParams, solve
    from mobility.rebalancing.validate import validate_plan
    from mobility.simulation.morning import morning_after

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--night", type=benchcli.iso_date, default="2026-12-06", help="the night (YYYY-MM-DD)")
    ap.add_argument(
        "--scenario", type=benchcli.existing_file, default=ROOT / "scenarios" / "seoul-nightly.yaml"
    )
    ap.add_argument("--time-limit", type=benchcli.positive_float, default=20.0, help="solver seconds")
    ap.add_argument("--replications", type=benchcli.positive_int, default=5, help="simulated mornings")
    ap.add_argument("--seed", type=benchcli.non_negative_int, default=0, help="random seed")
    ap.add_argument("--data-dir", type=benchcli.existing_dir, default=None)
    a = ap.parse_args(argv)
    step = benchcli.ProgressLines()
    print(f"machine: {describe()}", flush=True)
    step(f"{a.night}: the 22:00 snapshot and the fleet")
    inputs = run_request(a.night, a.scenario, a.data_dir)
    step("truck travel times")
    travel = travel_for(inputs)
    plans: dict[str, Any] = {}
    rows: dict[str, dict[str, Any]] = {}
    problem = None
    for targets in VARIANTS:
        problem = build_problem(inputs | {"options": {"targets": targets}}, travel)
        step(f"solving with targets {targets} ({problem.meta['targets']}), {a.time_limit:g} s")
        plan = solve(problem, SolveParams(time_limit=a.time_limit, seed=a.seed, workers=1))
        assert validate_plan(problem, plan).ok, f"{targets}: invalid routes"
        plans[targets] = plan.to_dict()
        rows[targets] = {
            "bikes_moved": plan.totals.bikes_moved,
            "left_on_trucks": sum(r.end_load for r in plan.routes),
            "meta": {k: v for k, v in problem.meta.items() if k not in ("travel_note", "snapshot")},
        }
        if targets == "snapshot":
            plans["greedy"] = greedy_dispatch(problem, seed=a.seed).to_dict()
    assert problem is not None
    step(f"the morning after, {a.replications} simulated mornings")
    _snap, stations, _report = snapshot_stations(StatusSnapshot.model_validate(inputs["snapshot"]))
    morning = morning_after(
        stations, problem.bikes, {"none": None, **plans}, night=a.night, profiles=None,
        replications=a.replications, seed=a.seed, data_dir=a.data_dir,
    )  # fmt: skip
    for row in morning.table():
        out = rows.setdefault(row["method"], {"bikes_moved": row["bikes_moved"]})
        out["lost_empty"], out["full_arrivals"] = round(row["lost_empty"], 1), round(row["full_arrivals"], 1)
        out["unhappy"] = round(out["lost_empty"] + out["full_arrivals"], 1)
    base = rows["snapshot"]["unhappy"]
    print("variant     bikes moved  left on trucks  lost at empty  at full docks  ratio to snapshot")
    for name, r in rows.items():
        left = r.get("left_on_trucks", "")
        print(
            f"{name:10} {r['bikes_moved']:12,} {left:>15} {r['lost_empty']:14.1f} "
            f"{r['full_arrivals']:14.1f} {r['unhappy'] / base:18.3f}"
        )
    print(
        json.dumps(
            {"benchmark": "api_targets", "machine": machine(), "night": a.night, "time_limit": a.time_limit,
             "replications": a.replications, "rows": rows}
        )
    )  # fmt: skip


if __name__ == "__main__":
    benchcli.run_main(main)
