"""Monthly usage aggregates: per station 2023, per district and citywide 2019–2025."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pandas as pd
import pytest

from mobility.errors import DataFileError
from mobility.sources import usage as u
from mobility.sources.base import MALFORMED_LINE
from mobility.sources.boundaries import GU_CODES


def test_station_monthly_usage_totals(data_dir: Path) -> None:
    loaded = u.load_station_monthly_usage(data_dir)
    table = loaded.table
    assert len(table) == 32_687
    assert int(table["rentals"].sum()) == 44_846_005
    assert int(table["returns"].sum()) == 44_488_134
    assert list(table.columns) == ["gu_kr", "number", "name", "month", "rentals", "returns"]
    assert sorted(table["month"].unique()) == [f"2023-{m:02d}" for m in range(1, 13)]
    assert set(table["gu_kr"]) == set(GU_CODES["gu_kr"])
    assert loaded.report.warnings["name without a station number (e.g. AS센터)"] == 6
    assert set(table.loc[table["number"].isna(), "name"]) == {"AS센터"}
    first = table.iloc[0]
    assert (first["number"], first["name"], first["rentals"]) == (2301, "현대고등학교 건너편", 383)
    per_month = table.groupby("month")["number"].nunique()
    assert per_month.between(2_700, 2_740).all()


def test_district_monthly_usage(data_dir: Path) -> None:
    loaded = u.load_district_monthly_usage(data_dir)
    table = loaded.table
    assert len(table) == 2_184 == 26 * 84
    assert loaded.report.warnings["trips not assigned to a gu (미상)"] == 84
    assert not any(k.startswith("month") for k in loaded.report.warnings)
    yearly = table.groupby(table["month"].str[:4])["trips"].sum()
    assert yearly["2021"] == 32_033_133 and yearly["2022"] == 40_950_756


def test_citywide_monthly_usage_flags_missing_month(data_dir: Path) -> None:
    loaded = u.load_citywide_monthly_usage(data_dir)
    table = loaded.table
    assert len(table) == 83
    assert "2019-12" not in set(table["month"])  # not invented
    assert table.attrs["missing_months"] == ["2019-12"]
    assert loaded.report.warnings["month 2019-12 missing"] == 1


def test_citywide_agrees_with_district_sums(data_dir: Path) -> None:
    city = u.load_citywide_monthly_usage(data_dir).table.set_index("month")["trips"]
    district = u.load_district_monthly_usage(data_dir).table.groupby("month")["trips"].sum()
    both = pd.concat([city, district], axis=1, keys=["city", "district"])
    assert both["city"].isna().sum() == 1 and int(cast(float, both.loc["2019-12", "district"])) == 882_078
    matched = both.dropna()
    assert (matched["city"] == matched["district"]).all()


def test_station_usage_agrees_with_district_2023(data_dir: Path) -> None:
    """Station rentals of 2023 against the district file: same order of magnitude, within 1 %."""
    stations = u.load_station_monthly_usage(data_dir).table["rentals"].sum()
    district = u.load_district_monthly_usage(data_dir).table
    d2023 = district[district["month"].str.startswith("2023")]["trips"].sum()
    assert abs(stations - d2023) / d2023 < 0.01


def test_missing_months() -> None:
    assert u.missing_months(pd.Series(["2019-11", "2020-01", "2019-10"])) == ["2019-12"]
    assert u.missing_months(pd.Series([], dtype="string")) == []


def test_missing_column(tmp_path: Path) -> None:
    target = tmp_path / u.STATION_RELPATH
    target.parent.mkdir(parents=True)
    target.write_text(
        "자치구,대여소명,기준년월,대여건수\n강남구,2301. 현대고등학교 건너편,202301,383\n", encoding="utf-8"
    )
    with pytest.raises(DataFileError) as err:
        u.load_station_monthly_usage(tmp_path)
    assert "station_monthly_usage_2023.csv" in str(err.value) and "반납건수" in str(err.value)


def test_cp949_and_bad_rows_counted(tmp_path: Path) -> None:
    target = tmp_path / u.STATION_RELPATH
    target.parent.mkdir(parents=True)
    text = (
        "자치구,대여소명,기준년월,대여건수,반납건수\r\n"
        '강남구,2301. 현대고등학교 건너편,202301,"1,383",439\r\n'
        "강남구,2302. 교보타워,2023-13,433,446\r\n"
        "강남구,2303. 논현역 10번출구,202301,-1,508\r\n"
        "성동구,AS센터,202307,88,4\r\n"
    )
    target.write_bytes(text.encode("cp949"))
    loaded = u.load_station_monthly_usage(tmp_path)
    assert loaded.report.rows_read == 4
    assert dict(loaded.report.dropped) == {
        "month not YYYYMM": 1,
        "rentals/returns not a non-negative number": 1,
    }
    assert loaded.table["rentals"].tolist() == [1383, 88]
    assert loaded.table["name"].tolist() == ["현대고등학교 건너편", "AS센터"]


def test_datasets_specs(data_dir: Path) -> None:
    for spec in u.DATASETS:
        assert spec.load is not None
        assert len(spec.load(data_dir).table) == spec.expected_rows


def _copy_with_line_replaced(data_dir: Path, tmp_path: Path, relpath: str, line: int, text: str) -> None:
    """Copy a real usage file into ``tmp_path`` with one data line replaced."""
    lines = (data_dir / relpath).read_text(encoding="utf-8").split("\n")
    lines[line] = text
    target = tmp_path / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines), encoding="utf-8")


def test_district_unreadable_trips_dropped_not_crashing(data_dir: Path, tmp_path: Path) -> None:
    """A count that is not a number is one dropped row, not a crash of the whole file (the counts
    are nullable floats, whose comparisons with <NA> gave <NA> masks that pandas refuses)."""
    _copy_with_line_replaced(data_dir, tmp_path, u.DISTRICT_RELPATH, 5, "201901,관악구,abc")
    loaded = u.load_district_monthly_usage(tmp_path)
    assert loaded.report.rows_read == 2_184
    assert dict(loaded.report.dropped) == {"trips not a non-negative number": 1}
    assert len(loaded.table) == 2_183


def test_citywide_unreadable_count_dropped_not_crashing(data_dir: Path, tmp_path: Path) -> None:
    _copy_with_line_replaced(
        data_dir, tmp_path, u.CITYWIDE_RELPATH, 2, "201902,,1848382466.0,10290548,2019,2,1848382"
    )
    loaded = u.load_citywide_monthly_usage(tmp_path)
    assert dict(loaded.report.dropped) == {"trips/distance/time not a non-negative number": 1}
    assert len(loaded.table) == 82
    assert "2019-02" in loaded.table.attrs["missing_months"]


def test_line_with_extra_field_counted_not_failing_the_file(data_dir: Path, tmp_path: Path) -> None:
    """An unquoted comma (one field too many) drops that line, counted like the trip loader's,
    instead of failing the whole file with the CSV parser's message."""
    _copy_with_line_replaced(data_dir, tmp_path, u.DISTRICT_RELPATH, 4, "201901,강서구,22,539")
    loaded = u.load_district_monthly_usage(tmp_path)
    assert loaded.report.rows_read == 2_184
    assert dict(loaded.report.dropped) == {MALFORMED_LINE: 1}
    assert loaded.report.examples[MALFORMED_LINE] == ["201901,강서구,22,539"]
    assert len(loaded.table) == 2_183
