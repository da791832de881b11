"""``sweep.json`` / ``sweep.csv`` / ``sweep.parquet`` of ``mobility simulate sweep``: served share
against fleet size, a pydantic document with the standard provenance block.

:func:`sweep_document` builds the document from the rows of :func:`~.pipeline.sweep`;
:func:`write_sweep` writes the three files atomically (the CSV UTF-8 with a BOM);
:func:`sweep_json_schema` is the document's JSON Schema, generated from the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from mobility.io import atomic_path, atomic_write_csv, atomic_write_json
from mobility.provenance import Provenance
from mobility.schema import document_schema
from mobility.stats import SolverStats

if TYPE_CHECKING:
    import pandas as pd

    from mobility.simulation.pipeline import Prepared

__all__ = [
    "SCHEMA_VERSION",
    "FleetPoint",
    "SimulationSweep",
    "fleet_for_95pct_text",
    "sweep_document",
    "sweep_json_schema",
    "write_sweep",
]

SCHEMA_VERSION = "mobility/simulation-sweep/1"
"""The ``schema_version`` (and the schema's ``$id``) of ``sweep.json``."""



class FleetPoint(BaseModel):
    """The citywide figures at one fleet size."""

    model_config = ConfigDict(frozen=True)

    fleet: int
    served_share: float
    served_share_low: float
    served_share_high: float
    lost_empty: float


class SimulationSweep(BaseModel):
    """``sweep.json``: served share against fleet size, citywide (``citywide``) and by district
    (``rows``, one per fleet size and area; ``gu = "citywide"`` for the city)."""

    model_config = ConfigDict(frozen=True)

    schema_version: str = SCHEMA_VERSION
    source: str = Field(description="The simulated stations (plan.json, vintage or file).")
    day: str = Field(description="The simulated day, YYYY-MM-DD.")
    start_inventory: str
    replications: int
    seed: int
    fleet_for_95pct: int | None = Field(
        description="Smallest fleet tested serving 95 % (None: not reached); see fleet_for_95pct_below_range."
    )
    fleet_for_95pct_below_range: bool = Field(
        default=False,
        description="True when the smallest fleet tested already serves 95 %: the fleet needed is "
        "at most fleet_for_95pct, below the tested range (test smaller fleets to find it).",
    )
    citywide: list[FleetPoint]
    seconds: float = Field(description="Wall time of the whole sweep (loading included).")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="The rider-model parameters of every point (walk radius, neighbours, the "
        "daytime rebalancing rule; as simulation.json's model records them).",
    )
    rows: list[dict[str, Any]]
    provenance: Provenance
    stats: SolverStats | None = Field(
        default=None,
        description="The run's statistics, as simulation.json's stats and plan.json's siting_stats: "
        "the simulator, its status, the objective (the served share at the largest fleet tested; "
        "no bound), the engine time of all the points' replications (loading not included, unlike "
        "seconds) and the seed. Null in documents written before it was recorded.",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="Rows of the inputs left out or values assumed (counted), how the rider model "
        "was fitted, and whether the 95 % fleet lies below the tested range.",
    )

    def summary(self) -> dict[str, Any]:
        """The document without ``rows`` (what ``--json`` prints)."""
        return self.model_dump(mode="json", exclude={"rows"})


def sweep_document(
    prep: Prepared,
    table: pd.DataFrame,
    replications: int,
    seed: int,
    seconds: float,
    *,
    fanned_out: bool | None = None,
) -> SimulationSweep:
    """The document of a sweep's ``table`` (the rows of :func:`~.pipeline.sweep`) on ``prep``;
    ``fanned_out``: whether the points and replications ran on a Dask cluster (the provenance's).
    Its ``stats`` are shaped as every solver's (:class:`~mobility.stats.SolverStats`): the
    simulator, ``"completed"``, the served share at the largest fleet as the objective, no bound,
    the engine time of the points (the rows' ``seconds``, summed over the citywide rows) and the seed."""
    from mobility.simulation.engine import SIMULATOR
    from mobility.simulation.pipeline import rider_params, simulation_provenance

    city = table[table["gu"] == "citywide"]
    hit = city[city["served_share"] >= 0.95]
    fleet95 = int(hit["fleet"].min()) if len(hit) else None
    below = fleet95 is not None and fleet95 == int(city["fleet"].min())
    model = getattr(prep, "model", None)  # a prepared stand-in may have no fitted model
    notes = [*getattr(prep, "input_notes", []), *getattr(model, "notes", [])]
    if below:
        notes.append(
            f"the smallest fleet tested ({fleet95:,}) already serves 95 %: the fleet needed is at "
            "most that, below the tested range"
        )
    points = city[["fleet", "served_share", "served_share_low", "served_share_high", "lost_empty"]]
    prov = simulation_provenance(prep, seed, fanned_out=fanned_out)
    params = getattr(model, "params", None)
    largest = city.sort_values("fleet").iloc[-1] if len(city) else None
    stats = SolverStats(
        solver=SIMULATOR,
        status="completed",
        objective=0.0 if largest is None else float(largest["served_share"]),
        bound=None,
        # each row's seconds: its point's share of the engine time (pipeline.sweep)
        seconds=round(float(city["seconds"].sum()), 3) if "seconds" in city else 0.0,
        seed=seed,
        extra={
            "objective_is": "served share at the largest fleet tested"
            + ("" if largest is None else f" ({int(largest['fleet']):,} bikes)"),
            "points": len(city),
        },
    )
    return SimulationSweep(
        source=prep.source,
        day=prep.day.strftime("%Y-%m-%d"),
        start_inventory=f"{prep.start_inventory}, scaled to each fleet size",
        replications=replications,
        seed=seed,
        fleet_for_95pct=fleet95,
        fleet_for_95pct_below_range=below,
        citywide=[FleetPoint.model_validate(r) for r in points.to_dict("records")],
        seconds=round(seconds, 2),
        params={} if params is None else rider_params(params),
        rows=table.to_dict("records"),
        provenance=Provenance(**prov),
        stats=stats,
        notes=notes,
    )


def fleet_for_95pct_text(doc: SimulationSweep) -> str:
    """The fleet serving 95 % as a reader should take it, no more precise than the grid tested:
    ``"35,000 (30,000 served under 95 %)"``, ``"≤ 20,000 (the smallest tested)"`` or ``"not reached"``."""
    if doc.fleet_for_95pct is None:
        return "not reached"
    if doc.fleet_for_95pct_below_range:
        return f"≤ {doc.fleet_for_95pct:,} (the smallest tested)"
    below = [p.fleet for p in doc.citywide if p.fleet < doc.fleet_for_95pct]
    return f"{doc.fleet_for_95pct:,}" + (f" ({max(below):,} served under 95 %)" if below else "")


def write_sweep(out: Path, table: pd.DataFrame, doc: SimulationSweep) -> list[Path]:
    """``sweep.parquet``, ``sweep.csv`` (UTF-8 with a BOM) and ``sweep.json`` in ``out``, atomically."""
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "sweep.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    return [
        out / "sweep.parquet",
        atomic_write_csv(out / "sweep.csv", table),
        atomic_write_json(out / "sweep.json", doc.model_dump(mode="json")),
    ]


def sweep_json_schema() -> dict[str, Any]:
    """JSON Schema of ``sweep.json`` (generated from :class:`SimulationSweep`)."""
    return document_schema(
        SimulationSweep, "mobility simulate sweep: served share against fleet size", schema_id=SCHEMA_VERSION
    )
