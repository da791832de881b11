"""Seoul OpenAPI: pure parsing on recorded responses, pagination through a mock transport (no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from mobility.errors import InputError
from mobility.sources.seoul_openapi import (
    BASE_URL,
    ENV_KEY,
    SeoulOpenAPI,
    SeoulOpenAPIError,
    api_key_from_env,
    page_ranges,
    page_url,
    parse_page,
    station_info_to_csv,
    write_bike_list,
    write_station_info,
)
from mobility.sources.stations import load_bike_list, load_station_list, parse_bike_list


@pytest.fixture(scope="module")
def src(fixtures_dir: Path) -> Path:
    return fixtures_dir / "sources"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_parse_ok_page(src: Path) -> None:
    page = parse_page("tbCycleStationInfo", _json(src / "openapi_tbCycleStationInfo_page1.json"))
    assert page.code == "INFO-000" and page.total == 5 and len(page.rows) == 3
    assert page.rows[0]["RENT_ID"] == "ST-10"


def test_no_data_is_an_empty_page(src: Path) -> None:
    page = parse_page("bikeList", _json(src / "openapi_info200_nodata.json"))
    assert page.rows == [] and page.code == "INFO-200"


@pytest.mark.parametrize(
    ("fname", "code"),
    [
        ("openapi_info100_badkey.json", "INFO-100"),
        ("openapi_error336_toomany.json", "ERROR-336"),
        ("openapi_error500_nested.json", "ERROR-500"),
    ],
)
def test_error_envelopes_raise(src: Path, fname: str, code: str) -> None:
    with pytest.raises(SeoulOpenAPIError) as err:
        parse_page("bikeList", _json(src / fname), url=f"{BASE_URL}/SECRETKEY/json/bikeList/1/5/")
    assert err.value.code == code
    assert code in str(err.value) and "SECRETKEY" not in str(err.value)  # the key is never shown


def test_bad_shapes() -> None:
    with pytest.raises(SeoulOpenAPIError, match="row"):
        parse_page("bikeList", {"rentBikeStatus": {"RESULT": {"CODE": "INFO-000"}}})
    with pytest.raises(SeoulOpenAPIError, match="JSON object"):
        parse_page("bikeList", [1, 2])
    with pytest.raises(InputError, match="service"):
        parse_page("noSuchService", {})


def test_urls_and_ranges() -> None:
    assert page_url("K", "bikeList", 1, 1000) == f"{BASE_URL}/K/json/bikeList/1/1000/"
    with pytest.raises(InputError, match="range"):
        page_url("K", "bikeList", 1, 1001)
    assert page_ranges(3156) == [(1, 1000), (1001, 2000), (2001, 3000), (3001, 3156)]
    assert page_ranges(0) == []
    assert page_ranges(5, 2, first=3) == [(3, 4), (5, 5)]


def test_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_KEY, raising=False)
    with pytest.raises(InputError, match=ENV_KEY):
        api_key_from_env()
    monkeypatch.setenv(ENV_KEY, " abc ")
    assert api_key_from_env() == "abc"


def _mock_client(src: Path, seen: list[str]) -> httpx.Client:
    page1 = _json(src / "openapi_tbCycleStationInfo_page1.json")  # rows 1-3 of 5
    page2 = _json(src / "openapi_tbCycleStationInfo_page2.json")  # rows 4-5

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        service, start, _end = request.url.path.strip("/").split("/")[-3:]
        if service == "bikeList":
            return httpx.Response(200, json=_json(src / "openapi_bikeList.json"))
        if int(start) == 1:
            return httpx.Response(200, json=page1)
        if int(start) == 4:
            return httpx.Response(200, json=page2)
        return httpx.Response(200, json={"RESULT": {"CODE": "INFO-200", "MESSAGE": "no data"}})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_client_paginates_and_normalizes(src: Path, tmp_path: Path, data_dir: Path) -> None:
    seen: list[str] = []
    progress: list[tuple[int, int]] = []
    with SeoulOpenAPI("KEY", client=_mock_client(src, seen)) as api:
        rows = api.fetch_all("tbCycleStationInfo", page_size=3, progress=lambda d, t: progress.append((d, t)))
        assert [r["RENT_ID"] for r in rows] == ["ST-10", "ST-100", "ST-1000", "ST-1002", "ST-1003"]
        assert seen[0].endswith("/KEY/json/tbCycleStationInfo/1/3/")
        assert seen[1].endswith("/KEY/json/tbCycleStationInfo/4/6/")
        assert len(seen) == 2  # the short second page ends the paging
        assert progress == [(3, 5), (5, 5)]
        raw, table = api.station_info()  # 1..1000 answered with 3 rows: continues at row 4
        assert len(raw) == 5 and len(table.table) == 5
        assert table.table["gu"].iloc[0] == "마포구"
        _, bikes = api.bike_list()
        assert len(bikes.table) == 4
    target = write_station_info(rows, tmp_path / "stations_api.csv")
    reread = load_station_list(target, data_dir)
    assert len(reread.table) == 5
    assert reread.table["station_id"].tolist()[:2] == ["ST-10", "ST-100"]
    assert station_info_to_csv(rows).splitlines()[0].startswith("STA_LOC,RENT_ID,RENT_NO")


def test_client_http_error_is_reported(src: Path) -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503, text="busy")))
    with pytest.raises(SeoulOpenAPIError, match="HTTP-503"):
        SeoulOpenAPI("SECRET", client=client).get_page("bikeList", 1, 10)


def test_bike_list_recorded_response(src: Path, tmp_path: Path) -> None:
    loaded = load_bike_list(src / "openapi_bikeList.json")
    df = loaded.table.set_index("station_id")
    assert df.loc["ST-4", "number"] == 102 and df.loc["ST-4", "name"] == "망원역 1번출구 앞"
    assert df.loc["ST-4", "bikes"] == 9 and df.loc["ST-4", "docks"] == 15
    assert df.loc["ST-5", "shared_pct"] == 164.0  # over-full stations exceed 100 %
    assert df.loc["ST-9999", "name"] == "4.19민주묘지역"  # a name that starts with digits is kept
    assert dict(loaded.report.dropped) == {"zero coordinates": 1, "duplicate station number": 1}
    assert loaded.report.warnings["bikes unparseable (set to <NA>)"] == 1
    # the same rows as a plain list, and written back as a snapshot
    rows = _json(src / "openapi_bikeList.json")["rentBikeStatus"]["row"]
    assert len(parse_bike_list(rows).table) == 4
    out = write_bike_list(rows, tmp_path / "bikeList.json")
    assert len(load_bike_list(out).table) == 4
    assert "망원역" in out.read_text(encoding="utf-8")


def test_bike_list_bad_payloads(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="bikeList payload"):
        parse_bike_list({"something": []})
    with pytest.raises(InputError):
        parse_bike_list("rows")  # type: ignore[arg-type]
    no_bikes = [
        {"stationId": "ST-4", "stationName": "x", "stationLatitude": "37.5", "stationLongitude": "127"}
    ]
    with pytest.raises(Exception, match="parkingBikeTotCnt"):
        parse_bike_list(no_bikes)
    assert parse_bike_list([]).table.empty


def test_bike_list_paging_with_per_page_totals(src: Path) -> None:
    """bikeList's list_total_count is the size of the page: paging must not stop at it."""
    rows = _json(src / "openapi_bikeList.json")["rentBikeStatus"]["row"]
    seen: list[tuple[int, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        start, end = (int(x) for x in request.url.path.strip("/").split("/")[-2:])
        seen.append((start, end))
        chunk = rows[start - 1 : end]
        if not chunk:
            return httpx.Response(
                200, json={"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}}
            )
        body = {"list_total_count": len(chunk), "RESULT": {"CODE": "INFO-000"}, "row": chunk}
        return httpx.Response(200, json={"rentBikeStatus": body})

    api = SeoulOpenAPI("K", client=httpx.Client(transport=httpx.MockTransport(handler)))
    assert len(api.fetch_all("bikeList", page_size=2)) == 6
    assert seen == [(1, 2), (3, 4), (5, 6), (7, 8)]  # full pages, then an empty one
    seen.clear()
    assert len(api.fetch_all("bikeList", page_size=4)) == 6
    assert seen == [(1, 4), (5, 8)]  # the short page ends it
