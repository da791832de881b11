"""Classic location models on a cost matrix: p-median and maximal covering."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobility.errors import InputError
from mobility.placement.classic import MaximalCovering, PMedian
from mobility.placement.models import ModelParams, lazy_greedy_cover
from mobility.placement.orlib import read_pmed

PMED_DIR = Path("/work/shared/benchmarks/pmed")
if not PMED_DIR.is_dir():  # pragma: no cover - a checkout beside the shared folder
    PMED_DIR = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "pmed"


def test_pmed1_optimum_reproduced() -> None:
    inst = read_pmed(PMED_DIR / "instances" / "pmed1.txt")
    assert (inst.n, inst.p) == (100, 5)
    res = PMedian.from_cost_matrix(inst.distances, None, inst.p).solve(ModelParams(time_limit=60))
    assert res.objective == 5819
    assert res.stats.status == "optimal"
    assert len(res.facilities) == 5
    # the assignment is to the nearest chosen facility and sums to the objective
    assert inst.distances[np.arange(100), res.assignment].sum() == 5819


def test_pmed_last_duplicate_edge_wins(tmp_path: Path) -> None:
    f = tmp_path / "tiny.txt"
    f.write_text("3 3 1\n1 2 5\n2 3 1\n1 2 9\n")
    inst = read_pmed(f)
    assert inst.distances[0, 1] == 9  # not min(5, 9)
    assert inst.distances[0, 2] == 10


def _brute_pmedian(cost: np.ndarray, w: np.ndarray, p: int) -> float:
    return min(
        float(w @ cost[:, list(c)].min(axis=1)) for c in itertools.combinations(range(cost.shape[1]), p)
    )


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(3, 7),
    m=st.integers(2, 6),
    seed=st.integers(0, 10_000),
    data=st.data(),
)
def test_pmedian_matches_brute_force(n: int, m: int, seed: int, data: st.DataObject) -> None:
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 50, size=(n, m)).astype(float)
    w = rng.integers(1, 5, size=n).astype(float)
    p = data.draw(st.integers(1, m))
    res = PMedian.from_cost_matrix(cost, w, p).solve(ModelParams(time_limit=10))
    assert res.objective == pytest.approx(_brute_pmedian(cost, w, p))
    assert len(res.facilities) == p
    assert res.stats.status == "optimal"


def _brute_mclp(cost: np.ndarray, w: np.ndarray, r: float, p: int) -> float:
    cov = cost <= r
    return max(
        float(w[cov[:, list(c)].any(axis=1)].sum()) for c in itertools.combinations(range(cost.shape[1]), p)
    )


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 9), m=st.integers(1, 7), seed=st.integers(0, 10_000), data=st.data())
def test_mclp_matches_brute_force(n: int, m: int, seed: int, data: st.DataObject) -> None:
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 100, size=(n, m))
    w = rng.uniform(0, 10, size=n)
    p = data.draw(st.integers(1, m))
    res = MaximalCovering.from_cost_matrix(cost, w, 40.0, p).solve(ModelParams(time_limit=10))
    assert res.covered_weight == pytest.approx(_brute_mclp(cost, w, 40.0, p), rel=1e-9, abs=1e-9)
    assert len(res.facilities) <= p
    # the reported cover is recomputed from the chosen sites
    recomputed = (cost[:, res.facilities] <= 40.0).any(axis=1) if len(res.facilities) else np.zeros(n, bool)
    assert np.array_equal(recomputed, res.covered)


@pytest.mark.parametrize("backend", ["SCIP", "CBC", "HIGHS"])
def test_classic_models_solve_on_every_backend(backend: str) -> None:
    """60 random points, p = 5: greedy interchange cannot prove these, so the MIP runs with its
    warm start, which used to crash the process (segmentation fault) under HiGHS."""
    rng = np.random.default_rng(0)
    pts = rng.random((60, 2)) * 1000
    cost = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    params, scip = ModelParams(time_limit=30, backend=backend), ModelParams(time_limit=30, backend="SCIP")
    pmedian = PMedian.from_cost_matrix(cost, p=5)
    mclp = MaximalCovering.from_cost_matrix(cost, radius=150.0, p=5)
    for res in (pmedian.solve(params), mclp.solve(params)):
        assert res.stats.extra["backend"] == backend
        assert res.stats.status == "optimal"
    assert pmedian.solve(params).objective == pytest.approx(pmedian.solve(scip).objective)
    assert mclp.solve(params).covered_weight == pytest.approx(mclp.solve(scip).covered_weight)


def test_lazy_greedy_respects_conflicts_and_prefix() -> None:
    import scipy.sparse as sp

    cover = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1]], dtype=bool))
    w = np.array([1.0, 1.0, 1.0, 5.0])
    conflicts = sp.csr_matrix(np.array([[0, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=bool))
    sel, gains = lazy_greedy_cover(cover, w, 3, conflicts=conflicts)
    assert sel.tolist() == [2, 0]  # site 1 conflicts with the first pick
    assert gains.tolist() == [6.0, 2.0]


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(InputError, match=r"^p:"):
        PMedian.from_cost_matrix(np.ones((3, 2)), None, 3)
    with pytest.raises(InputError, match=r"^weights:"):
        MaximalCovering.from_cost_matrix(np.ones((3, 2)), [1, 2], 1.0, 1)
    with pytest.raises(InputError, match=r"^cost:"):
        PMedian.from_cost_matrix(np.array([[1.0, -1.0]]), None, 1)


def _mclp(cost: object, weights: object, p: int) -> MaximalCovering:
    return MaximalCovering.from_cost_matrix(cost, weights, 1.0, p)  # type: ignore[arg-type]


@pytest.mark.parametrize("build", [PMedian.from_cost_matrix, _mclp])
@pytest.mark.parametrize(
    ("cost", "weights", "p", "field"),
    [
        ([1.0, 2.0], None, 1, "cost"),  # not demand x sites
        ([[1.0, 2.0]], [1.0, 1.0], 1, "weights"),  # one weight per demand point
        ([[1.0, 2.0]], [-1.0], 1, "weights"),
        ([[1.0, 2.0]], None, 3, "p"),  # more facilities than sites
        ([[1.0, 2.0]], None, 0, "p"),
    ],
)
def test_both_models_refuse_the_same_inputs(
    build: object, cost: object, weights: object, p: int, field: str
) -> None:
    with pytest.raises(InputError) as err:
        build(cost, weights, p)  # type: ignore[operator]
    assert err.value.field == field
