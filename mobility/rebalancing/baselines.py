"""Baselines the solver is measured against (benchmarks only, not used by ``solve``).

- :func:`greedy_dispatch`: what a dispatcher with a tablet does — the truck whose clock is
  earliest (each starts at its depot at its shift start, with its fixed start load or empty)
  drives to the station of highest score it can still serve and get home from in time, where
  score = the final cost saved by the best non-zero quantity for its current load (picked up in
  ``[-load, Q - load]``, the station not below 0 bikes) minus the driving cost of getting
  there; a truck with no station scoring above 0 goes home. Each station is visited at most once
  in all; it ends when every truck has gone home.
- :func:`ortools_routing`: a plain OR-Tools routing model. Each station gets a fixed quantity
  (its best single-visit amount, picked up in ``[-Q_max, Q_max]`` with ``Q_max`` the largest
  truck capacity, ignoring the driving); only stations whose amount saves something are nodes.
  Visits are optional with the saving (scaled by 1,000 and rounded) as the penalty for skipping
  (prize collecting); a signed load dimension of truck capacity ``Q_t`` whose start cumul is free
  in ``[0, Q_t]`` (or fixed to the truck's start load); a time dimension (start 0, capacity the
  shift length, slack 0) whose transit is the travel time plus the service at the node left,
  ``stop_seconds + load_seconds_per_bike * |quantity|`` with the first truck's values for all;
  arc costs = driving cost (scaled by 1,000 and rounded); each truck starts and ends at its
  depot, other depots are optional at penalty 0. The model it solves, with ``q_i`` and ``g_i``
  the fixed quantity and saving of candidate ``i``: ``minimise sum_t cost(route_t) + sum_{i
  skipped} g_i`` subject to ``0 <= L_t + (sum of q over the route's first k stops) <= Q_t`` and
  the route's travel plus service within the shift. ``PATH_CHEAPEST_ARC`` then
  ``GUIDED_LOCAL_SEARCH`` until the time limit (at least 0.1 s). Unlike
  :mod:`~mobility.rebalancing.local_search` it cannot choose partial quantities; its plan is
  evaluated with the true objective (:func:`~mobility.rebalancing.plan.build_plan`).
- :func:`ortools_benchmark`: the plain OR-Tools routing model of a BRP / 1-PDTSP instance,
  ``minimise sum c_ij`` over the arcs of routes from the depot that visit every station once,
  subject to ``0 <= l_0 + (sum of q over a route's first k stops) <= Q`` for some start load
  ``l_0``: every station mandatory, a signed unary load transit (``q_v``) with slack 0 and
  capacity ``Q``, a free start cumul in ``[0, Q]``, arc costs from the instance,
  ``PATH_CHEAPEST_ARC`` then ``GUIDED_LOCAL_SEARCH`` until the time limit (at least 0.1 s). With
  ``drop_penalty=True`` each visit is optional at a penalty above the cost of any complete
  solution (OR-Tools' "penalties and dropping visits"): the same optimum, but a first solution
  always exists, where the plain model's path heuristic finds no load-feasible tour at tight
  capacity (1-PDTSP, ``Q = 10``, ``n >= 200``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from mobility.rebalancing.formats import BenchmarkInstance
from mobility.rebalancing.plan import RebalancingPlan, RouteSpec, build_plan
from mobility.rebalancing.problem import RebalancingProblem
from mobility.stats import SolverStats

__all__ = ["greedy_dispatch", "ortools_baseline", "ortools_benchmark", "ortools_routing"]


def _base(problem: RebalancingProblem) -> np.ndarray:
    return np.array([problem.final_cost(i, int(b)) for i, b in enumerate(problem.bikes)])


def greedy_dispatch(problem: RebalancingProblem, *, seed: int = 0) -> RebalancingPlan:
    """Greedy dispatcher baseline (module docstring)."""
    t0 = time.perf_counter()
    tab = problem.cost_table
    bikes = np.array(problem.bikes, dtype=np.int64, copy=True)
    base = _base(problem)
    nd = problem.n_depots
    ckm = problem.drive_cost_per_km / 1000.0
    visited = np.zeros(problem.n_stations, dtype=bool)
    state: list[list[Any]] = []  # [clock, position, load, truck, stops] per truck
    for ti, t in enumerate(problem.trucks):
        d = problem.depot_index(t.depot)
        state.append([float(t.shift_start), d, t.start_load if t.start_load is not None else 0, ti, []])
    active = list(range(len(state)))
    start_loads = [s[2] for s in state]
    while active:
        k = min(active, key=lambda a: state[a][0])
        now, pos, load, ti, stops = state[k]
        truck = problem.trucks[ti]
        q = truck.capacity
        dep = problem.depot_index(truck.depot)
        dvals = np.arange(-load, q - load + 1)  # picked up
        final = bikes[:, None] - dvals[None, :]
        ok = final >= 0
        cost = tab[np.arange(problem.n_stations)[:, None], np.clip(final, 0, tab.shape[1] - 1)]
        value = np.where(ok, base[:, None] - cost, -np.inf)
        value[:, dvals == 0] = -np.inf
        j = np.argmax(value, axis=1)
        best_v = value[np.arange(problem.n_stations), j]
        best_d = dvals[j]
        nodes = nd + np.arange(problem.n_stations)
        arrive = now + problem.travel_s[pos, nodes]
        done = arrive + truck.stop_seconds + truck.load_seconds_per_bike * np.abs(best_d)
        back = done + problem.travel_s[nodes, dep]
        score = best_v - ckm * problem.distance_m[pos, nodes]
        score[visited | (back > truck.shift_end) | ~np.isfinite(best_v)] = -np.inf
        i = int(np.argmax(score))
        if not np.isfinite(score[i]) or score[i] <= 1e-9:
            active.remove(k)
            continue
        visited[i] = True
        bikes[i] -= int(best_d[i])
        base[i] = tab[i, bikes[i]] if bikes[i] < tab.shape[1] else problem.final_cost(i, int(bikes[i]))
        stops.append((i, int(best_d[i])))
        state[k] = [float(done[i]), nd + i, load + int(best_d[i]), ti, stops]
    specs = [RouteSpec(s[3], start_loads[s[3]], tuple(s[4])) for s in state if s[4]]
    plan = build_plan(problem, specs, SolverStats("greedy", "feasible", 0.0, None, 0.0, seed))
    stats = SolverStats("greedy", "feasible", plan.totals.objective, None, time.perf_counter() - t0, seed)
    return build_plan(problem, specs, stats)


def ortools_routing(
    problem: RebalancingProblem, *, time_limit: float = 30.0, seed: int = 0
) -> RebalancingPlan:
    """Plain OR-Tools routing baseline (module docstring)."""
    t0 = time.perf_counter()
    tab = problem.cost_table
    bikes = np.asarray(problem.bikes, dtype=np.int64)
    base = _base(problem)
    qmax = problem.max_capacity
    dvals = np.arange(-qmax, qmax + 1)
    final = bikes[:, None] - dvals[None, :]
    cost = tab[np.arange(problem.n_stations)[:, None], np.clip(final, 0, tab.shape[1] - 1)]
    gain = np.where(final >= 0, base[:, None] - cost, -np.inf)
    j = np.argmax(gain, axis=1)
    qty = dvals[j]
    g = gain[np.arange(problem.n_stations), j]
    cand = np.flatnonzero((g > 1e-9) & (qty != 0))
    nd = problem.n_depots
    nodes = np.concatenate([np.arange(nd), nd + cand])  # routing node -> problem node
    n = nodes.size
    scale = 1000.0
    trucks = problem.trucks
    starts = [problem.depot_index(t.depot) for t in trucks]
    manager = pywrapcp.RoutingIndexManager(int(n), len(trucks), starts, starts)
    routing = pywrapcp.RoutingModel(manager)
    dist = np.rint(problem.distance_m[np.ix_(nodes, nodes)] * problem.drive_cost_per_km / 1000.0 * scale)
    arc = routing.RegisterTransitMatrix(dist.astype(np.int64).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    dem = [0] * nd + [int(qty[i]) for i in cand]
    dem_cb = routing.RegisterUnaryTransitVector(dem)
    caps = [t.capacity for t in trucks]
    routing.AddDimensionWithVehicleCapacity(dem_cb, 0, caps, False, "load")
    load_dim = routing.GetDimensionOrDie("load")
    # per-node service (uniform stop/load times: those of the first truck)
    t_stop, t_bike = trucks[0].stop_seconds, trucks[0].load_seconds_per_bike
    service = np.array([0.0] * nd + [t_stop + t_bike * abs(int(qty[i])) for i in cand])
    tt = np.ceil(problem.travel_s[np.ix_(nodes, nodes)] + service[:, None]).astype(np.int64)
    time_cb = routing.RegisterTransitMatrix(tt.tolist())
    routing.AddDimensionWithVehicleCapacity(
        time_cb, 0, [int(t.shift_end - t.shift_start) for t in trucks], True, "time"
    )
    for v, t in enumerate(trucks):
        if t.start_load is not None:
            load_dim.CumulVar(routing.Start(v)).SetRange(t.start_load, t.start_load)
    for k, i in enumerate(cand):
        idx = manager.NodeToIndex(nd + k)
        routing.AddDisjunction([idx], round(float(g[i]) * scale))
    for d in range(nd):
        if d not in starts:
            routing.AddDisjunction([manager.NodeToIndex(d)], 0)
    sp = pywrapcp.DefaultRoutingSearchParameters()
    sp.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    sp.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    sp.time_limit.FromMilliseconds(max(100, int(time_limit * 1000)))
    sol = routing.SolveWithParameters(sp)
    specs: list[RouteSpec] = []
    if sol is not None:
        for v in range(len(trucks)):
            idx = routing.Start(v)
            l0 = int(sol.Value(load_dim.CumulVar(idx)))
            stops: list[tuple[int, int]] = []
            idx = sol.Value(routing.NextVar(idx))
            while not routing.IsEnd(idx):
                node = manager.IndexToNode(idx)
                if node >= nd:
                    si = int(cand[node - nd])
                    stops.append((si, int(qty[si])))
                idx = sol.Value(routing.NextVar(idx))
            if stops:
                specs.append(RouteSpec(v, l0, tuple(stops)))
    status = "feasible" if sol is not None else "time_limit"
    plan = build_plan(problem, specs, SolverStats("ortools-routing", status, 0.0, None, 0.0, seed))
    stats = SolverStats(
        "ortools-routing",
        status,
        plan.totals.objective,
        None,
        time.perf_counter() - t0,
        seed,
        extra={"nodes": int(n), "found": sol is not None},
    )
    return build_plan(problem, specs, stats)


def ortools_benchmark(
    inst: BenchmarkInstance,
    *,
    time_limit: float,
    vehicles: int,
    seed: int = 0,
    drop_penalty: bool = False,
) -> tuple[list[list[int]], SolverStats]:
    """Plain OR-Tools routing baseline of a benchmark instance (module docstring).

    Parameters
    ----------
    inst
        The instance (vertex 0 the depot).
    time_limit
        Seconds for the whole search.
    vehicles
        Vehicles available (1 for 1-PDTSP).
    seed
        Recorded in the statistics (the routing search itself is deterministic).
    drop_penalty
        Make every station's visit optional (``AddDisjunction``) at a penalty ``P`` larger than
        any complete solution can cost, ``P = (n + vehicles) * max arc + 1``: a solution that
        leaves ``k >= 1`` stations out costs at least ``k * P``, so the optimum is the plain
        model's whenever it has a solution. What changes is the search: the first-solution
        heuristic may leave stations out instead of failing, and guided local search inserts
        them. A result that still leaves a station out is reported as no solution.

    Returns
    -------
    tuple
        Routes (vertex lists, empty list when nothing was found, or when a station was left
        out) and the run's statistics (``objective`` = route cost; ``extra``: ``model``,
        ``dropped``).
    """
    t0 = time.perf_counter()
    n = inst.n
    manager = pywrapcp.RoutingIndexManager(n, int(vehicles), 0)
    routing = pywrapcp.RoutingModel(manager)
    arc = routing.RegisterTransitMatrix(np.asarray(inst.cost, dtype=np.int64).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    dem = [0] + [int(v) for v in inst.demand[1:]]
    dem_cb = routing.RegisterUnaryTransitVector(dem)
    routing.AddDimension(dem_cb, 0, int(inst.capacity), False, "load")
    if drop_penalty:
        penalty = (n + int(vehicles)) * int(np.max(inst.cost)) + 1
        for v in range(1, n):
            routing.AddDisjunction([manager.NodeToIndex(v)], penalty)
    sp = pywrapcp.DefaultRoutingSearchParameters()
    sp.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    sp.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    sp.time_limit.FromMilliseconds(max(100, int(time_limit * 1000)))
    sol = routing.SolveWithParameters(sp)
    routes: list[list[int]] = []
    if sol is not None:
        for v in range(int(vehicles)):
            idx = sol.Value(routing.NextVar(routing.Start(v)))
            r: list[int] = []
            while not routing.IsEnd(idx):
                r.append(manager.IndexToNode(idx))
                idx = sol.Value(routing.NextVar(idx))
            if r:
                routes.append(r)
    dropped = n - 1 - sum(len(r) for r in routes) if routes else n - 1
    if dropped:
        routes = []  # a partial solution is not a solution of the instance
    stats = SolverStats(
        "ortools-routing",
        "feasible" if routes else "time_limit",
        float(inst.route_cost(routes)) if routes else float("nan"),
        None,
        round(time.perf_counter() - t0, 3),
        seed,
        extra={"model": "drop-penalties" if drop_penalty else "plain", "dropped": dropped},
    )
    return routes, stats


def ortools_baseline(
    inst: BenchmarkInstance, *, time_limit: float, vehicles: int, seed: int = 0
) -> tuple[list[list[int]], SolverStats]:
    """The benchmarks' OR-Tools baseline: :func:`ortools_benchmark` as the issue states it, and,
    only where that finds no valid solution, the same model with ``drop_penalty=True`` (again
    with ``time_limit``). ``stats.extra["model"]`` says which answered.

    Returns
    -------
    tuple
        Routes (empty when neither found a valid solution) and the statistics of the last run.
    """
    routes, stats = ortools_benchmark(inst, time_limit=time_limit, vehicles=vehicles, seed=seed)
    if routes and not inst.check_routes(routes):
        return routes, stats
    routes, stats = ortools_benchmark(
        inst, time_limit=time_limit, vehicles=vehicles, seed=seed, drop_penalty=True
    )
    return (routes, stats) if routes and not inst.check_routes(routes) else ([], stats)
