"""Dissatisfaction curves for every station: vectorized uniformization against matrix exponentials.

Measured in one run on this machine, on the real profiles (2,799 stations of the 2025-12 list,
weekday, 07:00–10:00 in 15-minute steps, soft capacity docks + 10):

* **engine**: :func:`mobility.demand.inventory.dissatisfaction_curves` — all stations at once,
  exact uniformization with a backward recursion (numpy stencils over a stations × states array);
* **baseline**: the textbook route, station by station: for each step the generator ``Q`` of the
  birth–death chain, the step's transition matrix and expected cost from one ``scipy.linalg.expm``
  of the augmented matrix ``[[Q, r], [0, 0]]`` (Van Loan), then ``V_t = c_t + P_t V_{t+1}``.
  Timed on every station by default (``--sample N`` times N random stations and extrapolates;
  expm's cost varies with each station's rates, so small samples mislead: 150 stations gave
  1.6x where all 2,799 give about 5x).

Both give the expected weighted dissatisfaction for every starting stock; the largest absolute
difference over the sampled stations is reported (it should be at round-off level).

Usage::

    .venv/bin/python bench/demand.py [--data-dir DIR] [--sample N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence

import numpy as np
from scipy.linalg import expm

from mobility.benchcli import ProgressLines, existing_dir, positive_int, run_main
from mobility.machine import describe, machine


def expm_curve(lam: np.ndarray, mu: np.ndarray, docks: int, extra: int, weights: np.ndarray) -> np.ndarray:
    """Baseline: expected weighted dissatisfaction by starting stock, via matrix exponentials."""
    cap = docks + extra
    n = cap + 1
    s = np.arange(n)
    value = np.zeros(n)
    w_rent, w_ret, w_over = weights
    for lt, mt in zip(lam[::-1], mu[::-1], strict=True):
        q = np.zeros((n, n))
        q[s[1:], s[1:] - 1] = lt  # a rental: s -> s-1
        q[s[:-1], s[:-1] + 1] = mt  # a return: s -> s+1
        q[s, s] = -q.sum(axis=1)
        # cost per unit time (one step = one time unit) by state
        r = w_rent * lt * (s == 0) + w_ret * mt * (s == cap) + w_over * mt * ((s >= docks) & (s < cap))
        aug = np.zeros((n + 1, n + 1))
        aug[:n, :n] = q
        aug[:n, n] = r
        e = expm(aug)
        value = e[:n, n] + e[:n, :n] @ value
    return value


def baseline_label(timed: int, stations: int) -> str:
    """The baseline's row label: every station timed, or a sample extrapolated to all of them."""
    how = f"all {stations} timed" if timed == stations else f"{timed} timed, extrapolated"
    return f"baseline: expm per station and step ({how})"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=existing_dir, default=None)
    ap.add_argument(
        "--sample", type=positive_int, default=None, help="Stations timed with the baseline (default: all)."
    )
    args = ap.parse_args(argv)
    step = ProgressLines()

    from mobility.demand.data import load_profiles
    from mobility.demand.inventory import InventoryParams, dissatisfaction_curves, step_rates

    step("loading the demand profiles")
    prof = load_profiles(args.data_dir)
    params = InventoryParams(start_hour=7.0, horizon_hours=3.0, step_minutes=15.0)
    rent, ret = prof.hourly("weekday")
    lam, mu = step_rates(rent, params), step_rates(ret, params)
    docks = prof.stations["docks"].fillna(0).astype("int64").to_numpy()
    n = len(docks)

    step(f"engine: dissatisfaction curves of {n} stations")
    t0 = time.perf_counter()
    curves = dissatisfaction_curves(lam, mu, docks, params=params)
    engine_s = time.perf_counter() - t0

    rng = np.random.default_rng(0)
    size = n if args.sample is None else min(args.sample, n)
    sample = np.sort(rng.choice(n, size=size, replace=False))
    step(f"baseline: expm per station and step, {size} stations")
    weights = np.array([params.rental_failure_weight, params.return_failure_weight, params.overflow_penalty])
    t0 = time.perf_counter()
    base = [expm_curve(lam[i], mu[i], int(docks[i]), params.max_overflow, weights) for i in sample]
    base_s = (time.perf_counter() - t0) / len(sample) * n
    diff = max(float(np.abs(b - curves[i].costs).max()) for b, i in zip(base, sample, strict=True))

    rows = [
        ("engine: vectorized uniformization (all stations)", engine_s, 1.0),
        (
            baseline_label(len(sample), n),
            base_s,
            base_s / engine_s,
        ),
    ]
    m = machine()
    print(f"machine: {describe(m)}")
    print(f"stations: {n}, steps: {lam.shape[1]}, states up to {int(docks.max()) + params.max_overflow + 1}")
    print(f"{'method':72s} {'seconds':>9s} {'x engine':>9s}")
    for name, sec, ratio in rows:
        print(f"{name:72s} {sec:9.2f} {ratio:9.1f}")
    print(f"max |difference| of expected dissatisfaction over sampled stations: {diff:.2e}")
    print(
        json.dumps(
            {
                "bench": "demand.dissatisfaction_curves",
                "stations": n,
                "engine_seconds": round(engine_s, 3),
                "baseline_seconds_extrapolated": round(base_s, 3),
                "speedup": round(base_s / engine_s, 1),
                "max_abs_diff": diff,
                "machine": m,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    run_main(main)
