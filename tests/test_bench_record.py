"""``mobility bench pmedian|brp|pdtsp``: the JSON records seed, time limit, code version, the
solver's own bound and gap per row, and the OR-Tools baseline's time apart from the engine's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.provenance import code_version

BENCH = Path("/work/shared/benchmarks")
if not BENCH.is_dir():  # pragma: no cover
    BENCH = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _copy(tmp_path: Path, kind: str, name: str, bks: str) -> Path:
    d = tmp_path / kind
    (d / "instances").mkdir(parents=True)
    shutil.copy(BENCH / kind / "instances" / name, d / "instances" / name)
    (d / "bks.csv").write_text(bks, encoding="utf-8")
    return d


def _run(*args: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``--json`` document and the last line of the plain run."""
    full = CliRunner().invoke(app, [*args, "--json"])
    assert full.exit_code == 0, full.output
    plain = CliRunner().invoke(app, list(args))
    assert plain.exit_code == 0, plain.output
    return json.loads(full.stdout), json.loads(plain.stdout.strip().splitlines()[-1])


def test_pmedian_records_the_settings_and_the_solver_gap(tmp_path: Path) -> None:
    d = _copy(tmp_path, "pmed", "pmed1.txt", "instance,best_known\npmed1,5819\n")
    doc, last = _run("bench", "pmedian", str(d), "--time-limit", "20", "--seed", "3")
    for out in (doc, last):
        assert out["time_limit"] == 20 and out["seed"] == 3
        assert out["code_version"] == code_version()
    row = doc["instances"][0]
    assert row["status"] == "optimal" and row["bound"] is not None
    assert row["solver_gap"] == pytest.approx(0.0, abs=1e-6)
    assert last["all_match"] is True and "seconds" in last  # the pinned keys stay
    # the ratio to the baseline of the same run (greedy + swap), in the document and the last line
    assert row["ratio_to_heuristic"] == pytest.approx(row["objective"] / row["heuristic"], abs=1e-4)
    assert last["mean_ratio_to_heuristic"] == pytest.approx(row["ratio_to_heuristic"])


@pytest.mark.parametrize("kind", ["pmedian", "brp", "pdtsp"])
def test_the_last_line_names_the_machine(tmp_path: Path, kind: str) -> None:
    """Like every ``bench/`` script's last line, the summary a script reads has the machine."""
    if kind == "pmedian":
        d = _copy(tmp_path, "pmed", "pmed1.txt", "instance,best_known\npmed1,5819\n")
        args = ["bench", "pmedian", str(d), "--time-limit", "5"]
    else:
        stem, ext, best = ROUTING[kind]
        d = _copy(tmp_path, kind, f"{stem}.{ext}", f"instance,best_known\n{stem},{best}\n")
        args = ["bench", kind, str(d), "--time-limit", "1", "--workers", "1", "--no-baseline"]
    doc, last = _run(*args)
    same = ("cores", "ram_gb", "cpu", "python")  # two runs: only the load average may differ
    assert {k: last["machine"][k] for k in same} == {k: doc["machine"][k] for k in same}
    assert last["machine"]["cores"] >= 1 and last["machine"]["cpu"]


ROUTING = {"brp": ("7Bergamo30", "txt", 12600), "pdtsp": ("n20q1000A", "tsp", 3816)}
"""One small published instance of each routing bench: name, extension, best-known cost."""


@pytest.mark.parametrize("kind", sorted(ROUTING))
def test_routing_benches_record_the_bound_and_the_baseline_time(tmp_path: Path, kind: str) -> None:
    stem, ext, best = ROUTING[kind]
    d = _copy(tmp_path, kind, f"{stem}.{ext}", f"instance,best_known\n{stem},{best}\n")
    doc, last = _run("bench", kind, str(d), "--time-limit", "2", "--seed", "5", "--workers", "1")
    for out in (doc, last):
        assert out["time_limit"] == 2 and out["seed"] == 5
        assert out["code_version"] == code_version()
        assert out["baseline_seconds"] > 0  # the OR-Tools runs, not in total_seconds
        assert {"mean_gap_pct", "solved", "reached_best_known", "total_seconds"} <= set(out)
    row = doc["instances"][0]
    assert {"status", "bound", "solver_gap", "gap_pct"} <= set(row)
    assert doc["baseline_seconds"] == pytest.approx(row["ortools_seconds"], abs=1e-3)
    if kind == "brp":  # the CP-SAT model proves the small BRP instance optimal: its bound is kept
        assert row["bound"] == pytest.approx(row["cost"]) and row["solver_gap"] == pytest.approx(0.0)
    if row["bound"] is not None:
        assert row["solver_gap"] is not None and row["solver_gap"] >= 0
