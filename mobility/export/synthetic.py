"""Synthetic plan and routes documents over the real stations, for tests and benchmarks.

They have the shape of ``plan.json`` and ``routes.json`` and use real station positions and
districts, so the map writers can be exercised and timed at city scale without a solver run.
Their figures are made up: nothing here is a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from mobility.export.layers import (
    DEFAULT_CATCHMENT_M,
    _points,
    catchments,
    citywide,
    coverage_share,
    district_kpis,
    layers_from_network,
    load_dongs,
)
from mobility.sources.base import CRS_METRIC, CRS_WGS84


def synthetic_routes(
    stations: gpd.GeoDataFrame, *, trucks: int = 3, stops: int = 8, seed: int = 0
) -> dict[str, Any]:
    """A small ``routes.json`` document (schema ``mobility/rebalancing-plan/1``) over real stations.

    For tests and the benchmark: each truck visits ``stops`` stations of one district in
    longitude order, picking up and dropping off alternately (load never negative), along the
    straight path between them. Not an optimised plan.
    """
    rng = np.random.default_rng(seed)
    gus = sorted(stations["gu"].unique())
    routes: list[dict[str, Any]] = []
    moved = 0
    km_total = 0.0
    for t in range(trucks):
        gu = gus[t % len(gus)]
        pool = stations[stations["gu"] == gu]
        pick = pool.iloc[rng.choice(len(pool), size=min(stops, len(pool)), replace=False)]
        pick = pick.assign(_x=pick.geometry.x).sort_values("_x")
        load, rows = 0, []
        t0 = 22 * 3600.0 + 600.0 * (t % 6)
        for k, (_, r) in enumerate(pick.iterrows()):
            q = int(rng.integers(3, 10)) if k % 2 == 0 or load == 0 else -min(load, int(rng.integers(3, 10)))
            load += q
            moved += abs(q)
            arr = t0 + 900.0 * (k + 1)
            bikes = int(r["bikes"]) if "bikes" in r else 10
            before = max(bikes, q)
            m = round(arr / 60.0)
            rows.append(
                {
                    "seq": k + 1,
                    "station_id": str(r["station_id"]),
                    "name": str(r["name"]),
                    "lon": float(r.geometry.x),
                    "lat": float(r.geometry.y),
                    "arrival_s": arr,
                    "departure_s": arr + 300.0,
                    "quantity": q,
                    "load_after": load,
                    "bikes_before": before,
                    "bikes_after": before - q,
                    "arrival": f"{(m // 60) % 24:02d}:{m % 60:02d}",
                }
            )
        path = [[r["lon"], r["lat"]] for r in rows]
        km = float(gpd.GeoSeries([LineString(path)], crs=CRS_WGS84).to_crs(CRS_METRIC).length.iloc[0]) / 1000
        km_total += km
        routes.append(
            {
                "truck_id": f"T{t + 1}",
                "depot_id": "D1",
                "capacity": 20,
                "start_s": t0,
                "end_s": t0 + 900.0 * (len(rows) + 1),
                "start_load": 0,
                "end_load": load,
                "distance_km": round(km, 3),
                "stops": rows,
                "path": path,
            }
        )
    zero = {
        "dissatisfaction_before": 0.0,
        "dissatisfaction_after": 0.0,
        "driving_cost": 0.0,
        "objective": 0.0,
    }
    return {
        "schema": "mobility/rebalancing-plan/1",
        "totals": {
            "bikes_moved": moved,
            "km": round(km_total, 3),
            "truck_hours": 0.0,
            "trucks_used": len(routes),
            "stations_visited": sum(len(r["stops"]) for r in routes),
            **zero,
            "stations_empty_before": 0,
            "stations_empty_after": 0,
            "stations_full_before": 0,
            "stations_full_after": 0,
        },
        "routes": routes,
        "still_empty": [],
        "still_full": [],
        "stats": {
            "solver": "synthetic", "status": "FEASIBLE", "objective": 0.0, "bound": None,
            "seconds": 0.0, "seed": seed,
        },
        "provenance": None,
        "meta": {"synthetic": True},
    }  # fmt: skip


def synthetic_plan(
    data_dir: Path, *, new: int = 60, docks: int = 15, seed: int = 0, scenario: str = "synthetic"
) -> dict[str, Any]:
    """A ``plan.json`` document (Plan schema_version "1") over the current network, for tests and
    the benchmark: ``new`` sites at random dong representative points (jittered), each with
    ``docks`` docks and as many bikes, and the district/city KPIs recomputed with this module's
    rules. Not an optimised plan.
    """
    rng = np.random.default_rng(seed)
    base = layers_from_network(data_dir, with_water=False)
    dongs = load_dongs(data_dir)
    pts = dongs.geometry.representative_point()
    idx = rng.choice(len(dongs), size=new, replace=new > len(dongs))
    xy = np.column_stack([pts.x.to_numpy()[idx], pts.y.to_numpy()[idx]]) + rng.normal(0, 80, (new, 2))
    ll = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS_METRIC).to_crs(CRS_WGS84)
    gus = dongs["gu_kr"].to_numpy()[idx]
    new_rows = [
        {
            "id": f"NEW-{i + 1:04d}", "lat": round(float(p.y), 6), "lon": round(float(p.x), 6), "gu": str(g),
            "dong": "", "docks": docks, "bikes": docks,
            "population_newly_covered": float(rng.integers(100, 2000)),
            "predicted_trips": round(float(rng.uniform(5, 40)), 1), "rank": i + 1,
            "candidate_id": int(idx[i]),
            "reason": "synthetic site for tests",
        }
        for i, (p, g) in enumerate(zip(ll, gus, strict=True))
    ]  # fmt: skip
    ex = base.existing_stations
    existing_rows = [
        {
            "station_id": str(r.station_id), "number": int(r.number) if str(r.number).isdigit() else None,
            "name": str(r.name), "gu": str(r.gu), "lat": round(float(r.geometry.y), 6),
            "lon": round(float(r.geometry.x), 6), "docks": int(r.docks), "bikes": int(r.bikes),
        }
        for r in ex.itertuples(index=False)
    ]  # fmt: skip
    new_gdf = _points(
        pd.DataFrame([{**r, "station_id": r["id"], "name": r["id"], "kind": "new"} for r in new_rows])
    )
    cov = pd.concat([base.coverage, catchments(new_gdf, DEFAULT_CATCHMENT_M, kind="new")], ignore_index=True)
    after = district_kpis(
        base.districts[["gu_kr", "gu_en", "code", "population", "geometry"]],
        [ex, new_gdf],
        coverage_share(gpd.GeoDataFrame(cov, geometry="geometry", crs=CRS_WGS84), dongs),
    )
    before = base.districts.set_index("gu_kr")
    districts = [
        {
            "gu": r.gu_kr, "population": float(r.population),
            "stations_before": int(before.at[r.gu_kr, "stations"]),
            "stations": int(r.stations), "docks": int(r.docks), "bikes": int(r.bikes),
            "bikes_per_10k": float(r.bikes_per_10k), "min_bikes_per_10k": None,
            "covered_share_before": float(before.at[r.gu_kr, "coverage_share"]),
            "covered_share": float(r.coverage_share),
        }
        for r in after.itertuples(index=False)
    ]  # fmt: skip

    def city(c: Mapping[str, float]) -> dict[str, Any]:
        return {
            "stations": int(c["stations"]), "docks": int(c["docks"]), "bikes": int(c["bikes"]),
            "population": float(c["population"]), "bikes_per_10k": float(c["bikes_per_10k"]),
            "covered_population": float(c["coverage_share"] * c["population"]),
            "covered_share": float(c["coverage_share"]),
        }  # fmt: skip

    stats = {
        "solver": "synthetic",
        "status": "FEASIBLE",
        "objective": 0.0,
        "bound": None,
        "seconds": 0.0,
        "seed": seed,
    }
    return {
        "schema_version": "1",
        "scenario": scenario,
        "radius_m": DEFAULT_CATCHMENT_M,
        "min_spacing_m": 250.0,
        "population_source": "grid",
        "population_total": float(base.districts["population"].sum()),
        "new_stations": new_rows,
        "existing_stations": existing_rows,
        "districts": districts,
        "city_before": city(citywide(base.districts)),
        "city_after": city(citywide(after)),
        "siting_stats": stats,
        "fleet_stats": stats,
        "provenance": {"code_version": "synthetic", "datasets": {}, "scenario": None, "seed": seed},
        "greedy_covered_population": None,
        "notes": ["synthetic plan for tests and benchmarks"],
    }
