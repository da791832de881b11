"""Stations (GeoJSON) and the dataset catalogue."""

from __future__ import annotations

import importlib
import json
import math
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, require
from api.schemas import SEOUL_BBOX, ErrorBody

router = APIRouter(prefix="/v1", tags=["data"])

_lock = threading.Lock()
_stations: dict[str, list[dict[str, Any]]] = {}


def _feature_rows(month: str) -> list[dict[str, Any]]:
    """Station rows of one vintage as plain dicts (loaded once per process)."""
    with _lock:
        if month in _stations:
            return _stations[month]
    from mobility.sources.stations import load_station_list

    frame = load_station_list(month).table
    rows: list[dict[str, Any]] = []
    for rec in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for k, v in rec.items():
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif hasattr(v, "isoformat"):
                v = v.isoformat()
            elif hasattr(v, "item"):
                v = v.item()
            clean[str(k)] = v
        rows.append(clean)
    with _lock:
        _stations[month] = rows
    return rows


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` (WGS84) or 422 naming the problem."""
    parts = text.split(",")
    try:
        if len(parts) != 4:
            raise ValueError
        x0, y0, x1, y1 = (float(p) for p in parts)
    except ValueError:
        raise HTTPException(422, f"bbox: got {text[:100]!r}; expected minlon,minlat,maxlon,maxlat") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x0 > x1 or y0 > y1:
        raise HTTPException(422, f"bbox: got {text[:100]!r}; expected finite numbers with min <= max")
    if x1 < SEOUL_BBOX[0] or x0 > SEOUL_BBOX[2] or y1 < SEOUL_BBOX[1] or y0 > SEOUL_BBOX[3]:
        raise HTTPException(422, f"bbox: {text[:100]!r} does not overlap Seoul {SEOUL_BBOX}")
    return x0, y0, x1, y1


@router.get(
    "/stations",
    summary="Stations as GeoJSON (filters: district, bbox)",
    responses={
        200: {"content": {"application/geo+json": {}}},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
    },
)
async def stations(
    request: Request,
    _p: Annotated[Principal, Depends(require("read"))],
    district: Annotated[
        str | None, Query(max_length=40, description="Gu name, e.g. 마포구.", examples=["마포구"])
    ] = None,
    bbox: Annotated[
        str | None,
        Query(
            max_length=200,
            description="minlon,minlat,maxlon,maxlat (WGS84).",
            examples=["126.90,37.54,126.93,37.57"],
        ),
    ] = None,
) -> Response:
    """The current station list (vintage set by ``MOBILITY_STATION_MONTH``) as a FeatureCollection."""
    box = parse_bbox(bbox) if bbox else None
    month = request.app.state.settings.station_month
    rows = await run_in_threadpool(_feature_rows, month)
    feats = []
    for r in rows:
        lon, lat = r.get("lon"), r.get("lat")
        if lon is None or lat is None:
            continue
        if district and r.get("gu") != district:
            continue
        if box and not (box[0] <= lon <= box[2] and box[1] <= lat <= box[3]):
            continue
        props = {k: v for k, v in r.items() if k not in ("lon", "lat")}
        feats.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}
        )
    body = {"type": "FeatureCollection", "name": f"stations-{month}", "features": feats}
    return Response(json.dumps(body, ensure_ascii=False, default=str), media_type="application/geo+json")


@router.get("/datasets", summary="The datasets this server has", responses={503: {"model": ErrorBody}})
async def datasets(_p: Annotated[Principal, Depends(require("read"))]) -> Any:
    """What :func:`mobility.sources.catalog.dataset_info` reports (files, rows, checks)."""
    try:
        catalog = importlib.import_module("mobility.sources.catalog")
    except ImportError:
        raise HTTPException(503, "the dataset catalogue is not available on this server") from None
    info = await run_in_threadpool(catalog.dataset_info)
    return json.loads(json.dumps(info, ensure_ascii=False, default=str))
