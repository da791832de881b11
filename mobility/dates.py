"""The one reader of calendar dates typed by people: ``YYYY-MM-DD`` and nothing else.

``datetime.date.fromisoformat`` also takes ``20230614`` and ``2023-W24-3`` (Python 3.11), and
``pandas.Timestamp`` takes ``2023`` or ``03-04-2023``; a scenario's night, a simulated day and a
benchmark's ``--day`` are read here instead.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["iso_date"]

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
