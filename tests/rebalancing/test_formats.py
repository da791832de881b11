"""Readers of the published BRP and 1-PDTSP instances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mobility.errors import DataFileError
from mobility.rebalancing.formats import read_brp, read_pdtsp

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"


def test_brp_reader_drops_the_dummy_diagonal() -> None:
    inst = read_brp(BENCH / "brp" / "instances" / "8Bergamo20.txt")
    assert inst.n == 15 and inst.capacity == 20 and inst.max_vehicles is None
    assert inst.demand[0] == 0 and int(inst.demand.sum()) == -15  # bks.csv sum_q
    assert np.all(np.diag(inst.cost) == 0)
    off = inst.cost[~np.eye(inst.n, dtype=bool)]
    assert off.max() < 1e6 and off.min() >= 0


def test_pdtsp_reader_rounds_euc_2d_like_tsplib() -> None:
    inst = read_pdtsp(BENCH / "pdtsp" / "instances" / "n20q10A.tsp")
    assert inst.n == 20 and inst.capacity == 10 and inst.max_vehicles == 1
    assert int(inst.demand.sum()) == 0 and inst.demand[0] == -7
    # nodes 1 (0, 0) and 2 (220, -461) in the file: sqrt(220² + 461²) = 510.80 -> 511
    x = inst.coords
    assert x is not None
    assert inst.cost[0, 1] == int(np.floor(np.hypot(*(x[1] - x[0])) + 0.5))
    assert np.array_equal(inst.cost, inst.cost.T)


@pytest.mark.parametrize(
    "text",
    ["3 0 1 -1 10 1e9 1 2 3", "x y z", "2 0 1 5 1e9 1 2"],
)
def test_brp_reader_rejects_broken_files(tmp_path: Path, text: str) -> None:
    p = tmp_path / "bad.txt"
    p.write_text(text, encoding="ascii")
    with pytest.raises(DataFileError):
        read_brp(p)


def test_pdtsp_reader_rejects_missing_nodes(tmp_path: Path) -> None:
    p = tmp_path / "bad.tsp"
    p.write_text(
        "DIMENSION: 3\r\nCAPACITY: 5\r\nNODE_COORD_SECTION\r\n1 0 0\r\n2 1 1\r\n"
        "DEMAND_SECTION\r\n1 0\r\n2 1\r\n3 -1\r\nEOF\r\n"
    )
    with pytest.raises(DataFileError, match="DIMENSION"):
        read_pdtsp(p)
