"""The one reader of calendar dates typed by people: ``YYYY-MM-DD`` and nothing else.

``datetime.date.fromisoformat`` also takes ``20230614`` and ``2023-W24-3`` (Python 3.11), and
``pandas.Timestamp`` takes ``2023`` or ``03-04-2023``; a scenario's night, a simulated day and a
benchmark's ``--day`` are read here instead.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from mobility.errors import InputError

if TYPE_CHECKING:  # pandas is imported by parse_date only: reading a scenario's date needs none
    import pandas as pd

__all__ = ["FIRST_DAY", "LAST_DAY", "iso_date", "parse_date"]

FIRST_DAY, LAST_DAY = dt.date(2019, 1, 1), dt.date(2025, 12, 31)
"""The days the demand data covers (its citywide monthly usage, 2019-01 to 2025-12): the range of
a planner's simulated day; later days are simulated as a forecast
(:data:`mobility.simulation.days.FORECAST_YEARS`)."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(text: str) -> dt.date:
    """``text`` (surrounding blanks ignored) as a date when it is a real calendar date ``YYYY-MM-DD``.

    Raises
    ------
    ValueError
        When it is not: another layout, or a day that does not exist (``2023-02-30``).
    """
    s = text.strip()
    if not _DATE.fullmatch(s):
        raise ValueError(f"not YYYY-MM-DD: {text!r}")
    return dt.date.fromisoformat(s)


def parse_date(text: object, option: str = "--day") -> pd.Timestamp:
    """``YYYY-MM-DD`` (a date or a timestamp object is taken as is) -> the day at midnight.

    Parameters
    ----------
    text
        The value given.
    option
        The option or field the value was given as, for the error.

    Returns
    -------
    pandas.Timestamp
        The day, normalized to midnight.

    Raises
    ------
    InputError
        Naming ``option`` when ``text`` is not a calendar date written ``YYYY-MM-DD``.
    """
    import pandas as pd

    if isinstance(text, dt.date):  # a pandas Timestamp is one too
        return pd.Timestamp(text).normalize()
    try:
        return pd.Timestamp(iso_date(str(text) if text is not None else ""))
    except ValueError as exc:
        raise InputError(option, text, "a date YYYY-MM-DD (e.g. 2023-06-14)") from exc
