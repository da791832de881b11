"""The simulation engine: one day of riders at every station, as an event loop over arrays.

The model
---------
Stations ``i = 0..n-1`` have ``docks[i]`` docks and start the day (00:00) with ``bikes[i]``
bikes. Time runs in seconds from 00:00; the day is cut into slots of ``slot_s`` seconds (15
minutes by default).

* **Riders** arrive at station ``i`` as a Poisson process whose rate is constant within a slot:
  ``rates[i, s]`` is the expected number of arrivals in slot ``s``. The engine draws the
  superposition (one citywide Poisson process with the slot's total rate, each arrival assigned
  to a station in proportion to its rate: the same process, generated in time order without
  sorting). A rider's destination ``d``
  is drawn from the origin's destination distribution (``od_ptr``, ``od_dest``, ``od_cum``: a
  cumulative distribution per origin in CSR layout), and the ride takes
  ``ride_s[o, d] * exp(mu + sigma * Z)`` seconds, ``Z ~ N(0, 1)`` (bike travel time on the
  street network with the spread observed in the trips); a ride back to the same station takes
  ``exp(loop_mu + loop_sigma * Z)`` seconds.
* **Empty station.** A rider who finds no bike walks to the nearest station with a bike among
  the stations within the walking radius (``walk_ptr``, ``walk_nb``, ``walk_s``: neighbours
  sorted by walking time) and rents there (a *detour*, counted at the origin); when none has a
  bike, the trip is *lost* (``lost_empty``).
* **Full station.** A rider who arrives where every dock is taken rides on to the nearest station
  with a free dock among its ``ride_nb`` neighbours (sorted by bike time, the extra seconds are
  counted at the full station); when none is free, the bike is left beside the rack of the
  destination (Seoul's capacity is soft; counted as ``overflow``). A station that holds more
  bikes than docks (allowed in a status snapshot) simply has no free dock until it falls below.
* **Daytime rebalancing by rules** (optional, :class:`RebalanceRule`). Every ``every_s`` seconds
  within the rule's hours, a truck rule moves bikes from stations above ``high`` of their docks
  down to ``target`` of their docks, to stations below ``low`` of their docks up to ``target``,
  the emptiest stations first and the fullest supplying first, at most ``cap`` bikes a round
  (the citywide truck capacity of an hour). Bikes move at the round's instant (truck travel
  is not modelled); the bikes delivered (+) and taken (-) are counted per station and hour
  (``moved``), so the rule conserves bikes too.
* **Hours.** A rider's rental (also after a detour) is counted in the hour the rider arrived.
* **Time resolution.** Arrivals are continuous; ride ends are kept to the millisecond (a ride
  under way is one int64 key, ``end_ms << 22 | station``, in a 4-ary heap).
* **Draws.** A rider's station and destination are drawn by inverting the cumulative rates
  (of the slot) and probabilities (of the origin), each with a guide table that starts the
  search next to the answer; the answer is exactly the binary search's, so the guide
  changes the speed, not a single draw.
* **Conservation.** No bike is created or lost: every rental takes one bike from a station with
  ``bikes > 0`` and every ride ends with one return. Rides still under way at midnight are
  completed (their returns are counted in hour 23), so the end-of-day stock sums to the start.

Replications are independent: replication ``r`` draws from its own random stream seeded by
``(seed, r)`` (SplitMix64), so the result does not depend on how replications are spread over
threads, and the same seed gives the same result.

Every count is kept per replication, station and clock hour (see :data:`METRICS`).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeAlias

import numba as nb
import numpy as np

from mobility.errors import InputError

DAY_S = 86_400
SIMULATOR = "simulation (numba event loop)"
"""``stats.solver`` of every simulated result (simulation.json, a fleet sweep): this engine."""

HOURS = 24

METRICS: tuple[str, ...] = (
    "demanded",  # riders who arrived at the station wanting a bike
    "served",  # ... of whom rented a bike (here or after a detour)
    "lost_empty",  # ... who gave up: no bike here nor within the walking radius
    "detoured",  # ... who walked to another station to rent
    "rentals",  # bikes rented at this station (own riders and detoured riders of others)
    "returns",  # bikes returned at this station
    "full_arrivals",  # riders who arrived to find every dock taken
    "overflow",  # bikes left beside a full rack (no free dock within reach)
)
"""The integer counts of :class:`SimulationRun`, in the order of its last axis."""

_DEMANDED, _SERVED, _LOST, _DETOURED, _RENTALS, _RETURNS, _FULL, _OVERFLOW = range(len(METRICS))

_A: TypeAlias = np.ndarray
Inputs: TypeAlias = tuple[
    _A, _A, _A, _A, _A, float, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, float, float, float, float, _A
]
"""What every replication reads, as one tuple (built by :func:`run`): docks, start bikes, the
cumulative rates per slot and their totals, the slot length, the destination CSR
(``od_ptr``, ``od_dest``, ``od_cum``), ``ride_s``, the walking and riding neighbour lists,
``mu``, ``sigma``, ``loop_mu``, ``loop_sigma`` and the rebalancing rule's array."""
Outputs: TypeAlias = tuple[_A, _A, _A, _A]
"""What the replications write, one row each: counts, extra seconds, end stock, bikes moved."""


@dataclass(frozen=True)
class RebalanceRule:
    """Daytime rebalancing by rules (see the module docstring); ``every_s = 0`` switches it off.

    Attributes
    ----------
    every_s
        Seconds between rounds (3,600: hourly).
    low, target, high
        Fill ratios (bikes / docks): stations below ``low`` receive bikes up to ``target``;
        stations above ``high`` give bikes down to ``target``.
    cap
        At most this many bikes moved a round (the trucks' capacity); 0: no limit.
    start_h, end_h
        Rounds run at the clock times ``start_h <= t < end_h`` (hours).
    """

    every_s: int = 0
    low: float = 0.2
    target: float = 0.5
    high: float = 0.8
    cap: int = 0
    start_h: float = 7.0
    end_h: float = 22.0

    def __post_init__(self) -> None:
        if self.every_s < 0:
            raise InputError("rebalance.every_s", self.every_s, ">= 0 (0: off)")
        if not 0.0 <= self.low <= self.target <= self.high:
            raise InputError(
                "rebalance.low/target/high", (self.low, self.target, self.high), "0 <= low <= target <= high"
            )
        if self.cap < 0:
            raise InputError("rebalance.cap", self.cap, ">= 0 (0: no limit)")
        if not 0.0 <= self.start_h <= self.end_h <= HOURS:
            raise InputError(
                "rebalance.start_h/end_h", (self.start_h, self.end_h), "0 <= start_h <= end_h <= 24"
            )

    @property
    def on(self) -> bool:
        """Whether the rule moves bikes at all."""
        return self.every_s > 0 and self.end_h > self.start_h

    def as_array(self) -> np.ndarray:
        """The rule as the engine's float array."""
        return np.array(
            [
                self.every_s,
                self.low,
                self.target,
                self.high,
                self.cap,
                self.start_h * 3600.0,
                self.end_h * 3600.0,
            ],
            dtype=np.float64,
        )


@dataclass(frozen=True, eq=False)
class SimulationProblem:
    """Everything the engine needs, as arrays (see the module docstring).

    Attributes
    ----------
    docks, bikes
        Docks and start inventory per station, ``(n,)`` integers (``bikes`` may exceed ``docks``).
    rates
        Expected arrivals per station and slot, ``(n, slots)``.
    od_ptr, od_dest, od_cum
        Destination distribution per origin in CSR layout: ``od_dest[od_ptr[i]:od_ptr[i+1]]`` are
        the destinations of origin ``i`` and ``od_cum`` the matching cumulative probabilities
        (the last one of each row is 1).
    ride_s
        Median bike travel time between stations, seconds, ``(n, n)`` (float32).
    walk_ptr, walk_nb, walk_s
        Stations within the walking radius of each station (excluding itself), nearest first,
        and the walking seconds to them.
    ride_ptr, ride_nb, ride_nb_s
        The nearest stations by bike (excluding itself), nearest first, and the bike seconds.
    mu, sigma
        Log-normal spread of a ride around ``ride_s``.
    loop_mu, loop_sigma
        Log-normal duration (seconds) of a ride back to the start station.
    slot_s
        Slot length in seconds.
    rebalance
        Daytime rebalancing by rules (default: none).
    """

    docks: np.ndarray
    bikes: np.ndarray
    rates: np.ndarray
    od_ptr: np.ndarray
    od_dest: np.ndarray
    od_cum: np.ndarray
    ride_s: np.ndarray
    walk_ptr: np.ndarray
    walk_nb: np.ndarray
    walk_s: np.ndarray
    ride_ptr: np.ndarray
    ride_nb: np.ndarray
    ride_nb_s: np.ndarray
    mu: float = 0.0
    sigma: float = 0.3
    loop_mu: float = float(np.log(1800.0))
    loop_sigma: float = 0.8
    slot_s: int = 900
    rebalance: RebalanceRule = RebalanceRule()

    @property
    def n(self) -> int:
        """Number of stations."""
        return int(self.docks.shape[0])

    def validate(self) -> None:
        """Check shapes and ranges; raise :class:`InputError` naming the field."""
        n = self.n
        if self.bikes.shape != (n,):
            raise InputError("bikes", self.bikes.shape, f"one value per station ({n})")
        if (self.bikes < 0).any():
            i = int(np.flatnonzero(self.bikes < 0)[0])
            raise InputError(f"bikes[{i}]", int(self.bikes[i]), ">= 0")
        if (self.docks < 0).any():
            i = int(np.flatnonzero(self.docks < 0)[0])
            raise InputError(f"docks[{i}]", int(self.docks[i]), ">= 0")
        if self.rates.ndim != 2 or self.rates.shape[0] != n:
            raise InputError("rates", self.rates.shape, f"(stations={n}, slots)")
        if self.rates.shape[1] * self.slot_s > DAY_S:
            raise InputError(
                "rates", self.rates.shape, f"at most {DAY_S // self.slot_s} slots of {self.slot_s} s"
            )
        if not np.isfinite(self.rates).all() or (self.rates < 0).any():
            raise InputError("rates", "negative or missing values", "finite rates >= 0")
        for name, ptr in (("od_ptr", self.od_ptr), ("walk_ptr", self.walk_ptr), ("ride_ptr", self.ride_ptr)):
            if ptr.shape != (n + 1,):
                raise InputError(name, ptr.shape, f"({n + 1},)")
        if self.ride_s.shape != (n, n):
            raise InputError("ride_s", self.ride_s.shape, f"({n}, {n})")
        empty = np.flatnonzero(np.diff(self.od_ptr) == 0)
        if empty.size:
            raise InputError(
                f"od row {int(empty[0])}", "no destination", "at least one destination per station"
            )
        if self.sigma < 0 or self.loop_sigma < 0:
            raise InputError("sigma", self.sigma, ">= 0")


@dataclass(frozen=True, eq=False)
class SimulationRun:
    """Raw output of :func:`run`.

    Attributes
    ----------
    counts
        ``(replications, stations, 24, len(METRICS))`` int32 counts (see :data:`METRICS`).
    extra_s
        ``(replications, stations, 24)`` extra riding seconds of riders who found the station
        full, counted at the full station.
    end_bikes
        ``(replications, stations)`` stock after every ride of the day has ended.
    moved
        ``(replications, stations, 24)`` bikes the rebalancing rule delivered (+) or took (-).
    seed
        The seed of replication 0 (replication ``r`` uses the stream ``(seed, r)``).
    """

    counts: np.ndarray
    extra_s: np.ndarray
    end_bikes: np.ndarray
    seed: int
    moved: np.ndarray | None = None

    @property
    def replications(self) -> int:
        """Number of replications."""
        return int(self.counts.shape[0])

    def metric(self, name: str) -> np.ndarray:
        """One count, ``(replications, stations, 24)``."""
        return self.counts[..., METRICS.index(name)]


# --------------------------------------------------------------------------- random numbers

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@nb.njit(cache=True, inline="always")
def _next(state: np.ndarray) -> float:
    """SplitMix64 (Steele, Lea & Flood 2014): a uniform in [0, 1) from ``state[0]``."""
    state[0] = state[0] + _GOLDEN
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(cache=True)
def _normal(state: np.ndarray) -> float:
    u1 = _next(state)
    u2 = _next(state)
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)


@nb.njit(cache=True)
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True)
def _seed_state(seed: int, rep: int) -> np.ndarray:
    """Start of replication ``rep``'s stream: a hash of ``(seed, rep)``, so streams do not overlap
    in practice (SplitMix64 walks a 2**64 cycle; a shifted seed would replay a neighbour's draws)."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = _mix(_mix(np.uint64(seed) + _GOLDEN) ^ (np.uint64(rep) * np.uint64(0xD1B54A32D192ED03)))
    return state


# --------------------------------------------------------------------------- heap of returns


_SHIFT = 22  # station index bits in a heap key (up to 4 M stations)
_MASK = (1 << _SHIFT) - 1


@nb.njit(cache=True)
def _sift_up(heap: np.ndarray, i: int, key: np.int64) -> None:
    """Move the hole at ``heap[i]`` up the 4-ary min-heap until ``key`` fits there, and put it."""
    while i > 0:
        p = (i - 1) >> 2
        if heap[p] <= key:
            break
        heap[i] = heap[p]
        i = p
    heap[i] = key


@nb.njit(cache=True)
def _push(heap: np.ndarray, size: int, key: np.int64) -> int:
    """Insert ``key`` into the 4-ary min-heap ``heap[:size]`` (sift-up with a hole)."""
    _sift_up(heap, size, key)
    return size + 1


@nb.njit(cache=True)
def _pop(heap: np.ndarray, size: int) -> int:
    """Remove the minimum of the 4-ary min-heap ``heap[:size]``.

    A 4-ary heap is half as deep as a binary one and a node's children share a cache line. The
    hole left at the root moves down along the smallest children to the bottom, and the last key
    then moves up from there (Floyd's bottom-up deletion: the last key belongs near the bottom,
    a ride ending later than most, so this saves the comparisons with it on the way down).
    """
    size -= 1
    key = heap[size]
    i = 0
    while True:
        c = 4 * i + 1
        if c >= size:
            break
        m = c
        end = min(c + 4, size)
        for k in range(c + 1, end):
            if heap[k] < heap[m]:
                m = k
        heap[i] = heap[m]
        i = m
    _sift_up(heap, i, key)
    return size


# --------------------------------------------------------------------------- one replication

_RATE_BUCKETS = 4096  # guide buckets per slot for a rider's station (~1.7 entries scanned)
_OD_BUCKETS = 16  # guide buckets per origin for a rider's destination


@nb.njit(cache=True)
def _next_arrival(
    state: np.ndarray, t: float, slot: int, total: np.ndarray, slot_s: float
) -> tuple[float, int]:
    """Next arrival of the citywide Poisson process after ``t`` (rate ``total[slot]`` per slot).

    Returns the time and its slot; the slot is ``len(total)`` when the day is over. Thanks to
    memorylessness, a draw that crosses a slot end restarts from that end at the next rate.
    """
    slots = total.shape[0]
    while slot < slots:
        lam = total[slot] / slot_s
        end = (slot + 1) * slot_s
        if lam > 0.0:
            t = t - np.log(1.0 - _next(state)) / lam
            if t < end:
                return t, slot
        t = end
        slot += 1
    return t, slots


@nb.njit(cache=True)
def _first_at_least(cum: np.ndarray, lo: int, hi: int, q: int, x: float) -> int:
    """The first index in ``lo..hi`` whose ``cum`` is >= ``x`` (``hi`` when none is), from ``q``.

    ``cum[lo:hi + 1]`` is non-decreasing and ``q`` (in ``lo..hi``) a guess from a guide table;
    the scan steps back while the entry before is still >= ``x`` and forward while the entry is
    below it, so the answer is exactly that of a binary search, whatever the guess.
    """
    while q > lo and cum[q - 1] >= x:
        q -= 1
    while q < hi and cum[q] < x:
        q += 1
    return q


@nb.njit(cache=True)
def _guide(cum: np.ndarray, ptr: np.ndarray, buckets: int) -> np.ndarray:
    """Guide table for inverting the cumulative rows ``cum[ptr[r]:ptr[r + 1]]`` (Chen & Asau 1974).

    ``guide[r, k]`` is the first position in row ``r`` (from the row's start) whose ``cum``
    reaches ``k / buckets`` of the row's last value: a draw ``u`` in bucket
    ``floor(u * buckets)`` starts its search there and finds its entry after about
    ``row length / buckets`` steps instead of a binary search's ``log2(row length)``
    unpredictable branches.
    """
    rows = ptr.shape[0] - 1
    guide = np.empty((rows, buckets), dtype=np.int32)
    for r in range(rows):
        lo, hi = ptr[r], ptr[r + 1] - 1
        top = cum[hi] if hi >= lo else 0.0
        q = lo
        for k in range(buckets):
            x = top * (k / buckets)
            while q < hi and cum[q] < x:
                q += 1
            guide[r, k] = q - lo
    return guide


@nb.njit(cache=True)
def _flush(cur: np.ndarray, cur_extra: np.ndarray, counts: np.ndarray, extra: np.ndarray, h: int) -> None:
    """Add the current hour's counts into ``counts[:, h]`` and clear them."""
    for i in range(cur.shape[0]):
        for k in range(cur.shape[1]):
            counts[i, h, k] += cur[i, k]
            cur[i, k] = 0
        extra[i, h] += cur_extra[i]
        cur_extra[i] = 0.0


@nb.njit(cache=True)
def _park(
    d: int,
    bikes: np.ndarray,
    docks: np.ndarray,
    ride_ptr: np.ndarray,
    ride_nb: np.ndarray,
    ride_nb_s: np.ndarray,
    cur: np.ndarray,
    cur_extra: np.ndarray,
) -> None:
    """A ride ends at ``d``: dock there, else at the nearest free neighbour, else beside the rack."""
    if bikes[d] < docks[d]:
        bikes[d] += 1
        cur[d, _RETURNS] += 1
        return
    cur[d, _FULL] += 1
    for q in range(ride_ptr[d], ride_ptr[d + 1]):
        k = ride_nb[q]
        if bikes[k] < docks[k]:
            bikes[k] += 1
            cur[k, _RETURNS] += 1
            cur_extra[d] += ride_nb_s[q]
            return
    bikes[d] += 1
    cur[d, _RETURNS] += 1
    cur[d, _OVERFLOW] += 1


@nb.njit(cache=True)
def _rebalance(bikes: np.ndarray, docks: np.ndarray, rule: np.ndarray, moved: np.ndarray, h: int) -> None:
    """One round of the rebalancing rule (see :class:`RebalanceRule`); counts into ``moved[:, h]``."""
    low, target, high, cap = rule[1], rule[2], rule[3], rule[4]
    n = bikes.shape[0]
    need = np.zeros(n, dtype=np.int64)
    give = np.zeros(n, dtype=np.int64)
    key_need = np.full(n, np.inf)
    key_give = np.full(n, np.inf)
    for i in range(n):
        if docks[i] <= 0:
            continue
        goal = np.int64(np.floor(target * docks[i] + 0.5))
        fill = bikes[i] / docks[i]
        if fill < low and goal > bikes[i]:
            need[i] = goal - bikes[i]
            key_need[i] = fill
        elif fill > high and bikes[i] > goal:
            give[i] = bikes[i] - goal
            key_give[i] = -fill
    order_need = np.argsort(key_need, kind="mergesort")
    order_give = np.argsort(key_give, kind="mergesort")
    left = np.int64(cap) if cap > 0 else np.int64(1) << np.int64(62)
    a = 0
    b = 0
    while a < n and b < n and left > 0:
        i = order_need[a]
        j = order_give[b]
        if need[i] == 0:
            a += 1
            continue
        if give[j] == 0:
            b += 1
            continue
        x = min(need[i], give[j], left)
        bikes[i] += x
        bikes[j] -= x
        need[i] -= x
        give[j] -= x
        left -= x
        moved[i, h] += x
        moved[j, h] -= x


@nb.njit(cache=True, nogil=True)
def _one_replication(seed: int, rep: int, inputs: Inputs, outputs: Outputs, r: int) -> None:
    """Replication ``rep`` into row ``r`` of each output (counts, extra, end stock, moved)."""
    counts, extra, end_bikes, moved = outputs[0][r], outputs[1][r], outputs[2][r], outputs[3][r]
    (docks, bikes0, cum_rates, rate_guide, total, slot_s, od_ptr, od_dest, od_cum, od_guide, od_ride,
     ride_s, walk_ptr, walk_nb, walk_s, ride_ptr, ride_nb, ride_nb_s,
     mu, sigma, loop_mu, loop_sigma, rule) = inputs  # fmt: skip
    state = _seed_state(seed, rep)
    slots = total.shape[0]
    bikes = bikes0.copy()
    n = bikes.shape[0]
    cap = 1024
    # rides under way: a min-heap of keys (end time in milliseconds << _SHIFT) | station
    heap = np.empty(cap, dtype=np.int64)
    size = 0
    # counts of the current clock hour, small enough to stay in cache; events come in time
    # order, so an hour is complete (and added to ``counts``) when the next one starts
    cur = np.zeros((bikes.shape[0], len(METRICS)), dtype=np.int32)
    cur_extra = np.zeros(bikes.shape[0], dtype=np.float64)
    cur_h = 0
    t_next, slot = _next_arrival(state, 0.0, 0, total, slot_s)
    # rebalancing rounds at start, start + every, ... before end (none when every_s = 0)
    every, rb_end = rule[0], rule[6]
    t_rb = rule[5] if every > 0.0 else np.inf
    while slot < slots or size > 0:
        if t_rb < rb_end and (
            (slot < slots and t_rb <= t_next) or (size > 0 and t_rb * 1000.0 <= (heap[0] >> _SHIFT))
        ):
            _rebalance(bikes, docks, rule, moved, min(int(t_rb // 3600.0), HOURS - 1))
            t_rb += every
            continue
        if size > 0 and (slot >= slots or (heap[0] >> _SHIFT) <= t_next * 1000.0):
            # a ride ends
            t = (heap[0] >> _SHIFT) / 1000.0
            d = heap[0] & _MASK
            size = _pop(heap, size)
            h = min(int(t // 3600.0), HOURS - 1)
            if h != cur_h:
                _flush(cur, cur_extra, counts, extra, cur_h)
                cur_h = h
            _park(d, bikes, docks, ride_ptr, ride_nb, ride_nb_s, cur, cur_extra)
            continue
        # a rider arrives, at a station drawn in proportion to the slot's rates
        t = t_next
        u = _next(state)
        i = _first_at_least(
            cum_rates[slot], 0, n - 1, rate_guide[slot, int(u * _RATE_BUCKETS)], u * cum_rates[slot, -1]
        )
        t_next, slot = _next_arrival(state, t, slot, total, slot_s)
        h = min(int(t // 3600.0), HOURS - 1)
        if h != cur_h:
            _flush(cur, cur_extra, counts, extra, cur_h)
            cur_h = h
        cur[i, _DEMANDED] += 1
        j = -1
        walk = 0.0
        if bikes[i] > 0:
            j = i
        else:
            for q in range(walk_ptr[i], walk_ptr[i + 1]):
                k = walk_nb[q]
                if bikes[k] > 0:
                    j = k
                    walk = walk_s[q]
                    break
            if j < 0:
                cur[i, _LOST] += 1
                continue
            cur[i, _DETOURED] += 1
        bikes[j] -= 1
        cur[i, _SERVED] += 1
        cur[j, _RENTALS] += 1
        # destination of the rider's trip (from the station where the rider wanted to start)
        u = _next(state)
        lo = od_ptr[i]
        q = _first_at_least(od_cum, lo, od_ptr[i + 1] - 1, lo + od_guide[i, int(u * _OD_BUCKETS)], u)
        d = od_dest[q]
        z = _normal(state)
        if d == j:
            dur = np.exp(loop_mu + loop_sigma * z)
        else:
            # the ride from the rider's own station sits beside the destination (od_ride); a
            # detoured rider starts elsewhere and reads the full matrix
            ride = od_ride[q] if j == i else ride_s[j, d]
            dur = ride * np.exp(mu + sigma * z)
        if size == cap:
            cap *= 2
            bigger = np.empty(cap, dtype=np.int64)
            bigger[:size] = heap[:size]
            heap = bigger
        end_ms = np.int64((t + walk + max(dur, 60.0)) * 1000.0)
        size = _push(heap, size, (end_ms << _SHIFT) | np.int64(d))
    _flush(cur, cur_extra, counts, extra, cur_h)
    for s in range(bikes.shape[0]):
        end_bikes[s] = bikes[s]


@nb.njit(cache=True, nogil=True)
def _replicate(seed: int, first: int, rows: np.ndarray, inputs: Inputs, outputs: Outputs) -> None:
    """Replications ``first + r`` into row ``r`` of the outputs, for each ``r`` in ``rows``."""
    for r in rows:
        _one_replication(seed, first + r, inputs, outputs, r)


def _spread(
    seed: int,
    first: int,
    replications: int,
    inputs: Inputs,
    outputs: Outputs,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Run the replications on ``numba.get_num_threads()`` threads, one replication at a time.

    A thread takes the next replication as soon as it is done with its last one (dynamic
    scheduling): on a machine shared with other jobs, a core that is slowed down simply does
    fewer replications, where an even split (``prange``) would leave the other core idle at
    the end waiting for it. Each replication writes only its own rows, from its own stream.
    ``progress(done, replications)`` is called after each replication (one at a time).
    """
    threads = max(1, min(nb.get_num_threads(), replications))
    if threads == 1 and progress is None:
        _replicate(seed, first, np.arange(replications, dtype=np.int64), inputs, outputs)
        return
    tickets = itertools.count()  # next() on a count is atomic under the GIL
    finished = itertools.count(1)
    lock = threading.Lock()

    def work() -> None:
        while (r := next(tickets)) < replications:
            _replicate(seed, first, np.array([r], dtype=np.int64), inputs, outputs)
            if progress is not None:
                with lock:
                    progress(next(finished), replications)

    if threads == 1:
        work()
        return

    with ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(work) for _ in range(threads)]:
            f.result()


def _array(a: np.ndarray, dtype: type) -> np.ndarray:
    """``a`` as a C-contiguous, writeable array of ``dtype`` (copied only when it is not one).

    A read-only input (the prepared problem's docks are) made the kernels run on one thread at a
    time under the thread pool (measured: wall clock equal to CPU time for 100 days on 2 cores);
    writeable copies of the few small arrays concerned avoid that.
    """
    return np.require(a, dtype=dtype, requirements=["C", "W"])


_OD_RECORD = np.dtype([("cum", np.float64), ("dest", np.int32), ("ride", np.float32)])


def _od_records(
    od_ptr: np.ndarray, od_cum: np.ndarray, od_dest: np.ndarray, ride_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The destination CSR as 16-byte records (cumulative probability, destination, ride time).

    The ride time of entry ``q`` is ``ride_s[origin, od_dest[q]]``, read once here. A rider's
    destination draw then finds its probability, destination and ride time in the same cache
    line, instead of a random read of the ``n x n`` ride-time matrix (31 MB for Seoul, far
    beyond the caches) per rider. Returns the three fields as views of one record array.
    """
    dest = np.asarray(od_dest, dtype=np.int64)
    rec = np.zeros(dest.shape[0], dtype=_OD_RECORD)
    rec["cum"] = od_cum
    rec["dest"] = dest
    a, b = int(od_ptr[0]), int(od_ptr[-1])
    rec["ride"][a:b] = ride_s[np.repeat(np.arange(od_ptr.shape[0] - 1), np.diff(od_ptr)), dest[a:b]]
    return rec["cum"], rec["dest"], rec["ride"]


def run(
    problem: SimulationProblem,
    replications: int = 100,
    seed: int = 0,
    first: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationRun:
    """Simulate ``replications`` independent days (see the module docstring).

    Parameters
    ----------
    problem
        Stations, rates, destinations and travel times.
    replications
        Number of independent days.
    seed
        Random seed; the same seed gives the same result on any number of threads.
    first
        Index of the first replication: ``run(p, 5, s, first=5)`` simulates replications 5..9
        of ``run(p, 10, s)`` exactly, so that replications can be spread over machines
        (:func:`concat` joins the parts).
    progress
        Called as ``progress(done, replications)`` after each replication (never two at once).

    Returns
    -------
    SimulationRun
        Counts per replication, station and hour.
    """
    if replications < 1:
        raise InputError("replications", replications, ">= 1")
    if seed < 0:
        raise InputError("seed", seed, ">= 0")
    if first < 0:
        raise InputError("first", first, ">= 0")
    problem.validate()
    n = problem.n
    counts = np.zeros((replications, n, HOURS, len(METRICS)), dtype=np.int32)
    extra = np.zeros((replications, n, HOURS), dtype=np.float64)
    # per slot, the cumulative rates over stations: a rider's station is drawn from it
    cum_rates = np.ascontiguousarray(np.cumsum(np.asarray(problem.rates, dtype=np.float64).T, axis=1))
    ride_s = _array(problem.ride_s, np.float32)
    od_ptr = _array(problem.od_ptr, np.int64)
    od_cum, od_dest, od_ride = _od_records(od_ptr, problem.od_cum, problem.od_dest, ride_s)
    slots = cum_rates.shape[0]
    end = np.zeros((replications, n), dtype=np.int64)
    moved = np.zeros((replications, n, HOURS), dtype=np.int32)
    inputs: Inputs = (
        _array(problem.docks, np.int64),
        _array(problem.bikes, np.int64),
        cum_rates,
        _guide(cum_rates.ravel(), np.arange(slots + 1, dtype=np.int64) * n, _RATE_BUCKETS),
        cum_rates[:, -1].copy(),
        float(problem.slot_s),
        od_ptr,
        od_dest,
        od_cum,
        _guide(od_cum, od_ptr, _OD_BUCKETS),
        od_ride,
        ride_s,
        _array(problem.walk_ptr, np.int64),
        _array(problem.walk_nb, np.int32),
        _array(problem.walk_s, np.float64),
        _array(problem.ride_ptr, np.int64),
        _array(problem.ride_nb, np.int32),
        _array(problem.ride_nb_s, np.float64),
        float(problem.mu),
        float(problem.sigma),
        float(problem.loop_mu),
        float(problem.loop_sigma),
        problem.rebalance.as_array(),
    )
    _spread(int(seed), int(first), int(replications), inputs, (counts, extra, end, moved), progress)
    return SimulationRun(counts=counts, extra_s=extra, end_bikes=end, seed=int(seed), moved=moved)


def concat(runs: list[SimulationRun]) -> SimulationRun:
    """Join runs of consecutive replications (``first`` = 0, k, 2k, ...) into one run."""
    if not runs:
        raise InputError("runs", 0, "at least one run")
    return SimulationRun(
        counts=np.concatenate([r.counts for r in runs]),
        extra_s=np.concatenate([r.extra_s for r in runs]),
        end_bikes=np.concatenate([r.end_bikes for r in runs]),
        seed=runs[0].seed,
        moved=None if any(r.moved is None for r in runs) else np.concatenate([r.moved for r in runs]),
    )
