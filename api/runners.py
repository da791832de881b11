"""The production job kinds: an expansion scenario to a Plan, a rebalancing run to routes.

Both are called in a worker by :func:`api.jobs.execute_job` with the job's stored inputs and a
:class:`api.jobs.JobContext`, and return a :class:`api.jobs.JobOutput` whose main artifact is the
library's own JSON document (``plan.json`` / ``routes.json``). Library modules are imported
lazily so that a worker only loads what it runs.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from typing import TYPE_CHECKING, Any

from api.jobs import JobCancelledError, JobContext, JobOutput, public_error
from api.routes.maps import night_maps, prerender
from api.schemas import (
    PlanSource,
    RebalancingOptions,
    ScenarioRequest,
    SimulationRequest,
    StationListSource,
    VintageSource,
)
from mobility.errors import MobilityError, StopRequested
from mobility.progress import Progress, within
from mobility.rebalancing.travel import TruckTravel, with_street_paths
from mobility.scenario.nightly import Costs, SearchSpec

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from mobility.provenance import Provenance
    from mobility.rebalancing.plan import RebalancingPlan
    from mobility.rebalancing.problem import RebalancingProblem
    from mobility.rebalancing.snapshot import StatusSnapshot
    from mobility.rebalancing.solve import SolveParams
    from mobility.simulation.morning import MorningAfter
    from mobility.stats import StoppingCriterion

log = logging.getLogger("mobility.api.runners")

MAP_SECONDS = 5.0
"""Time left that drawing a night's maps needs at least: with less, the solved routes are stored
without them (``/maps`` then draws them from ``routes.json`` on request)."""


PLAN_SHARE = 0.95
"""The share of a plan job's progress that the plan itself takes (the map layers the rest)."""


def job_progress(ctx: JobContext, start: float = 0.02, end: float = PLAN_SHARE) -> Progress:
    """The job's progress as a :class:`~mobility.progress.Progress` of the work it runs.

    Each message becomes the job's; the work's share done, ``start..end`` of the job's progress
    (never going back; a message without a share keeps the bar where it is).
    """

    def report(message: str, /, done: float | None = None) -> None:
        ctx.report(ctx.progress if done is None else max(ctx.progress, done), message)

    return within(report, start, end)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def run_scenario(inputs: dict[str, Any], ctx: JobContext) -> JobOutput:
    """Run an :class:`~mobility.scenario.expansion.ExpansionScenario` to a Plan.

    :func:`mobility.placement.pipeline.plan_expansion` gets the scenario's solver time limit for
    each of its two models (sites, then docks and bikes); its progress messages become the job's,
    and its share done (by stage, then by simulated network and day) the job's progress up to
    :data:`PLAN_SHARE`; the map layers drawn after it take the rest.
    """
    from mobility.placement.pipeline import plan_expansion
    from mobility.placement.validate import validate_plan
    from mobility.scenario.expansion import scenario_from_dict

    # Validated again in the worker: a job stored before a rule was added never reaches a loader
    # with a server path.
    scenario = scenario_from_dict(inputs["scenario"], ScenarioRequest)
    ctx.report(0.01, "starting")
    try:  # cancellation is checked before every step (a running solver ends at its time limit)
        plan, _result = plan_expansion(
            scenario, progress=job_progress(ctx), stop=lambda _best: ctx.stop_event.is_set()
        )
    except StopRequested as exc:
        raise JobCancelledError(str(exc)) from exc
    doc = plan.to_dict()
    check = validate_plan(plan, scenario)  # the independent check, as mobility plan runs it
    kpis = {
        "new_stations": len(plan.new_stations),
        "total_bikes": plan.total_bikes,
        "city_before": doc.get("city_before"),
        "city_after": doc.get("city_after"),
        "siting_status": plan.siting_stats.status,
        "fleet_status": plan.fleet_stats.status,
        "valid": check.ok,
        "violations": check.messages[:20],
    }
    body = _dumps(doc)
    ctx.report(0.97, "drawing the map layers")
    return JobOutput(
        result={"kpis": kpis, "links": {"plan": "plan"}},
        artifacts={"plan": ("application/json", body), **prerender(ctx.job_id, body)},
    )


def travel_for(inputs: dict[str, Any]) -> TruckTravel:
    """Truck travel over the request's depots then stations, as its ``options`` ask.

    The options are :class:`api.schemas.RebalancingOptions` (validated there, with its defaults:
    the night profile on the OSM drive network, as ``mobility rebalance`` does; straight lines on
    request or, with a note, when the network's data is missing on the worker).
    """
    from mobility.rebalancing.travel import truck_travel

    opts = RebalancingOptions.model_validate(inputs.get("options") or {})
    stations, depots = inputs["snapshot"]["stations"], inputs["fleet"]["depots"]
    lon = [d["lon"] for d in depots] + [s["lon"] for s in stations]
    lat = [d["lat"] for d in depots] + [s["lat"] for s in stations]
    return truck_travel(
        lon,
        lat,
        source=opts.network,
        profile=opts.profile,
        straight_speed_kph=opts.speed_kph,
        straight_detour=opts.detour,
    )


def build_problem(inputs: dict[str, Any], travel: TruckTravel | None = None) -> RebalancingProblem:
    """A :class:`~mobility.rebalancing.problem.RebalancingProblem` from a validated run request.

    Travel: ``travel``, else :func:`travel_for` the request's ``options``; the problem itself is
    :func:`mobility.rebalancing.build.problem_from_snapshot` (each station's target interval there)
    over the request's snapshot read as the library's
    :class:`~mobility.rebalancing.snapshot.StatusSnapshot`, as ``mobility rebalance`` reads a file,
    with the request's ``costs`` and its trucks' stop and loading times (a nightly scenario's
    sections and defaults; a job stored before they were asked for takes those defaults). Its
    stops take their public numbers and street addresses from the station list
    ``mobility rebalance`` takes them from (:func:`mobility.rebalancing.night.station_list`), by
    each station's number, else its id, whether the snapshot was completed from a list or not.
    """
    from mobility.rebalancing.build import problem_from_snapshot
    from mobility.rebalancing.night import station_list
    from mobility.rebalancing.snapshot import StatusSnapshot

    travel = travel if travel is not None else travel_for(inputs)
    snapshot = StatusSnapshot.model_validate(inputs["snapshot"])
    curves, targets = station_curves(inputs, snapshot)
    return problem_from_snapshot(
        snapshot,
        inputs["fleet"]["depots"],
        inputs["fleet"]["trucks"],
        travel.seconds,
        travel.metres,
        curves=curves,
        costs=Costs.model_validate(inputs.get("costs") or {}),
        station_list=station_list(),
        meta={
            "travel_model": travel.model,
            "snapshot": inputs["snapshot"].get("name"),
            **({"travel_note": travel.note} if travel.note else {}),
            **targets,
        },
    )


def station_curves(
    inputs: dict[str, Any], snapshot: StatusSnapshot
) -> tuple[list[np.ndarray | None] | None, dict[str, Any]]:
    """The demand model's curve of each station (:func:`mobility.rebalancing.night.snapshot_curves`)
    when the run's ``options.targets`` is ``demand``, or ``auto`` with a night within reach (its
    ``morning_after.night``, else the snapshot's date), where ``auto`` leaves a station that has
    its own target to it; else ``None`` (each station's own target).

    The second item goes into the problem's ``meta``: ``targets`` (``demand`` or ``snapshot``),
    with the curves' ``day_type``, ``demand_level`` and the stations that have one, and a
    ``targets_note`` the run shows when stations without a target of their own have no curve.
    """
    from mobility.errors import DataNotFoundError
    from mobility.rebalancing.night import snapshot_curves
    from mobility.simulation.days import morning_night_problem

    opts = RebalancingOptions.model_validate(inputs.get("options") or {})
    if opts.targets == "snapshot":
        return None, {"targets": "snapshot"}
    # under auto a target the snapshot gives is the operator's word: that station keeps it
    own = [
        opts.targets == "auto" and any(v is not None for v in (s.target, s.target_low, s.target_high))
        for s in snapshot.stations
    ]
    if all(own):
        return None, {"targets": "snapshot"}
    banded = [not given for given in own]  # without curves: the band, unless a target is given
    night = run_night(inputs, snapshot)
    why = "no night named" if night is None else morning_night_problem(night)
    if night is None or why is not None:
        return None, {"targets": "snapshot", "targets_note": _band_note(banded, f"no demand curves ({why})")}
    try:
        curves, morning = snapshot_curves(snapshot, night, level=opts.level)
    except DataNotFoundError:
        return None, {
            "targets": "snapshot",
            "targets_note": _band_note(banded, "no demand data on the worker"),
        }
    curves = [None if given else c for c, given in zip(curves, own, strict=True)]
    meta: dict[str, Any] = {
        "targets": "demand",
        "day_type": morning.day_type,
        "demand_level": round(morning.level, 4),
        "demand_curves": sum(c is not None for c in curves),
    }
    lacking = [not given and c is None for c, given in zip(curves, own, strict=True)]
    if any(lacking):
        meta["targets_note"] = _band_note(lacking, "not in the demand profiles")
    return curves, meta


def run_night(inputs: dict[str, Any], snapshot: StatusSnapshot) -> date | None:
    """The evening a run plans: its ``morning_after.night``, else its ``night``, else the
    snapshot's date (``None`` when none is given)."""
    asked = (inputs.get("morning_after") or {}).get("night") or inputs.get("night")
    return date.fromisoformat(str(asked)) if asked else snapshot.date


def _band_note(banded: list[bool], why: str) -> str:
    """What a run says of its stations that aim at 25-75 % of their docks (``banded``), and why."""
    return f"{sum(banded)} stations aim at 25-75 % of their docks: {why}"


SOLVING_SHARE = (0.1, 0.95)
"""The part of a night job's progress its solve takes (travel times before, maps and the morning
after beyond)."""


def solving_clock(ctx: JobContext, seconds: float) -> StoppingCriterion:
    """The job's stop test while a night is solved, which also moves the job's bar.

    The night's search is anytime and runs to its time limit (``seconds``) unless stopped, so the
    share of the limit spent is its share done: each time the solver asks whether to stop (after
    every iteration, or every :data:`~mobility.rebalancing.solve.STOP_POLL_SECONDS` with zones in
    processes), the bar moves to it within :data:`SOLVING_SHARE`.
    """
    start, end = SOLVING_SHARE
    t0 = time.monotonic()

    def stop(best_objective: float) -> bool:
        spent = min(1.0, (time.monotonic() - t0) / max(seconds, 1e-9))
        ctx.report(max(ctx.progress, start + (end - start) * spent))
        return ctx.should_stop(best_objective)

    return stop


def solve_params(inputs: dict[str, Any], remaining: float) -> SolveParams:
    """The solver settings of a run: its ``time_limit`` (at most the ``remaining`` seconds of the
    job; all of them when it gives none) and ``seed``, its ``solver`` section (a nightly
    scenario's, :class:`~mobility.scenario.nightly.SearchSpec`, with its defaults) and one worker
    process (a job holds one core of the cluster)."""
    from mobility.rebalancing.solve import SolveParams

    seconds = min(float(inputs.get("time_limit") or remaining), remaining)
    search = SearchSpec.model_validate(inputs.get("solver") or {})
    return SolveParams(
        time_limit=max(0.5, seconds), seed=int(inputs.get("seed", 0)), workers=1, **search.model_dump()
    )


def run_rebalancing(inputs: dict[str, Any], ctx: JobContext) -> JobOutput:
    """Solve one night with :func:`mobility.rebalancing.solve.solve` and validate the plan."""
    from mobility.rebalancing.solve import solve
    from mobility.rebalancing.validate import validate_plan

    ctx.report(0.05, "truck travel times")
    t0 = time.perf_counter()
    travel = travel_for(inputs)
    if ctx.stop_event.is_set():
        raise JobCancelledError("cancelled before solving")
    problem = build_problem(inputs, travel)
    params = solve_params(inputs, ctx.remaining())
    ctx.report(SOLVING_SHARE[0], "solving")
    plan = solve(
        problem,
        params,
        stop=solving_clock(ctx, params.time_limit),
        progress=job_progress(ctx, *SOLVING_SHARE),  # its lines; the bar follows the clock
    )
    plan = with_street_paths(plan, travel, problem)  # routes drawn along the streets
    plan = plan.with_provenance(run_provenance(inputs, travel, params, problem))
    plan = plan.model_copy(update={"wall_seconds": round(time.perf_counter() - t0, 3)})
    doc = plan.to_dict()
    valid = validate_plan(problem, plan).ok
    kpis = {
        **doc.get("totals", {}),
        "still_empty": len(doc.get("still_empty", [])),
        "still_full": len(doc.get("still_full", [])),
        "valid": valid,
        "solver_status": (doc.get("stats") or {}).get("status"),
    }
    maps, note = _night_maps(doc, problem, ctx)
    result: dict[str, Any] = {"kpis": kpis, "links": {"routes": "routes"}}
    artifacts = {"routes": ("application/json", _dumps(doc)), **maps}
    morning, morning_note = _morning(inputs, problem, plan, params.seed, ctx)
    if morning is not None:
        artifacts["morning"] = ("application/json", _dumps(morning.model_dump(mode="json")))
        result["links"]["morning"] = "morning"
        kpis["morning_after"] = {row["method"]: row for row in morning.table()}
    targets_note = problem.meta.get("targets_note")
    notes = [n for n in (travel.note, targets_note, note, morning_note) if n]  # straight lines; no maps; ...
    if notes:
        result["notes"] = notes
        ctx.report(0.99, "; ".join(notes))
    return JobOutput(result=result, artifacts=artifacts)


MORNING_SHARE = (0.98, 0.99)
"""The job's progress while the morning after is simulated (its steps named as they come)."""

MORNING_SECONDS = 20.0
"""Time left that simulating the morning after needs at least (the real night at 10
replications: about 10 s): with less, the routes are stored without it and the run says so."""


def _morning(
    inputs: dict[str, Any], problem: RebalancingProblem, plan: RebalancingPlan, seed: int, ctx: JobContext
) -> tuple[MorningAfter | None, str | None]:
    """The morning after the night (``morning.json``), as ``mobility rebalance`` simulates it
    (:func:`mobility.simulation.morning.morning_after`: no rebalancing, the greedy dispatcher and
    these routes), when the request asks for it (``morning_after``); else ``None``. With fewer
    than :data:`MORNING_SECONDS` left, ``None`` and a note saying so. Its provenance is the
    night's with the routes (:func:`~mobility.rebalancing.plan.routes_version`), as the CLI's.

    Raises
    ------
    JobCancelledError
        The job was cancelled while it solved (checked before simulating).
    """
    asked = inputs.get("morning_after")
    if asked is None:
        return None, None
    if ctx.stop_event.is_set():
        raise JobCancelledError("cancelled before simulating the morning after")
    if ctx.remaining() < MORNING_SECONDS:
        return None, f"{ctx.remaining():.1f} s left after solving: the morning after was not simulated"
    from mobility.rebalancing.baselines import greedy_dispatch
    from mobility.rebalancing.night import snapshot_stations
    from mobility.rebalancing.plan import routes_version
    from mobility.rebalancing.snapshot import StatusSnapshot
    from mobility.simulation.morning import morning_after

    ctx.report(0.98, "simulating the morning after (none, greedy, these routes)")
    snapshot = StatusSnapshot.model_validate(inputs["snapshot"])
    _snap, stations, _report = snapshot_stations(snapshot)
    night = run_night(inputs, snapshot)
    greedy = greedy_dispatch(problem, seed=seed)
    try:
        morning = morning_after(
            stations,
            problem.bikes,
            {"no rebalancing": None, "greedy dispatcher": greedy.to_dict(), "ours": plan.to_dict()},
            night=str(night),
            profiles=None,
            level=problem.meta.get("demand_level"),  # the curves' level (auto caps it), as the CLI's
            replications=int(asked.get("replications", 10)),
            seed=seed,
            # the night's, with these routes (as mobility rebalance records them in morning.json)
            provenance=None
            if plan.provenance is None
            else plan.provenance.with_contents({"routes": routes_version(plan)}),
            progress=job_progress(ctx, *MORNING_SHARE),
        )
    except MobilityError as exc:  # the solved routes stand: the run says why it has no morning after
        return None, f"the morning after was not simulated: {public_error(exc)['message']}"
    return morning, None


def run_provenance(
    inputs: dict[str, Any], travel: TruckTravel, params: SolveParams, problem: RebalancingProblem
) -> Provenance:
    """The provenance of a rebalancing run, as ``mobility rebalance`` records a night's
    (:func:`mobility.rebalancing.night.night_provenance`): the code version, the street network
    and speed files behind the travel times (none for straight lines), the Ttareungi files the
    demand curves are built from (``demand.<stem>``, when the problem's ``targets`` came from
    them: :func:`station_curves`), the request and the seed.

    The snapshot is request content, not a file: it is recorded by its name, station count and a
    SHA-256 of its content (:func:`~mobility.provenance.content_version`; ``datasets["status"]``
    and the request's ``snapshot``), never whole. The request's ``effective_time_limit`` is the
    solver's time limit (``params``: the asked ``time_limit`` capped by the job's remaining time,
    :func:`solve_params`).
    """
    from mobility.demand.data import profile_inputs
    from mobility.provenance import Provenance, content_version
    from mobility.rebalancing.night import travel_datasets

    opts = RebalancingOptions.model_validate(inputs.get("options") or {})
    snapshot = inputs["snapshot"]
    status = content_version(
        snapshot, name=snapshot.get("name"), stations=len(snapshot.get("stations") or ())
    )
    request = {k: v for k, v in inputs.items() if k != "snapshot"} | {
        "snapshot": status,
        "effective_time_limit": params.time_limit,
    }
    files: dict[str, Path | str] = dict(travel_datasets(travel, opts.profile))
    if problem.meta.get("targets") == "demand":  # as night_datasets names them
        files.update({f"demand.{p.stem}": p for p in profile_inputs()})
    prov = Provenance.collect(files, scenario=request, seed=params.seed)
    return prov.with_contents({"status": status})


def _night_maps(
    doc: dict[str, Any], problem: RebalancingProblem, ctx: JobContext
) -> tuple[dict[str, tuple[str, bytes]], str | None]:
    """The solved night's maps (:func:`api.routes.maps.night_maps`) and ``None``, or no maps and
    a note saying why, when fewer than :data:`MAP_SECONDS` are left or the drawing fails: the
    routes are kept either way, and ``/maps`` draws them from ``routes.json`` on request.

    Raises
    ------
    JobCancelledError
        The job was cancelled while it solved (checked before drawing).
    """
    if ctx.stop_event.is_set():  # not ctx.check(): running out of time keeps the solved routes
        raise JobCancelledError("cancelled before drawing the night's maps")
    later = "the maps will be drawn on request"
    if ctx.remaining() < MAP_SECONDS:
        return {}, f"{ctx.remaining():.1f} s left after solving: {later}"
    ctx.report(0.97, "drawing the night's maps")
    try:
        return night_maps(doc, problem), None
    except Exception as exc:  # a drawing error must not throw the solved routes away
        log.exception("job %s: drawing the night's maps failed", ctx.job_id)
        return {}, f"drawing the maps failed ({type(exc).__name__}): {later}"


def run_sweep(inputs: dict[str, Any], ctx: JobContext) -> JobOutput:
    """A coverage or budget curve (:func:`mobility.placement.sweep.sweep`); progress by point."""
    from mobility.placement.sweep import sweep, sweep_axis
    from mobility.scenario.expansion import scenario_from_dict

    sc = scenario_from_dict(inputs["scenario"], ScenarioRequest)  # again in the worker: no server path
    axis, values = sweep_axis(inputs.get("new_stations"), inputs.get("budget"))
    shown = job_progress(ctx)

    def progress(message: str, /, done: float | None = None) -> None:
        if ctx.stop_event.is_set():
            raise JobCancelledError(f"cancelled before: {message}")
        shown(message, done)

    ctx.report(0.01, "starting")
    result = sweep(
        sc,
        axis,
        values,
        radii=(500.0,) if inputs.get("with_500m") else (),
        progress=progress,
    )
    doc = result.to_dict()
    points = [{k: v for k, v in p.items() if k != "sites"} for p in doc["points"]]
    return JobOutput(
        result={"kpis": {"axis": axis, "points": points}, "links": {"sweep": "sweep"}},
        artifacts={"sweep": ("application/json", _dumps(doc))},
    )


SIMULATION_FIELDS = (
    ("--status", "body.snapshot_id"),
    ("--routes", "body.routes_job_id"),
    ("baseline.station_records", "body.source.station_list_id: station"),
    ("SOURCE", "body.source"),
    ("--day", "body.day"),
)
"""How the library's fields (named as ``mobility simulate``'s arguments) read in an API body."""


def _api_field(field: str) -> str:
    for cli, api in SIMULATION_FIELDS:
        if field.startswith(cli):
            return api + field[len(cli) :]
    return field


def simulation_inputs(inputs: dict[str, Any]) -> tuple[SimulationRequest, dict[str, Any]]:
    """The request and the stored start inputs of a simulation job: ``(station source, station
    set, status table, routes)`` as :func:`mobility.simulation.pipeline.prepare` takes them.

    The content the route resolved at submission (``inputs["resolved"]``: a plan, a station list,
    a snapshot's stations, routes) is read by the library's own readers, as ``mobility simulate``
    reads the files: :func:`~mobility.simulation.data.stations_from_plan` (a ``Plan``),
    :func:`~mobility.simulation.data.stations_from_upload` (an uploaded list), and ``prepare``
    validates the snapshot (``status_bikes``) and the routes (a ``RebalancingPlan``).
    """
    import pandas as pd

    from mobility.simulation.data import stations_from_plan, stations_from_upload

    resolved: dict[str, Any] = inputs.get("resolved") or {}
    # again in the worker: no server path
    req = SimulationRequest.model_validate({k: v for k, v in inputs.items() if k != "resolved"})
    src = req.source
    start: dict[str, Any] = {"station_set": None, "status": None, "routes": resolved.get("routes")}
    if isinstance(src, PlanSource):
        start["station_set"] = stations_from_plan(
            resolved["plan"], label=f"plan of scenario job {src.job_id}"
        )
    elif isinstance(src, StationListSource):
        start["station_set"] = stations_from_upload(
            resolved["station_records"], label=f"station list {src.station_list_id}"
        )
    if resolved.get("snapshot") is not None:
        start["status"] = pd.DataFrame(resolved["snapshot"])
    start["source"] = src.stations if isinstance(src, VintageSource) else start["station_set"].source
    return req, start


def request_provenance(prov: Provenance | None, inputs: dict[str, Any]) -> Provenance | None:
    """A simulation's provenance (:func:`mobility.simulation.pipeline.simulation_provenance`) with
    the request (its ids, without the content they resolved to) as the scenario's ``request``, and
    that content under the names ``mobility simulate`` gives the files it reads
    (:meth:`~mobility.simulation.pipeline.Prepared.add_inputs`): ``station_set`` (a scenario job's
    plan, a stored station list), ``status`` (a stored snapshot) and ``routes`` (a rebalancing
    job's: :func:`~mobility.rebalancing.plan.routes_version`, the hash its ``morning.json``
    records), each with its id and a SHA-256 of its content
    (:func:`~mobility.provenance.content_version`); ``None`` stays ``None``.
    """
    from mobility.provenance import content_version
    from mobility.rebalancing.plan import routes_version

    if prov is None:
        return None
    resolved: dict[str, Any] = inputs.get("resolved") or {}
    request = {k: v for k, v in inputs.items() if k != "resolved"}
    source = request.get("source") or {}
    contents: dict[str, dict[str, Any]] = {}
    if resolved.get("plan") is not None:
        contents["station_set"] = content_version(resolved["plan"], job_id=source.get("job_id"))
    if resolved.get("station_records") is not None:
        records = resolved["station_records"]
        contents["station_set"] = content_version(
            records, station_list_id=source.get("station_list_id"), stations=len(records)
        )
    if resolved.get("snapshot") is not None:
        snapshot = resolved["snapshot"]
        contents["status"] = content_version(
            snapshot, snapshot_id=request.get("snapshot_id"), stations=len(snapshot)
        )
    if resolved.get("routes") is not None:
        contents["routes"] = {"job_id": request.get("routes_job_id"), **routes_version(resolved["routes"])}
    return prov.with_contents(contents, request=request)


def run_simulation(inputs: dict[str, Any], ctx: JobContext) -> JobOutput:
    """A simulated day or fleet sweep (:mod:`mobility.simulation.pipeline`), spread over the cluster.

    The result is the library's document, as ``mobility simulate`` writes it: a day's
    ``SimulationResult`` (``simulation.json``) or, with ``fleet``, the
    :class:`~mobility.simulation.sweep.SimulationSweep` (``sweep.json``); its provenance also
    says whether the runs were ``fanned_out`` on the cluster. A sweep's KPIs are its citywide
    rows.

    The stations, start inventory and routes are those of :func:`simulation_inputs`; an error in
    them names the body's field (``body.snapshot_id``, ``body.routes_job_id``, ...). The rider
    model is fitted here once; the replications (and sweep points) run as tasks on the API's Dask
    cluster through ``ctx.dask_client`` (:mod:`mobility.simulation.fanout`), or in this thread
    when the job does not run on a Dask worker. Same inputs and seed, same result. The provenance
    records the request and the content its ids resolved to (:func:`request_provenance`).
    """
    from mobility.errors import InputError
    from mobility.simulation.engine import RebalanceRule
    from mobility.simulation.model import RiderParams
    from mobility.simulation.pipeline import prepare, simulate, sweep
    from mobility.simulation.sweep import sweep_document

    t0 = time.perf_counter()
    ctx.report(0.01, "starting")
    try:
        req, start = simulation_inputs(inputs)
        ctx.report(0.05, f"fitting the rider model on {start['source']} for {req.day}")
        params = RiderParams(
            walk_radius_m=req.walk_radius_m, rebalance=RebalanceRule(every_s=req.rebalance_every_min * 60)
        )
        prep = prepare(
            start["source"],
            req.day.isoformat(),
            status=start["status"],
            routes=start["routes"],
            station_set=start["station_set"],
            params=params,
        )
    except InputError as exc:
        raise InputError(_api_field(exc.field), exc.value, exc.expected) from exc
    ctx.check()
    client = ctx.dask_client
    where = "on the Dask cluster" if client is not None else "in the job"
    fleets = req.fleets()
    if not fleets:
        ctx.report(0.5, f"simulating {req.replications} days {where}")
        _run, result = simulate(prep, req.replications, req.seed, client=client)
        result = result.model_copy(update={"provenance": request_provenance(result.provenance, inputs)})
        doc = result.model_dump(mode="json")  # its provenance says fanned_out (client given or not)
        kpis = result.summary()
    else:
        ctx.report(0.5, f"simulating {len(fleets)} fleet sizes x {req.replications} days {where}")
        table = sweep(prep, fleets, req.replications, req.seed, client=client)
        seconds = time.perf_counter() - t0
        swept = sweep_document(
            prep, table, req.replications, req.seed, seconds, fanned_out=client is not None
        )
        swept = swept.model_copy(update={"provenance": request_provenance(swept.provenance, inputs)})
        doc = swept.model_dump(mode="json")
        kpis = {"points": [r for r in doc["rows"] if r["gu"] == "citywide"]}
    return JobOutput(
        result={"kpis": kpis, "links": {"result": "result"}},
        artifacts={"result": ("application/json", _dumps(doc))},
    )
