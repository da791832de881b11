"""The station-stock model against hand-computed cases, a simulation and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mobility.demand.inventory import (
    InventoryParams,
    dissatisfaction_curve,
    dissatisfaction_curves,
    expected_outcomes,
    step_rates,
    stock_distribution,
    targets_table,
)
from mobility.errors import InputError

HARD = InventoryParams(max_overflow=0, overflow_penalty=0.0)


def _poisson_excess(mean: float, k: int) -> float:
    """E[(N - k)+] for N ~ Poisson(mean), summed by hand."""
    n = np.arange(400)
    return float((np.maximum(n - k, 0) * stats.poisson.pmf(n, mean)).sum())


def test_rentals_only_failed_rentals_are_poisson_excess() -> None:
    # time-varying rentals: 0.1 .. 1.2 per step, 12 steps, total 7.8
    lam = np.linspace(0.1, 1.2, 12)
    curve = dissatisfaction_curve(lam, np.zeros(12), 15, params=HARD)
    for k in range(16):
        assert curve.failed_rentals[k] == pytest.approx(_poisson_excess(lam.sum(), k), abs=1e-9)
    assert np.all(curve.failed_returns == 0)
    # with only rentals more bikes never hurt: the target is the full station
    assert curve.target == 15
    assert curve.high == 15


def test_station_with_only_rentals_empties_at_poisson_rate() -> None:
    # P(empty after the horizon | k bikes) = P(N >= k)
    lam = np.full(8, 0.5)
    dist = stock_distribution(lam, np.zeros(8), capacity=10, start=3)
    for t in range(9):
        assert dist[t, 0] == pytest.approx(stats.poisson.sf(2, 0.5 * t), abs=1e-12)
    # mean stock falls by the rate until it hits zero
    assert dist[1] @ np.arange(11) == pytest.approx(3 - 0.5 + _poisson_excess(0.5, 3), abs=1e-12)


def test_returns_only_hard_capacity() -> None:
    mu = np.full(6, 0.8)
    docks = 12
    curve = dissatisfaction_curve(np.zeros(6), mu, docks, params=HARD)
    for k in range(docks + 1):
        assert curve.failed_returns[k] == pytest.approx(_poisson_excess(mu.sum(), docks - k), abs=1e-9)
    assert curve.target == 0


def test_returns_only_soft_capacity_counts_overflow() -> None:
    mu = np.full(4, 1.5)  # 6 returns expected
    docks, extra = 4, 3
    params = InventoryParams(max_overflow=extra)
    curve = dissatisfaction_curve(np.zeros(4), mu, docks, params=params)
    n = np.arange(400)
    pmf = stats.poisson.pmf(n, mu.sum())
    for k in range(docks + extra + 1):
        # returns j = 1.. land on stock k + j - 1: overflow when docks <= k+j-1 < docks+extra
        room_docks = max(docks - k, 0)
        room_all = docks + extra - k
        over = (np.minimum(n, room_all) - np.minimum(n, room_docks)) @ pmf
        failed = np.maximum(n - room_all, 0) @ pmf
        assert curve.overflow_returns[k] == pytest.approx(over, abs=1e-9)
        assert curve.failed_returns[k] == pytest.approx(failed, abs=1e-9)
        w = params.return_failure_weight * failed + params.overflow_penalty * over
        assert curve.costs[k] == pytest.approx(w, abs=1e-9)


def test_symmetric_rates_put_the_target_in_the_middle() -> None:
    rate = np.full(12, 1.0)
    curve = dissatisfaction_curve(rate, rate, 20, params=HARD)
    assert curve.target in (9, 10, 11)
    assert curve.low <= curve.target <= curve.high
    # unimodal: falls to the minimum, then rises
    d = np.diff(curve.costs)
    assert np.all(d[: curve.target] < 0)
    assert np.all(d[curve.target :] > 0)


def test_more_rentals_than_returns_raise_the_target() -> None:
    base = dissatisfaction_curve(np.full(12, 1.0), np.full(12, 1.0), 30, params=HARD)
    busy = dissatisfaction_curve(np.full(12, 1.5), np.full(12, 0.5), 30, params=HARD)
    quiet = dissatisfaction_curve(np.full(12, 0.5), np.full(12, 1.5), 30, params=HARD)
    assert quiet.target < base.target < busy.target


def test_matches_monte_carlo_simulation() -> None:
    # morning peak: rentals then returns; exact value against 40k simulated mornings
    lam = np.array([2.0, 3.0, 1.0, 0.2])
    mu = np.array([0.2, 0.5, 2.5, 3.0])
    docks, extra, k0 = 5, 2, 3
    curve = dissatisfaction_curve(lam, mu, docks, params=InventoryParams(max_overflow=extra))
    rng = np.random.default_rng(7)
    cap = docks + extra
    fails = np.zeros(3)
    runs = 40_000
    for _ in range(runs):
        s = k0
        for lt, mt in zip(lam, mu, strict=True):
            n_ev = rng.poisson(lt + mt)
            for is_rent in rng.random(n_ev) < lt / (lt + mt):
                if is_rent:
                    if s == 0:
                        fails[0] += 1
                    else:
                        s -= 1
                elif s >= cap:
                    fails[1] += 1
                else:
                    fails[2] += s >= docks
                    s += 1
    est = fails / runs
    exact = np.array([curve.failed_rentals[k0], curve.failed_returns[k0], curve.overflow_returns[k0]])
    assert np.allclose(est, exact, atol=0.03), (est, exact)


def test_vectorized_equals_one_by_one() -> None:
    rng = np.random.default_rng(3)
    lam = rng.gamma(1.0, 0.7, (5, 12))
    mu = rng.gamma(1.0, 0.7, (5, 12))
    docks = np.array([3, 10, 25, 7, 15])
    curves = dissatisfaction_curves(lam, mu, docks, stations=[101, 102, 103, 104, 105])
    for i, c in enumerate(curves):
        one = dissatisfaction_curve(lam[i], mu[i], int(docks[i]), station=c.station)
        assert np.allclose(c.costs, one.costs, atol=1e-12)
        assert (c.target, c.low, c.high) == (one.target, one.low, one.high)
    table = targets_table(curves)
    assert list(table["station"]) == [101, 102, 103, 104, 105]
    assert [len(x) for x in table["costs"]] == [d + InventoryParams().max_overflow + 1 for d in docks]


def test_step_rates_cover_the_horizon() -> None:
    hourly = np.arange(24, dtype=float)
    params = InventoryParams(start_hour=7.0, horizon_hours=3.0, step_minutes=15.0)
    steps = step_rates(hourly, params)
    assert steps.shape == (12,)
    assert steps.sum() == pytest.approx(7 + 8 + 9)
    assert steps[0] == pytest.approx(7 / 4)
    # a horizon that does not end on a step boundary; and wrap past midnight
    odd = step_rates(hourly, InventoryParams(start_hour=23.0, horizon_hours=1.5, step_minutes=20.0))
    assert odd.sum() == pytest.approx(23 + 0.5 * 0)
    many = step_rates(np.ones((3, 24)), params)
    assert many.shape == (3, 12)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"horizon_hours": 0}, "horizon_hours"),
        ({"step_minutes": -5}, "step_minutes"),
        ({"max_overflow": -1}, "max_overflow"),
        ({"max_overflow": 2.5}, r"max_overflow: got 2.5; expected an integer"),  # was a TypeError later
        ({"overflow_penalty": -0.1}, "overflow_penalty"),
    ],
)
def test_bad_params_name_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError, match=field):
        InventoryParams(**kwargs)  # type: ignore[arg-type]


def test_bad_rates_are_rejected() -> None:
    with pytest.raises(InputError, match="rent_rates"):
        dissatisfaction_curve([1.0, -1.0], [0.0, 0.0], 5)
    with pytest.raises(InputError, match="return_rates"):
        expected_outcomes(np.ones((2, 3)), np.ones((2, 4)), [3, 3])
    with pytest.raises(InputError, match="docks"):
        expected_outcomes(np.ones((2, 3)), np.ones((2, 3)), [3])


rates = st.lists(st.floats(0.0, 3.0), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(lam=rates, mu=rates, docks=st.integers(0, 25), extra=st.integers(0, 5))
def test_invariants(lam: list[float], mu: list[float], docks: int, extra: int) -> None:
    n = min(len(lam), len(mu))
    lam_a, mu_a = np.array(lam[:n]), np.array(mu[:n])
    if docks + extra == 0:
        extra = 1
    params = InventoryParams(max_overflow=extra)
    c = dissatisfaction_curve(lam_a, mu_a, docks, params=params)
    assert len(c.costs) == docks + extra + 1
    assert np.all(c.costs >= -1e-12)
    assert np.all(np.diff(c.failed_rentals) <= 1e-12)  # more bikes: fewer failed rentals
    assert np.all(np.diff(c.failed_returns) >= -1e-12)  # more bikes: more failed returns
    assert c.low <= c.target <= c.high
    limit = docks if docks > 0 else docks + extra
    assert c.high <= limit
    assert c.cost_at_target == pytest.approx(c.costs[: limit + 1].min(), rel=1e-9, abs=1e-12)
    # failed rentals can never exceed the expected number of renters
    assert c.failed_rentals[0] <= lam_a.sum() + 1e-9
    dist = stock_distribution(lam_a, mu_a, docks + extra, start=min(docks, docks + extra))
    assert np.allclose(dist.sum(axis=1), 1.0)
    assert np.all(dist >= -1e-15)


def test_agrees_with_matrix_exponential() -> None:
    """An independent route: expm of the generator augmented with the cost rates (Van Loan)."""
    from scipy.linalg import expm

    lam = np.array([0.3, 1.4, 2.2, 0.7])
    mu = np.array([1.1, 0.2, 0.9, 2.5])
    docks, extra = 4, 2
    params = InventoryParams(max_overflow=extra, overflow_penalty=0.3, return_failure_weight=2.0)
    curve = dissatisfaction_curve(lam, mu, docks, params=params)
    cap = docks + extra
    s = np.arange(cap + 1)
    value = np.zeros(cap + 1)
    for lt, mt in zip(lam[::-1], mu[::-1], strict=True):
        q = np.zeros((cap + 1, cap + 1))
        q[s[1:], s[1:] - 1] = lt
        q[s[:-1], s[:-1] + 1] = mt
        q[s, s] = -q.sum(axis=1)
        r = lt * (s == 0) + 2.0 * mt * (s == cap) + 0.3 * mt * ((s >= docks) & (s < cap))
        aug = np.zeros((cap + 2, cap + 2))
        aug[: cap + 1, : cap + 1] = q
        aug[: cap + 1, cap + 1] = r
        e = expm(aug)
        value = e[: cap + 1, cap + 1] + e[: cap + 1, : cap + 1] @ value
    assert np.allclose(curve.costs, value, atol=1e-10)
