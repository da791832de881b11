"""Station lists uploaded for expansion scenarios: store (JSON or CSV), list, fetch.

Over HTTP a scenario's baseline is a published vintage, the stations themselves
(``baseline.station_records``) or a list stored here (``baseline.station_list_id``); never a server
path. A CSV upload is read exactly as ``mobility plan`` reads a station file (encoding, header and
layout detection, the official OA-13252 download included, through
:func:`mobility.sources.stations.stations_from_csv_bytes`); the rows it leaves out and the values
it fills in are counted in the answer, never dropped silently.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import ValidationError

from api.auth import Principal, require
from api.db.models import StationList
from api.routes.common import (
    CSV_BODY,
    FieldError,
    created_responses,
    csv_upload,
    page_of,
    public_view,
    stored_upload,
    upload_or_404,
    upload_route,
)
from api.schemas import StationListDetail, StationListIn, StationListInfo, StationListPage
from mobility.errors import InputError, MobilityError

if TYPE_CHECKING:
    from mobility.scenario.expansion import BaselineStation

router = APIRouter(prefix="/v1/station-lists", tags=["station lists"])
BASE = "/v1/station-lists"

EXAMPLE: dict[str, Any] = {
    "name": "망원동 pilot",
    "stations": [
        {"station_id": "ST-10", "name": "망원역 1번출구 앞", "lat": 37.5556, "lon": 126.9105, "docks": 15},
        {"station_id": "ST-11", "name": "합정역 5번출구 앞", "lat": 37.5506, "lon": 126.9148, "docks": 10},
    ],
}

CREATED = created_responses(
    "Stored: the list's id, for scenarios' baseline.station_list_id.",
    "list_id",
    too_large=True,
    GetStationList=("GET", f"{BASE}/{{list_id}}"),
)


def _store(
    request: Request,
    response: Response,
    principal: Principal,
    upload: StationListIn,
    dropped: dict[str, int] | None = None,
    assumed: dict[str, int] | None = None,
) -> StationListInfo:
    data: dict[str, Any] = {"stations": [s.model_dump(mode="json") for s in upload.stations]}
    if dropped or assumed:  # what the CSV reader left out or filled in, shown with the list
        data["report"] = {"dropped": dropped or {}, "assumed": assumed or {}}
    rec = StationList(id=uuid.uuid4().hex, name=upload.name, author=principal.name, data=data)
    with request.app.state.sessions() as s:
        s.add(rec)
        s.commit()
        s.refresh(rec)
    response.headers["Location"] = f"{BASE}/{rec.id}"
    return _info(rec)


def _report(rec: StationList) -> dict[str, dict[str, int]]:
    """The rows left out and the values assumed when the list was stored (empty for JSON)."""
    report = rec.data.get("report") or {}
    return {"dropped": dict(report.get("dropped") or {}), "assumed": dict(report.get("assumed") or {})}


def _info(rec: StationList) -> StationListInfo:
    stations = rec.data["stations"]
    return public_view(
        StationListInfo,
        rec,
        stations=len(stations),
        docks=sum(int(s["docks"]) for s in stations),
        **_report(rec),
    )


@router.post(
    "", status_code=201, response_model=StationListInfo, summary="Store a station list", responses=CREATED
)
def store_station_list(
    request: Request,
    response: Response,
    upload: Annotated[StationListIn, Body(openapi_examples={"two stations": {"value": EXAMPLE}})],
    principal: Annotated[Principal, Depends(require("scenarios:write"))],
) -> StationListInfo:
    """Store stations sent as JSON; scenarios then name the list by ``baseline.station_list_id``."""
    return _store(request, response, principal, upload)


def records_from_csv(raw: bytes) -> tuple[list[BaselineStation], dict[str, int], dict[str, int]]:
    """Stations of a CSV upload, the rows left out (by reason) and the values assumed, as
    :func:`mobility.sources.stations.baseline_records` reads the table.

    Raises
    ------
    FieldError
        The CSV cannot be read, or a row is not a valid station (named by its row number).
    """
    from mobility.sources.stations import baseline_records, stations_from_csv_bytes

    try:
        loaded = stations_from_csv_bytes(raw, source="upload")
    except MobilityError as exc:
        raise FieldError("body", str(exc)) from exc
    try:
        records, dropped, assumed = baseline_records(loaded.table, loaded.report)
    except InputError as exc:
        raise FieldError(f"body {exc.field}", exc.expected) from exc
    if not records:
        raise FieldError("body", f"no usable station in the CSV (left out: {dropped or 'none'})")
    return records, dropped, assumed


@router.post(
    "/csv",
    status_code=201,
    response_model=StationListInfo,
    summary="Store a station list from a CSV file",
    responses=CREATED,
    openapi_extra=CSV_BODY,
)
async def store_station_list_csv(
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(require("scenarios:write"))],
    name: Annotated[str, Query(min_length=1, max_length=200)] = "station list",
) -> StationListInfo:
    """Store a station file's content (any layout ``mobility plan`` reads: the official download,
    cp949 or UTF-8). The answer counts the rows left out and the values assumed."""
    records, dropped, assumed = await csv_upload(request, "a station table", records_from_csv)
    try:
        upload = StationListIn(name=name, stations=records)
    except ValidationError as exc:
        raise FieldError("body", str(exc.errors()[0]["msg"])) from exc
    return _store(request, response, principal, upload, dropped, assumed)


@router.get("", response_model=StationListPage, summary="List stored station lists (newest first)")
def list_station_lists(
    request: Request,
    _p: Annotated[Principal, Depends(require("read"))],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> StationListPage:
    """Page through the stored lists (names and counts, not their stations)."""
    newest = (StationList.created_at.desc(),)
    total, items = page_of(request, StationList, _info, (), newest, (limit, offset))
    return StationListPage(items=items, total=total, limit=limit, offset=offset)


@upload_route(router, "/{list_id}", StationListDetail, "A stored station list")
def get_station_list(
    request: Request, list_id: str, _p: Annotated[Principal, Depends(require("read"))]
) -> StationListDetail:
    """A stored list: its id, name, author, the upload's report (rows left out, values assumed)
    and its stations (the ``stations`` to send again with ``POST /v1/station-lists``)."""
    rec = upload_or_404(request, StationList, list_id, "station list")
    return public_view(StationListDetail, rec, stations=rec.data["stations"], **_report(rec))


def resolve_baseline(request: Request, scenario: dict[str, Any], field: str) -> dict[str, Any]:
    """``scenario`` (a ScenarioRequest dumped to JSON) with a ``baseline.station_list_id`` replaced
    by the stored stations, so that the job's inputs are whole; 422 naming ``field`` if unknown."""
    baseline = scenario.get("baseline") or {}
    list_id = baseline.get("station_list_id")
    if list_id is None:
        return scenario
    rec = stored_upload(
        request,
        StationList,
        list_id,
        lambda: FieldError(field, f"got {list_id!r}; expected the id of a stored station list (GET {BASE})"),
    )
    resolved = {k: v for k, v in baseline.items() if k not in ("station_list_id", "stations")}
    resolved["station_records"] = rec.data["stations"]
    return scenario | {"baseline": resolved}
