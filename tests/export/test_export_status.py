"""``mobility export routes.json --status SNAPSHOT``: the night's map over the snapshot the routes
were planned on, as ``mobility rebalance`` draws it, not over the current network's estimate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest

from mobility.export.layers import MapLayers
from tests.export.test_export_cli_errors import _run


@pytest.fixture
def night(tmp_path: Path, routes_doc: dict[str, Any], current_layers: MapLayers) -> tuple[Path, pd.DataFrame]:
    """routes.json, and a status CSV of every stop's station plus 40 others (ids, numbers and
    bikes only: names, positions and docks come from the station list), and one id no list knows."""
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps(routes_doc, ensure_ascii=False), encoding="utf-8")
    stops = {s["station_id"] for r in routes_doc["routes"] for s in r["stops"]}
    ex = current_layers.existing_stations
    others = [i for i in ex["station_id"] if i not in stops][:40]
    ids = sorted(stops) + others
    number = ex.set_index("station_id")["number"]
    status = pd.DataFrame(
        {
            "station_id": [*ids, "ST-999999"],
            "number": [*number.loc[ids].astype("Int64"), 999999],
            "bikes": [i % 7 for i in range(len(ids) + 1)],
        }
    )
    status.to_csv(tmp_path / "snap.csv", index=False)
    return routes, status


def test_the_night_map_shows_the_snapshot(
    tmp_path: Path,
    night: tuple[Path, pd.DataFrame],
    current_layers: MapLayers,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without ``--status`` the exported night drew the 2,799 stations of the current network with
    an estimated 45,000 bikes; with it, the snapshot's stations and bikes, as the rebalance's own
    map does, and the status row that cannot be placed is counted, not silently dropped."""
    routes, status = night
    out = tmp_path / "night.gpkg"
    argv = [
        "export",
        str(routes),
        "-f",
        "gpkg",
        "-o",
        str(out),
        "--status",
        str(tmp_path / "snap.csv"),
        "--json",
    ]
    code, stdout, err = _run(argv, capsys, monkeypatch)
    assert code == 0, err
    note = (
        f"note: 1 status row of {len(status)} dropped (no coordinates (not in the station list)): ST-999999"
    )
    assert note in err
    counts = json.loads(stdout)["layers"]
    assert counts["existing_stations"] == len(status) - 1 and counts["routes"] == 3
    st = pyogrio.read_dataframe(out, layer="existing_stations")
    bikes = dict(zip(status["station_id"], status["bikes"], strict=True))
    assert st["bikes"].tolist() == [bikes[i] for i in st["station_id"]]
    assert not st["bikes_estimated"].any()
    numbers = dict(zip(status["station_id"], status["number"].astype(str), strict=True))
    assert st["number"].tolist() == [numbers[i] for i in st["station_id"]]  # the snapshot's, not blank
    listed = current_layers.existing_stations.set_index("station_id")
    assert st["name"].tolist() == listed.loc[st["station_id"], "name"].tolist()  # Korean, from the list
    assert st["docks"].tolist() == listed.loc[st["station_id"], "docks"].tolist()
    districts = pyogrio.read_dataframe(out, layer="districts")
    assert districts["stations"].sum() == len(status) - 1  # counted over the snapshot only


def test_a_snapshot_without_the_routes_stations_names_status(
    tmp_path: Path,
    night: tuple[Path, pd.DataFrame],
    routes_doc: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    routes, status = night
    first = routes_doc["routes"][0]["stops"][0]["station_id"]
    status[status["station_id"] != first].to_csv(tmp_path / "other.csv", index=False)
    out = tmp_path / "night.png"
    argv = ["export", str(routes), "-f", "png", "-o", str(out), "--status", str(tmp_path / "other.csv")]
    code, stdout, err = _run(argv, capsys, monkeypatch)
    assert (code, stdout) == (2, "")
    assert f"error: --status: got '{tmp_path / 'other.csv'}'; expected the status snapshot" in err
    assert f"1 of the routes' stations are not in it, e.g. {first})" in err and not out.exists()


@pytest.mark.parametrize("source", ["current", "plan"])
def test_status_is_only_for_a_routes_document(
    source: str,
    tmp_path: Path,
    plan_doc: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snap = tmp_path / "snap.csv"
    snap.write_text("station_id,bikes\nST-4,3\n", encoding="utf-8")
    if source == "plan":
        source = str(tmp_path / "plan.json")
        Path(source).write_text(json.dumps(plan_doc, ensure_ascii=False), encoding="utf-8")
    argv = ["export", source, "-f", "png", "-o", str(tmp_path / "m.png"), "--status", str(snap)]
    code, _, err = _run(argv, capsys, monkeypatch)
    assert code == 2
    expected = "only with a routes.json as PLAN_OR_ROUTES (the night it was planned on)"
    assert err == f"error: --status: got '{snap}'; expected {expected}"
    missing = tmp_path / "none.csv"
    argv[-1] = str(missing)
    code, _, err = _run(argv, capsys, monkeypatch)
    assert code == 2 and err.startswith(
        f"error: --status: got '{missing}'; expected an existing status snapshot"
    )


def test_a_bad_status_file_is_refused_with_every_bad_value(
    tmp_path: Path,
    night: tuple[Path, pd.DataFrame],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As ``mobility simulate`` and ``mobility rebalance`` say it (the API's 422 lists them too)."""
    from tests.cli.test_status_every_problem import BAD, PROBLEMS

    routes, _ = night
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD, encoding="utf-8")
    out = tmp_path / "night.png"
    argv = ["export", str(routes), "-f", "png", "-o", str(out), "--status", str(bad)]
    code, stdout, err = _run(argv, capsys, monkeypatch)
    assert (code, stdout) == (2, "")
    assert err.endswith("bad.csv: 4 invalid values: " + " ".join(PROBLEMS)), err  # on one line here
    assert not out.exists()
