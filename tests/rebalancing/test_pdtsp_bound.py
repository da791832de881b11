"""The 1-PDTSP lower bound of ``bench/pdtsp_bound.py``: never above an optimum (brute force on tiny
instances, published optima on n = 20), and its integer relaxation proves a published optimum."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.pdtsp_bound import _infeasible_path, lower_bound, milp_bound
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
