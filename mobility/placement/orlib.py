"""OR-Library p-median instances (Beasley 1985): reader and distance matrix.

Format: first line ``n m p``, then ``m`` lines ``i j c`` (an undirected edge between 1-based
vertices of integer length ``c``). When a pair is listed more than once, the LAST line wins
(this is what reproduces the published optima; the minimum does not). Distances are shortest
paths over the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from mobility.errors import DataFileError


@dataclass(frozen=True)
class PMedianInstance:
    """One OR-Library p-median instance.

    Attributes
    ----------
    name
        File stem, e.g. ``"pmed1"``.
    n, p
        Vertices and medians.
    n_edges
        Edge lines in the file (duplicates included).
    distances
        ``(n, n)`` shortest-path distances.
    """

    name: str
    n: int
    p: int
    n_edges: int
    distances: npt.NDArray[np.float64]


def read_pmed(path: Path | str) -> PMedianInstance:
    """Read an OR-Library ``pmedN.txt`` file and compute its all-pairs shortest paths."""
    p_ = Path(path)
    try:
        tokens = p_.read_text().split()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(p_, f"cannot read: {exc}") from exc
    try:
        n, m, p = (int(t) for t in tokens[:3])
        vals = np.array([int(t) for t in tokens[3 : 3 + 3 * m]], dtype=np.int64).reshape(m, 3)
    except ValueError as exc:
        raise DataFileError(p_, f"expected 'n m p' then m lines 'i j c' of integers: {exc}") from exc
    if (vals[:, :2] < 1).any() or (vals[:, :2] > n).any():
        raise DataFileError(p_, f"vertex numbers must be in 1..{n}")
    edges: dict[tuple[int, int], int] = {}
    for i, j, c in vals:
        a, b = int(i) - 1, int(j) - 1
        if a == b:
            continue
        edges[(min(a, b), max(a, b))] = int(c)  # the LAST line for a pair wins
    rows = np.array([k[0] for k in edges], dtype=np.int64)
    cols = np.array([k[1] for k in edges], dtype=np.int64)
    data = np.array(list(edges.values()), dtype=np.float64)
    graph = sp.csr_matrix((data, (rows, cols)), shape=(n, n))
    dist = shortest_path(graph, method="D", directed=False)
    if not np.all(np.isfinite(dist)):
        raise DataFileError(p_, "the graph is not connected")
    return PMedianInstance(name=p_.stem, n=n, p=p, n_edges=m, distances=dist)
