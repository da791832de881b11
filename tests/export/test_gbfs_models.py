"""The GBFS files and the basemap style are built through the pydantic models the API publishes
(:mod:`mobility.export.gbfs`, :mod:`mobility.export.map_style`): one definition of each document.

Before, the models lived in ``api/gbfs.py`` and ``api/web/router.py``, for the OpenAPI document
only, while the writers built plain dicts: a latitude out of range met no check before the
official schemas' in ``write_gbfs`` (``build_feeds`` handed it on), and a style without truck
colours was served all the same.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from shapely.geometry import Point
from typer.testing import CliRunner

from mobility.cli import app
from mobility.export import map_style
from mobility.export.gbfs import FILE_MODELS, GbfsFeedFile, build_feeds, dump
from mobility.export.layers import TRUCK_COLORS, MapLayers
from mobility.export.map_style import MapStyle, basemap_style

runner = CliRunner()

N_STATIONS_2025_12 = 2799


def test_the_gbfs_files_mobility_export_writes_are_their_models(
    plan_doc: dict[str, Any], tmp_path: Path
) -> None:
    """Each file ``mobility export PLAN -f gbfs`` writes validates through its model (and the
    route's union of them), and its model, dumped, is the file byte for byte."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "gbfs"
    r = runner.invoke(
        app, ["export", str(plan), "-f", "gbfs", "-o", str(out), "--base-url", "https://example.org/feeds"]
    )
    assert r.exit_code == 0, r.output
    files = {p.stem: p.read_text(encoding="utf-8") for p in out.glob("*.json")}
    assert set(files) == set(FILE_MODELS)
    for name, text in files.items():
        model = FILE_MODELS[name].model_validate_json(text)
        assert type(GbfsFeedFile.model_validate_json(text).root) is FILE_MODELS[name], name
        assert json.dumps(dump(model), ensure_ascii=False) + "\n" == text, name
    stations = json.loads(files["station_information"])["data"]["stations"]
    assert len(stations) == N_STATIONS_2025_12 + 40
    assert any("short_name" in s and "address" in s for s in stations), "optional fields are written"
    feeds = json.loads(files["gbfs"])["data"]["feeds"]
    assert [f["url"] for f in feeds] == [
        f"https://example.org/feeds/{n}.json"
        for n in ("system_information", "station_information", "station_status")
    ]


def test_build_feeds_refuses_what_the_models_refuse(current_layers: MapLayers) -> None:
    """A station off the globe (latitude 95) is a validation error naming the field, not a file
    that only the official schema check of ``write_gbfs`` would catch."""
    stations = current_layers.existing_stations.head(3).copy()
    stations.loc[stations.index[1], stations.geometry.name] = Point(126.9, 95.0)
    layers = replace(current_layers, existing_stations=stations)
    with pytest.raises(ValidationError, match=r"(?s)lat\n.*less than or equal to 90"):
        build_feeds(layers, base_url="https://example.org/gbfs")
    ok = build_feeds(replace(current_layers, existing_stations=stations.head(1)), base_url="https://e.org/g")
    assert len(ok["station_information"]["data"]["stations"]) == 1


def test_basemap_style_is_checked_against_its_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The style document validates through :class:`MapStyle` as it is made: one without truck
    colours fails there, not in the web app."""
    style = basemap_style("https://h/tiles/{z}/{x}/{y}.pbf")
    assert MapStyle.model_validate(style).metadata.colors.trucks == list(TRUCK_COLORS)
    assert list(style) == ["version", "name", "metadata", "center", "zoom", "sources", "layers"]
    monkeypatch.setattr(map_style, "TRUCK_COLORS", ())
    with pytest.raises(ValidationError, match=r"metadata\.mobility:colors\.trucks"):
        basemap_style("https://h/tiles/{z}/{x}/{y}.pbf")
