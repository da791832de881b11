"""The day of a simulation or a derived snapshot: read as ``YYYY-MM-DD`` only, and within the years
the demand data covers.

``pd.Timestamp`` reads far more than a date (``2023`` as 2023-01-01, ``03-04-2023`` in US order),
so a day given on the command line is read by :func:`parse_date`; :func:`check_day_in_years` is
the one range check of ``mobility simulate --day`` (through the season model,
:meth:`~mobility.simulation.model.SeasonModel.factor`) and ``mobility demand snapshot --date``
(:func:`check_day_in_data`).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd

from mobility.dates import parse_date
from mobility.errors import InputError

__all__ = ["check_day_in_data", "check_day_in_years", "data_years", "parse_date"]


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
