"""The offline basemap of the web app: the z14 OpenMapTiles vector tiles, and lower zooms made from them.

The data directory holds OpenMapTiles-schema vector tiles of Seoul at zoom 14 only
(``osm/omt_tiles_2021/tiles/14/<x>/<y>.pbf``, OSM 2021, ODbL; see ``GEO_SOURCES.md``). A map of
the whole city needs zoom 10-11 on a laptop and zoom 9 on a phone (Seoul is 0.43 deg wide; a
390-px screen shows 0.27 deg at zoom 10), so the overview zooms 9-13 are generalised from the z14
tiles once, the way tile generators build their lower zooms:

1. each z14 tile is decoded (``mapbox-vector-tile``), and of every layer only the features a
   light basemap shows at the target zoom are kept (:data:`MIN_ZOOM`: water and motorways from
   z9, trunks from z10, primaries from z11, parks from z11, secondaries and woods from z12,
   tertiaries and rivers from z13); each feature is clipped to its own tile square first, so the
   tiles' buffers do not double it;
2. the geometry goes to global pixel coordinates of the target zoom (a power-of-two scale), is
   grouped by the parent tile, clipped to that tile plus a small buffer, polygons of one layer
   and class are merged (healing the seams between the children), and everything is simplified
   by half a screen pixel (Douglas-Peucker) and small polygons are dropped;
3. the parent tile is encoded again (extent 4096, y down).

Decoding the 460 tiles (only the kept layers and classes get their geometry decoded) and
generalising the five zooms run on both cores, about 10 s in all on a 2-core machine (22 s when
every feature was decoded and the zooms were made one after the other); the result (a few MB)
is cached as one SQLite file in the cache directory under a key of every tile's fingerprint and
:data:`VERSION`. Zoom 14 is served as the original bytes; MapLibre over-zooms it beyond.
"""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from mobility.cache import cache_key, cached_file
from mobility.export.basemap import TILES_RELPATH, tile_files

BASE_ZOOM = 14
OVERVIEW_ZOOMS = (9, 10, 11, 12, 13)
EXTENT = 4096
BUFFER = 64
"""Tile buffer (in extent units) kept around each generated tile, so that strokes join at seams."""
VERSION = 2
"""Bump when the generalisation changes (it is part of the cache key); 2: zoom 9."""

MIN_ZOOM: dict[str, dict[str | None, int]] = {
    "water": {None: 9},
    "transportation": {"motorway": 9, "trunk": 10, "primary": 11, "secondary": 12, "tertiary": 13},
    "park": {None: 11},
    "landcover": {"wood": 12, "forest": 12},
    "waterway": {"river": 13},
}
"""Smallest generated zoom of each kept (layer, class); ``None`` stands for every class."""

SEOUL_TILE_RANGE = {"x": (13959, 13981), "y": (6335, 6354)}
"""The z14 tiles in the data directory (Seoul's bounding box plus a one-tile margin)."""


def min_zoom(layer: str, props: Mapping[str, Any]) -> int | None:
    """The smallest overview zoom at which a feature is kept (``None``: only at z14)."""
    rules = MIN_ZOOM.get(layer)
    if rules is None:
        return None
    if None in rules:
        return rules[None]
    return rules.get(str(props.get("class")))


def _decode_kept(path: str) -> list[tuple[str, dict[str, Any], int, BaseGeometry]]:
    """Features of one z14 tile kept for some overview zoom, in global z14 pixel coordinates (y down).

    The tile's protobuf is parsed whole (``upb``, fast), but only the features a kept layer and
    class need get their properties and geometry decoded, with the decoder's own value and
    geometry readers: the buildings, POIs, labels and minor roads, about 96 % of a Seoul tile's
    features, are skipped (``mapbox_vector_tile.decode`` would build every one of them first).
    """
    from mapbox_vector_tile.decoder import TileData  # type: ignore[import-untyped]

    p = Path(path)
    tx, ty = int(p.parent.name), int(p.stem)
    data = TileData(p.read_bytes())
    out: list[tuple[str, dict[str, Any], int, BaseGeometry]] = []
    for layer in data.tile.layers:
        if layer.name not in MIN_ZOOM:
            continue
        extent = int(layer.extent or EXTENT)
        scale = EXTENT / extent
        keys, values = layer.keys, layer.values
        for feat in layer.features:
            tags = feat.tags
            props = {
                keys[k]: TileData.parse_value(values[v]) for k, v in zip(tags[::2], tags[1::2], strict=True)
            }
            mz = min_zoom(layer.name, props)
            if mz is None:
                continue
            geojson = data.parse_geometry(
                geom=feat.geometry, ftype=feat.type, extent=extent, y_coord_down=True, transformer=None
            )
            geom = shapely.clip_by_rect(shape(geojson), 0, 0, extent, extent)
            if geom.is_empty:
                continue
            geom = shapely.affinity.affine_transform(geom, [scale, 0, 0, scale, tx * EXTENT, ty * EXTENT])
            keep = {k: props[k] for k in ("class", "subclass", "brunnel") if k in props}
            out.append((layer.name, keep, mz, geom))
    return out


def generalise(
    features: Iterable[tuple[str, dict[str, Any], int, BaseGeometry]], zoom: int
) -> dict[tuple[int, int], bytes]:
    """Encoded tiles of ``zoom`` from z14 features in global z14 pixel coordinates (pure).

    Parameters
    ----------
    features
        (layer, properties, smallest zoom, geometry) of every kept z14 feature.
    zoom
        The overview zoom (< 14).

    Returns
    -------
    dict
        ``(x, y) -> tile bytes`` (uncompressed Mapbox Vector Tile, extent 4096).
    """
    import mapbox_vector_tile  # type: ignore[import-untyped]

    factor = 2.0 ** (zoom - BASE_ZOOM)
    tol = EXTENT / 512 / 2  # half a screen pixel of a 512-pixel tile
    min_area = (EXTENT / 512) ** 2 * 4
    groups: dict[tuple[int, int], dict[tuple[str, tuple[tuple[str, Any], ...]], list[BaseGeometry]]] = (
        defaultdict(lambda: defaultdict(list))
    )
    for layer, props, mz, geom in features:
        if mz > zoom:
            continue
        g = shapely.affinity.scale(geom, factor, factor, origin=(0, 0))
        x0, y0, x1, y1 = g.bounds
        for tx in range(math.floor((x0 - BUFFER) / EXTENT), math.floor((x1 + BUFFER) / EXTENT) + 1):
            for ty in range(math.floor((y0 - BUFFER) / EXTENT), math.floor((y1 + BUFFER) / EXTENT) + 1):
                groups[(tx, ty)][(layer, tuple(sorted(props.items())))].append(g)
    tiles: dict[tuple[int, int], bytes] = {}
    for (tx, ty), by_kind in groups.items():
        layers_out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (layer, kind_props), geoms in by_kind.items():
            clipped = [
                shapely.clip_by_rect(
                    g, tx * EXTENT - BUFFER, ty * EXTENT - BUFFER, (tx + 1) * EXTENT + BUFFER,
                    (ty + 1) * EXTENT + BUFFER,
                )
                for g in geoms
            ]  # fmt: skip
            polys = [g for g in clipped if not g.is_empty and g.geom_type in ("Polygon", "MultiPolygon")]
            lines = [g for g in clipped if not g.is_empty and "LineString" in g.geom_type]
            merged: list[BaseGeometry] = []
            if polys:
                union = shapely.union_all(shapely.make_valid(shapely.buffer(polys, 0)))
                parts = [p for p in getattr(union, "geoms", [union]) if p.geom_type == "Polygon"]
                merged.extend(p for p in parts if p.area >= min_area)
            if lines:
                merged.append(shapely.line_merge(shapely.union_all(lines)))
            for g in merged:
                g = shapely.affinity.translate(g, -tx * EXTENT, -ty * EXTENT).simplify(tol)
                if g.is_empty:
                    continue
                layers_out[layer].append({"geometry": mapping(g), "properties": dict(kind_props)})
        if layers_out:
            tiles[(tx, ty)] = mapbox_vector_tile.encode(
                [{"name": n, "features": f} for n, f in layers_out.items()],
                default_options={"y_coord_down": True, "extents": EXTENT, "on_invalid_geometry": None},
            )
    return tiles


def _build(files: list[Path], target: Path, workers: int) -> None:
    # spawn, not fork: the caller may be a threaded server process
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        decoded = list(pool.map(_decode_kept, [str(f) for f in files], chunksize=8))
        features = [f for tile in decoded for f in tile]
        # one zoom per task, the costliest first (z13 takes about as long as z10-z12 together);
        # each gets only the features it keeps
        zooms = sorted(OVERVIEW_ZOOMS, reverse=True)
        kept = [[f for f in features if f[2] <= z] for z in zooms]
        generated = dict(zip(zooms, pool.map(generalise, kept, zooms), strict=True))
    db = sqlite3.connect(target)
    try:
        db.execute("CREATE TABLE tiles (z INTEGER, x INTEGER, y INTEGER, data BLOB, PRIMARY KEY (z, x, y))")
        for z in OVERVIEW_ZOOMS:
            for (x, y), data in generated[z].items():
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, y, data))
        db.commit()
    finally:
        db.close()


def overview_tiles(data_dir: Path, *, workers: int = 2) -> dict[tuple[int, int, int], bytes]:
    """The generated zoom 9-13 tiles by ``(z, x, y)``, building (and caching) them on first use.

    Empty when the z14 tiles are not in the data directory.
    """
    files = tile_files(data_dir)
    if not files:
        return {}
    key = cache_key(files, layer="overview", zooms=OVERVIEW_ZOOMS, v=VERSION)
    path = cached_file("basemap", key, ".tiles.sqlite", lambda tmp: _build(files, tmp, workers))
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {(int(z), int(x), int(y)): bytes(d) for z, x, y, d in con.execute("SELECT * FROM tiles")}
    finally:
        con.close()


def base_tile(data_dir: Path, x: int, y: int) -> bytes | None:
    """The original z14 tile, or ``None`` when the data directory has none at (x, y)."""
    path = Path(data_dir) / TILES_RELPATH / str(int(x)) / f"{int(y)}.pbf"
    return path.read_bytes() if path.is_file() else None


__all__ = ["BASE_ZOOM", "MIN_ZOOM", "OVERVIEW_ZOOMS", "base_tile", "generalise", "min_zoom", "overview_tiles"]
