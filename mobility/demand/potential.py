"""Demand potential: trips per day a station would see at any location, from its catchment.

Target
------
For each existing station with at least ``min_months`` months of 2023 usage, the mean number of
trips per day that touch it: ``(rentals + returns) / days reported`` (OA-15249).

Features of a location (all distances in EPSG:5179 metres)
----------------------------------------------------------
* ``pop_walk`` — residents (KOSTAT 100 m grid, 2021) within ``walk_radius_m`` of *walking
  network* distance: grid cells and the location are snapped to the OSM walk network and a
  radius-bounded Dijkstra (``mobility.network.matrix.within_radius``) collects the cells in
  reach, counting the straight-line access legs at both ends. Without a network the straight-line
  distance is used (``pop_walk_kind`` says which).
* ``pop_context`` — residents within ``context_radius_m`` (straight line): the density of the area.
* ``dist_subway_m`` — distance to the nearest subway/rail station (log-scaled inside the models).
* ``subway_within`` — subway stations within ``walk_radius_m``.
* ``lane_m`` — length of bike roads (Seoul Smart Map 자전거도로) within ``lane_radius_m``.
* ``subway_lines`` — lines serving the subway stations within ``walk_radius_m`` (hubs count more).
* ``age_years`` — years the station had been in service by mid-2023 (older stations sit where
  demand was proven and have built a habit); a new site is predicted at
  ``new_site_age_years`` (1 year).
* ``nb_trips`` — mean observed 2023 trips/day of the 5 nearest existing stations (the
  station's own usage excluded): a spatial lag that carries what no open layer does (offices,
  shops, parks, the Han river). A planner placing a new site knows its neighbours' usage too.
* ``area_trips`` — the same over the 30 nearest stations (about a 1.5–2 km area): the
  district-scale level of use, without a district label that could not carry over to a
  held-out district.
* ``stations_within`` / ``dist_station_m`` — existing stations within ``station_radius_m`` and the
  distance to the nearest one (excluding the station itself when fitting): a new station next to
  existing ones shares their riders (cannibalisation), which the model learns from how usage of
  today's stations varies with their neighbours.

Models
------
* ``baseline``: Poisson GLM on ``log(1 + pop_walk)`` only (population-only).
* ``neighbours``: Poisson GLM on ``log(1 + nb_trips)`` only (the spatial lag alone).
* ``glm`` (used by :meth:`DemandPotentialModel.predict` by default): Poisson GLM on all
  features (log-transformed where skewed), standardized.
* ``gbm``: histogram gradient boosting with Poisson loss on all features.

Spatial cross-validation
------------------------
Neighbouring stations share riders and surroundings, so a random K-fold split leaks: the model
sees the station next door. :meth:`DemandPotentialModel.cross_validate` holds out *whole
districts* (``GroupKFold`` with the 자치구 as group) and reports MAE, RMSE, R² and the MAE of
``log(1 + y)`` on the held-out districts, for every model, so the gain over the population-only
baseline is measured on places the model has not seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from mobility.errors import InputError

FEATURES: tuple[str, ...] = (
    "pop_walk",
    "pop_context",
    "dist_subway_m",
    "subway_within",
    "lane_m",
    "stations_within",
    "dist_station_m",
    "subway_lines",
    "age_years",
    "nb_trips",
    "area_trips",
)
_LOG_FEATURES = (
    "pop_walk",
    "pop_context",
    "dist_subway_m",
    "lane_m",
    "dist_station_m",
    "nb_trips",
    "area_trips",
)
NEIGHBOURS = 5
AREA_NEIGHBOURS = 30


@dataclass(frozen=True)
class PotentialParams:
    """Catchment radii and model settings.

    Attributes
    ----------
    walk_radius_m
        Walking distance that defines a station's residents and nearby subway stations.
    context_radius_m
        Straight-line radius of the area-density feature.
    lane_radius_m
        Radius for bike-road length.
    station_radius_m
        Radius for counting existing stations (cannibalisation).
    min_months
        Stations with fewer months of 2023 usage are left out of fitting (ramp-up).
    new_site_age_years
        Station age (years in service in mid-2023) assumed for a new site: predictions are
        for a station in its first full year.
    folds
        Spatial CV folds (districts are split among them).
    seed
        Random seed of the boosting model.
    """

    walk_radius_m: float = 500.0
    context_radius_m: float = 1500.0
    lane_radius_m: float = 500.0
    station_radius_m: float = 500.0
    min_months: int = 6
    new_site_age_years: float = 1.0
    folds: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("walk_radius_m", "context_radius_m", "lane_radius_m", "station_radius_m"):
            v = getattr(self, name)
            if not v > 0:
                raise InputError(f"PotentialParams.{name}", v, "> 0 metres")
        if self.folds < 2:
            raise InputError("PotentialParams.folds", self.folds, ">= 2")


@dataclass
class CatchmentLayers:
    """The layers features are computed from (metric EPSG:5179 coordinates).

    Attributes
    ----------
    pop_xy, pop
        Population grid cell centres and residents.
    subway_xy, subway_lines
        Subway / rail station positions and the number of lines serving each.
    lane_xy, lane_len
        Mid-points and lengths (m) of bike-road segments.
    station_xy, station_number
        Existing stations.
    station_trips
        Observed trips per day of each existing station (NaN where unknown), for ``nb_trips``.
    walk
        Optional ``(profiled walk network, snapped population cells)`` for network distances.
    sources
        The files the layers (and, from :func:`fit_targets_from_data`, the training usage) were
        read from, by name (``population_grid``, ``subway_stations``, ``bike_lanes``,
        ``stations``, ``network``, ``usage``), for provenance; empty when built from arrays.
    """

    pop_xy: np.ndarray
    pop: np.ndarray
    subway_xy: np.ndarray
    subway_lines: np.ndarray
    lane_xy: np.ndarray
    lane_len: np.ndarray
    station_xy: np.ndarray
    station_number: np.ndarray
    station_trips: np.ndarray | None = None
    walk: tuple[Any, Any] | None = None
    sources: dict[str, Path] = field(default_factory=dict)
    _trees: dict[str, cKDTree] = field(default_factory=dict, repr=False)

    def tree(self, name: str) -> cKDTree:
        """KD-tree over one layer's points (built once)."""
        if name not in self._trees:
            pts = {
                "pop": self.pop_xy,
                "subway": self.subway_xy,
                "lane": self.lane_xy,
                "station": self.station_xy,
            }
            self._trees[name] = cKDTree(pts[name])
        return self._trees[name]


def _sum_within(tree: cKDTree, values: np.ndarray, xy: np.ndarray, r: float) -> np.ndarray:
    hits = tree.query_ball_point(xy, r)
    return np.array([values[h].sum() if len(h) else 0.0 for h in hits])


def features_for_points(
    layers: CatchmentLayers,
    x: np.ndarray,
    y: np.ndarray,
    *,
    lon: np.ndarray | None = None,
    lat: np.ndarray | None = None,
    exclude_numbers: np.ndarray | None = None,
    age_years: np.ndarray | None = None,
    params: PotentialParams | None = None,
) -> pd.DataFrame:
    """Catchment features of locations given in EPSG:5179 metres.

    Parameters
    ----------
    layers
        Population, subway, bike-road and station layers.
    x, y
        Locations (metres, EPSG:5179).
    lon, lat
        The same locations in WGS84, needed only to snap them to the walk network.
    exclude_numbers
        For each location, the station number to leave out of the station features (its own
        station when fitting on existing stations); ``None`` for new sites.
    age_years
        Years in service (mid-2023) of each location's station; default
        ``params.new_site_age_years`` (a new site).
    params
        Radii.

    Returns
    -------
    pandas.DataFrame
        One row per location with the columns of :data:`FEATURES` and ``pop_walk_kind``.
    """
    params = params or PotentialParams()
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    if xy.shape[0] == 0:
        return pd.DataFrame(columns=[*FEATURES, "pop_walk_kind"])
    if not np.all(np.isfinite(xy)):
        raise InputError("x, y", "non-finite coordinates", "finite EPSG:5179 metres")
    out = pd.DataFrame(index=range(len(xy)))

    kind = "straight line"
    if layers.walk is not None and lon is not None and lat is not None:
        from mobility.network.matrix import within_radius
        from mobility.network.snap import snap_points

        pnet, cells = layers.walk
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            pts = snap_points(pnet, np.asarray(lon, float), np.asarray(lat, float))
        reach = within_radius(
            pnet,
            pts,
            cells,
            params.walk_radius_m,
            weight="length",
            source_offsets=pts.distance_m,
            target_offsets=cells.distance_m,
        )
        reach = reach.tocsr()
        reach.data = np.ones_like(reach.data)
        out["pop_walk"] = reach @ layers.pop
        kind = "walk network"
    else:
        out["pop_walk"] = _sum_within(layers.tree("pop"), layers.pop, xy, params.walk_radius_m)
    out["pop_context"] = _sum_within(layers.tree("pop"), layers.pop, xy, params.context_radius_m)
    d_sub, _ = layers.tree("subway").query(xy, k=1)
    out["dist_subway_m"] = d_sub
    near = layers.tree("subway").query_ball_point(xy, params.walk_radius_m)
    out["subway_within"] = [len(h) for h in near]
    out["subway_lines"] = [float(layers.subway_lines[h].sum()) if len(h) else 0.0 for h in near]
    out["lane_m"] = _sum_within(layers.tree("lane"), layers.lane_len, xy, params.lane_radius_m)

    tree = layers.tree("station")
    k = min(4, len(layers.station_xy))
    dist, idx = tree.query(xy, k=k)
    dist, idx = np.atleast_2d(dist).reshape(len(xy), k), np.atleast_2d(idx).reshape(len(xy), k)
    own = np.zeros_like(idx, dtype=bool)
    if exclude_numbers is not None:
        excl = np.asarray(exclude_numbers)
        own = layers.station_number[idx] == excl[:, None]
    d_masked = np.where(own, np.inf, dist)
    out["dist_station_m"] = np.min(d_masked, axis=1)
    counts = np.array([len(h) for h in tree.query_ball_point(xy, params.station_radius_m)], dtype=float)
    if exclude_numbers is not None:
        counts -= own.any(axis=1) & (np.where(own, dist, np.inf).min(axis=1) <= params.station_radius_m)
    out["stations_within"] = counts
    out["nb_trips"] = _neighbour_trips(layers, xy, exclude_numbers, NEIGHBOURS)
    out["area_trips"] = _neighbour_trips(layers, xy, exclude_numbers, AREA_NEIGHBOURS)
    out["age_years"] = (
        np.full(len(xy), params.new_site_age_years) if age_years is None else np.asarray(age_years, float)
    )
    out["pop_walk_kind"] = kind
    return out


def _one_thread() -> Any:
    """Limit OpenMP to one thread: on a small shared machine the boosting model's threads
    oversubscribe the cores and run many times slower; one thread is also reproducible."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=1, user_api="openmp")


def _neighbour_trips(
    layers: CatchmentLayers, xy: np.ndarray, exclude: np.ndarray | None, neighbours: int = 5
) -> np.ndarray:
    """Mean observed trips/day of the ``neighbours`` nearest stations with usage (not the own one)."""
    known = (
        np.flatnonzero(np.isfinite(layers.station_trips))
        if layers.station_trips is not None
        else np.zeros(0, dtype=np.int64)
    )
    if known.size == 0 or layers.station_trips is None:
        return np.zeros(len(xy))
    k = min(neighbours + 1, known.size)
    _, idx = cKDTree(layers.station_xy[known]).query(xy, k=k)
    rows = known[np.asarray(idx).reshape(len(xy), k)]
    keep = np.ones_like(rows, dtype=bool)
    if exclude is not None:
        keep = layers.station_number[rows] != np.asarray(exclude)[:, None]
    keep &= np.cumsum(keep, axis=1) <= neighbours
    vals = layers.station_trips[rows]
    return np.asarray((vals * keep).sum(axis=1) / np.maximum(keep.sum(axis=1), 1))


def _design(features: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    cols = []
    for c in columns:
        v = features[c].to_numpy(float)
        cols.append(np.log1p(v) if c in _LOG_FEATURES else v)
    return np.column_stack(cols)


def _make_model(name: str, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import PoissonRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name in ("baseline", "neighbours", "glm"):
        return make_pipeline(StandardScaler(), PoissonRegressor(alpha=1e-4, max_iter=1000))
    if name == "gbm":
        return HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=200,
            learning_rate=0.05,
            max_leaf_nodes=15,
            min_samples_leaf=30,
            l2_regularization=1.0,
            random_state=seed,
        )
    raise InputError("model", name, ", ".join(MODEL_COLUMNS))


MODEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "baseline": ("pop_walk",),
    "neighbours": ("nb_trips",),
    "glm": FEATURES,
    "gbm": FEATURES,
}


@dataclass
class CVReport:
    """Spatial cross-validation of every model (whole districts held out).

    Attributes
    ----------
    folds
        Number of folds.
    groups
        Districts in each fold's test set.
    metrics
        Model -> ``{"mae", "rmse", "r2", "mae_log"}`` over all held-out predictions.
    per_fold
        Model -> list of per-fold metric dicts.
    n
        Stations evaluated.
    mean_target
        Mean of the target (trips or imbalance per day) over those stations.
    """

    folds: int
    groups: list[list[str]]
    metrics: dict[str, dict[str, float]]
    per_fold: dict[str, list[dict[str, float]]]
    n: int
    mean_target: float

    def rows(self) -> list[dict[str, Any]]:
        """One row per model (for tables)."""
        return [{"model": m, **v} for m, v in self.metrics.items()]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "folds": self.folds,
            "held_out_districts": self.groups,
            "n_stations": self.n,
            "mean_target": self.mean_target,  # of what was predicted (trips or imbalance per day)
            "metrics": self.metrics,
            "per_fold": self.per_fold,
        }


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    resid = y - p
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return {
        "mae": float(np.abs(resid).mean()),
        "rmse": float(np.sqrt((resid**2).mean())),
        "r2": float(1 - (resid**2).sum() / ss_tot) if ss_tot > 0 else float("nan"),
        "mae_log": float(np.abs(np.log1p(y) - np.log1p(np.maximum(p, 0))).mean()),
    }


class DemandPotentialModel:
    """Predicts trips per day (rentals + returns) of a station at any location.

    Parameters
    ----------
    layers
        Catchment layers for :meth:`features_for_points`.
    params
        Radii and model settings.
    model
        Which model :meth:`predict` uses: ``"glm"`` by default, the best in spatial CV on the
        2023 data (see the README).
    """

    def __init__(
        self, layers: CatchmentLayers, params: PotentialParams | None = None, *, model: str = "glm"
    ) -> None:
        self.layers = layers
        self.params = params or PotentialParams()
        self.model_name = model
        self._models: dict[str, Any] = {}
        self.n_train = 0

    def features_for_points(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        *,
        exclude_numbers: np.ndarray | None = None,
        age_years: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Catchment features of WGS84 locations (see :func:`features_for_points`).

        Parameters
        ----------
        lon, lat
            WGS84 degrees, longitude first (Seoul: lon ≈ 127, lat ≈ 37.5), same length.
        exclude_numbers, age_years
            As in :func:`features_for_points`.

        Returns
        -------
        pandas.DataFrame
            One row per location, in input order.

        Raises
        ------
        InputError
            ``lon/lat`` of different lengths, not finite, or outside WGS84's ranges (swapped).
        """
        from mobility.network.snap import wgs84_points
        from mobility.network.street import to_metric

        lon_a, lat_a = wgs84_points(lon, lat)
        x, y = to_metric(lon_a, lat_a)
        return features_for_points(
            self.layers,
            x,
            y,
            lon=lon_a,
            lat=lat_a,
            exclude_numbers=exclude_numbers,
            age_years=age_years,
            params=self.params,
        )

    def fit(self, features: pd.DataFrame, trips_per_day: np.ndarray) -> DemandPotentialModel:
        """Fit every model on features and observed trips per day."""
        y = np.asarray(trips_per_day, float)
        if len(y) != len(features):
            raise InputError("trips_per_day", len(y), f"{len(features)} values (one per row of features)")
        if np.any(y < 0) or not np.all(np.isfinite(y)):
            raise InputError("trips_per_day", "negative or non-finite values", "finite values >= 0")
        with _one_thread():
            for name, cols in MODEL_COLUMNS.items():
                self._models[name] = _make_model(name, self.params.seed).fit(_design(features, cols), y)
        self.n_train = len(y)
        return self

    def predict(self, features: pd.DataFrame, *, model: str | None = None) -> np.ndarray:
        """Predicted trips per day for rows of features (from :meth:`features_for_points`)."""
        name = model or self.model_name
        if name not in self._models:
            raise InputError("model", name, f"a fitted model ({', '.join(self._models) or 'call fit first'})")
        if len(features) == 0:
            return np.zeros(0)
        with _one_thread():
            return np.asarray(self._models[name].predict(_design(features, MODEL_COLUMNS[name])), float)

    def predict_points(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Predicted trips per day (rentals + returns) of new stations at WGS84 locations.

        ``lon``, ``lat``: degrees, longitude first, same length (see :meth:`features_for_points`).
        Returns a float64 array, one value per location, in input order.
        """
        return self.predict(self.features_for_points(lon, lat))

    def cross_validate(
        self, features: pd.DataFrame, trips_per_day: np.ndarray, groups: np.ndarray
    ) -> CVReport:
        """Spatial K-fold: whole districts (``groups``) are held out together."""
        from sklearn.model_selection import GroupKFold

        y = np.asarray(trips_per_day, float)
        g = np.asarray(groups).astype(str)
        n_groups = len(set(g.tolist()))
        folds = min(self.params.folds, n_groups)
        if folds < 2:
            raise InputError("groups", n_groups, "at least 2 districts for spatial cross-validation")
        splitter = GroupKFold(n_splits=folds)
        preds = {name: np.zeros(len(y)) for name in MODEL_COLUMNS}
        per_fold: dict[str, list[dict[str, float]]] = {name: [] for name in MODEL_COLUMNS}
        held: list[list[str]] = []
        with _one_thread():
            for train, test in splitter.split(features, y, g):
                held.append(sorted(set(g[test].tolist())))
                for name, cols in MODEL_COLUMNS.items():
                    m = _make_model(name, self.params.seed).fit(_design(features.iloc[train], cols), y[train])
                    p = m.predict(_design(features.iloc[test], cols))
                    preds[name][test] = p
                    per_fold[name].append(_metrics(y[test], p))
        metrics = {name: _metrics(y, preds[name]) for name in MODEL_COLUMNS}
        return CVReport(folds, held, metrics, per_fold, len(y), float(y.mean()))

    def describe(self) -> dict[str, Any]:
        """What the model is and what it was fitted on."""
        return {
            "model": self.model_name,
            "features": list(FEATURES),
            "n_stations": self.n_train,
            "walk_network": self.layers.walk is not None,
            "radii_m": {
                "walk": self.params.walk_radius_m,
                "context": self.params.context_radius_m,
                "lanes": self.params.lane_radius_m,
                "stations": self.params.station_radius_m,
            },
        }


def training_table(
    stations: pd.DataFrame, usage: pd.DataFrame, *, year: int = 2023, min_months: int = 6
) -> pd.DataFrame:
    """Stations with their mean trips per day (rentals + returns) in ``year``, and their imbalance.

    ``imbalance_per_day`` is ``|rentals - returns|`` over the year divided by its days: the bikes
    a day that pile up at (or drain from) the station and must be moved by truck.
    Stations with fewer than ``min_months`` months of usage are left out (their first months
    are a ramp-up), as are usage rows of stations not in ``stations``.
    """
    from mobility.demand.holidays import month_day_types

    u = usage.copy()
    u["month"] = u["month"].astype("string")
    u = u[u["month"].str.startswith(str(year)).fillna(False)]
    u = u[u["number"].notna()]
    days_in = {m: float(sum(month_day_types(str(m)).values())) for m in u["month"].unique()}
    u["days"] = u["month"].map(days_in).astype(float)
    g = u.groupby(u["number"].astype("int64")).agg(
        trips=("rentals", "sum"),
        returns=("returns", "sum"),
        days=("days", "sum"),
        months=("month", "nunique"),
    )
    g["trips_per_day"] = (g["trips"] + g["returns"]) / g["days"]
    g["imbalance_per_day"] = (g["trips"] - g["returns"]).abs() / g["days"]
    st = stations.copy()
    st["number"] = st["number"].astype("int64")
    out = st.merge(
        g[["trips_per_day", "imbalance_per_day", "months"]], left_on="number", right_index=True, how="inner"
    )
    mid = pd.Timestamp(f"{year}-07-01")
    if "installed_on" in out.columns:
        age = (mid - pd.to_datetime(out["installed_on"])).dt.days.to_numpy(float) / 365.25
    else:
        age = np.full(len(out), np.nan)
    age = np.clip(age, 0.0, None)
    out["age_years"] = np.where(np.isfinite(age), age, np.nanmedian(age) if np.isfinite(age).any() else 1.0)
    return out[out["months"] >= min_months].reset_index(drop=True)


# --------------------------------------------------------------------------- real data wiring


def _lane_segments(lanes: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mid-points and lengths of every segment of the bike roads, EPSG:5179."""
    import shapely

    from mobility.sources.base import CRS_METRIC

    metric = lanes.to_crs(CRS_METRIC)
    coords, part = shapely.get_coordinates(shapely.get_parts(metric.geometry.to_numpy()), return_index=True)
    same = part[1:] == part[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    return (a + b) / 2.0, np.hypot(*(b - a).T)


def build_layers(
    data_dir: Path | None = None, stations: pd.DataFrame | None = None, *, use_network: bool = True
) -> CatchmentLayers:
    """Catchment layers from the real data (population grid, subway, bike roads, stations).

    With ``use_network`` the population cells are snapped to the OSM walk network so that
    ``pop_walk`` uses walking distances. The files read are in the layers' ``sources`` (the
    station list's only when ``stations`` is not given).
    """
    import warnings

    from mobility.demand.data import STATION_SOURCE
    from mobility.network.street import to_metric
    from mobility.sources.layers import load_bike_lanes, load_subway_stations
    from mobility.sources.population import load_population_grid
    from mobility.sources.stations import load_station_list

    loaded = {
        "population_grid": load_population_grid(data_dir),
        "subway_stations": load_subway_stations(data_dir, seoul_only=False, distinct=True),
        "bike_lanes": load_bike_lanes(data_dir),
    }
    if stations is None:
        loaded["stations"] = load_station_list(STATION_SOURCE, data_dir=data_dir)
    sources = {name: ld.sources[0] for name, ld in loaded.items() if ld.sources}
    grid, subway = loaded["population_grid"].table, loaded["subway_stations"].table
    lanes = loaded["bike_lanes"].table
    st = stations if stations is not None else loaded["stations"].table
    sx, sy = to_metric(subway["lon"].to_numpy(float), subway["lat"].to_numpy(float))
    tx, ty = to_metric(st["lon"].to_numpy(float), st["lat"].to_numpy(float))
    lane_xy, lane_len = _lane_segments(lanes)
    walk = None
    if use_network:
        from mobility.network.graph import load_network
        from mobility.network.profiles import WALK, apply_profile
        from mobility.network.snap import snap_points

        pnet = apply_profile(load_network("osm-all", data_dir), WALK)
        if pnet.net.info.get("source_path"):
            sources["network"] = Path(str(pnet.net.info["source_path"]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            cells = snap_points(pnet, grid["lon"].to_numpy(float), grid["lat"].to_numpy(float))
        walk = (pnet, cells)
    return CatchmentLayers(
        pop_xy=np.column_stack([grid["x_5179"].to_numpy(float), grid["y_5179"].to_numpy(float)]),
        pop=grid["population"].to_numpy(float),
        subway_xy=np.column_stack([sx, sy]),
        subway_lines=subway["n_lines"].to_numpy(float),
        lane_xy=lane_xy,
        lane_len=lane_len,
        station_xy=np.column_stack([tx, ty]),
        station_number=st["number"].astype("int64").to_numpy(),
        walk=walk,
        sources=sources,
    )


def _feature_inputs(root: Any, use_network: bool) -> list[Any]:
    files = sorted((root / "ttareungi").glob("*.csv"))
    files += [root / "population" / "seoul_pop_grid_100m.csv", *sorted((root / "layers").glob("*"))]
    if use_network:
        files += sorted((root / "osm").glob("*.graphml*"))
    return [f for f in files if f.is_file()]


def feature_inputs(data_dir: Path | None = None, *, use_network: bool = True) -> list[Path]:
    """The files a model fitted by :func:`fit_targets_from_data` depends on (the key of its cached
    training features): every Ttareungi table, the population grid, the layers and, with
    ``use_network``, the street network's GraphML."""
    from mobility.config import resolve_data_dir

    return _feature_inputs(resolve_data_dir(data_dir), use_network)


PotentialTarget = Literal["trips_per_day", "imbalance_per_day"]
"""What a demand-potential model learns (a column of :func:`training_table`)."""


def fit_from_data(
    data_dir: Path | None = None,
    *,
    cross_validate: bool = False,
    params: PotentialParams | None = None,
    use_network: bool = True,
    target: PotentialTarget = "trips_per_day",
) -> tuple[DemandPotentialModel, CVReport | None]:
    """Fit the potential model on the 2025-12 stations' 2023 usage; optionally cross-validate.

    ``target`` is what the model learns: trips per day (rentals + returns, the default) or the
    imbalance ``|rentals - returns|`` per day (see :func:`training_table`). One target of
    :func:`fit_targets_from_data`.
    """
    fitted = fit_targets_from_data(
        data_dir, (target,), cross_validate=cross_validate, params=params, use_network=use_network
    )
    return fitted[target]


def fit_targets_from_data(
    data_dir: Path | None = None,
    targets: tuple[PotentialTarget, ...] = ("trips_per_day",),
    *,
    cross_validate: bool = False,
    params: PotentialParams | None = None,
    use_network: bool = True,
) -> dict[str, tuple[DemandPotentialModel, CVReport | None]]:
    """One model per target, all on the same catchment layers and training features.

    The data is read and the layers are built once; the training stations' features are cached
    (``<cache>/demand/<key>.potential.parquet``), keyed on the input files, the radii and whether
    the walk network is used. The models share their layers, so :meth:`features_for_points` of
    any of them serves all of them; the layers' ``sources`` name every file read (the training
    stations and usage included).
    """
    from dataclasses import asdict

    from mobility.cache import cache_key, load_or_discard
    from mobility.config import cache_dir, resolve_data_dir
    from mobility.demand.data import STATION_SOURCE, normalize_usage
    from mobility.io import atomic_path
    from mobility.sources.stations import load_station_list
    from mobility.sources.usage import load_station_monthly_usage

    params = params or PotentialParams()
    root = resolve_data_dir(data_dir)
    st_loaded = load_station_list(STATION_SOURCE, data_dir=root)
    usage = load_station_monthly_usage(data_dir=root)
    stations = st_loaded.table
    train = training_table(stations, normalize_usage(usage.table), min_months=params.min_months)
    trips = pd.Series(train["trips_per_day"].to_numpy(float), index=train["number"].astype("int64"))
    key = cache_key(_feature_inputs(root, use_network), params=asdict(params), network=use_network, v=3)
    path = cache_dir("demand") / f"{key}.potential.parquet"
    layers = build_layers(root, stations, use_network=use_network)  # needed to predict new sites
    read = {"stations": st_loaded.sources, "usage": usage.sources}
    layers.sources.update({name: files[0] for name, files in read.items() if files})
    layers.station_trips = pd.Series(layers.station_number).map(trips).to_numpy(float)
    feats = load_or_discard(path, pd.read_parquet)  # a damaged entry is deleted and built again
    if feats is None:
        feats = DemandPotentialModel(layers, params).features_for_points(
            train["lon"].to_numpy(float),
            train["lat"].to_numpy(float),
            exclude_numbers=train["number"].to_numpy(),
            age_years=train["age_years"].to_numpy(float),
        )
        with atomic_path(path) as tmp:
            feats.to_parquet(tmp, index=False)
    groups = train["gu"].astype(str).to_numpy()
    out: dict[str, tuple[DemandPotentialModel, CVReport | None]] = {}
    for target in targets:
        model = DemandPotentialModel(layers, params)
        y = train[target].to_numpy(float)
        report = model.cross_validate(feats, y, groups) if cross_validate else None
        out[target] = (model.fit(feats, y), report)
    return out
