"""Other map layers: subway stations (demand generators) and the bicycle-road network.

Files (relative to the data directory; see ``GEO_SOURCES.md``):

* ``layers/seoul_subway_stations.json`` — 771 station–line records (역사마스터 정보) of the capital
  region; 402 fall inside Seoul, 307 distinct station names there.
* ``layers/seoul_bike_lanes.geojson`` — 1,359 bike-road (자전거도로) MultiLineStrings from Seoul
  Smart Map, with road names and lane types.
* ``osm/bike_roads_2022/bike-roads.shp`` — the 2022 bicycle-road link network, 12,631
  LineStrings with node topology (``st_nd_id``/``ed_nd_id``) and the ``track`` type code.

All geometry is EPSG:4326; lengths are computed in EPSG:5179.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from mobility.errors import DataFileError
from mobility.quality import QualityReport
from mobility.sources.base import CRS_METRIC, CRS_WGS84, DatasetSpec, Loaded, data_file, family_datasets
from mobility.sources.boundaries import seoul_boundary

__all__ = [
    "BIKE_LANES_RELPATH",
    "BIKE_ROADS_RELPATH",
    "DATASETS",
    "SUBWAY_RELPATH",
    "distinct_subway_stations",
    "load_bike_lanes",
    "load_bike_roads",
    "load_subway_stations",
]

SUBWAY_RELPATH = "layers/seoul_subway_stations.json"
BIKE_LANES_RELPATH = "layers/seoul_bike_lanes.geojson"
BIKE_ROADS_RELPATH = "osm/bike_roads_2022/bike-roads.shp"


def _read_vector(path: Path, required: list[str], columns: list[str] | None = None) -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_file(path, engine="pyogrio", columns=columns)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise DataFileError(path, f"cannot read as a vector layer ({exc})") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataFileError(path, f"missing column(s) {missing}; found {[c for c in frame.columns]}")
    if frame.crs is None:
        frame = frame.set_crs(CRS_WGS84)
    elif frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(CRS_WGS84)
    return frame


def _drop_bad_geometry(frame: gpd.GeoDataFrame, report: QualityReport, label: str) -> gpd.GeoDataFrame:
    empty = frame.geometry.isna() | frame.geometry.is_empty
    report.drop("missing or empty geometry", empty, example=frame[label])
    return frame[~empty.to_numpy()]


def load_subway_stations(
    data_dir: Path | str | None = None, seoul_only: bool = True, *, distinct: bool = False
) -> Loaded[gpd.GeoDataFrame]:
    """Subway and rail stations, one record per station and line.

    Parameters
    ----------
    data_dir
        Data directory; ``None`` resolves it.
    seoul_only
        Keep only stations inside Seoul (the union of the 25 gu polygons); the others are
        counted in the report as dropped ``"outside Seoul"``.
    distinct
        Return :func:`distinct_subway_stations` of the result (one row per station name).

    Returns
    -------
    Loaded[geopandas.GeoDataFrame]
        ``name`` (statn_nm), ``line`` (route, e.g. ``2호선``), ``station_code`` (statn_id, str),
        ``lon``, ``lat``, point ``geometry`` (EPSG:4326). Seoul: 402 records, 307 names.
        Records with missing or zero coordinates are dropped and counted.
    """
    path = data_file(data_dir, SUBWAY_RELPATH, "subway stations")
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(path, f"cannot be read as a UTF-8 JSON list ({exc})") from exc
    if not isinstance(records, list):
        raise DataFileError(path, f"expected a JSON list of station records, got {type(records).__name__}")
    raw = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    required = ["statn_nm", "statn_id", "route", "crdnt_x", "crdnt_y"]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise DataFileError(path, f"missing field(s) {missing}; found {list(raw.columns)}")
    report = QualityReport("layers_subway_stations", rows_read=len(raw))
    lon = pd.to_numeric(raw["crdnt_x"], errors="coerce")
    lat = pd.to_numeric(raw["crdnt_y"], errors="coerce")
    bad = lon.isna() | lat.isna() | (lon == 0) | (lat == 0)
    report.drop("missing or zero coordinates", bad, example=raw["statn_nm"])
    keep = ~bad
    table = gpd.GeoDataFrame(
        {
            "name": raw["statn_nm"].astype(str).str.strip(),
            "line": raw["route"].astype(str).str.strip(),
            "station_code": raw["statn_id"].astype(str).str.strip(),
            "lon": lon.astype("float64"),
            "lat": lat.astype("float64"),
        }
    )[keep.to_numpy()]
    table = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=CRS_WGS84)
    if seoul_only:
        inside = table.geometry.covered_by(seoul_boundary(data_dir))
        report.drop("outside Seoul", ~inside, example=table["name"])
        table = table[inside.to_numpy()]
    table = table.reset_index(drop=True)
    if distinct:
        table = distinct_subway_stations(table)
    return Loaded(table, report, [path])


def distinct_subway_stations(stations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per station name, with the lines it serves.

    Parameters
    ----------
    stations
        Output of :func:`load_subway_stations` (one record per station and line).

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, ``lines`` (sorted line names joined with ``", "``), ``n_lines``, ``n_records``
        (source records merged; a few stations are listed twice on one line),
        ``station_codes`` (joined), ``lon``/``lat`` (mean of the line records), ``spread_m``
        (largest distance in metres from that mean to a line record: transfer stations'
        platforms lie apart), point ``geometry`` (EPSG:4326), sorted by name.
    """
    metric = stations.to_crs(CRS_METRIC)
    work = pd.DataFrame(
        {
            "name": stations["name"],
            "line": stations["line"],
            "station_code": stations["station_code"],
            "lon": stations["lon"],
            "lat": stations["lat"],
            "x": metric.geometry.x,
            "y": metric.geometry.y,
        }
    )
    grouped = work.groupby("name", sort=True)
    out = pd.DataFrame(
        {
            "lines": grouped["line"].agg(lambda s: ", ".join(sorted(set(s)))),
            "n_lines": grouped["line"].nunique(),
            "n_records": grouped["line"].size(),
            "station_codes": grouped["station_code"].agg(lambda s: ", ".join(sorted(set(s)))),
            "lon": grouped["lon"].mean(),
            "lat": grouped["lat"].mean(),
        }
    )
    cx = work["name"].map(grouped["x"].mean())
    cy = work["name"].map(grouped["y"].mean())
    dist = pd.Series(np.hypot(work["x"] - cx, work["y"] - cy), index=work.index)
    out["spread_m"] = dist.groupby(work["name"]).max().round(1)
    out = out.reset_index()
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs=CRS_WGS84)


def load_bike_lanes(data_dir: Path | str | None = None) -> Loaded[gpd.GeoDataFrame]:
    """Seoul bike roads (자전거도로) from Seoul Smart Map: 1,359 MultiLineStrings.

    Returns
    -------
    Loaded[geopandas.GeoDataFrame]
        ``lane_id`` (CONTS_ID), ``name`` (CONTS_NAME, road name), ``lane_type`` (SUB_NAME, e.g.
        ``(A)자전거 전용도로``), ``addr_old``, ``addr_new``, ``length_m`` (EPSG:5179 length),
        ``geometry`` (EPSG:4326). Features without geometry are dropped and counted.
    """
    path = data_file(data_dir, BIKE_LANES_RELPATH, "bike lanes")
    cols = ["CONTS_ID", "CONTS_NAME", "ADDR_OLD", "ADDR_NEW", "SUB_NAME"]
    raw = _read_vector(path, cols, columns=cols)
    report = QualityReport("layers_bike_lanes", rows_read=len(raw))
    raw = _drop_bad_geometry(raw, report, "CONTS_ID")
    table = gpd.GeoDataFrame(
        {
            "lane_id": raw["CONTS_ID"].astype("string"),
            "name": raw["CONTS_NAME"].astype("string"),
            "lane_type": raw["SUB_NAME"].astype("string"),
            "addr_old": raw["ADDR_OLD"].astype("string"),
            "addr_new": raw["ADDR_NEW"].astype("string"),
        },
        geometry=raw.geometry.to_numpy(),
        crs=CRS_WGS84,
    ).reset_index(drop=True)
    table.insert(5, "length_m", table.to_crs(CRS_METRIC).length.round(1).to_numpy())
    report.warn("duplicate lane_id", table["lane_id"].duplicated(keep=False), example=table["lane_id"])
    return Loaded(table, report, [path])


_ROAD_COLUMNS = [
    "LINK_ID", "ST_ND_ID", "ED_ND_ID", "LENGTH", "ST_DIR", "ED_DIR", "LINK_CATE", "ROAD_CATE",
    "LINK_CATE2", "ROAD_NO", "ONEWAY", "LANE", "ROAD_NAME", "ALTITUDE", "TRACK",
]  # fmt: skip


def load_bike_roads(data_dir: Path | str | None = None) -> Loaded[gpd.GeoDataFrame]:
    """The 2022 Seoul bicycle-road link network (shapefile): 12,631 LineStrings.

    Returns
    -------
    Loaded[geopandas.GeoDataFrame]
        Source columns in lower case (``link_id``, ``st_nd_id``, ``ed_nd_id``,
        ``link_length_m`` (source ``LENGTH``, m, as given), ``oneway``, ``lane``, ``road_name``,
        ``track`` (bike-road type code; meaning not documented), …), plus ``length_m`` (EPSG:5179
        geometry length) and ``geometry`` (EPSG:4326). Links without geometry are dropped and counted.
    """
    path = data_file(data_dir, BIKE_ROADS_RELPATH, "bicycle-road network 2022")
    raw = _read_vector(path, _ROAD_COLUMNS, columns=_ROAD_COLUMNS)
    report = QualityReport("layers_bike_roads_2022", rows_read=len(raw))
    raw = _drop_bad_geometry(raw, report, "LINK_ID")
    attrs = pd.DataFrame({c.lower(): raw[c].to_numpy() for c in _ROAD_COLUMNS})
    # "length" would shadow GeoDataFrame.length (the geometry length) on attribute access
    attrs = attrs.rename(columns={"length": "link_length_m"})
    attrs["road_name"] = attrs["road_name"].astype("string")
    attrs["road_no"] = attrs["road_no"].astype("string")
    table = gpd.GeoDataFrame(attrs, geometry=raw.geometry.to_numpy(), crs=CRS_WGS84)
    table["length_m"] = table.to_crs(CRS_METRIC).length.round(1).to_numpy()
    table = table[[*attrs.columns, "length_m", "geometry"]]
    report.warn("duplicate link_id", table["link_id"].duplicated(keep=False), example=table["link_id"])
    return Loaded(table, report, [path])


DATASETS: list[DatasetSpec] = family_datasets(
    "layers",
    [
        (
            "layers_subway_stations",
            SUBWAY_RELPATH,
            "Subway/rail station-line records inside Seoul (402 of 771; 307 distinct names)",
            load_subway_stations,
            402,
        ),
        (
            "layers_bike_lanes",
            BIKE_LANES_RELPATH,
            "Seoul bike roads (자전거도로) from Seoul Smart Map, 1,359 MultiLineStrings",
            load_bike_lanes,
            1_359,
        ),
        (
            "layers_bike_roads_2022",
            BIKE_ROADS_RELPATH,
            "Seoul bicycle-road link network 2022 (shapefile), 12,631 links",
            load_bike_roads,
            12_631,
        ),
    ],
)
