"""Benchmark and validation of the trips-served simulator (``mobility simulate``).

1. **Speed**: one full Seoul June weekday (2023-06-14, 2,799 stations of the 2025-12 list, the
   derived start inventory) x ``--replications`` days with the numba engine, against the same
   model written with SimPy (the standard Python discrete-event library: a process per rider,
   ``env.timeout`` for rides) on the same inputs in the same run. Both must agree within noise
   (citywide served share within 4 standard errors, station rentals correlated); the speed ratio
   is per simulated day.
2. **Validation, out of sample** (:mod:`mobility.simulation.validation`): June 2023 held out
   of the fit; 2022-01-01 forecast from the history before it; both with the operator's
   daytime rebalancing rule fixed beforehand (``OPERATOR_RULE``).

Run: ``.venv/bin/python bench/simulation.py [--replications 100] [--simpy-replications 2]``.
The last line is JSON with ``r2_station_rentals``, ``speedup_vs_simpy``, ``trips_per_second``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from mobility.benchcli import ProgressLines, iso_date, non_negative_int, positive_int, run_main
from mobility.machine import describe, machine
from mobility.simulation.engine import SimulationProblem


def simpy_replication(p: SimulationProblem, seed: int) -> dict[str, np.ndarray]:
    """The engine's model (see :mod:`mobility.simulation.engine`) as a SimPy program."""
    import simpy

    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    n = p.n
    bikes = p.bikes.astype(np.int64).copy()
    docks = p.docks
    cum = np.cumsum(p.rates.T, axis=1)
    total = cum[:, -1]
    slot_s = float(p.slot_s)
    out = {
        k: np.zeros(n, dtype=np.int64) for k in ("demanded", "served", "lost", "detoured", "rentals", "full")
    }

    def rider(i: int) -> Any:
        out["demanded"][i] += 1
        j, walk = -1, 0.0
        if bikes[i] > 0:
            j = i
        else:
            for q in range(p.walk_ptr[i], p.walk_ptr[i + 1]):
                if bikes[p.walk_nb[q]] > 0:
                    j, walk = int(p.walk_nb[q]), float(p.walk_s[q])
                    break
            if j < 0:
                out["lost"][i] += 1
                return
            out["detoured"][i] += 1
        bikes[j] -= 1
        out["served"][i] += 1
        out["rentals"][j] += 1
        a, b = p.od_ptr[i], p.od_ptr[i + 1]
        d = int(p.od_dest[a + np.searchsorted(p.od_cum[a:b], rng.random())])
        z = rng.standard_normal()
        dur = np.exp(p.loop_mu + p.loop_sigma * z) if d == j else p.ride_s[j, d] * np.exp(p.mu + p.sigma * z)
        yield env.timeout(walk + max(float(dur), 60.0))
        if bikes[d] < docks[d]:
            bikes[d] += 1
            return
        out["full"][d] += 1
        for q in range(p.ride_ptr[d], p.ride_ptr[d + 1]):
            k = p.ride_nb[q]
            if bikes[k] < docks[k]:
                bikes[k] += 1
                return
        bikes[d] += 1

    def arrivals() -> Any:
        for s in range(len(total)):
            end = (s + 1) * slot_s
            lam = total[s] / slot_s
            while lam > 0:
                dt = rng.exponential(1.0 / lam)
                if env.now + dt >= end:
                    break
                yield env.timeout(dt)
                i = int(np.searchsorted(cum[s], rng.random() * total[s]))
                env.process(rider(min(i, n - 1)))
            yield env.timeout(end - env.now)

    env.process(arrivals())
    env.run()
    out["end_bikes"] = bikes
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replications", type=positive_int, default=100)
    ap.add_argument("--simpy-replications", type=positive_int, default=2)
    ap.add_argument("--validation-replications", type=positive_int, default=50)
    ap.add_argument("--day", type=iso_date, default="2023-06-14")
    ap.add_argument("--seed", type=non_negative_int, default=0, help="random seed (same seed, same result)")
    ap.add_argument("--skip-validation", action="store_true")
    args = ap.parse_args(argv)
    step = ProgressLines()

    from mobility.simulation.engine import run
    from mobility.simulation.pipeline import prepare
    from mobility.simulation.validation import ValidationRun, validate_day, validate_month

    m = machine()
    print(f"machine: {describe(m)}")
    step(f"inputs: the model, {args.day} and its start inventory")
    t0 = time.perf_counter()
    prep = prepare("2025-12", args.day)
    problem = prep.model.problem(prep.day, prep.bikes)
    print(
        f"inputs: {problem.n} stations, {problem.rates.sum():,.0f} expected riders, "
        f"fleet {prep.bikes.sum():,} ({prep.start_inventory}); {time.perf_counter() - t0:.1f} s"
    )

    step(f"numba engine: compile, then {args.replications} days")
    run(problem, replications=2, seed=args.seed)  # compile (cached on disk after the first run)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    c0, w0 = time.process_time(), time.perf_counter()
    res = run(problem, replications=args.replications, seed=args.seed)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    demanded = res.metric("demanded").sum(axis=(1, 2))
    served = res.metric("served").sum(axis=(1, 2))
    share = served / demanded
    conserved = bool((res.end_bikes.sum(axis=1) == prep.bikes.sum()).all())
    trips = float(demanded.sum())
    print(
        f"numba: {args.replications} days in {wall:.2f} s wall ({cpu:.2f} s CPU, {os.cpu_count()} threads), "
        f"{trips / args.replications:,.0f} riders a day, {trips / wall:,.0f} riders/s; "
        f"served share {share.mean():.4f}; bikes conserved: {conserved}; peak RSS {rss1:,.0f} MB "
        f"(before the run {rss0:,.0f} MB); load {[round(x, 1) for x in os.getloadavg()]}"
    )

    step(f"SimPy baseline: {args.simpy_replications} days")
    sp_served, sp_dem, sp_rent, sp_secs, sp_cpu = [], [], [], [], []
    for r in range(args.simpy_replications):
        c, cc = time.perf_counter(), time.process_time()
        o = simpy_replication(problem, args.seed + 1000 + r)
        sp_secs.append(time.perf_counter() - c)
        sp_cpu.append(time.process_time() - cc)
        assert o["end_bikes"].sum() == prep.bikes.sum()
        sp_served.append(o["served"].sum())
        sp_dem.append(o["demanded"].sum())
        sp_rent.append(o["rentals"])
    sp_share = np.array(sp_served) / np.array(sp_dem)
    se = float(np.sqrt(share.var(ddof=1) / len(share) + share.var(ddof=1) / len(sp_share)))
    agree_share = abs(sp_share.mean() - share.mean()) <= 4 * max(se, 1e-4)
    rent_nb = res.metric("rentals").sum(axis=2).mean(axis=0)
    corr = float(np.corrcoef(rent_nb, np.mean(sp_rent, axis=0))[0, 1])
    per_day_nb = wall / args.replications
    per_day_sp = float(np.mean(sp_secs))
    speedup = per_day_sp / per_day_nb
    # CPU seconds per day: the ratio of work done, robust to other jobs on the machine
    cpu_speedup = float(np.mean(sp_cpu)) / (cpu / args.replications)
    print(
        f"simpy: {args.simpy_replications} days, {per_day_sp:.2f} s per day ({np.mean(sp_cpu):.2f} s CPU); "
        f"served share {sp_share.mean():.4f} "
        f"(numba {share.mean():.4f}, agree within 4 s.e.: {agree_share}); station rentals correlation "
        f"{corr:.3f}; speed-up per day {speedup:.0f}x wall, {cpu_speedup:.0f}x CPU; "
        f"load {[round(x, 1) for x in os.getloadavg()]}"
    )

    val: dict[str, Any] = {}
    if not args.skip_validation:
        step("validation: June 2023 and 2022-01-01")
        how = ValidationRun(replications=args.validation_replications, seed=args.seed)
        val["june"] = validate_month(run=how)
        val["day"] = validate_day(run=how)
        for v in val.values():
            print(
                f"validation {v['check']}: R² of station daily rentals {v['r2_station_rentals']:.3f} "
                f"(Poisson-noise ceiling {v['r2_poisson_ceiling']:.3f}) "
                f"over {v['stations_compared']} stations; "
                f"citywide simulated {v['simulated_total']:,.0f} vs recorded {v['observed_total']:,.0f} "
                f"({v['total_ratio'] - 1:+.1%}); rule moved "
                + ", ".join(f"{k} {r['bikes_moved_by_rule']:,.0f}" for k, r in v["runs"].items())
                + " bikes a day"
            )
    m_end = machine()
    print(
        json.dumps(
            {
                "bench": "simulation",
                "machine": m_end,
                "stations": problem.n,
                "replications": args.replications,
                "riders_per_day": trips / args.replications,
                "seconds": round(wall, 3),
                "cpu_seconds": round(cpu, 3),
                "peak_rss_mb": round(rss1),
                "trips_per_second": round(trips / wall),
                "served_share": round(float(share.mean()), 4),
                "bikes_conserved": conserved,
                "simpy_seconds_per_day": round(per_day_sp, 3),
                "simpy_served_share": round(float(sp_share.mean()), 4),
                "simpy_agrees": bool(agree_share),
                "simpy_station_rentals_corr": round(corr, 4),
                "speedup_vs_simpy": round(speedup, 1),
                "speedup_vs_simpy_cpu": round(cpu_speedup, 1),
                "simpy_cpu_seconds_per_day": round(float(np.mean(sp_cpu)), 3),
                "r2_station_rentals": round(val["june"]["r2_station_rentals"], 4) if val else None,
                "total_ratio_june": round(val["june"]["total_ratio"], 4) if val else None,
                "r2_station_rentals_2022_01_01": round(val["day"]["r2_station_rentals"], 4) if val else None,
                "r2_poisson_ceiling_2022_01_01": round(val["day"]["r2_poisson_ceiling"], 4) if val else None,
                "total_ratio_2022_01_01": round(val["day"]["total_ratio"], 4) if val else None,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    run_main(main)
