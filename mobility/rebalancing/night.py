"""The night's inputs, read: status snapshot + demand curves + truck travel -> RebalancingProblem.

The one place where a night is loaded from files (the status snapshot, the demand profiles and the
street network): ``mobility rebalance``, the benchmark and the tests call :func:`load_night_problem`;
the problem itself is assembled by the pure builder :func:`mobility.rebalancing.build.problem_from_scenario`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mobility.quality import QualityReport
from mobility.rebalancing.build import assemble_stations, problem_from_scenario
from mobility.rebalancing.problem import RebalancingProblem
from mobility.rebalancing.snapshot import StatusSnapshot, read_snapshot, snapshot_from_table
from mobility.rebalancing.travel import TruckTravel, truck_travel
from mobility.scenario.nightly import NightlyScenario

if TYPE_CHECKING:
    from mobility.demand.profiles import StationProfiles

__all__ = ["NightInputs", "load_night_problem", "night_snapshot"]


def _day_type(date: str) -> str:
    """Day type of the morning after ``date`` (the morning the targets are for)."""
    from mobility.demand.holidays import day_type

    return str(day_type(pd.Timestamp(date) + pd.Timedelta(days=1)))


def _travel(scn: NightlyScenario, lon: np.ndarray, lat: np.ndarray, data_dir: Path | None) -> TruckTravel:
    """Truck travel over depots + stations as the scenario's ``network`` section asks."""
    ns = scn.network
    return truck_travel(
        lon,
        lat,
        source=ns.source,
        profile=ns.profile,
        straight_speed_kph=ns.straight_speed_kph,
        straight_detour=ns.straight_detour,
        fallback_to_straight=ns.fallback_to_straight,
        data_dir=data_dir,
    )


@dataclass
class NightInputs:
    """Everything a night needs: the problem, its truck travel (with the street network) and the report."""

    problem: RebalancingProblem
    travel: TruckTravel
    report: QualityReport
    stations: pd.DataFrame | None = None  # assembled: station_id, number, name, docks, bikes, lon, lat
    profiles: StationProfiles | None = None  # the demand profiles, when they were read


def night_snapshot(status: Path | pd.DataFrame | StatusSnapshot) -> StatusSnapshot:
    """The night's status snapshot: as given, read from a file (:func:`read_snapshot`) or from a
    status table (:func:`snapshot_from_table`, e.g. a derived snapshot's)."""
    if isinstance(status, StatusSnapshot):
        return status
    if isinstance(status, pd.DataFrame):
        return snapshot_from_table(status)
    return read_snapshot(status)


def load_night_problem(
    scn: NightlyScenario,
    status: Path | pd.DataFrame | StatusSnapshot,
    data_dir: Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> NightInputs:
    """Read the snapshot, the demand curves and the truck travel times; build the problem.

    Parameters
    ----------
    scn
        The night's scenario (depots, trucks, targets, network).
    status
        The evening status snapshot: the document, a file or a status table (:func:`night_snapshot`).
    data_dir
        The Seoul data directory (demand profiles, street network).
    progress
        Called with a message before each slow step (and with the travel model's note, if any).
    """
    say = progress or (lambda _m: None)
    report = QualityReport("status snapshot")
    raw = night_snapshot(status).table()
    need_coords = not {"lon", "lat"} <= set(raw.columns)
    prof = None
    curves = None
    day = "weekday"
    if need_coords or scn.targets.source == "demand":
        from mobility.demand.data import load_profiles

        say("station demand profiles…")
        prof = load_profiles(data_dir)
    stations = assemble_stations(raw, prof.stations if prof is not None else None, report)
    if scn.targets.source == "demand" and prof is not None:
        from mobility.demand.inventory import curves_from_profiles

        day = _day_type(scn.night.date) if scn.targets.day_type == "auto" else scn.targets.day_type
        say(f"dissatisfaction curves ({day} morning)…")
        curves = {int(c.station): c.costs for c in curves_from_profiles(prof, day_type=day)}
    say("truck travel times on the street network…")
    lon = np.r_[[d.lon for d in scn.depots], stations["lon"].to_numpy(dtype=float)]
    lat = np.r_[[d.lat for d in scn.depots], stations["lat"].to_numpy(dtype=float)]
    tt = _travel(scn, lon, lat, data_dir)
    if tt.note:
        say(tt.note)
    problem = problem_from_scenario(
        scn,
        stations,
        curves,
        tt.seconds,
        tt.metres,
        report=report,
        meta={"network": tt.model, "day_type": day},
    )
    return NightInputs(problem, tt, report, stations=stations, profiles=prof)
