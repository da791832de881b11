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

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from mobility.scenario.reading import (
    CONTROL_CHARACTERS,
    Strict,
    first_repeat,
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


class BaselineStation(Strict):
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
    docks: int = Field(ge=1, le=500)

    @field_validator("name")
    @classmethod
    def _printable(cls, v: str) -> str:
        return printable_name(v)


def check_unique_ids(records: Sequence[BaselineStation], field: str) -> None:
    """Raise a ``ValueError`` (a :class:`~pydantic.ValidationError` located at
    ``field.<i>.station_id``, :func:`~mobility.scenario.reading.located`) for the first station id
    that repeats; call it from a validator of the model that holds ``field``."""
    repeat = first_repeat(rec.station_id for rec in records)
    if repeat is not None:
        first, i = repeat
        sid = records[i].station_id
        expected = f"a station id used once ({field}[{first}] has it too)"
        raise located((field, i, "station_id"), problem("duplicate_station", sid, expected), sid)


class Baseline(Strict):
    """The existing network, kept fixed: named (``stations``) or sent as content (``station_records``).

    Attributes
    ----------
    stations
        A vintage of the official station list (``"2019-12"``, ``"2025-12"``, ...) or a path to
        a station file (relative paths: to the data directory).
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

    @model_validator(mode="after")
    def _one_source(self) -> Baseline:
        if (self.stations is None) == (self.station_records is None):
            raise ValueError(
                "give exactly one of stations (a vintage or file) and station_records (the stations)"
            )
        check_unique_ids(self.station_records or (), "station_records")
        return self

    @property
    def label(self) -> str:
        """How the baseline is named in results: the vintage or file, or ``uploaded (N stations)``."""
        if self.stations is not None:
            return self.stations
        return f"uploaded ({len(self.station_records or ())} stations)"


class PopulationSpec(Strict):
    """Which residents count: ``grid`` (the 100 m grid), ``registered`` or ``census`` by district."""

    source: Literal["grid", "registered", "census"] = "grid"
    year: int | None = Field(default=None, ge=2000, le=2100)
    quarter: int | None = Field(default=None, ge=1, le=4)


class FleetTarget(Strict):
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
            raise ValueError("give total_bikes and/or bikes_per_10k")
        return self


class NewStations(Strict):
    """How many stations to add: exactly ``exact`` or at most ``max`` (and/or what the budget allows)."""

    exact: int | None = Field(default=None, ge=0, le=MAX_NEW_STATIONS)
    max: int | None = Field(default=None, ge=0, le=MAX_NEW_STATIONS)

    @model_validator(mode="after")
    def _not_both(self) -> NewStations:
        if self.exact is not None and self.max is not None:
            raise ValueError("give either exact or max, not both")
        return self


class Budget(Strict):
    """Capital budget: each new station costs ``cost_per_station + docks * cost_per_dock``."""

    total: PositiveFloat
    cost_per_station: NonNegFloat = 0.0
    cost_per_dock: NonNegFloat = 0.0
    currency: str = "KRW"

    @model_validator(mode="after")
    def _some_cost(self) -> Budget:
        if self.cost_per_station == 0 and self.cost_per_dock == 0:
            raise ValueError("cost_per_station or cost_per_dock must be > 0")
        return self


class _Bounds(Strict):
    """A ``min``/``max`` pair with ``min <= max``."""

    min: float
    max: float

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must be <= max ({self.max})")
        return self


class DockBounds(_Bounds):
    """Docks per NEW station."""

    min: int = Field(default=10, ge=1)
    max: int = Field(default=20, ge=1)


class BikesPerDock(_Bounds):
    """Bikes a station may hold per dock (every station, old and new)."""

    min: NonNegFloat = 0.5
    max: PositiveFloat = 1.5


class Coverage(Strict):
    """A resident is covered when a station is within ``radius_m`` metres of walking (network)."""

    radius_m: float = Field(default=300.0, gt=0, le=2000)
    network: str = "osm-all"


class Spacing(Strict):
    """Minimum straight-line distance between any two stations (new-new and new-existing)."""

    min_m: float = Field(default=250.0, ge=0, le=5000)


class Candidates(Strict):
    """Candidate sites: street nodes thinned to one per ``grid_m`` square (never later station lists).

    With ``thin_to_spacing`` (default) they are then thinned so any two are at least the minimum
    spacing apart (nodes near the most uncovered residents kept first); the model then needs no
    spacing constraints between new stations. Without it, pairwise conflicts enforce the spacing.
    ``thin_fraction`` < 1 thins to that fraction of the spacing instead, keeping more sites and
    pairwise conflicts for those closer than the spacing.
    """

    grid_m: float = Field(default=100.0, ge=20, le=1000)
    thin_to_spacing: bool = True
    thin_fraction: float = Field(default=0.5, gt=0, le=1)
    exclude_highways: list[str] = Field(
        default_factory=lambda: ["motorway", "motorway_link", "trunk", "trunk_link"]
    )


class DistrictRules(Strict):
    """Bikes per 10,000 residents floors by district (``gu``, Korean name as in the data)."""

    min_bikes_per_10k: NonNegFloat | None = None
    per_district: dict[str, NonNegFloat] = Field(default_factory=dict)
    min_new_stations: dict[str, StationCount] = Field(default_factory=dict)


class Polygon(Strict):
    """A polygon in longitude/latitude, GeoJSON-like: a list of rings, each a list of ``[lon, lat]``."""

    name: str = ""
    coordinates: list[list[tuple[float, float]]]

    @field_validator("coordinates")
    @classmethod
    def _rings(cls, v: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        if not v:
            raise ValueError("at least one ring")
        for k, ring in enumerate(v):
            if len(ring) < 4:
                raise ValueError(f"ring {k} has {len(ring)} points; a closed ring needs >= 4")
            for lon, lat in ring:
                if not (124.0 <= lon <= 132.0 and 33.0 <= lat <= 39.0):
                    raise ValueError(f"ring {k}: ({lon}, {lat}) is not a Korean [lon, lat] pair")
        return v


class Areas(Strict):
    """No new station inside a ``forbidden`` polygon; at least one station inside each ``required``."""

    forbidden: list[Polygon] = Field(default_factory=list)
    required: list[Polygon] = Field(default_factory=list)


class ObjectiveWeights(Strict):
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


class SolverSettings(Strict):
    """Time limit (seconds per model), seed, threads, gap and engine of the site selection.

    ``engine``: ``"mip"`` (default; proves small gaps at city scale) or ``"cp-sat"``.
    ``backend`` of the MIP through OR-Tools' MathOpt: ``"auto"`` (default) and ``"HIGHS"`` take
    HiGHS, ``"SCIP"`` SCIP (measured on the 2019 budget scenario: HiGHS ends within a 0.02 % gap
    in 6 s, SCIP within 0.07 % in 34 s; SCIP can stall in its root LP when many district minimums
    bind). The fleet allocation is a small MIP (SCIP).
    """

    time_limit: float = Field(default=60.0, gt=0, le=86400)
    seed: int = Field(default=0, ge=0)
    threads: int = Field(default=2, ge=1, le=64)
    relative_gap: float = Field(default=0.001, ge=0, le=1)
    engine: Literal["mip", "cp-sat"] = "mip"
    backend: Literal["auto", "HIGHS", "SCIP"] = "auto"


class SimulationSettings(Strict):
    """Trips served before and after the plan (:mod:`mobility.simulation.plans`).

    ``enabled``: simulate riders on both networks after planning (``mobility plan --no-simulate``
    skips it). ``day``: the simulated day (default: the second Wednesday of June of the
    baseline vintage's year). ``replications``: simulated days per network. The seed is the
    solver's.
    """

    enabled: bool = True
    day: date | None = Field(default=None, ge=date(2019, 1, 1), le=date(2025, 12, 31))
    replications: int = Field(default=10, ge=1, le=1000)


class ExpansionScenario(Strict):
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
            raise ValueError("limit the new stations: new_stations.exact, new_stations.max or budget")
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
    return validated(model, data, "a mapping of scenario fields")


def load_scenario(path: Path | str) -> ExpansionScenario:
    """Read and validate a scenario YAML file.

    Raises
    ------
    InputError
        The file is not YAML or a field is invalid; ``field`` is the dotted path of the first
        invalid field and the message lists all of them.
    """
    return validated(ExpansionScenario, read_yaml(path), "a mapping of scenario fields")


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
