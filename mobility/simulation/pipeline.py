"""From a source (plan, station vintage or file), a day and a start state to a simulation result.

The one path shared by the CLI, the benchmark and the fleet sweep: :func:`prepare` loads and fits
everything once, :func:`simulate` runs replications on it, :func:`sweep` runs it for several
fleet sizes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mobility.demand.holidays import day_type
from mobility.demand.profiles import StationProfiles
from mobility.errors import InputError
from mobility.progress import Progress, no_progress
from mobility.simulation.data import (
    FittedModel,
    StationSet,
    apply_routes,
    derived_start,
    fit_model,
    load_station_set,
    network_matrices,
    parse_day,
    scale_fleet,
    status_bikes,
)
from mobility.simulation.days import forecast_from
from mobility.simulation.engine import SIMULATOR, SimulationRun
from mobility.simulation.fanout import run_many
from mobility.simulation.model import RiderParams, fit_season
from mobility.simulation.result import SimulationResult, build_result, per_replication
from mobility.stats import SolverStats

if TYPE_CHECKING:
    from distributed import Client

    from mobility.demand.potential import DemandPotentialModel
    from mobility.rebalancing.plan import RebalancingPlan
    from mobility.simulation.engine import SimulationProblem


@dataclass
class Prepared:
    """A fitted model, a day and a start inventory: ready to simulate."""

    model: FittedModel
    day: pd.Timestamp
    bikes: np.ndarray
    start_inventory: str
    source: str
    datasets: dict[str, str]  # what the model was fitted on, by name (trip datasets, station set)
    files: dict[str, Path] = field(default_factory=dict)  # the files read, for the provenance
    forecast_from: str | None = None
    """Set when the day is a forecast: the month (``YYYY-MM``) before which the history it is made
    from ends (:attr:`FitWindow.history_before`)."""
    input_notes: list[str] = field(default_factory=list)
    """What was left out of the inputs or assumed for them (rows of the station file dropped,
    status rows matched on their number): counted, in the result's notes and said on stderr."""

    def add_inputs(self, inputs: Mapping[str, Path | str | None]) -> None:
        """Record the files the start inventory was read from (``{"status": ..., "routes":
        ...}``; ``None`` values skipped) for the provenance of the results."""
        self.files.update({k: Path(p) for k, p in inputs.items() if p is not None and Path(p).is_file()})

    @property
    def stations(self) -> pd.DataFrame:
        """The simulated stations."""
        return self.model.stations


@dataclass(frozen=True)
class FitWindow:
    """What the rider model may learn from; narrowed for out-of-sample validation
    (:mod:`mobility.simulation.validation`), everything by default.

    Attributes
    ----------
    exclude_months
        Months (``YYYY-MM``) left out of the season fit.
    trip_datasets
        Trip datasets the destinations and ride times are fitted on (``None``: all).
    history_before
        A forecast from the past (``YYYY-MM``): the citywide level comes from the monthly counts
        before this month, with their trend (:func:`~.model.fit_season`), and each district's
        share of it from its last three months before it (:func:`~.model.district_drift`);
        nothing from this month or later except the base year's station profiles.
    """

    exclude_months: tuple[str, ...] = ()
    trip_datasets: tuple[str, ...] | None = None
    history_before: str | None = None


def prepare(
    source: str | Path,
    day: str,
    *,
    status: pd.DataFrame | None = None,
    routes: RebalancingPlan | Mapping[str, Any] | None = None,
    data_dir: Path | None = None,
    params: RiderParams | None = None,
    fit: FitWindow | None = None,
    station_set: StationSet | None = None,
    profiles: StationProfiles | None = None,
    preserve_total: bool = True,
    progress: Progress = no_progress,
) -> Prepared:
    """Load the stations, fit the rider model and set the start inventory.

    Parameters
    ----------
    source
        A ``plan.json``, a station vintage (``2025-12``) or a station file.
    day
        ``YYYY-MM-DD``.
    status
        A status snapshot (``station_id`` or ``number``, ``bikes``); default: the plan's bikes,
        else the derived evening snapshot of the day before carried through the night.
    routes
        A night's routes (a :class:`~mobility.rebalancing.plan.RebalancingPlan` or its
        ``routes.json`` document) applied to the start inventory (the morning after).
    fit
        What the rider model may learn from (default: everything; :class:`FitWindow`).
    station_set
        The stations, already loaded (instead of ``source``).
    profiles
        Demand profiles (default: :func:`mobility.demand.data.load_profiles`).
    preserve_total
        Share the city's expected volume among the simulated stations (a whole network: 2019,
        a plan); ``False`` keeps each station's own rates (a part of the city).
    progress
        Told the name of each phase as it starts (loading the stations, the demand profiles,
        the trips, the street network; fitting the rider model), with the share of the
        preparation done before it (the travel times and the rider model take most of it).

    The files ``status`` and ``routes`` were read from are not known here: record them with
    :meth:`Prepared.add_inputs`, so that the result's provenance fingerprints them.
    """
    from mobility.config import resolve_data_dir
    from mobility.demand.data import TRIP_DATASETS, load_profiles, load_trip_tables
    from mobility.sources.usage import load_citywide_monthly_usage

    say = progress
    fit = fit or FitWindow()
    exclude_months, history_before = fit.exclude_months, fit.history_before
    trip_datasets = fit.trip_datasets or TRIP_DATASETS
    d = parse_day(day)
    root = resolve_data_dir(data_dir)
    monthly = load_citywide_monthly_usage(root).table
    if history_before is None:  # a day past the data (tonight's morning): a forecast from all of it
        history_before = forecast_from(d, monthly["month"].astype(str))
    fit_season(monthly, exclude=exclude_months, before=history_before).factor(
        d
    )  # a day outside the range fails first
    say("loading the stations", 0.0)
    ss = station_set or load_station_set(source, root)
    if len(ss.table) == 0:
        raise InputError("SOURCE", str(source), "a station set with at least one station")
    stations = ss.table.reset_index(drop=True)
    input_notes = list(ss.notes)
    say("loading the demand profiles", 0.02)
    profiles = profiles if profiles is not None else load_profiles(root)
    # the start inventory first: a bad snapshot or routes file fails before the network work
    if status is not None:
        bikes = status_bikes(stations, status, notes=input_notes)
        label = "status snapshot"
    elif ss.bikes_from_source:
        bikes = stations["bikes"].to_numpy(np.int64)
        label = "the plan's allocation"
    else:
        bikes = derived_start(stations, profiles, d)
        label = (
            f"derived snapshot of {(d - pd.Timedelta(days=1)).strftime('%Y-%m-%d')} evening carried to 24:00"
        )
    if routes is not None:
        bikes = apply_routes(stations, bikes, routes)
        label += " + the night's routes applied"
    say("loading the trips", 0.15)
    trips = load_trip_tables(root, trip_datasets)
    say(f"street-network travel times between {len(stations):,} stations", 0.2)
    read: dict[str, Path] = {}  # the network and the potential model's files, for the provenance
    ride, walk = network_matrices(stations, root, files=read)
    say("fitting the rider model", 0.85)
    notes: list[str] = []
    potential = potential_levels(stations, profiles, root, notes, files=read)
    drift = None
    if history_before is not None:
        from mobility.simulation.model import district_drift
        from mobility.sources.usage import load_district_monthly_usage

        drift = district_drift(
            stations["gu"].astype(str).to_numpy(), load_district_monthly_usage(root).table, history_before
        )
        notes.append(
            f"{d:%Y-%m-%d} forecast from the history before {history_before}: citywide level and "
            "trend from the monthly counts before it, district shares from its last three months"
        )
    model = fit_model(
        stations,
        profiles,
        trips,
        monthly,
        ride,
        walk,
        params=params,
        exclude_months=exclude_months,
        preserve_total=preserve_total,
        potential=potential,
        district_factor=drift,
        season_before=history_before,
    )
    model.notes.extend(notes)
    return Prepared(
        model=model,
        day=d,
        bikes=bikes,
        start_inventory=label,
        source=ss.source,
        datasets={"trips": ",".join(trip_datasets), "station_set": ss.source},
        files={**_input_files(ss, root), **{k: p for k, p in read.items() if p.is_file()}},
        input_notes=input_notes,
        forecast_from=history_before,
    )


def _input_files(ss: StationSet, root: Path) -> dict[str, Path]:
    """The files a simulation reads, by name: the stations (``station_set``) and every Ttareungi
    file of the demand profiles, trips and usage (``demand.<stem>``)."""
    from mobility.demand.data import profile_inputs

    files = {f"station_set.{p.stem}" if k else "station_set": p for k, p in enumerate(ss.files)}
    files.update({f"demand.{p.stem}": p for p in profile_inputs(root)})
    return {k: p for k, p in files.items() if p.is_file()}


def rider_params(params: RiderParams) -> dict[str, Any]:
    """The rider-model parameters a run used, as recorded in ``simulation.json`` (``model``) and
    ``sweep.json`` (``params``): walking radius and speed, neighbours tried, the gravity prior and
    the daytime rebalancing rule (``None`` when off)."""
    return {
        "walk_radius_m": params.walk_radius_m,
        "walk_speed_kph": params.walk_speed_kph,
        "ride_on_neighbours": params.ride_on_neighbours,
        "od_neighbours": params.od_neighbours,
        "od_alpha": params.od_alpha,
        "rebalancing_rule": asdict(params.rebalance) if params.rebalance.on else None,
    }


def simulation_provenance(prep: Prepared, seed: int, *, fanned_out: bool | None = None) -> dict[str, Any]:
    """The standard provenance block (:class:`~mobility.provenance.Provenance`) of a run on
    ``prep``: code version, fingerprints of :attr:`Prepared.files`, what the model was fitted on
    (``scenario``: source, day, start inventory, trip datasets), seed, creation time and whether
    the replications were ``fanned_out`` on a Dask cluster (``None``: not said)."""
    from mobility.provenance import Provenance

    scenario = {
        "source": prep.source,
        "day": prep.day.strftime("%Y-%m-%d"),
        "start_inventory": prep.start_inventory,
        **prep.datasets,
    }
    return Provenance.collect(dict(prep.files), scenario=scenario, seed=seed, fanned_out=fanned_out).to_dict()


_POTENTIAL: dict[str, DemandPotentialModel] = {}  # the last fitted model, by its inputs' key
_POTENTIAL_LOCK = threading.Lock()


def trip_potential_model(data_dir: Path) -> DemandPotentialModel:
    """The demand-potential model of trips per day (:func:`~mobility.demand.potential.fit_targets_from_data`),
    fitted once per process and version of its input files.

    A plan simulates two networks, each with stations the profiles lack, and a sweep or the API
    prepares many: each fit read the same files, built the same layers and fitted the same
    deterministic models again (1.2 s). The model is kept under the key of the files it depends
    on (:func:`~mobility.demand.potential.feature_inputs`: their paths, sizes, modification times
    and content digests), so an edited input is fitted again; only the last one is kept.
    """
    from mobility.cache import cache_key
    from mobility.demand.potential import feature_inputs, fit_targets_from_data

    key = cache_key(feature_inputs(data_dir), target="trips_per_day")
    with _POTENTIAL_LOCK:
        known = _POTENTIAL.get(key)
    if known is not None:
        return known
    model, _ = fit_targets_from_data(data_dir, ("trips_per_day",))["trips_per_day"]
    with _POTENTIAL_LOCK:
        _POTENTIAL.clear()
        _POTENTIAL[key] = model
    return model


def potential_levels(
    stations: pd.DataFrame,
    profiles: StationProfiles,
    data_dir: Path,
    notes: list[str],
    *,
    files: dict[str, Path] | None = None,
) -> np.ndarray | None:
    """Trips per day the demand-potential model predicts at the stations the profiles lack.

    NaN for the others; ``None`` when every station has a profile, or when the model cannot be
    fitted (then a note says so and those stations take their neighbours' mean rate).
    ``files``: when given and the model is used, the files it read are added to it as
    ``potential.<name>`` (for a provenance).
    """
    known = set(profiles.stations["number"].astype("int64").tolist())
    num = pd.to_numeric(stations["number"], errors="coerce")
    missing = ~num.isin(known).to_numpy(bool)
    if not missing.any():
        return None
    try:
        model = trip_potential_model(data_dir)
        feats = model.features_for_points(
            stations["lon"].to_numpy(float)[missing], stations["lat"].to_numpy(float)[missing]
        )
        pred = np.maximum(np.asarray(model.predict(feats), dtype=float), 0.0)
        if files is not None:
            files.update({f"potential.{name}": Path(p) for name, p in model.layers.sources.items()})
    except Exception as exc:  # a fallback, reported in the result's notes
        notes.append(
            f"demand-potential model unavailable ({type(exc).__name__}): new stations take "
            "the mean rate of their 5 nearest stations"
        )
        return None
    out = np.full(len(stations), np.nan)
    out[missing] = pred
    return out


def simulate(
    prep: Prepared,
    replications: int = 100,
    seed: int = 0,
    client: Client | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[SimulationRun, SimulationResult]:
    """Run ``replications`` days and summarise them.

    ``client``: a Dask client to spread the replications over (:mod:`.fanout`); same result (its
    provenance says which: ``fanned_out``). ``progress(done, replications)``: called after each
    replication run in this process.
    """
    problem = prep.model.problem(prep.day, prep.bikes)
    t0 = time.perf_counter()
    (out,) = run_many(problem, [None], replications, seed, client, progress=progress)
    seconds = time.perf_counter() - t0
    return out, summarise(prep, out, seconds, seed, problem, fanned_out=client is not None)


def summarise(
    prep: Prepared,
    out: SimulationRun,
    seconds: float,
    seed: int,
    problem: SimulationProblem | None = None,
    *,
    fanned_out: bool | None = None,
) -> SimulationResult:
    """The result document of a run on ``prep`` (its start stock is ``out``'s); ``fanned_out``:
    whether the replications ran on a Dask cluster, for the provenance."""
    problem = problem if problem is not None else prep.model.problem(prep.day, prep.bikes)
    conserved = bool((out.end_bikes.sum(axis=1) == prep.bikes.sum()).all())
    m = prep.model
    served = per_replication(out)["served_share"]
    stats = SolverStats(
        solver=SIMULATOR,
        status="completed" if conserved else "error",
        objective=float(served.mean()),
        bound=None,
        seconds=seconds,
        seed=seed,
        extra={"objective_is": "served share", "bikes_conserved": conserved},
    ).to_dict()
    model_doc = {
        "rates": "demand profiles x season x year x day factor (holiday, month by day type), 15-minute slots",
        "season_factor": m.season.factor(prep.day),
        "day_factor": m.days.factor(prep.day),
        "holiday_factor": m.days.holiday,
        "holidays_fitted": m.days.holidays_used,
        "expected_demand": float(problem.rates.sum()),
        "ride_mu": m.rides.mu,
        "ride_sigma": m.rides.sigma,
        "round_trip_mu": m.rides.loop_mu,
        "round_trip_sigma": m.rides.loop_sigma,
        "od_round_trip_share": m.od.round_trip_share,
        "od_tau_s": m.od.tau_s,
        **rider_params(m.params),
        "trips_fitted": m.od.trips_used,
        "bikes_moved_by_rule": (
            float(np.clip(out.moved, 0, None).sum() / out.replications) if out.moved is not None else 0.0
        ),
    }
    result = build_result(
        out,
        m.stations,
        prep.bikes,
        source=prep.source,
        day=prep.day.strftime("%Y-%m-%d"),
        day_type=day_type(prep.day),
        start_inventory=prep.start_inventory,
        seconds=seconds,
        model=model_doc,
        stats=stats,
        provenance=simulation_provenance(prep, seed, fanned_out=fanned_out),
        notes=[*prep.input_notes, *m.notes],
    )
    return result


def sweep(
    prep: Prepared,
    fleets: list[int],
    replications: int = 20,
    seed: int = 0,
    client: Client | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Served share against fleet size, citywide and by district.

    The start inventory is scaled to each fleet size in proportion to the given one.
    Returns one row per fleet size and area (``gu = "citywide"`` for the city). ``client``: a
    Dask client to spread the points and replications over (:mod:`.fanout`); same result.
    ``progress(done, total)``: replications done of all the points' (run in this process).
    """
    rows: list[dict[str, Any]] = []
    gu = prep.stations["gu"].astype(str).to_numpy()
    docks = prep.stations["docks"].to_numpy(np.int64)
    stocks: list[np.ndarray | None] = [scale_fleet(prep.bikes, docks, int(f)) for f in fleets]
    problem = prep.model.problem(prep.day, prep.bikes)
    t0 = time.perf_counter()
    runs = run_many(problem, stocks, replications, seed, client, progress=progress)
    seconds = (time.perf_counter() - t0) / max(len(fleets), 1)
    for f, out in zip(fleets, runs, strict=True):
        for area, mask in [("citywide", None), *[(g, gu == g) for g in sorted(set(gu.tolist()))]]:
            r = per_replication(out, mask)
            share = r["served_share"]
            rows.append(
                {
                    "fleet": int(f),
                    "gu": area,
                    "trips_demanded": float(r["trips_demanded"].mean()),
                    "served_share": float(share.mean()),
                    "served_share_low": float(np.quantile(share, 0.025)),
                    "served_share_high": float(np.quantile(share, 0.975)),
                    "lost_empty": float(r["lost_empty"].mean()),
                    "full_arrivals": float(r["full_arrivals"].mean()),
                    "seconds": seconds,
                }
            )
    return pd.DataFrame(rows)
