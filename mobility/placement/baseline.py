"""The scenario's baseline as the planner reads it: its stations and its districts' residents.

The stations of a published vintage come from :func:`mobility.sources.stations.load_station_list`;
stations sent as content (``baseline.station_records``) are placed in their districts here
(:func:`uploaded_stations`, :func:`districts_at`). The residents per district come from the
scenario's population source (:func:`district_population`). The planner's inputs stage
(:func:`mobility.placement.pipeline.build_inputs`) and its pre-flight check
(:mod:`mobility.placement.preflight`) both read them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mobility.errors import InputError
from mobility.scenario.expansion import BaselineStation, ExpansionScenario

__all__ = ["district_population", "districts_at", "districts_in", "uploaded_stations"]


def district_population(sc: ExpansionScenario, data_dir: Path | None) -> tuple[pd.Series, list[Path]]:
    """Residents per gu from the scenario's population source, and the file they were read from."""
    from mobility.sources.population import GRID_YEAR, load_gu_population

    src = sc.population.source
    if src == "grid":
        if sc.population.year not in (None, GRID_YEAR):
            raise InputError(
                "population.year", sc.population.year, f"{GRID_YEAR} (the grid's only year) or none"
            )
        loaded = load_gu_population("grid", GRID_YEAR, data_dir=data_dir)
    elif sc.population.year is None:
        raise InputError("population.year", None, f"a year for population.source = {src!r}")
    else:
        loaded = load_gu_population(src, sc.population.year, sc.population.quarter, data_dir=data_dir)
    return loaded.table.astype(float), loaded.sources


def districts_at(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    data_dir: Path | None = None,
    *,
    nearest_within_m: float = 0.0,
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    """The district (gu) and dong whose polygon holds each point; ``""`` outside every polygon.

    With ``nearest_within_m`` > 0 a point outside every polygon takes the nearest one within that
    distance (stations just across the city line, which Seoul runs and counts as its own).
    """
    from mobility.sources.boundaries import load_dongs

    return districts_in(lon, lat, load_dongs(data_dir).table, nearest_within_m)


def districts_in(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], polygons: Any, nearest_within_m: float = 0.0
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    """The gu and dong of each point among the dong ``polygons`` (a ``load_dongs`` table), as
    :func:`districts_at` gives them."""
    import geopandas as gpd

    dongs = polygons[["gu_kr", "dong_kr", "geometry"]]
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=dongs.crs)
    joined = gpd.sjoin(pts, dongs, how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")].sort_index()
    gu = joined["gu_kr"].fillna("").astype(str).to_numpy()
    dong = joined["dong_kr"].fillna("").astype(str).to_numpy()
    miss = np.flatnonzero(gu == "")
    if nearest_within_m > 0 and len(miss):
        near = gpd.sjoin_nearest(
            pts.iloc[miss].to_crs(5179), dongs.to_crs(5179), how="left", max_distance=nearest_within_m
        )
        near = near[~near.index.duplicated(keep="first")].reindex(pts.index[miss])
        gu[miss] = near["gu_kr"].fillna("").astype(str).to_numpy()
        dong[miss] = near["dong_kr"].fillna("").astype(str).to_numpy()
    return gu, dong


def uploaded_stations(records: Sequence[BaselineStation], data_dir: Path | None = None) -> pd.DataFrame:
    """Stations sent as content, in the normalized station schema, each placed in its district.

    The district (``gu``) is the dong polygon a station's position falls in, as for candidates,
    or the nearest one within 1 km (Seoul runs a few stations just across the city line). The
    station number, which the rider simulation matches trips and demand profiles on, is that of
    the station's id (:func:`mobility.simulation.data.station_numbers`).

    Raises
    ------
    InputError
        A station lies outside every district polygon (named by its index and id).
    """
    from mobility.simulation.data import station_numbers
    from mobility.sources.stations import COLUMNS

    frame = pd.DataFrame([r.model_dump() for r in records])
    gu, _dong = districts_at(
        frame["lon"].to_numpy(np.float64),
        frame["lat"].to_numpy(np.float64),
        data_dir,
        nearest_within_m=1000.0,
    )
    outside = np.flatnonzero(gu == "")
    if len(outside):
        i = int(outside[0])
        raise InputError(
            f"baseline.station_records[{i}]",
            f"{records[i].station_id} at ({records[i].lat}, {records[i].lon})",
            f"a position in or within 1 km of Seoul's districts ({len(outside)} station(s) farther)",
        )
    out = pd.DataFrame({c: pd.Series([pd.NA] * len(frame), dtype="string") for c in COLUMNS})
    out["station_id"] = frame["station_id"].astype("string")
    out["number"] = station_numbers(out["station_id"], data_dir)
    out["name"] = frame["name"].astype("string")
    out["gu"] = pd.array(gu, dtype="string")
    out["lat"] = frame["lat"].astype(float)
    out["lon"] = frame["lon"].astype(float)
    out["docks"] = frame["docks"].astype("Int64")
    out["source"] = "uploaded"
    return out
