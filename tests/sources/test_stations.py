"""Station lists: the real vintages, the official download layout and every bad-input case."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobility.errors import DataFileError, DataNotFoundError, InputError
from mobility.quality import QualityReport
from mobility.sources.base import CRS_METRIC
from mobility.sources.stations import (
    COLUMNS,
    DATASETS,
    DEFAULT_DOCKS,
    ROW_TOO_LONG,
    ROW_TOO_SHORT,
    SEOUL_BBOX,
    STATION_VINTAGES,
    UNREADABLE_DOCKS,
    _parse_date,
    fill_dock_counts,
    load_station_list,
    station_number_lookup,
    stations_to_geodataframe,
)

SEOUL_GU = 25


@pytest.fixture(scope="module")
def src(fixtures_dir: Path) -> Path:
    return fixtures_dir / "sources"


# ---------------------------------------------------------------- real files


@pytest.mark.parametrize(("vintage", "rows"), [("2018-11", 1453), ("2019-12", 1540), ("2025-12", 2799)])
def test_official_lists_have_documented_counts(data_dir: Path, vintage: str, rows: int) -> None:
    loaded = load_station_list(vintage, data_dir)
    df = loaded.table
    assert len(df) == rows
    assert list(df.columns) == list(COLUMNS)
    assert loaded.report.rows_read == rows and loaded.report.ok
    assert df["number"].is_unique and df["number"].notna().all()
    assert df["gu"].nunique() == SEOUL_GU
    lon0, lat0, lon1, lat1 = SEOUL_BBOX
    assert df["lat"].between(lat0, lat1).all() and df["lon"].between(lon0, lon1).all()
    assert (df["source"] == vintage).all()
    assert not df["name"].str.match(r"^\s|^\d+\.\s").any()  # stripped, no "123. " prefix
    assert loaded.sources == [data_dir / STATION_VINTAGES[vintage]]


def test_2025_12_docks_types_dates_and_ids(data_dir: Path) -> None:
    loaded = load_station_list("2025-12", data_dir)
    df = loaded.table.set_index("number")
    assert df.loc[102, "name"] == "망원역 1번출구 앞"
    assert df.loc[102, "gu"] == "마포구"
    assert df.loc[102, "station_id"] == "ST-4"
    assert df["dock_type"].value_counts().to_dict() == {"QR": 1734, "LCD": 1059, "LCD,QR": 6}
    assert df["docks"].notna().all() and (df["docks"] > 0).all()
    # for the six "LCD,QR" stations LCD+QR equals the API's HOLD_NUM
    api = load_station_list("api-2025-05", data_dir).table.set_index("number")
    both = df[df["dock_type"] == "LCD,QR"]
    assert (both["docks"] == api.loc[both.index, "docks"]).all()
    # the source typo 202510-20 is repaired and flagged
    assert loaded.report.warnings["installed_on repaired typo"] == 1
    assert loaded.report.examples["installed_on repaired typo"] == ["202510-20"]
    assert (df["installed_on"] == pd.Timestamp("2025-10-20")).any()
    assert df["installed_on"].notna().all()
    # quoted line breaks inside addresses: read as one record, line break replaced
    assert not df["address"].str.contains("\n").any()
    assert df["address"].str.contains("개포동역 4번출구").any()
    # ST-ID joined through the number lookup for all but the newest stations
    assert df["station_id"].notna().sum() >= 2744
    assert loaded.report.warnings["station_id unknown (number not in the number-ID lookup)"] == (
        df["station_id"].isna().sum()
    )


def test_names_that_lost_a_character_are_repaired_from_another_list(data_dir: Path) -> None:
    """The 2025-12 file shows '?' where three names had a character its encoding lost (수명중?고교);
    route sheets printed them so. The OpenAPI list of 2025-05 has them whole; the repair is counted."""
    loaded = load_station_list("2025-12", data_dir)
    names = loaded.table.set_index("station_id")["name"]
    assert names["ST-1514"] == "수명중․고교" and names["ST-2194"] == "북한산더샾 106동 앞"
    assert not names.str.contains("?", regex=False).any()
    repaired = "name had '?' for a lost character: repaired from another station list"
    assert loaded.report.warnings[repaired] == 3
    assert sorted(loaded.report.examples[repaired]) == ["ST-1514", "ST-1543", "ST-2194"]


def test_addresses_that_lost_a_character_are_told_back_from_their_own_row(data_dir: Path) -> None:
    """Route sheets printed '서울특별시?마포구?동교로?8' and '…308 종로?시장 입구 옆': the 2025-12 file
    lost the spaces of one address and a syllable of another that the station's name still has."""
    loaded = load_station_list("2025-12", data_dir)
    address = loaded.table.set_index("station_id")["address"]
    assert address["ST-340"] == "서울특별시 마포구 동교로 8"
    assert address["ST-1610"] == "서울특별시 종로구 율곡로 지하 308 종로꽃시장 입구 옆"
    assert not address.str.contains("?", regex=False).fillna(False).any()
    repaired = "address had '?' for a lost character: repaired from the station's name or its spaces"
    assert sorted(loaded.report.examples[repaired]) == ["ST-1610", "ST-340"]
    # one the row cannot tell back is kept as written, and counted
    older = load_station_list("2019-12", data_dir)
    kept = "address has '?' for a lost character (kept as written)"
    assert older.report.warnings[kept] == 1
    assert older.table.set_index("station_id")["address"]["ST-342"] == "서울특별시 마포구 월드컵로 119?"


def test_2019_12_quirks(data_dir: Path) -> None:
    loaded = load_station_list("2019-12", data_dir)
    df = loaded.table.set_index("number")
    # "대여소ID" holds the station number in this release
    assert df.loc[101, "name"] == "(구)합정동 주민센터"
    assert df.loc[101, "installed_on"] == pd.Timestamp("2015-09-06")
    # Excel sums such as "=9+10" are evaluated and flagged
    assert loaded.report.warnings["docks given as a formula (evaluated)"] == 14
    assert df["docks"].notna().all()
    assert "=9+10" in loaded.report.examples["docks given as a formula (evaluated)"]


def test_2018_11_carries_both_keys(data_dir: Path) -> None:
    df = load_station_list("2018-11", data_dir).table
    assert df["station_id"].notna().all()
    row = df.set_index("number").loc[2315]
    assert row["station_id"] == "ST-799" and row["name"] == "봉은사역 5번출구 옆"


def test_api_dump_and_master_drop_zero_coordinates(data_dir: Path) -> None:
    api = load_station_list("api-2025-05", data_dir)
    assert api.report.rows_read == 3156
    assert api.report.dropped == {"zero coordinates": 3}
    assert len(api.table) == 3153
    master = load_station_list("master", data_dir)
    assert master.report.rows_read == 3421
    assert master.report.dropped == {"zero coordinates": 77}
    assert master.table["station_id"].is_unique
    assert master.table["number"].isna().all()  # the master has IDs only
    assert master.table["gu"].notna().mean() > 0.95  # district taken from the address
    assert master.report.warnings["gu not one of Seoul's 25 districts"] == 1  # 분당구 (Seongnam)
    assert master.report.examples["gu not one of Seoul's 25 districts"] == ["분당구"]


def test_number_lookup_agrees_with_files(data_dir: Path) -> None:
    lookup = station_number_lookup(data_dir)
    assert list(lookup.columns) == ["station_id", "number"]
    assert lookup["number"].is_unique
    assert len(lookup) > 3100
    assert lookup.attrs["number_conflicts"] == 0  # SOURCES.md: the mapping is stable over time
    assert lookup.set_index("number").loc[102, "station_id"] == "ST-4"
    old = load_station_list("2018-11", data_dir).table
    merged = old.merge(lookup, on="number", suffixes=("", "_lookup"))
    assert (merged["station_id"] == merged["station_id_lookup"]).all()


def test_geodataframe(data_dir: Path) -> None:
    df = load_station_list("2025-12", data_dir).table
    gdf = stations_to_geodataframe(df)
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 2799
    assert gdf.geometry.x.iloc[0] == pytest.approx(df["lon"].iloc[0])
    metric = stations_to_geodataframe(df, crs=CRS_METRIC)
    assert metric.crs.to_epsg() == 5179
    assert 900_000 < metric.geometry.x.min() < metric.geometry.x.max() < 1_000_000


def test_datasets_specs_load(data_dir: Path) -> None:
    names = {d.name for d in DATASETS}
    assert {f"stations_{v}" for v in STATION_VINTAGES} | {"stations_master-copy-3385"} == names
    spec = next(d for d in DATASETS if d.name == "stations_2025-12")
    assert spec.load is not None and spec.expected_rows == 2799
    assert len(spec.load(data_dir).table) == 2799


# ---------------------------------------------------------------- official download layout


@pytest.mark.parametrize("fname", ["stations_official_cp949.csv", "stations_official_utf8bom.csv"])
def test_official_download_multirow_header(src: Path, data_dir: Path, fname: str) -> None:
    loaded = load_station_list(src / fname, data_dir)
    df = loaded.table.set_index("number")
    assert list(df.index) == [301, 302, 303]
    assert df.loc[301, "name"] == "경복궁역 7번출구 앞"
    assert df.loc[301, "gu"] == "종로구"
    assert df["docks"].tolist() == [10, 10, 10]
    assert df["dock_type"].tolist() == ["QR", "LCD", "LCD,QR"]
    assert loaded.table["source"].iloc[0] == fname
    assert loaded.report.ok


# ---------------------------------------------------------------- bad input


def test_edge_rows_dropped_with_reasons(src: Path, data_dir: Path) -> None:
    loaded = load_station_list(src / "stations_2025_edge.csv", data_dir)
    rep = loaded.report
    assert rep.rows_read == 9
    assert dict(rep.dropped) == {
        "empty row": 1,
        "no station number or ST-ID": 1,
        "coordinates unparseable": 1,
        "zero coordinates": 1,
        "coordinates outside Seoul": 1,
        "duplicate station number": 1,
    }
    assert rep.rows_kept == len(loaded.table) == 3
    df = loaded.table.set_index("number")
    assert df.loc[103, "address"] == "서울특별시 마포구 월드컵로 79 (망원역 2번출구)"  # quoted line break
    assert df.loc[103, "installed_on"] == pd.Timestamp("2025-10-20")
    assert rep.warnings["installed_on repaired typo"] == 1
    assert df["installed_on"].isna()[108]
    assert rep.warnings["installed_on unparseable (set to NaT)"] == 1
    assert df.loc[108, "docks"] == 12 and df.loc[108, "dock_type"] == "LCD,QR"
    assert df.loc[102, "name"] == "망원역 1번출구 앞"  # the first of the duplicates is kept
    assert rep.examples["coordinates outside Seoul"] == ["35.1796,129.0756"]


def test_unknown_encoding_names_file(src: Path) -> None:
    with pytest.raises(DataFileError, match="unknown text encoding") as err:
        load_station_list(src / "stations_unknown_encoding.csv", fill_ids=False)
    assert "stations_unknown_encoding.csv" in str(err.value)


def test_missing_columns_names_file_and_columns(src: Path) -> None:
    with pytest.raises(DataFileError) as err:
        load_station_list(src / "stations_missing_columns.csv", fill_ids=False)
    msg = str(err.value)
    assert "stations_missing_columns.csv" in msg and "위도/경도" in msg and "has 3 columns" in msg
    assert "대여소명" not in msg  # the header is counted, not quoted (an upload's content never is)


def test_missing_file_and_unknown_vintage(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="source"):
        load_station_list("2031-01", tmp_path)
    with pytest.raises(DataNotFoundError):
        load_station_list(tmp_path / "nope.csv")
    with pytest.raises(DataNotFoundError, match="2025-12"):
        load_station_list("2025-12", tmp_path)


def test_empty_and_excel_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataFileError, match="empty"):
        load_station_list(empty, fill_ids=False)
    xlsx = tmp_path / "list.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataFileError, match=r"list\.xlsx: is not a readable \.xlsx"):
        load_station_list(xlsx, fill_ids=False)
    xls = tmp_path / "list.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataFileError, match="xls"):
        load_station_list(xls, fill_ids=False)


def test_official_xlsx_with_merged_header(tmp_path: Path, data_dir: Path) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "대여소현황"
    ws.append(
        [
            "대여소\n번호",
            "보관소(대여소)명",
            "소재지(위치)",
            None,
            None,
            None,
            "설치\n시기",
            "설치형태",
            None,
            "운영\n방식",
        ]
    )
    ws.append([None] * 7 + ["LCD", "QR", None])
    ws.append([None, None, "자치구", "상세주소", "위도", "경도", None, None, None, None])
    ws.append([None] * 7 + ["거치\n대수", "거치\n대수", None])
    ws.append([None] * 10)
    for cells in ("A1:A5", "B1:B5", "C1:F2", "G1:G5", "H1:I1", "J1:J5"):
        ws.merge_cells(cells)
    ws.append(
        [
            301,
            "경복궁역 7번출구 앞",
            "종로구",
            "서울특별시 종로구 사직로 지하130",
            37.57566,
            126.97318,
            datetime(2015, 10, 7),
            None,
            10,
            "QR",
        ]
    )
    ws.append(
        [
            "00302",
            "경복궁역 4번출구 뒤",
            "종로구",
            "서울특별시 종로구 사직로 지하130",
            37.57587,
            126.97595,
            "2015-10-07",
            10,
            None,
            "LCD",
        ]
    )
    ws.append(["합계", None, None, None, None, None, None, "=SUM(H6:H7)", "=SUM(I6:I7)", None])
    path = tmp_path / "공공자전거 대여소 정보(25.12월 기준).xlsx"
    wb.save(path)
    loaded = load_station_list(path, data_dir)
    df = loaded.table
    assert df["number"].tolist() == [301, 302]
    assert df["installed_on"].tolist() == [pd.Timestamp("2015-10-07")] * 2
    assert df["docks"].tolist() == [10, 10] and df["gu"].tolist() == ["종로구"] * 2
    assert df["station_id"].tolist() == ["ST-117", "ST-118"]
    assert loaded.report.rows_read == 3 and sum(loaded.report.dropped.values()) == 1  # the 합계 row


def test_without_lookup_files_ids_stay_missing(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "ttareungi").mkdir()
    shutil.copy(data_dir / STATION_VINTAGES["2025-12"], tmp_path / STATION_VINTAGES["2025-12"])
    df = load_station_list("2025-12", tmp_path).table
    assert len(df) == 2799 and df["station_id"].isna().all()


# ---------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=pd.Timestamp("2000-01-01").date(), max_value=pd.Timestamp("2039-12-31").date()))
def test_date_forms_agree(day: object) -> None:
    ts = pd.Timestamp(day)  # type: ignore[arg-type]
    forms = [
        ts.strftime("%Y-%m-%d"),
        ts.strftime("%Y-%m-%d %H:%M:%S"),
        ts.strftime("%Y.%m.%d"),
        ts.strftime("%Y%m-%d"),
        f"{ts.year}.{ts.month}.{ts.day}개통",
    ]
    rep = QualityReport("t")
    out = _parse_date(pd.Series(forms, dtype="string"), rep)
    assert (out == ts).all()
    assert not rep.dropped and "installed_on unparseable (set to NaT)" not in rep.warnings


_row = st.fixed_dictionaries(
    {
        "number": st.one_of(st.integers(1, 60), st.sampled_from(["", "abc", "00007"])),
        "lat": st.one_of(st.floats(37.41, 37.71), st.sampled_from([0.0, 35.1, 38.5])),
        "lon": st.one_of(st.floats(126.77, 127.18), st.sampled_from([0.0, 129.0])),
        "name": st.sampled_from([" 망원역 1번출구 앞", "4.19민주묘지역", "12. 합정역", "서교동\n사거리"]),
        "date": st.sampled_from(["2015-09-06", "202510-20", "2018.7.4개통", "", "언젠가"]),
        "lcd": st.sampled_from(["", "10", "x"]),
        "qr": st.sampled_from(["", "5"]),
    }
)


@settings(max_examples=15, deadline=None)
@given(st.lists(_row, min_size=1, max_size=25))
def test_loader_accounts_for_every_row(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, Any]]
) -> None:
    import csv

    path = tmp_path_factory.mktemp("prop") / "stations.csv"
    with path.open("w", encoding="cp949", errors="strict", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "대여소번호",
                "대여소명",
                "자치구",
                "상세주소",
                "위도",
                "경도",
                "설치시기",
                "LCD거치대수",
                "QR거치대수",
                "운영방식",
            ]
        )
        for r in rows:
            w.writerow(
                [
                    r["number"],
                    r["name"],
                    "마포구",
                    "서울 마포구",
                    r["lat"],
                    r["lon"],
                    r["date"],
                    r["lcd"],
                    r["qr"],
                    "QR",
                ]
            )
    loaded = load_station_list(path, fill_ids=False)
    df, rep = loaded.table, loaded.report
    assert rep.rows_read == len(rows)
    assert rep.rows_kept == len(df) == rep.rows_read - sum(rep.dropped.values())
    assert df["number"].is_unique and df["number"].notna().all()
    lon0, lat0, lon1, lat1 = SEOUL_BBOX
    assert df["lat"].between(lat0, lat1).all() and df["lon"].between(lon0, lon1).all()
    assert not df["name"].str.contains("\n").any() and not df["name"].str.startswith(" ").any()
    assert (df["installed_on"].isna() | (df["installed_on"].dt.year >= 2015)).all()


def test_lookup_counts_conflicts_and_prefers_the_api_dump(tmp_path: Path) -> None:
    (tmp_path / "ttareungi").mkdir()
    (tmp_path / STATION_VINTAGES["2018-11"]).write_text(
        "연번, 구분,대여소ID,대여소번호,대여소명,거치대수,위도,경도\n"
        "1,마포구,ST-4,102,102. 망원역 1번출구 앞,20,37.555649,126.910629\n"
        "2,마포구,ST-5,103,103. 망원역 2번출구 앞,14,37.554951,126.910835\n",
        encoding="utf-8",
    )
    (tmp_path / STATION_VINTAGES["api-2025-05"]).write_text(
        "STA_LOC,RENT_ID,RENT_NO,RENT_NM,RENT_ID_NM,HOLD_NUM,STA_ADD1,STA_ADD2,STA_LAT,STA_LONG,RNUM\n"
        "마포구,ST-4000,00102,망원역 1번출구 앞,102. 망원역 1번출구 앞,15,서울 마포구,,0,0,1\n"
        "마포구,ST-5,00104,합정역 1번출구 앞,104. 합정역 1번출구 앞,13,서울 마포구,,37.5506,126.9149,2\n",
        encoding="utf-8",
    )
    lookup = station_number_lookup(tmp_path)
    by_number = lookup.set_index("number")["station_id"].to_dict()
    # zero coordinates do not matter for the key pairs; the API dump wins on number 102
    assert by_number == {102: "ST-4000", 103: "ST-5", 104: "ST-5"}
    assert lookup.attrs["number_conflicts"] == 1  # 102 -> ST-4 / ST-4000
    assert lookup.attrs["id_conflicts"] == 1  # ST-5 -> 103 / 104


def test_utf16_with_bom_is_read(src: Path, tmp_path: Path) -> None:
    text = (src / "stations_official_utf8bom.csv").read_text(encoding="utf-8-sig")
    path = tmp_path / "utf16.csv"
    path.write_bytes(text.encode("utf-16"))
    assert load_station_list(path, fill_ids=False).table["number"].tolist() == [301, 302, 303]


def test_excel_unicode_text_is_read_as_its_csv_twin(src: Path, tmp_path: Path) -> None:
    """Excel's "Unicode text" save: UTF-16 with a byte-order mark, cells separated by tabs."""
    rows = list(
        csv.reader(io.StringIO((src / "stations_official_utf8bom.csv").read_text(encoding="utf-8-sig")))
    )
    path = tmp_path / "unicode.txt"
    out = io.StringIO(newline="")
    csv.writer(out, delimiter="\t").writerows(rows)  # quotes the header cells that span lines
    path.write_bytes(out.getvalue().encode("utf-16"))
    tsv = load_station_list(path, fill_ids=False).table
    csv_twin = load_station_list(src / "stations_official_utf8bom.csv", fill_ids=False).table
    pd.testing.assert_frame_equal(tsv.drop(columns="source"), csv_twin.drop(columns="source"))


def test_dock_counts_filled_and_said() -> None:
    """A missing count takes the median, an unreadable one too under its own label; a list
    without any count gets the fixed default (the planner took ``int(median)`` of nothing)."""
    report = QualityReport("t")
    report.warn(UNREADABLE_DOCKS, count=1)
    docks = pd.Series([10, 20, None, None, 12], dtype="Int64")
    filled, assumed = fill_dock_counts(docks, report)
    assert filled.tolist() == [10, 20, 12, 12, 12]
    assert assumed == {
        "docks = 12 (the median) where the count was not a whole number >= 0": 1,
        "docks = 12 (the median) where the count was missing": 1,
    }
    none = pd.Series([None, None], dtype="Int64")
    filled, assumed = fill_dock_counts(none, QualityReport("t"))
    assert filled.tolist() == [DEFAULT_DOCKS] * 2
    assert sum(assumed.values()) == 2 and str(DEFAULT_DOCKS) in next(iter(assumed))
    full = pd.Series([5, 6], dtype="Int64")
    same, nothing = fill_dock_counts(full, QualityReport("t"))
    assert same.tolist() == [5, 6] and nothing == {}


def test_master_list_has_no_dock_counts(data_dir: Path) -> None:
    """The ``master`` vintage carries no dock column: every station gets the default."""
    loaded = load_station_list("master", data_dir)
    assert loaded.table["docks"].isna().all()
    filled, assumed = fill_dock_counts(loaded.table["docks"], loaded.report)
    assert filled.notna().all() and sum(assumed.values()) == len(loaded.table)


def test_a_written_station_table_reads_back_the_same(data_dir: Path, tmp_path: Path) -> None:
    """``table.to_csv`` then ``load_station_list``: every row, number and dock type comes back.

    The normalized schema's own ``number`` and ``dock_type`` headers were not recognised: the
    station numbers (the key of the demand profiles and trips) came back empty without a word,
    and stations without an ST-ID were dropped for having no key.
    """
    table = load_station_list("2025-12", data_dir).table
    path = tmp_path / "my_stations.csv"
    table.to_csv(path, index=False, encoding="utf-8")
    back = load_station_list(path, data_dir)
    assert not back.report.dropped and "name prefix differs from station number" not in back.report.warnings
    assert len(back.table) == len(table) == 2799
    cols = [c for c in COLUMNS if c != "source"]
    pd.testing.assert_frame_equal(back.table[cols], table[cols])


def test_decomposed_hangul_is_composed(data_dir: Path, tmp_path: Path) -> None:
    """Names and districts in decomposed jamo (NFD, as macOS writes them) equal the typed ones."""
    import unicodedata

    text = "대여소번호,대여소명,자치구,위도,경도\n00102,망원역 1번출구 앞,마포구,37.5556,126.9106\n"
    nfd = unicodedata.normalize("NFD", text)
    assert "마포구" not in nfd
    path = tmp_path / "nfd.csv"
    path.write_text(nfd, encoding="utf-8")
    loaded = load_station_list(path, data_dir)
    assert loaded.table["gu"].tolist() == ["마포구"]
    assert loaded.table["name"].tolist() == ["망원역 1번출구 앞"]
    assert loaded.table["number"].tolist() == [102]  # the NFD header 대여소번호 is recognised too
    assert "gu not one of Seoul's 25 districts" not in loaded.report.warnings


def _real_2019_with(data_dir: Path, tmp_path: Path, edits: dict[int, str]) -> Path:
    """The real 2019-12 list copied into ``tmp_path`` with some lines replaced."""
    lines = (data_dir / STATION_VINTAGES["2019-12"]).read_text(encoding="utf-8").split("\n")
    for i, text in edits.items():
        lines[i] = text
    target = tmp_path / "stations_2019-12-09.csv"
    target.write_text("\n".join(lines), encoding="utf-8")
    return target


def test_row_with_more_cells_than_the_header_is_dropped_with_its_reason(
    data_dir: Path, tmp_path: Path
) -> None:
    """An unquoted comma in an address shifts every later cell: the row is dropped as malformed,
    not cut to the header's width and read with its coordinates taken from the wrong columns."""
    lines = (data_dir / STATION_VINTAGES["2019-12"]).read_text(encoding="utf-8").split("\n")
    shifted = lines[5].replace("서울특별시 마포구", "서울특별시, 마포구", 1)
    path = _real_2019_with(data_dir, tmp_path, {5: shifted})
    loaded = load_station_list(path, data_dir)
    assert loaded.report.rows_read == 1540
    assert dict(loaded.report.dropped) == {ROW_TOO_LONG: 1}
    assert loaded.report.examples[ROW_TOO_LONG] == [shifted]
    assert "installed_on unparseable (set to NaT)" not in loaded.report.warnings
    assert len(loaded.table) == 1539 and 105 not in set(loaded.table["number"])


def test_row_cut_short_is_kept_and_flagged(data_dir: Path, tmp_path: Path) -> None:
    lines = (data_dir / STATION_VINTAGES["2019-12"]).read_text(encoding="utf-8").split("\n")
    cut = ",".join(next(csv.reader([lines[9]]))[:6])  # up to the longitude; date and docks lost
    loaded = load_station_list(_real_2019_with(data_dir, tmp_path, {9: cut}), data_dir)
    assert loaded.report.warnings[ROW_TOO_SHORT] == 1
    assert loaded.report.examples[ROW_TOO_SHORT] == [cut]
    assert len(loaded.table) == 1540


def test_missing_columns_message_does_not_echo_a_text_file(data_dir: Path) -> None:
    """A text that is not a table (the folder's SOURCES.md) has its first line as the "header":
    the message names a few clipped labels, not the paragraph."""
    with pytest.raises(DataFileError) as err:
        load_station_list(data_dir / "ttareungi" / "SOURCES.md", data_dir)
    msg = str(err.value)
    assert "SOURCES.md" in msg and "위도/경도" in msg
    assert "NOTHINGHEREISSYNTHETIC" not in msg.upper().replace(" ", "")
    assert len(msg) < 400


def test_json_or_folder_given_as_station_list_says_so(data_dir: Path) -> None:
    """A GeoJSON or a folder given where a station list belongs is named as such, instead of a
    "missing columns" message quoting JSON fragments as columns, or "not found" for a folder."""
    with pytest.raises(DataFileError, match="is JSON, not a station table") as err:
        load_station_list(data_dir / "boundaries" / "seoul_gu_2020_wgs84.geojson", data_dir)
    assert "FeatureCollection" not in str(err.value)
    with pytest.raises(InputError, match="not a folder") as folder:
        load_station_list(data_dir / "ttareungi", data_dir, field="--source")
    assert folder.value.field == "--source"
