"""Out-of-sample validation of the simulator against recorded rentals.

Two checks, each on data the model was *not* fitted on:

* **A held-out month** (default June 2023). The demand profiles are rebuilt from the 2023
  monthly usage *without* that month, and the season factors from the citywide monthly counts
  without it. A representative weekday and weekend day of the month are simulated and combined
  with the month's numbers of weekdays and weekend/holiday days into each station's simulated
  mean daily rentals, compared with the recorded rentals of that month divided by its days.
* **A held-out full day** (2022-01-01, the one complete day of trips), as a forecast from the
  past. The profiles' hourly shapes, the destinations, the ride times and the day factors are
  fitted on the trips of 2016-03 and 2018 (not that day's); the citywide level is forecast from
  the monthly counts *before* January 2022 (2019-01..2021-12, with the 2020->2021 trend), and
  each district's share of it from its counts of October-December 2021
  (``prepare(fit=FitWindow(history_before=...))``). The station levels within a district are 2023's (the only
  per-station volumes in the data; they carry nothing of the day). The stations are those of
  the 2025-12 list installed before the day. Simulated rentals per station are compared with the
  day's recorded trips per station.

Both simulate the operator's daytime rebalancing with a rule fixed beforehand
(:data:`OPERATOR_RULE`: every hour from 07:00 to 21:00, stations below 20 % of their docks are
filled to 50 % from stations above 80 %, which are brought down to 50 %): the recorded rentals
are those of a system whose trucks refill busy stations during the day, and without it the
simulated busy stations run dry (a smaller R², a lower total). ``rebalance=RebalanceRule()``
switches it off.

Both report R² of station daily rentals (``1 - SS_res / SS_tot`` around the observed mean: a
model that predicts every station at the citywide mean scores 0), the ratio of the citywide
totals, and the R² a perfect model of the mean could reach if the observed counts carry Poisson
noise (``1 - mean / variance``; the ceiling for one day's counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mobility.config import resolve_data_dir
from mobility.demand.data import TRIP_DATASETS, load_stations, load_trip_tables, load_usage
from mobility.demand.holidays import month_day_types
from mobility.demand.profiles import StationProfiles, build_profiles
from mobility.simulation.data import StationSet, load_station_set
from mobility.simulation.engine import RebalanceRule
from mobility.simulation.model import RiderParams
from mobility.simulation.pipeline import FitWindow, Prepared, prepare, simulate
from mobility.sources.stations import load_station_list

OPERATOR_RULE = RebalanceRule(every_s=3600, low=0.2, target=0.5, high=0.8, start_h=7.0, end_h=22.0)
"""The daytime rebalancing rule of the validations, fixed before they were run (not fitted)."""


@dataclass(frozen=True)
class ValidationRun:
    """How a validation simulates, whichever check it is.

    Attributes
    ----------
    replications
        Simulated days per day simulated.
    seed
        Random seed of the simulator.
    data_dir
        The Seoul data folder (``None`` resolves it).
    rebalance
        The daytime rebalancing rule (:data:`OPERATOR_RULE`; ``RebalanceRule()`` switches it off).
    """

    replications: int = 20
    seed: int = 0
    data_dir: Path | None = None
    rebalance: RebalanceRule = OPERATOR_RULE


def r_squared(observed: np.ndarray, predicted: np.ndarray) -> float:
    """Coefficient of determination of ``predicted`` against ``observed``."""
    o = np.asarray(observed, dtype=float)
    p = np.asarray(predicted, dtype=float)
    ss_tot = float(((o - o.mean()) ** 2).sum())
    return 1.0 - float(((o - p) ** 2).sum()) / ss_tot if ss_tot > 0 else float("nan")


def _compare(observed: pd.Series, simulated: pd.Series) -> dict[str, Any]:
    both = observed.index.intersection(simulated.index)
    o = observed.reindex(both).to_numpy(float)
    s = simulated.reindex(both).to_numpy(float)
    var = float(o.var())
    return {
        "stations_compared": len(both),
        "r2_station_rentals": r_squared(o, s),
        # what even a perfect model of the mean could reach when the observed counts carry
        # Poisson noise (variance = mean); meaningful for a single day's counts
        "r2_poisson_ceiling": 1.0 - float(o.mean()) / var if var > 0 else float("nan"),
        "observed_total": float(o.sum()),
        "simulated_total": float(s.sum()),
        "total_ratio": float(s.sum() / o.sum()) if o.sum() > 0 else float("nan"),
    }


def _report(
    observed: pd.Series,
    simulated: pd.Series,
    check: str,
    run: ValidationRun,
    runs: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """The comparison of one check, with what was run: its name, replications, rule and runs."""
    out = _compare(observed, simulated)
    out.update(
        {
            "check": check,
            **extra,
            "replications": run.replications,
            "rebalance": run.rebalance.__dict__,
            "runs": runs,
        }
    )
    return out


def _prepare(
    day: str,
    root: Path,
    profiles: StationProfiles,
    rebalance: RebalanceRule,
    fit: FitWindow,
    station_set: StationSet | None = None,
) -> Prepared:
    """The 2025-12 stations (or ``station_set``) on ``day``, fitted on what ``fit`` allows."""
    return prepare(
        "2025-12",
        day,
        data_dir=root,
        profiles=profiles,
        fit=fit,
        params=RiderParams(rebalance=rebalance),
        station_set=station_set,
    )


def _station_rentals(prep: Prepared, how: ValidationRun) -> tuple[pd.Series, dict[str, Any]]:
    run, result = simulate(prep, how.replications, how.seed)
    rentals = run.metric("rentals").sum(axis=2).mean(axis=0)
    idx = prep.stations["number"].astype("Int64").to_numpy()
    summary = result.summary()
    moved = run.moved if run.moved is not None else np.zeros(1)
    summary["bikes_moved_by_rule"] = float(np.clip(moved, 0, None).sum() / run.replications)
    return pd.Series(rentals, index=idx), summary


def validate_month(
    month: str = "2023-06",
    *,
    weekday: str = "2023-06-14",
    weekend: str = "2023-06-17",
    run: ValidationRun | None = None,
) -> dict[str, Any]:
    """Simulated against recorded mean daily rentals per station in a held-out month.

    ``weekday`` and ``weekend`` are the month's representative days; ``run`` how they are
    simulated (default :class:`ValidationRun`).
    """
    run = run or ValidationRun()
    root = resolve_data_dir(run.data_dir)
    usage = load_usage(root)
    held = usage[usage["month"].astype(str) == month]
    fit = usage[usage["month"].astype(str) != month]
    prof = build_profiles(load_trip_tables(root), fit, load_stations(root))
    days = month_day_types(month)
    parts: dict[str, pd.Series] = {}
    summaries = {}
    for kind, day in (("weekday", weekday), ("weekend", weekend)):
        prep = _prepare(day, root, prof, run.rebalance, FitWindow(exclude_months=(month,)))
        parts[kind], summaries[kind] = _station_rentals(prep, run)
    n_days = days["weekday"] + days["weekend"]
    sim = (parts["weekday"] * days["weekday"] + parts["weekend"] * days["weekend"]) / n_days
    obs = (
        held.groupby(pd.to_numeric(held["number"], errors="coerce").astype("Int64"))["rentals"].sum() / n_days
    )
    return _report(obs, sim, f"held-out month {month}", run, summaries, days=days)


def validate_day(day: str = "2022-01-01", *, run: ValidationRun | None = None) -> dict[str, Any]:
    """Simulated against recorded rentals per station on a held-out full day of trips, simulated
    as ``run`` says (default :class:`ValidationRun`)."""
    run = run or ValidationRun()
    root = resolve_data_dir(run.data_dir)
    train = tuple(d for d in TRIP_DATASETS if d != day)
    full = load_station_list("2025-12", data_dir=root).table
    prof = build_profiles(load_trip_tables(root, train), load_usage(root), full)
    ss = load_station_set("2025-12", root)
    installed = pd.to_datetime(full["installed_on"], errors="coerce")
    keep_numbers = set(full.loc[installed < pd.Timestamp(day), "number"].astype(int).tolist())
    t = ss.table[ss.table["number"].astype(int).isin(keep_numbers)].reset_index(drop=True)
    month = pd.Timestamp(day).strftime("%Y-%m")
    prep = _prepare(
        day,
        root,
        prof,
        run.rebalance,
        FitWindow(exclude_months=(month,), trip_datasets=train, history_before=month),
        station_set=StationSet(t, source=f"2025-12 installed before {day}"),
    )
    sim, summary = _station_rentals(prep, run)
    trips = load_trip_tables(root, (day,))[day]
    obs = pd.to_numeric(trips["rent_station"], errors="coerce").astype("Int64").value_counts()
    obs = obs.reindex(sim.index, fill_value=0)
    return _report(obs, sim, f"held-out day {day}", run, {"day": summary})
