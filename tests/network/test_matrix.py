"""Dense and radius matrices against plain Dijkstra on the real network."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from mobility.network import (
    ProfiledNetwork,
    route_polylines,
    shortest_paths,
    snap_points,
    travel_matrix,
    within_radius,
)

CITY_HALL = (126.9779, 37.5663)  # lon, lat
GANGNAM = (127.0276, 37.4979)


def test_city_hall_to_gangnam_station(any_net: ProfiledNetwork) -> None:
    s = snap_points(any_net, np.array([CITY_HALL[0], GANGNAM[0]]), np.array([CITY_HALL[1], GANGNAM[1]]))
    d = travel_matrix(any_net, s.node, weight="length", use_cache=False)
    assert d[0, 1] == pytest.approx(9550, abs=150)  # GEO_SOURCES.md: 9.55 km
    assert d[0, 0] == 0 and d[1, 1] == 0


@pytest.mark.parametrize("weight", ["time", "length"])
def test_matrix_equals_dijkstra(walk_net: ProfiledNetwork, weight: str) -> None:
    rng = np.random.default_rng(7)
    src = rng.choice(walk_net.n_nodes, 6, replace=False)
    tgt = rng.choice(walk_net.n_nodes, 300, replace=False)
    d = travel_matrix(walk_net, src, tgt, weight=weight, use_cache=False)  # type: ignore[arg-type]
    ref = dijkstra(walk_net.csr(weight, integer=True), indices=src)[:, tgt] / 1000.0  # type: ignore[arg-type]
    np.testing.assert_array_equal(d, ref)


def test_radius_equals_dijkstra(walk_net: ProfiledNetwork) -> None:
    rng = np.random.default_rng(3)
    src = rng.choice(walk_net.n_nodes, 40, replace=False)
    tgt = np.concatenate([src[:10], rng.choice(walk_net.n_nodes, 3000, replace=False)])
    r = within_radius(walk_net, src, tgt, 800.0, weight="length", use_cache=False)
    full = dijkstra(walk_net.csr("length", integer=True), indices=src)[:, tgt] / 1000.0
    want = full <= 800.0
    got = np.zeros_like(want)
    coo = r.tocoo()
    got[coo.row, coo.col] = True
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(r.toarray()[want], full[want])


def test_paths_are_consistent(any_net: ProfiledNetwork) -> None:
    s = snap_points(any_net, np.array([CITY_HALL[0], GANGNAM[0]]), np.array([CITY_HALL[1], GANGNAM[1]]))
    a, b = int(s.node[0]), int(s.node[1])
    (path,) = shortest_paths(any_net, [[a, b]], weight="length")
    assert path[0] == a and path[-1] == b
    csr = any_net.csr("length", integer=True)
    total = sum(csr[u, v] for u, v in itertools.pairwise(path)) / 1000.0
    assert total == pytest.approx(travel_matrix(any_net, [a], [b], weight="length", use_cache=False)[0, 0])
    (poly,) = route_polylines(any_net, [[a, b]], weight="length")
    assert poly.shape[1] == 2 and len(poly) >= len(path)
    assert poly[0] == pytest.approx([any_net.lon[a], any_net.lat[a]])
    assert poly[-1] == pytest.approx([any_net.lon[b], any_net.lat[b]])


def test_radius_with_offsets_and_repeated_points(walk_net: ProfiledNetwork) -> None:
    rng = np.random.default_rng(9)
    base = rng.choice(walk_net.n_nodes, 30, replace=False)
    src = np.concatenate([base, base[:5]])  # several points on one node
    tgt = np.concatenate([base[::2], rng.choice(walk_net.n_nodes, 500, replace=False)])
    so = rng.uniform(0, 100, len(src))
    to = rng.uniform(0, 100, len(tgt))
    r = within_radius(
        walk_net, src, tgt, 600.0, weight="length", source_offsets=so, target_offsets=to, use_cache=False
    )
    full = (
        dijkstra(walk_net.csr("length", integer=True), indices=src)[:, tgt] / 1000.0
        + so[:, None]
        + to[None, :]
    )
    want = full <= 600.0
    dense = np.full(full.shape, np.nan)
    coo = r.tocoo()
    dense[coo.row, coo.col] = coo.data
    np.testing.assert_array_equal(~np.isnan(dense), want)
    np.testing.assert_allclose(dense[want], full[want], rtol=0, atol=1e-9)
    g = within_radius(
        walk_net, src, tgt, 600.0, source_offsets=so, target_offsets=to, method="global", use_cache=False
    )
    assert (g != r).nnz == 0


def test_matrix_cache_round_trip(walk_net: ProfiledNetwork) -> None:
    nodes = np.array([5, 17, 5, 99])
    a = travel_matrix(walk_net, nodes, weight="time")
    b = travel_matrix(walk_net, nodes, weight="time")  # from the disk cache
    np.testing.assert_array_equal(a, b)
    assert a[0, 2] == 0 and a.shape == (4, 4)


def test_concurrent_calls_are_safe(walk_net: ProfiledNetwork) -> None:
    """Service threads may query the same network at once (a CCH metric is not thread-safe)."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(1)
    sets = [rng.choice(walk_net.n_nodes, 150, replace=False) for _ in range(6)]
    want = [travel_matrix(walk_net, s, weight="length", use_cache=False, threads=1) for s in sets]
    with ThreadPoolExecutor(4) as ex:
        got = list(
            ex.map(lambda s: travel_matrix(walk_net, s, weight="length", use_cache=False, threads=2), sets)
        )
    for a, b in zip(want, got, strict=True):
        np.testing.assert_array_equal(a, b)


def test_oversized_dense_matrix_is_refused(walk_net: ProfiledNetwork) -> None:
    from mobility.errors import InputError

    with pytest.raises(InputError, match="within_radius"):
        travel_matrix(walk_net, np.arange(100), np.arange(100), max_entries=5000)
    with pytest.raises(InputError, match="snap_points"):
        travel_matrix(walk_net, [walk_net.n_nodes], [0])
    with pytest.raises(InputError, match="'time'"):
        travel_matrix(walk_net, [0], [1], weight="speed")  # type: ignore[arg-type]


def test_radius_in_worker_processes_is_identical(walk_net: ProfiledNetwork) -> None:
    rng = np.random.default_rng(4)
    src = rng.choice(walk_net.n_nodes, 3000, replace=False)
    tgt = rng.choice(walk_net.n_nodes, 2000, replace=False)
    one = within_radius(walk_net, src, tgt, 500.0, use_cache=False)
    two = within_radius(walk_net, src, tgt, 500.0, use_cache=False, processes=2)
    assert one.nnz > 0 and (one != two).nnz == 0


def test_square_matrix_on_symmetric_network_uses_the_transpose_exactly(walk_net: ProfiledNetwork) -> None:
    from mobility.network.matrix import is_symmetric

    assert is_symmetric(walk_net, "length")
    rng = np.random.default_rng(12)
    nodes = rng.choice(walk_net.n_nodes, 300, replace=False)
    d = travel_matrix(walk_net, nodes, weight="length", use_cache=False)
    np.testing.assert_array_equal(d, d.T)
    rows = [0, 149, 150, 299]  # both halves of the split
    ref = dijkstra(walk_net.csr("length", integer=True), indices=nodes[rows])[:, nodes] / 1000.0
    np.testing.assert_array_equal(d[rows], ref)


@pytest.mark.parametrize("method", ["local", "global"])
@pytest.mark.parametrize(("n_src", "n_tgt"), [(0, 0), (0, 3), (3, 0)])
def test_radius_of_an_empty_point_set_is_empty(
    walk_net: ProfiledNetwork, method: str, n_src: int, n_tgt: int
) -> None:
    """An empty side gives an empty matrix of the right shape, as travel_matrix does (it raised
    numpy's "zero-size array to reduction operation minimum")."""
    none = snap_points(walk_net, np.zeros(0), np.zeros(0))
    three = snap_points(walk_net, np.array([126.9779, 127.0276, 127.0]), np.array([37.5663, 37.4979, 37.55]))
    src, tgt = (three if n_src else none), (three if n_tgt else none)
    r = within_radius(walk_net, src, tgt, 800.0, method=method, use_cache=False)  # type: ignore[arg-type]
    assert r.shape == (n_src, n_tgt) and r.nnz == 0 and r.dtype == np.float64
    assert travel_matrix(walk_net, src, tgt, use_cache=False).shape == (n_src, n_tgt)
