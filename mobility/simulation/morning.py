"""The morning after a night's truck routes, simulated, against the dissatisfaction model.

``mobility rebalance`` and ``bench/rebalancing.py`` choose routes by the *expected
dissatisfaction* of the morning (:mod:`mobility.demand.inventory`: for every station, the
expected failed rentals and returns from 07:00 to 10:00 given its stock). This module measures the
same nights independently with the rider simulator (:mod:`mobility.simulation.engine`): the
snapshot's stock with each method's routes applied at midnight, riders from 00:00 of the morning
after, and reports per method

* the riders **lost** at empty stations and the riders who found a **full dock**, from midnight to
  the end of the model's window (the next morning);
* inside the model's window (07:00–10:00 by default), the riders who found their station empty
  (lost or detoured) or their destination full, station by station, next to what the
  dissatisfaction model expects at the same stock (failed rentals + failed returns + returns
  beyond the docks, :func:`~mobility.demand.inventory.expected_outcomes`): the citywide totals,
  the mean absolute error per station, the correlation, and the stations where they disagree
  most.

Both use the same demand profiles; they differ in what they assume. The dissatisfaction model
takes the stock after the routes as the 07:00 stock and each station alone (its riders neither
walk to a neighbour nor ride on to the next free dock; rates at the level of the night's
curves, ``model_level``). The simulator lets riders move bikes between midnight and 07:00, sends
riders at an empty station to a neighbour, and scales the rates by the season and year (January
is quiet).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from mobility.errors import InputError
from mobility.progress import Progress, no_progress, within
from mobility.provenance import Provenance
from mobility.schema import document_schema
from mobility.simulation.estimate import Estimate, estimate

if TYPE_CHECKING:
    from mobility.demand.inventory import InventoryParams
    from mobility.demand.profiles import StationProfiles

SCHEMA_VERSION = "mobility/morning-after/1"


class StationGap(BaseModel):
    """One station where the dissatisfaction model and the simulator disagree."""

    model_config = ConfigDict(frozen=True)

    station_id: str
    name: str
    docks: int
    bikes: int = Field(description="Stock after the routes (at midnight).")
    predicted: float = Field(description="Expected stockout events in the window (dissatisfaction model).")
    simulated: float = Field(description="Riders who found the station empty or full in the window (mean).")


class MorningOutcome(BaseModel):
    """The morning after one method's routes (or no routes)."""

    model_config = ConfigDict(frozen=True)

    method: str
    bikes_moved: int
    lost_empty: Estimate = Field(description="Riders lost at empty stations, 00:00 to the window's end.")
    full_arrivals: Estimate = Field(
        description="Riders who found every dock taken, 00:00 to the window's end."
    )
    window_empty: Estimate = Field(description="Riders who found their station empty in the window.")
    window_full: Estimate = Field(description="Riders who found their destination full in the window.")
    window_predicted_empty: float = Field(description="Failed rentals the dissatisfaction model expects.")
    window_predicted_full: float = Field(
        description="Failed returns plus returns beyond the docks the dissatisfaction model expects."
    )
    station_mae: float = Field(description="Mean |predicted - simulated| stockout events per station.")
    station_correlation: float | None = Field(description="Pearson correlation over stations.")
    disagreements: list[StationGap] = Field(description="Stations with the largest |predicted - simulated|.")


class MorningAfter(BaseModel):
    """The next morning of a night, simulated for each method (``morning.json``)."""

    schema_version: str = SCHEMA_VERSION
    day: str = Field(description="The morning simulated (the day after the night).")
    day_type: str
    window: str = Field(description="The dissatisfaction model's horizon, e.g. 07:00-10:00.")
    replications: int
    seed: int
    stations: int
    outcomes: list[MorningOutcome]
    seconds: float
    model_level: float = Field(
        default=1.0,
        description="The dissatisfaction model's rates relative to the demand profiles' 2023 mean "
        "day (the night's curves, targets.level: the morning's season and year factor, or 1).",
    )
    forecast_from: str | None = Field(
        default=None,
        description="Set when the morning is past the demand data (e.g. tonight's): the month "
        "(YYYY-MM) before which the data the forecast is made from ends.",
    )
    notes: list[str] = Field(default_factory=list)
    provenance: Provenance | None = Field(
        default=None,
        description="Code version, the fingerprints of the inputs (the status snapshot, the routes "
        "document simulated, the night's network, speed and demand files, and as simulation.<name> "
        "the other files the simulation read, e.g. the riders' street network), the scenario, the "
        "seed and the time it was computed; null when the caller recorded none.",
    )

    def table(self) -> list[dict[str, Any]]:
        """One plain row per method (what the CLI and the bench print)."""
        return [
            {
                "method": o.method,
                "bikes_moved": o.bikes_moved,
                "lost_empty": round(o.lost_empty.mean, 1),
                "lost_empty_low": round(o.lost_empty.low, 1),
                "lost_empty_high": round(o.lost_empty.high, 1),
                "full_arrivals": round(o.full_arrivals.mean, 1),
                "window_simulated": round(o.window_empty.mean + o.window_full.mean, 1),
                "window_predicted": round(o.window_predicted_empty + o.window_predicted_full, 1),
                "station_mae": round(o.station_mae, 3),
                "station_correlation": None
                if o.station_correlation is None
                else round(o.station_correlation, 3),
            }
            for o in self.outcomes
        ]


def morning_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``morning.json``, generated from :class:`MorningAfter`."""
    return document_schema(MorningAfter, "MorningAfter (morning.json)", schema_id=SCHEMA_VERSION)


def predicted_events(
    stations: pd.DataFrame,
    profiles: StationProfiles,
    day_type: str,
    params: InventoryParams | None = None,
    level: float = 1.0,
) -> tuple[np.ndarray, int]:
    """Expected failed rentals, failed returns and overflow returns per station and start stock.

    Rates are the profiles' times ``level`` (matched on station number; a station without a
    profile expects nothing); the horizon is ``params`` (:class:`~mobility.demand.inventory.InventoryParams`).
    Returns the ``(stations, stock, 3)`` expectations (NaN beyond a station's capacity) and the
    overflow allowance.
    """
    from mobility.demand.inventory import InventoryParams, expected_outcomes, step_rates

    params = params or InventoryParams()
    rent, ret = profiles.hourly(day_type)
    pos = pd.Series(np.arange(len(profiles.stations)), index=profiles.stations["number"].astype("int64"))
    pos = pos[~pos.index.duplicated()]
    num = pd.to_numeric(stations["number"], errors="coerce")
    rows = num.map(pos).to_numpy(float)
    hit = np.isfinite(rows)
    n = len(stations)
    lam = np.zeros((n, params.n_steps))
    mu = np.zeros((n, params.n_steps))
    lam[hit] = step_rates(level * rent[rows[hit].astype(np.int64)], params)
    mu[hit] = step_rates(level * ret[rows[hit].astype(np.int64)], params)
    docks = np.maximum(stations["docks"].to_numpy(np.int64), 1)
    return expected_outcomes(lam, mu, docks, max_overflow=params.max_overflow), params.max_overflow


MORNING_PREPARE_SHARE = 0.6
"""The share of :func:`morning_after`'s progress its preparation takes (the riders' day: about
half of a warm run, most of a cold one); the methods' mornings share the rest equally."""


def numbered(stations: pd.DataFrame, listed: pd.DataFrame) -> pd.Series:
    """Each station's number (``Int64``, aligned with ``stations``): its own, else the number of its
    ``station_id`` in the station list ``listed`` (the demand profiles', which the rates are keyed
    on), by :func:`~mobility.rebalancing.build.join_station_list`, the join of ``mobility
    rebalance`` and the API's status upload; ``<NA>`` when neither has one (a new station)."""
    from mobility.rebalancing.build import join_station_list

    joined = join_station_list(stations.reindex(columns=["station_id", "number"]), listed)
    return pd.to_numeric(joined["number"], errors="coerce").astype("Int64")


def events_at(
    expected: np.ndarray, docks: np.ndarray, overflow: int, bikes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expected failed rentals and failed + overflow returns at each station's stock ``bikes``."""
    k = np.clip(np.asarray(bikes, np.int64), 0, np.maximum(docks, 1) + overflow)
    at = expected[np.arange(len(k)), k]  # (n, 3): failed rentals, failed returns, overflow returns
    return np.nan_to_num(at[:, 0]), np.nan_to_num(at[:, 1] + at[:, 2])


def morning_after(
    stations: pd.DataFrame,
    bikes: np.ndarray,
    routes: dict[str, dict[str, Any] | None],
    *,
    night: str | dt.date,
    profiles: StationProfiles | None,
    level: float | None = None,
    replications: int = 10,
    seed: int = 0,
    data_dir: Path | None = None,
    top: int = 5,
    provenance: Provenance | None = None,
    progress: Progress = no_progress,
) -> MorningAfter:
    """Simulate the morning after ``night`` for each method's routes and compare with the model.

    Parameters
    ----------
    stations
        The night's stations (``station_id``, ``number``, ``name``, ``lat``, ``lon``, ``docks``;
        ``gu`` optional). A station without a number (a snapshot that names its stations by
        ``station_id`` only) takes its id's number in the demand profiles' station list
        (:func:`numbered`): the simulator's rates and the model's are keyed on it.
    bikes
        Their stock in the evening snapshot (taken as the stock at midnight).
    routes
        Method name -> ``routes.json`` document (``None``: no rebalancing).
    night
        The night's date (``YYYY-MM-DD`` or a date); the morning after is simulated.
    profiles
        The demand profiles (:class:`~mobility.demand.profiles.StationProfiles`; ``None``: read).
    level
        The dissatisfaction model's rates relative to the profiles' (the night's curves',
        :attr:`~mobility.rebalancing.night.NightInputs.level`); ``None``: the morning's citywide
        level, from the simulator's own season model (what
        :func:`~mobility.simulation.model.demand_level` computes from the same counts).
    replications, seed
        Simulated mornings per method and the random seed (same seed, same figures).
    top
        How many most-disagreeing stations to list per method.
    provenance
        Recorded in the document (e.g. :func:`mobility.rebalancing.night.night_provenance` with
        the routes file), with the files the simulation read that it lacks added as
        ``simulation.<name>`` (the riders' street network, ``simulation.network``).
    progress
        Told each step and its share done: the riders' day prepared (up to
        :data:`MORNING_PREPARE_SHARE`; most of a cold run: profiles, trips, the rider network),
        then each method's mornings.
    """
    from mobility.demand.holidays import day_type
    from mobility.demand.inventory import InventoryParams
    from mobility.simulation.data import STATION_COLUMNS, StationSet, apply_routes
    from mobility.simulation.days import MORNING_NIGHTS, morning_night_problem
    from mobility.simulation.engine import run
    from mobility.simulation.pipeline import prepare
    from mobility.simulation.result import per_replication

    t0 = time.perf_counter()
    if morning_night_problem(pd.Timestamp(night).date()) is not None:
        raise InputError("night", str(night), MORNING_NIGHTS)
    if profiles is None:
        from mobility.demand.data import load_profiles

        progress("the morning after: reading the demand profiles", 0.0)
        profiles = load_profiles(data_dir)
    ip = InventoryParams()
    h0, h1 = int(ip.start_hour), int(np.ceil(ip.start_hour + ip.horizon_hours))
    day = (pd.Timestamp(night) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    dt = day_type(pd.Timestamp(day))
    st = stations.reset_index(drop=True).copy()
    if "gu" not in st.columns:
        st["gu"] = ""
    st["gu"] = st["gu"].fillna("").astype(str)
    st["number"] = numbered(st, profiles.stations)
    ss = StationSet(st[list(STATION_COLUMNS)], source="the night's stations")
    start = np.asarray(bikes, np.int64)
    # the night's stations keep their own rates (a snapshot may cover part of the city)
    status = pd.DataFrame({"station_id": st["station_id"].astype(str), "bikes": start})
    prep = prepare(
        "night",
        day,
        status=status,
        data_dir=data_dir,
        profiles=profiles,
        station_set=ss,
        preserve_total=False,
        progress=within(progress, 0.0, MORNING_PREPARE_SHARE, prefix="the morning after: "),
    )
    if level is None:  # the season model the simulator just fitted (a forecast past the data)
        level = prep.model.season.factor(prep.day)
    expected, overflow = predicted_events(st, profiles, dt, ip, level)
    docks = st["docks"].to_numpy(np.int64)
    from mobility.simulation.engine import METRICS

    idx = {m: i for i, m in enumerate(METRICS)}
    ids = st["station_id"].astype(str).to_numpy()
    outcomes = []
    for k, (method, doc) in enumerate(routes.items()):
        share = MORNING_PREPARE_SHARE + (1.0 - MORNING_PREPARE_SHARE) * k / len(routes)
        progress(f"the morning after: {replications} mornings of {method}", share)
        b = start if doc is None else apply_routes(st, start, doc, label=f"routes of {method}")
        out = run(prep.model.problem(prep.day, b), replications=replications, seed=seed)
        morning = per_replication(out, hours=slice(0, h1))
        window = per_replication(out, hours=slice(h0, h1))
        c = out.counts[:, :, h0:h1].sum(axis=2).mean(axis=0)  # (n, metrics)
        sim = c[:, idx["lost_empty"]] + c[:, idx["detoured"]] + c[:, idx["full_arrivals"]]
        pe, pf = events_at(expected, docks, overflow, b)
        pred = pe + pf
        gap = np.abs(pred - sim)
        worst = np.argsort(-gap, kind="stable")[:top]
        corr = float(np.corrcoef(pred, sim)[0, 1]) if pred.std() > 0 and sim.std() > 0 else None
        moved = 0 if doc is None else int(doc.get("totals", {}).get("bikes_moved", 0))
        win_empty = window["lost_empty"] + window["detoured"]
        outcomes.append(
            MorningOutcome(
                method=method,
                bikes_moved=moved,
                lost_empty=estimate(morning["lost_empty"]),
                full_arrivals=estimate(morning["full_arrivals"]),
                window_empty=estimate(win_empty),
                window_full=estimate(window["full_arrivals"]),
                window_predicted_empty=float(pe.sum()),
                window_predicted_full=float(pf.sum()),
                station_mae=float(gap.mean()),
                station_correlation=corr,
                disagreements=[
                    StationGap(
                        station_id=str(ids[i]),
                        name=str(st["name"].iloc[i]),
                        docks=int(st["docks"].iloc[i]),
                        bikes=int(b[i]),
                        predicted=round(float(pred[i]), 3),
                        simulated=round(float(sim[i]), 3),
                    )
                    for i in worst
                ],
            )
        )
    return MorningAfter(
        day=day,
        day_type=dt,
        window=f"{h0:02d}:00-{h1:02d}:00",
        replications=replications,
        seed=seed,
        stations=len(st),
        outcomes=outcomes,
        seconds=round(time.perf_counter() - t0, 2),
        model_level=round(level, 4),
        forecast_from=prep.forecast_from,
        notes=[
            "stock after the routes is applied at midnight; riders from 00:00 of the morning after",
            "the dissatisfaction model takes that stock as the 07:00 stock, stations alone, rates at "
            f"{level:.2f} × the profiles' level (model_level); the simulator moves bikes from 00:00, "
            "lets riders walk to a neighbour for a bike, and scales rates by season and year",
            *prep.model.notes,  # a forecast (a morning past the demand data), stations without history
        ],
        provenance=None
        if provenance is None
        else provenance.with_files({f"simulation.{k}": p for k, p in prep.files.items()}, skip_known=True),
    )
