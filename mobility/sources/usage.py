"""Monthly usage aggregates: per station (2023), per district and citywide (2019–2025).

Files (relative to the data directory; see ``ttareungi/SOURCES.md``):

* ``ttareungi/station_monthly_usage_2023.csv`` — OA-15249 대여소별 이용정보(월별): 자치구, 대여소명
  (``"number. name"``), 기준년월 (YYYYMM), 대여건수, 반납건수. 2023 totals: 44,846,005 rentals,
  44,488,134 returns.
* ``ttareungi/district_monthly_usage_2019-2025.csv`` — trips per gu and month (ym, 자치구, 이용건수),
  25 gu plus ``미상`` (unassigned).
* ``ttareungi/citywide_monthly_usage_2019-2025.csv`` — citywide trips, distance, time per month;
  **2019-12 is missing** in the source. The loader flags it and does not fill it in; the district
  file does have 2019-12 (882,078 trips), and every other month of the two files agrees.

Months are strings ``"YYYY-MM"`` throughout.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from mobility.quality import QualityReport
from mobility.sources import base
from mobility.sources.base import DatasetSpec, Loaded, data_file, family_datasets
from mobility.sources.boundaries import GU_CODES

__all__ = [
    "CITYWIDE_RELPATH",
    "DATASETS",
    "DISTRICT_RELPATH",
    "STATION_RELPATH",
    "UNASSIGNED_GU",
    "load_citywide_monthly_usage",
    "load_district_monthly_usage",
    "load_station_monthly_usage",
    "missing_months",
]

STATION_RELPATH = "ttareungi/station_monthly_usage_2023.csv"
DISTRICT_RELPATH = "ttareungi/district_monthly_usage_2019-2025.csv"
CITYWIDE_RELPATH = "ttareungi/citywide_monthly_usage_2019-2025.csv"
_SOURCES_NOTE = "ttareungi/SOURCES.md"
"""Where the data directory says these files come from (named when one is missing)."""

UNASSIGNED_GU = "미상"
"""The district label of trips the source could not assign to a gu."""

_NUMBER_NAME = re.compile(r"^\s*(\d+)\s*\.\s*(.*?)\s*$")
_YYYYMM = re.compile(r"^\s*(\d{4})-?(\d{2})\s*$")


def _read(path: Path, required: list[str], dataset: str) -> tuple[pd.DataFrame, QualityReport]:
    """The file as text columns, and its quality report with the malformed lines counted.

    A line with more fields than the header is dropped and counted under
    :data:`~mobility.sources.base.MALFORMED_LINE`, as the trip loader does, rather than failing
    the whole file; ``rows_read`` counts it. A line with fewer fields is padded with blanks, and
    the loaders' own checks (month, counts) drop it with their reason.
    """
    frame, malformed = base.read_csv_counted(path, required, dtype=str)
    return frame, base.malformed_report(dataset, len(frame), malformed)


def _month(values: pd.Series) -> pd.Series:
    """``202301`` / ``2023-01`` -> ``"2023-01"``; anything else -> <NA>."""
    parts = values.astype("string").str.extract(_YYYYMM)
    ok = parts[0].notna() & parts[1].astype("float").between(1, 12)
    out = (parts[0] + "-" + parts[1]).where(ok)
    return out.astype("string")


def _count(values: pd.Series) -> pd.Series:
    """Counts as plain ``float64``, NaN where unreadable: a nullable ``Float64`` (what
    :func:`pandas.to_numeric` gives for text) compares to <NA>, and a mask holding <NA> cannot
    select rows, so one unreadable count failed the whole file instead of dropping its row."""
    numbers = pd.to_numeric(values.astype("string").str.replace(",", "").str.strip(), errors="coerce")
    return numbers.astype("float64")


def missing_months(months: pd.Series) -> list[str]:
    """Months (``"YYYY-MM"``) absent between the first and the last month of ``months``."""
    valid = pd.PeriodIndex(months.dropna().unique(), freq="M")
    if len(valid) == 0:
        return []
    full = pd.period_range(valid.min(), valid.max(), freq="M")
    return [str(p) for p in full.difference(valid)]


def load_station_monthly_usage(data_dir: Path | str | None = None) -> Loaded[pd.DataFrame]:
    """Rentals and returns per station and month, 2023 (OA-15249).

    Returns
    -------
    Loaded[pandas.DataFrame]
        32,687 rows: ``gu_kr``, ``number`` (Int64, the station number before the dot of
        ``대여소명``; ``<NA>`` for the six ``AS센터`` (repair centre) rows, kept and flagged),
        ``name`` (after the dot), ``month`` (``"YYYY-MM"``), ``rentals``, ``returns`` (int64).
        Rows with an unreadable month or count are dropped and counted.
    """
    path = data_file(data_dir, STATION_RELPATH, "station monthly usage 2023", documented_in=_SOURCES_NOTE)
    columns = ["자치구", "대여소명", "기준년월", "대여건수", "반납건수"]
    raw, report = _read(path, columns, "usage_station_monthly_2023")
    parts = raw["대여소명"].astype("string").str.extract(_NUMBER_NAME)
    month = _month(raw["기준년월"])
    rentals, returns = _count(raw["대여건수"]), _count(raw["반납건수"])
    bad_month = month.isna()
    report.drop("month not YYYYMM", bad_month, example=raw["기준년월"])
    bad_count = ~bad_month & (rentals.isna() | returns.isna() | (rentals < 0) | (returns < 0))
    report.drop("rentals/returns not a non-negative number", bad_count, example=raw["대여소명"])
    keep = ~(bad_month | bad_count)
    table = pd.DataFrame(
        {
            "gu_kr": raw["자치구"].astype("string").str.strip(),
            "number": pd.to_numeric(parts[0], errors="coerce").astype("Int64"),
            "name": parts[1].fillna(raw["대여소명"].astype("string").str.strip()),
            "month": month,
            "rentals": rentals,
            "returns": returns,
        }
    )[keep.to_numpy()]
    table = table.astype({"rentals": "int64", "returns": "int64"}).reset_index(drop=True)
    report.warn("name without a station number (e.g. AS센터)", table["number"].isna(), example=table["name"])
    report.warn(
        "gu not one of the 25 Seoul gu", ~table["gu_kr"].isin(GU_CODES["gu_kr"]), example=table["gu_kr"]
    )
    dup = table["number"].notna() & table.duplicated(["number", "month"], keep=False)
    report.warn("station listed twice in one month", dup, example=table["name"])
    return Loaded(table, report, [path])


def load_district_monthly_usage(data_dir: Path | str | None = None) -> Loaded[pd.DataFrame]:
    """Trips per district and month, 2019-01 to 2025-12 (from OA-15248).

    Returns
    -------
    Loaded[pandas.DataFrame]
        2,184 rows: ``month`` (``"YYYY-MM"``), ``gu_kr`` (25 gu or ``미상``), ``trips`` (int64),
        ``assigned`` (False for ``미상``, the trips the source could not place in a gu; flagged
        in the report). Missing months are listed in the report's warnings.
    """
    path = data_file(data_dir, DISTRICT_RELPATH, "district monthly usage", documented_in=_SOURCES_NOTE)
    raw, report = _read(path, ["ym", "자치구", "이용건수"], "usage_district_monthly")
    month = _month(raw["ym"])
    trips = _count(raw["이용건수"])
    gu = raw["자치구"].astype("string").str.strip()
    bad_month = month.isna()
    report.drop("month not YYYYMM", bad_month, example=raw["ym"])
    bad_trips = ~bad_month & ~(trips >= 0)
    report.drop("trips not a non-negative number", bad_trips, example=raw["이용건수"])
    unknown = ~bad_month & ~bad_trips & ~gu.isin([*GU_CODES["gu_kr"], UNASSIGNED_GU])
    report.drop("district not one of the 25 gu nor 미상", unknown, example=gu)
    keep = ~(bad_month | bad_trips | unknown)
    table = pd.DataFrame({"month": month, "gu_kr": gu, "trips": trips})[keep.to_numpy()]
    table = table.astype({"trips": "int64"}).reset_index(drop=True)
    table["assigned"] = (table["gu_kr"] != UNASSIGNED_GU).astype(bool)
    report.warn("trips not assigned to a gu (미상)", ~table["assigned"])
    for m in missing_months(table["month"]):
        report.warn(f"month {m} missing", count=1)
    return Loaded(table, report, [path])


def load_citywide_monthly_usage(data_dir: Path | str | None = None) -> Loaded[pd.DataFrame]:
    """Citywide trips, distance and riding time per month, 2019-01 to 2025-12 (from OA-15248).

    The source has no row for 2019-12. It is **not** invented: the report carries the warning
    ``"month 2019-12 missing"`` and ``table.attrs["missing_months"]`` lists it. Use
    :func:`load_district_monthly_usage` (which has 2019-12) when a complete series is needed.

    Returns
    -------
    Loaded[pandas.DataFrame]
        83 rows: ``month`` (``"YYYY-MM"``), ``trips`` (int64), ``distance_m`` (float64),
        ``duration_min`` (int64).
    """
    path = data_file(data_dir, CITYWIDE_RELPATH, "citywide monthly usage", documented_in=_SOURCES_NOTE)
    raw, report = _read(path, ["연월", "이용건수", "이동거리_m", "이용시간_min"], "usage_citywide_monthly")
    month = _month(raw["연월"])
    trips, dist, dur = _count(raw["이용건수"]), _count(raw["이동거리_m"]), _count(raw["이용시간_min"])
    bad_month = month.isna()
    report.drop("month not YYYYMM", bad_month, example=raw["연월"])
    bad = ~bad_month & ~((trips >= 0) & (dist >= 0) & (dur >= 0))
    report.drop("trips/distance/time not a non-negative number", bad, example=raw["연월"])
    keep = ~(bad_month | bad)
    table = pd.DataFrame({"month": month, "trips": trips, "distance_m": dist, "duration_min": dur})[
        keep.to_numpy()
    ]
    table = table.astype({"trips": "int64", "distance_m": "float64", "duration_min": "int64"})
    table = table.sort_values("month").reset_index(drop=True)
    gaps = missing_months(table["month"])
    for m in gaps:
        report.warn(f"month {m} missing", count=1)
    table.attrs["missing_months"] = gaps
    return Loaded(table, report, [path])


DATASETS: list[DatasetSpec] = family_datasets(
    "usage",
    [
        (
            "usage_station_monthly_2023",
            STATION_RELPATH,
            "Rentals/returns per station and month, 2023 (OA-15249; 44,846,005 rentals)",
            load_station_monthly_usage,
            32_687,
        ),
        (
            "usage_district_monthly",
            DISTRICT_RELPATH,
            "Trips per gu and month 2019-01..2025-12 (25 gu + 미상)",
            load_district_monthly_usage,
            2_184,
        ),
        (
            "usage_citywide_monthly",
            CITYWIDE_RELPATH,
            "Citywide trips/distance/time per month 2019-01..2025-12 (2019-12 missing)",
            load_citywide_monthly_usage,
            83,
        ),
    ],
)
