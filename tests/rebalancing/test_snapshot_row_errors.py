"""A status table's bad row is named by its station (or its row) and its field, never dumped."""

from __future__ import annotations

import pytest

from api.schemas import SnapshotIn
from mobility.errors import InputError
from mobility.rebalancing.snapshot import StatusSnapshot, snapshot_from_csv


def test_a_missing_field_names_the_field_and_not_the_row() -> None:
    with pytest.raises(InputError) as err:
        snapshot_from_csv("station_id,bikes,docks\nST-4,3,10\n", label="body", model=SnapshotIn)
    assert err.value.field == "body[ST-4].lon (line 2)"
    assert (err.value.value, err.value.expected) == (None, "a value")
    assert "{" not in str(err.value)


def test_a_row_without_id_or_number_is_named_by_its_line() -> None:
    with pytest.raises(InputError) as err:
        snapshot_from_csv("station_id,number,bikes\nST-4,,3\n,,2\n", label="status")
    assert str(err.value) == "status[line 3].station_id: missing; expected a station id or a number"


def test_a_number_only_row_is_a_station_of_the_api_document() -> None:
    text = "station_id,number,name,lon,lat,docks,bikes\n,4280,북가좌2동 주민센터,126.9143,37.5842,5,4\n"
    (station,) = snapshot_from_csv(text, label="body", model=SnapshotIn).stations
    assert (station.station_id, station.number, station.key, station.bikes) == (None, 4280, "N4280", 4)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("number,bikes\n2301,4,5,6\n", 2),  # pandas took 2301,4 for an index: station 5, 6 bikes
        ("number,bikes\n102,3\n2301,4,5,6\n", 3),
        ("number\tbikes\n102\t3\n2301\t4\t5\n", 3),
        ("number,bikes\n\n102,3\n2301,4,5,6\n", 4),  # a blank line is a line of the file
    ],
)
def test_a_row_with_more_cells_than_the_header_is_refused_by_its_line(text: str, line: int) -> None:
    with pytest.raises(InputError) as err:
        snapshot_from_csv(text, label="status")
    assert err.value.field == f"status[line {line}]"
    assert err.value.value == len(text.splitlines()[line - 1].split("\t" if "\t" in text else ","))
    assert "at most 2 cells" in str(err.value.expected)


def test_a_quoted_delimiter_is_one_cell() -> None:
    snap: StatusSnapshot = snapshot_from_csv('number,bikes,name\n102,3,"a, b"\n', label="status")
    assert [s.name for s in snap.stations] == ["a, b"]
