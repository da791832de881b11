"""Offline orientation for the maps: the Han river and other large water bodies.

The polygons come from the ``water`` layer of the OpenMapTiles-schema vector tiles in the data
directory (``osm/omt_tiles_2021/tiles/14/<x>/<y>.pbf``, OSM 2021, ODbL). Decoding the ~460
tiles takes ~15 s, so the dissolved, simplified result is cached as GeoJSON in the cache
directory under a key made of every tile's fingerprint (path, size, mtime) and the
simplification parameters.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

from mobility.cache import cache_key, cached_file
from mobility.sources.base import CRS_METRIC, CRS_WGS84

TILES_RELPATH = Path("osm") / "omt_tiles_2021" / "tiles" / "14"
"""Where the z14 vector tiles live, relative to the data directory."""

MIN_WATER_AREA_M2 = 150_000.0
"""Water polygons smaller than this (ponds, pools) are left out: they add bytes, not orientation."""

SIMPLIFY_M = 15.0
"""Douglas-Peucker tolerance in metres for the cached water polygons."""


def tile_files(data_dir: Path) -> list[Path]:
    """Every z14 ``.pbf`` tile under the data directory, sorted (empty when the tiles are absent)."""
    root = Path(data_dir) / TILES_RELPATH
    if not root.is_dir():
        return []
    return sorted(root.glob("*/*.pbf"))


def _tile_to_lonlat(xy: np.ndarray, tx: int, ty: int, z: int, extent: int) -> np.ndarray:
    """Tile pixel coordinates (origin bottom-left, y up) to lon/lat (Web Mercator inverse)."""
    n = 2.0**z
    lon = (tx + xy[:, 0] / extent) / n * 360.0 - 180.0
    y_down = ty + (extent - xy[:, 1]) / extent
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1.0 - 2.0 * y_down / n))))
    return np.column_stack([lon, lat])


def decode_water(files: list[Path], *, zoom: int = 14) -> list[Polygon]:
    """Decode the ``water`` layer of each tile into lon/lat polygons (not yet dissolved)."""
    import mapbox_vector_tile  # type: ignore[import-untyped]

    polys: list[Polygon] = []
    for f in files:
        tx, ty = int(f.parent.name), int(f.stem)
        layers = mapbox_vector_tile.decode(f.read_bytes())
        water = layers.get("water")
        if not water:
            continue
        extent = int(water.get("extent", 4096))
        for feat in water["features"]:
            geom = shape(feat["geometry"])
            geom = shapely.transform(
                geom, lambda a, tx=tx, ty=ty, e=extent: _tile_to_lonlat(a, tx, ty, zoom, e)
            )
            geom = shapely.make_valid(geom)
            polys.extend(p for p in getattr(geom, "geoms", [geom]) if isinstance(p, Polygon))
    return polys


def _build_water(files: list[Path], target: Path) -> None:
    polys = decode_water(files)
    if polys:
        merged = gpd.GeoSeries(polys, crs=CRS_WGS84).to_crs(CRS_METRIC)
        # Tiles carry a small buffer and cut polygons at their edges: a tiny buffer heals the seams.
        union = shapely.union_all(merged.buffer(2.0).values).buffer(-2.0)
        parts = [p for p in getattr(union, "geoms", [union]) if p.area >= MIN_WATER_AREA_M2]
        geom = MultiPolygon(parts).simplify(SIMPLIFY_M) if parts else MultiPolygon()
        gdf = gpd.GeoDataFrame({"kind": ["water"]}, geometry=[geom], crs=CRS_METRIC).to_crs(CRS_WGS84)
    else:
        gdf = gpd.GeoDataFrame({"kind": []}, geometry=[], crs=CRS_WGS84)
    gdf.to_file(target, driver="GeoJSON")


def load_water(data_dir: Path) -> gpd.GeoDataFrame:
    """Large water bodies (Han river, reservoirs) as one dissolved feature in EPSG:4326.

    Returns an empty GeoDataFrame when the vector tiles are not in the data directory, so maps
    still draw (with district boundaries only).
    """
    files = tile_files(data_dir)
    if not files:
        return gpd.GeoDataFrame({"kind": []}, geometry=[], crs=CRS_WGS84)
    key = cache_key(files, layer="water", min_area=MIN_WATER_AREA_M2, simplify=SIMPLIFY_M, v=1)
    path = cached_file("basemap", key, ".geojson", lambda tmp: _build_water(files, tmp))
    gdf = gpd.read_file(path)
    return gdf.set_crs(CRS_WGS84, allow_override=True)
