"""The production job kinds on small inputs (real solver, no HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from api.jobs import JobContext
from api.runners import build_problem, run_rebalancing, travel_for
from api.schemas import RebalancingOptions, RebalancingRunRequest
from mobility.scenario.nightly import NetworkSpec
from tests.api.api_support import RUN


def _inputs(**over: object) -> dict:  # type: ignore[type-arg]
    return RebalancingRunRequest.model_validate(RUN | over).model_dump(mode="json")


STRAIGHT = {"network": "straight"}


def test_build_problem_travel_and_targets() -> None:
    p = build_problem(_inputs(options=STRAIGHT))
    assert p.station_ids == ("ST-4", "ST-5") and p.travel_s.shape == (3, 3)
    assert np.allclose(np.diag(p.travel_s), 0) and np.allclose(p.travel_s, p.travel_s.T)
    # ST-4 -> ST-5 is about 100 m: x1.35 at 22 km/h is about 22 s.
    assert 10 < p.travel_s[1, 2] < 60
    assert p.curves[0][10] == 0 and p.curves[0][15] == 5  # |k - target| with target 10
    band = _inputs(options=STRAIGHT)
    for s in band["snapshot"]["stations"]:
        s["target"] = None
    q = build_problem(band)
    assert q.curves[0][4] == 0 and q.curves[0][12] == 0 and q.curves[0][13] == 1  # 25-75 % of 15 docks


def test_straight_lines_default_as_a_nightly_scenario() -> None:
    # An HTTP run and `mobility rebalance` without a network draw the same straight lines.
    opts, spec = RebalancingOptions(), NetworkSpec()
    assert (opts.speed_kph, opts.detour) == (spec.straight_speed_kph, spec.straight_detour)


def test_bad_option_is_named() -> None:
    with pytest.raises(ValidationError, match=r"options\.speed_kmh"):
        _inputs(options={"speed_kmh": 0.1})
    with pytest.raises(ValidationError, match=r"options\.network"):
        _inputs(options={"network": "/etc/passwd"})  # only named networks, never a path


def test_network_choices_are_the_engines_named_networks() -> None:
    from typing import get_args

    from api.schemas import RebalancingOptions
    from mobility.network import NAMED_SOURCES
    from mobility.rebalancing.travel import STRAIGHT

    choices = set(get_args(RebalancingOptions.model_fields["network"].annotation))
    assert choices == {STRAIGHT, *NAMED_SOURCES}


def test_street_network_travel_by_default(data_dir: Path) -> None:
    """The API plans on the same night driving times as ``mobility rebalance`` and draws streets."""
    from mobility.rebalancing.build import straight_line_matrices

    travel = travel_for(_inputs())
    assert travel.model == "osm-drive/truck_night" and travel.note is None
    p = build_problem(_inputs(), travel)
    assert p.meta["travel_model"] == "osm-drive/truck_night"
    # depot -> ST-4 is about 1.4 km as the crow flies: the street path is longer, and driving it
    # at night takes between 1 and 15 minutes
    _, crow = straight_line_matrices(np.r_[126.9016, 126.9104], np.r_[37.5663, 37.5556], detour=1.0)
    assert p.distance_m[0, 1] >= crow[0, 1] and 60 < p.travel_s[0, 1] < 900
    out = run_rebalancing(_inputs(time_limit=1), JobContext("t", 30.0))
    doc = json.loads(out.artifacts["routes"][1])
    route = next(r for r in doc["routes"] if r["stops"])
    assert route["path"] and len(route["path"]) > len(route["stops"]) + 2  # follows the streets


def test_rebalancing_run_solves_and_validates() -> None:
    out = run_rebalancing(_inputs(time_limit=1, options=STRAIGHT), JobContext("t", 1.0))
    k = out.result["kpis"]
    assert (
        k["valid"] is True
        and k["bikes_moved"] > 0
        and k["dissatisfaction_after"] < k["dissatisfaction_before"]
    )
    doc = json.loads(out.artifacts["routes"][1])
    assert doc["routes"][0]["stops"] and "망원" not in json.dumps(doc)  # names default to ids here
    assert doc["wall_seconds"] >= doc["stats"]["seconds"]  # the job's whole time, as the CLI's


def test_cancelled_scenario_stops_before_its_next_step() -> None:
    import yaml

    from api.jobs import JobCancelledError
    from api.runners import run_scenario
    from mobility.config import PROJECT_ROOT

    path = PROJECT_ROOT / "scenarios" / "seoul-2019-30k.yaml"
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    ctx = JobContext("job-1", time_limit=600)
    ctx.stop_event.set()
    with pytest.raises(JobCancelledError, match="before: loading baseline stations"):  # the first step
        run_scenario({"scenario": scenario}, ctx)


def test_a_job_s_progress_is_its_work_s_share_done() -> None:
    """A plan job sat at 95 % from the tenth message on (it counted messages): the job's bar is
    now the plan's share done, scaled below the map layers' last step, and never goes back."""
    from api.runners import PLAN_SHARE, job_progress

    ctx = JobContext("job-1", time_limit=600)
    progress = job_progress(ctx)
    for k in range(12):  # twelve steps that say no share keep the bar where it is
        progress(f"step {k}")
    assert ctx.progress == 0.0 and ctx.message == "step 11"
    progress("simulating riders", 0.63)
    assert ctx.progress == pytest.approx(0.02 + 0.63 * (PLAN_SHARE - 0.02), abs=1e-3)
    progress("before: day 1 of 10 simulated", 0.2)  # a share below the bar's: the bar stays
    assert ctx.progress == pytest.approx(0.02 + 0.63 * (PLAN_SHARE - 0.02), abs=1e-3)
    progress("after: simulated", 1.0)
    assert ctx.progress == PLAN_SHARE and ctx.message == "after: simulated"


def test_a_night_s_solve_moves_the_bar_with_its_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A night job's bar stood at 10 % for the whole solve; the search runs to its time limit, so
    each time it asks whether to stop, the bar moves to the share of the limit spent."""
    from api.runners import SOLVING_SHARE, solving_clock

    now = [100.0]
    monkeypatch.setattr("api.runners.time.monotonic", lambda: now[0])
    ctx = JobContext("night", time_limit=600)
    ctx.report(SOLVING_SHARE[0], "solving")
    stop = solving_clock(ctx, 40.0)
    now[0] += 10.0
    assert stop(123.0) is False
    assert ctx.progress == pytest.approx(0.1 + 0.85 * 0.25, abs=1e-3) and ctx.message == "solving"
    now[0] += 60.0  # past the limit: the bar stops at the solve's end, not beyond
    assert stop(120.0) is False and ctx.progress == SOLVING_SHARE[1]
    ctx.stop_event.set()
    assert stop(120.0) is True  # still the job's own stop test


def _drawn(doc: dict, problem: object) -> dict[str, tuple[str, bytes]]:  # type: ignore[type-arg]
    return {"export:map.png": ("image/png", b"png")}


def test_night_maps_are_drawn_when_time_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("api.runners.night_maps", _drawn)
    out = run_rebalancing(_inputs(time_limit=1, options=STRAIGHT), JobContext("t", 30.0))
    assert out.artifacts["export:map.png"] == ("image/png", b"png") and "notes" not in out.result


def test_a_drawing_error_keeps_the_solved_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(doc: dict, problem: object) -> dict[str, tuple[str, bytes]]:  # type: ignore[type-arg]
        raise RuntimeError("no display")

    monkeypatch.setattr("api.runners.night_maps", broken)
    out = run_rebalancing(_inputs(time_limit=1, options=STRAIGHT), JobContext("t", 30.0))
    assert set(out.artifacts) == {"routes"} and json.loads(out.artifacts["routes"][1])["routes"]
    assert out.result["kpis"]["valid"] is True
    assert out.result["notes"] == [
        "drawing the maps failed (RuntimeError): the maps will be drawn on request"
    ]


def test_no_drawing_without_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[int] = []

    def draw(doc: object, problem: object) -> dict[str, tuple[str, bytes]]:
        drawn.append(1)
        return {}

    monkeypatch.setattr("api.runners.night_maps", draw)
    out = run_rebalancing(_inputs(time_limit=1, options=STRAIGHT), JobContext("t", 1.0))
    assert not drawn and set(out.artifacts) == {"routes"}
    assert "the maps will be drawn on request" in out.result["notes"][0]


def test_a_run_cancelled_while_solving_stops_before_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.jobs import JobCancelledError
    from mobility.rebalancing.travel import with_street_paths

    ctx = JobContext("t", 30.0)
    drawn: list[int] = []

    def solved_then_cancelled(*args: object) -> object:
        ctx.stop_event.set()
        return with_street_paths(*args)  # type: ignore[arg-type]

    monkeypatch.setattr("api.runners.with_street_paths", solved_then_cancelled)

    def draw(doc: object, problem: object) -> dict[str, tuple[str, bytes]]:
        drawn.append(1)
        return {}

    monkeypatch.setattr("api.runners.night_maps", draw)
    with pytest.raises(JobCancelledError, match="before drawing"):
        run_rebalancing(_inputs(time_limit=1, options=STRAIGHT), ctx)
    assert not drawn


def test_a_missing_street_network_is_said_in_routes_json_and_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the street network's data the run falls back to straight lines: the routes must say so
    (``meta.travel_note``) and so must the job's notes, not only the problem built in the worker."""
    from mobility import config

    monkeypatch.setenv("MOBILITY_DATA_DIR", str(tmp_path))  # a data folder with nothing in it
    config.get_settings.cache_clear()
    try:
        out = run_rebalancing(_inputs(time_limit=1), JobContext("t", 30.0))
    finally:
        monkeypatch.delenv("MOBILITY_DATA_DIR")
        config.get_settings.cache_clear()
    doc = json.loads(out.artifacts["routes"][1])
    note = doc["meta"]["travel_note"]
    assert "straight" in note and doc["meta"]["travel_model"].startswith("straight")
    assert note in out.result["notes"]
