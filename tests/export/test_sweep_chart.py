"""sweep.png's legend covers no data (review walk: in the chart of `mobility plan sweep
scenarios/seoul-2019-30k.yaml --new-stations 300:800:100` the legend box lay over the 700 and 800
bars)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from mobility.export.curve import curve_figure
from mobility.placement.sweep import Sweep, SweepPoint
from mobility.provenance import Provenance

MEASURED = (  # new stations, covered share, residents newly covered per added station, status
    (300, 0.4449, 5673.5, "optimal"),
    (400, 0.49188, 4254.1, "gap_limit"),
    (500, 0.53337, 3757.7, "feasible"),
    (600, 0.57038, 3352.1, "feasible"),
    (700, 0.60324, 2975.3, "feasible"),
    (800, 0.63256, 2655.6, "feasible"),
)
"""The sweep of the review walk (seoul-2019-30k, 300-800 new stations, 5 s a point)."""


def _sweep() -> Sweep:
    population = 9_056_360.0
    points = [
        SweepPoint(
            new_stations=n,
            budget=None,
            sited=n,
            covered_population=share * population,
            covered_share=share,
            covered_population_500=None,
            covered_share_500=None,
            predicted_trips=None,
            marginal_residents_per_station=marginal,
            status=status,
            objective=share * population,
            bound=None,
            gap=None,
            seconds=5.0,
            fleet_feasible=True,
            fleet_reason=None,
            sites=[],
        )
        for n, share, marginal, status in MEASURED
    ]
    return Sweep(
        scenario="seoul-2019-30k",
        axis="new_stations",
        radius_m=300.0,
        population=population,
        covered_population_before=2_327_155.0,
        covered_share_before=0.25696,
        covered_share_500_before=None,
        points=points,
        provenance=Provenance.collect({}, scenario={}, seed=0),
    )


def test_the_legend_covers_no_bar_point_or_label() -> None:
    fig = curve_figure(_sweep())
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        ax, ax2 = fig.axes
        legend = ax.get_legend()
        assert legend is not None and len(legend.get_texts()) == 3
        box = legend.get_window_extent(renderer)
        assert fig.bbox.contains(*box.min) and fig.bbox.contains(*box.max)  # whole on the page
        bars = list(ax2.patches)
        assert len(bars) == len(MEASURED)
        for bar, (n, *_) in zip(bars, MEASURED, strict=True):
            assert not box.overlaps(bar.get_window_extent(renderer)), f"the legend covers the {n} bar"
        for line in ax.get_lines():
            xy = ax.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]))
            assert not any(box.contains(x, y) for x, y in xy), line.get_label()
        assert not box.overlaps(ax.bbox)  # nothing of the plot area under it
        for text in [ax.xaxis.label, *ax.get_xticklabels()]:
            assert not box.overlaps(text.get_window_extent(renderer)), text.get_text()
    finally:
        plt.close(fig)
