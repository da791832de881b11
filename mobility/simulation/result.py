"""The simulation result document (one pydantic model) and its tables.

:class:`SimulationResult` is what ``mobility simulate`` writes as ``simulation.json`` (its JSON
Schema is generated: :func:`simulation_json_schema`). Every figure is an :class:`Estimate`: the
mean over replications and the 95 % interval of the replications (2.5 % and 97.5 % quantiles of
the simulated days, i.e. the day-to-day spread the model implies). The per-station and
per-station-hour figures are tables (:func:`station_table`, :func:`station_hour_table`), written
as Parquet.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from mobility.provenance import Provenance
from mobility.schema import document_schema
from mobility.simulation.engine import HOURS, METRICS, SimulationRun
from mobility.simulation.estimate import Figures, estimate

SCHEMA_VERSION = "mobility/simulation-result/1"

FIGURES: tuple[str, ...] = (
    "trips_demanded",
    "trips_served",
    "served_share",
    "lost_empty",
    "detoured",
    "full_arrivals",
    "extra_minutes",
    "overflow",
)


class DistrictFigures(BaseModel):
    """Figures of one district (자치구)."""

    gu: str
    stations: int
    figures: Figures


class HourFigures(BaseModel):
    """Citywide figures of one clock hour."""

    hour: int
    figures: Figures


class SimulationResult(BaseModel):
    """The result of ``mobility simulate``: trips demanded, served and lost, with intervals."""

    schema_version: str = SCHEMA_VERSION
    source: str = Field(
        description="The simulated station set: plan file name, station vintage or file name."
    )
    day: str
    day_type: str
    start_inventory: str = Field(description="Where the start stock came from.")
    stations: int
    docks: int
    fleet: int = Field(description="Bikes at the start of the day.")
    stations_over_capacity: int = Field(
        description="Stations starting with more bikes than docks (allowed; full until below)."
    )
    replications: int
    seed: int
    seconds: float = Field(description="Engine time of the replications (loading and writing not included).")
    seconds_total: float | None = Field(
        default=None,
        description="Wall time of the whole command up to writing the files (loading the data and "
        "fitting the rider model included); null when not recorded (e.g. an API job).",
    )
    citywide: Figures
    districts: list[DistrictFigures]
    hours: list[HourFigures]
    model: dict[str, Any] = Field(default_factory=dict, description="Fitted rider-model parameters.")
    stats: dict[str, Any] = Field(default_factory=dict, description="SolverStats of the run.")
    provenance: Provenance | None = Field(default=None, description="Inputs and code it was computed from.")
    notes: list[str] = Field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The citywide figures as plain numbers (what ``--json`` prints)."""
        c = self.citywide
        return {
            "source": self.source,
            "day": self.day,
            "start_inventory": self.start_inventory,
            "fleet": self.fleet,
            "trips_demanded": round(c.trips_demanded.mean, 1),
            "trips_served": round(c.trips_served.mean, 1),
            "served_share": round(c.served_share.mean, 4),
            "served_share_low": round(c.served_share.low, 4),
            "served_share_high": round(c.served_share.high, 4),
            "lost_empty": round(c.lost_empty.mean, 1),
            "detoured": round(c.detoured.mean, 1),
            "full_arrivals": round(c.full_arrivals.mean, 1),
            "extra_minutes": round(c.extra_minutes.mean, 1),
            "bikes_moved_by_rule": round(float(self.model.get("bikes_moved_by_rule", 0.0)), 1),
            "replications": self.replications,
            "seed": self.seed,
            "seconds": round(self.seconds, 2),
            "notes": list(self.notes),  # a forecast day, rows left out, fallbacks: read with the figures
        }


def simulation_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``simulation.json`` as written (from :class:`SimulationResult`)."""
    return document_schema(SimulationResult, "SimulationResult (simulation.json)", schema_id=SCHEMA_VERSION)


def per_replication(
    run: SimulationRun, mask: np.ndarray | None = None, hours: slice | int | None = None
) -> dict[str, np.ndarray]:
    """Each figure per replication, summed over the stations in ``mask`` and the given hours."""
    c = run.counts if mask is None else run.counts[:, mask]
    e = run.extra_s if mask is None else run.extra_s[:, mask]
    if hours is not None:
        c = c[:, :, hours]
        e = e[:, :, hours]
        if c.ndim == 3:
            c = c[:, :, None, :]
            e = e[:, :, None]
    tot = c.sum(axis=(1, 2), dtype=np.int64)
    idx = {m: i for i, m in enumerate(METRICS)}
    dem = tot[:, idx["demanded"]].astype(float)
    srv = tot[:, idx["served"]].astype(float)
    return {
        "trips_demanded": dem,
        "trips_served": srv,
        "served_share": np.where(dem > 0, srv / np.maximum(dem, 1.0), 1.0),
        "lost_empty": tot[:, idx["lost_empty"]].astype(float),
        "detoured": tot[:, idx["detoured"]].astype(float),
        "full_arrivals": tot[:, idx["full_arrivals"]].astype(float),
        "extra_minutes": e.sum(axis=(1, 2)) / 60.0,
        "overflow": tot[:, idx["overflow"]].astype(float),
    }


def figures(run: SimulationRun, mask: np.ndarray | None = None, hours: slice | int | None = None) -> Figures:
    """:class:`Figures` over the stations in ``mask`` and the given hours."""
    reps = per_replication(run, mask, hours)
    return Figures(**{k: estimate(v) for k, v in reps.items()})


def build_result(
    run: SimulationRun,
    stations: pd.DataFrame,
    start_bikes: np.ndarray,
    *,
    source: str,
    day: str,
    day_type: str,
    start_inventory: str,
    seconds: float,
    model: dict[str, Any] | None = None,
    stats: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
    notes: list[str] | None = None,
) -> SimulationResult:
    """Summarise a run into the result document."""
    gu = stations["gu"].astype(str).fillna("").to_numpy()
    docks = stations["docks"].to_numpy(np.int64)
    districts = [
        DistrictFigures(gu=g, stations=int((gu == g).sum()), figures=figures(run, gu == g))
        for g in sorted(set(gu.tolist()))
    ]
    hours = [HourFigures(hour=h, figures=figures(run, None, h)) for h in range(HOURS)]
    return SimulationResult(
        source=source,
        day=day,
        day_type=day_type,
        start_inventory=start_inventory,
        stations=len(stations),
        docks=int(docks.sum()),
        fleet=int(start_bikes.sum()),
        stations_over_capacity=int((start_bikes > docks).sum()),
        replications=run.replications,
        seed=run.seed,
        seconds=seconds,
        citywide=figures(run),
        districts=districts,
        hours=hours,
        model=model or {},
        stats=stats or {},
        provenance=Provenance(**provenance) if provenance else None,
        notes=notes or [],
    )


def station_table(run: SimulationRun, stations: pd.DataFrame, start_bikes: np.ndarray) -> pd.DataFrame:
    """One row per station: identity, docks, start bikes, and each figure's mean, low and high."""
    out = stations[
        [c for c in ("station_id", "number", "name", "gu", "lat", "lon", "docks") if c in stations.columns]
    ].copy()
    out["start_bikes"] = start_bikes
    out["end_bikes_mean"] = run.end_bikes.mean(axis=0)
    day = run.counts.sum(axis=2)  # (reps, n, metrics)
    for k, m in enumerate(METRICS):
        v = day[:, :, k].astype(float)
        out[f"{m}_mean"] = v.mean(axis=0)
        out[f"{m}_low"] = np.quantile(v, 0.025, axis=0)
        out[f"{m}_high"] = np.quantile(v, 0.975, axis=0)
    ex = run.extra_s.sum(axis=2) / 60.0
    out["extra_minutes_mean"] = ex.mean(axis=0)
    dem = out["demanded_mean"].to_numpy()
    out["served_share_mean"] = np.where(dem > 0, out["served_mean"].to_numpy() / np.maximum(dem, 1e-12), 1.0)
    return out.reset_index(drop=True)


def station_hour_table(run: SimulationRun, stations: pd.DataFrame) -> pd.DataFrame:
    """One row per station and hour: each count's mean, low and high over replications."""
    n = len(stations)
    out = pd.DataFrame(
        {
            "station_id": np.repeat(stations["station_id"].astype(str).to_numpy(), HOURS),
            "gu": np.repeat(stations["gu"].astype(str).to_numpy(), HOURS),
            "hour": np.tile(np.arange(HOURS, dtype=np.int16), n),
        }
    )
    for k, m in enumerate(METRICS):  # one metric at a time keeps memory small
        v = run.counts[..., k]
        q = np.quantile(v, [0.025, 0.975], axis=0)
        out[f"{m}_mean"] = v.mean(axis=0).reshape(-1)
        out[f"{m}_low"] = q[0].reshape(-1)
        out[f"{m}_high"] = q[1].reshape(-1)
    out["extra_minutes_mean"] = (run.extra_s.mean(axis=0) / 60.0).reshape(-1)
    return out
