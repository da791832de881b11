"""Array type aliases: numpy arrays with their dtype, for the signatures of the models."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
"""Float64 array (weights, coordinates, costs)."""

IntArray = npt.NDArray[np.int64]
"""Int64 array (indices, counts)."""

BoolArray = npt.NDArray[np.bool_]
"""Boolean mask."""

__all__ = ["BoolArray", "FloatArray", "IntArray"]
