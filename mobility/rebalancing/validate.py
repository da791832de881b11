"""Independent feasibility check of a rebalancing plan.

This module shares no code with the solvers: it reads the plan's stops (or the ``routes.json``
dict) and the problem's raw data and recomputes everything. A plan is feasible when

- every route belongs to a known truck (at most one route per truck) and starts at its depot;
- the start load is the truck's fixed start load, or within ``[0, capacity]`` when free;
- every quantity is an integer, every station id is known, and the load after every stop equals
  the load before plus the quantity and lies in ``[0, capacity]``;
- replaying all stops in time order, no station ever has fewer than 0 bikes, and each stop's
  ``bikes_before`` / ``bikes_after`` agree with that replay;
- arrival times respect travel times (``arrival >= previous departure + travel``), each stop lasts
  at least ``stop_seconds + load_seconds_per_bike * |quantity|``, the truck leaves no earlier than
  its shift start and is back at its depot no later than its shift end;
- no station is visited more than ``max_visits`` times;
- bikes are conserved: what left the stations is what the trucks gained (end minus start load);
- the totals (bikes moved, dissatisfaction after) match a recomputation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mobility.rebalancing.problem import RebalancingProblem, Truck

if TYPE_CHECKING:
    from mobility.rebalancing.plan import RebalancingPlan

__all__ = ["ValidationReport", "validate_plan"]

_TOL_S = 1.0  # seconds of rounding slack on times


@dataclass
class ValidationReport:
    """Violations found (empty = feasible) and recomputed figures."""

    violations: list[str] = field(default_factory=list)
    bikes_moved: int = 0
    dissatisfaction_after: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no violation was found."""
        return not self.violations

    def add(self, msg: str) -> None:
        """Record one violation."""
        self.violations.append(msg)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass
class _Replay:
    """What the routes did, gathered for the station replay and the conservation check."""

    events: list[tuple[float, int, str, int, dict[str, Any]]] = field(default_factory=list)
    visits: Counter[int] = field(default_factory=Counter)
    station_delta: int = 0
    truck_delta: int = 0


def validate_plan(problem: RebalancingProblem, plan: RebalancingPlan | dict[str, Any]) -> ValidationReport:
    """Check ``plan`` (a :class:`RebalancingPlan` or its ``to_dict()``) against ``problem``.

    Returns
    -------
    ValidationReport
        ``report.ok`` is True when the plan is feasible; ``report.violations`` says what is not.
    """
    d = plan if isinstance(plan, dict) else plan.to_dict()
    rep = ValidationReport()
    trucks = {t.id: t for t in problem.trucks}
    replay = _Replay()
    seen_trucks: Counter[str] = Counter()
    for r in d["routes"]:
        seen_trucks[r["truck_id"]] += 1
        if r["truck_id"] not in trucks:
            rep.add(f"route of unknown truck {r['truck_id']!r}")
            continue
        _check_route(problem, trucks[r["truck_id"]], r, rep, replay)
    for tid, c in seen_trucks.items():
        if c > 1:
            rep.add(f"truck {tid} has {c} routes")
    inv = _replay_stations(problem, replay, rep)
    for i, c in replay.visits.items():
        if c > problem.max_visits:
            rep.add(f"station {problem.station_ids[i]} visited {c} times > max_visits {problem.max_visits}")
    if replay.station_delta + replay.truck_delta != 0:
        rep.add(
            f"bikes not conserved: stations changed by {replay.station_delta}, trucks by {replay.truck_delta}"
        )
    rep.dissatisfaction_after = problem.dissatisfaction([max(0, k) for k in inv])
    _check_totals(d.get("totals") or {}, rep)
    return rep


def _check_route(
    problem: RebalancingProblem, t: Truck, r: dict[str, Any], rep: ValidationReport, replay: _Replay
) -> None:
    """Depot, loads, times and quantities of one truck's route; its stops go into ``replay``."""
    tid = r["truck_id"]
    if r["depot_id"] != t.depot:
        rep.add(f"{tid}: depot {r['depot_id']!r} != truck depot {t.depot!r}")
    load = r["start_load"]
    if not _is_int(load):
        rep.add(f"{tid}: start load {load!r} not an integer")
        return
    if t.start_load is not None and load != t.start_load:
        rep.add(f"{tid}: start load {load} != fixed start load {t.start_load}")
    if not 0 <= load <= t.capacity:
        rep.add(f"{tid}: start load {load} outside [0, {t.capacity}]")
    if not r["stops"]:
        return
    start_load = int(load)
    depot = problem.depot_index(t.depot)
    prev, prev_dep = depot, float(r["start_s"])
    if prev_dep < t.shift_start - _TOL_S:
        rep.add(f"{tid}: leaves at {prev_dep} before shift start {t.shift_start}")
    ids = problem.index_of
    for k, s in enumerate(r["stops"]):
        where = f"{tid} stop {k + 1} ({s['station_id']})"
        if s["station_id"] not in ids:
            rep.add(f"{where}: unknown station")
            continue
        if not _is_int(s["quantity"]):
            rep.add(f"{where}: quantity {s['quantity']!r} not an integer")
            continue
        i, q = ids[s["station_id"]], int(s["quantity"])
        node = problem.node(i)
        _check_stop_times(t, s, prev_dep + float(problem.travel_s[prev, node]), where, rep)
        load += q
        if s["load_after"] != load:
            rep.add(f"{where}: load_after {s['load_after']} != recomputed {load}")
        if not 0 <= load <= t.capacity:
            rep.add(f"{where}: load {load} outside [0, {t.capacity}]")
        replay.events.append((float(s["arrival_s"]), len(replay.events), tid, i, s))
        replay.visits[i] += 1
        replay.station_delta -= q
        rep.bikes_moved += max(q, 0)
        prev, prev_dep = node, float(s["departure_s"])
    back = prev_dep + float(problem.travel_s[prev, depot])
    if r["end_s"] < back - _TOL_S:
        rep.add(f"{tid}: end {r['end_s']} < last departure + travel back = {back:.1f}")
    if back > t.shift_end + _TOL_S or r["end_s"] > t.shift_end + _TOL_S:
        rep.add(f"{tid}: back at depot at {max(back, r['end_s']):.0f} s after shift end {t.shift_end}")
    if r["end_load"] != load:
        rep.add(f"{tid}: end_load {r['end_load']} != recomputed {load}")
    replay.truck_delta += load - start_load


def _check_stop_times(
    t: Truck, s: dict[str, Any], earliest: float, where: str, rep: ValidationReport
) -> None:
    """Arrival no earlier than travel allows; a stay long enough to stop and move the bikes."""
    if s["arrival_s"] < earliest - _TOL_S:
        rep.add(f"{where}: arrives {s['arrival_s']} < departure + travel = {earliest:.1f}")
    service = t.stop_seconds + t.load_seconds_per_bike * abs(int(s["quantity"]))
    if s["departure_s"] < s["arrival_s"] + service - _TOL_S:
        rep.add(f"{where}: stays {s['departure_s'] - s['arrival_s']:.1f} s < {service:.1f} s needed")


def _replay_stations(problem: RebalancingProblem, replay: _Replay, rep: ValidationReport) -> list[int]:
    """Replay every stop in time order: never below 0 bikes, before/after as the stops say."""
    inv = [int(b) for b in problem.bikes]
    for _, _, tid, i, s in sorted(replay.events, key=lambda e: (e[0], e[1])):
        sid = problem.station_ids[i]
        if s["bikes_before"] != inv[i]:
            rep.add(f"{tid} at {sid}: bikes_before {s['bikes_before']} != replay {inv[i]}")
        inv[i] -= int(s["quantity"])
        if inv[i] < 0:
            rep.add(f"{tid} at {sid}: station would hold {inv[i]} bikes (< 0)")
        if s["bikes_after"] != inv[i]:
            rep.add(f"{tid} at {sid}: bikes_after {s['bikes_after']} != replay {inv[i]}")
    return inv


def _check_totals(tot: dict[str, Any], rep: ValidationReport) -> None:
    """The plan's totals agree with the recomputed ones."""
    if "bikes_moved" in tot and tot["bikes_moved"] != rep.bikes_moved:
        rep.add(f"totals.bikes_moved {tot['bikes_moved']} != recomputed {rep.bikes_moved}")
    after = rep.dissatisfaction_after
    stated = tot.get("dissatisfaction_after")
    if stated is not None and abs(stated - after) > 1e-3 * max(1.0, abs(after)):
        rep.add(f"totals.dissatisfaction_after {stated} != recomputed {after:.4f}")
