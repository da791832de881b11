"""Request and response bodies of the HTTP API (pydantic), with their ranges and examples.

Scenario submissions use :class:`ScenarioRequest`, the YAML schema of ``scenarios/``
(:class:`mobility.scenario.expansion.ExpansionScenario`) with its data references narrowed to
published names (:class:`Published`); rebalancing runs use :class:`RebalancingRunRequest` below.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    TypeAdapter,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from api.representations import attribute_docs, described, fields_of, list_of, part_model
from api.settings import ApiSettings
from mobility.dates import FIRST_DAY, LAST_DAY
from mobility.errors import InputError
from mobility.rebalancing.snapshot import MAX_COUNT, StationStatus, StatusSnapshot
from mobility.scenario.expansion import (
    MAX_BASELINE_STATIONS,
    Areas,
    Baseline,
    BaselineStation,
    Coverage,
    DistrictRules,
    ExpansionScenario,
    NonNegFloat,
    Polygon,
    StationCount,
    check_unique_ids,
)
from mobility.scenario.nightly import (
    MAX_TRUCK_CAPACITY,
    MORNING_AFTER_SECONDS,
    MORNING_START,
    STRAIGHT_DETOUR,
    STRAIGHT_SPEED_KPH,
    Costs,
    CurveLevel,
    SearchSpec,
    TruckHandling,
)
from mobility.scenario.reading import (
    MAX_SEED,
    MAX_TIME_LIMIT,
    Section,
    calendar_date,
    check_depot_refs,
    check_distinct,
    check_distinct_ids,
    check_exactly_one,
    located,
    or_none,
    problem,
    renamed,
    warn_renamed,
)
from mobility.simulation.days import LAST_FORECAST_DAY, MORNING_NIGHTS, SIMULATED_DAYS, morning_night_problem
from mobility.simulation.fleets import parse_fleet

# (min lon, min lat, max lon, max lat) around Seoul (mobility.sources.stations.SEOUL_BBOX).
SEOUL_BBOX: tuple[float, float, float, float] = (126.73, 37.40, 127.28, 37.72)
MAX_STATIONS = 5000
MAX_TRUCKS = 200
MAX_DEPOTS = 50

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Lon = Field(ge=SEOUL_BBOX[0], le=SEOUL_BBOX[2], description="Longitude (WGS84) inside Seoul's bounding box.")
Lat = Field(ge=SEOUL_BBOX[1], le=SEOUL_BBOX[3], description="Latitude (WGS84) inside Seoul's bounding box.")


class _Strict(Section):
    """The library's strict base of scenario sections (an unknown field is an error, every number
    finite), not frozen: a request's own validators normalise it (e.g. :class:`SimulationRequest`'s
    older ``stations``)."""

    model_config = ConfigDict(frozen=False)


# --- published names: what a caller may name over HTTP ---------------------------------------------

Catalogue = Literal["station_list", "network", "district", "dataset_family"]

_PATH_LIKE = re.compile(
    r"""[/\\\x00]          # a separator or NUL anywhere
    | ^\.                  # ./x, ../x, .hidden
    | ^~                   # ~user
    | ^[A-Za-z]:           # C:
    | ^file:              # file://
    | \.[A-Za-z0-9]{1,8}(\.gz)?$  # a file name: x.csv, x.graphml.gz
    """,
    re.VERBOSE,
)


def is_path_like(value: str) -> bool:
    """Whether ``value`` looks like a file-system path or file name rather than a published name."""
    return bool(_PATH_LIKE.search(value))


@cache
def published_names(catalogue: Catalogue) -> tuple[str, ...]:
    """The names this server publishes for ``catalogue`` (from the library's own tables).

    ``station_list``: the station-list vintages of :data:`mobility.sources.stations.STATION_VINTAGES`;
    ``network``: the named networks of :data:`mobility.network.graph.NAMED_SOURCES`; ``district``:
    Seoul's 25 gu (:data:`mobility.sources.stations.SEOUL_GU`, the names the planner's district
    data use); ``dataset_family``: the families of the data catalogue
    (:func:`mobility.sources.catalog.dataset_families`, ``other`` included).
    Imported on first use, so that the API process does not load pandas to start.
    """
    if catalogue == "station_list":
        from mobility.sources.stations import STATION_VINTAGES

        return tuple(STATION_VINTAGES)
    if catalogue == "network":
        from mobility.network.graph import NAMED_SOURCES

        return tuple(NAMED_SOURCES)
    if catalogue == "district":
        from mobility.sources.stations import SEOUL_GU

        return SEOUL_GU
    if catalogue == "dataset_family":
        from mobility.sources.catalog import dataset_families

        return dataset_families()
    raise ValueError(f"unknown catalogue {catalogue!r}")


@dataclass(frozen=True)
class Published:
    """A string field that accepts only a name the server publishes, never a server path.

    Paths are a command-line convenience for whoever owns the machine; over HTTP a caller names
    only what the server publishes (dataset vintages, named networks; stored uploads by id) or
    sends content in the body. A path-like value (a separator, ``..``, a leading ``.`` or ``~``,
    a drive letter, ``file:``, a file-name extension) and an unknown name are both refused at
    validation, i.e. a 422 naming the field (``body.baseline.stations``) *before* any job is
    created; the message quotes the caller's value (cut to 80 characters) and the accepted names,
    never anything read from the server. The JSON Schema lists the names as an ``enum``.

    How a job type uses it: type every body field that reaches a loader with one of the aliases
    below, in the request model of the API (not in the library's model, which the CLI shares and
    which keeps accepting paths)::

        class SweepRequest(_Strict):
            stations: StationListName = "2025-12"
            network: NetworkName = "osm-all"

    A field that holds a station list sent as content is a list of models (see
    :class:`SnapshotIn`); a stored upload is referenced by its id (e.g. ``snapshot_id``) and
    looked up in the database. ``tests/api/test_paths.py`` submits path-like values in every
    string field of every route's example body, so a new job type is checked without a new test.
    """

    catalogue: Catalogue

    def check(self, value: str) -> str:
        """``value`` if published; otherwise a validation error (a 422 through FastAPI)."""
        names = published_names(self.catalogue)
        if value in names:
            return value
        shown = value[:80]
        if is_path_like(value):
            raise PydanticCustomError(
                "server_path",
                "got {value}: server paths and file names are not accepted over HTTP; "
                "expected one of {names}",
                {"value": repr(shown), "names": ", ".join(names)},
            )
        raise PydanticCustomError(
            "unknown_name",
            "got {value}; expected one of {names}",
            {"value": repr(shown), "names": ", ".join(names)},
        )

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def schema_extra(self) -> dict[str, Any]:
        """What the field's JSON Schema adds: the published names as an ``enum``."""
        return {"enum": list(published_names(self.catalogue))}

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out.update(self.schema_extra())
        return out


@dataclass(frozen=True)
class PublishedKeys:
    """The JSON Schema of a mapping whose keys are names the server publishes
    (``districts.per_district``: gu names), listed as its ``propertyNames``. The keys themselves
    are checked by the model that holds the mapping (:class:`ApiDistrictRules`: the library's own
    check of :class:`~mobility.scenario.expansion.DistrictRules`, with the published names), so
    that an unknown key is refused beside the mapping's bad values, in the words the CLI uses."""

    catalogue: Catalogue

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out["propertyNames"] = {"enum": list(published_names(self.catalogue))}
        return out


StationListName = Annotated[str, Published("station_list")]
"""A station-list vintage this server has (``"2019-12"``, ``"2025-12"``, ...)."""

NetworkName = Annotated[str, Published("network")]
"""A named street network of this server (``"osm-all"``, ``"osm-drive"``, ...)."""

DistrictName = Annotated[str, Published("district")]
"""One of Seoul's 25 gu, in Korean (``"마포구"``)."""

DatasetFamily = Annotated[str, Published("dataset_family")]
"""A family of the data catalogue (``"stations"``, ``"trips"``, ...)."""


StoredId = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-f]{32}$",
        description="The id of a job or stored upload of this server.",
        examples=["0f3c2a9e8b7d4c1f9e6a5b4c3d2e1f00"],
    ),
]


StationListId = Annotated[
    StoredId, Field(description="A station list stored with POST /v1/station-lists (its id).")
]


class ApiBaseline(Baseline):
    """:class:`~mobility.scenario.expansion.Baseline` over HTTP: a published vintage, the stations
    themselves (``station_records``), or a stored upload (``station_list_id``); never a path.

    A ``station_list_id`` is replaced by the stored stations when the job is created, so a job's
    inputs are whole and the stored list may later be deleted without changing the job.
    """

    stations: StationListName | None = Field(
        default=None, description="A station-list vintage of this server."
    )
    station_list_id: StationListId | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ApiBaseline:
        """The library's rule (it replaces the parent's check) with the stored list as a third source."""
        expected = (
            "exactly one of stations (a published vintage), station_records (the stations) "
            "and station_list_id (a stored list)"
        )
        check_exactly_one(
            self, ("stations", "station_records", "station_list_id"), "baseline_source", expected
        )
        return self


class ApiCoverage(Coverage):
    """:class:`~mobility.scenario.expansion.Coverage` over HTTP: ``network`` is a named network."""

    network: NetworkName = Field(default="osm-all", description="A named walking network of this server.")


class ApiDistrictRules(DistrictRules):
    """:class:`~mobility.scenario.expansion.DistrictRules` over HTTP: the keys are gu names the
    server publishes (listed in the JSON Schema by :class:`PublishedKeys`), checked by the
    library's rule before any job is created."""

    per_district: Annotated[dict[str, NonNegFloat], PublishedKeys("district")] = Field(default_factory=dict)
    min_new_stations: Annotated[dict[str, StationCount], PublishedKeys("district")] = Field(
        default_factory=dict
    )

    @classmethod
    def district_names(cls, info: ValidationInfo) -> tuple[str, ...]:
        """Always the published gu names (a request has no validation context)."""
        return published_names("district")


class ApiPolygon(Polygon):
    """:class:`~mobility.scenario.expansion.Polygon` over HTTP: every corner inside Seoul's
    bounding box (:data:`SEOUL_BBOX`), like every other coordinate of a request."""

    @field_validator("coordinates")
    @classmethod
    def _in_seoul(cls, v: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        for k, ring in enumerate(v):
            for j, (lon, lat) in enumerate(ring):
                if not (SEOUL_BBOX[0] <= lon <= SEOUL_BBOX[2] and SEOUL_BBOX[1] <= lat <= SEOUL_BBOX[3]):
                    expected = f"a [lon, lat] inside Seoul's bounding box {SEOUL_BBOX}"
                    raise located((k, j), problem("outside_seoul", [lon, lat], expected), [lon, lat])
        return v


class ApiAreas(Areas):
    """:class:`~mobility.scenario.expansion.Areas` of :class:`ApiPolygon` (inside Seoul)."""

    # narrowed (an ApiPolygon is a Polygon; nothing appends to a validated request's lists)
    forbidden: list[ApiPolygon] = Field(default_factory=list)  # type: ignore[assignment]
    required: list[ApiPolygon] = Field(default_factory=list)  # type: ignore[assignment]


class ScenarioRequest(ExpansionScenario):
    """An expansion scenario submitted over HTTP.

    The same fields, ranges and rules as ``scenarios/*.yaml``
    (:class:`~mobility.scenario.expansion.ExpansionScenario`), except that every field that
    reaches a loader accepts only published names (:class:`Published`), district names are the
    server's gu names, polygons lie inside Seoul's bounding box and the name has at most 200
    characters (it is echoed in every status).
    """

    name: str = Field(min_length=1, max_length=200)
    baseline: ApiBaseline
    coverage: ApiCoverage = ApiCoverage()
    districts: ApiDistrictRules = ApiDistrictRules()
    areas: ApiAreas = ApiAreas()


RANGE_PATTERN = r"^\d+(\.\d+)?:\d+(\.\d+)?:\d+(\.\d+)?$"
"""FIRST:LAST:STEP, numbers only."""


class SweepRequest(_Strict):
    """A scenario and the station counts (or budgets) to plan it at."""

    scenario: ScenarioRequest  # published station lists and networks only, never a server path
    new_stations: str | None = Field(
        default=None,
        max_length=40,
        pattern=RANGE_PATTERN,
        description="FIRST:LAST:STEP station counts",
        examples=["300:800:100"],
    )
    budget: str | None = Field(
        default=None,
        max_length=60,
        pattern=RANGE_PATTERN,
        description="FIRST:LAST:STEP budget totals (scenarios with a budget)",
    )
    with_500m: bool = Field(default=False, description="Also report coverage within a 500 m walk.")

    @field_validator("new_stations", "budget")
    @classmethod
    def _range(cls, v: str | None, info: ValidationInfo) -> str | None:
        """The range as :func:`mobility.placement.sweep.parse_range` reads it (422 naming the field)."""
        from mobility.placement.sweep import parse_range

        if v is not None:
            try:
                parse_range(v, str(info.field_name), integer=info.field_name == "new_stations")
            except InputError as exc:
                raise problem("range", exc.value, exc.expected) from None
        return v

    @model_validator(mode="after")
    def _one_axis(self) -> SweepRequest:
        expected = "exactly one of new_stations (station counts) and budget (budget totals)"
        check_exactly_one(self, ("new_stations", "budget"), "sweep_axis", expected)
        if self.budget is not None and self.scenario.budget is None:
            expected = "no budget range: the scenario has no budget section (sweep new_stations)"
            raise located(("budget",), problem("no_budget", self.budget, expected), self.budget)
        return self


class JobError(BaseModel):
    """Why a job failed (never a stack trace)."""

    type: str = Field(examples=["InputError"])
    message: str = Field(examples=["baseline.stations: got '2030-01'; expected a known vintage"])
    field: str | None = None


CITY_EXAMPLE: dict[str, Any] = {
    "stations": 1540, "docks": 19545, "bikes": 18000, "population": 9056360.0, "bikes_per_10k": 19.876,
    "grid_population": 9056360.0, "covered_population": 2327155.0, "covered_share": 0.25696,
}  # fmt: skip
"""The city before the plan of :data:`JOB_EXAMPLE` (the 2019 stations on the 2021 grid). No value
is null: FastAPI leaves the nulls out of the document's examples."""

JOB_EXAMPLE: dict[str, Any] = {
    "id": "3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b",
    "kind": "scenario",
    "name": "seoul-2019-30k",
    "status": "succeeded",
    "progress": 1.0,
    "message": None,
    "author": "kim",
    "created_at": "2026-11-25T13:00:00Z",
    "started_at": "2026-11-25T13:00:01Z",
    "finished_at": "2026-11-25T13:01:05Z",
    "attempts": 1,
    "time_limit": 1020.0,
    "kpis": {
        "new_stations": 600,
        "total_bikes": 30000,
        "city_before": CITY_EXAMPLE,
        "city_after": CITY_EXAMPLE
        | {"stations": 2140, "docks": 28545, "bikes": 30000, "bikes_per_10k": 33.126}
        | {"covered_population": 3861210.0, "covered_share": 0.42636},
        "siting_status": "feasible",
        "fleet_status": "optimal",
        "valid": True,
        "violations": [],
    },
    "error": None,
    "links": {
        "self": "/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b",
        "plan": "/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b/plan",
        "map.html": "/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b/map.html",
        "map.png": "/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b/map.png",
        "map.svg": "/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b/map.svg",
        "gpkg": "/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b/plan.gpkg",
        "gbfs": "/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b/gbfs/gbfs.json",
    },
}


JOB_OVERHEAD = ApiSettings.model_fields["job_overhead_seconds"].default
GRACE = ApiSettings.model_fields["grace_seconds"].default
TIME_LIMIT = (
    "The job's hard limit in seconds of wall time, not the solver time asked for: that time for each "
    "model the job solves (a scenario: 2, its sites then its docks and bikes; a sweep: 1 per point; "
    "a rebalancing run: 1; a simulation: the rider model's fit and a time per simulated day instead), "
    f"plus the server's fixed allowance for loading data and building the models (job_overhead_seconds, "
    f"{JOB_OVERHEAD:g} s by default). A job still running {GRACE:g} s (grace_seconds) past it fails "
    f"with 'time limit exceeded'. E.g. a scenario with solver.time_limit 5: 2 x 5 + {JOB_OVERHEAD:g} "
    f"= {2 * 5 + JOB_OVERHEAD:g}."
)
"""What :attr:`JobInfo.time_limit` is (the routes set it: ``submit_job(time_limit=...)``)."""


@dataclass(frozen=True)
class DocumentedAs:
    """The JSON Schema of a field sent as it is stored (a job's ``kpis``, made by its runner): that
    of the type ``ref`` (``"module:function"``) returns, imported when the schema is generated, so
    that the models it names appear in the document without the field being validated by them."""

    ref: str

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        module, _, name = self.ref.partition(":")
        documented = getattr(importlib.import_module(module), name)()
        return handler(TypeAdapter(documented).core_schema)


class JobInfo(BaseModel):
    """Status of a job: a scenario, a rebalancing run, a sweep or a simulation."""

    model_config = ConfigDict(json_schema_extra={"examples": [JOB_EXAMPLE]})

    id: str = Field(examples=["3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b"])
    kind: Literal["scenario", "rebalancing", "sweep", "simulation"]
    name: str | None = Field(default=None, description="The scenario's name, if any.")
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    message: str | None = None
    author: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int
    time_limit: float = Field(description=TIME_LIMIT, examples=[910.0])
    kpis: Annotated[dict[str, Any] | None, DocumentedAs("api.kpis:job_kpis")] = Field(
        default=None,
        description="Key figures, once succeeded (null before): one of ScenarioKpis, RebalancingKpis, "
        "SweepKpis, SimulationKpis (a simulated day) or FleetSweepKpis (a simulation with `fleet`), "
        "by the job's kind.",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="What a succeeded job's result must be read with: travel on straight lines "
        "because the street network is missing, maps or the morning after left out for lack of time.",
    )
    error: JobError | None = Field(default=None, description="Why it failed, once failed.")
    links: dict[str, str] = Field(default_factory=dict)


class JobPage(BaseModel):
    """One page of jobs, newest first."""

    items: list[JobInfo]
    total: int
    limit: int
    offset: int


class Accepted(BaseModel):
    """Answer to a submission: the job and where to poll it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b",
                    "status": "queued",
                    "location": "/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b",
                }
            ]
        }
    )

    id: str
    status: JobStatus
    location: str


class StationInventory(StationStatus):
    """One station of an evening snapshot: the library's
    :class:`~mobility.rebalancing.snapshot.StationStatus` (known by its ``station_id``, or by its
    ``number`` only, as ``mobility rebalance`` takes it), with its position (inside Seoul) and docks
    required (a status CSV upload takes those it leaves out from the station list, by ``number``
    then ``station_id``, before it is stored)."""

    lon: float = Lon
    lat: float = Lat
    docks: int = Field(ge=0, le=MAX_COUNT, description="Docks of the station.")


class SnapshotIn(StatusSnapshot):
    """An evening inventory of stations (stored for later runs, or inline in a run): the library's
    status snapshot document (:class:`~mobility.rebalancing.snapshot.StatusSnapshot`, read by
    ``mobility rebalance --status`` too) with :class:`StationInventory` stations, at most
    ``MAX_STATIONS``."""

    stations: tuple[StationInventory, ...] = Field(min_length=1, max_length=MAX_STATIONS)

    @field_validator("stations")
    @classmethod
    def _unique(cls, stations: tuple[StationStatus, ...]) -> tuple[StationStatus, ...]:
        """The library's rule (one row per station), with the 422 naming the repeated row
        (``body.stations.1.station_id``) rather than the list (it replaces the parent's check)."""
        check_distinct(
            [s.key for s in stations],
            "station_id",
            "duplicate_station",
            lambda key, first, i: (
                f"one row per station ({key!r} appears twice: stations[{first}] and stations[{i}])"
            ),
        )
        return stations


class DepotIn(_Strict):
    """An operations centre."""

    id: str = Field(min_length=1, max_length=40, examples=["D1"])
    name: str = Field(default="", max_length=200)
    lon: float = Lon
    lat: float = Lat


class TruckIn(TruckHandling, _Strict):
    """A truck and its shift, in seconds since midnight of the evening (22:00 = 79200, 06:00 of the
    morning after = 108000). A shift ends by 07:00 of the morning after (111600), when the morning
    the targets are for begins (``mobility.scenario.nightly.MORNING_START``). Its stop and loading
    times and start load are a nightly scenario's truck group's fields, with their defaults
    (:class:`~mobility.scenario.nightly.TruckHandling`)."""

    id: str = Field(min_length=1, max_length=40, examples=["T01"])
    depot: str = Field(min_length=1, max_length=40)
    capacity: int = Field(ge=1, le=MAX_TRUCK_CAPACITY)
    shift_start: float = Field(default=79200, ge=0, lt=MORNING_AFTER_SECONDS)
    shift_end: float = Field(default=108000, gt=0, le=MORNING_AFTER_SECONDS)

    @model_validator(mode="after")
    def _shift(self) -> TruckIn:
        if self.shift_end <= self.shift_start:
            expected = f"a time after shift_start ({self.shift_start:g})"
            raise located(("shift_end",), problem("shift", self.shift_end, expected), self.shift_end)
        self.check_start_load(self.capacity)
        return self

    @field_validator("shift_start", "shift_end", mode="wrap")
    @classmethod
    def _by_morning(cls, v: object, handler: ValidatorFunctionWrapHandler) -> object:
        """A start or end outside the night, said as the morning (not as a bare bound)."""
        when = or_none(handler, v)
        if when is None:
            expected = (
                f"seconds since midnight of the evening, from 0 to {MORNING_AFTER_SECONDS:g} "
                f"({MORNING_START} of the morning after, when the morning the targets are for begins)"
            )
            raise problem("shift", v, expected)
        return when


class FleetIn(_Strict):
    """Depots and trucks available tonight: ids unique, every truck at one of the depots."""

    depots: list[DepotIn] = Field(min_length=1, max_length=MAX_DEPOTS)
    trucks: list[TruckIn] = Field(min_length=1, max_length=MAX_TRUCKS)

    @field_validator("depots")
    @classmethod
    def _depot_ids(cls, depots: list[DepotIn]) -> list[DepotIn]:
        check_distinct_ids([d.id for d in depots], "depot")
        return depots

    @field_validator("trucks")
    @classmethod
    def _truck_refs(cls, trucks: list[TruckIn], info: ValidationInfo) -> list[TruckIn]:
        check_distinct_ids([t.id for t in trucks], "truck")
        depots = info.data.get("depots")  # absent when the depots are invalid (their own 422)
        if depots is not None:
            check_depot_refs([t.depot for t in trucks], [d.id for d in depots])
        return trucks


REBALANCING_EXAMPLE: dict[str, Any] = {
    "name": "tonight",
    "snapshot": {
        "name": "2025-12-15 22:00",
        "stations": [
            {
                "station_id": "ST-4",
                "name": "102. 망원역 1번출구 앞",
                "lon": 126.9104,
                "lat": 37.5556,
                "bikes": 25,
                "docks": 15,
                "target": 10,
            },
            {
                "station_id": "ST-5",
                "name": "103. 망원역 2번출구 앞",
                "lon": 126.9107,
                "lat": 37.5547,
                "bikes": 0,
                "docks": 15,
                "target": 8,
            },
        ],
    },
    "fleet": {
        "depots": [{"id": "D1", "name": "마포센터", "lon": 126.9016, "lat": 37.5663}],
        "trucks": [{"id": "T01", "depot": "D1", "capacity": 20}],
    },
    "time_limit": 30,
}


class RebalancingOptions(_Strict):
    """How trucks travel (see :func:`api.runners.travel_for`) and what each station aims at."""

    targets: Literal["auto", "demand", "snapshot"] = Field(
        default="auto",
        description="What each station aims at by morning. `demand`: the demand model's "
        "dissatisfaction curves for the morning after the night (the snapshot's `date` or "
        "`morning_after.night`), as `mobility rebalance` takes them (targets.source: demand, "
        "targets.level: auto); a station the demand profiles lack keeps its own target. "
        "`snapshot`: each station's `target`, else `[target_low, target_high]`, else 25-75 % of "
        "its docks. `auto`: a station's own target where the snapshot gives one, else `demand` "
        "when the night is known and its morning within reach, else `snapshot` (the run says why).",
    )
    level: CurveLevel = Field(
        default="auto",
        description="At what demand the demand model's curves are made, as a nightly scenario's "
        "`targets.level`: `profile`, the profiles' mean day of 2023; `morning`, the citywide demand "
        "of the morning after the night (its season and year: a January morning has about a third "
        "of the mean day's riders); `auto`, the morning's where it is below the mean day, else the "
        "profiles' (measured best on eleven real nights). Only for stations aiming at the curves.",
    )
    network: Literal["osm-drive", "osm-all", "moct", "moct+ktdb", "ktdb", "straight"] = Field(
        default="osm-drive",
        description="Street network for driving times, or `straight` (great-circle x detour at a speed). "
        "When the network's data is missing on the worker, straight lines are used and the plan says so.",
    )
    profile: Literal["truck_night", "truck"] = Field(
        default="truck_night", description="Night or day truck speeds on the street network."
    )
    detour: float = Field(
        default=STRAIGHT_DETOUR,
        ge=1.0,
        le=5.0,
        description="Straight lines: road / great-circle distance ratio.",
    )
    speed_kph: float = Field(
        default=STRAIGHT_SPEED_KPH,
        ge=1.0,
        le=120.0,
        validation_alias=renamed("speed_kph", "speed_kmh"),
        description="Straight lines: driving speed in km/h (`speed_kmh`, deprecated, is read too).",
    )

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: object) -> object:
        return warn_renamed(data, {"speed_kmh": "speed_kph"}, "options")


DEMAND_NIGHT = (
    "a run whose night is known for targets demand: night, morning_after.night or the snapshot's date"
)
"""What ``options.targets: demand`` needs."""


MORNING_DATE = (
    f"the night's date YYYY-MM-DD (the evening of the snapshot), as the snapshot gives none; {MORNING_NIGHTS}"
)
"""What ``morning_after.night`` must be when the run's snapshot has no ``date``."""


def _night_in_reach(v: date | None) -> date | None:
    if morning_night_problem(v) is not None:
        raise problem("night_range", str(v), MORNING_NIGHTS)
    return v


NightDate = Annotated[date | None, BeforeValidator(calendar_date), AfterValidator(_night_in_reach)]
"""A night's date (YYYY-MM-DD, a real date) whose morning the demand data reaches (or none)."""


class MorningAfterRequest(_Strict):
    """Simulate the morning after the night (``morning.json``, as ``mobility rebalance`` does):
    riders lost at empty stations and finding full docks until 10:00 with no rebalancing, the
    greedy dispatcher and the run's routes, each over ``replications`` simulated mornings."""

    replications: int = Field(default=10, ge=1, le=100, description="Simulated mornings per method.")
    night: NightDate = Field(
        default=None,
        description=f"The night's date (the evening of the snapshot); default the run's `night`, else "
        f"the snapshot's `date`; {MORNING_NIGHTS}.",
    )


class RebalancingRunRequest(_Strict):
    """A nightly rebalancing run: a snapshot (inline or stored) and the fleet.

    Exactly one of ``snapshot`` and ``snapshot_id`` is given. ``options`` say how trucks travel
    and what stations aim at (see the rebalancing section of the README); ``costs``, ``solver``
    and each truck's stop and loading times are a nightly scenario's own sections, with their
    defaults, so that the same night is the same problem here and in ``mobility rebalance``.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [REBALANCING_EXAMPLE]})

    name: str = Field(default="rebalancing", min_length=1, max_length=200)
    snapshot: SnapshotIn | None = None
    snapshot_id: StoredId | None = Field(
        default=None, description="A snapshot stored with POST /v1/rebalancing/snapshots."
    )
    fleet: FleetIn
    time_limit: float | None = Field(default=None, gt=0, le=MAX_TIME_LIMIT, description="Solver seconds.")
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    options: RebalancingOptions = Field(default_factory=RebalancingOptions)
    costs: Costs = Field(
        default_factory=Costs,
        description="The objective's weights, a nightly scenario's `costs` with its defaults (those "
        "of `mobility rebalance`): dissatisfaction, driving per km, bikes above the docks.",
    )
    solver: SearchSpec = Field(
        default_factory=SearchSpec,
        description="How the search runs, a nightly scenario's `solver` with its defaults (its "
        "time limit and seed are this run's `time_limit` and `seed`); `max_iterations` makes the "
        "same seed give the same routes.",
    )
    night: NightDate = Field(
        default=None,
        description="The evening the run plans (YYYY-MM-DD): the demand curves (options.targets) are "
        "for the morning after it, and so is the simulated morning unless morning_after.night says "
        f"otherwise; default the snapshot's `date`; {MORNING_NIGHTS}.",
    )
    morning_after: MorningAfterRequest | None = Field(
        default=None,
        description="Also simulate the morning after: riders lost at empty stations and finding full "
        "docks until 10:00, with no trucks, the greedy dispatcher and this run's routes (the run's "
        "`morning` link); stations are matched to the demand data by number, then by station id.",
    )

    @model_validator(mode="after")
    def _one_snapshot(self) -> RebalancingRunRequest:
        expected = "exactly one of snapshot (inline) and snapshot_id (stored)"
        check_exactly_one(self, ("snapshot", "snapshot_id"), "snapshot_source", expected)
        if self.snapshot is not None and self.morning_undated:
            if self.snapshot.date is None:
                raise located(("morning_after", "night"), problem("missing", None, MORNING_DATE), None)
            if morning_night_problem(self.snapshot.date) is not None:
                night = str(self.snapshot.date)
                expected = f"{MORNING_NIGHTS} (the snapshot's date; give morning_after.night)"
                raise located(("morning_after", "night"), problem("night_range", night, expected), night)
        if self.snapshot is not None:
            refused = self.demand_refused(self.snapshot.date)
            if refused is not None:
                loc, value, expected = refused
                raise located(loc, problem("demand_night", value, expected), value)
        return self

    def demand_refused(self, snapshot_date: date | None) -> tuple[tuple[str, ...], str, str] | None:
        """Why ``options.targets: demand`` cannot be had (field, value, expectation): the run names
        no night (``morning_after.night``, else the snapshot's date), or its morning is out of the
        demand data's reach; ``None`` when it can, or when another target is asked for."""
        if self.options.targets != "demand":
            return None
        asked = self.morning_after.night if self.morning_after is not None else None
        night = asked or self.night or snapshot_date
        if night is None:
            return ("options", "targets"), "demand", DEMAND_NIGHT
        if morning_night_problem(night) is None:
            return None
        where = ("morning_after", "night") if asked else ("night",) if self.night else ("snapshot", "date")
        return where, str(night), f"{MORNING_NIGHTS} (options.targets: demand)"

    @property
    def morning_undated(self) -> bool:
        """A morning after is asked for without a date of its own nor the run's ``night`` (the
        snapshot's must say it)."""
        return self.morning_after is not None and self.morning_after.night is None and self.night is None


SIMULATION_EXAMPLE: dict[str, Any] = {
    "source": {"kind": "vintage", "stations": "2025-12"},
    "day": "2023-06-14",
    "replications": 20,
    "seed": 0,
}

FLEET_RANGE = r"^\d+:\d+:\d+$"
"""FIRST:LAST:STEP fleet sizes (whole numbers)."""


class VintageSource(_Strict):
    """Simulate a published station vintage (``mobility simulate 2025-12``)."""

    kind: Literal["vintage"]
    stations: StationListName = Field(default="2025-12", description="A published station list (vintage).")


class PlanSource(_Strict):
    """Simulate the network of an expansion plan, existing and new stations, from the bikes it
    allocates (``mobility simulate plan.json``): the plan of a succeeded scenario job."""

    kind: Literal["plan"]
    job_id: StoredId = Field(description="A succeeded job of POST /v1/scenarios (its plan).")


class StationListSource(_Strict):
    """Simulate a stored station list (``mobility simulate stations.csv``): POST /v1/station-lists."""

    kind: Literal["station_list"]
    station_list_id: StationListId


SimulationSource = Annotated[VintageSource | PlanSource | StationListSource, Field(discriminator="kind")]


class SimulationRequest(_Strict):
    """A day of riders simulated on a station set (``mobility simulate SOURCE``), or a fleet sweep.

    ``source`` is what ``mobility simulate`` takes as SOURCE, by what this server publishes or
    stores: a vintage, the plan of a succeeded scenario job, or a stored station list (the older
    ``stations`` field names a vintage and stays accepted). The start inventory is a stored status
    snapshot (``snapshot_id``, ``--status``), else the plan's allocation, else the derived evening
    snapshot of the day before; ``routes_job_id`` applies a succeeded rebalancing run's routes to
    it (``--routes``: the morning after). Ids are resolved to their content when the job is
    created (422 naming the field if unknown or unfinished), so a job's inputs are whole.

    Without ``fleet`` the job stores the ``SimulationResult``; with ``fleet``
    (``FIRST:LAST:STEP``) it scales the start stock to each fleet size and stores served share
    against fleet size, citywide and by district (``mobility simulate sweep``). Replications and
    sweep points run on the API's Dask cluster.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [SIMULATION_EXAMPLE]})

    name: str = Field(default="simulation", min_length=1, max_length=200)
    source: SimulationSource | None = Field(
        default=None, description="What to simulate (default: the vintage 2025-12)."
    )
    stations: StationListName | None = Field(
        default=None,
        description="Deprecated: a published station list (vintage); the same as "
        '`"source": {"kind": "vintage", "stations": ...}`.',
    )
    snapshot_id: StoredId | None = Field(
        default=None,
        description="The start inventory: a snapshot stored with POST /v1/rebalancing/snapshots "
        "(a row for every simulated station; `mobility simulate --status`).",
    )
    routes_job_id: StoredId | None = Field(
        default=None,
        description="A succeeded job of POST /v1/rebalancing/runs whose routes are applied to the "
        "start inventory (the morning after; `mobility simulate --routes`).",
    )
    day: Annotated[date, BeforeValidator(calendar_date)] = Field(
        description=f"The simulated day, YYYY-MM-DD: {FIRST_DAY} to {LAST_DAY} from the demand data, "
        f"to {LAST_FORECAST_DAY} as a forecast from it (the result's notes say so).",
    )
    replications: int = Field(default=20, ge=1, le=1000, description="Simulated days.")
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    walk_radius_m: float = Field(
        default=500.0, ge=0, le=5000, description="A rider at an empty station walks this far for a bike."
    )
    rebalance_every_min: int = Field(
        default=0,
        ge=0,
        le=1440,
        description="Daytime rebalancing by rules every N minutes, 07-22 h (0: none): stations below "
        "20 % of their docks are filled to half from stations above 80 % (`mobility simulate "
        "--rebalance-every`).",
    )
    fleet: str | None = Field(
        default=None,
        max_length=40,
        pattern=FLEET_RANGE,
        description="FIRST:LAST:STEP fleet sizes: a sweep of served share against fleet size.",
        examples=["20000:60000:5000"],
    )

    @model_validator(mode="after")
    def _one_source(self) -> SimulationRequest:
        if self.source is not None and self.stations is not None:
            given = ["source", "stations"]
            expected = "source or stations (the older name of a vintage source), not both"
            raise located((), problem("simulation_source", given, expected), given)
        if self.source is None:
            self.source = VintageSource(kind="vintage", stations=self.stations or "2025-12")
            self.stations = None
        return self

    @field_validator("day")
    @classmethod
    def _simulated(cls, v: date) -> date:
        """In the demand data's years or the forecast's (:data:`~mobility.simulation.days.SIMULATED_DAYS`)."""
        if not FIRST_DAY <= v <= LAST_FORECAST_DAY:
            raise problem("day_range", v.isoformat(), SIMULATED_DAYS)
        return v

    @field_validator("fleet")
    @classmethod
    def _fleet_points(cls, v: str | None) -> str | None:
        """``FIRST:LAST:STEP`` (whole numbers: :data:`FLEET_RANGE`) read as ``mobility simulate
        sweep --fleet`` reads it (:func:`~mobility.simulation.fleets.parse_fleet`): at most
        :data:`~mobility.simulation.fleets.MAX_FLEET_POINTS` sizes, counted before they are listed."""
        if v is not None:
            try:
                parse_fleet(v, field="fleet")
            except InputError as exc:
                raise problem("fleet", v, exc.expected) from exc
        return v

    def fleets(self) -> list[int]:
        """The sweep's fleet sizes (empty without ``fleet``): :func:`~mobility.simulation.fleets.parse_fleet`,
        as ``mobility simulate sweep --fleet`` reads them."""
        return [] if self.fleet is None else parse_fleet(self.fleet, field="fleet")


class StationListIn(_Strict):
    """A station list sent as content, stored for scenarios' ``baseline.station_list_id``."""

    name: str = Field(default="station list", min_length=1, max_length=200)
    stations: list[BaselineStation] = Field(min_length=1, max_length=MAX_BASELINE_STATIONS)

    @field_validator("stations")
    @classmethod
    def _unique(cls, stations: list[BaselineStation]) -> list[BaselineStation]:
        check_unique_ids(stations, "stations")
        return stations


class _StoredStationList(BaseModel):
    """What every view of a stored station list shows: who stored it, when, and for a CSV upload
    the rows left out and the values assumed."""

    id: str
    name: str
    author: str
    created_at: datetime
    dropped: dict[str, int] = Field(
        default_factory=dict,
        description="CSV uploads: rows left out, by reason (no id, coordinates outside Seoul, ...).",
    )
    assumed: dict[str, int] = Field(
        default_factory=dict, description="CSV uploads: values filled in, by what was assumed."
    )


class StationListInfo(_StoredStationList):
    """A stored station list (without its stations)."""

    stations: int
    docks: int


class StationListPage(BaseModel):
    """Stored station lists, newest first."""

    items: list[StationListInfo]
    total: int
    limit: int
    offset: int


class StationListDetail(_StoredStationList):
    """A stored station list with its stations."""

    stations: list[BaselineStation]


class SnapshotInfo(BaseModel):
    """A stored snapshot."""

    id: str
    name: str
    author: str
    stations: int
    bikes: int = Field(description="Bikes at all its stations together.")
    created_at: datetime


class SnapshotPage(BaseModel):
    """One page of stored snapshots, newest first."""

    items: list[SnapshotInfo]
    total: int
    limit: int
    offset: int


class ValidationProblem(BaseModel):
    """One invalid field of a request."""

    field: str = Field(examples=["body.fleet.trucks.0.capacity"])
    problem: str = Field(examples=["Input should be greater than or equal to 1"])
    type: str = Field(examples=["greater_than_equal"])


class ErrorBody(BaseModel):
    """Every error response: a message, and for 422 the invalid fields."""

    detail: str
    errors: list[ValidationProblem] = Field(default_factory=list)
    request_id: str | None = None


class KeyCreate(_Strict):
    """A new API key (admin only), optionally with an expiry."""

    role: Literal["planner", "ops", "viewer", "admin"]
    name: str = Field(min_length=1, max_length=100)
    expires_at: AwareDatetime | None = Field(
        default=None,
        description="When the key stops working (ISO 8601 with a time zone, in the future); "
        "none: until revoked.",
        examples=["2027-06-30T00:00:00+09:00"],
    )

    @field_validator("expires_at")
    @classmethod
    def _future(cls, v: datetime | None) -> datetime | None:
        if v is not None and v <= datetime.now(UTC):
            raise ValueError(f"got {v.isoformat()}; expected a time in the future")
        return v


class KeyInfo(BaseModel):
    """A key as listed: never the secret (nor its digest)."""

    id: str
    name: str
    role: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    active: bool = Field(description="Neither revoked nor expired.")


class KeyCreated(KeyInfo):
    """The new key; the secret is shown this once."""

    key: str


class AuditRecord(BaseModel):
    """One write request and the key that made it."""

    id: int
    at: datetime
    key_id: str
    key_name: str
    role: str
    method: str
    route: str = Field(examples=["/v1/scenarios"])
    path: str
    status: int
    target: str | None = Field(default=None, description="The created resource (Location), if any.")
    request_id: str | None = None


class AuditPage(BaseModel):
    """One page of the audit log, newest first."""

    items: list[AuditRecord]
    total: int
    limit: int
    offset: int


class Health(BaseModel):
    """Liveness / readiness."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


@cache
def dataset_info_model() -> type[BaseModel]:
    """One dataset of ``GET /v1/datasets``: a row of ``mobility data info``
    (:meth:`mobility.sources.catalog.DatasetInfo.to_dict`), its fields typed and described as the
    library's :class:`~mobility.sources.catalog.DatasetInfo` has them."""
    from mobility.quality import QualityReport
    from mobility.sources.catalog import Check, DatasetInfo

    check_fields = fields_of(Check, ["name", "passed", "detail"])
    check = part_model("DatasetCheck", "One check of the dataset.", check_fields, base=BaseModel)
    counted = attribute_docs(QualityReport)
    report = part_model(
        "QualityReport",
        "What happened to the rows of the dataset when it was loaded.",
        {
            **fields_of(QualityReport, ["dataset", "rows_read"]),
            "rows_kept": described(int, "Rows that made it into the table."),
            "dropped": described(dict[str, int], counted["dropped"]),
            "warnings": described(dict[str, int], counted["warnings"]),
            **fields_of(QualityReport, ["examples"]),
        },
        base=BaseModel,
    )
    described_first = ("name", "family", "relpath", "description", "exists", "size_bytes", "files")
    return part_model(
        "DatasetInfo",
        "One dataset of the server's data directory: what it is, whether it loads, its checks.",
        {
            **fields_of(DatasetInfo, [*described_first, "rows", "expected_rows", "period", "crs"]),
            "checks": (list_of(check), Field(description="Every check and its result.")),
            "report": described(report | None, "What happened to its rows (null when not loaded)."),
            **fields_of(DatasetInfo, ["error", "seconds", "cached"]),
            "path": described(str, "Its path in the data directory (relpath)."),
            "checks_passed": described(int, "Checks that passed."),
            "checks_failed": described(int, "Checks that failed."),
            "status": described(
                Literal["ok", "failed", "missing", "present"],
                "ok, failed (a check failed), missing (no file) or present (fingerprint only).",
            ),
        },
        base=BaseModel,
    )
