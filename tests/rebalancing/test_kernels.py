"""The compiled min-plus kernels agree with the numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

from mobility.rebalancing import _kernels as k


@pytest.mark.parametrize("seed", range(5))
def test_kernels_match_numpy_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    q1 = int(rng.integers(2, 8))
    m = int(rng.integers(0, 6))
    gs = rng.uniform(-3, 3, size=(m, q1, q1))
    gs[rng.random(size=gs.shape) < 0.2] = np.inf  # forbidden moves
    f0 = np.full(q1, np.inf)
    f0[int(rng.integers(q1))] = 0.0
    fw = k.forward(gs, f0)
    assert np.array_equal(fw, k.forward_np(gs, f0))
    bw = k.backward(gs)
    assert np.array_equal(bw, k.backward_np(gs))
    if m and np.isfinite(fw[m]).any():
        loads = k.backtrack(fw, gs)
        assert np.array_equal(loads, k.backtrack_np(fw, gs))
        # the backtracked loads reproduce the optimum
        assert sum(gs[i, loads[i], loads[i + 1]] for i in range(m)) == pytest.approx(fw[m].min())
    pool = rng.uniform(-2, 2, size=(4, q1, q1))
    assert np.allclose(k.insertion_values(fw, bw, pool), k.insertion_values_np(fw, bw, pool))
