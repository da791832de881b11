"""``mobility bench``: published benchmark instances solved and compared with their optima.

The commands live beside the solvers they exercise (``bench_placement`` for p-median,
``bench_routing`` for BRP and 1-PDTSP) and are gathered here into one group.
"""

from __future__ import annotations

import typer

from mobility.cli import bench_placement, bench_routing

bench_app = typer.Typer(
    help="Solve published benchmark instances and compare with their best-known values.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``bench`` group with every benchmark command."""
    for module in (bench_placement, bench_routing):
        module.register(bench_app)
    app.add_typer(bench_app, name="bench")
