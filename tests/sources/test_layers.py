"""Map layers: subway stations, bike lanes, the 2022 bicycle-road network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mobility.errors import DataFileError
from mobility.sources import layers as ly
from mobility.sources.boundaries import seoul_boundary


def test_subway_stations_seoul(data_dir: Path) -> None:
    loaded = ly.load_subway_stations(data_dir)
    table = loaded.table
    assert len(table) == 402
    assert table["name"].nunique() == 307
    assert loaded.report.rows_read == 771
    assert loaded.report.dropped["outside Seoul"] == 369
    assert table.crs.to_epsg() == 4326
    assert table.geometry.covered_by(seoul_boundary(data_dir)).all()
    gangnam = table[table["name"] == "강남"]
    assert set(gangnam["line"]) == {"2호선", "신분당선"}


def test_subway_stations_all(data_dir: Path) -> None:
    loaded = ly.load_subway_stations(data_dir, seoul_only=False)
    assert len(loaded.table) == 771 and loaded.report.ok
    assert loaded.table["line"].nunique() == 37


def test_distinct_subway_stations(data_dir: Path) -> None:
    distinct = ly.load_subway_stations(data_dir, distinct=True).table
    assert len(distinct) == 307 and distinct["name"].is_unique
    seoul_station = distinct.set_index("name").loc["서울역"]
    assert seoul_station["n_lines"] == 5 and "공항철도1호선" in seoul_station["lines"]
    assert int(distinct["n_records"].sum()) == 402
    assert int(distinct["n_lines"].sum()) < 402  # a few names are listed twice on one line
    assert (distinct["spread_m"] < 500).all()  # a name never spans two places in Seoul


def test_subway_bad_records(tmp_path: Path) -> None:
    target = tmp_path / ly.SUBWAY_RELPATH
    target.parent.mkdir(parents=True)
    records = [
        {
            "crdnt_x": "126.9772",
            "route": "1호선",
            "crdnt_y": "37.5658",
            "statn_nm": "시청",
            "statn_id": "0151",
        },
        {"crdnt_x": "0", "route": "1호선", "crdnt_y": "0", "statn_nm": "영점", "statn_id": "1"},
        {"crdnt_x": "", "route": "1호선", "crdnt_y": "37.5", "statn_nm": "빈칸", "statn_id": "2"},
    ]
    target.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    loaded = ly.load_subway_stations(tmp_path, seoul_only=False)
    assert loaded.table["name"].tolist() == ["시청"]
    assert loaded.table["station_code"].tolist() == ["0151"]
    assert dict(loaded.report.dropped) == {"missing or zero coordinates": 2}


def test_subway_missing_field(tmp_path: Path) -> None:
    target = tmp_path / ly.SUBWAY_RELPATH
    target.parent.mkdir(parents=True)
    target.write_text(
        json.dumps([{"statn_nm": "시청", "route": "1호선"}], ensure_ascii=False), encoding="utf-8"
    )
    with pytest.raises(DataFileError) as err:
        ly.load_subway_stations(tmp_path, seoul_only=False)
    assert "seoul_subway_stations.json" in str(err.value) and "crdnt_x" in str(err.value)


def test_bike_lanes(data_dir: Path) -> None:
    loaded = ly.load_bike_lanes(data_dir)
    table = loaded.table
    assert len(table) == 1_359 and loaded.report.ok
    assert set(table.geometry.geom_type) == {"MultiLineString"}
    assert 1_200_000 < table["length_m"].sum() < 1_450_000
    minx, miny, maxx, maxy = table.total_bounds
    assert minx > 126.76 and maxx < 127.19 and miny > 37.43 and maxy < 37.70


def test_bike_roads(data_dir: Path) -> None:
    loaded = ly.load_bike_roads(data_dir)
    table = loaded.table
    assert len(table) == 12_631 and loaded.report.ok
    assert table["link_id"].is_unique
    assert round(table["length_m"].sum() / 1000) == 1_032  # GEO_SOURCES: 1,032 km
    assert table["track"].value_counts()[5] == 4_785
    ratio = table["link_length_m"].sum() / table["length_m"].sum()
    assert 0.98 < ratio < 1.02


def test_datasets_specs(data_dir: Path) -> None:
    for spec in ly.DATASETS:
        assert spec.load is not None
        assert len(spec.load(data_dir).table) == spec.expected_rows
