"""Client for the Seoul OpenAPI (data.seoul.go.kr): real-time ``bikeList`` and ``tbCycleStationInfo``.

The service is ``http://openapi.seoul.go.kr:8088/{KEY}/json/{SERVICE}/{START}/{END}/`` with 1-based,
inclusive row ranges of at most 1,000 rows. A normal answer is wrapped in one object named after the
service (``rentBikeStatus`` for ``bikeList``, ``stationInfo`` for ``tbCycleStationInfo``) holding
``list_total_count``, ``RESULT`` (``CODE``/``MESSAGE``) and ``row``; an error is a bare
``{"RESULT": {"CODE": "INFO-100" | "ERROR-336" | ..., "MESSAGE": ...}}``. ``INFO-000`` means
success and ``INFO-200`` "no data" (an empty page).

Parsing (:func:`parse_page`) is pure and tested on recorded responses; only :class:`SeoulOpenAPI`
touches the network, and only when a user runs ``mobility data fetch`` with ``SEOUL_OPENAPI_KEY`` set.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from mobility.errors import InputError, MobilityError
from mobility.io import atomic_write_csv, atomic_write_json
from mobility.sources.base import DatasetSpec, Loaded
from mobility.sources.stations import parse_bike_list, stations_from_records

__all__ = [
    "BASE_URL",
    "DATASETS",
    "ENV_KEY",
    "PAGE_SIZE",
    "SERVICES",
    "OpenAPIPage",
    "SeoulOpenAPI",
    "SeoulOpenAPIError",
    "api_key_from_env",
    "page_ranges",
    "page_url",
    "parse_page",
    "station_info_to_csv",
]

BASE_URL = "http://openapi.seoul.go.kr:8088"
ENV_KEY = "SEOUL_OPENAPI_KEY"
PAGE_SIZE = 1000
"""The service returns at most 1,000 rows per request (ERROR-336 beyond)."""

SERVICES: dict[str, str] = {"bikeList": "rentBikeStatus", "tbCycleStationInfo": "stationInfo"}
"""Service name -> name of the object wrapping its answer."""

STATION_INFO_FIELDS: tuple[str, ...] = (
    "STA_LOC",
    "RENT_ID",
    "RENT_NO",
    "RENT_NM",
    "RENT_ID_NM",
    "HOLD_NUM",
    "STA_ADD1",
    "STA_ADD2",
    "STA_LAT",
    "STA_LONG",
    "RNUM",
)
"""Columns of a ``tbCycleStationInfo`` dump (the layout of the shared 2025-05 file)."""

OK_CODE = "INFO-000"
NO_DATA_CODE = "INFO-200"

DATASETS: list[DatasetSpec] = []
"""The OpenAPI is an online source: nothing in the data directory belongs to this module."""


class SeoulOpenAPIError(MobilityError):
    """The OpenAPI answered with an error code (bad key, too many rows, server error, ...)."""

    def __init__(self, code: str, message: str, url: str | None = None) -> None:
        self.code = code
        self.message = message
        self.url = url
        where = f" ({_redact(url)})" if url else ""
        super().__init__(f"Seoul OpenAPI error {code}: {message}{where}")


def _redact(url: str | None) -> str:
    """The URL with the API key replaced, so that errors and logs never show it."""
    if not url or not url.startswith(BASE_URL + "/"):
        return url or ""
    rest = url[len(BASE_URL) + 1 :]
    _key, _, tail = rest.partition("/")
    return f"{BASE_URL}/***/{tail}"


@dataclass(frozen=True)
class OpenAPIPage:
    """One parsed answer.

    Attributes
    ----------
    rows
        The ``row`` array (empty for ``INFO-200``).
    total
        ``list_total_count`` (0 when absent).
    code, message
        The ``RESULT`` of the answer.
    """

    rows: list[dict[str, Any]]
    total: int
    code: str
    message: str


def page_url(key: str, service: str, start: int, end: int) -> str:
    """``{BASE_URL}/{key}/json/{service}/{start}/{end}/``, validating the range."""
    if service not in SERVICES:
        raise InputError("service", service, f"one of {', '.join(SERVICES)}")
    if start < 1 or end < start or end - start + 1 > PAGE_SIZE:
        raise InputError("range", (start, end), f"1 <= start <= end and at most {PAGE_SIZE} rows")
    return f"{BASE_URL}/{key}/json/{service}/{start}/{end}/"


def page_ranges(total: int, page_size: int = PAGE_SIZE, first: int = 1) -> list[tuple[int, int]]:
    """The inclusive (start, end) ranges covering rows ``first..total``."""
    if page_size < 1 or page_size > PAGE_SIZE:
        raise InputError("page_size", page_size, f"1..{PAGE_SIZE}")
    return [(s, min(s + page_size - 1, total)) for s in range(first, total + 1, page_size)]


def parse_page(service: str, payload: Any, *, url: str | None = None) -> OpenAPIPage:
    """Parse one JSON answer of ``service``.

    Raises
    ------
    SeoulOpenAPIError
        When the answer carries an error code (anything but ``INFO-000`` / ``INFO-200``) or does
        not have the documented shape.
    """
    if service not in SERVICES:
        raise InputError("service", service, f"one of {', '.join(SERVICES)}")
    if not isinstance(payload, dict):
        raise SeoulOpenAPIError("BAD-SHAPE", f"expected a JSON object, got {type(payload).__name__}", url)
    body = payload.get(SERVICES[service])
    if body is None:
        body = payload  # a bare error envelope {"RESULT": {...}}
    if not isinstance(body, dict):
        raise SeoulOpenAPIError("BAD-SHAPE", f"'{SERVICES[service]}' is not an object", url)
    result = body.get("RESULT") or {}
    code = str(result.get("CODE", "")) if isinstance(result, dict) else ""
    message = str(result.get("MESSAGE", "")) if isinstance(result, dict) else ""
    if code == NO_DATA_CODE:
        return OpenAPIPage(rows=[], total=0, code=code, message=message)
    if code and code != OK_CODE:
        raise SeoulOpenAPIError(code, message, url)
    rows = body.get("row")
    if not isinstance(rows, list):
        keys = ", ".join(sorted(map(str, payload)))
        raise SeoulOpenAPIError("BAD-SHAPE", f"no 'row' array in the answer (keys: {keys})", url)
    try:
        total = int(body.get("list_total_count", len(rows)))
    except (TypeError, ValueError):
        total = len(rows)
    return OpenAPIPage(rows=rows, total=total, code=code or OK_CODE, message=message)


def api_key_from_env() -> str:
    """The key in ``SEOUL_OPENAPI_KEY``.

    Raises
    ------
    InputError
        When the variable is unset or empty.
    """
    key = os.environ.get(ENV_KEY, "").strip()
    if not key:
        raise InputError(
            ENV_KEY,
            None,
            "an OpenAPI key from https://data.seoul.go.kr (열린데이터광장 > 인증키 신청) in the environment",
        )
    return key


Progress = Callable[[int, int], None]
"""``progress(rows_done, rows_total)``."""


class SeoulOpenAPI:
    """A small paginating client.

    Parameters
    ----------
    key
        The API key (default: :func:`api_key_from_env`).
    client
        An ``httpx.Client`` (tests pass one with a mock transport); created when omitted.
    timeout
        Seconds per request.
    """

    def __init__(
        self, key: str | None = None, *, client: httpx.Client | None = None, timeout: float = 30.0
    ) -> None:
        self.key = key if key is not None else api_key_from_env()
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=True)
        self._owns_client = client is None

    def __enter__(self) -> SeoulOpenAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()

    def get_page(self, service: str, start: int, end: int) -> OpenAPIPage:
        """Fetch and parse rows ``start..end`` of ``service``."""
        url = page_url(self.key, service, start, end)
        try:
            response = self._client.get(url)
            response.raise_for_status()
            payload = response.json()
        except httpx.HTTPStatusError as exc:
            raise SeoulOpenAPIError(f"HTTP-{exc.response.status_code}", "request failed", url) from exc
        except httpx.HTTPError as exc:
            message = f"{type(exc).__name__}: {exc}".replace(self.key, "***") if self.key else str(exc)
            raise SeoulOpenAPIError("NETWORK", message, url) from exc
        except ValueError as exc:
            raise SeoulOpenAPIError("BAD-SHAPE", "the answer is not JSON", url) from exc
        return parse_page(service, payload, url=url)

    def fetch_all(
        self, service: str, *, page_size: int = PAGE_SIZE, progress: Progress | None = None
    ) -> list[dict[str, Any]]:
        """Every row of ``service``, page by page.

        ``list_total_count`` is the grand total for ``tbCycleStationInfo``, but clients of ``bikeList``
        page with fixed ranges (1-1000, 1001-2000, ...) because its count is reported per page; so
        the total is not trusted to stop: paging goes on while a page is full or the announced total
        is not reached, and stops at a short or empty page.
        """
        if page_size < 1 or page_size > PAGE_SIZE:
            raise InputError("page_size", page_size, f"1..{PAGE_SIZE}")
        rows: list[dict[str, Any]] = []
        total = 0
        while True:
            start = len(rows) + 1
            page = self.get_page(service, start, start + page_size - 1)
            rows.extend(page.rows)
            total = max(total, page.total, len(rows))
            if progress:
                progress(len(rows), total)
            full = len(page.rows) >= page_size
            if not page.rows or not (full or page.total > len(rows)):
                return rows

    def bike_list(
        self, *, progress: Progress | None = None
    ) -> tuple[list[dict[str, Any]], Loaded[pd.DataFrame]]:
        """The real-time station status (raw rows, parsed table)."""
        rows = self.fetch_all("bikeList", progress=progress)
        return rows, parse_bike_list(rows, origin="OpenAPI bikeList")

    def station_info(
        self, *, progress: Progress | None = None
    ) -> tuple[list[dict[str, Any]], Loaded[pd.DataFrame]]:
        """The current station list ``tbCycleStationInfo`` (raw rows, normalized table)."""
        rows = self.fetch_all("tbCycleStationInfo", progress=progress)
        return rows, stations_from_records(rows, source="api", origin="OpenAPI tbCycleStationInfo")


def station_info_to_csv(rows: list[dict[str, Any]]) -> str:
    """``tbCycleStationInfo`` rows as CSV text in the layout of the shared dump (paging fields dropped)."""
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=list(STATION_INFO_FIELDS), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in STATION_INFO_FIELDS})
    return buf.getvalue()


def write_station_info(rows: list[dict[str, Any]], target: Path) -> Path:
    """Write a station-info dump atomically (UTF-8 CSV with a byte-order mark,
    :func:`~mobility.io.atomic_write_csv`, readable by ``load_station_list``)."""
    return atomic_write_csv(target, station_info_to_csv(rows))


def write_bike_list(rows: list[dict[str, Any]], target: Path) -> Path:
    """Write a ``bikeList`` snapshot atomically as ``{"rentBikeStatus": {"row": [...]}}`` JSON."""
    payload = {"rentBikeStatus": {"list_total_count": len(rows), "row": rows}}
    return atomic_write_json(target, payload)
