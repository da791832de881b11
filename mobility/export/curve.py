"""Writers for a coverage or budget curve (:class:`~mobility.placement.sweep.Sweep`).

- :func:`write_curve_csv`: one row per point (the ``--json`` fields, sites left out), as
  :func:`curve_csv` gives it to the API too;
- :func:`write_curve_chart`: PNG or SVG (by suffix) with matplotlib (:func:`curve_figure`):
  covered share against the station count or budget (300 m, and 500 m when computed), marginal
  residents per added station on a second axis, infeasible fleet points hollow, the legend under
  the chart;
- :func:`write_curve_html`: the same chart, interactive (plotly, offline).

Every writer is atomic (nothing half-written).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mobility.export.page import plotly_page
from mobility.io import atomic_path, atomic_write_csv, atomic_write_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from mobility.placement.sweep import Sweep

COLUMNS = (
    "new_stations",
    "budget",
    "sited",
    "covered_population",
    "covered_share",
    "covered_population_500",
    "covered_share_500",
    "predicted_trips",
    "marginal_residents_per_station",
    "status",
    "objective",
    "bound",
    "gap",
    "seconds",
    "fleet_feasible",
    "fleet_reason",
)


def curve_rows(sweep: Sweep) -> list[dict[str, Any]]:
    """The points as flat rows (:data:`COLUMNS`)."""
    return [{c: getattr(p, c) for c in COLUMNS} for p in sweep.points]


def curve_csv(points: Iterable[Mapping[str, Any]]) -> str:
    """The points (:class:`~mobility.placement.sweep.SweepPoint` fields, or ``sweep.json``'s
    ``points``) as CSV: a header of :data:`COLUMNS`, one row per point, ``sites`` left out."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for p in points:
        w.writerow({k: "" if p.get(k) is None else p[k] for k in COLUMNS})
    return buf.getvalue()


def write_curve_csv(sweep: Sweep, path: Path | str) -> Path:
    """The points with a header (:func:`curve_csv`), UTF-8 with a BOM (:func:`~mobility.io.csv_bytes`)."""
    return atomic_write_csv(path, curve_csv(curve_rows(sweep)))


def _x(sweep: Sweep) -> tuple[list[float], str]:
    if sweep.axis == "budget":
        return [float(p.budget or 0.0) for p in sweep.points], "budget"
    return [float(p.sited) for p in sweep.points], "new stations"


def curve_figure(sweep: Sweep) -> Figure:
    """The curve as a matplotlib Figure (the caller saves or closes it): covered share against
    the station count or budget, residents newly covered per added station as bars on a second
    axis, and the legend under the chart, where it covers neither a curve nor a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mobility.export.static_map import korean_font

    korean_font()
    x, xlabel = _x(sweep)
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    r = f"{sweep.radius_m:g} m"
    ax.plot(x, [100 * p.covered_share for p in sweep.points], "o-", color="#1f77b4", label=f"within {r}")
    if any(p.covered_share_500 is not None for p in sweep.points):
        ax.plot(
            x,
            [100 * (p.covered_share_500 or 0.0) for p in sweep.points],
            "s-",
            color="#2ca02c",
            label="within 500 m",
        )
    bad = [k for k, p in enumerate(sweep.points) if not p.fleet_feasible]
    if bad:
        ax.plot(
            [x[k] for k in bad],
            [100 * sweep.points[k].covered_share for k in bad],
            "o",
            mfc="white",
            color="#d62728",
            label="fleet rules cannot hold",
        )
    ax.axhline(100 * sweep.covered_share_before, color="grey", ls=":", label=f"baseline ({r})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("residents within a walk (%)")
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    marg = [p.marginal_residents_per_station for p in sweep.points]
    ax2.bar(
        x,
        [m or 0.0 for m in marg],
        width=0.35 * (x[1] - x[0]) if len(x) > 1 else 1.0,
        color="#ff7f0e",
        alpha=0.35,
        label="residents per added station",
    )
    ax2.set_ylabel("residents newly covered per added station")
    ax.set_zorder(ax2.get_zorder() + 1)  # the curves above the bars
    ax.patch.set_visible(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    # Under the x axis's label (inside the chart it covered the last bars): tight_layout makes room.
    ax.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=min(3, len(h1 + h2)),
              fontsize=8, frameon=False)  # fmt: skip
    ax.set_title(f"{sweep.scenario}: coverage curve")
    fig.tight_layout()
    return fig


def write_curve_chart(sweep: Sweep, path: Path | str) -> Path:
    """The curve (:func:`curve_figure`) as PNG or SVG (chosen by ``path``'s suffix)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg"):
        from mobility.errors import InputError

        raise InputError("path", str(path), "a .png or .svg file")
    fig = curve_figure(sweep)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt)
    finally:
        plt.close(fig)
    return path


def write_curve_html(sweep: Sweep, path: Path | str) -> Path:
    """The curve as an offline interactive HTML chart (plotly, its JavaScript embedded)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    x, xlabel = _x(sweep)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    text = [
        f"{p.sited} new, status {p.status}, gap {p.gap}"
        + ("" if p.fleet_feasible else f"<br>fleet: {p.fleet_reason}")
        for p in sweep.points
    ]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[100 * p.covered_share for p in sweep.points],
            name=f"within {sweep.radius_m:g} m (%)",
            text=text,
        )
    )
    if any(p.covered_share_500 is not None for p in sweep.points):
        fig.add_trace(
            go.Scatter(
                x=x, y=[100 * (p.covered_share_500 or 0.0) for p in sweep.points], name="within 500 m (%)"
            )
        )
    fig.add_trace(
        go.Bar(
            x=x,
            y=[p.marginal_residents_per_station or 0.0 for p in sweep.points],
            name="residents per added station",
            opacity=0.4,
        ),
        secondary_y=True,
    )
    title = f"{sweep.scenario}: coverage curve"
    fig.update_layout(title=title, xaxis_title=xlabel)
    return atomic_write_text(path, plotly_page(fig, title=title))


__all__ = [
    "COLUMNS",
    "curve_csv",
    "curve_figure",
    "curve_rows",
    "write_curve_chart",
    "write_curve_csv",
    "write_curve_html",
]
