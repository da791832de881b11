"""Write the larger rebalancing benchmark instances: generated 1-PDTSP and BRP cut from Seoul.

* ``DIR/pdtsp/instances/n{n}q{Q}s{seed}.tsp``: 1-PDTSP instances of 200–500 vertices from the
  2004 paper's generator (:func:`mobility.rebalancing.benchmark.generate_pdtsp`, fixed seeds);
* ``DIR/brp/instances/{k}Seoul{n}q{Q}.txt``: BRP instances in the Dell'Amico et al. format cut
  from the Seoul night of ``scenarios/seoul-nightly.yaml`` (real truck drive seconds, real
  surpluses and deficits; :func:`mobility.rebalancing.benchmark.brp_from_night`), the night's
  curves at the profiles' level (``targets.level: profile``) whatever the scenario says, so
  that the instances stay the ones measured since issue 15;
* a ``bks.csv`` in each with blank ``best_known`` (unknown).

These are derived data: the default ``DIR`` is the cache's ``benchmarks`` folder
(``.cache/benchmarks``, or ``$MOBILITY_CACHE_DIR/benchmarks`` when that is set).
Then ``mobility bench pdtsp DIR/pdtsp --time-limit 60`` and ``mobility bench brp DIR/brp
--time-limit 10``.

Usage: ``.venv/bin/python bench/rebalancing_instances.py [--out DIR] [--skip-seoul]``
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path

from mobility.benchcli import existing_file, iso_date, output_dir, run_main
from mobility.config import cache_dir
from mobility.rebalancing.benchmark import brp_from_night, generate_pdtsp
from mobility.rebalancing.formats import BenchmarkInstance, write_brp, write_pdtsp

PDTSP = [(200, 10, 200), (300, 10, 300), (400, 10, 400), (500, 10, 500)]
SEOUL_BRP = [
    (40, 10),
    (60, 10),
    (80, 10),
    (100, 10),
    (120, 10),
    (40, 20),
    (60, 20),
    (80, 20),
    (100, 20),
    (120, 20),
]


ROOT = Path(__file__).resolve().parents[1]


def _bks(path: Path, rows: list[BenchmarkInstance]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["instance", "n", "Q", "m", "best_known", "is_optimal"])
        for inst in rows:
            w.writerow([inst.name, inst.n, inst.capacity, inst.max_vehicles or "unlimited", "", "no/unknown"])


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=output_dir, default=None, help="folder (default: the cache's benchmarks/)")
    ap.add_argument("--scenario", type=existing_file, default=ROOT / "scenarios" / "seoul-nightly.yaml")
    ap.add_argument("--date", type=iso_date, default="2022-01-01")
    ap.add_argument("--skip-seoul", action="store_true")
    a = ap.parse_args(argv)
    out = a.out or cache_dir("benchmarks")
    pd_dir = out / "pdtsp" / "instances"
    pd_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for n, q, seed in PDTSP:
        inst = generate_pdtsp(n, q, seed)
        write_pdtsp(
            inst, pd_dir / f"{inst.name}.tsp", comment=f"2004 generator, numpy default_rng seed {seed}"
        )
        made.append(inst)
    _bks(out / "pdtsp" / "bks.csv", made)
    print(f"{len(made)} 1-PDTSP instances -> {pd_dir}")
    if a.skip_seoul:
        return
    from mobility.demand.data import load_profiles
    from mobility.demand.snapshot import derive_snapshot_from_data
    from mobility.rebalancing.night import load_night_problem
    from mobility.scenario.nightly import at_level, load_nightly

    scn = at_level(load_nightly(a.scenario), "profile")  # the published instances' curves, fixed
    status = derive_snapshot_from_data(load_profiles(None), a.date, at=22.0, data_dir=None)
    p = load_night_problem(scn, status, None).problem
    brp_dir = out / "brp" / "instances"
    brp_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for k, (n, q) in enumerate(SEOUL_BRP, start=1):
        inst = brp_from_night(p, n, q, name=f"{k}Seoul{n}q{q}")
        write_brp(inst, brp_dir / f"{inst.name}.txt")
        made.append(inst)
    _bks(out / "brp" / "bks.csv", made)
    print(f"{len(made)} Seoul BRP instances ({a.date} 22:00) -> {brp_dir}")


if __name__ == "__main__":
    run_main(main)
