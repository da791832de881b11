"""``mobility backtest`` on the real station lists 2018-11 -> 2019-12 (slow)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mobility.network.street import to_metric
from mobility.sources.stations import load_station_list

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("backtest")
    r = subprocess.run(
        [sys.executable, "-c", "from mobility.cli import main; main()", "backtest",
         "--from", "2018-11", "--to", "2019-12", "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout), out


def test_json_fields_and_files(result: tuple[dict[str, Any], Path]) -> None:
    doc, out = result
    for side in ("real", "plan"):
        for key in (
            "stations",
            "new_stations",
            "covered_share_300",
            "covered_share_500",
            "predicted_trips",
            "district_covered_share_cv",
            "district_stations_per_10k_cv",
        ):
            assert key in doc[side], (side, key)
        assert 0 < doc[side]["covered_share_300"] <= doc[side]["covered_share_500"] <= 1
    assert isinstance(doc["stations_to_match_real"], int)
    assert 0 <= doc["random_near_share"] <= 1 and 0 <= doc["real_new_near_proposed_share"] <= 1
    # on a loaded machine the MIP may end at its time limit: the lazy-greedy sites are kept then
    assert doc["siting_stats"]["status"] in ("optimal", "feasible", "time_limit")
    assert doc["siting_stats"]["objective"] > 0
    assert any("does not know" in n for n in doc["notes"])
    for name in ("backtest.json", "districts.csv", "map.png", "map.html"):
        assert (out / name).stat().st_size > 0
    with (out / "districts.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 25 and {"gu", "covered_share_300_real", "covered_share_300_plan"} <= set(rows[0])
    assert sum(int(r["stations_real"]) for r in rows) <= doc["real"]["stations"]


def test_station_matching_rule(result: tuple[dict[str, Any], Path], data_dir: Path) -> None:
    """New = no 2018-11 station within 50 m, checked by brute force against the whole old list."""
    doc, out = result
    old = load_station_list("2018-11", data_dir=data_dir).table
    new = load_station_list("2019-12", data_dir=data_dir).table
    ox, oy = (np.asarray(a) for a in to_metric(old["lon"].to_numpy(float), old["lat"].to_numpy(float)))
    nx, ny = (np.asarray(a) for a in to_metric(new["lon"].to_numpy(float), new["lat"].to_numpy(float)))
    dmin = np.sqrt((nx[:, None] - ox[None, :]) ** 2 + (ny[:, None] - oy[None, :]) ** 2).min(axis=1)
    assert doc["real"]["new_stations"] == int((dmin > 50.0).sum()) == 113
    assert doc["plan"]["new_stations"] == doc["real"]["new_stations"]
    assert doc["real"]["stations"] == len(new)
    full = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    sites = full["real_new_sites"]
    assert len(sites) == 113
    sx, sy = to_metric(np.array([s["lon"] for s in sites]), np.array([s["lat"] for s in sites]))
    d = np.sqrt((np.asarray(sx)[:, None] - ox[None, :]) ** 2 + (np.asarray(sy)[:, None] - oy[None, :]) ** 2)
    assert d.min() > 50.0
    # the plan has as many new sites as the city added, and covers at least as many as the greedy does
    assert len(full["proposed_sites"]) == 113
    assert doc["plan"]["covered_share_300"] >= doc["real"]["covered_share_300"]
