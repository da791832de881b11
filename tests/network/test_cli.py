"""``mobility network``: info and matrix on the real networks (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from mobility.cli import app

runner = CliRunner()


def test_info_json_moct(data_dir: Path) -> None:
    args = [
        "network",
        "info",
        "--source",
        "moct",
        "--profile",
        "truck",
        "--json",
        "--data-dir",
        str(data_dir),
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["nodes"] == 7405
    assert (
        doc["profile"]["nodes"]
        + doc["profile"]["dropped"]["nodes_outside_largest_scc"]
        + doc["profile"]["dropped"]["nodes_without_edges"]
        == 7405
    )
    gu = {r["gu"]: r for r in doc["districts"]}
    assert len(gu) == 26  # 25 gu + outside
    assert gu["강남구"]["nodes"] > gu["강동구"]["nodes"]  # the 2018 extract lacks Gangdong-gu


def test_matrix_csv_points_npz_and_parquet(data_dir: Path, tmp_path: Path) -> None:
    pts = tmp_path / "pts.csv"
    pd.DataFrame(
        {
            "id": ["시청", "강남역", "서울역"],
            "lon": [126.9779, 127.0276, 126.9707],
            "lat": [37.5663, 37.4979, 37.5547],
        }
    ).to_csv(pts, index=False)
    out = tmp_path / "m.npz"
    base = ["network", "matrix", "--points", str(pts), "--source", "moct", "--profile", "truck"]
    res = runner.invoke(
        app, [*base, "--out", str(out), "--weight", "length", "--json", "--data-dir", str(data_dir)]
    )
    assert res.exit_code == 0, res.output
    z = np.load(out)
    assert z["matrix"].shape == (3, 3) and str(z["unit"]) == "m"
    assert list(z["ids"]) == ["시청", "강남역", "서울역"]
    assert 8000 < z["matrix"][0, 1] < 12000
    pq = tmp_path / "m.parquet"
    res = runner.invoke(app, [*base, "--out", str(pq), "--data-dir", str(data_dir)])
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(pq)
    assert len(df) == 9 and "value_s" in df.columns
    assert (df.loc[df.from_id == df.to_id, "value_s"] == 0).all()


def test_matrix_csv_with_korean_headers_keeps_the_names(data_dir: Path, tmp_path: Path) -> None:
    """이름/경도/위도 headers: the names are the ids (they were 0, 1, ...)."""
    pts = tmp_path / "pts.csv"
    pts.write_text("이름,경도,위도\n시청,126.9779,37.5663\n강남역,127.0276,37.4979\n", encoding="utf-8")
    out = tmp_path / "m.npz"
    argv = ["network", "matrix", "--points", str(pts), "--source", "moct", "--profile", "truck"]
    res = runner.invoke(app, [*argv, "--out", str(out), "--data-dir", str(data_dir)])
    assert res.exit_code == 0, res.output
    assert list(np.load(out)["ids"]) == ["시청", "강남역"]


def test_matrix_bad_output_suffix_exits_2(data_dir: Path, tmp_path: Path) -> None:
    args = [
        "network",
        "matrix",
        "--points",
        "2025-12",
        "--out",
        str(tmp_path / "m.txt"),
        "--data-dir",
        str(data_dir),
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert ".npz or .parquet" in res.stderr


def test_info_unknown_source_exits_2(data_dir: Path) -> None:
    res = runner.invoke(app, ["network", "info", "--source", "osmall", "--data-dir", str(data_dir)])
    assert res.exit_code == 2
    assert "osm-all" in res.stderr
