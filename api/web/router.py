"""Routes of the web app: the page, its static modules, the vendor bundle, basemap tiles and style,
and the shipped scenarios as starting points (see :mod:`api.web` for which routes are public)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, require
from api.routes.common import settle_heap
from api.schemas import ErrorBody
from mobility.export.map_style import MapStyle, basemap_style
from mobility.export.vector_tiles import BASE_ZOOM, OVERVIEW_ZOOMS

if TYPE_CHECKING:
    from mobility.scenario.nightly import NightlyScenario

log = logging.getLogger("mobility.api.web")

router = APIRouter(tags=["web"])
_Endpoint = Callable[..., Awaitable[FileResponse]]

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"

VENDOR: dict[str, Path] = {
    "maplibre-gl.js": Path("maplibre-gl", "dist", "maplibre-gl-csp.js"),
    "maplibre-gl-worker.js": Path("maplibre-gl", "dist", "maplibre-gl-csp-worker.js"),
    "maplibre-gl.css": Path("maplibre-gl", "dist", "maplibre-gl.css"),
    "swagger-ui-bundle.js": Path("swagger-ui-dist", "swagger-ui-bundle.js"),
    "swagger-ui.css": Path("swagger-ui-dist", "swagger-ui.css"),
}
"""Third-party files the pages load, by the name they ask for: paths in the settings'
``web_vendor_dir`` (a ``node_modules`` folder, installed by ``make setup``; the image's own).
The web app loads MapLibre's; the API's documentation page (``/docs``) Swagger UI's, so that it
works on a network without the internet as the maps do."""

STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

PUBLIC_APP = "The web application's own code and style sheets: no data, needed before signing in."
PUBLIC_BASEMAP = (
    "OpenStreetMap basemap (public ODbL data, no project data); a map view loads dozens of tiles, "
    "so they are cacheable and outside the per-key rate limit."
)
PUBLIC_ROUTES: dict[str, str] = {
    "/": PUBLIC_APP,
    "/web/{file}": PUBLIC_APP,
    "/web/vendor/{file}": PUBLIC_APP,
    "/web/style.json": PUBLIC_BASEMAP,
    "/tiles/{z}/{x}/{y}.pbf": PUBLIC_BASEMAP,
}
"""Routes served without an API key, each with the reason (also in the OpenAPI ``x-public``)."""


def _public(path: str) -> dict[str, Any]:
    return {"x-public": PUBLIC_ROUTES[path]}


def _public_file(path: str, summary: str) -> Callable[[_Endpoint], _Endpoint]:
    """``GET path`` answering one file without an API key (404 when there is no such file)."""
    return router.get(
        path,
        response_class=FileResponse,
        openapi_extra=_public(path),
        summary=summary,
        responses={404: {"model": ErrorBody}},
    )


@router.get(
    "/",
    include_in_schema=True,
    response_class=FileResponse,
    openapi_extra=_public("/"),
    summary="The web app (planners and operations)",
)
async def index() -> FileResponse:
    """The single page of the app; its views are addressed by the URL fragment (``#/plan/<id>``)."""
    return FileResponse(
        STATIC_DIR / "index.html", media_type=STATIC_TYPES[".html"], headers={"Cache-Control": "no-cache"}
    )


@router.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, its script and style sheet from this server
    (:data:`VENDOR`), not from a CDN: the page works offline."""
    from fastapi.openapi.docs import get_swagger_ui_html

    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="mobility API",
        swagger_js_url="/web/vendor/swagger-ui-bundle.js",
        swagger_css_url="/web/vendor/swagger-ui.css",
        swagger_favicon_url="data:,",
        oauth2_redirect_url=None,
    )


@_public_file("/web/vendor/{file}", "Third-party browser files (MapLibre GL JS, Swagger UI)")
async def vendor(file: str, request: Request) -> FileResponse:
    """MapLibre GL JS and its style sheet, from the npm packages of the settings' ``web_vendor_dir``
    (``api/web/node_modules``, installed by ``make setup``, unless set)."""
    relpath = VENDOR.get(file)
    if relpath is None:
        raise HTTPException(404, f"no vendor file {file[:60]!r}")
    path = Path(request.app.state.settings.web_vendor_dir) / relpath
    if not path.is_file():
        raise HTTPException(503, f"{file} is not installed on this server (run make setup)")
    return FileResponse(
        path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "max-age=86400"}
    )


@router.get(
    "/web/style.json",
    openapi_extra=_public("/web/style.json"),
    response_model=MapStyle,  # documentation: the style is sent as basemap_style makes it
    summary="MapLibre style of the offline basemap",
)
async def style(request: Request) -> JSONResponse:
    """The light basemap style (our own), with tile URLs on this server; data colours in ``metadata``."""
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        basemap_style(f"{base}/tiles/{{z}}/{{x}}/{{y}}.pbf"), headers={"Cache-Control": "no-cache"}
    )


@_public_file("/web/{file}", "The web app's modules and style sheets")
async def static(file: str) -> FileResponse:
    """One file of ``api/web/static`` (flat folder; only .js, .css, .html, .svg)."""
    suffix = Path(file).suffix
    ok = suffix in STATIC_TYPES and all(c.isalnum() or c in "-_." for c in file) and not file.startswith(".")
    path = STATIC_DIR / file
    if not ok or not path.is_file():
        raise HTTPException(404, f"no file {file[:60]!r}")
    return FileResponse(path, media_type=STATIC_TYPES[suffix], headers={"Cache-Control": "no-cache"})


class _Tiles:
    """The overview tiles (generated once, cached on disk, then held in memory: a few MB)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tiles: dict[tuple[int, int, int], bytes] | None = None

    def get(self, z: int, x: int, y: int) -> bytes | None:
        from mobility.config import resolve_data_dir
        from mobility.export.vector_tiles import base_tile, overview_tiles

        data_dir = resolve_data_dir()
        if z == BASE_ZOOM:
            return base_tile(data_dir, x, y)
        with self.lock:
            if self.tiles is None:
                self.tiles = overview_tiles(data_dir)
        return self.tiles.get((z, x, y))


_TILES = _Tiles()


def warm_up() -> None:
    """Load what the first map view asks the server for before any browser asks: the basemap
    style's module and the overview tiles in memory (generated first if the cache has none).

    Run by ``mobility serve`` in a thread at start-up, so that the first visitor's first tiles do
    not wait for reading the tile cache (0.1-0.4 s) and importing the style and tile modules.
    Failures are logged, not raised: the routes load the same things on demand."""
    from mobility.export.map_style import basemap_style

    try:
        basemap_style("/tiles/{z}/{x}/{y}.pbf")
        _TILES.get(10, 0, 0)
        settle_heap()  # what this loaded, before a visitor's first request, not during it
    except BrokenProcessPool:
        # the server is stopping while it still generates the overview tiles (a first start, empty
        # cache): Ctrl-C or a SIGTERM to the process group ended the helper processes first.
        # Nothing is cached half-built; a traceback here would only alarm.
        log.warning(
            "basemap warm-up stopped before the overview tiles were built; the first request builds them"
        )
    except Exception:  # a missing data directory: the tile route answers for itself
        log.warning("basemap warm-up failed; tiles are loaded on the first request", exc_info=True)


@router.get(
    "/tiles/{z}/{x}/{y}.pbf",
    response_class=Response,
    openapi_extra=_public("/tiles/{z}/{x}/{y}.pbf"),
    summary="Basemap vector tile (OpenMapTiles schema, zoom 9-14)",
    responses={
        200: {"content": {"application/vnd.mapbox-vector-tile": {}}},
        204: {"description": "No basemap data in this tile."},
        404: {"model": ErrorBody},
    },
)
async def tile(
    z: Annotated[int, PathParam(ge=min(OVERVIEW_ZOOMS), le=BASE_ZOOM)],
    x: Annotated[int, PathParam(ge=0, le=2**14)],
    y: Annotated[int, PathParam(ge=0, le=2**14)],
) -> Response:
    """Zoom 14 as in the data directory; zooms 9-13 generalised from it once (see
    :mod:`mobility.export.vector_tiles`). Tiles outside Seoul are empty (204)."""
    body = await run_in_threadpool(_TILES.get, z, x, y)
    headers = {"Cache-Control": "public, max-age=86400"}
    if body is None:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type="application/vnd.mapbox-vector-tile", headers=headers)


class ShippedScenario(BaseModel):
    """A scenario file of the server's ``scenarios/`` folder, as a starting point for a form."""

    file: str = Field(examples=["seoul-2019-30k.yaml"])
    kind: str = Field(description="``scenario`` (an expansion plan) or ``rebalancing`` (a night).")
    name: str
    description: str = ""
    body: dict[str, Any] = Field(
        description="For ``scenario``: the scenario itself (POST /v1/scenarios). For ``rebalancing``: "
        "a run request without its snapshot (POST /v1/rebalancing/runs)."
    )


def _night_request(night: NightlyScenario) -> dict[str, Any]:
    """A nightly scenario as the API's run request, the same problem and search as ``mobility
    rebalance`` makes of it: its fleet (the trucks of
    :func:`~mobility.rebalancing.build.expand_trucks`, ids ``<depot>-01``, each with its group's
    stop and loading times and start load), its ``costs``, its ``solver``'s search settings (its
    time limit and seed are the request's own) and its targets' level."""
    from mobility.rebalancing.build import expand_trucks
    from mobility.scenario.nightly import SearchSpec, TruckHandling

    groups = [g for g in night.trucks for _ in range(g.count)]  # expand_trucks' order
    handling = set(TruckHandling.model_fields)
    trucks = [
        {
            "id": t.id,
            "depot": t.depot,
            "capacity": t.capacity,
            "shift_start": t.shift_start,
            "shift_end": t.shift_end,
            **g.model_dump(mode="json", include=handling),
        }
        for t, g in zip(expand_trucks(night), groups, strict=True)
    ]
    depots = [{"id": d.id, "name": d.name, "lon": d.lon, "lat": d.lat} for d in night.depots]
    return {
        "name": night.name,
        "fleet": {"depots": depots, "trucks": trucks},
        "time_limit": float(night.solver.time_limit),
        "seed": int(night.solver.seed),
        "options": {"level": night.targets.level},
        "costs": night.costs.model_dump(mode="json"),
        "solver": night.solver.model_dump(mode="json", include=set(SearchSpec.model_fields)),
    }


def shipped_scenarios(folder: Path) -> list[ShippedScenario]:
    """Every scenario file of ``folder``: expansion scenarios as they are, nightly ones as run requests."""
    import yaml

    from mobility.errors import InputError
    from mobility.scenario.expansion import scenario_from_dict
    from mobility.scenario.nightly import nightly_from_dict

    if not folder.is_dir():  # a deployment without its scenarios: say so in the log, list none
        log.warning("scenario folder %s does not exist (setting MOBILITY_SCENARIO_DIR)", folder)
    out = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            if isinstance(data, dict) and "night" in data:
                night = nightly_from_dict(data)
                kind, name, description = "rebalancing", night.name, night.description
                body = _night_request(night)
            else:
                scn = scenario_from_dict(data)
                kind, name, description = "scenario", scn.name, scn.description
                body = scn.model_dump(mode="json", exclude_none=True)
        except InputError as exc:  # a broken shipped file is a server problem: say so in the log
            log.error("%s is not a valid scenario: %s", path, exc)
            continue
        out.append(ShippedScenario(file=path.name, kind=kind, name=name, description=description, body=body))
    return out


@router.get(
    "/v1/web/scenarios",
    response_model=list[ShippedScenario],
    summary="The shipped scenarios, as starting points for the app's forms",
)
async def list_shipped(
    request: Request, _p: Annotated[Principal, Depends(require("read"))]
) -> list[ShippedScenario]:
    """Expansion scenarios (``kind="scenario"``) and nights (``kind="rebalancing"``) of the settings'
    ``scenario_dir`` (``scenarios/`` of the source tree unless set)."""
    return await run_in_threadpool(shipped_scenarios, Path(request.app.state.settings.scenario_dir))


__all__ = [
    "PUBLIC_ROUTES",
    "STATIC_DIR",
    "VENDOR",
    "ShippedScenario",
    "router",
    "shipped_scenarios",
    "warm_up",
]
