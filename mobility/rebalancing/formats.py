"""Readers for the published rebalancing benchmarks.

Two formats, both described in ``shared/benchmarks/README.md``:

- **BRP** (Dell'Amico, Hadjicostantinou, Iori & Novellani 2014): a whitespace token stream
  ``N``, ``q_0 … q_{N-1}``, ``Q``, then the ``N×N`` cost matrix (row = origin). The diagonal
  holds a dummy "infinity" (``1e+009``) that is never used; we set it to 0.
- **1-PDTSP** (Hernández-Pérez & Salazar-González 2004): TSPLIB-like header, ``EUC_2D``
  coordinates (distance ``floor(sqrt(dx² + dy²) + 0.5)``), ``DEMAND_SECTION``. The
  ``DISPLAY_DATA_SECTION`` is plotting data and is ignored.

Both are turned into one :class:`BenchmarkInstance`: vertex 0 is the depot, ``demand[i] > 0``
means the vehicle picks up ``demand[i]`` units at ``i``, ``< 0`` delivers. The depot's own
demand is kept in ``demand[0]`` but carries no constraint: the load leaving the depot is free in
``[0, Q]`` and every vertex after it is checked, which already covers the return arc.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mobility.errors import DataFileError

__all__ = ["BenchmarkInstance", "read_brp", "read_pdtsp", "write_brp", "write_pdtsp"]


@dataclass(frozen=True)
class BenchmarkInstance:
    """One published instance, in a shape common to BRP and 1-PDTSP.

    Attributes
    ----------
    name
        Instance name (file stem).
    kind
        ``"brp"`` (any number of vehicles) or ``"pdtsp"`` (one vehicle, one tour).
    demand
        ``(N,)`` int array; ``demand[0]`` is the depot.
    capacity
        Vehicle capacity ``Q``.
    cost
        ``(N, N)`` int64 arc costs, row = origin; diagonal 0.
    coords
        ``(N, 2)`` coordinates when the format has them, else ``None``.
    max_vehicles
        ``1`` for 1-PDTSP, ``None`` (free) for BRP.
    """

    name: str
    kind: str
    demand: np.ndarray
    capacity: int
    cost: np.ndarray
    coords: np.ndarray | None = None
    max_vehicles: int | None = None

    @property
    def n(self) -> int:
        """Number of vertices, depot included."""
        return int(self.demand.shape[0])

    def route_cost(self, routes: list[list[int]]) -> int:
        """Total arc cost of depot-to-depot routes given as lists of station vertices."""
        total = 0
        for r in routes:
            seq = [0, *r, 0]
            total += int(sum(self.cost[a, b] for a, b in itertools.pairwise(seq)))
        return total

    def check_routes(self, routes: list[list[int]]) -> list[str]:
        """Independent feasibility check of a solution; returns the violations (empty = feasible).

        Every station once, at most ``max_vehicles`` routes, and for each route some start load in
        ``[0, Q]`` keeps the load within ``[0, Q]`` after every visit.
        """
        errors: list[str] = []
        seen = [v for r in routes for v in r]
        if sorted(seen) != list(range(1, self.n)):
            errors.append(f"stations visited {sorted(seen)} != every station 1..{self.n - 1} once")
        if self.max_vehicles is not None and len([r for r in routes if r]) > self.max_vehicles:
            errors.append(f"{len(routes)} routes > {self.max_vehicles} vehicles")
        for k, r in enumerate(routes):
            prefix = np.cumsum([0, *[int(self.demand[v]) for v in r]])
            lo, hi = -int(prefix.min()), self.capacity - int(prefix.max())
            if lo > hi or hi < 0 or lo > self.capacity:
                errors.append(f"route {k}: no start load in [0, {self.capacity}] keeps the load feasible")
        return errors


def _tokens(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="ascii", errors="strict").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"cannot read as a text token stream ({exc})") from exc


def read_brp(path: Path | str) -> BenchmarkInstance:
    """Read a Dell'Amico et al. (2014) BRP instance.

    Raises
    ------
    DataFileError
        When the token count or a value does not fit the format.
    """
    path = Path(path)
    tok = _tokens(path)
    try:
        n = int(tok[0])
        demand = np.array([int(t) for t in tok[1 : 1 + n]], dtype=np.int64)
        cap = int(tok[1 + n])
        raw = np.array([float(t) for t in tok[2 + n : 2 + n + n * n]], dtype=np.float64)
    except (IndexError, ValueError) as exc:
        raise DataFileError(path, f"not a BRP token stream (N, q_0..q_N-1, Q, N×N costs): {exc}") from exc
    if raw.size != n * n:
        raise DataFileError(path, f"cost matrix has {raw.size} values; expected N×N = {n * n}")
    if len(tok) != 2 + n + n * n:
        raise DataFileError(path, f"{len(tok)} tokens; expected 2 + N + N² = {2 + n + n * n}")
    cost = raw.reshape(n, n)
    off = ~np.eye(n, dtype=bool)
    if not np.all(np.isfinite(cost[off])) or np.any(cost[off] != np.round(cost[off])):
        raise DataFileError(path, "off-diagonal costs must be finite integers")
    cost = np.where(off, cost, 0.0).astype(np.int64)  # the dummy diagonal is never used
    if demand[0] != 0:
        raise DataFileError(path, f"q_0 (depot) = {demand[0]}; expected 0")
    if cap <= 0:
        raise DataFileError(path, f"capacity Q = {cap}; expected > 0")
    return BenchmarkInstance(path.stem, "brp", demand, cap, cost, None, None)


def read_pdtsp(path: Path | str) -> BenchmarkInstance:
    """Read a Hernández-Pérez & Salazar-González (2004) 1-PDTSP instance (TSPLIB-like, EUC_2D).

    Raises
    ------
    DataFileError
        On a missing section, a node count that does not match ``DIMENSION`` or an unsupported
        ``EDGE_WEIGHT_TYPE``.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError as exc:
        raise DataFileError(path, f"cannot read ({exc})") from exc
    header: dict[str, str] = {}
    section: str | None = None
    coords: dict[int, tuple[float, float]] = {}
    demand: dict[int, int] = {}
    for raw_line in lines:
        line = raw_line.strip()
        if not line:
            continue
        key = line.split(":")[0].strip().upper()
        if key in {"NODE_COORD_SECTION", "DISPLAY_DATA_SECTION", "DEMAND_SECTION", "EOF"}:
            section = key
            continue
        if section is None and ":" in line:
            k, v = line.split(":", 1)
            header[k.strip().upper()] = v.strip()
            continue
        parts = line.split()
        try:
            if section == "NODE_COORD_SECTION":
                coords[int(parts[0])] = (float(parts[1]), float(parts[2]))
            elif section == "DEMAND_SECTION":
                demand[int(parts[0])] = int(parts[1])
        except (IndexError, ValueError) as exc:
            raise DataFileError(path, f"bad line in {section}: {line!r}") from exc
    try:
        n = int(header["DIMENSION"])
        cap = int(header["CAPACITY"])
    except (KeyError, ValueError) as exc:
        raise DataFileError(path, "header needs integer DIMENSION and CAPACITY") from exc
    if header.get("EDGE_WEIGHT_TYPE", "EUC_2D").upper() != "EUC_2D":
        raise DataFileError(path, f"EDGE_WEIGHT_TYPE {header['EDGE_WEIGHT_TYPE']!r}; expected EUC_2D")
    if sorted(coords) != list(range(1, n + 1)) or sorted(demand) != list(range(1, n + 1)):
        raise DataFileError(
            path, f"expected nodes 1..{n} in NODE_COORD_SECTION and DEMAND_SECTION (DIMENSION: {n})"
        )
    xy = np.array([coords[i] for i in range(1, n + 1)], dtype=np.float64)
    q = np.array([demand[i] for i in range(1, n + 1)], dtype=np.int64)
    d = xy[:, None, :] - xy[None, :, :]
    cost = np.floor(np.sqrt((d**2).sum(axis=2)) + 0.5).astype(np.int64)  # TSPLIB nint
    return BenchmarkInstance(path.stem, "pdtsp", q, cap, cost, xy, 1)


def write_brp(inst: BenchmarkInstance, path: Path | str) -> None:
    """Write ``inst`` in the Dell'Amico et al. token format (diagonal ``1e+009``, as published).

    ``read_brp(path)`` gives back the same demands, capacity and costs.
    """
    cost = np.asarray(inst.cost, dtype=np.int64)
    lines = [str(inst.n), "\t".join(str(int(v)) for v in inst.demand), str(int(inst.capacity))]
    for i in range(inst.n):
        lines.append("\t".join("1e+009" if i == j else str(int(cost[i, j])) for j in range(inst.n)))
    Path(path).write_text("\n".join(lines) + "\n", encoding="ascii")


def write_pdtsp(inst: BenchmarkInstance, path: Path | str, *, comment: str = "") -> None:
    """Write ``inst`` (with coordinates) in the TSPLIB-like 1-PDTSP format (CRLF line ends)."""
    if inst.coords is None:
        raise ValueError(f"{inst.name}: the 1-PDTSP format needs coordinates")
    rows = [
        f"NAME: {inst.name}.tsp, {inst.n} nodes",
        f"COMMENT: {comment}",
        f"DIMENSION: {inst.n}",
        f"CAPACITY: {int(inst.capacity)}",
        "EDGE_WEIGHT_TYPE: EUC_2D",
        "NODE_COORD_SECTION",
        *(f"{k + 1} {x:.4f} {y:.4f}" for k, (x, y) in enumerate(inst.coords)),
        "DEMAND_SECTION",
        *(f"{k + 1} {int(q)}" for k, q in enumerate(inst.demand)),
        "EOF",
    ]
    Path(path).write_bytes(("\r\n".join(rows) + "\r\n").encode("ascii"))
