"""Before/after comparison: two plans, or a plan against its baseline (e.g. the current network).

One table (district KPIs before, after and change, plus a Seoul row) and one map (the "after"
layers with the districts coloured by the change in bikes per 10,000 residents).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from mobility.export.layers import MapLayers, citywide, with_baseline
from mobility.io import atomic_write_csv

KPIS = ("stations", "docks", "bikes", "bikes_per_10k", "coverage_share")
"""District figures compared."""

COUNTS = ("stations", "docks", "bikes")
"""The KPIs that are counts: whole numbers in the table (``99``, not ``99.0``), blank when unknown."""

SEOUL = "서울시 전체 (Seoul)"


def compare_table(before: MapLayers, after: MapLayers) -> pd.DataFrame:
    """District KPIs before/after/change, one row per gu plus a last citywide row."""
    b = before.districts.set_index("gu_kr")
    a = after.districts.set_index("gu_kr")
    rows = []
    for gu in a.index:
        row: dict[str, object] = {
            "gu_kr": gu,
            "gu_en": a.at[gu, "gu_en"],
            "population": a.at[gu, "population"],
        }
        for k in KPIS:
            vb = float(b.at[gu, k]) if gu in b.index else float("nan")
            va = float(a.at[gu, k])
            row[f"{k}_before"], row[f"{k}_after"], row[f"{k}_change"] = vb, va, round(va - vb, 4)
        rows.append(row)
    cb, ca = citywide(before.districts), citywide(after.districts)
    total: dict[str, object] = {"gu_kr": SEOUL, "gu_en": "Seoul", "population": ca["population"]}
    for k in KPIS:
        total[f"{k}_before"], total[f"{k}_after"] = float(cb[k]), float(ca[k])
        total[f"{k}_change"] = round(float(ca[k]) - float(cb[k]), 4)
    rows.append(total)
    table = pd.DataFrame(rows)
    counts = [f"{k}_{part}" for k in COUNTS for part in ("before", "after", "change")]
    return table.astype(dict.fromkeys(counts, "Int64"))


def comparison_layers(before: MapLayers, after: MapLayers) -> MapLayers:
    """``after`` with ``*_before``/``*_change`` district columns taken from ``before``."""
    cols = [c for c in after.districts.columns if not c.endswith(("_before", "_change"))]
    districts = with_baseline(after.districts[cols], before.districts)
    title = f"비교 before/after: {before.title} → {after.title}"
    meta = {**after.meta, "citywide_before": citywide(before.districts)}
    return replace(after, districts=districts, title=title, meta=meta)


def write_compare_table(table: pd.DataFrame, path: Path | str) -> Path:
    """The comparison table as CSV (UTF-8 with BOM, so Excel shows the Hangul district names)."""
    return atomic_write_csv(path, table)


def write_comparison(before: MapLayers, after: MapLayers, out: Path | str, fmt: str) -> list[Path]:
    """Write the comparison map in ``fmt`` (html, png, svg; other formats write the layers with
    the before/change columns) and the table beside it as ``<stem>_table.csv``."""
    from mobility.export import export_layers

    layers = comparison_layers(before, after)
    out = Path(out)
    written = export_layers(layers, fmt, out, choropleth="bikes_per_10k_change")
    table_path = (out.parent / f"{out.stem}_table.csv") if out.suffix else (out / "comparison_table.csv")
    written.append(write_compare_table(compare_table(before, after), table_path))
    return written
