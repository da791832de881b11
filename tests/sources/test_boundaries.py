"""Seoul gu and dong boundaries, and the KOSTAT ↔ MOIS gu code mapping."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point

from mobility.errors import DataFileError
from mobility.sources import boundaries as b
from mobility.sources.base import CRS_METRIC


def test_gu_codes_table_is_a_bijection() -> None:
    codes = b.gu_codes()
    assert len(codes) == 25
    for col in ("gu_kr", "gu_en", "kostat_code", "mois_code"):
        assert codes[col].is_unique, col
    assert codes["kostat_code"].tolist() == list(range(11010, 11260, 10))
    assert codes["mois_code"].min() == 11110 and codes["mois_code"].max() == 11740
    row = codes.set_index("gu_kr").loc["종로구"]
    assert (row["kostat_code"], row["mois_code"]) == (11010, 11110)


@given(st.sampled_from(b.GU_CODES["kostat_code"].tolist()))
def test_kostat_mois_round_trip(code: int) -> None:
    assert b.mois_to_kostat(b.kostat_to_mois(code)) == code


@given(st.integers(min_value=10000, max_value=99999))
def test_unknown_codes_raise(code: int) -> None:
    if code not in set(b.GU_CODES["kostat_code"]):
        with pytest.raises(KeyError):
            b.kostat_to_mois(code)
    if code not in set(b.GU_CODES["mois_code"]):
        with pytest.raises(KeyError):
            b.mois_to_kostat(code)


def test_load_districts(data_dir: Path) -> None:
    loaded = b.load_districts(data_dir)
    gu = loaded.table
    assert len(gu) == 25
    assert gu.crs.to_epsg() == 4326
    assert list(gu.columns) == ["gu_kr", "gu_en", "kostat_code", "mois_code", "pop_census2020", "geometry"]
    assert int(gu["pop_census2020"].sum()) == 9_297_750
    assert gu.geometry.is_valid.all()
    assert loaded.report.ok and loaded.report.rows_kept == 25
    area_km2 = gu.to_crs(CRS_METRIC).area.sum() / 1e6
    assert 590 < area_km2 < 620  # Seoul is 605 km²


def test_mois_codes_agree_with_moct_nodes(data_dir: Path) -> None:
    """MOCT node-link nodes carry MOIS gu codes (DEPT_CODE); the gu they lie in must map back."""
    nodes = pd.read_csv(
        data_dir / "osm/moct_nodelink_2018/Seoul_node.csv", usecols=["DEPT_CODE", "latitude", "longitude"]
    )
    pts = gpd.GeoDataFrame(
        nodes, geometry=gpd.points_from_xy(nodes["longitude"], nodes["latitude"]), crs=4326
    )
    joined = gpd.sjoin(pts, b.load_districts(data_dir).table, predicate="within")
    joined = joined[joined["DEPT_CODE"].between(11100, 11799)]  # gu offices (not city/national roads)
    majority = joined.groupby("DEPT_CODE")["mois_code"].agg(lambda s: s.mode().iloc[0])
    assert len(majority) == 24  # Gangdong-gu (11740) is missing from that file
    assert (majority.index == majority.to_numpy()).all()


def test_load_dongs(data_dir: Path) -> None:
    loaded = b.load_dongs(data_dir)
    dongs = loaded.table
    assert len(dongs) == 425
    assert dongs.crs.to_epsg() == 4326
    assert int(dongs["pop_census2020"].sum()) == 9_586_195
    assert int(dongs["pop_census2025"].isna().sum()) == 6
    assert loaded.report.warnings["no 2025 census population (dong split or merged)"] == 6
    assert (dongs["census_code8"] == dongs["adm3_code"].astype(int) * 10).all()
    assert set(dongs["gu_kr"]) == set(b.GU_CODES["gu_kr"])
    codes = b.GU_CODES.set_index("gu_kr")
    assert (codes.loc[dongs["gu_kr"], "mois_code"].to_numpy() == dongs["mois_gu_code"].to_numpy()).all()
    assert dongs.geometry.is_valid.all()


def test_seoul_boundary(data_dir: Path) -> None:
    outline = b.seoul_boundary(data_dir)
    assert outline.geom_type in ("Polygon", "MultiPolygon")
    assert outline.contains(Point(126.9780, 37.5665))  # City Hall
    assert not outline.contains(Point(126.7052, 37.4563))  # Incheon City Hall
    assert b.seoul_boundary(data_dir) is outline  # cached


def test_missing_column_names_file_and_column(tmp_path: Path, data_dir: Path) -> None:
    src = json.loads((data_dir / b.DISTRICTS_RELPATH).read_text(encoding="utf-8"))
    for feat in src["features"]:
        feat["properties"].pop("gu_kr")
    target = tmp_path / b.DISTRICTS_RELPATH
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(src, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        b.load_districts(tmp_path)
    assert "seoul_gu_2020_wgs84.geojson" in str(err.value) and "gu_kr" in str(err.value)


def test_wrong_gu_code_is_an_error(tmp_path: Path, data_dir: Path) -> None:
    src = json.loads((data_dir / b.DISTRICTS_RELPATH).read_text(encoding="utf-8"))
    src["features"][0]["properties"]["adm2_code"] = 11111
    target = tmp_path / b.DISTRICTS_RELPATH
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(src, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataFileError, match="11111"):
        b.load_districts(tmp_path)


def test_datasets_specs(data_dir: Path) -> None:
    for spec in b.DATASETS:
        assert (data_dir / spec.relpath).is_file()
        assert spec.load is not None
        assert len(spec.load(data_dir).table) == spec.expected_rows
