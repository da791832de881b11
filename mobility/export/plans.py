"""The expansion plan's tables and features: one writer for every place that shows a plan's stations.

``plan.geojson`` (``mobility plan``) and the API's ``?format=geojson`` / ``?format=csv`` of a
scenario job come from the two functions here, which read a :class:`~mobility.placement.plan.Plan`
and nothing else.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from mobility.io import csv_bytes
from mobility.placement.plan import Plan

__all__ = ["PLAN_CSV_COLUMNS", "plan_csv", "plan_feature_collection"]

PLAN_CSV_COLUMNS = (
    "kind", "id", "name", "gu", "dong", "lat", "lon", "docks", "bikes", "rank",
    "population_newly_covered", "predicted_trips", "reason",
)  # fmt: skip
"""Columns of the station table, in order."""


def _station_rows(plan: Plan) -> list[dict[str, Any]]:
    """New stations (rank order) then existing ones, as JSON-ready rows with their ``kind``."""
    rows = [{"kind": "new", **s.model_dump(mode="json")} for s in plan.new_stations]
    rows += [
        {"kind": "existing", "id": s.station_id, **s.model_dump(mode="json")} for s in plan.existing_stations
    ]
    return rows


def plan_feature_collection(plan: Plan) -> dict[str, Any]:
    """Stations as a GeoJSON FeatureCollection (``kind`` = ``"new"`` or ``"existing"``)."""
    feats: list[dict[str, Any]] = []
    for kind, stations in (("new", plan.new_stations), ("existing", plan.existing_stations)):
        for st in stations:
            props = {k: v for k, v in st.model_dump(mode="json").items() if k not in ("lat", "lon")}
            props["kind"] = kind
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [st.lon, st.lat]},
                    "properties": props,
                }
            )
    return {"type": "FeatureCollection", "name": plan.scenario, "features": feats}


def plan_csv(plan: Plan) -> bytes:
    """One row per station (new ones first, in rank order; :data:`PLAN_CSV_COLUMNS`), UTF-8 with a
    byte-order mark so that spreadsheet programs read the Hangul names as UTF-8. Whole numbers are
    written as integers (``10065``), fractions as they are (``12.5``)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(PLAN_CSV_COLUMNS), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in _station_rows(plan):
        w.writerow({k: _cell(r.get(k)) for k in PLAN_CSV_COLUMNS})
    return csv_bytes(buf.getvalue())


def _cell(value: Any) -> Any:
    """A CSV cell: empty for ``None``, a whole number without ``.0`` (``10065``, not ``10065.0``);
    fractions and text as they are."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
