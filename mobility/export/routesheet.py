"""CSV route sheets for the operations team: one per truck and one combined.

The rows and columns are :func:`mobility.export.routes.route_sheet`'s (the same table as
``routes.csv`` and the API's ``?format=csv``), split per truck. Files are UTF-8 with a byte-order
mark, so that Excel shows the Hangul station names correctly (see
:func:`mobility.io.csv_bytes`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mobility.export.layers import MapLayers
from mobility.export.routes import ROUTE_SHEET_COLUMNS, route_sheet
from mobility.io import atomic_write_bytes, csv_bytes, staged_files

__all__ = ["write_route_sheets"]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def write_route_sheets(layers: MapLayers, out_dir: Path | str) -> list[Path]:
    """Write ``routes_all.csv`` and ``route_<truck>.csv`` per truck; returns the paths written.

    Layers without routes (a plan, the current network) give an empty ``routes_all.csv``. The
    files are written as one set (:func:`~mobility.io.staged_files`): a truck's sheet of an
    earlier night in the folder that tonight's routes do not write (a truck not on the road
    tonight) is removed, so that no driver is handed last night's sheet.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if layers.night is not None:
        table = route_sheet(layers.night)
    else:
        table = pd.DataFrame(columns=list(ROUTE_SHEET_COLUMNS))
    owned = {"routes_all.csv", *(p.name for p in out.glob("route_*.csv"))}
    names = ["routes_all.csv"]
    with staged_files(out, owns=owned) as stage:
        atomic_write_bytes(stage / "routes_all.csv", csv_bytes(table))
        for truck, part in table.groupby("truck_id", sort=True):
            names.append(f"route_{_safe(str(truck))}.csv")
            atomic_write_bytes(stage / names[-1], csv_bytes(part))
    return [out / name for name in names]
