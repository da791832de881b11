"""Memetic 1-PDTSP search: crossover, survivor selection, returned tours (value recomputed,
load-feasible by the independent validator of a published instance; tiny instances against brute
force: ``test_benchmark``)."""

from __future__ import annotations

import math
import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobility.rebalancing import memetic as mm
from mobility.rebalancing import tour as tr
from mobility.rebalancing.benchmark import BenchmarkParams, _route_search, solve_instance
from mobility.rebalancing.formats import read_pdtsp
from tests.rebalancing.test_tour import BENCH, _instance, validate_pdtsp_tour


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), m=st.integers(2, 40), data=st.data())
def test_order_crossover_keeps_a_segment_of_one_parent_and_the_others_in_the_order_of_the_other(
    seed: int, m: int, data: st.DataObject
) -> None:
    rng = np.random.default_rng(seed)
    a = np.concatenate([[0], rng.permutation(np.arange(1, m + 1)), [0]]).astype(np.int64)
    b = np.concatenate([[0], rng.permutation(np.arange(1, m + 1)), [0]]).astype(np.int64)
    i = data.draw(st.integers(1, m))
    j = data.draw(st.integers(i, m))
    child = np.empty_like(a)
    mm._ox(a, b, m, i, j, child, np.zeros(m + 1, dtype=np.bool_))
    assert child[0] == child[-1] == 0 and sorted(child[1:-1].tolist()) == list(range(1, m + 1))
    np.testing.assert_array_equal(child[i : j + 1], a[i : j + 1])
    seg = set(a[i : j + 1].tolist())
    # the other stops, read from position j + 1 of the child around the cycle, follow b's order
    # read from position j + 1 of b around the cycle
    rest_child = [int(child[1 + (j + s) % m]) for s in range(m) if int(child[1 + (j + s) % m]) not in seg]
    rest_b = [int(b[1 + (j + s) % m]) for s in range(m) if int(b[1 + (j + s) % m]) not in seg]
    assert rest_child == rest_b


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), size=st.integers(3, 30), mu=st.integers(1, 8))
def test_survivor_selection_removes_clones_first_and_never_the_cheapest_tour(
    seed: int, size: int, mu: int
) -> None:
    rng = np.random.default_rng(seed)
    m = 12
    order = np.arange(m + 1)
    sub = mm._Sub(m)
    tours: list[np.ndarray] = []
    for k in range(size):
        if k and rng.random() < 0.3:  # a clone of an earlier tour
            t = tours[int(rng.integers(len(tours)))].copy()
        else:
            t = np.concatenate([[0], rng.permutation(np.arange(1, m + 1)), [0]]).astype(np.int64)
        tours.append(t)
        sub.add(t, float(rng.integers(100, 200)), float(rng.integers(0, 3)), mm._succ_pred(t, order, m + 1))
    omega = 5.0
    cheapest = min(c + omega * e for c, e in zip(sub.cost, sub.exc, strict=True))
    sub.select_survivors(mu, omega, 4, 5)
    assert len(sub) == min(size, mu)
    assert min(c + omega * e for c, e in zip(sub.cost, sub.exc, strict=True)) == cheapest
    n_unique = len(
        {frozenset(frozenset(e) for e in zip(t[:-1].tolist(), t[1:].tolist(), strict=True)) for t in tours}
    )
    if n_unique >= mu:  # enough different tours: no clone survives
        assert (sub.dist + np.diag(np.full(len(sub), np.inf))).min() > 0
    # the distance matrix stays that of the kept tours
    for x in range(len(sub)):
        for y in range(len(sub)):
            s, p = mm._succ_pred(sub.tours[y], order, m + 1)
            sx, _ = mm._succ_pred(sub.tours[x], order, m + 1)
            assert math.isclose(sub.dist[x, y], float(((sx != s) & (sx != p)).sum()) / (m + 1))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(2, 30), cap=st.integers(6, 30))
def test_memetic_returns_a_permutation_whose_value_is_recomputed_and_never_worse(
    seed: int, n: int, cap: int
) -> None:
    t, q, C = _instance(seed, n)
    W = float(C.max() * (n + 3))
    start = tr.tour_value(t, q, C, cap, -cap, cap, W)
    params = mm.MemeticParams(mu=3, lam=4, ils_burst=5)
    best, val, children, _ = mm.tour_memetic(
        t, (q, C, cap, -cap, cap, W), time.perf_counter() + 60, seed=seed, params=params, max_children=40
    )
    assert children == 40 or n < 4  # 12 random tours, then crossovers (fewer than 4 stops: the ILS)
    assert best[0] == best[-1] == 0 and sorted(best[1:-1].tolist()) == list(range(1, n + 1))
    assert math.isclose(val, tr.tour_value(best, q, C, cap, -cap, cap, W), rel_tol=1e-9)
    assert val <= start + 1e-6


def test_mixed_portfolio_runs_one_search_of_each_kind() -> None:
    assert [_route_search("mixed", k) for k in range(4)] == ["ils", "memetic", "ils", "memetic"]
    assert {_route_search("memetic", k) for k in range(3)} == {"memetic"}


def test_memetic_engine_tour_on_a_published_100_customer_instance_passes_the_independent_validator() -> None:
    path = BENCH / "pdtsp" / "instances" / "n100q20A.tsp"
    inst = read_pdtsp(path)
    params = BenchmarkParams(time_limit=3.0, workers=1, exact_max_stations=0, single_route="memetic")
    sol = solve_instance(inst, params)
    assert len(sol.routes) == 1
    assert validate_pdtsp_tour(path, sol.routes[0]) == sol.cost
    engine = sol.stats.extra["engine"]
    assert engine["single_route"] == "memetic" and engine["classic_iterations"] > 0
