"""``network matrix`` prints a table, an unknown ``--source`` is named as such, and snapping
refuses negative distances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.errors import InputError
from mobility.network import ProfiledNetwork, snap_points

runner = CliRunner()


def test_matrix_summary_is_a_table_not_a_dict(data_dir: Path, tmp_path: Path) -> None:
    pts = tmp_path / "pts.csv"
    pd.DataFrame({"id": ["a", "b"], "lon": [126.9779, 127.0276], "lat": [37.5663, 37.4979]}).to_csv(
        pts, index=False
    )
    argv = ["network", "matrix", "--points", str(pts), "--source", "moct", "--profile", "truck"]
    res = runner.invoke(app, [*argv, "--out", str(tmp_path / "m.npz"), "--data-dir", str(data_dir)])
    assert res.exit_code == 0, res.output
    assert "{'points'" not in res.stdout and "'profile':" not in res.stdout
    assert "points" in res.stdout and "snap beyond" in res.stdout


@pytest.mark.parametrize("kw", ["warn_beyond_m", "error_beyond_m"])
def test_snap_refuses_negative_distances(walk_net: ProfiledNetwork, kw: str) -> None:
    with pytest.raises(InputError) as err:
        snap_points(walk_net, np.array([126.98]), np.array([37.57]), **{kw: -5.0})
    assert err.value.field == kw


@pytest.mark.parametrize("command", [["info"], ["matrix", "--points", "2025-12", "--out"]])
def test_unknown_source_names_the_option(data_dir: Path, tmp_path: Path, command: list[str]) -> None:
    if command[0] == "matrix":
        command = [*command, str(tmp_path / "m.npz")]
    res = runner.invoke(app, ["network", *command, "--source", "osmall", "--data-dir", str(data_dir)])
    assert res.exit_code == 2, res.output
    assert "--source: got 'osmall'; expected one of osm-all, osm-drive" in res.output


def test_profile_summary_cells_read_as_numbers_not_python_values() -> None:
    """``network info -p walk`` printed ``km 25822.6`` and the dropped counts as a raw dict
    (``{'edges_not_allowed': 2120, ...}``)."""
    from mobility.cli.common import summary_cell as cell

    assert cell(25822.64) == "25,822.6" and cell(17598) == "17,598" and cell(None) == ""
    assert cell({"edges_not_allowed": 2120, "components": 440}) == "edges not allowed 2,120\ncomponents 440"
