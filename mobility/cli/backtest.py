"""``mobility backtest --from OLD --to NEW --out DIR``: the planner against what Seoul built.

OLD and NEW are station vintages (``2018-11``, ``2019-12``, ``2025-12``) or station files in the
official layouts. Writes ``DIR/backtest.json``, ``DIR/districts.csv`` and the map of real new
stations against proposed ones (``DIR/map.png``, ``DIR/map.html``); ``--json`` prints the
document's figures (without the site lists). Rows of either list left out and a NEW list dated
before the OLD one are said on stderr as soon as the lists are read, and kept in the notes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from mobility.cli.common import (
    DataDirOption,
    JsonOption,
    ScenarioSeedOption,
    check_out_dir,
    console,
    print_json,
    print_styled,
    print_written,
    progress_reporter,
    siting_line,
    solve_time_limit,
    with_solver_overrides,
)
from mobility.io import atomic_write_json, staged_files

if TYPE_CHECKING:  # the library is imported by the command, not by ``mobility --help``
    import pandas as pd

    from mobility.sources.base import Loaded


def _brief(doc: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "old", "new", "match_radius_m", "real", "plan", "real_new_near_proposed_share",
        "random_near_share", "random_draws", "stations_to_match_real", "stations_to_match_real_note",
        "trust", "siting_stats", "notes", "wall_seconds",
    )  # fmt: skip
    return {k: doc[k] for k in keep}


def _station_list(option: str, source: str, data_dir: Path | None) -> Loaded[pd.DataFrame]:
    """The station list given as ``option``; a file that is missing or unreadable is an error
    naming the option, the value and what is expected."""
    from mobility.errors import DataFileError, DataNotFoundError, InputError
    from mobility.sources.stations import STATION_VINTAGES, load_station_list

    expected = f"a station vintage ({', '.join(STATION_VINTAGES)}) or the path of a station file (CSV)"
    try:
        return load_station_list(source, data_dir=data_dir, field=option)
    except DataNotFoundError as exc:
        if source in STATION_VINTAGES:  # the data directory lacks the vintage: its own message
            raise
        raise InputError(option, source, f"{expected}; no such file") from exc
    except DataFileError as exc:
        raise InputError(option, source, f"{expected} in an official layout; {exc.problem}") from exc


def register(app: typer.Typer) -> None:
    """Add ``mobility backtest``."""

    @app.command("backtest")
    def backtest_cmd(
        old: Annotated[str, typer.Option("--from", help="OLD station list: a vintage or a file.")],
        new: Annotated[str, typer.Option("--to", help="NEW station list: a vintage or a file.")],
        out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/backtest"),
        scenario: Annotated[
            Path | None,
            typer.Option(
                "--scenario",
                help="Siting rules and fleet rules from this scenario (its baseline becomes --from).",
            ),
        ] = None,
        trips_weight: Annotated[
            list[float] | None,
            typer.Option(
                "--trips-weight",
                min=0,
                help="Also plan with this objective.predicted_trips weight (repeatable): how much "
                "to trust predicted trips against residents covered.",
            ),
        ] = None,
        time_limit: Annotated[
            float | None, typer.Option("--time-limit", min=0.1, help="Seconds per siting solve.")
        ] = None,
        seed: ScenarioSeedOption = None,
        data_dir: DataDirOption = None,
        json_out: JsonOption = False,
    ) -> None:
        """Plan from OLD with as many new stations as the city added by NEW; compare side by side."""
        from mobility.export.backtest import write_backtest_map, write_district_table
        from mobility.placement.backtest import (
            backtest,
            default_scenario,
            match_new_stations,
            metric_xy,
            reversed_lists_note,
            with_station_lists,
        )
        from mobility.placement.pipeline import model_params
        from mobility.scenario.expansion import Baseline, NewStations, load_scenario

        check_out_dir(out)
        old_l = _station_list("--from", old, data_dir)
        new_l = _station_list("--to", new, data_dir)
        # said now (stderr) and kept in backtest.json's notes: lists in reverse, rows left out
        reversal = reversed_lists_note(old, new)
        if reversal is not None:
            print_styled("warning:", "bold yellow", reversal)
        dropped = [
            *old_l.report.dropped_notes(f"--from {old}"),
            *new_l.report.dropped_notes(f"--to {new}"),
        ]
        print_written([], dropped)
        input_notes = [*([reversal] if reversal else []), *dropped]
        old_t, new_t = old_l.table.reset_index(drop=True), new_l.table.reset_index(drop=True)
        n_new = int(match_new_stations(*metric_xy(old_t), *metric_xy(new_t)).sum())
        if scenario is None:
            sc = default_scenario(old, n_new)
        else:
            base = load_scenario(scenario)
            sc = base.model_copy(
                update={
                    "baseline": Baseline(stations=old, bikes=None),
                    "new_stations": NewStations(max=n_new),
                    "budget": None,
                }
            )
        sc = with_solver_overrides(sc, {"time_limit": ("--time-limit", time_limit), "seed": ("--seed", seed)})
        with (
            solve_time_limit(sc.solver.time_limit),
            progress_reporter(f"backtest {old} -> {new}", json_out=json_out) as progress,
        ):
            result = backtest(
                sc,
                old_t,
                new_t,
                params=model_params(sc),
                old_label=old,
                new_label=new,
                fleet_rules=scenario is not None,
                trips_weights=trips_weight or (),
                data_dir=data_dir,
                progress=progress,
            )
        result = with_station_lists(
            result, old_l.sources[0] if old_l.sources else None, new_l.sources[0] if new_l.sources else None
        )
        result = replace(result, notes=[*input_notes, *result.notes])
        doc = result.to_dict()
        with staged_files(out) as stage:  # the backtest's files as one set: all of them or none
            written = [
                atomic_write_json(stage / "backtest.json", doc),
                write_district_table(result, stage / "districts.csv"),
            ]
            written += [
                write_backtest_map(result, stage / f"map.{f}", data_dir=data_dir) for f in ("png", "html")
            ]
        files = [out / p.name for p in written]
        if json_out:
            print_json(_brief(doc) | {"files": [str(p) for p in files]})
            return
        table = Table(title=f"backtest {old} -> {new}")
        table.add_column("", no_wrap=True)
        table.add_column(f"real {new}", justify="right")
        table.add_column("plan", justify="right")
        r, p = result.real, result.plan
        rows = [
            ("stations", f"{r.stations:,}", f"{p.stations:,}"),
            ("new stations", f"{r.new_stations:,}", f"{p.new_stations:,}"),
            ("residents within 300 m", f"{r.covered_share_300:.1%}", f"{p.covered_share_300:.1%}"),
            ("residents within 500 m", f"{r.covered_share_500:.1%}", f"{p.covered_share_500:.1%}"),
            (
                "predicted trips/day (new)",
                "-" if r.predicted_trips is None else f"{r.predicted_trips:,.0f}",
                "-" if p.predicted_trips is None else f"{p.predicted_trips:,.0f}",
            ),
            (
                "district 300 m share CV",
                f"{r.district_covered_share_cv:.3f}",
                f"{p.district_covered_share_cv:.3f}",
            ),
            (
                "district 300 m share min..max",
                f"{r.district_covered_share_min:.0%}..{r.district_covered_share_max:.0%}",
                f"{p.district_covered_share_min:.0%}..{p.district_covered_share_max:.0%}",
            ),
            (
                "stations per 10k CV",
                f"{r.district_stations_per_10k_cv:.3f}",
                f"{p.district_stations_per_10k_cv:.3f}",
            ),
        ]
        for row in rows:
            table.add_row(*row)
        console.print(table)
        console.print(
            f"real new stations within 300 m of a proposed site: {result.real_new_near_proposed_share:.1%} "
            f"(population-weighted random sites: {result.random_near_share:.1%}); "
            f"new stations the plan needs for the real 300 m coverage: {result.stations_to_match_real}"
        )
        console.print(siting_line(result.siting_stats), highlight=False)
        notes = [n for n in result.notes if n not in input_notes]  # those were said
        if result.wall_seconds is not None:  # a field of backtest.json, not a note: said here
            notes.append(f"backtest {result.wall_seconds:.1f} s")
        print_written(files, notes)
