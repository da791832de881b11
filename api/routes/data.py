"""Stations (GeoJSON) and the dataset catalogue."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from typing import Annotated, Any

import pandas as pd
from cachetools import LRUCache, TTLCache
from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, require
from api.representations import StationCollection, list_of
from api.routes.common import FieldError, send_bytes, settle_heap
from api.schemas import SEOUL_BBOX, DatasetFamily, DistrictName, ErrorBody, dataset_info_model
from mobility.sources.catalog import dataset_info

router = APIRouter(prefix="/v1", tags=["data"])

_lock = threading.Lock()
_loading = threading.Lock()
_stations: dict[str, list[dict[str, Any]]] = {}


def _feature_rows(month: str) -> list[dict[str, Any]]:
    """Station rows of one vintage as plain dicts (loaded once per process: concurrent first
    requests wait for one load instead of each loading the list)."""
    with _lock:
        if month in _stations:
            return _stations[month]
    with _loading:
        with _lock:
            if month in _stations:
                return _stations[month]
        rows = _load_rows(month)
        with _lock:
            _stations[month] = rows
        settle_heap()
    return rows


def _load_rows(month: str) -> list[dict[str, Any]]:
    from mobility.sources.stations import load_station_list

    frame = load_station_list(month).table
    rows: list[dict[str, Any]] = []
    for rec in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for k, v in rec.items():
            if v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                v = None  # an unknown date is null, not "NaT"
            elif hasattr(v, "isoformat"):
                v = v.isoformat()
            elif hasattr(v, "item"):
                v = v.item()
            clean[str(k)] = v
        rows.append(clean)
    return rows


def station_table(month: str) -> pd.DataFrame:
    """The station list of one vintage as a table (from the rows loaded once per process), for
    filling what a status upload leaves out."""
    return pd.DataFrame(_feature_rows(month))


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` (WGS84) or 422 naming the problem."""
    parts = text.split(",")
    try:
        if len(parts) != 4:
            raise ValueError
        x0, y0, x1, y1 = (float(p) for p in parts)
    except ValueError:
        raise FieldError("query.bbox", f"got {text[:100]!r}; expected minlon,minlat,maxlon,maxlat") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x0 > x1 or y0 > y1:
        raise FieldError("query.bbox", f"got {text[:100]!r}; expected finite numbers with min <= max")
    if x1 < SEOUL_BBOX[0] or x0 > SEOUL_BBOX[2] or y1 < SEOUL_BBOX[1] or y0 > SEOUL_BBOX[3]:
        raise FieldError("query.bbox", f"{text[:100]!r} does not overlap Seoul {SEOUL_BBOX}")
    return x0, y0, x1, y1


@router.get(
    "/stations",
    summary="Stations as GeoJSON (filters: district, bbox)",
    response_model=StationCollection,  # sent as application/geo+json: api.openapi.GEOJSON_ONLY
    responses={
        200: {"description": "The stations as a GeoJSON FeatureCollection (RFC 7946, WGS84)."},
        304: {"description": "Not modified (If-None-Match)."},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
    },
)
async def stations(
    request: Request,
    _p: Annotated[Principal, Depends(require("read"))],
    district: Annotated[
        DistrictName | None,
        Query(max_length=40, description="Gu name, one of Seoul's 25 (e.g. 마포구).", examples=["마포구"]),
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
    key = (month, district, box)
    with _lock:  # a hit is served without a thread hop
        hit = _bodies.get(key)
    if hit is None:
        hit = await run_in_threadpool(_stations_body, month, district, box)
    body, etag = hit
    headers = {"Cache-Control": "private, max-age=3600", "Vary": "Accept-Encoding"}
    cache_key = ("stations", month, f"{district}|{box}")
    return await send_bytes(
        request, request.app.state.artifact_cache, cache_key, (body, "application/geo+json", etag), headers
    )


_bodies: LRUCache[tuple[str, str | None, tuple[float, ...] | None], tuple[bytes, str]] = LRUCache(maxsize=64)


def _stations_body(
    month: str, district: str | None, box: tuple[float, float, float, float] | None
) -> tuple[bytes, str]:
    """The serialized FeatureCollection and its ETag, remembered for the last 64 filters (a station
    list is fixed)."""
    key = (month, district, box)
    with _lock:
        hit = _bodies.get(key)
        if hit is not None:
            return hit
    feats = []
    for r in _feature_rows(month):
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
    doc = {"type": "FeatureCollection", "name": f"stations-{month}", "features": feats}
    body = json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8")
    made = (body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
    with _lock:
        _bodies[key] = made
    return made


DATASETS_TTL = 600.0
_datasets: TTLCache[str, list[dict[str, Any]]] = TTLCache(maxsize=32, ttl=DATASETS_TTL)


def _dataset_rows(family: str | None) -> list[dict[str, Any]]:
    """``dataset_info()`` as JSON rows, remembered for :data:`DATASETS_TTL` seconds."""
    key = family or "*"
    with _lock:
        hit = _datasets.get(key)
    if hit is not None:
        return hit
    infos = dataset_info(families=[family] if family else None)
    rows = [i.to_dict() if hasattr(i, "to_dict") else dict(vars(i)) for i in infos]
    rows = json.loads(json.dumps(rows, ensure_ascii=False, default=str))
    with _lock:
        _datasets[key] = rows
    return rows


@router.get(
    "/datasets",
    summary="The datasets this server has",
    response_model=list_of(dataset_info_model()),
    responses={503: {"model": ErrorBody}},
)
async def datasets(
    _p: Annotated[Principal, Depends(require("read"))],
    family: Annotated[
        DatasetFamily | None,
        Query(max_length=40, description="Only this family of the catalogue.", examples=["stations"]),
    ] = None,
) -> list[dict[str, Any]]:
    """What :func:`mobility.sources.catalog.dataset_info` reports: files, rows, period, checks."""
    return await run_in_threadpool(_dataset_rows, family)
