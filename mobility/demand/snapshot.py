"""Derived evening status snapshots (bikes per station at e.g. 22:00) for nightly runs.

Real nightly operations start from the live ``bikeList`` snapshot. Our data holds no city-wide
snapshot, so this module *derives* one, and every row says so (``derived = True`` and a
``method``):

1. Every station starts the day at its morning target (the minimiser of its dissatisfaction
   curve for that date's day type, see :mod:`mobility.demand.inventory`) at ``start`` (07:00).
2. The day's net flow between ``start`` and ``at`` is added: returns minus rentals.

   * ``method = "targets + real net flows"`` when the date is fully covered by a full-day trip
     dataset (only 2022-01-01 for today's network): each real trip renting in the window takes
     a bike from its station, each real trip returning in the window brings one.
   * ``method = "targets + expected net flows"`` otherwise: the integral of the profile's
     hourly return rate minus rental rate over the window, rounded to whole bikes.

3. The result is clipped to ``[0, docks + max_overflow]`` (a station cannot hold fewer than
   zero bikes; Seoul's soft capacity allows some overflow). The number of bikes moved by the
   clipping is reported in ``clipped`` so the derivation stays auditable.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.dates import parse_date
from mobility.demand.holidays import day_type
from mobility.demand.inventory import DissatisfactionCurve, InventoryParams, curves_from_profiles
from mobility.demand.profiles import HOURS, StationProfiles
from mobility.errors import InputError

FULL_DAY_DATASETS: dict[str, str] = {"2022-01-01": "2022-01-01"}
"""Dates covered by a complete city-wide trip day -> the trip dataset that holds it."""


def _window_weights(start: float, end: float) -> np.ndarray:
    """Fraction of each clock hour inside ``[start, end)`` (hours after midnight, same day)."""
    h = np.arange(HOURS, dtype=float)
    return np.clip(np.minimum(h + 1, end) - np.maximum(h, start), 0.0, 1.0)


def expected_net_flow(profiles: StationProfiles, day: str, start: float, end: float) -> np.ndarray:
    """Expected returns minus rentals per station over ``[start, end)`` on a day type."""
    rent, ret = profiles.hourly(day)
    w = _window_weights(start, end)
    return (ret - rent) @ w


def real_net_flow(
    trips: pd.DataFrame, numbers: Sequence[int] | np.ndarray, date: pd.Timestamp, start: float, end: float
) -> np.ndarray:
    """Returns minus rentals per station from real trips over ``[start, end)`` of ``date``."""
    pos = pd.Series(np.arange(len(numbers)), index=pd.Index(np.asarray(numbers, dtype="int64")))
    t0 = date.normalize() + pd.Timedelta(hours=start)
    t1 = date.normalize() + pd.Timedelta(hours=end)
    net = np.zeros(len(numbers))
    w = trips["weight"].to_numpy(float) if "weight" in trips.columns else np.ones(len(trips))
    for tcol, scol, sign in (("rent_time", "rent_station", -1.0), ("return_time", "return_station", 1.0)):
        t = pd.to_datetime(trips[tcol])
        st = pd.to_numeric(trips[scol], errors="coerce")
        m = ((t >= t0) & (t < t1) & st.isin(pos.index)).to_numpy()
        rows = pos.loc[st[m].astype("int64")].to_numpy()
        np.add.at(net, rows, sign * w[m])
    return net


_TARGETS_SCHEMA = 1  # bump when what a cached entry of morning targets holds changes


def morning_targets(
    profiles: StationProfiles, *, day_type: str = "weekday", params: InventoryParams | None = None
) -> np.ndarray:
    """Each station's morning target (the minimiser of its dissatisfaction curve for a day
    type, :func:`~mobility.demand.inventory.curves_from_profiles`), cached on disk.

    The curves take 0.8 s for Seoul's 2,799 stations and every derived snapshot (so every
    simulation started from one: ``mobility simulate 2019-12``, the network before a plan)
    needs the targets. The entry (``<cache>/demand/<key>.targets.npy``) is keyed on what the
    curves are computed from: the day type's rental and return rates and the docks of every
    station, the parameters, the source of :mod:`mobility.demand.inventory` that computes them
    and the numpy and scipy versions; an entry that cannot be read is built again.

    Returns
    -------
    numpy.ndarray
        ``int64``, one target per station of ``profiles``, in its order.
    """
    import dataclasses

    import scipy

    from mobility import cache
    from mobility.demand import inventory

    params = params or InventoryParams()
    rent, ret = profiles.hourly(day_type)
    docks = profiles.stations["docks"].fillna(0).astype("int64").to_numpy()
    n = len(docks)
    key = cache.cache_key(
        schema=_TARGETS_SCHEMA,
        rates=cache.array_key(rent, ret, docks),
        day_type=day_type,
        params=dataclasses.asdict(params),
        code=cache.file_digest(inventory.__file__),
        numpy=np.__version__,
        scipy=scipy.__version__,
    )

    def build(tmp: Path) -> None:
        curves = curves_from_profiles(profiles, day_type=day_type, params=params)
        with tmp.open("wb") as fh:
            np.save(fh, np.array([c.target for c in curves], dtype=np.int64))

    def load(path: Path) -> np.ndarray:
        got = np.load(path)
        if got.shape != (n,) or got.dtype != np.int64:  # not an entry of these stations: rebuild
            raise ValueError(f"{path.name}: {got.dtype}{got.shape}, expected int64 ({n},)")
        return got

    out: np.ndarray = cache.cached_load("demand", key, ".targets.npy", build, load)
    return out


def _clock_text(at: float) -> str:
    """``HH:MM`` of ``at`` hours after midnight, rounded to the minute (22.9999 -> ``23:00``)."""
    hh, mm = divmod(round(at * 60), 60)
    return f"{hh:02d}:{mm:02d}"


def _clock(text: str) -> float:
    parts = text.strip().split(":")
    try:
        hh, mm = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError as exc:
        raise InputError("at", text, "a clock time HH:MM") from exc
    if not (0 <= hh <= 24 and 0 <= mm < 60) or len(parts) > 2:
        raise InputError("at", text, "a clock time HH:MM")
    return hh + mm / 60.0


def derive_snapshot(
    profiles: StationProfiles,
    date: str | datetime.date,
    *,
    at: float | str = 22.0,
    curves: Sequence[DissatisfactionCurve] | None = None,
    trips: pd.DataFrame | None = None,
    params: InventoryParams | None = None,
) -> pd.DataFrame:
    """Derive bikes per station at ``at`` o'clock of ``date``.

    Parameters
    ----------
    profiles
        Station demand profiles (station list, hourly rates).
    date
        The day (``YYYY-MM-DD``, a date or a timestamp; not a number); its day type (weekday /
        weekend-holiday) picks the rates.
    at
        Clock time of the snapshot, in hours (22.0) or as ``"HH:MM"``; after ``params.start_hour``.
    curves
        Morning dissatisfaction curves (default: the targets of ``profiles``' curves for that
        day type, :func:`morning_targets`, cached).
    trips
        Real trips of that full day; when given, their net flows are used instead of expected ones.
    params
        Inventory parameters (start hour of the morning, overflow limit).

    Returns
    -------
    pandas.DataFrame
        ``station_id``, ``number``, ``name``, ``gu``, ``docks``, ``bikes``, ``target_morning``,
        ``net_flow``, ``clipped``, ``derived`` (always True), ``method``, ``date``, ``at``.
    """
    params = params or InventoryParams()
    if isinstance(at, str):
        at = _clock(at)
    day = parse_date(date, "date")
    if not params.start_hour < at <= 24.0:
        raise InputError("at", at, f"a clock time after the morning start {params.start_hour:g} h")
    dtype = day_type(day)
    if curves is None:
        target = morning_targets(profiles, day_type=dtype, params=params).astype(float)
    else:
        if len(curves) != len(profiles.stations):
            raise InputError("curves", len(curves), f"{len(profiles.stations)} (one per station)")
        target = np.array([c.target for c in curves], dtype=float)
    st = profiles.stations.reset_index(drop=True)
    numbers = st["number"].astype("int64").to_numpy()
    if trips is not None:
        net = real_net_flow(trips, numbers, day, params.start_hour, at)
        method = "targets + real net flows"
    else:
        net = np.rint(expected_net_flow(profiles, dtype, params.start_hour, at))
        method = "targets + expected net flows"
    docks = st["docks"].fillna(0).astype("int64").to_numpy()
    raw = target + net
    bikes = np.clip(raw, 0, docks + params.max_overflow)
    cols = [c for c in ("station_id", "number", "name", "gu") if c in st.columns]
    out = st[cols].copy()
    out["docks"] = docks
    out["bikes"] = bikes.astype(np.int64)
    out["target_morning"] = target.astype(np.int64)
    out["net_flow"] = net
    out["clipped"] = (bikes - raw).astype(float)
    out["derived"] = True
    out["method"] = method
    out["date"] = day.strftime("%Y-%m-%d")
    out["at"] = _clock_text(at)
    return out


def derive_snapshot_from_data(
    profiles: StationProfiles,
    date: str | datetime.date,
    *,
    at: float | str = 22.0,
    data_dir: object = None,
    params: InventoryParams | None = None,
) -> pd.DataFrame:
    """:func:`derive_snapshot` with the real trips of ``date`` when a full-day dataset holds it."""
    key = parse_date(date, "--date").strftime("%Y-%m-%d")
    trips = None
    if key in FULL_DAY_DATASETS:
        from mobility.demand.data import load_trip_tables

        dd = Path(str(data_dir)) if data_dir is not None else None
        trips = load_trip_tables(dd, (FULL_DAY_DATASETS[key],))[FULL_DAY_DATASETS[key]]
    return derive_snapshot(profiles, key, at=at, trips=trips, params=params)
