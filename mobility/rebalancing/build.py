"""Assemble a :class:`RebalancingProblem` from a scenario, a status table and travel matrices.

Pure: tables and arrays in, a problem out. Two entries: :func:`problem_from_scenario` (a nightly
scenario and the assembled status table: ``mobility rebalance``, the bench and the tests, through
:func:`mobility.rebalancing.night.load_night_problem`, which reads the files) and
:func:`problem_from_snapshot` (a :class:`~mobility.rebalancing.snapshot.StatusSnapshot` and a fleet
as records: the API's rebalancing runs). Both make their trucks with :func:`truck` and their
objective's weights with :func:`cost_weights`, from the nightly scenario's own sections
(:class:`~mobility.scenario.nightly.TruckHandling`, :class:`~mobility.scenario.nightly.Costs`):
the same night gives the same problem from a scenario file and from an API request.

Both round the night's measured numbers to a fixed resolution (:func:`fixed_resolution`): travel
to 0.1 s and 0.1 m, dissatisfaction costs to 1e-6. The search compares sums of these numbers, and
a difference in their last bit (numpy and libm pick other machine code on another processor) was
enough to change the routes of a seeded night. Rounded, moving every input by two units in its last
place leaves the seeded routes as they were (checked on the Seoul night).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from mobility.errors import InputError
from mobility.quality import QualityReport
from mobility.rebalancing.problem import Depot, RebalancingProblem, Truck, curve_from_interval
from mobility.rebalancing.snapshot import (
    MAX_PROBLEMS,
    SnapshotInputError,
    StatusSnapshot,
    file_lines,
    snapshot_from_table,
    station_field,
    station_name,
)
from mobility.scenario.nightly import (
    STRAIGHT_DETOUR,
    STRAIGHT_SPEED_KPH,
    Costs,
    NightlyScenario,
    TruckHandling,
)
from mobility.sources.base import EARTH_RADIUS_M

__all__ = [
    "assemble_stations",
    "complete_snapshot",
    "cost_weights",
    "expand_trucks",
    "fixed_resolution",
    "join_station_list",
    "key_conflicts",
    "problem_from_scenario",
    "problem_from_snapshot",
    "snapshot_interval",
    "station_labels",
    "station_numbers",
    "straight_line_matrices",
    "truck",
]

S = TypeVar("S", bound=StatusSnapshot)

STATION_COLUMNS = ("station_id", "number", "name", "docks", "bikes", "lon", "lat")

TRAVEL_DECIMALS = 1  # truck travel in 0.1 s and 0.1 m (as OSRM reports durations)
COST_DECIMALS = 6  # dissatisfaction in 1e-6 of a user


def fixed_resolution(values: np.ndarray, decimals: int) -> np.ndarray:
    """``values`` as float64 rounded to ``decimals`` (``np.round``: a multiply, a round to even and
    a divide, the same IEEE operations on every processor).

    Numbers that differ only in their last bits, as a math library on another processor computes
    them, come out equal unless they straddle a rounding boundary: for travel seconds of the order
    of 10^3 and two units in the last place, about one chance in 10^11 a value.
    """
    return np.round(np.asarray(values, dtype=np.float64), decimals)


def _number(v: Any) -> int | None:
    try:
        s = str(v).strip()
        return int(float(s)) if s and s.lower() not in {"nan", "<na>", "none"} else None
    except ValueError:
        return None


def _with_keys(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with both join keys: ``number`` as whole numbers (or ``None``), ``station_id`` as strings."""
    df = table.copy()
    for key in ("number", "station_id"):
        if key not in df.columns:
            df[key] = pd.NA
    df["number"] = [_number(v) for v in df["number"]]
    df["station_id"] = df["station_id"].astype("string")
    return df


def _listed_ids(ids: pd.Series, stations: pd.DataFrame) -> pd.Series:
    """``ids`` (strings, or missing) as the station list spells them when only their case differs
    (``st-7`` is the list's ``ST-7``), provided the list's ids are unique that way; else as given
    (``st-7`` is then no station of the list)."""
    listed = stations.get("station_id", pd.Series(dtype="string")).dropna().astype(str)
    upper = listed.str.upper()
    if not upper.is_unique:
        return ids
    exact, by_upper = set(listed), dict(zip(upper, listed, strict=True))
    spelt = [v if pd.isna(v) or v in exact else by_upper.get(str(v).upper(), v) for v in ids]
    return pd.Series(spelt, index=ids.index, dtype="string")


LISTED_FIELDS = ("station_id", "number", "docks", "name", "lon", "lat")
"""What a status table takes from the station list where it leaves them out (:func:`join_station_list`)."""

LABEL_FIELDS = ("station_id", "number", "address")
"""What a night's stops take from the station list to be named on the route sheets
(:func:`station_labels`): the id and number join the two ways, the address follows."""


def join_station_list(
    status: pd.DataFrame, stations: pd.DataFrame, *, fields: Sequence[str] = LISTED_FIELDS
) -> pd.DataFrame:
    """``status`` with its missing ``fields`` (``station_id, number, docks, name, lon, lat``)
    taken from a station list (joined on ``number``, then on ``station_id``); given values are
    kept, an id whose case alone differs from the list's is spelt as the list spells it
    (:func:`_listed_ids`). A row whose id and number the list pairs otherwise is
    :func:`key_conflicts`'s to refuse.

    The one join of a status table with a station list: :func:`assemble_stations` (``mobility
    rebalance``), the API's status CSV upload and :func:`station_labels` call it.
    """
    df = _with_keys(status)
    df["station_id"] = _listed_ids(df["station_id"], stations)
    c = stations.copy()
    if "number" in c.columns:
        c["number"] = [_number(v) for v in c["number"]]
    for key in ("number", "station_id"):
        if key not in c.columns:
            continue
        lut = c.dropna(subset=[key]).drop_duplicates(key).set_index(key)
        for k in fields:
            if k == key or k not in lut.columns:
                continue
            if k not in df.columns:
                df[k] = pd.NA
            df[k] = df[k].where(df[k].notna(), df[key].map(lut[k]))
    return df


def station_labels(
    table: pd.DataFrame, stations: pd.DataFrame | None
) -> tuple[tuple[int | None, ...], tuple[str | None, ...]]:
    """Each row's public number (대여소 번호, on the station's sign) and street address, for the
    night's stops and route sheets: its own number, else the station list's for its
    ``station_id``, and the list's address for that number, else for that id
    (:func:`join_station_list` of :data:`LABEL_FIELDS`); ``None`` where the list does not know the
    station. Without a list (``stations`` ``None``), the table's own numbers and addresses.

    Parameters
    ----------
    table
        The night's stations: ``station_id`` and/or ``number`` (:func:`assemble_stations`'s
        table, a snapshot's :meth:`~mobility.rebalancing.snapshot.StatusSnapshot.table`).
    stations
        The station list (:func:`mobility.rebalancing.night.station_list`), or ``None``.

    Returns
    -------
    tuple[tuple[int | None, ...], tuple[str | None, ...]]
        The numbers and the addresses, in the table's order.
    """
    df = table.reindex(columns=list(LABEL_FIELDS))
    if stations is not None:
        df = join_station_list(df, stations, fields=LABEL_FIELDS)
    numbers = tuple(_number(v) for v in df["number"])
    addresses = tuple(None if pd.isna(v) or not str(v).strip() else str(v).strip() for v in df["address"])
    return numbers, addresses


def station_numbers(snapshot: StatusSnapshot, stations: pd.DataFrame) -> list[int | None]:
    """Each snapshot station's number (what the demand profiles are keyed on): its own, else the
    station list's for its ``station_id`` (:func:`join_station_list`); ``None`` when neither has one."""
    table = join_station_list(snapshot.table(), stations)
    return [_number(v) for v in table["number"]] if "number" in table.columns else [None] * len(table)


def key_conflicts(
    snapshot: StatusSnapshot,
    stations: pd.DataFrame,
    *,
    listed: str = "the station list",
    label: str = "status",
) -> list[tuple[int, InputError]]:
    """The stations of ``snapshot`` that give an id and a number the station list pairs otherwise,
    each with its index: ``ST-10`` with number 999 where the list has ST-10 as number 108, or
    ``st-7`` (the list's ST-7, :func:`_listed_ids`) with 113, ST-18's number. The problem names
    both values given and the list's pair (``label[ST-10].number (line 3): got 999; expected 108,
    ST-10's number in the station list``); an id the list lacks given with a listed number is
    refused as that number's station's id. A row whose id and number the list knows neither of
    is not one (:func:`complete_snapshot` names it)."""
    if not {"station_id", "number"} <= set(stations.columns):
        return []
    pairs = stations[["station_id", "number"]].dropna()
    number_of = {str(k): _number(n) for k, n in zip(pairs["station_id"], pairs["number"], strict=True)}
    id_of = {_number(n): str(k) for k, n in zip(pairs["station_id"], pairs["number"], strict=True)}
    given = pd.Series([s.station_id for s in snapshot.stations], dtype="string")
    spelt = _listed_ids(given, stations)
    out = []
    for i, (s, sid) in enumerate(zip(snapshot.stations, spelt, strict=True)):
        if s.station_id is None or s.number is None:
            continue
        its_number, its_id = number_of.get(str(sid)), id_of.get(s.number)
        if its_number is not None and its_number != s.number:
            other = (
                f"number {s.number} is {its_id}'s" if its_id else f"no listed station has number {s.number}"
            )
            expected = f"{its_number}, {sid}'s number in {listed}; {other}"
            out.append((i, InputError(station_field(label, snapshot, i, "number"), s.number, expected)))
        elif its_number is None and its_id is not None and its_id != sid:
            expected = f"{its_id}, the id of number {s.number} in {listed}; {s.station_id} is not in it"
            out.append(
                (i, InputError(station_field(label, snapshot, i, "station_id"), s.station_id, expected))
            )
    return out


def _unlisted(
    snapshot: StatusSnapshot, table: pd.DataFrame, stations: pd.DataFrame, listed: str, label: str
) -> list[tuple[int, InputError]]:
    """The stations of ``snapshot`` that still lack a position or docks once joined to the list
    (``table``, in the snapshot's order), each with its index: a station the list lacks by the
    number or id the file gave (``label[number 99999].number (line 4): got 99999; expected a
    station of <listed>, ... (number 99999 is not in the list)``), else the field the list leaves
    empty too."""
    known = {str(v) for v in stations.get("station_id", pd.Series(dtype="string")).dropna()}
    numbers = {_number(v) for v in stations.get("number", pd.Series(dtype="object"))} - {None}
    need = ("lon", "lat", "docks")
    out: list[tuple[int, InputError]] = []
    rows = table.reindex(columns=["station_id", *need]).itertuples(index=False, name=None)
    for i, (s, (sid, *values)) in enumerate(zip(snapshot.stations, rows, strict=True)):
        gaps = [c for c, v in zip(need, values, strict=True) if pd.isna(v)]
        if not gaps:
            continue
        if (pd.isna(sid) or str(sid) not in known) and s.number not in numbers:
            expected = f"a station of {listed}, or its lon, lat and docks given"
            if s.station_id is None:
                expected += f" (number {s.number} is not in the list)"
                out.append((i, InputError(station_field(label, snapshot, i, "number"), s.number, expected)))
            else:
                expected += (
                    f" ({s.station_id} is not in the list)"
                    if s.number is None
                    else f" (neither {s.station_id} nor number {s.number} is in the list)"
                )
                problem = InputError(station_field(label, snapshot, i, "station_id"), s.station_id, expected)
                out.append((i, problem))
        else:
            name = station_name(None if pd.isna(sid) else sid, s.number)
            expected = f"a value ({listed} has none for {name})"
            out.append((i, InputError(station_field(label, snapshot, i, gaps[0]), None, expected)))
    return out


def _same_station(snapshot: StatusSnapshot, table: pd.DataFrame, label: str) -> list[tuple[int, InputError]]:
    """Two rows that the join made one station (a row with only number 102 and a row with ST-4,
    ST-4's id; ``st-4`` and ``ST-4``), each second with its index, named by its line and the
    first's."""
    lines = file_lines(snapshot)
    seen: dict[str, int] = {}
    out = []
    for i, sid in enumerate(table["station_id"]):
        if pd.isna(sid):
            continue
        first = seen.setdefault(str(sid), i)
        if first != i:
            where = f"line {lines[first]}" if lines else f"stations[{first}]"
            was = station_name(snapshot.stations[first].station_id, snapshot.stations[first].number)
            expected = f"one row per station ({where}{'' if was == sid else f', {was},'} is {sid} too)"
            given = snapshot.stations[i]
            value = given.station_id if given.station_id is not None else given.number
            key = "station_id" if given.station_id is not None else "number"
            out.append((i, InputError(station_field(label, snapshot, i, key), value, expected)))
    return out


def complete_snapshot(
    snapshot: StatusSnapshot,
    stations: pd.DataFrame,
    *,
    listed: str = "the station list",
    label: str = "status",
    model: type[S] = StatusSnapshot,  # type: ignore[assignment]
) -> S:
    """``snapshot`` with each station's missing name, position and docks taken from a station list
    (:func:`join_station_list`), read again as ``model``.

    A station that still lacks a position or docks is an :class:`InputError` naming it:
    ``label[<station>].station_id`` (``label[number <n>].number`` for a row known by its number
    only) when ``stations`` does not list it (``listed`` says which list), else
    ``label[<station>].<field>`` for the field the list leaves empty too; so is a row whose id and
    number the list pairs otherwise (:func:`key_conflicts`) and a second row of one station. Each
    is named by its line of the file too when the snapshot was read from one
    (:func:`~mobility.rebalancing.snapshot.file_lines`). Every such station is in it
    (:class:`~mobility.rebalancing.snapshot.SnapshotInputError`, at most
    :data:`~mobility.rebalancing.snapshot.MAX_PROBLEMS`, in the file's order), so that one upload
    shows them all.
    """
    table = join_station_list(snapshot.table(), stations)
    found = [
        *key_conflicts(snapshot, stations, listed=listed, label=label),
        *_unlisted(snapshot, table, stations, listed, label),
        *_same_station(snapshot, table, label),
    ]
    if found:
        first = {i: problem for i, problem in reversed(found)}  # one problem a row, the first found
        raise SnapshotInputError([first[i] for i in sorted(first)][:MAX_PROBLEMS])
    return snapshot_from_table(
        table,
        name=snapshot.name,
        source=snapshot.source,
        label=label,
        model=model,
        lines=file_lines(snapshot),
    )


def assemble_stations(
    status: pd.DataFrame, coords: pd.DataFrame | None, report: QualityReport
) -> pd.DataFrame:
    """One row per station with ``station_id, number, name, docks, bikes, lon, lat`` (+ targets).

    ``status`` needs ``bikes`` and ``station_id`` or ``number``; ``docks``, ``name``, ``lon``,
    ``lat`` come from ``status`` or else from ``coords`` (joined on ``number``, then on
    ``station_id``); a station without a name anywhere is named by its id. Rows without bikes or
    coordinates are dropped and counted in ``report``;
    a negative inventory is an :class:`InputError`.
    """
    df = status.copy()
    report.rows_read = len(df)
    if "bikes" not in df.columns or not ({"station_id", "number"} & set(df.columns)):
        raise InputError(
            "status.columns", list(df.columns), "a table with 'bikes' and 'station_id' or 'number'"
        )
    df = _with_keys(df)
    bikes = pd.to_numeric(df["bikes"], errors="coerce")
    neg = bikes < 0
    if bool(neg.any()):
        row = df[neg].iloc[0]
        key = row["station_id"] if pd.notna(row["station_id"]) else row["number"]
        raise InputError(f"status[{key}].bikes", int(bikes[neg].iloc[0]), "an inventory >= 0")
    bad = bikes.isna()
    report.drop("bikes missing or not a number", bad, example=df["bikes"])
    df = df[~bad].copy()
    df["bikes"] = bikes[~bad].astype("int64")
    if coords is not None:
        df = join_station_list(df, coords)
    for k in ("name", "docks", "lon", "lat"):
        if k not in df.columns:
            df[k] = pd.NA
    df["station_id"] = df["station_id"].where(df["station_id"].notna(), "N" + df["number"].astype("string"))
    names = df["name"].fillna("").astype(str)
    df["name"] = names.where(names != "", df["station_id"].astype(str))  # as problem_from_snapshot names it
    df["lon"] = pd.to_numeric(df["lon"], errors="coerce")
    df["lat"] = pd.to_numeric(df["lat"], errors="coerce")
    nocoord = df["lon"].isna() | df["lat"].isna() | (df["lon"] == 0) | (df["lat"] == 0)
    report.drop("no coordinates (not in the station list)", nocoord, example=df["station_id"])
    df = df[~nocoord].copy()
    df["docks"] = pd.to_numeric(df["docks"], errors="coerce")
    nodocks = df["docks"].isna()
    report.warn("docks unknown (taken as 0: every bike is overflow)", nodocks, example=df["station_id"])
    df["docks"] = df["docks"].fillna(0).astype("int64")
    dup = df["station_id"].duplicated()
    report.drop("duplicate station", dup, example=df["station_id"])
    df = df[~dup].reset_index(drop=True)
    return df


def truck(id: str, depot: str, capacity: int, shift: tuple[float, float], handling: TruckHandling) -> Truck:
    """One :class:`Truck`, its stop and loading times and its start load from ``handling``: a
    scenario's truck group (:func:`expand_trucks`) or an API run's truck
    (:func:`problem_from_snapshot`), the same fields with the same defaults."""
    return Truck(
        id=id,
        depot=depot,
        capacity=int(capacity),
        shift_start=float(shift[0]),
        shift_end=float(shift[1]),
        load_seconds_per_bike=float(handling.load_seconds_per_bike),
        stop_seconds=float(handling.stop_seconds),
        start_load=None if handling.start_load == "free" else int(handling.start_load),
    )


def cost_weights(costs: Costs) -> dict[str, Any]:
    """The objective's weights of a :class:`RebalancingProblem` from a scenario's ``costs`` (an
    API run's ``costs``): dissatisfaction, driving per km, overflow, visits and band tolerance."""
    return {
        "dissatisfaction_weight": costs.dissatisfaction_weight,
        "drive_cost_per_km": costs.drive_cost_per_km,
        "overflow_penalty": costs.overflow_penalty,
        "max_visits": costs.max_visits_per_station,
        "band_tolerance": costs.band_tolerance,
    }


def expand_trucks(scn: NightlyScenario) -> tuple[Truck, ...]:
    """One :class:`Truck` per truck of every group (ids ``<depot>-01``, ``<depot>-02``, ...)."""
    out = []
    per_depot: dict[str, int] = {}
    for g in scn.trucks:
        for _ in range(g.count):
            per_depot[g.depot] = per_depot.get(g.depot, 0) + 1
            truck_id = f"{g.depot}-{per_depot[g.depot]:02d}"
            out.append(truck(truck_id, g.depot, g.capacity, g.shift.seconds(), g))
    return tuple(out)


def straight_line_matrices(
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    speed_kph: float = STRAIGHT_SPEED_KPH,
    detour: float = STRAIGHT_DETOUR,
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and metres between points from great-circle distance × ``detour`` at ``speed_kph`` (km/h)."""
    lo, la = np.radians(np.asarray(lon, dtype=float)), np.radians(np.asarray(lat, dtype=float))
    dlat = la[:, None] - la[None, :]
    dlon = lo[:, None] - lo[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlon / 2) ** 2
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1))) * detour
    return metres / (speed_kph / 3.6), metres


def _given(row: pd.Series, key: str) -> int | None:
    """``row[key]`` as a whole number, or ``None`` when the table lacks it or leaves it empty."""
    v = row.get(key)
    return None if v is None or pd.isna(v) else int(v)


def _override_index(stations: pd.DataFrame, token: str) -> int:
    ids = stations["station_id"].astype(str).tolist()
    if token in ids:
        return ids.index(token)
    num = _number(token)
    if num is not None:
        hits = np.flatnonzero(stations["number"].to_numpy() == num)
        if hits.size:
            return int(hits[0])
    raise InputError(
        "targets.overrides.station", token, "a station id (ST-…) or number in the status snapshot"
    )


def problem_from_scenario(
    scn: NightlyScenario,
    stations: pd.DataFrame,
    curves: Mapping[int, np.ndarray] | None,
    travel_s: np.ndarray,
    distance_m: np.ndarray,
    *,
    report: QualityReport | None = None,
    meta: dict[str, Any] | None = None,
    station_list: pd.DataFrame | None = None,
) -> RebalancingProblem:
    """The night's :class:`RebalancingProblem`.

    Parameters
    ----------
    scn
        The scenario (depots, trucks, costs, targets).
    stations
        Output of :func:`assemble_stations`.
    curves
        Dissatisfaction costs by station number (``targets.source: demand``), or ``None``.
    travel_s, distance_m
        Square matrices over ``depots + stations`` (scenario depot order first).
    report
        Stations without a curve are counted here. They get the snapshot's own target: ``target``,
        ``target_low``, ``target_high`` as the API reads them (:func:`snapshot_interval`), else
        ``target_morning`` ± the scenario's tolerance, else ``[0, docks]`` (no cost).
    station_list
        The station list the stops take their public numbers and addresses from
        (:func:`station_labels`); ``None``: the stations table's own numbers, no addresses.
    """
    tol = scn.targets.tolerance
    per_bike = scn.targets.per_bike
    out_curves: list[np.ndarray] = []
    missing = 0
    # Each curve runs 60 bikes past the station's docks or bikes (the problem extends it further).
    kmaxes = np.maximum(stations["docks"].to_numpy(np.int64), stations["bikes"].to_numpy(np.int64)) + 60
    for kmax, (_, row) in zip(kmaxes.tolist(), stations.iterrows(), strict=True):
        docks = int(row["docks"])
        num = _number(row.get("number"))
        if scn.targets.source == "demand" and curves is not None and num is not None and num in curves:
            out_curves.append(fixed_resolution(curves[num], COST_DECIMALS))
            continue
        if scn.targets.source == "demand":
            missing += 1
        given = [_given(row, k) for k in ("target", "target_low", "target_high")]
        if any(v is not None for v in given):  # as the API reads them (problem_from_snapshot)
            lo, hi = snapshot_interval(docks, *given)
        elif (morning := _given(row, "target_morning")) is not None:
            lo, hi = max(0, morning - tol), morning + tol
        else:
            lo, hi = 0, docks
        out_curves.append(curve_from_interval(lo, max(lo, hi), kmax, per_bike=per_bike))
    if report is not None and missing:
        report.warn("no demand curve (snapshot target interval used)", count=missing)
    for ov in scn.targets.overrides:
        i = _override_index(stations, ov.station)
        lo, hi = (ov.target, ov.target) if isinstance(ov.target, int) else ov.target
        out_curves[i] = curve_from_interval(lo, hi, int(kmaxes[i]), per_bike=per_bike)
    depots = tuple(Depot(d.id, d.name or d.id, d.lon, d.lat) for d in scn.depots)
    numbers, addresses = station_labels(stations, station_list)
    return RebalancingProblem(
        station_ids=tuple(str(s) for s in stations["station_id"]),
        names=tuple(str(s) for s in stations["name"]),
        numbers=numbers,
        addresses=addresses,
        lon=stations["lon"].to_numpy(dtype=float),
        lat=stations["lat"].to_numpy(dtype=float),
        docks=stations["docks"].to_numpy(dtype=np.int64),
        bikes=stations["bikes"].to_numpy(dtype=np.int64),
        curves=tuple(out_curves),
        depots=depots,
        trucks=expand_trucks(scn),
        travel_s=fixed_resolution(travel_s, TRAVEL_DECIMALS),
        distance_m=fixed_resolution(distance_m, TRAVEL_DECIMALS),
        **cost_weights(scn.costs),
        meta=dict(meta or {}),
    )


def snapshot_interval(docks: int, target: int | None, low: int | None, high: int | None) -> tuple[int, int]:
    """The bikes a station should hold in the morning, as an interval ``(low, high)``.

    ``target`` exactly when given; else ``[low, high]`` when either is given (a missing ``low`` is
    0, a missing ``high`` ``max(low, docks)``); else the band ``[25 %, 75 %]`` of the docks.
    """
    if target is not None:
        return int(target), int(target)
    if low is not None or high is not None:
        lo = int(low or 0)
        return lo, int(high) if high is not None else max(lo, docks)
    return math.floor(0.25 * docks), math.ceil(0.75 * docks)


def problem_from_snapshot(
    snapshot: StatusSnapshot,
    depots: Sequence[Mapping[str, Any]],
    trucks: Sequence[Mapping[str, Any]],
    travel_s: np.ndarray,
    distance_m: np.ndarray,
    *,
    curves: Sequence[np.ndarray | None] | None = None,
    costs: Costs | None = None,
    meta: dict[str, Any] | None = None,
    station_list: pd.DataFrame | None = None,
) -> RebalancingProblem:
    """The night's :class:`RebalancingProblem` from a status snapshot and a fleet given as records.

    Parameters
    ----------
    snapshot
        Every station with its coordinates and docks (an :class:`InputError` names the first
        without); each station without a curve costs ``|k - target|`` per bike outside its
        :func:`snapshot_interval` (``target``, ``target_low``, ``target_high``).
    curves
        The demand model's dissatisfaction curve of each station, in the snapshot's order
        (``None`` for a station without one), as ``mobility rebalance`` takes them with
        ``targets.source: demand``: a station's curve comes before its own target.
    depots
        ``id, lon, lat`` and optionally ``name``.
    trucks
        ``id, depot, capacity, shift_start, shift_end`` (seconds since midnight) and optionally
        the fields of :class:`~mobility.scenario.nightly.TruckHandling` (``stop_seconds``,
        ``load_seconds_per_bike``, ``start_load``), each with a scenario's truck group's default.
    travel_s, distance_m
        Square matrices over ``depots + stations``.
    costs
        The objective's weights, as a scenario's ``costs`` section (default: its defaults, the
        shipped night's).
    meta
        Kept on the problem (travel model, snapshot name).
    station_list
        The station list the stops take their public numbers and addresses from
        (:func:`station_labels`, as :func:`problem_from_scenario`); ``None``: the snapshot's own
        numbers, no addresses.
    """
    stations = snapshot.stations
    for i, s in enumerate(stations):
        for key in ("lon", "lat", "docks"):
            if getattr(s, key) is None:
                expected = "a value (there is no station list to take it from)"
                raise InputError(f"snapshot.stations[{i}].{key}", None, expected)
    out_curves = []
    for i, s in enumerate(stations):
        demand = curves[i] if curves is not None else None
        if demand is not None:
            out_curves.append(fixed_resolution(demand, COST_DECIMALS))
            continue
        docks, bikes = int(s.docks or 0), s.bikes
        low, high = snapshot_interval(docks, s.target, s.target_low, s.target_high)
        out_curves.append(curve_from_interval(low, max(low, high), max(docks, bikes, 1)))
    numbers, addresses = station_labels(snapshot.table(), station_list)
    return RebalancingProblem(
        station_ids=tuple(s.key for s in stations),
        names=tuple(s.name or s.key for s in stations),
        numbers=numbers,
        addresses=addresses,
        lon=np.array([s.lon for s in stations], dtype=np.float64),
        lat=np.array([s.lat for s in stations], dtype=np.float64),
        docks=np.array([s.docks for s in stations], dtype=np.int64),
        bikes=np.array([s.bikes for s in stations], dtype=np.int64),
        curves=tuple(out_curves),
        depots=tuple(
            Depot(id=d["id"], name=d.get("name") or d["id"], lon=d["lon"], lat=d["lat"]) for d in depots
        ),
        trucks=tuple(
            truck(
                t["id"],
                t["depot"],
                t["capacity"],
                (t["shift_start"], t["shift_end"]),
                TruckHandling.model_validate({k: t[k] for k in TruckHandling.model_fields if k in t}),
            )
            for t in trucks
        ),
        travel_s=fixed_resolution(travel_s, TRAVEL_DECIMALS),
        distance_m=fixed_resolution(distance_m, TRAVEL_DECIMALS),
        **cost_weights(costs or Costs()),
        meta=dict(meta or {}),
    )
