"""Loading street networks: the named sources, osmnx GraphML, and the disk and memory caches.

:func:`load_network` returns a :class:`~mobility.network.street.StreetNetwork` (the arrays) from a
named source or a path; GraphML is read here, MOCT node-link and KTDB Level 5.5 by
:mod:`~mobility.network.moct` and :mod:`~mobility.network.ktdb`. Every built network is cached as
arrays (``.npz``) keyed on its input files.

Sources (:func:`load_network`):

``"osm-all"``
    ``osm/seoul_best_graph.graphml.gz`` — real OpenStreetMap (2021), every mode, all 25 gu + 1 km.
``"osm-drive"``
    ``osm/omt_tiles_2021/seoul_osm2021_drive.graphml.gz`` — its drive subset (for trucks).
``"moct"``
    ``osm/moct_nodelink_2018/Seoul_node.csv`` + ``Seoul_link_utf8.csv`` — the national standard
    node-link (24 gu; Gangdong-gu is missing from the extract). The official ``MOCT_NODE.shp`` /
    ``MOCT_LINK.shp`` layout is read by :func:`mobility.network.moct.read_moct_shapefiles`.
``"moct+ktdb"``
    ``osm/ktdb_lev55_2023/seoul_moct2018_plus_ktdb_gangdong.graphml.gz`` (MOCT with Gangdong-gu
    filled from KTDB) with KTDB hourly link speeds joined on the MOCT link id (hour by hour, the
    median of the KTDB links that share one MOCT link).
``"ktdb"``
    ``osm/ktdb_lev55_2023/seoul_link_lev5.5_2023.shp`` + ``AverageSpeed_LINK.csv`` — KTDB
    View-T Level 5.5 major roads with 24 hourly speeds per link.

Any other string is taken as a path: a ``.graphml``/``.graphml.gz`` file, a MOCT/KTDB link
shapefile, or a folder holding MOCT CSV tables or shapefiles.

Parallel edges: every loader keeps, for each (tail, head, highway class), only the shortest edge,
and drops self-loops; :func:`mobility.network.profiles.apply_profile` then keeps, for each
(tail, head), the minimum of each weight. Never build a ``scipy.sparse`` matrix from a raw edge
list with duplicates: it *sums* them.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mobility.cache import cache_key, cached_file, load_or_discard
from mobility.config import cache_dir, data_file_places, resolve_data_dir
from mobility.errors import DataFileError, DataNotFoundError, InputError
from mobility.network import ktdb, moct
from mobility.network.street import (
    FORMAT_VERSION,
    KTDB_SPEEDS,
    ROAD_RANK_CLASS,
    EdgeTable,
    StreetNetwork,
    _to_bool,
    _to_float,
    build_network,
    highway_codes,
)

NAMED_SOURCES: dict[str, str] = {
    "osm-all": "osm/seoul_best_graph.graphml.gz",
    "osm-drive": "osm/omt_tiles_2021/seoul_osm2021_drive.graphml.gz",
    "moct": "osm/moct_nodelink_2018",
    "moct+ktdb": "osm/ktdb_lev55_2023/seoul_moct2018_plus_ktdb_gangdong.graphml.gz",
    "ktdb": "osm/ktdb_lev55_2023/seoul_link_lev5.5_2023.shp",
}
"""Named networks -> path relative to the data directory."""


_GRAPHML_LOCK = threading.Lock()


def _graphml_network(
    path: Path, name: str, fingerprint: str, speeds_csv: Path | None = None
) -> StreetNetwork:
    """Read an osmnx GraphML (plain or ``.gz``) with :func:`osmnx.load_graphml`."""
    import osmnx as ox

    try:
        # One GraphML at a time per process: osmnx converts attributes with ast.literal_eval, and
        # CPython 3.11's ast raises "SystemError: AST constructor recursion depth mismatch" when
        # two threads parse at once (cpython gh-106905); two jobs of one worker did so on a cold
        # cache and the planning job failed.
        with _GRAPHML_LOCK:
            if path.name.endswith(".gz"):
                with gzip.open(path, "rt", encoding="utf-8") as fh:
                    graph = ox.load_graphml(graphml_str=fh.read())
            else:
                graph = ox.load_graphml(path)
    except Exception as exc:  # osmnx raises many kinds of errors on malformed files
        raise DataFileError(path, f"not a readable osmnx GraphML ({type(exc).__name__}: {exc})") from exc
    crs = str(graph.graph.get("crs", "epsg:4326")).lower()
    if "4326" not in crs:
        raise DataFileError(path, f"graph CRS is {crs!r}; expected epsg:4326 (unprojected osmnx graph)")
    nodes = list(graph.nodes(data=True))
    node_id = np.array([_node_int(n) for n, _ in nodes], dtype=np.int64)
    lon = np.array([float(d["x"]) for _, d in nodes])
    lat = np.array([float(d["y"]) for _, d in nodes])
    n_e = graph.number_of_edges()
    tail_id = np.empty(n_e, dtype=np.int64)
    head_id = np.empty(n_e, dtype=np.int64)
    length = np.empty(n_e)
    hw: list[Any] = []
    oneway = np.zeros(n_e, dtype=bool)
    speed = np.full(n_e, np.nan)
    osmid = np.full(n_e, -1, dtype=np.int64)
    geom_objs: list[Any] = []
    geom_edge: list[int] = []
    for k, (u, v, d) in enumerate(graph.edges(data=True)):
        tail_id[k] = _node_int(u)
        head_id[k] = _node_int(v)
        length[k] = _to_float(d.get("length", np.nan))
        hw.append(_edge_class(d))
        oneway[k] = _to_bool(d.get("oneway", False))
        if "speed_kph" in d:
            speed[k] = _to_float(d["speed_kph"])
        elif "maxspeed" in d:
            speed[k] = _to_float(d["maxspeed"])
        oid = d.get("osmid")
        if oid is not None and not isinstance(oid, list):
            with contextlib.suppress(TypeError, ValueError):
                osmid[k] = int(oid)
        g = d.get("geometry")
        if g is not None and not g.is_empty:
            geom_objs.append(g)
            geom_edge.append(k)
    del graph
    geoms: list[np.ndarray | None] | None = None
    if geom_objs:  # one vectorised coordinate extraction instead of 390k .coords calls
        import shapely

        coords, which = shapely.get_coordinates(np.array(geom_objs, dtype=object), return_index=True)
        cuts = np.flatnonzero(np.diff(which)) + 1
        geoms = [None] * n_e
        for k, arr in zip(geom_edge, np.split(coords, cuts), strict=True):
            geoms[k] = arr
    info: dict[str, Any] = {"source_path": str(path), "format": "graphml"}
    hourly = None
    if speeds_csv is not None:
        hourly, speed2 = ktdb.hourly_speeds_for_ids(speeds_csv, osmid, info)
        speed = np.where(np.isfinite(speed2), speed2, speed)
    return build_network(
        name=name,
        fingerprint=fingerprint,
        node_id=node_id,
        lon=lon,
        lat=lat,
        edges=EdgeTable(
            tail_id=tail_id,
            head_id=head_id,
            length_m=length,
            highway=highway_codes(hw),
            oneway=oneway,
            speed_kph=speed if np.isfinite(speed).any() else None,
            hourly_kph=hourly,
            geoms=geoms,
        ),
        info=info,
    )


def _node_int(n: Any) -> int:
    try:
        return int(n)
    except (TypeError, ValueError):
        # non-integer ids: a stable 63-bit hash
        return int.from_bytes(hashlib.blake2b(str(n).encode(), digest_size=8).digest(), "little") >> 1


def _edge_class(d: dict[str, Any]) -> Any:
    if "highway" in d:
        return d["highway"]
    rank = d.get("road_rank")
    if rank is not None:
        try:
            return ROAD_RANK_CLASS.get(int(float(rank)), "other")
        except (TypeError, ValueError):
            return "other"
    return "other"


# --------------------------------------------------------------------------------------------
# the public loader
# --------------------------------------------------------------------------------------------


def _resolve_source(source: str | Path, data_dir: Path | str | None) -> tuple[str, Path, list[Path]]:
    """(name, path, input files) of a named or path source."""
    s = str(source)
    if s in NAMED_SOURCES:
        root = resolve_data_dir(data_dir)
        path = root / NAMED_SOURCES[s]
        name = s
    else:  # a path: in the data directory, then in the working directory (as station files)
        places = data_file_places(s, data_dir)
        path = next((p for p in places if p.exists()), places[0])
        name = path.name
    if not path.exists():
        if s in NAMED_SOURCES or "/" in s or "." in s:
            raise DataNotFoundError(
                f"street network {s!r}",
                [path] if s in NAMED_SOURCES else [p.absolute() for p in data_file_places(s, data_dir)],
                "Named networks: " + ", ".join(NAMED_SOURCES) + "; or give a GraphML/shapefile/folder path "
                "(a relative one is looked for in the data directory, then in the working directory).",
            )
        raise InputError("source", s, "one of " + ", ".join(NAMED_SOURCES) + " or an existing path")
    if path.is_dir():
        inputs = sorted(p for p in path.iterdir() if p.suffix.lower() in {".csv", ".shp", ".dbf"})
    elif path.suffix.lower() == ".shp":
        inputs = [path, path.with_suffix(".dbf")]
    else:
        inputs = [path]
    if name in {"ktdb", "moct+ktdb"} or "ktdb" in name.lower():
        speeds = (
            resolve_data_dir(data_dir) / KTDB_SPEEDS
            if s in NAMED_SOURCES
            else path.parent / Path(KTDB_SPEEDS).name
        )
        if speeds.exists():
            inputs.append(speeds)
    return name, path, inputs


def _build_uncached(name: str, path: Path, fingerprint: str) -> StreetNetwork:
    low = path.name.lower()
    if path.is_dir():
        if moct.is_moct_csv_dir(path):
            return moct.load_moct_csv(path, name=name, fingerprint=fingerprint)
        shp = moct.find_moct_shapefiles(path)
        if shp is not None:
            return moct.load_moct_shapefiles(*shp, name=name, fingerprint=fingerprint)
        raise DataFileError(path, "folder holds neither MOCT CSV tables nor MOCT_NODE/MOCT_LINK shapefiles")
    if low.endswith(".graphml") or low.endswith(".graphml.gz"):
        speeds = path.parent / Path(KTDB_SPEEDS).name
        use_speeds = "ktdb" in low and speeds.exists()
        return _graphml_network(path, name, fingerprint, speeds if use_speeds else None)
    if low.endswith(".shp"):
        if ktdb.is_ktdb_shapefile(path):
            return ktdb.load_ktdb(path, name=name, fingerprint=fingerprint)
        node_shp = moct.node_shapefile_for(path)
        return moct.load_moct_shapefiles(node_shp, path, name=name, fingerprint=fingerprint)
    raise InputError("source", str(path), "a .graphml, .graphml.gz, .shp or a MOCT folder")


def fetch_osm_graph(
    place: str = "Seoul, South Korea",
    *,
    network_type: str = "all",
    simplify: bool = True,
) -> Any:
    """Download a street graph from OpenStreetMap with osmnx (needs internet; opt-in).

    Used by ``mobility data fetch --what network``. osmnx's HTTP cache goes to
    ``<cache>/osmnx_http`` so a repeated fetch does not query Overpass again. Save the result with
    ``osmnx.save_graphml`` and load it with ``load_network(path)``.

    Parameters
    ----------
    place
        A Nominatim place name.
    network_type
        osmnx network type: ``all``, ``drive``, ``walk``, ``bike``, ...

    Returns
    -------
    networkx.MultiDiGraph
        The osmnx graph (EPSG:4326).
    """
    import osmnx as ox

    allowed = {"all", "all_public", "bike", "drive", "drive_service", "walk"}
    if network_type not in allowed:
        raise InputError("network_type", network_type, "one of " + ", ".join(sorted(allowed)))
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_dir("osmnx_http"))
    return ox.graph_from_place(place, network_type=network_type, simplify=simplify)


_MEMO: dict[str, StreetNetwork] = {}


def load_network(
    source: str | Path = "osm-all",
    data_dir: Path | str | None = None,
    *,
    use_cache: bool = True,
    progress: Callable[[str], None] | None = None,
) -> StreetNetwork:
    """Load a street network, from the array cache when its inputs have not changed.

    Parameters
    ----------
    source
        ``"osm-all"`` (default), ``"osm-drive"``, ``"moct"``, ``"moct+ktdb"``, ``"ktdb"``, or a
        path (GraphML, ``.graphml.gz``, MOCT/KTDB link shapefile, MOCT CSV/shapefile folder).
    data_dir
        The Seoul data folder (default: :func:`mobility.config.resolve_data_dir`).
    use_cache
        Read/write the compact ``.npz`` in ``<cache>/graphs`` (keyed on the input files' path,
        size and mtime and the loader version). A cold osmnx GraphML load of ``osm-all`` takes
        about 30 s; a warm load well under 3 s.
    progress
        Called with a short message before a slow (cold) build.

    Returns
    -------
    StreetNetwork

    Raises
    ------
    DataNotFoundError
        When the named network's file is not in the data folder.
    DataFileError
        When a file cannot be parsed as a network.
    """
    name, path, inputs = _resolve_source(source, data_dir)
    key = _network_key(name, inputs)
    if key in _MEMO:
        return _MEMO[key]
    if not use_cache:
        net = _build_uncached(name, path, key)
        _remember_data_dir(net, data_dir)
        _MEMO[key] = net
        return net
    target = cache_dir("graphs") / f"{key}.npz"
    existed = target.exists()
    cached = load_or_discard(target, StreetNetwork.load_npz)  # a damaged entry is deleted
    if cached is None:
        if progress is not None:
            why = "cached network unreadable; rebuilding it" if existed else "first time only"
            progress(f"building the {name} network from {path.name} ({why})")
        t0 = time.perf_counter()
        built = _build_uncached(name, path, key)
        built.info["build_seconds"] = round(time.perf_counter() - t0, 2)
        cached_file("graphs", key, ".npz", built.save_npz)
        cached = StreetNetwork.load_npz(target)
    net = cached
    _remember_data_dir(net, data_dir)
    _MEMO[key] = net
    return net


SPEED_JOIN_VERSION = 2
"""Version of the KTDB speed join on link ids (2: the median of the KTDB links sharing one MOCT
link); part of the cache key of GraphML networks that join KTDB speeds."""


def _network_key(name: str, inputs: list[Path]) -> str:
    params: dict[str, Any] = {"loader": "street_network", "version": FORMAT_VERSION, "name": name}
    if inputs and inputs[0].name.lower().endswith((".graphml", ".graphml.gz")) and len(inputs) > 1:
        params["speed_join"] = SPEED_JOIN_VERSION  # the KTDB speeds CSV rides along (moct+ktdb)
    return cache_key(inputs, **params)


def network_key(source: str | Path = "osm-all", data_dir: Path | str | None = None) -> str:
    """The fingerprint :func:`load_network` gives ``source`` (its cache key), without loading it.

    For the keys of results derived from a network: it changes when the network's input files
    (their content included) or the loader's format version do.

    Raises
    ------
    DataNotFoundError, InputError
        As :func:`load_network` does for an unknown or absent source.
    """
    name, _path, inputs = _resolve_source(source, data_dir)
    return _network_key(name, inputs)


def _remember_data_dir(net: StreetNetwork, data_dir: Path | str | None) -> None:
    """Note the data folder (for KTDB speeds needed later by night profiles); not cached."""
    try:
        net.info["data_dir"] = str(resolve_data_dir(data_dir))
    except DataNotFoundError:
        net.info.pop("data_dir", None)


def clear_memory_cache() -> None:
    """Forget networks kept in this process (the disk cache stays)."""
    _MEMO.clear()
