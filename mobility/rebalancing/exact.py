"""Exact solution of the benchmark problems (BRP and 1-PDTSP) with CP-SAT.

Formulation (vertex 0 = depot, stations ``V = {1..n-1}`` with ``n = inst.n`` vertices, capacity
``Q``, signed demand ``q_i``, ``q_i > 0`` = pick up, integer arc costs ``c_ij``; one Boolean
``x_ij`` per ordered pair ``i != j``, no self-loop, so every station is visited exactly once):

.. math::

    \\min \\sum_{i \\ne j} c_{ij} x_{ij}
    \\quad\\text{s.t.}\\quad
    x \\in \\text{circuit}(\\{0\\} \\cup V)\\ (\\text{one tour, or several through } 0),

    y_i \\in [\\max(0, q_i), \\min(Q, Q + q_i)] \\quad (\\text{load after visiting } i,
    \\text{so the load before, } y_i - q_i, \\text{ is in } [0, Q]),

    x_{ij} = 1 \\Rightarrow y_j = y_i + q_j \\quad (i, j \\in V),

    \\sum_{j \\in V} x_{0j} \\le m \\quad (\\text{with several tours, when the instance fixes
    their number } m).

Arcs leaving the depot carry no load constraint beyond the domain of ``y_j``: that is how the
free start load is modelled (``y_j - q_j`` is the load the vehicle left the depot with, any value
in ``[0, Q]``). This is the place where a naive routing model with a load dimension that starts
at 0 breaks: it forbids routes that begin with a delivery. The depot absorbs or supplies the
difference ``Σ q`` (BRP) and 1-PDTSP's depot demand is implied by the tour.

One tour (``AddCircuit``) when ``inst.max_vehicles == 1``, otherwise several through the depot
(``AddMultipleCircuit``), at most ``inst.max_vehicles`` of them when it is set. These constraints
carry the subtour elimination; the depot's own load variable is fixed at 0 and takes part in no
constraint. The model is solved to proven optimality on the published 13–20-vertex instances
(the twelve BRP instances and the six n = 20 1-PDTSP ones) in seconds: 0.0–7.4 s each without
a hint, two workers (2026-12-06, load about 1).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from mobility.rebalancing.formats import BenchmarkInstance
from mobility.stats import SolverStats

__all__ = ["BenchmarkSolution", "solve_benchmark"]


@dataclass(frozen=True)
class BenchmarkSolution:
    """Routes (station vertex lists, depot omitted), their cost and the solver's statistics."""

    routes: list[list[int]]
    cost: int
    stats: SolverStats


def solve_benchmark(
    inst: BenchmarkInstance,
    *,
    time_limit: float = 60.0,
    seed: int = 0,
    workers: int = 2,
    hint: list[list[int]] | None = None,
) -> BenchmarkSolution:
    """Solve a BRP or 1-PDTSP instance with the CP-SAT model of the module docstring.

    Parameters
    ----------
    inst
        The instance (``inst.max_vehicles == 1`` selects a single tour).
    time_limit
        Wall-time limit in seconds; the best solution found is returned when it is reached.
    seed
        CP-SAT random seed.
    workers
        CP-SAT search workers.
    hint
        Optional starting solution (routes of station vertices).

    Returns
    -------
    BenchmarkSolution
        ``stats.status`` is ``"optimal"`` when proven, ``"feasible"`` when a solution was found
        but not proven; without a solution, ``"infeasible"`` (proven) or ``"time_limit"``, with
        no routes and cost ``-1``.
    """
    t0 = time.perf_counter()
    m, x = _model(inst)
    if hint:
        _add_hint(m, x, hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_search_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        why = "infeasible" if status == cp_model.INFEASIBLE else "time_limit"
        return BenchmarkSolution(
            [],
            -1,
            SolverStats.since(t0, solver="cp-sat", status=why, objective=float("nan"), bound=None, seed=seed),
        )
    routes = _routes(inst.n, {k for k, v in x.items() if solver.boolean_value(v)})
    cost = inst.route_cost(routes)
    st = SolverStats.since(
        t0,
        solver="cp-sat",
        status="optimal" if status == cp_model.OPTIMAL else "feasible",
        objective=float(cost),
        bound=float(solver.best_objective_bound),
        seed=seed,
        extra={"branches": int(solver.num_branches), "conflicts": int(solver.num_conflicts)},
    )
    return BenchmarkSolution(routes, cost, st)


def _model(inst: BenchmarkInstance) -> tuple[cp_model.CpModel, dict[tuple[int, int], cp_model.IntVar]]:
    """The CP-SAT model of the module docstring and its arc variables."""
    n, cap, q, c = inst.n, inst.capacity, inst.demand, inst.cost
    m = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for i in range(n):
        for j in range(n):
            if i != j:
                x[i, j] = m.new_bool_var(f"x{i}_{j}")
    arcs = [(i, j, v) for (i, j), v in x.items()]
    if inst.max_vehicles == 1:
        m.add_circuit(arcs)
    else:
        m.add_multiple_circuit(arcs)
        if inst.max_vehicles is not None:
            m.add(sum(x[0, j] for j in range(1, n)) <= inst.max_vehicles)
    y = [m.new_int_var(0, 0, "y0")]
    for i in range(1, n):
        lo, hi = max(0, int(q[i])), min(cap, cap + int(q[i]))
        if lo > hi:
            raise ValueError(f"{inst.name}: |q_{i}| = {abs(int(q[i]))} exceeds Q = {cap}")
        y.append(m.new_int_var(lo, hi, f"y{i}"))
    for (i, j), v in x.items():
        if i != 0 and j != 0:
            m.add(y[j] == y[i] + int(q[j])).only_enforce_if(v)
    m.minimize(sum(int(c[i, j]) * v for (i, j), v in x.items()))
    return m, x


def _add_hint(m: cp_model.CpModel, x: dict[tuple[int, int], cp_model.IntVar], hint: list[list[int]]) -> None:
    """Hint the arcs of ``hint`` (routes of station vertices, the depot 0 added at both ends)."""
    succ: set[tuple[int, int]] = set()
    for r in hint:
        succ.update(itertools.pairwise([0, *r, 0]))
    for k, v in x.items():
        m.add_hint(v, 1 if k in succ else 0)


def _routes(n: int, chosen: set[tuple[int, int]]) -> list[list[int]]:
    """Routes (station vertices in order) from the chosen arcs, one per arc leaving the depot."""
    succ_of = {i: j for i, j in chosen if i != 0}
    routes = []
    for j in range(1, n):
        if (0, j) in chosen:
            r = [j]
            while succ_of[r[-1]] != 0:
                r.append(succ_of[r[-1]])
            routes.append(r)
    return routes
