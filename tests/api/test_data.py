"""Stations and datasets on the real Seoul data."""

from __future__ import annotations

import pytest

from tests.api.api_support import Api


def test_stations_geojson_and_filters(api_lite: Api, data_dir: object) -> None:
    c, h = api_lite.client, api_lite.h("viewer")
    allst = c.get("/v1/stations", headers=h)
    assert allst.status_code == 200 and allst.headers["content-type"].startswith("application/geo+json")
    feats = allst.json()["features"]
    assert len(feats) > 2000
    mapo = c.get("/v1/stations", params={"district": "마포구"}, headers=h).json()["features"]
    assert 0 < len(mapo) < len(feats) and {f["properties"]["gu"] for f in mapo} == {"마포구"}
    box = (126.90, 37.54, 126.93, 37.57)
    inside = c.get("/v1/stations", params={"bbox": ",".join(map(str, box))}, headers=h).json()["features"]
    assert inside and all(
        box[0] <= f["geometry"]["coordinates"][0] <= box[2]
        and box[1] <= f["geometry"]["coordinates"][1] <= box[3]
        for f in inside
    )
    expected = sum(
        box[0] <= f["geometry"]["coordinates"][0] <= box[2]
        and box[1] <= f["geometry"]["coordinates"][1] <= box[3]
        for f in feats
    )
    assert len(inside) == expected


def test_station_list_is_sent_gzip_encoded_with_an_etag(api_lite: Api, data_dir: object) -> None:
    c, h = api_lite.client, api_lite.h("viewer")
    plain = c.get("/v1/stations", headers=h | {"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    gz = c.get("/v1/stations", headers=h | {"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip" and gz.json() == plain.json()  # httpx decodes it
    assert int(gz.headers["content-length"]) < len(plain.content) / 3
    assert gz.headers["etag"] != plain.headers["etag"]  # one ETag per representation
    cond = {"Accept-Encoding": "gzip", "If-None-Match": gz.headers["etag"]}
    again = c.get("/v1/stations", headers=h | cond)
    assert again.status_code == 304 and not again.content


@pytest.mark.parametrize(
    ("bbox", "problem"),
    [
        ("1,2,3", "expected minlon"),
        ("a,b,c,d", "expected minlon"),
        ("127,37.6,126.9,37.5", "min <= max"),
        ("0,0,1,1", "does not overlap Seoul"),
        ("nan,37,127,38", "finite"),
    ],
)
def test_bad_bbox(api_lite: Api, bbox: str, problem: str) -> None:
    r = api_lite.client.get("/v1/stations", params={"bbox": bbox}, headers=api_lite.h("viewer"))
    assert r.status_code == 422 and problem in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "query.bbox" and problem in r.json()["errors"][0]["problem"]


def test_datasets(api_lite: Api, data_dir: object) -> None:
    r = api_lite.client.get("/v1/datasets", params={"family": "stations"}, headers=api_lite.h("viewer"))
    assert r.status_code == 200
    rows = r.json()
    assert rows and {x["family"] for x in rows} == {"stations"}
    assert any(x["rows"] and x["rows"] > 1000 for x in rows)
    bad = api_lite.client.get("/v1/datasets", params={"family": "../etc"}, headers=api_lite.h("viewer"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.family"
