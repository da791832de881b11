"""Nightly rebalancing: store snapshots, submit runs, inspect, cancel, fetch routes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field

from api.auth import Principal, require
from api.db.models import Snapshot
from api.formats import register_format
from api.routes.common import (
    CSV_BODY,
    FieldError,
    IdempotencyKey,
    accepted_response,
    add_artifact_route,
    add_job_routes,
    check_time_limit,
    created_responses,
    csv_upload,
    input_problem,
    page_of,
    public_view,
    stored_input,
    submission,
    submit_job,
    upload_or_404,
    upload_route,
)
from api.routes.data import station_table
from api.schemas import (
    MORNING_DATE,
    REBALANCING_EXAMPLE,
    Accepted,
    RebalancingRunRequest,
    SnapshotIn,
    SnapshotInfo,
    SnapshotPage,
)
from mobility.errors import MobilityError
from mobility.quality import QualityReport
from mobility.rebalancing.build import complete_snapshot
from mobility.rebalancing.snapshot import (
    MAX_PROBLEMS,
    SnapshotInputError,
    StatusSnapshot,
    file_lines,
    flag_overflow,
    keep_file_lines,
    narrowed,
    snapshot_from_csv,
    station_name,
)
from mobility.simulation.days import morning_night_problem

router = APIRouter(prefix="/v1/rebalancing", tags=["rebalancing"])


class StoredSnapshot(SnapshotInfo):
    """A snapshot just stored, with what its stations show that may be a mistake."""

    notes: list[str] = Field(
        default_factory=list,
        description="Stations kept but flagged, as `mobility rebalance` notes them: one line per "
        "reason with the count and the first stations, e.g. far more bikes than docks (a typo?).",
        examples=[
            [
                "1 status row of 2 kept but flagged (more bikes than docks + 10, the most the demand "
                "model lets a station hold; a typo?): ST-4 on line 2 (300 bikes, 15 docks)"
            ]
        ],
    )


@router.post(
    "/snapshots",
    status_code=201,
    response_model=StoredSnapshot,
    summary="Store a snapshot",
    responses=created_responses(
        "Stored: the snapshot's id, for runs' snapshot_id.",
        "snapshot_id",
        GetSnapshot=("GET", "/v1/rebalancing/snapshots/{snapshot_id}"),
    ),
)
def store_snapshot(
    request: Request,
    response: Response,
    snapshot: Annotated[
        SnapshotIn, Body(openapi_examples={"two stations": {"value": REBALANCING_EXAMPLE["snapshot"]}})
    ],
    principal: Annotated[Principal, Depends(require("rebalancing:write"))],
) -> StoredSnapshot:
    """Store an evening inventory so that runs can reference it by ``snapshot_id``; the answer's
    ``notes`` flag stations kept as they are but likely mistyped (far more bikes than docks)."""
    return _store(request, response, principal, snapshot)


@router.post(
    "/snapshots/csv",
    status_code=201,
    response_model=StoredSnapshot,
    summary="Store a snapshot from a status CSV",
    responses=created_responses(
        "Stored: the snapshot's id, for runs' snapshot_id.",
        "snapshot_id",
        too_large=True,
        GetSnapshot=("GET", "/v1/rebalancing/snapshots/{snapshot_id}"),
    ),
    openapi_extra=CSV_BODY,
)
async def store_snapshot_csv(
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(require("rebalancing:write"))],
    name: Annotated[str, Query(min_length=1, max_length=200)] = "snapshot",
) -> StoredSnapshot:
    """Store a status table (columns ``station_id`` or ``number``, ``bikes``, and any of ``name,
    lon, lat, docks, target, target_low, target_high``, as ``mobility rebalance --status`` reads it,
    e.g. the file of ``mobility demand snapshot``; comma-, tab- or semicolon-separated; headers as
    Seoul's station data names them, ``대여소번호`` for ``number``, are read too), read by the
    library's reader (:func:`mobility.rebalancing.snapshot.snapshot_from_csv`). A station may leave
    out its name, position and docks when the published station list (``GET /v1/stations``) has
    them: they are taken from it, by ``number`` then ``station_id``
    (:func:`mobility.rebalancing.build.complete_snapshot`); a station known by its number only is
    stored so (``station_id`` null). A bad value is a 422 naming the station, the column and the
    line of the file (``body[ST-4].bikes (line 3)``); a station the list lacks, its id or number
    as the file gives it (``body[ST-99999].station_id (line 4)``, ``body[number 999999].number
    (line 5)``); an id and a number the list pairs otherwise, both; a row with neither, its line
    (``body[line 6].station_id``). Far more bikes than docks is kept, and said in ``notes``."""
    month = request.app.state.settings.station_month
    snapshot = await csv_upload(request, "a status table", lambda raw: _read_status(raw, name, month))
    return _store(request, response, principal, snapshot)


def _read_status(raw: bytes, name: str, month: str) -> SnapshotIn:
    """:func:`_completed_status`; a 422 lists every invalid value (at most 20), not only the first."""
    try:
        return _completed_status(raw, name, month)
    except SnapshotInputError as exc:
        if len(exc.problems) == 1:
            raise
        shown = [input_problem(p) for p in exc.problems]
        errors = [{"loc": (field,), "msg": problem, "type": "input_error"} for field, problem in shown]
        raise RequestValidationError(errors) from exc


def _completed_status(raw: bytes, name: str, month: str) -> SnapshotIn:
    """The library's reader, then :func:`_completed`. A table with invalid values has its other
    rows (:attr:`~mobility.rebalancing.snapshot.SnapshotInputError.rest`) completed too, so that
    one 422 lists the invalid values and the stations the station list lacks alike."""
    try:
        snapshot: StatusSnapshot = snapshot_from_csv(raw, name=name, label="body")
    except SnapshotInputError as exc:
        if exc.rest is None:
            raise
        try:
            _completed(exc.rest, month)
        except SnapshotInputError as more:
            raise SnapshotInputError([*exc.problems, *more.problems][:MAX_PROBLEMS]) from exc
        except MobilityError:  # no station list to check the rest against: the values' problems
            pass
        raise
    return _completed(snapshot, month)


def _completed(snapshot: StatusSnapshot, month: str) -> SnapshotIn:
    """``snapshot`` as the API stores it: when a station lacks its position or docks, the
    published station list fills them (and missing names, districts) as ``mobility rebalance``
    does."""
    if all(s.lon is not None and s.lat is not None and s.docks is not None for s in snapshot.stations):
        return narrowed(snapshot, SnapshotIn, label="body")
    listed = f"the station list ({month}, GET /v1/stations)"
    table = station_table(month)
    completed = complete_snapshot(snapshot, table, listed=listed, label="body", model=SnapshotIn)
    with_districts = _with_districts(completed, table)
    keep_file_lines(with_districts, file_lines(completed))  # for the answer's notes
    return with_districts


def _with_districts(snapshot: SnapshotIn, stations: pd.DataFrame) -> SnapshotIn:
    """``snapshot`` with each station's missing ``gu`` taken from the station list, as its name,
    position and docks are (by ``number``, then ``station_id``)."""
    if "gu" not in stations.columns or all(s.gu is not None for s in snapshot.stations):
        return snapshot
    by_key: dict[str, dict[object, str]] = {}
    for key in ("number", "station_id"):
        if key in stations.columns:
            rows = stations[[key, "gu"]].dropna()
            by_key[key] = {_listed_key(k): str(g) for k, g in zip(rows[key], rows["gu"], strict=True)}
    filled = []
    for s in snapshot.stations:
        gu = s.gu
        if gu is None and s.number is not None:
            gu = by_key.get("number", {}).get(s.number)
        if gu is None and s.station_id is not None:
            gu = by_key.get("station_id", {}).get(s.station_id)
        filled.append(s if gu == s.gu else s.model_copy(update={"gu": gu}))
    return snapshot.model_copy(update={"stations": tuple(filled)})


def _listed_key(value: object) -> object:
    """A station list's key as a snapshot holds it (a whole-number float as ``int``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _store(
    request: Request, response: Response, principal: Principal, snapshot: SnapshotIn
) -> StoredSnapshot:
    rec = Snapshot(id=uuid.uuid4().hex, name=snapshot.name, author=principal.name, data=snapshot.to_dict())
    with request.app.state.sessions() as s:
        s.add(rec)
        s.commit()
    response.headers["Location"] = f"/v1/rebalancing/snapshots/{rec.id}"
    return StoredSnapshot(**_snapshot_info(rec).model_dump(), notes=_notes(snapshot))


def _notes(snapshot: SnapshotIn) -> list[str]:
    """The stations of ``snapshot`` kept but flagged, as ``mobility rebalance`` notes them
    (:func:`~mobility.rebalancing.night.status_notes`): far more bikes than docks
    (:func:`~mobility.rebalancing.snapshot.flag_overflow`), each named by its line of the file too."""
    from mobility.rebalancing.night import status_notes

    lines = file_lines(snapshot)
    names = [
        (station_name(s.station_id, s.number) or s.key) + (f" on line {lines[i]}" if lines else "")
        for i, s in enumerate(snapshot.stations)
    ]
    report = QualityReport("status snapshot", rows_read=len(snapshot.stations))
    stations = snapshot.stations
    flag_overflow(
        report, names, pd.Series([s.bikes for s in stations]), pd.Series([s.docks for s in stations])
    )
    return status_notes(report)


def _snapshot_info(rec: Snapshot) -> SnapshotInfo:
    stations = rec.data.get("stations", [])
    bikes = sum(int(s.get("bikes", 0)) for s in stations)
    return public_view(SnapshotInfo, rec, stations=len(stations), bikes=bikes)


@router.get("/snapshots", response_model=SnapshotPage, summary="List stored snapshots (newest first)")
def list_snapshots(
    request: Request,
    _p: Annotated[Principal, Depends(require("read"))],
    author: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SnapshotPage:
    """Page through the stored snapshots (id, name, author, station count), so that a run can
    pick one by ``snapshot_id`` (the web app's night form lists them)."""
    cond = [Snapshot.author == author] if author else []
    order = (Snapshot.created_at.desc(), Snapshot.id)
    total, items = page_of(request, Snapshot, _snapshot_info, cond, order, (limit, offset))
    return SnapshotPage(items=items, total=total, limit=limit, offset=offset)


@upload_route(router, "/snapshots/{snapshot_id}", SnapshotIn, "A stored snapshot")
def get_snapshot(
    request: Request, snapshot_id: str, _p: Annotated[Principal, Depends(require("read"))]
) -> SnapshotIn:
    """The stations of a stored snapshot."""
    return SnapshotIn.model_validate(upload_or_404(request, Snapshot, snapshot_id, "snapshot").data)


@submission(
    router,
    "/runs",
    "Submit a rebalancing run",
    accepted=accepted_response("rebalancing", "Run", "routes"),
)
def submit_run(
    request: Request,
    response: Response,
    run: Annotated[RebalancingRunRequest, Body(openapi_examples={"tonight": {"value": REBALANCING_EXAMPLE}})],
    principal: Annotated[Principal, Depends(require("rebalancing:write"))],
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue a run over an inline snapshot or a stored one (``snapshot_id``; 422 naming
    ``body.snapshot_id`` when no such snapshot is stored, as for simulations)."""
    settings = request.app.state.settings
    limit = float(run.time_limit or settings.default_time_limit)
    check_time_limit(request, limit, "body.time_limit")
    body = run.model_dump(mode="json", by_alias=True)
    body["time_limit"] = limit
    if run.snapshot_id is not None:
        body["snapshot"] = stored_input(request, Snapshot, run.snapshot_id, "body.snapshot_id").data
        stored_date = body["snapshot"].get("date")
        refused = run.demand_refused(date.fromisoformat(str(stored_date)) if stored_date else None)
        if refused is not None:
            loc, value, expected = refused
            if loc == ("snapshot", "date"):  # the stored snapshot's
                raise FieldError("body.snapshot_id", f"its date: got {value!r}; expected {expected}")
            raise FieldError("body." + ".".join(loc), f"got {value!r}; expected {expected}")
        if run.morning_undated:
            dated = body["snapshot"].get("date")
            if dated is None:
                raise FieldError("body.morning_after.night", f"missing; expected {MORNING_DATE}")
            why = morning_night_problem(date.fromisoformat(str(dated)))
            if why is not None:
                raise FieldError(
                    "body.morning_after.night", f"{why} (the snapshot's date; give morning_after.night)"
                )
    return submit_job(
        request,
        response,
        kind="rebalancing",
        inputs=body,
        principal=principal,
        idempotency_key=idempotency_key,
        time_limit=limit + settings.job_overhead_seconds,
    )


add_job_routes(
    router,
    "rebalancing",
    noun="run",
    listed_as="rebalancing runs",
    write_role="rebalancing:write",
    shows="totals",
)


add_artifact_route(
    router,
    "rebalancing",
    "routes",
    summary="Truck routes as JSON, GeoJSON or a CSV route sheet",
    doc="The ``routes.json`` document of the run, or its GeoJSON / CSV route sheet.",
)

register_format("morning", "json", "application/json", lambda body: body, "json")
add_artifact_route(
    router,
    "rebalancing",
    "morning",
    summary="The simulated morning after the run's night (JSON)",
    doc="The ``morning.json`` document of a run submitted with ``morning_after``: riders lost at "
    "empty stations and finding full docks until 10:00, with no rebalancing, the greedy dispatcher "
    "and the run's routes (404 when the run did not simulate it).",
    formats="morning",
)
