"""Loaders for every real Seoul dataset: file formats, encodings and quirks end here.

Each module handles one dataset family and returns validated tables with documented columns and
units, together with a :class:`~mobility.quality.QualityReport` that counts every unusable row
with its reason. Geometry is EPSG:4326 for exchange and EPSG:5179 for computation.
"""

from mobility.sources.base import CRS_METRIC, CRS_WGS84, DatasetSpec, Loaded

__all__ = ["CRS_METRIC", "CRS_WGS84", "DatasetSpec", "Loaded"]
