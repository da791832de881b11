"""Benchmark: the night's dissatisfaction curves at the profiles' level against the morning's level.

``targets.level: profile`` (the baseline) builds the curves from the station
profiles' rates, the 2023 mean day; ``targets.level: morning`` scales them by the morning's
citywide level (:func:`mobility.simulation.model.demand_level`). For each night given, in the
same process: the night's 22:00 snapshot derived from the data, our solver on each variant with
the same time limit and seed, then the morning after both (and the greedy dispatcher on the
baseline's curves) simulated with the rider simulator, the same mornings for each
(:func:`mobility.simulation.morning.morning_after`). Prints the machine, a row per night with the
level, the bikes moved and the riders turned away (an empty station or a full dock) from midnight
to 10:00 and in the curves' 07:00-10:00 window, the ratio morning / profile, and a last line of
JSON. ``targets.level: auto`` (the default) is ``morning`` where the morning's level is below 1
and ``profile`` where it is not: the same curves, so its ratio is read off the same two runs
(``ratio_auto``), not solved a third time.

With ``--day-factors`` a third variant, ``day``, in the same process with the same seed and time
limit: the curves at the morning's level times the rider simulator's day factor of that morning
(:func:`day_level`: a public holiday against an ordinary weekend day, and the month's
weekday/weekend split, :func:`mobility.rebalancing.night.day_factors`), which the level leaves out.
Its rows print the level, the bikes moved and the riders turned away of ``day`` beside
``morning``'s, ``day / morning`` and ``day / profile``; ``ratio_auto_day`` is ``auto`` with the
factor (``day`` where its level is below 1, ``profile`` where it is not).

Usage: ``.venv/bin/python bench/night_level.py 2022-01-01 2023-06-13 [--time-limit 60]
[--replications 20] [--day-factors]`` (about 5 minutes a night at 60 s, a minute more with ``--day-factors``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mobility import benchcli
from mobility.machine import describe, machine
from mobility.rebalancing.night import curve_level, day_factors, load_night_problem
from mobility.rebalancing.solve import SolveParams, solve
from mobility.rebalancing.validate import validate_plan
from mobility.scenario.nightly import CurveLevel, NightlyScenario, at_level, load_nightly

ROOT = Path(__file__).resolve().parents[1]
LEVELS: tuple[CurveLevel, ...] = ("profile", "morning")
DAY = "day"
"""The ``--day-factors`` variant: the morning's level times the simulator's day factor."""


def day_level(night: dt.date, data_dir: Path | None = None) -> float:
    """The ``day`` variant's level: the morning's (:func:`~mobility.rebalancing.night.curve_level`
    ``morning``) times the rider simulator's day factor of the morning after ``night`` (its
    :class:`~mobility.simulation.model.DayFactors`, :func:`~mobility.rebalancing.night.day_factors`)."""
    morning = pd.Timestamp(night) + pd.Timedelta(days=1)
    return curve_level("morning", night, data_dir) * day_factors(data_dir).factor(morning)


def unhappy(row: dict[str, Any]) -> tuple[float, float]:
    """Riders turned away until 10:00 (lost at an empty station + at a full dock) and in the window."""
    return row["lost_empty"] + row["full_arrivals"], row["window_simulated"]


def one_night(
    scn: NightlyScenario, night_date: str, a: argparse.Namespace, step: benchcli.ProgressLines
) -> dict[str, Any]:
    """Both variants of one night (three with ``--day-factors``), and the morning after each."""
    from mobility.demand.data import load_profiles
    from mobility.demand.snapshot import derive_snapshot_from_data
    from mobility.rebalancing.baselines import greedy_dispatch
    from mobility.simulation.morning import morning_after

    scn = scn.model_copy(
        update={"night": scn.night.model_copy(update={"date": dt.date.fromisoformat(night_date)})}
    )
    step(f"{night_date}: the 22:00 snapshot")
    status = derive_snapshot_from_data(load_profiles(a.data_dir), night_date, at=22.0, data_dir=a.data_dir)
    plans: dict[str, Any] = {}
    nights: dict[str, Any] = {}
    out: dict[str, Any] = {"night": night_date}
    # variant -> its targets.level and the curves' level as a number (None: targets.level's)
    variants: dict[str, tuple[CurveLevel, float | None]] = {level: (level, None) for level in LEVELS}
    if a.day_factors:
        variants[DAY] = ("morning", day_level(scn.night.date, a.data_dir))
    for name, (level, number) in variants.items():
        night = load_night_problem(at_level(scn, level), status, a.data_dir, scale=number)
        step(f"{night_date}: solving at the {name} level ({night.level:.3f}), {a.time_limit:g} s")
        sv = scn.solver
        params = SolveParams(
            time_limit=a.time_limit,
            seed=a.seed,
            workers=sv.workers,
            decompose=sv.decompose,
            trucks_per_zone=sv.trucks_per_zone,
            classic=sv.classic,
        )
        plan = solve(night.problem, params)
        assert validate_plan(night.problem, plan).ok, f"{night_date} {name}: invalid routes"
        plans[name] = plan.to_dict()
        out[f"{name}_level"] = round(night.level, 4)
        out[f"{name}_bikes_moved"] = plan.totals.bikes_moved
        nights[name] = night
    base = nights["profile"]
    assert base.stations is not None
    plans["greedy"] = greedy_dispatch(base.problem, seed=a.seed).to_dict()
    step(f"{night_date}: the morning after, {a.replications} simulated mornings")
    morning = morning_after(
        base.stations,
        base.problem.bikes,
        plans,
        night=night_date,
        profiles=base.profiles,
        replications=a.replications,
        seed=a.seed,
        data_dir=a.data_dir,
    )
    rows = {r["method"]: r for r in morning.table()}
    for name in (*variants, "greedy"):
        out[f"{name}_unhappy"], out[f"{name}_window"] = (round(x, 1) for x in unhappy(rows[name]))
    out["ratio_unhappy"] = round(out["morning_unhappy"] / out["profile_unhappy"], 4)
    out["ratio_window"] = round(out["morning_window"] / out["profile_window"], 4)
    out["ratio_auto"] = out["ratio_unhappy"] if out["morning_level"] < 1 else 1.0
    if a.day_factors:
        for what in ("unhappy", "window"):
            out[f"ratio_day_{what}"] = round(out[f"day_{what}"] / out[f"profile_{what}"], 4)
            out[f"ratio_day_morning_{what}"] = round(out[f"day_{what}"] / out[f"morning_{what}"], 4)
        out["ratio_auto_day"] = out["ratio_day_unhappy"] if out["day_level"] < 1 else 1.0
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "nights",
        nargs="+",
        type=benchcli.iso_date,
        help="nights (YYYY-MM-DD), each with its derived snapshot",
    )
    ap.add_argument(
        "--scenario", type=benchcli.existing_file, default=ROOT / "scenarios" / "seoul-nightly.yaml"
    )
    ap.add_argument(
        "--time-limit", type=benchcli.positive_float, default=60.0, help="solver seconds per variant"
    )
    ap.add_argument(
        "--replications", type=benchcli.positive_int, default=20, help="simulated mornings per method"
    )
    ap.add_argument(
        "--seed", type=benchcli.non_negative_int, default=0, help="random seed (same seed, same result)"
    )
    ap.add_argument("--data-dir", type=benchcli.existing_dir, default=None)
    ap.add_argument(
        "--day-factors",
        action="store_true",
        help="also the curves at the morning's level times the simulator's day factor (variant day)",
    )
    a = ap.parse_args(argv)
    step = benchcli.ProgressLines()
    scn = load_nightly(a.scenario)
    print(f"machine: {describe()}", flush=True)
    rows = [one_night(scn, d, a, step) for d in a.nights]
    print(
        "night       level  moved (profile / morning)  unhappy to 10:00 (profile -> morning)  ratio  window"
        "  auto"
    )
    for r in rows:
        moved = f"{r['profile_bikes_moved']:,} / {r['morning_bikes_moved']:,}"
        turned = f"{r['profile_unhappy']:,.0f} -> {r['morning_unhappy']:,.0f}"
        ratios = f"{r['ratio_unhappy']:.3f}  {r['ratio_window']:.3f}  {r['ratio_auto']:.3f}"
        print(f"{r['night']}  {r['morning_level']:5.2f}  {moved:>25}  {turned:>37}  {ratios}")
    if a.day_factors:
        print(
            "night       level morning -> day  moved (morning / day)  unhappy to 10:00 (morning -> day)"
            "  day/morning  window  day/profile  window  auto"
        )
        for r in rows:
            levels = f"{r['morning_level']:5.3f} -> {r['day_level']:5.3f}"
            moved = f"{r['morning_bikes_moved']:,} / {r['day_bikes_moved']:,}"
            turned = f"{r['morning_unhappy']:,.0f} -> {r['day_unhappy']:,.0f}"
            ratios = (
                f"{r['ratio_day_morning_unhappy']:11.3f}  {r['ratio_day_morning_window']:6.3f}"
                f"  {r['ratio_day_unhappy']:11.3f}  {r['ratio_day_window']:6.3f}  {r['ratio_auto_day']:.3f}"
            )
            print(f"{r['night']}  {levels:>20}  {moved:>21}  {turned:>33}  {ratios}")
    print(
        json.dumps(
            {"benchmark": "night_level", "machine": machine(), "time_limit": a.time_limit, "rows": rows}
        )
    )


if __name__ == "__main__":
    benchcli.run_main(main)
