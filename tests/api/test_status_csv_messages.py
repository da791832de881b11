"""What ``POST /v1/rebalancing/snapshots/csv`` answers of tonight's status file, checked against
the published 2025-12 station list (ST-4 is number 102, ST-7 105, ST-10 108, ST-18 113): the
web app shows the 422's message beside the file.

Before: the headers found were ``[...] (1 items)``; a station known by its number only was
``body[N99999].station_id: got 'N99999'``, a value the file never holds; an id and a number the
list pairs otherwise were stored as given (``st-7`` with ST-18's number 113 was stored at ST-18's
place beside the real ST-7); 300 bikes at 15 docks was stored without a word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.api_support import Api

LIST = "the station list (2025-12, GET /v1/stations)"


@pytest.fixture(autouse=True)
def _real_data(data_dir: Path) -> None:
    """The station list the upload is checked against is the real 2025-12 list."""


def _upload(api: Api, text: str) -> Any:
    return api.client.post(
        "/v1/rebalancing/snapshots/csv",
        content=text.encode("utf-8"),
        headers=api.h("ops", **{"Content-Type": "text/csv"}),
    )


def _errors(api: Api, text: str) -> list[tuple[str, str]]:
    r = _upload(api, text)
    assert r.status_code == 422, r.text
    return [(e["field"], e["problem"]) for e in r.json()["errors"]]


def _stored(api: Api, text: str) -> tuple[list[dict[str, Any]], list[str]]:
    r = _upload(api, text)
    assert r.status_code == 201, r.text
    doc = api.client.get(r.headers["Location"], headers=api.h("viewer")).json()
    return doc["stations"], r.json()["notes"]


def test_the_columns_found_are_named_as_read(api_lite: Api) -> None:
    ((field, problem),) = _errors(api_lite, "대여소번호,대여소명,자전거수\n102,망원역,3\n")
    assert field == "body.columns"
    assert problem.startswith(
        "got 3 columns: '대여소번호', '대여소명', '자전거수'; expected a 'bikes' column"
    )
    assert problem.endswith("other Korean headers are not read: name the column 'bikes')")


def test_a_semicolon_file_and_the_city_datas_headers_are_stored(api_lite: Api) -> None:
    stations, _ = _stored(api_lite, "대여소번호;parkingBikeTotCnt\n00102;3\n")
    assert [(s["number"], s["bikes"], s["docks"]) for s in stations] == [(102, 3, 15)]


def test_an_unknown_number_is_named_as_the_file_gave_it(api_lite: Api) -> None:
    assert _errors(api_lite, "number,bikes\n102,3\n99999,4\n") == [
        (
            "body[number 99999].number (line 3)",
            f"got 99999; expected a station of {LIST}, or its lon, lat and docks given "
            "(number 99999 is not in the list)",
        )
    ]


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        (
            "station_id,number,bikes\nST-10,999,3\n",
            "body[ST-10].number (line 2)",
            f"got 999; expected 108, ST-10's number in {LIST}; no listed station has number 999",
        ),
        (
            "station_id,number,bikes\nST-7,105,3\nst-7,113,3\n",
            "body[st-7].number (line 3)",
            f"got 113; expected 105, ST-7's number in {LIST}; number 113 is ST-18's",
        ),
        (
            "station_id,number,bikes\nST-99999,113,3\n",
            "body[ST-99999].station_id (line 2)",
            f"got 'ST-99999'; expected ST-18, the id of number 113 in {LIST}; ST-99999 is not in it",
        ),
    ],
)
def test_an_id_and_a_number_the_list_pairs_otherwise_are_refused(
    api_lite: Api, text: str, field: str, problem: str
) -> None:
    assert _errors(api_lite, text) == [(field, problem)]
    listed = api_lite.client.get("/v1/rebalancing/snapshots", headers=api_lite.h("viewer")).json()
    assert listed["total"] == 0


def test_an_id_in_another_case_is_stored_as_the_list_spells_it(api_lite: Api) -> None:
    stations, _ = _stored(api_lite, "station_id,number,bikes\nst-7,105,3\n")
    assert [(s["station_id"], s["number"], s["docks"]) for s in stations] == [("ST-7", 105, 5)]


def test_two_rows_the_list_makes_one_station_are_named_by_their_lines(api_lite: Api) -> None:
    assert _errors(api_lite, "station_id,number,bikes\n,102,3\nST-4,,5\n") == [
        (
            "body[ST-4].station_id (line 3)",
            "got 'ST-4'; expected one row per station (line 2, number 102, is ST-4 too)",
        )
    ]


def test_far_more_bikes_than_docks_is_stored_and_said(api_lite: Api) -> None:
    stations, notes = _stored(api_lite, "station_id,bikes,docks\nST-4,300,15\nST-5,25,15\nST-6,3,\n")
    assert [s["bikes"] for s in stations] == [300, 25, 3]  # kept: stations do overflow
    assert notes == [
        "1 status row of 3 kept but flagged (more bikes than docks + 10, the most the demand model "
        "lets a station hold; a typo?): ST-4 on line 2 (300 bikes, 15 docks)"
    ]
    _, none = _stored(api_lite, "station_id,bikes,docks\nST-4,25,15\n")  # docks + 10 is no typo
    assert none == []
