"""Travel-time and distance queries: dense matrices, radius-bounded sparse matrices, paths.

Dense many-to-many (:func:`travel_matrix`) uses a customizable contraction hierarchy (RoutingKit
CCH through ``pyroutingkit``). The topology (nested-dissection order and chordal supergraph, about
5 s for the 140k-node walk graph) is built once per profiled network and saved in
``<cache>/cch/<fingerprint>/``; customizing it with a metric (ms or mm per arc) takes well under a
second. Queries work on the exact integer weights of
:class:`~mobility.network.profiles.ProfiledNetwork`, so results equal Dijkstra's exactly. Sources
are split over threads (one metric per thread: a metric object is not thread-safe).

Radius-bounded queries (:func:`within_radius`) run scipy's Dijkstra with ``limit`` from the
smaller side (sources, or targets on the reversed graph), in chunks so memory stays bounded.

Results are cached on disk keyed by network + profile + weight + point set
(:func:`mobility.cache.array_key`).
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from mobility.cache import array_key, load_or_discard
from mobility.config import cache_dir
from mobility.errors import InputError
from mobility.io import atomic_path
from mobility.network.profiles import ProfiledNetwork, Weight
from mobility.network.snap import Snapped

SCALE = 1000.0
"""Integer weights are ms / mm: divide by this for seconds / metres."""

Nodes: TypeAlias = npt.ArrayLike | Snapped
"""A node set: local node indices, or points snapped to the network (their ``node``)."""


def default_threads() -> int:
    """Threads for matrix work: the CPUs this process may use, at most 2 by default.

    ``MOBILITY_THREADS`` overrides it.
    """
    env = os.environ.get("MOBILITY_THREADS")
    if env:
        return max(1, int(env))
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 2))


def _nodes(pnet: ProfiledNetwork, nodes: Nodes, what: str) -> np.ndarray:
    """Node indices of ``nodes`` on ``pnet``, checked: whole numbers in range, and points snapped
    to this network's node numbering (a :class:`Snapped` of another profile would silently
    index other nodes)."""
    if isinstance(nodes, Snapped) and nodes.network and nodes.network != pnet.node_key:
        here = f"{pnet.net.name}/{pnet.profile.name}"
        raise InputError(
            what,
            f"points snapped to the {nodes.network_name or 'another'} network",
            f"points snapped to this {here} network (its node indices differ): "
            "snap_points(pnet, lon, lat) with the same network",
        )
    raw = np.asarray(getattr(nodes, "node", nodes))
    if raw.dtype.kind == "f":
        frac = ~np.isfinite(raw) | (raw != np.round(raw))
        if frac.any():
            bad = raw[frac].ravel()[:5].tolist()
            raise InputError(what, bad, "whole node indices (use snap_points first)")
    elif raw.size and raw.dtype.kind not in "iu":
        raise InputError(what, f"an array of {raw.dtype}", "integer node indices (use snap_points first)")
    arr = raw.astype(np.int64).ravel()
    if arr.size and (arr.min() < 0 or arr.max() >= pnet.n_nodes):
        bad = arr[(arr < 0) | (arr >= pnet.n_nodes)][:5].tolist()
        raise InputError(what, bad, f"node indices in 0..{pnet.n_nodes - 1} (use snap_points first)")
    return arr


# --------------------------------------------------------------------------------------------
# contraction hierarchy engine
# --------------------------------------------------------------------------------------------


@dataclass
class _Engine:
    topology: Any
    metrics: dict[tuple[str, int], tuple[Any, threading.Lock]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Guards creation of metrics; each metric has its own lock (a metric is not thread-safe)."""


_ENGINES: dict[str, _Engine] = {}
_TOPOLOGIES: dict[str, Any] = {}
_ENGINES_LOCK = threading.Lock()


def _engine(pnet: ProfiledNetwork, *, use_cache: bool = True) -> _Engine:
    import pyroutingkit as rk

    with _ENGINES_LOCK:
        eng = _ENGINES.get(pnet.fingerprint)
        if eng is not None:
            return eng
        # the topology depends on the arcs only: profiles that differ in speeds share it
        tkey = topology_key(pnet)
        shared = _TOPOLOGIES.get(tkey)
        if shared is not None:
            eng = _Engine(topology=shared)
            _ENGINES[pnet.fingerprint] = eng
            return eng
        topo = rk.CCHTopology()
        folder = cache_dir("cch") / tkey
        loaded = False
        if use_cache and (folder / "node_count").exists():
            try:
                topo.load(str(folder))
                loaded = topo.node_count == pnet.n_nodes and topo.arc_count == pnet.n_edges
            except RuntimeError:  # damaged files: rebuild below
                loaded = False
            if not loaded:
                for p in folder.iterdir():
                    p.unlink()
                folder.rmdir()
                topo = rk.CCHTopology()
        if not loaded:
            topo.build(
                pnet.tail.astype(np.uint32),
                pnet.head.astype(np.uint32),
                pnet.lat.astype(np.float32),
                pnet.lon.astype(np.float32),
                pnet.n_nodes,
            )
            if use_cache:
                tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
                tmp.mkdir(parents=True, exist_ok=True)
                topo.save(str(tmp))
                try:
                    tmp.rename(folder)
                except OSError:  # another process won the race
                    for p in tmp.iterdir():
                        p.unlink()
                    tmp.rmdir()
        _TOPOLOGIES[tkey] = topo
        eng = _Engine(topology=topo)
        _ENGINES[pnet.fingerprint] = eng
        return eng


def clear_engines() -> None:
    """Forget contraction hierarchies kept in memory (the disk cache stays)."""
    with _ENGINES_LOCK:
        _ENGINES.clear()
        _TOPOLOGIES.clear()


def topology_key(pnet: ProfiledNetwork) -> str:
    """Cache key of the contraction-hierarchy topology: the arcs and node coordinates."""
    return "t" + array_key(pnet.tail, pnet.head, pnet.lat.astype(np.float32), pnet.lon.astype(np.float32))


def _metric(pnet: ProfiledNetwork, weight: Weight, slot: int = 0) -> tuple[Any, threading.Lock]:
    """The customized metric of slot ``slot`` and the lock to hold while querying it."""
    import pyroutingkit as rk

    eng = _engine(pnet)
    with eng.lock:
        entry = eng.metrics.get((weight, slot))
        if entry is None:
            w = pnet.weights(weight)
            if w.size and int(w.max()) >= rk.INF_WEIGHT:
                raise InputError("weight", int(w.max()), f"edge weights below {rk.INF_WEIGHT}")
            m = rk.CCHMetric(eng.topology)
            m.customize(w.astype(np.uint32))
            entry = (m, threading.Lock())
            eng.metrics[(weight, slot)] = entry
        return entry


def prepare(pnet: ProfiledNetwork, weight: Weight = "time", *, threads: int | None = None) -> None:
    """Build (or load) the contraction hierarchy and customize it, ahead of the first query."""
    for slot in range(threads or default_threads()):
        _metric(pnet, weight, slot)


def _m2m_int(
    pnet: ProfiledNetwork, src: np.ndarray, tgt: np.ndarray, weight: Weight, threads: int
) -> np.ndarray:
    """Integer many-to-many distances (uint32, INF_WEIGHT where unreachable)."""
    s32 = src.astype(np.uint32)
    t32 = tgt.astype(np.uint32)
    if len(s32) == 0 or len(t32) == 0:
        return np.zeros((len(s32), len(t32)), dtype=np.uint32)
    threads = max(1, min(threads, len(s32) // 64 or 1))
    chunks = np.array_split(np.arange(len(s32)), threads)
    metrics = [_metric(pnet, weight, k) for k in range(threads)]

    def run(k: int) -> np.ndarray:
        m, lock = metrics[k]
        with lock:
            return np.asarray(m.distances_many_to_many(s32[chunks[k]], t32))

    if threads == 1:
        return run(0)
    with ThreadPoolExecutor(threads) as ex:
        parts = list(ex.map(run, range(threads)))
    return np.vstack(parts)


def is_symmetric(pnet: ProfiledNetwork, weight: Weight) -> bool:
    """Whether every edge has a reverse twin of equal integer weight (e.g. the walk profile)."""
    cache: dict[str, bool] = pnet.info.setdefault("_symmetric", {})
    if weight not in cache:
        m = pnet.csr(weight, integer=True)
        # +1 so that zero-weight edges still count as stored entries
        m1 = sp.csr_matrix((m.data + 1.0, m.indices, m.indptr), shape=m.shape)
        cache[weight] = (m1 != m1.T.tocsr()).nnz == 0
    return cache[weight]


def _m2m_symmetric(pnet: ProfiledNetwork, nodes: np.ndarray, weight: Weight, threads: int) -> np.ndarray:
    """Square matrix over ``nodes`` on a symmetric network with 3/4 of the work.

    With ``nodes = A ∪ B``: ``D[A, :]`` and ``D[B, B]`` are computed, ``D[B, A] = D[A, B]ᵀ``.
    """
    n = len(nodes)
    h = n // 2
    a, b = nodes[:h].astype(np.uint32), nodes[h:].astype(np.uint32)
    allv = nodes.astype(np.uint32)
    tasks: list[tuple[np.ndarray, np.ndarray]] = []
    for part in np.array_split(a, threads):
        tasks.append((part, allv))
    for part in np.array_split(b, threads):
        tasks.append((part, b))
    metrics = [_metric(pnet, weight, k) for k in range(threads)]

    def run(i: int) -> np.ndarray:
        m, lock = metrics[i % threads]
        src, tgt = tasks[i]
        with lock:
            return np.asarray(m.distances_many_to_many(src, tgt))

    if threads > 1:
        with ThreadPoolExecutor(threads) as ex:
            parts = list(ex.map(run, range(len(tasks))))
    else:
        parts = [run(i) for i in range(len(tasks))]
    out = np.empty((n, n), dtype=np.uint32)
    out[:h] = np.vstack(parts[:threads])
    out[h:, h:] = np.vstack(parts[threads:])
    out[h:, :h] = out[:h, h:].T
    return out


def travel_matrix(
    pnet: ProfiledNetwork,
    sources: Nodes,
    targets: Nodes | None = None,
    *,
    weight: Weight = "time",
    threads: int | None = None,
    use_cache: bool = True,
    max_entries: int = 200_000_000,
) -> np.ndarray:
    """Dense shortest-path matrix between node sets.

    Parameters
    ----------
    pnet
        Profiled network.
    sources, targets
        Local node indices (or :class:`~mobility.network.snap.Snapped` objects); ``targets``
        defaults to ``sources``. Repeated nodes are computed once.
    weight
        ``"time"`` (seconds) or ``"length"`` (metres).
    threads
        Worker threads (default :func:`default_threads`).
    use_cache
        Read/write the result in ``<cache>/matrices`` keyed by network, profile, weight and nodes.
    max_entries
        Refuse larger matrices (8 bytes per entry); use :func:`within_radius` for sparse needs.

    Returns
    -------
    numpy.ndarray
        ``(len(sources), len(targets))`` float64 seconds or metres; ``inf`` where unreachable
        (never within one profiled network, which is strongly connected).
    """
    src = _nodes(pnet, sources, "sources")
    tgt = src if targets is None else _nodes(pnet, targets, "targets")
    pnet.weights(weight)  # validates the name
    if len(src) * len(tgt) > max_entries:
        raise InputError(
            "sources × targets",
            f"{len(src):,} × {len(tgt):,}",
            f"at most {max_entries:,} entries ({max_entries * 8 / 1e9:.1f} GB); use within_radius for "
            "pairs within a bound, or split the sources",
        )
    key = array_key(np.frombuffer(f"{pnet.fingerprint}|{weight}|m2m".encode(), np.uint8), src, tgt)
    path = cache_dir("matrices") / f"{key}.npy"
    ints = load_or_discard(path, np.load) if use_cache else None
    if ints is None:
        us, inv_s = np.unique(src, return_inverse=True)
        ut, inv_t = np.unique(tgt, return_inverse=True)
        nthreads = threads or default_threads()
        if len(us) == len(ut) and np.array_equal(us, ut) and len(us) >= 256 and is_symmetric(pnet, weight):
            d = _m2m_symmetric(pnet, us, weight, nthreads)
        else:
            d = _m2m_int(pnet, us, ut, weight, nthreads)
        ints = d[np.ix_(inv_s, inv_t)]
        if use_cache:
            with atomic_path(path) as tmp, tmp.open("wb") as fh:
                np.save(fh, ints)
    return _to_float(ints)


def _to_float(ints: np.ndarray) -> np.ndarray:
    import pyroutingkit as rk

    out = ints.astype(np.float64) / SCALE
    out[ints >= rk.INF_WEIGHT] = np.inf
    return out


def one_to_many(pnet: ProfiledNetwork, source: int, targets: Nodes, *, weight: Weight = "time") -> np.ndarray:
    """Shortest-path values from one node to many (a row of :func:`travel_matrix`)."""
    return travel_matrix(pnet, np.array([source]), targets, weight=weight, threads=1, use_cache=False)[0]


# --------------------------------------------------------------------------------------------
# radius-bounded
# --------------------------------------------------------------------------------------------


def within_radius(
    pnet: ProfiledNetwork,
    sources: Nodes,
    targets: Nodes,
    radius: float,
    *,
    weight: Weight = "length",
    source_offsets: np.ndarray | None = None,
    target_offsets: np.ndarray | None = None,
    method: Literal["auto", "local", "global"] = "auto",
    chunk: int = 64,
    threads: int | None = None,
    processes: int = 1,
    use_cache: bool = True,
) -> sp.csr_matrix:
    """All (source, target) pairs within ``radius``, as a sparse matrix of their distances.

    Parameters
    ----------
    pnet
        Profiled network.
    sources, targets
        Local node indices (or :class:`~mobility.network.snap.Snapped`).
    radius
        Bound in metres (``weight="length"``) or seconds (``"time"``); pairs with a value
        ``<= radius`` are returned.
    source_offsets, target_offsets
        Optional per-point additions (e.g. ``Snapped.distance_m`` for walking from the point to
        its node), included in the value compared with ``radius``.
    method
        ``"local"``: Dijkstra on the small subgraph around each tile of roots (exact: a path of
        network length ``L`` never leaves the disc of radius ``L × max(chord / edge length)``
        around its start); ``"global"``: scipy's Dijkstra with ``limit`` on the whole graph;
        ``"auto"``: local unless an edge is shorter than the straight line between its ends.
    chunk
        Roots per batch for ``"global"`` (memory: ``chunk × n_nodes × 8`` bytes per thread).
    threads
        Threads for ``"global"`` (scipy holds the GIL: little gain).
    processes
        Forked worker processes for ``"local"`` (POSIX). Off by default: on the shared 2-core
        machine the measured gain was within noise; it pays on idle multi-core machines.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(len(sources), len(targets))`` float64. A pair at distance exactly 0 (same node, no
        offsets) is stored as an explicit zero; absent entries mean "farther than ``radius``".
    """
    src = _nodes(pnet, sources, "sources")
    tgt = _nodes(pnet, targets, "targets")
    if not np.isfinite(radius) or radius < 0:
        raise InputError("radius", radius, "a finite number >= 0")
    pnet.weights(weight)
    so = np.zeros(len(src)) if source_offsets is None else np.asarray(source_offsets, dtype=np.float64)
    to = np.zeros(len(tgt)) if target_offsets is None else np.asarray(target_offsets, dtype=np.float64)
    if so.shape != src.shape or to.shape != tgt.shape:
        raise InputError("offsets", (so.shape, to.shape), "one offset per source / target")
    key = array_key(
        np.frombuffer(f"{pnet.fingerprint}|{weight}|r{radius!r}".encode(), np.uint8), src, tgt, so, to
    )
    path = cache_dir("matrices") / f"{key}.radius.npz"
    cached = load_or_discard(path, sp.load_npz) if use_cache else None
    if cached is not None:
        return cached.tocsr()
    if len(src) == 0 or len(tgt) == 0:  # no pair: nothing to search (and no tile to build)
        return sp.csr_matrix((len(src), len(tgt)), dtype=np.float64)
    base = float(radius) - float(so.min(initial=0.0)) - float(to.min(initial=0.0))
    us, inv_s = np.unique(src, return_inverse=True)
    ut, inv_t = np.unique(tgt, return_inverse=True)
    if len(ut) < len(us):  # search from the smaller side on the reversed graph
        graph = pnet.csr(weight, integer=True).T.tocsr()
        roots, others = ut, us
    else:
        graph = pnet.csr(weight, integer=True)
        roots, others = us, ut
    limit_int = float(np.floor(base * SCALE + 1e-6))
    reach = _euclidean_reach(pnet, weight, limit_int / SCALE)
    if method == "global" or (method == "auto" and not np.isfinite(reach)):
        r, c, v = _bounded_global(graph, roots, others, limit_int, chunk, threads or default_threads())
    else:
        if not np.isfinite(reach):
            raise InputError(
                "method", method, "'global' for this network (an edge is shorter than its chord)"
            )
        r, c, v = _bounded_local(pnet, graph, roots, others, limit_int, reach, processes)
    v = v / SCALE
    if len(ut) < len(us):
        r, c = c, r  # rows index unique sources, cols unique targets
    # expand unique nodes to points
    out = _expand(r, c, v, inv_s, inv_t, len(us), len(ut), so, to, float(radius))
    if use_cache:
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            sp.save_npz(fh, out, compressed=False)
    return out


def _bounded_global(
    graph: sp.csr_matrix, roots: np.ndarray, others: np.ndarray, limit: float, chunk: int, threads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(root position, other position, integer value) of all pairs within ``limit``, whole graph."""
    batches = [roots[i : i + chunk] for i in range(0, len(roots), chunk)]
    starts = list(range(0, len(roots), chunk))

    def run(b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d = dijkstra(graph, directed=True, indices=batches[b], limit=limit)
        sub = d[:, others]
        r, c = np.nonzero(sub <= limit)
        return r + starts[b], c, sub[r, c]

    if threads > 1 and len(batches) > 1:
        with ThreadPoolExecutor(threads) as ex:
            results = list(ex.map(run, range(len(batches))))
    else:
        results = [run(b) for b in range(len(batches))]
    return _concat(results)


def _concat(
    results: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not results:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return (
        np.concatenate([r for r, _, _ in results]).astype(np.int64),
        np.concatenate([c for _, c, _ in results]).astype(np.int64),
        np.concatenate([v for _, _, v in results]).astype(np.float64),
    )


def _euclidean_reach(pnet: ProfiledNetwork, weight: Weight, radius: float) -> float:
    """Straight-line distance (m) a path of ``radius`` (m or s) can reach at most; inf if unbounded.

    Every edge's chord (straight line between its end nodes, EPSG:5179) is at most ``k`` times
    its weight, ``k = max(chord / weight)``; a path of weight ``radius`` stays within
    ``k × radius`` of its start (triangle inequality).
    """
    cache: dict[str, float] = pnet.info.setdefault("_chord_ratio", {})
    if weight not in cache:
        chord = np.hypot(pnet.x[pnet.tail] - pnet.x[pnet.head], pnet.y[pnet.tail] - pnet.y[pnet.head])
        w = pnet.weights(weight) / SCALE
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(chord > 0, chord / w, 0.0)
        cache[weight] = float(ratio.max(initial=0.0))
    k = cache[weight]
    if not np.isfinite(k):
        return float("inf")
    return max(k, 1.0 if weight == "length" else 0.0) * radius * 1.001 + 1.0


def _bounded_local(
    pnet: ProfiledNetwork,
    graph: sp.csr_matrix,
    roots: np.ndarray,
    others: np.ndarray,
    limit: float,
    reach: float,
    processes: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`_bounded_global`, but each tile of roots searches only the nodes within ``reach``.

    Roots are grouped in square tiles of side ``max(reach, 400 m)``; for each tile, the
    subgraph induced by the nodes inside the tile's box grown by ``reach`` holds every path of
    weight ``<= limit`` from its roots, so Dijkstra there is exact and touches ~1–5k nodes
    instead of the whole city. With ``processes > 1`` the tiles are shared among forked worker
    processes (scipy's Dijkstra holds the GIL, so threads would not help).
    """
    x, y = pnet.x, pnet.y
    side = max(reach, 400.0)
    tx = np.floor((x[roots] - x.min()) / side).astype(np.int64)
    ty = np.floor((y[roots] - y.min()) / side).astype(np.int64)
    tile = tx * (int(ty.max(initial=0)) + 1) + ty
    order = np.argsort(tile, kind="stable")
    bounds = np.flatnonzero(np.r_[True, tile[order][1:] != tile[order][:-1], True])
    by_x = np.argsort(x, kind="stable")
    other_pos = np.full(pnet.n_nodes, -1, dtype=np.int64)
    other_pos[others] = np.arange(len(others))
    tiles = list(itertools.pairwise(bounds.tolist()))
    state = _TileState(x, y, by_x, x[by_x], graph, roots, order, other_pos, limit, reach)
    if processes > 1 and len(tiles) >= 2 * processes and _can_fork():
        try:
            return _tiles_forked(state, tiles, processes)
        except (OSError, RuntimeError):  # fork refused (limits, sandbox): fall back to one process
            pass
    return _concat([_one_tile(state, a, b) for a, b in tiles])


@dataclass
class _TileState:
    x: np.ndarray
    y: np.ndarray
    by_x: np.ndarray
    xs: np.ndarray
    graph: sp.csr_matrix
    roots: np.ndarray
    order: np.ndarray
    other_pos: np.ndarray
    limit: float
    reach: float


def _one_tile(st: _TileState, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx = st.order[a:b]  # positions in roots
    rx, ry = st.x[st.roots[idx]], st.y[st.roots[idx]]
    lo, hi = np.searchsorted(st.xs, [rx.min() - st.reach, rx.max() + st.reach])
    cand = st.by_x[lo:hi]
    cy = st.y[cand]
    nodes = np.sort(cand[(cy >= ry.min() - st.reach) & (cy <= ry.max() + st.reach)])
    sub = st.graph[nodes][:, nodes]
    local_roots = np.searchsorted(nodes, st.roots[idx])
    d = dijkstra(sub, directed=True, indices=local_roots, limit=st.limit)
    op = st.other_pos[nodes]
    cols = np.flatnonzero(op >= 0)
    dd = d[:, cols]
    r, c = np.nonzero(dd <= st.limit)
    return idx[r], op[cols[c]], dd[r, c]


_FORK_STATE: tuple[_TileState, list[tuple[int, int]]] | None = None


def _can_fork() -> bool:
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods() and mp.current_process().daemon is False


def _tile_worker(part: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    assert _FORK_STATE is not None
    st, tiles = _FORK_STATE
    return _concat([_one_tile(st, *tiles[i]) for i in part])


def _tiles_forked(
    st: _TileState, tiles: list[tuple[int, int]], processes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share tiles among forked workers (they inherit the arrays; only results travel back)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    global _FORK_STATE
    # interleave tiles so every worker gets dense and sparse parts of the city
    parts = [list(range(k, len(tiles), processes)) for k in range(processes)]
    _FORK_STATE = (st, tiles)
    try:
        with ProcessPoolExecutor(processes, mp_context=mp.get_context("fork")) as ex:
            return _concat(list(ex.map(_tile_worker, parts)))
    finally:
        _FORK_STATE = None


def _expand(
    r: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
    inv_s: np.ndarray,
    inv_t: np.ndarray,
    n_us: int,
    n_ut: int,
    so: np.ndarray,
    to: np.ndarray,
    radius: float,
) -> sp.csr_matrix:
    """Unique-node pairs -> point pairs (rows/cols repeated), offsets added, ``> radius`` removed."""
    # +1 keeps exact zeros as stored entries through scipy's fancy indexing
    m = sp.csr_matrix((v + 1.0, (r, c)), shape=(n_us, n_ut))
    m = m[inv_s][:, inv_t].tocsr()
    m.sort_indices()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    m.data = m.data - 1.0 + so[rows] + to[m.indices]
    keep = m.data <= radius + 1e-9
    if not keep.all():
        counts = np.bincount(rows[keep], minlength=m.shape[0])
        indptr = np.zeros(m.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        m = sp.csr_matrix((m.data[keep], m.indices[keep], indptr), shape=m.shape)
    return m


# --------------------------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------------------------


def shortest_paths(
    pnet: ProfiledNetwork, pairs: npt.ArrayLike, *, weight: Weight = "time"
) -> list[list[int]]:
    """Node paths (local indices, source first) for ``(source, target)`` node pairs."""
    pr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    _nodes(pnet, pr.ravel(), "pairs")
    m, lock = _metric(pnet, weight, 0)
    out: list[list[int]] = []
    with lock:
        for s, t in pr:
            _, nodes, _arcs = m.query(int(s), int(t))
            out.append([int(n) for n in nodes])
    return out


def path_arcs(pnet: ProfiledNetwork, source: int, target: int, *, weight: Weight = "time") -> np.ndarray:
    """Indices into ``pnet.tail/head`` of the arcs of one shortest path."""
    m, lock = _metric(pnet, weight, 0)
    with lock:
        _, _path, arcs = m.query(int(source), int(target))
    return np.asarray(arcs, dtype=np.int64)


def route_polylines(
    pnet: ProfiledNetwork, pairs: npt.ArrayLike, *, weight: Weight = "time"
) -> list[np.ndarray]:
    """Lon/lat polylines (``(k, 2)`` arrays) of shortest paths, following edge geometry."""
    pr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    _nodes(pnet, pr.ravel(), "pairs")
    base_ids = pnet.edge_time if weight == "time" else pnet.edge_length
    out: list[np.ndarray] = []
    for s, t in pr:
        arcs = path_arcs(pnet, int(s), int(t), weight=weight)
        if len(arcs) == 0:
            out.append(np.array([[pnet.lon[s], pnet.lat[s]]]))
            continue
        parts: list[np.ndarray] = []
        for a in arcs:
            e = int(base_ids[a])
            poly = pnet.net.edge_polyline(e) if e >= 0 else pnet.net.edge_polyline(-1 - e)[::-1]
            parts.append(poly if not parts else poly[1:])
        out.append(np.vstack(parts))
    return out


def cch_cache_folder(pnet: ProfiledNetwork) -> Path:
    """Where the contraction hierarchy topology of ``pnet`` is saved."""
    return cache_dir("cch") / topology_key(pnet)
