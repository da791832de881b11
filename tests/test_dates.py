"""``mobility.dates.iso_date``: the one reader of typed dates (scenarios, --day, benchmarks)."""

from __future__ import annotations

import datetime as dt

import pytest

from mobility.dates import iso_date


def test_a_calendar_date_is_read() -> None:
    assert iso_date(" 2023-06-14 ") == dt.date(2023, 6, 14)


@pytest.mark.parametrize("text", ["2023", "20230614", "2023-W24-3", "03-04-2023", "2023-02-30", ""])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        iso_date(text)
