"""Map and GIS exports of finished jobs: HTML map, PNG/SVG, GeoPackage, GBFS, GeoJSON layers, CSV sheets.

Each export is rendered by :mod:`mobility.export` from the job's stored JSON artifact (``plan``
of a scenario, ``routes`` of a rebalancing run) the first time it is asked for (or, for the
GeoJSON layers of a plan, by its job as it finishes: :func:`prerender`), in a worker
thread, and stored as a job artifact named ``export:<file>`` (``export:map.html``,
``export:gbfs/station_status.json``). Later requests, from this or another API process, serve
the stored bytes (and from memory after the first read, with an ETag and gzip for text formats).
Job outputs are immutable once the job has succeeded, so a stored export never goes stale.

Folder formats (GBFS feeds, GeoJSON layers, CSV route sheets) are rendered as a whole and stored
with an index (``export:gbfs/``) listing their files, so an unknown file name is a 404 without a
new rendering. The GBFS feed URLs in ``gbfs.json`` are written against a placeholder and set to
this server's URL when served: its public URL (``MOBILITY_PUBLIC_URL``), else the request's
when its ``Host`` is trusted (``MOBILITY_TRUSTED_HOSTS``; :func:`feed_base`).

Errors follow the job routes: 404 for an unknown job or file, 409 while the job is not succeeded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from cachetools import LRUCache
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, require
from api.db.models import Job, JobArtifact
from api.routes.common import JOB_BASES, ArtifactCache, send_bytes
from api.schemas import ErrorBody
from mobility.errors import InputError

if TYPE_CHECKING:
    from mobility.export.layers import MapLayers, NightStations
    from mobility.rebalancing.problem import RebalancingProblem

log = logging.getLogger("mobility.api.maps")

router = APIRouter(tags=["maps"])

PREFIX = "export:"
GBFS_PLACEHOLDER = "http://mobility.invalid/__gbfs__/"
"""Base URL the GBFS feeds are rendered with; replaced by the serving URL in responses."""

SOURCE = {"scenario": "plan", "rebalancing": "routes"}
"""The stored JSON artifact each job kind's exports are drawn from."""

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".gpkg": "application/geopackage+sqlite3",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".csv": "text/csv; charset=utf-8",
}
_TEXT = (".html", ".svg", ".json", ".geojson", ".csv")
_INLINE = (".html", ".png", ".svg", ".json", ".geojson")


@dataclass(frozen=True)
class Group:
    """One ``mobility.export`` format: ``folder`` ones write several files (stored under ``name/``)."""

    name: str
    fmt: str
    folder: bool


GROUPS = {
    "map.html": Group("map.html", "html", False),
    "map.png": Group("map.png", "png", False),
    "map.svg": Group("map.svg", "svg", False),
    "gpkg": Group("layers.gpkg", "gpkg", False),
    "gbfs": Group("gbfs", "gbfs", True),
    "layers": Group("layers", "geojson", True),
    "sheets": Group("sheets", "csv", True),
}


class _Renderer:
    """Renders exports one at a time per process (matplotlib's pyplot state is global, and a
    2-core server should not draw several maps at once); remembers the last jobs' layers."""

    def __init__(self, keep: int = 4) -> None:
        self.lock = threading.Lock()
        self._layers: LRUCache[str, MapLayers] = LRUCache(maxsize=keep)

    def layers(
        self, job_id: str, source: bytes, *, remember: bool = True, night: NightStations | None = None
    ) -> MapLayers:
        from mobility.config import resolve_data_dir
        from mobility.export.layers import load_layers

        hit = self._layers.get(job_id)
        if hit is None:
            hit = load_layers(json.loads(source), resolve_data_dir(), problem=night)
            if remember:
                self._layers[job_id] = hit
        return hit

    def render(
        self,
        job_id: str,
        source: bytes,
        group: Group,
        *,
        remember: bool = True,
        night: NightStations | None = None,
    ) -> dict[str, bytes]:
        """Files of ``group`` for the job, by artifact name (without the prefix); ``remember``:
        keep the job's layers for its next export (an API process; not a worker); ``night``: the
        stations a rebalancing run was solved over (:func:`run_stations`)."""
        from mobility.export import export_layers

        layers = self.layers(job_id, source, remember=remember, night=night)
        with tempfile.TemporaryDirectory(prefix="mobility-export-") as tmp:
            out = Path(tmp) / (group.name if not group.folder else "out")
            if group.fmt == "gpkg":
                out = Path(tmp) / "export.gpkg"
            written = export_layers(layers, group.fmt, out, base_url=GBFS_PLACEHOLDER)
            if not group.folder:
                return {group.name: written[0].read_bytes()}
            files = {f"{group.name}/{p.name}": p.read_bytes() for p in written}
        files[f"{group.name}/"] = json.dumps(sorted(files), ensure_ascii=False).encode("utf-8")
        return files


_RENDERER = _Renderer()


def prerender(job_id: str, plan: bytes) -> dict[str, tuple[str, bytes]]:
    """A finished scenario job's GeoJSON layers (coverage, districts, stations) as artifacts
    (``export:layers/<file>`` -> ``(media type, bytes)``), stored with its plan: the web app's map
    asks for them on every plan view, and the first visitor should not wait for them (about 0.9 s
    for a city plan). Every other export is rendered on its first request. Called by the job
    runner, in the worker, which does not keep the layers afterwards."""
    with _RENDERER.lock:
        files = _RENDERER.render(job_id, plan, GROUPS["layers"], remember=False)
    return {PREFIX + name: (_media_type(name), body) for name, body in files.items()}


def night_maps(routes: dict[str, Any], problem: RebalancingProblem) -> dict[str, tuple[str, bytes]]:
    """A finished rebalancing job's maps over its own snapshot (``routes.json`` does not carry the
    snapshot's stations), stored as the exports ``export:map.html`` / ``.png`` / ``.svg`` are, so
    that ``/maps`` serves them instead of drawing the routes over the nominal network. Called by
    the job runner, in the worker, with the problem the routes were solved over."""
    from mobility.export import night_map_files

    with _RENDERER.lock:  # pyplot's state is global: one drawing per process
        files = night_map_files(routes, problem)
    return {PREFIX + name: (_media_type(name), body) for name, body in files.items()}


def run_stations(inputs: dict[str, Any]) -> NightStations | None:
    """The stations of the snapshot a rebalancing run was solved over (its stored request's
    ``snapshot``), read by the library's one reader of a night's stations
    (:func:`mobility.rebalancing.night.snapshot_stations`, as ``mobility export --status``), so
    that its GeoPackage and GeoJSON layers show the night's stations and bikes as its maps do
    (:func:`night_maps`), not the published network with estimated bikes. None when the request
    has no snapshot."""
    from mobility.export.layers import NightStations
    from mobility.rebalancing.night import snapshot_stations
    from mobility.rebalancing.snapshot import StatusSnapshot

    if not inputs.get("snapshot"):
        return None
    snapshot, table, _report = snapshot_stations(StatusSnapshot.model_validate(inputs["snapshot"]))
    return NightStations.of_table(table, snapshot.name or "snapshot")


def _media_type(name: str) -> str:
    return MEDIA_TYPES.get(Path(name).suffix, "application/json")


def _store(sessions: sessionmaker[Session], job_id: str, files: dict[str, bytes]) -> None:
    """Save rendered files as artifacts; another process may have saved them first (kept)."""
    with sessions() as s:
        for name, body in files.items():
            s.add(JobArtifact.of(job_id, PREFIX + name, _media_type(name), body))
        try:
            s.commit()
        except IntegrityError:
            s.rollback()
            log.info("exports of job %s were stored by another process", job_id)


def _artifact(s: Session, job_id: str, name: str) -> tuple[bytes, str] | None:
    art = s.get(JobArtifact, (job_id, PREFIX + name))
    return None if art is None else (art.body, art.sha256)


def load_export(
    sessions: sessionmaker[Session], kind: str, job_id: str, group: Group, filename: str
) -> tuple[bytes, str]:
    """Stored bytes and SHA-256 of one export file, rendering its group first if needed.

    Blocking (database, rendering): call it in a worker thread. Raises 404 / 409.
    """
    name = f"{group.name}/{filename}" if group.folder else group.name

    def lookup() -> tuple[bytes, str] | None:
        with sessions() as s:
            job = s.get(Job, job_id)
            if job is None or job.kind != kind:
                raise HTTPException(404, f"no {kind} job {job_id!r}")
            if job.status != "succeeded":
                raise HTTPException(409, f"job {job_id} is {job.status}; maps exist once it has succeeded")
            found = _artifact(s, job_id, name)
            if found is None and group.folder and _artifact(s, job_id, f"{group.name}/") is not None:
                raise HTTPException(404, f"job {job_id} has no {name}")
            return found

    found = lookup()
    if found is not None:
        return found
    with _RENDERER.lock:
        found = lookup()  # rendered by another request while this one waited
        if found is not None:
            return found
        with sessions() as s:
            source = _artifact_body(s, job_id, SOURCE[kind])
            job = s.get(Job, job_id)
            night = run_stations(job.inputs) if kind == "rebalancing" and job is not None else None
        if source is None:
            raise HTTPException(404, f"job {job_id} has no {SOURCE[kind]} to draw")
        files = _RENDERER.render(job_id, source, group, night=night)
        _store(sessions, job_id, files)
    if name not in files:
        raise HTTPException(404, f"job {job_id} has no {name}")
    body = files[name]
    return body, hashlib.sha256(body).hexdigest()


def _artifact_body(s: Session, job_id: str, name: str) -> bytes | None:
    art = s.get(JobArtifact, (job_id, name))
    return None if art is None else art.body


HOST_EXPECTED = (
    "a host this server is set to answer for (its MOBILITY_TRUSTED_HOSTS), or a server with "
    "MOBILITY_PUBLIC_URL set"
)
"""What a request for ``gbfs.json`` naming an untrusted ``Host`` is told (:func:`feed_base`)."""


def trusted_host(host: str, patterns: list[str]) -> bool:
    """Whether ``host`` (a name without port) is one of ``patterns``: a name, ``*.example.org``
    (its subdomains) or ``*`` (any), as Starlette's ``TrustedHostMiddleware`` reads them."""
    host = host.lower()
    for pattern in (p.strip().lower() for p in patterns):
        if pattern == "*" or host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return True
    return False


def feed_base(request: Request) -> str:
    """The URL the feeds listed by the ``gbfs.json`` served for ``request`` start with: the
    folder of the request's path under the server's public URL (``MOBILITY_PUBLIC_URL``) when it
    has one, else under the request's own scheme and host, when that host is trusted
    (``MOBILITY_TRUSTED_HOSTS``). A ``Host`` header naming any other host is an
    :class:`~mobility.errors.InputError` on ``header.host`` (a 422): a client's ``Host`` never
    puts another site into the links this server hands out."""
    settings = request.app.state.settings
    path = request.url.path
    if settings.public_url is not None:
        root = str(request.scope.get("root_path") or "")
        if root and path.startswith(root):  # the public URL says the prefix itself
            path = path[len(root) :]
        return f"{settings.public_url}{path.rsplit('/', 1)[0]}/"
    if not trusted_host(request.url.hostname or "", settings.trusted_hosts):
        raise InputError("header.host", request.headers.get("host"), HOST_EXPECTED)
    return f"{request.url.scheme}://{request.url.netloc}{path.rsplit('/', 1)[0]}/"


async def serve_export(
    request: Request, *, kind: str, job_id: str, group: Group, filename: str, download: str
) -> Response:
    """Serve one export file: memory cache, then the database, then a rendering; ETag/304, gzip."""
    if len(job_id) > 64 or len(filename) > 60:
        raise HTTPException(404, f"no {kind} job export {filename[:60]!r}")
    feeds = feed_base(request) if group.name == "gbfs" and filename == "gbfs.json" else None
    cache: ArtifactCache = request.app.state.artifact_cache
    name = f"{group.name}/{filename}" if group.folder else group.name
    key = (job_id, PREFIX + kind, name)
    hit = cache.get(key)
    if hit is None:
        body, sha = await run_in_threadpool(
            load_export, request.app.state.sessions, kind, job_id, group, filename
        )
        media = MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream")
        hit = (body, media, f'"{sha[:32]}"')
        cache.put(key, hit)
    data, media_type, etag = hit
    suffix = Path(download).suffix
    if feeds is not None:
        data = data.replace(GBFS_PLACEHOLDER.encode(), feeds.encode())
        etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
    disposition = "inline" if suffix in _INLINE else "attachment"
    headers = {
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": f'{disposition}; filename="{download}"',
        "Vary": "Accept-Encoding",
    }
    gz_cache = cache if group.name != "gbfs" else None  # gbfs.json carries the caller's base URL
    return await send_bytes(
        request, gz_cache, key, (data, media_type, etag), headers, compress=suffix in _TEXT, min_gzip=1024
    )


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown job or file."},
    409: {"model": ErrorBody, "description": "The job has not succeeded (yet)."},
}


def _responses(media: str, summary: str) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {
        200: {"content": {media: {}}, "description": summary},
        304: {"description": "Not modified (If-None-Match)."},
    }
    return out | _ERRORS


Read = Annotated[Principal, Depends(require("read"))]


def _file_endpoint(kind: str, path: str, group: Group, media: str, summary: str, stem: str) -> None:
    """Register ``GET {base}/{job_id}/{path}`` (``base``: the kind's JOB_BASES) for a single-file export."""

    async def endpoint(request: Request, job_id: str, _p: Read) -> Response:
        suffix = Path(path).suffix
        return await serve_export(
            request,
            kind=kind,
            job_id=job_id,
            group=group,
            filename=path,
            download=f"{stem}-{job_id[:12]}{suffix}",
        )

    endpoint.__name__ = f"{kind}_{path.replace('.', '_')}"
    _add_get(f"{JOB_BASES[kind]}/{{job_id}}/{path}", endpoint, summary, media)


def _folder_endpoint(
    kind: str, group: Group, suffix: str, summary: str, check: Callable[[str], bool]
) -> None:
    """Register ``GET {base}/{job_id}/{group}/{file}`` for a folder export."""

    async def endpoint(request: Request, job_id: str, file: str, _p: Read) -> Response:
        if not file.endswith(suffix) or not check(file):
            raise HTTPException(404, f"no {group.name}/{file[:60]}")
        return await serve_export(
            request, kind=kind, job_id=job_id, group=group, filename=file, download=file
        )

    endpoint.__name__ = f"{kind}_{group.name}_file"
    _add_get(f"{JOB_BASES[kind]}/{{job_id}}/{group.name}/{{file}}", endpoint, summary, MEDIA_TYPES[suffix])


def _add_get(path: str, endpoint: Callable[..., Awaitable[Response]], summary: str, media: str) -> None:
    """Register ``GET path`` answering raw bytes of ``media`` (with its documented answers)."""
    responses = _responses(media, summary)
    router.add_api_route(
        path, endpoint, methods=["GET"], summary=summary, response_class=Response, responses=responses
    )


def _safe_name(file: str) -> bool:
    return all(c.isalnum() or c in "-_." for c in file) and not file.startswith(".")


for _kind, _stem in (("scenario", "plan"), ("rebalancing", "routes")):
    _file_endpoint(_kind, "map.html", GROUPS["map.html"], MEDIA_TYPES[".html"],
                   "Interactive map: one offline HTML file (no CDN)", f"{_stem}-map")  # fmt: skip
    _file_endpoint(_kind, "map.png", GROUPS["map.png"], "image/png",
                   "Static map for print (PNG)", f"{_stem}-map")  # fmt: skip
    _file_endpoint(_kind, "map.svg", GROUPS["map.svg"], "image/svg+xml",
                   "Static map for print (SVG, Hangul as text)", f"{_stem}-map")  # fmt: skip
    _file_endpoint(_kind, f"{_stem}.gpkg", GROUPS["gpkg"], MEDIA_TYPES[".gpkg"],
                   "GeoPackage with every map layer", _stem)  # fmt: skip
    _folder_endpoint(_kind, GROUPS["layers"], ".geojson",
                     "One map layer as GeoJSON (existing_stations, new_stations, coverage, districts, "
                     "routes, depots, stops; empty layers are absent)", _safe_name)  # fmt: skip
_folder_endpoint("scenario", GROUPS["gbfs"], ".json",
                 "GBFS v3.0 feed of the planned network (gbfs.json, system_information.json, "
                 "station_information.json, station_status.json)", _safe_name)  # fmt: skip
_folder_endpoint("rebalancing", GROUPS["sheets"], ".csv",
                 "CSV route sheet: routes_all.csv or route_<truck>.csv", _safe_name)  # fmt: skip

__all__ = ["GROUPS", "MEDIA_TYPES", "load_export", "router", "serve_export"]
