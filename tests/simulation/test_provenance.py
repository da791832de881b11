"""The provenance of simulation results and of ``sweep.json``: files named and fingerprinted."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mobility.provenance import dataset_version
from mobility.simulation.engine import SIMULATOR
from mobility.simulation.pipeline import Prepared, simulation_provenance
from mobility.simulation.sweep import SimulationSweep, sweep_document, sweep_json_schema, write_sweep
from mobility.stats import SolverStats


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


def test_the_sweep_document_has_a_stats_block_shaped_as_every_solvers(tmp_path: Path) -> None:
    """As simulation.json's ``stats`` and plan.json's ``siting_stats`` (:class:`SolverStats`): the
    simulator, its status, the served share at the largest fleet, no bound, the engine time of the
    points (0.1 s each in the table) and the seed."""
    doc = sweep_document(_prep(tmp_path), _table(), replications=2, seed=1, seconds=3.21)
    assert doc.stats is not None
    assert (doc.stats.solver, doc.stats.status, doc.stats.bound, doc.stats.seed) == (
        SIMULATOR,
        "completed",
        None,
        1,
    )
    assert doc.stats.objective == 0.96 and doc.stats.seconds == pytest.approx(0.2)
    assert "30,000" in doc.stats.extra["objective_is"]
    written = doc.model_dump(mode="json")
    assert set(written["stats"]) == {f.name for f in fields(SolverStats)}
    assert SimulationSweep.model_validate_json(doc.model_dump_json()).stats == doc.stats
    schema = sweep_json_schema()
    assert "stats" in schema["required"] and "SolverStats" in schema["$defs"]


@pytest.mark.slow
def test_a_simulation_records_the_street_network_and_the_potential_models_files(data_dir: Path) -> None:
    """Ride and walk times come from the OSM network, and the 141 stations of 2019 without a
    demand profile take the demand-potential model's level: those files are fingerprinted too."""
    from mobility.simulation.pipeline import prepare

    prep = prepare("2019-12", "2019-06-12", data_dir=data_dir)
    prov = simulation_provenance(prep, seed=0)["datasets"]
    assert prov["network"]["file"] == "seoul_best_graph.graphml.gz"
    assert (
        prov["network"]["sha256"]
        == dataset_version(data_dir / "osm" / "seoul_best_graph.graphml.gz")["sha256"]
    )
    potential = {k: v["file"] for k, v in prov.items() if k.startswith("potential.")}
    assert potential["potential.population_grid"] == "seoul_pop_grid_100m.csv"
    assert {"potential.subway_stations", "potential.bike_lanes"} <= set(potential)


def test_the_morning_after_records_the_riders_street_network(data_dir: Path) -> None:
    """The morning is simulated on the walking and cycling network (``osm-all``), not on the
    trucks' (``osm-drive``, the night's ``network``): both are fingerprinted, neither replaces
    the other, and files the night already recorded are not repeated."""
    from mobility.provenance import Provenance
    from mobility.simulation.morning import morning_after
    from mobility.sources.stations import load_station_list

    st = load_station_list("2025-12", data_dir=data_dir).table
    st = st[st["gu"] == "마포구"].head(12).reset_index(drop=True)
    night = Provenance.collect(
        {"network": data_dir / "osm" / "omt_tiles_2021" / "seoul_osm2021_drive.graphml.gz"}
    )
    m = morning_after(
        st, np.full(len(st), 5), {"none": None}, night="2022-01-01", profiles=None,
        replications=1, data_dir=data_dir, provenance=night,
    )  # fmt: skip
    assert m.provenance is not None
    ds = m.provenance.datasets
    assert ds["network"]["file"] == "seoul_osm2021_drive.graphml.gz"
    assert ds["simulation.network"]["file"] == "seoul_best_graph.graphml.gz"
    assert any(k.startswith("simulation.demand.trips_") for k in ds)
    files = [(d["file"], d["sha256"]) for d in ds.values()]
    assert len(files) == len(set(files))
