"""The rider simulator's day factors beside the night's curves: a public holiday is quieter than
an ordinary weekend day (0.86 over 19 holidays), and each month splits its riders between weekdays
and weekends in its own way. :func:`mobility.rebalancing.night.day_factors` fits them from the
trips once and keeps them in the disk cache; ``bench/night_level.py --day-factors`` runs the
curves at the morning's level times the factor of that morning (README, *Nightly rebalancing*).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from bench.night_level import day_level
from mobility.demand.data import TRIP_DATASETS, load_trip_tables
from mobility.rebalancing.night import curve_level, day_factors
from mobility.simulation.model import demand_level, fit_day_factors
from mobility.sources.usage import load_citywide_monthly_usage

CHRISTMAS_EVE = dt.date(2023, 12, 24)
"""A Sunday night; its morning, Monday 25 December 2023, is a public holiday."""


def test_the_cached_factors_are_the_simulators_own(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same factors as the rider model fits from the same trips; the second night reads them
    from the cache instead of loading the trips again."""
    trips = load_trip_tables(data_dir, TRIP_DATASETS)
    want = fit_day_factors(pd.concat([t["rent_time"] for t in trips.values()]))
    got = day_factors(data_dir)
    assert got == want
    assert got.holidays_used == 19 and got.holiday == pytest.approx(0.856, abs=0.005)

    def no_trips(*_a: object, **_k: object) -> None:
        raise AssertionError("the trips were loaded again")

    monkeypatch.setattr("mobility.demand.data.load_trip_tables", no_trips)
    assert day_factors(data_dir) == want


def test_the_bench_variant_is_the_mornings_level_times_the_day_factor(data_dir: Path) -> None:
    """Christmas 2023 (a Monday): the season and year put it at 0.59 of the profiles' mean day;
    the holiday (0.856) and December's weekend share (0.90) take it to 0.455. An ordinary
    Wednesday of the same month moves the other way (December's weekdays, 1.05)."""
    monthly = load_citywide_monthly_usage(data_dir).table
    factors = day_factors(data_dir)
    assert factors.month is not None
    christmas = pd.Timestamp("2023-12-25")
    season = demand_level(christmas, monthly)
    holiday_weekend = factors.holiday * factors.month["weekend"][12]
    assert day_level(CHRISTMAS_EVE, data_dir) == pytest.approx(season * holiday_weekend, rel=1e-12)
    assert season == pytest.approx(0.588, abs=0.005)
    # the night's own curves leave the factor out (measured no better on holiday mornings, README)
    assert curve_level("morning", CHRISTMAS_EVE, data_dir) == pytest.approx(season, rel=1e-12)
    assert day_level(CHRISTMAS_EVE, data_dir) == pytest.approx(0.455, abs=0.005)
    wednesday = dt.date(2023, 12, 12)
    assert day_level(wednesday, data_dir) / curve_level("morning", wednesday, data_dir) == pytest.approx(
        factors.month["weekday"][12], rel=1e-12
    )


def test_the_bench_variant_solves_the_night_at_its_level(tmp_path: Path, data_dir: Path) -> None:
    """``load_night_problem(scale=)``, which the variant's night is built with: the curves at that
    level, recorded in the problem; at the morning's own level, the same curves as ``morning``."""
    from mobility.io import atomic_write_csv
    from mobility.rebalancing.night import load_night_problem
    from mobility.scenario.nightly import nightly_from_dict
    from mobility.sources.stations import load_station_list

    st = load_station_list("2025-12", data_dir=data_dir).table
    st = st[st["gu"] == "마포구"].head(10).reset_index(drop=True)
    snap = pd.DataFrame(
        {"station_id": st["station_id"], "bikes": 3, "docks": st["docks"], "lon": st["lon"], "lat": st["lat"]}
    )
    status = atomic_write_csv(tmp_path / "snap.csv", snap)
    scn = nightly_from_dict(
        {
            "name": "t",
            "night": {"date": CHRISTMAS_EVE.isoformat()},
            "depots": [{"id": "A", "lon": 126.91, "lat": 37.56}],
            "trucks": [{"depot": "A", "count": 1, "capacity": 10}],
            "targets": {"source": "demand", "level": "morning"},
            "network": {"source": "straight"},
        }
    )
    morning = load_night_problem(scn, status, data_dir)
    same = load_night_problem(scn, status, data_dir, scale=morning.level)
    day = load_night_problem(scn, status, data_dir, scale=day_level(CHRISTMAS_EVE, data_dir))
    assert day.level == pytest.approx(0.455, abs=0.005)
    assert day.problem.meta["demand_level"] == round(day.level, 4)
    stock = morning.problem.bikes
    at_morning = morning.problem.dissatisfaction(stock)
    assert same.problem.dissatisfaction(stock) == pytest.approx(at_morning, rel=1e-12)
    assert 0 < day.problem.dissatisfaction(stock) < at_morning
    assert day.problem.meta["day_type"] == "weekend"  # a holiday Monday
