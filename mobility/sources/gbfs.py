"""GBFS feeds: ``station_information.json`` and ``station_status.json`` (v2.3 and v3.0).

The two versions differ in a few places this module absorbs:

* v3.0 localizes names (``name: [{"text": ..., "language": "ko"}]``); v2.3 has plain strings.
  :func:`localized_text` picks the preferred language (Korean first, then English, then the first).
* v3.0 writes ``last_updated`` / ``last_reported`` as RFC 3339 strings; v2.3 as POSIX seconds.
* v3.0 counts ``num_vehicles_available``; v2.3 ``num_bikes_available``.
* v2.3 may write booleans as ``0``/``1``.

:func:`parse_station_information` returns the normalized station schema of
:mod:`mobility.sources.stations` (``docks`` = ``capacity``); :func:`parse_station_status` returns
``station_id, bikes, docks_available, is_renting, is_returning, is_installed, last_reported``
(UTC timestamps).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mobility.errors import InputError
from mobility.quality import QualityReport
from mobility.sources.base import DatasetSpec, Loaded, load_json_file
from mobility.sources.stations import (
    COLUMNS,
    SEOUL_BBOX,
    _drop_bad_rows,
    _gu_from_address,
)

__all__ = [
    "DATASETS",
    "STATUS_COLUMNS",
    "feed_version",
    "load_station_information",
    "load_station_status",
    "localized_text",
    "parse_station_information",
    "parse_station_status",
]

STATUS_COLUMNS: tuple[str, ...] = (
    "station_id",
    "bikes",
    "docks_available",
    "is_renting",
    "is_returning",
    "is_installed",
    "last_reported",
)
"""Columns of :func:`parse_station_status`."""

SUPPORTED_VERSIONS = ("2.3", "3.0")

DATASETS: list[DatasetSpec] = []
"""No GBFS feed is part of the shared data directory (Seoul does not publish one); the parsers
read feeds given by path, e.g. those written by :mod:`mobility.export.gbfs`."""


def feed_version(doc: dict[str, Any]) -> str:
    """``"2.3"`` or ``"3.0"`` from the feed's ``version`` (guessed from the shape when absent)."""
    version = str(doc.get("version", "")).strip()
    if version:
        major = version.split(".")[0]
        if major == "3":
            return "3.0"
        if major in ("1", "2"):
            return "2.3"
        raise InputError("gbfs.version", version, f"one of {', '.join(SUPPORTED_VERSIONS)}")
    return "3.0" if isinstance(doc.get("last_updated"), str) else "2.3"


def localized_text(value: Any, prefer: Sequence[str] = ("ko", "en")) -> str | None:
    """A plain string from a v2.3 string or a v3.0 ``[{text, language}]`` array."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        items = [v for v in value if isinstance(v, dict) and "text" in v]
        for lang in prefer:
            for item in items:
                if str(item.get("language", "")).lower().split("-")[0] == lang:
                    return str(item["text"])
        return str(items[0]["text"]) if items else None
    return str(value)


def _stations(doc: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        raise InputError(what, type(doc).__name__, "a GBFS feed object with 'data'")
    data = doc.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("stations"), list):
        raise InputError(
            f"{what}.data.stations", None if data is None else sorted(data), "a list of stations"
        )
    stations = data["stations"]
    if not all(isinstance(s, dict) for s in stations):
        raise InputError(f"{what}.data.stations", "non-object entries", "a list of objects")
    return stations


def _timestamps(values: pd.Series) -> pd.Series:
    """POSIX seconds (v2.3) or RFC 3339 strings (v3.0) -> UTC timestamps."""
    numeric = pd.to_numeric(values, errors="coerce")
    as_posix = pd.to_datetime(numeric, unit="s", utc=True)
    as_text = pd.to_datetime(values.where(numeric.isna()), utc=True, errors="coerce", format="ISO8601")
    return as_posix.fillna(as_text)


def _bools(values: pd.Series) -> pd.Series:
    mapping = {
        True: True,
        False: False,
        "true": True,
        "false": False,
        "1": True,
        "0": False,
    }
    return values.map(lambda v: mapping.get(v.lower() if isinstance(v, str) else v, pd.NA)).astype("boolean")


def parse_station_information(
    doc: dict[str, Any],
    *,
    source: str | None = None,
    bbox: tuple[float, float, float, float] | None = SEOUL_BBOX,
) -> Loaded[pd.DataFrame]:
    """Normalize a ``station_information.json`` document (v2.3 or v3.0).

    Parameters
    ----------
    doc
        The parsed JSON feed.
    source
        Value of the ``source`` column (default ``"gbfs-<version>"``).
    bbox
        Stations outside it are dropped (``None`` keeps every station).

    Returns
    -------
    Loaded[pandas.DataFrame]
        The station schema (:data:`mobility.sources.stations.COLUMNS`); ``number`` comes from a
        numeric ``short_name`` (or the ``"102. "`` name prefix), ``gu`` from ``region_id`` when it
        is a Korean district name (else from the address), ``docks`` from ``capacity``.
    """
    stations = _stations(doc, "station_information")  # a feed object, before its version is read
    version = feed_version(doc)
    label = source or f"gbfs-{version}"
    report = QualityReport(dataset=f"stations_{label}", rows_read=len(stations))
    n = len(stations)
    raw = pd.DataFrame(
        {
            "station_id": [s.get("station_id") for s in stations],
            "name": [localized_text(s.get("name")) for s in stations],
            "short_name": [localized_text(s.get("short_name")) for s in stations],
            "address": [localized_text(s.get("address")) for s in stations],
            "region_id": [s.get("region_id") for s in stations],
            "lat": [s.get("lat") for s in stations],
            "lon": [s.get("lon") for s in stations],
            "capacity": [s.get("capacity") for s in stations],
        },
        index=pd.RangeIndex(n),
        dtype="object",
    )
    name = raw["name"].astype("string").str.strip()
    prefix = name.str.extract(r"^\s*(\d+)\s*\.\s+", expand=False)
    short = raw["short_name"].astype("string").str.strip()
    number = pd.to_numeric(short.where(short.str.fullmatch(r"\d+").fillna(False)), errors="coerce")
    number = number.fillna(pd.to_numeric(prefix, errors="coerce")).astype("Int64")
    name = name.str.replace(r"^\s*\d+\s*\.\s+", "", regex=True)
    region = raw["region_id"].astype("string")
    address = raw["address"].astype("string")
    gu = region.where(region.str.fullmatch(r"[가-힣]{1,4}구").fillna(False)).fillna(_gu_from_address(address))
    capacity = pd.to_numeric(raw["capacity"], errors="coerce").astype("Int64")
    report.warn("capacity missing or unparseable", capacity.isna())
    df = pd.DataFrame(
        {
            "station_id": raw["station_id"].astype("string"),
            "number": number,
            "name": name,
            "gu": gu.astype("string"),
            "address": address,
            "lat": pd.to_numeric(raw["lat"], errors="coerce").astype("float64"),
            "lon": pd.to_numeric(raw["lon"], errors="coerce").astype("float64"),
            "docks": capacity,
            "dock_type": pd.Series(pd.NA, index=raw.index, dtype="string"),
            "installed_on": pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]"),
            "source": pd.Series([label] * n, index=raw.index, dtype="string"),
        }
    )
    df["_number_raw"] = raw["station_id"].astype("string")
    df["_lat_raw"] = raw["lat"].astype("string")
    df["_lon_raw"] = raw["lon"].astype("string")
    no_id = (df["station_id"].isna() | (df["station_id"].str.strip() == "")).fillna(True).astype(bool)
    report.drop("no station_id", no_id)
    df = df.loc[~no_id]
    # GBFS IDs are unique keys: a station without ST-ID is still a station here
    out = _drop_bad_rows(df, report, bbox)
    return Loaded(table=out.loc[:, list(COLUMNS)], report=report)


def parse_station_status(doc: dict[str, Any]) -> Loaded[pd.DataFrame]:
    """Normalize a ``station_status.json`` document (v2.3 or v3.0).

    Returns
    -------
    Loaded[pandas.DataFrame]
        :data:`STATUS_COLUMNS`: ``bikes`` (``num_vehicles_available`` in v3.0,
        ``num_bikes_available`` in v2.3), ``docks_available``, the three flags (nullable booleans)
        and ``last_reported`` (UTC). Rows without ``station_id`` or with a duplicate one are dropped.
    """
    stations = _stations(doc, "station_status")  # a feed object, before its version is read
    version = feed_version(doc)
    report = QualityReport(dataset=f"station_status_gbfs-{version}", rows_read=len(stations))
    bikes_key = "num_vehicles_available" if version == "3.0" else "num_bikes_available"

    def get(key: str, alt: str | None = None) -> list[Any]:
        return [s.get(key, s.get(alt) if alt else None) for s in stations]

    raw = pd.DataFrame(
        {
            "station_id": get("station_id"),
            "bikes": get(bikes_key, "num_bikes_available"),
            "docks_available": get("num_docks_available"),
            "is_renting": get("is_renting"),
            "is_returning": get("is_returning"),
            "is_installed": get("is_installed"),
            "last_reported": get("last_reported"),
        },
        dtype="object",
    )
    df = pd.DataFrame(
        {
            "station_id": raw["station_id"].astype("string"),
            "bikes": pd.to_numeric(raw["bikes"], errors="coerce").astype("Int64"),
            "docks_available": pd.to_numeric(raw["docks_available"], errors="coerce").astype("Int64"),
            "is_renting": _bools(raw["is_renting"]),
            "is_returning": _bools(raw["is_returning"]),
            "is_installed": _bools(raw["is_installed"]),
            "last_reported": _timestamps(raw["last_reported"]),
        }
    )
    no_id = df["station_id"].isna() | (df["station_id"].str.strip() == "")
    report.drop("no station_id", no_id.fillna(True))
    dup = ~no_id & df["station_id"].duplicated(keep="first")
    report.drop("duplicate station_id", dup.fillna(False), example=df["station_id"])
    report.warn("bikes missing or unparseable", df["bikes"].isna() & ~no_id)
    report.warn("docks_available missing or unparseable", df["docks_available"].isna() & ~no_id)
    negative = (df["bikes"] < 0) | (df["docks_available"] < 0)
    report.drop("negative count", negative.fillna(False) & ~no_id & ~dup, example=df["station_id"])
    keep = ~(no_id | dup | negative.fillna(False))
    out = df.loc[keep.astype(bool)].reset_index(drop=True)
    return Loaded(table=out.loc[:, list(STATUS_COLUMNS)], report=report)


def load_station_information(
    path: Path | str, *, bbox: tuple[float, float, float, float] | None = SEOUL_BBOX
) -> Loaded[pd.DataFrame]:
    """Read a ``station_information.json`` file (see :func:`parse_station_information`)."""
    return load_json_file(Path(path), lambda doc: parse_station_information(doc, bbox=bbox))


def load_station_status(path: Path | str) -> Loaded[pd.DataFrame]:
    """Read a ``station_status.json`` file (see :func:`parse_station_status`)."""
    return load_json_file(Path(path), parse_station_status)
