"""Benchmark: the Seoul night — our solver against a greedy dispatcher and plain OR-Tools routing.

The night of ``scenarios/seoul-nightly.yaml`` (2,799 stations, 24 trucks of 18 bikes, 22:00–06:00,
truck-night travel times on the OSM drive network, morning dissatisfaction curves from the demand
model) with the evening inventory derived by ``mobility demand snapshot --date 2022-01-01
--at 22:00`` (real net flows of that day). In the same run, on the same problem:

* **greedy**: the dispatcher baseline — each truck, when free, serves the most valuable station it
  can still reach and get home from (the best quantity for its load), until nothing is worth it;
* **ortools**: a plain OR-Tools routing model (fixed best single-visit quantities, prize
  collecting, signed load dimension with free/fixed start cumul, time dimension, guided local
  search) given the same wall time as ours;
* **ours**: ``mobility.rebalancing.solve`` (zones in 2 processes + border repair, exact loading, a
  last descent with the classic neighbourhoods);
* **ours, classic phase off**: the same without its last descent with the classic
  one-commodity neighbourhoods of ``mobility.rebalancing.moves`` (``classic="off"``): the before of
  that phase, on for the night since 2026-12-05 (it takes 0 to 1.4 off the objective and never
  makes a plan worse; two runs also differ by the zones' time-limited search, see the README).

Then the **cost of decomposition** on a part small enough to solve whole: the stations of one
depot's zone pair (``--sub-stations`` nearest the NW depot, ``--sub-trucks`` trucks), solved whole
and decomposed with the same time.

Then **the morning after** (:mod:`mobility.simulation.morning`): the stock with each method's
routes applied, simulated with the rider simulator (``--replications`` mornings): riders lost at
empty stations and riders finding full docks until 10:00, and the stockouts of 07:00-10:00 next to
the dissatisfaction model's expectation, station by station (MAE, correlation, worst stations).

Every plan is checked by the independent validator. Prints the machine, a table (remaining
dissatisfaction, objective, bikes moved, km, truck-hours, wall time) with ratios to the greedy
baseline and to OR-Tools, and a last line of JSON.

The curves are at the profiles' level (``--level profile``, the default here): the benchmark night
is the same problem it has been since issue 15's measurements began, whatever the scenario's
``targets.level`` (``auto`` since 2026-12-06, which makes this January night's curves 0.36 of
it); ``--level auto`` runs the night as ``mobility rebalance`` now plans it.

Usage: ``.venv/bin/python bench/rebalancing.py [--time-limit 240] [--sub-time 30] [--status FILE]``
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mobility.benchcli import (
    ProgressLines,
    existing_dir,
    existing_file,
    iso_date,
    non_negative_int,
    positive_float,
    positive_int,
    run_main,
)
from mobility.machine import describe, machine
from mobility.rebalancing.baselines import greedy_dispatch, ortools_routing
from mobility.rebalancing.decompose import subproblem
from mobility.rebalancing.night import load_night_problem
from mobility.rebalancing.solve import SolveParams, solve
from mobility.rebalancing.validate import validate_plan
from mobility.scenario.nightly import at_level, load_nightly

ROOT = Path(__file__).resolve().parents[1]


def row(name: str, plan: Any, problem: Any, seconds: float) -> dict[str, Any]:
    t = plan.totals
    rep = validate_plan(problem, plan)
    return {
        "method": name,
        "dissatisfaction_after": t.dissatisfaction_after,
        "dissatisfaction_before": t.dissatisfaction_before,
        "objective": t.objective,
        "bikes_moved": t.bikes_moved,
        "stations_visited": t.stations_visited,
        "km": t.km,
        "truck_hours": t.truck_hours,
        "empty_after": t.stations_empty_after,
        "full_after": t.stations_full_after,
        "seconds": round(seconds, 1),
        "valid": rep.ok,
        "found": t.stations_visited > 0,
    }


def removed(r: dict[str, Any]) -> float:
    """Dissatisfaction a row's plan removes."""
    return float(r["dissatisfaction_before"] - r["dissatisfaction_after"])


def over(value: float, base: dict[str, Any], base_value: float) -> float | None:
    """``value / base_value``, or ``None`` when the baseline row found no plan (no station visited,
    e.g. OR-Tools out of time): a ratio to an empty plan says nothing."""
    return value / base_value if base["found"] and base_value > 0 else None


def fmt(r: dict[str, Any]) -> str:
    return (
        f"{r['method']:34} {r['dissatisfaction_after']:13.1f} {r['objective']:10.1f} "
        f"{r['bikes_moved']:6d} {r['stations_visited']:6d} {r['km']:8.1f} {r['truck_hours']:8.1f} "
        f"{r['seconds']:6.0f} {'yes' if r['valid'] else 'NO':>3}"
    )


def timed(f: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", type=existing_file, default=ROOT / "scenarios" / "seoul-nightly.yaml")
    ap.add_argument(
        "--status",
        type=existing_file,
        default=None,
        help="the evening's status snapshot, CSV/Parquet/JSON as `mobility rebalance --status` reads it "
        "(default: derived from the data for --date at 22:00)",
    )
    ap.add_argument(
        "--date", type=iso_date, default="2022-01-01", help="night of the derived snapshot (without --status)"
    )
    ap.add_argument(
        "--time-limit", type=positive_float, default=240.0, help="seconds for ours and for OR-Tools"
    )
    ap.add_argument(
        "--level",
        choices=("profile", "auto", "morning"),
        default="profile",
        help="the curves' targets.level (default: profile, the benchmark night since issue 15)",
    )
    ap.add_argument("--sub-time", type=positive_float, default=30.0, help="seconds for whole vs decomposed")
    ap.add_argument("--sub-stations", type=positive_int, default=300)
    ap.add_argument("--sub-trucks", type=positive_int, default=4)
    ap.add_argument("--seed", type=non_negative_int, default=0, help="random seed (same seed, same result)")
    ap.add_argument("--replications", type=positive_int, default=10, help="simulated mornings per method")
    ap.add_argument("--data-dir", type=existing_dir, default=None)
    a = ap.parse_args(argv)
    step = ProgressLines()
    step("loading the scenario, the evening stock and the night's travel times")

    scn = at_level(load_nightly(a.scenario), a.level)
    t0 = time.perf_counter()
    if a.status is not None:
        status: Any = a.status
    else:
        from mobility.demand.data import load_profiles
        from mobility.demand.snapshot import derive_snapshot_from_data

        status = derive_snapshot_from_data(load_profiles(a.data_dir), a.date, at=22.0, data_dir=a.data_dir)
    night = load_night_problem(scn, status, a.data_dir)
    p = night.problem
    setup = time.perf_counter() - t0
    print(f"machine: {describe()}")
    print(
        f"problem: {p.n_stations} stations, {len(p.trucks)} trucks, network {p.meta['network']}, "
        f"targets {p.meta['day_type']} morning at {night.level:.2f} × the profiles' level ({a.level}); "
        f"setup {setup:.0f} s",
        flush=True,
    )
    rows = []
    g, s = timed(lambda: greedy_dispatch(p, seed=a.seed))
    rows.append(row("greedy dispatcher", g, p, s))
    print(f"greedy done ({s:.0f} s)", flush=True)
    o, s = timed(lambda: ortools_routing(p, time_limit=a.time_limit, seed=a.seed))
    rows.append(row(f"plain OR-Tools ({a.time_limit:g} s)", o, p, s))
    print(f"ortools done ({s:.0f} s)", flush=True)
    ours, s = timed(lambda: solve(p, SolveParams(time_limit=a.time_limit, seed=a.seed, workers=2)))
    rows.append(row(f"ours: zones+LNS+descent ({a.time_limit:g} s)", ours, p, s))
    print(f"ours done ({s:.0f} s)", flush=True)
    # before/after of the classic one-commodity neighbourhoods (issue 15): the same engine without
    # its last descent on frozen quantities
    off, s = timed(
        lambda: solve(p, SolveParams(time_limit=a.time_limit, seed=a.seed, workers=2, classic="off"))
    )
    rows.append(row(f"ours, classic phase off ({a.time_limit:g} s)", off, p, s))
    print(f"ours, classic phase off done ({s:.0f} s)", flush=True)

    # the next morning, simulated (an independent measure of the same nights) against the
    # dissatisfaction model the solvers optimise
    from mobility.simulation.morning import morning_after

    plans = {"no rebalancing": None, "greedy dispatcher": g.to_dict(), "plain OR-Tools": o.to_dict()}
    plans |= {"ours": ours.to_dict(), "ours, classic phase off": off.to_dict()}
    morning, s = timed(
        lambda: morning_after(
            night.stations if night.stations is not None else pd.DataFrame(),
            p.bikes,
            plans,
            night=scn.night.date,
            profiles=night.profiles,
            replications=a.replications,
            seed=a.seed,
            data_dir=a.data_dir,
            level=night.level,  # the model column at the curves' level (targets.level)
        )
    )
    print(f"morning after simulated ({s:.0f} s)", flush=True)

    # decomposition cost on a part small enough to solve whole
    dep = 0
    near = np.argsort(p.travel_s[dep, p.n_depots :])[: a.sub_stations]
    trucks = tuple(i for i, t in enumerate(p.trucks) if t.depot == p.depots[dep].id)[: a.sub_trucks]
    sub = subproblem(p, near, trucks)
    sub = replace(sub, trucks=tuple(replace(t, depot=p.depots[dep].id) for t in sub.trucks))
    whole, sw = timed(lambda: solve(sub, SolveParams(time_limit=a.sub_time, seed=a.seed, decompose="never")))
    zones, sz = timed(lambda: solve(sub, SolveParams(time_limit=a.sub_time, seed=a.seed, decompose="always")))
    sub_rows = [row("whole", whole, sub, sw), row("decomposed", zones, sub, sz)]

    hdr = (
        f"{'method':34} {'dissat. after':>13} {'objective':>10} {'bikes':>6} {'stops':>6} "
        f"{'km':>8} {'truck-h':>8} {'s':>6} {'ok':>3}"
    )
    print()
    floor = float(sum(float(np.min(c)) for c in p.curves))
    print(
        f"Seoul night: dissatisfaction before = {rows[0]['dissatisfaction_before']:.1f}; "
        f"floor (every station at its best level) = {floor:.1f}"
    )
    print(hdr)
    for r in rows:
        print(fmt(r))
    ours_r, ort_r, gr_r, off_r = rows[2], rows[1], rows[0], rows[3]
    ratios = {
        "objective_ours_over_greedy": over(ours_r["objective"], gr_r, gr_r["objective"]),
        "objective_ours_over_ortools": over(ours_r["objective"], ort_r, ort_r["objective"]),
        "dissatisfaction_removed_ours_over_greedy": over(removed(ours_r), gr_r, removed(gr_r)),
        "dissatisfaction_removed_ours_over_ortools": over(removed(ours_r), ort_r, removed(ort_r)),
        "objective_ours_classic_off_over_greedy": over(off_r["objective"], gr_r, gr_r["objective"]),
        "objective_ours_classic_off_over_ortools": over(off_r["objective"], ort_r, ort_r["objective"]),
        "objective_ours_over_ours_classic_off": over(ours_r["objective"], off_r, off_r["objective"]),
    }
    print(
        "ratios: "
        + ", ".join(
            f"{k}: baseline found no plan" if v is None else f"{k} = {v:.3f}" for k, v in ratios.items()
        )
    )
    print()
    print(
        f"decomposition cost on {sub.n_stations} stations / {len(sub.trucks)} trucks "
        f"({a.sub_time:.0f} s each):"
    )
    print(hdr)
    for r in sub_rows:
        print(fmt(r))
    dec_ratio = over(sub_rows[1]["objective"], sub_rows[0], sub_rows[0]["objective"])
    dec_cost = None if dec_ratio is None else dec_ratio - 1.0
    print(
        "decomposed / whole objective - 1: baseline found no plan"
        if dec_cost is None
        else f"decomposed / whole objective - 1 = {dec_cost:+.3%}"
    )
    print()
    print(
        f"the morning after, {morning.day} ({morning.replications} simulated mornings): riders lost at "
        f"empty stations / finding full docks until {morning.window[-5:]}; stockout events in "
        f"{morning.window}: simulated vs the dissatisfaction model, station MAE and correlation"
    )
    print(
        f"{'method':26} {'moved':>6} {'lost (95%)':>18} {'full':>7} {'sim.':>7} {'model':>7} "
        f"{'MAE':>6} {'r':>6}"
    )
    for r in morning.table():
        lost = f"{r['lost_empty']:.0f} ({r['lost_empty_low']:.0f}-{r['lost_empty_high']:.0f})"
        print(
            f"{r['method']:26} {r['bikes_moved']:6d} {lost:>18} {r['full_arrivals']:7.0f} "
            f"{r['window_simulated']:7.0f} {r['window_predicted']:7.0f} {r['station_mae']:6.2f} "
            f"{r['station_correlation'] or float('nan'):6.2f}"
        )
    worst = morning.outcomes[0].disagreements
    print(
        "most disagreeing stations without rebalancing (model vs simulated): "
        + "; ".join(f"{w.name} ({w.bikes}/{w.docks}) {w.predicted:.1f} vs {w.simulated:.1f}" for w in worst)
    )
    print(
        json.dumps(
            {
                "benchmark": "rebalancing",
                "machine": machine(),
                "stations": p.n_stations,
                "trucks": len(p.trucks),
                "time_limit": a.time_limit,
                "level": a.level,
                "demand_level": night.level,
                "rows": rows,
                "dissatisfaction_floor": floor,
                "ratios": ratios,
                "decomposition": {"rows": sub_rows, "relative_cost": dec_cost},
                "morning_after": morning.table(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    run_main(main)
