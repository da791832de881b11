"""The simulation's preparation does each piece of work once: neighbour lists ranked only as far
as the walking radius reaches, the demand-potential model fitted once per process and data
version, and the morning targets of a derived snapshot cached on disk. Each gives the results of
the work it saves, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mobility import config
from mobility.arrays import smallest_per_row
from mobility.demand.inventory import InventoryParams, curves_from_profiles
from mobility.demand.profiles import StationProfiles
from mobility.simulation import model, pipeline


def full_ranking_lists(dist: np.ndarray, limit: float, k: int | None = None) -> tuple[np.ndarray, ...]:
    """The lists by the definition, row by row: the columns ranked by (distance, column), a
    station's own at ``inf``, the first ``k`` (``n - 1`` at most) kept where within ``limit``."""
    n = dist.shape[0]
    ptr, cols, vals = [0], [], []
    for i in range(n):
        d = dist[i].astype(float)
        d[i] = np.inf
        order = np.lexsort((np.arange(n), d))[: n - 1 if k is None else min(k, n - 1)]
        order = order[d[order] <= limit]
        cols.append(order)
        vals.append(d[order])
        ptr.append(ptr[-1] + len(order))
    return (
        np.array(ptr, dtype=np.int64),
        np.concatenate([np.zeros(0, dtype=np.int32), *cols]).astype(np.int32),
        np.concatenate([np.zeros(0), *vals]),
    )


def assert_same_lists(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("seed", range(6))
def test_neighbour_lists_equal_the_full_ranking_with_ties_and_unreachable_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    dist = rng.integers(0, 12, (n, n)).astype(float) * 50.0  # many equal distances
    dist[rng.random((n, n)) < 0.2] = np.inf
    for limit, k in [(200.0, None), (200.0, 3), (0.0, None), (np.inf, 4), (np.inf, None), (-1.0, None)]:
        assert_same_lists(model.neighbour_lists(dist, limit, k), full_ranking_lists(dist, limit, k))


def test_neighbour_lists_rank_only_as_far_as_the_limit_reaches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranking all 2,139 other stations of every row took 1.4 s of the plan's 2,140; the most
    stations any row has within the walking radius are enough."""
    ks: list[int] = []

    def spy(values: np.ndarray, k: int) -> np.ndarray:
        ks.append(k)
        return smallest_per_row(values, k)

    monkeypatch.setattr(model, "smallest_per_row", spy)
    x = np.arange(200) * 100.0
    dist = np.abs(x[:, None] - x[None, :])
    got = model.neighbour_lists(dist, 250.0)
    assert ks == [4]  # two stations either side within 250 m
    assert_same_lists(got, full_ranking_lists(dist, 250.0))


@pytest.mark.slow
def test_neighbour_lists_of_the_2019_network_equal_the_full_ranking(data_dir: Path) -> None:
    from mobility.simulation.data import load_station_set, network_matrices

    stations = load_station_set("2019-12", data_dir).table
    ride, walk = network_matrices(stations, data_dir)
    p = model.RiderParams()
    walk_s, limit = walk / (p.walk_speed_kph / 3.6), p.walk_radius_m / (p.walk_speed_kph / 3.6)
    got = model.neighbour_lists(walk_s, limit)
    assert len(got[1]) > 1000
    assert_same_lists(got, full_ranking_lists(walk_s, limit))
    assert_same_lists(model.neighbour_lists(ride, np.inf, 10), full_ranking_lists(ride, np.inf, 10))


def test_the_potential_model_is_fitted_once_per_version_of_its_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mobility.demand.potential as potential

    grid = tmp_path / "grid.csv"
    grid.write_text("a,b\n1,2\n", encoding="utf-8")
    fits: list[object] = []

    def fit(data_dir: Path | None, targets: tuple[str, ...]) -> dict[str, tuple[object, None]]:
        fits.append(object())
        return {"trips_per_day": (fits[-1], None)}

    monkeypatch.setattr(potential, "feature_inputs", lambda data_dir: [grid])
    monkeypatch.setattr(potential, "fit_targets_from_data", fit)
    monkeypatch.setattr(pipeline, "_POTENTIAL", {})
    first = pipeline.trip_potential_model(tmp_path)
    assert pipeline.trip_potential_model(tmp_path) is first and len(fits) == 1
    grid.write_text("a,b\n1,3\n", encoding="utf-8")  # same size, other content: fitted again
    again = pipeline.trip_potential_model(tmp_path)
    assert again is not first and len(fits) == 2
    assert pipeline.trip_potential_model(tmp_path) is again and len(pipeline._POTENTIAL) == 1


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MOBILITY_CACHE_DIR", str(tmp_path / "cache"))
    config.get_settings.cache_clear()
    yield tmp_path / "cache"
    config.get_settings.cache_clear()


def small_profiles(seed: int = 0, n: int = 12) -> StationProfiles:
    rng = np.random.default_rng(seed)
    stations = pd.DataFrame(
        {
            "station_id": [f"ST-{i}" for i in range(n)],
            "number": np.arange(100, 100 + n),
            "name": [f"s{i}" for i in range(n)],
            "gu": "마포구",
            "docks": rng.integers(5, 20, n),
        }
    )
    rent = rng.gamma(2.0, 0.6, (n, 2, 24))
    ret = rng.gamma(2.0, 0.6, (n, 2, 24))
    return StationProfiles(stations=stations, rent=rent, ret=ret, od=pd.DataFrame())


def test_morning_targets_are_the_curves_minimisers_and_cached_on_their_inputs(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mobility.demand import snapshot

    prof = small_profiles()
    want = np.array([c.target for c in curves_from_profiles(prof, day_type="weekend")], dtype=np.int64)
    got = snapshot.morning_targets(prof, day_type="weekend")
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    (entry,) = (cache_dir / "demand").glob("*.targets.npy")

    def not_again(*_a: object, **_k: object) -> list[object]:
        raise AssertionError("the curves were computed again")

    monkeypatch.setattr("mobility.demand.snapshot.curves_from_profiles", not_again)
    np.testing.assert_array_equal(snapshot.morning_targets(prof, day_type="weekend"), want)
    monkeypatch.setattr("mobility.demand.snapshot.curves_from_profiles", curves_from_profiles)
    # every input is in the key: the day type, the rates, the docks, the parameters
    changed = small_profiles()
    changed.rent[3, 1, 7:10] *= 5.0
    fewer_docks = small_profiles()
    fewer_docks.stations.loc[2, "docks"] = 3
    snapshot.morning_targets(prof, day_type="weekday")
    snapshot.morning_targets(changed, day_type="weekend")
    snapshot.morning_targets(fewer_docks, day_type="weekend")
    snapshot.morning_targets(prof, day_type="weekend", params=InventoryParams(overflow_penalty=0.5))
    assert len(list((cache_dir / "demand").glob("*.targets.npy"))) == 5
    other = InventoryParams(overflow_penalty=0.5)
    cases: list[tuple[Any, dict[str, Any]]] = [(changed, {}), (fewer_docks, {}), (prof, {"params": other})]
    for p, kw in cases:
        direct = [c.target for c in curves_from_profiles(p, day_type="weekend", **kw)]
        np.testing.assert_array_equal(snapshot.morning_targets(p, day_type="weekend", **kw), direct)
    # a damaged entry (cut short, or another station set's) is built again
    for damage in (entry.read_bytes()[:40], b"", _npy(np.arange(3, dtype=np.int64))):
        entry.write_bytes(damage)
        np.testing.assert_array_equal(snapshot.morning_targets(prof, day_type="weekend"), want)
        assert np.array_equal(np.load(entry), want)


def _npy(a: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


@pytest.mark.parametrize("date", ["2019-06-11", "2023-06-17"])
def test_a_derived_snapshot_is_the_same_from_cached_targets(cache_dir: Path, date: str) -> None:
    from mobility.demand.snapshot import derive_snapshot

    prof = small_profiles(seed=3)
    curves = curves_from_profiles(prof, day_type="weekend" if date == "2023-06-17" else "weekday")
    for _ in range(2):  # built, then read from the cache
        for at in (22.0, 24.0):
            pd.testing.assert_frame_equal(
                derive_snapshot(prof, date, at=at), derive_snapshot(prof, date, at=at, curves=curves)
            )
        assert len(list((cache_dir / "demand").glob("*.targets.npy"))) == 1


@pytest.mark.slow
def test_preparing_two_networks_fits_the_potential_model_once(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan prepares two networks, each with stations the profiles lack: the demand-potential
    model was fitted for each; the rider model is the same from the one fit."""
    import mobility.demand.potential as potential
    from mobility.simulation.data import load_station_set

    fit = potential.fit_targets_from_data
    fits: list[int] = []

    def counted(*a: Any, **k: Any) -> Any:
        fits.append(1)
        return fit(*a, **k)

    monkeypatch.setattr(potential, "fit_targets_from_data", counted)
    monkeypatch.setattr(pipeline, "_POTENTIAL", {})
    ss = load_station_set("2019-12", data_dir)  # 141 stations the 2025 profiles lack
    first = pipeline.prepare("2019-12", "2019-06-12", data_dir=data_dir, station_set=ss)
    second = pipeline.prepare("2019-12", "2019-06-12", data_dir=data_dir, station_set=ss)
    assert len(fits) == 1
    problems = [p.model.problem(p.day, p.bikes) for p in (first, second)]
    for name in ("rates", "od_cum", "od_dest", "walk_nb", "walk_s", "ride_nb", "bikes"):
        np.testing.assert_array_equal(getattr(problems[0], name), getattr(problems[1], name))
    assert first.files == second.files and json.dumps(first.model.notes) == json.dumps(second.model.notes)
