"""The exact benchmark model: published optima and a brute-force cross-check."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from mobility.rebalancing.exact import solve_benchmark
from mobility.rebalancing.formats import BenchmarkInstance, read_brp, read_pdtsp

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"


@pytest.mark.parametrize(("name", "best"), [("7Bergamo30", 12600), ("8Bergamo20", 12700), ("1Bari30", 14600)])
def test_brp_reaches_published_optimum(name: str, best: int) -> None:
    inst = read_brp(BENCH / "brp" / "instances" / f"{name}.txt")
    sol = solve_benchmark(inst, time_limit=60)
    assert sol.cost == best
    assert sol.stats.status == "optimal"
    assert inst.check_routes(sol.routes) == []


def test_bergamo20_needs_two_routes_and_one_route_costs_12900() -> None:
    """The README's example: two routes reach 12700; a single vehicle needs 12900."""
    inst = read_brp(BENCH / "brp" / "instances" / "8Bergamo20.txt")
    assert len(solve_benchmark(inst, time_limit=60).routes) == 2
    single = BenchmarkInstance(inst.name, "brp", inst.demand, inst.capacity, inst.cost, None, 1)
    assert solve_benchmark(single, time_limit=60).cost == 12900


def test_pdtsp_reaches_published_optimum() -> None:
    inst = read_pdtsp(BENCH / "pdtsp" / "instances" / "n20q1000A.tsp")
    sol = solve_benchmark(inst, time_limit=60)
    assert sol.cost == 3816 and len(sol.routes) == 1
    assert inst.check_routes(sol.routes) == []


def _brute_single_tour(inst: BenchmarkInstance) -> int | None:
    best = None
    for perm in itertools.permutations(range(1, inst.n)):
        if inst.check_routes([list(perm)]):
            continue
        c = inst.route_cost([list(perm)])
        best = c if best is None or c < best else best
    return best


@pytest.mark.parametrize("seed", range(6))
def test_pdtsp_model_matches_brute_force_with_free_start_load(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 7
    q = rng.integers(-3, 4, size=n)
    q[0] = -int(q[1:].sum())
    xy = rng.integers(0, 100, size=(n, 2))
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) + 0.5).astype(np.int64)
    inst = BenchmarkInstance("rand", "pdtsp", q.astype(np.int64), 5, cost, xy.astype(float), 1)
    brute = _brute_single_tour(inst)
    sol = solve_benchmark(inst, time_limit=30)
    if brute is None:
        assert sol.routes == [] and sol.stats.status == "infeasible"
    else:
        assert sol.cost == brute
