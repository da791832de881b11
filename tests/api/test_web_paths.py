"""Where the web app's files come from: the MapLibre files and the shipped scenarios are read from
the folders the settings name (``MOBILITY_WEB_VENDOR_DIR``, ``MOBILITY_SCENARIO_DIR``), as in the
image, where the installed package has neither ``api/web/node_modules`` nor ``scenarios/`` beside it.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import WEB_VENDOR_DIR, ApiSettings
from mobility.config import PROJECT_ROOT
from tests.api.api_support import Api, keys_for, make_settings

FAKE_MAPLIBRE = "/* maplibre-gl-csp.js of the test vendor folder: 지도 */\n"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """A vendor folder (``node_modules``) with a fake MapLibre script only, and a scenario folder
    with one shipped scenario."""
    vendor = tmp_path / "web" / "node_modules"
    dist = vendor / "maplibre-gl" / "dist"
    dist.mkdir(parents=True)
    (dist / "maplibre-gl-csp.js").write_text(FAKE_MAPLIBRE, encoding="utf-8")
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(PROJECT_ROOT / "scenarios" / "seoul-2019-30k.yaml", scenarios / "seoul-2019-30k.yaml")
    return vendor, scenarios


@pytest.fixture
def web(sqlite_url: str, folders: tuple[Path, Path]) -> Iterator[Api]:
    """An app whose settings point at the test folders."""
    vendor, scenarios = folders
    keys = keys_for(sqlite_url)
    settings = make_settings(sqlite_url, run_jobs=False, web_vendor_dir=vendor, scenario_dir=scenarios)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, keys)


def test_maplibre_is_served_from_the_vendor_folder_of_the_settings(web: Api) -> None:
    r = web.client.get("/web/vendor/maplibre-gl.js")
    assert r.status_code == 200, r.text
    assert r.text == FAKE_MAPLIBRE
    assert r.headers["content-type"].startswith("text/javascript")


def test_a_vendor_file_missing_there_is_503_without_a_server_path(
    web: Api, folders: tuple[Path, Path]
) -> None:
    r = web.client.get("/web/vendor/maplibre-gl.css")  # not in the test vendor folder
    assert r.status_code == 503
    detail = r.json()["detail"]
    assert detail == "maplibre-gl.css is not installed on this server (run make setup)"
    assert str(folders[0]) not in r.text and "node_modules" not in r.text
    assert web.client.get("/web/vendor/axe.min.js").status_code == 404  # only the listed files


def test_the_shipped_scenarios_are_those_of_the_scenario_folder_of_the_settings(web: Api) -> None:
    r = web.client.get("/v1/web/scenarios", headers=web.h("viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["file"] for s in body] == ["seoul-2019-30k.yaml"]
    assert body[0]["kind"] == "scenario" and body[0]["body"]["fleet"]["total_bikes"] == 30000


def test_an_empty_scenario_folder_lists_none(sqlite_url: str, tmp_path: Path) -> None:
    keys = keys_for(sqlite_url)
    settings = make_settings(sqlite_url, run_jobs=False, scenario_dir=tmp_path / "absent")
    with TestClient(create_app(settings)) as client:
        r = client.get("/v1/web/scenarios", headers={"X-API-Key": keys["viewer"]})
    assert r.status_code == 200 and r.json() == []


def test_the_folders_are_read_from_mobility_variables(
    monkeypatch: pytest.MonkeyPatch, folders: tuple[Path, Path]
) -> None:
    vendor, scenarios = folders
    monkeypatch.setenv("MOBILITY_WEB_VENDOR_DIR", str(vendor))
    monkeypatch.setenv("MOBILITY_SCENARIO_DIR", str(scenarios))
    settings = ApiSettings(database_url="sqlite://")
    assert (settings.web_vendor_dir, settings.scenario_dir) == (vendor, scenarios)


def test_the_defaults_are_the_source_tree_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOBILITY_WEB_VENDOR_DIR", raising=False)
    monkeypatch.delenv("MOBILITY_SCENARIO_DIR", raising=False)
    settings = ApiSettings(database_url="sqlite://")
    assert settings.scenario_dir == PROJECT_ROOT / "scenarios"
    assert settings.web_vendor_dir == WEB_VENDOR_DIR == PROJECT_ROOT / "api" / "web" / "node_modules"


def test_the_image_sets_both_folders_where_it_copies_them() -> None:
    """No Docker engine runs here: the Dockerfile is read. Its ``MOBILITY_*_DIR`` variables are
    settings, and each names the folder that a ``COPY`` fills (MapLibre from the npm stage)."""
    dockerfile = (PROJECT_ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    env = dict(re.findall(r"\b(MOBILITY_(?:SCENARIO|WEB_VENDOR)_DIR)=(\S+)", dockerfile))
    assert set(env) == {"MOBILITY_SCENARIO_DIR", "MOBILITY_WEB_VENDOR_DIR"}
    assert {name.removeprefix("MOBILITY_").lower() for name in env} <= set(ApiSettings.model_fields)
    copies = re.findall(r"^COPY (?:--\S+ )*(\S+) (\S+)$", dockerfile, re.MULTILINE)
    assert ("scenarios", env["MOBILITY_SCENARIO_DIR"]) in copies
    vendor_dist = f"{env['MOBILITY_WEB_VENDOR_DIR']}/maplibre-gl/dist"
    assert ("/web/node_modules/maplibre-gl/dist", vendor_dist) in copies
    assert re.search(r"^FROM node:\S+ AS web$", dockerfile, re.MULTILINE)
    assert "npm ci --omit=dev" in dockerfile  # maplibre-gl is a production dependency
    package = json.loads((PROJECT_ROOT / "api" / "web" / "package.json").read_text(encoding="utf-8"))
    assert "maplibre-gl" in package["dependencies"]
    ignored = (PROJECT_ROOT / "docker" / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert "**/node_modules" in ignored
