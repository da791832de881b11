"""The p-median's Lagrangian bound and its time limit (issue 15)."""

from __future__ import annotations

import itertools
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mobility.placement.classic import PMedian
from mobility.placement.lagrangian import lagrangian_bound
from mobility.placement.models import ModelParams


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(3, 9), p=st.integers(1, 3))
def test_bound_never_exceeds_the_brute_force_optimum(seed: int, n: int, p: int) -> None:
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 50, size=(n, n)).astype(float)
    w = rng.integers(1, 4, size=n).astype(float)
    opt = min(float(w @ c[:, list(s)].min(axis=1)) for s in itertools.combinations(range(n), min(p, n)))
    bound, its = lagrangian_bound(c, w, min(p, n), opt, deadline=time.perf_counter() + 5)
    assert its >= 1 and bound <= opt + 1e-9


def test_bound_proves_a_five_median_and_the_limit_counts_everything() -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 1000, (700, 2))
    c = np.rint(np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)))
    res = PMedian.from_cost_matrix(c, None, 5).solve(ModelParams(time_limit=20))
    assert res.stats.status == "optimal" and res.stats.bound == res.objective
    assert "nodes" not in res.stats.extra  # proven without building the MIP
