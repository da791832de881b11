"""Request and response bodies of the HTTP API (pydantic), with their ranges and examples.

Scenario submissions use :class:`mobility.scenario.expansion.ExpansionScenario` itself (the YAML
schema of ``scenarios/``); rebalancing runs use :class:`RebalancingRunRequest` below.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# (min lon, min lat, max lon, max lat) around Seoul (mobility.sources.stations.SEOUL_BBOX).
SEOUL_BBOX: tuple[float, float, float, float] = (126.73, 37.40, 127.28, 37.72)
MAX_STATIONS = 5000
MAX_TRUCKS = 200
MAX_DEPOTS = 50

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Lon = Field(ge=SEOUL_BBOX[0], le=SEOUL_BBOX[2], description="Longitude (WGS84) inside Seoul's bounding box.")
Lat = Field(ge=SEOUL_BBOX[1], le=SEOUL_BBOX[3], description="Latitude (WGS84) inside Seoul's bounding box.")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobError(BaseModel):
    """Why a job failed (never a stack trace)."""

    type: str = Field(examples=["InputError"])
    message: str = Field(examples=["baseline.stations: got '2030-01'; expected a known vintage"])
    field: str | None = None


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
    "kpis": {"new_stations": 600, "total_bikes": 30000, "siting_status": "feasible"},
    "error": None,
    "links": {
        "self": "/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b",
        "plan": "/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b/plan",
    },
}


class JobInfo(BaseModel):
    """Status of a scenario job or rebalancing run."""

    model_config = ConfigDict(json_schema_extra={"examples": [JOB_EXAMPLE]})

    id: str = Field(examples=["3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b"])
    kind: Literal["scenario", "rebalancing", "sweep"]
    name: str | None = Field(default=None, description="The scenario's name, if any.")
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    message: str | None = None
    author: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int
    time_limit: float
    kpis: dict[str, Any] | None = Field(default=None, description="Key figures, once succeeded.")
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


class StationInventory(_Strict):
    """One station of an evening snapshot."""

    station_id: str = Field(min_length=1, max_length=40, examples=["ST-4"])
    name: str = Field(default="", max_length=200)
    lon: float = Lon
    lat: float = Lat
    bikes: int = Field(ge=0, le=1000, description="Bikes at the station now.")
    docks: int = Field(ge=0, le=1000, description="Docks of the station.")
    target: int | None = Field(default=None, ge=0, le=1000, description="Bikes wanted by the morning.")
    target_low: int | None = Field(default=None, ge=0, le=1000)
    target_high: int | None = Field(default=None, ge=0, le=1000)

    @model_validator(mode="after")
    def _band(self) -> StationInventory:
        if (
            self.target_low is not None
            and self.target_high is not None
            and self.target_low > self.target_high
        ):
            raise ValueError("target_low must not exceed target_high")
        return self


class SnapshotIn(_Strict):
    """An evening inventory of stations (stored for later runs, or inline in a run)."""

    name: str = Field(default="snapshot", min_length=1, max_length=200)
    stations: list[StationInventory] = Field(min_length=1, max_length=MAX_STATIONS)

    @model_validator(mode="after")
    def _unique(self) -> SnapshotIn:
        seen: set[str] = set()
        for i, s in enumerate(self.stations):
            if s.station_id in seen:
                raise ValueError(f"stations[{i}].station_id {s.station_id!r} appears twice")
            seen.add(s.station_id)
        return self


class DepotIn(_Strict):
    """An operations centre."""

    id: str = Field(min_length=1, max_length=40, examples=["D1"])
    name: str = Field(default="", max_length=200)
    lon: float = Lon
    lat: float = Lat


class TruckIn(_Strict):
    """A truck and its shift (seconds since midnight of the evening: 22:00 = 79200)."""

    id: str = Field(min_length=1, max_length=40, examples=["T01"])
    depot: str = Field(min_length=1, max_length=40)
    capacity: int = Field(ge=1, le=200)
    shift_start: float = Field(default=79200, ge=0, le=172800)
    shift_end: float = Field(default=108000, ge=0, le=172800)

    @model_validator(mode="after")
    def _shift(self) -> TruckIn:
        if self.shift_end <= self.shift_start:
            raise ValueError("shift_end must be after shift_start")
        return self


class FleetIn(_Strict):
    """Depots and trucks available tonight."""

    depots: list[DepotIn] = Field(min_length=1, max_length=MAX_DEPOTS)
    trucks: list[TruckIn] = Field(min_length=1, max_length=MAX_TRUCKS)

    @model_validator(mode="after")
    def _refs(self) -> FleetIn:
        ids = {d.id for d in self.depots}
        for i, t in enumerate(self.trucks):
            if t.depot not in ids:
                raise ValueError(f"trucks[{i}].depot {t.depot!r} is not one of the depots {sorted(ids)}")
        return self


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
    """How trucks travel (see :func:`api.runners.travel_for`)."""

    network: Literal["osm-drive", "osm-all", "moct", "moct+ktdb", "ktdb", "straight"] = Field(
        default="osm-drive",
        description="Street network for driving times, or `straight` (great-circle x detour at a speed). "
        "When the network's data is missing on the worker, straight lines are used and the plan says so.",
    )
    profile: Literal["truck_night", "truck"] = Field(
        default="truck_night", description="Night or day truck speeds on the street network."
    )
    detour: float = Field(
        default=1.35, ge=1.0, le=5.0, description="Straight lines: road / great-circle distance ratio."
    )
    speed_kmh: float = Field(default=20.0, ge=1.0, le=120.0, description="Straight lines: driving speed.")


class RebalancingRunRequest(_Strict):
    """A nightly rebalancing run: a snapshot (inline or stored) and the fleet.

    Exactly one of ``snapshot`` and ``snapshot_id`` is given. ``options`` are passed to the
    nightly solver (see the rebalancing section of the README).
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [REBALANCING_EXAMPLE]})

    name: str = Field(default="rebalancing", min_length=1, max_length=200)
    snapshot: SnapshotIn | None = None
    snapshot_id: str | None = Field(default=None, min_length=1, max_length=32)
    fleet: FleetIn
    time_limit: float | None = Field(default=None, gt=0, le=86400, description="Solver seconds.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    options: RebalancingOptions = Field(default_factory=RebalancingOptions)

    @model_validator(mode="after")
    def _one_snapshot(self) -> RebalancingRunRequest:
        if (self.snapshot is None) == (self.snapshot_id is None):
            raise ValueError("give exactly one of snapshot (inline) and snapshot_id (stored)")
        return self


class SnapshotInfo(BaseModel):
    """A stored snapshot."""

    id: str
    name: str
    author: str
    stations: int
    created_at: datetime


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
    """A new API key (admin only)."""

    role: Literal["planner", "ops", "viewer", "admin"]
    name: str = Field(min_length=1, max_length=100)


class KeyCreated(BaseModel):
    """The new key; the secret is shown this once."""

    id: str
    name: str
    role: str
    key: str


class Health(BaseModel):
    """Liveness / readiness."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
