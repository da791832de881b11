"""Wiring of the demand layer to the real data: loaders in, cached Parquet tables out.

The demand algorithms (:mod:`~mobility.demand.profiles`, :mod:`~mobility.demand.inventory`,
:mod:`~mobility.demand.snapshot`, :mod:`~mobility.demand.potential`) take tables and arrays; this
module fetches those tables with the ``mobility.sources`` loaders and keeps the derived station
demand table in the cache (``<cache>/demand/<key>.profiles.parquet``, ``.od.parquet`` and
``.meta.json``, written in that order, each atomically; an entry is complete only with all three),
keyed on the fingerprints of every Ttareungi file and the profile parameters.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from mobility.cache import cache_key, load_or_discard
from mobility.config import cache_dir, resolve_data_dir
from mobility.demand.profiles import ProfileParams, StationProfiles, build_profiles
from mobility.io import atomic_path, atomic_write_json
from mobility.quality import QualityReport

TRIP_DATASETS: tuple[str, ...] = ("2016-03", "2018-sample", "2022-01-01")
"""Trip datasets the profiles are built from (names of ``mobility.sources.trips.load_trips``)."""

STATION_SOURCE = "2025-12"
_SCHEMA = 2  # bump when the profile table changes meaning


def _inputs(data_dir: Path) -> list[Path]:
    folder = data_dir / "ttareungi"
    return sorted(p for p in folder.glob("*.csv")) if folder.is_dir() else []


def profile_inputs(data_dir: Path | str | None = None) -> list[Path]:
    """The files the demand profiles are built from (every Ttareungi CSV of the data folder: trips,
    usage, station lists), the inputs of their cache key; for provenance."""
    return _inputs(resolve_data_dir(data_dir))


def load_stations(data_dir: Path | None = None) -> pd.DataFrame:
    """The 2025-12 station list (number, station_id, name, gu, lat, lon, docks, ...)."""
    from mobility.sources.stations import load_station_list

    return load_station_list(STATION_SOURCE, data_dir=data_dir).table


def load_trip_tables(
    data_dir: Path | None = None, datasets: tuple[str, ...] = TRIP_DATASETS
) -> dict[str, Any]:
    """Every trip dataset as a normalized table, by name."""
    from mobility.sources.trips import load_trips

    return {name: load_trips(name, data_dir=data_dir).table for name in datasets}


def load_usage(data_dir: Path | None = None) -> pd.DataFrame:
    """2023 monthly rentals and returns per station (number, month ``YYYY-MM``, rentals, returns)."""
    from mobility.sources.usage import load_station_monthly_usage

    return normalize_usage(load_station_monthly_usage(data_dir=data_dir).table)


def normalize_usage(table: pd.DataFrame) -> pd.DataFrame:
    """Accept the usage loader's columns with small naming differences."""
    u = table.copy()
    if "month" in u.columns:
        m = u["month"].astype("string").str.replace(r"^(\d{4})-?(\d{2}).*$", r"\1-\2", regex=True)
        u["month"] = m
    return u


def load_profiles(
    data_dir: Path | str | None = None,
    *,
    params: ProfileParams | None = None,
    rebuild: bool = False,
) -> StationProfiles:
    """The station demand profiles, from the cache or built from the real data.

    Parameters
    ----------
    data_dir
        Seoul data folder (default: the usual search).
    params
        Profile estimation parameters.
    rebuild
        Ignore a cached table and build again.
    """
    params = params or ProfileParams()
    root = resolve_data_dir(data_dir)
    key = cache_key(_inputs(root), schema=_SCHEMA, params=asdict(params))
    folder = cache_dir("demand")
    table_path = folder / f"{key}.profiles.parquet"
    od_path = folder / f"{key}.od.parquet"
    meta_path = folder / f"{key}.meta.json"
    # meta.json is written last (each file atomically): an entry without it was interrupted, and
    # an entry whose files cannot be read (cut short, an interrupted copy) loses its meta.json
    # through ``load_or_discard``, so it is built again
    if not rebuild and table_path.exists() and od_path.exists():

        def load(meta: Path) -> StationProfiles:
            doc = json.loads(meta.read_text(encoding="utf-8"))
            prof = StationProfiles.from_frame(pd.read_parquet(table_path), pd.read_parquet(od_path))
            return StationProfiles(
                stations=prof.stations,
                rent=prof.rent,
                ret=prof.ret,
                od=prof.od,
                alpha=doc.get("alpha", {}),
                report=_report_from_dict(doc.get("report")),
            )

        cached = load_or_discard(meta_path, load)
        if cached is not None:
            return cached
    prof = build_profiles(load_trip_tables(root), load_usage(root), load_stations(root), params=params)
    write_profiles(prof, table_path, od_path)
    atomic_write_json(meta_path, {"alpha": prof.alpha, "report": prof.report.to_dict()})  # last
    return prof


def _report_from_dict(doc: dict[str, Any] | None) -> QualityReport:
    if not doc:
        return QualityReport("demand_profiles")
    return QualityReport(
        dataset=str(doc.get("dataset", "demand_profiles")),
        rows_read=int(doc.get("rows_read", 0)),
        dropped=Counter(doc.get("dropped", {})),
        warnings=Counter(doc.get("warnings", {})),
        examples=dict(doc.get("examples", {})),
    )


def write_profiles(prof: StationProfiles, table_path: Path, od_path: Path | None = None) -> None:
    """Write the station demand table (and the OD table) as Parquet, atomically."""
    with atomic_path(table_path) as tmp:
        prof.to_frame().to_parquet(tmp, index=False)
    if od_path is not None:
        with atomic_path(od_path) as tmp:
            prof.od.to_parquet(tmp, index=False)
