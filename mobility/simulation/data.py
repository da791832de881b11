"""Wiring of the simulator to the real data: station sets, start inventories, the fitted model.

Loaders and files in, a :class:`~mobility.simulation.engine.SimulationProblem` out. The
algorithms are in :mod:`~mobility.simulation.model` and :mod:`~mobility.simulation.engine`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from mobility.demand.holidays import day_type
from mobility.demand.profiles import StationProfiles
from mobility.errors import InputError, field_path
from mobility.placement.plan import Plan
from mobility.rebalancing.plan import RebalancingPlan
from mobility.scenario.expansion import BaselineStation
from mobility.simulation.days import parse_date
from mobility.simulation.engine import SimulationProblem
from mobility.simulation.model import (
    DayFactors,
    ODModel,
    RiderParams,
    RideTimes,
    SeasonModel,
    fit_day_factors,
    fit_od,
    fit_ride_times,
    fit_season,
    nearest_rates,
    neighbour_lists,
    slot_rates,
)

STATION_COLUMNS = ("station_id", "number", "name", "gu", "lat", "lon", "docks")

D = TypeVar("D", bound=BaseModel)


def read_document(model: type[D], doc: D | Mapping[str, Any], field_name: str, label: str) -> D:
    """``doc`` as the typed document ``model`` (:class:`~mobility.placement.plan.Plan`,
    :class:`~mobility.rebalancing.plan.RebalancingPlan`): the one way the simulator reads a plan
    or a night's routes. A document that does not validate is an :class:`InputError` naming
    ``field_name``, the file (``label``) and the first bad field (never its content)."""
    if isinstance(doc, model):
        return doc
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = field_path(e["loc"])
        raise InputError(field_name, label, f"a {model.__name__} document ({loc}: {e['msg']})") from exc


@dataclass(frozen=True)
class StationSet:
    """The stations to simulate: ``STATION_COLUMNS`` plus ``bikes`` when the source allocates them."""

    table: pd.DataFrame
    source: str
    bikes_from_source: bool = False
    files: tuple[Path, ...] = ()  # the files the stations were read from (for provenance)
    notes: tuple[str, ...] = ()  # rows of the station file left out or values assumed, counted


def parse_day(text: str) -> pd.Timestamp:
    """``YYYY-MM-DD`` (nothing else, :func:`~mobility.simulation.days.parse_date`) -> timestamp,
    or an error naming ``--day``."""
    return parse_date(text, "--day")


def load_station_set(source: str | Path, data_dir: Path | None = None) -> StationSet:
    """Stations of a ``plan.json`` (existing + new, with their bikes), a vintage or a station file."""
    p = Path(str(source))
    if p.suffix.lower() == ".json":
        if not p.exists():
            raise InputError(
                "SOURCE", str(source), "an existing plan.json, a station vintage or a station file"
            )
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:  # not JSON: a bad input, not a crash
            raise InputError("SOURCE", str(source), f"a plan.json document in UTF-8 JSON ({exc})") from exc
        ss = stations_from_plan(doc, label=p.name)
        return dataclasses.replace(ss, files=(p,))
    from mobility.sources.stations import STATION_VINTAGES, load_station_list

    if str(source) not in STATION_VINTAGES and not p.is_file():
        vintages = ", ".join(STATION_VINTAGES)
        raise InputError(
            "SOURCE", str(source), f"an existing station file or plan.json, or a station vintage ({vintages})"
        )
    loaded = load_station_list(str(source), data_dir=data_dir, field="SOURCE")
    ss = station_set_from_table(loaded.table, str(source))
    label = loaded.sources[0].name if loaded.sources else str(source)
    notes = (*loaded.report.dropped_notes(f"station file {label}"), *ss.notes)
    return dataclasses.replace(ss, files=tuple(loaded.sources), notes=notes)


REQUIRED_STATION_COLUMNS = ("gu", "lat", "lon", "docks")
"""Columns a station table must have to be simulated; ``station_id``, ``number`` and ``name`` may
be missing (a new station: no id, no number, rates from the demand-potential model)."""


def station_set_from_table(t: pd.DataFrame, source: str) -> StationSet:
    """The simulated stations of a table in the normalized station schema
    (:data:`mobility.sources.stations.COLUMNS`): a vintage, a station file or an uploaded list.

    Parameters
    ----------
    t
        One row per station: ``gu``, ``lat``, ``lon`` (WGS84 degrees), ``docks`` and, where
        known, ``station_id`` (``ST-4``), ``number`` (``102``, the key of the demand profiles)
        and ``name``.
    source
        What the stations are called in the result (``source``).

    Raises
    ------
    InputError
        A required column is missing (:data:`REQUIRED_STATION_COLUMNS`), or a ``station_id`` or
        ``number`` is given twice (a station would be simulated twice, its riders doubled).
    """
    missing = [c for c in REQUIRED_STATION_COLUMNS if c not in t.columns]
    if missing:
        need = list(REQUIRED_STATION_COLUMNS)
        raise InputError("stations.columns", list(t.columns), f"columns {need} (missing {missing})")
    for key in ("station_id", "number"):
        if key in t.columns:
            given = t[key].dropna().astype(str)
            twice = given[given.duplicated()].unique().tolist()
            if twice:
                raise InputError(
                    f"stations.{key}", ", ".join(twice[:5]), f"one row per station ({len(twice)} given twice)"
                )
    out = t[[c for c in STATION_COLUMNS if c in t.columns]].copy()
    for c in ("station_id", "number", "name"):
        if c not in out.columns:
            out[c] = pd.Series(pd.NA, index=out.index, dtype="string")
    out = out[list(STATION_COLUMNS)]
    docks = pd.to_numeric(out["docks"], errors="coerce")
    no_docks = int(docks.isna().sum())
    out["docks"] = docks.fillna(0).astype(np.int64)
    out["number"] = pd.to_numeric(out["number"], errors="coerce").astype("Int64")
    # a station without an ST-ID is "N<number>", as the rebalancing names it (routes.json)
    out["station_id"] = out["station_id"].astype("string").fillna("N" + out["number"].astype("string"))
    notes = (
        (f"{no_docks:,} stations without a readable dock count are simulated with 0 docks",)
        if no_docks
        else ()
    )
    return StationSet(out.reset_index(drop=True), source=source, notes=notes)


NUMBERS_FROM = "2025-12"
"""The vintage whose station ids (``ST-4``) give an uploaded station its number (``102``)."""


def station_numbers(ids: pd.Series, data_dir: Path | None = None) -> pd.Series:
    """The station number of each id of an uploaded station (``<NA>`` when it has none).

    An id of the :data:`NUMBERS_FROM` vintage (``ST-4``) takes that station's number (``102``), an
    id that is a number is taken as one. The demand profiles and the trips are keyed on the number,
    so a station without one is simulated as a new station.

    Parameters
    ----------
    ids
        Station ids as sent.
    data_dir
        Data directory (``None`` resolves it).

    Returns
    -------
    pandas.Series
        ``Int64`` numbers, aligned with ``ids``.
    """
    from mobility.sources.stations import load_station_list

    ref = load_station_list(NUMBERS_FROM, data_dir=data_dir).table.dropna(subset=["station_id", "number"])
    ref = ref.drop_duplicates("station_id")
    text = ids.astype("string")
    known = text.map(pd.Series(ref["number"].to_numpy(), index=ref["station_id"].astype(str).to_numpy()))
    numeric = pd.to_numeric(text.where(text.str.fullmatch(r"\d+", na=False)), errors="coerce")
    return pd.to_numeric(known, errors="coerce").fillna(numeric).astype("Int64")


def stations_from_upload(
    records: Sequence[BaselineStation] | Sequence[Mapping[str, Any]],
    data_dir: Path | None = None,
    *,
    label: str = "station list",
) -> StationSet:
    """Stations sent as content (an uploaded station list: id, name, position, docks), each placed
    in its district as a scenario's ``baseline.station_records`` are
    (:func:`mobility.placement.baseline.uploaded_stations`).

    An upload carries no station number, which the demand profiles and the trips are keyed on:
    each station takes the number of its id (:func:`station_numbers`); the other stations are new
    ones (rates from the demand-potential model, see :func:`.pipeline.potential_levels`).
    """
    from mobility.placement.baseline import uploaded_stations

    typed = [r if isinstance(r, BaselineStation) else BaselineStation.model_validate(r) for r in records]
    table = uploaded_stations(typed, data_dir)
    return station_set_from_table(table, label)


def stations_from_plan(doc: Plan | Mapping[str, Any], *, label: str = "plan.json") -> StationSet:
    """Existing and new stations of an expansion plan (a :class:`Plan` or a ``plan.json``
    document, validated as one), with the bikes it allocates."""
    plan = read_document(Plan, doc, "SOURCE", label)
    rows = [
        {
            "station_id": s.station_id,
            "number": s.number,
            "name": s.name,
            "gu": s.gu,
            "lat": s.lat,
            "lon": s.lon,
            "docks": s.docks,
            "bikes": s.bikes,
        }
        for s in plan.existing_stations
    ]
    rows += [
        {
            "station_id": s.id,
            "number": None,
            "name": f"new {s.id}",
            "gu": s.gu,
            "lat": s.lat,
            "lon": s.lon,
            "docks": s.docks,
            "bikes": s.bikes,
        }
        for s in plan.new_stations
    ]
    t = pd.DataFrame(rows)
    t["number"] = pd.to_numeric(t["number"], errors="coerce").astype("Int64")
    return StationSet(t, source=label, bikes_from_source=True)


def status_bikes(
    stations: pd.DataFrame,
    status: pd.DataFrame,
    *,
    field_name: str = "--status",
    notes: list[str] | None = None,
) -> np.ndarray:
    """Bikes per station from a status snapshot, validated.

    Rows are matched on ``station_id`` when the snapshot has it, else on ``number``. An unknown
    station, a negative or missing count is an error naming the row; a station of the set that
    the snapshot lacks is an error too (data is never silently dropped), and so are a count that
    is not a whole number and two rows for one station. More bikes than docks is
    allowed (Seoul's capacity is soft): such a station counts as full until it falls below.
    Matched on ``number``, the rows whose ``station_id`` is given but is not that station's are
    counted in a note appended to ``notes``.
    """
    if "bikes" not in status.columns:
        raise InputError(f"{field_name}.columns", list(status.columns), "a 'bikes' column")
    bikes = pd.to_numeric(status["bikes"], errors="coerce")
    bad = bikes.isna() | (bikes < 0) | (bikes != bikes.round())
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        value = status["bikes"].iloc[i]
        value = value.item() if isinstance(value, np.generic) else value
        raise InputError(f"{field_name}.bikes[row {i}]", value, "a whole number >= 0")
    key = "station_id" if "station_id" in status.columns and status["station_id"].notna().all() else "number"
    if key not in status.columns:
        raise InputError(f"{field_name}.columns", list(status.columns), "a 'station_id' or 'number' column")
    if key == "number":
        skey = pd.to_numeric(status["number"], errors="coerce").astype("Int64").astype("string")
        ours = stations["number"].astype("Int64").astype("string")
    else:
        skey = status["station_id"].astype("string")
        ours = stations["station_id"].astype("string")
    blank = skey.isna().to_numpy()  # only numbers can be missing here (else the key is station_id)
    if blank.any():  # a row without a number matches no station (and failed to print before)
        i = int(np.flatnonzero(blank)[0])
        what = "a station number (rows are matched on it when a station_id is missing)"
        raise InputError(f"{field_name}.number[row {i}]", None, what)
    known = ours.notna().to_numpy()  # a plan's new stations have no number: no row matches them
    pos = pd.Series(np.flatnonzero(known), index=ours[known].to_numpy())
    unknown = ~skey.isin(pos.index)
    if unknown.any():
        ex = ", ".join(skey[unknown].astype(str).head(5))
        raise InputError(
            f"{field_name}.{key}",
            ex,
            f"station {'numbers' if key == 'number' else 'ids'} of the simulated station set "
            f"({len(stations)} stations)",
        )
    rows = pos.reindex(skey.to_numpy()).to_numpy(np.int64)
    twice = pd.Series(rows).duplicated(keep="first").to_numpy()
    if twice.any():  # the last row would silently win
        i = int(np.flatnonzero(twice)[0])
        raise InputError(
            f"{field_name}.{key}[row {i}]",
            str(skey.iloc[i]),
            f"one row per station ({int(twice.sum())} row(s) repeat a station of an earlier row)",
        )
    if key == "number" and notes is not None and "station_id" in status.columns:
        notes.extend(_id_mismatch_notes(stations, status, rows, field_name))
    out = np.full(len(stations), -1, dtype=np.int64)
    out[rows] = bikes.to_numpy().astype(np.int64)
    if (out < 0).any():
        miss = stations["station_id"].astype(str).to_numpy()[out < 0][:5]
        raise InputError(
            f"{field_name}",
            f"no row for {int((out < 0).sum())} stations (e.g. {', '.join(miss)})",
            "a row for every station of the simulated set",
        )
    return out


def _id_mismatch_notes(
    stations: pd.DataFrame, status: pd.DataFrame, rows: np.ndarray, field_name: str
) -> list[str]:
    """A note counting the status rows matched on their number whose ``station_id`` is given but
    is not the id of the station with that number (``rows``: each status row's station)."""
    given = status["station_id"].astype("string").reset_index(drop=True)
    ours = stations["station_id"].astype("string").to_numpy()[rows]
    differ = (given.notna() & (given != pd.Series(ours, dtype="string"))).fillna(False).to_numpy(bool)
    if not differ.any():
        return []
    nums = pd.to_numeric(status["number"], errors="coerce").astype("Int64").to_numpy()
    ex = ", ".join(
        f"{given.iloc[i]} (number {nums[i]}, station {ours[i]})" for i in np.flatnonzero(differ)[:3]
    )
    return [
        f"{field_name}: {int(differ.sum()):,} rows matched on their number although their station_id "
        f"is another station's or unknown (e.g. {ex}); their bikes are taken for the number's station"
    ]


def apply_routes(
    stations: pd.DataFrame,
    bikes: np.ndarray,
    routes: RebalancingPlan | Mapping[str, Any],
    *,
    label: str = "--routes",
) -> np.ndarray:
    """The stock after a night's routes (a :class:`RebalancingPlan` or a ``routes.json`` document,
    validated as one): each stop's quantity (+ picked up, − dropped)."""
    plan = read_document(RebalancingPlan, routes, label, "routes.json")
    pos = pd.Series(np.arange(len(stations)), index=stations["station_id"].astype(str).to_numpy())
    out = bikes.copy()
    for r in plan.routes:
        for s in r.stops:
            sid = s.station_id
            if sid not in pos.index:
                raise InputError(
                    f"{label}: stop station_id",
                    sid,
                    "a station of the simulated network (routes from another network?)",
                )
            i = int(pos[sid])
            out[i] -= s.quantity
            if out[i] < 0:
                raise InputError(
                    f"{label}: stop at {sid}",
                    s.quantity,
                    f"at most the {out[i] + s.quantity} bikes there",
                )
    return out


def scale_fleet(bikes: np.ndarray, docks: np.ndarray, fleet: int) -> np.ndarray:
    """Spread ``fleet`` bikes in proportion to ``bikes`` (or docks when all zero), largest remainder."""
    if fleet < 0:
        raise InputError("fleet", fleet, ">= 0")
    w = bikes.astype(float) if bikes.sum() > 0 else docks.astype(float)
    if w.sum() <= 0:
        w = np.ones(len(bikes))
    raw = w / w.sum() * fleet
    out = np.floor(raw).astype(np.int64)
    rest = int(fleet - out.sum())
    if rest > 0:
        out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


@dataclass
class FittedModel:
    """The rider model for one station set (rates for a day are made by :meth:`problem`)."""

    stations: pd.DataFrame
    hourly: dict[str, np.ndarray]  # day type -> (n, 24) rental rates at the base-year level
    rate_source: np.ndarray
    od: ODModel
    rides: RideTimes
    ride_s: np.ndarray
    walk_m: np.ndarray
    season: SeasonModel
    params: RiderParams
    days: DayFactors = field(default_factory=DayFactors)
    notes: list[str] = field(default_factory=list)
    _neighbours: tuple[np.ndarray, ...] | None = field(default=None, repr=False, compare=False)

    def day_rates(self, day: pd.Timestamp) -> np.ndarray:
        """Expected arrivals per station and 15-minute slot on ``day``."""
        return slot_rates(self.hourly[day_type(day)], self.season.factor(day) * self.days.factor(day))

    def problem(self, day: pd.Timestamp, bikes: np.ndarray) -> SimulationProblem:
        """The simulation problem of ``day`` from the start inventory ``bikes``."""
        p = self.params
        docks = self.stations["docks"].to_numpy(np.int64)
        if bikes.shape != docks.shape:
            raise InputError("bikes", bikes.shape, f"one per station ({len(docks)})")
        if self._neighbours is None:  # the same for every day and start stock: built once
            walk_s = self.walk_m / (p.walk_speed_kph / 3.6)
            self._neighbours = (
                *neighbour_lists(walk_s, p.walk_radius_m / (p.walk_speed_kph / 3.6)),
                *neighbour_lists(self.ride_s, np.inf, p.ride_on_neighbours),
            )
        wp, wn, ws, rp, rn, rs = self._neighbours
        return SimulationProblem(
            docks=docks,
            bikes=bikes.astype(np.int64),
            rates=self.day_rates(day),
            od_ptr=self.od.ptr,
            od_dest=self.od.dest,
            od_cum=self.od.cum,
            ride_s=self.ride_s.astype(np.float32),
            walk_ptr=wp,
            walk_nb=wn,
            walk_s=ws,
            ride_ptr=rp,
            ride_nb=rn,
            ride_nb_s=rs,
            mu=self.rides.mu,
            sigma=self.rides.sigma,
            loop_mu=self.rides.loop_mu,
            loop_sigma=self.rides.loop_sigma,
            rebalance=p.rebalance,
        )


def network_matrices(
    stations: pd.DataFrame,
    data_dir: Path | None = None,
    network: str = "osm-all",
    *,
    files: dict[str, Path] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bike seconds and walking metres between stations on the street network (cached matrices).

    ``files``: when given, the network's file is added to it as ``network`` (for a provenance).
    """
    from mobility.network.matrix import travel_matrix
    from mobility.network.profiles import profiled
    from mobility.network.snap import snap_points

    lon = stations["lon"].to_numpy(float)
    lat = stations["lat"].to_numpy(float)
    bike = profiled(network, "bike", data_dir)
    if files is not None and bike.net.info.get("source_path"):
        files["network"] = Path(str(bike.net.info["source_path"]))
    sb = snap_points(bike, lon, lat, warn_beyond_m=1e9)
    ride = travel_matrix(bike, sb.node, weight="time")
    walk = profiled(network, "walk", data_dir)
    sw = snap_points(walk, lon, lat, warn_beyond_m=1e9)
    wm = travel_matrix(walk, sw.node, weight="length")
    wm = wm + sw.distance_m[:, None] + sw.distance_m[None, :]
    np.fill_diagonal(wm, 0.0)
    return np.asarray(ride, dtype=float), np.asarray(wm, dtype=float)


def trip_rows(
    trips: dict[str, pd.DataFrame], stations: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origin and destination rows (``-1`` unknown) and durations of every trip row."""
    pos = pd.Series(np.arange(len(stations)), index=stations["number"].astype("Int64").to_numpy())
    pos = pos[pos.index.notna()]
    pos = pos[~pos.index.duplicated()]
    o, d, m = [], [], []
    for t in trips.values():
        rs = pd.to_numeric(t["rent_station"], errors="coerce").astype("Int64")
        es = pd.to_numeric(t["return_station"], errors="coerce").astype("Int64")
        o.append(rs.map(pos).fillna(-1).to_numpy(np.int64))
        d.append(es.map(pos).fillna(-1).to_numpy(np.int64))
        m.append(pd.to_numeric(t["duration_min"], errors="coerce").to_numpy(float))
    if not o:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(o), np.concatenate(d), np.concatenate(m)


def area_volume(profiles: StationProfiles, stations: pd.DataFrame, kind: int) -> float:
    """The demand profiles' rentals per day in the districts a station set stands in.

    The whole city's volume when the set stands in every district the profiles name (or names no
    district at all); otherwise only the volume of the profile stations in the set's districts, so
    that simulating one district's stations does not pour the whole city's riders into them.

    Parameters
    ----------
    profiles
        The demand profiles (``stations['gu']`` and ``rent[station, day_type, hour]``).
    stations
        The simulated station set (column ``gu``; empty or missing values are ignored).
    kind
        Day type: 0 weekday, 1 weekend or holiday.

    Returns
    -------
    float
        Expected rentals per day of the profiles' base year in that area.
    """
    volume = profiles.rent[:, kind, :].sum(axis=1)
    prof_gu = profiles.stations["gu"].astype("string").fillna("").to_numpy(str)
    here = {g for g in stations.get("gu", pd.Series(dtype="string")).astype("string").fillna("") if g}
    named = {g for g in prof_gu if g}
    if not here or named <= here:
        return float(volume.sum())
    return float(volume[np.isin(prof_gu, sorted(here))].sum())


def fit_model(
    stations: pd.DataFrame,
    profiles: StationProfiles,
    trips: dict[str, pd.DataFrame],
    monthly: pd.DataFrame,
    ride_s: np.ndarray,
    walk_m: np.ndarray,
    *,
    params: RiderParams | None = None,
    exclude_months: tuple[str, ...] = (),
    preserve_total: bool = True,
    potential: np.ndarray | None = None,
    district_factor: np.ndarray | None = None,
    season_before: str | None = None,
) -> FittedModel:
    """Fit rates, destinations and ride times for a station set (see :mod:`.model`).

    With ``preserve_total`` the rates are scaled so that the expected demand equals the demand
    profiles' total in the districts the station set stands in (times the season and year
    factors, :func:`area_volume`): a network with fewer or more stations (2019, a plan) shares the
    same citywide volume among its stations, and a part of the city (one district's stations)
    gets that part's volume.
    ``potential``: trips per day (rentals + returns) the demand-potential model predicts at each
    station (NaN where unknown); a station the profiles lack takes that level, half of it as
    rentals, with the hourly shape and weekday/weekend split of its 5 nearest stations (else
    their mean rate). ``district_factor``: per station, a multiplier of its rates before the
    citywide volume is re-levelled (:func:`~.model.district_drift`). ``season_before``: the
    season and year factors are a forecast from the months before it (``fit_season(before=)``).
    """
    params = params or RiderParams()
    st = stations.reset_index(drop=True)
    n = len(st)
    prof_num = profiles.stations["number"].astype("int64").to_numpy()
    ppos = pd.Series(np.arange(len(prof_num)), index=prof_num)
    num = st["number"].astype("Int64")
    hit = num.isin(ppos.index).fillna(False).to_numpy(bool)
    rows = np.full(n, -1)
    rows[hit] = ppos.reindex(num[hit].astype("int64").to_numpy()).to_numpy(np.int64)
    pot = np.full(n, np.nan) if potential is None else np.asarray(potential, dtype=float)
    by_potential = ~hit & np.isfinite(pot)
    src = np.where(
        hit,
        profiles.stations["level_source"].astype(str).to_numpy()[np.maximum(rows, 0)],
        np.where(by_potential, "demand potential (shape of 5 nearest stations)", "5 nearest stations"),
    )
    from mobility.network.street import to_metric

    px, py = to_metric(profiles.stations["lon"].to_numpy(float), profiles.stations["lat"].to_numpy(float))
    sx, sy = to_metric(st["lon"].to_numpy(float), st["lat"].to_numpy(float))
    hourly: dict[str, np.ndarray] = {}
    for d, name in enumerate(("weekday", "weekend")):
        rates = np.zeros((n, 24))
        rates[hit] = profiles.rent[rows[hit], d, :]
        if (~hit).any():
            rates[~hit] = nearest_rates(
                np.column_stack([px, py]), profiles.rent[:, d, :], np.column_stack([sx, sy])[~hit]
            )
        hourly[name] = rates
    if by_potential.any():
        # the potential's level (rentals = half the trips), the neighbours' shape and week split
        avg_day = (5.0 * hourly["weekday"].sum(axis=1) + 2.0 * hourly["weekend"].sum(axis=1)) / 7.0
        scale = np.where(avg_day > 0, pot / 2.0 / np.where(avg_day > 0, avg_day, 1.0), 0.0)
        for name in ("weekday", "weekend"):
            hourly[name][by_potential] *= scale[by_potential, None]
    for d, name in enumerate(("weekday", "weekend")):
        rates = hourly[name]
        if district_factor is not None:
            rates *= np.asarray(district_factor, dtype=float)[:, None]
        if preserve_total and rates.sum() > 0:
            # the volume of the districts this network stands in, spread over its stations
            rates *= area_volume(profiles, st, d) / rates.sum()
        hourly[name] = rates
    o, dd, minutes = trip_rows(trips, st)
    od = fit_od(o, dd, ride_s, params)
    rides = fit_ride_times(o, dd, minutes, ride_s)
    season = fit_season(monthly, exclude=exclude_months, before=season_before)
    days = fit_day_factors(pd.concat([t["rent_time"] for t in trips.values()])) if trips else DayFactors()
    notes = [
        f"{int(by_potential.sum())} stations without a demand profile take the demand-potential "
        "model's level with the shape of their 5 nearest stations; "
        f"{int((~hit & ~by_potential).sum())} take the mean rate of their 5 nearest stations",
        "censoring: rates are recorded (served) rentals, a lower bound of demand where stations "
        "ran dry; not re-inflated",
    ]
    return FittedModel(
        stations=st,
        hourly=hourly,
        rate_source=src,
        od=od,
        rides=rides,
        ride_s=ride_s,
        walk_m=walk_m,
        season=season,
        params=params,
        days=days,
        notes=notes,
    )


def derived_start(stations: pd.DataFrame, profiles: StationProfiles, day: pd.Timestamp) -> np.ndarray:
    """Start inventory when none is given: the derived evening snapshot of the day before, carried
    through the night (its stock at 24:00), matched on station number; stations that the demand
    profiles lack start at the snapshot's median fill ratio times their docks."""
    from mobility.demand.snapshot import derive_snapshot

    snap = derive_snapshot(profiles, day - pd.Timedelta(days=1), at=24.0)
    by_num = pd.Series(snap["bikes"].to_numpy(np.int64), index=snap["number"].astype("int64").to_numpy())
    docks_s = snap["docks"].to_numpy(float)
    fill = float(np.median(snap["bikes"].to_numpy(float)[docks_s > 0] / docks_s[docks_s > 0]))
    num = stations["number"].astype("Int64")
    out = np.rint(stations["docks"].to_numpy(float) * fill).astype(np.int64)
    hit = num.isin(by_num.index).fillna(False).to_numpy(bool)
    out[hit] = by_num.reindex(num[hit].astype("int64").to_numpy()).to_numpy(np.int64)
    return out
