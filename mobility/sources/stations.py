"""Station lists: every official layout we have, one normalized table.

The Seoul public-bike (따릉이) station files come in several layouts that differ in column names,
zero-padding of station numbers, dock columns (one ``거치대수`` or ``LCD``/``QR`` counts), quoted
line breaks inside addresses, typos in dates and encodings (cp949 or UTF-8). :func:`load_station_list`
reads any of them -- a named vintage of the data directory or a file path -- detects the layout from
its columns and returns one schema:

============  ==========  ==============================================================
column        dtype       meaning
============  ==========  ==============================================================
station_id    string      internal ID ``ST-xxx`` (from the file, else joined on ``number``)
number        Int64       station number (대여소번호), zero-padding removed
name          string      station name, stripped, without the ``"123. "`` prefix
gu            string      district (자치구), Korean, e.g. ``"마포구"``
address       string      address; line breaks inside it are replaced by a space
lat, lon      float64     WGS84 (EPSG:4326) degrees
docks         Int64       docks (거치대수); ``LCD + QR`` for the 2025-12 layout
dock_type     string      ``"LCD"``, ``"QR"``, ``"LCD,QR"`` or <NA> (운영방식)
installed_on  datetime64  installation / start-of-service date (midnight), <NaT> if unknown
source        string      vintage name (``"2025-12"``) or file name
============  ==========  ==============================================================

Rows with unparseable or zero coordinates, coordinates outside Seoul, unparseable numbers or
duplicate stations are dropped and counted with their reason in the :class:`QualityReport`;
repaired values (e.g. the date typo ``202510-20``) are kept and counted as warnings, and so are
kept stations without a dock count (:data:`DOCKS_MISSING`, :data:`NO_DOCK_COUNTS`) or district
(:data:`GU_MISSING`, :data:`GU_OUTSIDE_SEOUL`). Sum docks with :func:`docks_total`: a missing
count is unknown, not 0.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mobility.cache import files_stamp
from mobility.config import data_file_places, resolve_data_dir
from mobility.errors import DataFileError, DataNotFoundError, InputError, cut_text
from mobility.quality import QualityReport
from mobility.sources.base import (
    CRS_WGS84,
    DatasetSpec,
    Loaded,
    decode_table_bytes,
    load_json_file,
    read_table_text,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from mobility.scenario.expansion import BaselineStation

__all__ = [
    "BIKE_LIST_COLUMNS",
    "COLUMNS",
    "DATASETS",
    "DEFAULT_DOCKS",
    "DOCKS_MISSING",
    "GU_MISSING",
    "GU_OUTSIDE_SEOUL",
    "NO_DOCK_COUNTS",
    "ROW_TOO_LONG",
    "ROW_TOO_SHORT",
    "SEOUL_BBOX",
    "SEOUL_GU",
    "STATION_VINTAGES",
    "UNREADABLE_DOCKS",
    "ZERO_DOCKS",
    "baseline_records",
    "decode_table_bytes",
    "docks_total",
    "docks_total_text",
    "fill_dock_counts",
    "load_bike_list",
    "load_station_list",
    "normalize_stations",
    "parse_bike_list",
    "read_table_text",
    "station_number_lookup",
    "station_number_lookup_loaded",
    "stations_from_records",
    "stations_to_geodataframe",
    "table_delimiter",
]

STATION_VINTAGES: dict[str, str] = {
    "2018-11": "ttareungi/stations_2018-11-29.csv",
    "2019-12": "ttareungi/stations_2019-12-09.csv",
    "2025-12": "ttareungi/stations_2025-12.csv",
    "api-2025-05": "ttareungi/stations_api_tbCycleStationInfo_2025-05.csv",
    "master": "ttareungi/station_master_OA-21235.csv",
}
"""Vintage name -> file path relative to the data directory."""

DEFAULT_DOCKS = 10
"""Docks assumed at every station of a list that has no dock counts at all (nothing to take a
median of, e.g. the ``master`` vintage): a fixed default, the default ``docks.min`` of a new
station in a scenario."""

UNREADABLE_DOCKS = "docks unparseable (set to <NA>)"
"""The quality report's warning for a dock count that is not a whole number >= 0 (``-5``, ``x``)."""

TRIPS_WITH_BOTH_KEYS = "ttareungi/trips_2022-01-01_fullday.csv"
"""The trip file whose rows carry both the station number and the ST-ID."""

COLUMNS: tuple[str, ...] = (
    "station_id",
    "number",
    "name",
    "gu",
    "address",
    "lat",
    "lon",
    "docks",
    "dock_type",
    "installed_on",
    "source",
)
"""The normalized station schema, in order."""

SEOUL_BBOX: tuple[float, float, float, float] = (126.73, 37.40, 127.28, 37.72)
"""(min lon, min lat, max lon, max lat) around Seoul's boundary (126.76-127.19 E, 37.41-37.72 N
for the stations)."""

SEOUL_GU: tuple[str, ...] = (
    "종로구", "중구", "용산구", "성동구", "광진구", "동대문구", "중랑구", "성북구", "강북구", "도봉구",
    "노원구", "은평구", "서대문구", "마포구", "양천구", "강서구", "구로구", "금천구", "영등포구", "동작구",
    "관악구", "서초구", "강남구", "송파구", "강동구",
)  # fmt: skip
"""Seoul's 25 districts (자치구), in the official (MOIS code) order."""

_RAW_COLUMNS = ("_number_raw", "_lat_raw", "_lon_raw", "_docks_given")
_ST_ID = re.compile(r"^ST-\d+$")
_INT = re.compile(r"^\s*(\d+)(?:\.0*)?\s*$")
_NAME_PREFIX = re.compile(r"^\s*(\d+)\s*\.\s+")  # "2315. 봉은사역", not "4.19민주묘지역"
_FORMULA = re.compile(r"^=\s*\d+(?:\s*\+\s*\d+)+$")  # Excel sums left in the 2019-12 sheet
_GU_IN_ADDRESS = re.compile(r"(?:^|\s)([가-힣]{1,4}구)(?=\s|$)")
# an address that starts with another province or metropolitan city than Seoul ("경기도 하남시 ...")
_OUTSIDE_SEOUL = re.compile(
    r"^\s*(?:경기|인천|강원|충청|충북|충남|전라|전북|전남|경상|경북|경남|제주|부산|대구|광주|대전|울산|세종)"
)
_WS = re.compile(r"\s+")

# Role -> normalized header names (exact match), in order of preference. The last names are the
# normalized schema's own (COLUMNS, upper-cased): a table this module wrote reads back the same.
_EXACT: dict[str, tuple[str, ...]] = {
    "station_id": ("대여소_ID", "RENT_ID", "STATIONID", "STATION_ID"),
    "number": ("대여소번호", "RENT_NO", "대여소번호(숫자)", "NUMBER"),
    "id_or_number": ("대여소ID",),
    "name": ("대여소명", "보관소(대여소)명", "RENT_NM", "STATIONNAME", "NAME"),
    "name_with_number": ("RENT_ID_NM",),
    "gu": ("자치구", "대여소_구", "구분", "STA_LOC", "GU"),
    "address": ("상세주소", "대여소주소", "주소", "주소1", "STA_ADD1", "ADDRESS"),
    "address2": ("주소2", "STA_ADD2"),
    "lat": ("위도", "STA_LAT", "STATIONLATITUDE", "LAT", "LATITUDE"),
    "lon": ("경도", "STA_LONG", "STATIONLONGITUDE", "LON", "LONGITUDE"),
    "docks": ("거치대수", "HOLD_NUM", "거치대개수", "RACKTOTCNT", "DOCKS"),
    "dock_type": ("운영방식", "DOCK_TYPE"),
    "installed_on": ("설치시기", "기준시작일자", "설치일자", "INSTALLED_ON"),
    "bikes": ("PARKINGBIKETOTCNT",),
    "shared": ("SHARED",),
}
# Role -> substrings that identify a header (for the official multi-row headers, e.g.
# "설치형태LCD거치대수" or "소재지(위치)자치구").
_CONTAINS: dict[str, tuple[str, ...]] = {
    "number": ("대여소번호",),
    "gu": ("자치구",),
    "address": ("상세주소",),
    "lat": ("위도",),
    "lon": ("경도",),
    "installed_on": ("설치시기",),
    "dock_type": ("운영방식",),
    "lcd": ("LCD",),
    "qr": ("QR",),
}


@dataclass(frozen=True)
class _Layout:
    """Which column of the file plays which role."""

    roles: dict[str, int]
    labels: list[str]

    def has(self, role: str) -> bool:
        return role in self.roles


# --------------------------------------------------------------------------------------------
# Reading text tables: encoding and header detection
# --------------------------------------------------------------------------------------------


def _normalize_header(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\ufeff", ""))
    text = _WS.sub("", text).strip("\"'")
    return text.upper() if text.isascii() else re.sub(r"[A-Za-z]+", lambda m: m.group(0).upper(), text)


def table_delimiter(text: str) -> str:
    """The cell separator of a text table: a tab when its first 4,096 characters hold more tabs
    than commas (what Excel writes as "Unicode text": UTF-16 with tabs), else a comma. Counted over
    a sample, not the first line: a header cell may be quoted across lines (the official list's).

    Parameters
    ----------
    text
        The decoded table (:func:`decode_table_bytes`).

    Returns
    -------
    str
        ``"\\t"`` or ``","``.
    """
    sample = text[:4096]
    return "\t" if sample.count("\t") > sample.count(",") else ","


def _parse_csv(path: Path, text: str) -> list[list[str]]:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=table_delimiter(text)))
    except csv.Error as exc:
        raise DataFileError(path, f"is not a readable CSV table ({exc})") from exc
    return rows


def _is_header_row(row: list[str]) -> bool:
    """A header row has no purely numeric cell (data rows always carry a number or coordinate)."""
    return not any(re.fullmatch(r"\s*-?\d+(?:\.\d+)?\s*", c) for c in row)


def _split_header(rows: list[list[str]], max_header_rows: int = 6) -> tuple[list[str], list[list[str]]]:
    """Join the leading header rows (the official download has up to five) into one label each."""
    if not rows:
        return [], []
    n = 1
    while n < min(len(rows), max_header_rows) and _is_header_row(rows[n]):
        n += 1
    width = max(len(r) for r in rows[:n])
    labels = []
    for j in range(width):
        parts = [rows[i][j] for i in range(n) if j < len(rows[i]) and rows[i][j].strip()]
        labels.append(_normalize_header("".join(parts)))
    return labels, rows[n:]


def _detect_layout(labels: list[str]) -> _Layout:
    roles: dict[str, int] = {}
    for role, names in _EXACT.items():
        for name in names:
            if name in labels:
                roles[role] = labels.index(name)
                break
    for role, subs in _CONTAINS.items():
        if role in roles:
            continue
        for j, label in enumerate(labels):
            if j in roles.values() or not label:
                continue
            if role in ("lcd", "qr") and "운영" in label:
                continue
            if any(s in label for s in subs):
                roles[role] = j
                break
    return _Layout(roles=roles, labels=labels)


# --------------------------------------------------------------------------------------------
# Normalization
# --------------------------------------------------------------------------------------------


def _col(frame: pd.DataFrame, layout: _Layout, role: str) -> pd.Series | None:
    """The column of ``role`` as stripped text, Hangul composed (NFC): a name or district written
    in decomposed jamo (NFD, as macOS writes file names) equals the same text typed in Korea."""
    if role not in layout.roles:
        return None
    return frame.iloc[:, layout.roles[role]].astype("string").str.strip().str.normalize("NFC")


def _clean_text(s: pd.Series) -> pd.Series:
    s = s.astype("string").str.replace(_WS, " ", regex=True).str.strip()
    return s.mask(s == "", pd.NA)


def _parse_int(s: pd.Series) -> pd.Series:
    """Integers written as ``00102``, ``102`` or ``102.0``; anything else becomes <NA>."""
    digits = s.astype("string").str.extract(_INT, expand=False)
    return pd.to_numeric(digits, errors="coerce").astype("Int64")


def _parse_docks(s: pd.Series, report: QualityReport) -> pd.Series:
    """Dock counts; Excel sums such as ``=9+10`` (left in the 2019-12 sheet) are evaluated."""
    s = s.astype("string").str.strip()
    docks = _parse_int(s)
    formula = s.str.fullmatch(_FORMULA.pattern).fillna(False)
    if formula.any():
        sums = s[formula].str.findall(r"\d+").map(lambda xs: sum(int(x) for x in xs))
        docks[formula] = sums.astype("Int64")
        report.warn("docks given as a formula (evaluated)", formula, example=s)
    bad = docks.isna() & s.fillna("").ne("")
    report.warn(UNREADABLE_DOCKS, bad, example=s)
    return docks


def _parse_date(s: pd.Series, report: QualityReport) -> pd.Series:
    """Dates as ``YYYY-MM-DD[ HH:MM:SS]``; repairs ``202510-20``, ``2018..10.02``, ``2018.7.4개통``."""
    s = s.astype("string").str.strip()
    blank = s.isna() | (s == "")
    clean = s.str.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?").fillna(False)
    parts = s.str.extract(r"^\D*(\d{4})\D{0,3}?(\d{1,2})\D{1,3}(\d{1,2})(?!\d)")
    text = parts[0] + "-" + parts[1].str.zfill(2) + "-" + parts[2].str.zfill(2)
    out = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    other_format = s.str.fullmatch(r"\d{4}([./])\d{1,2}\1\d{1,2}\.?").fillna(False)
    repaired = ~clean & ~other_format & out.notna()
    bad = ~blank & out.isna()
    report.warn("installed_on written YYYY.MM.DD (normalized)", other_format & out.notna(), example=s)
    report.warn("installed_on repaired typo", repaired, example=s)
    report.warn("installed_on unparseable (set to NaT)", bad, example=s)
    return out.astype("datetime64[ns]")


def _gu_from_address(address: pd.Series) -> pd.Series:
    return address.astype("string").str.extract(_GU_IN_ADDRESS, expand=False).astype("string")


def _normalize_dock_type(s: pd.Series) -> pd.Series:
    s = s.astype("string").str.upper().str.replace(r"[\s/+·]+", ",", regex=True).str.strip(",")
    s = s.mask(s == "", pd.NA)
    return s.map(
        lambda v: ",".join(sorted(set(v.split(",")))) if isinstance(v, str) else v, na_action="ignore"
    ).astype("string")


ROW_TOO_LONG = "malformed row: more cells than the header (an unquoted separator in a value?)"
"""The quality report's reason for a dropped row whose cells go on beyond the header's columns:
its values no longer sit under their headers (a comma left unquoted in an address shifts every
cell after it), so none of them can be trusted."""

ROW_TOO_SHORT = "fewer cells than the header (the missing cells read as blank; kept)"
"""The warning for a kept row that stops before the header's last named column (a line cut short,
or a writer that leaves out trailing blanks): its missing cells are read as blank."""


@dataclass(frozen=True)
class _RawRows:
    """A station table's body as strings, padded or cut to the header's width, with its layout.

    ``too_long`` marks the rows with non-blank cells beyond the header's columns, ``too_short``
    those that end before the header's last named column; ``text`` is each row as read (the
    quality report's examples).
    """

    frame: pd.DataFrame
    layout: _Layout
    too_long: pd.Series
    too_short: pd.Series
    text: pd.Series


def _frame_from_rows(path: Path, rows: list[list[str]]) -> _RawRows:
    labels, body = _split_header(rows)
    if not labels:
        raise DataFileError(path, "is empty (no header row)")
    width = len(labels)
    named = max((j + 1 for j, label in enumerate(labels) if label), default=width)
    index = pd.RangeIndex(len(body))
    too_long = pd.Series([any(c.strip() for c in r[width:]) for r in body], index=index, dtype=bool)
    too_short = pd.Series([0 < len(r) < named for r in body], index=index, dtype=bool)
    text = pd.Series([",".join(r) for r in body], index=index, dtype="string")
    body = [r + [""] * (width - len(r)) if len(r) < width else r[:width] for r in body]
    frame = pd.DataFrame(body, index=index, columns=range(width), dtype="string")
    return _RawRows(frame, _detect_layout(labels), too_long, too_short, text)


def _docks_given(frame: pd.DataFrame, layout: _Layout) -> pd.Series:
    """True where the row has a non-blank text in any of its dock columns (LCD, QR, total)."""
    given = pd.Series(False, index=frame.index)
    for role in ("lcd", "qr", "docks"):
        raw = _col(frame, layout, role)
        if raw is not None:
            given |= raw.fillna("").ne("").astype(bool)
    return given


def _docks(frame: pd.DataFrame, layout: _Layout, report: QualityReport) -> pd.Series:
    """Docks per station: LCD + QR docks where the list splits them, else the total column."""
    lcd = _col(frame, layout, "lcd")
    qr = _col(frame, layout, "qr")
    dock_col = _col(frame, layout, "docks")
    if lcd is not None or qr is not None:
        parts = []
        for label, raw in (("LCD", lcd), ("QR", qr)):
            if raw is None:
                continue
            parsed = _parse_int(raw)
            bad = parsed.isna() & raw.fillna("").ne("")
            report.warn(f"{label} docks unparseable (not counted)", bad, example=raw)
            parts.append(parsed)
        docks = pd.concat(parts, axis=1).sum(axis=1, min_count=1).astype("Int64")
        if dock_col is not None:
            docks = docks.fillna(_parse_int(dock_col))
    elif dock_col is not None:
        docks = _parse_docks(dock_col, report)
    else:
        docks = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    return docks


def normalize_stations(
    frame: pd.DataFrame,
    layout: _Layout,
    *,
    path: Path,
    source: str,
    report: QualityReport,
) -> pd.DataFrame:
    """Map a raw station table (strings) onto the normalized schema, before any row is dropped.

    The result also carries the raw text of the key and coordinate columns (``_number_raw``,
    ``_lat_raw``, ``_lon_raw``) for the examples of the quality report; dropping the bad rows
    removes them.

    Raises
    ------
    DataFileError
        When the columns needed (coordinates and a station number or ID) are missing.
    """
    missing = []
    if not (layout.has("lat") and layout.has("lon")):
        missing.append("위도/경도 (lat/lon)")
    if not (layout.has("number") or layout.has("station_id") or layout.has("id_or_number")):
        missing.append("대여소번호 or 대여소ID (station number or ST-ID)")
    if missing:  # the header is counted, never quoted: an upload's content is not echoed
        n = len(layout.labels)
        raise DataFileError(
            path,
            f"missing columns {', '.join(missing)} (its first line, read as the header, has {n} "
            f"column{'' if n == 1 else 's'}, none of these). Expected a 따릉이 station list (OA-13252 "
            "2018/2019/2025 layouts, tbCycleStationInfo, OA-21235 master).",
        )
    n = len(frame)
    na_str = pd.Series(pd.NA, index=frame.index, dtype="string")
    station_id = _col(frame, layout, "station_id")
    number_raw = _col(frame, layout, "number")
    number = _parse_int(number_raw) if number_raw is not None else None
    either = _col(frame, layout, "id_or_number")
    if either is not None:  # "대여소ID" is an ST-ID in 2018-11 but the station number in 2019-12
        is_st = either.str.fullmatch(_ST_ID.pattern).fillna(False)
        if station_id is None:
            station_id = either.where(is_st)
        if number is None:
            number_raw = either.where(~is_st)
            number = _parse_int(number_raw)
    if station_id is None:
        station_id = na_str.copy()
    station_id = station_id.mask(~station_id.str.fullmatch(_ST_ID.pattern).fillna(False), pd.NA)

    name = _col(frame, layout, "name")
    if name is None:
        name = _col(frame, layout, "name_with_number")
    name = _clean_text(name) if name is not None else na_str.copy()
    prefix = _parse_int(name.str.extract(_NAME_PREFIX, expand=False))
    if number is None:
        number = prefix
        number_raw = name
    else:
        unparsed = number.isna() & prefix.notna()
        number = number.fillna(prefix)
        report.warn("number taken from the name prefix", unparsed, example=name)
        differs = prefix.notna() & number.notna() & (prefix != number)
        report.warn("name prefix differs from station number", differs.fillna(False), example=name)
    name = _clean_text(name.str.replace(_NAME_PREFIX, "", regex=True))

    address = _col(frame, layout, "address")
    address2 = _col(frame, layout, "address2")
    if address is not None and address2 is not None:
        address = address.fillna("") + " " + address2.fillna("")
    address = _clean_text(address) if address is not None else na_str.copy()
    gu = _col(frame, layout, "gu")
    gu = _clean_text(gu) if gu is not None else na_str.copy()
    gu = gu.fillna(_gu_from_address(address))
    report.warn("gu not one of Seoul's 25 districts", gu.notna() & ~gu.isin(SEOUL_GU), example=gu)

    lat_raw = _col(frame, layout, "lat")
    lon_raw = _col(frame, layout, "lon")
    assert lat_raw is not None and lon_raw is not None
    lat = pd.to_numeric(lat_raw, errors="coerce").astype("float64")
    lon = pd.to_numeric(lon_raw, errors="coerce").astype("float64")

    docks = _docks(frame, layout, report)
    dtype_col = _col(frame, layout, "dock_type")
    dock_type = _normalize_dock_type(dtype_col) if dtype_col is not None else na_str.copy()

    inst = _col(frame, layout, "installed_on")
    installed_on = (
        _parse_date(inst, report)
        if inst is not None
        else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    )
    out = pd.DataFrame(
        {
            "station_id": station_id.astype("string"),
            "number": number.astype("Int64"),
            "name": name.astype("string"),
            "gu": gu.astype("string"),
            "address": address.astype("string"),
            "lat": lat,
            "lon": lon,
            "docks": docks.astype("Int64"),
            "dock_type": dock_type.astype("string"),
            "installed_on": installed_on,
            "source": pd.Series([source] * n, index=frame.index, dtype="string"),
        }
    )
    # the raw text, kept beside the values for the examples of the quality report
    out["_number_raw"] = number_raw.astype("string") if number_raw is not None else na_str
    out["_lat_raw"] = lat_raw.astype("string")
    out["_lon_raw"] = lon_raw.astype("string")
    out["_docks_given"] = _docks_given(frame, layout)
    return out


DOCKS_MISSING = "docks missing (kept, docks <NA>)"
"""The quality report's warning for a kept station whose dock count is blank in the file."""

NO_DOCK_COUNTS = "docks missing: the list has no dock counts (kept, docks <NA>)"
"""The warning, for every kept station, of a list without any dock count (e.g. ``master``)."""

GU_MISSING = "gu missing (none given, none in the address; kept)"
"""The warning for a kept station without a district (e.g. the address ``주소없음``)."""

GU_OUTSIDE_SEOUL = "outside Seoul's districts (address in another province, inside the Seoul bbox; kept)"
"""The warning for a kept station without a district whose address names another province
(``경기도 하남시 ...``). Such stations lie inside :data:`SEOUL_BBOX`, a rectangle around the city
that also covers a strip of the neighbouring cities, so the reader keeps them (it drops by
coordinates only): they are operated stations the planner counts as existing supply."""


def _flag_kept_rows(df: pd.DataFrame, report: QualityReport) -> None:
    """Warn about values missing in the kept rows: docks and district (gu)."""
    if df.empty:
        return
    key = df["station_id"].fillna(df["number"].astype("string"))
    no_docks = df["docks"].isna()
    if bool(no_docks.all()):
        report.warn(NO_DOCK_COUNTS, no_docks, example=key)
    else:
        given = df["_docks_given"].astype(bool) if "_docks_given" in df else pd.Series(False, index=df.index)
        report.warn(DOCKS_MISSING, no_docks & ~given, example=key)  # unreadable ones are warned already
    no_gu = df["gu"].isna()
    outside = no_gu & df["address"].astype("string").str.match(_OUTSIDE_SEOUL.pattern).fillna(False)
    report.warn(GU_OUTSIDE_SEOUL, outside.astype(bool), example=key)
    report.warn(GU_MISSING, no_gu & ~outside.astype(bool), example=key)


def docks_total(docks: pd.Series) -> tuple[int | None, int]:
    """The docks of a station table summed, and how many stations have no count.

    Returns
    -------
    tuple[int | None, int]
        The sum of the known counts (``None`` when no station has one: the total is unknown,
        not 0) and the number of stations without a count (not counted in the sum).
    """
    missing = int(docks.isna().sum())
    if missing == len(docks) and missing:
        return None, missing
    return int(docks.sum()), missing


def docks_total_text(docks: pd.Series) -> str:
    """The docks of a station table, for a summary line: ``"37,358 docks (14 without a count)"``,
    ``"docks unknown (no dock counts)"`` or ``"1,668 docks"``."""
    total, missing = docks_total(docks)
    if total is None:
        return "docks unknown (no dock counts)"
    if missing:
        return f"{total:,} docks ({missing:,} without a count)"
    return f"{total:,} docks"


def _drop_bad_rows(
    df: pd.DataFrame,
    report: QualityReport,
    bbox: tuple[float, float, float, float] | None = SEOUL_BBOX,
    *,
    flag_missing: bool = True,
) -> pd.DataFrame:
    """Drop (and count) rows that cannot be used as stations; with ``flag_missing``, warn about
    the kept rows' missing docks and districts (:func:`_flag_kept_rows`)."""
    index = df.index
    number_raw = df.get("_number_raw")
    lat_raw = df.get("_lat_raw")
    lon_raw = df.get("_lon_raw")
    keep = pd.Series(True, index=index)

    def drop(reason: str, mask: pd.Series, example: pd.Series | None) -> None:
        mask = (mask & keep).fillna(False).astype(bool)
        report.drop(reason, mask, example=example)
        keep[mask] = False

    key_missing = df["number"].isna() & df["station_id"].isna()
    drop("no station number or ST-ID", key_missing, number_raw)
    unparsable = df["lat"].isna() | df["lon"].isna()
    coords = (
        lat_raw.fillna("") + "," + lon_raw.fillna("") if lat_raw is not None and lon_raw is not None else None
    )
    drop("coordinates unparseable", unparsable, coords)
    zero = (df["lat"] == 0) | (df["lon"] == 0)
    drop("zero coordinates", zero, df["station_id"].fillna(df["number"].astype("string")))
    if bbox is not None:
        lon0, lat0, lon1, lat1 = bbox
        outside = ~(df["lat"].between(lat0, lat1) & df["lon"].between(lon0, lon1))
        drop("coordinates outside Seoul", outside, coords)
    has_number = df["number"].notna() & keep
    dup_number = has_number & df["number"].where(has_number).duplicated(keep="first")
    drop("duplicate station number", dup_number, df["number"].astype("string"))
    has_id = df["station_id"].notna() & keep
    dup_id = has_id & df["station_id"].where(has_id).duplicated(keep="first")
    drop("duplicate station ID", dup_id, df["station_id"])
    out = df.loc[keep].reset_index(drop=True)
    if flag_missing:
        _flag_kept_rows(out, report)
    out = out.drop(columns=[c for c in _RAW_COLUMNS if c in out.columns])
    return out


def _excel_rows(path: Path) -> list[list[str]]:
    """The cells of the station sheet (``대여소현황`` when present, else the first) as text."""
    if path.suffix.lower() == ".xls":
        raise DataFileError(path, "old .xls workbooks are not read; save the sheet as .xlsx or CSV")
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
    except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
        raise DataFileError(path, "reading .xlsx needs openpyxl (pip install openpyxl)") from exc
    except Exception as exc:  # zip / XML errors of a broken workbook
        raise DataFileError(path, f"is not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    if not sheets:
        raise DataFileError(path, "has no sheet")
    name = next((n for n in sheets if "대여소" in str(n)), next(iter(sheets)))
    sheet = sheets[name]

    def text(v: object) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    return [[text(v) for v in row] for row in sheet.itertuples(index=False, name=None)]


def _read_normalized(path: Path, source: str, report: QualityReport) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        rows = _excel_rows(path)
    else:
        text, _enc = read_table_text(path)
        if text.lstrip()[:1] in ("{", "["):
            raise DataFileError(
                path, "is JSON, not a station table; expected a CSV (or .xlsx) station list with a header row"
            )
        rows = _parse_csv(path, text)
    return _normalized_rows(path, rows, source, report)


def _normalized_rows(path: Path, rows: list[list[str]], source: str, report: QualityReport) -> pd.DataFrame:
    raw = _frame_from_rows(path, rows)
    frame = raw.frame
    if frame.empty:
        raise DataFileError(path, "holds no station rows (a header at most)")
    empty = frame.apply(lambda c: c.fillna("").str.strip() == "").all(axis=1)
    report.rows_read = len(frame)
    report.drop("empty row", empty)
    report.drop(ROW_TOO_LONG, raw.too_long & ~empty, example=raw.text)
    report.warn(ROW_TOO_SHORT, raw.too_short & ~empty & ~raw.too_long, example=raw.text)
    frame = frame.loc[~empty & ~raw.too_long]
    return normalize_stations(frame, raw.layout, path=path, source=source, report=report)


def records_frame(records: list[dict[str, object]]) -> tuple[pd.DataFrame, _Layout]:
    """A raw string table (and its detected layout) from JSON records (API ``row`` arrays)."""
    keys: list[str] = []
    for rec in records:
        for k in rec:
            if k not in keys:
                keys.append(k)
    labels = [_normalize_header(k) for k in keys]
    body = [["" if rec.get(k) is None else str(rec.get(k)) for k in keys] for rec in records]
    frame = pd.DataFrame(body, columns=range(len(keys)), dtype="string")
    if not records:
        frame = pd.DataFrame({i: pd.Series(dtype="string") for i in range(len(keys))})
    return frame, _detect_layout(labels)


def stations_from_records(
    records: list[dict[str, object]],
    *,
    source: str,
    origin: Path | str = "<records>",
    bbox: tuple[float, float, float, float] | None = SEOUL_BBOX,
) -> Loaded[pd.DataFrame]:
    """Normalize JSON station records (e.g. the OpenAPI ``tbCycleStationInfo`` rows).

    Parameters
    ----------
    records
        One dict per station, with the keys of any supported layout.
    source
        Value of the ``source`` column and name of the report.
    origin
        Named in errors (a file or URL).
    bbox
        Rows outside (min lon, min lat, max lon, max lat) are dropped; ``None`` keeps them.
    """
    report = QualityReport(dataset=f"stations_{source}", rows_read=len(records))
    if not records:
        empty = pd.DataFrame({c: pd.Series(dtype="string") for c in COLUMNS})
        return Loaded(table=empty, report=report, sources=[])
    frame, layout = records_frame(records)
    df = normalize_stations(frame, layout, path=Path(str(origin)), source=source, report=report)
    df = _drop_bad_rows(df, report, bbox)
    return Loaded(table=df.loc[:, list(COLUMNS)], report=report, sources=[])


def stations_from_csv_bytes(
    raw: bytes,
    *,
    source: str,
    origin: str = "upload.csv",
    bbox: tuple[float, float, float, float] | None = SEOUL_BBOX,
) -> Loaded[pd.DataFrame]:
    """Normalize a station table sent as CSV bytes (an upload), in any layout a file may have.

    The same reading as :func:`load_station_list` (encoding and header detection, the official
    OA-13252 layout included), without a file: the API parses uploads with it.

    Parameters
    ----------
    raw
        The CSV bytes (UTF-8, UTF-16 with BOM or cp949).
    source
        Value of the ``source`` column and name of the report.
    origin
        Names the table in errors (never a server path).
    bbox
        Rows outside (min lon, min lat, max lon, max lat) are dropped and reported.

    Raises
    ------
    DataFileError
        Unknown encoding, not a CSV, or the coordinate / key columns are missing.
    """
    where = Path(origin)
    report = QualityReport(dataset=f"stations:{source}")
    text, _enc = decode_table_bytes(raw, where)
    df = _normalized_rows(where, _parse_csv(where, text), source, report)
    df = _drop_bad_rows(df, report, bbox)
    return Loaded(table=df.loc[:, list(COLUMNS)], report=report, sources=[])


BIKE_LIST_COLUMNS: tuple[str, ...] = (
    "station_id",
    "number",
    "name",
    "docks",
    "bikes",
    "shared_pct",
    "lat",
    "lon",
)
"""Columns of :func:`parse_bike_list`."""


def _bike_list_rows(payload: dict[str, Any] | list[Any]) -> list[dict[str, object]]:
    if isinstance(payload, list):
        rows = payload
    elif isinstance(payload, dict):
        if "row" in payload:
            rows = payload["row"]
        elif isinstance(payload.get("rentBikeStatus"), dict):
            rows = payload["rentBikeStatus"].get("row", [])
        else:
            raise InputError(
                "bikeList payload",
                sorted(payload)[:5],
                "the OpenAPI response ({'rentBikeStatus': {'row': [...]}}), {'row': [...]} or a list of rows",
            )
    else:
        raise InputError("bikeList payload", type(payload).__name__, "a dict or a list")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputError("bikeList payload.row", type(rows).__name__, "a list of objects")
    return rows


SHOWN_FIELDS = 12
"""Field names of a ``bikeList`` row an error message lists at most."""


def _field_names(keys: Iterable[object]) -> str:
    """The distinct field names of a payload's rows for an error message, as the payload spells them
    (``stationId``, not the ``STATIONID`` the layout matches on), each cut to
    :data:`~mobility.errors.SHOWN_CHARS` characters, at most :data:`SHOWN_FIELDS` of them."""
    names = [cut_text(str(k)) for k in dict.fromkeys(keys)]
    more = len(names) - SHOWN_FIELDS
    return ", ".join(names[:SHOWN_FIELDS]) + (f" and {more} more" if more > 0 else "") or "(none)"


def parse_bike_list(
    payload: dict[str, Any] | list[Any],
    *,
    origin: Path | str = "<bikeList payload>",
    bbox: tuple[float, float, float, float] | None = SEOUL_BBOX,
) -> Loaded[pd.DataFrame]:
    """Parse a real-time ``bikeList`` (따릉이 실시간 대여정보) payload.

    Parameters
    ----------
    payload
        The OpenAPI JSON response, its ``rentBikeStatus`` object, or a plain list of rows with the
        fields ``stationId``, ``stationName``, ``rackTotCnt``, ``parkingBikeTotCnt``, ``shared``,
        ``stationLatitude``, ``stationLongitude`` (values as strings or numbers).
    origin
        Named in errors.
    bbox
        Rows outside it are dropped (``None`` keeps every row).

    Returns
    -------
    Loaded[pandas.DataFrame]
        Columns :data:`BIKE_LIST_COLUMNS`: ``station_id`` (ST-xxx), ``number`` (from the
        ``"102. "`` name prefix when present), ``name``, ``docks`` (rackTotCnt), ``bikes``
        (parkingBikeTotCnt), ``shared_pct`` (bikes / docks in %, as published; may exceed 100),
        ``lat``, ``lon``.
    """
    rows = _bike_list_rows(payload)
    report = QualityReport(dataset="bikeList", rows_read=len(rows))
    if not rows:
        empty = pd.DataFrame({c: pd.Series(dtype="string") for c in BIKE_LIST_COLUMNS})
        return Loaded(table=empty, report=report)
    frame, layout = records_frame(rows)
    if not layout.has("bikes"):
        found = _field_names(key for row in rows for key in row)
        raise DataFileError(origin, f"bikeList rows lack 'parkingBikeTotCnt'; found fields {found}")
    df = normalize_stations(frame, layout, path=Path(str(origin)), source="bikeList", report=report)
    bikes_raw = _col(frame, layout, "bikes")
    assert bikes_raw is not None
    df["bikes"] = _parse_int(bikes_raw)
    report.warn("bikes unparseable (set to <NA>)", df["bikes"].isna(), example=bikes_raw)
    shared = _col(frame, layout, "shared")
    df["shared_pct"] = (
        pd.to_numeric(shared, errors="coerce").astype("float64")
        if shared is not None
        else (100.0 * df["bikes"] / df["docks"]).astype("float64")
    )
    df = _drop_bad_rows(df, report, bbox, flag_missing=False)
    return Loaded(table=df.loc[:, list(BIKE_LIST_COLUMNS)], report=report)


def load_bike_list(path: Path | str) -> Loaded[pd.DataFrame]:
    """Read a saved ``bikeList`` response (JSON file) with :func:`parse_bike_list`."""
    path = Path(path)
    return load_json_file(path, lambda payload: parse_bike_list(payload, origin=path))


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _resolve_source(source: str | Path, data_dir: Path | None, field: str) -> tuple[Path, str]:
    if isinstance(source, str) and source in STATION_VINTAGES:
        root = resolve_data_dir(data_dir)
        path = root / STATION_VINTAGES[source]
        if not path.is_file():
            raise DataNotFoundError(
                f"station list {source!r}", [path], "The data directory lacks this file; see data/README.md."
            )
        return path, source
    places = data_file_places(source, data_dir)
    for path in places:
        if path.is_file():
            return path, path.name
    if any(path.is_dir() for path in places):
        raise InputError(field, str(source), "a station file (CSV or .xlsx), not a folder")
    if isinstance(source, str) and not any(sep in source for sep in ("/", "\\", ".")):
        raise InputError(
            field, source, f"a station vintage ({', '.join(STATION_VINTAGES)}) or a path to a CSV file"
        )
    raise DataNotFoundError(
        f"{field}: station file {str(source)!r}",
        [p.absolute() for p in places],
        "Give the path of an existing station file (CSV or .xlsx); a relative path is looked for "
        "in the data directory, then in the working directory.",
    )


def fill_dock_counts(docks: pd.Series, report: QualityReport) -> tuple[pd.Series, dict[str, int]]:
    """Fill missing dock counts as the planner does, and say what was assumed, by reason.

    A missing count takes the median of the counts of the list; the reader has set an unreadable
    one (``-5``, ``x``) to missing and warned (:data:`UNREADABLE_DOCKS` in ``report``), so the
    label says which was which. Where the list has no dock counts at all, every station gets
    :data:`DEFAULT_DOCKS`.

    Parameters
    ----------
    docks
        The ``docks`` column of a normalized station table (nullable integers).
    report
        The quality report of the read that produced it.

    Returns
    -------
    tuple[pandas.Series, dict[str, int]]
        The docks with no value missing, and the number of stations per assumption (a label
        such as ``"docks = 12 (the median) where the count was missing"``); empty when nothing
        was missing.
    """
    assumed: dict[str, int] = {}
    missing = int(docks.isna().sum())
    if missing == 0:
        return docks, assumed
    if missing == len(docks):
        assumed[f"docks = {DEFAULT_DOCKS} (a fixed default: the file has no dock counts)"] = missing
        return docks.fillna(DEFAULT_DOCKS), assumed
    fill = int(docks.median())
    unreadable = min(int(report.warnings.get(UNREADABLE_DOCKS, 0)), missing)
    if unreadable:
        assumed[f"docks = {fill} (the median) where the count was not a whole number >= 0"] = unreadable
    if missing > unreadable:
        assumed[f"docks = {fill} (the median) where the count was missing"] = missing - unreadable
    return docks.fillna(fill), assumed


ZERO_DOCKS = "docks = 0 (a station without docks; a stored list needs at least 1)"
"""The label under which :func:`baseline_records` counts the stations it leaves out for 0 docks."""


def baseline_records(
    table: pd.DataFrame, report: QualityReport
) -> tuple[list[BaselineStation], dict[str, int], dict[str, int]]:
    """A read station table as the stations of a stored list (``baseline.station_records``), with
    the rows left out and the values assumed, each counted by reason.

    The dock counts are filled as the planner fills them (:func:`fill_dock_counts`). A station
    that then has 0 docks (32 rows of the ``api-2025-05`` vintage) holds no bikes: the planner
    keeps it, a stored list (:class:`~mobility.scenario.expansion.BaselineStation`, ``docks >= 1``)
    leaves it out, counted under :data:`ZERO_DOCKS` (counted after the fill, so a missing count
    filled with a median of 0 is counted too). A station without an id takes its number.

    Parameters
    ----------
    table
        A normalized station table (:func:`stations_from_csv_bytes`, :func:`load_station_list`).
    report
        The quality report of the read that produced it: its dropped rows are counted too.

    Returns
    -------
    tuple[list[BaselineStation], dict[str, int], dict[str, int]]
        The stations, the rows left out by reason (the read's and those with 0 docks) and the
        values assumed by reason (:func:`fill_dock_counts`); the counts omit reasons with none.

    Raises
    ------
    InputError
        A row is not a valid station: ``field`` names it (``(station 2, ST-2).name``, 1-based
        among the table's rows) and ``expected`` is the problem.
    """
    from pydantic import ValidationError

    from mobility.scenario.expansion import BaselineStation

    docks, assumed = fill_dock_counts(table["docks"], report)
    zero = docks.eq(0).to_numpy(bool)
    dropped = {reason: int(n) for reason, n in report.dropped.items() if n}
    if zero.any():
        dropped[ZERO_DOCKS] = int(zero.sum())
    ids = table["station_id"].fillna(table["number"].astype("string"))
    records: list[BaselineStation] = []
    rows = zip(ids, table["name"].fillna(""), table["lat"], table["lon"], docks, zero, strict=True)
    for i, (sid, name, lat, lon, dk, no_docks) in enumerate(rows):
        if no_docks:
            continue
        try:
            records.append(
                BaselineStation(station_id=str(sid), name=str(name), lat=lat, lon=lon, docks=int(dk))
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise InputError(f"(station {i + 1}, {sid}).{where}", err.get("input"), str(err["msg"])) from exc
    return records, dropped, assumed


def load_station_list(
    source: str | Path = "2025-12",
    data_dir: Path | None = None,
    *,
    fill_ids: bool = True,
    field: str = "source",
) -> Loaded[pd.DataFrame]:
    """Load one station list into the normalized station schema.

    Parameters
    ----------
    source
        A vintage name of :data:`STATION_VINTAGES` (``"2018-11"``, ``"2019-12"``, ``"2025-12"``,
        ``"api-2025-05"``, ``"master"``) or the path of a station file in any supported layout,
        including the official OA-13252 download (multi-row header, cp949 or UTF-8). A relative
        path is looked for in the data directory, then in the working directory.
    data_dir
        The data directory (default: resolved by :func:`mobility.config.resolve_data_dir`).
    fill_ids
        Fill a missing ``station_id`` from the number <-> ST-ID lookup
        (:func:`station_number_lookup`) when a data directory is available.
    field
        The name the caller knows ``source`` by (``"baseline.stations"``, ``"--from"``), used in
        the error for a value that is neither a vintage nor a path.

    Returns
    -------
    Loaded[pandas.DataFrame]
        One row per station with the columns of :data:`COLUMNS` and the quality report.

    Raises
    ------
    DataFileError
        Unknown encoding, not a CSV, or the coordinate / key columns are missing.
    DataNotFoundError
        The vintage's file (or the given path) does not exist; the message names ``field`` and
        every place looked in.
    InputError
        ``source`` is neither a vintage nor a path.
    """
    path, label = _resolve_source(source, data_dir, field)
    is_vintage = isinstance(source, str) and source in STATION_VINTAGES
    report = QualityReport(dataset=f"stations_{label}" if is_vintage else f"stations:{label}")
    df = _read_normalized(path, label, report)
    df = _drop_bad_rows(df, report)
    if fill_ids and df["station_id"].isna().any() and df["number"].notna().any():
        try:
            lookup = station_number_lookup(data_dir)
        except DataNotFoundError:
            report.warn("station_id not filled: no data directory for the number lookup", count=len(df))
        else:
            need = df["station_id"].isna() & df["number"].notna()
            mapped = df["number"].map(lookup.set_index("number")["station_id"]).astype("string")
            filled = need & mapped.notna()
            df["station_id"] = df["station_id"].fillna(mapped.where(filled)).astype("string")
            report.warn(
                "station_id unknown (number not in the number-ID lookup)",
                need & ~filled,
                example=df["number"].astype("string"),
            )
    df = _repair_lost_characters(df, data_dir, label, report)
    df = _repair_lost_in_addresses(df, report)
    df = df.loc[:, list(COLUMNS)]
    return Loaded(table=df, report=report, sources=[path])


NAME_SOURCES = ("api-2025-05", "2019-12", "2018-11")
"""Station lists a name with a lost character is repaired from, in this order."""


def _repair_lost_characters(
    df: pd.DataFrame, data_dir: Path | None, label: str, report: QualityReport
) -> pd.DataFrame:
    """``df`` with each name that shows ``?`` for a character its file lost (the 2025-12 list:
    ``수명중?고교``, the ``․`` of ``수명중․고교``; three names) taken from another station list of
    :data:`NAME_SOURCES` that has the same station id and the same name but for those characters.

    Counted in ``report``: the names repaired, and those no other list has (kept as they are).
    """
    lost = df["name"].astype("string").str.contains("?", regex=False).fillna(False).to_numpy(bool)
    if not lost.any():
        return df
    try:
        root = resolve_data_dir(data_dir)
    except DataNotFoundError:
        return df
    relpaths = tuple(STATION_VINTAGES[v] for v in NAME_SOURCES if v != label)
    known = _names_by_id(root, relpaths, files_stamp(root, relpaths))
    out = df.copy()
    names = out["name"].astype("string").tolist()
    ids = out["station_id"].astype("string").tolist()
    fixed = np.zeros(len(out), dtype=bool)
    for i in np.flatnonzero(lost).tolist():
        candidates = known.get(str(ids[i]), []) if pd.notna(ids[i]) else []
        match = next((c for c in candidates if _same_but_lost(str(names[i]), c)), None)
        if match is not None:
            names[i], fixed[i] = match, True
    out["name"] = pd.array(names, dtype="string") if fixed.any() else out["name"]
    index = out.index
    report.warn(
        "name had '?' for a lost character: repaired from another station list",
        pd.Series(fixed, index=index),
        example=out["station_id"].astype("string"),
    )
    report.warn(
        "name has '?' for a lost character (no other station list has it)",
        pd.Series(lost & ~fixed, index=index),
        example=out["station_id"].astype("string"),
    )
    return out


@lru_cache(maxsize=4)
def _names_by_id(
    root: Path, relpaths: tuple[str, ...], stamp: tuple[tuple[str, int, int], ...]
) -> dict[str, list[str]]:
    """The names each station id has in the station lists at ``relpaths`` below ``root`` (read once
    per ``stamp``, the files' versions)."""
    known: dict[str, list[str]] = {}
    for path in (root / r for r in relpaths):
        if not path.is_file():
            continue
        other = _read_normalized(path, path.stem, QualityReport(dataset=f"names_{path.stem}"))
        for sid, name in zip(other["station_id"], other["name"], strict=True):
            if pd.notna(sid) and pd.notna(name):
                known.setdefault(str(sid), []).append(str(name))
    return known


def _repair_lost_in_addresses(df: pd.DataFrame, report: QualityReport) -> pd.DataFrame:
    """``df`` with the ``?`` of its addresses told back where the row itself says what was lost
    (:func:`_address_told_back`: the 2025-12 list's ``서울특별시?마포구?동교로?8`` and ``…308
    종로?시장 입구 옆`` of the station 종로꽃시장 입구 옆). Counted in ``report``: the addresses
    repaired, and those kept with a ``?``."""
    address = df["address"].astype("string")
    lost = address.str.contains("?", regex=False).fillna(False).to_numpy(bool)
    if not lost.any():
        return df
    out = df.copy()
    told = address.tolist()
    names = out["name"].astype("string").tolist()
    for i in np.flatnonzero(lost).tolist():
        told[i] = _address_told_back(str(told[i]), "" if pd.isna(names[i]) else str(names[i]))
    out["address"] = pd.array(told, dtype="string")
    kept = out["address"].str.contains("?", regex=False).fillna(False).to_numpy(bool)
    example = out["station_id"].astype("string").fillna(out["number"].astype("string"))
    report.warn(
        "address had '?' for a lost character: repaired from the station's name or its spaces",
        pd.Series(lost & ~kept, index=out.index),
        example=example,
    )
    report.warn(
        "address has '?' for a lost character (kept as written)",
        pd.Series(kept, index=out.index),
        example=example,
    )
    return out


def _address_told_back(address: str, name: str) -> str:
    """``address`` with each ``?`` its file wrote for a lost character told back where the row
    says what it was: the station's ``name`` standing in it but for those characters
    (``종로?시장 입구 옆`` in the address of 종로꽃시장 입구 옆), and the spaces of an address
    written without any (``서울특별시?마포구?동교로?8``). Any other ``?`` is kept.

    >>> _address_told_back("서울특별시?마포구?동교로?8", "망원2빗물펌프장 앞")
    '서울특별시 마포구 동교로 8'
    >>> _address_told_back("율곡로 지하 308 종로?시장 입구 옆", "종로꽃시장 입구 옆")
    '율곡로 지하 308 종로꽃시장 입구 옆'
    >>> _address_told_back("월드컵로 119?", "SK망원동주유소 건너편")
    '월드컵로 119?'
    """
    out = address
    if "?" not in name and len(name) >= 3:
        for start in range(len(out) - len(name) + 1):
            if _same_but_lost(out[start : start + len(name)], name):
                out = out[:start] + name + out[start + len(name) :]
                break
    if " " not in out:
        out = out.replace("?", " ")
    return out


def _same_but_lost(name: str, candidate: str) -> bool:
    """``candidate`` is ``name`` with each ``?`` of it a character (one for one), and has no ``?``."""
    return (
        "?" not in candidate
        and len(candidate) == len(name)
        and all(a == b or a == "?" for a, b in zip(name, candidate, strict=True))
    )


def _lookup_pairs(data_dir: Path) -> list[pd.DataFrame]:
    pairs: list[pd.DataFrame] = []
    for priority, vintage in enumerate(("api-2025-05", "2018-11")):
        path = data_dir / STATION_VINTAGES[vintage]
        if not path.is_file():
            continue
        df = _read_normalized(path, vintage, QualityReport(dataset=f"lookup_{vintage}"))
        pairs.append(df[["station_id", "number"]].assign(priority=priority * 2, origin=vintage))
    trips = data_dir / TRIPS_WITH_BOTH_KEYS
    if trips.is_file():
        cols = ["RENT_ID", "RENT_STATION_ID", "RTN_ID", "RETURN_STATION_ID"]
        t = pd.read_csv(trips, usecols=cols, dtype="string", encoding="utf-8")
        both = pd.concat(
            [
                pd.DataFrame({"station_id": t["RENT_STATION_ID"], "number": _parse_int(t["RENT_ID"])}),
                pd.DataFrame({"station_id": t["RETURN_STATION_ID"], "number": _parse_int(t["RTN_ID"])}),
            ]
        ).drop_duplicates()
        pairs.append(both.assign(priority=1, origin="trips_2022-01-01"))
    return pairs


@lru_cache(maxsize=4)
def _lookup_cached(
    data_dir: Path, stamp: tuple[tuple[str, int, int], ...]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    pairs = _lookup_pairs(data_dir)
    if not pairs:
        empty = pd.DataFrame({"station_id": pd.Series(dtype="string"), "number": pd.Series(dtype="Int64")})
        return empty, {"pairs": 0}
    allp = pd.concat(pairs, ignore_index=True)
    allp = allp[allp["station_id"].str.fullmatch(_ST_ID.pattern).fillna(False) & allp["number"].notna()]
    distinct = allp.drop_duplicates(["station_id", "number"])
    ids_per_number = distinct.groupby("number")["station_id"].nunique()
    numbers_per_id = distinct.groupby("station_id")["number"].nunique()
    best = allp.sort_values(["priority"], kind="stable").drop_duplicates("number", keep="first")
    best = best.sort_values("number").reset_index(drop=True)
    table = pd.DataFrame(
        {"station_id": best["station_id"].astype("string"), "number": best["number"].astype("Int64")}
    )
    stats = {
        "pairs": len(distinct),
        "numbers": len(table),
        "number_conflicts": int((ids_per_number > 1).sum()),
        "id_conflicts": int((numbers_per_id > 1).sum()),
        "examples": [str(n) for n in ids_per_number[ids_per_number > 1].index[:3]],
    }
    return table, stats


def _stamp(data_dir: Path) -> tuple[tuple[str, int, int], ...]:
    return files_stamp(
        data_dir, [STATION_VINTAGES["api-2025-05"], STATION_VINTAGES["2018-11"], TRIPS_WITH_BOTH_KEYS]
    )


def station_number_lookup_loaded(data_dir: Path | None = None) -> Loaded[pd.DataFrame]:
    """The number <-> ST-ID lookup with its report (conflicts counted as warnings).

    Built from the files that carry both keys: the 2025-05 ``tbCycleStationInfo`` dump (preferred),
    the trips of 2022-01-01 and the 2018-11 list. When the files disagree on a number, the
    preferred file wins and the number is counted under ``"number maps to several ST-IDs"``.
    """
    root = resolve_data_dir(data_dir)
    table, stats = _lookup_cached(root, _stamp(root))
    report = QualityReport(dataset="station_number_lookup", rows_read=int(stats.get("pairs", 0)))
    report.warn("number maps to several ST-IDs", count=int(stats.get("number_conflicts", 0)))
    report.warn("ST-ID maps to several numbers", count=int(stats.get("id_conflicts", 0)))
    if stats.get("examples"):
        report.examples["number maps to several ST-IDs"] = list(stats["examples"])
    # distinct (ID, number) pairs read; pairs superseded by a preferred file are not rows of the table
    report.dropped["pair superseded by a preferred file"] = int(stats.get("pairs", 0)) - len(table)
    if not report.dropped["pair superseded by a preferred file"]:
        del report.dropped["pair superseded by a preferred file"]
    sources = [root / rel for rel, size, _ in _stamp(root) if size >= 0]
    return Loaded(table=table.copy(), report=report, sources=sources)


def station_number_lookup(data_dir: Path | None = None) -> pd.DataFrame:
    """Station number -> ST-ID, one row per number (columns ``station_id``, ``number``).

    ``attrs["number_conflicts"]`` / ``attrs["id_conflicts"]`` count the keys on which the source
    files disagree.
    """
    loaded = station_number_lookup_loaded(data_dir)
    table = loaded.table
    table.attrs["number_conflicts"] = int(loaded.report.warnings.get("number maps to several ST-IDs", 0))
    table.attrs["id_conflicts"] = int(loaded.report.warnings.get("ST-ID maps to several numbers", 0))
    return table


def stations_to_geodataframe(df: pd.DataFrame, crs: str = CRS_WGS84) -> gpd.GeoDataFrame:
    """Points from ``lon``/``lat`` (WGS84), reprojected to ``crs`` (e.g. ``"EPSG:5179"``)."""
    import geopandas as gpd

    for c in ("lat", "lon"):
        if c not in df.columns:
            raise InputError(f"stations.{c}", list(df.columns), "a table with 'lat' and 'lon' columns")
    gdf = gpd.GeoDataFrame(df.copy(), geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=CRS_WGS84)
    if crs != CRS_WGS84:
        gdf = gdf.to_crs(crs)
    return gdf


def _vintage_loader(vintage: str) -> Callable[[Path], Loaded[pd.DataFrame]]:
    def load(data_dir: Path) -> Loaded[pd.DataFrame]:
        return load_station_list(vintage, data_dir)

    load.__name__ = f"load_stations_{vintage}"
    return load


_DESCRIPTIONS = {
    "2018-11": ("Station list OA-13252 as of 2018-11-29 (ST-ID and number)", 1453),
    "2019-12": ("Station list OA-13252 as of 2019-12-09 (with start-of-service dates)", 1540),
    "2025-12": ("Station list OA-13252 as of 2025-12 (LCD/QR docks; the best current list)", 2799),
    "api-2025-05": ("OpenAPI tbCycleStationInfo dump, about 2025-05 (3 rows with zero coordinates)", 3153),
    "master": ("Station master OA-21235, every ST-ID ever issued (77 with zero coordinates)", 3344),
}

DATASETS: list[DatasetSpec] = [
    DatasetSpec(
        name=f"stations_{vintage}",
        family="stations",
        relpath=STATION_VINTAGES[vintage],
        description=desc,
        load=_vintage_loader(vintage),
        expected_rows=expected,
    )
    for vintage, (desc, expected) in _DESCRIPTIONS.items()
]
"""The station datasets of the data directory, for the catalog."""


MASTER_COPY_RELPATH = "layers/seoul_bike_stations_master_utf8.csv"
"""An older copy of the OA-21235 master (astrataraxia/Ddareungi_analysis, 3,385 rows, 13 with zero
coordinates; about 115 coordinates differ from ``master``, apparently filled in)."""


def _load_master_copy(data_dir: Path) -> Loaded[pd.DataFrame]:
    loaded = load_station_list(Path(data_dir) / MASTER_COPY_RELPATH, data_dir)
    loaded.report.dataset = "stations_master-copy-3385"
    return loaded


DATASETS.append(
    DatasetSpec(
        name="stations_master-copy-3385",
        family="stations",
        relpath=MASTER_COPY_RELPATH,
        description="Older copy of the OA-21235 master (3,385 rows; 13 with zero coordinates)",
        load=_load_master_copy,
        expected_rows=3372,
    )
)


def iter_vintages() -> Iterable[str]:
    """The vintage names, oldest first."""
    return iter(STATION_VINTAGES)
