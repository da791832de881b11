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


def test_snapshot_interval_rules() -> None:
    """A target is exact; one bound of a band defaults to 0 / the docks; no target is 25-75 % of the docks."""
    from mobility.rebalancing.build import snapshot_interval

    assert snapshot_interval(15, 10, 2, 3) == (10, 10)
    assert snapshot_interval(15, None, 4, None) == (4, 15)
    assert snapshot_interval(15, None, None, 6) == (0, 6)
    assert snapshot_interval(15, None, None, None) == (3, 12)
