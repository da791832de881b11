"""``baseline_records``: a read station table as a stored list's stations, every row accounted for."""

from __future__ import annotations

import pytest

from mobility.errors import InputError
from mobility.sources.stations import ZERO_DOCKS, baseline_records, stations_from_csv_bytes

HEADER = "station_id,name,lat,lon,docks\n"


def _records(rows: str) -> tuple[list, dict[str, int], dict[str, int], int]:  # type: ignore[type-arg]
    loaded = stations_from_csv_bytes((HEADER + rows).encode(), source="upload")
    records, dropped, assumed = baseline_records(loaded.table, loaded.report)
    return records, dropped, assumed, loaded.report.rows_read


def test_a_missing_count_filled_with_a_median_of_zero_is_left_out_and_counted() -> None:
    rows = "ST-1,a,37.55,126.91,0\nST-2,b,37.56,126.92,0\nST-3,c,37.56,126.93,\nST-4,d,37.56,126.94,12\n"
    records, dropped, assumed, read = _records(rows)
    assert assumed == {"docks = 0 (the median) where the count was missing": 1}
    assert dropped == {ZERO_DOCKS: 3}
    assert [r.station_id for r in records] == ["ST-4"]
    assert len(records) + sum(dropped.values()) == read  # nothing left out uncounted


def test_filled_counts_are_kept_and_said() -> None:
    records, dropped, assumed, _ = _records("ST-1,a,37.55,126.91,10\nST-2,b,37.56,126.92,\n")
    assert [(r.station_id, r.docks) for r in records] == [("ST-1", 10), ("ST-2", 10)]
    assert dropped == {} and assumed == {"docks = 10 (the median) where the count was missing": 1}


def test_an_invalid_row_is_named_by_its_position_and_id() -> None:
    with pytest.raises(InputError) as err:
        _records("ST-1,a,37.55,126.91,10\nST-2,b,37.56,126.92,600\n")
    assert err.value.field == "(station 2, ST-2).docks" and "500" in err.value.expected
