"""The simulation engine on small problems: conservation, reproducibility, rider rules."""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mobility.errors import InputError
from mobility.simulation.engine import METRICS, RebalanceRule, SimulationProblem, run
from mobility.simulation.model import neighbour_lists


def make_problem(
    n: int = 6,
    *,
    seed: int = 0,
    rate: float = 0.5,
    docks: int = 5,
    bikes: np.ndarray | None = None,
    walk_m: float = 400.0,
    radius_m: float = 500.0,
    ride_on: int = 3,
) -> SimulationProblem:
    """Stations on a line 300 m apart; riders go anywhere with equal probability."""
    rng = np.random.default_rng(seed)
    x = np.arange(n) * 300.0
    dist = np.abs(x[:, None] - x[None, :])
    ride = (dist / 4.0 + 60.0).astype(np.float32)
    np.fill_diagonal(ride, 0.0)
    walk = dist * (walk_m / 300.0)
    wp, wn, ws = neighbour_lists(walk / 1.25, radius_m / 1.25)
    rp, rn, rs = neighbour_lists(ride.astype(float), np.inf, ride_on)
    od_ptr = np.arange(n + 1, dtype=np.int64) * n
    od_dest = np.tile(np.arange(n, dtype=np.int32), n)
    od_cum = np.tile(np.arange(1, n + 1) / n, n)
    start = rng.integers(0, docks + 3, n) if bikes is None else bikes
    return SimulationProblem(
        docks=np.full(n, docks, dtype=np.int64),
        bikes=np.asarray(start, dtype=np.int64),
        rates=np.full((n, 96), rate),
        od_ptr=od_ptr,
        od_dest=od_dest,
        od_cum=od_cum,
        ride_s=ride,
        walk_ptr=wp,
        walk_nb=wn,
        walk_s=ws,
        ride_ptr=rp,
        ride_nb=rn,
        ride_nb_s=rs,
    )


def col(name: str) -> int:
    return METRICS.index(name)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 12),
    seed=st.integers(0, 10_000),
    rate=st.floats(0.0, 3.0),
    docks=st.integers(0, 8),
    radius=st.sampled_from([0.0, 350.0, 5000.0]),
    ride_on=st.integers(0, 4),
    every=st.sampled_from([0, 600, 3600]),
    low=st.floats(0.0, 0.5),
    high=st.floats(0.5, 1.0),
    cap=st.integers(0, 5),
)
def test_bikes_are_conserved_and_counts_add_up(
    n: int,
    seed: int,
    rate: float,
    docks: int,
    radius: float,
    ride_on: int,
    every: int,
    low: float,
    high: float,
    cap: int,
) -> None:
    # every = 0: no rebalancing; else a truck rule around the clock
    rule = RebalanceRule(every_s=every, low=low, target=0.5, high=high, cap=cap, start_h=0.0, end_h=24.0)
    p = make_problem(n, seed=seed, rate=rate, docks=docks, radius_m=radius, ride_on=ride_on)
    p = SimulationProblem(**{**p.__dict__, "rebalance": rule})
    r = run(p, replications=3, seed=seed)
    assert r.moved is not None
    # the trucks take exactly the bikes they deliver, at most ``cap`` a round
    assert (r.moved.sum(axis=(1, 2)) == 0).all()
    if every == 0:
        assert not r.moved.any()
    elif cap:
        assert (r.moved.clip(min=0).sum(axis=1) <= cap * (3600 // every)).all()
    c = r.counts.sum(axis=(1, 2))  # (reps, metrics)
    # no bike created or lost: the end stock sums to the start stock, every rental is returned
    assert (r.end_bikes.sum(axis=1) == p.bikes.sum()).all()
    assert (r.end_bikes >= 0).all()
    assert (c[:, col("rentals")] == c[:, col("returns")]).all()
    assert (c[:, col("rentals")] == c[:, col("served")]).all()
    # every rider is either served or lost; detours are served riders
    assert (c[:, col("served")] + c[:, col("lost_empty")] == c[:, col("demanded")]).all()
    assert (c[:, col("detoured")] <= c[:, col("served")]).all()
    assert (c[:, col("overflow")] <= c[:, col("full_arrivals")]).all()
    # per station: end = start + returns - rentals + bikes the trucks delivered
    per = r.counts.sum(axis=2)
    moved = r.moved.sum(axis=2)
    assert (
        r.end_bikes == p.bikes[None, :] + per[:, :, col("returns")] - per[:, :, col("rentals")] + moved
    ).all()
    if radius == 0.0:
        assert (c[:, col("detoured")] == 0).all()
    if ride_on == 0:
        assert (r.extra_s == 0).all()


def test_the_rule_refills_a_busy_station_from_a_full_one() -> None:
    # station 0 starts empty and has all the riders; station 2 (far away) is full and idle
    n = 3
    p = make_problem(n, rate=0.0, docks=20, bikes=np.array([0, 0, 20]), radius_m=0.0)
    rates = np.zeros((n, 96))
    rates[0, 32:80] = 1.0  # 08:00-20:00
    base = SimulationProblem(**{**p.__dict__, "rates": rates})
    off = run(base, replications=20, seed=3)
    rule = RebalanceRule(every_s=3600, low=0.2, target=0.5, high=0.8, start_h=7.0, end_h=22.0)
    on = run(SimulationProblem(**{**base.__dict__, "rebalance": rule}), replications=20, seed=3)
    assert off.moved is not None and not off.moved.any()
    assert on.moved is not None
    # the first round (07:00) moves 10 bikes from station 2 (20 -> 10) to station 0 (0 -> 10)
    assert (on.moved[:, 0, 7] == 10).all() and (on.moved[:, 2, 7] == -10).all()
    assert (on.moved[:, :, :7] == 0).all() and (on.moved[:, :, 22:] == 0).all()
    assert on.metric("served").sum() > off.metric("served").sum()
    assert on.metric("lost_empty").sum() < off.metric("lost_empty").sum()


def test_a_bad_rebalancing_rule_is_refused() -> None:
    with pytest.raises(InputError, match="low/target/high"):
        RebalanceRule(every_s=3600, low=0.6, target=0.5)
    with pytest.raises(InputError, match="every_s"):
        RebalanceRule(every_s=-1)
    with pytest.raises(InputError, match="cap"):
        RebalanceRule(cap=-3)
    with pytest.raises(InputError, match="start_h"):
        RebalanceRule(start_h=10.0, end_h=30.0)


def test_same_seed_same_result_on_any_number_of_threads() -> None:
    p = make_problem(8, rate=1.0)
    a = run(p, replications=6, seed=42)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        b = run(p, replications=6, seed=42)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(a.counts, b.counts)
    assert np.array_equal(a.end_bikes, b.end_bikes)
    assert np.array_equal(a.extra_s, b.extra_s)
    c = run(p, replications=6, seed=43)
    assert not np.array_equal(a.counts, c.counts)
    # replications are distinct days
    assert not np.array_equal(a.counts[0], a.counts[1])


def test_arrivals_follow_the_rates() -> None:
    # plenty of bikes and docks: every rider is served, demand is Poisson with the given mean
    n, rate = 4, 0.25
    p = make_problem(n, rate=rate, docks=10_000, bikes=np.full(n, 5_000))
    r = run(p, replications=200, seed=1)
    dem = r.metric("demanded").sum(axis=(1, 2)).astype(float)
    mean = n * 96 * rate
    assert abs(dem.mean() - mean) < 5 * np.sqrt(mean / 200)
    assert abs(dem.var() / mean - 1.0) < 0.3  # Poisson: variance equals the mean
    assert (r.metric("lost_empty") == 0).all()
    assert (r.metric("full_arrivals") == 0).all()
    # arrivals are spread evenly over the hours
    hourly = r.metric("demanded").sum(axis=(0, 1)) / 200
    assert np.allclose(hourly, n * 4 * rate, rtol=0.2)


def test_empty_city_loses_every_rider_and_full_city_rides_on() -> None:
    p = make_problem(5, rate=0.5, bikes=np.zeros(5, dtype=np.int64))
    r = run(p, replications=2, seed=3)
    assert (r.metric("served") == 0).all()
    assert r.metric("lost_empty").sum() == r.metric("demanded").sum() > 0
    # one bike, one dock short everywhere else: returns to a full station ride on
    p = make_problem(3, rate=0.2, docks=1, bikes=np.array([1, 1, 1]), ride_on=2)
    r = run(p, replications=5, seed=4)
    assert r.metric("full_arrivals").sum() > 0
    assert (r.end_bikes.sum(axis=1) == 3).all()


def test_detour_within_the_radius_only() -> None:
    # station 0 is empty; station 1 (300 m walk) has bikes: detours within 500 m, none within 200 m
    bikes = np.array([0, 1000, 0])
    near = make_problem(3, rate=0.3, docks=2000, bikes=bikes, radius_m=500.0)
    far = make_problem(3, rate=0.3, docks=2000, bikes=bikes, radius_m=200.0)
    a = run(near, replications=3, seed=5)
    b = run(far, replications=3, seed=5)
    assert a.metric("detoured")[:, 0].sum() > 0
    assert a.metric("lost_empty")[:, 1].sum() == 0
    assert b.metric("detoured").sum() == 0


def test_bad_problems_name_the_field() -> None:
    p = make_problem(3)
    with pytest.raises(InputError, match=r"bikes\[1\]"):
        run(make_problem(3, bikes=np.array([1, -2, 0])), 1)
    with pytest.raises(InputError, match="replications"):
        run(p, 0)
    with pytest.raises(InputError, match="seed"):
        run(p, 1, seed=-1)
    bad = SimulationProblem(**{**p.__dict__, "rates": -p.rates})
    with pytest.raises(InputError, match="rates"):
        run(bad, 1)


def test_guided_draws_find_what_a_binary_search_finds() -> None:
    # rows with plateaus (zero rates) and a zero first entry; every guide gives the exact answer
    from mobility.simulation.engine import _first_at_least, _guide

    rng = np.random.default_rng(7)
    lengths = rng.integers(1, 40, 50)
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    w = rng.exponential(1.0, ptr[-1]) * (rng.random(ptr[-1]) < 0.6)
    cum = np.concatenate([np.cumsum(w[a:b]) for a, b in itertools.pairwise(ptr)])
    for buckets in (1, 4, 64):
        guide = _guide(cum, ptr, buckets)
        for r in range(len(lengths)):
            a, b = int(ptr[r]), int(ptr[r + 1])
            for u in np.concatenate([rng.random(20), [0.0, 1.0 - 2.0**-53]]):
                x = u * cum[b - 1]
                want = a + min(int(np.searchsorted(cum[a:b], x, side="left")), b - a - 1)
                got = _first_at_least(cum, a, b - 1, a + int(guide[r, int(u * buckets)]), x)
                assert got == want
                # the answer does not depend on the guess, only the number of steps does
                assert _first_at_least(cum, a, b - 1, int(rng.integers(a, b)), x) == want


def test_the_heap_gives_its_keys_back_in_order() -> None:
    # as in a day: the next ride end is popped, and a new ride ends later than it (ties included)
    from mobility.simulation.engine import _pop, _push

    rng = np.random.default_rng(3)
    heap = np.empty(600, dtype=np.int64)
    size, pushed, out = 0, [], []
    for k in rng.integers(0, 1_000, 300):
        size = _push(heap, size, np.int64(k))
        pushed.append(int(k))
    for _ in range(300):
        out.append(int(heap[0]))
        size = _pop(heap, size)
        k = out[-1] + int(rng.integers(0, 40))
        size = _push(heap, size, np.int64(k))
        pushed.append(k)
    while size:
        out.append(int(heap[0]))
        size = _pop(heap, size)
    assert out == sorted(pushed)
