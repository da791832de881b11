"""The expansion scenario: where new stations may go and how the fleet must be spread.

A scenario is a YAML file (see ``scenarios/``) validated by :class:`ExpansionScenario`. Every
error names the field (dotted path), the value and what was expected.

Example (``scenarios/seoul-2019-30k.yaml``)::

    name: seoul-2019-30k
    baseline: {stations: "2019-12"}
    population: {source: grid}
    fleet: {total_bikes: 30000}
    new_stations: {max: 600}
    docks: {min: 10, max: 20}
    bikes_per_dock: {min: 0.5, max: 1.5}
    coverage: {radius_m: 300}
    spacing: {min_m: 250}
    districts: {min_bikes_per_10k: 25}
    solver: {time_limit: 60, seed: 0}
    simulation: {replications: 10}     # trips served before/after (optional: day, enabled)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from mobility.dates import FIRST_DAY, LAST_DAY
from mobility.scenario.reading import (
    CONTROL_CHARACTERS,
    MAX_SEED,
    MAX_TIME_LIMIT,
    Section,
    calendar_date,
    check_distinct,
    check_exactly_one,
    closest,
    located,
    printable_name,
    problem,
    read_yaml,
    validated,
)

PositiveFloat = Annotated[float, Field(gt=0)]
MAX_FLEET = 1_000_000
"""Most bikes a scenario (or its baseline) may give: over 20 times Seoul's fleet, so only a typing
error is refused. ``fleet.bikes_per_10k`` is bounded to match (1,000 per 10,000 residents)."""
MAX_NEW_STATIONS = 20_000
"""Most new stations a scenario may ask for (exactly or at most): over twice the candidate sites of
the default grid (7,852 for all of Seoul), so only a typing error is refused."""
NonNegFloat = Annotated[float, Field(ge=0)]
StationCount = Annotated[int, Field(ge=0, le=MAX_NEW_STATIONS)]
"""A number of stations: 0 to :data:`MAX_NEW_STATIONS`."""


SEOUL_LAT: tuple[float, float] = (37.40, 37.72)
SEOUL_LON: tuple[float, float] = (126.73, 127.28)
"""Seoul's box (``mobility.sources.stations.SEOUL_BBOX``; kept here so that validating a scenario
needs no pandas, and a test checks that the two agree)."""

MAX_BASELINE_STATIONS = 10_000
MAX_DOCKS = 500
"""Most docks one station may have (Seoul's largest have about 40): only a typing error is refused."""


SCENARIO_MAPPING = "a mapping with name, baseline, fleet, ..."
"""What an expansion scenario document must be (its required fields)."""


class BaselineStation(Section):
    """One existing station sent as content (an uploaded list), not named by a vintage.

    Its district is where its position falls (the dong polygons), not a field. A name is one line
    of printable text: a control character (:data:`CONTROL_CHARACTERS`, a NUL or a line break
    among them) is refused, in a JSON body, a scenario file or a CSV upload alike
    (:func:`~mobility.scenario.reading.printable_name`, as a status snapshot's names).
    """

    station_id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$", examples=["ST-10"])
    name: str = Field(default="", max_length=200, examples=["망원역 1번출구 앞"])
    lat: float = Field(ge=SEOUL_LAT[0], le=SEOUL_LAT[1])
    lon: float = Field(ge=SEOUL_LON[0], le=SEOUL_LON[1])
    docks: int = Field(ge=1, le=MAX_DOCKS)

    @field_validator("name")
    @classmethod
    def _printable(cls, v: str) -> str:
        return printable_name(v)


def check_unique_ids(records: Sequence[BaselineStation], field: str) -> None:
    """A ``duplicate_station`` validation error at ``<i>.station_id`` for the first station id of
    ``records`` that repeats (:func:`~mobility.scenario.reading.check_distinct`); call it from the
    field validator of ``field``, the list of stations (``baseline.station_records.1.station_id:
    got 'ST-1'; expected a station id used once (station_records[0] has it too)``)."""
    check_distinct(
        [rec.station_id for rec in records],
        "station_id",
        "duplicate_station",
        lambda _, first, __: f"a station id used once ({field}[{first}] has it too)",
    )


class Baseline(Section):
    """The existing network, kept fixed: named (``stations``) or sent as content (``station_records``).

    Attributes
    ----------
    stations
        A vintage of the official station list (``"2019-12"``, ``"2025-12"``, ...) or a path to
        a station file (a relative path is looked for in the data directory, then in the working
        directory: :func:`mobility.sources.stations.load_station_list`).
    station_records
        The stations themselves (an uploaded list), instead of ``stations``.
    bikes
        Bikes in service at the baseline (only for the "before" KPIs; optional).
    """

    stations: str | None = Field(default=None, min_length=1)
    station_records: list[BaselineStation] | None = Field(
        default=None, min_length=1, max_length=MAX_BASELINE_STATIONS
    )
    bikes: int | None = Field(default=None, ge=0, le=MAX_FLEET)

    @field_validator("station_records")
    @classmethod
    def _unique(cls, records: list[BaselineStation] | None) -> list[BaselineStation] | None:
        check_unique_ids(records or (), "station_records")
        return records

    @model_validator(mode="after")
    def _one_source(self) -> Baseline:
        expected = "exactly one of stations (a vintage or file) and station_records (the stations)"
        check_exactly_one(self, ("stations", "station_records"), "baseline_source", expected)
        return self

    @property
    def label(self) -> str:
        """How the baseline is named in results: the vintage or file, or ``uploaded (N stations)``."""
        if self.stations is not None:
            return self.stations
        return f"uploaded ({len(self.station_records or ())} stations)"


class PopulationSpec(Section):
    """Which residents count: ``grid`` (the 100 m grid), ``registered`` or ``census`` by district."""

    source: Literal["grid", "registered", "census"] = "grid"
    year: int | None = Field(default=None, ge=2000, le=2100)
    quarter: int | None = Field(default=None, ge=1, le=4)


class FleetTarget(Section):
    """Fleet size: a total, or bikes per 10,000 residents citywide (or both: both must hold).

    Attributes
    ----------
    total_bikes
        Exact number of bikes to allocate over all stations.
    bikes_per_10k
        Citywide ratio; with ``total_bikes`` it is a floor checked against the population, alone
        it sets the total (rounded up).
    """

    total_bikes: int | None = Field(default=None, gt=0, le=MAX_FLEET)
    bikes_per_10k: PositiveFloat | None = Field(default=None, le=1000)

    @model_validator(mode="after")
    def _one_of(self) -> FleetTarget:
        if self.total_bikes is None and self.bikes_per_10k is None:
            raise located((), problem("fleet_target", None, "total_bikes and/or bikes_per_10k"), None)
        return self


class NewStations(Section):
    """How many stations to add: exactly ``exact`` or at most ``max`` (and/or what the budget allows)."""

    exact: int | None = Field(default=None, ge=0, le=MAX_NEW_STATIONS)
    max: int | None = Field(default=None, ge=0, le=MAX_NEW_STATIONS)

    @model_validator(mode="after")
    def _not_both(self) -> NewStations:
        if self.exact is not None and self.max is not None:
            expected = f"no max beside exact ({self.exact}): give either exact or max, not both"
            raise located(("max",), problem("exact_and_max", self.max, expected), self.max)
        return self


class Budget(Section):
    """Capital budget: each new station costs ``cost_per_station + docks * cost_per_dock``."""

    total: PositiveFloat
    cost_per_station: NonNegFloat = 0.0
    cost_per_dock: NonNegFloat = 0.0
    currency: str = "KRW"

    @model_validator(mode="after")
    def _some_cost(self) -> Budget:
        if self.cost_per_station == 0 and self.cost_per_dock == 0:
            cost = self.cost_per_dock
            expected = "> 0 when cost_per_station is 0 (a new station must cost something)"
            raise located(("cost_per_dock",), problem("no_cost", cost, expected), cost)
        return self


class _Bounds(Section):
    """A ``min``/``max`` pair with ``min <= max``."""

    min: float
    max: float

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.min > self.max:
            expected = f"at least min ({self.min:g})"
            raise located(("max",), problem("min_above_max", self.max, expected), self.max)
        return self


class DockBounds(_Bounds):
    """Docks per NEW station."""

    min: int = Field(default=10, ge=1, le=MAX_DOCKS)
    max: int = Field(default=20, ge=1, le=MAX_DOCKS)


class BikesPerDock(_Bounds):
    """Bikes a station may hold per dock (every station, old and new)."""

    min: NonNegFloat = 0.5
    max: PositiveFloat = 1.5


class Coverage(Section):
    """A resident is covered when a station is within ``radius_m`` metres of walking (network)."""

    radius_m: float = Field(default=300.0, gt=0, le=2000, title="Walking radius (m)")
    network: str = Field(default="osm-all", min_length=1)


class Spacing(Section):
    """Minimum straight-line distance between any two stations (new-new and new-existing)."""

    min_m: float = Field(default=250.0, ge=0, le=5000, title="Minimum spacing (m)")


class Candidates(Section):
    """Candidate sites: street nodes thinned to one per ``grid_m`` square (never later station lists).

    With ``thin_to_spacing`` (default) they are then thinned so any two are at least the minimum
    spacing apart (nodes near the most uncovered residents kept first); the model then needs no
    spacing constraints between new stations. Without it, pairwise conflicts enforce the spacing.
    ``thin_fraction`` < 1 thins to that fraction of the spacing instead, keeping more sites and
    pairwise conflicts for those closer than the spacing.
    """

    grid_m: float = Field(default=100.0, ge=20, le=1000, title="Candidate grid (m)")
    thin_to_spacing: bool = True
    thin_fraction: float = Field(default=0.5, gt=0, le=1)
    exclude_highways: list[str] = Field(
        default_factory=lambda: ["motorway", "motorway_link", "trunk", "trunk_link"]
    )


def _district_keys(
    v: dict[object, object], handler: ValidatorFunctionWrapHandler, names: Sequence[str] | None
) -> object:
    """The mapping ``v`` keyed by district validated by ``handler``, its keys in composed Hangul
    (NFC: a name typed or pasted decomposed, NFD, is the same name) and, when ``names`` are given,
    each one of them. Every problem is reported together: an unknown name (at the mapping), a name
    given twice once decomposed, and the values ``handler`` refuses (at their keys)."""

    def at_mapping(kind: str, key: object, expected: str) -> InitErrorDetails:
        return InitErrorDetails(type=problem(kind, key, expected), loc=(), input=key)

    given: dict[object, object] = {}
    errors: list[InitErrorDetails] = []
    for key, value in v.items():
        name = unicodedata.normalize("NFC", key) if isinstance(key, str) else key
        if name in given:
            twice = f"each district once ({name!r} is given twice, once in decomposed Hangul)"
            errors.append(at_mapping("duplicate_district", key, twice))
        given[name] = value
    if names is not None and (unknown := [k for k in given if k not in names]):
        errors.append(at_mapping("unknown_district", *_unknown_districts(unknown, names)))
    try:
        out = handler(given)
    except ValidationError as exc:
        if not errors:
            raise
        errors += [
            InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"], ctx=e.get("ctx", {}))
            for e in exc.errors()
        ]
    if errors:
        raise ValidationError.from_exception_data("districts", errors)
    return out


def _unknown_districts(unknown: Sequence[object], names: Sequence[str]) -> tuple[object, str]:
    """The value and the expectation of an ``unknown_district`` error naming every name of
    ``unknown`` (one: that name; several: their list), each with the closest of ``names`` when one
    is close: ``got ['강남', 'Mapo-gu']; expected Seoul district (gu) names, one of 종로구, ...
    (not districts: '강남' (did you mean '강남구'?), 'Mapo-gu')``."""

    def hint(key: object) -> str:
        near = closest(key, names) if isinstance(key, str) else None
        return f" (did you mean {near!r}?)" if near is not None else ""

    if len(unknown) == 1:
        return unknown[0], f"a Seoul district (gu) name, one of {', '.join(names)}{hint(unknown[0])}"
    nots = ", ".join(f"{k!r}{hint(k)}" for k in unknown)
    return list(unknown), f"Seoul district (gu) names, one of {', '.join(names)} (not districts: {nots})"


class DistrictRules(Section):
    """Bikes per 10,000 residents floors by district (``gu``, Korean name as in the data).

    The keys of ``per_district`` and ``min_new_stations`` are read in composed Hangul (NFC), and
    checked against the district names of the validation context (``{"districts": names}``, or a
    function that gives them, called only when a key is given: :func:`load_scenario` gives Seoul's
    25 gu, the API its published names) so that a misspelt district is refused when the scenario
    is read, beside any bad value; without a context any key is kept and the planner compares it
    with its data's districts.
    """

    min_bikes_per_10k: NonNegFloat | None = None
    per_district: dict[str, NonNegFloat] = Field(default_factory=dict)
    min_new_stations: dict[str, StationCount] = Field(default_factory=dict)

    @field_validator("per_district", "min_new_stations", mode="wrap")
    @classmethod
    def _districts(cls, v: object, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> object:
        if not isinstance(v, dict) or not v:  # no key: no names to look up (pandas, for Seoul's)
            return handler(v)
        return _district_keys(v, handler, cls.district_names(info))

    @classmethod
    def district_names(cls, info: ValidationInfo) -> Sequence[str] | None:
        """The names a district key must be one of: the validation context's ``districts`` (the
        names, or a function that gives them), or ``None`` (any) without one."""
        names = info.context.get("districts") if isinstance(info.context, dict) else None
        if callable(names):
            names = names()
        return tuple(names) if names is not None else None


class Polygon(Section):
    """A polygon in longitude/latitude, GeoJSON-like: a list of rings, each a list of ``[lon, lat]``."""

    name: str = ""
    coordinates: list[list[tuple[float, float]]]

    @field_validator("coordinates")
    @classmethod
    def _rings(cls, v: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        if not v:
            raise located((), problem("no_ring", v, "at least one ring of [lon, lat] points"), v)
        for k, ring in enumerate(v):
            if len(ring) < 4:
                expected = "a closed ring: at least 4 [lon, lat] points"
                points = [list(p) for p in ring]
                raise located((k,), problem("short_ring", points, expected), points)
            for j, (lon, lat) in enumerate(ring):
                if not (124.0 <= lon <= 132.0 and 33.0 <= lat <= 39.0):
                    expected = "a [lon, lat] pair in Korea (lon 124 to 132, lat 33 to 39)"
                    raise located((k, j), problem("not_lon_lat", [lon, lat], expected), [lon, lat])
        return v


class Areas(Section):
    """No new station inside a ``forbidden`` polygon; at least one station inside each ``required``."""

    forbidden: list[Polygon] = Field(default_factory=list)
    required: list[Polygon] = Field(default_factory=list)


class ObjectiveWeights(Section):
    """Weights of the site-selection objective.

    Attributes
    ----------
    population_covered
        Per newly covered resident.
    predicted_trips
        Per predicted trip/day at the new site (demand-potential model; 0 switches it off).
    imbalance
        Penalty per unit of predicted |rentals - returns| a new site would add.
    subway_weight
        Resident-equivalents added at each subway station (trip generator) as demand.
    """

    population_covered: NonNegFloat = 1.0
    predicted_trips: NonNegFloat = 0.0
    imbalance: NonNegFloat = 0.0
    subway_weight: NonNegFloat = 0.0


class SolverSettings(Section):
    """Time limit (seconds per model), seed, threads, gap and engine of the site selection.

    ``engine``: ``"mip"`` (default; proves small gaps at city scale) or ``"cp-sat"``.
    ``backend`` of the MIP through OR-Tools' MathOpt: ``"auto"`` (default) and ``"HIGHS"`` take
    HiGHS, ``"SCIP"`` SCIP (measured on the 2019 budget scenario: HiGHS ends within a 0.02 % gap
    in 6 s, SCIP within 0.07 % in 34 s; SCIP can stall in its root LP when many district minimums
    bind). The fleet allocation is a small MIP (SCIP).
    """

    time_limit: float = Field(default=60.0, gt=0, le=MAX_TIME_LIMIT)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    threads: int = Field(default=2, ge=1, le=64)
    relative_gap: float = Field(default=0.001, ge=0, le=1)
    engine: Literal["mip", "cp-sat"] = "mip"
    backend: Literal["auto", "HIGHS", "SCIP"] = "auto"


class SimulationSettings(Section):
    """Trips served before and after the plan (:mod:`mobility.simulation.plans`).

    ``enabled``: simulate riders on both networks after planning (``mobility plan --no-simulate``
    skips it). ``day``: the simulated day (default: the second Wednesday of June of the
    baseline vintage's year). ``replications``: simulated days per network. The seed is the
    solver's.
    """

    enabled: bool = True
    day: date | None = None
    replications: int = Field(default=10, ge=1, le=1000)

    @field_validator("day", mode="before")
    @classmethod
    def _day(cls, v: object) -> object:
        """A real calendar date (:func:`~mobility.scenario.reading.calendar_date`) in the demand
        model's range, the refusal quoting the day as it was written."""
        day = calendar_date(v)
        if isinstance(day, date) and not FIRST_DAY <= day <= LAST_DAY:
            expected = f"a day from {FIRST_DAY} to {LAST_DAY} (the demand model's range)"
            given = v if isinstance(v, str) else day.isoformat()
            raise located((), problem("day_range", given, expected), given)
        return day


class ExpansionScenario(Section):
    """An expansion scenario (see the module docstring for a YAML example)."""

    name: str = Field(min_length=1)
    description: str = ""
    baseline: Baseline
    population: PopulationSpec = PopulationSpec()
    fleet: FleetTarget
    new_stations: NewStations = NewStations()
    budget: Budget | None = None
    docks: DockBounds = DockBounds()
    bikes_per_dock: BikesPerDock = BikesPerDock()
    coverage: Coverage = Coverage()
    spacing: Spacing = Spacing()
    candidates: Candidates = Candidates()
    districts: DistrictRules = DistrictRules()
    areas: Areas = Areas()
    objective: ObjectiveWeights = ObjectiveWeights()
    solver: SolverSettings = SolverSettings()
    simulation: SimulationSettings = SimulationSettings()

    @model_validator(mode="after")
    def _limits(self) -> ExpansionScenario:
        if self.new_stations.exact is None and self.new_stations.max is None and self.budget is None:
            expected = "a limit on the new stations: new_stations.exact, new_stations.max or budget"
            raise located(("new_stations",), problem("no_limit", None, expected), None)
        return self

    def max_new_stations(self) -> int:
        """The largest number of new stations the count and the budget allow."""
        limit = self.new_stations.exact if self.new_stations.exact is not None else self.new_stations.max
        if self.budget is not None:
            per = self.budget.cost_per_station + self.docks.min * self.budget.cost_per_dock
            by_budget = int(self.budget.total // per)
            limit = by_budget if limit is None else min(limit, by_budget)
        assert limit is not None
        return limit


def scenario_from_dict(
    data: dict[str, Any], model: type[ExpansionScenario] = ExpansionScenario
) -> ExpansionScenario:
    """Validate a mapping; errors are :class:`InputError` naming the field(s).

    ``model`` is the schema to validate with: the API passes its narrower
    :class:`api.schemas.ScenarioRequest` (published names only, no server paths).
    """
    return validated(model, data, SCENARIO_MAPPING)


def load_scenario(path: Path | str) -> ExpansionScenario:
    """Read and validate a scenario YAML file, its district names among Seoul's 25 gu (checked
    here, before any data is loaded; :class:`DistrictRules`).

    Raises
    ------
    InputError
        The file is not YAML or a field is invalid; ``field`` is the dotted path of the first
        invalid field and the message lists all of them.
    """
    data = read_yaml(path)
    return validated(ExpansionScenario, data, SCENARIO_MAPPING, {"districts": _seoul_gu})


def _seoul_gu() -> tuple[str, ...]:
    """Seoul's 25 gu (:data:`mobility.sources.stations.SEOUL_GU`), imported only when a scenario
    names a district: that module loads pandas (0.3 s), which reading a scenario otherwise does not."""
    from mobility.sources.stations import SEOUL_GU

    return SEOUL_GU


__all__ = [
    "CONTROL_CHARACTERS",
    "Areas",
    "Baseline",
    "BikesPerDock",
    "Budget",
    "Candidates",
    "Coverage",
    "DistrictRules",
    "DockBounds",
    "ExpansionScenario",
    "FleetTarget",
    "NewStations",
    "ObjectiveWeights",
    "Polygon",
    "PopulationSpec",
    "SimulationSettings",
    "SolverSettings",
    "Spacing",
    "load_scenario",
    "scenario_from_dict",
]
