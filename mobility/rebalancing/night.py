"""The night's inputs, read: status snapshot + demand curves + truck travel -> RebalancingProblem.

The one place where a night is loaded from files (the status snapshot, the demand profiles and the
street network): ``mobility rebalance``, the benchmark and the tests call :func:`load_night_problem`;
the problem itself is assembled by the pure builder :func:`mobility.rebalancing.build.problem_from_scenario`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mobility.errors import given_as
from mobility.provenance import Provenance
from mobility.quality import QualityReport
from mobility.rebalancing.build import assemble_stations, key_conflicts, problem_from_scenario
from mobility.rebalancing.plan import RebalancingPlan, routes_version
from mobility.rebalancing.problem import RebalancingProblem
from mobility.rebalancing.snapshot import (
    MAX_PROBLEMS,
    SnapshotInputError,
    StatusSnapshot,
    flag_overflow,
    read_snapshot,
    snapshot_from_table,
)
from mobility.rebalancing.travel import TruckTravel, truck_travel
from mobility.scenario.nightly import CurveLevel, NightlyScenario

if TYPE_CHECKING:
    from mobility.demand.profiles import StationProfiles
    from mobility.simulation.model import DayFactors

__all__ = [
    "MorningCurves",
    "NightInputs",
    "curve_level",
    "day_factors",
    "load_night_problem",
    "morning_curves",
    "night_datasets",
    "night_provenance",
    "night_snapshot",
    "night_stations",
    "snapshot_curves",
    "snapshot_stations",
    "station_list",
    "travel_datasets",
]


def _day_type(date: dt.date) -> str:
    """Day type of the morning after ``date`` (the morning the targets are for)."""
    from mobility.demand.holidays import day_type

    return str(day_type(pd.Timestamp(date) + pd.Timedelta(days=1)))


def _travel(scn: NightlyScenario, lon: np.ndarray, lat: np.ndarray, data_dir: Path | None) -> TruckTravel:
    """Truck travel over depots + stations as the scenario's ``network`` section asks."""
    ns = scn.network
    with given_as("network.source", argument="source"):  # a misspelt name is the scenario's
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
    datasets: dict[str, Path] = field(default_factory=dict)  # the files read (night_datasets)
    level: float = 1.0  # the demand curves' rates relative to the profiles' (targets.level)

    @property
    def notes(self) -> list[str]:
        """What the caller must show: the status rows left out (count, reason, first ids) and
        the rows kept but flagged. Empty when every row was used as it is."""
        return status_notes(self.report)


def status_notes(report: QualityReport) -> list[str]:
    """One line per reason rows of the status snapshot were dropped or flagged, with the count
    and the first few station ids, e.g. ``1 status row dropped (no coordinates (not in the
    station list)): ST-999999``."""
    out = []
    for verb, counter in (("dropped", report.dropped), ("kept but flagged", report.warnings)):
        for reason, n in counter.items():
            ids = report.examples.get(reason, [])
            more = ", ..." if n > len(ids) else ""
            rows = "row" if n == 1 else "rows"
            out.append(f"{n} status {rows} of {report.rows_read} {verb} ({reason}): {', '.join(ids)}{more}")
    return out


def night_datasets(
    scn: NightlyScenario,
    status: Path | pd.DataFrame | StatusSnapshot,
    travel: TruckTravel,
    data_dir: Path | None,
    *,
    demand: bool,
) -> dict[str, Path]:
    """The files behind a night, by name, for its provenance: the status snapshot (when given as
    a file), the street network and the KTDB speed data of its night profile (when the travel
    used the network), and the Ttareungi files the demand profiles are built from (when read)."""
    files: dict[str, Path] = {}
    if isinstance(status, str | Path):
        files["status"] = Path(status)
    files.update(travel_datasets(travel, scn.network.profile, data_dir))
    root = _data_root(data_dir)
    if demand and root is not None:
        from mobility.demand.data import profile_inputs

        files.update({f"demand.{p.stem}": p for p in profile_inputs(root)})
    return {k: p for k, p in files.items() if p.is_file()}


def _data_root(data_dir: Path | None) -> Path | None:
    """The Seoul data directory, or ``None`` when there is none."""
    from mobility.config import resolve_data_dir
    from mobility.errors import DataNotFoundError

    try:
        return resolve_data_dir(data_dir)
    except DataNotFoundError:
        return None


def travel_datasets(travel: TruckTravel, profile: str, data_dir: Path | None = None) -> dict[str, Path]:
    """The files behind truck travel times, by name, for a provenance: the street network and, for
    the night profile, the KTDB speed data (none for straight lines).

    Parameters
    ----------
    travel
        The travel times (:func:`~mobility.rebalancing.travel.truck_travel`).
    profile
        The speed profile they were made with (``truck`` or ``truck_night``).
    data_dir
        The Seoul data directory (``None`` resolves it).

    Returns
    -------
    dict[str, Path]
        ``network``, ``speeds``, ``speed_links`` (the link shapefile) and ``speed_links.dbf``
        (its attribute table), those that exist as files.
    """
    from mobility.network.graph import NAMED_SOURCES
    from mobility.network.street import KTDB_SPEEDS

    files: dict[str, Path] = {}
    if travel.network is not None:
        files["network"] = Path(str(travel.network.net.info.get("source_path", "")))
        root = _data_root(data_dir)
        if profile == "truck_night" and root is not None:
            files["speeds"] = root / KTDB_SPEEDS
            files["speed_links"] = root / NAMED_SOURCES["ktdb"]
            # the links' ids, ends and road ranks, which the speeds are joined on
            files["speed_links.dbf"] = files["speed_links"].with_suffix(".dbf")
    return {k: p for k, p in files.items() if p.is_file()}


def night_provenance(
    scn: NightlyScenario, night: NightInputs, *, seed: int, routes: RebalancingPlan | None = None
) -> Provenance:
    """The provenance of a night's plan: code version, the fingerprints of :attr:`NightInputs.datasets`
    (status, network, speeds, demand data), the scenario and the seed.

    ``routes``: the plan, for the documents computed from it (``morning.json``), recorded as
    ``routes`` by :func:`~mobility.rebalancing.plan.routes_version` (its content without its
    timing fields, as the API's morning after records it).
    """
    files: dict[str, Path | str] = dict(night.datasets)
    prov = Provenance.collect(files, scenario=scn.model_dump(mode="json"), seed=seed)
    return prov if routes is None else prov.with_contents({"routes": routes_version(routes)})


def night_snapshot(status: Path | pd.DataFrame | StatusSnapshot) -> StatusSnapshot:
    """The night's status snapshot: as given, read from a file (:func:`read_snapshot`) or from a
    status table (:func:`snapshot_from_table`, e.g. a derived snapshot's)."""
    if isinstance(status, StatusSnapshot):
        return status
    if isinstance(status, pd.DataFrame):
        return snapshot_from_table(status)
    return read_snapshot(status)


def night_stations(
    snapshot: StatusSnapshot,
    coords: pd.DataFrame | None,
    report: QualityReport,
    *,
    label: str = "--status",
    check_keys: bool = True,
) -> pd.DataFrame:
    """The snapshot's stations as the night's problem has them
    (:func:`~mobility.rebalancing.build.assemble_stations`, names, positions and docks the
    snapshot leaves out taken from the station list ``coords``), its rows left out or flagged
    counted in ``report``: a station with far more bikes than docks is flagged
    (:func:`~mobility.rebalancing.snapshot.flag_overflow`), not refused.

    With ``check_keys`` (a night to plan), a row whose id and number the list pairs otherwise is
    refused, every such row named (:func:`~mobility.rebalancing.build.key_conflicts`,
    ``label[ST-10].number (line 3)``), as the API's upload refuses it; without (the stations of a
    night planned already, to draw), it is drawn as the join places it.
    """
    if coords is not None and check_keys:
        conflicts = key_conflicts(snapshot, coords, label=label)
        if conflicts:
            raise SnapshotInputError([problem for _, problem in conflicts][:MAX_PROBLEMS])
    stations = assemble_stations(snapshot.table(), coords, report)
    flag_overflow(report, stations["station_id"].astype(str).tolist(), stations["bikes"], stations["docks"])
    return stations


def _label(status: Path | pd.DataFrame | StatusSnapshot) -> str:
    """How problems name the status snapshot: ``--status`` for a file (as its reader names it)."""
    return "--status" if isinstance(status, str | Path) else "status"


def snapshot_stations(
    status: Path | pd.DataFrame | StatusSnapshot, data_dir: Path | None = None
) -> tuple[StatusSnapshot, pd.DataFrame, QualityReport]:
    """The snapshot, and its stations as the night's problem has them, without the demand curves
    and travel times (to draw routes over the snapshot they were planned on).

    The table is :func:`night_stations`'s: a name, position or dock count the snapshot leaves
    out comes from the 2025-12 station list (the list behind the demand profiles
    :func:`load_night_problem` takes them from); rows left out or flagged are counted in the
    report (:func:`status_notes`). An id and a number the list pairs otherwise are not refused
    here: the snapshot was planned on already (``mobility export --status``, a run's maps), and
    :func:`load_night_problem` refuses them.
    """
    from mobility.demand.data import load_stations

    snapshot = night_snapshot(status)
    raw = snapshot.table()
    report = QualityReport("status snapshot")
    given = ["name", "lon", "lat", "docks"]
    complete = set(given) <= set(raw.columns) and not raw[given].isna().to_numpy().any()
    coords = None if complete else load_stations(data_dir)
    return snapshot, night_stations(snapshot, coords, report, check_keys=False), report


def station_list(data_dir: Path | None = None) -> pd.DataFrame | None:
    """The station list a night's stops take their public numbers and street addresses from
    (:func:`~mobility.rebalancing.build.station_labels`): the 2025-12 list
    (:func:`~mobility.demand.data.load_stations`, the list behind the demand profiles and the one
    ``GET /v1/stations`` serves by default), for ``mobility rebalance`` and the API's runs alike;
    ``None`` when there is no data directory (the stops then carry no address).

    Kept in memory while its files are unchanged (:func:`~mobility.cache.kept_while_unchanged`):
    a server's night jobs and a night beside its demand profiles read it once, not each time."""
    from mobility.cache import kept_while_unchanged
    from mobility.config import resolve_data_dir
    from mobility.demand.data import STATION_SOURCE
    from mobility.errors import DataNotFoundError
    from mobility.sources.stations import load_station_list

    def read() -> tuple[pd.DataFrame, list[Path]]:
        loaded = load_station_list(STATION_SOURCE, data_dir=data_dir)
        return loaded.table, loaded.sources

    try:
        where = str(resolve_data_dir(data_dir))
        return kept_while_unchanged(("night-station-list", STATION_SOURCE, where), read)
    except DataNotFoundError:
        return None


def load_night_problem(
    scn: NightlyScenario,
    status: Path | pd.DataFrame | StatusSnapshot,
    data_dir: Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    scale: float | None = None,
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
    scale
        The curves' level (their rates relative to the profiles') as a number, instead of ``targets.level``'s
        (:func:`curve_level`): a benchmark's variant (``bench/night_level.py --day-factors``).
    """
    say = progress or (lambda _m: None)
    report = QualityReport("status snapshot")
    snapshot = night_snapshot(status)
    raw = snapshot.table()
    need_coords = not {"lon", "lat"} <= set(raw.columns)
    prof = None
    curves = None
    day = "weekday"
    level = 1.0
    if need_coords or scn.targets.source == "demand":
        from mobility.demand.data import load_profiles

        say("station demand profiles…")
        prof = load_profiles(data_dir)
    coords = prof.stations if prof is not None else None
    stations = night_stations(snapshot, coords, report, label=_label(status))
    if scn.targets.source == "demand" and prof is not None:
        say("dissatisfaction curves of the morning…")
        morning = morning_curves(
            prof,
            scn.night.date,
            day_type=scn.targets.day_type,
            level=scn.targets.level if scale is None else scale,
            data_dir=data_dir,
        )
        day, level, curves = morning.day_type, morning.level, morning.curves
        say(f"dissatisfaction curves: {day} morning, {level:.2f} × the profiles' level")
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
        meta={"network": tt.model, "day_type": day, "demand_level": round(level, 4)},
        station_list=station_list(data_dir),
    )
    datasets = night_datasets(scn, status, tt, data_dir, demand=prof is not None)
    return NightInputs(problem, tt, report, stations=stations, profiles=prof, datasets=datasets, level=level)


@dataclass(frozen=True)
class MorningCurves:
    """The demand model's dissatisfaction curves for one night's next morning."""

    curves: dict[int, np.ndarray]  # station number -> expected dissatisfied riders by bikes at 00:00
    day_type: str  # weekday or weekend, of the morning after the night
    level: float  # the rates relative to the profiles' (targets.level)


def morning_curves(
    profiles: StationProfiles,
    night: dt.date,
    *,
    day_type: str = "auto",
    level: CurveLevel | float = "auto",
    numbers: Collection[int] | None = None,
    data_dir: Path | None = None,
) -> MorningCurves:
    """Every profiled station's dissatisfaction curve (or those numbered in ``numbers``) for the
    morning after ``night`` (:func:`~mobility.demand.inventory.curves_from_profiles`), at
    ``level`` (``targets.level``, :func:`curve_level`; a number: that level as it is) and
    ``day_type`` (``auto``: the morning's own, holidays as weekends). ``mobility rebalance`` and
    the API's runs take their curves from here."""
    from mobility.demand.inventory import curves_from_profiles

    day = _day_type(night) if day_type == "auto" else day_type
    rel = curve_level(level, night, data_dir) if isinstance(level, str) else float(level)
    made = curves_from_profiles(profiles, day_type=day, level=rel, numbers=numbers)
    return MorningCurves({int(c.station): c.costs for c in made}, day, rel)


def snapshot_curves(
    snapshot: StatusSnapshot, night: dt.date, *, level: CurveLevel = "auto", data_dir: Path | None = None
) -> tuple[list[np.ndarray | None], MorningCurves]:
    """The demand model's curve of each station of ``snapshot`` for the morning after ``night``, in
    the snapshot's order (:func:`morning_curves`; stations matched to the profiles by number,
    then by station id; ``None`` for a station the profiles lack), for
    :func:`~mobility.rebalancing.build.problem_from_snapshot` (the API's runs)."""
    from mobility.demand.data import load_profiles
    from mobility.rebalancing.build import station_numbers

    prof = load_profiles(data_dir)
    numbers = station_numbers(snapshot, prof.stations)
    wanted = {n for n in numbers if n is not None}
    morning = morning_curves(prof, night, level=level, numbers=wanted, data_dir=data_dir)
    return [None if n is None else morning.curves.get(n) for n in numbers], morning


def curve_level(level: CurveLevel, night: dt.date, data_dir: Path | None = None) -> float:
    """The dissatisfaction curves' rates relative to the profiles' (``targets.level``): 1 for
    ``profile``, the citywide demand of the morning after ``night`` for ``morning``
    (:func:`~mobility.simulation.model.demand_level` on the monthly counts), and that level
    capped at 1 for ``auto`` (scaled down to a quieter morning than the profiles' mean day,
    never up)."""
    if level == "profile":
        return 1.0
    from mobility.config import resolve_data_dir
    from mobility.simulation.model import demand_level
    from mobility.sources.usage import load_citywide_monthly_usage

    monthly = load_citywide_monthly_usage(resolve_data_dir(data_dir)).table
    morning = demand_level(pd.Timestamp(night) + pd.Timedelta(days=1), monthly, "night.date")
    return morning if level == "morning" else min(morning, 1.0)


def day_factors(data_dir: Path | None = None) -> DayFactors:
    """The rider simulator's day factors (:func:`~mobility.simulation.model.fit_day_factors` on the
    rental dates of the trips its rider model is fitted on, :data:`~mobility.demand.data.TRIP_DATASETS`):
    a public holiday against an ordinary weekend day, and each month's weekday/weekend split.

    Fitted once and kept in the disk cache (``day_factors/``), keyed on the data's Ttareungi files
    (:func:`~mobility.demand.data.profile_inputs`: the trips and the station lists they are matched
    on), so a night reads them instead of loading the trips again.
    """
    import dataclasses
    import json

    from mobility.cache import cache_key, cached_load
    from mobility.config import resolve_data_dir
    from mobility.demand.data import TRIP_DATASETS, load_trip_tables, profile_inputs
    from mobility.simulation.model import DayFactors, fit_day_factors

    root = resolve_data_dir(data_dir)
    key = cache_key(profile_inputs(root), kind="day_factors", datasets=list(TRIP_DATASETS), v=1)

    def build(path: Path) -> None:
        trips = load_trip_tables(root, TRIP_DATASETS)
        fitted = fit_day_factors(pd.concat([t["rent_time"] for t in trips.values()]))
        path.write_text(json.dumps(dataclasses.asdict(fitted)), encoding="utf-8")

    def load(path: Path) -> DayFactors:
        got = json.loads(path.read_text(encoding="utf-8"))
        by_type = got["month"]
        return DayFactors(
            holiday=float(got["holiday"]),
            month=None
            if by_type is None
            else {t: {int(m): float(v) for m, v in months.items()} for t, months in by_type.items()},
            holidays_used=int(got["holidays_used"]),
        )

    return cached_load("day_factors", key, ".json", build, load)
