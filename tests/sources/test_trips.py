"""Trips: the three shared layouts, the official download layout, and the DuckDB ingest."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobility.errors import DataFileError, DataNotFoundError
from mobility.sources import trips as tr

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "trips"


def _check_invariants(table: pd.DataFrame) -> None:
    assert list(table.columns) == list(tr.COLUMNS)
    assert str(table["rent_time"].dtype).startswith("datetime64")
    assert str(table["rent_station"].dtype) == "Int64"
    assert (table["return_time"] >= table["rent_time"]).all()
    assert (table["duration_min"] >= 0).all()
    assert table["rent_station"].notna().all() or table["rent_station_id"].notna().all()
    assert table["rent_time"].is_monotonic_increasing


@pytest.mark.parametrize("name", sorted(tr.TRIP_DATASETS))
def test_trip_datasets(data_dir: Path, name: str) -> None:
    spec = tr.TRIP_DATASETS[name]
    loaded = tr.load_trips(name, data_dir)
    assert loaded.report.rows_read == spec.rows
    assert len(loaded.table) == spec.kept == loaded.report.rows_kept
    assert set(loaded.table["weight"]) == {spec.weight}
    _check_invariants(loaded.table)


def test_2016_st_ids_mapped_to_numbers(data_dir: Path) -> None:
    table = tr.load_trips("2016-03", data_dir).table
    assert table["rent_station_id"].str.fullmatch(r"ST-\d+").all()
    assert table["rent_station"].notna().all() and table["return_station"].notna().all()
    assert table["rent_station_id"].nunique() == 145
    first = table[table["rent_station_id"] == "ST-4"]["rent_station"].unique()
    assert list(first) == [102]
    assert table["rent_time"].min() == pd.Timestamp("2016-03-01 00:10:22")
    assert table["duration_min"].notna().all()  # computed from the times


def test_2018_sample_rejects_and_weight(data_dir: Path) -> None:
    loaded = tr.load_trips("2018-sample", data_dir)
    assert dict(loaded.report.dropped) == {"unknown return station": 432, "return before rent": 2}
    assert int(loaded.table["weight"].sum()) == 100 * 100_715
    monthly = loaded.table["rent_time"].dt.month.value_counts().sort_index()
    assert monthly.iloc[0] <= 1_644 and monthly.sum() == 100_715


def test_2022_matches_an_independent_read(data_dir: Path) -> None:
    raw = pd.read_csv(
        data_dir / tr.TRIP_DATASETS["2022-01-01"].relpath, dtype={"RENT_ID": str, "RTN_ID": str}
    )
    returned = raw[raw["RTN_ID"].notna()]
    table = tr.load_trips("2022-01-01", data_dir).table
    assert len(table) == len(returned) == 30_124
    assert table["distance_m"].sum() == pytest.approx(returned["USE_DST"].sum())
    assert table["duration_min"].sum() == pytest.approx(returned["USE_MIN"].sum())
    assert table["rent_station"].nunique() == returned["RENT_ID"].astype(int).nunique()
    assert table["rent_station_id"].notna().all()


def test_official_cp949_layout_and_broken_rows() -> None:
    loaded = tr.load_trips(FIX / "official_2019_cp949.csv")
    assert loaded.report.rows_read == 10
    assert dict(loaded.report.dropped) == {
        "malformed CSV line (wrong number of fields)": 1,
        "negative duration": 1,
        "repeated header line": 1,
        "return before rent": 1,
        "unknown rent station": 1,
        "unparseable rent time": 1,
        "unparseable return time": 1,
    }
    examples = loaded.report.examples
    assert examples["unparseable rent time"] == [
        "official_2019_cp949.csv: rent=2019-06-31 08:00:00 return=2019-07-01 08:12:00 "
        "from=00102 to=00103 minutes=12"
    ]
    assert examples["malformed CSV line (wrong number of fields)"][0].startswith(
        'official_2019_cp949.csv line 9: "SPB-00008"'
    )
    table = loaded.table
    assert table["bike_id"].tolist() == ["SPB-00001", "SPB-00002", "SPB-00003"]
    assert table["rent_station"].tolist() == [102, 113, 207]  # "'00102" -> 102
    assert table["distance_m"].tolist() == [2410.5, 4200.0, 0.0]
    _check_invariants(table)


def test_official_utf8_bom_layout() -> None:
    loaded = tr.load_trips(FIX / "official_2021_utf8_bom.csv")
    assert tr.detect_encoding(FIX / "official_2021_utf8_bom.csv") == "utf-8"
    assert loaded.report.rows_read == 4 and loaded.report.rows_kept == 3
    assert dict(loaded.report.dropped) == {"unparseable rent time": 1}
    assert loaded.report.warnings["negative distance (set to null)"] == 1
    assert loaded.table["rent_station_id"].tolist() == ["ST-4", "ST-678", "ST-4"]
    assert loaded.table["distance_m"].isna().sum() == 1


def test_default_weight() -> None:
    assert tr.default_weight(Path("trips_2018_1pct_sample.csv")) == 100
    assert tr.default_weight(Path("x16_trips_2018_1pct_sample.csv")) == 100
    assert tr.default_weight(Path("trips_2016-03_fullmonth.csv")) == 1


def test_encoding_detection() -> None:
    assert tr.detect_encoding(FIX / "official_2019_cp949.csv") == "cp949"


def test_unknown_encoding_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\xff rent_time,return_time\n\xff\xff\n")
    with pytest.raises(DataFileError, match="encoding"):
        tr.ingest_trips([bad], tmp_path / "out.parquet", lookup=tr._empty_lookup())


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    with pytest.raises(DataFileError) as err:
        tr.ingest_trips([FIX / "official_2021_utf8_bom.csv", FIX / "missing_return_time.csv"], out)
    msg = str(err.value)
    assert "missing_return_time.csv" in msg and "반납일시" in msg
    assert not out.exists()  # nothing half-written


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError):
        tr.load_trips(tmp_path / "nope.csv")


def test_ingest_many_files_into_one_parquet(data_dir: Path, tmp_path: Path) -> None:
    paths = [data_dir / d.relpath for d in tr.TRIP_DATASETS.values()] + [FIX / "official_2019_cp949.csv"]
    out = tmp_path / "all.parquet"
    result = tr.ingest_trips(paths, out, data_dir=data_dir)
    expected_kept = sum(d.kept for d in tr.TRIP_DATASETS.values()) + 3
    assert result.rows_kept == expected_kept
    assert result.rows_read == sum(d.rows for d in tr.TRIP_DATASETS.values()) + 10
    assert result.rows_read == result.rows_kept + sum(result.rejected.values())
    assert pq.read_metadata(out).num_rows == expected_kept
    assert [f["rows"] for f in result.files] == [*(d.rows for d in tr.TRIP_DATASETS.values()), 10]
    assert [f["encoding"] for f in result.files] == ["utf-8", "utf-8", "utf-8", "cp949"]
    assert result.weighted_trips == 56_769 + 100 * 100_715 + 30_124 + 3


def test_layout_detection_variants() -> None:
    layout = tr.detect_layout(
        ["\ufeff자전거번호", "대여일시", "대여대여소번호", "반납일시", "반납 대여소번호", "이용시간(분)"]
    )
    assert layout.roles == {
        "bike_id": 0,
        "rent_time": 1,
        "rent_no": 2,
        "return_time": 3,
        "return_no": 4,
        "duration": 5,
    }
    with pytest.raises(DataFileError, match="rent station"):
        tr.detect_layout(["대여일시", "반납일시", "반납대여소번호"])


_times = st.one_of(
    st.datetimes(
        min_value=pd.Timestamp("2018-01-01").to_pydatetime(),
        max_value=pd.Timestamp("2024-12-31").to_pydatetime(),
    ).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.sampled_from(["", "garbage", "2019-02-30 10:00:00", "\\N"]),
)
_stations = st.one_of(
    st.integers(min_value=-5, max_value=5000).map(str), st.sampled_from(["", "'00102", "x", "\\N"])
)
_row = st.tuples(_times, _times, _stations, _stations, st.one_of(st.integers(-10, 500).map(str), st.just("")))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_row, min_size=0, max_size=30))
def test_ingest_preserves_row_counts(rows: list[tuple[str, str, str, str, str]]) -> None:
    """Every data line is either written or rejected with a reason: read = kept + rejected."""
    tmp = Path(tempfile.mkdtemp())
    try:
        src = tmp / "trips.csv"
        lines = ["대여일시,반납일시,대여 대여소번호,반납대여소번호,이용시간"]
        lines += [",".join(r) for r in rows]
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = tr.ingest_trips([src], tmp / "out.parquet", lookup=tr._empty_lookup())
        assert result.rows_read == len(rows)
        assert result.rows_read == result.rows_kept + sum(result.rejected.values())
        assert pq.read_metadata(tmp / "out.parquet").num_rows == result.rows_kept
    finally:
        shutil.rmtree(tmp)


def test_datasets_specs(data_dir: Path) -> None:
    assert {s.name for s in tr.DATASETS} == {f"trips_{n}" for n in tr.TRIP_DATASETS}
    for spec in tr.DATASETS:
        assert spec.load is not None
        assert len(spec.load(data_dir).table) == spec.expected_rows


def test_trailing_comma_and_malformed_first_line() -> None:
    trailing = tr.load_trips(FIX / "trailing_comma.csv")
    assert trailing.report.rows_read == 2 and trailing.report.ok
    first_bad = tr.load_trips(FIX / "first_row_malformed.csv")
    assert first_bad.report.rows_read == 2 and first_bad.report.rows_kept == 1
    assert dict(first_bad.report.dropped) == {"malformed CSV line (wrong number of fields)": 1}


def test_a_cut_short_trip_cache_entry_is_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Parquet entry cut short (a full disk) raised pyarrow's ArrowInvalid on every later load."""
    from mobility import config

    monkeypatch.setenv("MOBILITY_CACHE_DIR", str(tmp_path / "cache"))
    config.get_settings.cache_clear()
    try:
        first = tr.load_trips(FIX / "official_2021_utf8_bom.csv", tmp_path).table
        (entry,) = (tmp_path / "cache" / "trips").glob("*.parquet")
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
        again = tr.load_trips(FIX / "official_2021_utf8_bom.csv", tmp_path).table
        pd.testing.assert_frame_equal(first, again)
    finally:
        config.get_settings.cache_clear()
