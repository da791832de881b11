"""``solve(problem, params, stop) -> RebalancingPlan``: the nightly rebalancing solver.

Small problems are solved whole: best-insertion construction (stopped at the deadline; with
``full_service`` at half the time, the rest inserted by the classic phase), then the large-neighbourhood
search of :mod:`mobility.rebalancing.local_search` with exact loading quantities for every
route order. Large problems (more candidate stations than ``zone_max_stations`` or more trucks
than ``whole_max_trucks``) are decomposed (:mod:`mobility.rebalancing.decompose`): one zone per
truck group solved in parallel processes (``concurrent.futures.ProcessPoolExecutor``), then the
joined routes improved on the whole problem (border repair) for the remaining
``repair_share`` of the time.

A stopping criterion given to :func:`solve` (an API job's cancellation) holds in every phase: each
zone's search, the border repair and the last phase end at their next iteration once it says
stop. The zones not searched by then are still constructed (0.1-0.5 s each on the Seoul night),
so a stopped night returns complete routes within seconds, not at its time limit.

Last phase, the classic one-commodity neighbourhoods of :mod:`mobility.rebalancing.moves`
(2-opt, or-opt, relocate, exchange with O(1) load checks) on the frozen quantities: a descent
for the night (``classic="descent"``), or, when every station must be served fully and exactly
once (``full_service``, the BRP and 1-PDTSP benchmarks mapped by
:mod:`mobility.rebalancing.benchmark`), an iterated local search with double-bridge
perturbations for the time left after ``lns_share``. For the night the descent is the
default (``bench/rebalancing.py`` prints the night with and without it).

Every returned plan has been built by :func:`~mobility.rebalancing.plan.build_plan`; the solver
never checks itself: :func:`mobility.rebalancing.validate.validate_plan` does, independently.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from mobility.progress import Progress, no_progress
from mobility.rebalancing import _kernels, moves, tour
from mobility.rebalancing.decompose import Zone, make_zones, subproblem
from mobility.rebalancing.local_search import LNSParams, RouteSearch
from mobility.rebalancing.plan import RebalancingPlan, RouteSpec, build_plan
from mobility.rebalancing.problem import RebalancingProblem
from mobility.stats import MaxRuntime, SolverStats, StoppingCriterion

__all__ = ["SolveParams", "solve", "warmup"]


@dataclass(frozen=True)
class SolveParams:
    """Solver settings.

    Attributes
    ----------
    time_limit
        Wall-time budget in seconds for the whole solve.
    seed
        Random seed (same seed and budget → same search path on the same machine).
    workers
        Processes for the zones (this machine has 2 cores).
    decompose
        ``"auto"`` (decompose when large), ``"always"`` or ``"never"``.
    zone_max_stations
        ``"auto"`` decomposes when more candidate stations than this.
    whole_max_trucks
        ``"auto"`` decomposes when more trucks than this.
    trucks_per_zone
        Trucks of one depot that share a zone.
    repair_share
        Share of the time spent improving the joined zone routes on the whole problem.
    classic
        Last phase with the classic neighbourhoods on frozen quantities: ``"off"``, a
        ``"descent"`` (the default) or an iterated local search (``"ils"``). Before 2-opt*
        joined the descent it left the Seoul night's objective unchanged at 60 s (480.42 vs
        480.39) and was off for the night; with it, it takes 0 to 1.4 off the plan's objective
        (seeds 0-3 at 60 s, read from ``stats.extra.lns_objective``) in well under a second.
        Paired runs with and without it differ by more, mostly through the zones' time-limited
        search (README). It never makes a plan worse: each group of routes that exchanged
        stations keeps its new orders only if no shift breaks and the group's cost does not rise.
    classic_share
        Share of the time reserved for that phase (``"descent"``/``"ils"`` without
        ``full_service``).
    full_service
        Every station must be served fully (to its cheapest level) and exactly once: the
        benchmark special case; the large-neighbourhood search gets ``lns_share`` of the time
        and an iterated local search the rest.
    lns_share
        With ``full_service``: share of the time for construction and ruin-and-recreate.
    single_route
        With ``full_service`` and one truck (the 1-PDTSP): the last phase's search, the granular
        iterated local search (``"ils"``) or the memetic search of
        :mod:`mobility.rebalancing.memetic` (``"memetic"``). The night never takes this path.
    max_iterations
        Ruin-and-recreate iterations of each zone and of the repair on the whole night (``None``:
        as many as the time allows). With a budget the search no longer depends on the clock:
        the same seed gives the same routes on any machine, as long as ``time_limit`` is not
        reached first (the pinned Seoul night of ``tests/rebalancing/test_city.py``).
    """

    time_limit: float = 60.0
    seed: int = 0
    workers: int = 2
    decompose: Literal["auto", "always", "never"] = "auto"
    zone_max_stations: int = 300
    whole_max_trucks: int = 4
    trucks_per_zone: int = 2
    repair_share: float = 0.25
    classic: Literal["off", "descent", "ils"] = "descent"
    classic_share: float = 0.03
    full_service: bool = False
    lns_share: float = 0.1
    single_route: Literal["ils", "memetic"] = "ils"
    max_iterations: int | None = None


def _clock_stopped(rs: RouteSearch, iterations: int) -> bool:
    """Whether a ruin-and-recreate search of ``rs`` that made ``iterations`` iterations ended
    before its iteration budget (on the clock or a stopping criterion), i.e. depended on timing."""
    budget = rs.params.max_iterations
    return budget is None or (iterations < budget and rs.candidates.size > 0)


STOP_POLL_SECONDS = 0.1
"""How often the parent asks the stopping criterion while zone processes search."""

_zone_stop_event: Any = None
"""In a zone worker process: the event the parent sets when the stopping criterion says stop."""


def _zone_worker_init(event: Any) -> None:
    """Initializer of the zone processes: keep the parent's stop event."""
    global _zone_stop_event
    _zone_stop_event = event


def _zone_stopped(best_objective: float) -> bool:
    """The stop of a zone searched in a worker process: the parent set the event."""
    return _zone_stop_event is not None and bool(_zone_stop_event.is_set())


def _solve_zone(
    args: tuple[RebalancingProblem, LNSParams], stop: StoppingCriterion | None = None
) -> tuple[list[RouteSpec], float, int, bool]:
    """Construct and search one zone (top level so that it pickles); the last item says whether
    the search stopped on the clock or on ``stop`` (:func:`_clock_stopped`).

    ``stop``: the caller's stopping criterion (zones searched in this process); in a worker
    process the parent's stop event (:func:`_zone_stopped`).
    """
    sub, lp = args
    start = time.perf_counter()
    rs = RouteSearch(sub, lp)
    rs.construct()
    res = rs.run(start + lp.time_limit, stop=stop if stop is not None else _zone_stopped)
    return res.specs, res.objective, res.iterations, _clock_stopped(rs, res.iterations)


def warmup(*, classic: bool = True) -> None:
    """Compile the search's kernels (or load them from numba's cache) before a clock starts.

    On a cold start compiling takes seconds, and a short time limit would otherwise be spent on
    it, not on the search (a 3 s night then moved no bike; a 10-s benchmark instance took 12 s).
    ``classic``: also the kernels of the classic phase (:mod:`mobility.rebalancing.moves`).
    """
    _kernels.warmup()
    tour.warmup()
    if classic:
        moves.warmup()


def solve(
    problem: RebalancingProblem,
    params: SolveParams | None = None,
    stop: StoppingCriterion | None = None,
    *,
    progress: Progress = no_progress,
) -> RebalancingPlan:
    """Plan the night's truck routes.

    The model (one commodity, partial service; :mod:`mobility.rebalancing.local_search` derives
    the exact quantities). For every truck ``t`` (capacity ``Q_t``, start load ``L_t``: fixed, or
    free in ``[0, Q_t]``), choose an ordered list of stations ``s_1 … s_m`` from and back to its
    depot and signed quantities ``d_k`` (``> 0`` pick up)::

        minimise    sum_i f_i(b_i - sum_{visits of i} d)  +  c_km * km driven
        subject to  0 <= L_t + d_1 + ... + d_k <= Q_t             for every truck t, stop k
                    b_{s_k} - d_k >= 0                             (no station below 0 bikes)
                    shift_start_t + travel_t + sum_k (sigma_t + lambda_t |d_k|) <= shift_end_t
                    each station in at most one list, at most once

    with ``f_i`` the station's final cost (:meth:`RebalancingProblem.final_cost`: weighted
    dissatisfaction plus the overflow penalty above the docks), ``b_i`` its bikes now, ``c_km``
    ``problem.drive_cost_per_km``, ``travel_t`` the truck's driving seconds from its depot through
    the stops and back, ``sigma_t`` / ``lambda_t`` its seconds per stop and per bike; the end load
    stays at the depot. With ``params.full_service`` every station is in
    exactly one list and ends at its cheapest level (the BRP and 1-PDTSP benchmarks).

    Parameters
    ----------
    problem
        The night (stations, trucks, travel times).
    params
        Solver settings (defaults: 60 s, seed 0, 2 workers, automatic decomposition).
    stop
        Optional extra stopping criterion (the time limit always holds), asked after every
        iteration of each search phase: the zones' (with several workers the parent asks it
        every :data:`STOP_POLL_SECONDS` with an infinite objective and stops the zone
        processes), the border repair and the classic phase. Once it says stop, the zones not
        searched yet are only constructed and the night returns the routes found so far.
    progress
        Told each step's status line (:class:`~mobility.progress.Progress`; the share done is the
        caller's, which knows the time limit).

    Returns
    -------
    RebalancingPlan
        Routes with exact quantities; ``stats.extra`` holds the phases' figures.
    """
    params = params or SolveParams()
    warmup(classic=params.full_service or params.classic != "off")
    t0 = time.perf_counter()
    deadline = t0 + params.time_limit
    clock = MaxRuntime(params.time_limit)

    def say(msg: str) -> None:
        progress(msg)

    lp = LNSParams(time_limit=params.time_limit, seed=params.seed, max_iterations=params.max_iterations)
    whole = RouteSearch(problem, lp)
    n_cand = int(whole.candidates.size)
    big = n_cand > params.zone_max_stations or len(problem.trucks) > params.whole_max_trucks
    use_zones = params.decompose == "always" or (params.decompose == "auto" and big)
    extra: dict[str, object] = {"candidates": n_cand, "decomposed": use_zones}
    clock_bound = False  # some phase stopped on the clock (the routes depend on timing)
    if use_zones:
        zones = make_zones(
            problem, whole.candidates, whole.gain, trucks_per_zone=params.trucks_per_zone, seed=params.seed
        )
        zone_time = params.time_limit * (1.0 - params.repair_share)
        workers = f"{params.workers} worker" + ("s" if params.workers != 1 else "")
        say(f"{len(zones)} zones, {n_cand:,} candidate stations, {workers}")
        seqs, zone_obj, zone_its, zones_on_clock = _run_zones(problem, zones, zone_time, params, stop)
        clock_bound = clock_bound or zones_on_clock
        whole.set_routes(seqs)
        joined = whole.objective()
        extra.update(
            zones=len(zones), zone_iterations=zone_its, zone_objective=zone_obj, joined_objective=joined
        )
        say(f"zones joined: objective {joined:,.1f}; repairing borders")
    if params.full_service:
        lns_deadline = t0 + params.lns_share * params.time_limit
    elif params.classic != "off":
        lns_deadline = deadline - params.classic_share * params.time_limit
    else:
        lns_deadline = deadline
    if not use_zones:
        # a limit is a limit: the construction stops at half the time with full_service (on
        # 400-500 stops the exact-loading insertion alone took 20 s, over 60 s under load) and
        # the classic phase inserts what it left out; the night's stops at the deadline
        construct_deadline = t0 + 0.5 * params.time_limit if params.full_service else deadline
        whole.construct(deadline=construct_deadline)
        clock_bound = clock_bound or time.perf_counter() >= construct_deadline
        extra["construction_objective"] = whole.objective()
    res = whole.run(lns_deadline, stop=lambda best: clock(best) or (stop is not None and stop(best)))
    clock_bound = clock_bound or _clock_stopped(whole, res.iterations)
    extra.update(iterations=res.iterations, improvements=res.improvements, lns_objective=res.objective)
    classic_on = params.full_service or params.classic != "off"
    if classic_on:
        extra.update(
            whole.classic(
                deadline,
                perturb=params.full_service or params.classic == "ils",
                full_service=params.full_service,
                stop=stop,
                single_route=params.single_route,
            )
        )
        res.specs, res.objective = whole.specs(), whole.objective()
        # the iterated local search runs until the deadline; the descent to its local optimum
        clock_bound = clock_bound or params.full_service or params.classic == "ils"
    extra.update(
        max_iterations=params.max_iterations,
        stopped_by="clock" if clock_bound else "iterations",
        search_objective=round(res.objective, 6),
    )
    # a valid (weak) lower bound: every station at its best reachable level, no driving
    bound = round(float(problem.cost_table.min(axis=1).sum()), 4)
    stats = SolverStats(
        solver=("zones+lns" if use_zones else "lns")
        + ("" if params.classic == "off" and not params.full_service else "+classic"),
        status="feasible",
        objective=float("nan"),  # the plan's totals.objective, set below
        bound=bound,
        seconds=round(time.perf_counter() - t0, 3),
        seed=params.seed,
        extra=extra,
    )
    plan = build_plan(problem, res.specs if params.full_service else without_idle_stops(res.specs), stats)
    # one objective: the plan's (the search's adds a tie-break of eps_per_bike per bike handled)
    objective = plan.totals.objective
    stats = replace(stats, objective=objective, gap=SolverStats.relative_gap(objective, bound))
    return plan.model_copy(update={"stats": stats})


def without_idle_stops(specs: list[RouteSpec]) -> list[RouteSpec]:
    """``specs`` without the stops that move no bike (quantity 0).

    The search settles quantities after it orders the stops, so a stop can end with nothing to
    load or unload; a truck that skips it carries the same load everywhere else, and with travel
    times that satisfy the triangle inequality (shortest paths, straight lines) it arrives no
    later and drives no further. Not for full service (the benchmarks), where every station is
    visited whatever its quantity.
    """
    return [replace(s, stops=tuple(stop for stop in s.stops if stop[1] != 0)) for s in specs]


def _run_zones(
    problem: RebalancingProblem,
    zones: list[Zone],
    zone_time: float,
    params: SolveParams,
    stop: StoppingCriterion | None = None,
) -> tuple[dict[int, list[int]], float, int, bool]:
    """Solve the zones (in parallel when ``params.workers > 1``): sequences in whole-problem
    indices, the summed objective and iterations, and whether a zone's search stopped on the clock.

    ``stop`` ends every zone's search at its next iteration (see :func:`solve`)."""
    work = [z for z in zones if z.stations.size]
    if not work:
        return {}, 0.0, 0, False
    workers = max(1, min(params.workers, len(work)))
    rounds = int(np.ceil(len(work) / workers))
    per_zone = max(0.2, 0.95 * zone_time / rounds - 0.1)
    jobs = [
        (
            subproblem(problem, z.stations, z.trucks),
            LNSParams(time_limit=per_zone, seed=params.seed + k, max_iterations=params.max_iterations),
        )
        for k, z in enumerate(work)
    ]
    if workers == 1:
        results = [_solve_zone(j, stop) for j in jobs]
    else:
        results = _zones_in_processes(jobs, workers, stop)
    seqs: dict[int, list[int]] = {}
    total = 0.0
    its = 0
    on_clock = False
    for z, (specs, obj, it, zone_on_clock) in zip(work, results, strict=True):
        total += obj
        its += it
        on_clock = on_clock or zone_on_clock
        for sp in specs:
            seqs[z.trucks[sp.truck]] = [int(z.stations[i]) for i, _ in sp.stops]
    return seqs, total, its, on_clock


def _zones_in_processes(
    jobs: list[tuple[RebalancingProblem, LNSParams]], workers: int, stop: StoppingCriterion | None
) -> list[tuple[list[RouteSpec], float, int, bool]]:
    """:func:`_solve_zone` of each job in ``workers`` processes, in the jobs' order. While they
    search, ``stop`` is asked every :data:`STOP_POLL_SECONDS`; once it says stop, an event
    shared with the processes ends each zone's search at its next iteration."""
    mp = multiprocessing.get_context()
    event = mp.Event()
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=mp, initializer=_zone_worker_init, initargs=(event,)
    ) as pool:
        futures: list[Future[tuple[list[RouteSpec], float, int, bool]]] = [
            pool.submit(_solve_zone, j) for j in jobs
        ]
        pending = set(futures)
        while pending:
            _done, pending = wait(pending, timeout=STOP_POLL_SECONDS, return_when=FIRST_COMPLETED)
            if stop is not None and not event.is_set() and stop(math.inf):
                event.set()
        return [f.result() for f in futures]
