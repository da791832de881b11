"""Metric properties of network distances on the real graphs (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobility.network import ProfiledNetwork, load_network, profiled, travel_matrix

BIG = 10**9  # drawn integers are taken modulo the network's node count


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, BIG), min_size=3, max_size=3))
def test_triangle_inequality_and_zero_diagonal(walk_net: ProfiledNetwork, draws: list[int]) -> None:
    nodes = [d % walk_net.n_nodes for d in draws]
    for weight in ("time", "length"):
        d = travel_matrix(walk_net, nodes, weight=weight, use_cache=False)
        assert np.all(np.diag(d) == 0)
        a, b, c = 0, 1, 2
        # exact integer sums: no tolerance needed beyond float division
        assert d[a, c] <= d[a, b] + d[b, c] + 1e-9
        assert d[c, a] <= d[c, b] + d[b, a] + 1e-9
        assert np.all(np.isfinite(d))  # one strongly connected component


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, BIG), min_size=2, max_size=6))
def test_walking_distance_is_symmetric(walk_net: ProfiledNetwork, draws: list[int]) -> None:
    nodes = [d % walk_net.n_nodes for d in draws]
    d = travel_matrix(walk_net, nodes, weight="length", use_cache=False)
    np.testing.assert_array_equal(d, d.T)


@pytest.fixture(scope="module")
def truck_drive(data_dir: Path) -> ProfiledNetwork:
    return profiled("osm-drive", "truck", data_dir)


def test_one_way_streets_make_driving_asymmetric(truck_drive: ProfiledNetwork) -> None:
    assert (truck_drive.net.n_nodes, truck_drive.net.n_edges + truck_drive.net.info["dropped_parallel"]) == (
        75_521,
        212_024 - truck_drive.net.info["dropped_self_loops"],
    )
    rng = np.random.default_rng(11)
    nodes = rng.choice(truck_drive.n_nodes, 40, replace=False)
    d = travel_matrix(truck_drive, nodes, weight="length", use_cache=False)
    asym = np.abs(d - d.T) > 1.0
    assert asym.sum() > 40  # one-way streets (and divided roads) make most pairs differ
    assert np.all(np.diag(d) == 0)


def test_night_trucks_are_faster_than_daytime(data_dir: Path, truck_drive: ProfiledNetwork) -> None:
    night = profiled("osm-drive", "truck-night", data_dir)
    assert night.n_nodes == truck_drive.n_nodes  # same topology, other speeds
    rng = np.random.default_rng(5)
    nodes = rng.choice(night.n_nodes, 30, replace=False)
    day_s = travel_matrix(truck_drive, nodes, use_cache=False)
    night_s = travel_matrix(night, nodes, use_cache=False)
    off = ~np.eye(len(nodes), dtype=bool)
    assert np.median(night_s[off] / day_s[off]) < 0.95
    drive = load_network("osm-drive", data_dir)
    from mobility.network import TRUCK_NIGHT, apply_profile
    from mobility.network.profiles import matched_hourly_speeds

    direct = apply_profile(drive, TRUCK_NIGHT)  # matches KTDB speeds by itself
    np.testing.assert_array_equal(direct.w_time, night.w_time)

    hourly = matched_hourly_speeds(drive, data_dir)
    matched = np.isfinite(hourly[:, 2])
    assert drive.length_m[matched].sum() / 1000 > 1500  # km of OSM road carrying KTDB speeds


def test_truck_profiles_share_one_topology(data_dir: Path, truck_drive: ProfiledNetwork) -> None:
    from mobility.network import matrix as mx

    night = profiled("osm-drive", "truck-night", data_dir)
    assert mx.topology_key(night) == mx.topology_key(truck_drive)
    assert night.fingerprint != truck_drive.fingerprint
    assert mx._engine(night).topology is mx._engine(truck_drive).topology
    a = travel_matrix(night, [0, 1000], use_cache=False)
    b = travel_matrix(truck_drive, [0, 1000], use_cache=False)
    assert not np.array_equal(a, b)  # same topology, own metrics
