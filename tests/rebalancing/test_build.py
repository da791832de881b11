"""Problem assembly from a status table, coordinates and the scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mobility.errors import InputError
from mobility.quality import QualityReport
from mobility.rebalancing.build import (
    assemble_stations,
    expand_trucks,
    problem_from_scenario,
    straight_line_matrices,
)
from mobility.scenario.nightly import nightly_from_dict

SCN = nightly_from_dict(
    {
        "name": "t",
        "depots": [{"id": "A", "name": "창고", "lon": 127.0, "lat": 37.55}],
        "trucks": [{"depot": "A", "count": 2, "capacity": 10, "start_load": "free"}],
        "targets": {
            "source": "snapshot",
            "tolerance": 1,
            "overrides": [{"station": "102", "target": [3, 4]}],
        },
    }
)
STATUS = pd.DataFrame(
    {"station_id": ["ST-4", "ST-5", "ST-9"], "number": [102, 103, 999], "bikes": [11, 0, 3],
     "target_morning": [9, 5, 2]}
)  # fmt: skip
COORDS = pd.DataFrame(
    {"number": [102, 103], "station_id": ["ST-4", "ST-5"], "name": ["망원역 1번출구 앞", "망원역 2번출구 앞"],
     "docks": [15, 14], "lon": [126.91, 126.91], "lat": [37.556, 37.555]}
)  # fmt: skip


def test_join_counts_stations_without_coordinates() -> None:
    rep = QualityReport("status")
    st = assemble_stations(STATUS, COORDS, rep)
    assert st["station_id"].tolist() == ["ST-4", "ST-5"]
    assert st["name"].iloc[0] == "망원역 1번출구 앞" and st["docks"].tolist() == [15, 14]
    assert rep.dropped["no coordinates (not in the station list)"] == 1


def test_negative_inventory_is_an_input_error() -> None:
    bad = STATUS.assign(bikes=[11, -2, 3])
    with pytest.raises(InputError, match=r"status\[ST-5\]\.bikes: got -2"):
        assemble_stations(bad, COORDS, QualityReport("s"))


def test_missing_columns() -> None:
    with pytest.raises(InputError, match="bikes"):
        assemble_stations(pd.DataFrame({"station_id": ["ST-4"]}), None, QualityReport("s"))


def test_problem_from_snapshot_targets_and_override() -> None:
    st = assemble_stations(STATUS, COORDS, QualityReport("s"))
    lon = np.r_[127.0, st["lon"]]
    lat = np.r_[37.55, st["lat"]]
    t, d = straight_line_matrices(lon, lat)
    p = problem_from_scenario(SCN, st, None, t, d)
    assert [x.id for x in p.trucks] == ["A-01", "A-02"] and p.trucks[0].start_load is None
    # override [3, 4] on 102; 103 target 5 ± 1
    assert p.curves[0][3] == 0 and p.curves[0][5] == 1 and p.curves[0][2] == 1
    assert p.curves[1][4] == 0 and p.curves[1][6] == 0 and p.curves[1][3] == 1
    assert d[0, 1] > 0 and np.allclose(t, d / (22.0 / 3.6))


def test_unknown_override_station() -> None:
    scn = nightly_from_dict(
        {
            **SCN.model_dump(mode="json"),
            "targets": {"source": "snapshot", "overrides": [{"station": "ST-77", "target": 3}]},
        }
    )
    st = assemble_stations(STATUS, COORDS, QualityReport("s"))
    t, d = straight_line_matrices(np.r_[127.0, st["lon"]], np.r_[37.55, st["lat"]])
    with pytest.raises(InputError, match=r"targets\.overrides\.station: got 'ST-77'"):
        problem_from_scenario(scn, st, None, t, d)


def test_demand_curves_are_used_by_station_number() -> None:
    scn = nightly_from_dict({**SCN.model_dump(mode="json"), "targets": {"source": "demand"}})
    st = assemble_stations(STATUS, COORDS, QualityReport("s"))
    t, d = straight_line_matrices(np.r_[127.0, st["lon"]], np.r_[37.55, st["lat"]])
    rep = QualityReport("s")
    p = problem_from_scenario(scn, st, {102: np.array([3.0, 2.0, 1.0])}, t, d, report=rep)
    assert p.curves[0].tolist() == [3.0, 2.0, 1.0]
    assert rep.warnings["no demand curve (snapshot target interval used)"] == 1
    assert len(expand_trucks(scn)) == 2


def _last_bits(a: np.ndarray, seed: int) -> np.ndarray:
    """``a`` with each value moved by up to two units in its last place, as another processor's
    math library may compute it."""
    k = np.random.default_rng(seed).integers(-2, 3, size=np.shape(a))
    return np.asarray(a) * (1.0 + k * np.finfo(np.float64).eps)


def test_last_bit_differences_give_the_same_problem() -> None:
    """The builders round travel (0.1 s, 0.1 m) and costs (1e-6): inputs that differ in their last
    bits (a seeded Seoul night changed its routes over that) make the same problem."""
    scn = nightly_from_dict({**SCN.model_dump(mode="json"), "targets": {"source": "demand"}})
    st = assemble_stations(STATUS, COORDS, QualityReport("s"))
    t, d = straight_line_matrices(np.r_[127.0, st["lon"]], np.r_[37.55, st["lat"]])
    t, d = t * 37.123456789, d * 37.123456789  # metres and seconds of a city, not of one block
    curve = np.linspace(0.0, 3.0, 17) / 7.0
    a = problem_from_scenario(scn, st, {102: curve}, t, d)
    b = problem_from_scenario(scn, st, {102: _last_bits(curve, 1)}, _last_bits(t, 2), _last_bits(d, 3))
    assert not np.array_equal(_last_bits(t, 2), t)  # the noise is there before the builder
    for name in ("travel_s", "distance_m"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
        assert np.allclose(getattr(a, name), t if name == "travel_s" else d, rtol=0, atol=0.05)
    assert np.array_equal(a.curves[0], b.curves[0]) and np.allclose(a.curves[0], curve, rtol=0, atol=5e-7)


def test_snapshot_interval_rules() -> None:
    """A target is exact; one bound of a band defaults to 0 / the docks; no target is 25-75 % of the docks."""
    from mobility.rebalancing.build import snapshot_interval

    assert snapshot_interval(15, 10, 2, 3) == (10, 10)
    assert snapshot_interval(15, None, 4, None) == (4, 15)
    assert snapshot_interval(15, None, None, 6) == (0, 6)
    assert snapshot_interval(15, None, None, None) == (3, 12)
