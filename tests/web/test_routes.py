"""The web app's routes without a browser: what is public and why, the files it serves, the
basemap tiles (real z14 tiles and the generated lower zooms) and the shipped scenarios."""

from __future__ import annotations

import importlib
import logging
import re
import threading
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import mapbox_vector_tile  # type: ignore[import-untyped]
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import LineString, box

from api.app import create_app
from api.auth import create_key
from api.db import dispose_engine, migrate, session_factory
from api.settings import ApiSettings
from api.web import PUBLIC_ROUTES
from mobility.config import PROJECT_ROOT
from mobility.export.basemap import TILES_RELPATH
from mobility.export.vector_tiles import EXTENT, _decode_kept, generalise, min_zoom

Z14_TILE = (13970, 6345)  # central Seoul (Jongno / Jung-gu)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('routes') / 'api.sqlite'}"
    migrate(url)
    key = create_key(session_factory(url), "viewer", "web-viewer")[0]
    settings = ApiSettings(database_url=url, run_jobs=False, rate_limit="100000/minute", key_cache_seconds=0)
    with TestClient(create_app(settings)) as c:
        yield c, key
    dispose_engine(url)


def test_every_route_without_a_key_is_listed_with_its_reason(client: tuple[TestClient, str]) -> None:
    c, _ = client
    doc = c.get("/openapi.json").json()
    public = {
        path: op["x-public"] for path, ops in doc["paths"].items() for op in ops.values() if "x-public" in op
    }
    assert public == PUBLIC_ROUTES
    assert all(len(reason) > 30 for reason in public.values())
    # The web app's data route needs the key like every /v1 route.
    assert c.get("/v1/web/scenarios").status_code == 401


def test_the_page_its_modules_and_maplibre_are_served(client: tuple[TestClient, str]) -> None:
    c, _ = client
    page = c.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "/web/app.js" in html and "/web/vendor/maplibre-gl.js" in html
    assert "http://" not in html and "https://" not in html  # nothing from outside the server
    for name in (
        "app.js",
        "api.js",
        "form.js",
        "map.js",
        "planner.js",
        "ops.js",
        "sweeps.js",
        "app.css",
        "print.css",
    ):
        r = c.get(f"/web/{name}")
        assert r.status_code == 200, name
        assert "https://" not in r.text and "http://" not in r.text, name  # no CDN, no web fonts
    js = c.get("/web/vendor/maplibre-gl.js")
    assert js.status_code == 200 and len(js.content) > 300_000
    assert c.get("/web/vendor/maplibre-gl.css").status_code == 200
    # the map's worker is its own file (app.js: maplibregl.setWorkerUrl), not a blob made in the page
    worker = c.get("/web/vendor/maplibre-gl-worker.js")
    assert worker.status_code == 200 and worker.headers["content-type"].startswith("text/javascript")
    # what the page asks for ahead (preload, modulepreload) is served
    ahead = re.findall(r'rel="(?:module)?preload" href="([^"]+)"', html)
    assert "/web/style.json" in ahead and "/web/planner.js" in ahead
    for href in ahead:
        assert c.get(href).status_code == 200, href


OTHER_FILES = ["/web/..%2Fapi%2Fauth.py", "/web/router.py", "/web/.eslintrc.js", "/web/vendor/axe.min.js",
               "/web/vendor/..%2F..%2Fpackage.json"]  # fmt: skip


@pytest.mark.parametrize("path", OTHER_FILES)
def test_no_other_file_is_reachable(client: tuple[TestClient, str], path: str) -> None:
    assert client[0].get(path).status_code == 404


def test_z14_tiles_are_the_data_directory_s(client: tuple[TestClient, str], data_dir: Path) -> None:
    c, _ = client
    x, y = Z14_TILE
    r = c.get(f"/tiles/14/{x}/{y}.pbf")
    assert r.status_code == 200
    assert r.content == (data_dir / "osm/omt_tiles_2021/tiles/14" / str(x) / f"{y}.pbf").read_bytes()
    assert c.get("/tiles/14/1/1.pbf").status_code == 204  # outside Seoul: empty
    assert c.get("/tiles/8/218/99.pbf").status_code == 422  # zooms 9-14 only


@pytest.mark.slow
def test_overview_tiles_show_the_han_river_and_major_roads(client: tuple[TestClient, str]) -> None:
    c, _ = client
    x, y = Z14_TILE
    r = c.get(f"/tiles/10/{x >> 4}/{y >> 4}.pbf")
    assert r.status_code == 200
    layers = mapbox_vector_tile.decode(r.content)
    assert {"water", "transportation"} <= set(layers)
    classes = {f["properties"]["class"] for f in layers["transportation"]["features"]}
    assert classes <= {"motorway", "trunk"} and classes  # no small streets at zoom 10
    water = sum(
        shapely.make_valid(shapely.geometry.shape(f["geometry"])).area for f in layers["water"]["features"]
    )
    assert water > 0.01 * EXTENT**2  # the Han river is a large share of a z10 tile
    z9 = mapbox_vector_tile.decode(c.get(f"/tiles/9/{x >> 5}/{y >> 5}.pbf").content)  # a phone's whole city
    assert {"water", "transportation"} <= set(z9)
    assert {f["properties"]["class"] for f in z9["transportation"]["features"]} == {"motorway"}
    z12 = c.get(f"/tiles/12/{x >> 2}/{y >> 2}.pbf")
    assert z12.status_code == 200
    c12 = {
        f["properties"]["class"] for f in mapbox_vector_tile.decode(z12.content)["transportation"]["features"]
    }
    assert "secondary" in c12 and "minor" not in c12


def test_serve_loads_the_basemap_at_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``warm_web`` (what ``mobility serve`` sets) the overview tiles are in memory before any
    tile is asked for, so the first visitor's first tiles do not wait for the cache to be read."""
    router = importlib.import_module("api.web.router")  # the module (api.web.router is also the APIRouter)
    monkeypatch.setattr(router._TILES, "tiles", None)
    url = f"sqlite:///{tmp_path / 'warm.sqlite'}"
    migrate(url)
    with TestClient(create_app(ApiSettings(database_url=url, run_jobs=False, warm_web=True))):
        for t in threading.enumerate():
            if t.name == "web-warm-up":
                t.join(300)
        assert router._TILES.tiles and (10, Z14_TILE[0] >> 4, Z14_TILE[1] >> 4) in router._TILES.tiles
    dispose_engine(url)


def test_a_warm_up_stopped_by_shutdown_says_so_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopping ``mobility serve`` (Ctrl-C, or SIGTERM to its process group) during the first start
    ends the processes that build the overview tiles: one warning line, no traceback."""
    router = importlib.import_module("api.web.router")

    def stopped(*_: object) -> None:
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    monkeypatch.setattr(router._TILES, "get", stopped)
    with caplog.at_level(logging.WARNING, logger="mobility.api.web"):
        router.warm_up()
    (record,) = caplog.records
    assert "overview tiles were built" in record.getMessage() and record.exc_info is None


def test_generalise_merges_children_and_keeps_zoom_rules() -> None:
    # Two halves of one park in two neighbouring z14 tiles (global z14 pixels), a minor road, a motorway.
    left = box(EXTENT - 1000, 1000, EXTENT, 2000)
    right = box(EXTENT, 1000, EXTENT + 1000, 2000)
    feats: list[tuple[str, dict[str, Any], int, Any]] = [
        ("park", {}, 11, left),
        ("park", {}, 11, right),
        ("transportation", {"class": "minor"}, 99, LineString([(500, 1500), (EXTENT * 1.5, 1500)])),
        ("transportation", {"class": "motorway"}, 10, LineString([(500, 2000), (EXTENT * 1.5, 2000)])),
    ]
    z13 = generalise(feats, 13)
    assert set(z13) == {(0, 0)}  # both z14 tiles lie in z13 tile (0, 0)
    layers = mapbox_vector_tile.decode(z13[(0, 0)], default_options={"y_coord_down": True})
    parks = layers["park"]["features"]
    assert len(parks) == 1  # merged across the seam
    assert shapely.geometry.shape(parks[0]["geometry"]).area == pytest.approx(1000 * 500, rel=0.02)
    assert [f["properties"]["class"] for f in layers["transportation"]["features"]] == ["motorway"]
    assert "park" not in mapbox_vector_tile.decode(generalise(feats, 10)[(0, 0)])
    assert min_zoom("transportation", {"class": "primary"}) == 11
    assert min_zoom("building", {}) is None


def test_the_overview_decoder_keeps_exactly_what_a_full_decode_would(data_dir: Path) -> None:
    """``_decode_kept`` skips unused layers and classes before decoding their geometry; on real
    z14 tiles it must give the same features as decoding everything and filtering after."""
    for x, y in (Z14_TILE, (13976, 6342), (13962, 6350)):  # centre; Han river east; west edge
        path = data_dir / TILES_RELPATH / str(x) / f"{y}.pbf"
        expected = []
        full = mapbox_vector_tile.decode(path.read_bytes(), default_options={"y_coord_down": True})
        for name, layer in full.items():
            for feat in layer["features"]:
                mz = min_zoom(name, feat["properties"])
                geom = shapely.clip_by_rect(shapely.geometry.shape(feat["geometry"]), 0, 0, EXTENT, EXTENT)
                if mz is not None and not geom.is_empty:
                    keep = {
                        k: feat["properties"][k]
                        for k in ("class", "subclass", "brunnel")
                        if k in feat["properties"]
                    }
                    moved = shapely.affinity.translate(geom, x * EXTENT, y * EXTENT)
                    expected.append((name, keep, mz, moved))
        got = _decode_kept(str(path))
        assert len(got) == len(expected) > 0
        for (n1, p1, z1, g1), (n2, p2, z2, g2) in zip(got, expected, strict=True):
            assert (n1, p1, z1) == (n2, p2, z2) and g1.equals_exact(g2, 1e-9)
        assert {n for n, *_ in got} >= {"transportation"}
    assert len(full["building"]["features"]) > 0  # what the fast path skips is there


def test_shipped_scenarios_are_every_file(client: tuple[TestClient, str]) -> None:
    c, key = client
    body = c.get("/v1/web/scenarios", headers={"X-API-Key": key}).json()
    files = sorted(p.name for p in (PROJECT_ROOT / "scenarios").glob("*.yaml"))
    assert [s["file"] for s in body] == files
    night = next(s for s in body if s["file"] == "seoul-nightly.yaml")
    assert night["kind"] == "rebalancing"
    trucks = night["body"]["fleet"]["trucks"]
    # mobility rebalance's truck ids and times (tests/api/test_night_settings.py)
    assert len(trucks) == 24 and trucks[0] == {
        "id": "NW-01", "depot": "NW", "capacity": 18, "shift_start": 79200.0, "shift_end": 108000.0,
        "load_seconds_per_bike": 30.0, "stop_seconds": 180.0, "start_load": 0,
    }  # fmt: skip
    assert night["body"]["options"] == {"level": "auto"}  # the scenario's targets.level
    assert night["body"]["costs"]["drive_cost_per_km"] == 0.2
    plan = next(s for s in body if s["file"] == "seoul-2019-30k.yaml")
    assert plan["kind"] == "scenario" and plan["body"]["fleet"]["total_bikes"] == 30000
