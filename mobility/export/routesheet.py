"""CSV route sheets for the operations team: one per truck and one combined.

Files are UTF-8 **with a byte-order mark** (``utf-8-sig``): Excel on Windows opens a BOM-less
UTF-8 CSV as CP949/ANSI and shows station names as mojibake; with the BOM, Hangul appears
correctly on double-click.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mobility.export.layers import MapLayers
from mobility.io import atomic_path

COLUMNS = {
    "truck_id": "truck",
    "seq": "stop",
    "arrival": "arrival",
    "station_id": "station_id",
    "name": "station_name",
    "action": "action",
    "quantity": "bikes",
    "load_after": "load_after",
    "lat": "lat",
    "lon": "lon",
}
"""Sheet columns (source -> header). ``bikes`` is the count moved, ``action`` says which way."""


def route_table(layers: MapLayers) -> pd.DataFrame:
    """All stops as one table in truck, stop order, with pick-up/drop-off spelled out."""
    s = layers.stops
    if s.empty:
        return pd.DataFrame(columns=list(COLUMNS.values()))
    df = pd.DataFrame(s.drop(columns=s.geometry.name))
    df["lat"] = s.geometry.y.round(6)
    df["lon"] = s.geometry.x.round(6)
    df["action"] = [
        "pick up 수거" if q > 0 else ("drop off 배치" if q < 0 else "visit") for q in df["quantity"]
    ]
    df["quantity"] = df["quantity"].abs()
    df = df.sort_values(["truck_id", "seq"], kind="stable")
    return df[list(COLUMNS)].rename(columns=COLUMNS).reset_index(drop=True)


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def write_route_sheets(layers: MapLayers, out_dir: Path | str) -> list[Path]:
    """Write ``routes_all.csv`` and ``route_<truck>.csv`` per truck; returns the paths written."""
    out = Path(out_dir)
    table = route_table(layers)
    written = [_write_csv(table, out / "routes_all.csv")]
    for truck, part in table.groupby("truck", sort=True):
        written.append(_write_csv(part, out / f"route_{_safe(str(truck))}.csv"))
    return written
