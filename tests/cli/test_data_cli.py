"""``mobility data``: exit codes 0/1/2, JSON that parses, Korean names intact (CliRunner, no network)."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.cli.common import console
from mobility.sources import seoul_openapi
from mobility.sources.stations import STATION_VINTAGES

runner = CliRunner()


def _json(out: str) -> Any:
    return json.loads(out)


def test_info_json_stations(data_dir: Path) -> None:
    res = runner.invoke(app, ["data", "info", "--data-dir", str(data_dir), "--json", "-f", "stations"])
    assert res.exit_code == 0, res.output
    doc = _json(res.stdout)
    rows = {d["name"]: d for d in doc["datasets"]}
    assert rows["stations_2025-12"]["rows"] == 2799
    assert rows["stations_2019-12"]["rows"] == 1540
    assert rows["stations_2018-11"]["rows"] == 1453
    assert all(d["status"] == "ok" for d in doc["datasets"])


def test_info_table_lists_networks(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A wide terminal. The console's width is fixed when the CLI is imported, so COLUMNS in the
    # runner's environment would change nothing (and pytest-xdist's workers import it at 80).
    monkeypatch.setattr(console, "width", 250)
    args = ["data", "info", "--data-dir", str(data_dir), "-f", "network"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "network_best" in res.stdout and "461 files" in res.stdout and "present" in res.stdout
    table = runner.invoke(app, ["data", "stations", "--data-dir", str(data_dir), "-n", "3"])
    assert table.exit_code == 0 and "2,799" in table.stdout and "망원역 1번출구 앞" in table.stdout


def test_missing_data_dir_exit_2(tmp_path: Path) -> None:
    where = tmp_path / "nowhere"
    res = runner.invoke(app, ["data", "info", "--data-dir", str(where)])
    assert res.exit_code == 2
    assert "Looked in" in res.stderr and "nowhere" in res.stderr


def test_empty_data_dir_exit_2(tmp_path: Path) -> None:
    for cmd in ("info", "check"):
        res = runner.invoke(app, ["data", cmd, "--data-dir", str(tmp_path)])
        assert res.exit_code == 2 and "any known dataset not found" in res.stderr


def test_check_passes_on_stations(data_dir: Path) -> None:
    res = runner.invoke(app, ["data", "check", "--data-dir", str(data_dir), "--json", "-f", "stations"])
    assert res.exit_code == 0, res.output
    doc = _json(res.stdout)
    assert doc["passed"] is True and doc["failed"] == []
    api = next(d for d in doc["datasets"] if d["name"] == "stations_api-2025-05")
    assert api["report"]["dropped"] == {"zero coordinates": 3}


@pytest.mark.slow
def test_check_whole_data_dir(data_dir: Path) -> None:
    res = runner.invoke(app, ["data", "check", "--data-dir", str(data_dir), "--json"])
    doc = _json(res.stdout)
    assert res.exit_code == 0, doc["failed"]
    assert len(doc["datasets"]) >= 5


def test_check_fails_on_row_count_mismatch(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "ttareungi").mkdir()
    lines = (data_dir / STATION_VINTAGES["2025-12"]).read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / STATION_VINTAGES["2025-12"]).write_text("".join(lines[:50]), encoding="utf-8")
    res = runner.invoke(app, ["data", "check", "--data-dir", str(tmp_path), "--json"])
    assert res.exit_code == 1
    doc = _json(res.stdout)
    bad = [d["name"] for d in doc["datasets"] if not d["passed"] and not d["missing"]]
    assert bad == ["stations_2025-12"]  # the other datasets fail as missing files
    human = runner.invoke(app, ["data", "check", "--data-dir", str(tmp_path)])
    assert human.exit_code == 1 and "FAIL" in human.stdout


def test_stations_by_gu_json_korean(data_dir: Path) -> None:
    res = runner.invoke(app, ["data", "stations", "--data-dir", str(data_dir), "--gu", "마포구", "--json"])
    assert res.exit_code == 0, res.output
    assert "마포구" in res.stdout and "\\u" not in res.stdout  # Hangul unescaped
    doc = _json(res.stdout)
    assert doc["stations"] == len(doc["rows"]) > 100
    assert {r["gu"] for r in doc["rows"]} == {"마포구"}
    first = doc["rows"][0]
    assert first["name"] == "망원역 1번출구 앞" and first["installed_on"] == "2015-09-06"


def test_stations_table_and_bad_inputs(data_dir: Path, fixtures_dir: Path) -> None:
    res = runner.invoke(app, ["data", "stations", "--data-dir", str(data_dir), "-s", "2018-11", "-n", "5"])
    assert res.exit_code == 0 and "1,453" in res.stdout
    bad_gu = runner.invoke(app, ["data", "stations", "--data-dir", str(data_dir), "--gu", "없는구"])
    assert bad_gu.exit_code == 2 and "--gu" in bad_gu.stderr
    bad_file = fixtures_dir / "sources" / "stations_unknown_encoding.csv"
    res = runner.invoke(app, ["data", "stations", "--data-dir", str(data_dir), "-s", str(bad_file)])
    assert res.exit_code == 2 and "stations_unknown_encoding.csv" in res.stderr
    bad_vintage = runner.invoke(app, ["data", "stations", "--data-dir", str(data_dir), "-s", "1999-01"])
    assert bad_vintage.exit_code == 2


def test_fetch_without_key_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEOUL_OPENAPI_KEY", raising=False)
    res = runner.invoke(app, ["data", "fetch", "--what", "status", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "SEOUL_OPENAPI_KEY" in res.stderr
    assert not any(tmp_path.iterdir())


def test_fetch_with_recorded_responses(
    tmp_path: Path, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    src = fixtures_dir / "sources"
    page1 = json.loads((src / "openapi_tbCycleStationInfo_page1.json").read_text(encoding="utf-8"))
    page2 = json.loads((src / "openapi_tbCycleStationInfo_page2.json").read_text(encoding="utf-8"))
    bikes = json.loads((src / "openapi_bikeList.json").read_text(encoding="utf-8"))

    def handler(request: httpx.Request) -> httpx.Response:
        service, start, _end = request.url.path.strip("/").split("/")[-3:]
        if service == "bikeList":
            return httpx.Response(200, json=bikes)
        return httpx.Response(200, json=page1 if start == "1" else page2)

    real = seoul_openapi.SeoulOpenAPI

    def offline(key: str | None = None, **_: Any) -> seoul_openapi.SeoulOpenAPI:
        return real(key, client=httpx.Client(transport=httpx.MockTransport(handler)))

    monkeypatch.setattr(seoul_openapi, "SeoulOpenAPI", offline)
    monkeypatch.setenv("SEOUL_OPENAPI_KEY", "test-key")
    res = runner.invoke(app, ["data", "fetch", "--what", "stations", "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    doc = _json(res.stdout)
    assert doc["rows"] == 5 and Path(doc["path"]).is_file()
    listed = runner.invoke(
        app, ["data", "stations", "--data-dir", str(data_dir), "-s", doc["path"], "--json"]
    )
    assert _json(listed.stdout)["stations"] == 5
    res = runner.invoke(app, ["data", "fetch", "--what", "status", "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    status = _json(res.stdout)
    assert status["rows"] == 6 and status["report"]["rows_kept"] == 4
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporary file
    shutil.rmtree(tmp_path / "ttareungi")


@pytest.mark.slow  # imports osmnx and the network layer (several seconds on a shared machine)
def test_fetch_network_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import networkx as nx
    import osmnx as ox

    def no_internet(*_: Any, **__: Any) -> Any:
        raise ConnectionError("no route to nominatim.openstreetmap.org")

    monkeypatch.setattr(ox, "graph_from_place", no_internet)
    res = runner.invoke(app, ["data", "fetch", "--what", "network", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "internet" in res.stderr
    assert not list(tmp_path.rglob("*.graphml*"))

    def tiny(place: str, network_type: str, **_: Any) -> nx.MultiDiGraph:  # osmnx or the network layer
        assert place == "Seoul, South Korea" and network_type == "walk"
        g = nx.MultiDiGraph(crs="EPSG:4326")
        g.add_node(1, x=126.97, y=37.56)
        g.add_node(2, x=126.98, y=37.57)
        g.add_edge(1, 2, length=1400.0)
        return g

    monkeypatch.setattr(ox, "graph_from_place", tiny)
    args = ["data", "fetch", "-w", "network", "--network-type", "walk", "--out", str(tmp_path), "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    path = Path(_json(res.stdout)["path"])
    assert path.is_file() and path.parent == tmp_path / "osm"
    assert ox.load_graphml(path).number_of_edges() == 1
    assert not list(tmp_path.rglob("*.tmp"))


def test_station_totals_say_what_is_unknown(data_dir: Path) -> None:
    """A station without a dock count is not 0 docks: the JSON keeps the sum of the known counts
    and says how many are missing; a list with no dock counts has no total."""
    res = runner.invoke(app, ["data", "stations", "--data-dir", str(data_dir), "-s", "api-2025-05", "--json"])
    doc = json.loads(res.stdout)
    assert (doc["docks"], doc["docks_without_count"]) == (37_358, 14)
    res = runner.invoke(app, ["data", "stations", "--data-dir", str(data_dir), "-s", "master", "--json"])
    doc = json.loads(res.stdout)
    assert doc["docks"] is None and doc["docks_without_count"] == doc["stations"]


def test_stations_gu_in_decomposed_hangul(data_dir: Path) -> None:
    """A district pasted in decomposed jamo (NFD, as macOS writes file names) is the same
    district: the station names and districts are composed (NFC)."""
    nfd = unicodedata.normalize("NFD", "마포구")
    assert nfd != "마포구"
    res = runner.invoke(app, ["data", "stations", "--data-dir", str(data_dir), "--gu", nfd, "--json"])
    assert res.exit_code == 0, res.output
    doc = _json(res.stdout)
    assert doc["gu"] == "마포구" and doc["stations"] == 121
