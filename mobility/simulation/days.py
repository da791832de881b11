"""The day of a simulation or a derived snapshot: read as ``YYYY-MM-DD`` only, and within the years
the demand data covers.

``pd.Timestamp`` reads far more than a date (``2023`` as 2023-01-01, ``03-04-2023`` in US order),
so a day given on the command line is read by :func:`parse_date`; :func:`check_day_in_years` is
the one range check of ``mobility simulate --day`` (through the season model,
:meth:`~mobility.simulation.model.SeasonModel.factor`) and ``mobility demand snapshot --date``
(:func:`check_day_in_data`).

A day after the demand data (tonight's morning, in a year the monthly counts do not reach yet) is
simulated as a **forecast** from all of the data, as the out-of-sample validation forecasts
New Year's Day 2022 from the months before it (:mod:`mobility.simulation.validation`): the
citywide level of the last whole year grown by the trend of the last two, each district's share
from the last three months (:func:`forecast_from`, :class:`~mobility.simulation.pipeline.FitWindow`).
Forecasts reach :data:`FORECAST_YEARS` years past the data, no further.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from pathlib import Path

import pandas as pd

from mobility.dates import FIRST_DAY, LAST_DAY, parse_date
from mobility.errors import InputError

__all__ = [
    "FORECAST_YEARS",
    "LAST_FORECAST_DAY",
    "LAST_NIGHT",
    "MORNING_NIGHTS",
    "SIMULATED_DAYS",
    "check_day_in_data",
    "check_day_in_years",
    "data_years",
    "forecast_from",
    "morning_night_problem",
    "parse_date",
]

FORECAST_YEARS = 2
"""How many years past the demand data's last year a day is simulated, as a forecast."""
LAST_FORECAST_DAY = dt.date(LAST_DAY.year + FORECAST_YEARS, 12, 31)
"""The last day a simulation forecasts (the demand data's range, :data:`~mobility.dates.LAST_DAY`,
then :data:`FORECAST_YEARS` years)."""
SIMULATED_DAYS = (
    f"a day from {FIRST_DAY} to {LAST_FORECAST_DAY} (after {LAST_DAY}: a forecast from the demand data)"
)
"""What a simulated day must be (``POST /v1/simulations``' ``day``)."""
LAST_NIGHT = LAST_FORECAST_DAY - dt.timedelta(days=1)
"""The last night whose morning after can be simulated: its morning is the forecast's last day."""
MORNING_NIGHTS = (
    f"a night from {FIRST_DAY} to {LAST_NIGHT}: the morning after is simulated with the rider "
    f"model's rates, which cover {FIRST_DAY.year}-{LAST_DAY.year} and are forecast "
    f"{FORECAST_YEARS} years past them"
)
"""What the night of a simulated morning after must be (the API's 422, ``mobility rebalance``'s exit 2)."""


def morning_night_problem(night: dt.date | None) -> str | None:
    """Why ``night`` cannot have its morning after simulated (``got ...; expected ...``), or
    ``None`` when it can (or is not known yet)."""
    if night is None or FIRST_DAY <= night <= LAST_NIGHT:
        return None
    return f"got {str(night)!r}; expected {MORNING_NIGHTS}"


def forecast_from(day: pd.Timestamp, months: Iterable[str], option: str = "--day") -> str | None:
    """The month (``YYYY-MM``) a simulation of ``day`` is forecast from, or ``None`` when the demand
    data reaches the day's year.

    Parameters
    ----------
    day
        The simulated day.
    months
        The months (``YYYY-MM``) of the citywide monthly usage.
    option
        The option or field the day was given as, for the error.

    Returns
    -------
    str or None
        The month after the data's last one: the forecast uses every month before it.

    Raises
    ------
    InputError
        Naming ``option`` when ``day`` is more than :data:`FORECAST_YEARS` years past the data.
    """
    last = max(months, default=None)
    if last is None or day.year <= int(last[:4]):
        return None
    horizon = int(last[:4]) + FORECAST_YEARS
    if day.year > horizon:
        expected = (
            f"a day to {horizon}-12-31 (the data ends {last}; forecasts reach {FORECAST_YEARS} years past it)"
        )
        raise InputError(option, day.strftime("%Y-%m-%d"), expected)
    return str(pd.Period(last, freq="M") + 1)


def check_day_in_years(day: pd.Timestamp, years: Collection[int], option: str = "--day") -> None:
    """Check that ``day`` falls in one of ``years`` (the years the demand data covers).

    Raises
    ------
    InputError
        Naming ``option``, the day and the range ``first..last`` of ``years``.
    """
    if day.year in years:
        return
    span = f"{min(years)}..{max(years)}" if years else "none"
    raise InputError(option, day.strftime("%Y-%m-%d"), f"a day in {span} (the demand model's range)")


def data_years(data_dir: Path | None = None) -> set[int]:
    """The years of the citywide monthly usage, which the season model is fitted on (2019..2025)."""
    from mobility.config import resolve_data_dir
    from mobility.sources.usage import load_citywide_monthly_usage

    months = load_citywide_monthly_usage(resolve_data_dir(data_dir)).table["month"].astype(str)
    return {int(m[:4]) for m in months}


def check_day_in_data(day: pd.Timestamp, data_dir: Path | None = None, option: str = "--date") -> None:
    """:func:`check_day_in_years` on the years of the demand data (:func:`data_years`)."""
    check_day_in_years(day, data_years(data_dir), option)
