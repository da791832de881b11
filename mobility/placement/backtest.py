"""Backtest: would the planner have done better than what Seoul actually built?

Given an OLD and a NEW station list (vintages such as ``"2019-12"``/``"2025-12"`` or official files
in the same layouts), :func:`backtest`:

1. matches the lists: a NEW station is *new* when no OLD station lies within 50 m (straight line,
   EPSG:5179); their count ``n`` is what the city added (:func:`match_new_stations`);
2. plans from the OLD network with at most ``n`` new stations, through the planner's own stages
   (:func:`~mobility.placement.pipeline.build_inputs`,
   :func:`~mobility.placement.pipeline.build_expansion_data`,
   :func:`~mobility.placement.pipeline.solve_siting`). Siting is compared, so the fleet rules are
   off (``fleet_rules=False``) unless the caller's scenario is used with them;
3. measures the real NEW network and the plan the same way: residents of the 100 m grid within a
   300 m and a 500 m walk on the street network; trips/day the demand-potential model predicts at
   the new stations; district equity (spread across the 25 gu of the covered share and of stations
   and docks per 10,000 residents: coefficient of variation, min and max);
4. the share of the real new stations within 300 m (straight line) of a proposed site, and the
   same share for population-weighted random sites (as many, drawn from the grid's residents,
   averaged over draws): the measure rewards density alone, so both are reported;
5. the number of new stations the plan needs to equal the real network's 300 m coverage
   (bisection over the count, each count solved warm-started from the nearest smaller one).

Caveats (also in the result's notes): the demand-potential model was fitted on recent usage at
recent stations, so its predictions for an older vintage's sites are not out of sample; the real
network also closed or moved stations; the plan does not know land ownership, sidewalk width or
permits.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field
from scipy.spatial import cKDTree

from mobility.arrays import BoolArray, FloatArray, IntArray
from mobility.network.street import to_metric
from mobility.placement.candidates import snap, walking_cover
from mobility.placement.models import ModelParams
from mobility.placement.pipeline import (
    ExpansionInputs,
    Siting,
    build_expansion_data,
    build_inputs,
    model_params,
    site_predictions,
    solve_siting,
)
from mobility.progress import Progress, no_progress
from mobility.provenance import Provenance, dataset_version
from mobility.scenario.expansion import ExpansionScenario, NewStations
from mobility.schema import DataclassDocument
from mobility.stats import SolverStats

SCHEMA_VERSION = "1"
MATCH_M = 50.0
NEAR_M = 300.0

UNKNOWN = (
    "what the plan does not know: land ownership and lease costs, sidewalk width and obstacles, "
    "permits and the district office's consent, road works, shop owners' objections, and the "
    "city's own targets (subway exits, parks, the Han river paths); each proposed site is a street "
    "node that a survey must confirm"
)


def _nearest_m(x: FloatArray, y: FloatArray, sx: FloatArray, sy: FloatArray) -> FloatArray:
    """Straight-line distance from each point ``(x, y)`` to the nearest site ``(sx, sy)`` (``inf``
    when there is no site)."""
    if len(x) == 0 or len(sx) == 0:
        return np.full(len(x), np.inf)
    d, _ = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([x, y]))
    return np.asarray(d, dtype=np.float64)


_MONTH = re.compile(r"(?<!\d)((?:19|20)\d\d)-(0[1-9]|1[0-2])(?!\d)")


def list_month(source: str) -> str | None:
    """The ``YYYY-MM`` a station list is of, from its vintage or file name; ``None`` when unknown.

    ``"2019-12"`` and ``"api-2025-05"`` are of their month, ``stations_2019-12-09.csv`` of
    2019-12, ``master`` and ``my_list.csv`` of no known month.
    """
    m = _MONTH.search(Path(source).name)
    return f"{m.group(1)}-{m.group(2)}" if m else None


def reversed_lists_note(old: str, new: str) -> str | None:
    """A warning when the NEW list (``--to``) is dated before the OLD one (``--from``), else ``None``
    (also when either date is unknown: see :func:`list_month`)."""
    old_m, new_m = list_month(old), list_month(new)
    if old_m is None or new_m is None or new_m >= old_m:
        return None
    return (
        f"--to {new} ({new_m}) is older than --from {old} ({old_m}): its 'new' stations are ones the "
        "city closed or moved since, not ones it built; swap --from and --to to compare the plan "
        "with what was built"
    )


def metric_xy(stations: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
    """A station table's ``lon``/``lat`` in metres (EPSG:5179)."""
    x, y = to_metric(stations["lon"].to_numpy(float), stations["lat"].to_numpy(float))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def match_new_stations(
    old_x: FloatArray, old_y: FloatArray, new_x: FloatArray, new_y: FloatArray, radius_m: float = MATCH_M
) -> BoolArray:
    """Which NEW stations are new: no OLD station within ``radius_m`` (metric coordinates)."""
    return _nearest_m(new_x, new_y, old_x, old_y) > radius_m


def near_share(
    x: FloatArray, y: FloatArray, sx: FloatArray, sy: FloatArray, radius_m: float = NEAR_M
) -> float:
    """Share of points ``(x, y)`` within ``radius_m`` (straight line) of a site ``(sx, sy)``."""
    return float(np.mean(_nearest_m(x, y, sx, sy) <= radius_m)) if len(x) else 0.0


def weighted_random_sites(
    x: FloatArray, y: FloatArray, weight: FloatArray, n: int, seed: int
) -> tuple[FloatArray, FloatArray]:
    """``n`` distinct grid cells drawn with probability proportional to ``weight`` (seeded)."""
    rng = np.random.default_rng(seed)
    p = weight / weight.sum()
    k = min(n, int((weight > 0).sum()))
    idx = rng.choice(len(x), size=k, replace=False, p=p)
    return x[idx], y[idx]


@dataclass(frozen=True)
class NetworkFigures:
    """One network (the real NEW one or the plan) measured the planner's way."""

    stations: int
    new_stations: int
    covered_population_300: float
    covered_share_300: float
    covered_population_500: float
    covered_share_500: float
    predicted_trips: float | None
    district_covered_share_cv: float
    district_covered_share_min: float
    district_covered_share_max: float
    district_stations_per_10k_cv: float
    district_docks_per_10k_cv: float | None


@dataclass(frozen=True)
class DistrictRow:
    """A gu in the real network and in the plan."""

    gu: str
    population: float
    stations_old: int
    stations_real: int
    stations_plan: int
    covered_share_300_old: float
    covered_share_300_real: float
    covered_share_300_plan: float
    stations_per_10k_real: float
    stations_per_10k_plan: float


@dataclass(frozen=True)
class TrustPoint:
    """The plan with one weight of predicted trips against residents covered."""

    trips_weight: float
    covered_share_300: float
    covered_share_500: float
    predicted_trips: float | None
    real_new_near_proposed_share: float


@dataclass(frozen=True)
class BisectionSolve:
    """One count solved by the bisection of :func:`stations_to_match`.

    Attributes
    ----------
    new_stations
        The count solved for (at most this many new stations).
    covered_population_300
        Residents within a 300 m walk of a station, old or new, with the count's sites.
    stats
        The site selection's solver statistics (status, objective, bound, gap, seconds).
    """

    new_stations: int
    covered_population_300: float
    stats: SolverStats


@dataclass(frozen=True)
class Site:
    """A station on the map (real new or proposed)."""

    lat: float
    lon: float
    gu: str
    name: str = ""


@dataclass(frozen=True)
class Backtest(DataclassDocument):
    """The ``backtest.json`` document (see the module docstring)."""

    TITLE: ClassVar[str] = "mobility backtest"

    old: str
    new: str
    match_radius_m: float
    real: NetworkFigures
    plan: NetworkFigures
    real_new_near_proposed_share: float
    random_near_share: float
    random_draws: int
    stations_to_match_real: int | None
    stations_to_match_real_note: str
    stations_to_match_solves: Annotated[
        list[BisectionSolve],
        Field(
            description="Every count the bisection behind stations_to_match_real solved, in the "
            "order solved: the count, the residents its sites cover within 300 m and the site "
            "selection's solver statistics (status, objective, bound, gap, seconds)."
        ),
    ]
    trust: list[TrustPoint]
    siting_stats: SolverStats
    districts: list[DistrictRow]
    real_new_sites: list[Site]
    proposed_sites: list[Site]
    provenance: Provenance
    notes: list[str] = field(default_factory=list)
    wall_seconds: Annotated[
        float | None,
        Field(
            description="Wall time in seconds of the whole backtest, from reading the inputs to "
            "the document (the plan, the trust plans and the bisection; siting_stats.seconds and "
            "each solve's seconds are the solves alone; the files and maps written after it are "
            "not included). Null in documents written before it was recorded."
        ),
    ] = None
    schema_version: str = SCHEMA_VERSION


backtest_json_schema = Backtest.json_schema
"""JSON Schema of the document (generated from the dataclasses)."""


def default_scenario(old: str, n_new: int) -> ExpansionScenario:
    """The siting rules of a backtest without a scenario: the 2025 scenario's spacing and
    candidates, residents covered within a 300 m walk, no fleet rules."""
    return ExpansionScenario.model_validate(
        {
            "name": f"backtest-from-{Path(old).name}",
            "baseline": {"stations": old},
            "population": {"source": "grid"},
            "fleet": {"bikes_per_10k": 1},
            "new_stations": {"max": n_new},
            "coverage": {"radius_m": 300},
            "spacing": {"min_m": 200},
            "candidates": {"grid_m": 100},
            "solver": {"time_limit": 120, "seed": 0, "threads": 2, "relative_gap": 0.001},
        }
    )


def _cover(inp: ExpansionInputs, x: FloatArray, y: FloatArray, radius: float) -> BoolArray:
    """Demand points within ``radius`` (walking) of stations at metric ``(x, y)``."""
    if len(x) == 0:
        return np.zeros(len(inp.demand), dtype=bool)
    node, off = snap(inp.node_x, inp.node_y, x, y)
    cov = walking_cover(inp.graph, node, off, inp.point_node, inp.point_snap, radius)
    return np.asarray(cov.sum(axis=0)).ravel() > 0


def _cv(v: FloatArray) -> float:
    m = float(np.mean(v))
    return round(float(np.std(v)) / m, 4) if m > 0 else 0.0


def _figures(
    inp: ExpansionInputs,
    gu: npt.NDArray[Any],
    docks: FloatArray | None,
    cov300: BoolArray,
    cov500: BoolArray,
    n_new: int,
    trips: float | None,
) -> tuple[NetworkFigures, dict[str, tuple[float, float]]]:
    pop = inp.demand.population
    total = float(pop.sum())
    names = inp.district_names
    dpop = inp.district_population.reindex(names).to_numpy(np.float64)
    shares, per10k, docks10k = [], [], []
    by_gu: dict[str, tuple[float, float]] = {}
    for k, name in enumerate(names):
        in_gu = inp.demand.gu == name
        gp = float(pop[in_gu].sum())
        share = float(pop[in_gu & cov300].sum()) / gp if gp else 0.0
        n_st = int((gu == name).sum())
        shares.append(share)
        per10k.append(n_st / dpop[k] * 1e4 if dpop[k] else 0.0)
        if docks is not None:
            docks10k.append(float(docks[gu == name].sum()) / dpop[k] * 1e4 if dpop[k] else 0.0)
        by_gu[name] = (round(share, 5), round(per10k[-1], 3))
    s = np.array(shares)
    fig = NetworkFigures(
        stations=len(gu),
        new_stations=n_new,
        covered_population_300=round(float(pop[cov300].sum()), 1),
        covered_share_300=round(float(pop[cov300].sum()) / total, 5),
        covered_population_500=round(float(pop[cov500].sum()), 1),
        covered_share_500=round(float(pop[cov500].sum()) / total, 5),
        predicted_trips=None if trips is None else round(trips, 1),
        district_covered_share_cv=_cv(s),
        district_covered_share_min=round(float(s.min()), 5),
        district_covered_share_max=round(float(s.max()), 5),
        district_stations_per_10k_cv=_cv(np.array(per10k)),
        district_docks_per_10k_cv=None if docks is None else _cv(np.array(docks10k)),
    )
    return fig, by_gu


def _solve_count(
    sc: ExpansionScenario,
    inp: ExpansionInputs,
    n: int,
    params: ModelParams,
    fleet_rules: bool,
    warm: IntArray | None,
) -> Siting:
    sc_n = sc.model_copy(update={"new_stations": NewStations(max=n)})
    data, _ = build_expansion_data(sc_n, inp, fleet_rules=fleet_rules)
    return solve_siting(sc_n, inp, data, params, warm_start=warm)


def stations_to_match(
    sc: ExpansionScenario,
    inp: ExpansionInputs,
    target: float,
    params: ModelParams,
    *,
    start: int,
    fleet_rules: bool = False,
    tolerance: int = 10,
    progress: Progress | None = None,
    solves: list[BisectionSolve] | None = None,
) -> tuple[int | None, str]:
    """Fewest new stations (within ``tolerance``) whose plan covers ``target`` residents at 300 m.

    Bisection over the count; each count is solved warm-started from the largest smaller count
    solved so far. Returns ``(count, note)``; ``count`` is ``None`` when even every candidate
    (up to ``4 * start``) does not reach it. Each solve (count, residents covered, solver
    statistics) is appended to ``solves`` when given.
    """
    say = progress or no_progress
    pop = inp.demand.population
    solved: dict[int, tuple[float, IntArray]] = {}

    def covered(n: int) -> float:
        smaller = [m for m in solved if m < n]
        warm = solved[max(smaller)][1] if smaller else None
        s = _solve_count(sc, inp, n, params, fleet_rules, warm)
        solved[n] = (float(pop[s.covered_after].sum()), s.sites)
        if solves is not None:
            solves.append(BisectionSolve(n, round(solved[n][0], 1), s.result.stats))
        say(f"match real coverage: {n} new stations cover {solved[n][0]:,.0f} (target {target:,.0f})")
        return solved[n][0]

    if float(pop[inp.covered_before].sum()) >= target:  # the existing stations already reach it
        return 0, "the existing stations already cover the target: no new station needed"
    lo, hi = 0, max(1, start)  # lo: a count known to fall short (0 does, checked above)
    while covered(hi) < target:
        lo, hi = hi, hi * 2
        if hi > 4 * max(1, start) or hi > len(inp.candidates):
            return None, f"not reached with {lo} new stations"
    while hi - lo > max(1, tolerance):  # 0 would never end (mid = lo once they are 1 apart)
        mid = (lo + hi) // 2
        if covered(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi, f"bisection to within {tolerance} stations ({len(solved)} counts solved)"


def backtest(
    sc: ExpansionScenario,
    old: pd.DataFrame,
    new: pd.DataFrame,
    *,
    inputs: ExpansionInputs | None = None,
    params: ModelParams | None = None,
    old_label: str,
    new_label: str,
    fleet_rules: bool = False,
    trips_weights: Sequence[float] = (),
    random_draws: int = 20,
    data_dir: Path | None = None,
    progress: Progress | None = None,
) -> Backtest:
    """Compare the real NEW network with the plan from OLD (see the module docstring).

    ``sc`` is the scenario whose baseline is ``old``; its ``new_stations.max`` should be the
    number of real new stations. Its inputs are ``inputs`` when given, else built here with
    predicted trips (:func:`~mobility.placement.pipeline.build_inputs`, from ``data_dir``); the
    solver settings are ``params``, else the scenario's. ``trips_weights`` plans again with those
    ``objective.predicted_trips`` weights (the trust in predicted trips against residents covered)
    and reports each. The provenance fingerprints the planner's input files;
    :func:`with_station_lists` adds the two station lists' files. ``wall_seconds`` is the whole
    call's time (inputs built here included); no note carries a time, so two runs with the same
    inputs and seed differ only in their timing fields (``wall_seconds``, the solves' ``seconds``,
    ``provenance.created_at``).
    """
    say = progress or no_progress
    t0 = time.perf_counter()
    inp = inputs or build_inputs(sc, data_dir=data_dir, progress=say, predict_trips=True)
    params = params or model_params(sc)
    ox, oy = metric_xy(old)
    nx_, ny_ = metric_xy(new)
    is_new = match_new_stations(ox, oy, nx_, ny_)
    n_new = int(is_new.sum())
    say(f"{n_new} of {len(new)} {new_label} stations have no {old_label} station within {MATCH_M:g} m")

    notes: list[str] = [
        UNKNOWN,
        "predicted trips: the demand-potential model is fitted on recent usage at recent stations, "
        "so for an older vintage's sites it is not an out-of-sample forecast",
        f"the real {new_label} network also closed or moved stations: it is measured as listed",
        "within 300 m of a proposed site: straight-line distance",
    ]
    # the real network
    cov300_real = _cover(inp, nx_, ny_, 300.0)
    cov500_real = _cover(inp, nx_, ny_, 500.0)
    real_trips = None
    datasets = dict(inp.datasets)  # and the files of the real network's predictions
    if inp.predicted_trips is not None:
        pred = site_predictions(
            new["lon"].to_numpy(np.float64)[is_new],
            new["lat"].to_numpy(np.float64)[is_new],
            {"trips_per_day": "predicted_trips"},
            notes,
            data_dir,
            datasets=datasets,
        ).get("trips_per_day")
        real_trips = None if pred is None else float(pred.sum())
    new_docks = new["docks"].to_numpy(np.float64) if new["docks"].notna().all() else None
    if new_docks is None:
        notes.append(f"{new_label}: some stations without a dock count: docks per resident left out")
    real, real_gu = _figures(
        inp, new["gu"].astype(str).to_numpy(), new_docks, cov300_real, cov500_real, n_new, real_trips
    )

    # the plan
    say(f"planning {n_new} new stations from {old_label}")
    siting = _solve_count(sc, inp, n_new, params, fleet_rules, None)
    cands = inp.candidates
    sel = siting.sites
    px, py = cands.x[sel], cands.y[sel]
    all_x, all_y = np.concatenate([ox, px]), np.concatenate([oy, py])
    cov300_plan = siting.covered_after
    cov500_plan = _cover(inp, all_x, all_y, 500.0)
    plan_trips = None if inp.predicted_trips is None else float(inp.predicted_trips[sel].sum())
    plan_gu = np.concatenate([old["gu"].astype(str).to_numpy(), cands.gu[sel]])
    plan_docks = None
    if old["docks"].notna().all():
        plan_docks = np.concatenate(
            [old["docks"].to_numpy(np.float64), np.full(len(sel), float(sc.docks.min))]
        )
    plan, plan_by_gu = _figures(inp, plan_gu, plan_docks, cov300_plan, cov500_plan, len(sel), plan_trips)

    rx, ry = nx_[is_new], ny_[is_new]
    near = near_share(rx, ry, px, py)
    w = inp.demand.population
    rand = [
        near_share(
            rx, ry, *weighted_random_sites(inp.demand.x, inp.demand.y, w, len(sel), seed=params.seed + k)
        )
        for k in range(random_draws)
    ]
    # trust in predicted trips against residents covered
    trust: list[TrustPoint] = []
    for tw in trips_weights:
        if inp.predicted_trips is None:
            notes.append(f"trips weight {tw:g} skipped: no predicted trips")
            break
        sc_w = sc.model_copy(
            update={"objective": sc.objective.model_copy(update={"predicted_trips": float(tw)})}
        )
        say(f"planning with objective.predicted_trips = {tw:g}")
        s_w = _solve_count(sc_w, inp, n_new, params, fleet_rules, None)
        c500 = _cover(
            inp, np.concatenate([ox, cands.x[s_w.sites]]), np.concatenate([oy, cands.y[s_w.sites]]), 500.0
        )
        trust.append(
            TrustPoint(
                trips_weight=float(tw),
                covered_share_300=round(float(w[s_w.covered_after].sum()) / float(w.sum()), 5),
                covered_share_500=round(float(w[c500].sum()) / float(w.sum()), 5),
                predicted_trips=round(float(inp.predicted_trips[s_w.sites].sum()), 1),
                real_new_near_proposed_share=round(
                    near_share(rx, ry, cands.x[s_w.sites], cands.y[s_w.sites]), 4
                ),
            )
        )
    # stations the plan needs to equal the real 300 m coverage
    say("stations the plan needs to equal the real 300 m coverage")
    match_solves: list[BisectionSolve] = []
    match_n, match_note = stations_to_match(
        sc,
        inp,
        real.covered_population_300,
        params,
        start=n_new,
        fleet_rules=fleet_rules,
        progress=say,
        solves=match_solves,
    )

    old_gu = old["gu"].astype(str).to_numpy()
    dpops = {str(k): float(v) for k, v in inp.district_population.items()}
    districts = []
    pop = inp.demand.population
    for name in inp.district_names:
        in_gu = inp.demand.gu == name
        gp = float(pop[in_gu].sum())
        districts.append(
            DistrictRow(
                gu=name,
                population=float(dpops[name]),
                stations_old=int((old_gu == name).sum()),
                stations_real=int((new["gu"].astype(str).to_numpy() == name).sum()),
                stations_plan=int((plan_gu == name).sum()),
                covered_share_300_old=round(float(pop[in_gu & inp.covered_before].sum()) / gp, 5)
                if gp
                else 0.0,
                covered_share_300_real=real_gu[name][0],
                covered_share_300_plan=plan_by_gu[name][0],
                stations_per_10k_real=real_gu[name][1],
                stations_per_10k_plan=plan_by_gu[name][1],
            )
        )
    rn = new[is_new]
    real_sites = [
        Site(lat=round(float(la), 7), lon=round(float(lo), 7), gu=str(g), name=str(nm))
        for la, lo, g, nm in zip(
            rn["lat"].to_numpy(np.float64),
            rn["lon"].to_numpy(np.float64),
            rn["gu"].astype(str),
            rn["name"].astype(str),
            strict=True,
        )
    ]
    proposed = [
        Site(lat=round(float(cands.lat[j]), 7), lon=round(float(cands.lon[j]), 7), gu=str(cands.gu[j]))
        for j in sel.tolist()
    ]
    prov = Provenance.collect(
        {k: p for k, p in datasets.items() if p.exists()},
        scenario=sc.model_dump(mode="json"),
        seed=params.seed,
    )
    return Backtest(
        old=old_label,
        new=new_label,
        match_radius_m=MATCH_M,
        real=real,
        plan=plan,
        real_new_near_proposed_share=round(near, 4),
        random_near_share=round(float(np.mean(rand)), 4) if rand else 0.0,
        random_draws=random_draws,
        stations_to_match_real=match_n,
        stations_to_match_real_note=match_note,
        stations_to_match_solves=match_solves,
        trust=trust,
        siting_stats=siting.result.stats,
        districts=districts,
        real_new_sites=real_sites,
        proposed_sites=proposed,
        provenance=prov,
        notes=[*inp.notes, *notes],
        wall_seconds=round(time.perf_counter() - t0, 3),
    )


def with_station_lists(result: Backtest, old_file: Path | None, new_file: Path | None) -> Backtest:
    """``result`` with both station lists in its provenance, fingerprinted: ``stations_from``
    (OLD, the plan's baseline) and ``stations_to`` (NEW, which defines ``real.*``). A list read
    from no file (e.g. uploaded) or a file since removed is left out."""
    files = {"stations_from": old_file, "stations_to": new_file}
    added = {k: dataset_version(p) for k, p in files.items() if p is not None and Path(p).is_file()}
    prov = replace(result.provenance, datasets={**result.provenance.datasets, **added})
    return replace(result, provenance=prov)


__all__ = [
    "Backtest",
    "BisectionSolve",
    "DistrictRow",
    "NetworkFigures",
    "TrustPoint",
    "backtest",
    "backtest_json_schema",
    "default_scenario",
    "list_month",
    "match_new_stations",
    "near_share",
    "reversed_lists_note",
    "stations_to_match",
    "weighted_random_sites",
    "with_station_lists",
]
