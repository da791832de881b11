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
from typing import Any

from mobility.rebalancing.problem import RebalancingProblem

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


def validate_plan(problem: RebalancingProblem, plan: Any) -> ValidationReport:
    """Check ``plan`` (a :class:`RebalancingPlan` or its ``to_dict()``) against ``problem``.

    Returns
    -------
    ValidationReport
        ``report.ok`` is True when the plan is feasible; ``report.violations`` says what is not.
    """
    d = plan if isinstance(plan, dict) else plan.to_dict()
    rep = ValidationReport()
    trucks = {t.id: t for t in problem.trucks}
    ids = {s: i for i, s in enumerate(problem.station_ids)}
    depot_node = {dep.id: k for k, dep in enumerate(problem.depots)}
    n_dep = len(problem.depots)
    seen_trucks: Counter[str] = Counter()
    events: list[tuple[float, int, str, int, dict[str, Any]]] = []  # (arrival, order, truck, station, stop)
    visits: Counter[int] = Counter()
    station_delta = 0
    truck_delta = 0
    for r in d["routes"]:
        tid = r["truck_id"]
        seen_trucks[tid] += 1
        if tid not in trucks:
            rep.add(f"route of unknown truck {tid!r}")
            continue
        t = trucks[tid]
        if r["depot_id"] != t.depot:
            rep.add(f"{tid}: depot {r['depot_id']!r} != truck depot {t.depot!r}")
        cap = t.capacity
        load = r["start_load"]
        if not _is_int(load):
            rep.add(f"{tid}: start load {load!r} not an integer")
            continue
        if t.start_load is not None and load != t.start_load:
            rep.add(f"{tid}: start load {load} != fixed start load {t.start_load}")
        if not 0 <= load <= cap:
            rep.add(f"{tid}: start load {load} outside [0, {cap}]")
        stops = r["stops"]
        if not stops:
            continue
        start_load = int(load)
        prev = depot_node[t.depot]
        prev_dep = float(r["start_s"])
        if prev_dep < t.shift_start - _TOL_S:
            rep.add(f"{tid}: leaves at {prev_dep} before shift start {t.shift_start}")
        for k, s in enumerate(stops):
            sid = s["station_id"]
            q = s["quantity"]
            where = f"{tid} stop {k + 1} ({sid})"
            if sid not in ids:
                rep.add(f"{where}: unknown station")
                continue
            if not _is_int(q):
                rep.add(f"{where}: quantity {q!r} not an integer")
                continue
            q = int(q)
            i = ids[sid]
            node = n_dep + i
            need = prev_dep + float(problem.travel_s[prev, node])
            if s["arrival_s"] < need - _TOL_S:
                rep.add(f"{where}: arrives {s['arrival_s']} < departure + travel = {need:.1f}")
            service = t.stop_seconds + t.load_seconds_per_bike * abs(q)
            if s["departure_s"] < s["arrival_s"] + service - _TOL_S:
                rep.add(f"{where}: stays {s['departure_s'] - s['arrival_s']:.1f} s < {service:.1f} s needed")
            load += q
            if s["load_after"] != load:
                rep.add(f"{where}: load_after {s['load_after']} != recomputed {load}")
            if not 0 <= load <= cap:
                rep.add(f"{where}: load {load} outside [0, {cap}]")
            events.append((float(s["arrival_s"]), len(events), tid, i, s))
            visits[i] += 1
            station_delta -= q
            if q > 0:
                rep.bikes_moved += q
            prev = node
            prev_dep = float(s["departure_s"])
        back = prev_dep + float(problem.travel_s[prev, depot_node[t.depot]])
        if r["end_s"] < back - _TOL_S:
            rep.add(f"{tid}: end {r['end_s']} < last departure + travel back = {back:.1f}")
        if back > t.shift_end + _TOL_S or r["end_s"] > t.shift_end + _TOL_S:
            rep.add(f"{tid}: back at depot at {max(back, r['end_s']):.0f} s after shift end {t.shift_end}")
        if r["end_load"] != load:
            rep.add(f"{tid}: end_load {r['end_load']} != recomputed {load}")
        truck_delta += load - start_load
    for tid, c in seen_trucks.items():
        if c > 1:
            rep.add(f"truck {tid} has {c} routes")
    inv = [int(b) for b in problem.bikes]
    for _, _, tid, i, s in sorted(events, key=lambda e: (e[0], e[1])):
        if s["bikes_before"] != inv[i]:
            rep.add(f"{tid} at {problem.station_ids[i]}: bikes_before {s['bikes_before']} != replay {inv[i]}")
        inv[i] -= int(s["quantity"])
        if inv[i] < 0:
            rep.add(f"{tid} at {problem.station_ids[i]}: station would hold {inv[i]} bikes (< 0)")
        if s["bikes_after"] != inv[i]:
            rep.add(f"{tid} at {problem.station_ids[i]}: bikes_after {s['bikes_after']} != replay {inv[i]}")
    for i, c in visits.items():
        if c > problem.max_visits:
            rep.add(f"station {problem.station_ids[i]} visited {c} times > max_visits {problem.max_visits}")
    if station_delta + truck_delta != 0:
        rep.add(f"bikes not conserved: stations changed by {station_delta}, trucks by {truck_delta}")
    rep.dissatisfaction_after = problem.dissatisfaction([max(0, k) for k in inv])
    tot = d.get("totals") or {}
    if "bikes_moved" in tot and tot["bikes_moved"] != rep.bikes_moved:
        rep.add(f"totals.bikes_moved {tot['bikes_moved']} != recomputed {rep.bikes_moved}")
    if "dissatisfaction_after" in tot and abs(
        tot["dissatisfaction_after"] - rep.dissatisfaction_after
    ) > 1e-3 * max(1.0, abs(rep.dissatisfaction_after)):
        rep.add(
            f"totals.dissatisfaction_after {tot['dissatisfaction_after']} != recomputed "
            f"{rep.dissatisfaction_after:.4f}"
        )
    return rep
