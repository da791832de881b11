"""The ``bench/`` scripts refuse bad options up front (exit 2, the option, the value and what is
expected, no traceback), report user errors as ``error: ...``, never print a ratio or a gap they do
not have, and remove their temporary folders. No benchmark is run: the parsers and ``main(argv)``
are called with bad values, or with the solvers replaced by stand-ins."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mobility import benchcli
from mobility.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def _exit(capsys: pytest.CaptureFixture[str], script: str, argv: list[str]) -> tuple[int, str]:
    """Run ``bench.<script>``'s entry point as ``__main__`` does; its exit code and stderr."""
    mod = importlib.import_module(f"bench.{script}")
    with pytest.raises(SystemExit) as exc:
        benchcli.run_main(mod.main, argv)
    code = exc.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    f = tmp_path / "plain.txt"
    f.write_text("x", encoding="utf-8")
    return f


BAD = [
    (
        "rebalancing",
        ["--time-limit", "-1", "--sub-time", "1"],
        "argument --time-limit: got -1; expected a number > 0",
    ),
    (
        "rebalancing",
        ["--status", "/nonexistent.csv"],
        "argument --status: got /nonexistent.csv (no such file)",
    ),
    ("rebalancing", ["--data-dir", "/nonexistent"], "argument --data-dir: got /nonexistent (no such folder)"),
    ("rebalancing", ["--scenario", "/nonexistent.yaml"], "argument --scenario: got /nonexistent.yaml"),
    ("rebalancing", ["--replications", "0"], "argument --replications: got 0; expected an integer > 0"),
    ("night_level", ["2022-13-01"], "argument nights: got 2022-13-01; expected a date YYYY-MM-DD"),
    ("api_targets", ["--night", "2022-13-01"], "argument --night: got 2022-13-01; expected a date"),
    ("api_targets", ["--replications", "0"], "argument --replications: got 0; expected an integer > 0"),
    (
        "night_level",
        ["2022-01-01", "--time-limit", "0"],
        "argument --time-limit: got 0; expected a number > 0",
    ),
    ("night_level", ["2022-01-01", "--seed", "-1"], "argument --seed: got -1; expected an integer >= 0"),
    ("sweep", ["--new-stations", "300:300:100", "--time-limit", "-1"], "argument --time-limit: got -1"),
    ("sweep", ["--new-stations", "abc"], "argument --new-stations: got abc; expected A:B:STEP"),
    ("service", ["--workers", "0", "--seconds", "1"], "argument --workers: got 0; expected an integer > 0"),
    ("service", ["--seconds", "-1", "--skip-post"], "argument --seconds: got -1; expected a number > 0"),
    ("service", ["--plan", "/nonexistent.json"], "argument --plan: got /nonexistent.json (no such file)"),
    ("service", ["--mixed-clients", "50,0"], "argument --mixed-clients: got 50,0"),
    ("service", ["--post-share", "1.5"], "argument --post-share: got 1.5; expected a number from 0 to 1"),
    ("fleet", ["--time-limit", "-1"], "argument --time-limit: got -1; expected a number > 0"),
    ("placement", ["--time-limit", "-1"], "argument --time-limit: got -1; expected a number > 0"),
    ("export", ["--routes", "/nonexistent.json"], "argument --routes: got /nonexistent.json (no such file)"),
    ("export", ["--new", "-5"], "argument --new: got -5; expected an integer >= 0"),
    ("network", ["--scipy-sources", "0"], "argument --scipy-sources: got 0; expected an integer > 0"),
    ("network", ["--radius", "-800"], "argument --radius: got -800; expected a number > 0"),
    ("trips_ingest", ["--copies", "0"], "argument --copies: got 0; expected an integer > 0"),
    ("trips_ingest", ["--memory-limit", "banana"], "argument --memory-limit: got banana; expected a memory"),
    ("demand", ["--sample", "-5"], "argument --sample: got -5; expected an integer > 0"),
    (
        "simulation",
        ["--simpy-replications", "0"],
        "argument --simpy-replications: got 0; expected an integer",
    ),
    ("simulation", ["--day", "2023-13-45"], "argument --day: got 2023-13-45; expected a date YYYY-MM-DD"),
    ("web", ["--plan", "/nonexistent.json"], "argument --plan: got /nonexistent.json (no such file)"),
    # a negative seed is refused before any work, as by `mobility bench --seed` (numpy's generators
    # refuse it only after the inputs are built); the second bad value is there so that a script
    # that takes the seed stops at it rather than running
    ("network", ["--seed", "-1", "--radius", "-1"], "argument --seed: got -1; expected an integer >= 0"),
    (
        "placement",
        ["--seed", "-1", "--time-limit", "-1"],
        "argument --seed: got -1; expected an integer >= 0",
    ),
    (
        "rebalancing",
        ["--seed", "-1", "--time-limit", "-1"],
        "argument --seed: got -1; expected an integer >= 0",
    ),
    (
        "simulation",
        ["--seed", "-1", "--replications", "0"],
        "argument --seed: got -1; expected an integer >= 0",
    ),
    (
        "pdtsp_bound",
        ["--milp-seconds", "-5", "x.tsp"],
        "argument --milp-seconds: got -5; expected a number >= 0",
    ),
]


@pytest.mark.parametrize(("script", "argv", "message"), BAD)
def test_a_bad_value_exits_2_naming_option_value_and_expectation(
    capsys: pytest.CaptureFixture[str], script: str, argv: list[str], message: str
) -> None:
    code, err = _exit(capsys, script, argv)
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("script", ["export", "rebalancing_instances"])
def test_an_output_folder_that_is_a_file_is_refused(
    capsys: pytest.CaptureFixture[str], a_file: Path, script: str
) -> None:
    code, err = _exit(capsys, script, ["--out", str(a_file)])
    assert code == 2 and f"argument --out: got {a_file} (a file); expected a folder" in err


def test_a_library_user_error_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "scenario.yaml"
    bad.write_text("name: x\nnew_stations: lots\n", encoding="utf-8")
    code, err = _exit(capsys, "sweep", ["--scenario", str(bad), "--new-stations", "300"])
    assert code == 2 and "error: " in err and "Traceback" not in err


def test_run_main_turns_a_mobility_error_into_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    def main(argv: Any) -> None:
        raise InputError("--date", "2023-13-45", "a date YYYY-MM-DD")

    with pytest.raises(SystemExit) as exc:
        benchcli.run_main(main, [])
    assert exc.value.code == 2
    assert capsys.readouterr().err == "error: --date: got '2023-13-45'; expected a date YYYY-MM-DD\n"


@pytest.mark.parametrize(
    ("check", "text", "value"),
    [
        (benchcli.positive_float, "2.5", 2.5),
        (benchcli.non_negative_float, "0", 0.0),
        (benchcli.positive_int, "3", 3),
        (benchcli.non_negative_int, "0", 0),
        (benchcli.share, "0.1", 0.1),
        (benchcli.positive_int_list, "50,200", [50, 200]),
        (benchcli.integer_range, "300:500:100", [300, 400, 500]),
        (benchcli.memory_size, "4GB", "4GB"),
        (benchcli.memory_size, "1.5GiB", "1.5GiB"),
        (benchcli.iso_date, "2023-06-14", "2023-06-14"),
    ],
)
def test_validators_accept_good_values(check: Any, text: str, value: Any) -> None:
    assert check(text) == value


@pytest.mark.parametrize(
    ("check", "text"),
    [
        (benchcli.positive_float, "0"),
        (benchcli.positive_float, "nan"),
        (benchcli.positive_float, "inf"),
        (benchcli.positive_float, "abc"),
        (benchcli.non_negative_float, "-0.5"),
        (benchcli.positive_int, "1.5"),
        (benchcli.non_negative_int, "-1"),
        (benchcli.share, "-0.1"),
        (benchcli.positive_int_list, "a,b"),
        (benchcli.integer_range, "500:300:100"),
        (benchcli.memory_size, "4"),
        (benchcli.memory_size, "0GB"),
        (benchcli.iso_date, "2023-6-14"),
        (benchcli.iso_date, "2023-02-30"),
    ],
)
def test_validators_refuse_bad_values_with_the_value(check: Any, text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=f"^got {text}; expected "):
        check(text)


def test_paths(tmp_path: Path, a_file: Path) -> None:
    assert benchcli.existing_file(str(a_file)) == a_file
    assert benchcli.existing_dir(str(tmp_path)) == tmp_path
    assert benchcli.output_dir(str(tmp_path / "new" / "deeper")) == tmp_path / "new" / "deeper"
    with pytest.raises(argparse.ArgumentTypeError, match="a folder"):
        benchcli.existing_file(str(tmp_path))
    with pytest.raises(argparse.ArgumentTypeError, match="a file"):
        benchcli.existing_dir(str(a_file))
    with pytest.raises(argparse.ArgumentTypeError, match="is a file"):
        benchcli.output_dir(str(a_file / "below"))


def test_scratch_dir_is_removed_unless_kept_or_asked_for(tmp_path: Path) -> None:
    with benchcli.scratch_dir("bench-test-") as tmp:
        (tmp / "big.bin").write_bytes(b"0" * 10)
    assert not tmp.exists()
    with pytest.raises(RuntimeError), benchcli.scratch_dir("bench-test-") as tmp:
        raise RuntimeError("interrupted")
    assert not tmp.exists()
    with benchcli.scratch_dir("bench-test-", keep=True) as tmp:
        pass
    assert tmp.is_dir()
    tmp.rmdir()
    with benchcli.scratch_dir("bench-test-", out=tmp_path / "out") as tmp:
        (tmp / "kept.txt").write_text("x", encoding="utf-8")
    assert (tmp_path / "out" / "kept.txt").is_file()


def test_service_removes_its_database_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    service = importlib.import_module("bench.service")
    used: list[Path] = []

    def load_test(args: argparse.Namespace, generators: list[str], tmp: Path) -> None:
        (tmp / "bench.sqlite").write_bytes(b"db")
        used.append(tmp)

    monkeypatch.setattr(service, "_load_test", load_test)
    monkeypatch.setattr(service, "pick_generator", lambda choice: ["python"])
    service.main(["--seconds", "1"])
    assert used and not used[0].exists()
    service.main(["--seconds", "1", "--keep"])
    assert used[1].is_dir()
    (used[1] / "bench.sqlite").unlink()
    used[1].rmdir()


def test_rebalancing_prints_no_ratio_against_an_empty_baseline() -> None:
    rebalancing = importlib.import_module("bench.rebalancing")
    empty = {
        "found": False,
        "objective": 120.0,
        "dissatisfaction_before": 120.0,
        "dissatisfaction_after": 120.0,
    }
    found = {
        "found": True,
        "objective": 100.0,
        "dissatisfaction_before": 120.0,
        "dissatisfaction_after": 90.0,
    }
    assert rebalancing.over(80.0, empty, 120.0) is None
    assert rebalancing.over(80.0, found, 100.0) == pytest.approx(0.8)
    assert rebalancing.over(30.0, found, rebalancing.removed(found)) == pytest.approx(1.0)


def test_demand_says_all_stations_timed_when_they_were() -> None:
    demand = importlib.import_module("bench.demand")
    assert "all 2799 timed" in demand.baseline_label(2799, 2799)
    assert "extrapolated" not in demand.baseline_label(2799, 2799)
    assert "150 timed, extrapolated" in demand.baseline_label(150, 2799)


def _point(value: float, gap: float | None, seconds: float) -> SimpleNamespace:
    return SimpleNamespace(
        new_stations=int(value), sited=int(value), covered_population=1000.0 + value, gap=gap, seconds=seconds
    )


def test_sweep_warms_up_before_timing_and_shows_an_unknown_gap(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep_bench = importlib.import_module("bench.sweep")
    calls: list[list[float]] = []

    def fake_sweep(sc: Any, axis: str, values: list[float], **kw: Any) -> SimpleNamespace:
        calls.append(list(values))
        return SimpleNamespace(points=[_point(v, None, 1.0) for v in values])

    def fake_inputs(sc: Any, progress: Any = None, **kw: Any) -> object:
        progress("inputs stand-in")
        return object()

    monkeypatch.setattr("mobility.placement.sweep.sweep", fake_sweep)
    monkeypatch.setattr("mobility.placement.pipeline.build_inputs", fake_inputs)
    monkeypatch.setattr("mobility.scenario.expansion.load_scenario", lambda p: SimpleNamespace(name="fake"))
    sweep_bench.main(["--new-stations", "300:400:100", "--time-limit", "1"])
    assert calls == [[300.0], [300.0, 400.0], [300.0], [400.0]]  # warm-up, warm curve, cold points
    out, err = capsys.readouterr()
    table = [line for line in out.splitlines() if line.lstrip().startswith(("300", "400"))]
    assert table and all("—" in line and "0.0000" not in line for line in table)
    assert "warm-up" in out and "not proven" in out
    assert any(line.startswith("machine: ") and " cores, " in line for line in out.splitlines())
    assert "warm-up" in err and "inputs stand-in" in err  # progress on stderr
    if sys.platform == "linux":
        assert out.strip().splitlines()[-1].startswith("{")


def test_sweep_explains_the_dash_only_when_a_gap_is_unknown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep_bench = importlib.import_module("bench.sweep")

    def fake_sweep(sc: Any, axis: str, values: list[float], **kw: Any) -> SimpleNamespace:
        return SimpleNamespace(points=[_point(v, 0.0, 1.0) for v in values])

    monkeypatch.setattr("mobility.placement.sweep.sweep", fake_sweep)
    monkeypatch.setattr("mobility.placement.pipeline.build_inputs", lambda sc, progress=None, **kw: object())
    monkeypatch.setattr("mobility.scenario.expansion.load_scenario", lambda p: SimpleNamespace(name="fake"))
    sweep_bench.main(["--new-stations", "300", "--time-limit", "1"])
    out = capsys.readouterr().out
    assert "0.0000" in out and "—" not in out and "not proven" not in out


def test_an_output_folder_that_cannot_be_created_is_refused_before_any_work() -> None:
    """The same check as every command's --out (root may write anywhere but /proc)."""
    with pytest.raises(argparse.ArgumentTypeError, match="can be created"):
        benchcli.output_dir("/proc/bench-out")


def test_network_prints_a_short_baseline_time_in_hundredths() -> None:
    """With few sources (a quick run) a baseline of 0.24 s was printed as ``0 s``."""
    network = importlib.import_module("bench.network")
    assert network.seconds_text(0.24) == "0.24 s"
    assert network.seconds_text(9.5) == "9.50 s"
    assert network.seconds_text(56.4) == "56 s"


def test_rebalancing_help_names_every_snapshot_format(capsys: pytest.CaptureFixture[str]) -> None:
    """``--status`` reads what ``mobility rebalance --status`` reads, JSON documents included."""
    rebalancing = importlib.import_module("bench.rebalancing")
    with pytest.raises(SystemExit):
        rebalancing.main(["--help"])
    assert "CSV/Parquet/JSON" in " ".join(capsys.readouterr().out.split())
