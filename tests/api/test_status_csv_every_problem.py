"""One upload of a status CSV lists every problem at once (README: "every bad value listed"): its
invalid values and the stations the published station list lacks alike. Before, a station the
list lacks was reported only once the invalid values had been fixed (two passes: the reader, then
the station list)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobility.rebalancing.snapshot import SnapshotInputError, snapshot_from_csv
from tests.api.api_support import Api

UNKNOWN = "body[ST-999999].station_id (line 4)"

# ST-4 and ST-5 are 망원역's stations of the published 2025-12 list; ST-999999 is no station
BAD_AND_UNKNOWN = "station_id,bikes\nST-4,abc\nST-5,-2\nST-999999,3\nST-6,4\n"


@pytest.fixture(autouse=True)
def _real_data(data_dir: Path) -> None:
    """The station list the upload is checked against is the real 2025-12 list."""


def _errors(api: Api, text: str) -> list[dict[str, str]]:
    r = api.client.post(
        "/v1/rebalancing/snapshots/csv",
        content=text.encode(),
        headers=api.h("ops", **{"Content-Type": "text/csv"}),
    )
    assert r.status_code == 422, r.text
    return list(r.json()["errors"])


def test_invalid_values_and_an_unknown_station_in_one_answer(api_lite: Api) -> None:
    errors = _errors(api_lite, BAD_AND_UNKNOWN)
    assert [e["field"] for e in errors] == ["body[ST-4].bikes (line 2)", "body[ST-5].bikes (line 3)", UNKNOWN]
    assert errors[1]["problem"] == "got '-2'; expected >= 0"
    assert errors[2]["problem"].startswith("got 'ST-999999'; expected a station of the station list (2025-12")
    listed = api_lite.client.get("/v1/rebalancing/snapshots", headers=api_lite.h("viewer")).json()
    assert listed["total"] == 0  # nothing stored


def test_one_invalid_value_and_one_unknown_station_are_both_listed(api_lite: Api) -> None:
    errors = _errors(api_lite, "station_id,bikes\nST-4,-1\n\nST-999999,3\n")  # a blank line 3
    assert [e["field"] for e in errors] == ["body[ST-4].bikes (line 2)", UNKNOWN]


def test_a_row_with_its_position_given_is_checked_as_stored_too(api_lite: Api) -> None:
    """A row that needs no station list is narrowed to the stored document (inside Seoul) in the
    same answer as the other rows' invalid values."""
    text = "station_id,bikes,lon,lat,docks\nST-4,-1,126.91,37.55,15\nST-7,3,0.5,0.5,10\n"
    fields = [e["field"] for e in _errors(api_lite, text)]
    assert fields[0] == "body[ST-4].bikes (line 2)", fields
    assert any(f.startswith("body[ST-7].") and f.endswith("(line 3)") for f in fields[1:]), fields


def test_the_reader_keeps_the_rows_without_an_invalid_value() -> None:
    with pytest.raises(SnapshotInputError) as info:
        snapshot_from_csv(BAD_AND_UNKNOWN, label="body")
    fields = [p.field for p in info.value.problems]
    assert fields == ["body[ST-4].bikes (line 2)", "body[ST-5].bikes (line 3)"]
    rest = info.value.rest
    assert rest is not None
    assert [(s.station_id, s.bikes) for s in rest.stations] == [("ST-999999", 3), ("ST-6", 4)]


def test_no_rest_when_every_row_is_invalid() -> None:
    with pytest.raises(SnapshotInputError) as info:
        snapshot_from_csv("station_id,bikes\nST-4,-1\nST-5,x\n", label="body")
    assert info.value.rest is None
