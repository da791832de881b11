"""Day types: weekdays versus weekends and Korean public holidays.

A date is a ``"weekend"`` day (the weekend-holiday type) when it is a Saturday, a Sunday or a
public holiday of the Republic of Korea as the ``holidays`` package lists them (New Year, Seollal,
Chuseok, substitute holidays, election days, ...); every other date is a ``"weekday"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Literal

import holidays
import numpy as np
import pandas as pd

DayType = Literal["weekday", "weekend"]
DAY_TYPES: tuple[DayType, DayType] = ("weekday", "weekend")


@lru_cache(maxsize=64)
def _kr_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("KR", years=year).keys())


def is_holiday(d: date) -> bool:
    """True for a Korean public holiday (not counting ordinary weekends)."""
    return d in _kr_holidays(d.year)


def day_type(d: date | pd.Timestamp) -> DayType:
    """``"weekend"`` for Saturdays, Sundays and Korean public holidays, else ``"weekday"``."""
    dd = d.date() if isinstance(d, pd.Timestamp) else d
    return "weekend" if dd.weekday() >= 5 or is_holiday(dd) else "weekday"


def day_type_codes(times: pd.Series) -> np.ndarray:
    """Day type of each timestamp as a code: 0 = weekday, 1 = weekend or holiday (-1 when missing)."""
    ts = pd.to_datetime(times)
    days = ts.dt.normalize()
    out = np.full(len(ts), -1, dtype=np.int8)
    valid = days.notna().to_numpy()
    if valid.any():
        uniq = pd.Series(days[valid].unique())
        codes = {d: int(day_type(d) == "weekend") for d in uniq}
        out[valid] = days[valid].map(codes).to_numpy(dtype=np.int8)
    return out


def count_day_types(days: Iterable[date | pd.Timestamp]) -> dict[DayType, int]:
    """How many of the given distinct dates are weekdays and weekend/holiday days."""
    counts: dict[DayType, int] = {"weekday": 0, "weekend": 0}
    for d in set(pd.Timestamp(x).normalize() for x in days):
        counts[day_type(d)] += 1
    return counts


def month_day_types(month: str) -> dict[DayType, int]:
    """Weekdays and weekend/holiday days in a month given as ``YYYY-MM``."""
    start = pd.Timestamp(f"{month}-01")
    days = pd.date_range(start, start + pd.offsets.MonthEnd(0), freq="D")
    return count_day_types(days)
