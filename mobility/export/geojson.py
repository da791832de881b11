"""GeoJSON export: one RFC 7946 file per layer (WGS84 lon/lat, no ``crs`` member, 6 decimals)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from mobility.export.layers import MapLayers
from mobility.io import atomic_path, staged_files
from mobility.sources.base import CRS_WGS84

COORDINATE_PRECISION = 6
"""Decimals kept in coordinates: 1e-6 degree is ~0.1 m, well below station accuracy."""


def prepare(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A layer ready for exchange formats: WGS84, plain column types (bools/ints/floats/strings)."""
    out = gdf.to_crs(CRS_WGS84) if gdf.crs is not None else gdf.set_crs(CRS_WGS84)
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: None if v is None else (v if isinstance(v, str | int | float | bool) else str(v))
            )
    return out


def write_layer_geojson(gdf: gpd.GeoDataFrame, path: Path, *, layer: str) -> Path:
    """Write one layer as RFC 7946 GeoJSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.unlink()
        pyogrio.write_dataframe(
            prepare(gdf),
            tmp,
            driver="GeoJSON",
            layer=layer,
            layer_options={
                "RFC7946": "YES",
                "COORDINATE_PRECISION": COORDINATE_PRECISION,
                "WRITE_NAME": "YES",
            },
        )
    return Path(path)


def write_geojson(layers: MapLayers, out_dir: Path | str, *, include_empty: bool = False) -> list[Path]:
    """Write ``<out_dir>/<layer>.geojson`` for each layer (non-empty ones unless ``include_empty``).

    The files are written as one set (:func:`mobility.io.staged_files`): a layer file of an earlier
    export that this one does not write (``new_stations.geojson`` of a plan, in the folder of the
    current network's layers) is removed, and no other file of ``out_dir`` is touched.
    """
    out = Path(out_dir)
    owned = [f"{name}.geojson" for name in layers.layers()]
    with staged_files(out, owns=owned) as stage:
        written = [
            write_layer_geojson(gdf, stage / f"{name}.geojson", layer=name)
            for name, gdf in layers.layers().items()
            if len(gdf) or include_empty
        ]
    return [out / p.name for p in written]
