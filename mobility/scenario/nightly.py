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
times are seconds since midnight of the evening (:func:`clock_seconds`). Every shift lies inside
the night: from the status snapshot (``night.status_at``) to :data:`MORNING_START`, when the
morning the targets are for begins.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from mobility.errors import InputError
from mobility.scenario.expansion import SEOUL_LAT, SEOUL_LON
from mobility.scenario.reading import (
    MAX_SEED,
    MAX_TIME_LIMIT,
    Section,
    calendar_date,
    check_depot_refs,
    check_distinct,
    check_distinct_ids,
    located,
    or_none,
    problem,
    read_yaml,
    renamed,
    validated,
    warn_renamed,
)

__all__ = [
    "MORNING_AFTER_SECONDS",
    "MORNING_START",
    "Costs",
    "CurveLevel",
    "DepotSpec",
    "NetworkSpec",
    "NightSpec",
    "NightlyScenario",
    "SearchSpec",
    "Shift",
    "SolverSpec",
    "TargetOverride",
    "TargetsSpec",
    "TruckGroup",
    "TruckHandling",
    "at_level",
    "clock_seconds",
    "load_nightly",
    "night_shift_errors",
    "nightly_from_dict",
]

NonNeg = Annotated[float, Field(ge=0)]
CurveLevel = Literal["auto", "profile", "morning"]
"""``targets.level``: at what level of demand the night's dissatisfaction curves are made."""
MAX_TRUCK_CAPACITY = 200
"""Most bikes a truck may carry (a scenario's truck group and an API run's truck alike)."""
MORNING_START = "07:00"
"""When the morning after the night begins: the start of the dissatisfaction model's window
(:class:`mobility.demand.inventory.InventoryParams` ``start_hour``), whose stock is the stock the
routes leave. Every truck's shift ends by then; a shift into the morning would plan moves the
targets do not count."""


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


MORNING_AFTER_SECONDS = 86400.0 + clock_seconds(MORNING_START)
""":data:`MORNING_START` of the morning after, in seconds since midnight of the evening (111600):
the latest shift end (an API run's trucks give their shifts in these seconds)."""


def _clock_time(value: object) -> object:
    """``value`` unchanged when it is a clock time ``"HH:MM"`` from 00:00 to 23:59 (a night's
    status time, a shift's start and end)."""
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        try:
            clock_seconds(value)
            return value
        except InputError:
            pass
    raise problem("clock_time", value, "a clock time HH:MM between 00:00 and 23:59")


class NightSpec(Section):
    """The night: the evening's date (for the snapshot and day type) and the status time."""

    date: Annotated[dt.date, BeforeValidator(calendar_date)] = Field(
        default=dt.date(2022, 1, 1),
        description="The evening of the night, YYYY-MM-DD (a real date): the morning after it gives "
        "the day type of the demand targets (targets.day_type auto) and the simulated morning.",
    )
    status_at: Annotated[str, BeforeValidator(_clock_time)] = Field(
        default="22:00",
        description="Clock time HH:MM (00:00-23:59) of the status snapshot: it is kept in the "
        "results' provenance (scenario), and every truck's shift starts at or after it (and ends by "
        "07:00, MORNING_START); the --status snapshot gives the stock.",
    )


class DepotSpec(Section):
    """An ops centre (WGS84 coordinates inside Seoul's box, as every coordinate of the API)."""

    id: str = Field(min_length=1)
    name: str = ""
    lon: float = Field(ge=SEOUL_LON[0], le=SEOUL_LON[1])
    lat: float = Field(ge=SEOUL_LAT[0], le=SEOUL_LAT[1])


class Shift(Section):
    """A shift, ``"HH:MM"`` to ``"HH:MM"`` (end at or before start = next morning)."""

    start: Annotated[str, BeforeValidator(_clock_time)] = "22:00"
    end: Annotated[str, BeforeValidator(_clock_time)] = "06:00"

    @model_validator(mode="after")
    def _not_empty(self) -> Shift:
        if clock_seconds(self.start) == clock_seconds(self.end):
            expected = f"an end other than the start ({self.start}): the shift would have no time"
            raise located((), problem("empty_shift", self.end, expected), self.end)
        return self

    def seconds(self) -> tuple[float, float]:
        """Start and end in seconds since midnight of the evening."""
        s = clock_seconds(self.start)
        return s, clock_seconds(self.end, after=s)


class TruckHandling(Section):
    """A truck's time at a stop and its load when it leaves the depot: the fields of a scenario's
    truck group (:class:`TruckGroup`) that an API run's truck (``api.schemas.TruckIn``) takes too,
    one definition for both (:func:`mobility.rebalancing.build.truck` reads them)."""

    load_seconds_per_bike: NonNeg = Field(
        default=30.0, description="Seconds of handling per bike picked up or dropped off."
    )
    stop_seconds: NonNeg = Field(
        default=180.0, description="Seconds every stop takes besides the bikes (parking, unlocking)."
    )
    start_load: int | Literal["free"] = Field(
        default=0,
        description="Bikes on board leaving the depot, at most the capacity, or 'free' (any load "
        "from the depot's stock).",
    )

    @field_validator("start_load", mode="wrap")
    @classmethod
    def _load(cls, v: object, handler: ValidatorFunctionWrapHandler) -> object:
        """A whole number of bikes >= 0 or ``free``, said in one message (not one per member of
        the union)."""
        load = or_none(handler, v)
        if load is None or (isinstance(load, int) and load < 0):
            expected = "a whole number of bikes >= 0, or 'free' (any load from the depot)"
            raise problem("start_load", v, expected)
        return load

    def check_start_load(self, capacity: int) -> None:
        """Raise (located at the truck) when ``start_load`` is more than ``capacity`` bikes: for
        the ``after`` model validator of a model that has the capacity."""
        if isinstance(self.start_load, int) and self.start_load > capacity:
            expected = f"a start_load at most the capacity ({capacity}), or 'free'"
            raise located((), problem("start_load", self.start_load, expected), self.start_load)


class TruckGroup(TruckHandling):
    """``count`` identical trucks based at ``depot``."""

    depot: str = Field(min_length=1)
    count: int = Field(default=1, ge=1, le=200)
    capacity: int = Field(default=18, ge=1, le=MAX_TRUCK_CAPACITY)
    shift: Shift = Shift()

    @model_validator(mode="after")
    def _fits(self) -> TruckGroup:
        self.check_start_load(self.capacity)
        return self


class TargetOverride(Section):
    """A station's target set by hand: a number (``target``) or ``[low, high]``."""

    station: str = Field(min_length=1, description="ST-ID (ST-4) or station number (102).")
    target: int | tuple[int, int]

    @field_validator("target", mode="wrap")
    @classmethod
    def _target(cls, v: object, handler: ValidatorFunctionWrapHandler) -> object:
        """Bikes >= 0, or ``[low, high]`` with ``0 <= low <= high``, said in one message."""
        target = or_none(handler, v)
        low, high = (target, target) if isinstance(target, int) else target or (-1, -1)
        if not 0 <= low <= high:
            raise problem("target", v, "a number of bikes >= 0, or [low, high] with 0 <= low <= high")
        return target


class TargetsSpec(Section):
    """Where each station's morning dissatisfaction curve comes from.

    ``demand``: the demand model's curves (:mod:`mobility.demand.inventory`), by day type of the
    night's next morning (``auto``) or the given one. ``snapshot``: the snapshot's
    ``target_low``/``target_high`` or ``target_morning`` columns, as a piecewise-linear cost of
    ``per_bike`` per bike outside the interval. Overrides replace single stations' curves.
    ``level`` (demand curves): ``profile`` takes the profiles' rates, the 2023 mean day;
    ``morning`` scales them to the morning's citywide demand, its season and year factor from
    the monthly counts (:func:`mobility.simulation.model.demand_level`; a forecast past the
    data): a January morning has about a third of the mean day's riders. ``auto`` (the default)
    scales down only: the morning's level where it is below 1, the profiles' where it is not.
    Measured on eleven real nights (README, *Nightly rebalancing*, ``bench/night_level.py``):
    every morning below the mean day (levels 0.36-0.90) had 3-25 % fewer riders turned away at
    the morning's level, every one above it (1.04-1.36) 1-6 % more.
    """

    source: Literal["demand", "snapshot"] = "demand"
    day_type: Literal["auto", "weekday", "weekend"] = "auto"
    level: CurveLevel = "auto"
    per_bike: float = Field(default=1.0, gt=0)
    tolerance: int = Field(default=1, ge=0)
    overrides: tuple[TargetOverride, ...] = ()

    @field_validator("overrides")
    @classmethod
    def _one_per_station(cls, overrides: tuple[TargetOverride, ...]) -> tuple[TargetOverride, ...]:
        check_distinct(
            [ov.station for ov in overrides],
            "station",
            "duplicate_override",
            lambda station, first, _: f"one override per station ({station!r} is also overrides[{first}])",
        )
        return overrides


class Costs(Section):
    """Objective weights: dissatisfaction (per unit), driving (per km), bikes above docks."""

    dissatisfaction_weight: float = Field(default=1.0, gt=0)
    drive_cost_per_km: NonNeg = Field(default=0.2, title="Driving cost per km")  # not "per (km)"
    overflow_penalty: NonNeg = 1.0
    max_visits_per_station: int = Field(
        default=1,
        ge=1,
        le=1,
        description="Visits of one station a night: 1, the only value the search plans (it never "
        "returns to a station); a larger value was accepted and ignored.",
    )
    band_tolerance: float = Field(default=0.5, gt=0)


STRAIGHT_SPEED_KPH = 22.0
"""Driving speed (km/h) of straight-line truck travel: one default for scenarios, the API and the builders."""

STRAIGHT_DETOUR = 1.35
"""Road / great-circle distance ratio of straight-line truck travel (the same everywhere)."""


class NetworkSpec(Section):
    """Truck travel times: a street network and profile, or straight lines (``source: straight``)."""

    source: str = Field(default="osm-drive", min_length=1)
    profile: Literal["truck", "truck_night"] = "truck_night"
    straight_speed_kph: float = Field(
        default=STRAIGHT_SPEED_KPH,
        gt=0,
        validation_alias=renamed("straight_speed_kph", "straight_speed_kmh"),
        description="Straight lines: driving speed in km/h (the former name straight_speed_kmh is read too).",
    )
    straight_detour: float = Field(default=STRAIGHT_DETOUR, ge=1.0)
    fallback_to_straight: bool = True

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: object) -> object:
        return warn_renamed(data, {"straight_speed_kmh": "straight_speed_kph"}, "network")


class SearchSpec(Section):
    """How the night's search runs: the ``solver`` settings of a scenario besides its time limit,
    seed and workers, which an API run takes as its ``solver`` (one definition for both; see
    :class:`mobility.rebalancing.solve.SolveParams`)."""

    decompose: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Solve the night in zones (trucks_per_zone trucks of one depot each), then "
        "improve the joined routes as a whole: auto (with more than 300 candidate stations or 4 "
        "trucks), always or never.",
    )
    trucks_per_zone: int = Field(default=2, ge=1, description="Trucks of one depot that share a zone.")
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


class SolverSpec(SearchSpec):
    """Solver settings (see :class:`mobility.rebalancing.solve.SolveParams`): the search's
    (:class:`SearchSpec`), its time limit, seed and worker processes."""

    time_limit: float = Field(default=300.0, gt=0, le=MAX_TIME_LIMIT)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    workers: int = Field(default=2, ge=1, le=64)


class NightlyScenario(Section):
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

    @field_validator("depots")
    @classmethod
    def _unique_depots(cls, depots: tuple[DepotSpec, ...]) -> tuple[DepotSpec, ...]:
        check_distinct_ids([d.id for d in depots], "depot")
        return depots

    @field_validator("trucks")
    @classmethod
    def _known_depots(cls, trucks: tuple[TruckGroup, ...], info: ValidationInfo) -> tuple[TruckGroup, ...]:
        depots = info.data.get("depots")  # absent when the depots are invalid (their own error)
        if depots is not None:
            check_depot_refs([t.depot for t in trucks], [d.id for d in depots])
        return trucks

    @model_validator(mode="after")
    def _shifts_in_the_night(self) -> NightlyScenario:
        """Every shift from the status snapshot to the morning (:func:`night_shift_errors`)."""
        errors = night_shift_errors(self.night.status_at, [g.shift for g in self.trucks])
        if errors:
            raise ValidationError.from_exception_data("shift", errors)
        return self


def night_shift_errors(status_at: str, shifts: Sequence[Shift]) -> list[InitErrorDetails]:
    """What is wrong with ``shifts`` (of ``trucks[i]``) given a status snapshot at ``status_at``.

    A shift starts at or after the status time (the routes are planned from that stock) and ends
    by :data:`MORNING_START` of the next morning. Clock times count from the status time: with a
    status at 22:00, ``01:00``-``05:00`` is inside the night, ``21:00``-``05:00`` starts an hour
    before the status, ``22:00``-``21:00`` runs 14 hours into the next day.
    """
    status = clock_seconds(status_at)

    def since_status(clock: str) -> float:
        return (clock_seconds(clock) - status) % 86400.0

    morning = since_status(MORNING_START) or 86400.0
    errors: list[InitErrorDetails] = []
    for i, shift in enumerate(shifts):
        start, end = since_status(shift.start), since_status(shift.end) or 86400.0
        if start >= morning:
            bad = "start"
            expected = (
                f"a start at or after the status snapshot (night.status_at {status_at}) and before "
                f"{MORNING_START}: the routes move the stock of the status time"
            )
        elif end <= start or end > morning:
            bad = "end"
            expected = f"an end by {MORNING_START} of the morning after, when the targets' morning begins"
        else:
            continue
        value = getattr(shift, bad)
        error = problem("night_shift", value, expected)
        errors.append(InitErrorDetails(type=error, loc=("trucks", i, "shift", bad), input=value))
    return errors


def at_level(scn: NightlyScenario, level: CurveLevel) -> NightlyScenario:
    """``scn`` with its dissatisfaction curves at ``level`` (``targets.level``)."""
    return scn.model_copy(update={"targets": scn.targets.model_copy(update={"level": level})})


def nightly_from_dict(data: object) -> NightlyScenario:
    """Validate a parsed YAML/JSON document; errors become :class:`InputError` naming the field."""
    return validated(NightlyScenario, data, "a mapping with name, depots, trucks, ...")


def load_nightly(path: Path | str) -> NightlyScenario:
    """Read and validate a nightly scenario YAML file."""
    return nightly_from_dict(read_yaml(path))
