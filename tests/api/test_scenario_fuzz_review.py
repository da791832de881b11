"""The same mistake gets the same answer from ``mobility plan`` / ``mobility rebalance`` and from
the API: a 422 naming the field the CLI names (``body.`` in front), in the CLI's words, and no job.

Reproduced before the fixes: rule checks answered ``got {...}; Value error, min (20) must be <= max
(10)``, a misspelt district beside a bad value was answered with the bad value only, ``Infinity``
in a body queued a job that crashed in the worker, a truck or depot mistake said something else
than the nightly scenario's, and a misspelt district was checked by the CLI only after minutes of
coverage and candidate building (``tests/scenario/test_fuzz_review.py`` covers that side).
"""

from __future__ import annotations

import copy
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from mobility.errors import InputError
from mobility.scenario.expansion import load_scenario
from mobility.scenario.nightly import nightly_from_dict
from tests.api.api_support import RUN, SCENARIO, Api
from tests.api.test_boundary_validation import _jobs
from tests.api.test_boundary_validation import api_max as _recording_app

api_max = _recording_app  # the fixture: an app that records jobs without running them


def _cli(body: dict[str, Any], tmp_path: Path) -> InputError:
    """What ``mobility plan`` says of ``body`` written as a scenario file."""
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(f)
    return info.value


def _api(api: Api, path: str, body: dict[str, Any], role: str = "admin") -> list[dict[str, Any]]:
    """The 422's errors for ``body`` sent as JSON (``NaN`` / ``Infinity`` as Python writes them);
    no job may be created."""
    before = _jobs(api)
    raw = json.dumps(body, ensure_ascii=False, allow_nan=True).encode()
    r = api.client.post(path, content=raw, headers=api.h(role, **{"Content-Type": "application/json"}))
    assert r.status_code == 422, r.text
    assert _jobs(api) == before
    assert "Value error" not in r.text
    errors: list[dict[str, Any]] = r.json()["errors"]
    return errors


SAME_WORDS = [
    {"docks": {"min": 20, "max": 10}},
    {"bikes_per_dock": {"min": 1.5, "max": 1.0}},
    {"new_stations": {"exact": 5, "max": 6}},
    {"budget": {"total": 1e9}},
    {"fleet": {}},
    {"fleet": {"total_bikes": True}},  # was read as a fleet of 1 bike
    {"docks": {"min": 10, "max": 1e9}},  # was accepted: stations of a billion docks
    {"solver": {"seed": False}},
    {"simulation": {"day": "2019-02-30"}},
    {"simulation": {"day": "2018-06-01"}},
    {"districts": {"per_district": {"Mapo": 30}}},
    {"areas": {"forbidden": [{"coordinates": [[[127.0, 37.5], [127.1, 37.5], [127.0, 37.5]]]}]}},
]


@pytest.mark.parametrize("patch", SAME_WORDS, ids=lambda p: json.dumps(p, ensure_ascii=False)[:40])
def test_a_mistake_in_a_scenario_is_said_alike(
    api_max: Api,
    tmp_path: Path,
    patch: dict[str, Any],
) -> None:
    body = SCENARIO | patch
    cli = _cli(body, tmp_path)
    first = _api(api_max, "/v1/scenarios", body)[0]
    assert first["field"] == f"body.{cli.field}"
    assert f"{cli.field}: {first['problem']}" == str(cli)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), -float("inf")])
@pytest.mark.parametrize(
    "patch",
    [
        lambda v: {"budget": {"total": v, "cost_per_station": 1}},
        lambda v: {"bikes_per_dock": {"min": 0.5, "max": v}},
        lambda v: {"districts": {"per_district": {"마포구": v}}},
        lambda v: {"objective": {"population_covered": v}},
        lambda v: {"fleet": {"total_bikes": 30000, "bikes_per_10k": v}},
    ],
)
def test_not_a_number_and_infinity_are_refused_before_any_job(
    api_max: Api,
    tmp_path: Path,
    patch: Any,
    value: float,
) -> None:
    body = SCENARIO | patch(value)
    cli = _cli(body, tmp_path)
    first = _api(api_max, "/v1/scenarios", body)[0]
    assert first["field"] == f"body.{cli.field}" and "finite number" in first["problem"]


@pytest.mark.parametrize("rule", ["per_district", "min_new_stations"])
def test_an_unknown_district_beside_a_bad_value_are_both_named(
    api_max: Api,
    tmp_path: Path,
    rule: str,
) -> None:
    body = SCENARIO | {"districts": {rule: {"마포구": -1, "Mapo": 3}}}
    errors = _api(api_max, "/v1/scenarios", body)
    assert [e["field"] for e in errors] == [f"body.districts.{rule}", f"body.districts.{rule}.마포구"]
    assert errors[0]["problem"].startswith("got 'Mapo'; expected a Seoul district (gu) name, one of 종로구")
    assert errors[1]["problem"].startswith("got -1; ")
    cli = _cli(body, tmp_path)
    assert (cli.field, cli.value) == (f"districts.{rule}", "Mapo")


def test_a_district_in_decomposed_hangul_is_accepted_as_composed(api_max: Api) -> None:
    nfd = unicodedata.normalize("NFD", "마포구")
    body = SCENARIO | {"districts": {"per_district": {nfd: 30}}}
    r = api_max.client.post("/v1/scenarios", json=body, headers=api_max.h("admin"))
    assert r.status_code == 202, r.text
    sent = api_max.client.get(f"{r.json()['location']}/request", headers=api_max.h("viewer")).json()
    assert sent["districts"]["per_district"] == {"마포구": 30}


def test_a_seed_no_solver_takes_is_refused(api_max: Api, tmp_path: Path) -> None:
    body = SCENARIO | {"solver": {"time_limit": 5, "seed": 2**70}}
    assert (
        _api(api_max, "/v1/scenarios", body)[0]["field"]
        == "body.solver.seed"
        == f"body.{_cli(body, tmp_path).field}"
    )


# --- a night: the run request's fleet and the nightly scenario's depots and trucks -----------------

DEPOT: dict[str, Any] = {"id": "D1", "lon": 126.9016, "lat": 37.5663}
NIGHT: dict[str, Any] = {"name": "t", "depots": [DEPOT], "trucks": [{"depot": "D1"}]}


def _night(doc: dict[str, Any]) -> InputError:
    with pytest.raises(InputError) as info:
        nightly_from_dict(doc)
    return info.value


def test_a_repeated_depot_id_is_said_alike(api_max: Api) -> None:
    run = copy.deepcopy(RUN)
    run["fleet"]["depots"].append(dict(run["fleet"]["depots"][0]))
    (err,) = _api(api_max, "/v1/rebalancing/runs", run, role="ops")
    cli = _night(NIGHT | {"depots": [DEPOT, DEPOT]})
    assert (err["field"], f"{cli.field}: {err['problem']}") == (f"body.fleet.{cli.field}", str(cli))


def test_an_unknown_depot_is_said_alike(api_max: Api) -> None:
    run = copy.deepcopy(RUN)
    run["fleet"]["trucks"][0]["depot"] = "D9"
    (err,) = _api(api_max, "/v1/rebalancing/runs", run, role="ops")
    cli = _night(NIGHT | {"trucks": [{"depot": "D9"}]})
    assert (err["field"], f"{cli.field}: {err['problem']}") == (f"body.fleet.{cli.field}", str(cli))
    assert "not one of the depots" in err["problem"]


@pytest.mark.parametrize(("capacity", "accepted"), [(150, True), (201, False)])
def test_a_trucks_capacity_has_one_bound(api_max: Api, capacity: int, accepted: bool) -> None:
    run = copy.deepcopy(RUN)
    run["fleet"]["trucks"][0]["capacity"] = capacity
    r = api_max.client.post("/v1/rebalancing/runs", json=run, headers=api_max.h("ops"))
    assert (r.status_code == 202) is accepted, r.text
    night = NIGHT | {"trucks": [{"depot": "D1", "capacity": capacity}]}
    if accepted:
        assert nightly_from_dict(night).trucks[0].capacity == capacity
    else:
        assert _night(night).field == "trucks.0.capacity"


def test_a_depot_outside_seoul_is_refused_by_both(api_max: Api) -> None:
    run = copy.deepcopy(RUN)
    run["fleet"]["depots"][0]["lat"] = 37.74
    (err,) = _api(api_max, "/v1/rebalancing/runs", run, role="ops")
    cli = _night(NIGHT | {"depots": [DEPOT | {"lat": 37.74}]})
    assert err["field"] == f"body.fleet.{cli.field}" and "37.72" in err["problem"] and "37.72" in str(cli)


@pytest.mark.parametrize("time_limit", [float("inf"), float("nan")])
def test_a_run_without_a_finite_time_limit_is_refused(api_max: Api, time_limit: float) -> None:
    (err,) = _api(api_max, "/v1/rebalancing/runs", RUN | {"time_limit": time_limit}, role="ops")
    assert err["field"] == "body.time_limit" and "finite number" in err["problem"]


def test_a_run_with_both_snapshots_says_so_without_the_validator_prefix(api_max: Api) -> None:
    (err,) = _api(api_max, "/v1/rebalancing/runs", RUN | {"snapshot_id": "0" * 32}, role="ops")
    assert err["problem"] == (
        "got ['snapshot', 'snapshot_id']; expected exactly one of snapshot (inline) and snapshot_id (stored)"
    )


# --- "exactly one of": said alike for a baseline, a run's snapshot and a sweep's axis (review) -----


def test_a_run_without_a_snapshot_is_said_as_a_baseline_without_stations(
    api_max: Api, tmp_path: Path
) -> None:
    run = {k: v for k, v in RUN.items() if k != "snapshot"}
    (err,) = _api(api_max, "/v1/rebalancing/runs", run, role="ops")
    assert (err["field"], err["problem"]) == (
        "body",
        "got []; expected exactly one of snapshot (inline) and snapshot_id (stored)",
    )
    cli = _cli(SCENARIO | {"baseline": {}}, tmp_path)
    assert (cli.field, cli.value) == ("baseline", [])


@pytest.mark.parametrize(
    ("axis", "given"),
    [({"new_stations": "300:800:100", "budget": "1:2:1"}, ["new_stations", "budget"]), ({}, [])],
)
def test_a_sweep_with_both_or_no_axis_names_what_was_given(
    api_max: Api, axis: dict[str, str], given: list[str]
) -> None:
    (err,) = _api(api_max, "/v1/sweeps", {"scenario": SCENARIO, **axis})
    assert (err["field"], err["type"]) == ("body", "sweep_axis")
    assert err["problem"] == (
        f"got {given!r}; expected exactly one of new_stations (station counts) and budget (budget totals)"
    )
