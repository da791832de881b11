"""Array type aliases (numpy arrays with their dtype, for the models' signatures) and array helpers
whose results do not depend on the processor."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
"""Float64 array (weights, coordinates, costs)."""

IntArray = npt.NDArray[np.int64]
"""Int64 array (indices, counts)."""

BoolArray = npt.NDArray[np.bool_]
"""Boolean mask."""


def smallest_per_row(values: FloatArray, k: int) -> IntArray:
    """Column indices of the ``k`` smallest entries of each row: smallest first, ties by column.

    ``np.argpartition`` is not enough where a result is pinned: which of several equal values it
    keeps at the ``k``-th place, and the order of what it keeps, come from the sort routine numpy
    picks for the processor (on x86 with AVX-512 a vectorised one), so two machines get other
    neighbour lists from the same matrix. Here the ``k``-th smallest *value* of each row is found
    by partition (a value does not depend on the routine), every entry at or below it is taken,
    and those are ordered by ``(row, value, column)``.

    Parameters
    ----------
    values
        ``(n, m)`` array (``inf`` allowed; no NaN).
    k
        How many per row, ``1 <= k <= m``.

    Returns
    -------
    IntArray
        ``(n, k)`` column indices.
    """
    n, m = values.shape
    if not 1 <= k <= m:
        raise ValueError(f"k must be between 1 and {m} (the number of columns), got {k}")
    kth = np.partition(values, k - 1, axis=1)[:, k - 1 : k]
    rows, cols = np.nonzero(values <= kth)
    order = np.lexsort((cols, values[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, np.arange(n))[rows]
    return cols[rank < k].reshape(n, k).astype(np.int64)


__all__ = ["BoolArray", "FloatArray", "IntArray", "smallest_per_row"]
