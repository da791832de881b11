"""What the status reader says of a file a night-shift operator uploads: the headers it found (and
why they may not fit), each bad row's line of the file, a station known by its number as that
number, and a station on two lines by both lines (``mobility rebalance --status`` and the API's
``POST /v1/rebalancing/snapshots/csv`` read it alike: :func:`snapshot_from_csv`).

Before: every column problem was ``got [...] (1 items); expected 'bikes' and 'station_id' or
'number'``, whatever the file; a bad value named its station but not its line; a row without a
station was ``[row 3]`` (the third under the header, line 4) and two rows of one station
``stations[40] ... stations[3]`` (lines 42 and 5)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from mobility.errors import InputError
from mobility.rebalancing.build import join_station_list
from mobility.rebalancing.snapshot import SnapshotInputError, StatusSnapshot, read_snapshot, snapshot_from_csv


def _error(text: str | bytes) -> InputError:
    with pytest.raises(InputError) as info:
        snapshot_from_csv(text, label="body")
    return info.value


def _fields(text: str) -> list[str]:
    with pytest.raises(SnapshotInputError) as info:
        snapshot_from_csv(text, label="body")
    return [str(p) for p in info.value.problems]


# --- 1. the columns ---------------------------------------------------------------------------


def test_a_semicolon_separated_file_is_read() -> None:
    """Excel's "CSV" where the decimal mark is a comma separates cells by semicolons."""
    snap: StatusSnapshot = snapshot_from_csv("station_id;bikes;docks\nST-4;3;15\nST-5;0;14\n")
    assert [(s.station_id, s.bikes, s.docks) for s in snap.stations] == [("ST-4", 3, 15), ("ST-5", 0, 14)]


def test_a_comma_file_with_semicolons_in_its_names_stays_a_comma_file() -> None:
    snap: StatusSnapshot = snapshot_from_csv("station_id,name,bikes\nST-4;x,a;b,3\n")
    assert [(s.station_id, s.name, s.bikes) for s in snap.stations] == [("ST-4;x", "a;b", 3)]


def test_a_missing_column_names_the_headers_found() -> None:
    error = _error("station_id,docks\nST-4,15\n")
    assert str(error) == (
        "body.columns: got 2 columns: 'station_id', 'docks'; expected a 'bikes' column and a "
        "'station_id' or 'number' column ('bikes' not found)"
    )


def test_korean_headers_the_city_data_does_not_use_are_named_with_the_column_to_write() -> None:
    error = _error("대여소번호,대여소명,자전거수\n102,망원역,3\n")
    assert str(error) == (
        "body.columns: got 3 columns: '대여소번호', '대여소명', '자전거수'; expected a 'bikes' column "
        "and a 'station_id' or 'number' column ('bikes' not found; read 대여소번호 as number, "
        "대여소명 as name; other Korean headers are not read: name the column 'bikes')"
    )


def test_the_headers_of_seouls_station_data_are_read_as_the_status_tables() -> None:
    """대여소번호 and 거치대수 (the station lists'), parkingBikeTotCnt (the real-time bikeList's)."""
    text = "대여소번호,대여소명,거치대수,parkingBikeTotCnt\n00102,망원역 1번출구 앞,15,3\n"
    snap: StatusSnapshot = snapshot_from_csv(text)
    (station,) = snap.stations
    assert (station.number, station.name, station.docks, station.bikes) == (102, "망원역 1번출구 앞", 15, 3)
    ids: StatusSnapshot = snapshot_from_csv("대여소ID,Bikes\nST-4,3\n")  # 대여소ID: an ST- id here
    numbers: StatusSnapshot = snapshot_from_csv("대여소ID,BIKES\n102,3\n")  # and a number there
    by_id, by_number = ids.stations[0], numbers.stations[0]
    assert (by_id.station_id, by_id.number, by_number.station_id, by_number.number) == (
        "ST-4",
        None,
        None,
        102,
    )


def test_a_semicolon_in_a_header_is_said() -> None:
    error = _error("station_id;bikes;name,x\nST-4;3;a,b\n")
    assert "got 2 columns: 'station_id;bikes;name', 'x'" in str(error)
    assert "the file seems separated by semicolons; expected commas" in str(error)


def test_an_excel_workbook_is_refused_as_one(tmp_path: Path) -> None:
    path = tmp_path / "tonight.csv"  # a workbook renamed
    buffer = io.BytesIO()
    pd.DataFrame({"station_id": ["ST-4"], "bikes": [3]}).to_excel(buffer, index=False)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(InputError) as info:
        read_snapshot(path)
    assert str(info.value) == (
        "--status: got an Excel workbook (.xlsx, a ZIP archive); expected a status table as CSV in "
        "UTF-8, UTF-16 with its byte-order mark, or cp949: save the sheet as CSV and send that"
    )


# --- 2. lines of the file ---------------------------------------------------------------------


def test_each_problem_names_its_line_of_the_file() -> None:
    """Line 1 is the header; a blank line and a cell quoted across lines count as lines."""
    text = 'station_id,name,bikes\nST-4,"two\nlines",3\n\nST-5,x,3\n,y,3\nST-9,z,-4\n'
    assert _fields(text) == [
        "body[ST-4].name (line 2): got 'two\\nlines'; expected a name without control characters "
        "(U+0000-U+001F, U+007F-U+009F)",
        "body[line 6].station_id: missing; expected a station id or a number",
        "body[ST-9].bikes (line 7): got -4; expected >= 0",
    ]


def test_a_read_snapshot_keeps_its_lines_beside_it() -> None:
    from mobility.rebalancing.snapshot import file_lines

    snap: StatusSnapshot = snapshot_from_csv("station_id,bikes\n\nST-4,3\nST-5,2\n")
    assert file_lines(snap) == (3, 4)
    assert snap == snapshot_from_csv("station_id,bikes\nST-4,3\nST-5,2\n")  # one document all the same
    assert file_lines(StatusSnapshot.model_validate(snap.to_dict())) is None


# --- 3. a station known by its number ---------------------------------------------------------


def test_a_number_only_row_is_named_by_its_number() -> None:
    assert _fields("station_id,number,bikes\n,4280,-1\n") == [
        "body[number 4280].bikes (line 2): got -1; expected >= 0"
    ]


# --- 4. one station on two lines --------------------------------------------------------------


def test_a_station_on_two_lines_is_named_by_both() -> None:
    text = "station_id,bikes\nST-4,3\nST-5,3\nST-6,3\nST-4,2\n"
    assert _fields(text) == [
        "body[ST-4].station_id (line 5): got 'ST-4'; expected one row per station (ST-4 is on line 2 too)"
    ]


def test_a_zero_padded_number_is_said_to_be_the_same_number() -> None:
    assert _fields("number,bikes\n00102,3\n103,1\n102,4\n") == [
        "body[number 102].number (line 4): got 102; expected one row per station "
        "(00102 on line 2 and 102 are the same station number)"
    ]
    assert _fields("number,bikes\n102,3\n102,4\n") == [
        "body[number 102].number (line 3): got 102; expected one row per station "
        "(number 102 is on line 2 too)"
    ]


# --- 5. ids as the station list spells them --------------------------------------------------


def test_an_id_in_another_case_is_the_lists_only_when_the_list_tells_them_apart() -> None:
    status = pd.DataFrame({"station_id": ["st-7"], "bikes": [3]})
    unique = pd.DataFrame({"station_id": ["ST-7", "ST-18"], "number": [105, 113], "docks": [5, 25]})
    joined = join_station_list(status, unique)
    assert (joined["station_id"][0], joined["number"][0], joined["docks"][0]) == ("ST-7", 105, 5)
    twins = pd.DataFrame({"station_id": ["ST-7", "St-7"], "number": [105, 106], "docks": [5, 6]})
    joined = join_station_list(status, twins)
    assert joined["station_id"][0] == "st-7" and pd.isna(joined["docks"][0])  # no station of the list
