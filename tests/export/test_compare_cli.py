"""Before/after comparison, ``mobility export`` end to end, and write_default_maps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.export import write_default_maps
from mobility.export.compare import SEOUL, compare_table, comparison_layers, write_comparison
from mobility.export.layers import MapLayers

runner = CliRunner()


def test_compare_table(current_layers: MapLayers, plan_layers: MapLayers) -> None:
    t = compare_table(current_layers, plan_layers)
    assert len(t) == 26 and t.iloc[-1]["gu_kr"] == SEOUL
    gu = t.iloc[:-1]
    pd.testing.assert_series_equal(
        gu["stations_change"], gu["stations_after"] - gu["stations_before"], check_names=False
    )
    # 40 new stations, nothing removed.
    assert gu["stations_change"].sum() == 40 and (gu["stations_change"] >= 0).all()
    assert t.iloc[-1]["stations_change"] == 40
    assert (gu["coverage_share_change"] >= -1e-9).all()


@pytest.mark.slow
def test_comparison_outputs(current_layers: MapLayers, plan_layers: MapLayers, tmp_path: Path) -> None:
    written = write_comparison(current_layers, plan_layers, tmp_path / "compare.svg", "svg")
    assert {p.name for p in written} == {"compare.svg", "compare_table.csv"}
    svg = (tmp_path / "compare.svg").read_text(encoding="utf-8")
    assert "change in bikes per 10,000 residents" in svg  # the change colour bar
    table = pd.read_csv(tmp_path / "compare_table.csv", encoding="utf-8-sig")
    assert "강남구" in set(table["gu_kr"])
    layers = comparison_layers(current_layers, plan_layers)
    assert {"bikes_per_10k_before", "bikes_per_10k_change"} <= set(layers.districts.columns)


def test_cli_export_current_gpkg_and_errors(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "current.gpkg"
    r = runner.invoke(app, ["export", "current", "--format", "gpkg", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["layers"]["existing_stations"] == 2799
    assert doc["files"][0]["path"] == str(out)
    assert len(pyogrio.read_dataframe(out, layer="existing_stations")) == 2799
    bad = runner.invoke(app, ["export", "current", "--format", "jpeg", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2


@pytest.mark.slow
def test_cli_export_plan_and_routes(
    plan_doc: dict[str, Any], routes_doc: dict[str, Any], tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_doc, ensure_ascii=False), encoding="utf-8")
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps(routes_doc, ensure_ascii=False), encoding="utf-8")
    r = runner.invoke(app, ["export", str(routes), "-f", "csv", "-o", str(tmp_path / "sheets"), "--json"])
    assert r.exit_code == 0, r.output
    assert {Path(f["path"]).name for f in json.loads(r.stdout)["files"]} >= {"routes_all.csv", "route_T1.csv"}
    r = runner.invoke(
        app,
        ["export", str(plan), "-f", "geojson", "-o", str(tmp_path / "gj"), "--routes", str(routes), "--json"],
    )
    assert r.exit_code == 0, r.output
    names = {Path(f["path"]).stem for f in json.loads(r.stdout)["files"]}
    assert names == {"existing_stations", "new_stations", "coverage", "districts", "routes", "stops"}
    r = runner.invoke(
        app,
        ["export", str(plan), "-f", "gbfs", "-o", str(tmp_path / "gbfs"), "--compare", "current", "--json"],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "gbfs" / "comparison_table.csv").exists()


@pytest.mark.slow
def test_write_default_maps(plan_doc: dict[str, Any], tmp_path: Path, data_dir: Path) -> None:
    written = write_default_maps(plan_doc, tmp_path, data_dir=data_dir)
    assert [p.name for p in written] == ["map.html", "map.png"]
    assert all(p.stat().st_size > 10_000 for p in written)


def _on_stations(layers: MapLayers, file: str) -> MapLayers:
    """``layers`` (a plan's) as if built on the station list ``file``."""
    from dataclasses import replace

    provenance = {"datasets": {"stations": {"file": file, "bytes": 1, "sha256": "0"}}}
    return replace(layers, meta={**layers.meta, "provenance": provenance})


def test_a_comparison_across_two_networks_says_so(current_layers: MapLayers, plan_layers: MapLayers) -> None:
    """A plan on the 2019 network compared with today's 2025 one (the README's example) drew every
    district red with nothing to say the change is between two networks, not what the plan adds."""
    import matplotlib.pyplot as plt

    from mobility.export.compare import network_note
    from mobility.export.html_map import build_figure
    from mobility.export.static_map import draw

    on_2019 = _on_stations(plan_layers, "stations_2019-12-09.csv")
    note = network_note(current_layers, on_2019)
    assert note is not None and "stations_2025-12.csv" in note and "stations_2019-12-09.csv" in note
    layers = comparison_layers(current_layers, on_2019)
    assert note in build_figure(layers).layout.title.text
    fig = draw(layers)
    try:
        assert note in fig.axes[0].get_title(loc="left")
    finally:
        plt.close(fig)
    # one network on both sides, or a side that does not say: nothing to warn of
    assert network_note(current_layers, _on_stations(plan_layers, "stations_2025-12.csv")) is None
    assert network_note(current_layers, plan_layers) is None
    assert "compare_note" not in comparison_layers(current_layers, plan_layers).meta


def test_cli_compare_across_networks_notes_it(plan_doc: dict[str, Any], tmp_path: Path) -> None:
    datasets = {"stations": {"file": "s_2019.csv"}}
    doc = plan_doc | {"provenance": {**plan_doc["provenance"], "datasets": datasets}}
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    args = ["export", str(plan), "-f", "gpkg", "-o", str(tmp_path / "cmp.gpkg"), "--compare", "current"]
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["notes"] == [
        "기준 네트워크 다름 different networks: before stations_2025-12.csv, after built on s_2019.csv "
        "(not what the plan adds)"
    ]
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "note: 기준 네트워크 다름" in r.stderr
