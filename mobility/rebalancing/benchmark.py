"""The BRP and 1-PDTSP benchmarks as special cases of the nightly rebalancing problem.

Mapping of a :class:`~mobility.rebalancing.formats.BenchmarkInstance` (vertex 0 = depot,
signed demand ``q_v``, capacity ``Q``, arc costs ``c``) onto a
:class:`~mobility.rebalancing.problem.RebalancingProblem`, solved by the nightly engine
:func:`mobility.rebalancing.solve.solve`:

* station ``v - 1`` for vertex ``v`` (its id is ``str(v)``): a pick-up vertex (``q_v > 0``)
  holds ``q_v`` bikes and wants 0, a delivery vertex holds 0 and wants ``-q_v``; the
  dissatisfaction curve costs ``penalty`` per bike away from that level (``penalty`` larger
  than any route's arc cost), so the engine serves every station fully;
* one depot; the travel matrices are ``c`` (``distance_m = c``, ``drive_cost_per_km = 1000``,
  so one cost unit per metre); no shift limit, no handling time;
* ``vehicles`` trucks of capacity ``Q`` (capped at ``max(Σ pick-ups, Σ deliveries)``, which
  never binds) with a free start load: 1 for 1-PDTSP, for BRP
  ``ceil(|Σq| / Q) + 2`` (the depot must supply or absorb ``|Σq|``, at most ``Q`` per route),
  of which the search leaves the unneeded ones empty;
* ``SolveParams(full_service=True)``: every station exactly once (``max_visits = 1``), served
  fully, including stations with ``q_v = 0``.

The portfolio (:func:`solve_instance`) runs the engine with ``workers`` seeds in parallel
processes and keeps the cheapest feasible routes; on small instances (at most
``exact_max_stations``) the exact CP-SAT model of :mod:`mobility.rebalancing.exact` then gets the
engine's routes as a hint and the remaining time, to prove optimality or improve.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mobility.rebalancing.exact import BenchmarkSolution, solve_benchmark
from mobility.rebalancing.formats import BenchmarkInstance
from mobility.rebalancing.plan import RebalancingPlan
from mobility.rebalancing.problem import Depot, RebalancingProblem, Truck, curve_from_target
from mobility.rebalancing.solve import SolveParams, solve, warmup
from mobility.stats import SolverStats

__all__ = [
    "STOPPED_BY",
    "BenchmarkParams",
    "benchmark_problem",
    "brp_from_night",
    "generate_pdtsp",
    "plan_routes",
    "solve_instance",
    "vehicles_for",
]


@dataclass(frozen=True)
class BenchmarkParams:
    """Portfolio settings.

    Attributes
    ----------
    time_limit
        Wall seconds for the instance, everything included.
    seed
        Seed of the first engine run (run ``k`` uses ``seed + k``).
    workers
        Engine runs in parallel processes (one per core).
    exact_max_stations
        Instances with at most this many stations also get the CP-SAT model.
    engine_share
        Share of the time for the engine before CP-SAT on those small instances (one engine
        run there: CP-SAT gets both cores).
    single_route
        Search of the one-vehicle (1-PDTSP) runs: ``"ils"`` or ``"memetic"`` in every run
        (:attr:`SolveParams.single_route <mobility.rebalancing.solve.SolveParams>`), or
        ``"mixed"``: run ``k`` memetic when ``k`` is odd, so a 2-run portfolio has one of each.
    """

    time_limit: float = 60.0
    seed: int = 0
    workers: int = 2
    exact_max_stations: int = 30
    engine_share: float = 0.1
    single_route: Literal["ils", "memetic", "mixed"] = "ils"


def vehicles_for(inst: BenchmarkInstance) -> int:
    """Trucks offered to the engine (module docstring)."""
    if inst.max_vehicles is not None:
        return inst.max_vehicles
    imbalance = abs(int(inst.demand[1:].sum()))
    return int(min(inst.n - 1, math.ceil(imbalance / inst.capacity) + 2))


def benchmark_problem(inst: BenchmarkInstance) -> RebalancingProblem:
    """The instance as a nightly problem (module docstring)."""
    n = inst.n - 1
    q = np.asarray(inst.demand[1:], dtype=np.int64)
    bikes = np.maximum(q, 0)
    want = np.maximum(-q, 0)
    cost = np.asarray(inst.cost, dtype=np.float64)
    # a block of consecutive visits moves at most max(Σ pick-ups, Σ deliveries) bikes, so a
    # larger capacity never binds: capping it keeps the loading DP small (n20q1000A has Q = 1000)
    cap = int(min(inst.capacity, max(1, int(q[q > 0].sum()), int(-q[q < 0].sum()))))
    penalty = 10.0 * max(1.0, float(cost.max())) * inst.n
    kmax = int(bikes.max(initial=0) + cap)
    curves = tuple(curve_from_target(int(w), kmax, per_bike=penalty) for w in want)
    xy = inst.coords if inst.coords is not None else np.zeros((inst.n, 2))
    trucks = tuple(
        Truck(
            id=f"V{k + 1}",
            depot="depot",
            capacity=cap,
            shift_start=0.0,
            shift_end=1e12,
            load_seconds_per_bike=0.0,
            stop_seconds=0.0,
            start_load=None,
        )
        for k in range(vehicles_for(inst))
    )
    return RebalancingProblem(
        station_ids=tuple(str(v) for v in range(1, inst.n)),
        names=tuple(f"{inst.name} vertex {v}" for v in range(1, inst.n)),
        lon=np.asarray(xy[1:, 0], dtype=np.float64),
        lat=np.asarray(xy[1:, 1], dtype=np.float64),
        docks=np.full(n, kmax + 1, dtype=np.int64),
        bikes=bikes,
        curves=curves,
        depots=(Depot("depot", "depot", float(xy[0, 0]), float(xy[0, 1])),),
        trucks=trucks,
        travel_s=cost,
        distance_m=cost,
        dissatisfaction_weight=1.0,
        drive_cost_per_km=1000.0,
        overflow_penalty=0.0,
        max_visits=1,
        meta={"benchmark": inst.name, "kind": inst.kind},
    )


def plan_routes(plan: RebalancingPlan) -> list[list[int]]:
    """Vertex lists of the non-empty routes of a plan of :func:`benchmark_problem`."""
    return [[int(s.station_id) for s in r.stops] for r in plan.routes if r.stops]


def _engine_run(
    args: tuple[BenchmarkInstance, float, int, Literal["ils", "memetic"]],
) -> tuple[list[list[int]], dict[str, object]]:
    """One engine run (top level so that it pickles)."""
    inst, limit, seed, single_route = args
    problem = benchmark_problem(inst)
    sp = SolveParams(
        time_limit=limit,
        seed=seed,
        workers=1,
        decompose="never",
        full_service=True,
        single_route=single_route,
    )
    plan = solve(problem, sp)
    st = plan.stats
    return plan_routes(plan), {"solver": st.solver, "seed": seed, "single_route": single_route, **st.extra}


def _route_search(mode: Literal["ils", "memetic", "mixed"], k: int) -> Literal["ils", "memetic"]:
    """The single-route search of portfolio run ``k`` (:attr:`BenchmarkParams.single_route`)."""
    if mode == "mixed":
        return "memetic" if k % 2 else "ils"
    return mode


STOPPED_BY = ("proof", "clock", "iterations")
"""Why a portfolio solve stopped (``stats.extra["stopped_by"]`` of :func:`solve_instance`)."""


def _stopped_by(runs: list[dict[str, object]], cp_sat: dict[str, object] | None) -> str:
    """Why the portfolio stopped (:data:`STOPPED_BY`): CP-SAT's, when it ran last (its proof, or
    the clock); else the clock when any engine run was stopped by it (the portfolio waits for the
    last), else the engine runs' iteration limits."""
    if cp_sat is not None:
        return str(cp_sat["stopped_by"])
    return "iterations" if runs and all(r["stopped_by"] == "iterations" for r in runs) else "clock"


def solve_instance(inst: BenchmarkInstance, params: BenchmarkParams | None = None) -> BenchmarkSolution:
    """Engine portfolio, then CP-SAT on small instances (module docstring).

    Returns
    -------
    BenchmarkSolution
        The cheapest feasible routes; ``stats.solver`` says which engine produced them
        (``"lns+classic"`` or ``"cp-sat"``), ``stats.status`` is ``"optimal"`` only when CP-SAT
        proved it. ``stats.extra["stopped_by"]`` says why the solve stopped (:data:`STOPPED_BY`):
        ``"proof"`` when CP-SAT proved the routes optimal, ``"clock"`` when the time limit ended
        the search or the proof (a ``bound`` below the cost is then only as far as the proof got),
        ``"iterations"`` when every engine run ended at its iteration limit. ``extra`` also has
        each engine run (seed, cost, ``stopped_by``) and, on small instances, CP-SAT's status,
        cost, bound, time limit and ``stopped_by``.
    """
    params = params or BenchmarkParams()
    # compiled here, the engine processes load the kernels from numba's cache within their limit
    warmup()
    t0 = time.perf_counter()
    small = inst.n - 1 <= params.exact_max_stations
    budget = params.time_limit * (params.engine_share if small else 1.0)
    workers = 1 if small else max(1, params.workers)
    # process start-up and result transfer eat into the limit: keep a margin
    limit = max(0.2, budget - (0.6 if workers > 1 else 0.1))
    jobs = [(inst, limit, params.seed + k, _route_search(params.single_route, k)) for k in range(workers)]
    if workers == 1:
        results = [_engine_run(jobs[0])]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_engine_run, jobs))
    best: tuple[int, list[list[int]], dict[str, object]] | None = None
    runs = []
    for routes, info in results:
        ok = not inst.check_routes(routes)
        cost = inst.route_cost(routes) if ok else None
        runs.append({"seed": info["seed"], "cost": cost, "stopped_by": info.get("stopped_by")})
        if cost is not None and (best is None or cost < best[0]):
            best = (cost, routes, info)
    extra: dict[str, object] = {"engine_runs": runs}
    solver, status, bound = "lns+classic", "feasible", None
    if best is not None:
        cost, routes, info = best
        extra["engine"] = info
    else:
        cost, routes = -1, []
    left = params.time_limit - (time.perf_counter() - t0)
    cp_sat: dict[str, object] | None = None
    if small and left > 0.2:
        exact = solve_benchmark(
            inst, time_limit=left, seed=params.seed, workers=max(1, params.workers), hint=routes or None
        )
        cp_sat = {
            "status": exact.stats.status,
            "cost": exact.cost,
            "bound": exact.stats.bound,
            "time_limit": round(left, 3),
            # CP-SAT's only limit is the clock: a solve it did not prove (or refute) ran out of time
            "stopped_by": "proof" if exact.stats.status in ("optimal", "infeasible") else "clock",
        }
        extra["cp_sat"] = cp_sat
        bound = exact.stats.bound
        if exact.routes and not inst.check_routes(exact.routes) and (best is None or exact.cost < cost):
            solver, cost, routes = "cp-sat", exact.cost, exact.routes
        if routes and bound is not None and cost <= bound + 1e-9:
            status = "optimal"
            if solver != "cp-sat":
                solver = "lns+classic, proved by cp-sat"
    extra["stopped_by"] = _stopped_by(runs, cp_sat)
    stats = SolverStats(
        solver=solver,
        status=status if routes else "time_limit",
        objective=float(cost),
        bound=bound,
        seconds=round(time.perf_counter() - t0, 3),
        seed=params.seed,
        gap=SolverStats.relative_gap(float(cost), bound) if routes else None,
        extra=extra,
    )
    return BenchmarkSolution(routes, int(cost), stats)


def generate_pdtsp(n: int, capacity: int, seed: int, name: str | None = None) -> BenchmarkInstance:
    """A 1-PDTSP instance from the generator of Hernández-Pérez & Salazar-González (2004).

    The depot (vertex 0) at the origin, the other ``n - 1`` vertices with integer coordinates
    uniform in ``[-500, 500]²``, demands uniform integers in ``[-10, 10]``, the depot's demand
    balancing the sum (demands are redrawn until ``|depot demand| <= capacity``: otherwise no
    tour is feasible, the load would have to change by more than ``Q`` over the tour); TSPLIB
    ``EUC_2D`` costs (``floor(d + 0.5)``). Same ``seed``, same instance
    (``numpy.random.default_rng``).
    """
    rng = np.random.default_rng(seed)
    xy = np.zeros((n, 2))
    xy[1:] = rng.integers(-500, 501, size=(n - 1, 2))
    q = np.zeros(n, dtype=np.int64)
    q[1:] = rng.integers(-10, 11, size=n - 1)
    while abs(int(q[1:].sum())) > capacity:  # the depot's demand must fit the vehicle too
        q[1:] = rng.integers(-10, 11, size=n - 1)
    q[0] = -int(q[1:].sum())
    d = xy[:, None, :] - xy[None, :, :]
    cost = np.floor(np.sqrt((d**2).sum(axis=2)) + 0.5).astype(np.int64)
    return BenchmarkInstance(name or f"n{n}q{capacity}s{seed}", "pdtsp", q, int(capacity), cost, xy, 1)


def brp_from_night(
    problem: RebalancingProblem, n_stations: int, capacity: int, *, depot: int = 0, name: str
) -> BenchmarkInstance:
    """A BRP instance cut from a night: the ``n_stations`` imbalanced stations nearest a depot.

    Each station's demand is the pick-up that brings it to its cheapest morning level
    (surplus ``> 0``, deficit ``< 0``, from the night's inventories and dissatisfaction curves),
    clipped to ``[-capacity, capacity]``; stations already at their best level are skipped. Arc
    costs are the truck drive seconds of the night's street network, rounded to integers.
    """
    need = np.asarray(problem.bikes, dtype=np.int64) - np.argmin(problem.cost_table, axis=1)
    imbalanced = np.flatnonzero(need != 0)
    order = imbalanced[np.argsort(problem.travel_s[depot, problem.n_depots + imbalanced], kind="stable")]
    st = order[:n_stations]
    nodes = np.concatenate([[depot], problem.n_depots + st])
    cost = np.rint(problem.travel_s[np.ix_(nodes, nodes)]).astype(np.int64)
    np.fill_diagonal(cost, 0)
    demand = np.concatenate([[0], np.clip(need[st], -capacity, capacity)]).astype(np.int64)
    return BenchmarkInstance(name, "brp", demand, int(capacity), cost, None, None)
