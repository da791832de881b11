"""A station name is one line of printable text: a control character (a NUL, a line break, a
tab, ...) in an uploaded station is refused with a 422 naming the station, whether it comes as
JSON, as a CSV upload (whose content the JSON NUL check never sees) or in a scenario file for the
command line (:class:`mobility.scenario.expansion.BaselineStation`)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mobility.errors import InputError
from mobility.scenario.expansion import CONTROL_CHARACTERS, scenario_from_dict
from mobility.sources.stations import STATION_VINTAGES, load_station_list
from tests.api.api_support import Api

HEADER = b"station_id,name,lat,lon,docks\n"
GOOD = b"ST-1,\xeb\xa7\x9d\xec\x9b\x90\xec\x97\xad,37.5556,126.9105,15\n"  # 망원역


def _upload(api: Api, name: bytes) -> httpx.Response:
    raw = HEADER + GOOD + b"ST-2," + name + b",37.5506,126.9148,10\n"
    return api.client.post(
        "/v1/station-lists/csv", content=raw, headers=api.h("planner", **{"Content-Type": "text/csv"})
    )


@pytest.mark.parametrize("name", [b"a\x00b", b"a\x07b", b"a\x1b[31mb", b"a\x7fb"])
def test_a_csv_upload_with_a_control_character_in_a_name_is_refused(api_lite: Api, name: bytes) -> None:
    r = _upload(api_lite, name)
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == "body (station 2, ST-2).name", err
    assert "control characters" in err["problem"] and "\x00" not in r.text
    listed = api_lite.client.get("/v1/station-lists", headers=api_lite.h("viewer")).json()
    assert listed["total"] == 0  # nothing stored


def test_whitespace_in_a_csv_name_is_read_as_a_space(api_lite: Api) -> None:
    """The reader (as ``mobility plan`` reads a station file) turns a tab or a line break in a
    quoted field into a space: the name stored has no control character."""
    r = _upload(api_lite, b'"a\tb\nc"')
    assert r.status_code == 201, r.text
    stored = api_lite.client.get(r.headers["Location"], headers=api_lite.h("viewer")).json()
    assert stored["stations"][1]["name"] == "a b c"


def test_a_json_upload_with_a_control_character_in_a_name_is_refused(api_lite: Api) -> None:
    stations = [{"station_id": "ST-1", "name": "망원역\r\n", "lat": 37.5556, "lon": 126.9105, "docks": 15}]
    r = api_lite.client.post(
        "/v1/station-lists", json={"name": "x", "stations": stations}, headers=api_lite.h("planner")
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body.stations.0.name"


def test_a_scenario_file_is_refused_the_same_name() -> None:
    station = {"station_id": "ST-1", "name": "망원\x00역", "lat": 37.5556, "lon": 126.9105, "docks": 15}
    with pytest.raises(InputError) as info:
        scenario_from_dict({"name": "s", "baseline": {"station_records": [station]}})
    assert info.value.field == "baseline.station_records.0.name"
    assert "control characters" in info.value.expected


@pytest.mark.parametrize("vintage", sorted(STATION_VINTAGES))
def test_the_published_station_names_have_none(vintage: str, data_dir: Path) -> None:
    names = load_station_list(vintage, data_dir=data_dir, fill_ids=False).table["name"].dropna()
    assert not names.astype(str).str.contains(CONTROL_CHARACTERS).any()
