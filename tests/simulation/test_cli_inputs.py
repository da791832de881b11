"""``mobility simulate`` and ``mobility demand snapshot`` on what a planner types: rows left out are
said, days are YYYY-MM-DD in the data's years, progress shows, the sweep says when 95 % is below the
tested range, one replication has no interval, the default output folder, SOURCE named."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numba
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mobility.cli import app
from mobility.cli import simulate as simulate_cli
from mobility.cli.simulate import DEFAULT_OUT, days_progress, interval_text
from mobility.errors import InputError
from mobility.simulation import pipeline
from mobility.simulation.data import load_station_set, status_bikes
from mobility.simulation.days import check_day_in_years, parse_date
from mobility.simulation.engine import run
from mobility.simulation.sweep import fleet_for_95pct_text, sweep_document, sweep_json_schema
from tests.cli.test_cli_boundary import run as run_main
from tests.simulation.test_engine import make_problem
from tests.simulation.test_inputs import stations
from tests.simulation.test_provenance import _prep

runner = CliRunner()

HEADER = "대여소번호,대여소명,자치구,상세주소,위도,경도,설치시기,LCD거치대수,QR거치대수,운영방식,\n"
ROWS = [
    "00102, 망원역 1번출구 앞,마포구,서울특별시 마포구 월드컵로 72,37.5556488,126.9106293,2015-09-06,,15,QR,",
    "00103, 망원역 2번출구 앞,마포구,서울특별시 마포구 월드컵로 79,37.554951,126.910835,2015-09-06,,14,QR,",
    "00104, 합정역 1번출구 앞,마포구,서울특별시 마포구 양화로 59,37.55062866,126.9149857,2015-09-06,,13,QR,",
    "00105, 합정역 5번출구 앞,마포구,서울특별시 마포구 양화로 48,37.55000687,126.9148254,2015-09-06,,12,QR,",
    "00106, 좌표가 깨진 대여소,마포구,서울특별시 마포구 어딘가 1,abc,126.9271164,2015-09-06,,10,QR,",
]


def station_file(tmp_path: Path) -> Path:
    """Four good stations (numbers 102..105) and one whose latitude is ``abc``."""
    path = tmp_path / "bad_stations.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------ 1. station rows left out
def test_rows_left_out_of_the_station_file_are_notes_of_the_station_set(
    tmp_path: Path, data_dir: Path
) -> None:
    ss = load_station_set(station_file(tmp_path), data_dir)
    assert len(ss.table) == 4
    (note,) = ss.notes
    assert "bad_stations.csv: 1 of 5 rows left out: coordinates unparseable" in note


def _fake_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Demand profiles, trips and street network of the four stations, made up (fast)."""
    import mobility.demand.data
    from mobility.demand.profiles import HOURS, StationProfiles

    known = pd.DataFrame(
        {"number": [102, 103, 104, 105], "station_id": ["ST-4", "ST-5", "ST-6", "ST-7"],
         "name": list("가나다라"), "gu": ["마포구"] * 4, "docks": [15, 14, 13, 12],
         "lon": [126.91, 126.911, 126.915, 126.9148], "lat": [37.556, 37.555, 37.5506, 37.55],
         "level_source": ["2023 monthly usage"] * 4}
    )  # fmt: skip
    rent = np.full((4, 2, HOURS), 0.5)
    prof = StationProfiles(stations=known, rent=rent, ret=rent.copy(), od=pd.DataFrame())
    o = np.tile([102, 103, 104, 105], 8)  # 32 trips: 20 one-way, 12 round trips
    d = np.where(np.arange(32) < 20, np.roll(o, 1), o)
    trips = {"t": pd.DataFrame({"rent_station": o, "return_station": d, "duration_min": 12.0,
                                "rent_time": pd.Timestamp("2023-06-14 08:00")})}  # fmt: skip

    def matrices(st: pd.DataFrame, *_a: Any, **_k: Any) -> tuple[np.ndarray, np.ndarray]:
        x = np.arange(len(st)) * 300.0
        walk = np.abs(x[:, None] - x[None, :])
        return walk / 4 + 60 - np.eye(len(st)) * 60, walk

    monkeypatch.setattr(mobility.demand.data, "load_profiles", lambda *_a, **_k: prof)
    monkeypatch.setattr(mobility.demand.data, "load_trip_tables", lambda *_a, **_k: trips)
    monkeypatch.setattr(pipeline, "network_matrices", matrices)


def test_simulate_says_and_records_the_rows_left_out_and_shows_progress(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> None:
    _fake_data(monkeypatch)
    status = tmp_path / "status.csv"  # ST-999999 has number 104: matched on the number, and said
    status.write_text(
        "station_id,number,bikes\nST-4,102,3\n,103,4\nST-999999,104,5\nST-7,105,6\n", encoding="utf-8"
    )
    out = tmp_path / "o"
    argv = ["simulate", str(station_file(tmp_path)), "--day", "2023-06-14", "--status", str(status),
            "--replications", "3", "--out", str(out), "--data-dir", str(data_dir), "--json"]  # fmt: skip
    r = runner.invoke(app, argv)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["replications"] == 3  # stdout stays JSON
    err = " ".join(r.stderr.split())
    assert "note: station file bad_stations.csv: 1 of 5 rows left out" in err
    assert "1 rows matched on their number although their station_id" in err and "ST-999999" in err
    assert "loading the stations" in err and "3/3 days simulated" in err and "writing outputs" in err
    notes = json.loads((out / "simulation.json").read_text(encoding="utf-8"))["notes"]
    assert any("1 of 5 rows left out: coordinates unparseable" in n for n in notes)
    assert any("ST-999999" in n for n in notes)


def test_a_forecast_day_is_said_beside_its_figures(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> None:
    """A day past the demand data is a forecast (read its level as +-25 %): the table and --json
    said nothing of it, only simulation.json's notes did."""
    _fake_data(monkeypatch)
    argv = ["simulate", str(station_file(tmp_path)), "--day", "2026-06-10", "--replications", "2",
            "--data-dir", str(data_dir)]  # fmt: skip
    forecast = "2026-06-10 forecast from the history before 2026-01"
    r = runner.invoke(app, [*argv, "--out", str(tmp_path / "table")])
    assert r.exit_code == 0, r.output
    assert f"note: {forecast}" in " ".join(r.stderr.split())
    r = runner.invoke(app, [*argv, "--out", str(tmp_path / "json"), "--json"])
    assert r.exit_code == 0, r.output
    assert any(n.startswith(forecast) for n in json.loads(r.stdout)["notes"])


def test_a_sweep_records_the_rows_left_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> None:
    _fake_data(monkeypatch)
    out = tmp_path / "o"
    argv = ["simulate", "sweep", str(station_file(tmp_path)), "--day", "2023-06-14", "--fleet", "20:40:20",
            "--replications", "2", "--out", str(out), "--data-dir", str(data_dir)]  # fmt: skip
    r = runner.invoke(app, argv)
    assert r.exit_code == 0, r.output
    assert "1 of 5 rows left out" in " ".join(r.stderr.split())
    assert "fleet 40 (2/2): 2/2 days simulated" in r.stderr
    doc = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert any("1 of 5 rows left out" in n for n in doc["notes"])


# ------------------------------------------------------------------ 2. and 4. the day
@pytest.mark.parametrize("text", ["2023", "03-04-2023", "14-06-2023", "2023-6-14", "2023-02-30", "", "June"])
def test_a_day_is_yyyy_mm_dd_only(text: str) -> None:
    with pytest.raises(InputError, match="--date"):
        parse_date(text, "--date")


def test_a_day_in_yyyy_mm_dd_is_read() -> None:
    assert parse_date("2023-06-14") == pd.Timestamp("2023-06-14")
    assert parse_date(pd.Timestamp("2023-06-14 10:00")) == pd.Timestamp("2023-06-14")
    check_day_in_years(pd.Timestamp("2019-01-01"), range(2019, 2026))
    with pytest.raises(InputError, match=r"--date: got '1999-01-01'; expected a day in 2019\.\.2025"):
        check_day_in_years(pd.Timestamp("1999-01-01"), range(2019, 2026), "--date")


@pytest.mark.parametrize("day", ["2023", "03-04-2023", "14-06-2023"])
def test_simulate_refuses_a_day_that_is_not_yyyy_mm_dd(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, day: str
) -> None:
    code, err = run_main(
        ["simulate", "2025-12", "--day", day, "--out", str(tmp_path / "o")], capsys, monkeypatch
    )
    assert code == 2 and f"--day: got '{day}'; expected a date YYYY-MM-DD" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2022", "a date YYYY-MM-DD"),
        ("1999-01-01", "a day in 2019..2025"),
        ("2099-12-25", "a day in 2019..2025"),
    ],
)
def test_demand_snapshot_refuses_a_date_outside_the_data_or_not_yyyy_mm_dd(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    data_dir: Path,
    date: str,
    expected: str,
) -> None:
    out = tmp_path / "s.csv"
    argv = [
        "demand",
        "snapshot",
        "--date",
        date,
        "--at",
        "22:00",
        "--out",
        str(out),
        "--data-dir",
        str(data_dir),
    ]
    code, err = run_main(argv, capsys, monkeypatch)
    assert code == 2 and not out.exists()
    assert f"--date: got '{date}'; expected {expected}" in err


# ------------------------------------------------------------------ 3. the default output folder
def test_simulate_without_out_writes_to_the_default_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    written: list[Path] = []
    result: SimpleNamespace = SimpleNamespace(
        model_copy=lambda **_k: result, seconds=0.0, summary=lambda: {"seconds": 0.0}
    )
    monkeypatch.setattr(
        pipeline,
        "prepare",
        lambda *_a, **_k: SimpleNamespace(add_inputs=lambda _i: None, stations=[1], input_notes=[]),
    )
    monkeypatch.setattr(pipeline, "simulate", lambda *_a, **_k: (None, result))
    monkeypatch.setattr(simulate_cli, "write_outputs", lambda where, *_a: written.append(where))
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(
        app, ["simulate", "out/p/plan.json", "--day", "2019-06-12", "--replications", "20", "--json"]
    )
    assert r.exit_code == 0, r.output
    assert written and written[0].parent.resolve() == (tmp_path / DEFAULT_OUT).resolve()
    assert "out/simulation" in " ".join(runner.invoke(app, ["simulate", "--help"]).stdout.split())


# ------------------------------------------------------------------ 5. progress
def test_the_engine_reports_each_day_done_and_gives_the_same_result() -> None:
    p = make_problem(6, rate=1.0)
    seen: list[tuple[int, int]] = []
    threads = numba.get_num_threads()
    for n in sorted({1, threads}):
        seen.clear()
        numba.set_num_threads(n)
        try:
            a = run(p, replications=5, seed=3, progress=lambda done, total: seen.append((done, total)))
        finally:
            numba.set_num_threads(threads)
        assert seen == [(k, 5) for k in range(1, 6)]
        assert np.array_equal(a.counts, run(p, replications=5, seed=3).counts)


def test_days_progress_reports_every_tenth() -> None:
    lines: list[str] = []
    report = days_progress(lines.append, "2,799 stations")
    for k in range(1, 101):
        report(k, 100)
    assert lines[0] == "2,799 stations: 1/100 days simulated"  # the first day, then each tenth
    assert len(lines) == 11 and lines[-1] == "2,799 stations: 100/100 days simulated"
    point: list[str] = []
    report = days_progress(point.append, "fleet 20,000 (1/9)", steps=1)  # a sweep's point
    for k in range(1, 11):
        report(k, 10)
    assert point == ["fleet 20,000 (1/9): 1/10 days simulated", "fleet 20,000 (1/9): 10/10 days simulated"]


# ------------------------------------------------------------------ 6. the sweep's 95 % fleet
def _sweep_table(shares: tuple[float, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"fleet": 20000 + 5000 * k, "gu": "citywide", "trips_demanded": 10.0, "served_share": s,
          "served_share_low": s - 0.01, "served_share_high": s + 0.01, "lost_empty": 1.0,
          "full_arrivals": 0.0, "seconds": 0.1} for k, s in enumerate(shares)]
    )  # fmt: skip


def test_a_fleet_below_the_tested_range_is_said_to_be_at_most_the_smallest(tmp_path: Path) -> None:
    low = sweep_document(_prep(tmp_path), _sweep_table((0.981, 0.99)), replications=2, seed=1, seconds=1.0)
    assert low.fleet_for_95pct == 20000 and low.fleet_for_95pct_below_range
    assert fleet_for_95pct_text(low) == "≤ 20,000 (the smallest tested)"
    assert any("below the tested range" in n for n in low.summary()["notes"])
    mid = sweep_document(_prep(tmp_path), _sweep_table((0.9, 0.96)), replications=2, seed=1, seconds=1.0)
    assert mid.fleet_for_95pct == 25000 and not mid.fleet_for_95pct_below_range
    assert fleet_for_95pct_text(mid) == "25,000 (20,000 served under 95 %)"  # no finer than the grid
    never = sweep_document(_prep(tmp_path), _sweep_table((0.9,)), replications=2, seed=1, seconds=1.0)
    assert fleet_for_95pct_text(never) == "not reached"


def test_sweep_json_has_a_schema_version(tmp_path: Path) -> None:
    doc = sweep_document(_prep(tmp_path), _sweep_table((0.9,)), replications=2, seed=1, seconds=1.0)
    assert doc.model_dump(mode="json")["schema_version"] == "mobility/simulation-sweep/1"
    schema = sweep_json_schema()
    assert "schema_version" in schema["properties"] and schema["$id"] == "mobility/simulation-sweep/1"
    assert "fleet_for_95pct_below_range" in schema["properties"]


# ------------------------------------------------------------------ 7. cosmetics and the status match
def test_one_replication_has_no_interval() -> None:
    assert interval_text(163454.0, 163454.0, "{:,.0f}", 1) == "n/a (1 replication)"
    assert interval_text(0.9, 0.95, "{:.1%}", 5) == "90.0%–95.0%"


def test_status_rows_matched_on_their_number_against_their_station_id_are_counted() -> None:
    st = stations()  # ST-1..3, numbers 101..103
    status = pd.DataFrame(
        {"station_id": ["ST-1", None, "ST-999999"], "number": [101, 102, 103], "bikes": [1, 2, 3]}
    )
    notes: list[str] = []
    assert status_bikes(st, status, notes=notes).tolist() == [1, 2, 3]
    (note,) = notes
    assert note.startswith("--status: 1 rows matched on their number") and "ST-999999 (number 103" in note
    same: list[str] = []
    status_bikes(st, status.assign(station_id=np.array(["ST-1", None, "ST-3"], dtype=object)), notes=same)
    assert same == []


# ------------------------------------------------------------------ 8. SOURCE named
def test_a_missing_station_file_names_source(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> None:
    with pytest.raises(InputError, match="SOURCE"):
        load_station_set(tmp_path / "nosuch.csv", data_dir)
    argv = [
        "simulate",
        "nosuch.csv",
        "--day",
        "2023-06-14",
        "--out",
        str(tmp_path / "y"),
        "--data-dir",
        str(data_dir),
    ]
    code, err = run_main(argv, capsys, monkeypatch)
    assert code == 2 and "SOURCE: got 'nosuch.csv'; expected an existing station file" in err


# ------------------------------------------------------------------ 9. bad files are bad input, named
def test_a_plan_json_that_is_not_json_is_bad_input_naming_source(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_dir: Path
) -> None:
    """A cut-short plan.json crashed with a JSONDecodeError traceback and exit code 1."""
    broken = tmp_path / "plan.json"
    broken.write_text('{"scenario": ', encoding="utf-8")
    with pytest.raises(InputError, match=r"SOURCE: got '.*plan.json'; expected a plan.json document"):
        load_station_set(broken, data_dir)
    out = tmp_path / "sim"
    argv = ["simulate", str(broken), "--day", "2023-06-14", "--out", str(out), "--data-dir", str(data_dir)]
    code, err = run_main(argv, capsys, monkeypatch)
    assert code == 2 and "SOURCE: got" in err and "expected a plan.json document" in err
    assert not out.exists()


def test_routes_that_are_not_routes_name_the_file_given(tmp_path: Path) -> None:
    """The message said ``got 'routes.json'`` whatever file the planner gave."""
    other = tmp_path / "night-7.json"
    other.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(InputError, match=r"--routes: got '.*night-7.json'; expected a RebalancingPlan"):
        simulate_cli._read_routes(other)


def test_a_status_row_without_its_number_is_named_not_a_crash() -> None:
    """A row with neither a usable station_id nor a number crashed with a TypeError (exit 1)."""
    st = stations()
    status = pd.DataFrame(
        {
            "station_id": ["ST-1", None, "ST-999999"],
            "number": pd.array([101, 102, None], dtype="Int64"),
            "bikes": [1, 2, 3],
        }
    )
    with pytest.raises(InputError, match=r"--status.number\[row 2\]: missing; expected a station number"):
        status_bikes(st, status)


def test_a_status_by_number_for_a_network_with_new_stations_names_them() -> None:
    """New stations of a plan have no number: matching on numbers crashed with pandas'
    ``cannot reindex on an axis with duplicate labels`` instead of naming them."""
    new = (
        stations()
        .iloc[[0, 1]]
        .assign(station_id=["NEW-1", "NEW-2"], number=pd.array([None, None], dtype="Int64"))
    )
    st = pd.concat([stations(), new], ignore_index=True)
    by_number = pd.DataFrame({"number": [101, 102, 103], "bikes": [1, 2, 3]})
    with pytest.raises(InputError, match=r"no row for 2 stations \(e.g. NEW-1, NEW-2\)"):
        status_bikes(st, by_number)
    by_id = pd.DataFrame({"station_id": ["ST-1", "ST-2", "ST-3", "NEW-1", "NEW-2"], "bikes": [1, 2, 3, 4, 5]})
    assert status_bikes(st, by_id).tolist() == [1, 2, 3, 4, 5]
