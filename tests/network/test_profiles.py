"""Profiles: configuration checks, what each mode may use, stable cache keys."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

from mobility.errors import InputError
from mobility.network import BIKE, TRUCK, WALK, Profile, ProfiledNetwork, StreetNetwork, get_profile
from mobility.network.street import HIGHWAY_CODE


def test_unknown_class_is_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown highway classes"):
        Profile(name="x", speed_kph=5, allowed=frozenset({"sidewalk"}))


def test_unknown_profile_name() -> None:
    with pytest.raises(InputError, match="walk"):
        get_profile("skate")


@pytest.mark.slow  # a fresh interpreter importing the stack takes 2–15 s on a busy machine
def test_key_is_stable_across_processes() -> None:
    code = "from mobility.network import WALK; print(WALK.key())"
    keys = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        keys.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout)
    assert len(keys) == 1 and WALK.key() + "\n" in keys


def test_modes_use_the_right_ways(osm_all: StreetNetwork, walk_net: ProfiledNetwork) -> None:
    from mobility.network import apply_profile

    motorway = {HIGHWAY_CODE[c] for c in ("motorway", "motorway_link", "trunk", "trunk_link")}
    walk_classes = set(
        np.unique(osm_all.highway[np.abs(walk_net.edge_time[walk_net.edge_time >= 0])]).tolist()
    )
    assert not walk_classes & motorway
    assert HIGHWAY_CODE["footway"] in walk_classes
    assert walk_net.dropped.reverse_edges_added > 0  # walking ignores one-way rules
    truck = apply_profile(osm_all, TRUCK)
    truck_classes = set(np.unique(osm_all.highway[truck.edge_time]).tolist())
    assert HIGHWAY_CODE["footway"] not in truck_classes and HIGHWAY_CODE["primary"] in truck_classes
    bike = apply_profile(osm_all, BIKE)
    assert HIGHWAY_CODE["steps"] not in set(np.unique(osm_all.highway[bike.edge_time]).tolist())
    # seconds follow the configured speeds: 15 km/h on a residential street
    res = np.flatnonzero(osm_all.highway[bike.edge_time] == HIGHWAY_CODE["residential"])[:100]
    np.testing.assert_allclose(bike.seconds[res], bike.metres[res] / (15 / 3.6), atol=2e-3)
    # the largest strongly connected component is kept and the rest reported
    d = walk_net.dropped
    assert walk_net.n_nodes + d.nodes_outside_largest_scc + d.nodes_without_edges == osm_all.n_nodes
    assert walk_net.n_nodes > 0.97 * osm_all.n_nodes
