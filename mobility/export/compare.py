"""Before/after comparison: two plans, or a plan against its baseline (e.g. the current network).

One table (district KPIs before, after and change, plus a Seoul row) and one map (the "after"
layers with the districts coloured by the change in bikes per 10,000 residents).

Both sides are counted on one population, the one the table prints (:func:`common_population`):
the plan's own (its ``population_source``), so that every bikes-per-10k figure, before and after,
is its bikes over that population and the change is the change in bikes alone.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from mobility.export.layers import MapLayers, citywide, on_population, with_baseline
from mobility.io import atomic_write_csv

KPIS = ("stations", "docks", "bikes", "bikes_per_10k", "coverage_share")
"""District figures compared."""

COUNTS = ("stations", "docks", "bikes")
"""The KPIs that are counts: whole numbers in the table (``99``, not ``99.0``), blank when unknown."""

SEOUL = "서울시 전체 (Seoul)"


def _is_plan(layers: MapLayers) -> bool:
    return layers.meta.get("source") == "plan"


def common_population(before: MapLayers, after: MapLayers) -> tuple[MapLayers, MapLayers]:
    """``before`` and ``after`` with one population per district: the plan's.

    A plan's figures are counted on its own population (``population_source``, which its
    document records with each district's residents), so that one is the comparison's: ``after``'s
    when it is a plan or neither side is, ``before``'s when only it is a plan (``export current
    --compare plan.json``). The other side's districts take it and their bikes per 10,000 are
    computed again on it (:func:`~mobility.export.layers.on_population`): the current network
    compared with a plan on the grid reads 49.689 per 10,000, as that plan's ``city_before``.
    """
    ref, other = (before, after) if _is_plan(before) and not _is_plan(after) else (after, before)
    if "population" not in ref.districts.columns or "population" not in other.districts.columns:
        return before, after
    ref_pop = ref.districts.set_index("gu_kr")["population"].astype(float)
    pop = {str(g): float(v) for g, v in ref_pop.items()}
    rebased = on_population(other, pop, ref.meta.get("population_source"))
    return (rebased, after) if other is before else (before, rebased)


def _city(layers: MapLayers) -> dict[str, float]:
    """Citywide figures of the districts; the coverage share the city's own where the layers give it
    (a plan's ``covered_share``, the current network's walking coverage), not the districts' average."""
    city = citywide(layers.districts)
    given = layers.meta.get("citywide") or {}
    if given.get("coverage_share") is not None:
        city["coverage_share"] = float(given["coverage_share"])
    return city


def compare_table(before: MapLayers, after: MapLayers) -> pd.DataFrame:
    """District KPIs before/after/change, one row per gu plus a last citywide row.

    One ``population`` column: both sides are counted on it (:func:`common_population`), so each
    ``bikes_per_10k_*`` is ``bikes_* / population * 10,000`` of its own row.
    """
    before, after = common_population(before, after)
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
    cb, ca = _city(before), _city(after)
    total: dict[str, object] = {"gu_kr": SEOUL, "gu_en": "Seoul", "population": ca["population"]}
    for k in KPIS:
        total[f"{k}_before"], total[f"{k}_after"] = float(cb[k]), float(ca[k])
        total[f"{k}_change"] = round(float(ca[k]) - float(cb[k]), 4)
    rows.append(total)
    table = pd.DataFrame(rows)
    counts = [f"{k}_{part}" for k in COUNTS for part in ("before", "after", "change")]
    return table.astype(dict.fromkeys(counts, "Int64"))


def stations_file(layers: MapLayers) -> str | None:
    """The station list a side stands on: a plan's baseline (its provenance's ``stations``
    dataset), the current network's file; ``None`` where the layers do not say."""
    if _is_plan(layers):
        datasets = (layers.meta.get("provenance") or {}).get("datasets") or {}
        name = (datasets.get("stations") or {}).get("file")
    else:
        name = layers.meta.get("stations_file")
    return Path(str(name)).name if name else None


def network_note(before: MapLayers, after: MapLayers) -> str | None:
    """What a comparison says when its two sides stand on different station lists (a plan on the
    2019 network against today's 2025 one): the change is then between two networks, not what the
    plan adds (a plan's own before/after is its own map). ``None`` when both stand on one list or
    a side does not say."""
    b, a = stations_file(before), stations_file(after)
    if b is None or a is None or a == b:
        return None
    return f"기준 네트워크 다름 different networks: before {b}, after built on {a} (not what the plan adds)"


def comparison_layers(before: MapLayers, after: MapLayers) -> MapLayers:
    """``after`` with ``*_before``/``*_change`` district columns taken from ``before``, both on
    one population (:func:`common_population`); ``meta["compare_note"]`` when the two stand on
    different station lists (:func:`network_note`), which the maps print under the title."""
    note = network_note(before, after)
    before, after = common_population(before, after)
    cols = [c for c in after.districts.columns if not c.endswith(("_before", "_change"))]
    districts = with_baseline(after.districts[cols], before.districts)
    title = f"비교 before/after: {before.title} → {after.title}"
    meta = {**after.meta, "citywide_before": _city(before), **({"compare_note": note} if note else {})}
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
