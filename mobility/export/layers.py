"""The neutral layer model every map writer takes: :class:`MapLayers`.

Writers (GeoJSON, GeoPackage, GBFS, CSV, HTML, PNG/SVG) never see a ``Plan`` or a
``RebalancingPlan``; they see seven GeoDataFrames in EPSG:4326 built once here:

``existing_stations``
    station_id, number, name, gu, docks, bikes, bikes_estimated (bool), kind="existing".
``new_stations``
    station_id, name, gu, dong, docks, bikes, rank, population_newly_covered, predicted_trips,
    reason, kind="new" (the plan's own fields, :class:`mobility.placement.plan.NewStation`).
``coverage``
    walking catchments dissolved per district and kind (``existing``/``new``).
``districts``
    gu_kr, gu_en, code, population, stations, docks, bikes, bikes_per_10k, coverage_share and,
    when a baseline is known, ``*_before`` and ``*_change`` columns. ``bikes_per_10k`` is
    ``bikes / population * 10,000`` (:func:`mobility.placement.plan.per_10k`); the population is
    the 100 m grid's by gu for the current network (:data:`POPULATION_SOURCE`, a plan's default)
    and a plan's own (its ``population_source``) for a plan.
``routes``
    truck_id, truck, n_stops, bikes_picked, bikes_dropped, distance_km, color (LineString).
``depots``
    depot_id, name, trucks (how many of the depot's trucks have stops), where routes start and end.
``stops``
    truck_id, seq, station_id, name, arrival, quantity (+ pick-up, - drop-off), load_after.

Builders: :func:`layers_from_network` (the current network from the data directory),
:func:`layers_from_plan` and :func:`layers_from_routes` (thin adapters over the result objects
or their JSON), :func:`load_layers` (CLI/API entry: a path or ``"current"``).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import ValidationError
from shapely.geometry import LineString

from mobility.cache import files_stamp
from mobility.errors import DataFileError, InputError
from mobility.export.routes import route_coordinates
from mobility.export.style import ROUTE_COLORS
from mobility.placement.coverage import walking_coverage
from mobility.placement.plan import CityKPI, DistrictKPI, Plan, per_10k
from mobility.rebalancing.plan import RebalancingPlan
from mobility.rebalancing.problem import RebalancingProblem
from mobility.sources.base import CRS_METRIC, CRS_WGS84

LAYER_NAMES = (
    "existing_stations", "new_stations", "coverage", "districts", "routes", "depots", "stops",
)  # fmt: skip
"""Layer names, in drawing order from the bottom (districts first when drawing)."""

DEFAULT_FLEET = 45_000
"""Bikes in service (news, 2024-05; ``ttareungi/system_facts_from_news.csv``).

No city-wide per-station bike snapshot exists in the data, so the current network's bikes are
this fleet spread over stations in proportion to docks; such rows carry ``bikes_estimated``.
"""

DEFAULT_CATCHMENT_M = 300.0
"""Walking catchment radius (straight line) used when a plan does not give its own coverage."""

TRUCK_COLORS = ROUTE_COLORS
"""The trucks' route colours, cycled beyond 30 trucks: :data:`mobility.export.style.ROUTE_COLORS`."""


COLUMN_DTYPES: dict[str, str] = {
    **dict.fromkeys(
        ("docks", "bikes", "stations", "n_stops", "bikes_picked", "bikes_dropped", "seq", "quantity",
         "load_after", "bikes_before", "bikes_after", "trucks", "rank"),
        "int64",
    ),
    **dict.fromkeys(("population", "population_newly_covered", "predicted_trips", "distance_km"), "float64"),
    "bikes_estimated": "bool",
}  # fmt: skip
"""The type of every numeric or boolean layer column; any other column holds text.

An empty layer keeps these types, so that a GeoPackage declares the same field types (INTEGER,
REAL, BOOLEAN) whether a layer has features or not, and a GIS project or model built on one
file's fields opens the next.
"""


def _empty(columns: Sequence[str]) -> gpd.GeoDataFrame:
    """An empty layer with ``columns``, typed as :data:`COLUMN_DTYPES` says (text otherwise)."""
    data = {c: pd.Series(dtype=COLUMN_DTYPES.get(c, object)) for c in columns}
    return gpd.GeoDataFrame(data, geometry=[], crs=CRS_WGS84)


STATION_COLUMNS = ("station_id", "number", "name", "gu", "docks", "bikes", "bikes_estimated", "kind")
NEW_COLUMNS = (
    "station_id", "name", "gu", "dong", "docks", "bikes", "rank", "population_newly_covered",
    "predicted_trips", "reason", "kind",
)  # fmt: skip
"""The new stations' layer: the plan's own fields and names (``population_newly_covered``: the
residents this site covers first, not all it covers)."""
ROUTE_COLUMNS = ("truck_id", "truck", "n_stops", "bikes_picked", "bikes_dropped", "distance_km", "color")
DEPOT_COLUMNS = ("depot_id", "name", "trucks")
STOP_COLUMNS = (
    "truck_id", "seq", "station_id", "name", "arrival", "quantity", "load_after",
    "bikes_before", "bikes_after", "color",
)  # fmt: skip


@dataclass
class MapLayers:
    """Everything a map shows, as GeoDataFrames in EPSG:4326 (see the module docstring).

    Attributes
    ----------
    existing_stations, new_stations, coverage, districts, routes, depots, stops
        The layers; any may be empty but all have their columns. ``depots`` are where a night's
        trucks start and end (``trucks``: how many of its trucks have stops).
    title
        Human title (map heading, GBFS system name).
    water
        Basemap water polygons (not exported as a data layer).
    meta
        Provenance and figures to carry into outputs (citywide KPIs, source files).
    night
        The routes document the ``routes``/``stops`` layers were drawn from (route sheets are
        written from it), ``None`` without routes.
    """

    existing_stations: gpd.GeoDataFrame = field(default_factory=lambda: _empty(STATION_COLUMNS))
    new_stations: gpd.GeoDataFrame = field(default_factory=lambda: _empty(NEW_COLUMNS))
    coverage: gpd.GeoDataFrame = field(default_factory=lambda: _empty(("gu", "kind")))
    districts: gpd.GeoDataFrame = field(default_factory=lambda: _empty(("gu_kr", "gu_en")))
    routes: gpd.GeoDataFrame = field(default_factory=lambda: _empty(ROUTE_COLUMNS))
    depots: gpd.GeoDataFrame = field(default_factory=lambda: _empty(DEPOT_COLUMNS))
    stops: gpd.GeoDataFrame = field(default_factory=lambda: _empty(STOP_COLUMNS))
    title: str = "따릉이 network"
    water: gpd.GeoDataFrame = field(default_factory=lambda: _empty(("kind",)))
    meta: dict[str, Any] = field(default_factory=dict)
    night: RebalancingPlan | None = None

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The seven data layers by name (the GeoPackage/GeoJSON layer names)."""
        return {name: getattr(self, name) for name in LAYER_NAMES}

    def counts(self) -> dict[str, int]:
        """Feature count of each data layer."""
        return {name: len(gdf) for name, gdf in self.layers().items()}

    def with_routes(self, other: MapLayers) -> MapLayers:
        """These layers with ``other``'s routes, depots and stops (a plan plus its night's routes)."""
        meta = {**self.meta, **other.meta}
        return replace(
            self, routes=other.routes, depots=other.depots, stops=other.stops, meta=meta, night=other.night
        )


# ---------------------------------------------------------------------------------------------
# Base data: stations, districts, population (helper loaders when present, files otherwise)
# ---------------------------------------------------------------------------------------------


def load_current_stations(data_dir: Path) -> pd.DataFrame:
    """Current stations (``mobility.sources.stations.load_station_list("2025-12")``) as plain
    columns: station_id (``NO-<number>`` when the list has no ST-ID), number (str), name, gu,
    lat, lon, docks (int)."""
    from mobility.sources.stations import load_station_list

    df = pd.DataFrame(load_station_list("2025-12", data_dir=data_dir).table)
    df = df[["station_id", "number", "name", "gu", "lat", "lon", "docks"]].reset_index(drop=True)
    df["number"] = [None if pd.isna(n) else str(n) for n in df["number"]]
    df["station_id"] = [
        f"NO-{n}" if pd.isna(i) else str(i) for i, n in zip(df["station_id"], df["number"], strict=True)
    ]
    for col in ("name", "gu"):
        df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
    df["docks"] = pd.to_numeric(df["docks"], errors="coerce").fillna(0).astype(int)
    df["lat"] = df["lat"].astype(float)
    df["lon"] = df["lon"].astype(float)
    return df


POPULATION_SOURCE: Final = "grid"
"""Residents per gu on the maps of the current network and of a night: the KOSTAT 100 m grid
(2021) summed by gu. It is the population source plans default to (``population.source: grid``)
and the one walking coverage is counted on, so the current network's bikes per 10,000 residents
are a default plan's for the same stations and bikes (45,000 bikes: 49.689 per 10,000 on both),
and its coverage shares are shares of the population it prints. A comparison with a plan puts
both sides on the plan's own population (:func:`on_population`)."""


def load_current_districts(data_dir: Path) -> gpd.GeoDataFrame:
    """The 25 gu (gu_kr, gu_en, code, population, geometry) in EPSG:4326.

    Boundaries from ``mobility.sources.boundaries.load_districts``; population = residents on the
    100 m grid by gu (:data:`POPULATION_SOURCE`, ``mobility.sources.population.gu_population``).
    """
    from mobility.sources.boundaries import load_districts
    from mobility.sources.population import GRID_YEAR, gu_population

    gdf = gpd.GeoDataFrame(load_districts(data_dir=data_dir).table).to_crs(CRS_WGS84).reset_index(drop=True)
    gdf["gu_kr"] = gdf["gu_kr"].astype(str)
    gdf["gu_en"] = gdf["gu_en"].astype(str)
    gdf["code"] = gdf["kostat_code"].astype(str)
    pop = gu_population(POPULATION_SOURCE, GRID_YEAR, data_dir=data_dir)
    gdf["population"] = gdf["gu_kr"].map({str(k): float(v) for k, v in pop.items()}).astype(float)
    if gdf["population"].isna().any():
        missing = gdf.loc[gdf["population"].isna(), "gu_kr"].tolist()
        raise DataFileError(data_dir / "population", f"no {POPULATION_SOURCE} population for {missing}")
    return gdf[["gu_kr", "gu_en", "code", "population", "geometry"]]


def load_dongs(data_dir: Path) -> gpd.GeoDataFrame:
    """Dong polygons with population (2025 census, 2020 where 2025 is missing), EPSG:5179."""
    from mobility.sources.boundaries import load_dongs as _load_dongs

    d = gpd.GeoDataFrame(_load_dongs(data_dir=data_dir).table)
    pop = pd.to_numeric(d["pop_census2025"], errors="coerce").astype(float)
    d["population"] = pop.fillna(pd.to_numeric(d["pop_census2020"], errors="coerce").astype(float))
    return d[["gu_kr", "population", "geometry"]].to_crs(CRS_METRIC)


# ---------------------------------------------------------------------------------------------
# KPIs
# ---------------------------------------------------------------------------------------------


def catchments(points: gpd.GeoDataFrame, radius_m: float, *, kind: str) -> gpd.GeoDataFrame:
    """Straight-line walking catchments around ``points``, dissolved per gu (EPSG:4326)."""
    if points.empty:
        return _empty(("gu", "kind"))
    metric = points.to_crs(CRS_METRIC)
    buf = gpd.GeoDataFrame({"gu": metric["gu"].values}, geometry=metric.buffer(radius_m, 16).values)
    buf = buf.set_crs(CRS_METRIC)
    out = buf.dissolve(by="gu", as_index=False)
    out["kind"] = kind
    out["geometry"] = out.geometry.simplify(5.0)
    return out.to_crs(CRS_WGS84)[["gu", "kind", "geometry"]]


def coverage_share(covered: gpd.GeoDataFrame, dongs: gpd.GeoDataFrame) -> dict[str, float]:
    """Share of each gu's residents inside ``covered`` (population spread evenly over each dong)."""
    if dongs.empty:
        return {}
    union = shapely.union_all(covered.to_crs(CRS_METRIC).geometry.values) if len(covered) else None
    inside = np.zeros(len(dongs))
    if union is not None and not union.is_empty:
        inter = shapely.intersection(dongs.geometry.values, union)
        inside = shapely.area(inter) / np.maximum(shapely.area(dongs.geometry.values), 1.0)
    covered_pop = pd.Series(inside * dongs["population"].to_numpy(), index=dongs.index)
    tot = dongs.groupby("gu_kr")["population"].sum()
    cov = covered_pop.groupby(dongs["gu_kr"]).sum()
    return {str(g): float(cov.get(g, 0.0) / tot[g]) if tot[g] > 0 else 0.0 for g in tot.index}


def district_kpis(
    districts: gpd.GeoDataFrame,
    stations: Sequence[pd.DataFrame],
    shares: Mapping[str, float],
) -> gpd.GeoDataFrame:
    """Stations, docks, bikes, bikes per 10,000 residents and coverage share per gu."""
    parts = [s[["gu", "docks", "bikes"]] for s in stations if len(s)]
    allst = pd.concat(parts) if parts else pd.DataFrame({"gu": [], "docks": [], "bikes": []})
    g = allst.groupby("gu").agg(stations=("gu", "size"), docks=("docks", "sum"), bikes=("bikes", "sum"))
    out = districts.copy()
    for col in ("stations", "docks", "bikes"):
        out[col] = out["gu_kr"].map(g[col]).fillna(0).astype(int)
    out["bikes_per_10k"] = per_10k_column(out["bikes"], out["population"])
    out["coverage_share"] = out["gu_kr"].map(shares).fillna(0.0).round(4)
    return out


def per_10k_column(bikes: pd.Series, population: pd.Series) -> pd.Series:
    """Bikes per 10,000 residents of each row (:func:`~mobility.placement.plan.per_10k`, as plans
    write it); NaN where the bikes are unknown."""
    vals = [
        float("nan") if pd.isna(b) or pd.isna(p) else per_10k(float(b), float(p))
        for b, p in zip(bikes, population, strict=True)
    ]
    return pd.Series(vals, index=bikes.index, dtype="float64")


def citywide(districts: pd.DataFrame) -> dict[str, float]:
    """Citywide stations, docks, bikes, bikes per 10k and population-weighted coverage share."""
    pop = float(districts["population"].sum())
    covered = float((districts["coverage_share"] * districts["population"]).sum())
    bikes = int(districts["bikes"].sum())
    return {
        "stations": int(districts["stations"].sum()),
        "docks": int(districts["docks"].sum()),
        "bikes": bikes,
        "population": pop,
        "bikes_per_10k": per_10k(bikes, pop),
        "coverage_share": round(covered / pop, 4) if pop else 0.0,
    }


def on_population(layers: MapLayers, population: Mapping[str, float], source: str | None = None) -> MapLayers:
    """``layers`` with each district's ``population`` replaced by ``population[gu]`` (districts it
    does not name keep theirs) and the bikes per 10,000 figures, districts' and citywide, computed
    again on it: the same stations and bikes counted per the residents of another population
    source (a comparison with a plan counts both sides on the plan's). ``source`` names it in
    ``meta["population_source"]``."""
    dk = layers.districts.copy()
    if "population" not in dk.columns or not len(dk):
        return layers
    new = pd.to_numeric(dk["gu_kr"].map(dict(population)), errors="coerce")
    dk["population"] = new.fillna(dk["population"]).astype(float)
    dk["bikes_per_10k"] = per_10k_column(dk["bikes"], dk["population"])
    meta = copy.deepcopy(layers.meta)
    if isinstance(meta.get("citywide"), dict) and "stations" in dk.columns:
        city = citywide(dk)
        meta["citywide"] |= {k: city[k] for k in ("population", "bikes_per_10k")}
    if source is not None:
        meta["population_source"] = source
    return replace(layers, districts=dk, meta=meta)


def with_baseline(after: gpd.GeoDataFrame, before: pd.DataFrame) -> gpd.GeoDataFrame:
    """Add ``<kpi>_before`` and ``<kpi>_change`` columns to ``after`` (joined on gu_kr)."""
    out = after.copy()
    b = before.set_index("gu_kr")
    for col in ("stations", "docks", "bikes", "bikes_per_10k", "coverage_share"):
        if col in b.columns and col in out.columns:
            out[f"{col}_before"] = out["gu_kr"].map(b[col])
            out[f"{col}_change"] = (out[col] - out[f"{col}_before"]).round(4)
    return out


def _points(df: pd.DataFrame) -> gpd.GeoDataFrame:
    geom = gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float))
    return gpd.GeoDataFrame(df.drop(columns=["lat", "lon"]), geometry=geom, crs=CRS_WGS84)


def estimate_bikes(docks: pd.Series, fleet: int) -> pd.Series:
    """Spread ``fleet`` bikes over stations in proportion to docks (largest remainder, exact sum)."""
    d = docks.astype(float).to_numpy()
    if d.sum() <= 0:
        return pd.Series(np.zeros(len(d), dtype=int), index=docks.index)
    raw = d / d.sum() * fleet
    base = np.floor(raw).astype(int)
    rest = int(fleet - base.sum())
    order = np.argsort(-(raw - base), kind="stable")[:rest]
    base[order] += 1
    return pd.Series(base, index=docks.index)


NETWORK_INPUTS = (
    "ttareungi/stations_2025-12.csv",
    "ttareungi/stations_api_tbCycleStationInfo_2025-05.csv",
    "boundaries/seoul_gu_2020_wgs84.geojson",
    "boundaries/seoul_dong_2020_wgs84.geojson",
    "population/seoul_pop_grid_100m.csv",
)
"""Files the current-network layers are derived from (their size and mtime key the memo)."""


def _stamp(data_dir: Path) -> tuple[tuple[str, int, int], ...]:
    return files_stamp(data_dir, NETWORK_INPUTS)


@lru_cache(maxsize=4)
def _network_memo(
    root: str, fleet: int, catchment_m: float, stamp: tuple[tuple[str, int, int], ...]
) -> MapLayers:
    """The current network's layers (without water), computed once per process and inputs."""
    data_dir = Path(root)
    st = load_current_stations(data_dir).copy()
    st["bikes"] = estimate_bikes(st["docks"], fleet)
    st["bikes_estimated"] = True
    st["kind"] = "existing"
    existing = _points(st)[[*STATION_COLUMNS, "geometry"]]
    districts = load_current_districts(data_dir)
    cov = catchments(existing, catchment_m, kind="existing")  # drawn only; counted on the network:
    lon, lat = st["lon"].to_numpy(float), st["lat"].to_numpy(float)
    walk = walking_coverage(lon, lat, radius_m=catchment_m, data_dir=data_dir)
    dk = district_kpis(districts, [existing], walk.by_gu)
    city = {**citywide(dk), "coverage_share": round(walk.covered_share, 4)}
    return MapLayers(
        existing_stations=existing,
        coverage=cov,
        districts=dk,
        title="따릉이 현재 네트워크 (current network, 2025-12)",
        meta={
            "source": "current",
            "stations_file": "ttareungi/stations_2025-12.csv",
            "bikes": f"estimated: fleet {fleet} spread by docks",
            "catchment_m": catchment_m,
            "coverage": f"walking {catchment_m:g} m on {walk.network} over the 100 m population grid",
            "population_source": POPULATION_SOURCE,
            "citywide": city,
        },
    )


def layers_from_network(
    data_dir: Path,
    *,
    fleet: int = DEFAULT_FLEET,
    catchment_m: float = DEFAULT_CATCHMENT_M,
    with_water: bool = True,
) -> MapLayers:
    """The CURRENT network from the data directory: stations, catchments and district KPIs.

    Computed once per process for the same inputs (files keyed on size and mtime); each call
    gets its own copies of the tables.
    """
    root = Path(data_dir).resolve()
    memo = _network_memo(str(root), int(fleet), float(catchment_m), _stamp(root))
    return replace(
        memo,
        existing_stations=memo.existing_stations.copy(),
        coverage=memo.coverage.copy(),
        districts=memo.districts.copy(),
        water=_water(root) if with_water else _empty(("kind",)),
        meta=copy.deepcopy(memo.meta),
    )


def _water(data_dir: Path) -> gpd.GeoDataFrame:
    from mobility.export.basemap import load_water

    return load_water(data_dir)


# ---------------------------------------------------------------------------------------------
# Adapters: Plan / RebalancingPlan (objects with to_dict, or their JSON)
# ---------------------------------------------------------------------------------------------


def _as_dict(obj: Plan | RebalancingPlan | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(obj, Mapping):
        return dict(obj)
    if hasattr(obj, "to_dict"):
        return dict(obj.to_dict())
    raise InputError("plan", type(obj).__name__, "a Plan/RebalancingPlan, its to_dict() or its JSON")


def is_routes_dict(d: Mapping[str, Any]) -> bool:
    """Whether a JSON document is a RebalancingPlan (``routes.json``) rather than a Plan."""
    if str(d.get("schema", "")).startswith("mobility/rebalancing-plan"):
        return True
    return any(k in d for k in ("routes", "trucks")) and "new_stations" not in d


def layers_from_plan(
    plan: Plan,
    data_dir: Path,
    *,
    catchment_m: float | None = None,
    with_water: bool = True,
) -> MapLayers:
    """Map layers of an expansion :class:`~mobility.placement.plan.Plan`.

    Draws the plan's ``new_stations``, its ``existing_stations`` (every baseline station with the
    bikes the plan gives it) and its ``districts``; the citywide figures are its ``city_before``
    and ``city_after``. District polygons come from the boundaries in ``data_dir``. A plan without
    ``existing_stations`` is drawn over the current network (bikes estimated).

    Coverage is drawn as straight-line circles of ``radius_m`` around the stations (the plan
    counts residents along the walking network, so the drawn area is a slight over-estimate);
    the district coverage shares shown are the plan's own.
    """
    radius = float(catchment_m or plan.radius_m or DEFAULT_CATCHMENT_M)
    districts = load_current_districts(data_dir)
    existing = _plan_existing(plan, data_dir)
    new = _plan_new(plan)
    cov_ex = catchments(existing, radius, kind="existing")
    cov_new = catchments(new, radius, kind="new")
    coverage = gpd.GeoDataFrame(
        pd.concat([c for c in (cov_ex, cov_new) if len(c)] or [cov_ex], ignore_index=True),
        geometry="geometry",
        crs=CRS_WGS84,
    )
    rows = {d.gu: d for d in plan.districts}
    shares = (
        {g: r.covered_share for g, r in rows.items()}
        if rows
        else coverage_share(coverage, load_dongs(data_dir))
    )
    dk = district_kpis(districts, [existing, new], shares)
    if rows:
        dk = _with_plan_districts(dk, rows)
    return MapLayers(
        existing_stations=existing,
        new_stations=new,
        coverage=coverage,
        districts=dk,
        title=f"따릉이 확충 계획 (expansion plan): {plan.scenario}",
        water=_water(data_dir) if with_water else _empty(("kind",)),
        meta={
            "source": "plan",
            "plan": plan.scenario,
            "population_source": plan.population_source,
            "catchment_m": radius,
            "citywide_before": _city(plan.city_before),
            "citywide": _city(plan.city_after),
            "provenance": plan.model_dump(mode="json", include={"provenance"})["provenance"],
        },
    )


def _plan_existing(plan: Plan, data_dir: Path) -> gpd.GeoDataFrame:
    """The plan's baseline stations as points (else the current network's, bikes estimated)."""
    if not plan.existing_stations:
        return layers_from_network(data_dir, with_water=False).existing_stations
    ex = pd.DataFrame([s.model_dump(mode="json") for s in plan.existing_stations])
    ex["number"] = [None if pd.isna(n) else str(n) for n in ex["number"]]
    ex["bikes_estimated"] = False
    ex["kind"] = "existing"
    return _points(ex[[*STATION_COLUMNS, "lat", "lon"]])


def _plan_new(plan: Plan) -> gpd.GeoDataFrame:
    """The plan's new stations as points, named after their id and dong."""
    rows = []
    for i, s in enumerate(plan.new_stations):
        if not (np.isfinite(s.lat) and np.isfinite(s.lon)):
            raise InputError(f"plan.new_stations[{i}].lat/lon", (s.lat, s.lon), "finite WGS84 coordinates")
        rows.append(
            {
                "station_id": s.id,
                "name": f"신규 {s.id}" + (f" ({s.dong})" if s.dong else ""),
                "gu": s.gu,
                "dong": s.dong,
                "docks": s.docks,
                "bikes": s.bikes,
                "rank": s.rank,
                "population_newly_covered": s.population_newly_covered,
                "predicted_trips": np.nan if s.predicted_trips is None else s.predicted_trips,
                "reason": s.reason,
                "kind": "new",
                "lat": s.lat,
                "lon": s.lon,
            }
        )
    return _points(pd.DataFrame(rows)) if rows else _empty(NEW_COLUMNS)


def _with_plan_districts(dk: gpd.GeoDataFrame, rows: Mapping[str, DistrictKPI]) -> gpd.GeoDataFrame:
    """The district layer with the plan's own figures: counts, before and after, served shares."""
    for col in ("population", "stations", "docks", "bikes", "bikes_per_10k"):
        vals = dk["gu_kr"].map({g: getattr(r, col) for g, r in rows.items()})
        dk[col] = pd.to_numeric(vals, errors="coerce").fillna(dk[col]).astype(dk[col].dtype)
    # Counts stay integers (a district the plan does not list is blank, not NaN in a float column).
    before = dk["gu_kr"].map({g: int(r.stations_before) for g, r in rows.items()})
    dk["stations_before"] = before.astype("Int64")
    dk["stations_change"] = dk["stations"].astype("Int64") - dk["stations_before"]
    # Shares as the plan gives them (5 decimals), after as before: district_kpis rounds to 4.
    share = pd.to_numeric(dk["gu_kr"].map({g: r.covered_share for g, r in rows.items()}), errors="coerce")
    dk["coverage_share"] = share.fillna(dk["coverage_share"]).astype(float)
    dk["coverage_share_before"] = dk["gu_kr"].map({g: r.covered_share_before for g, r in rows.items()})
    dk["coverage_share_change"] = (dk["coverage_share"] - dk["coverage_share_before"]).round(5)
    for col in ("served_share_before", "served_share"):
        served = {g: getattr(r, col) for g, r in rows.items() if getattr(r, col) is not None}
        if served:
            dk[col] = dk["gu_kr"].map({g: v.mean for g, v in served.items()})
    return dk


def _city(c: CityKPI) -> dict[str, Any]:
    """A plan's citywide figures as the map's legend reads them (bikes 0 when not known, and
    bikes per 10,000 ``None`` then: a 2019 baseline without bike counts is not a city of 0 bikes)."""
    out: dict[str, Any] = {
        "stations": c.stations,
        "docks": c.docks,
        "bikes": int(c.bikes or 0),
        "population": c.population,
        "bikes_per_10k": None if c.bikes_per_10k is None else float(c.bikes_per_10k),
        "coverage_share": c.covered_share,
    }
    if c.served_share is not None:  # simulated trips served (mean, 95 % interval)
        out |= {f"served_share{k}": float(getattr(c.served_share, v)) for k, v in SERVED_KEYS.items()}
    return out


SERVED_KEYS: dict[str, str] = {"": "mean", "_low": "low", "_high": "high"}


def bikes_mark(meta: Mapping[str, Any]) -> str:
    """What follows the citywide bike count in a map's subtitle: " (추정 estimated)" when the
    layers' bikes are an estimate (the current network: the published fleet spread by docks, so
    the bikes per 10,000 shown are docks in disguise), else ""."""
    return " (추정 estimated)" if str(meta.get("bikes", "")).startswith("estimated") else ""


def compare_note(meta: Mapping[str, Any]) -> str:
    """A comparison's warning for a map's subtitle (:func:`mobility.export.compare.network_note`:
    its two sides stand on different station lists), "" without one."""
    return str(meta.get("compare_note") or "")


def served_summary(meta: Mapping[str, Any]) -> str:
    """The simulated served share after (and before) a plan, for a map's subtitle ("" without it)."""
    after = meta.get("citywide") or {}
    if "served_share" not in after:
        return ""
    text = (
        f"이용 성공 trips served {100 * after['served_share']:.1f}% "
        f"(95% {100 * after['served_share_low']:.1f}–{100 * after['served_share_high']:.1f})"
    )
    before = meta.get("citywide_before") or {}
    if "served_share" in before:
        text += f", 이전 before {100 * before['served_share']:.1f}%"
    return text


def _station_lookup(data_dir: Path) -> dict[str, tuple[str, float, float]]:
    """Name, latitude and longitude of the current stations by station id."""
    ex = layers_from_network(data_dir, with_water=False).existing_stations
    return {
        str(sid): (str(name), float(lat), float(lon))
        for sid, name, lat, lon in zip(
            ex["station_id"], ex["name"], ex.geometry.y, ex.geometry.x, strict=True
        )
    }


def routes_document(doc: Mapping[str, Any], data_dir: Path | None = None) -> RebalancingPlan:
    """A ``routes.json`` document as a :class:`RebalancingPlan`, stops placed where they lack coordinates.

    A stop without ``lat``/``lon`` (a route list from another tool) is placed at its station in
    the current station list (``data_dir``); an unknown station is an :class:`InputError` naming
    the stop.
    """
    d = copy.deepcopy(dict(doc))
    lookup: dict[str, tuple[str, float, float]] | None = None
    for ti, r in enumerate(d.get("routes") or []):
        for si, s in enumerate(r.get("stops") or []):
            if s.get("lat") is not None and s.get("lon") is not None:
                continue
            if lookup is None:
                if data_dir is None:
                    raise InputError(f"routes[{ti}].stops[{si}].lat", None, "coordinates or a data_dir")
                lookup = _station_lookup(data_dir)
            sid = str(s.get("station_id", ""))
            if sid not in lookup:
                raise InputError(f"routes[{ti}].stops[{si}].station_id", sid, "a station of the list")
            name, lat, lon = lookup[sid]
            s.update(lat=lat, lon=lon)
            s.setdefault("name", name)
    try:
        return RebalancingPlan.model_validate(d)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e["loc"]) or "(root)"
        raise InputError(loc, e.get("input"), f"a routes.json document ({e['msg']})") from exc


NIGHT_STATION_COLUMNS = ("station_id", "name", "lon", "lat", "docks", "bikes")


@dataclass(frozen=True)
class NightStations:
    """The stations a night's routes were solved over: the snapshot's ids, names, positions, docks
    and bikes (``routes.json`` does not carry them), and the snapshot's name.

    From the solved problem (:meth:`of_problem`, ``mobility rebalance`` and the API) or from the
    status table assembled again from the snapshot file (:meth:`of_table`, ``mobility export
    routes.json --status``).
    """

    name: str
    table: pd.DataFrame
    """One row per station: ``station_id``, ``name``, ``lon``, ``lat``, ``docks``, ``bikes``, and
    ``number`` when the snapshot gives the operator's station numbers."""

    @classmethod
    def of_problem(cls, problem: RebalancingProblem) -> NightStations:
        """The problem's stations (its ``meta["snapshot"]`` names the snapshot)."""
        table = pd.DataFrame(
            {
                "station_id": [str(s) for s in problem.station_ids],
                "name": [str(n) for n in problem.names],
                "lon": np.asarray(problem.lon, float),
                "lat": np.asarray(problem.lat, float),
                "docks": np.asarray(problem.docks, int),
                "bikes": np.asarray(problem.bikes, int),
            }
        )
        return cls(name=str(problem.meta.get("snapshot") or "snapshot"), table=table)

    @classmethod
    def of_table(cls, table: pd.DataFrame, name: str) -> NightStations:
        """A status table with ``station_id, name, lon, lat, docks, bikes`` (as
        :func:`mobility.rebalancing.build.assemble_stations` returns it)."""
        columns = [*NIGHT_STATION_COLUMNS, *(["number"] if "number" in table.columns else [])]
        return cls(name=name, table=table[columns].reset_index(drop=True))

    def check_routes(self, night: RebalancingPlan, *, field: str, value: str) -> None:
        """Raise an :class:`InputError` naming ``field`` when a route stops at a station this
        snapshot does not have: it is not the snapshot the routes were planned on."""
        known = set(self.table["station_id"].astype(str))
        missing = sorted({s.station_id for r in night.routes for s in r.stops} - known)
        if missing:
            raise InputError(
                field,
                value,
                f"the status snapshot the routes were planned on ({len(missing):,} of the routes' "
                f"stations are not in it, e.g. {', '.join(missing[:3])})",
            )


def _numbers(values: pd.Series) -> list[str | None]:
    """Station numbers as the station layer holds them (text, ``102``), ``None`` where unknown."""
    num = pd.to_numeric(values, errors="coerce").astype("Int64")
    return [None if pd.isna(v) else str(int(v)) for v in num]


def night_stations(
    night: RebalancingProblem | NightStations, districts: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """The night's snapshot stations (those the routes were solved over) as the station layer.

    Ids, names, coordinates, docks and bikes are the snapshot's own (observed, not estimated);
    ``gu`` is the district polygon each station lies in (``""`` without ``districts``).
    """
    st = (night if isinstance(night, NightStations) else NightStations.of_problem(night)).table
    pts = gpd.GeoDataFrame(
        {
            "station_id": st["station_id"].astype(str).to_numpy(),
            "number": _numbers(st["number"]) if "number" in st.columns else [None] * len(st),
            "name": st["name"].astype(str).to_numpy(),
            "gu": "",
            "docks": st["docks"].to_numpy(int),
            "bikes": st["bikes"].to_numpy(int),
            "bikes_estimated": False,
            "kind": "existing",
        },
        geometry=gpd.points_from_xy(st["lon"].to_numpy(float), st["lat"].to_numpy(float)),
        crs=CRS_WGS84,
    )
    if districts is not None and len(districts) and len(pts):
        hit = gpd.sjoin(pts, districts[["gu_kr", "geometry"]], how="left", predicate="within")
        gu = hit.loc[~hit.index.duplicated(), "gu_kr"]
        pts["gu"] = gu.reindex(pts.index).fillna("").astype(str).to_numpy()
    return pts[[*STATION_COLUMNS, "geometry"]]


def night_districts(districts: gpd.GeoDataFrame, stations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """District KPIs of the snapshot's stations only: districts without any are blank (NaN), and
    coverage is not computed for a night (NaN)."""
    dk = district_kpis(districts, [stations], {})
    blank = dk["stations"] == 0
    for col in ("stations", "docks", "bikes", "bikes_per_10k"):
        dk[col] = dk[col].astype(float).where(~blank)
    dk["coverage_share"] = np.nan
    return dk


NIGHT_PAD_M = 1_000.0
"""Margin (metres, at least) around the snapshot's stations and routes on a night map."""


def night_extent(*parts: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    """Bounds (EPSG:4326) of the given layers, padded by 8 % or :data:`NIGHT_PAD_M`."""
    geoms = [g for p in parts if len(p) for g in p.geometry.values if g is not None]
    if not geoms:
        return None
    metric = gpd.GeoSeries(geoms, crs=CRS_WGS84).to_crs(CRS_METRIC)
    minx, miny, maxx, maxy = metric.total_bounds
    pad = max(NIGHT_PAD_M, 0.08 * max(maxx - minx, maxy - miny))
    box = gpd.GeoSeries([shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)], crs=CRS_METRIC)
    b = box.to_crs(CRS_WGS84).total_bounds
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def night_summary(meta: Mapping[str, Any]) -> str:
    """The night's figures for a map's subtitle ("" for a map that is not a night's).

    Stations and bikes in the snapshot (when known), trucks used, bikes moved, km driven.
    """
    tot = meta.get("totals") if meta.get("source") == "routes" else None
    if not tot:
        return ""
    snap = meta.get("snapshot") or {}
    parts = [f"대여소 {snap['stations']:,} · 자전거 {snap['bikes']:,}"] if snap else []
    parts += [
        f"트럭 trucks {tot['trucks_used']:,}",
        f"이동 moved {tot['bikes_moved']:,}대",
        f"주행 driven {tot['km']:,.1f} km",
    ]
    return " · ".join(parts)


def layers_from_routes(
    rplan: RebalancingPlan | Mapping[str, Any],
    data_dir: Path | None = None,
    *,
    with_water: bool = True,
    problem: RebalancingProblem | NightStations | None = None,
) -> MapLayers:
    """Map layers of a RebalancingPlan (or its ``routes.json`` document, see :func:`routes_document`).

    Each used truck gives its ``stops`` in order (station_id, name, arrival, quantity — positive
    = bikes picked up, negative = dropped off — load_after, lat/lon) and a route line along its
    street ``path``; without a path the route is drawn as straight segments between the stops.

    ``problem`` is the night the routes were solved over, or its snapshot's stations
    (:class:`NightStations`; ``routes.json`` does not carry them): its stations, bikes and docks
    are then the station layer, the districts show their figures only, and ``meta["snapshot"]``
    holds its totals. Without it, the current
    network is drawn behind the routes (bikes estimated) when ``data_dir`` is given. Either way
    with a ``data_dir`` the map is framed on the stations and routes (``meta["extent"]``) and
    carries no citywide coverage figures.
    """
    night = rplan if isinstance(rplan, RebalancingPlan) else routes_document(rplan, data_dir)
    route_rows: list[dict[str, Any]] = []
    stop_rows: list[dict[str, Any]] = []
    for ti, r in enumerate(night.routes):
        if not r.stops:
            continue  # an unused truck draws nothing
        color = TRUCK_COLORS[ti % len(TRUCK_COLORS)]
        stop_rows.extend(
            {
                "truck_id": r.truck_id,
                "seq": s.seq,
                "station_id": s.station_id,
                "name": s.name,
                "arrival": s.arrival,
                "quantity": s.quantity,
                "load_after": s.load_after,
                "bikes_before": s.bikes_before,
                "bikes_after": s.bikes_after,
                "color": color,
                "lat": s.lat,
                "lon": s.lon,
            }
            for s in r.stops
        )
        line = route_coordinates(night, r)
        route_rows.append(
            {
                "truck_id": r.truck_id,
                "truck": f"트럭 {r.truck_id}",
                "n_stops": len(r.stops),
                "bikes_picked": r.picked_up,
                "bikes_dropped": r.dropped,
                "distance_km": round(r.distance_km, 2),
                "color": color,
                "geometry": LineString(line) if line else None,
            }
        )
    routes = (
        gpd.GeoDataFrame(route_rows, geometry="geometry", crs=CRS_WGS84)
        if route_rows
        else _empty(ROUTE_COLUMNS)
    )
    stops_gdf = _points(pd.DataFrame(stop_rows)) if stop_rows else _empty(STOP_COLUMNS)
    depots = _depot_layer(night)
    title = "따릉이 야간 재배치 (nightly rebalancing)"
    layers = MapLayers(routes=routes, depots=depots, stops=stops_gdf, title=title)
    meta: dict[str, Any] = {}
    if problem is not None:
        layers = _snapshot_layers(layers, problem, data_dir, with_water=with_water)
        meta = dict(layers.meta)
    elif data_dir is not None:
        base = layers_from_network(data_dir, with_water=with_water)
        layers = replace(base, routes=routes, depots=depots, stops=stops_gdf, title=title)
        meta = {k: v for k, v in base.meta.items() if k not in ("citywide", "coverage")}
    if data_dir is not None or problem is not None:
        stations = layers.existing_stations if problem is not None else stops_gdf
        meta["extent"] = night_extent(stations, routes, depots)
    layers.night = night
    layers.meta = {
        **meta,
        "source": "routes",
        "totals": night.totals.model_dump(mode="json"),
        "trucks": sum(1 for r in night.routes if r.stops),
    }
    return layers


def _depot_layer(night: RebalancingPlan) -> gpd.GeoDataFrame:
    """The night's depots as points, each with the number of its trucks that have stops."""
    if not night.depots:
        return _empty(DEPOT_COLUMNS)
    used = Counter(r.depot_id for r in night.routes if r.stops)
    rows = [{"depot_id": d.id, "name": d.name, "trucks": used[d.id], "lat": d.lat, "lon": d.lon}
            for d in night.depots]  # fmt: skip
    return _points(pd.DataFrame(rows))


def _snapshot_layers(
    layers: MapLayers,
    problem: RebalancingProblem | NightStations,
    data_dir: Path | None,
    *,
    with_water: bool,
) -> MapLayers:
    """``layers`` with the night's snapshot stations and (with ``data_dir``) its district figures."""
    districts = load_current_districts(data_dir) if data_dir is not None else None
    night = problem if isinstance(problem, NightStations) else NightStations.of_problem(problem)
    stations = night_stations(night, districts)
    meta: dict[str, Any] = {
        "snapshot": {
            "name": night.name,
            "stations": len(stations),
            "bikes": int(stations["bikes"].sum()),
            "docks": int(stations["docks"].sum()),
        },
        "bikes": "the night's status snapshot",
    }
    return replace(
        layers,
        existing_stations=stations,
        districts=night_districts(districts, stations) if districts is not None else layers.districts,
        water=_water(data_dir) if data_dir is not None and with_water else layers.water,
        meta=meta,
    )


def read_json(path: Path) -> dict[str, Any]:
    """Read a plan.json / routes.json, with a clear error for anything else."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(
            "PLAN_OR_ROUTES", str(path), "an existing plan.json, routes.json or 'current'"
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"not UTF-8 JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise DataFileError(path, "expected a JSON object (a plan or routes document)")
    return doc


MapSource: TypeAlias = str | Path | Plan | RebalancingPlan | Mapping[str, Any]
"""What a map is drawn from: ``"current"``, a plan.json / routes.json path, a Plan /
RebalancingPlan, or its JSON dict."""


def load_layers(
    source: MapSource,
    data_dir: Path,
    *,
    with_water: bool = True,
    problem: RebalancingProblem | NightStations | None = None,
) -> MapLayers:
    """Layers of ``"current"``, a plan.json / routes.json path, or a Plan / RebalancingPlan object.

    ``problem``: the night a routes document was solved over, or its snapshot's stations (see
    :func:`layers_from_routes`).
    """
    if isinstance(source, str | Path) and str(source) == "current":
        return layers_from_network(data_dir, with_water=with_water)
    doc = read_json(Path(source)) if isinstance(source, str | Path) else _as_dict(source)
    if is_routes_dict(doc):
        return layers_from_routes(doc, data_dir, with_water=with_water, problem=problem)
    if "new_stations" in doc or "districts" in doc:
        return layers_from_plan(Plan.from_dict(doc), data_dir, with_water=with_water)
    raise InputError(
        "PLAN_OR_ROUTES",
        str(source),
        "a plan (with 'new_stations') or routes (with 'routes'/'trucks') document",
    )
