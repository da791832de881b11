"""Granular 1-PDTSP search: O(1) move values against full recomputation, valid tours, and an
independent validator of benchmark tours read straight from the instance file."""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobility.rebalancing import tour as tr
from mobility.rebalancing.benchmark import BenchmarkParams, solve_instance
from mobility.rebalancing.formats import read_pdtsp

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"


def _instance(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random route over ``n`` stops (node 0 the depot), quantities and an asymmetric matrix."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n + 1, 2))
    C = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)) + rng.uniform(0, 10, (n + 1, n + 1))
    np.fill_diagonal(C, 0)
    q = np.zeros(n + 1)
    q[1:] = rng.integers(-6, 7, n)
    t = np.concatenate([[0], rng.permutation(np.arange(1, n + 1)), [0]]).astype(np.int64)
    return t, q, C


def _recomputed(t: np.ndarray, q: np.ndarray, C: np.ndarray) -> tuple[float, float, float]:
    """Cost, min and max of the running load (``L_0 = 0`` included) from scratch."""
    load = np.concatenate([[0.0], np.cumsum(q[t[1:-1]])])
    return float(C[t[:-1], t[1:]].sum()), float(load.min()), float(load.max())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(3, 30), data=st.data())
def test_two_opt_value_and_load_extremes_match_recomputation(seed: int, n: int, data: st.DataObject) -> None:
    t, q, C = _instance(seed, n)
    m = n
    lo_ = data.draw(st.integers(1, m - 1))
    hi_ = data.draw(st.integers(lo_ + 1, m))
    dc, mn, mx = tr._eval_2opt(t, m, C, tr.tables(t, q, C), lo_, hi_)
    new = t.copy()
    new[lo_ : hi_ + 1] = new[lo_ : hi_ + 1][::-1]
    c0, _, _ = _recomputed(t, q, C)
    c1, mn1, mx1 = _recomputed(new, q, C)
    assert math.isclose(dc, c1 - c0, abs_tol=1e-7)
    assert (mn, mx) == (mn1, mx1)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(3, 30), data=st.data())
def test_or_opt_value_and_load_extremes_match_recomputation(seed: int, n: int, data: st.DataObject) -> None:
    t, q, C = _instance(seed, n)
    m = n
    i = data.draw(st.integers(1, m))
    j = data.draw(st.integers(i, min(m, i + 4)))
    ps = [p for p in range(0, m + 1) if p < i - 1 or p > j]
    if not ps:
        return
    p = data.draw(st.sampled_from(ps))
    rev = data.draw(st.booleans())
    dc, mn, mx = tr._eval_oropt(t, m, C, tr.tables(t, q, C), i, j, p, rev)
    new = t.copy()
    tr._apply_oropt(new, i, j, p, rev, np.zeros(8, dtype=np.int64))
    seg = t[i : j + 1][::-1] if rev else t[i : j + 1]
    rest = np.concatenate([t[:i], t[j + 1 :]])
    at = p + 1 if p < i else p - (j - i + 1) + 1  # insertion index in ``rest``
    expected = np.concatenate([rest[:at], seg, rest[at:]])
    np.testing.assert_array_equal(new, expected)  # the move does what its value describes
    c0, _, _ = _recomputed(t, q, C)
    c1, mn1, mx1 = _recomputed(new, q, C)
    assert math.isclose(dc, c1 - c0, abs_tol=1e-7)
    assert (mn, mx) == (mn1, mx1)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(2, 40), cap=st.integers(6, 30))
def test_ils_returns_a_permutation_whose_value_is_recomputed_and_never_worse(
    seed: int, n: int, cap: int
) -> None:
    t, q, C = _instance(seed, n)
    W = float(C.max() * (n + 3))
    start = tr.tour_value(t, q, C, cap, -cap, cap, W)
    best, val, its, _ = tr.tour_ils(
        t, (q, C, cap, -cap, cap, W), time.perf_counter() + 60, seed=seed, max_iterations=50, batch=25
    )
    assert its == 50
    assert best[0] == best[-1] == 0 and sorted(best[1:-1].tolist()) == list(range(1, n + 1))
    assert math.isclose(val, tr.tour_value(best, q, C, cap, -cap, cap, W), rel_tol=1e-9)
    assert val <= start + 1e-6


def validate_pdtsp_tour(path: Path, tour: list[int]) -> int:
    """Independent validator of a 1-PDTSP tour: parses the TSPLIB file itself, checks every
    customer exactly once and some start load in ``[0, Q]`` keeping the load within ``[0, Q]``
    (tried one by one), and returns the EUC_2D length recomputed from the coordinates."""
    lines = path.read_text().split("\n")
    head = {
        k.strip(): v.strip()
        for k, v in (ln.split(":", 1) for ln in lines if ":" in ln and "SECTION" not in ln)
    }
    n, cap = int(head["DIMENSION"]), int(head["CAPACITY"])
    section = ""
    xy: dict[int, tuple[float, float]] = {}
    dem: dict[int, int] = {}
    for ln in lines:
        tok = ln.split()
        if not tok:
            continue
        if tok[0].endswith("SECTION") or tok[0].startswith("DISPLAY_DATA"):
            section = tok[0]
            continue
        if section == "NODE_COORD_SECTION" and len(tok) == 3:
            xy[int(tok[0]) - 1] = (float(tok[1]), float(tok[2]))
        elif section == "DEMAND_SECTION" and len(tok) == 2:
            dem[int(tok[0]) - 1] = int(tok[1])
    assert sorted(tour) == list(range(1, n)), "every customer exactly once"
    assert any(
        all(0 <= load + sum(dem[v] for v in tour[:k]) <= cap for k in range(n)) for load in range(cap + 1)
    ), "no start load in [0, Q] keeps the load within [0, Q]"
    nodes = [0, *tour, 0]
    return sum(math.floor(math.dist(xy[a], xy[b]) + 0.5) for a, b in itertools.pairwise(nodes))


def test_engine_tour_on_a_published_100_customer_instance_passes_the_independent_validator() -> None:
    path = BENCH / "pdtsp" / "instances" / "n100q10A.tsp"
    inst = read_pdtsp(path)
    sol = solve_instance(inst, BenchmarkParams(time_limit=3.0, workers=1, exact_max_stations=0))
    assert len(sol.routes) == 1
    assert validate_pdtsp_tour(path, sol.routes[0]) == sol.cost
    assert sol.stats.extra["engine"]["classic_iterations"] > 0  # the granular search ran
