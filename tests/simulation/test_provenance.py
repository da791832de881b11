"""The provenance of simulation results and of ``sweep.json``: files named and fingerprinted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mobility.simulation.pipeline import Prepared, simulation_provenance
from mobility.simulation.sweep import SimulationSweep, sweep_document, sweep_json_schema, write_sweep


def _prep(tmp_path: Path) -> Prepared:
    stations = tmp_path / "stations.csv"
    stations.write_text("station_id,bikes\nST-4,3\n", encoding="utf-8")
    prep = Prepared(
        model=None,  # type: ignore[arg-type]  # not used by the provenance
        day=pd.Timestamp("2019-06-12"),
        bikes=np.array([3]),
        start_inventory="status snapshot",
        source="2019-12",
        datasets={"trips": "2016-03", "station_set": "2019-12"},
        files={"station_set": stations},
    )
    (tmp_path / "snap.csv").write_text("station_id,bikes\nST-4,3\n", encoding="utf-8")
    (tmp_path / "routes.json").write_text("{}", encoding="utf-8")
    prep.add_inputs({"status": tmp_path / "snap.csv", "routes": tmp_path / "routes.json", "x": None})
    return prep


def test_simulation_provenance_names_and_fingerprints_the_status_and_routes(tmp_path: Path) -> None:
    prov = simulation_provenance(_prep(tmp_path), seed=5)
    ds = prov["datasets"]
    assert set(ds) == {"station_set", "status", "routes"}
    assert ds["status"]["file"] == "snap.csv" and ds["routes"]["file"] == "routes.json"
    assert all(len(d["sha256"]) == 16 for d in ds.values())
    assert prov["seed"] == 5 and prov["created_at"] and prov["code_version"]
    assert prov["scenario"]["day"] == "2019-06-12" and prov["scenario"]["trips"] == "2016-03"


def _table() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for fleet, share in ((20000, 0.9), (30000, 0.96)):
        for gu in ("citywide", "마포구"):
            rows.append({"fleet": fleet, "gu": gu, "trips_demanded": 10.0, "served_share": share,
                         "served_share_low": share - 0.01, "served_share_high": share + 0.01,
                         "lost_empty": 1.0, "full_arrivals": 0.0, "seconds": 0.1})  # fmt: skip
    return pd.DataFrame(rows)


def test_sweep_json_is_a_document_with_provenance(tmp_path: Path) -> None:
    doc = sweep_document(_prep(tmp_path), _table(), replications=2, seed=1, seconds=3.21)
    assert doc.fleet_for_95pct == 30000 and [p.fleet for p in doc.citywide] == [20000, 30000]
    files = write_sweep(tmp_path / "out", _table(), doc)
    assert [p.name for p in files] == ["sweep.parquet", "sweep.csv", "sweep.json"]
    assert (tmp_path / "out" / "sweep.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    back = SimulationSweep.model_validate_json((tmp_path / "out" / "sweep.json").read_text(encoding="utf-8"))
    assert back.provenance.seed == 1 and back.provenance.created_at
    assert back.provenance.datasets["status"]["file"] == "snap.csv"
    assert "rows" not in doc.summary() and doc.summary()["provenance"]["code_version"]
    schema = sweep_json_schema()
    assert "provenance" in schema["required"] and schema["$schema"].endswith("2020-12/schema")
