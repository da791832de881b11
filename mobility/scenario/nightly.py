"""The nightly rebalancing scenario: depots, trucks, shift, costs, targets, network.

A scenario is a YAML file (``scenarios/seoul-nightly.yaml``) validated by
:class:`NightlyScenario`; every error names the field, the value and what was expected.

Example::

    name: seoul-nightly
    night: {date: "2022-01-01"}
    depots:
      - {id: NW, name: 상암 운영센터, lon: 126.8895, lat: 37.5792}
    trucks:
      - {depot: NW, count: 6, capacity: 18, shift: {start: "22:00", end: "06:00"},
         load_seconds_per_bike: 30, stop_seconds: 180, start_load: 0}
    targets: {source: demand, day_type: weekday}
    costs: {dissatisfaction_weight: 1.0, drive_cost_per_km: 0.2, overflow_penalty: 1.0}
    network: {source: osm-drive, profile: truck_night}
    solver: {time_limit: 300, seed: 0}   # max_iterations: 200 for routes that do not depend on timing

Clock times ``"HH:MM"``; a shift end at or before its start is the next morning. Internally all
times are seconds since midnight of the evening (:func:`clock_seconds`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from mobility.dates import iso_date
from mobility.errors import InputError
from mobility.scenario.reading import Strict, problem, read_yaml, renamed, validated, warn_renamed

__all__ = [
    "Costs",
    "DepotSpec",
    "NetworkSpec",
    "NightSpec",
    "NightlyScenario",
    "Shift",
    "SolverSpec",
    "TargetOverride",
    "TargetsSpec",
    "TruckGroup",
    "clock_seconds",
    "load_nightly",
    "nightly_from_dict",
]

NonNeg = Annotated[float, Field(ge=0)]


def clock_seconds(text: str, *, after: float | None = None) -> float:
    """``"HH:MM"`` → seconds since midnight; with ``after``, times not later than it are next day.

    Examples
    --------
    >>> clock_seconds("22:00"), clock_seconds("06:00", after=79200)
    (79200.0, 108000.0)
    """
    try:
        hh, mm = (int(x) for x in str(text).strip().split(":"))
    except ValueError as exc:
        raise InputError("time", text, "a clock time HH:MM") from exc
    if not (0 <= hh < 24 and 0 <= mm < 60):
        raise InputError("time", text, "a clock time HH:MM between 00:00 and 23:59")
    s = float(hh * 3600 + mm * 60)
    if after is not None and s <= after:
        s += 86400.0
    return s


def _calendar_date(value: object) -> object:
    """``value`` as a :class:`datetime.date` when it is a real date ``YYYY-MM-DD`` (a string, or
    a date YAML read from an unquoted one); anything else is a located validation error."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return iso_date(value)
        except ValueError:
            pass
    raise problem("date", value, "a real calendar date YYYY-MM-DD, e.g. '2022-01-01'")


def _clock_time(value: object) -> object:
    """``value`` unchanged when it is a clock time ``"HH:MM"`` from 00:00 to 23:59."""
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        try:
            clock_seconds(value)
            return value
        except InputError:
            pass
    raise problem("clock_time", value, "a clock time HH:MM between 00:00 and 23:59")


class NightSpec(Strict):
    """The night: the evening's date (for the snapshot and day type) and the status time."""

    date: Annotated[dt.date, BeforeValidator(_calendar_date)] = Field(
        default=dt.date(2022, 1, 1),
        description="The evening of the night, YYYY-MM-DD (a real date): the morning after it gives "
        "the day type of the demand targets (targets.day_type auto) and the simulated morning.",
    )
    status_at: Annotated[str, BeforeValidator(_clock_time)] = Field(
        default="22:00",
        description="Clock time HH:MM (00:00-23:59) of the status snapshot, for the record: it is "
        "kept in the results' provenance (scenario) and does not change the plan; the --status "
        "snapshot gives the stock.",
    )


class DepotSpec(Strict):
    """An ops centre (WGS84 coordinates inside Seoul)."""

    id: str = Field(min_length=1)
    name: str = ""
    lon: float = Field(ge=126.7, le=127.3)
    lat: float = Field(ge=37.4, le=37.75)


class Shift(Strict):
    """A shift, ``"HH:MM"`` to ``"HH:MM"`` (end at or before start = next morning)."""

    start: str = "22:00"
    end: str = "06:00"

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, v: str) -> str:
        try:
            clock_seconds(v)
        except InputError as exc:
            raise ValueError(f"{v!r} is not a clock time HH:MM") from exc
        return v

    @model_validator(mode="after")
    def _not_empty(self) -> Shift:
        if clock_seconds(self.start) == clock_seconds(self.end):
            raise ValueError(f"shift start {self.start} equals its end: the shift has no time")
        return self

    def seconds(self) -> tuple[float, float]:
        """Start and end in seconds since midnight of the evening."""
        s = clock_seconds(self.start)
        return s, clock_seconds(self.end, after=s)


class TruckGroup(Strict):
    """``count`` identical trucks based at ``depot``."""

    depot: str = Field(min_length=1)
    count: int = Field(default=1, ge=1, le=200)
    capacity: int = Field(default=18, ge=1, le=100)
    shift: Shift = Shift()
    load_seconds_per_bike: NonNeg = 30.0
    stop_seconds: NonNeg = 180.0
    start_load: int | Literal["free"] = 0

    @field_validator("start_load")
    @classmethod
    def _non_negative(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 0:
            raise ValueError("start_load must be >= 0 or 'free'")
        return v

    @model_validator(mode="after")
    def _fits(self) -> TruckGroup:
        if isinstance(self.start_load, int) and self.start_load > self.capacity:
            raise ValueError(f"start_load {self.start_load} exceeds capacity {self.capacity}")
        return self


class TargetOverride(Strict):
    """A station's target set by hand: a number (``target``) or ``[low, high]``."""

    station: str = Field(min_length=1, description="ST-ID (ST-4) or station number (102).")
    target: int | tuple[int, int]


class TargetsSpec(Strict):
    """Where each station's morning dissatisfaction curve comes from.

    ``demand``: the demand model's curves (:mod:`mobility.demand.inventory`), by day type of the
    night's next morning (``auto``) or the given one. ``snapshot``: the snapshot's
    ``target_low``/``target_high`` or ``target_morning`` columns, as a piecewise-linear cost of
    ``per_bike`` per bike outside the interval. Overrides replace single stations' curves.
    """

    source: Literal["demand", "snapshot"] = "demand"
    day_type: Literal["auto", "weekday", "weekend"] = "auto"
    per_bike: float = Field(default=1.0, gt=0)
    tolerance: int = Field(default=1, ge=0)
    overrides: tuple[TargetOverride, ...] = ()


class Costs(Strict):
    """Objective weights: dissatisfaction (per unit), driving (per km), bikes above docks."""

    dissatisfaction_weight: float = Field(default=1.0, gt=0)
    drive_cost_per_km: NonNeg = 0.2
    overflow_penalty: NonNeg = 1.0
    max_visits_per_station: int = Field(default=1, ge=1, le=5)
    band_tolerance: float = Field(default=0.5, gt=0)


class NetworkSpec(Strict):
    """Truck travel times: a street network and profile, or straight lines (``source: straight``)."""

    source: str = "osm-drive"
    profile: Literal["truck", "truck_night"] = "truck_night"
    straight_speed_kph: float = Field(
        default=22.0,
        gt=0,
        validation_alias=renamed("straight_speed_kph", "straight_speed_kmh"),
        description="Straight lines: driving speed in km/h (the former name straight_speed_kmh is read too).",
    )
    straight_detour: float = Field(default=1.35, ge=1.0)
    fallback_to_straight: bool = True

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: object) -> object:
        return warn_renamed(data, {"straight_speed_kmh": "straight_speed_kph"}, "network")


class SolverSpec(Strict):
    """Solver settings (see :class:`mobility.rebalancing.solve.SolveParams`)."""

    time_limit: float = Field(default=300.0, gt=0)
    seed: int = Field(default=0, ge=0)
    workers: int = Field(default=2, ge=1, le=64)
    decompose: Literal["auto", "always", "never"] = "auto"
    trucks_per_zone: int = Field(default=2, ge=1)
    classic: Literal["off", "descent", "ils"] = Field(
        default="descent",
        description="Last phase with the classic one-commodity neighbourhoods on the found stops: "
        "a descent (0 to 1.4 off the Seoul night's objective at 60 s, never worse), an iterated "
        "local search, or off.",
    )
    max_iterations: int | None = Field(
        default=None,
        ge=1,
        description="Ruin-and-recreate iterations of each zone and of the repair on the whole night. "
        "None (the default): as many as time_limit allows, so the routes depend on the machine's "
        "speed and load (the same seed may give different routes). With a budget the same seed "
        "gives the same routes, on any machine and any number of workers, as long as time_limit "
        "is not reached first (with classic descent or off); routes.json says which ended the "
        "search (stats.extra.stopped_by: iterations or clock).",
    )


class NightlyScenario(Strict):
    """A whole nightly rebalancing run (see the module docstring)."""

    name: str = Field(min_length=1)
    description: str = ""
    night: NightSpec = NightSpec()
    depots: tuple[DepotSpec, ...] = Field(min_length=1)
    trucks: tuple[TruckGroup, ...] = Field(min_length=1)
    targets: TargetsSpec = TargetsSpec()
    costs: Costs = Costs()
    network: NetworkSpec = NetworkSpec()
    solver: SolverSpec = SolverSpec()

    @model_validator(mode="after")
    def _depots_exist(self) -> NightlyScenario:
        ids = [d.id for d in self.depots]
        if len(set(ids)) != len(ids):
            raise ValueError(f"depot ids must be unique: {ids}")
        for k, t in enumerate(self.trucks):
            if t.depot not in ids:
                raise ValueError(f"trucks[{k}].depot {t.depot!r} is not one of the depots {ids}")
        return self


def nightly_from_dict(data: object) -> NightlyScenario:
    """Validate a parsed YAML/JSON document; errors become :class:`InputError` naming the field."""
    return validated(NightlyScenario, data, "a mapping with name, depots, trucks, ...")


def load_nightly(path: Path | str) -> NightlyScenario:
    """Read and validate a nightly scenario YAML file."""
    return nightly_from_dict(read_yaml(path))
