"""The 1-PDTSP lower bound of ``bench/pdtsp_bound.py``: never above an optimum (brute force on tiny
instances, published optima on n = 20), and its integer relaxation proves a published optimum."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.pdtsp_bound import _infeasible_path, lower_bound, milp_bound, tour_graph
from mobility.best_known import read_bks
from mobility.rebalancing.formats import read_pdtsp

PDTSP = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "pdtsp"


def _brute_force(cost: np.ndarray, q: np.ndarray, cap: int) -> float:
    """Shortest tour from vertex 0 whose running load spans at most ``cap`` (free start load)."""
    n = cost.shape[0]
    best = np.inf
    for perm in itertools.permutations(range(1, n)):
        load = np.concatenate([[0], np.cumsum(q[list(perm)])])
        if load.max() - load.min() > cap:
            continue
        nodes = [0, *perm, 0]
        best = min(best, float(sum(cost[a, b] for a, b in itertools.pairwise(nodes))))
    return best


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(4, 7), cap=st.integers(3, 12))
def test_bounds_never_exceed_the_brute_force_optimum(seed: int, n: int, cap: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 100, (n, 2))
    cost = np.floor(np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)) + 0.5).astype(np.int64)
    q = np.zeros(n, dtype=np.int64)
    q[1:] = rng.integers(-cap, cap + 1, n - 1)
    q[0] = -q[1:].sum()
    opt = _brute_force(cost, q, cap)
    if not np.isfinite(opt):
        return
    lp, sets, _ = lower_bound(cost, q, cap)
    assert lp <= opt + 1e-6
    mb, tour_value, _ = milp_bound(cost, q, cap, sets, time_limit=30)
    assert lp - 1e-6 <= mb <= opt + 1e-6
    if tour_value is not None:  # the integer relaxation's optimum was a feasible tour
        assert abs(tour_value - opt) < 1e-6


def test_shortest_infeasible_run_has_a_net_demand_above_the_capacity() -> None:
    q = np.array([0, 4, -3, 5, 4, -6, 2])
    run = _infeasible_path(q, 8, [0, 1, 2, 3, 4, 5, 6])
    assert run == [3, 4]  # +5 +4 = 9 > 8; no shorter run spans more than 8
    assert abs(int(q[run].sum())) > 8
    assert _infeasible_path(q, 20, [0, 1, 2, 3, 4, 5, 6]) is None


@pytest.mark.parametrize("name", ["n20q10A", "n20q10C", "n20q15E", "n20q45J", "n20q1000A"])
def test_lp_bound_is_below_the_published_optimum(name: str) -> None:
    inst = read_pdtsp(PDTSP / "instances" / f"{name}.tsp")
    opt = read_bks(PDTSP / "bks.csv")[name]
    assert opt is not None
    lp, _, _ = lower_bound(inst.cost, np.asarray(inst.demand, dtype=np.int64), inst.capacity)
    assert 0.95 * opt <= lp <= opt + 1e-6


def test_integer_relaxation_proves_a_published_optimum() -> None:
    inst = read_pdtsp(PDTSP / "instances" / "n20q45J.tsp")
    q = np.asarray(inst.demand, dtype=np.int64)
    _, sets, _ = lower_bound(inst.cost, q, inst.capacity)
    mb, tour_value, _ = milp_bound(inst.cost, q, inst.capacity, sets, time_limit=60)
    assert tour_value == pytest.approx(3678) and mb == pytest.approx(3678)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(5, 7), cap=st.integers(4, 12))
def test_tour_merging_recombines_two_tours_exactly(seed: int, n: int, cap: int) -> None:
    """Restricted to the edges of two feasible tours, the MILP returns the brute-force optimum over
    the tours that use only those edges: never above the better of the two, never below the
    instance's optimum."""
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 100, (n, 2))
    cost = np.floor(np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)) + 0.5).astype(np.int64)
    q = rng.integers(-cap, cap + 1, n)
    q[0] = -int(q[1:].sum())

    def feasible(perm: tuple[int, ...]) -> bool:
        load = np.concatenate([[0], np.cumsum(q[list(perm)])])
        return bool(load.max() - load.min() <= cap)

    def length(perm: tuple[int, ...]) -> int:
        return int(sum(cost[a, b] for a, b in itertools.pairwise([0, *perm, 0])))

    tours = [p for p in itertools.permutations(range(1, n)) if feasible(p)]
    if len(tours) < 2:
        return
    picks = [tours[int(i)] for i in rng.choice(len(tours), 2, replace=False)]
    mask = tour_graph(cost, [list(p) for p in picks])
    iu, ju = np.triu_indices(n, 1)
    allowed = {(int(a), int(b)) for a, b in zip(iu[mask], ju[mask], strict=True)}

    def inside(perm: tuple[int, ...]) -> bool:
        cycle = [0, *perm, 0]
        return all((min(a, b), max(a, b)) in allowed for a, b in itertools.pairwise(cycle))

    best_inside = min(length(p) for p in tours if inside(p))
    _, merged, _ = milp_bound(cost, q, cap, [], time_limit=30, edges=mask)
    assert merged is not None
    assert merged == pytest.approx(best_inside)
    assert merged <= min(length(p) for p in picks)
    assert merged >= _brute_force(cost, q, cap) - 1e-9


def test_tour_graph_adds_the_nearest_neighbours() -> None:
    cost = np.array([[0, 1, 5, 9], [1, 0, 2, 8], [5, 2, 0, 3], [9, 8, 3, 0]])
    iu, ju = np.triu_indices(4, 1)
    edges = {(int(a), int(b)) for a, b in zip(iu, ju, strict=True)}
    tour = {
        (int(a), int(b)) for a, b, keep in zip(iu, ju, tour_graph(cost, [[1, 2, 3]]), strict=True) if keep
    }
    assert tour == {(0, 1), (1, 2), (2, 3), (0, 3)}
    near = {(int(a), int(b)) for a, b, keep in zip(iu, ju, tour_graph(cost, [], knn=1), strict=True) if keep}
    assert near == {(0, 1), (1, 2), (2, 3)}
    assert tour_graph(cost, [], knn=3).sum() == len(edges)
