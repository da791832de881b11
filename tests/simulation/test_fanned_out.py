"""``provenance.fanned_out``: a described field of the simulation documents, kept when read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mobility.provenance import Provenance
from mobility.simulation.pipeline import simulation_provenance
from mobility.simulation.result import simulation_json_schema
from mobility.simulation.sweep import SimulationSweep, sweep_document, sweep_json_schema
from tests.simulation.test_provenance import _prep, _table


@pytest.mark.parametrize("fanned_out", [True, False, None])
def test_a_sweep_document_keeps_fanned_out_when_read_back(tmp_path: Path, fanned_out: bool | None) -> None:
    prep = _prep(tmp_path)
    doc = sweep_document(prep, _table(), replications=2, seed=1, seconds=1.0, fanned_out=fanned_out)
    back = SimulationSweep.model_validate_json(doc.model_dump_json())
    assert back.provenance.fanned_out is fanned_out


def test_the_simulation_provenance_says_fanned_out(tmp_path: Path) -> None:
    prov = simulation_provenance(_prep(tmp_path), seed=5, fanned_out=True)
    assert prov["fanned_out"] is True and Provenance(**prov).fanned_out is True


@pytest.mark.parametrize("schema", [sweep_json_schema, simulation_json_schema])
def test_both_simulation_schemas_describe_fanned_out(schema: object) -> None:
    generated = schema()  # type: ignore[operator]
    provenance = generated["$defs"]["Provenance"]
    assert "Dask cluster" in provenance["properties"]["fanned_out"]["description"]
    # Every writer emits the key (null outside simulations), so the written schema requires it ...
    assert "fanned_out" in provenance["required"]


def test_a_document_written_before_fanned_out_existed_still_reads() -> None:
    # ... while a reader (validation mode) still takes provenance written without it.
    older: dict[str, Any] = {"code_version": "abc", "datasets": {}, "seed": 1}
    assert Provenance(**older).fanned_out is None
