"""A command run into the folder of an earlier run leaves one run's files there, not its new files
beside the last run's: the files the command owns (its known output names) that it did not write
this time are removed as the new set moves in (:func:`mobility.io.staged_files`); no other file
of the folder is touched, and a run that fails leaves the folder as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.io import atomic_write_text, staged_files

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "seoul-2019-30k.yaml"


def _folder(out: Path, names: list[str]) -> dict[str, str]:
    """``out`` holding an earlier run's ``names`` and a file of the user's; its contents by name."""
    out.mkdir(parents=True, exist_ok=True)
    for name in [*names, "notes.txt"]:
        (out / name).write_text(f"earlier {name}", encoding="utf-8")
    return _contents(out)


def _contents(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.iterdir())}


def test_owned_files_not_written_again_are_removed_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _folder(out, ["a.json", "map.html"])
    (out / "map.png").mkdir()  # a folder of that name is not the command's file
    with staged_files(out, owns=("a.json", "map.html", "map.png")) as stage:
        atomic_write_text(stage / "a.json", "new a")
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "map.png", "notes.txt"]
    assert (out / "a.json").read_text(encoding="utf-8") == "new a"
    assert (out / "notes.txt").read_text(encoding="utf-8") == "earlier notes.txt"


def test_a_failure_removes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = _folder(out, ["a.json", "map.html"])
    with pytest.raises(RuntimeError), staged_files(out, owns=("a.json", "map.html")) as stage:
        atomic_write_text(stage / "a.json", "new a")
        raise RuntimeError("the map broke")
    assert _contents(out) == before  # the earlier set whole, and no staging folder


def test_owned_names_are_file_names_not_paths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file names"), staged_files(tmp_path, owns=("../plan.json",)):
        pass


def test_plan_with_no_maps_removes_the_earlier_plans_maps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mobility.placement.pipeline as pipeline
    import mobility.placement.validate as validate
    from tests.placement.test_plan import sample_plan

    def planned(*_a: Any, **_k: Any) -> tuple[Any, None]:
        return sample_plan(), None

    monkeypatch.setattr(pipeline, "plan_expansion", planned)
    monkeypatch.setattr(validate, "validate_plan", lambda *_a: validate.PlanValidationReport())
    out = tmp_path / "out"
    _folder(out, ["plan.json", "plan.geojson", "map.html", "map.png"])
    res = CliRunner().invoke(app, ["plan", str(SCENARIO), "--out", str(out), "--no-maps", "--no-simulate"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "plan.geojson", "plan.json"]
    assert json.loads((out / "plan.json").read_text(encoding="utf-8"))["scenario"] == "tiny"


def test_rebalance_removes_last_nights_morning_and_maps_it_did_not_write(tmp_path: Path) -> None:
    from tests.rebalancing.test_cli import _inputs

    sp, st = _inputs(tmp_path)
    out = tmp_path / "out"
    _folder(out, ["routes.json", "morning.json", "map.html", "map.png"])
    argv = ["rebalance", str(sp), "--status", str(st), "--out", str(out)]
    res = CliRunner().invoke(app, [*argv, "--no-simulate", "--no-maps", "--no-paths"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        "notes.txt",
        "routes.csv",
        "routes.geojson",
        "routes.json",
    ]


def test_export_of_the_current_network_removes_a_plans_new_stations_layer(
    data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "gj"
    _folder(out, ["existing_stations.geojson", "new_stations.geojson", "plan.json"])
    argv = ["export", "current", "-f", "geojson", "-o", str(out), "--data-dir", str(data_dir), "--json"]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 0, res.output
    written = sorted(Path(f["path"]).name for f in json.loads(res.stdout)["files"])
    assert written == ["coverage.geojson", "districts.geojson", "existing_stations.geojson"]
    # the plan's layer is gone; plan.json (not an export layer) and the user's file stay
    assert sorted(p.name for p in out.iterdir()) == [*written, "notes.txt", "plan.json"]
    doc = json.loads((out / "existing_stations.geojson").read_text(encoding="utf-8"))
    assert len(doc["features"]) == 2799
