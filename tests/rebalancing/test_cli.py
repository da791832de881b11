"""``mobility rebalance`` and ``mobility bench brp|pdtsp`` end to end (small inputs)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mobility.cli import app
from mobility.rebalancing.plan import routes_json_schema

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    scn = {
        "name": "mini",
        "depots": [{"id": "A", "name": "창고", "lon": 126.98, "lat": 37.56}],
        "trucks": [{"depot": "A", "count": 2, "capacity": 8, "shift": {"start": "22:00", "end": "01:00"}}],
        "targets": {"source": "snapshot", "tolerance": 0},
        "network": {"source": "straight"},
        "solver": {"time_limit": 2, "workers": 1},
    }
    sp = tmp_path / "mini.yaml"
    sp.write_text(yaml.safe_dump(scn, allow_unicode=True), encoding="utf-8")
    rows = []
    for i in range(12):
        rows.append(
            {"station_id": f"ST-{i}", "number": 100 + i, "name": f"대여소 {i}", "docks": 10,
             "bikes": 14 if i % 2 else 1, "target_morning": 6,
             "lon": 126.97 + 0.004 * i, "lat": 37.555 + 0.002 * (i % 3)}
        )  # fmt: skip
    st = tmp_path / "snap.csv"
    pd.DataFrame(rows).to_csv(st, index=False)
    return sp, st


def test_rebalance_writes_valid_routes(tmp_path: Path) -> None:
    sp, st = _inputs(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["rebalance", str(sp), "--status", str(st), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["valid"] is True and summary["totals"]["bikes_moved"] > 0
    doc = json.loads((out / "routes.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, routes_json_schema())
    assert doc["provenance"]["seed"] == 0 and doc["meta"]["valid"] is True
    sheet = pd.read_csv(out / "routes.csv")
    assert {"start 출발", "end 복귀", "pick up 수거", "drop off 배치"} <= set(sheet["action"])
    assert "대여소" in (out / "routes.csv").read_text(encoding="utf-8")
    gj = json.loads((out / "routes.geojson").read_text(encoding="utf-8"))
    kinds = {f["properties"]["kind"] for f in gj["features"]}
    assert kinds == {"route", "stop", "depot"}
    # the review maps are written by default next to the JSON
    assert set(summary["out"]) >= {str(out / "map.html"), str(out / "map.png")}
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "대여소 1" in html or json.dumps("대여소 1")[1:-1] in html  # plotly may \u-escape Hangul
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?https?:", html)  # opens offline
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the next morning, simulated for no rebalancing, the greedy dispatcher and these routes
    morning = json.loads((out / "morning.json").read_text(encoding="utf-8"))
    methods = [o["method"] for o in morning["outcomes"]]
    assert methods == ["no rebalancing", "greedy dispatcher", "ours"]
    moved = {o["method"]: o["bikes_moved"] for o in morning["outcomes"]}
    assert moved["no rebalancing"] == 0 and moved["ours"] == summary["totals"]["bikes_moved"]
    for o in morning["outcomes"]:
        assert o["lost_empty"]["low"] <= o["lost_empty"]["mean"] <= o["lost_empty"]["high"]
        assert o["station_mae"] >= 0 and len(o["disagreements"]) == 5
    assert [r["method"] for r in summary["morning_after"]] == methods


def test_two_runs_with_one_seed_and_budget_record_the_same_morning_provenance(tmp_path: Path) -> None:
    """Same inputs, seed and iteration budget: morning.json's provenance is the same but for the
    time it was made. Its ``routes`` is the hash of routes.json without its timing fields
    (``routes_version``): the file's own hash changed with every run (``stats.seconds``,
    ``wall_seconds``, ``created_at``)."""
    from mobility.rebalancing.plan import routes_version

    sp, st = _inputs(tmp_path)
    kept = []
    for run in ("a", "b"):
        out = tmp_path / run
        args = ["rebalance", str(sp), "--status", str(st), "--out", str(out), "--no-maps", "--json",
                "--max-iterations", "30", "--time-limit", "20", "--replications", "2"]  # fmt: skip
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
        routes = json.loads((out / "routes.json").read_text(encoding="utf-8"))
        assert routes["stats"]["extra"]["stopped_by"] == "iterations"
        prov = json.loads((out / "morning.json").read_text(encoding="utf-8"))["provenance"]
        assert prov["datasets"]["routes"] == routes_version(routes)
        kept.append({k: v for k, v in prov.items() if k != "created_at"})
    assert kept[0] == kept[1]


def test_rebalance_logs_each_step_with_its_time_off_a_terminal(tmp_path: Path) -> None:
    """A night-shift log (cron, ``2>log``) stayed empty for the whole run: the steps were a rich
    spinner, which draws only on a terminal. Each step is now a line with its elapsed time."""
    sp, st = _inputs(tmp_path)
    res = CliRunner().invoke(app, ["rebalance", str(sp), "--status", str(st), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    steps = re.findall(r"\[\s*\d+\.\d s\] ([^\n]+?)\s*$", res.stderr, flags=re.M)
    assert steps[0] == "reading the status snapshot and the demand model", res.stderr
    assert "routing 2 trucks, 12 stations (2 s)" in steps and "drawing map.html and map.png" in steps
    assert "simulating the next morning (none, greedy, these routes)" in steps


def test_rebalance_bad_status_is_exit_2(tmp_path: Path) -> None:
    sp, st = _inputs(tmp_path)
    df = pd.read_csv(st)
    df.loc[3, "bikes"] = -4
    df.to_csv(st, index=False)
    from mobility.cli import main  # noqa: F401  (the central error handler)
    from mobility.errors import InputError

    res = CliRunner().invoke(
        app, ["rebalance", str(sp), "--status", str(st), "--out", str(tmp_path / "o"), "--no-simulate"]
    )
    assert isinstance(res.exception, InputError)
    assert "ST-3" in str(res.exception) and ">= 0" in str(res.exception)


def test_bench_brp_and_pdtsp_on_copies(tmp_path: Path) -> None:
    for kind, name, best in (("brp", "7Bergamo30.txt", "12600"), ("pdtsp", "n20q1000A.tsp", "3816")):
        d = tmp_path / kind / "instances"
        d.mkdir(parents=True)
        shutil.copy(BENCH / kind / "instances" / name, d / name)
        (tmp_path / kind / "bks.csv").write_text(f"instance,best_known\n{Path(name).stem},{best}\n")
        res = CliRunner().invoke(app, ["bench", kind, str(tmp_path / kind), "--time-limit", "4"])
        assert res.exit_code == 0, res.output
        last = json.loads(res.stdout.strip().splitlines()[-1])
        assert last["reached_best_known"] == 1 and last["mean_gap_pct"] == 0.0
        # the plain OR-Tools baseline ran in the same command, with the same limit
        assert last["time_limit"] == 4 and last["mean_ratio_to_ortools"] is not None
        assert last["mean_ratio_to_ortools"] <= 1.0 and last["worse_than_ortools"] == 0


def test_status_from_a_bike_list_response(tmp_path: Path) -> None:
    from mobility.rebalancing.snapshot import read_status

    def row(sid: str, name: str, docks: str, bikes: str, lat: str, lon: str) -> dict[str, str]:
        return {
            "rackTotCnt": docks,
            "stationName": name,
            "parkingBikeTotCnt": bikes,
            "shared": "0",
            "stationLatitude": lat,
            "stationLongitude": lon,
            "stationId": sid,
        }

    rows = [
        row("ST-4", "102. 망원역 1번출구 앞", "15", "11", "37.55564880", "126.91062927"),
        row("ST-5", "103. 망원역 2번출구 앞", "14", "0", "37.55495071", "126.91083527"),
    ]
    p = tmp_path / "bikeList.json"
    p.write_text(json.dumps({"rentBikeStatus": {"list_total_count": 2, "row": rows}}, ensure_ascii=False))
    df = read_status(p)
    assert df["station_id"].tolist() == ["ST-4", "ST-5"]
    assert df["bikes"].astype(int).tolist() == [11, 0] and df["docks"].astype(int).tolist() == [15, 14]
    assert {"lon", "lat"} <= set(df.columns)


def test_a_failure_after_the_routes_leaves_the_last_nights_files_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The routes are written before the morning after is simulated and the maps drawn: a failure
    there must not leave tonight's routes beside last night's morning.json and maps."""
    import mobility.simulation.morning as morning

    sp, st = _inputs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    last_night = {name: f"last night's {name}" for name in ("routes.json", "morning.json", "map.html")}
    for name, text in last_night.items():
        (out / name).write_text(text, encoding="utf-8")

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("the simulation broke")

    monkeypatch.setattr(morning, "morning_after", broken)
    res = CliRunner().invoke(app, ["rebalance", str(sp), "--status", str(st), "--out", str(out)])
    assert res.exit_code != 0
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == last_night  # nothing staged left
