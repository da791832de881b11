"""The backtest's provenance names and fingerprints both station lists (``--from`` and ``--to``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.placement import backtest as bt
from mobility.provenance import Provenance


class _StopError(Exception):
    pass


def _result(prov: Provenance) -> Any:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Doc:  # stands in for a Backtest: only its provenance is read
        provenance: Provenance

    return Doc(prov)


def test_both_station_lists_are_fingerprinted(tmp_path: Path) -> None:
    old, new, grid = tmp_path / "old.csv", tmp_path / "new.csv", tmp_path / "grid.csv"
    for p, text in ((old, "a\n1\n"), (new, "a\n2\n"), (grid, "g\n")):
        p.write_text(text)
    base = Provenance.collect({"population_grid": grid}, seed=4)
    prov = bt.with_station_lists(_result(base), old, new).provenance.to_dict()
    ds = prov["datasets"]
    assert ds["stations_from"]["file"] == "old.csv" and ds["stations_to"]["file"] == "new.csv"
    assert ds["stations_from"]["sha256"] != ds["stations_to"]["sha256"]
    assert ds["population_grid"]["file"] == "grid.csv" and prov["seed"] == 4
    # an uploaded list (no file) or a removed file is left out, not an error
    none = bt.with_station_lists(_result(Provenance.collect({})), None, tmp_path / "gone.csv")
    assert none.provenance.datasets == {}


def test_the_cli_records_the_files_of_both_lists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> None:
    seen: dict[str, Any] = {}

    def stop(_result: Any, old_file: Path | None, new_file: Path | None) -> Any:
        seen.update(old_file=old_file, new_file=new_file)
        raise _StopError

    monkeypatch.setattr(bt, "backtest", lambda *_a, **_k: SimpleNamespace())
    monkeypatch.setattr(bt, "with_station_lists", stop)
    r = CliRunner().invoke(
        app,
        ["backtest", "--from", "2018-11", "--to", "2019-12", "--out", str(tmp_path / "o"),
         "--data-dir", str(data_dir)],
    )  # fmt: skip
    assert isinstance(r.exception, _StopError), r.output
    assert seen["old_file"].name.startswith("stations_2018-11")
    assert seen["new_file"].name.startswith("stations_2019-12")
