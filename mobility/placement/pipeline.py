"""From a scenario to a :class:`~mobility.placement.plan.Plan`, in named stages.

:func:`plan_expansion` is the one entry point (used by ``mobility plan``, the API and the bench);
it chains the stages, each a function with a small result that a test or the sweep
(:mod:`mobility.placement.sweep`) can call alone:

1. inputs (:func:`build_inputs`): baseline stations, the 100 m population grid, district
   populations, the walking network; demand points and the existing coverage (walking distance
   within the radius); predicted trips per candidate -> :class:`ExpansionInputs`;
2. candidates (:func:`find_candidates`): street nodes, thinned, inside Seoul, spaced from existing
   stations, outside forbidden polygons -> :class:`~mobility.placement.candidates.CandidateSites`;
3. coverage data (:func:`build_expansion_data`): demand grouped by the candidates covering it,
   count, district and budget rules -> :class:`~mobility.placement.models.ExpansionData`;
4. siting (:func:`solve_siting`): :class:`~mobility.placement.models.ExpansionModel` (MIP or
   CP-SAT, lazy-greedy warm start) -> :class:`Siting`;
5. fleet (:func:`fleet_problem`, :func:`~mobility.placement.fleet.allocate_fleet`): docks and
   bikes per station -> :class:`~mobility.placement.fleet.FleetResult`;
6. plan: KPIs per district and citywide, before and after, and provenance -> :class:`Plan`.

Loading goes through the loaders of :mod:`mobility.sources` and :mod:`mobility.network`; this
module reads no file itself.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from mobility.errors import DataNotFoundError, InfeasibleError, InputError, StopRequested, given_as
from mobility.placement.baseline import district_population, districts_in, uploaded_stations
from mobility.placement.candidates import (
    CandidateSites,
    DemandPoints,
    conflict_pairs,
    euclidean_reach,
    far_from,
    points_in_polygons,
    snap,
    thin_to_grid,
    thin_to_spacing,
    walking_cover,
)
from mobility.placement.fleet import FleetProblem, FleetResult, allocate_fleet
from mobility.placement.models import ExpansionData, ExpansionModel, ExpansionResult, ModelParams
from mobility.placement.plan import CityKPI, DistrictKPI, NewStation, Plan, StationAllocation, per_10k
from mobility.placement.preflight import (
    PreflightInputs,
    district_floors,
    fleet_limits,
    fleet_total,
    infeasible,
)
from mobility.progress import Progress, no_progress, within
from mobility.provenance import Provenance
from mobility.quality import QualityReport
from mobility.scenario.expansion import ExpansionScenario
from mobility.stats import MaxRuntime, StoppingCriterion

if TYPE_CHECKING:
    from mobility.demand.potential import PotentialTarget
    from mobility.network.profiles import ProfiledNetwork

STAGE_SHARES: dict[bool, dict[str, float]] = {
    True: {"siting": 0.35, "fleet": 0.55, "figures": 0.62, "simulation": 0.63},
    False: {"siting": 0.45, "fleet": 0.85, "figures": 0.97, "simulation": 1.0},
}
"""Where each stage of :func:`plan_expansion` starts, as a share of the whole run, with and without
the rider simulation: the inputs stage runs from 0 to ``siting``, and so on. From a cold cache the
2019 plan takes 35 s for the inputs (32 of them building the walking network, once), 4.5 s for the
site selection, 1 s for the fleet and 20 s for the simulation (Intel Xeon, 2026-12-06); warm, the
inputs take 3.6 s. The site selection's own length is its time limit at most."""


def _stoppable(progress: Progress, stop: StoppingCriterion) -> Progress:
    """``progress`` that first asks ``stop`` and raises :class:`StopRequested` when told to."""

    def report(message: str, /, done: float | None = None) -> None:
        if stop(math.inf):
            raise StopRequested(message)
        progress(message, done)

    return report


@dataclass
class ExpansionInputs:
    """Everything the models need, built once per scenario (also used by tests and the bench).

    Attributes
    ----------
    demand
        Demand points (grid cells with residents, plus subway stations when weighted).
    stations
        Baseline station table (station_id, number, name, gu, lat, lon, docks, ...).
    station_x, station_y
        Baseline stations in EPSG:5179.
    existing_cover
        ``(n_stations, n_points)`` walking coverage of the baseline stations.
    covered_before
        Demand points within the radius of a baseline station.
    candidates
        Candidate sites kept after every filter.
    candidate_cover
        ``(n_candidates, n_points)`` coverage of the candidates (only points not yet covered).
    candidate_report
        How many nodes each filter removed.
    district_names
        The 25 gu, in a fixed order.
    district_population
        Residents per gu from the scenario's population source.
    total_bikes
        The fleet size to allocate.
    predicted_trips
        Trips/day per candidate (``None`` when the demand-potential model was not used).
    predicted_imbalance
        ``|rentals - returns|``/day per candidate (``None`` unless ``objective.imbalance > 0``).
    graph, point_node, point_snap
        The walking network (CSR, metres) and the demand points' snapping, for re-checks.
    datasets
        Files read, by name, for provenance: the baseline ``stations``, the ``population_grid``,
        the ``district_population``, the walking ``network``, the ``subway_stations`` (when
        weighted), the ``district_boundaries`` and ``dong_boundaries`` the candidates are placed
        in, and the demand-potential model's training data (``demand_potential.<name>``, when
        trips or imbalance are predicted).
    notes
        Human remarks (fallbacks taken, options ignored).
    """

    demand: DemandPoints
    stations: pd.DataFrame
    station_x: npt.NDArray[np.float64]
    station_y: npt.NDArray[np.float64]
    station_node: npt.NDArray[np.int64]
    station_snap: npt.NDArray[np.float64]
    existing_cover: sp.csr_matrix
    covered_before: npt.NDArray[np.bool_]
    candidates: CandidateSites
    candidate_cover: sp.csr_matrix
    candidate_report: dict[str, int]
    district_names: list[str]
    district_population: pd.Series
    total_bikes: int
    predicted_trips: npt.NDArray[np.float64] | None
    graph: sp.csr_matrix
    node_x: npt.NDArray[np.float64]
    node_y: npt.NDArray[np.float64]
    point_node: npt.NDArray[np.int64]
    point_snap: npt.NDArray[np.float64]
    datasets: dict[str, Path]
    notes: list[str]
    predicted_imbalance: npt.NDArray[np.float64] | None = None


def _polygons(polys: list[Any]) -> list[Any]:
    import shapely

    out = []
    for p in polys:
        rings = [list(r) for r in p.coordinates]
        out.append(shapely.make_valid(shapely.Polygon(rings[0], rings[1:])))
    return out


def site_predictions(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    wanted: dict[PotentialTarget, str],
    notes: list[str],
    data_dir: Path | None,
    *,
    datasets: dict[str, Path] | None = None,
) -> dict[str, np.ndarray]:
    """Per day at each site (lon, lat), for each demand-potential target in ``wanted`` (target -> weight).

    The models are fitted on one set of layers and the candidates' features computed once.
    Targets whose model is unavailable are left out, with a note naming ``objective.<weight>``.
    The files the models were fitted on are added to ``datasets`` (when given) as
    ``demand_potential.<name>``.
    """
    if not wanted:
        return {}
    from mobility.demand.potential import fit_targets_from_data

    try:
        fitted = fit_targets_from_data(data_dir, tuple(wanted))
        model = next(iter(fitted.values()))[0]
        if datasets is not None:
            datasets.update({f"demand_potential.{k}": v for k, v in model.layers.sources.items()})
        feats = model.features_for_points(lon, lat)
        out = {}
        for target, (model, _) in fitted.items():
            pred = np.asarray(model.predict(feats), dtype=np.float64)
            if pred.shape != (len(lon),) or not np.all(np.isfinite(pred)):
                raise ValueError(f"{target}: predict returned shape {pred.shape} or non-finite values")
            out[target] = np.maximum(pred, 0.0)
        return out
    except Exception as exc:  # a fallback, reported in the plan's notes
        notes += [f"objective.{w} ignored: demand-potential model failed ({exc})" for w in wanted.values()]
        return {}


def find_candidates(
    sc: ExpansionScenario,
    pnet: ProfiledNetwork,
    demand: DemandPoints,
    covered_before: npt.NDArray[np.bool_],
    station_x: npt.NDArray[np.float64],
    station_y: npt.NDArray[np.float64],
    data_dir: Path | None = None,
    *,
    datasets: dict[str, Path] | None = None,
) -> tuple[CandidateSites, dict[str, int]]:
    """The candidates stage: street nodes that may become a station, and what each filter removed.

    Walkable nodes inside Seoul, one per ``candidates.grid_m`` square, at least ``spacing.min_m``
    from every existing station, outside the forbidden polygons, optionally thinned to a fraction
    of the spacing (nodes near the most uncovered residents first), inside a dong polygon.
    The boundary files read are added to ``datasets`` (when given): ``district_boundaries``
    (Seoul's outline) and ``dong_boundaries``.
    """
    import shapely

    from mobility.sources.base import data_file
    from mobility.sources.boundaries import DISTRICTS_RELPATH, load_dongs, seoul_boundary

    radius = sc.coverage.radius_m
    nx_, ny_ = np.asarray(pnet.x, dtype=np.float64), np.asarray(pnet.y, dtype=np.float64)
    sx, sy = station_x, station_y
    report: dict[str, int] = {"walkable nodes": int(pnet.n_nodes)}
    boundary = seoul_boundary(data_dir)
    read: dict[str, Path] = {}
    # seoul_boundary returns a geometry only: its file, resolved as it resolves it
    read["district_boundaries"] = data_file(data_dir, DISTRICTS_RELPATH, "Seoul gu boundaries")
    inside = np.asarray(shapely.contains_xy(boundary, np.asarray(pnet.lon), np.asarray(pnet.lat)))
    report["outside Seoul"] = int((~inside).sum())
    idx = np.flatnonzero(inside)
    idx = idx[thin_to_grid(nx_[idx], ny_[idx], sc.candidates.grid_m)]
    report[f"thinned to one per {sc.candidates.grid_m:g} m square"] = int(inside.sum() - len(idx))
    far = far_from(nx_[idx], ny_[idx], sx, sy, sc.spacing.min_m)
    report[f"within {sc.spacing.min_m:g} m of an existing station"] = int((~far).sum())
    idx = idx[far]
    forb = points_in_polygons(
        np.asarray(pnet.lon)[idx], np.asarray(pnet.lat)[idx], _polygons(sc.areas.forbidden)
    )
    report["in a forbidden polygon"] = int(forb.sum())
    idx = idx[~forb]
    if sc.candidates.thin_to_spacing and sc.spacing.min_m > 0:
        # keep, among nodes at least min spacing apart, those near the most uncovered residents
        open_w = demand.weight * ~covered_before
        prio = euclidean_reach(nx_[idx], ny_[idx], demand.x, demand.y, open_w, radius)
        thin_m = sc.spacing.min_m * sc.candidates.thin_fraction
        kept = thin_to_spacing(nx_[idx], ny_[idx], thin_m, prio)
        report[f"thinned to {thin_m:g} m spacing (most uncovered residents first)"] = int(
            len(idx) - len(kept)
        )
        idx = idx[kept]
    clon, clat = np.asarray(pnet.lon)[idx].astype(np.float64), np.asarray(pnet.lat)[idx].astype(np.float64)
    dongs = load_dongs(data_dir)
    if dongs.sources:
        read["dong_boundaries"] = dongs.sources[0]
    cgu, cdong = districts_in(clon, clat, dongs.table)
    if datasets is not None:
        datasets.update(read)
    no_gu = cgu == ""
    report["outside every dong polygon"] = int(no_gu.sum())
    keep = ~no_gu
    cands = CandidateSites(
        node=idx[keep].astype(np.int64),
        x=nx_[idx][keep],
        y=ny_[idx][keep],
        lon=clon[keep],
        lat=clat[keep],
        gu=cgu[keep],
        dong=cdong[keep],
    )
    report["candidates"] = len(cands)

    return cands, report


def build_inputs(
    sc: ExpansionScenario,
    *,
    data_dir: Path | None = None,
    progress: Progress = no_progress,
    predict_trips: bool = False,
) -> ExpansionInputs:
    """The inputs and candidates stages: load what a scenario needs, build demand points,
    candidate sites (:func:`find_candidates`) and the walking coverage of both.

    ``predict_trips`` also predicts trips/day at every candidate when the scenario's objective
    does not weigh them (the sweep and the backtest report predicted trips).
    """

    from mobility.network.profiles import profiled
    from mobility.network.street import to_metric
    from mobility.sources.population import load_population_grid
    from mobility.sources.stations import fill_dock_counts, load_station_list

    notes: list[str] = []
    datasets: dict[str, Path] = {}
    radius = sc.coverage.radius_m

    progress("loading baseline stations", 0.0)
    if sc.baseline.station_records is not None:
        stations = uploaded_stations(sc.baseline.station_records, data_dir)
        notes.append(f"baseline: {len(stations)} stations sent as content (an uploaded list)")
        st_report = QualityReport("uploaded stations")
    else:
        st_loaded = load_station_list(str(sc.baseline.stations), data_dir=data_dir, field="baseline.stations")
        stations = st_loaded.table.reset_index(drop=True)
        st_report = st_loaded.report
        if st_loaded.sources:
            datasets["stations"] = st_loaded.sources[0]
    docks, assumed = fill_dock_counts(stations["docks"], st_report)
    notes.extend(f"{n} baseline stations: {label}" for label, n in assumed.items())
    stations["docks"] = docks.astype(int)

    progress("loading population grid", 0.03)
    grid_loaded = load_population_grid(data_dir)
    grid = grid_loaded.table
    if grid_loaded.sources:
        datasets["population_grid"] = grid_loaded.sources[0]
    grid = grid[grid["population"] > 0].reset_index(drop=True)
    pop_by_gu, pop_files = district_population(sc, data_dir)
    if pop_files:
        datasets["district_population"] = pop_files[0]
    district_names = [str(g) for g in pop_by_gu.index]

    dx = grid["x_5179"].to_numpy(np.float64)
    dy = grid["y_5179"].to_numpy(np.float64)
    dlon = grid["lon"].to_numpy(np.float64)
    dlat = grid["lat"].to_numpy(np.float64)
    w = grid["population"].to_numpy(np.float64)
    pop = w.copy()
    gu = grid["gu_kr"].astype(str).to_numpy()
    dong = grid["dong_kr"].fillna("").astype(str).to_numpy()
    kind = np.full(len(grid), "grid")
    if sc.objective.subway_weight > 0:
        from mobility.sources.layers import load_subway_stations

        sub_loaded = load_subway_stations(data_dir, distinct=True)
        sub = sub_loaded.table
        if sub_loaded.sources:
            datasets["subway_stations"] = sub_loaded.sources[0]
        slon = sub["lon"].to_numpy(np.float64)
        slat = sub["lat"].to_numpy(np.float64)
        sx, sy = to_metric(slon, slat)
        dx, dy = np.concatenate([dx, sx]), np.concatenate([dy, sy])
        dlon, dlat = np.concatenate([dlon, slon]), np.concatenate([dlat, slat])
        w = np.concatenate([w, np.full(len(sub), sc.objective.subway_weight)])
        pop = np.concatenate([pop, np.zeros(len(sub))])
        sgu = sub["gu_kr"].astype(str).to_numpy() if "gu_kr" in sub else np.full(len(sub), "")
        gu = np.concatenate([gu, sgu])
        dong = np.concatenate([dong, np.full(len(sub), "")])
        kind = np.concatenate([kind, np.full(len(sub), "subway")])
    demand = DemandPoints(
        x=dx, y=dy, lon=dlon, lat=dlat, weight=w, population=pop, gu=gu, dong=dong, kind=kind
    )

    progress("walking network", 0.06)
    with given_as("coverage.network", argument="source"):  # a misspelt name is the scenario's
        pnet = profiled(sc.coverage.network, "walk", data_dir, progress=progress)
    src = pnet.net.info.get("source_path")
    if src:
        datasets["network"] = Path(str(src))
    graph = pnet.csr("length")
    nx_, ny_ = np.asarray(pnet.x, dtype=np.float64), np.asarray(pnet.y, dtype=np.float64)
    point_node, point_snap = snap(nx_, ny_, demand.x, demand.y)
    sx, sy = to_metric(stations["lon"].to_numpy(np.float64), stations["lat"].to_numpy(np.float64))
    sx, sy = np.asarray(sx, dtype=np.float64), np.asarray(sy, dtype=np.float64)
    st_node, st_snap = snap(nx_, ny_, sx, sy)

    progress("coverage of the existing stations", 0.5)
    existing_cover = walking_cover(graph, st_node, st_snap, point_node, point_snap, radius)
    covered_before = np.asarray(existing_cover.sum(axis=0)).ravel() > 0

    progress("candidate sites", 0.6)
    cands, report = find_candidates(sc, pnet, demand, covered_before, sx, sy, data_dir, datasets=datasets)

    progress(f"coverage of {len(cands)} candidate sites", 0.65)
    open_pts = np.flatnonzero(~covered_before)
    sub_cover = walking_cover(
        graph, cands.node, np.zeros(len(cands)), point_node[open_pts], point_snap[open_pts], radius
    ).tocoo()
    cand_cover = sp.csr_matrix(
        (sub_cover.data, (sub_cover.row, open_pts[sub_cover.col])), shape=(len(cands), len(demand))
    )

    total, short_of_rate = fleet_total(sc, float(pop_by_gu.sum()))
    if short_of_rate is not None:
        raise infeasible([short_of_rate])

    wanted: dict[PotentialTarget, str] = {}
    if sc.objective.predicted_trips > 0 or predict_trips:
        wanted["trips_per_day"] = "predicted_trips"
    if sc.objective.imbalance > 0:
        wanted["imbalance_per_day"] = "imbalance"
    if wanted:
        progress("demand potential of the candidate sites", 0.85)
    predictions = site_predictions(cands.lon, cands.lat, wanted, notes, data_dir, datasets=datasets)
    predicted = predictions.get("trips_per_day")
    imbalance = predictions.get("imbalance_per_day")
    if imbalance is not None:
        notes.append(
            "objective.imbalance: |rentals - returns|/day predicted from the catchment (spatial CV "
            "R2 about 0.02 on 2023 usage: barely better than the citywide mean, so the penalty "
            "acts mostly as a cost per new station)"
        )

    return ExpansionInputs(
        demand=demand,
        stations=stations,
        station_x=sx,
        station_y=sy,
        station_node=st_node,
        station_snap=st_snap,
        existing_cover=existing_cover,
        covered_before=covered_before,
        candidates=cands,
        candidate_cover=cand_cover,
        candidate_report=report,
        district_names=district_names,
        district_population=pop_by_gu,
        total_bikes=int(total),
        predicted_trips=predicted,
        predicted_imbalance=imbalance,
        graph=graph,
        node_x=nx_,
        node_y=ny_,
        point_node=point_node,
        point_snap=point_snap,
        datasets=datasets,
        notes=notes,
    )


def district_bike_floors(
    sc: ExpansionScenario, inp: ExpansionInputs
) -> tuple[np.ndarray, list[str], list[float | None]]:
    """Minimum bikes per district (``ceil(rate * population / 10,000)``), the rule text, the rate
    (:func:`mobility.placement.preflight.district_floors`)."""
    return district_floors(sc, inp.district_names, inp.district_population.to_numpy(np.float64))


def _group_demand(cover: sp.csr_matrix, weight: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Merge demand points covered by exactly the same candidates; drop points no candidate covers.

    Returns the ``(n_sites, n_groups)`` cover, group weights and each point's group (-1: none).
    """
    ct = cover.T.tocsr()
    ct.sort_indices()
    keys: dict[bytes, int] = {}
    group_of = np.full(ct.shape[0], -1, dtype=np.int64)
    gw: list[float] = []
    for i in range(ct.shape[0]):
        cols = ct.indices[ct.indptr[i] : ct.indptr[i + 1]]
        if len(cols) == 0 or weight[i] <= 0:
            continue
        k = cols.tobytes()
        g = keys.get(k)
        if g is None:
            g = len(gw)
            keys[k] = g
            gw.append(0.0)
        gw[g] += float(weight[i])
        group_of[i] = g
    has = group_of >= 0
    pts = np.flatnonzero(has)
    m = sp.csr_matrix(
        (np.ones(len(pts), dtype=bool), (pts, group_of[pts])), shape=(ct.shape[0], max(1, len(gw)))
    )
    gcover = (cover.astype(np.int32) @ m.astype(np.int32)).astype(bool).tocsr()
    return gcover, np.array(gw if gw else [0.0]), group_of


def preflight_inputs(inp: ExpansionInputs) -> PreflightInputs:
    """The cheap part of ``inp`` the fleet rules are checked on (:mod:`mobility.placement.preflight`)."""
    return PreflightInputs(
        station_docks=inp.stations["docks"].to_numpy(np.int64),
        station_gu=np.asarray(inp.stations["gu"].astype(str), dtype=np.str_),
        district_names=inp.district_names,
        district_population=inp.district_population.to_numpy(np.float64),
        total_bikes=inp.total_bikes,
    )


def build_expansion_data(
    sc: ExpansionScenario, inp: ExpansionInputs, *, fleet_rules: bool = True
) -> tuple[ExpansionData, np.ndarray]:
    """The coverage-data stage: the site-selection model's data, with each demand point's group index.

    ``fleet_rules=False`` sites without the fleet's needs (total bikes, district bike floors and
    the docks they need): the sweep does so at a point where they cannot hold, the backtest always
    unless a scenario is given. Explicit counts, district minimums, required areas and the budget
    for stations still hold.

    Raises
    ------
    InfeasibleError
        When the rules cannot hold together, naming them.
    """
    cands = inp.candidates
    gcover, gweight, group_of = _group_demand(inp.candidate_cover, inp.demand.weight)
    bonus = np.zeros(len(cands))
    if inp.predicted_trips is not None:
        bonus += sc.objective.predicted_trips * inp.predicted_trips
    if inp.predicted_imbalance is not None:
        bonus -= sc.objective.imbalance * inp.predicted_imbalance
    conflicts = conflict_pairs(cands.x, cands.y, sc.spacing.min_m)
    names = inp.district_names
    code = {n: k for k, n in enumerate(names)}
    site_district = np.array([code.get(str(g), -1) for g in cands.gu], dtype=np.int64)

    limits = fleet_limits(sc, preflight_inputs(inp), fleet_rules=fleet_rules)
    if limits.problems:  # the checks of the cheap data (mobility plan and the API run them first)
        raise infeasible(limits.problems)
    need_new, reasons = limits.need_new, limits.reasons
    n_cands = np.bincount(site_district[site_district >= 0], minlength=len(names))
    for k, name in enumerate(names):
        if need_new[k] > n_cands[k]:
            raise InfeasibleError(
                f"district {name} needs {int(need_new[k])} new stations ({reasons[k]}) but has only "
                f"{int(n_cands[k])} candidate sites at the spacing rules; lower the rule or raise "
                "bikes_per_dock.max / docks.max",
                binding=[f"districts[{name}]", "spacing.min_m", "docks.max"],
            )
    required, req_names = _required_areas(sc, inp.stations, cands)
    data = ExpansionData(
        cover=gcover,
        group_weight=gweight,
        site_bonus=bonus,
        conflicts=conflicts,
        site_district=site_district,
        district_names=names,
        district_min_new=need_new,
        min_total=limits.min_total,
        max_total=limits.max_total,
        required=required,
        required_names=req_names,
        district_min_reason=reasons,
        budget=limits.budget,
    )
    return data, group_of


def _required_areas(
    sc: ExpansionScenario, st: pd.DataFrame, cands: CandidateSites
) -> tuple[list[npt.NDArray[np.int64]], list[str]]:
    """Candidate sites inside each required area that no existing station already serves, and
    the areas' names."""
    import shapely

    required, names = [], []
    for k, poly in enumerate(_polygons(sc.areas.required)):
        if np.asarray(shapely.contains_xy(poly, st["lon"].to_numpy(float), st["lat"].to_numpy(float))).any():
            continue
        members = np.flatnonzero(points_in_polygons(cands.lon, cands.lat, [poly]))
        required.append(members.astype(np.int64))
        names.append(sc.areas.required[k].name or f"#{k}")
    return required, names


def _catchment(cover: sp.csr_matrix, pop: np.ndarray) -> np.ndarray:
    """Residents within reach of each station, a resident shared equally by the stations reaching it."""
    counts = np.asarray(cover.sum(axis=0)).ravel()
    share = np.where(counts > 0, pop / np.maximum(counts, 1), 0.0)
    return np.asarray(cover.astype(np.float64) @ share).ravel()


@dataclass(frozen=True)
class Siting:
    """Result of the siting stage: the chosen sites and what they cover.

    Attributes
    ----------
    result
        The site-selection model's result (sites in rank order, statistics).
    new_cover
        ``(n_new, n_points)`` walking coverage of the chosen sites over every demand point.
    covered_after
        Demand points within the radius of an existing or a new station.
    """

    result: ExpansionResult
    new_cover: sp.csr_matrix
    covered_after: npt.NDArray[np.bool_]

    @property
    def sites(self) -> npt.NDArray[np.int64]:
        """Chosen candidate indices, in rank order."""
        return self.result.sites


def model_params(
    sc: ExpansionScenario, time_limit: float | None = None, seed: int | None = None
) -> ModelParams:
    """The site-selection solver settings of a scenario (``time_limit``/``seed`` override it)."""
    return ModelParams(
        time_limit=time_limit if time_limit is not None else sc.solver.time_limit,
        seed=seed if seed is not None else sc.solver.seed,
        threads=sc.solver.threads,
        relative_gap=sc.solver.relative_gap,
        backend="HIGHS" if sc.solver.backend == "auto" else sc.solver.backend,
    )


def solve_siting(
    sc: ExpansionScenario,
    inp: ExpansionInputs,
    data: ExpansionData,
    params: ModelParams,
    *,
    warm_start: npt.NDArray[np.int64] | None = None,
) -> Siting:
    """The siting stage: solve the site-selection model and cover the demand points with its sites.

    ``warm_start`` (candidate indices, e.g. a neighbouring sweep point's sites) seeds the greedy
    incumbent the exact solver starts from.
    """
    res = ExpansionModel(data, engine=sc.solver.engine).solve(
        params, MaxRuntime(params.time_limit), warm_start=warm_start
    )
    cands = inp.candidates
    sel = res.sites
    new_cover = walking_cover(
        inp.graph, cands.node[sel], np.zeros(len(sel)), inp.point_node, inp.point_snap, sc.coverage.radius_m
    )
    covered_after = inp.covered_before | (np.asarray(new_cover.sum(axis=0)).ravel() > 0)
    return Siting(result=res, new_cover=new_cover, covered_after=covered_after)


def fleet_problem(
    sc: ExpansionScenario, inp: ExpansionInputs, siting: Siting
) -> tuple[FleetProblem, list[float | None]]:
    """The fleet stage's problem for the existing stations and the sited ones, and each district's rate.

    New stations start at ``docks.min``; each station's desired bikes are half its share of the
    residents in reach (a resident shared equally by the stations reaching them) and half its
    share of docks.
    """
    st = inp.stations
    cands = inp.candidates
    sel = siting.sites
    n_old, n_new = len(st), len(sel)
    all_cover = sp.vstack([inp.existing_cover, siting.new_cover]).tocsr()
    catch = _catchment(all_cover, inp.demand.population)
    docks0 = np.concatenate([st["docks"].to_numpy(np.int64), np.full(n_new, sc.docks.min, dtype=np.int64)])
    total = inp.total_bikes
    share_pop = catch / catch.sum() if catch.sum() > 0 else np.zeros(len(catch))
    share_docks = docks0 / docks0.sum()
    desired = total * (0.5 * share_pop + 0.5 * share_docks)
    code = {n: k for k, n in enumerate(inp.district_names)}
    district = np.array(
        [code.get(str(g), -1) for g in np.concatenate([st["gu"].astype(str).to_numpy(), cands.gu[sel]])],
        dtype=np.int64,
    )
    floors, rules, rates = district_bike_floors(sc, inp)
    budget = None
    if sc.budget is not None:
        money = sc.budget.total - n_new * sc.budget.cost_per_station
        budget = (money, sc.budget.cost_per_dock)
    fp = FleetProblem(
        docks=docks0,
        is_new=np.concatenate([np.zeros(n_old, dtype=bool), np.ones(n_new, dtype=bool)]),
        district=district,
        district_names=inp.district_names,
        district_min_bikes=floors,
        district_rule=rules,
        desired=desired,
        total_bikes=total,
        docks_min=sc.docks.min,
        docks_max=sc.docks.max,
        bpd_min=sc.bikes_per_dock.min,
        bpd_max=sc.bikes_per_dock.max,
        dock_budget=budget,
    )
    return fp, rates


def plan_expansion(
    sc: ExpansionScenario,
    *,
    data_dir: Path | None = None,
    time_limit: float | None = None,
    seed: int | None = None,
    progress: Progress = no_progress,
    inputs: ExpansionInputs | None = None,
    stop: StoppingCriterion | None = None,
    simulate: bool | None = None,
) -> tuple[Plan, ExpansionResult]:
    """Run a scenario end to end: inputs -> candidates -> coverage data -> siting -> fleet -> plan.

    Parameters
    ----------
    sc
        The scenario.
    data_dir
        Data directory (``None`` resolves it).
    time_limit, seed
        Override ``sc.solver.time_limit`` / ``sc.solver.seed``; the time limit applies to the
        site selection and the fleet allocation each.
    progress
        Told a short message at each step, with the share of the run done where it is known
        (:data:`STAGE_SHARES`).
    inputs
        Pre-built inputs (the bench builds them once).
    stop
        Asked (with ``inf``) before every step; when it answers ``True`` the run raises
        :class:`~mobility.errors.StopRequested`. The API cancels a running job this way. A solver
        already running is not interrupted: it ends at its own time limit.
    simulate
        Simulate riders on the networks before and after the plan (the served share,
        :mod:`mobility.simulation.plans`); default: the scenario's ``simulation.enabled``.

    Returns
    -------
    (Plan, ExpansionResult)

    Raises
    ------
    StopRequested
        When ``stop`` asked for it.

    Notes
    -----
    When the rider simulation cannot run on the plan's inputs (an :class:`InputError` or
    :class:`DataNotFoundError` of :func:`~mobility.simulation.plans.simulate_plan`), the plan is
    kept without ``simulation`` and a note says why its served share was not simulated.
    """
    t0 = time.perf_counter()
    if stop is not None:
        progress = _stoppable(progress, stop)

    params = model_params(sc, time_limit, seed)
    simulated = sc.simulation.enabled if simulate is None else simulate
    share = STAGE_SHARES[simulated]
    inp = inputs or build_inputs(sc, data_dir=data_dir, progress=within(progress, 0.0, share["siting"]))
    notes = list(inp.notes)
    progress("building the site-selection model", share["siting"])
    data, _group_of = build_expansion_data(sc, inp)
    progress(f"{sc.solver.engine} site selection: {len(inp.candidates)} candidates, <= {data.max_total} new")
    siting = solve_siting(sc, inp, data, params)
    if "settings_note" in siting.result.stats.extra:  # scenario settings the engine did not apply
        notes.append(str(siting.result.stats.extra["settings_note"]))

    progress("allocating docks and bikes", share["fleet"])
    fp, rates = fleet_problem(sc, inp, siting)
    fleet = allocate_fleet(fp, replace(params, backend="SCIP"), MaxRuntime(params.time_limit))

    progress("key figures", share["figures"])
    plan = _assemble(sc, inp, siting, fleet, rates, params.seed, notes)
    if simulated:
        from mobility.simulation.plans import simulate_plan

        day = sc.simulation.day
        try:
            plan = simulate_plan(
                plan,
                baseline=sc.baseline.label,
                baseline_bikes=sc.baseline.bikes,
                day=None if day is None else day.isoformat(),
                replications=sc.simulation.replications,
                seed=params.seed,
                data_dir=data_dir,
                progress=within(progress, share["simulation"], 1.0),
            )
        except (InputError, DataNotFoundError) as exc:
            # the siting and the fleet stand without it: keep the plan, say why it has no served share
            plan.notes.append(
                f"served share not simulated: the rider simulation cannot run on these inputs ({exc})"
            )
    # the time is a field, not a note: two runs with the same inputs and seed have the same notes
    plan = plan.model_copy(update={"wall_seconds": round(time.perf_counter() - t0, 3)})
    return plan, siting.result


def _assemble(
    sc: ExpansionScenario,
    inp: ExpansionInputs,
    siting: Siting,
    fleet: FleetResult,
    rates: list[float | None],
    seed: int,
    notes: list[str],
) -> Plan:
    """The plan document of the stages' results (stations, districts, city figures, provenance)."""
    pop = inp.demand.population
    pop_total = float(inp.district_population.sum())
    greedy_cov = inp.covered_before.copy()
    res = siting.result
    if len(res.greedy_sites):
        gsub = inp.candidate_cover[res.greedy_sites]
        greedy_cov |= np.asarray(gsub.sum(axis=0)).ravel() > 0
    before, after = _city_kpis(sc, inp, siting, fleet)
    prov = Provenance.collect(
        {k: v for k, v in inp.datasets.items() if Path(v).exists()},
        scenario=sc.model_dump(mode="json"),
        seed=seed,
    )
    return Plan(
        scenario=sc.name,
        radius_m=sc.coverage.radius_m,
        min_spacing_m=sc.spacing.min_m,
        population_source=sc.population.source,
        population_total=pop_total,
        new_stations=_new_stations(sc, inp, siting, fleet),
        existing_stations=_existing_allocations(inp, fleet),
        districts=_district_kpis(inp, siting, fleet, rates),
        city_before=before,
        city_after=after,
        siting_stats=res.stats,
        fleet_stats=fleet.stats,
        provenance=prov,
        greedy_covered_population=float(pop[greedy_cov].sum()),
        notes=[*notes, f"candidate filters: {candidate_filters(inp.candidate_report)}"],
    )


def candidate_filters(report: dict[str, int]) -> str:
    """The candidate filters' counts as a note reads them: ``walkable nodes 139,678; outside Seoul 1,234``."""
    return "; ".join(f"{step} {n:,}" for step, n in report.items())


def _new_stations(
    sc: ExpansionScenario, inp: ExpansionInputs, siting: Siting, fleet: FleetResult
) -> list[NewStation]:
    """The sited stations in rank order, each with the residents it is the first to cover and why."""
    cands = inp.candidates
    pop = inp.demand.population
    n_old = len(inp.stations)
    radius = sc.coverage.radius_m
    trips = inp.predicted_trips
    imbalance = inp.predicted_imbalance
    new_cover = siting.new_cover
    seen = inp.covered_before.copy()
    out = []
    for k, j in enumerate(siting.sites.tolist()):
        # residents first covered by this station, in rank order
        row = new_cover.indices[new_cover.indptr[k] : new_cover.indptr[k + 1]]
        fresh = row[~seen[row]]
        val = float(pop[fresh].sum())
        seen[row] = True
        predicted_trips = None if trips is None else round(float(trips[j]), 2)
        predicted_imbalance = None if imbalance is None else round(float(imbalance[j]), 2)
        gu, dong = str(cands.gu[j]), str(cands.dong[j])
        parts = [f"covers {val:,.0f} residents not within {radius:g} m walk of any station before it"]
        if predicted_trips is not None:
            parts.append(f"{predicted_trips:.1f} predicted trips/day")
        if predicted_imbalance is not None:
            parts.append(f"{predicted_imbalance:.1f} bikes/day predicted imbalance")
        if inp.district_names and gu:
            parts.append(f"in {gu} {dong}".strip())
        out.append(
            NewStation(
                id=f"NEW-{k + 1:04d}",
                lat=round(float(cands.lat[j]), 7),
                lon=round(float(cands.lon[j]), 7),
                gu=gu,
                dong=dong,
                docks=int(fleet.docks[n_old + k]),
                bikes=int(fleet.bikes[n_old + k]),
                population_newly_covered=round(val, 1),
                predicted_trips=predicted_trips,
                predicted_imbalance=predicted_imbalance,
                rank=k + 1,
                candidate_id=int(j),
                reason="; ".join(parts),
            )
        )
    return out


def _existing_allocations(inp: ExpansionInputs, fleet: FleetResult) -> list[StationAllocation]:
    """Every baseline station with the docks and bikes the fleet stage gives it.

    A station the list gives no ST id (54 of the 2025-12 list) is named ``N<number>``, as route
    plans and status snapshots name it (``StationStatus.key``); its missing id was written as the
    text ``"<NA>"``, 54 times, and the plan failed its own check of unique ids.
    """
    st = inp.stations
    numbers = pd.to_numeric(st["number"], errors="coerce").to_numpy(np.float64)
    ids = [
        str(sid) if pd.notna(sid) else f"N{int(numbers[i])}" if np.isfinite(numbers[i]) else f"row-{i}"
        for i, sid in enumerate(st["station_id"])
    ]
    return [
        StationAllocation(
            station_id=ids[i],
            number=None if np.isnan(numbers[i]) else int(numbers[i]),
            name=str(nm),
            gu=str(g),
            lat=round(float(la), 7),
            lon=round(float(lo), 7),
            docks=int(fleet.docks[i]),
            bikes=int(fleet.bikes[i]),
        )
        for i, (sid, nm, g, la, lo) in enumerate(
            zip(st["station_id"], st["name"], st["gu"], st["lat"], st["lon"], strict=True)
        )
    ]


def _district_kpis(
    inp: ExpansionInputs, siting: Siting, fleet: FleetResult, rates: list[float | None]
) -> list[DistrictKPI]:
    """Stations, docks, bikes and walking coverage per district, before and after.

    Bikes per 10,000 divide by the district's residents of the population source
    (``population``); the covered shares by its residents on the 100 m grid the coverage is
    counted on (``grid_population``): each figure over the population it was counted in.
    """
    pop = inp.demand.population
    docks, bikes = fleet.docks, fleet.bikes
    st_gu = inp.stations["gu"].astype(str).to_numpy()
    all_gu = np.concatenate([st_gu, inp.candidates.gu[siting.sites]])
    districts = []
    for k, name in enumerate(inp.district_names):
        in_gu = inp.demand.gu == name
        gpop = float(pop[in_gu].sum())
        dpop = float(inp.district_population[name])
        mask = all_gu == name
        nb = int(bikes[mask].sum())
        districts.append(
            DistrictKPI(
                gu=name,
                population=dpop,
                grid_population=gpop,
                stations_before=int((st_gu == name).sum()),
                stations=int(mask.sum()),
                docks=int(docks[mask].sum()),
                bikes=nb,
                bikes_per_10k=per_10k(nb, dpop),
                min_bikes_per_10k=rates[k],
                covered_share_before=round(float(pop[in_gu & inp.covered_before].sum()) / gpop, 5)
                if gpop
                else 0.0,
                covered_share=round(float(pop[in_gu & siting.covered_after].sum()) / gpop, 5)
                if gpop
                else 0.0,
            )
        )
    return districts


def _city_kpis(
    sc: ExpansionScenario, inp: ExpansionInputs, siting: Siting, fleet: FleetResult
) -> tuple[CityKPI, CityKPI]:
    """The city's figures before and after the plan: bikes per 10,000 of the population source's
    residents (``population``), walking coverage as a share of the population grid's residents
    (``grid_population``), the residents it was counted on."""
    pop = inp.demand.population
    pop_total = float(inp.district_population.sum())
    grid_pop = float(pop.sum())
    base_bikes = sc.baseline.bikes
    n_old = len(inp.stations)
    before = CityKPI(
        stations=n_old,
        docks=int(inp.stations["docks"].sum()),
        bikes=base_bikes,
        population=pop_total,
        bikes_per_10k=None if base_bikes is None else per_10k(base_bikes, pop_total),
        grid_population=grid_pop,
        covered_population=float(pop[inp.covered_before].sum()),
        covered_share=round(float(pop[inp.covered_before].sum()) / grid_pop, 5),
    )
    after = CityKPI(
        stations=n_old + len(siting.sites),
        docks=int(fleet.docks.sum()),
        bikes=int(fleet.bikes.sum()),
        population=pop_total,
        bikes_per_10k=per_10k(float(fleet.bikes.sum()), pop_total),
        grid_population=grid_pop,
        covered_population=float(pop[siting.covered_after].sum()),
        covered_share=round(float(pop[siting.covered_after].sum()) / grid_pop, 5),
    )
    return before, after


__all__ = [
    "ExpansionInputs",
    "Siting",
    "build_expansion_data",
    "build_inputs",
    "district_bike_floors",
    "find_candidates",
    "fleet_problem",
    "model_params",
    "plan_expansion",
    "site_predictions",
    "solve_siting",
]
