"""``load_night_problem``: what a night read is recorded (provenance) and shown (dropped rows)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mobility.io import atomic_write_csv
from mobility.rebalancing.night import load_night_problem, night_provenance
from mobility.scenario.nightly import nightly_from_dict

SCENARIO = {
    "name": "t",
    "depots": [{"id": "A", "lon": 127.0, "lat": 37.55}],
    "trucks": [{"depot": "A", "count": 1, "capacity": 10}],
    "targets": {"source": "snapshot"},
    "network": {"source": "straight"},
}


def _status(tmp_path: Path, unknown: int) -> Path:
    rows = [
        {"station_id": f"ST-{k}", "bikes": 5, "docks": 10, "target_morning": 4,
         "lon": 127.0 + k / 1000, "lat": 37.55}
        for k in range(1, 6)
    ]  # fmt: skip
    for k in range(unknown):  # not in any station list: no coordinates
        rows.append({"station_id": f"ST-99999{k}", "bikes": 2, "docks": 10, "target_morning": 4})
    return atomic_write_csv(tmp_path / "snap.csv", pd.DataFrame(rows))


def test_dropped_status_rows_are_named_for_the_caller_to_show(tmp_path: Path) -> None:
    night = load_night_problem(nightly_from_dict(SCENARIO), _status(tmp_path, 4))
    assert night.problem.n_stations == 5
    (note,) = night.notes
    assert note.startswith("4 status rows of 9 dropped (no coordinates (not in the station list)): ")
    assert "ST-999990, ST-999991, ST-999992, ..." in note


def test_a_clean_snapshot_has_no_notes(tmp_path: Path) -> None:
    assert load_night_problem(nightly_from_dict(SCENARIO), _status(tmp_path, 0)).notes == []


def test_the_provenance_fingerprints_the_status_file(tmp_path: Path) -> None:
    scn = nightly_from_dict(SCENARIO)
    night = load_night_problem(scn, _status(tmp_path, 0))
    prov = night_provenance(scn, night, seed=7).to_dict()
    assert prov["datasets"]["status"]["file"] == "snap.csv"
    assert len(prov["datasets"]["status"]["sha256"]) == 16
    assert prov["seed"] == 7 and prov["created_at"] and prov["scenario"]["name"] == "t"
