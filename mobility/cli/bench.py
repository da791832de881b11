"""``mobility bench``: published benchmark instances solved and compared with their optima.

The commands live beside the solvers they exercise (``bench_placement`` for p-median,
``bench_routing`` for BRP and 1-PDTSP) and are gathered here into one group.
"""

from __future__ import annotations

import importlib

import typer

bench_app = typer.Typer(
    help="Solve published benchmark instances and compare with their best-known values.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``bench`` group with every benchmark command that exists."""
    for name in ("bench_placement", "bench_routing"):
        try:
            module = importlib.import_module(f"mobility.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mobility.cli.{name}":
                raise
            continue
        module.register(bench_app)
    app.add_typer(bench_app, name="bench")
