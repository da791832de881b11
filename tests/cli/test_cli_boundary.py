"""The command line's boundary: output locations checked first, literal messages and table cells,
option names in errors, overrides recorded as run, solver time-outs and library warnings.

Commands run in-process through :func:`mobility.cli.main` (the exit code and the one-line
message a user sees); slow library steps are replaced by fakes that record what they were given.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from mobility.cli import main
from mobility.cli.common import check_out_dir, check_out_file, err_console, with_solver_overrides
from mobility.errors import InfeasibleError, InputError
from mobility.quality import QualityReport

ROOT = Path(__file__).resolve().parents[2]


class _StopError(Exception):
    """Raised by a fake once it has recorded its arguments."""


def run(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """Run ``mobility ARGV`` as the console script does; the exit code and stderr."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["mobility", *argv])
    monkeypatch.setattr(err_console, "width", 400)  # one line per message, whatever the terminal
    with pytest.raises(SystemExit) as ex:
        main()
        sys.exit(0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return int(ex.value.code or 0), err


# --- 1. the output location is checked before any work -----------------------------------------


@pytest.fixture
def afile(tmp_path: Path) -> Path:
    f = tmp_path / "afile"
    f.write_text("keep me", encoding="utf-8")
    return f


def _no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command's first piece of work fails the test if it is reached."""

    def boom(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("work started before the output location was checked")

    import mobility.demand.data
    import mobility.placement.pipeline
    import mobility.scenario.expansion
    import mobility.scenario.nightly
    import mobility.simulation.fleets
    import mobility.sources.stations

    for mod, name in (
        (mobility.scenario.expansion, "load_scenario"),
        (mobility.scenario.nightly, "load_nightly"),
        (mobility.placement.pipeline, "plan_expansion"),
        (mobility.demand.data, "load_profiles"),
        (mobility.sources.stations, "load_station_list"),
    ):
        monkeypatch.setattr(mod, name, boom)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["plan", "scenarios/seoul-2019-30k.yaml", "--out", "{f}"], "a folder that can be created"),
        (
            [
                "plan",
                "sweep",
                "scenarios/seoul-2019-30k.yaml",
                "--new-stations",
                "300:400:100",
                "--out",
                "{f}",
            ],
            "a folder that can be created",
        ),
        (
            ["rebalance", "scenarios/seoul-nightly.yaml", "--status", "x.csv", "--out", "{f}"],
            "a folder that can be created",
        ),
        (["simulate", "2019-12", "--day", "2019-06-12", "--out", "{f}"], "a folder that can be created"),
        (
            ["backtest", "--from", "2018-11", "--to", "2019-12", "--out", "{f}"],
            "a folder that can be created",
        ),
        (["export", "current", "-f", "geojson", "-o", "{f}"], "a folder that can be created"),
        (["export", "current", "-f", "png", "-o", "{f}/x.png"], "a file path whose folder can be created"),
        (["demand", "targets", "--out", "{f}/t.csv"], "a file path whose folder can be created"),
        (
            ["demand", "snapshot", "--date", "2019-06-12", "--out", "{f}/s.csv"],
            "a file path whose folder can be created",
        ),
        (["demand", "profile", "2301", "--plot", "{f}/p.png"], "a file path whose folder can be created"),
    ],
)
def test_unwritable_output_is_refused_before_any_work(
    argv: list[str],
    expected: str,
    afile: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_work(monkeypatch)
    argv = [a.replace("{f}", str(afile)) for a in argv]
    code, err = run(argv, capsys, monkeypatch)
    option = "--plot" if "--plot" in argv else "--out"
    target = next(a for a in argv if str(afile) in a)
    assert code == 2, err
    assert f"error: {option}: got {target!r}; expected {expected}" in err
    assert afile.read_text(encoding="utf-8") == "keep me"


def test_check_out_creates_nothing(tmp_path: Path) -> None:
    assert check_out_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert check_out_file(tmp_path / "c" / "t.csv") == tmp_path / "c" / "t.csv"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="--out"):
        check_out_file(tmp_path)  # a folder is no file


# --- 2. messages, user data and table cells are literal ----------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (  # the path exists as far as /proc, where nothing can be made
            ["export", "current", "-f", "png", "-o", "/proc/nope/x.png"],
            "error: --out: got '/proc/nope/x.png'; expected a file path whose folder can be created",
        ),
        (  # ':B:' is no emoji code
            ["simulate", "sweep", "2019-12", "--day", "2019-06-12", "--fleet", "abc", "--out", "out/never"],
            "error: --fleet: got 'abc'; expected A:B:STEP",
        ),
        (  # '[/x]' is no closing tag
            ["data", "stations", "--source", "2019-12", "--gu", "[/x]"],
            "error: --gu: got '[/x]'; expected one of",
        ),
    ],
)
def test_error_messages_are_literal(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = run(argv, capsys, monkeypatch)
    assert code == 2
    assert says in err


def test_station_table_cells_are_literal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mobility.cli.common import console

    src = tmp_path / "stations[draft].csv"
    src.write_text(
        "대여소_구,대여소ID,대여소명,대여소주소,위도,경도,기준시작일자,거치대수\n"
        "마포구,101,101. [b]합정동[/b] 주민센터,서울특별시 마포구 동교로8길 58,37.549561,126.905754,"
        "2015-09-06 23:40:56,5\n"
        "마포구,102,102. 망원역 [/] 앞,서울특별시 마포구 월드컵로 72,37.555649,126.910629,"
        "2015-09-06 23:42:06,20\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(console, "width", 300)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["mobility", "data", "stations", "--source", str(src)])
    main()
    out = capsys.readouterr().out
    assert "망원역 [/] 앞" in out
    assert "[b]합정동[/b]" in out
    assert "stations[draft].csv" in out


def test_status_messages_are_literal() -> None:
    with err_console.status("reading [b]x[/b]") as st:
        st.update("station 망원역 [/] 앞")
        assert st.renderable.text.plain == "station 망원역 [/] 앞"  # type: ignore[union-attr]


# --- 3. data info/check: an unknown family ------------------------------------------------------


@pytest.mark.parametrize("cmd", ["info", "check"])
def test_unknown_family_exits_2(
    cmd: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = run(["data", cmd, "-f", "nosuchfamily", "--json"], capsys, monkeypatch)
    assert code == 2
    assert "error: --family: got 'nosuchfamily'; expected one of" in err
    assert "stations" in err and "network" in err


# --- 4. --time-limit / --seed are what the results record --------------------------------------


def test_plan_records_the_overrides(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mobility.placement.pipeline

    seen: dict[str, Any] = {}

    def fake(sc: Any, **_k: Any) -> Any:
        seen["solver"] = sc.solver
        raise _StopError

    monkeypatch.setattr(mobility.placement.pipeline, "plan_expansion", fake)
    argv = ["plan", "scenarios/seoul-2019-30k.yaml", "--time-limit", "5", "--seed", "7", "--no-maps"]
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["mobility", *argv])
    with pytest.raises(_StopError):
        main()
    assert (seen["solver"].time_limit, seen["solver"].seed) == (5.0, 7)


def test_rebalance_records_the_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mobility.rebalancing.night

    seen: dict[str, Any] = {}

    def fake(scn: Any, *_a: Any, **_k: Any) -> Any:
        seen["solver"] = scn.solver
        raise _StopError

    monkeypatch.setattr(mobility.rebalancing.night, "load_night_problem", fake)
    argv = ["rebalance", "scenarios/seoul-nightly.yaml", "--status", "x.csv", "--out", str(tmp_path)]
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["mobility", *argv, "--time-limit", "20", "--seed", "3"])
    with pytest.raises(_StopError):
        main()
    assert (seen["solver"].time_limit, seen["solver"].seed) == (20.0, 3)


def test_backtest_records_the_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np
    import pandas as pd

    import mobility.placement.backtest as bt
    import mobility.sources.stations

    seen: dict[str, Any] = {}

    def fake(sc: Any, *_a: Any, params: Any, **_k: Any) -> Any:
        seen["solver"], seen["params"] = sc.solver, params
        raise _StopError

    class _Loaded:  # what load_station_list returns, with nothing in it
        table = pd.DataFrame()
        report = QualityReport("stations")
        sources: tuple[Path, ...] = ()

    monkeypatch.setattr(mobility.sources.stations, "load_station_list", lambda *_a, **_k: _Loaded())
    monkeypatch.setattr(bt, "metric_xy", lambda _t: (np.zeros(0), np.zeros(0)))
    monkeypatch.setattr(bt, "match_new_stations", lambda *_a: np.ones(4, dtype=bool))
    monkeypatch.setattr(bt, "backtest", fake)
    argv = ["backtest", "--from", "2018-11", "--to", "2019-12", "--out", str(tmp_path)]
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["mobility", *argv, "--time-limit", "10", "--seed", "2"])
    with pytest.raises(_StopError):
        main()
    assert (seen["solver"].time_limit, seen["solver"].seed) == (10.0, 2)
    assert (seen["params"].time_limit, seen["params"].seed) == (10.0, 2)


def test_override_rejected_by_the_scenario_names_the_option() -> None:
    from mobility.scenario.nightly import SolverSpec

    class _Sc:
        solver = SolverSpec()

    with pytest.raises(InputError) as ex:
        with_solver_overrides(_Sc(), {"seed": ("--seed", -1)})  # type: ignore[type-var]
    assert ex.value.field == "--seed" and ex.value.value == -1


# --- 5. export: inputs it cannot use ------------------------------------------------------------


@pytest.fixture
def plan_json(tmp_path: Path) -> Path:
    p = tmp_path / "plan.json"
    p.write_text(json.dumps({"new_stations": [], "districts": []}), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            ["-f", "csv", "-o", "{t}/x"],
            "error: --format: got 'csv'; expected a routes.json source or --routes",
        ),
        (
            ["-f", "png", "-o", "{t}/x.png", "--routes", "{p}"],
            "error: --routes: got '{p}'; expected a routes.json",
        ),
        (
            ["-f", "png", "-o", "{t}/x.png", "--compare", "/nonexistent.json"],
            "error: --compare: got '/nonexistent.json'; expected an existing plan.json",
        ),
        (
            ["-f", "gbfs", "-o", "{t}/g", "--base-url", "notaurl"],
            "error: --base-url: got 'notaurl'; expected an http(s) URL",
        ),
        (["-f", "png", "-o", "{t}/x.png", "--base-url", "https://x.org"], "--base-url: got 'https://x.org'"),
    ],
)
def test_export_refuses_unusable_input(
    extra: list[str],
    says: str,
    plan_json: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def sub(s: str) -> str:
        return s.replace("{t}", str(tmp_path / "out")).replace("{p}", str(plan_json))

    code, err = run(["export", str(plan_json), *map(sub, extra)], capsys, monkeypatch)
    assert code == 2, err
    assert sub(says) in err
    assert not (tmp_path / "out").exists()


# --- 6. time-outs, the caller's --at, warnings --------------------------------------------------


def test_plan_time_out_is_exit_1_with_the_limit(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import mobility.placement.pipeline

    def fake(*_a: Any, **_k: Any) -> Any:
        raise InfeasibleError(
            "fleet allocation found no solution in time (status 6); raise solver.time_limit",
            binding=["solver.time_limit"],
        )

    monkeypatch.setattr(mobility.placement.pipeline, "plan_expansion", fake)
    argv = ["plan", "scenarios/seoul-2019-30k.yaml", "--time-limit", "0.1", "--out", str(tmp_path / "p")]
    code, err = run(argv, capsys, monkeypatch)
    assert code == 1
    assert "error: no solution within the time limit (0.1 s); raise --time-limit" in err
    assert "status 6" not in err


def test_snapshot_at_quotes_the_callers_value(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import mobility.demand.data
    import mobility.demand.snapshot

    def fake(_prof: Any, _date: str, *, at: float, **_k: Any) -> Any:
        raise InputError("at", at, "a clock time after the morning start 7 h")

    monkeypatch.setattr(mobility.demand.data, "load_profiles", lambda *_a, **_k: None)
    monkeypatch.setattr(mobility.demand.snapshot, "derive_snapshot_from_data", fake)
    argv = ["demand", "snapshot", "--date", "2019-06-12", "--at", "05:00", "--out", str(tmp_path / "s.csv")]
    code, err = run(argv, capsys, monkeypatch)
    assert code == 2
    assert "error: --at: got '05:00'; expected a clock time after the morning start 7 h" in err


def test_library_warning_is_a_one_line_note(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import mobility.cli.data

    def warn_then_empty(_d: Any) -> Path:
        warnings.warn("22 of 2803 point(s) are more than 250 m\nfrom the network", UserWarning, stacklevel=1)
        return tmp_path

    monkeypatch.setattr(mobility.cli.data, "resolve_data_dir", warn_then_empty)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, err = run(["data", "info"], capsys, monkeypatch)
    assert code == 2
    assert "note: 22 of 2803 point(s) are more than 250 m from the network\n" in err
    assert "UserWarning" not in err and "warnings.warn" not in err


# --- a station list that is neither a vintage nor a file: the error names the caller's field -----


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["data", "stations", "--source", "2020-07"], "--source: got '2020-07'"),
        (["backtest", "--from", "2020-07", "--to", "2025-12", "--out", "{d}"], "--from: got '2020-07'"),
        (["plan", "{scenario}", "--no-maps", "--out", "{d}"], "baseline.stations: got '2020-07'"),
    ],
)
def test_unknown_station_vintage_names_the_field(
    argv: list[str],
    says: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (ROOT / "scenarios/seoul-2019-30k.yaml").read_text(encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text.replace('stations: "2019-12"', 'stations: "2020-07"'), encoding="utf-8")
    assert "2020-07" in scenario.read_text(encoding="utf-8")
    fill = {"{d}": str(tmp_path / "out"), "{scenario}": str(scenario)}
    code, err = run([fill.get(a, a) for a in argv], capsys, monkeypatch)
    assert code == 2
    assert says in err


# --- the command's warning printer is its own: the caller's is back after main() -----------------


@pytest.mark.parametrize("argv", [["data", "info"], ["--version"], ["no-such-command"]])
def test_main_restores_the_warning_printer(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import mobility.cli.data

    def warn_then_empty(_d: Any) -> Path:
        warnings.warn("a note", UserWarning, stacklevel=1)
        return tmp_path

    monkeypatch.setattr(mobility.cli.data, "resolve_data_dir", warn_then_empty)
    before = warnings.showwarning
    run(argv, capsys, monkeypatch)
    assert warnings.showwarning is before
    with pytest.warns(UserWarning, match="after the run"):  # pytest records warnings again
        warnings.warn("after the run", UserWarning, stacklevel=1)


# --- the output check creates nothing where it can ask the system -------------------------------


def test_output_check_asks_the_system_before_probing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import tempfile

    def no_probe(*_a: Any, **_k: Any) -> str:
        raise AssertionError("a probe folder was created although os.access can be trusted")

    monkeypatch.setattr(tempfile, "mkdtemp", no_probe)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert check_out_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    monkeypatch.setattr(os, "access", lambda *_a, **_k: False)
    with pytest.raises(InputError, match="a folder that can be created"):
        check_out_dir(tmp_path / "a")
    assert list(tmp_path.iterdir()) == []


def test_output_probe_that_cannot_be_removed_is_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    def fail(_self: Path) -> None:
        raise PermissionError("cannot remove")

    monkeypatch.setattr(os, "geteuid", lambda: 0)  # root: os.access says yes everywhere, so probe
    monkeypatch.setattr(Path, "rmdir", fail)
    assert check_out_dir(tmp_path / "out") == tmp_path / "out"
