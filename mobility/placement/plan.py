"""The expansion ``Plan``: what the planner decided and what it buys, as plain data.

``Plan.to_dict()`` is what ``mobility plan`` writes to ``plan.json``; ``Plan.from_dict()`` reads
it back (validated); :func:`plan_json_schema` returns the JSON Schema (draft 2020-12) of that
document; :mod:`mobility.export.plans` writes its stations as GeoJSON and CSV.

JSON document (``schema_version`` ``"1"``)::

    {
      "schema_version": "1",
      "scenario": "seoul-2019-30k",          # scenario name
      "radius_m": 300.0,                      # coverage radius (walking network metres)
      "min_spacing_m": 250.0,
      "population_source": "grid",
      "population_total": 9.4e6,              # residents counted
      "new_stations": [                       # chosen sites, in the order of their marginal value
        {"id": "NEW-0001", "lat": 37.5, "lon": 127.0, "gu": "강남구", "dong": "역삼1동",
         "docks": 15, "bikes": 14,
         "population_newly_covered": 812.0,   # residents first covered by this site
         "predicted_trips": 23.1 | null,      # trips/day from the demand-potential model
         "rank": 1, "candidate_id": 1234,     # candidate index in this run
         "reason": "covers 812 residents not within 300 m of any station (…)"}
      ],
      "existing_stations": [                  # every baseline station, fixed, with its bikes
        {"station_id": "ST-10", "number": 102, "name": "망원역 1번출구 앞", "gu": "마포구",
         "lat": 37.55, "lon": 126.91, "docks": 15, "bikes": 12}
      ],
      "districts": [                          # one per gu (25)
        {"gu": "강남구", "population": 5.4e5,  # residents of population_source: bikes_per_10k's
         "grid_population": 5.3e5,            # residents on the 100 m grid: covered_share's
         "stations_before": 120, "stations": 150,
         "docks": 2100, "bikes": 1800, "bikes_per_10k": 33.1, "min_bikes_per_10k": 25.0 | null,
         "covered_share_before": 0.61, "covered_share": 0.78,
         "served_share_before": {"mean": 0.88, "low": 0.87, "high": 0.89} | null,
         "served_share": {Estimate} | null}   # simulated trips served (mean, 95 % interval)
      ],
      "city_before": {"stations": …, "docks": …, "bikes": … | null, "population": …,
                      "bikes_per_10k": … | null, "grid_population": …,
                      "covered_population": …, "covered_share": …,
                      "served_share": {"mean": …, "low": …, "high": …} | null},
      "city_after":  {same keys},
      "simulation": {                         # trips served, simulated (mobility.simulation.plans)
        "day": "2019-06-12", "day_type": "weekday", "replications": 10, "seed": 0,
        "walk_radius_m": 500.0, "seconds": 30.1,
        "before": {"start_inventory": "…", "stations": …, "fleet": …, "seconds": …,
                   "figures": {"trips_demanded": {Estimate}, "trips_served": …, "served_share": …,
                               "lost_empty": …, "detoured": …, "full_arrivals": …,
                               "extra_minutes": …, "overflow": …}},
        "after": {same keys}
      } | null,
      "siting_stats": {SolverStats},          # site selection (MIP or CP-SAT)
      "fleet_stats":  {SolverStats},          # docks + bikes (MIP; Lagrangian under a budget)
      "greedy_covered_population": 1.2e6,     # the lazy-greedy baseline of the same run
      "provenance": {Provenance}              # scenario, dataset fingerprints, code version, seed
    }

Two populations: ``population`` (and ``population_total``) counts the residents of
``population_source`` and divides the bikes (``bikes_per_10k = bikes / population * 10,000``);
walking coverage is counted on the 100 m population grid, so ``covered_share`` is
``covered_population / grid_population``. With ``population_source: grid`` the two are equal.

``SolverStats``: solver, status, objective, bound, seconds, seed, gap, extra (see
:class:`mobility.stats.SolverStats`). ``Provenance``: code_version, datasets, scenario, seed,
created_at, python (see :class:`mobility.provenance.Provenance`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mobility.errors import InputError, field_path
from mobility.provenance import Provenance
from mobility.schema import document_schema
from mobility.simulation.estimate import Estimate, Figures
from mobility.stats import SolverStats

SCHEMA_VERSION = "1"


class _Document(BaseModel):
    """A frozen part of the ``plan.json`` document (unknown keys are refused when reading)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class NewStation(_Document):
    """A chosen site.

    Attributes
    ----------
    id
        ``NEW-0001``, ``NEW-0002``, ... in rank order.
    lat, lon
        WGS84 position (a street-network node).
    gu, dong
        District and administrative dong (Korean names; empty when outside every polygon).
    docks, bikes
        Docks built and bikes placed.
    population_newly_covered
        Residents within the walking radius of this site and of no station before it in the rank
        order (existing stations first).
    predicted_trips
        Trips/day predicted by the demand-potential model, ``None`` when it was not used.
    predicted_imbalance
        ``|rentals - returns|``/day predicted for the site (bikes a truck would have to move),
        ``None`` when ``objective.imbalance`` is 0.
    rank
        Order of marginal value (1 = most valuable).
    candidate_id
        Index of the candidate site in this run.
    reason
        One sentence saying why the site was chosen.
    """

    id: str
    lat: float
    lon: float
    gu: str
    dong: str
    docks: int
    bikes: int
    population_newly_covered: float
    predicted_trips: float | None
    rank: int
    candidate_id: int
    reason: str
    predicted_imbalance: float | None = None


class StationAllocation(_Document):
    """An existing (baseline) station and the bikes the plan gives it."""

    station_id: str
    number: int | None
    name: str
    gu: str
    lat: float
    lon: float
    docks: int
    bikes: int


class DistrictKPI(_Document):
    """Key figures of one district (gu) before and after the plan.

    ``bikes_per_10k`` divides by ``population`` (the plan's ``population_source``), the covered
    shares by ``grid_population`` (the 100 m grid walking coverage is counted on).
    """

    gu: str
    population: float = Field(
        description="Residents of the district from the plan's population_source: the denominator "
        "of bikes_per_10k and of the min_bikes_per_10k floor."
    )
    grid_population: float | None = Field(
        default=None,
        description="Residents of the district on the 100 m population grid: the denominator of "
        "covered_share_before and covered_share (equal to population when population_source is "
        "'grid'). Null in documents written before it was recorded.",
    )
    stations_before: int
    stations: int
    docks: int
    bikes: int
    bikes_per_10k: float = Field(description="bikes / population * 10,000, rounded to 3 decimals.")
    min_bikes_per_10k: float | None = Field(
        description="The floor the district was held to, in bikes per 10,000 of population; null without one."
    )
    covered_share_before: float = Field(
        description="Share of grid_population within the walking radius of a baseline station (5 decimals)."
    )
    covered_share: float = Field(
        description="Share of grid_population within the walking radius of a station after the plan "
        "(5 decimals)."
    )
    served_share_before: Estimate | None = Field(
        default=None,
        description="Simulated share of the district's trips served before the plan (mean, 95 % interval).",
    )
    served_share: Estimate | None = Field(
        default=None,
        description="Simulated share of the district's trips served after the plan (mean, 95 % interval).",
    )


class CityKPI(_Document):
    """Citywide key figures (``bikes`` and ``bikes_per_10k`` are ``None`` when unknown).

    ``bikes_per_10k`` divides by ``population`` (the plan's ``population_source``),
    ``covered_share`` by ``grid_population`` (the 100 m grid walking coverage is counted on).
    """

    stations: int
    docks: int
    bikes: int | None
    population: float = Field(
        description="Residents from the plan's population_source (population_total): the "
        "denominator of bikes_per_10k."
    )
    bikes_per_10k: float | None = Field(
        description="bikes / population * 10,000, rounded to 3 decimals; null when bikes is unknown."
    )
    grid_population: float | None = Field(
        default=None,
        description="Residents on the 100 m population grid: the denominator of covered_share "
        "(equal to population when population_source is 'grid'). Null in documents written before "
        "it was recorded.",
    )
    covered_population: float = Field(
        description="Residents of the 100 m grid within the walking radius of a station."
    )
    covered_share: float = Field(description="covered_population / grid_population, rounded to 5 decimals.")
    served_share: Estimate | None = Field(
        default=None,
        description="Simulated share of trips served (mean and 95 % interval over replications); "
        "None when the plan was not simulated.",
    )


class SimulatedNetwork(_Document):
    """One network (before or after the plan) simulated on the plan's day (``mobility simulate``).

    Every figure is the mean over replications with the 95 % interval of the replications
    (the citywide figures of ``mobility simulate``'s ``simulation.json``).
    """

    start_inventory: str = Field(description="Where the start-of-day bikes came from.")
    stations: int
    fleet: int = Field(description="Bikes at the stations at the start of the day.")
    figures: Figures = Field(description="Trips demanded, served, lost, detoured, full docks.")
    seconds: float = Field(
        description="Seconds the replications took when they ran (a cache hit repeats it)."
    )


class PlanSimulation(_Document):
    """Trips served before and after the plan, simulated on one day (:mod:`mobility.simulation.plans`)."""

    day: str = Field(description="The simulated day, YYYY-MM-DD.")
    day_type: str
    replications: int
    seed: int
    walk_radius_m: float = Field(description="A rider at an empty station walks this far for a bike.")
    before: SimulatedNetwork
    after: SimulatedNetwork
    seconds: float = Field(description="Wall time the simulation added to the plan (cache hits included).")


class Plan(_Document):
    """The result of an expansion run (JSON layout in the module docstring)."""

    scenario: str
    radius_m: float
    min_spacing_m: float
    population_source: str
    population_total: float
    new_stations: list[NewStation]
    existing_stations: list[StationAllocation]
    districts: list[DistrictKPI]
    city_before: CityKPI
    city_after: CityKPI
    siting_stats: SolverStats
    fleet_stats: SolverStats
    provenance: Provenance
    greedy_covered_population: float | None = None
    simulation: PlanSimulation | None = Field(
        default=None,
        description="Trips served before and after the plan (None when not simulated, --no-simulate).",
    )
    wall_seconds: float | None = Field(
        default=None,
        description="Wall time in seconds of the whole run, from reading the inputs to the plan "
        "(candidates, coverage, siting, fleet and the rider simulation; siting_stats.seconds and "
        "fleet_stats.seconds are the two solves alone; the files and maps written after it are "
        "not included). Null in documents written before it was recorded.",
    )
    schema_version: str = SCHEMA_VERSION
    notes: list[str] = Field(default_factory=list)

    @property
    def total_bikes(self) -> int:
        """Bikes over all stations, old and new."""
        return sum(s.bikes for s in self.new_stations) + sum(s.bikes for s in self.existing_stations)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (the ``plan.json`` document): ``model_dump`` in JSON mode."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Validate and rebuild a plan from :meth:`to_dict` output (e.g. a parsed ``plan.json``)."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            e = exc.errors()[0]
            loc = field_path(e["loc"])
            raise InputError(f"plan.{loc}", e.get("input"), e["msg"]) from exc


PER_10K_DECIMALS = 3
"""``bikes_per_10k`` is written rounded to this many decimals (plans, maps and tables alike)."""


def per_10k(bikes: float, population: float) -> float:
    """Bikes per 10,000 residents, as plans, maps and comparison tables print it: ``bikes /
    population * 10,000`` rounded to :data:`PER_10K_DECIMALS` decimals (0 without residents)."""
    return round(float(bikes) / float(population) * 1e4, PER_10K_DECIMALS) if population > 0 else 0.0


def plan_json_schema() -> dict[str, Any]:
    """JSON Schema of the ``plan.json`` document (generated from the models)."""
    return document_schema(
        Plan,
        "mobility expansion Plan",
        description="Output of `mobility plan`: new stations, bikes per station, district and city KPIs, "
        f"solver statistics and provenance. schema_version {SCHEMA_VERSION}.",
    )


__all__ = [
    "PER_10K_DECIMALS",
    "SCHEMA_VERSION",
    "CityKPI",
    "DistrictKPI",
    "NewStation",
    "Plan",
    "PlanSimulation",
    "SimulatedNetwork",
    "StationAllocation",
    "per_10k",
    "plan_json_schema",
]
