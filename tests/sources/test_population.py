"""Population: 100 m grid, census by dong, registered population by gu and quarter."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mobility.errors import DataFileError, InputError
from mobility.sources import population as p
from mobility.sources.base import MALFORMED_LINE
from mobility.sources.boundaries import GU_CODES


def test_population_grid(data_dir: Path) -> None:
    loaded = p.load_population_grid(data_dir)
    grid = loaded.table
    assert len(grid) == 30_717
    assert int(grid["population"].sum()) == 9_056_360
    assert grid.crs.to_epsg() == 4326
    for col in ("grid_id", "x_5179", "y_5179", "lon", "lat", "gu_kr", "adm3_code", "dong_kr", "population"):
        assert col in grid.columns
    assert grid["grid_id"].is_unique
    assert ((grid["x_5179"] % 100) == 50).all()
    assert loaded.report.ok
    assert loaded.report.warnings["dong assigned to nearest dong of its gu"] == 69
    top = grid.loc[grid["population"].idxmax()]
    assert (top["grid_id"], top["population"], top["gu_kr"]) == ("다사521406", 5472, "관악구")


@pytest.mark.parametrize(
    ("year", "rows", "total", "dropped"),
    [(2015, 424, 9_904_312, 0), (2020, 425, 9_586_195, 426), (2025, 427, 9_315_066, 0)],
)
def test_dong_population(data_dir: Path, year: int, rows: int, total: int, dropped: int) -> None:
    loaded = p.load_dong_population(data_dir, year=year)
    assert len(loaded.table) == rows
    assert int(loaded.table["population"].sum()) == total
    assert sum(loaded.report.dropped.values()) == dropped
    assert loaded.table["census_code8"].is_unique


def test_dong_population_2025_nameless_rows_counted(data_dir: Path) -> None:
    loaded = p.load_dong_population(data_dir, year=2025)
    assert loaded.report.warnings["dong without a name in the source"] == 2
    nameless = loaded.table[loaded.table["dong_en"].isna()]
    assert sorted(nameless["census_code8"]) == [11060920, 11060930]
    assert set(nameless["gu_kr"]) == {"동대문구"}


def test_dong_population_unknown_year() -> None:
    with pytest.raises(InputError, match="year"):
        p.load_dong_population(year=2019)


def test_dong_2025_file_agrees_with_long_table(data_dir: Path) -> None:
    derived = p.load_dong_population_2025_file(data_dir).table
    long = p.load_dong_population(data_dir, year=2025).table
    assert len(derived) == 427 and int(derived["population"].sum()) == 9_315_066
    merged = derived.merge(long, on="census_code8")
    assert len(merged) == 427
    assert (merged["population_x"] == merged["population_y"]).all()
    assert int((~derived["has_2020_boundary"]).sum()) == 8


def test_registered_population(data_dir: Path) -> None:
    loaded = p.load_registered_population(data_dir)
    table = loaded.table
    assert len(table) == 26 * 22
    totals = table[table["is_total"]].set_index(["year", "quarter"])["population"]
    assert totals[(2020, 1)] == 10_013_781
    assert totals[(2025, 2)] == 9_595_509
    assert totals[(2020, 4)] == 9_911_088  # the column labelled "2021" is 2020 Q4
    gu = table[~table["is_total"]]
    assert (gu.groupby(["year", "quarter"])["population"].sum() == totals).all()
    assert set(gu["gu_kr"]) == set(GU_CODES["gu_kr"])
    assert loaded.report.ok and not loaded.report.warnings


def _spreadsheet_label(year: int, quarter: int) -> str:
    """How the source spreadsheet wrote a quarter: year + quarter/4 as a reduced mixed fraction."""
    value = Fraction(year) + Fraction(quarter, 4)
    whole, frac = divmod(value, 1)
    return f"{whole} {frac.numerator}/{frac.denominator}" if frac else f"{whole}    "


@given(st.integers(min_value=1990, max_value=2100), st.integers(min_value=1, max_value=4))
def test_period_label_round_trip(year: int, quarter: int) -> None:
    assert p._parse_period(_spreadsheet_label(year, quarter)) == (year, quarter)


def test_period_label_rejects_garbage() -> None:
    assert p._parse_period("동별(2)") is None
    assert p._parse_period("2020 5/4") is None


@pytest.mark.parametrize(
    ("source", "year", "quarter", "total"),
    [
        ("registered", 2025, None, 9_595_509),
        ("registered", 2020, 1, 10_013_781),
        ("census", 2025, None, 9_315_066),
        ("census", 2020, None, 9_586_195),
        ("census", 2010, None, 9_547_431),
        ("grid", 2021, None, 9_056_360),
    ],
)
def test_gu_population(data_dir: Path, source: str, year: int, quarter: int | None, total: int) -> None:
    series = p.gu_population(source, year, quarter, data_dir)  # type: ignore[arg-type]
    assert list(series.index) == GU_CODES["gu_kr"].tolist()
    assert int(series.sum()) == total
    assert (series > 50_000).all()


@pytest.mark.parametrize(
    ("source", "year", "quarter", "field"),
    [("registered", 2019, None, "year"), ("registered", 2025, 3, "quarter"), ("census", 2021, None, "year"),
     ("grid", 2020, None, "year"), ("census", 2020, 1, "quarter"), ("nope", 2020, None, "source")],
)  # fmt: skip
def test_gu_population_bad_input(
    data_dir: Path, source: str, year: int, quarter: int | None, field: str
) -> None:
    with pytest.raises(InputError) as err:
        p.gu_population(source, year, quarter, data_dir)  # type: ignore[arg-type]
    assert err.value.field == field


def test_grid_missing_column(tmp_path: Path) -> None:
    target = tmp_path / p.GRID_RELPATH
    target.parent.mkdir(parents=True)
    target.write_text("kostat_grid_id,x_5179,y_5179\n다사1,1,2\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        p.load_population_grid(tmp_path)
    assert "seoul_pop_grid_100m.csv" in str(err.value) and "pop_total" in str(err.value)


def test_grid_bad_rows_counted(tmp_path: Path, data_dir: Path) -> None:
    lines = (data_dir / p.GRID_RELPATH).read_text(encoding="utf-8").splitlines()[:6]
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    rows[0][header.index("pop_total")] = "0"
    rows[1][header.index("lon")] = ""
    rows[2][header.index("gu_kr")] = "수원시"
    target = tmp_path / p.GRID_RELPATH
    target.parent.mkdir(parents=True)
    target.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    loaded = p.load_population_grid(tmp_path)
    assert len(loaded.table) == 2
    assert loaded.report.rows_read == 5
    assert dict(loaded.report.dropped) == {
        "missing or non-numeric coordinates": 1,
        "population missing or not positive": 1,
        "gu name not one of the 25 Seoul gu": 1,
    }


def test_registered_bad_header(tmp_path: Path) -> None:
    target = tmp_path / p.REGISTERED_RELPATH
    target.parent.mkdir(parents=True)
    target.write_text(
        "\ufeff동별(1),동별(2),Q1 2020\n동별(1),동별(2),계 (명)\n합계,소계,1\n", encoding="utf-8"
    )
    with pytest.raises(DataFileError, match="Q1 2020"):
        p.load_registered_population(tmp_path)


def test_datasets_specs(data_dir: Path) -> None:
    for spec in p.DATASETS:
        assert (data_dir / spec.relpath).is_file()
        assert spec.load is not None
        assert len(spec.load(data_dir).table) == spec.expected_rows


def _grid_copy(data_dir: Path, tmp_path: Path, encoding: str, edits: dict[int, str] | None = None) -> None:
    lines = (data_dir / p.GRID_RELPATH).read_text(encoding="utf-8").split("\n")
    for i, text in (edits or {}).items():
        lines[i] = text
    target = tmp_path / p.GRID_RELPATH
    target.parent.mkdir(parents=True)
    target.write_bytes("\n".join(lines).encode(encoding))


def test_grid_saved_as_cp949_reads_the_same(tmp_path: Path, data_dir: Path) -> None:
    """The grid re-saved as cp949 (what Excel in Korea writes): same cells, Hangul intact."""
    _grid_copy(data_dir, tmp_path, "cp949")
    grid = p.load_population_grid(tmp_path).table
    assert len(grid) == 30_717 and int(grid["population"].sum()) == 9_056_360
    assert grid["grid_id"].iloc[0] == "다사353510" and grid["gu_kr"].iloc[0] == "강서구"


def test_grid_line_with_extra_field_counted_not_failing_the_file(tmp_path: Path, data_dir: Path) -> None:
    line = (data_dir / p.GRID_RELPATH).read_text(encoding="utf-8").split("\n")[4]
    _grid_copy(data_dir, tmp_path, "utf-8", {4: line + ",EXTRA"})
    loaded = p.load_population_grid(tmp_path)
    assert loaded.report.rows_read == 30_717
    assert dict(loaded.report.dropped) == {MALFORMED_LINE: 1}
    assert loaded.report.examples[MALFORMED_LINE] == [line + ",EXTRA"]
    assert len(loaded.table) == 30_716


def test_registered_unreadable_figures_have_examples(tmp_path: Path, data_dir: Path) -> None:
    """A gu line cut short loses its later quarters: each is counted, and the report says which
    (the examples were empty, so nobody could tell which gu and quarters were dropped)."""
    lines = (data_dir / p.REGISTERED_RELPATH).read_text(encoding="utf-8-sig").split("\n")
    gu = lines[4].split(",")[1]
    lines[4] = ",".join(lines[4].split(",")[:6])  # 4 quarters kept, 18 lost
    target = tmp_path / p.REGISTERED_RELPATH
    target.parent.mkdir(parents=True)
    target.write_text("\ufeff" + "\n".join(lines), encoding="utf-8")
    report = p.load_registered_population(tmp_path).report
    assert report.dropped["population not a number"] == 18
    assert report.examples["population not a number"][0].startswith(gu + " 2021 Q")


def test_dong_2025_file_unreadable_population_dropped_not_crashing(tmp_path: Path, data_dir: Path) -> None:
    """An unreadable figure is one dropped row with its reason; it was an integer-cast crash that
    ``mobility data check`` could only show as a loader bug."""
    lines = (data_dir / p.DONG2025_RELPATH).read_text(encoding="utf-8").split("\n")
    cells = lines[3].split(",")
    cells[4] = "n/a"
    lines[3] = ",".join(cells)
    target = tmp_path / p.DONG2025_RELPATH
    target.parent.mkdir(parents=True)
    target.write_text("\n".join(lines), encoding="utf-8")
    loaded = p.load_dong_population_2025_file(tmp_path)
    assert dict(loaded.report.dropped) == {"population not a non-negative number": 1}
    assert loaded.report.examples["population not a non-negative number"] == [cells[3]]
    assert len(loaded.table) == 426 and loaded.table["population"].dtype == "int64"
