"""Trips served before and after an expansion plan: the simulator run inside ``mobility plan``.

The plan's network (existing and new stations with the bikes the plan allocates) and the baseline
network it starts from (the existing stations only) are each simulated on one day with the same
rider model, seed and number of replications as ``mobility simulate`` (:mod:`.pipeline`), so
that the plan reports the served share next to the walking coverage.

* **Day.** The scenario's ``simulation.day``, else the second Wednesday of June of the baseline
  vintage's year (``2019-12`` -> 2019-06-12; a weekday of the busiest season).
* **Start inventory.** After the plan: the plan's allocation. Before: the scenario's baseline
  fleet (``baseline.bikes``) spread in proportion to the derived evening snapshot, or, when the
  scenario does not state it, the derived evening snapshot itself (what ``mobility simulate``
  uses for a station vintage). The document says which.
* **Cache.** Each network's figures are cached on disk, keyed on the stations (ids, numbers,
  districts, positions, docks, start bikes), the day, replications, seed, rider parameters, the
  package's source (:func:`~mobility.provenance.package_digest`: an edit of the README or the
  tests keeps the entries) and the fingerprints of every data file the simulation reads:
  re-planning with an unchanged baseline reuses the "before" run.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mobility.placement.plan import Plan, PlanSimulation, SimulatedNetwork
from mobility.progress import Progress, no_progress, within
from mobility.provenance import Provenance
from mobility.simulation.data import STATION_COLUMNS, StationSet, scale_fleet, stations_from_plan
from mobility.simulation.estimate import Estimate
from mobility.simulation.model import RiderParams

_SCHEMA = "plan-simulation/2"

PREPARE_SHARE = 0.9
"""Share of one network's simulation spent preparing the day (travel times, the rider model);
simulated days are fast once compiled (10 days of 2,140 stations: 0.1 s against 4-15 s)."""

BEFORE_SHARE = 0.7
"""Share of a plan's simulation spent on the network before: it comes first and builds the shared
street-network travel times (15 s of 20 on a cold cache, 2019 plan, Intel Xeon 2026-12-06)."""


def default_day(baseline: str) -> str:
    """The second Wednesday of June of the baseline vintage's year (2023 when it has none)."""
    try:
        year = int(str(baseline)[:4])
    except ValueError:
        year = 2023
    year = min(max(year, 2019), 2025)
    june = pd.date_range(f"{year}-06-01", f"{year}-06-30", freq="W-WED")
    return str(june[1].strftime("%Y-%m-%d"))


def _baseline_set(plan: Plan) -> StationSet:
    rows = [{c: getattr(s, c) for c in STATION_COLUMNS} for s in plan.existing_stations]
    t = pd.DataFrame(rows, columns=list(STATION_COLUMNS))
    t["number"] = pd.to_numeric(t["number"], errors="coerce").astype("Int64")
    return StationSet(t, source=f"{plan.scenario}: baseline stations")


def _data_inputs(root: Path) -> list[Path]:
    """Every file the rider simulation reads: the Ttareungi tables (profiles, trips, usage), the
    street networks (ride and walk times) and what the demand-potential model reads to rate the
    new stations (the population grid and the context layers)."""
    files = [
        *(root / "ttareungi").glob("*.csv"),
        *(root / "osm").glob("*"),
        root / "population" / "seoul_pop_grid_100m.csv",
        *(root / "layers").glob("*"),
    ]
    return sorted({p for p in files if p.is_file()})


def _run_network(
    ss: StationSet,
    bikes: np.ndarray | None,
    fleet: int | None,
    *,
    day: str,
    replications: int,
    seed: int,
    params: RiderParams,
    root: Path,
    label: str,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """Figures of one network (from the cache when the same inputs ran before); ``progress`` is
    told each step of a simulation that runs (the rider model's, then each simulated day), with
    the share of this network's work done (:data:`PREPARE_SHARE` of it preparing the day)."""
    from mobility.cache import array_key, cache_key, cached_file
    from mobility.provenance import package_digest

    st = ss.table
    ident = array_key(
        st["station_id"].astype(str).str.cat(sep="|"),
        # the numbers the trips and demand profiles are matched on
        st["number"].astype("Int64").astype("string").fillna("").str.cat(sep="|"),
        # the district of each station: its district figures and the district usage trend
        st["gu"].astype("string").fillna("").str.cat(sep="|"),
        st[["lat", "lon"]].to_numpy(float).copy(),
        st["docks"].to_numpy(np.int64).copy(),
        np.zeros(0) if bikes is None else np.asarray(bikes, np.int64).copy(),
    )
    key = cache_key(
        _data_inputs(root),
        schema=_SCHEMA,
        stations=ident,
        fleet=fleet,
        day=day,
        replications=replications,
        seed=seed,
        params=asdict(params),
        code=package_digest(),  # the package's source: an edit of the README or tests keeps the entry
    )

    def build(tmp: Path) -> None:
        from mobility.simulation.pipeline import prepare, simulate
        from mobility.simulation.result import figures

        prep = prepare(
            ss.source,
            day,
            data_dir=root,
            params=params,
            station_set=ss,
            progress=within(progress, 0.0, PREPARE_SHARE, prefix=f"{label}: "),
        )
        days = within(progress, PREPARE_SHARE, 1.0, prefix=f"{label}: ")
        if bikes is not None:
            prep.bikes = np.asarray(bikes, np.int64)
        elif fleet is not None:
            prep.bikes = scale_fleet(prep.bikes, st["docks"].to_numpy(np.int64), fleet)
            prep.start_inventory = (
                f"the scenario's baseline fleet of {fleet:,} bikes spread like the {prep.start_inventory}"
            )
        run, res = simulate(
            prep,
            replications,
            seed,
            progress=lambda done, total: days(f"day {done} of {total} simulated", done / total),
        )
        gu = prep.stations["gu"].astype(str).to_numpy()
        doc = {
            "network": SimulatedNetwork(
                start_inventory=prep.start_inventory,
                stations=res.stations,
                fleet=res.fleet,
                figures=res.citywide,
                seconds=round(res.seconds, 3),
            ).model_dump(mode="json"),
            "day_type": res.day_type,
            "districts": {
                g: figures(run, gu == g).served_share.model_dump(mode="json") for g in sorted(set(gu))
            },
        }
        tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    path = cached_file("simulation", f"{key}.{label}", ".json", build)
    out: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    progress(f"{label}: simulated", 1.0)
    return out


def simulate_plan(
    plan: Plan,
    *,
    baseline: str,
    baseline_bikes: int | None = None,
    day: str | None = None,
    replications: int = 10,
    seed: int = 0,
    params: RiderParams | None = None,
    data_dir: Path | None = None,
    progress: Progress = no_progress,
) -> Plan:
    """The plan with its served share before and after (city, districts and :class:`PlanSimulation`).

    Parameters
    ----------
    plan
        An expansion plan (its existing stations are the network before).
    baseline
        The baseline station vintage (sets the default day).
    baseline_bikes
        Bikes of the baseline network (``None``: the derived evening snapshot's).
    day
        ``YYYY-MM-DD`` (default: :func:`default_day`).
    replications, seed
        Simulated days per network and the random seed (same seed, same figures).
    params
        The rider model's settings (default :class:`RiderParams`).
    data_dir
        Data directory (``None`` resolves it).
    progress
        Told each step, with the share done: the network before takes :data:`BEFORE_SHARE` of
        the work (its travel-time table is built first and is the larger), the plan's the rest.
    """
    from mobility.config import resolve_data_dir
    from mobility.simulation.data import parse_day

    t0 = time.perf_counter()
    root = resolve_data_dir(data_dir)
    params = params or RiderParams()
    d = day or default_day(baseline)
    parse_day(d)
    common: dict[str, Any] = {
        "day": d,
        "replications": replications,
        "seed": seed,
        "params": params,
        "root": root,
    }
    progress(f"simulating riders on {d}: baseline network, {replications} replications", 0.0)
    before = _run_network(
        _baseline_set(plan),
        None,
        baseline_bikes,
        label="before",
        progress=within(progress, 0.0, BEFORE_SHARE),
        **common,
    )
    after_set = stations_from_plan(plan, label=f"{plan.scenario}: plan")
    progress(f"simulating riders on {d}: the plan's network, {replications} replications", BEFORE_SHARE)
    after = _run_network(
        after_set,
        after_set.table["bikes"].to_numpy(np.int64),
        None,
        label="after",
        progress=within(progress, BEFORE_SHARE, 1.0),
        **common,
    )
    sim = PlanSimulation(
        day=d,
        day_type=str(after["day_type"]),
        replications=replications,
        seed=seed,
        walk_radius_m=params.walk_radius_m,
        before=SimulatedNetwork.model_validate(before["network"]),
        after=SimulatedNetwork.model_validate(after["network"]),
        seconds=round(time.perf_counter() - t0, 2),
    )
    districts = [
        d_.model_copy(
            update={
                "served_share_before": _share(before["districts"], d_.gu),
                "served_share": _share(after["districts"], d_.gu),
            }
        )
        for d_ in plan.districts
    ]
    return plan.model_copy(
        update={
            "simulation": sim,
            "provenance": _with_simulation_inputs(plan.provenance, root),
            "districts": districts,
            "city_before": plan.city_before.model_copy(
                update={"served_share": sim.before.figures.served_share}
            ),
            "city_after": plan.city_after.model_copy(update={"served_share": sim.after.figures.served_share}),
        }
    )


def _with_simulation_inputs(prov: Provenance, root: Path) -> Provenance:
    """``prov`` with the files the rider simulation read (the inputs of its cache key: every
    Ttareungi table behind the demand profiles, trips and usage, the street networks of the
    ride and walk times, and the population grid and layers of the demand-potential model),
    fingerprinted as ``simulation.<folder>.<file stem>``."""
    return prov.with_files({f"simulation.{p.parent.name}.{p.stem}": p for p in _data_inputs(root)})


def _share(by_gu: dict[str, Any], gu: str) -> Estimate | None:
    v = by_gu.get(gu)
    return None if v is None else Estimate.model_validate(v)
